package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// bump returns an Apply fn that counts one more event of type "x" for
// each event not seen (reporting no change when all were), counting its
// calls in calls.
func bump(calls *atomic.Int64) func(c *lifecycle.Customer, seen []bool) (bool, error) {
	return func(c *lifecycle.Customer, seen []bool) (bool, error) {
		calls.Add(1)
		n := 0
		for _, s := range seen {
			if !s {
				n++
			}
		}
		if n == 0 && len(seen) > 0 {
			return false, nil
		}
		if len(c.Facts.Tallies) == 0 {
			c.Facts.Tallies = []lifecycle.Tally{{Type: "x"}}
		}
		c.Facts.Tallies[0].Count += int64(n)
		c.Stage = "reach"
		c.Version++
		return true, nil
	}
}

// stored wraps fn, the fn of a write to a customer the test has stored,
// so that a call on a new customer (Version 0) only reports a change
// without calling fn: the guess that an Apply of one customer the Store
// does not hold makes first on PostgreSQL (see Store.Apply), which then
// finds the stored customer and calls fn again on it. fn sees only calls
// on the stored customer.
func stored(fn func(c *lifecycle.Customer, seen []bool) (bool, error)) func(c *lifecycle.Customer, seen []bool) (bool, error) {
	return func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if c.Version == 0 {
			c.Version = 1
			return true, nil
		}
		return fn(c, seen)
	}
}

// applyRetry calls Apply until it does not lose a race (on PostgreSQL,
// Apply checks the version at commit and reports a lost race as
// ErrConflict), as the Tracker does; lost counts the races lost.
func applyRetry(ctx context.Context, s *sqlstore.Store, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) (lost int, err error) {
	for {
		err := applyOne(ctx, s, id, events, fn)
		if !errors.Is(err, lifecycle.ErrConflict) {
			return lost, err
		}
		if lost++; lost > 1000 {
			return lost, fmt.Errorf("lost %d races in a row: %w", lost, err)
		}
	}
}

// parallel runs fn(0) … fn(n-1) at once and returns their errors joined.
func parallel(n int, fn func(g int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[g] = fn(g)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// TestApplyAcrossInstances: writers on two Stores, each with its own
// connection pool (as two processes would have), apply distinct events to
// one existing customer and race to create new ones. Every event is
// counted exactly once and seen by its customer, the events table agrees
// with Seen, and fn runs once per Apply call: on SQLite no Apply loses a
// race; on PostgreSQL the lost ones are retried.
func TestApplyAcrossInstances(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) { applyAcrossInstances(t, newEnv(t, d)) })
}

// TestApplySerializableDefault: on a PostgreSQL server whose default
// isolation is SERIALIZABLE, Apply's statements may fail with
// serialization errors; Apply reports them as ErrConflict, and applying
// again succeeds.
func TestApplySerializableDefault(t *testing.T) {
	applyAcrossInstances(t, newEnv(t, sqlstore.Postgres).withQuery("default_transaction_isolation=serializable"))
}

func applyAcrossInstances(t *testing.T, e env) {
	stores := []*sqlstore.Store{e.open(t), e.open(t)}
	ctx := context.Background()
	require.NoError(t, stores[0].Put(ctx, &lifecycle.Customer{ID: "old", Stage: "reach", Version: 1}, 0))
	const writers, each = 6, 15
	var calls, lost atomic.Int64
	want := map[string][]string{} // customer: events applied to it
	for w := range writers {
		for k := range each {
			id := "old"
			if k%2 == 1 { // writers race to create each new customer
				id = fmt.Sprintf("new-%d", k)
			}
			want[id] = append(want[id], fmt.Sprintf("ev-%d-%d", w, k))
		}
	}
	err := parallel(writers, func(w int) error {
		s := stores[w%2]
		for k := range each {
			id := "old"
			if k%2 == 1 {
				id = fmt.Sprintf("new-%d", k)
			}
			n, err := applyRetry(ctx, s, id, []string{fmt.Sprintf("ev-%d-%d", w, k)}, bump(&calls))
			lost.Add(int64(n))
			if err != nil {
				return fmt.Errorf("writer %d: %w", w, err)
			}
		}
		return nil
	})
	require.NoError(t, err)
	t.Logf("%d Applies, %d lost races retried", writers*each, lost.Load())
	if e.dialect == sqlstore.Postgres {
		// An Apply of one customer the Store does not hold calls fn on a
		// new customer first, and again on the stored one if it exists.
		require.GreaterOrEqual(t, calls.Load(), writers*each+lost.Load(), "fn calls: each Apply calls fn")
		require.LessOrEqual(t, calls.Load(), 2*(writers*each+lost.Load()), "fn calls: each Apply calls fn at most twice")
	} else {
		require.EqualValues(t, writers*each+lost.Load(), calls.Load(), "fn calls: each Apply calls fn exactly once")
	}
	if e.dialect == sqlstore.SQLite {
		require.Zero(t, lost.Load(), "an Apply on SQLite lost a race")
	}
	total := 0
	for c, err := range stores[1].Scan(ctx) {
		require.NoError(t, err)
		n := int(c.Facts.Count("x"))
		require.Equal(t, len(want[c.ID]), n, "customer %s: events counted", c.ID)
		requireSeen(t, seenOf(want[c.ID]...), c.Seen, "customer %s: Seen", c.ID)
		total += n
		if c.ID == "old" {
			require.EqualValues(t, n+1, c.Version)
		} else {
			require.EqualValues(t, n, c.Version)
		}
	}
	require.Equal(t, writers*each, total, "events counted")
	require.Equal(t, total, rowCount(t, stores[0], "events"), "rows in the events table")
}

// TestApplyOnceAcrossInstances: writers on two Stores apply the same
// events, two at a time, to customers that the first of them creates:
// each event is applied exactly once, whichever writer gets there first,
// and is then reported seen to the others. With one customer per Apply;
// and with several per Apply, each writer listing them in an order of its
// own (so that concurrent write statements meet the same rows in
// different orders), the writes of an Apply that lost a race applied
// again together, as the Tracker does (on PostgreSQL also at SERIALIZABLE
// isolation, where whole write statements fail as conflicts).
func TestApplyOnceAcrossInstances(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		t.Run("one customer per Apply", func(t *testing.T) { applyOnceAcrossInstances(t, newEnv(t, d), 1) })
		t.Run("several customers per Apply", func(t *testing.T) { applyOnceAcrossInstances(t, newEnv(t, d), 4) })
		if d == sqlstore.Postgres {
			t.Run("several customers per Apply, serializable", func(t *testing.T) {
				applyOnceAcrossInstances(t, newEnv(t, d).withQuery("default_transaction_isolation=serializable"), 4)
			})
		}
	})
}

func applyOnceAcrossInstances(t *testing.T, e env, customers int) {
	stores := []*sqlstore.Store{e.open(t), e.open(t)}
	ctx := context.Background()
	const writers, events = 6, 20
	ev := func(k int) string { return "same-" + strconv.Itoa(k%events) }
	id := func(c int) string { return "one-" + strconv.Itoa(c) }
	var calls, writes, singles, lost, aborted, deadlocks, dups atomic.Int64
	err := parallel(writers, func(w int) error {
		for k := range events {
			ws := make([]lifecycle.Write, 0, customers)
			for i := range customers {
				c := (i + w) % customers
				if w%2 == 1 {
					c = customers - 1 - c
				}
				ws = append(ws, lifecycle.Write{
					ID:     id(c),
					Events: []string{ev(k + 3*w + c), ev(k + 3*w + c + 1)},
					Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
						for _, s := range seen {
							if s {
								dups.Add(1)
							}
						}
						return bump(&calls)(c, seen)
					},
				})
			}
			for round := 0; len(ws) > 0; round++ {
				if round > 1000 {
					return fmt.Errorf("writer %d: lost %d races in a row: %w", w, round, ws[0].Err)
				}
				writes.Add(int64(len(ws)))
				if len(ws) == 1 {
					singles.Add(1)
				}
				stores[w%2].Apply(ctx, ws)
				next := ws[:0]
				for _, x := range ws {
					switch {
					case errors.Is(x.Err, lifecycle.ErrConflict):
						lost.Add(1)
						var ce *store.ConflictError
						if !errors.As(x.Err, &ce) {
							aborted.Add(1) // a serialization failure or deadlock
						}
						if pe := (*pgconn.PgError)(nil); errors.As(x.Err, &pe) && pe.Code == "40P01" {
							deadlocks.Add(1)
						}
						next = append(next, lifecycle.Write{ID: x.ID, Events: x.Events, Fn: x.Fn})
					case x.Err != nil:
						return fmt.Errorf("writer %d: customer %s: %w", w, x.ID, x.Err)
					}
				}
				ws = next
			}
		}
		return nil
	})
	require.NoError(t, err)
	t.Logf("%d writes, %d lost races retried (%d of them aborted statements)", writes.Load(), lost.Load(), aborted.Load())
	if e.dialect == sqlstore.Postgres {
		// An Apply of one customer the Store does not hold calls fn on a
		// new customer first, and again on the stored one if it exists
		// (a retry after lost races may be such an Apply too).
		require.GreaterOrEqual(t, calls.Load(), writes.Load(), "fn calls: each write of each Apply calls its fn")
		require.LessOrEqual(t, calls.Load(), writes.Load()+singles.Load(), "fn calls: each write calls its fn once, an Apply of one customer at most twice")
	} else {
		require.Equal(t, writes.Load(), calls.Load(), "fn calls: each write of each Apply calls its fn exactly once")
	}
	require.Zero(t, deadlocks.Load(), "writes failed by deadlocks: concurrent Applies took the same customers' rows in different orders")
	if e.dialect == sqlstore.SQLite {
		require.Zero(t, lost.Load(), "an Apply on SQLite lost a race")
	}
	all := make([]string, events)
	for k := range all {
		all[k] = ev(k)
	}
	for c := range customers {
		got, err := stores[1].Get(ctx, id(c))
		require.NoError(t, err)
		require.EqualValues(t, events, got.Facts.Count("x"), "customer %s: %d writers applied the same %d events: count", id(c), writers, events)
		require.LessOrEqual(t, got.Version, uint64(events), "customer %s: more writes than events", id(c))
		requireSeen(t, seenOf(all...), got.Seen, "customer %s", id(c))
		require.Equal(t, hexKeys(&got.Seen), keyRows(t, stores[0], id(c)), "customer %s: the events table", id(c))
	}
	require.Equal(t, customers*events, rowCount(t, stores[0], "events"), "rows in the events table")
	require.Positive(t, dups.Load(), "no writer was told that an event was seen")
}

// TestApplyLostRace: a Put from another Store writes the customer while
// Apply's fn runs on the customer as stored. On PostgreSQL, Apply checks
// the version at commit and loses: it returns a *store.ConflictError
// (wrapping ErrConflict) and stores nothing, neither the customer nor its
// event's key; applied again, it is given the Put's version, the event
// not seen. (For a customer not stored, fn's write as new finds the one
// the Put created, and fn is called again on it: no race is lost.) On
// SQLite, Apply holds the database's write lock while fn runs: the Put
// waits, and then loses itself.
func TestApplyLostRace(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s, other := e.open(t), e.open(t)
		ctx := context.Background()
		for _, existing := range []bool{true, false} {
			name := map[bool]string{true: "existing customer", false: "new customer"}[existing]
			t.Run(name, func(t *testing.T) {
				id := "race-" + strconv.FormatBool(existing)
				var prev uint64
				var putSeen lifecycle.EventSet
				if existing {
					prev, putSeen = 1, seenOf("e1")
					require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: id, Stage: "reach", Version: 1, Seen: seenOf("e1")}, 0))
				}
				inFn, release := make(chan struct{}), make(chan struct{})
				applied := make(chan error, 1)
				var once sync.Once
				go func() {
					applied <- applyOne(ctx, s, id, []string{"e2"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
						if c.Version == prev { // the customer as stored
							once.Do(func() { close(inFn) })
							<-release
						}
						c.Stage = "conversion"
						c.Version++
						return true, nil
					})
				}()
				<-inFn
				put := make(chan error, 1)
				go func() {
					put <- other.Put(ctx, &lifecycle.Customer{ID: id, Stage: "loyalty", Version: prev + 1, Seen: putSeen}, prev)
				}()
				if d == sqlstore.SQLite {
					select {
					case err := <-put:
						close(release)
						t.Fatalf("Put returned %v while Apply held the write lock", err)
					case <-time.After(100 * time.Millisecond):
					}
					close(release)
					require.NoError(t, <-applied)
					var ce *store.ConflictError
					require.ErrorAs(t, <-put, &ce, "the Put that waited for Apply")
					got, err := s.Get(ctx, id)
					require.NoError(t, err)
					require.Equal(t, "conversion", string(got.Stage))
					require.Equal(t, prev+1, got.Version)
					require.True(t, got.HasSeen("e2"))
					return
				}
				require.NoError(t, <-put, "Put while Apply's fn runs")
				close(release)
				err := <-applied
				if !existing {
					require.NoError(t, err, "Apply's write as new found the Put's customer and applied fn to it")
					got, err := s.Get(ctx, id)
					require.NoError(t, err)
					require.Equal(t, "conversion", string(got.Stage))
					require.Equal(t, uint64(2), got.Version, "the Put's version, then Apply's")
					require.True(t, got.HasSeen("e2"))
					return
				}
				require.ErrorIs(t, err, lifecycle.ErrConflict)
				var ce *store.ConflictError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, store.ConflictError{ID: id, Want: prev, Have: prev + 1}, *ce)
				got, err := s.Get(ctx, id)
				require.NoError(t, err)
				require.Equal(t, "loyalty", string(got.Stage), "the losing Apply changed the customer")
				require.Equal(t, prev+1, got.Version)
				require.False(t, got.HasSeen("e2"), "the losing Apply stored its event")
				require.Equal(t, hexKeys(&putSeen), keyRows(t, s, id), "the losing Apply wrote key rows")
				// Applied again, it is given what the Put stored.
				require.NoError(t, applyOne(ctx, s, id, []string{"e2"}, stored(func(c *lifecycle.Customer, seen []bool) (bool, error) {
					require.Equal(t, "loyalty", string(c.Stage))
					require.Equal(t, prev+1, c.Version)
					require.False(t, seen[0], "e2 seen after the Apply that applied it lost")
					c.Version++
					return true, nil
				})))
				got, err = s.Get(ctx, id)
				require.NoError(t, err)
				require.Equal(t, prev+2, got.Version)
				require.True(t, got.HasSeen("e2"))
			})
		}
	})
}

// TestApplyManyKeys: Apply looks up only the keys of the events it is
// given (each event's key and its legacy key), not the customer's whole
// set, which it does not read (fn's Seen is empty): for a customer with
// many keys, modern and legacy, it still tells the old events from the
// new ones, and adds only the new ones' keys, as modern keys.
func TestApplyManyKeys(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s := e.open(t)
		ctx := context.Background()
		const modern, legacy = 20_000, 100
		keys := make([]lifecycle.EventKey, 0, modern+legacy)
		for i := range modern {
			keys = append(keys, lifecycle.KeyOf("old-"+strconv.Itoa(i)))
		}
		for i := range legacy {
			keys = append(keys, lifecycle.LegacyKeyOf("legacy-"+strconv.Itoa(i)))
		}
		c := &lifecycle.Customer{ID: "big", Stage: "reach", Version: 1}
		c.Seen.Set(keys)
		require.NoError(t, s.Put(ctx, c, 0))

		events := []string{"old-0", "legacy-7", "new-1", "old-19999", "legacy-99", "new-2", "old-20000"}
		want := []bool{true, true, false, true, true, false, false}
		calls := 0
		require.NoError(t, applyOne(ctx, s, "big", events, stored(func(c *lifecycle.Customer, seen []bool) (bool, error) {
			calls++
			require.Equal(t, want, seen, "seen flags for %v", events)
			require.Zero(t, c.Seen.Len(), "Apply read the customer's keys into fn's Seen")
			c.Version++
			return true, nil
		})))
		require.Equal(t, 1, calls)
		got, err := s.Get(ctx, "big")
		require.NoError(t, err)
		require.Equal(t, modern+legacy+3, got.Seen.Len())
		require.Equal(t, modern+legacy+3, rowCount(t, s, "events"))
		for i, ev := range events {
			require.True(t, got.HasSeen(ev), "event %s", ev)
			if !want[i] {
				require.True(t, got.Seen.Contains(lifecycle.KeyOf(ev)), "new event %s not stored under its key", ev)
				require.False(t, got.Seen.Contains(lifecycle.LegacyKeyOf(ev)), "new event %s stored under its legacy key", ev)
			}
		}
		// Applied again, through a Store that holds no row (one that
		// wrote it may answer from its row cache, unseen, and let its
		// guarded write refuse), every one is seen.
		s = e.open(t)
		require.NoError(t, applyOne(ctx, s, "big", events, stored(func(c *lifecycle.Customer, seen []bool) (bool, error) {
			require.Equal(t, []bool{true, true, true, true, true, true, true}, seen)
			return false, nil
		})))
	})
}

// TestApplyRefusals: what Apply does with an ID the store cannot hold,
// a wrong version, fn's error and a change that is not made.
func TestApplyRefusals(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		var calls atomic.Int64

		// An ID the store could never hold: fn runs on a new customer,
		// and its change is refused as Put refuses it.
		long := strings.Repeat("x", sqlstore.MaxIDLen+1)
		err := applyOne(ctx, s, long, []string{"e1"}, bump(&calls))
		var ve *sqlstore.ValueError
		require.ErrorAs(t, err, &ve)
		require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		require.EqualValues(t, 1, calls.Load())
		// fn cannot escape the refusal by changing the ID: the change is
		// still one to a customer under "", which nothing stores.
		err = applyOne(ctx, s, "", []string{"e1"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.ID, c.Stage, c.Version = "renamed", "reach", 1
			return true, nil
		})
		require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		_, err = s.Get(ctx, "renamed")
		require.ErrorIs(t, err, lifecycle.ErrNotFound, "nothing stored")
		require.NoError(t, applyOne(ctx, s, "a\x00b", []string{"e1"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
			require.Equal(t, "a\x00b", c.ID)
			require.Zero(t, c.Version)
			require.Equal(t, []bool{false}, seen)
			return false, nil
		}), "no change, nothing to refuse")

		// A version that is not the previous plus one.
		err = applyOne(ctx, s, "v", []string{"e1"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.Stage, c.Version = "reach", 5
			return true, nil
		})
		require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		_, err = s.Get(ctx, "v")
		require.ErrorIs(t, err, lifecycle.ErrNotFound, "nothing stored")

		// fn's error comes back as is, and nothing is stored.
		boom := errors.New("boom")
		err = applyOne(ctx, s, "v", []string{"e1"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.Stage, c.Version = "reach", 1
			return true, boom
		})
		require.Same(t, boom, err)
		_, err = s.Get(ctx, "v")
		require.ErrorIs(t, err, lifecycle.ErrNotFound, "nothing stored")
		require.Zero(t, rowCount(t, s, "events"), "key rows stored")

		// A Put that finds the version Apply left succeeds.
		require.NoError(t, applyOne(ctx, s, "v", []string{"e1"}, bump(&calls)))
		c, err := s.Get(ctx, "v")
		require.NoError(t, err)
		requireSeen(t, seenOf("e1"), c.Seen)
		c.Version++
		require.NoError(t, s.Put(ctx, c, 1))
		var ce *store.ConflictError
		require.ErrorAs(t, s.Put(ctx, c, 1), &ce)
	})
}

// TestApplyGuessesNew: on PostgreSQL an Apply of one customer the Store
// does not hold, with one event, calls fn on a new customer and writes it
// as new. A new customer is then written by that one call; a stored one
// is returned by the same statement, unchanged, and fn is called again on
// it (with its seen flag), and only that call's change is stored. A fn
// that reports no change for a new customer makes the Apply read the
// customer first; so does a write of another number of events.
func TestApplyGuessesNew(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	type call struct {
		version uint64
		stage   string
		seen    []bool
	}
	record := func(calls *[]call, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) func(c *lifecycle.Customer, seen []bool) (bool, error) {
		return func(c *lifecycle.Customer, seen []bool) (bool, error) {
			*calls = append(*calls, call{c.Version, string(c.Stage), slices.Clone(seen)})
			return fn(c, seen)
		}
	}
	toConversion := func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.Stage = "conversion"
		c.Version++
		return true, nil
	}

	var calls []call
	require.NoError(t, applyOne(ctx, e.open(t), "fresh", []string{"n1"}, record(&calls, toConversion)))
	require.Equal(t, []call{{0, "", []bool{false}}}, calls, "a new customer: one call")
	got, err := e.open(t).Get(ctx, "fresh")
	require.NoError(t, err)
	require.Equal(t, uint64(1), got.Version)
	require.True(t, got.HasSeen("n1"))

	s := e.open(t)
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "old", Stage: "reach", Version: 1, Seen: seenOf("e1")}, 0))
	calls = nil
	require.NoError(t, applyOne(ctx, e.open(t), "old", []string{"e1"}, record(&calls, toConversion)))
	require.Equal(t, []call{{0, "", []bool{false}}, {1, "reach", []bool{true}}}, calls,
		"a stored customer: a call on a new one, then on the stored one")
	calls = nil
	require.NoError(t, applyOne(ctx, e.open(t), "old", []string{"e2"}, record(&calls, toConversion)))
	require.Equal(t, []call{{0, "", []bool{false}}, {2, "conversion", []bool{false}}}, calls,
		"a stored customer: a call on a new one, then on the stored one")
	got, err = s.Get(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, uint64(3), got.Version)
	require.Equal(t, "conversion", string(got.Stage))
	require.Equal(t, hexKeys(&got.Seen), keyRows(t, s, "old"))
	require.Equal(t, 2, got.Seen.Len())

	calls = nil
	require.NoError(t, applyOne(ctx, e.open(t), "old", []string{"e2", "e4"}, record(&calls, toConversion)))
	require.Equal(t, []call{{3, "conversion", []bool{true, false}}}, calls, "two events: the stored customer is read")

	calls = nil
	onlyStored := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if c.Version == 0 {
			return false, nil
		}
		return toConversion(c, seen)
	}
	require.NoError(t, applyOne(ctx, e.open(t), "old", []string{"e3"}, record(&calls, onlyStored)))
	require.Equal(t, []call{{0, "", []bool{false}}, {4, "conversion", []bool{false}}}, calls,
		"no change for a new customer: the stored one is read and given to fn")
	got, err = s.Get(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, uint64(5), got.Version)
	require.True(t, got.HasSeen("e3"))

	calls = nil
	require.NoError(t, applyOne(ctx, e.open(t), "none", nil, record(&calls, onlyStored)))
	require.Equal(t, []call{{0, "", []bool{}}}, calls, "no customer, no event and no change: read, nothing stored")
	_, err = s.Get(ctx, "none")
	require.ErrorIs(t, err, lifecycle.ErrNotFound)
}

// TestApplyKeyStoredMeanwhile: on PostgreSQL, when the key of the one
// event a write stores is found stored by the write itself (put there,
// here, after the customer was read and before its write, without a
// change to its row), the write stores nothing and is a lost race: the
// customer keeps its row, and the Tracker's retry finds the event seen.
func TestApplyKeyStoredMeanwhile(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	s := e.open(t)
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "k", Stage: "reach", Version: 1}, 0))
	other := e.open(t) // holds no row of k
	key := lifecycle.KeyOf("e1")
	err := applyOne(ctx, other, "k", []string{"e1"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if c.Version > 0 {
			_, err := other.DB().ExecContext(ctx, `INSERT INTO `+other.Table("events")+` (customer_id, key) VALUES ($1, $2)`, "k", key[:])
			require.NoError(t, err)
		}
		c.Stage = "conversion"
		c.Version++
		return true, nil
	})
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, uint64(1), got.Version)
	require.Equal(t, "reach", string(got.Stage))
	// Retried, the event is seen.
	var seen []bool
	require.NoError(t, applyOne(ctx, other, "k", []string{"e1"}, func(c *lifecycle.Customer, s []bool) (bool, error) {
		if c.Version > 0 {
			seen = slices.Clone(s)
		}
		return false, nil
	}))
	require.Equal(t, []bool{true}, seen)
}

// TestApplyDuplicateIDs: Applier's writes have distinct customer IDs; a
// caller that passes one ID twice gets the first write applied and the
// later ones refused as lost races (applied again, they count), never
// one of them silently dropped.
func TestApplyDuplicateIDs(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		count := func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if seen[0] {
				return false, nil
			}
			c.Stage, c.Version = "reach", c.Version+1
			c.Facts.Tallies = []lifecycle.Tally{{Type: "x", Count: int64(c.Version)}}
			return true, nil
		}
		ws := []lifecycle.Write{{ID: "d", Events: []string{"e1"}, Fn: count}, {ID: "d", Events: []string{"e2"}, Fn: count}, {ID: "o", Events: []string{"e3"}, Fn: count}}
		s.Apply(ctx, ws)
		require.NoError(t, ws[0].Err)
		require.ErrorIs(t, ws[1].Err, lifecycle.ErrConflict)
		require.Contains(t, ws[1].Err.Error(), "more than once")
		require.NoError(t, ws[2].Err)
		require.NoError(t, applyOne(ctx, s, "d", []string{"e2"}, count))
		got, err := s.Get(ctx, "d")
		require.NoError(t, err)
		require.Equal(t, uint64(2), got.Version)
		require.True(t, got.HasSeen("e1") && got.HasSeen("e2"))
	})
}
