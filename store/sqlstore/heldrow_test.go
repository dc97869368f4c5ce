package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

var errHeldBoom = errors.New("fn failed after changing c")

// heldFn returns a fn that, like the Tracker's fold, changes
// c.Facts.Tallies in place, and checks on every call that the customer it
// is given is consistent (both tallies equal to the version): a held row
// mutated by another write, or by a write that failed, would break it.
// mode 0 writes; 1 mutates then fails; 2 mutates then reports no change
// (the recheck path on a held row); 3 mutates then is refused by check.
func heldFn(mode int, bad *atomic.Int64, badMsg *atomic.Value) func(c *lifecycle.Customer, seen []bool) (bool, error) {
	return func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if c.Version > 0 {
			if len(c.Facts.Tallies) != 2 || c.Facts.Tallies[0].Count != int64(c.Version) || c.Facts.Tallies[1].Count != int64(c.Version) {
				bad.Add(1)
				badMsg.Store(fmt.Sprintf("version %d, tallies %+v", c.Version, c.Facts.Tallies))
			}
		}
		if len(seen) > 0 && seen[0] {
			return false, nil
		}
		if len(c.Facts.Tallies) == 0 {
			c.Facts.Tallies = make([]lifecycle.Tally, 2, 2)
			c.Facts.Tallies[0].Type, c.Facts.Tallies[1].Type = "a", "b"
		}
		c.Facts.Tallies[0].Count++ // in place: shared with the held row
		switch mode {
		case 1:
			c.Facts.Tallies[1].Count += 1000
			return false, errHeldBoom
		case 2:
			c.Facts.Tallies[1].Count += 1000
			return false, nil
		case 3:
			c.Facts.Tallies[1].Count += 1000
			c.Stage = "\xff" // not UTF-8: check refuses it
			c.Version++
			return true, nil
		}
		c.Facts.Tallies[1].Count++
		c.Stage = "reach"
		c.Version++
		return true, nil
	}
}

// TestHeldRowTakenConcurrently: 8 goroutines on one Store apply
// events to one customer, with fns that change the tallies in place and
// sometimes fail, report no change or are refused after changing them.
// No fn ever sees a customer another write (or a failed one) changed, and
// every event is counted once.
func TestHeldRowTakenConcurrently(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	s := e.open(t)
	const goroutines, events = 8, 40
	var bad atomic.Int64
	var badMsg atomic.Value
	var ev atomic.Int64
	err := parallel(goroutines, func(g int) error {
		r := rand.New(rand.NewPCG(uint64(g), 7))
		for range events {
			id := fmt.Sprintf("e%d", ev.Add(1))
			for {
				mode := 0
				if r.IntN(3) == 0 {
					mode = 1 + r.IntN(3)
				}
				err := applyOne(ctx, s, "c", []string{id}, heldFn(mode, &bad, &badMsg))
				switch {
				case mode == 0 && err == nil:
				case errors.Is(err, lifecycle.ErrConflict):
					continue
				case mode == 1 && errors.Is(err, errHeldBoom), mode == 2 && err == nil, mode == 3 && err != nil:
					continue
				default:
					return fmt.Errorf("mode %d: %w", mode, err)
				}
				break
			}
		}
		return nil
	})
	require.NoError(t, err)
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d fn calls saw an inconsistent customer, e.g. %v", n, badMsg.Load())
	}
	c, err := s.Get(ctx, "c")
	require.NoError(t, err)
	require.EqualValues(t, goroutines*events, c.Version)
	require.EqualValues(t, goroutines*events, c.Facts.Tallies[0].Count)
	require.EqualValues(t, goroutines*events, c.Facts.Tallies[1].Count)
	// And the row the Store holds agrees with the stored one.
	require.NoError(t, applyOne(ctx, s, "c", []string{"last"}, heldFn(0, &bad, &badMsg)))
	require.Zero(t, bad.Load(), badMsg.Load())
}

// TestHeldRowWithPutDelete: as above, with Put (a consistent bump,
// compare-and-swap) and Delete on the same Store at the same time; the fns
// check that every customer they are given is consistent.
func TestHeldRowWithPutDelete(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	s := e.open(t)
	const goroutines, events = 8, 40
	var bad atomic.Int64
	var badMsg atomic.Value
	var ev atomic.Int64
	err := parallel(goroutines, func(g int) error {
		r := rand.New(rand.NewPCG(uint64(g), 9))
		for range events {
			switch g {
			case 0: // Put: a consistent bump of what is stored
				c, err := s.Get(ctx, "c")
				if errors.Is(err, lifecycle.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				prev := c.Version
				c.Version++
				c.Facts.Tallies[0].Count++
				c.Facts.Tallies[1].Count++
				if err := s.Put(ctx, c, prev); err != nil && !errors.Is(err, lifecycle.ErrConflict) {
					return fmt.Errorf("put: %w", err)
				}
				continue
			case 1:
				if r.IntN(8) == 0 {
					if err := s.Delete(ctx, "c"); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
						return fmt.Errorf("delete: %w", err)
					}
					continue
				}
			}
			id := fmt.Sprintf("e%d", ev.Add(1))
			for tries := 0; tries < 1000; tries++ {
				mode := 0
				if r.IntN(3) == 0 {
					mode = 1 + r.IntN(3)
				}
				err := applyOne(ctx, s, "c", []string{id}, heldFn(mode, &bad, &badMsg))
				if mode == 0 && err == nil {
					break
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d fn calls saw an inconsistent customer, e.g. %v", n, badMsg.Load())
	}
}
