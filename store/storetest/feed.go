package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// The rules below apply to stores that have the optional
// [lifecycle.ChangeLister] or [lifecycle.CursorKeeper] capability; for
// other stores they pass trivially.

// feedOf returns s's change feed and the cursor after its last change
// now, or a nil feed when s has none.
func feedOf(ctx context.Context, s lifecycle.Store) (lifecycle.ChangeLister, lifecycle.Cursor, error) {
	f, ok := s.(lifecycle.ChangeLister)
	if !ok {
		return nil, 0, nil
	}
	start, err := feedEnd(ctx, f)
	return f, start, err
}

// feedEnd returns the cursor after the last change listed now.
func feedEnd(ctx context.Context, f lifecycle.ChangeLister) (lifecycle.Cursor, error) {
	var at lifecycle.Cursor
	for {
		page, err := f.Changes(ctx, at, 1000)
		if err != nil {
			return 0, fmt.Errorf("Changes(after %d) = %v", at, err)
		}
		if len(page) == 0 {
			return at, nil
		}
		for _, ch := range page {
			if ch.Pos <= at {
				return 0, fmt.Errorf("Changes(after %d) listed customer %q's change %d at Pos %d, not after the cursor (or not after the change before it)", at, ch.CustomerID, ch.Seq, ch.Pos)
			}
			at = ch.Pos
		}
	}
}

// feedAfter lists every change after at whose customer ID starts with
// prefix, in pages of limit, checking that Pos grows strictly; it returns
// them and the cursor after the last change listed.
func feedAfter(ctx context.Context, f lifecycle.ChangeLister, at lifecycle.Cursor, limit int, prefix string) ([]lifecycle.Change, lifecycle.Cursor, error) {
	var out []lifecycle.Change
	for {
		page, err := f.Changes(ctx, at, limit)
		if err != nil {
			return nil, at, fmt.Errorf("Changes(after %d, limit %d) = %v", at, limit, err)
		}
		if len(page) > limit {
			return nil, at, fmt.Errorf("Changes(after %d, limit %d) listed %d changes", at, limit, len(page))
		}
		if len(page) == 0 {
			return out, at, nil
		}
		for _, ch := range page {
			if ch.Pos <= at {
				return nil, at, fmt.Errorf("Changes(after %d) listed customer %q's change %d at Pos %d, not after the cursor (or not after the change before it)", at, ch.CustomerID, ch.Seq, ch.Pos)
			}
			at = ch.Pos
			if strings.HasPrefix(ch.CustomerID, prefix) {
				out = append(out, ch)
			}
		}
	}
}

// transitionTo appends a transition to stage to and reports the change.
func transitionTo(to string, at time.Time, cause string) func(c *lifecycle.Customer, _ []bool) (bool, error) {
	return func(c *lifecycle.Customer, _ []bool) (bool, error) {
		tr := lifecycle.Transition{From: c.Stage, To: stage.ID(to), At: at, Cause: cause}
		c.Stage, c.Since, c.AsOf = tr.To, at, at
		c.History = append(c.History, tr)
		c.Version++
		return true, nil
	}
}

// checkFeed checks that got lists exactly the transitions of the stored
// customers ids, each once, with its position in the history, and each
// customer's in history order.
func checkFeed(ctx context.Context, s lifecycle.Store, ids []string, got []lifecycle.Change) error {
	type key struct {
		id  string
		seq uint64
	}
	listed := make(map[key]lifecycle.Change)
	last := make(map[string]uint64)
	for _, ch := range got {
		k := key{ch.CustomerID, ch.Seq}
		if _, dup := listed[k]; dup {
			return fmt.Errorf("customer %q's change %d was listed twice", ch.CustomerID, ch.Seq)
		}
		if ch.Seq <= last[ch.CustomerID] {
			return fmt.Errorf("customer %q's change %d was listed after its change %d", ch.CustomerID, ch.Seq, last[ch.CustomerID])
		}
		listed[k], last[ch.CustomerID] = ch, ch.Seq
	}
	n := 0
	for _, id := range ids {
		c, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) = %v", id, err)
		}
		for i, tr := range c.History {
			n++
			ch, ok := listed[key{id, uint64(i + 1)}]
			if !ok {
				return fmt.Errorf("customer %q's change %d (%s→%s) was never listed", id, i+1, tr.From, tr.To)
			}
			if err := same(&lifecycle.Customer{History: []lifecycle.Transition{tr}}, &lifecycle.Customer{History: []lifecycle.Transition{ch.Transition}}); err != nil {
				return fmt.Errorf("customer %q's change %d was listed unlike its history: %w", id, i+1, err)
			}
		}
	}
	if n != len(got) {
		return fmt.Errorf("the feed listed %d changes of these customers; their histories hold %d", len(got), n)
	}
	return nil
}

func changesListed(ctx context.Context, s lifecycle.Store, p string) error {
	f, start, err := feedOf(ctx, s)
	if f == nil || err != nil {
		return err
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []string
	if a, ok := applierOf(s); ok {
		// Two writes in one Apply, then one more; a write whose fn
		// reports no change, and one that fails, list nothing.
		ws := []lifecycle.Write{
			{ID: p + "fa", Events: []string{"a1"}, Fn: transitionTo("reach", t0, "a1")},
			{ID: p + "fb", Events: []string{"b1"}, Fn: transitionTo("reach", t0, "b1")},
		}
		a.Apply(ctx, ws)
		for _, w := range ws {
			if w.Err != nil {
				return fmt.Errorf("Apply(%s) = %v", w.ID, w.Err)
			}
		}
		if err := applyRetry(ctx, a, p+"fa", []string{"a2"}, transitionTo("conversion", t0.Add(time.Hour), "a2")); err != nil {
			return fmt.Errorf("Apply = %v", err)
		}
		if err := applyRetry(ctx, a, p+"fa", []string{"a3"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.History = append(c.History, lifecycle.Transition{From: "x", To: "y", At: t0})
			return false, nil
		}); err != nil {
			return fmt.Errorf("Apply (no change) = %v", err)
		}
		if err := applyRetry(ctx, a, p+"fa", []string{"a4"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.History = append(c.History, lifecycle.Transition{From: "x", To: "y", At: t0})
			return true, errFromFn
		}); !errors.Is(err, errFromFn) {
			return fmt.Errorf("Apply (fn fails) = %v; want the fn's error", err)
		}
		ids = append(ids, p+"fa", p+"fb")
	}
	// Put: a new customer with two transitions, then one more.
	c := &lifecycle.Customer{ID: p + "fp", Stage: "conversion", Since: t0, AsOf: t0, Version: 1, History: []lifecycle.Transition{
		{To: "reach", At: t0.Add(-time.Hour), Cause: "p1"},
		{From: "reach", To: "conversion", At: t0, Cause: "p2"},
	}}
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	c.History = append(c.History, lifecycle.Transition{From: "conversion", To: "retention", At: t0.Add(time.Hour)})
	c.Stage, c.Version = "retention", 2
	if err := s.Put(ctx, c, 1); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	// A Put that shortens the history, then one that lengthens it again
	// (past its old length): each Seq is listed once, as the history
	// holds it when listed.
	c.History, c.Stage, c.Version = c.History[:1], "reach", 3
	if err := s.Put(ctx, c, 2); err != nil {
		return fmt.Errorf("Put (a shorter history) = %v", err)
	}
	// The last transition at its limits: a time with nanoseconds at an
	// offset, a cause of MaxCauseLen bytes, a stage ID of stage.MaxIDLen:
	// listed as the history holds it (a change's ID hashes them all).
	longStage := stage.ID(strings.Repeat("s", stage.MaxIDLen))
	c.History = append(c.History,
		lifecycle.Transition{From: "reach", To: "acquisition", At: t0.Add(2 * time.Hour), Cause: "p3"},
		lifecycle.Transition{From: "acquisition", To: "conversion", At: t0.Add(3 * time.Hour), Cause: "p4"},
		lifecycle.Transition{From: "conversion", To: longStage, At: t0.Add(4*time.Hour + 123_456_789).In(time.FixedZone("", 5*3600+30*60)), Cause: strings.Repeat("c", lifecycle.MaxCauseLen)})
	c.Stage, c.Version = longStage, 4
	if err := s.Put(ctx, c, 3); err != nil {
		return fmt.Errorf("Put (a longer history again) = %v", err)
	}
	ids = append(ids, p+"fp")
	// Pages of 2, then of 1000: the same changes.
	got, _, err := feedAfter(ctx, f, start, 2, p)
	if err != nil {
		return err
	}
	if err := checkFeed(ctx, s, ids, got); err != nil {
		return err
	}
	again, _, err := feedAfter(ctx, f, start, 1000, p)
	if err != nil {
		return err
	}
	if len(again) != len(got) {
		return fmt.Errorf("listing in pages of 1000 gave %d changes; in pages of 2, %d", len(again), len(got))
	}
	for i := range got {
		if got[i].Pos != again[i].Pos || got[i].ID() != again[i].ID() {
			return fmt.Errorf("listing again gave change %d as %+v; first %+v", i, again[i], got[i])
		}
	}
	// A limit below 1 means 100: with more than 100 changes after start
	// (a customer put with 120 transitions), such a page lists as many as
	// one of limit 100, and no more than 100 when a page of 1000 lists
	// more (a store may list fewer than a limit).
	long := &lifecycle.Customer{ID: p + "fl", Version: 1}
	for i := range 120 {
		to := stage.ID("s" + strconv.Itoa(i%2))
		long.History = append(long.History, lifecycle.Transition{From: long.Stage, To: to, At: t0.Add(time.Duration(i) * time.Minute), Cause: "l" + strconv.Itoa(i)})
		long.Stage, long.Since, long.AsOf = to, long.History[i].At, long.History[i].At
	}
	if err := s.Put(ctx, long, 0); err != nil {
		return fmt.Errorf("Put (120 transitions) = %v", err)
	}
	all, err := f.Changes(ctx, start, 1000)
	if err != nil {
		return fmt.Errorf("Changes(after %d, limit 1000) = %v", start, err)
	}
	for _, limit := range []int{0, -1} {
		page, err := f.Changes(ctx, start, limit)
		if err != nil {
			return fmt.Errorf("Changes(after %d, limit %d) = %v", start, limit, err)
		}
		want, err := f.Changes(ctx, start, 100)
		if err != nil {
			return fmt.Errorf("Changes(after %d, limit 100) = %v", start, err)
		}
		if len(want) == 0 || len(page) != len(want) || len(all) > 100 && len(page) > 100 {
			return fmt.Errorf("Changes(after %d, limit %d) listed %d changes; limit 100 lists %d, limit 1000 %d (a limit below 1 means 100)", start, limit, len(page), len(want), len(all))
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Changes(cctx, start, 10); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("Changes with a cancelled context = %v; want the context's error", err)
	}
	return nil
}

// changesPastHidden: a Put that shortens a history hides the changes
// past its new length, and Changes reads past a page of hidden ones: it
// lists none only when no change after the cursor can be listed (a reader
// takes an empty page for the end of the feed).
func changesPastHidden(ctx context.Context, s lifecycle.Store, p string) error {
	f, start, err := feedOf(ctx, s)
	if f == nil || err != nil {
		return err
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: p + "hl", Version: 1}
	for i, to := range []stage.ID{"reach", "acquisition", "conversion", "retention", "loyalty", "retention", "loyalty"} {
		c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: to, At: t0.Add(time.Duration(i) * time.Hour), Cause: "h" + strconv.Itoa(i)})
		c.Stage, c.Since, c.AsOf = to, c.History[i].At, c.History[i].At
	}
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	c.History, c.Stage, c.Since, c.Version = c.History[:1], "reach", t0, 2
	if err := s.Put(ctx, c, 1); err != nil {
		return fmt.Errorf("Put (a shorter history) = %v", err)
	}
	d := &lifecycle.Customer{ID: p + "hm", Stage: "reach", Since: t0, AsOf: t0, Version: 1, History: []lifecycle.Transition{{To: "reach", At: t0, Cause: "m1"}}}
	if err := s.Put(ctx, d, 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	for _, limit := range []int{1, 2, 3, 100} {
		got, _, err := feedAfter(ctx, f, start, limit, p)
		if err != nil {
			return err
		}
		if err := checkFeed(ctx, s, []string{p + "hl", p + "hm"}, got); err != nil {
			return fmt.Errorf("in pages of %d (six changes hidden by a shorter history, then another customer's): %w", limit, err)
		}
	}
	// A store that deletes customers (Memory and sqlstore have
	// Delete(ctx, id) error) removes their changes not yet listed.
	if del, ok := s.(interface {
		Delete(context.Context, string) error
	}); ok {
		gone := &lifecycle.Customer{ID: p + "hd", Stage: "reach", Since: t0, AsOf: t0, Version: 1, History: []lifecycle.Transition{{To: "reach", At: t0, Cause: "d1"}}}
		if err := s.Put(ctx, gone, 0); err != nil {
			return fmt.Errorf("Put = %v", err)
		}
		if err := del.Delete(ctx, gone.ID); err != nil {
			return fmt.Errorf("Delete(%q) = %v", gone.ID, err)
		}
		got, _, err := feedAfter(ctx, f, start, 100, p)
		if err != nil {
			return err
		}
		for _, ch := range got {
			if ch.CustomerID == gone.ID {
				return fmt.Errorf("Changes lists change %d of %q, deleted before it was listed: deleting a customer removes its changes not yet listed from the feed", ch.Seq, gone.ID)
			}
		}
		// A customer created again after its deletion is a new customer:
		// its changes are listed, each once, and none of the deleted
		// one's. Here one deleted before its change was listed, and one
		// deleted after its changes were.
		seen := &lifecycle.Customer{ID: p + "hs", Stage: "reach", Since: t0, AsOf: t0, Version: 1, History: []lifecycle.Transition{{To: "reach", At: t0, Cause: "s1"}}}
		if err := s.Put(ctx, seen, 0); err != nil {
			return fmt.Errorf("Put = %v", err)
		}
		if _, _, err := feedAfter(ctx, f, start, 100, p); err != nil {
			return err
		}
		if err := del.Delete(ctx, seen.ID); err != nil {
			return fmt.Errorf("Delete(%q) = %v", seen.ID, err)
		}
		var again []string
		for _, id := range []string{gone.ID, seen.ID} {
			c := &lifecycle.Customer{ID: id, Stage: "acquisition", Since: t0.Add(time.Hour), AsOf: t0.Add(time.Hour), Version: 1, History: []lifecycle.Transition{
				{To: "reach", At: t0, Cause: "again1"},
				{From: "reach", To: "acquisition", At: t0.Add(time.Hour), Cause: "again2"},
			}}
			if err := s.Put(ctx, c, 0); err != nil {
				return fmt.Errorf("Put (%q created again after Delete) = %v", id, err)
			}
			again = append(again, id)
		}
		for _, limit := range []int{1, 100} {
			got, _, err := feedAfter(ctx, f, start, limit, p+"h")
			if err != nil {
				return err
			}
			var mine []lifecycle.Change
			for _, ch := range got {
				if ch.CustomerID == gone.ID || ch.CustomerID == seen.ID {
					mine = append(mine, ch)
				}
			}
			if err := checkFeed(ctx, s, again, mine); err != nil {
				return fmt.Errorf("customers deleted and created again with two transitions, in pages of %d: %w (the new customer's changes are listed, each once, and none of the deleted one's)", limit, err)
			}
		}
	}
	return nil
}

// changesConcurrent has writers make transitions while a reader pages
// through the feed: when all is written, what the reader listed (and a
// last pass) is exactly every stored transition, each once. A feed that
// numbers changes as writers begin them, and lists what is visible, skips
// a change whose writer commits after a later-numbered one was listed.
func changesConcurrent(ctx context.Context, s lifecycle.Store, p string) error {
	f, start, err := feedOf(ctx, s)
	if f == nil || err != nil {
		return err
	}
	const writers, each, customers = 6, 30, 8
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = fmt.Sprintf("%sfc%d", p, i)
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a, isApplier := applierOf(s)
	write := func(w, i int) error {
		id := ids[(w*7+i)%customers]
		at := t0.Add(time.Duration(w*each+i) * time.Second)
		cause := fmt.Sprintf("w%d-%d", w, i)
		if isApplier {
			return applyRetry(ctx, a, id, []string{cause}, transitionTo(cause, at, cause))
		}
		for {
			c, err := s.Get(ctx, id)
			var prev uint64
			switch {
			case errors.Is(err, lifecycle.ErrNotFound):
				c = &lifecycle.Customer{ID: id}
			case err != nil:
				return err
			default:
				prev = c.Version
			}
			transitionTo(cause, at, cause)(c, nil)
			err = s.Put(ctx, c, prev)
			if !errors.Is(err, lifecycle.ErrConflict) {
				return err
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := recovered(func() error { return write(w, i) }); err != nil {
					errs <- fmt.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	var seen []lifecycle.Change
	at := start
	go func() { wg.Wait(); close(done) }()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		page, next, err := feedAfter(ctx, f, at, 7, p)
		if err != nil {
			return err
		}
		seen, at = append(seen, page...), next
	}
	close(errs)
	for err := range errs {
		return err
	}
	last, _, err := feedAfter(ctx, f, at, 7, p)
	if err != nil {
		return err
	}
	return checkFeed(ctx, s, ids, append(seen, last...))
}

func cursorLease(ctx context.Context, s lifecycle.Store, p string) error {
	k, ok := s.(lifecycle.CursorKeeper)
	if !ok {
		return nil
	}
	name := p + "cursor"
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	lease := 30 * time.Second
	claim := func(owner string, now time.Time, want lifecycle.Cursor, held bool) error {
		c, h, err := k.ClaimCursor(ctx, name, owner, now, now.Add(lease))
		if err != nil || c != want || h != held {
			return fmt.Errorf("ClaimCursor(%q, %s) = %d, %v, %v; want %d, %v, nil", owner, now.Sub(t0), c, h, err, want, held)
		}
		return nil
	}
	advance := func(owner string, c lifecycle.Cursor, now time.Time, ok bool) error {
		err := k.AdvanceCursor(ctx, name, owner, c, now, now.Add(lease))
		if ok && err != nil {
			return fmt.Errorf("AdvanceCursor(%q, %d, %s) = %v; want nil", owner, c, now.Sub(t0), err)
		}
		if !ok && !errors.Is(err, lifecycle.ErrConflict) {
			return fmt.Errorf("AdvanceCursor(%q, %d, %s) = %v; want an error wrapping ErrConflict", owner, c, now.Sub(t0), err)
		}
		return nil
	}
	steps := []func() error{
		func() error { return advance("a", 1, t0, false) }, // nobody holds it
		func() error { return claim("a", t0, 0, true) },    // a new name: cursor 0
		func() error { return claim("b", t0.Add(time.Second), 0, false) },
		func() error { return advance("a", 5, t0.Add(time.Second), true) },
		// Advancing renewed a's lease to 31 s: past the claim's 30 s, a
		// holds it still.
		func() error { return claim("b", t0.Add(30*time.Second+500*time.Millisecond), 5, false) },
		func() error { return advance("b", 6, t0.Add(time.Second), false) },
		func() error { return advance("a", 4, t0.Add(2*time.Second), false) }, // backwards
		func() error { return claim("a", t0.Add(20*time.Second), 5, true) },   // renewed to 50 s
		func() error { return claim("b", t0.Add(45*time.Second), 5, false) },
		func() error { return claim("b", t0.Add(50*time.Second), 5, true) }, // a's lease ended
		func() error { return advance("a", 9, t0.Add(51*time.Second), false) },
		func() error { return advance("b", 9, t0.Add(52*time.Second), true) },
		func() error { // b gives the lease up, storing its last cursor
			return k.AdvanceCursor(ctx, name, "b", 10, t0.Add(53*time.Second), t0.Add(53*time.Second))
		},
		// A lease given up is free whatever the claimant's clock: a's is a
		// second behind b's here.
		func() error { return claim("a", t0.Add(52*time.Second), 10, true) },
		func() error { return advance("b", 10, t0.Add(54*time.Second), false) },
		func() error { return advance("a", 10, t0.Add(82*time.Second), false) }, // a's lease ends at 82 s: at now, not held
		func() error { return advance("a", 10, t0.Add(90*time.Second), false) }, // a's own lease ended at 83 s
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	// A claim whose until is at or before now gives the lease up too: the
	// next claimant holds it, whatever its clock.
	giveUp := name + "-giveup"
	if _, held, err := k.ClaimCursor(ctx, giveUp, "a", t0, t0.Add(lease)); err != nil || !held {
		return fmt.Errorf("ClaimCursor(%q, \"a\") = %v, %v; want true, nil", giveUp, held, err)
	}
	if _, _, err := k.ClaimCursor(ctx, giveUp, "a", t0.Add(10*time.Second), t0.Add(10*time.Second)); err != nil {
		return fmt.Errorf("ClaimCursor(%q, \"a\", until = now) = %v; want nil (the lease given up)", giveUp, err)
	}
	if _, held, err := k.ClaimCursor(ctx, giveUp, "b", t0.Add(9*time.Second), t0.Add(39*time.Second)); err != nil || !held {
		return fmt.Errorf("ClaimCursor(%q, \"b\") a second before a gave the lease up by claiming with until = now = %v, %v; want true, nil (a lease given up is free whatever the claimant's clock)", giveUp, held, err)
	}
	// Claims are atomic: of owners claiming a free name at once, one holds
	// it. (Ten rounds, each on a name of its own, so that a busy machine
	// running the claims one after the other in one round does not hide
	// a race.)
	for round := range 10 {
		race := name + "-race" + strconv.Itoa(round)
		var held atomic.Int32
		if err := parallel(8, func(g int) error {
			_, h, err := k.ClaimCursor(ctx, race, "racer-"+strconv.Itoa(g), t0, t0.Add(lease))
			if h {
				held.Add(1)
			}
			return err
		}); err != nil {
			return fmt.Errorf("concurrent ClaimCursor = %v", err)
		}
		if n := held.Load(); n != 1 {
			return fmt.Errorf("8 owners claiming %q at once: %d were told they hold it; want 1", race, n)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := k.ClaimCursor(cctx, name+"-ctx", "a", t0, t0.Add(lease)); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("ClaimCursor with a cancelled context = %v; want the context's error", err)
	}
	if err := k.AdvanceCursor(cctx, name+"-race0", "racer-0", 1, t0, t0.Add(lease)); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("AdvanceCursor with a cancelled context = %v; want the context's error", err)
	}
	// Another name is another cursor.
	if c, held, err := k.ClaimCursor(ctx, name+"2", "b", t0, t0.Add(lease)); err != nil || c != 0 || !held {
		return fmt.Errorf("ClaimCursor of another name = %d, %v, %v; want 0, true, nil", c, held, err)
	}
	// An owner named "" is refused with an error, or holds a lease as any
	// other owner does: never taken for nobody.
	if _, held, err := k.ClaimCursor(ctx, name+"3", "", t0, t0.Add(lease)); err != nil {
		return nil // refused
	} else if !held {
		return fmt.Errorf(`ClaimCursor(%q, owner "") = %v, nil; want true (or an error refusing the owner "")`, name+"3", held)
	}
	if _, held, err := k.ClaimCursor(ctx, name+"3", "b", t0.Add(time.Second), t0.Add(lease)); err != nil || held {
		return fmt.Errorf(`ClaimCursor(%q, "b") while owner "" holds it = %v, %v; want false, nil`, name+"3", held, err)
	}
	return nil
}
