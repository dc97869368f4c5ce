package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestOneEventWritesAcrossStores: two Stores, two writers each, apply the
// same one-event writes to the same customers in different orders, with
// retries on lost races: every event is applied exactly once (the
// version counts the applications), and the unique violations of
// applyUpdate1's key insert, if any, are lost races.
func TestOneEventWritesAcrossStores(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	stores := []*sqlstore.Store{e.open(t), e.open(t)}
	const customers, events = 3, 60
	var uniq, conflicts atomic.Int64
	bump := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		for _, s := range seen {
			if s {
				return false, nil
			}
		}
		c.Stage = "reach"
		c.Version++
		return true, nil
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		s := stores[g%2]
		r := rand.New(rand.NewPCG(uint64(g), 7))
		wg.Go(func() {
			for _, i := range r.Perm(customers * events) {
				id, ev := fmt.Sprint("c", i%customers), fmt.Sprint("e", i/customers)
				for try := 0; ; try++ {
					err := applyOne(ctx, s, id, []string{ev}, bump)
					if err == nil {
						break
					}
					if !errors.Is(err, lifecycle.ErrConflict) || try > 100 {
						t.Errorf("%s %s: %v", id, ev, err)
						return
					}
					conflicts.Add(1)
					if strings.Contains(err.Error(), "23505") {
						uniq.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d lost races, %d of them unique violations", conflicts.Load(), uniq.Load())
	for i := 0; i < customers; i++ {
		id := fmt.Sprint("c", i)
		got, err := stores[0].Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, uint64(events), got.Version, "%s: each event applied once", id)
		require.Equal(t, events, got.Seen.Len())
	}
}
