package sqlstore_test

// A held row's one-event write looks up its event's legacy key only for a
// customer that may have legacy keys (stored.legacy): these tests try to
// get an event applied twice through every path that decides it.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// legacyOpen opens a Store on e's tables: through pgx's driver, or through a
// database/sql driver wrapped around it (writeOneQuery, writeQuery).
func legacyOpen(t *testing.T, e env, wrapped bool) *sqlstore.Store {
	t.Helper()
	if !wrapped {
		return e.open(t)
	}
	cfg, err := pgx.ParseConfig(e.url)
	require.NoError(t, err)
	db := sql.OpenDB(wrapConnector{stdlib.GetConnector(*cfg)})
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Postgres, sqlstore.WithTablePrefix(e.prefix))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// legacyBump is a Tracker-like fn: nothing when any event is seen, else the
// next version (stage reach for a new customer). applied counts the
// writes it asked for.
func legacyBump(applied *int) func(c *lifecycle.Customer, seen []bool) (bool, error) {
	return func(c *lifecycle.Customer, seen []bool) (bool, error) {
		for _, s := range seen {
			if s {
				return false, nil
			}
		}
		if c.Stage == "" {
			c.Stage = "reach"
			c.History = append(c.History, lifecycle.Transition{To: "reach", At: time.Unix(1, 0).UTC(), Cause: "x"})
		}
		c.Version++
		if applied != nil {
			*applied++
		}
		return true, nil
	}
}

// legacyRecord applies events to id as the Tracker does: again after a lost
// race (at most 3 times). It returns how many races were lost.
func legacyRecord(t *testing.T, s *sqlstore.Store, id string, events ...string) (conflicts int) {
	t.Helper()
	for {
		err := applyOne(context.Background(), s, id, events, legacyBump(nil))
		if !errors.Is(err, lifecycle.ErrConflict) {
			require.NoError(t, err, "%s %v", id, events)
			return conflicts
		}
		conflicts++
		require.Less(t, conflicts, 3, "%s %v: %v", id, events, err)
	}
}

func legacyVersion(t *testing.T, s *sqlstore.Store, id string) uint64 {
	t.Helper()
	c, err := s.Get(context.Background(), id)
	require.NoError(t, err)
	return c.Version
}

// legacyPut stores c at its version +1 with the legacy keys of events
// added to its Seen (an event recorded before schema 3, restored by Put).
func legacyPut(t *testing.T, s *sqlstore.Store, id string, events ...string) error {
	t.Helper()
	ctx := context.Background()
	c, err := s.Get(ctx, id)
	require.NoError(t, err)
	prev := c.Version
	for _, e := range events {
		c.Seen.Add(lifecycle.LegacyKeyOf(e))
	}
	c.Version++
	return s.Put(ctx, c, prev)
}

// TestLegacyPutWhileHeld: a Store holds a customer created by Apply
// (legacy false); legacy keys are then added by a Put, through another
// Store or the same one. An event stored under its legacy key only is
// not applied again from the held row (the row's xmin changed), and after
// the re-read the held row guards legacy keys.
func TestLegacyPutWhileHeld(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		for _, same := range []bool{false, true} {
			t.Run(fmt.Sprintf("wrapped=%v/samePutter=%v", wrapped, same), func(t *testing.T) {
				e := newEnv(t, sqlstore.Postgres)
				a := legacyOpen(t, e, wrapped)
				putter := a
				if !same {
					putter = legacyOpen(t, e, wrapped)
				}
				require.Zero(t, legacyRecord(t, a, "x", "e1")) // created: held, legacy false
				require.Zero(t, legacyRecord(t, a, "x", "e2")) // held, applyUpdate1
				require.NoError(t, legacyPut(t, putter, "x", "old", "old2"))
				v := legacyVersion(t, a, "x")
				conflicts := legacyRecord(t, a, "x", "old")
				require.Equal(t, v, legacyVersion(t, a, "x"), "old (legacy key only) applied again")
				if !same {
					require.Equal(t, 1, conflicts, "a's held row is stale")
				}
				require.Zero(t, legacyRecord(t, a, "x", "e3")) // read, then held with legacy true
				require.Equal(t, 1, legacyRecord(t, a, "x", "old2"), "old2 on the held row: refused once, then seen")
				require.Equal(t, v+1, legacyVersion(t, a, "x"))
			})
		}
	}
}

// TestLegacyDeleteRecreate: a Store holds a customer; another
// deletes it and creates it again, by Put with a legacy key, or by Apply
// and then a Put adding one. Neither held row writes an event stored
// under its legacy key only.
func TestLegacyDeleteRecreate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqlstore.Postgres)
	a, b, c := e.open(t), e.open(t), e.open(t)
	require.Zero(t, legacyRecord(t, a, "x", "e1"))
	require.Zero(t, legacyRecord(t, a, "x", "e2")) // a holds x at version 2
	require.NoError(t, b.Delete(ctx, "x"))
	var seen lifecycle.EventSet
	seen.Add(lifecycle.LegacyKeyOf("old"))
	require.NoError(t, b.Put(ctx, &lifecycle.Customer{ID: "x", Stage: "reach", Version: 1, Seen: seen}, 0))
	require.NoError(t, b.Put(ctx, &lifecycle.Customer{ID: "x", Stage: "reach", Version: 2, Seen: seen}, 1)) // a's held version, another row
	require.Equal(t, 1, legacyRecord(t, a, "x", "old"), "a's held row is another row version")
	require.Equal(t, uint64(2), legacyVersion(t, a, "x"), "old applied again")
	require.Zero(t, legacyRecord(t, a, "x", "e3"))                                             // read: held, legacy
	require.Equal(t, 1, legacyRecord(t, a, "x", "old"), "on the held row: refused, then seen") // held: applyWrite
	require.Zero(t, legacyRecord(t, a, "x", "e4"))                                             // a holds x at version 4
	require.Equal(t, uint64(4), legacyVersion(t, a, "x"))

	// Delete, and created again by Apply (b holds it, legacy false);
	// c adds a legacy key with Put.
	require.NoError(t, c.Delete(ctx, "x"))
	require.Zero(t, legacyRecord(t, b, "x", "e1"))
	require.Zero(t, legacyRecord(t, b, "x", "e2"))
	require.NoError(t, legacyPut(t, c, "x", "old"))
	require.Equal(t, 1, legacyRecord(t, b, "x", "old"))
	require.Equal(t, 1, legacyRecord(t, a, "x", "old"), "a's held row is from before the Delete")
	require.Equal(t, uint64(3), legacyVersion(t, a, "x"), "old applied again")
	requireSeenKeys(t, a, "x", []string{"e1", "e2"}, []string{"old"})
}

// requireSeenKeys checks the customer's event rows: the keys of modern
// and the legacy keys of legacy.
func requireSeenKeys(t *testing.T, s *sqlstore.Store, id string, modern, legacy []string) {
	t.Helper()
	want := seenOf(modern...)
	for _, e := range legacy {
		want.Add(lifecycle.LegacyKeyOf(e))
	}
	require.Equal(t, hexKeys(&want), keyRows(t, s, id), "event rows of %s", id)
}

// TestLegacyOnlyKeys: a customer whose only keys are legacy ones
// (the lower bound of hasLegacy's probe is their common prefix): every
// retry of its old events is a duplicate, on a read row, on the row
// applyCreate1 returns (another Store), and on held rows, through pgx
// and database/sql.
func TestLegacyOnlyKeys(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprint("wrapped=", wrapped), func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, sqlstore.Postgres)
			a, b := legacyOpen(t, e, wrapped), legacyOpen(t, e, wrapped)
			var seen lifecycle.EventSet
			for _, ev := range []string{"o1", "o2", "o3", "o4"} {
				seen.Add(lifecycle.LegacyKeyOf(ev))
			}
			require.NoError(t, a.Put(ctx, &lifecycle.Customer{ID: "l", Stage: "reach", Version: 1, Seen: seen}, 0))
			require.Zero(t, legacyRecord(t, a, "l", "o1")) // applyCreate1 returns the row: seen
			require.Zero(t, legacyRecord(t, a, "l", "n1")) // written after applyCreate1's row: held, legacy
			require.Equal(t, 1, legacyRecord(t, a, "l", "o2"))
			require.Zero(t, legacyRecord(t, a, "l", "n2"))
			require.Equal(t, 1, legacyRecord(t, a, "l", "n2"), "a duplicate of a modern event on the held row")
			require.Zero(t, legacyRecord(t, a, "l", "n2b")) // a holds l (version 4)
			require.Zero(t, legacyRecord(t, b, "l", "o3"))  // b: applyCreate1's row
			require.Zero(t, legacyRecord(t, b, "l", "n3"))  // b holds l, legacy (version 5)
			require.Equal(t, 1, legacyRecord(t, b, "l", "o4"))
			require.Equal(t, 1, legacyRecord(t, a, "l", "o4"), "a's held row is stale")
			require.Equal(t, uint64(5), legacyVersion(t, a, "l"))
			// Several events at once on a held row, one of them old.
			require.Zero(t, legacyRecord(t, a, "l", "n4")) // a holds l again (version 6)
			require.Equal(t, 1, legacyRecord(t, a, "l", "n5", "o1"))
			require.Equal(t, uint64(6), legacyVersion(t, a, "l"))
			requireSeenKeys(t, a, "l", []string{"n1", "n2", "n2b", "n3", "n4"}, []string{"o1", "o2", "o3", "o4"})
		})
	}
}

// TestLegacyBatchMixed: one Apply of held customers with and
// without legacy keys, a read one and a new one, with several events
// each: a held legacy customer's event stored under its legacy key only
// is refused, the others are written, with applyWrite (the one-event
// statement is for an Apply of one write of one event): twice, since
// M2's event is stored (M2 is held, and its guard goes only into the
// second statement, after the first failed on the key).
func TestLegacyBatchMixed(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprint("wrapped=", wrapped), func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, sqlstore.Postgres)
			var s *sqlstore.Store
			var log *stmtLog
			if wrapped {
				s = legacyOpen(t, e, true)
			} else {
				s, log, _ = openLogged(t, e)
			}
			var seen lifecycle.EventSet
			seen.Add(lifecycle.LegacyKeyOf("old"))
			seen.Add(lifecycle.KeyOf("m0"))
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "L", Stage: "reach", Version: 1, Seen: seen}, 0))
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "R", Stage: "reach", Version: 1, Seen: seen}, 0))
			require.Zero(t, legacyRecord(t, s, "L", "e1")) // held, legacy
			require.Zero(t, legacyRecord(t, s, "M", "e1")) // created: held, not legacy
			require.Zero(t, legacyRecord(t, s, "M2", "e1"))
			if log != nil {
				log.take()
			}
			batch := func(evL, evM, evM2, evR, evN []string) []lifecycle.Write {
				ws := []lifecycle.Write{
					{ID: "L", Events: evL, Fn: legacyBump(nil)},
					{ID: "M", Events: evM, Fn: legacyBump(nil)},
					{ID: "M2", Events: evM2, Fn: legacyBump(nil)},
					{ID: "R", Events: evR, Fn: legacyBump(nil)},
					{ID: "N", Events: evN, Fn: legacyBump(nil)},
				}
				s.Apply(ctx, ws)
				return ws
			}
			ws := batch([]string{"e2", "old"}, []string{"e2", "e3"}, []string{"e1"}, []string{"e1", "old"}, []string{"e1", "e2"})
			if log != nil {
				stmts := log.take()
				require.Equal(t, 2, count(stmts, "seen AS ("), "applyWrite without guards, then with: %q", stmts)
				require.Zero(t, count(stmts, "c.xmin = $9::text::xid"), "no applyUpdate1: %q", stmts)
			}
			out := map[string]error{}
			for _, w := range ws {
				out[w.ID] = w.Err
			}
			require.ErrorIs(t, out["L"], lifecycle.ErrConflict, "L: old is stored under its legacy key")
			require.ErrorIs(t, out["M2"], lifecycle.ErrConflict, "M2: e1 is stored")
			require.NoError(t, out["M"])
			require.NoError(t, out["R"]) // read: old seen, fn writes nothing
			require.NoError(t, out["N"])
			// Again: L and M2 read (seen), M held with e2 a duplicate.
			ws = batch([]string{"e2", "old"}, []string{"e2"}, []string{"e1"}, []string{"old"}, []string{"e3"})
			for _, w := range ws {
				if w.ID == "M" {
					require.ErrorIs(t, w.Err, lifecycle.ErrConflict, "M: e2 stored")
					continue
				}
				require.NoError(t, w.Err, w.ID)
			}
			for id, v := range map[string]uint64{"L": 2, "M": 2, "M2": 1, "R": 1, "N": 2} {
				require.Equal(t, v, legacyVersion(t, s, id), id)
			}
			requireSeenKeys(t, s, "L", []string{"m0", "e1"}, []string{"old"})
			requireSeenKeys(t, s, "R", []string{"m0"}, []string{"old"})
		})
	}
}

// TestLegacyTracker: the Tracker (Record and RecordBatch) on two
// Stores, for a customer whose early events were recorded before schema 3
// (legacy keys, restored by Put): every old event comes back Duplicate,
// whichever Store holds the row.
func TestLegacyTracker(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqlstore.Postgres)
	a, b := e.open(t), e.open(t)
	ta, tb := newTracker(a), newTracker(b)
	day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id string, h int) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "ada", Type: lifecycle.SiteVisited, Time: day.Add(time.Duration(h) * time.Hour)}
	}
	// ada as the old release stored her: two visits, remembered by legacy key.
	_, err := ta.Record(ctx, ev("old-1", 0))
	require.NoError(t, err)
	_, err = ta.Record(ctx, ev("old-2", 1))
	require.NoError(t, err)
	c, err := a.Get(ctx, "ada")
	require.NoError(t, err)
	c.Seen = lifecycle.EventSet{}
	c.Seen.Add(lifecycle.LegacyKeyOf("old-1"))
	c.Seen.Add(lifecycle.LegacyKeyOf("old-2"))
	prev := c.Version
	c.Version++
	require.NoError(t, b.Put(ctx, c, prev))
	dup := func(tr *lifecycle.Tracker, id string, h int) {
		t.Helper()
		r, err := tr.Record(ctx, ev(id, h))
		require.NoError(t, err)
		require.True(t, r.Duplicate, "%s applied again", id)
	}
	_, err = ta.Record(ctx, ev("new-1", 2)) // a: stale held row, then read
	require.NoError(t, err)
	_, err = ta.Record(ctx, ev("new-2", 3)) // a: held, legacy
	require.NoError(t, err)
	dup(ta, "old-1", 0)
	dup(tb, "old-2", 1)
	_, err = tb.Record(ctx, ev("new-3", 4))
	require.NoError(t, err)
	dup(tb, "old-1", 0)
	dup(ta, "old-2", 1)
	rs, err := tb.RecordBatch(ctx, []lifecycle.Event{ev("new-4", 5), ev("old-1", 0), ev("old-2", 1), ev("new-2", 3)})
	require.NoError(t, err)
	require.False(t, rs[0].Duplicate)
	for _, r := range rs[1:] {
		require.True(t, r.Duplicate, "%s applied again", r.EventID)
	}
	got, err := a.Get(ctx, "ada")
	require.NoError(t, err)
	require.Equal(t, prev+5, got.Version, "versions: the Put, new-1..new-4")
}

// TestLegacyPutRacesHeldWrite: a Store writes from its held row
// (legacy false) while another Store's Put adds that event's legacy key
// (the event was applied elsewhere, before schema 3): never both.
func TestLegacyPutRacesHeldWrite(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqlstore.Postgres)
	a, b := e.open(t), e.open(t)
	require.Zero(t, legacyRecord(t, a, "x", "e0"))
	both, puts, applies := 0, 0, 0 // (the Put's key set is the one it read: an applied key it did not see is dropped)
	for i := range 60 {
		legacyRecord(t, a, "x", fmt.Sprint("h", i)) // a holds x
		old := fmt.Sprint("old", i)
		c, err := b.Get(ctx, "x")
		require.NoError(t, err)
		var wg sync.WaitGroup
		var putErr error
		wg.Go(func() {
			prev := c.Version
			c.Seen.Add(lifecycle.LegacyKeyOf(old))
			c.Version++
			putErr = b.Put(ctx, c, prev)
		})
		wg.Go(func() {
			time.Sleep(time.Duration(i%6) * 300 * time.Microsecond) // vary who commits first
			for range 3 {
				err := applyOne(ctx, a, "x", []string{old}, legacyBump(nil))
				if err == nil {
					return
				}
				if !errors.Is(err, lifecycle.ErrConflict) {
					t.Error(err)
					return
				}
			}
		})
		wg.Wait()
		keys := map[string]bool{}
		for _, k := range keyRows(t, a, "x") {
			keys[k] = true
		}
		restored, applied := keys[lifecycle.LegacyKeyOf(old).String()], keys[lifecycle.KeyOf(old).String()]
		if putErr == nil {
			puts++
			require.True(t, restored)
		} else {
			require.ErrorIs(t, putErr, lifecycle.ErrConflict)
		}
		if applied {
			applies++
		}
		if restored && applied {
			both++
		}
	}
	t.Logf("puts won %d, held writes won %d", puts, applies)
	require.Zero(t, both, "an event both restored by Put and applied again")
}

// TestLegacyOrphanKeysOfOldRelease: releases before b6e344b
// (schema 2, 64-bit digests) deleted a customer's event rows before its
// row, which left a customer created in between without its row but with
// its digests. Migration 3 turns such digests into legacy keys of a
// customer ID that has no row. A customer later created under that ID by
// Apply (applyCreate1) has those keys: Get reports the old event in Seen,
// a read (or another Store) finds it a duplicate, and so must a write
// from the row the creating Store holds (which once took the customer
// for one without legacy keys and checked the event's key alone).
func TestLegacyOrphanKeysOfOldRelease(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqlstore.Postgres)
	oldDB(t, e, 2, []*lifecycle.Customer{{ID: "keep", Stage: "reach", Version: 1}}, map[string][]string{"keep": {"k1"}}, nil)
	// The digest the old Delete left behind for "x".
	db := openRaw(t, e)
	for _, id := range []string{"x", "y"} {
		_, err := db.Exec(`INSERT INTO `+e.prefix+`events (customer_id, digest) VALUES ($1, $2)`, id, int64(fnv1a("old")))
		require.NoError(t, err)
	}
	a, b := e.open(t), e.open(t) // migrates to schema 7
	require.Equal(t, []string{lifecycle.LegacyKeyOf("old").String()}, keyRows(t, a, "x"))

	require.Zero(t, legacyRecord(t, a, "x", "e1")) // applyCreate1 creates x: a holds it
	c, err := a.Get(ctx, "x")
	require.NoError(t, err)
	require.True(t, c.Seen.Has("old"), "x's Seen holds old")
	// b has not read x: its applyCreate1 returns the row, and old is seen.
	require.Zero(t, legacyRecord(t, b, "x", "old"))
	require.Equal(t, uint64(1), legacyVersion(t, a, "x"), "b applied old again")
	// a writes from the row it holds.
	conflicts := legacyRecord(t, a, "x", "old")
	if v := legacyVersion(t, a, "x"); v != 1 {
		t.Errorf("a applied old again from its held row (version %d, refused %d times): the store reported it in Seen and b took it for a duplicate", v, conflicts)
	}

	// The same through the Tracker: b's Record of old is a Duplicate,
	// a's (from the row it holds) is not.
	ta, tb := newTracker(a), newTracker(b)
	day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	visit := func(id string) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "y", Type: lifecycle.SiteVisited, Time: day}
	}
	_, err = ta.Record(ctx, visit("e1")) // creates y: a holds it
	require.NoError(t, err)
	res, err := tb.Record(ctx, visit("old"))
	require.NoError(t, err)
	require.True(t, res.Duplicate, "b: old is a duplicate")
	res, err = ta.Record(ctx, visit("old"))
	require.NoError(t, err)
	if !res.Duplicate {
		t.Errorf("Tracker on a (held row): old applied again (version %d)", res.Version)
	}
}
