package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// The rules below apply to stores that have the optional
// [lifecycle.EventUpdater] capability; for other stores they pass
// trivially.

func eventUpdaterOf(s lifecycle.Store) (lifecycle.EventUpdater, bool) {
	u, ok := s.(lifecycle.EventUpdater)
	return u, ok
}

// withoutLogs returns a copy of c with History and Seen emptied, as an
// EventUpdater's fn receives it.
func withoutLogs(c *lifecycle.Customer) *lifecycle.Customer {
	out := c.Clone()
	out.History, out.Seen = nil, nil
	return out
}

func eventNew(ctx context.Context, s lifecycle.Store, p string) error {
	u, ok := eventUpdaterOf(s)
	if !ok {
		return nil
	}
	id := p + "en"
	calls := 0
	err := u.UpdateEvent(ctx, id, 42, func(c *lifecycle.Customer, seen bool) (bool, error) {
		calls++
		if c.ID != id || c.Version != 0 || c.Stage != "" || len(c.History) != 0 || len(c.Seen) != 0 || c.Facts.Events() != 0 || seen {
			return false, fmt.Errorf("UpdateEvent of a missing customer gave fn %+v, seen %v; want a zero Customer with ID %q, seen false", c, seen, id)
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("UpdateEvent(missing, fn reports no change) = %v", err)
	}
	if calls != 1 {
		return fmt.Errorf("UpdateEvent called fn %d times; want exactly once", calls)
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("UpdateEvent whose fn reported no change stored a customer (Get = %v)", err)
	}
	want := sample(id, 0)
	want.Seen = []uint64{42}
	err = u.UpdateEvent(ctx, id, 42, func(c *lifecycle.Customer, seen bool) (bool, error) {
		withoutLogs(want).CopyTo(c)
		c.History = append(c.History, want.History...)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("UpdateEvent(missing, fn inserts) = %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after an inserting UpdateEvent = %v", err)
	}
	if err := same(want, got); err != nil {
		return fmt.Errorf("after an inserting UpdateEvent (History appended, digest 42 in Seen): %w", err)
	}
	return nil
}

func eventExisting(ctx context.Context, s lifecycle.Store, p string) error {
	u, ok := eventUpdaterOf(s)
	if !ok {
		return nil
	}
	id := p + "ee"
	stored := sample(id, 0) // Seen 3, 99, 1<<63
	if err := s.Put(ctx, sample(id, 0), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	// A digest already in Seen: fn is told so, and a no-change fn stores
	// nothing.
	var fnErr error
	calls := 0
	err := u.UpdateEvent(ctx, id, 99, func(c *lifecycle.Customer, seen bool) (bool, error) {
		calls++
		switch {
		case !seen:
			fnErr = errors.New("seen is false for digest 99, which is in the stored Seen")
		case len(c.History) != 0 || len(c.Seen) != 0:
			fnErr = fmt.Errorf("fn was given History %v and Seen %v; want both empty", c.History, c.Seen)
		default:
			if err := same(withoutLogs(stored), withoutLogs(c)); err != nil {
				fnErr = fmt.Errorf("fn was not given the stored customer without History and Seen: %w", err)
			}
		}
		c.Stage = "changed but not reported" // must not be stored
		return false, nil
	})
	if err != nil || fnErr != nil {
		return fmt.Errorf("UpdateEvent(existing, seen digest) = %v; %v", err, fnErr)
	}
	if calls != 1 {
		return fmt.Errorf("UpdateEvent(existing, seen digest) called fn %d times; want exactly once", calls)
	}
	if got, err := s.Get(ctx, id); err != nil || same(stored, got) != nil {
		return fmt.Errorf("UpdateEvent whose fn reported no change changed the customer (Get = %+v, %v)", got, err)
	}
	// A new digest: committed with the appended transition.
	tr := lifecycle.Transition{From: stored.Stage, To: "loyalty", At: stored.AsOf.Add(time.Hour), Cause: "e4"}
	calls = 0
	err = u.UpdateEvent(ctx, id, 50, func(c *lifecycle.Customer, seen bool) (bool, error) {
		calls++
		if seen {
			fnErr = errors.New("seen is true for digest 50, which is not in the stored Seen")
		}
		c.Stage, c.Since = tr.To, tr.At
		c.History = append(c.History, tr)
		c.Facts.Tallies[0].Count++
		c.Version++
		return true, nil
	})
	if err != nil || fnErr != nil {
		return fmt.Errorf("UpdateEvent(existing, new digest) = %v; %v", err, fnErr)
	}
	if calls != 1 {
		return fmt.Errorf("UpdateEvent(existing, new digest) called fn %d times; want exactly once", calls)
	}
	stored.Stage, stored.Since, stored.Version = tr.To, tr.At, 2
	stored.History = append(stored.History, tr)
	stored.Facts.Tallies[0].Count++
	stored.Seen = []uint64{3, 50, 99, 1 << 63}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after UpdateEvent = %v", err)
	}
	if err := same(stored, got); err != nil {
		return fmt.Errorf("after UpdateEvent (transition appended, digest 50 inserted in order): %w", err)
	}
	// An error from fn is returned and nothing is stored.
	err = u.UpdateEvent(ctx, id, 7, func(c *lifecycle.Customer, _ bool) (bool, error) {
		c.Version++
		c.History = append(c.History, tr)
		return true, errFromFn
	})
	if !errors.Is(err, errFromFn) {
		return fmt.Errorf("UpdateEvent whose fn failed = %v; want fn's error", err)
	}
	if got, err := s.Get(ctx, id); err != nil || same(stored, got) != nil {
		return fmt.Errorf("UpdateEvent whose fn failed changed the customer (Get = %+v, %v)", got, err)
	}
	// The versions agree with Put.
	next := stored.Clone()
	next.Version = 3
	if err := s.Put(ctx, next, 2); err != nil {
		return fmt.Errorf("Put(prev 2) after UpdateEvent to version 2 = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	if err := u.UpdateEvent(cctx, id, 8, func(*lifecycle.Customer, bool) (bool, error) { called = true; return false, nil }); !errors.Is(err, context.Canceled) || called {
		return fmt.Errorf("UpdateEvent with a cancelled context = %v (fn called: %v); want the context's error and no call", err, called)
	}
	return nil
}

func eventExclusive(ctx context.Context, s lifecycle.Store, p string) error {
	u, ok := eventUpdaterOf(s)
	if !ok {
		return nil
	}
	got, err := raceWithIncrements(ctx, s, p+"ex", "UpdateEvent", func(id string, k int) error {
		d := uint64(k)*0x9e3779b97f4a7c15 + 1 // a digest of its own
		return u.UpdateEvent(ctx, id, d, func(c *lifecycle.Customer, seen bool) (bool, error) {
			if seen {
				return false, fmt.Errorf("digest %d reported seen before it was added", d)
			}
			c.Facts.Tallies[0].Count++
			c.Version++
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	const n = raceExclusiveWriters * raceEach
	if len(got.Seen) != n || !slices.IsSorted(got.Seen) {
		return fmt.Errorf("after %d UpdateEvents with distinct digests, Seen holds %d digests (sorted: %v); want all, ascending",
			n, len(got.Seen), slices.IsSorted(got.Seen))
	}
	return nil
}
