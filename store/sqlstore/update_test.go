package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// bump is an Update fn that counts one more event of type "x" and adds a
// digest above every other to Seen, counting its calls in calls.
func bump(calls *atomic.Int64) func(c *lifecycle.Customer) (bool, error) {
	return func(c *lifecycle.Customer) (bool, error) {
		calls.Add(1)
		if len(c.Facts.Tallies) == 0 {
			c.Facts.Tallies = []lifecycle.Tally{{Type: "x"}}
		}
		c.Facts.Tallies[0].Count++
		var last uint64
		if len(c.Seen) > 0 {
			last = c.Seen[len(c.Seen)-1]
		}
		c.Seen = append(c.Seen, last+1)
		c.Stage = "reach"
		c.Version++
		return true, nil
	}
}

// TestUpdateAcrossInstances: writers on two Stores, each with its own
// connection pool (as two processes would have), update one existing
// customer and race to create new ones. Every fn runs exactly once, no
// Update fails or is lost, and the events table agrees with Seen.
func TestUpdateAcrossInstances(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) { updateAcrossInstances(t, newEnv(t, d)) })
}

// TestUpdateSerializableDefault: Update runs at READ COMMITTED even on a
// PostgreSQL server whose default isolation is SERIALIZABLE, where its
// locking reads would otherwise fail with serialization errors.
func TestUpdateSerializableDefault(t *testing.T) {
	updateAcrossInstances(t, newEnv(t, sqlstore.Postgres).withQuery("default_transaction_isolation=serializable"))
}

func updateAcrossInstances(t *testing.T, e env) {
	stores := []*sqlstore.Store{e.open(t), e.open(t)}
	ctx := context.Background()
	require.NoError(t, stores[0].Put(ctx, &lifecycle.Customer{ID: "old", Stage: "reach", Version: 1}, 0))
	const writers, each = 6, 15
	var calls atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for k := range each {
				id := "old"
				if k%2 == 1 { // writers race to create each new customer
					id = fmt.Sprintf("new-%d", k)
				}
				if err := s.Update(ctx, id, bump(&calls)); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	require.EqualValues(t, writers*each, calls.Load(), "fn calls: each Update calls fn exactly once")
	total := 0
	for c, err := range stores[1].Scan(ctx) {
		require.NoError(t, err)
		n := int(c.Facts.Count("x"))
		require.Len(t, c.Seen, n, "customer %s: one digest per counted update", c.ID)
		total += n
		if c.ID == "old" {
			require.EqualValues(t, n+1, c.Version)
		} else {
			require.EqualValues(t, n, c.Version)
		}
	}
	require.Equal(t, writers*each, total, "updates counted")
	require.Equal(t, total, rowCount(t, stores[0], "events"), "rows in the events table")
}

// TestUpdateRefusals: what Update does with an ID the store cannot hold,
// a wrong version, fn's error and a change that is not made.
func TestUpdateRefusals(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		var calls atomic.Int64

		// An ID the store could never hold: fn runs on a new customer,
		// and its change is refused as Put refuses it.
		long := strings.Repeat("x", sqlstore.MaxIDLen+1)
		err := s.Update(ctx, long, bump(&calls))
		var ve *sqlstore.ValueError
		require.ErrorAs(t, err, &ve)
		require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		require.EqualValues(t, 1, calls.Load())
		// fn cannot escape the refusal by changing the ID: the change is
		// still one to a customer under "", which nothing stores.
		err = s.Update(ctx, "", func(c *lifecycle.Customer) (bool, error) {
			c.ID, c.Stage, c.Version = "renamed", "reach", 1
			return true, nil
		})
		require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		_, err = s.Get(ctx, "renamed")
		require.ErrorIs(t, err, lifecycle.ErrNotFound, "nothing stored")
		require.NoError(t, s.Update(ctx, "a\x00b", func(c *lifecycle.Customer) (bool, error) {
			require.Equal(t, "a\x00b", c.ID)
			require.Zero(t, c.Version)
			return false, nil
		}), "no change, nothing to refuse")

		// A version that is not the previous plus one.
		err = s.Update(ctx, "v", func(c *lifecycle.Customer) (bool, error) {
			c.Stage, c.Version = "reach", 5
			return true, nil
		})
		require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		_, err = s.Get(ctx, "v")
		require.ErrorIs(t, err, lifecycle.ErrNotFound, "nothing stored")

		// fn's error comes back as is, and nothing is stored.
		boom := errors.New("boom")
		err = s.Update(ctx, "v", func(c *lifecycle.Customer) (bool, error) {
			c.Stage, c.Version = "reach", 1
			return true, boom
		})
		require.Same(t, boom, err)
		_, err = s.Get(ctx, "v")
		require.ErrorIs(t, err, lifecycle.ErrNotFound, "nothing stored")

		// A Put that finds the version Update left succeeds.
		require.NoError(t, s.Update(ctx, "v", bump(&calls)))
		c, err := s.Get(ctx, "v")
		require.NoError(t, err)
		c.Version++
		require.NoError(t, s.Put(ctx, c, 1))
		var ce *store.ConflictError
		require.ErrorAs(t, s.Put(ctx, c, 1), &ce)
	})
}
