package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestApplyOneEventPaths: the one-event statements through pgx and
// through database/sql (writeOneQuery, a driver wrapped around pgx's):
// a held row's guard (event key and legacy key, non-NULL), a read row's
// (nil keys), with and without change rows; a duplicate and a legacy key
// on a held row are refused once and then seen.
func TestApplyOneEventPaths(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		name := map[bool]string{false: "pgx", true: "wrapped"}[wrapped]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, sqlstore.Postgres)
			ctx := context.Background()
			open := func() *sqlstore.Store {
				if !wrapped {
					return e.open(t)
				}
				cfg, err := pgx.ParseConfig(e.url)
				require.NoError(t, err)
				db := sql.OpenDB(wrapConnector{stdlib.GetConnector(*cfg)})
				t.Cleanup(func() { db.Close() })
				s, err := sqlstore.Open(ctx, db, sqlstore.Postgres, sqlstore.WithTablePrefix(e.prefix))
				require.NoError(t, err)
				return s
			}
			a, b := open(), open()
			var calls int
			fn := func(hist bool) func(c *lifecycle.Customer, seen []bool) (bool, error) {
				return func(c *lifecycle.Customer, seen []bool) (bool, error) {
					calls++
					for _, s := range seen {
						if s {
							return false, nil
						}
					}
					if hist || c.Stage == "" {
						c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: "reach", At: time.Unix(int64(calls), 0).UTC(), Cause: "x"})
						c.Stage = "reach"
					}
					c.Version++
					return true, nil
				}
			}
			retry := func(s *sqlstore.Store, id, ev string, hist bool) (conflicts int) {
				for {
					err := applyOne(ctx, s, id, []string{ev}, fn(hist))
					if !errors.Is(err, lifecycle.ErrConflict) {
						require.NoError(t, err, "%s %s", id, ev)
						return conflicts
					}
					conflicts++
					require.Less(t, conflicts, 3, "%s %s: %v", id, ev, err)
				}
			}
			require.Zero(t, retry(a, "f", "e1", true))  // applyCreate1
			require.Zero(t, retry(a, "f", "e2", false)) // applyUpdate1, held: guard of two keys
			require.Zero(t, retry(a, "f", "e3", true))  // applyUpdate1Changes, held
			require.Equal(t, 1, retry(a, "f", "e2", false), "a duplicate on the held row: refused once, then seen")
			require.Zero(t, retry(a, "f", "e2b", false)) // a read, and holds f again
			require.Zero(t, retry(b, "f", "e4", false))  // applyCreate1 returns the row; applyUpdate1 with NULL guards
			require.Zero(t, retry(b, "f", "e5", true))   // held by b
			require.Equal(t, 1, retry(a, "f", "e6", false), "a's held row is stale")
			got, err := a.Get(ctx, "f")
			require.NoError(t, err)
			require.Equal(t, uint64(7), got.Version)
			require.Len(t, got.History, 3)
			requireStored(t, a, map[string]*state{"f": {"reach", 7, []string{"e1", "e2", "e2b", "e3", "e4", "e5", "e6"}}})

			// Legacy key on a held row.
			var seen lifecycle.EventSet
			seen.Add(lifecycle.LegacyKeyOf("old"))
			require.NoError(t, a.Put(ctx, &lifecycle.Customer{ID: "l", Stage: "reach", Version: 1, Seen: seen}, 0))
			require.Zero(t, retry(a, "l", "e1", false)) // read, then held
			require.Equal(t, 1, retry(a, "l", "old", false), "an event stored under its legacy key, on the held row")
			got, err = a.Get(ctx, "l")
			require.NoError(t, err)
			require.Equal(t, uint64(2), got.Version)
		})
	}
}

// TestNilByteaThroughDatabaseSQL: writeOneQuery passes a read
// row's guard keys as []byte(nil); through database/sql and pgx's driver
// (wrapped) they reach the server as NULL (an empty bytea would do as
// well: no key is empty).
func TestNilByteaThroughDatabaseSQL(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	cfg, err := pgx.ParseConfig(e.url)
	require.NoError(t, err)
	db := sql.OpenDB(wrapConnector{stdlib.GetConnector(*cfg)})
	defer db.Close()
	var isNull bool
	require.NoError(t, db.QueryRow(`SELECT $1::bytea IS NULL`, []byte(nil)).Scan(&isNull))
	require.True(t, isNull)
}

// TestHeldLegacyGuard: a held row's one-event write looks up its event's
// legacy key only when the customer may have legacy keys (stored before
// schema 3, or by a Put of such a Seen): a customer created by Apply, or
// read and found without any, is written with applyUpdate1, whose guard
// is the event's key alone; one that has legacy keys is written with
// applyWrite, whose guard takes both, and an event it holds under its
// legacy key only is not applied again from the held row.
func TestHeldLegacyGuard(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqlstore.Postgres)
	s, log, _ := openLogged(t, e)
	bump := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if seen[0] {
			return false, nil
		}
		if c.Stage == "" {
			c.Stage = "reach"
			c.History = append(c.History, lifecycle.Transition{To: "reach", At: time.Unix(1, 0).UTC(), Cause: "x"})
		}
		c.Version++
		return true, nil
	}
	var legacy, modern lifecycle.EventSet
	legacy.Add(lifecycle.LegacyKeyOf("old"))
	legacy.Add(lifecycle.KeyOf("e0"))
	modern.Add(lifecycle.KeyOf("e0"))
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "l", Stage: "reach", Version: 1, Seen: legacy}, 0))
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "m", Stage: "reach", Version: 1, Seen: modern}, 0))
	for _, id := range []string{"l", "m"} {
		require.NoError(t, applyOne(ctx, s, id, []string{"e1"}, bump)) // read, then held
	}
	require.NoError(t, applyOne(ctx, s, "n", []string{"e1"}, bump)) // created, then held
	log.take()
	const oneEvent, many = "c.xmin = $9::text::xid", "seen AS ("
	for _, tc := range []struct {
		id          string
		legacyGuard bool
	}{{"l", true}, {"m", false}, {"n", false}} {
		require.NoError(t, applyOne(ctx, s, tc.id, []string{"e2"}, bump))
		stmts := log.take()
		require.Len(t, stmts, 1, "%s: a held row's write is one statement: %q", tc.id, stmts)
		if tc.legacyGuard {
			require.Equal(t, 1, count(stmts, many), "%s: written with applyWrite: %q", tc.id, stmts)
		} else {
			require.Equal(t, 1, count(stmts, oneEvent), "%s: written with applyUpdate1: %q", tc.id, stmts)
		}
	}
	// "old" is stored under its legacy key only: the held row's write is
	// refused, and the row read tells it apart.
	err := applyOne(ctx, s, "l", []string{"old"}, bump)
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	require.NoError(t, applyOne(ctx, s, "l", []string{"old"}, bump))
	got, err := s.Get(ctx, "l")
	require.NoError(t, err)
	require.Equal(t, uint64(3), got.Version, "old applied again")
	// A new event of m, and a duplicate of one of its events on the held
	// row: refused, then seen.
	require.NoError(t, applyOne(ctx, s, "m", []string{"e3"}, bump))
	require.ErrorIs(t, applyOne(ctx, s, "m", []string{"e3"}, bump), lifecycle.ErrConflict)
	require.NoError(t, applyOne(ctx, s, "m", []string{"e3"}, bump))
	got, err = s.Get(ctx, "m")
	require.NoError(t, err)
	require.Equal(t, uint64(4), got.Version)
	// Another Store, which holds none of them, learns it from the stored
	// row that applyCreate1 returns.
	b, blog, _ := openLogged(t, e)
	for _, tc := range []struct {
		id          string
		legacyGuard bool
	}{{"l", true}, {"m", false}} {
		require.NoError(t, applyOne(ctx, b, tc.id, []string{"b1"}, bump)) // applyCreate1 returns the row
		blog.take()
		require.NoError(t, applyOne(ctx, b, tc.id, []string{"b2"}, bump))
		stmts := blog.take()
		require.Len(t, stmts, 1, "%s: %q", tc.id, stmts)
		if tc.legacyGuard {
			require.Equal(t, 1, count(stmts, many), "%s: written with applyWrite: %q", tc.id, stmts)
		} else {
			require.Equal(t, 1, count(stmts, oneEvent), "%s: written with applyUpdate1: %q", tc.id, stmts)
		}
	}
	require.ErrorIs(t, applyOne(ctx, b, "l", []string{"old"}, bump), lifecycle.ErrConflict)
	require.NoError(t, applyOne(ctx, b, "l", []string{"old"}, bump))
	got, err = b.Get(ctx, "l")
	require.NoError(t, err)
	require.Equal(t, uint64(5), got.Version, "old applied again")
}
