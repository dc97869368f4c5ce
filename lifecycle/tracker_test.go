package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// farFuture is the tests' clock: no test event is from the future.
var farFuture = t0.AddDate(20, 0, 0)

func newTracker(t testing.TB, opts ...lifecycle.Option) *lifecycle.Tracker {
	t.Helper()
	return newTrackerOn(store.NewMemory(), opts...)
}

func newTrackerOn(s lifecycle.Store, opts ...lifecycle.Option) *lifecycle.Tracker {
	opts = append([]lifecycle.Option{lifecycle.WithClock(func() time.Time { return farFuture })}, opts...)
	return lifecycle.NewTracker(model.SterneCutler(), s, opts...)
}

// plainStore hides a store's optional capabilities (Loader, Applier,
// DueLister), so the Tracker takes its fallback: Get, fold, compare-and-swap
// Put, and Sweep through Scan.
type plainStore struct{ s lifecycle.Store }

func (p plainStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return p.s.Get(ctx, id)
}
func (p plainStore) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	return p.s.Put(ctx, c, prev)
}
func (p plainStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return p.s.Scan(ctx)
}

// applierOnly hides a store's capabilities but Applier (no Loader, no
// DueLister), so the Tracker writes every event through Apply and sweeps
// through Scan (as with a third-party store that implements Applier but
// keeps no index of due times).
type applierOnly struct {
	plainStore
	a lifecycle.Applier
}

func (a applierOnly) Apply(ctx context.Context, ws []lifecycle.Write) {
	a.a.Apply(ctx, ws)
}

func newApplierOnly(m *store.Memory) applierOnly { return applierOnly{plainStore{m}, m} }

// casApplier is an Applier built the other way the Applier rules allow:
// optimistically, over a plain store's Get and compare-and-swap Put, as a
// SQL store without row locks would do it. fn gets the whole stored
// history (the store's choice) and a Seen it must not rely on (emptied,
// as the rules leave it unspecified); a lost race stores nothing and
// reports ErrConflict, and the Tracker calls Apply again. It has no
// Loader and no DueLister. applies counts the calls.
// Every write of a call fails when the Tracker passes writes against the
// Applier rules (a customer twice in one call, an event ID twice in one
// write, or a referral credit's); each write then succeeds or fails on
// its own.
type casApplier struct {
	plainStore
	applies *atomic.Int64
}

func newCASApplier(m *store.Memory) casApplier {
	return casApplier{plainStore{m}, new(atomic.Int64)}
}

func (a casApplier) Apply(ctx context.Context, ws []lifecycle.Write) {
	a.applies.Add(1)
	for i := range ws {
		if slices.ContainsFunc(ws[:i], func(w lifecycle.Write) bool { return w.ID == ws[i].ID }) {
			for j := range ws {
				ws[j].Err = fmt.Errorf("casApplier: the Tracker passed customer %q twice in one Apply, against the Applier rules", ws[i].ID)
			}
			return
		}
	}
	for i := range ws {
		ws[i].Err = a.apply(ctx, ws[i].ID, ws[i].Events, ws[i].Fn)
	}
}

// apply is Apply for one write.
func (a casApplier) apply(ctx context.Context, id string, events []string, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) error {
	// The Tracker's side of the Applier rules: distinct IDs, and never a
	// referral credit's (no test event but a credit has its prefix).
	for i, e := range events {
		if slices.Contains(events[:i], e) || strings.HasPrefix(e, lifecycle.ReferralEventID("")) {
			return fmt.Errorf("casApplier: the Tracker passed events %q, against the Applier rules", events)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := a.s.Get(ctx, id)
	switch {
	case errors.Is(err, lifecycle.ErrNotFound):
		c = &lifecycle.Customer{ID: id}
	case err != nil:
		return err
	}
	seen := make([]bool, len(events))
	for i, e := range events {
		seen[i] = c.Seen.Has(e)
	}
	keys := slices.Collect(c.Seen.All())
	hist := slices.Clone(c.History)
	prev := c.Version
	c.Seen = lifecycle.EventSet{} // unspecified for fn
	changed, err := fn(c, seen)
	if err != nil || !changed {
		return err
	}
	if len(c.History) < len(hist) {
		return fmt.Errorf("casApplier: fn shortened the history from %d to %d", len(hist), len(c.History))
	}
	c.History = append(hist, c.History[len(hist):]...)
	for i, e := range events {
		if !seen[i] {
			keys = append(keys, lifecycle.KeyOf(e))
		}
	}
	c.Seen.Set(keys)
	c.ID = id
	return a.s.Put(ctx, c, prev) // a lost race: *store.ConflictError, wrapping ErrConflict
}

var (
	_ lifecycle.Applier = applierOnly{}
	_ lifecycle.Applier = casApplier{}
)

// storePaths are the Tracker's write paths, each with a constructor of a
// fresh store: Memory itself (Apply, ListDue, Load), Memory's Apply alone
// (Sweep through Scan), an optimistic Applier over Get and Put, and the
// fallback for a plain Store (Get, compare-and-swap Put, Scan).
var storePaths = []struct {
	name string
	new  func() lifecycle.Store
}{
	{"applier", func() lifecycle.Store { return store.NewMemory() }},
	{"applier-scan", func() lifecycle.Store { return newApplierOnly(store.NewMemory()) }},
	{"cas-applier", func() lifecycle.Store { return newCASApplier(store.NewMemory()) }},
	{"get-put", func() lifecycle.Store { return plainStore{store.NewMemory()} }},
}

// stores runs f with each kind of store path the Tracker has.
func stores(t *testing.T, f func(t *testing.T, newStore func() lifecycle.Store)) {
	for _, p := range storePaths {
		t.Run(p.name, func(t *testing.T) { f(t, p.new) })
	}
}

// noSchedule hides the Scheduler capability of a model (Sterne–Cutler
// has it): every customer is due at every sweep, as with a model that
// cannot tell when time alone moves a customer.
type noSchedule struct{ lifecycle.Model }

func ev(id, cust string, typ lifecycle.EventType, at time.Time) lifecycle.Event {
	return lifecycle.Event{ID: id, CustomerID: cust, Type: typ, Time: at}
}

func order(id, cust string, at time.Time, amt int64) lifecycle.Event {
	return lifecycle.Event{ID: id, CustomerID: cust, Type: lifecycle.OrderCompleted, Time: at, Amount: amt, Currency: "EUR"}
}

func TestRecordDuplicates(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		tr := newTrackerOn(newStore())
		first, err := tr.Record(ctx, order("o1", "c1", t0, 100))
		require.NoError(t, err)
		want := lifecycle.Result{EventID: "o1", CustomerID: "c1", From: "", To: model.Conversion, Moved: true, Version: 1}
		if diff := cmp.Diff(want, first); diff != "" {
			t.Errorf("first Record (-want +got):\n%s", diff)
		}
		// The same ID again, even with other content, is a duplicate.
		for _, e := range []lifecycle.Event{order("o1", "c1", t0, 100), order("o1", "c1", t0.Add(time.Hour), 999)} {
			res, err := tr.Record(ctx, e)
			require.NoError(t, err)
			want := lifecycle.Result{EventID: "o1", CustomerID: "c1", Duplicate: true, From: model.Conversion, To: model.Conversion, Version: 1}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("duplicate Record (-want +got):\n%s", diff)
			}
		}
		c, err := tr.Customer(ctx, "c1")
		require.NoError(t, err)
		if c.Facts.Count(lifecycle.OrderCompleted) != 1 || c.Facts.Revenue("EUR") != 100 || c.Version != 1 || !c.HasSeen("o1") {
			t.Errorf("after duplicates: %+v", c)
		}
		// The same event ID for another customer is a different event.
		res, err := tr.Record(ctx, order("o1", "c2", t0, 100))
		require.NoError(t, err)
		if res.Duplicate {
			t.Error("an event ID of another customer counted as a duplicate")
		}
	})
}

func TestRecordInvalid(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	tr := newTrackerOn(s)
	e := order("o1", "c1", t0, -5)
	_, err := tr.Record(ctx, e)
	checkField(t, err, "amount")
	if s.Len() != 0 {
		t.Fatal("an invalid event created a customer")
	}
}

func TestRecordBatch(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		t.Run("invalid event applies nothing", func(t *testing.T) {
			s := newStore()
			tr := newTrackerOn(s)
			batch := []lifecycle.Event{order("o1", "c1", t0, 100), ev("v1", "c2", lifecycle.SiteVisited, t0), order("o2", "c1", t0, 5)}
			batch[2].Currency = ""
			res, err := tr.RecordBatch(ctx, batch)
			require.Error(t, err)
			require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
			require.Contains(t, err.Error(), "event 2")
			require.Len(t, res, 3)
			if res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, lifecycle.ErrInvalidEvent) {
				t.Errorf("result errors: %v, %v, %v", res[0].Err, res[1].Err, res[2].Err)
			}
			for _, id := range []string{"c1", "c2"} {
				if _, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
					t.Errorf("customer %s was stored by a batch holding an invalid event: %v", id, err)
				}
			}
		})
		t.Run("grouped per customer with duplicates", func(t *testing.T) {
			tr := newTrackerOn(newStore())
			batch := []lifecycle.Event{
				ev("v1", "c1", lifecycle.SiteVisited, t0),
				ev("v1", "c2", lifecycle.SiteVisited, t0),
				order("o1", "c1", t0.Add(time.Hour), 100),
				order("o1", "c1", t0.Add(time.Hour), 100),
				order("o2", "c1", t0.Add(2*time.Hour), 100),
			}
			res, err := tr.RecordBatch(ctx, batch)
			require.NoError(t, err)
			dups := []bool{false, false, false, true, false}
			for i, r := range res {
				if r.Duplicate != dups[i] || r.Err != nil || r.EventID != batch[i].ID || r.CustomerID != batch[i].CustomerID {
					t.Errorf("result %d: %+v", i, r)
				}
			}
			// One write per customer: both have version 1.
			if res[0].Version != 1 || res[4].Version != 1 || res[1].Version != 1 {
				t.Errorf("versions %d %d %d, want 1 (one write per customer)", res[0].Version, res[4].Version, res[1].Version)
			}
			c1, err := tr.Customer(ctx, "c1")
			require.NoError(t, err)
			if c1.Stage != model.Retention || c1.Facts.Orders() != 2 || len(c1.History) != 3 {
				t.Errorf("c1 = %s, %d orders, history %v", c1.Stage, c1.Facts.Orders(), c1.History)
			}
			// Retrying the whole batch changes nothing.
			res, err = tr.RecordBatch(ctx, batch)
			require.NoError(t, err)
			for i, r := range res {
				if !r.Duplicate {
					t.Errorf("retried batch: result %d not a duplicate", i)
				}
			}
			again, err := tr.Customer(ctx, "c1")
			require.NoError(t, err)
			if diff := cmp.Diff(c1, again, cmpSeen); diff != "" {
				t.Errorf("retried batch changed c1 (-before +after):\n%s", diff)
			}
		})
	})
}

// TestSweep sweeps a buyer and a visitor, with Sterne–Cutler as a
// Scheduler (only a buyer whose lapse time has come is due) and with its
// Scheduler hidden (everyone is due at every sweep, as before Scheduler
// existed), on every store path.
func TestSweep(t *testing.T) {
	lapse := t0.Add(model.DefaultLapseAfter + time.Nanosecond) // the buyer's Due
	type sweep struct {
		at   time.Time
		want lifecycle.SweepResult
	}
	for _, tc := range []struct {
		name  string
		model lifecycle.Model
		// sweeps at 100 days (no lapse yet) and 200 days (the buyer lapses)
		sweeps [2]sweep
	}{
		{"scheduler", model.SterneCutler(), [2]sweep{
			{t0.AddDate(0, 0, 100), lifecycle.SweepResult{}}, // nobody due: nothing read or written
			{t0.AddDate(0, 0, 200), lifecycle.SweepResult{Scanned: 1, Updated: 1, Moved: 1}},
		}},
		{"not a scheduler", noSchedule{model.SterneCutler()}, [2]sweep{
			{t0.AddDate(0, 0, 100), lifecycle.SweepResult{Scanned: 2, Updated: 2, Moved: 0}},
			{t0.AddDate(0, 0, 200), lifecycle.SweepResult{Scanned: 2, Updated: 2, Moved: 1}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, sched := tc.model.(lifecycle.Scheduler)
			stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
				ctx := context.Background()
				var changes []lifecycle.Change
				tr := lifecycle.NewTracker(tc.model, newStore(), lifecycle.WithClock(func() time.Time { return farFuture }),
					lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) { changes = append(changes, ch) }))
				_, err := tr.Record(ctx, order("o1", "buyer", t0, 100))
				require.NoError(t, err)
				_, err = tr.Record(ctx, ev("v1", "visitor", lifecycle.SiteVisited, t0))
				require.NoError(t, err)
				changes = nil
				// The Tracker sets Due on every write.
				buyer, err := tr.Customer(ctx, "buyer")
				require.NoError(t, err)
				visitor, err := tr.Customer(ctx, "visitor")
				require.NoError(t, err)
				wantBuyerDue, wantVisitorDue := lapse, lifecycle.Never
				if !sched {
					wantBuyerDue, wantVisitorDue = time.Time{}, time.Time{}
				}
				if !buyer.Due.Equal(wantBuyerDue) || !visitor.Due.Equal(wantVisitorDue) {
					t.Errorf("Due: buyer %v, visitor %v; want %v and %v", buyer.Due, visitor.Due, wantBuyerDue, wantVisitorDue)
				}

				// 100 days later the buyer has not lapsed (default 180 days).
				sr, err := tr.Sweep(ctx, tc.sweeps[0].at)
				require.NoError(t, err)
				require.Equal(t, tc.sweeps[0].want, sr)
				if sched {
					// Not due: not written.
					for _, before := range []*lifecycle.Customer{buyer, visitor} {
						after, err := tr.Customer(ctx, before.ID)
						require.NoError(t, err)
						if diff := cmp.Diff(before, after, cmpSeen); diff != "" {
							t.Errorf("a sweep before %s was due changed them (-before +after):\n%s", before.ID, diff)
						}
					}
				}

				later := tc.sweeps[1].at
				sr, err = tr.Sweep(ctx, later)
				require.NoError(t, err)
				require.Equal(t, tc.sweeps[1].want, sr)
				c, err := tr.Customer(ctx, "buyer")
				require.NoError(t, err)
				want := lifecycle.Transition{From: model.Conversion, To: model.Acquisition, At: later}
				if c.Stage != model.Acquisition || !c.AsOf.Equal(later) || !c.Since.Equal(later) {
					t.Errorf("after sweep: stage %s since %v as of %v", c.Stage, c.Since, c.AsOf)
				}
				if diff := cmp.Diff(want, c.History[len(c.History)-1]); diff != "" {
					t.Errorf("sweep transition (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]lifecycle.Change{{CustomerID: "buyer", Transition: want}}, changes); diff != "" {
					t.Errorf("hook calls (-want +got):\n%s", diff)
				}
				// A lapsed buyer is not moved by time alone any more.
				wantDue := lifecycle.Never
				if !sched {
					wantDue = time.Time{}
				}
				if !c.Due.Equal(wantDue) {
					t.Errorf("Due after lapsing %v, want %v", c.Due, wantDue)
				}

				// A clock that went backwards changes nothing.
				before := map[string]*lifecycle.Customer{}
				for _, id := range []string{"buyer", "visitor"} {
					before[id], err = tr.Customer(ctx, id)
					require.NoError(t, err)
				}
				sr, err = tr.Sweep(ctx, t0.AddDate(0, 0, 150))
				require.NoError(t, err)
				if sched {
					require.Equal(t, lifecycle.SweepResult{}, sr)
				} else {
					// Scanned is not checked here: the customers' Due
					// (zero) says due, their AsOf says not, and the store
					// paths disagree on whether that counts (reported).
					require.Equal(t, lifecycle.SweepResult{Scanned: sr.Scanned}, sr)
					require.LessOrEqual(t, sr.Scanned, 2)
				}
				for id, b := range before {
					after, err := tr.Customer(ctx, id)
					require.NoError(t, err)
					if diff := cmp.Diff(b, after, cmpSeen); diff != "" {
						t.Errorf("a backwards sweep changed %s:\n%s", id, diff)
					}
				}
				// A new order brings the buyer back, and schedules them again.
				res, err := tr.Record(ctx, order("o2", "buyer", later.Add(time.Hour), 100))
				require.NoError(t, err)
				if res.To != model.Retention {
					t.Errorf("after a new order: %s", res.To)
				}
				c, err = tr.Customer(ctx, "buyer")
				require.NoError(t, err)
				wantDue = later.Add(time.Hour + model.DefaultLapseAfter + time.Nanosecond)
				if !sched {
					wantDue = time.Time{}
				}
				if !c.Due.Equal(wantDue) {
					t.Errorf("Due after a new order %v, want %v", c.Due, wantDue)
				}
			})
		})
	}
}

func TestHooksAfterCommit(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		var tr *lifecycle.Tracker
		var seen []string
		var calls atomic.Int32
		check := func(ctx context.Context, ch lifecycle.Change) {
			c, err := tr.Customer(ctx, ch.CustomerID)
			if err != nil {
				seen = append(seen, "error: "+err.Error())
				return
			}
			seen = append(seen, fmt.Sprintf("%s→%s stored %s v%d", ch.From, ch.To, c.Stage, c.Version))
		}
		tr = newTrackerOn(newStore(),
			lifecycle.WithHook(func(context.Context, lifecycle.Change) { calls.Add(1); panic("hook bug") }),
			lifecycle.WithHook(check))
		_, err := tr.Record(ctx, ev("v1", "c", lifecycle.SiteVisited, t0))
		require.NoError(t, err, "a panicking hook must not fail the Record")
		_, err = tr.Record(ctx, order("o1", "c", t0.Add(time.Hour), 100))
		require.NoError(t, err)
		_, err = tr.Record(ctx, ev("v2", "c", lifecycle.SiteVisited, t0.Add(2*time.Hour))) // no move
		require.NoError(t, err)
		_, err = tr.RecordBatch(ctx, []lifecycle.Event{order("o2", "c", t0.Add(3*time.Hour), 1)})
		require.NoError(t, err)
		want := []string{"→reach stored reach v1", "reach→conversion stored conversion v2", "conversion→retention stored retention v4"}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("hooks saw (-want +got):\n%s", diff)
		}
		if calls.Load() != 3 {
			t.Errorf("panicking hook called %d times, want 3", calls.Load())
		}
		c, err := tr.Customer(ctx, "c")
		require.NoError(t, err)
		if c.Facts.Events() != 4 {
			t.Errorf("events lost: %d", c.Facts.Events())
		}
	})
}

// faultyModel is Sterne–Cutler, except that facts holding a "test.panic"
// event make it panic and "test.undeclared" makes it answer a stage its
// graph does not declare.
type faultyModel struct{ lifecycle.Model }

func (m faultyModel) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	if f.Count("test.panic") > 0 {
		panic("model bug")
	}
	if f.Count("test.undeclared") > 0 {
		return "nowhere"
	}
	return m.Model.Stage(f, now)
}

func TestModelFailure(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		for _, typ := range []lifecycle.EventType{"test.panic", "test.undeclared"} {
			t.Run(string(typ), func(t *testing.T) {
				ctx := context.Background()
				s := newStore()
				tr := lifecycle.NewTracker(faultyModel{model.SterneCutler()}, s, lifecycle.WithClock(func() time.Time { return farFuture }))
				// A new customer: nothing stored.
				_, err := tr.Record(ctx, ev("x1", "new", typ, t0))
				require.ErrorIs(t, err, lifecycle.ErrInvalidModel)
				_, err = s.Get(ctx, "new")
				require.ErrorIs(t, err, lifecycle.ErrNotFound)
				// An existing customer: unchanged.
				_, err = tr.Record(ctx, order("o1", "old", t0, 100))
				require.NoError(t, err)
				before, err := s.Get(ctx, "old")
				require.NoError(t, err)
				for _, e := range []lifecycle.Event{ev("x1", "old", typ, t0.Add(time.Hour)), ev("x2", "old", typ, t0.Add(-time.Hour))} {
					_, err = tr.Record(ctx, e)
					require.ErrorIs(t, err, lifecycle.ErrInvalidModel)
					_, err = tr.RecordBatch(ctx, []lifecycle.Event{order("o9", "old", t0, 1), e})
					require.ErrorIs(t, err, lifecycle.ErrInvalidModel)
				}
				after, err := s.Get(ctx, "old")
				require.NoError(t, err)
				if diff := cmp.Diff(before, after, cmpSeen); diff != "" {
					t.Errorf("a failing model changed the stored customer (-before +after):\n%s", diff)
				}
			})
		}
	})
}

func TestReferralCredit(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		tr := newTrackerOn(newStore())
		signup := ev("s1", "friend", lifecycle.SignedUp, t0)
		signup.ReferrerID = "ann"
		steps := []lifecycle.Event{
			signup,
			signup, // duplicate
			order("o1", "friend", t0.Add(2*time.Hour), 100),
			order("o1", "friend", t0.Add(2*time.Hour), 100), // retry
			order("o0", "friend", t0.Add(time.Hour), 100),   // an earlier order arriving late
			order("o2", "friend", t0.Add(3*time.Hour), 100),
		}
		for i, e := range steps {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err, "step %d", i)
		}
		_, err := tr.RecordBatch(ctx, steps)
		require.NoError(t, err)
		ann, err := tr.Customer(ctx, "ann")
		require.NoError(t, err)
		if n := ann.Facts.Count(lifecycle.ReferralConverted); n != 1 {
			t.Fatalf("referrer credited %d times, want 1", n)
		}
		// The credit is dated at the earliest order, although it arrived
		// after the first credit was given.
		want := []lifecycle.Referral{{Customer: "friend", At: t0.Add(time.Hour)}}
		if diff := cmp.Diff(want, ann.Facts.Referrals); diff != "" {
			t.Errorf("referrals (-want +got):\n%s", diff)
		}
		if ann.HasSeen(lifecycle.ReferralEventID("friend")) || ann.Seen.Len() != 0 {
			t.Errorf("a credit entered Seen: %v", seenKeys(&ann.Seen))
		}
		friend, err := tr.Customer(ctx, "friend")
		require.NoError(t, err)
		for _, id := range []string{"s1", "o0", "o1", "o2"} {
			if !friend.HasSeen(id) {
				t.Errorf("friend has not seen %s", id)
			}
		}
		if n := friend.Seen.Len(); n != 4 {
			t.Errorf("friend has seen %d events, want 4 (duplicates count once)", n)
		}
		// No credit before the referred customer orders.
		s2 := ev("s2", "lurker", lifecycle.SignedUp, t0)
		s2.ReferrerID = "bob"
		_, err = tr.Record(ctx, s2)
		require.NoError(t, err)
		if _, err := tr.Customer(ctx, "bob"); !errors.Is(err, lifecycle.ErrNotFound) {
			t.Errorf("referrer credited before any order: %v", err)
		}
	})
}

// --- streams, replay and comparison ---

// stream returns a realistic event stream for n customers: visits, product
// views, carts, sign-ups, orders, refunds, surveys, tickets, and
// referrals. A referred customer names one referrer (on their sign-up, and
// sometimes again on an order) and may order several times, so that their
// orders, arriving shuffled, move the referrer's credit back to the first
// one. (Two different referrers for one customer are the documented
// exception to order independence, so the stream has none.)
func stream(r *rand.Rand, n int) []lifecycle.Event {
	var out []lifecycle.Event
	for c := range n {
		cust := "c" + strconv.Itoa(c)
		id := 0
		at := t0.Add(time.Duration(r.IntN(300*24)) * time.Hour)
		add := func(typ lifecycle.EventType, amt int64) *lifecycle.Event {
			id++
			at = at.Add(time.Duration(1+r.IntN(30*24*60)) * time.Minute)
			e := lifecycle.Event{ID: cust + "-" + strconv.Itoa(id), CustomerID: cust, Type: typ, Time: at}
			if amt > 0 {
				e.Amount, e.Currency = amt, "EUR"
			}
			out = append(out, e)
			return &out[len(out)-1]
		}
		for range 1 + r.IntN(4) {
			add(lifecycle.SiteVisited, 0)
		}
		for range r.IntN(4) {
			add(lifecycle.ProductViewed, 0)
		}
		if r.IntN(3) == 0 {
			continue
		}
		su := add(lifecycle.SignedUp, 0)
		referrer := ""
		if c > 0 && r.IntN(4) == 0 {
			referrer = "c" + strconv.Itoa(r.IntN(c))
			su.ReferrerID = referrer
		}
		add(lifecycle.CartAdded, 0)
		for range r.IntN(7) {
			o := add(lifecycle.OrderCompleted, int64(500+r.IntN(20000)))
			if referrer != "" && r.IntN(3) == 0 {
				o.ReferrerID = referrer
			}
			if r.IntN(8) == 0 {
				add(lifecycle.OrderRefunded, int64(100+r.IntN(500)))
			}
		}
		if r.IntN(3) == 0 {
			e := add(lifecycle.SurveyAnswered, 0)
			e.Attrs = map[string]string{"score": strconv.Itoa(r.IntN(11))}
		}
		if r.IntN(4) == 0 {
			add(lifecycle.TicketOpened, 0)
			add(lifecycle.TicketResolved, 0)
		}
	}
	return out
}

// shuffled returns events in a random order with about a fifth of them
// repeated.
func shuffled(r *rand.Rand, events []lifecycle.Event) []lifecycle.Event {
	out := slices.Clone(events)
	for _, e := range events {
		if r.IntN(5) == 0 {
			out = append(out, e)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// state is what must not depend on arrival order. Seen holds the keys of
// the customer's Seen, in order, as hexadecimal strings.
type state struct {
	Facts lifecycle.Facts
	Stage stage.ID
	AsOf  time.Time
	Seen  []string
}

// seenKeys returns the keys of s in ascending order, as hexadecimal
// strings (nil for the empty set).
func seenKeys(s *lifecycle.EventSet) []string {
	var out []string
	for k := range s.All() {
		out = append(out, k.String())
	}
	return out
}

// cmpSeen lets cmp compare (and show) EventSets, whose layout is private,
// as their keys.
var cmpSeen = cmp.Transformer("Keys", func(s lifecycle.EventSet) []string { return seenKeys(&s) })

func snapshot(t testing.TB, s lifecycle.Store) map[string]state {
	t.Helper()
	out := map[string]state{}
	for c, err := range s.Scan(context.Background()) {
		require.NoError(t, err)
		out[c.ID] = state{Facts: c.Facts, Stage: c.Stage, AsOf: c.AsOf, Seen: seenKeys(&c.Seen)}
	}
	return out
}

func replay(t testing.TB, events []lifecycle.Event) map[string]state {
	t.Helper()
	s := store.NewMemory()
	tr := newTrackerOn(s)
	for _, e := range events {
		_, err := tr.Record(context.Background(), e)
		require.NoError(t, err)
	}
	return snapshot(t, s)
}

func TestOrderIndependence(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 42))
		events := stream(r, 12+r.IntN(20))
		want := replay(t, events)
		mixed := shuffled(r, events)
		for _, p := range storePaths {
			st := p.new()
			tr := newTrackerOn(st)
			if seed%2 == 0 {
				for _, e := range mixed {
					_, err := tr.Record(context.Background(), e)
					require.NoError(t, err)
				}
			} else {
				for chunk := range slices.Chunk(mixed, 1+r.IntN(10)) {
					_, err := tr.RecordBatch(context.Background(), chunk)
					require.NoError(t, err)
				}
			}
			if diff := cmp.Diff(want, snapshot(t, st)); diff != "" {
				t.Fatalf("seed %d (%s): shuffled stream with duplicates differs from sequential replay (-replay +shuffled):\n%s", seed, p.name, diff)
			}
		}
	}
}

func TestConcurrentRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	events := stream(r, 40)
	// One customer with many events, recorded by every goroutine.
	for i := range 200 {
		events = append(events, order("hot-"+strconv.Itoa(i), "hot", t0.Add(time.Duration(i)*time.Minute), 100))
	}
	// A customer referred by hot, whose orders race to move hot's credit
	// back to the earliest one.
	fan := ev("fan-s", "fan", lifecycle.SignedUp, t0)
	fan.ReferrerID = "hot"
	events = append(events, fan)
	for i := range 60 {
		events = append(events, order("fan-"+strconv.Itoa(i), "fan", t0.Add(time.Duration(i+1)*time.Minute), 100))
	}
	want := replay(t, events)
	mixed := shuffled(r, events)
	mixed = append(mixed, mixed[:len(mixed)/3]...) // more duplicates, racing with their originals
	for _, p := range storePaths {
		st := p.new()
		tr := newTrackerOn(st)
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(mixed); i += workers {
					if _, err := tr.Record(context.Background(), mixed[i]); err != nil {
						errs <- err
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
		if diff := cmp.Diff(want, snapshot(t, st)); diff != "" {
			t.Fatalf("%s: concurrent recording differs from sequential replay (-replay +concurrent):\n%s", p.name, diff)
		}
	}
}

// failingStore wraps a store and fails some calls, in the way chosen.
type failingStore struct {
	inner lifecycle.Store
	k     int64
	mode  string // "put", "get", "committed", "conflict"
	n     atomic.Int64
}

var errInjected = errors.New("injected store failure")

func (f *failingStore) fail() bool { return f.n.Add(1)%f.k == 0 }

func (f *failingStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if f.mode == "get" && f.fail() {
		return nil, errInjected
	}
	return f.inner.Get(ctx, id)
}

func (f *failingStore) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	switch {
	case f.mode == "put" && f.fail():
		return errInjected
	case f.mode == "conflict" && f.fail():
		return fmt.Errorf("spurious: %w", lifecycle.ErrConflict)
	case f.mode == "committed" && f.fail():
		if err := f.inner.Put(ctx, c, prev); err != nil {
			return err
		}
		return errInjected // written, but the caller is told it failed
	}
	return f.inner.Put(ctx, c, prev)
}

func (f *failingStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return f.inner.Scan(ctx)
}

// failingApplier adds an Apply to a failingStore over a Memory, with the
// same faults: "put" fails before calling fn, "committed" commits and then
// fails, "conflict" reports a spurious conflict before calling fn, and
// "get" (Apply reads nothing through Get) fails before calling fn too.
type failingApplier struct {
	*failingStore
	mem *store.Memory
}

// Apply injects the faults per write: each write of ws may fail on its
// own, the others are applied.
func (f failingApplier) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		w := ws[i : i+1]
		switch {
		case (f.mode == "put" || f.mode == "get") && f.fail():
			w[0].Err = errInjected
		case f.mode == "conflict" && f.fail():
			w[0].Err = fmt.Errorf("spurious: %w", lifecycle.ErrConflict)
		case f.mode == "committed" && f.fail():
			if f.mem.Apply(ctx, w); w[0].Err == nil {
				w[0].Err = errInjected // written, but the caller is told it failed
			}
		default:
			f.mem.Apply(ctx, w)
		}
	}
}

func TestFailingStore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	events := stream(r, 30)
	want := replay(t, events)
	for _, applier := range []bool{false, true} {
		for _, mode := range []string{"put", "get", "committed", "conflict"} {
			for _, k := range []int64{3, 5, 7} {
				t.Run(fmt.Sprintf("applier=%v %s every %d", applier, mode, k), func(t *testing.T) {
					inner := store.NewMemory()
					fs := &failingStore{inner: inner, k: k, mode: mode}
					var s lifecycle.Store = fs
					if applier {
						s = failingApplier{fs, inner}
					}
					tr := newTrackerOn(s)
					failures := 0
					for _, e := range shuffled(r, events) {
						for attempt := 0; ; attempt++ {
							require.Less(t, attempt, 100, "event %s never recorded", e.ID)
							_, err := tr.Record(context.Background(), e)
							if err == nil {
								break
							}
							if !errors.Is(err, errInjected) && !errors.Is(err, lifecycle.ErrConflict) {
								t.Fatalf("unexpected error: %v", err)
							}
							failures++
						}
					}
					if mode != "conflict" && failures == 0 {
						t.Fatal("the store never failed: the test tests nothing")
					}
					if fs.n.Load() == 0 {
						t.Fatal("no call went through the failing methods: the test tests nothing")
					}
					if diff := cmp.Diff(want, snapshot(t, inner)); diff != "" {
						t.Fatalf("after retries (-replay +got):\n%s", diff)
					}
				})
			}
		}
	}
}

func FuzzRecord(f *testing.F) {
	f.Add("o1", "c1", "order_completed", int64(1_700_000_000), int64(4999), "EUR", "", "")
	f.Add("s1", "c2", "survey_answered", int64(1_700_000_000), int64(0), "", "c1", "9")
	f.Add("x", "c", "acme.thing", int64(-5_000_000_000), int64(-1), "eur", "c", "11")
	f.Add("", "", "", int64(0), int64(0), "", "", "")
	f.Fuzz(func(t *testing.T, id, cust, typ string, unix, amount int64, cur, ref, score string) {
		tr := newTracker(t)
		e := lifecycle.Event{ID: id, CustomerID: cust, Type: lifecycle.EventType(typ), Time: time.Unix(unix, 0),
			Amount: amount, Currency: cur, ReferrerID: ref, Attrs: map[string]string{"score": score}}
		res, err := tr.Record(context.Background(), e)
		if err != nil {
			if !errors.Is(err, lifecycle.ErrInvalidEvent) {
				t.Fatalf("Record error %v does not wrap ErrInvalidEvent", err)
			}
			return
		}
		if res.Duplicate || res.Version != 1 {
			t.Fatalf("first Record of a valid event: %+v", res)
		}
		c, err := tr.Customer(context.Background(), cust)
		if err != nil || !c.HasSeen(id) || c.Facts.Events() != 1 {
			t.Fatalf("event not applied: %+v, %v", c, err)
		}
		res, err = tr.Record(context.Background(), e)
		if err != nil || !res.Duplicate {
			t.Fatalf("second Record: %+v, %v", res, err)
		}
		_ = strings.TrimSpace
	})
}

// recordAll records events one by one, in order, into s with a Tracker
// using m, and returns the Tracker.
func recordAll(t *testing.T, s lifecycle.Store, m lifecycle.Model, events []lifecycle.Event) *lifecycle.Tracker {
	t.Helper()
	tr := lifecycle.NewTracker(m, s, lifecycle.WithClock(func() time.Time { return farFuture }))
	for i, e := range events {
		_, err := tr.Record(context.Background(), e)
		require.NoError(t, err, "event %d (%s)", i, e.ID)
	}
	return tr
}

func TestReferralCreditOrder(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	visit := func(id string, h int, by string) lifecycle.Event {
		e := ev(id, "b", lifecycle.SiteVisited, at(h))
		e.ReferrerID = by
		return e
	}
	own := order("a-o", "a", at(-5), 100) // the referrer's own order
	tests := []struct {
		name   string
		events []lifecycle.Event
		credit time.Time // the time of a's credit for b
	}{
		{"earlier order arrives late", []lifecycle.Event{own, visit("v", -1, "a"), order("o12", "b", at(2), 1), order("o10", "b", at(0), 1)}, at(0)},
		{"orders in time order", []lifecycle.Event{own, visit("v", -1, "a"), order("o10", "b", at(0), 1), order("o12", "b", at(2), 1)}, at(0)},
		{"referral claim after the orders", []lifecycle.Event{own, order("o12", "b", at(2), 1), order("o10", "b", at(0), 1), visit("v", -1, "a")}, at(0)},
		{"claim on a later order", []lifecycle.Event{own, order("o10", "b", at(0), 1), func() lifecycle.Event {
			e := order("o12", "b", at(2), 1)
			e.ReferrerID = "a"
			return e
		}()}, at(0)},
		{"credit before the referrer's own events", []lifecycle.Event{visit("v", -1, "a"), order("o12", "b", at(2), 1), order("o10", "b", at(0), 1), own}, at(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sorted := slices.Clone(tc.events)
			slices.SortStableFunc(sorted, func(x, y lifecycle.Event) int { return x.Time.Compare(y.Time) })
			want := replay(t, sorted)
			stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
				s := newStore()
				recordAll(t, s, model.SterneCutler(), tc.events)
				got := snapshot(t, s)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("differs from the time-ordered replay (-want +got):\n%s", diff)
				}
				a := got["a"]
				if diff := cmp.Diff([]lifecycle.Referral{{Customer: "b", At: tc.credit}}, a.Facts.Referrals); diff != "" {
					t.Errorf("a's referrals (-want +got):\n%s", diff)
				}
				wantTally := lifecycle.Tally{Type: lifecycle.ReferralConverted, Count: 1, First: tc.credit, Last: tc.credit}
				if tl, _ := a.Facts.Tally(lifecycle.ReferralConverted); tl != wantTally {
					t.Errorf("a's credit tally %+v, want %+v", tl, wantTally)
				}
				// The credit moves neither a's AsOf nor a's first and last
				// event times.
				if !a.AsOf.Equal(at(-5)) || !a.Facts.First.Equal(at(-5)) || !a.Facts.Last.Equal(at(-5)) {
					t.Errorf("a: as of %v, first %v, last %v; want all %v", a.AsOf, a.Facts.First, a.Facts.Last, at(-5))
				}
			})
		})
	}
}

func TestReferralCreditDuplicates(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		s := newStore()
		signup := ev("s", "b", lifecycle.SignedUp, t0)
		signup.ReferrerID = "a"
		tr := recordAll(t, s, model.SterneCutler(), []lifecycle.Event{signup, order("o1", "b", t0.Add(time.Hour), 1)})
		before, err := s.Get(ctx, "a")
		require.NoError(t, err)
		require.Equal(t, uint64(1), before.Version)
		// Retries of b's events and later orders re-derive the credit; it
		// changes nothing, so a is not written again.
		for _, e := range []lifecycle.Event{signup, order("o1", "b", t0.Add(time.Hour), 1), order("o2", "b", t0.Add(3*time.Hour), 1)} {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
			_, err = tr.RecordBatch(ctx, []lifecycle.Event{e})
			require.NoError(t, err)
		}
		after, err := s.Get(ctx, "a")
		require.NoError(t, err)
		if diff := cmp.Diff(before, after, cmpSeen); diff != "" {
			t.Errorf("re-derived credits changed a (-before +after):\n%s", diff)
		}
		// A credit cannot be recorded from outside (issue 16): Record,
		// RecordBatch and Import refuse it on field type, and nothing
		// changes, whatever its ID or time.
		for _, e := range []lifecycle.Event{
			{ID: lifecycle.ReferralEventID("b"), CustomerID: "a", Type: lifecycle.ReferralConverted, Time: t0.Add(-2 * time.Hour), Attrs: map[string]string{lifecycle.ReferredIDAttr: "b"}},
			{ID: "forged-1", CustomerID: "a", Type: lifecycle.ReferralConverted, Time: t0},
			{ID: "forged-2", CustomerID: "newcomer", Type: lifecycle.ReferralConverted, Time: t0},
		} {
			_, err := tr.Record(ctx, e)
			checkField(t, err, "type")
			res, err := tr.RecordBatch(ctx, []lifecycle.Event{ev("v-ok", "a", lifecycle.SiteVisited, t0), e})
			checkField(t, err, "type")
			checkField(t, res[1].Err, "type")
			ir, err := tr.Import(ctx, func(yield func(lifecycle.Event, error) bool) { yield(e, nil) }, nil)
			checkField(t, err, "type")
			require.Zero(t, ir.Events)
			c, err := s.Get(ctx, "a")
			require.NoError(t, err)
			if diff := cmp.Diff(after, c, cmpSeen); diff != "" {
				t.Errorf("a refused credit %q changed a (-before +after):\n%s", e.ID, diff)
			}
			_, err = s.Get(ctx, "newcomer")
			require.ErrorIs(t, err, lifecycle.ErrNotFound)
		}
	})
}

// flakyStore is a Memory store whose writes of one customer fail while
// failures is positive (each failure counts it down), through Put and
// Apply alike (Apply fails before calling fn).
type flakyStore struct {
	*store.Memory
	id       string
	failures atomic.Int32
}

func (f *flakyStore) fail(id string) bool { return id == f.id && f.failures.Add(-1) >= 0 }

func (f *flakyStore) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if f.fail(c.ID) {
		return errInjected
	}
	return f.Memory.Put(ctx, c, prev)
}

// Apply fails the writes of f.id (while failures lasts) and applies the
// others.
func (f *flakyStore) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		if f.fail(ws[i].ID) {
			ws[i].Err = errInjected
			continue
		}
		f.Memory.Apply(ctx, ws[i:i+1])
	}
}

func TestReferralCreditWriteFails(t *testing.T) {
	for _, plain := range []bool{false, true} {
		for _, batch := range []bool{false, true} {
			t.Run(fmt.Sprintf("plain=%v batch=%v", plain, batch), func(t *testing.T) {
				ctx := context.Background()
				fs := &flakyStore{Memory: store.NewMemory(), id: "a"}
				var s lifecycle.Store = fs
				if plain {
					s = plainStore{fs}
				}
				signup := ev("s", "b", lifecycle.SignedUp, t0)
				signup.ReferrerID = "a"
				tr := recordAll(t, s, model.SterneCutler(), []lifecycle.Event{signup, order("o2", "b", t0.Add(2*time.Hour), 1)})
				record := func(e lifecycle.Event) (lifecycle.Result, error) {
					if !batch {
						return tr.Record(ctx, e)
					}
					res, err := tr.RecordBatch(ctx, []lifecycle.Event{e})
					return res[0], err
				}
				// The earlier order is applied to b, but moving a's credit
				// to it fails.
				fs.failures.Store(1)
				late := order("o1", "b", t0.Add(time.Hour), 1)
				res, err := record(late)
				require.ErrorIs(t, err, errInjected)
				require.False(t, res.Duplicate)
				a, err := fs.Get(ctx, "a")
				require.NoError(t, err)
				require.Equal(t, []lifecycle.Referral{{Customer: "b", At: t0.Add(2 * time.Hour)}}, a.Facts.Referrals, "the failed write changed a")
				// The retry is a duplicate for b and completes the credit.
				res, err = record(late)
				require.NoError(t, err)
				require.True(t, res.Duplicate)
				a, err = fs.Get(ctx, "a")
				require.NoError(t, err)
				if diff := cmp.Diff([]lifecycle.Referral{{Customer: "b", At: t0.Add(time.Hour)}}, a.Facts.Referrals); diff != "" {
					t.Errorf("after the retry (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// creditBomb is Sterne–Cutler, except that it panics on facts holding two
// referral credits, or one dated before t0.
type creditBomb struct{ lifecycle.Model }

func (m creditBomb) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	if tl, ok := f.Tally(lifecycle.ReferralConverted); ok && (tl.Count > 1 || tl.First.Before(t0)) {
		panic("model bug")
	}
	return m.Model.Stage(f, now)
}

func TestReferralCreditModelFailure(t *testing.T) {
	signup := func(id, cust string) lifecycle.Event {
		e := ev(id, cust, lifecycle.SignedUp, t0)
		e.ReferrerID = "a"
		return e
	}
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		s := newStore()
		tr := recordAll(t, s, creditBomb{model.SterneCutler()}, []lifecycle.Event{
			order("o1", "a", t0, 1), signup("sb", "b"), order("ob2", "b", t0.Add(2*time.Hour), 1), signup("sc", "c"),
		})
		get := func() *lifecycle.Customer {
			t.Helper()
			a, err := s.Get(ctx, "a")
			require.NoError(t, err)
			return a
		}
		// fails records e, which earns a a credit the model panics on: the
		// event is applied, the credit is not, and a is unchanged (also
		// when the event is retried, as RecordBatch).
		fails := func(name string, e lifecycle.Event) {
			t.Helper()
			before := get()
			_, err := tr.Record(ctx, e)
			require.ErrorIs(t, err, lifecycle.ErrInvalidModel, name)
			require.ErrorContains(t, err, "crediting referrer", name)
			_, err = tr.RecordBatch(ctx, []lifecycle.Event{e})
			require.ErrorIs(t, err, lifecycle.ErrInvalidModel, name)
			if diff := cmp.Diff(before, get(), cmpSeen); diff != "" {
				t.Errorf("%s: a failing model changed the stored customer (-before +after):\n%s", name, diff)
			}
		}
		require.Len(t, get().Facts.Referrals, 1)
		fails("new referral", order("oc3", "c", t0.Add(3*time.Hour), 1))
		// The stored customer is intact: a good credit still applies (b's
		// earlier order moves the credit back to it).
		res, err := tr.Record(ctx, order("ob1", "b", t0.Add(time.Hour), 1))
		require.NoError(t, err)
		require.False(t, res.Duplicate)
		require.Equal(t, []lifecycle.Referral{{Customer: "b", At: t0.Add(time.Hour)}}, get().Facts.Referrals)
		fails("earlier time", order("ob0", "b", t0.Add(-time.Hour), 1))
	})
}

// alwaysConflicts is a plain Store (no Applier) whose Put always loses the
// compare-and-swap race.
type alwaysConflicts struct {
	plainStore
	puts atomic.Int32
}

func (a *alwaysConflicts) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	a.puts.Add(1)
	return &store.ConflictError{ID: c.ID, Want: prev, Have: prev + 1}
}

func TestConflictRetriesBounded(t *testing.T) {
	for _, tc := range []struct {
		opts     []lifecycle.Option
		attempts int32
	}{
		{nil, 33}, // the default: 32 retries
		{[]lifecycle.Option{lifecycle.WithMaxRetries(0)}, 1},
		{[]lifecycle.Option{lifecycle.WithMaxRetries(-4)}, 1},
		{[]lifecycle.Option{lifecycle.WithMaxRetries(3)}, 4},
	} {
		s := &alwaysConflicts{plainStore: plainStore{store.NewMemory()}}
		var logs strings.Builder
		opts := append([]lifecycle.Option{lifecycle.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, tc.opts...)
		tr := newTrackerOn(s, opts...)
		res, err := tr.Record(context.Background(), order("o1", "c", t0, 1))
		if !errors.Is(err, lifecycle.ErrConflict) {
			t.Fatalf("Record = %v; want ErrConflict", err)
		}
		if got := s.puts.Load(); got != tc.attempts {
			t.Errorf("%d attempts; want %d", got, tc.attempts)
		}
		if want := (lifecycle.Result{EventID: "o1", CustomerID: "c"}); res != want {
			t.Errorf("result after giving up = %+v; want %+v", res, want)
		}
		if !strings.Contains(logs.String(), "giving up") {
			t.Errorf("giving up after a conflict was not logged:\n%s", logs.String())
		}
	}
}

// conflictingApplier is an Applier over a Memory whose first fail Apply
// calls run each write's fn on a copy of the customer and then report a
// conflict for it, storing nothing, as an optimistic Apply that lost a
// race does; with only set, just the writes of the customers in only
// conflict, the others are applied. applies counts the calls, and sizes
// holds the number of writes of each call.
type conflictingApplier struct {
	plainStore
	mem     *store.Memory
	fail    int32
	only    map[string]bool
	applies atomic.Int32
	mu      sync.Mutex
	sizes   []int
}

func (u *conflictingApplier) Apply(ctx context.Context, ws []lifecycle.Write) {
	u.mu.Lock()
	u.sizes = append(u.sizes, len(ws))
	u.mu.Unlock()
	if u.applies.Add(1) > u.fail {
		u.mem.Apply(ctx, ws)
		return
	}
	for i := range ws {
		if u.only != nil && !u.only[ws[i].ID] {
			u.mem.Apply(ctx, ws[i:i+1])
			continue
		}
		ws[i].Err = u.conflict(ctx, ws[i].ID, ws[i].Events, ws[i].Fn)
	}
}

// conflict runs fn on a copy of the customer and reports a conflict.
func (u *conflictingApplier) conflict(ctx context.Context, id string, events []string, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) error {
	c, err := u.mem.Get(ctx, id)
	if err != nil {
		c = &lifecycle.Customer{ID: id}
	}
	seen := make([]bool, len(events))
	for i, e := range events {
		seen[i] = c.HasSeen(e)
	}
	if _, err := fn(c, seen); err != nil {
		return err
	}
	return &store.ConflictError{ID: id, Want: c.Version - 1, Have: c.Version}
}

// An Apply that reports a conflict stored nothing: the Tracker runs it
// again, with a new fn call, under the WithMaxRetries bound, and calls
// hooks only for the write that committed.
func TestApplierConflictRetried(t *testing.T) {
	mem := store.NewMemory()
	u := &conflictingApplier{plainStore: plainStore{mem}, mem: mem, fail: 3}
	var hooks int
	tr := newTrackerOn(u, lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
	res, err := tr.Record(context.Background(), order("o1", "c", t0, 1))
	require.NoError(t, err)
	require.Equal(t, lifecycle.Result{EventID: "o1", CustomerID: "c", To: model.Conversion, Moved: true, Version: 1}, res)
	require.EqualValues(t, 4, u.applies.Load(), "three conflicts, then the write")
	require.Equal(t, 1, hooks)
	c, err := tr.Customer(context.Background(), "c")
	require.NoError(t, err)
	require.EqualValues(t, 1, c.Facts.Count(lifecycle.OrderCompleted))
	require.True(t, c.HasSeen("o1"))

	// The same for a batch of two events of one customer, a referral
	// credit and a sweep: every write goes through Apply.
	mem = store.NewMemory()
	u = &conflictingApplier{plainStore: plainStore{mem}, mem: mem, fail: 2}
	tr = newTrackerOn(u)
	signup := ev("s1", "b", lifecycle.SignedUp, t0)
	signup.ReferrerID = "a"
	results, err := tr.RecordBatch(context.Background(), []lifecycle.Event{signup, order("o1", "b", t0.Add(time.Hour), 1)})
	require.NoError(t, err)
	require.EqualValues(t, 1, results[0].Version)
	require.EqualValues(t, 1, results[1].Version)
	require.EqualValues(t, 4, u.applies.Load(), "two conflicts, b's write and a's credit")
	u.fail = 5
	sr, err := tr.Sweep(context.Background(), t0.AddDate(1, 0, 0))
	require.NoError(t, err)
	require.Equal(t, lifecycle.SweepResult{Scanned: 1, Updated: 1, Moved: 1}, sr, "b lapses; a has not ordered, so is not due")
	require.EqualValues(t, 6, u.applies.Load(), "one conflict, then the sweep's write")
	b, err := tr.Customer(context.Background(), "b")
	require.NoError(t, err)
	require.EqualValues(t, 2, b.Version)
	require.Equal(t, model.Acquisition, b.Stage)
	require.Equal(t, 2, b.Seen.Len())

	// A batch of several customers is one Apply; after a conflict, only
	// the writes that lost are applied again, in one Apply, and the
	// others are not written twice.
	mem = store.NewMemory()
	u = &conflictingApplier{plainStore: plainStore{mem}, mem: mem, fail: 1, only: map[string]bool{"x": true, "z": true}}
	hooks = 0
	tr = newTrackerOn(u, lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
	results, err = tr.RecordBatch(context.Background(), []lifecycle.Event{
		order("ox", "x", t0, 1), order("oy", "y", t0, 1), order("oz", "z", t0, 1), ev("vy", "y", lifecycle.SiteVisited, t0.Add(time.Hour)),
	})
	require.NoError(t, err)
	require.Equal(t, []int{3, 2}, u.sizes, "one Apply of x, y and z; then one of x and z, which lost the race")
	require.Equal(t, 3, hooks, "one move each")
	for i, r := range results {
		require.EqualValues(t, 1, r.Version, "result %d", i)
	}
	for _, id := range []string{"x", "y", "z"} {
		c, err := mem.Get(context.Background(), id)
		require.NoError(t, err)
		require.EqualValues(t, 1, c.Version, "customer %s", id)
		require.EqualValues(t, 1, c.Facts.Count(lifecycle.OrderCompleted), "customer %s", id)
	}

	u = &conflictingApplier{plainStore: plainStore{store.NewMemory()}, mem: store.NewMemory(), fail: 100}
	hooks = 0
	tr = newTrackerOn(u, lifecycle.WithMaxRetries(2), lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
	res, err = tr.Record(context.Background(), order("o1", "c", t0, 1))
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	require.Equal(t, lifecycle.Result{EventID: "o1", CustomerID: "c"}, res)
	require.EqualValues(t, 3, u.applies.Load(), "WithMaxRetries(2): three attempts")
	require.Zero(t, hooks, "no hook for a write that never committed")
}

// countingApplier is a Memory (Load and ListDue included) whose writes go
// through inner, recording the customers of each Apply call.
type countingApplier struct {
	*store.Memory
	inner lifecycle.Applier
	mu    sync.Mutex
	calls [][]string
}

func (c *countingApplier) Apply(ctx context.Context, ws []lifecycle.Write) {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	c.mu.Lock()
	c.calls = append(c.calls, ids)
	c.mu.Unlock()
	c.inner.Apply(ctx, ws)
}

// sizes returns the number of writes of each call so far, and forgets them.
func (c *countingApplier) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := make([]int, len(c.calls))
	for i, ids := range c.calls {
		n[i] = len(ids)
	}
	c.calls = nil
	return n
}

// The Tracker writes through the Applier in batches, as documented: a
// Record is one Apply of one write; a RecordBatch one Apply of all its
// customers (in order of first appearance), then one of its referral
// credits, one write per referrer; a Sweep one Apply per page of up to
// 100 due customers, stopping after the first page with an error.
func TestWritesBatched(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	ca := &countingApplier{Memory: mem, inner: mem}
	tr := lifecycle.NewTracker(noSchedule{model.SterneCutler()}, ca, lifecycle.WithClock(func() time.Time { return farFuture }))

	_, err := tr.Record(ctx, order("o1", "c", t0, 1))
	require.NoError(t, err)
	require.Equal(t, [][]string{{"c"}}, ca.calls)
	ca.calls = nil

	referred := func(id, cust, by string) lifecycle.Event {
		e := ev(id, cust, lifecycle.SignedUp, t0)
		e.ReferrerID = by
		return e
	}
	results, err := tr.RecordBatch(ctx, []lifecycle.Event{
		referred("sb", "b", "a"), referred("sc", "c2", "a"), order("ob", "b", t0.Add(time.Hour), 1),
		referred("sd", "d", "e"), order("oc", "c2", t0.Add(time.Hour), 1), order("od", "d", t0.Add(time.Hour), 1),
		ev("vx", "x", lifecycle.SiteVisited, t0),
	})
	require.NoError(t, err)
	for i, r := range results {
		require.NoError(t, r.Err, "result %d", i)
		require.EqualValues(t, 1, r.Version, "result %d", i)
	}
	require.Equal(t, [][]string{{"b", "c2", "d", "x"}, {"a", "e"}}, ca.calls,
		"one Apply of the batch's customers, then one of the credits, one write per referrer")
	ca.calls = nil
	a, err := mem.Get(ctx, "a")
	require.NoError(t, err)
	require.Len(t, a.Facts.Referrals, 2, "a's two credits, written in one write")
	require.EqualValues(t, 1, a.Version, "a's two credits, written in one write")

	// 250 customers in one batch: one Apply.
	var batch []lifecycle.Event
	for i := range 250 {
		batch = append(batch, ev("v", fmt.Sprintf("s%03d", i), lifecycle.SiteVisited, t0))
	}
	_, err = tr.RecordBatch(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, []int{250}, ca.sizes())

	// Sweeps: every customer is due (noSchedule), in pages, but for the
	// pending referrers a and e (credits, no event of their own), who
	// never are: 255 of the 257 stored.
	require.Equal(t, 257, mem.Len())
	total := mem.Len() - 2
	sr, err := tr.Sweep(ctx, t0.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, lifecycle.SweepResult{Scanned: total, Updated: total, Moved: sr.Moved}, sr)
	require.Equal(t, []int{100, 100, 55}, ca.sizes())

	// A write that fails: the sweep stops after its page, and counts it.
	fs := &flakyStore{Memory: mem, id: "s123"}
	fs.failures.Store(1)
	ca.inner = fs
	sweep := t0.AddDate(0, 0, 2)
	sr, err = tr.Sweep(ctx, sweep)
	require.ErrorIs(t, err, errInjected)
	require.ErrorContains(t, err, `sweep customer "s123"`)
	pages := ca.sizes()
	require.NotEmpty(t, pages)
	require.Equal(t, sum(pages), sr.Scanned, "the counts include the failed page, and no page after it")
	require.Equal(t, sr.Scanned-1, sr.Updated, "every customer of the pages written but s123")
	for _, n := range pages[:len(pages)-1] {
		require.Equal(t, 100, n, "only the last page may be short")
	}
	// Sweeping again writes the rest, s123 included; those written are
	// left alone (their AsOf is the sweep time).
	sr2, err := tr.Sweep(ctx, sweep)
	require.NoError(t, err)
	require.Equal(t, total, sr2.Scanned)
	require.Equal(t, total-sr.Updated, sr2.Updated)
	c, err := mem.Get(ctx, "s123")
	require.NoError(t, err)
	require.Equal(t, sweep, c.AsOf)
}

func sum(ns []int) int {
	n := 0
	for _, k := range ns {
		n += k
	}
	return n
}

// An event that was not applied has a result with nothing but its IDs
// (and, in a batch, Err), whichever store path failed.
func TestFailedResultsClaimNothing(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		var hooks int
		tr := lifecycle.NewTracker(faultyModel{model.SterneCutler()}, newStore(),
			lifecycle.WithClock(func() time.Time { return farFuture }),
			lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := tr.Record(cancelled, order("o1", "c", t0, 1))
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, lifecycle.Result{EventID: "o1", CustomerID: "c"}, res)

		results, err := tr.RecordBatch(context.Background(), []lifecycle.Event{
			order("o1", "c", t0, 1), ev("p1", "c", "test.panic", t0.Add(time.Hour)), order("o1", "d", t0, 1),
		})
		require.ErrorIs(t, err, lifecycle.ErrInvalidModel)
		for i, id := range []string{"o1", "p1"} {
			r := results[i]
			require.ErrorIs(t, r.Err, lifecycle.ErrInvalidModel)
			r.Err = nil
			require.Equal(t, lifecycle.Result{EventID: id, CustomerID: "c"}, r, "result %d", i)
		}
		require.Equal(t, lifecycle.Result{EventID: "o1", CustomerID: "d", To: model.Conversion, Moved: true, Version: 1}, results[2])
		require.Equal(t, 1, hooks, "hooks called for a failed write")
		_, err = tr.Customer(context.Background(), "c")
		require.ErrorIs(t, err, lifecycle.ErrNotFound)
	})
}

// nil for WithClock and WithLogger means the default, not a panic.
func TestNilOptionsMeanDefault(t *testing.T) {
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(nil), lifecycle.WithLogger(nil),
		lifecycle.WithHook(func(context.Context, lifecycle.Change) { panic("hook bug") }))
	_, err := tr.Record(context.Background(), order("o1", "c", time.Now().Add(-time.Hour), 1))
	require.NoError(t, err)
	err = tr.Validate(&lifecycle.Event{ID: "o2", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: time.Now().Add(time.Hour)})
	require.ErrorIs(t, err, lifecycle.ErrInvalidEvent, "the default clock is time.Now")

	// A nil option, and a nil hook, are ignored.
	var hooks int
	tr = lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), nil, lifecycle.WithHook(nil),
		lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
	res, err := tr.Record(context.Background(), order("o1", "c", time.Now().Add(-time.Hour), 1))
	require.NoError(t, err)
	require.True(t, res.Moved)
	require.Equal(t, 1, hooks)
}

// TestStorePathsAgree records the same shuffled stream with duplicates
// through each store path (see storePaths: Memory's Apply with and without
// ListDue, an optimistic Applier, Get/Put), one event at a time or in
// batches, then sweeps: every Result, hook call (per customer), sweep
// count and stored customer, history, Due and version included, agree.
func TestStorePathsAgree(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 9))
		mixed := shuffled(r, stream(r, 15))
		type run struct {
			results []lifecycle.Result
			changes []lifecycle.Change
			sweep   lifecycle.SweepResult
			custs   map[string]*lifecycle.Customer
		}
		var runs []run
		for _, p := range storePaths {
			st := p.new()
			var ru run
			tr := newTrackerOn(st, lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) { ru.changes = append(ru.changes, ch) }))
			if seed%2 == 0 {
				for _, e := range mixed {
					res, err := tr.Record(context.Background(), e)
					require.NoError(t, err)
					ru.results = append(ru.results, res)
				}
			} else {
				for chunk := range slices.Chunk(mixed, 7) {
					res, err := tr.RecordBatch(context.Background(), chunk)
					require.NoError(t, err)
					ru.results = append(ru.results, res...)
				}
			}
			sr, err := tr.Sweep(context.Background(), t0.AddDate(2, 0, 0))
			require.NoError(t, err)
			if sr.Scanned == 0 || sr.Moved == 0 {
				t.Fatalf("seed %d %s: sweep %+v: nobody due or moved, the sweep comparison checks nothing", seed, p.name, sr)
			}
			ru.sweep = sr
			ru.custs = map[string]*lifecycle.Customer{}
			for c, err := range st.Scan(context.Background()) {
				require.NoError(t, err)
				ru.custs[c.ID] = c
			}
			// Sweep's order is the store's scan order: compare per customer.
			slices.SortStableFunc(ru.changes, func(a, b lifecycle.Change) int { return strings.Compare(a.CustomerID, b.CustomerID) })
			runs = append(runs, ru)
		}
		for i := 1; i < len(runs); i++ {
			if d := cmp.Diff(runs[0].results, runs[i].results); d != "" {
				t.Fatalf("seed %d %s results:\n%s", seed, storePaths[i].name, d)
			}
			if d := cmp.Diff(runs[0].changes, runs[i].changes); d != "" {
				t.Fatalf("seed %d %s changes:\n%s", seed, storePaths[i].name, d)
			}
			if d := cmp.Diff(runs[0].sweep, runs[i].sweep); d != "" {
				t.Fatalf("seed %d %s sweep:\n%s", seed, storePaths[i].name, d)
			}
			if d := cmp.Diff(runs[0].custs, runs[i].custs, cmpSeen); d != "" {
				t.Fatalf("seed %d %s customers:\n%s", seed, storePaths[i].name, d)
			}
		}
	}
}

// deletedDuringScan is a store whose customers are deleted (by someone
// else) between Scan copying them and the loop body running. It hides
// Memory's ListDue, so that Sweep scans.
type deletedDuringScan struct {
	applierOnly
	m *store.Memory
}

func (d deletedDuringScan) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for c, err := range d.m.Scan(ctx) {
			if err == nil {
				if err := d.m.Delete(ctx, c.ID); err != nil {
					panic(err)
				}
			}
			if !yield(c, err) {
				return
			}
		}
	}
}

// deletedDuringListing is a Memory whose customers are deleted (by
// someone else) between ListDue listing them and the loop body running.
type deletedDuringListing struct{ *store.Memory }

func (d deletedDuringListing) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for id, err := range d.Memory.ListDue(ctx, now) {
			if err == nil {
				if err := d.Delete(ctx, id); err != nil {
					panic(err)
				}
			}
			if !yield(id, err) {
				return
			}
		}
	}
}

// Sweep re-classifies stored customers; it never creates one, even when a
// customer it listed (by ListDue or Scan) is deleted before it writes.
func TestSweepDoesNotResurrect(t *testing.T) {
	for name, wrap := range map[string]func(m *store.Memory) lifecycle.Store{
		"applier, ListDue": func(m *store.Memory) lifecycle.Store { return deletedDuringListing{m} },
		"applier, Scan":    func(m *store.Memory) lifecycle.Store { return deletedDuringScan{newApplierOnly(m), m} },
		"get-put":          func(m *store.Memory) lifecycle.Store { return plainStore{deletedDuringScan{newApplierOnly(m), m}} },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m := store.NewMemory()
			var hooks int
			tr := newTrackerOn(wrap(m), lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
			_, err := tr.Record(ctx, order("o1", "c", t0, 1))
			require.NoError(t, err)
			hooks = 0
			sr, err := tr.Sweep(ctx, t0.AddDate(1, 0, 0))
			require.NoError(t, err)
			require.Equal(t, lifecycle.SweepResult{Scanned: 1}, sr)
			require.Zero(t, m.Len(), "Sweep created a customer")
			require.Zero(t, hooks)
		})
	}
}

// TestPendingReferrer checks what a referrer with no event of its own is
// (issue 16): a record that keeps its referral credits but is not
// classified (no stage, no history, no hook, never due) until its first
// own event, which classifies it with its credits.
func TestPendingReferrer(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		s := newStore()
		var changes []lifecycle.Change
		tr := newTrackerOn(s, lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) { changes = append(changes, ch) }))
		signup := ev("s", "b", lifecycle.SignedUp, t0)
		signup.ReferrerID = "ghost" // say, a mistyped referrer ID
		for _, e := range []lifecycle.Event{signup, order("o1", "b", t0.Add(time.Hour), 100)} {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
		get := func(id string) *lifecycle.Customer {
			t.Helper()
			c, err := s.Get(ctx, id)
			require.NoError(t, err)
			return c
		}
		g := get("ghost")
		require.True(t, g.PendingReferrer())
		require.Equal(t, []lifecycle.Referral{{Customer: "b", At: t0.Add(time.Hour)}}, g.Facts.Referrals, "the credit is kept")
		require.Empty(t, g.Stage)
		require.Empty(t, g.History)
		require.True(t, g.Since.IsZero() && g.AsOf.IsZero(), "since %v, as of %v", g.Since, g.AsOf)
		require.Equal(t, lifecycle.Never, g.Due)
		for _, ch := range changes {
			require.NotEqual(t, "ghost", ch.CustomerID, "a hook was called for a pending referrer")
		}
		require.False(t, get("b").PendingReferrer())

		// A record an earlier version stored for a pending referrer, with
		// a stage and due at any sweep: sweeps leave both alone.
		old := &lifecycle.Customer{ID: "old-ghost", Stage: model.Reach, Since: t0, Version: 1,
			History: []lifecycle.Transition{{To: model.Reach, At: t0, Cause: lifecycle.ReferralEventID("x")}},
			Facts:   lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "x", At: t0}}}}
		require.NoError(t, s.Put(ctx, old, 0))
		old = get("old-ghost")
		_, err := tr.Sweep(ctx, t0.AddDate(1, 0, 0))
		require.NoError(t, err)
		if diff := cmp.Diff(g, get("ghost"), cmpSeen); diff != "" {
			t.Errorf("a sweep changed the pending referrer (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(old, get("old-ghost"), cmpSeen); diff != "" {
			t.Errorf("a sweep changed the old pending referrer (-before +after):\n%s", diff)
		}

		// Its first own event makes it a customer, classified with its
		// credits at the classification time.
		changes = nil
		res, err := tr.Record(ctx, ev("gv", "ghost", lifecycle.SiteVisited, t0.Add(2*time.Hour)))
		require.NoError(t, err)
		g = get("ghost")
		require.False(t, g.PendingReferrer())
		require.Equal(t, model.SterneCutler().Stage(&g.Facts, g.ClassifiedAt()), g.Stage)
		require.NotEmpty(t, g.Stage)
		want := []lifecycle.Transition{{From: "", To: g.Stage, At: t0.Add(2 * time.Hour), Cause: "gv"}}
		if diff := cmp.Diff(want, g.History); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		require.True(t, res.Moved)
		require.Equal(t, []lifecycle.Change{{CustomerID: "ghost", Transition: want[0]}}, changes)
		require.Equal(t, int64(1), g.Facts.Count(lifecycle.ReferralConverted))
	})
}

// TestBatchRepeatsWithinCustomer: a RecordBatch in which one customer's
// events repeat IDs (5 and 40 distinct events): each repeat is a
// duplicate and every distinct event counts once, on every store path.
func TestBatchRepeatsWithinCustomer(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		tr := newTrackerOn(newStore())
		for _, n := range []int{5, 40} {
			cust := "r" + strconv.Itoa(n)
			var batch []lifecycle.Event
			var dup []bool
			for i := range n {
				batch = append(batch, order(cust+"-o"+strconv.Itoa(i), cust, t0.Add(time.Duration(i)*time.Hour), 100))
				dup = append(dup, false)
				if i%3 == 1 { // the one before, again
					batch = append(batch, batch[len(batch)-2])
					dup = append(dup, true)
				}
			}
			res, err := tr.RecordBatch(ctx, batch)
			require.NoError(t, err, "%d distinct events", n)
			require.Len(t, res, len(batch))
			for i, r := range res {
				require.Equal(t, dup[i], r.Duplicate, "%d distinct events: result %d (%s)", n, i, r.EventID)
			}
			c, err := tr.Store().Get(ctx, cust)
			require.NoError(t, err)
			require.Equal(t, int64(n), c.Facts.Count(lifecycle.OrderCompleted), "%d distinct events: orders counted", n)
			require.Equal(t, n, c.Seen.Len(), "%d distinct events: Seen", n)
		}
	})
}
