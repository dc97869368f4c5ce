package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestNewInsertAfterUpdateDeadlock: the write statements of two Applies
// lock the stored customers they share in the same order, but a
// statement's insert of a customer it read as new (ON CONFLICT DO
// NOTHING) waits for any transaction that wrote that row, and it runs
// after the statement's updates, while it holds their rows; so two
// statements that create and update the same customers can deadlock:
//
//   - U applies a, a2, c (all new when U read them); its statement's
//     snapshot is taken, then it inserts a and waits on a2 (a third
//     transaction Q inserting a2, say an Import's COPY);
//   - c is created meanwhile (committed) by another writer;
//   - T applies a, c: it reads c stored and a not (U has not committed),
//     its statement locks and updates c, then inserts a: it waits for U;
//   - Q ends: U inserts a2, then c, which T has updated: U waits for T.
//
// PostgreSQL breaks the cycle after deadlock_timeout by failing one
// statement (SQLSTATE 40P01). The store's doc says so; what must hold is
// that every write of the failed statement fails as a lost race
// (ErrConflict, which the Tracker retries), and that applying them again
// applies each event exactly once.
func TestNewInsertAfterUpdateDeadlock(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	sU, sT, sO := e.open(t), e.open(t), e.open(t)
	ctx := context.Background()
	table := sO.Table("customers")

	q, err := sO.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer q.Rollback()
	_, err = q.Exec(`INSERT INTO ` + table + ` (id, stage, version, as_of, data, due) VALUES ('a2', 'reach', 1, now(), '{}', NULL)`)
	require.NoError(t, err)

	once := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if seen[0] {
			return false, nil
		}
		c.Stage = "conversion"
		c.Version++
		return true, nil
	}
	write := func(ids ...string) []lifecycle.Write {
		ws := make([]lifecycle.Write, len(ids))
		for i, id := range ids {
			ws[i] = lifecycle.Write{ID: id, Events: []string{"ev-" + id}, Fn: once}
		}
		return ws
	}
	wsU, wsT := write("a", "a2", "c"), write("a", "c")
	var wg sync.WaitGroup
	wg.Go(func() { sU.Apply(ctx, wsU) })
	waitingBackends(t, sO, table, 1) // U waits for Q's a2
	putReach(t, sO, "c")             // c created after U's snapshot
	wg.Go(func() { sT.Apply(ctx, wsT) })
	waitingBackends(t, sO, table, 2) // T waits for U's a
	require.NoError(t, q.Rollback())
	wg.Wait()
	for name, ws := range map[string][]lifecycle.Write{"U": wsU, "T": wsT} {
		for _, w := range ws {
			if w.Err == nil {
				continue
			}
			require.ErrorIs(t, w.Err, lifecycle.ErrConflict, "Apply %s, write %q", name, w.ID)
			var pe *pgconn.PgError
			if errors.As(w.Err, &pe) {
				t.Logf("Apply %s, write %q: %s (%s)", name, w.ID, pe.Message, pe.Code)
			}
			// Applied again, as the Tracker does a lost race.
			var err error
			for try := 0; try < 10; try++ {
				if err = applyOne(ctx, sU, w.ID, w.Events, once); !errors.Is(err, lifecycle.ErrConflict) {
					break
				}
			}
			require.NoError(t, err, "Apply %s, write %q applied again", name, w.ID)
		}
	}
	for id, version := range map[string]uint64{"a": 1, "a2": 1, "c": 2} {
		c, err := sO.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, version, c.Version, "customer %q: each of its events applied once", id)
		require.True(t, c.Seen.Has("ev-"+id), "customer %q has its event", id)
	}
}
