package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestWaitThenRowVersionChanged: applyWrite's update reaches its rows
// through lk, which locks them in ID order. Two Applies of x, m, y,
// one on rows its Store holds and one on rows it read, wait in lk for a
// transaction that rewrites m at the same version (a new row version,
// new xmin); when it commits, neither may write m (the version matches,
// the xmin does not: the update's recheck of the new row version must
// refuse it), and x and y are written by exactly one of them.
func TestWaitThenRowVersionChanged(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	sA, sB, sO := e.open(t), e.open(t), e.open(t)
	ctx := context.Background()
	ids := []string{"m", "x", "y", "z1", "z2"}
	// A writes them (so holds them at version 1).
	ws := make([]lifecycle.Write, len(ids))
	for i, id := range ids {
		ws[i] = lifecycle.Write{ID: id, Events: []string{"e0"}, Fn: moveTo("reach")}
	}
	sA.Apply(ctx, ws)
	for _, w := range ws {
		require.NoError(t, w.Err)
	}
	tx, err := sO.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.Exec(`UPDATE ` + sO.Table("customers") + ` SET version = version WHERE id = 'm'`)
	require.NoError(t, err)

	mk := func(ev string) []lifecycle.Write {
		ws := make([]lifecycle.Write, 3)
		for i, id := range []string{"y", "m", "x"} {
			ws[i] = lifecycle.Write{ID: id, Events: []string{ev}, Fn: moveTo("conversion")}
		}
		return ws
	}
	wsA, wsB := mk("eA"), mk("eB")
	var wg sync.WaitGroup
	wg.Go(func() { sA.Apply(ctx, wsA) })
	wg.Go(func() { sB.Apply(ctx, wsB) })
	waitingBackends(t, sO, sO.Table("customers"), 2)
	require.NoError(t, tx.Commit())
	wg.Wait()
	for name, ws := range map[string][]lifecycle.Write{"A (held)": wsA, "B (read)": wsB} {
		for _, w := range ws {
			t.Logf("%s %s: %v", name, w.ID, w.Err)
			if w.ID == "m" {
				require.ErrorIs(t, w.Err, lifecycle.ErrConflict, "%s: m was rewritten meanwhile", name)
			}
		}
	}
	for _, id := range []string{"x", "y"} {
		c, err := sO.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, uint64(2), c.Version, id)
		require.Equal(t, 2, c.Seen.Len(), id)
	}
	m, err := sO.Get(ctx, "m")
	require.NoError(t, err)
	require.Equal(t, uint64(1), m.Version)
	require.Equal(t, "reach", string(m.Stage))
	require.Equal(t, 1, m.Seen.Len())
}
