package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestUpdateCancelled cancels Updates on SQLite at random moments: while
// BEGIN IMMEDIATE runs, while fn's write runs, while COMMIT runs. The
// driver then reports the context's error even for a statement that took
// effect, and SQLite rolls back a transaction whose write it interrupted.
// Whatever happens, an Update that returns an error has stored nothing,
// one that returns nil has stored its change, no connection goes back to
// the pool inside a transaction (a later Put would fail with "cannot start
// a transaction within a transaction"), and an in-memory store keeps its
// one connection, which is its database.
func TestUpdateCancelled(t *testing.T) {
	for name, url := range map[string]string{"memory": "sqlite::memory:", "file": "sqlite:" + filepath.Join(t.TempDir(), "clm.db")} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := sqlstore.Connect(ctx, url)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "keep", Stage: "reach", Version: 1}, 0))
			version := func(id string) uint64 {
				t.Helper()
				c, err := s.Get(ctx, id)
				if errors.Is(err, lifecycle.ErrNotFound) {
					return 0
				}
				require.NoError(t, err, "the store's tables are gone: the in-memory database was closed")
				return c.Version
			}

			// Cancelled while a long write runs: SQLite interrupts it and
			// rolls the transaction back itself.
			seen := make([]uint64, 100_000)
			for k := range seen {
				seen[k] = uint64(k + 1)
			}
			for i := range 20 {
				cctx, cancel := context.WithCancel(ctx)
				err := s.Update(cctx, "big", func(c *lifecycle.Customer) (bool, error) {
					c.Seen, c.Stage = seen, "reach"
					c.Version++
					time.AfterFunc(time.Duration(i%10+1)*time.Millisecond, cancel)
					return true, nil
				})
				cancel()
				if err != nil {
					require.ErrorIs(t, err, context.Canceled)
				}
				require.EqualValues(t, 1, version("keep"))
				require.NoError(t, s.Delete(ctx, "big"))
			}

			// Cancelled at any moment of a short Update: the delay is drawn
			// from 0 to a little more than an Update takes here.
			bump := func(c *lifecycle.Customer) (bool, error) {
				c.Stage = "reach"
				c.Version++
				return true, nil
			}
			start := time.Now()
			for range 50 {
				require.NoError(t, s.Update(ctx, "x", bump))
			}
			took := time.Since(start) / 50
			const n = 500
			failed := 0
			for i := range n {
				before := version("x")
				cctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(time.Duration(rand.Int64N(int64(took*3/2)+1)), cancel)
				err := s.Update(cctx, "x", bump)
				cancel()
				if err != nil {
					failed++
					require.ErrorIs(t, err, context.Canceled)
					require.Equal(t, before, version("x"), "update %d failed (%v) but its change was stored", i, err)
				} else {
					require.Equal(t, before+1, version("x"), "update %d succeeded", i)
				}
				require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: fmt.Sprint("p-", i), Stage: "reach", Version: 1}, 0), "after update %d", i)
			}
			t.Logf("%d of %d updates cancelled (an update takes %v)", failed, n, took)
			require.EqualValues(t, 1, version("keep"))
		})
	}
}
