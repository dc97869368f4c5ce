package storetest

import (
	"context"
	"errors"
	"fmt"

	"github.com/clmkit/clm/lifecycle"
)

// The rules below apply to stores that have the optional
// [lifecycle.Updater] capability; for other stores they pass trivially.

var errFromFn = errors.New("storetest: error returned by fn")

func updaterOf(s lifecycle.Store) (lifecycle.Updater, bool) {
	u, ok := s.(lifecycle.Updater)
	return u, ok
}

func updateNew(ctx context.Context, s lifecycle.Store, p string) error {
	u, ok := updaterOf(s)
	if !ok {
		return nil
	}
	id := p + "un"
	calls := 0
	err := u.Update(ctx, id, func(c *lifecycle.Customer) (bool, error) {
		calls++
		if c.ID != id || c.Version != 0 || c.Stage != "" || len(c.History) != 0 {
			return false, fmt.Errorf("Update of a missing customer gave fn %+v; want a zero Customer with ID %q", c, id)
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("Update(missing, fn reports no change) = %v", err)
	}
	if calls != 1 {
		return fmt.Errorf("Update called fn %d times; want exactly once", calls)
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("Update whose fn reported no change stored a customer (Get = %v)", err)
	}
	want := sample(id, 0)
	err = u.Update(ctx, id, func(c *lifecycle.Customer) (bool, error) {
		want.CopyTo(c)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("Update(missing, fn inserts) = %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after an inserting Update = %v", err)
	}
	return same(want, got)
}

func updateExisting(ctx context.Context, s lifecycle.Store, p string) error {
	u, ok := updaterOf(s)
	if !ok {
		return nil
	}
	id := p + "ue"
	stored := sample(id, 0)
	if err := s.Put(ctx, sample(id, 0), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	var seenErr error
	calls := 0
	err := u.Update(ctx, id, func(c *lifecycle.Customer) (bool, error) {
		calls++
		seenErr = same(stored, c)
		c.Stage = "loyalty"
		c.Version++
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("Update(existing) = %v", err)
	}
	if seenErr != nil {
		return fmt.Errorf("fn was not given the stored customer: %w", seenErr)
	}
	if calls != 1 {
		return fmt.Errorf("Update(existing) called fn %d times; want exactly once", calls)
	}
	stored.Stage, stored.Version = "loyalty", 2
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after Update = %v", err)
	}
	if err := same(stored, got); err != nil {
		return fmt.Errorf("after Update: %w", err)
	}
	// An error from fn is returned and nothing is stored.
	calls = 0
	err = u.Update(ctx, id, func(c *lifecycle.Customer) (bool, error) { calls++; return false, errFromFn })
	if !errors.Is(err, errFromFn) {
		return fmt.Errorf("Update whose fn failed = %v; want fn's error", err)
	}
	if calls != 1 {
		return fmt.Errorf("Update whose fn failed called fn %d times; want exactly once", calls)
	}
	// A Put with the version Update left must succeed: versions agree.
	next := stored.Clone()
	next.Version = 3
	if err := s.Put(ctx, next, 2); err != nil {
		return fmt.Errorf("Put(prev 2) after Update to version 2 = %v", err)
	}
	// A cancelled context fails without calling fn.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	if err := u.Update(cctx, id, func(*lifecycle.Customer) (bool, error) { called = true; return false, nil }); !errors.Is(err, context.Canceled) || called {
		return fmt.Errorf("Update with a cancelled context = %v (fn called: %v); want the context's error and no call", err, called)
	}
	return nil
}

func updateExclusive(ctx context.Context, s lifecycle.Store, p string) error {
	u, ok := updaterOf(s)
	if !ok {
		return nil
	}
	_, err := raceWithIncrements(ctx, s, p+"ux", "Update", func(id string, _ int) error {
		return u.Update(ctx, id, func(c *lifecycle.Customer) (bool, error) {
			c.Facts.Tallies[0].Count++
			c.Version++
			return true, nil
		})
	})
	return err
}

// raceExclusiveWriters and raceEach set how many goroutines of each kind
// raceWithIncrements runs, and how many writes each makes.
const raceExclusiveWriters, raceEach = 8, 25

// raceWithIncrements stores a customer with a zero first tally, then races
// raceExclusiveWriters goroutines that each call write raceEach times (k
// numbers the write, from 0, across goroutines) against as many
// compare-and-swap incrementers, and checks that every write counted once.
// It returns the final customer.
func raceWithIncrements(ctx context.Context, s lifecycle.Store, id, what string, write func(id string, k int) error) (*lifecycle.Customer, error) {
	base := sample(id, 0)
	base.Facts.Tallies[0].Count = 0
	base.Seen = nil
	if err := s.Put(ctx, base, 0); err != nil {
		return nil, fmt.Errorf("Put = %v", err)
	}
	err := parallel(2*raceExclusiveWriters, func(g int) error {
		for i := 0; i < raceEach; i++ {
			var err error
			if g%2 == 0 {
				err = write(id, g/2*raceEach+i)
			} else { // compare-and-swap writers on the same customer
				err = increment(ctx, s, id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("concurrent %s/Put failed: %w", what, err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("Get = %v", err)
	}
	const n = raceExclusiveWriters * raceEach
	if got.Facts.Tallies[0].Count != 2*n || got.Version != 2*n+1 {
		return nil, fmt.Errorf("%d %ss and %d compare-and-swap increments raced: count %d, version %d; want %d, %d (lost or doubled updates)",
			n, what, n, got.Facts.Tallies[0].Count, got.Version, 2*n, 2*n+1)
	}
	return got, nil
}
