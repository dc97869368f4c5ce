package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// ReopenFunc closes s and returns a store opened anew on the same data, as
// a process that stops and starts again would (for a database: a new
// connection pool on the same tables or file). Returning s itself checks
// nothing about durability.
type ReopenFunc func(ctx context.Context, s lifecycle.Store) (lifecycle.Store, error)

// ReopenCase returns the rule "Reopen", for durable stores: it writes
// customers to s (every field set, times with nanoseconds and whole-minute
// offsets, and times whose offset has seconds unless the store refuses
// them; through [lifecycle.Applier] too when s has it), reads a
// [lifecycle.ChangeLister]'s feed and takes a [lifecycle.CursorKeeper]'s
// cursor and lease, calls reopen, and checks on the store it returns that
// every customer comes back exactly as before (Get, Load, Scan), that the
// feed lists the same changes at the same positions, that the cursor and
// its lease were kept, and that the store goes on working: compare-and-swap
// against the versions stored before, events applied before recognised as
// such, new changes listed after the old ones.
func ReopenCase(reopen ReopenFunc) Case {
	return Case{Name: "Reopen", Check: func(ctx context.Context, s lifecycle.Store, p string) error {
		return reopenRule(ctx, s, p, reopen)
	}}
}

// RunReopen runs [ReopenCase](reopen) as the subtest "Reopen" on a store
// from newStore. The store reopen returns is the caller's to close (with
// t.Cleanup, say), as is s if reopen returns it.
//
//	storetest.RunReopen(t, newStore, func(ctx context.Context, s lifecycle.Store) (lifecycle.Store, error) {
//		if err := s.(*mystore.Store).Close(); err != nil {
//			return nil, err
//		}
//		return mystore.Open(ctx, path)
//	})
func RunReopen(t *testing.T, newStore func(t *testing.T) lifecycle.Store, reopen ReopenFunc) {
	t.Helper()
	c := ReopenCase(reopen)
	t.Run(c.Name, func(t *testing.T) {
		if err := runCase(c, newStore(t), fmt.Sprintf("st%d-reopen-", time.Now().UnixNano())); err != nil {
			t.Error(err)
		}
	})
}

func reopenRule(ctx context.Context, s lifecycle.Store, p string, reopen ReopenFunc) error {
	f, start, err := feedOf(ctx, s)
	if err != nil {
		return err
	}
	var want []*lifecycle.Customer
	put := func(c *lifecycle.Customer, prev uint64) error {
		if err := s.Put(ctx, c, prev); err != nil {
			return fmt.Errorf("Put(%q, prev %d) = %v; want nil", c.ID, prev, err)
		}
		return nil
	}
	for _, c := range []*lifecycle.Customer{sample(p+"r0", 0), withOffsets(sample(p+"r1", 1)), exactSample(p+"r2", minuteZones)} {
		if err := put(c, 0); err != nil {
			return err
		}
		want = append(want, c)
	}
	// Version 2, with a large Seen and one more transition.
	v2 := sample(p+"r0", 2)
	v2.Version = 2
	v2.Seen = seenOf()
	for i := range 500 {
		v2.Seen.Add(lifecycle.KeyOf(fmt.Sprintf("r0-event-%d", i)))
	}
	v2.History = append(v2.History, lifecycle.Transition{From: "retention", To: "loyalty", At: v2.AsOf.In(minuteZones[1]), Cause: "r0-event-0"})
	if err := put(v2, 1); err != nil {
		return err
	}
	want[0] = v2
	if lmt := exactSample(p+"r3", secondZones); s.Put(ctx, lmt, 0) == nil {
		want = append(want, lmt)
	} // else refused (see ExactTimes, which checks the refusal)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a, applier := applierOf(s)
	if applier {
		id := p + "ra"
		if err := applyRetry(ctx, a, id, []string{"ra-1", "ra-2"}, transitionTo("reach", t0, "ra-1")); err != nil {
			return fmt.Errorf("Apply(%q) = %v", id, err)
		}
		c, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) after Apply = %v", id, err)
		}
		want = append(want, c)
	}
	var before []lifecycle.Change
	if f != nil {
		if before, _, err = feedAfter(ctx, f, start, 1000, p); err != nil {
			return err
		}
		if len(before) == 0 {
			return errors.New("the feed listed none of the customers' transitions before reopening")
		}
	}
	k, keeper := s.(lifecycle.CursorKeeper)
	name, lease := p+"cursor", t0.Add(time.Hour)
	if keeper {
		if _, held, err := k.ClaimCursor(ctx, name, "owner-a", t0, lease); err != nil || !held {
			return fmt.Errorf("ClaimCursor(%q, a new name) = %v, %v; want held, nil", name, held, err)
		}
		if err := k.AdvanceCursor(ctx, name, "owner-a", 7, t0, lease); err != nil {
			return fmt.Errorf("AdvanceCursor(%q, 7) = %v; want nil", name, err)
		}
	}

	s2, err := reopen(ctx, s)
	if err != nil {
		return fmt.Errorf("reopen = %v", err)
	}
	if s2 == nil {
		return errors.New("reopen returned a nil store")
	}

	for _, w := range want {
		if err := readsBack(ctx, s2, w.ID, w); err != nil {
			return fmt.Errorf("after reopening: %w", err)
		}
	}
	all, err := scanMine(ctx, s2, p)
	if err != nil {
		return fmt.Errorf("after reopening: %w", err)
	}
	if len(all) != len(want) {
		return fmt.Errorf("after reopening, Scan yielded %d of the %d customers written before", len(all), len(want))
	}
	if f != nil {
		f2, ok := s2.(lifecycle.ChangeLister)
		if !ok {
			return errors.New("the reopened store is not a lifecycle.ChangeLister, the store before was")
		}
		after, _, err := feedAfter(ctx, f2, start, 1000, p)
		if err != nil {
			return fmt.Errorf("after reopening: %w", err)
		}
		if err := sameChanges(before, after); err != nil {
			return fmt.Errorf("after reopening, the feed differs: %w", err)
		}
	}
	if keeper {
		k2, ok := s2.(lifecycle.CursorKeeper)
		if !ok {
			return errors.New("the reopened store is not a lifecycle.CursorKeeper, the store before was")
		}
		now := t0.Add(time.Minute)
		if c, held, err := k2.ClaimCursor(ctx, name, "owner-b", now, now.Add(time.Hour)); err != nil || c != 7 || held {
			return fmt.Errorf("after reopening, ClaimCursor(%q) by another owner during owner-a's lease = %d, %v, %v; want 7, false, nil (the cursor and its lease kept)", name, c, held, err)
		}
		if c, held, err := k2.ClaimCursor(ctx, name, "owner-a", now, now.Add(time.Hour)); err != nil || c != 7 || !held {
			return fmt.Errorf("after reopening, ClaimCursor(%q) by its holder = %d, %v, %v; want 7, true, nil", name, c, held, err)
		}
	}

	// The reopened store goes on: versions, applied events and the feed
	// carry on from where they were.
	if err := s2.Put(ctx, sample(p+"r1", 5), 0); !errors.Is(err, lifecycle.ErrConflict) {
		return fmt.Errorf("after reopening, Put(%q, prev 0) of a customer stored before = %v; want an error wrapping ErrConflict", p+"r1", err)
	}
	next := want[1].Clone()
	next.Version = 2
	next.History = append(next.History, lifecycle.Transition{From: "retention", To: "loyalty", At: t0, Cause: "r1-next"})
	if err := s2.Put(ctx, next, 1); err != nil {
		return fmt.Errorf("after reopening, Put(%q, version 2, prev 1) = %v; want nil", next.ID, err)
	}
	if applier {
		a2, ok := applierOf(s2)
		if !ok {
			return errors.New("the reopened store is not a lifecycle.Applier, the store before was")
		}
		var seen []bool
		err := applyRetry(ctx, a2, p+"ra", []string{"ra-2", "ra-3"}, func(c *lifecycle.Customer, s []bool) (bool, error) {
			seen = append(seen[:0], s...)
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("after reopening, Apply(%q) = %v", p+"ra", err)
		}
		// A store that checks at commit may report all false (see
		// lifecycle.Applier); it cannot report an applied event as new
		// and then store it, which the rules of Apply check.
		if len(seen) != 2 || seen[1] {
			return fmt.Errorf("after reopening, Apply(%q, [ra-2 ra-3]) gave seen %v; want [true false] (ra-2 was applied before), or [false false] from a store that checks at commit", p+"ra", seen)
		}
	}
	if f != nil {
		f2 := s2.(lifecycle.ChangeLister)
		after, _, err := feedAfter(ctx, f2, start, 1000, p)
		if err != nil {
			return fmt.Errorf("after reopening: %w", err)
		}
		if len(after) != len(before)+1 {
			return fmt.Errorf("after reopening and one more transition, the feed lists %d changes of the rule's customers; want %d", len(after), len(before)+1)
		}
		if err := sameChanges(before, after[:len(before)]); err != nil {
			return fmt.Errorf("after reopening and one more transition, the feed differs: %w", err)
		}
		if last := after[len(after)-1]; last.CustomerID != next.ID || last.Seq != uint64(len(next.History)) {
			return fmt.Errorf("after reopening, the new transition of %q was listed as customer %q's change %d; want change %d, after every change listed before", next.ID, last.CustomerID, last.Seq, len(next.History))
		}
	}
	return nil
}

// sameChanges checks that got lists the changes of want, in order, at the
// same positions.
func sameChanges(want, got []lifecycle.Change) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d changes listed; want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ID() != g.ID() || w.Pos != g.Pos || !sameTime(w.At, g.At) {
			return fmt.Errorf("change %d: customer %q's change %d (%s→%s at %v) at Pos %d; want customer %q's change %d (%s→%s at %v) at Pos %d",
				i, g.CustomerID, g.Seq, g.From, g.To, g.At, g.Pos, w.CustomerID, w.Seq, w.From, w.To, w.At, w.Pos)
		}
	}
	return nil
}
