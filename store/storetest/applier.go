package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// The rules below apply to stores that have the optional
// [lifecycle.Applier] or [lifecycle.DueLister] capability; for other stores
// they pass trivially.

var errFromFn = errors.New("storetest: error returned by fn")

func applierOf(s lifecycle.Store) (lifecycle.Applier, bool) {
	a, ok := s.(lifecycle.Applier)
	return a, ok
}

// seenOf returns the set of these event IDs' keys.
func seenOf(ids ...string) lifecycle.EventSet {
	var s lifecycle.EventSet
	for _, id := range ids {
		s.Add(lifecycle.KeyOf(id))
	}
	return s
}

// withoutLogs returns a copy of c with History and Seen emptied, for
// comparing what an Applier's fn receives.
func withoutLogs(c *lifecycle.Customer) *lifecycle.Customer {
	out := c.Clone()
	out.History, out.Seen = nil, lifecycle.EventSet{}
	return out
}

// first returns c's first tally, adding one (of site visits) to a
// customer that has none: a fn may be called on a new customer first,
// even when one is stored (see [lifecycle.Applier]), so the rules' fns
// handle one.
func first(c *lifecycle.Customer) *lifecycle.Tally {
	if len(c.Facts.Tallies) == 0 {
		c.Facts.Tallies = []lifecycle.Tally{{Type: lifecycle.SiteVisited}}
	}
	return &c.Facts.Tallies[0]
}

// applyOne applies one write and returns its outcome.
func applyOne(ctx context.Context, a lifecycle.Applier, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	ws := []lifecycle.Write{{ID: id, Events: events, Fn: fn}}
	a.Apply(ctx, ws)
	return ws[0].Err
}

// applyRetry applies one write until it does not report a lost race (an
// Applier may check the version at commit and report ErrConflict).
func applyRetry(ctx context.Context, a lifecycle.Applier, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	for refused := 0; ; refused++ {
		err := applyOne(ctx, a, id, events, fn)
		if !errors.Is(err, lifecycle.ErrConflict) || ctx.Err() != nil {
			return refusedFor(err, refused)
		}
	}
}

// refusedFor explains an error that ended a rule's retries: when the
// rule's time ran out after writes refused as lost races, it says so.
func refusedFor(err error, refused int) error {
	if refused == 0 || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w, after %d writes in a row refused as lost races (ErrConflict): a store that refuses a write must let a retry succeed (see lifecycle.Applier)", err, refused)
}

func applyNew(ctx context.Context, s lifecycle.Store, p string) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	id := p + "an"
	calls := 0
	err := applyOne(ctx, a, id, []string{"x1", "x2"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		calls++
		if c.ID != id || c.Version != 0 || c.Stage != "" || len(c.History) != 0 || c.Facts.Events() != 0 || !slices.Equal(seen, []bool{false, false}) {
			return false, fmt.Errorf("Apply to a missing customer gave fn %+v, seen %v; want a zero Customer with ID %q, seen [false false]", c, seen, id)
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("Apply(missing, fn reports no change) = %v", err)
	}
	if calls == 0 {
		return errors.New("Apply to a missing customer never called fn; want it called")
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("Apply whose fn reported no change stored a customer (Get = %v)", err)
	}
	want := withOffsets(sample(id, 0)) // times come back with their offsets, as from Put
	want.Seen = seenOf("x1", "x2")
	err = applyRetry(ctx, a, id, []string{"x1", "x2"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		withoutLogs(want).CopyTo(c)
		c.History = append(c.History, want.History...)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("Apply(missing, fn inserts) = %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after an inserting Apply = %v", err)
	}
	if err := same(want, got); err != nil {
		return fmt.Errorf("after an inserting Apply (History appended, x1 and x2 seen): %w", err)
	}
	if !got.HasSeen("x1") || !got.HasSeen("x2") || got.HasSeen("x3") {
		return fmt.Errorf("after Apply(x1, x2), HasSeen = %v, %v, %v for x1, x2, x3; want true, true, false", got.HasSeen("x1"), got.HasSeen("x2"), got.HasSeen("x3"))
	}
	// The customer written is w.ID's, whatever fn does to c.ID.
	id2, other := p+"an-id", p+"an-other"
	err = applyRetry(ctx, a, id2, []string{"y1"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		withoutLogs(sample(id2, 0)).CopyTo(c)
		c.ID = other
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("Apply(%q, fn sets c.ID to %q) = %v", id2, other, err)
	}
	if got, err := s.Get(ctx, id2); err != nil || got.ID != id2 {
		return fmt.Errorf("after Apply(%q) whose fn set c.ID to %q, Get(%q) = %v, %v; want the customer written, with ID %q (a store keeps w.ID)", id2, other, id2, got, err, id2)
	}
	if _, err := s.Get(ctx, other); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("after Apply(%q) whose fn set c.ID to %q, Get(%q) = %v; want ErrNotFound (a store keeps w.ID)", id2, other, other, err)
	}
	return nil
}

func applyExisting(ctx context.Context, s lifecycle.Store, p string) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	id := p + "ae"
	stored := sample(id, 0) // e1, e2, e3 seen
	if err := s.Put(ctx, sample(id, 0), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	// Events already applied: fn is told so, and a no-change fn stores
	// nothing.
	// (fn may be called more than once; the last call is the one given
	// the stored customer.)
	var fnErr error
	calls := 0
	err := applyOne(ctx, a, id, []string{"e2", "new", "e3"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		calls++
		fnErr = nil
		switch {
		case !slices.Equal(seen, []bool{true, false, true}):
			fnErr = fmt.Errorf("seen = %v for events e2, new, e3; want [true false true] (e2 and e3 were put in Seen)", seen)
		case len(c.History) != 0 && len(c.History) != len(stored.History):
			fnErr = fmt.Errorf("fn was given %d transitions; want none or the %d stored", len(c.History), len(stored.History))
		default:
			if err := same(withoutLogs(stored), withoutLogs(c)); err != nil {
				fnErr = fmt.Errorf("fn was not given the stored customer: %w", err)
			}
		}
		c.Stage = "changed but not reported" // must not be stored
		return false, nil
	})
	if err != nil || fnErr != nil {
		return fmt.Errorf("Apply(existing, seen events) = %v; %v", err, fnErr)
	}
	if calls == 0 {
		return errors.New("Apply(existing, seen events) never called fn; want it called")
	}
	if got, err := s.Get(ctx, id); err != nil || same(stored, got) != nil {
		return fmt.Errorf("Apply whose fn reported no change changed the customer (Get = %s, %v)", brief(got), err)
	}
	// A new event: committed with the appended transition.
	tr := lifecycle.Transition{From: stored.Stage, To: "loyalty", At: stored.AsOf.Add(time.Hour), Cause: "e4"}
	err = applyRetry(ctx, a, id, []string{"e4"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		fnErr = nil
		if seen[0] {
			fnErr = errors.New("seen is true for e4, which was never applied")
		}
		c.Stage, c.Since = tr.To, tr.At
		c.History = append(c.History, tr)
		first(c).Count++
		c.Due = tr.At.Add(24 * time.Hour)
		c.Version++
		return true, nil
	})
	if err != nil || fnErr != nil {
		return fmt.Errorf("Apply(existing, new event) = %v; %v", err, fnErr)
	}
	stored.Stage, stored.Since, stored.Version = tr.To, tr.At, 2
	stored.History = append(stored.History, tr)
	stored.Facts.Tallies[0].Count++
	stored.Due = tr.At.Add(24 * time.Hour)
	stored.Seen.Add(lifecycle.KeyOf("e4"))
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after Apply = %v", err)
	}
	if err := same(stored, got); err != nil {
		return fmt.Errorf("after Apply (transition appended, e4 seen): %w", err)
	}
	// No events (a sweep, a credit): the customer alone is written.
	err = applyRetry(ctx, a, id, nil, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		fnErr = nil
		if len(seen) != 0 {
			fnErr = fmt.Errorf("Apply with no events gave fn seen %v; want empty", seen)
		}
		c.AsOf = c.AsOf.Add(time.Hour)
		c.Version++
		return true, nil
	})
	if err != nil || fnErr != nil {
		return fmt.Errorf("Apply(existing, no events) = %v; %v", err, fnErr)
	}
	stored.AsOf, stored.Version = stored.AsOf.Add(time.Hour), 3
	if got, err := s.Get(ctx, id); err != nil || same(stored, got) != nil {
		return fmt.Errorf("after Apply with no events: Get = %v; %v", err, same(stored, got))
	}
	// An error from fn is returned and nothing is stored.
	err = applyOne(ctx, a, id, []string{"e5"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.Version++
		c.History = append(c.History, tr)
		return true, errFromFn
	})
	if err != errFromFn { //nolint:errorlint // the rule: fn's error as is, not wrapped
		return fmt.Errorf("Apply whose fn failed = %v; want fn's error as is (not wrapped)", err)
	}
	if got, err := s.Get(ctx, id); err != nil || same(stored, got) != nil || got.HasSeen("e5") {
		return fmt.Errorf("Apply whose fn failed changed the customer (Get = %s, %v)", brief(got), err)
	}
	// The versions agree with Put.
	next := stored.Clone()
	next.Version = 4
	if err := s.Put(ctx, next, 3); err != nil {
		return fmt.Errorf("Put(prev 3) after Apply to version 3 = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	if err := applyOne(cctx, a, id, []string{"e6"}, func(*lifecycle.Customer, []bool) (bool, error) { called = true; return false, nil }); !errors.Is(err, context.Canceled) || called {
		return fmt.Errorf("Apply with a cancelled context = %v (fn called: %v); want the context's error and no call", err, called)
	}
	// Only what fn appends to History is added to the stored history:
	// what it does to the transitions it was given (if the store gives
	// it the stored ones) is not stored.
	before, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	added := lifecycle.Transition{From: before.Stage, To: "loyalty", At: before.AsOf, Cause: "e7"}
	if err := applyRetry(ctx, a, id, []string{"e7"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		if len(c.History) > 0 {
			c.History[0].To = "edited"
		}
		c.History = append(c.History, added)
		c.Stage, c.Version = "loyalty", c.Version+1
		return true, nil
	}); err != nil {
		return fmt.Errorf("Apply appending a transition = %v", err)
	}
	after, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	want := append(slices.Clone(before.History), added)
	if len(after.History) != len(want) || after.History[0].To != want[0].To || after.History[len(want)-1].Cause != "e7" {
		return fmt.Errorf("after an Apply whose fn edited the History it was given and appended one transition, the stored history has %d transitions, the first to %q; want the %d stored before (the first to %q) and the one appended", len(after.History), firstTo(after.History), len(want), want[0].To)
	}
	// An event recorded before schema 3, whose key in Seen is its legacy
	// key (lifecycle.LegacyKeyOf), is seen too.
	legacy := sample(p+"ae-legacy", 0)
	legacy.Seen.Set([]lifecycle.EventKey{lifecycle.LegacyKeyOf("old"), lifecycle.KeyOf("e1")})
	if err := s.Put(ctx, legacy, 0); err != nil {
		return fmt.Errorf("Put(customer with a legacy key in Seen) = %v", err)
	}
	fnErr = nil
	err = applyOne(ctx, a, legacy.ID, []string{"old", "fresh", "e1"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		fnErr = nil
		if !slices.Equal(seen, []bool{true, false, true}) {
			fnErr = fmt.Errorf("seen = %v for events old (a legacy key in Seen), fresh, e1; want [true false true]", seen)
		}
		return false, nil
	})
	if err != nil || fnErr != nil {
		return fmt.Errorf("Apply(events of a customer with a legacy key) = %v; %v", err, fnErr)
	}
	return nil
}

// firstTo returns the stage the first transition of h goes to, or "".
func firstTo(h []lifecycle.Transition) stage.ID {
	if len(h) == 0 {
		return ""
	}
	return h[0].To
}

func applyExclusive(ctx context.Context, s lifecycle.Store, p string) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	got, err := raceWithIncrements(ctx, s, p+"ax", "Apply", func(id string, k int) error {
		ev := "race-" + strconv.Itoa(k)
		return applyRetry(ctx, a, id, []string{ev}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if seen[0] {
				return false, fmt.Errorf("event %s reported seen before it was applied", ev)
			}
			first(c).Count++
			c.Version++
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	const n = raceExclusiveWriters * raceEach
	if got.Seen.Len() != n {
		return fmt.Errorf("after %d Applies of distinct events, Seen holds %d; want %d", n, got.Seen.Len(), n)
	}
	for k := range n {
		if !got.HasSeen("race-" + strconv.Itoa(k)) {
			return fmt.Errorf("after %d Applies of distinct events, race-%d is not seen", n, k)
		}
	}
	return nil
}

// applyOnce races writers that all apply the same events to one
// customer: each event must be applied exactly once.
func applyOnce(ctx context.Context, s lifecycle.Store, p string) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	id := p + "a1"
	const events = 20
	err := parallel(raceExclusiveWriters, func(g int) error {
		for k := range events {
			ev := "same-" + strconv.Itoa((k+g)%events)
			err := applyRetry(ctx, a, id, []string{ev}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				if seen[0] {
					return false, nil
				}
				first(c).Count++
				c.Version++
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("concurrent Apply of the same events failed: %w", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	if got.Facts.Tallies[0].Count != events || got.Version != events || got.Seen.Len() != events {
		return fmt.Errorf("%d writers applied the same %d events: count %d, version %d, %d seen; want %d each (an event applied twice or lost)",
			raceExclusiveWriters, events, got.Facts.Tallies[0].Count, got.Version, got.Seen.Len(), events)
	}
	return nil
}

// applyMany checks one Apply of several writes: each gets its own seen
// flags and outcome, and only the writes that report a change are stored.
func applyMany(ctx context.Context, s lifecycle.Store, p string) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	old, fresh, failing, still, after := p+"m-old", p+"m-new", p+"m-fails", p+"m-still", p+"m-after"
	for _, id := range []string{old, failing, still} {
		if err := s.Put(ctx, sample(id, 0), 0); err != nil {
			return fmt.Errorf("Put(%q) = %v", id, err)
		}
	}
	bump := func(c *lifecycle.Customer, _ []bool) (bool, error) {
		first(c).Count++
		c.Version++
		return true, nil
	}
	// The fns that fail or report no change first change their copy's
	// facts in place, so that a working copy sharing its slices with the
	// stored customer is caught.
	spoil := func(c *lifecycle.Customer) {
		if t := first(c); t != nil {
			t.Count += 100
		}
		for i := range c.Facts.Sums {
			c.Facts.Sums[i].Amount++
		}
	}
	var seenOld, seenNew []bool
	ws := []lifecycle.Write{
		{ID: old, Events: []string{"e1", "m1"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			seenOld = slices.Clone(seen)
			return bump(c, seen)
		}},
		{ID: fresh, Events: []string{"e1"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			seenNew = slices.Clone(seen)
			withoutLogs(sample(fresh, 0)).CopyTo(c)
			return true, nil
		}},
		{ID: failing, Events: []string{"m2"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			spoil(c)
			c.Version++
			return true, errFromFn
		}},
		{ID: still, Events: []string{"m3"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			spoil(c)
			return false, nil
		}},
		// A write after the one that failed is applied too, or gets an
		// error of its own: never a nil Err without effect.
		{ID: after, Events: []string{"m4"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			withoutLogs(sample(after, 0)).CopyTo(c)
			return true, nil
		}},
	}
	a.Apply(ctx, ws)
	if !errors.Is(ws[2].Err, errFromFn) {
		return fmt.Errorf("Apply of 5 writes set the failing write's Err to %v; want fn's error", ws[2].Err)
	}
	// Writes may succeed or fail separately, or together: a write with an
	// error must have changed nothing, and one without must be stored.
	if ws[0].Err == nil && !slices.Equal(seenOld, []bool{true, false}) || ws[1].Err == nil && !slices.Equal(seenNew, []bool{false}) {
		return fmt.Errorf("Apply of 5 writes gave seen %v (stored customer, events e1, m1) and %v (new customer, e1); want [true false] and [false]: seen flags are per customer", seenOld, seenNew)
	}
	got, err := s.Get(ctx, old)
	switch {
	case ws[0].Err == nil && (err != nil || got.Version != 2 || got.Facts.Tallies[0].Count != sample(old, 0).Facts.Tallies[0].Count+1 || !got.HasSeen("m1")):
		return fmt.Errorf("after Apply, the written customer is %s, %v; want version 2, one more order, m1 seen", brief(got), err)
	case ws[0].Err != nil && (err != nil || same(sample(old, 0), got) != nil):
		return fmt.Errorf("after Apply, the customer whose write failed (%v) is %s, %v; want it unchanged", ws[0].Err, brief(got), err)
	}
	for _, w := range []struct {
		k  int
		id string
		ev string
	}{{1, fresh, "e1"}, {4, after, "m4"}} {
		got, err := s.Get(ctx, w.id)
		switch {
		case ws[w.k].Err == nil && (err != nil || !got.HasSeen(w.ev) || got.Version != 1):
			return fmt.Errorf("after Apply, new customer %q (write %d of 5, Err nil) is %s, %v; want version 1, %s seen: a write whose Err is nil took effect", w.id, w.k+1, brief(got), err, w.ev)
		case ws[w.k].Err != nil && !errors.Is(err, lifecycle.ErrNotFound):
			return fmt.Errorf("after Apply, new customer %q (write %d of 5, Err %v) is %s, %v; want it not stored", w.id, w.k+1, ws[w.k].Err, brief(got), err)
		}
	}
	for _, id := range []string{failing, still} {
		got, err := s.Get(ctx, id)
		if err != nil || same(sample(id, 0), got) != nil {
			return fmt.Errorf("after Apply, customer %q whose fn failed or reported no change changed: %v; %v (is the working copy fn gets a deep copy? fn changed its facts in place)", id, err, same(sample(id, 0), got))
		}
	}
	return nil
}

// applyManyOnce races writers that each apply the same events to the
// same customers, several customers per Apply: each event is applied
// exactly once.
func applyManyOnce(ctx context.Context, s lifecycle.Store, p string) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	const customers, events = 5, 12
	err := parallel(4, func(g int) error {
		for k := range events {
			ev := "same-" + strconv.Itoa((k+g)%events)
			ws := make([]lifecycle.Write, 0, customers)
			for c := range customers {
				ws = append(ws, lifecycle.Write{ID: p + "mo" + strconv.Itoa(c), Events: []string{ev}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
					if seen[0] {
						return false, nil
					}
					first(c).Count++
					c.Version++
					return true, nil
				}})
			}
			for refused := 0; len(ws) > 0; refused++ {
				a.Apply(ctx, ws)
				next := ws[:0]
				for _, w := range ws {
					switch {
					case errors.Is(w.Err, lifecycle.ErrConflict):
						w.Err = nil
						next = append(next, w)
					case w.Err != nil:
						return refusedFor(w.Err, refused)
					}
				}
				ws = next
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("concurrent Applies of several customers failed: %w", err)
	}
	for c := range customers {
		id := p + "mo" + strconv.Itoa(c)
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) = %v", id, err)
		}
		if got.Facts.Tallies[0].Count != events || got.Version != events || got.Seen.Len() != events {
			return fmt.Errorf("4 writers applied the same %d events to %q, several customers per Apply: count %d, version %d, %d seen; want %d each", events, id, got.Facts.Tallies[0].Count, got.Version, got.Seen.Len(), events)
		}
	}
	return nil
}

// listDue checks a [lifecycle.DueLister]: every customer whose Due is zero
// or at or before now is listed, and no other but one due less than a
// second after now (see early).
func listDue(ctx context.Context, s lifecycle.Store, p string) error {
	d, ok := s.(lifecycle.DueLister)
	if !ok {
		return nil
	}
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	dues, want := dueCases(p+"due-", t0)
	for _, id := range slices.Sorted(maps.Keys(dues)) {
		due := dues[id]
		c := sample(id, 0)
		c.Due = due
		if err := s.Put(ctx, c, 0); err != nil {
			return fmt.Errorf("Put(%q, Due %v) = %v", id, due, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil || same(c, got) != nil {
			return fmt.Errorf("Get(%q) after Put with Due %v = %v; %v", id, due, err, same(c, got))
		}
	}
	listed, err := listedDue(ctx, d, t0, p)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(dues)) {
		if listed[id] != want[id] && !early(dues[id], t0) {
			return fmt.Errorf("ListDue(%v): customer %q with Due %v listed = %v; want %v", t0, id, dues[id], listed[id], want[id])
		}
	}
	// The loop body may write the customer it was given.
	n := 0
	for id, err := range d.ListDue(ctx, t0) {
		if err != nil {
			return fmt.Errorf("ListDue yielded %v", err)
		}
		if id != p+"due-past" {
			continue
		}
		c, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) inside ListDue = %v", id, err)
		}
		c.Due = lifecycle.Never
		c.Version++
		if err := s.Put(ctx, c, c.Version-1); err != nil {
			return fmt.Errorf("Put(%q) inside ListDue = %v", id, err)
		}
		n++
	}
	if n != 1 {
		return fmt.Errorf("ListDue yielded %q %d times while it was written; want once", p+"due-past", n)
	}
	for id, err := range d.ListDue(ctx, t0) {
		if err != nil {
			return fmt.Errorf("ListDue yielded %v", err)
		}
		if id == p+"due-past" {
			return fmt.Errorf("ListDue still yields %q after its Due became Never", id)
		}
	}
	if err := listDueApplied(ctx, s, d, p, t0); err != nil {
		return err
	}
	// More than a page of due customers (a store that lists in pages must
	// go on to the next): more than two of sqlstore's default pages.
	const many = 600
	for i := range many {
		c := sample(p+"many-"+strconv.Itoa(i), i)
		c.Due = t0.Add(-time.Duration(i) * time.Second)
		if err := s.Put(ctx, c, 0); err != nil {
			return fmt.Errorf("Put(%q) = %v", c.ID, err)
		}
	}
	listed, err = listedDue(ctx, d, t0, p+"many-")
	if err != nil {
		return err
	}
	if len(listed) != many {
		return fmt.Errorf("ListDue(%v) yielded %d of %d due customers (due from %v to %v): it must list all of them, page after page", t0, len(listed), many, t0.Add(-(many-1)*time.Second), t0)
	}
	// Again, with a loop body that writes each customer yielded so that it
	// is no longer due, as a sweep does: every one of them is still
	// yielded (a store paging by an offset into the due set skips those
	// the writes take out of it).
	yielded := map[string]bool{}
	for id, err := range d.ListDue(ctx, t0) {
		if err != nil {
			return fmt.Errorf("ListDue(%v) with a body that writes yielded %v", t0, err)
		}
		if !strings.HasPrefix(id, p+"many-") || yielded[id] {
			continue
		}
		yielded[id] = true
		c, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) in ListDue's loop body = %v", id, err)
		}
		prev := c.Version
		c.Version, c.Due = prev+1, lifecycle.Never
		if err := s.Put(ctx, c, prev); err != nil {
			return fmt.Errorf("Put(%q) in ListDue's loop body = %v", id, err)
		}
	}
	if len(yielded) != many {
		return fmt.Errorf("ListDue(%v), whose loop body made each customer yielded due Never, yielded %d of %d due customers: it must list every customer due when it began, whatever the body writes (does it page by an offset into a due set the writes shrink?)", t0, len(yielded), many)
	}
	// A now and due times that are not whole seconds, milliseconds or
	// microseconds: a store that rounds a due time up (to the microsecond
	// of a timestamp column, say) lists its customer late.
	t1 := t0.Add(time.Hour + 123456789*time.Nanosecond)
	fine := map[string]time.Time{}
	for _, before := range []time.Duration{0, 1, 499, 501, 999, 123*time.Microsecond + 1, 456 * time.Millisecond} {
		c := sample(p+"fine-"+strconv.FormatInt(int64(before), 10), 0)
		c.Due = t1.Add(-before)
		if err := s.Put(ctx, c, 0); err != nil {
			return fmt.Errorf("Put(%q) = %v", c.ID, err)
		}
		fine[c.ID] = c.Due
	}
	listed, err = listedDue(ctx, d, t1, p+"fine-")
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(fine)) {
		due := fine[id]
		if !listed[id] {
			return fmt.Errorf("ListDue(%v) did not list %q, due at %v: a store must never list a customer late (was its due time rounded up?)", t1.Format(time.RFC3339Nano), id, due.Format(time.RFC3339Nano))
		}
	}
	// Due times past what int64 nanoseconds since 1970 hold (2262): a
	// customer due in 2300 or 5000 is listed once now passes its due time
	// (an index of such nanoseconds cannot hold them). One due Never is
	// not listed before 2262; at a now past it, an index that holds due
	// times past 2262 as its last nanosecond lists it early, which the
	// contract allows, as it allows leaving it out.
	far := map[string]time.Time{
		p + "far-2300":  time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		p + "far-5000":  time.Date(5000, 6, 1, 0, 0, 0, 1, time.UTC),
		p + "far-never": lifecycle.Never,
	}
	for _, id := range slices.Sorted(maps.Keys(far)) {
		due := far[id]
		c := sample(id, 0)
		c.Due = due
		if err := s.Put(ctx, c, 0); err != nil {
			return fmt.Errorf("Put(%q) = %v", id, err)
		}
	}
	t9 := time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
	listed, err = listedDue(ctx, d, t9, p+"far-")
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(far)) {
		due := far[id]
		if due != lifecycle.Never && !listed[id] {
			return fmt.Errorf("ListDue(%v) did not list %q, due at %v: a due time past 2262 must be listed once now passes it", t9.Format(time.RFC3339), id, due.Format(time.RFC3339Nano))
		}
	}
	listed, err = listedDue(ctx, d, t0, p+"far-")
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(far)) {
		due := far[id]
		if listed[id] {
			return fmt.Errorf("ListDue(%v) listed %q, due at %v: not due yet, and past 2262, where an index may hold it as 2262's last nanosecond, but now is before that", t0.Format(time.RFC3339), id, due.Format(time.RFC3339Nano))
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range d.ListDue(cctx, t0) {
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("ListDue with a cancelled context yielded %v; want the context's error", err)
		}
		return nil
	}
	return errors.New("ListDue with a cancelled context yielded nothing; want the context's error")
}

// listedDue returns the IDs under prefix p that d.ListDue(ctx, now)
// yields, or an error for a failure or an ID yielded twice.
func listedDue(ctx context.Context, d lifecycle.DueLister, now time.Time, p string) (map[string]bool, error) {
	listed := map[string]bool{}
	for id, err := range d.ListDue(ctx, now) {
		if err != nil {
			return nil, fmt.Errorf("ListDue(%v) yielded %v", now, err)
		}
		if !strings.HasPrefix(id, p) {
			continue // another rule's customer
		}
		if listed[id] {
			return nil, fmt.Errorf("ListDue(%v) yielded %q twice", now, id)
		}
		listed[id] = true
	}
	return listed, nil
}

// dueCases returns customers' due times around t0, by ID (prefix and
// what the due time is), and which a listing at t0 yields.
func dueCases(prefix string, t0 time.Time) (map[string]time.Time, map[string]bool) {
	dues := map[string]time.Time{
		prefix + "zero":   {},
		prefix + "past":   t0.Add(-time.Hour),
		prefix + "1965":   time.Date(1965, 3, 4, 5, 6, 7, 8, time.UTC),
		prefix + "now":    t0,
		prefix + "later":  t0.Add(time.Nanosecond), // may be listed: see listDue
		prefix + "second": t0.Add(time.Second),     // not: a second early is too early
		prefix + "1.5s":   t0.Add(1500 * time.Millisecond),
		prefix + "5000":   time.Date(5000, 1, 1, 0, 0, 0, 0, time.UTC),
		prefix + "never":  lifecycle.Never,
		prefix + "offset": t0.Add(-time.Minute).In(time.FixedZone("X", -5*3600)),
		// The same instant is compared, not the wall clock: +05:00 puts
		// this one's wall clock after t0's, and later-east's before it.
		prefix + "east":       t0.Add(-time.Minute).In(time.FixedZone("Y", 5*3600)),
		prefix + "later-west": t0.Add(time.Minute).In(time.FixedZone("Z", -5*3600)),
	}
	want := map[string]bool{prefix + "zero": true, prefix + "past": true, prefix + "1965": true, prefix + "now": true,
		prefix + "offset": true, prefix + "east": true}
	return dues, want
}

// early reports whether a customer due at due may be listed at now
// although it is not due yet: one due less than a second later, which an
// index that rounds due times down to whole seconds lists (the
// latitude [lifecycle.DueLister] gives).
func early(due, now time.Time) bool {
	return due.After(now) && due.Sub(now) < time.Second
}

// listDueApplied checks, for a store that is also an Applier, that the
// due times Apply writes are listed as Put's are (the Tracker writes
// through Apply only): customers created through Apply with one Due, then
// moved through Apply to another, are listed by the Due they have now.
func listDueApplied(ctx context.Context, s lifecycle.Store, d lifecycle.DueLister, p string, t0 time.Time) error {
	a, ok := applierOf(s)
	if !ok {
		return nil
	}
	dues, want := dueCases(p+"adue-", t0)
	setDue := func(due time.Time, id string, n int) func(c *lifecycle.Customer, _ []bool) (bool, error) {
		return func(c *lifecycle.Customer, _ []bool) (bool, error) {
			if c.Version == 0 {
				sample(id, 0).CopyTo(c)
				c.Version, c.History, c.Seen = 0, nil, lifecycle.EventSet{} // fn adds no transition; the store keeps the events' keys
			}
			c.Due = due
			c.Version++
			c.Facts.Tallies[0].Count = int64(n)
			return true, nil
		}
	}
	// check compares the listing with want; at is the customers' due
	// times, for the latitude of early.
	check := func(phase string, want map[string]bool, at map[string]time.Time) error {
		listed, err := listedDue(ctx, d, t0, p)
		if err != nil {
			return err
		}
		for _, id := range slices.Sorted(maps.Keys(dues)) {
			if listed[id] != want[id] && !early(at[id], t0) {
				return fmt.Errorf("ListDue(%v) %s: customer %q listed = %v; want %v (Apply must keep the due times ListDue reads, as Put does)", t0, phase, id, listed[id], want[id])
			}
		}
		return nil
	}
	// Created through Apply with the opposite of what they will have.
	inverse, firsts := map[string]bool{}, map[string]time.Time{}
	for _, id := range slices.Sorted(maps.Keys(dues)) {
		first := lifecycle.Never
		if !want[id] {
			first = t0.Add(-2 * time.Hour)
		}
		inverse[id], firsts[id] = !want[id], first
		if err := applyRetry(ctx, a, id, []string{"d1"}, setDue(first, id, 1)); err != nil {
			return fmt.Errorf("Apply(%q, Due %v) = %v", id, first, err)
		}
	}
	if err := check("after Apply created the customers", inverse, firsts); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(dues)) {
		due := dues[id]
		if err := applyRetry(ctx, a, id, []string{"d2"}, setDue(due, id, 2)); err != nil {
			return fmt.Errorf("Apply(%q, Due %v) = %v", id, due, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil || !got.Due.Equal(due) {
			return fmt.Errorf("Get(%q) after Apply set Due %v = %v, %v", id, due, got, err)
		}
	}
	return check("after Apply moved their due times", want, dues)
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
	base.Seen = lifecycle.EventSet{}
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

// brief describes a customer in one line for an error message: its ID,
// version, stage, event count and history length, not the whole struct.
func brief(c *lifecycle.Customer) string {
	if c == nil {
		return "nil"
	}
	return fmt.Sprintf("customer %q (version %d, stage %q, %d events, %d seen, %d transitions)", c.ID, c.Version, c.Stage, c.Facts.Events(), c.Seen.Len(), len(c.History))
}
