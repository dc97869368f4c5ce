package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestApplyCancelled cancels Applies on SQLite at random moments: while
// BEGIN IMMEDIATE runs, while the read runs, while fn's write runs, while
// COMMIT runs. The driver then reports the context's error even for a
// statement that took effect, and SQLite rolls back a transaction whose
// write it interrupted. Whatever happens, an Apply that returns an error
// has stored nothing (neither the customer nor its events' keys), one
// that returns nil has stored its change, no connection goes back to the
// pool inside a transaction (a later Put would fail with "cannot start a
// transaction within a transaction"), and an in-memory store keeps its
// one connection, which is its database.
func TestApplyCancelled(t *testing.T) {
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

			// Cancelled while a long write (100,000 keys) runs: SQLite
			// interrupts it and rolls the transaction back itself.
			events := make([]string, 100_000)
			for k := range events {
				events[k] = fmt.Sprint("big-", k)
			}
			for i := range 20 {
				cctx, cancel := context.WithCancel(ctx)
				err := applyOne(cctx, s, "big", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
					c.Stage = "reach"
					c.Version++
					time.AfterFunc(time.Duration(i%10+1)*time.Millisecond, cancel)
					return true, nil
				})
				cancel()
				if err != nil {
					require.ErrorIs(t, err, context.Canceled)
				}
				require.EqualValues(t, 1, version("keep"))
				stored := version("big")
				keys := rowCount(t, s, "events")
				if err != nil {
					require.Zero(t, stored, "apply %d failed (%v) but stored the customer", i, err)
					require.Zero(t, keys, "apply %d failed (%v) but stored keys", i, err)
				} else {
					require.EqualValues(t, 1, stored, "apply %d succeeded", i)
					require.Equal(t, len(events), keys, "apply %d succeeded", i)
				}
				require.NoError(t, s.Delete(ctx, "big"))
			}

			// Cancelled at any moment of a short Apply of a new event: the
			// delay is drawn from 0 to a little more than an Apply takes
			// here.
			var calls atomic.Int64
			start := time.Now()
			for k := range 50 {
				require.NoError(t, applyOne(ctx, s, "x", []string{fmt.Sprint("warm-", k)}, bump(&calls)))
			}
			took := time.Since(start) / 50
			const n = 500
			failed := 0
			for i := range n {
				before := version("x")
				ev := fmt.Sprint("ev-", i)
				cctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(time.Duration(rand.Int64N(int64(took*3/2)+1)), cancel)
				err := applyOne(cctx, s, "x", []string{ev}, bump(&calls))
				cancel()
				c, gerr := s.Get(ctx, "x")
				require.NoError(t, gerr)
				if err != nil {
					failed++
					require.ErrorIs(t, err, context.Canceled)
					require.Equal(t, before, c.Version, "apply %d failed (%v) but its change was stored", i, err)
					require.False(t, c.HasSeen(ev), "apply %d failed (%v) but its event's key was stored", i, err)
				} else {
					require.Equal(t, before+1, c.Version, "apply %d succeeded", i)
					require.True(t, c.HasSeen(ev), "apply %d succeeded", i)
				}
				require.Equal(t, c.Seen.Len(), rowCount(t, s, "events"), "after apply %d", i)
				require.EqualValues(t, c.Seen.Len(), c.Facts.Count("x"), "after apply %d: events counted vs. keys stored", i)
				require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: fmt.Sprint("p-", i), Stage: "reach", Version: 1}, 0), "after apply %d", i)
			}
			t.Logf("%d of %d applies cancelled (an apply takes %v)", failed, n, took)
			require.EqualValues(t, 1, version("keep"))
		})
	}
}
