package lifecycle_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// staleScan is a store whose Scan yields copies taken earlier, as the Store
// contract allows for customers written during a scan. It has no ListDue,
// so Sweep scans.
type staleScan struct {
	lifecycle.Store
	old []*lifecycle.Customer
}

func (s staleScan) Scan(context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for _, c := range s.old {
			if !yield(c.Clone(), nil) {
				return
			}
		}
	}
}

// staleApplier is a staleScan that writes through Memory's Apply.
type staleApplier struct {
	staleScan
	m *store.Memory
}

func (s staleApplier) Apply(ctx context.Context, ws []lifecycle.Write) {
	s.m.Apply(ctx, ws)
}

// staleList is a Memory whose ListDue yields IDs listed earlier, as the
// DueLister contract allows for customers written during the listing.
type staleList struct {
	*store.Memory
	ids []string
}

func (s staleList) ListDue(context.Context, time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for _, id := range s.ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

// A customer who was due when listed (by ListDue or Scan) but is not any
// more when the sweep writes — their AsOf moved past the sweep time, or
// (with a Scheduler) a new event moved their Due past it — is left alone,
// and counted as scanned but not as updated.
func TestSweepCountsOnlyWrites(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := lifecycle.WithClock(func() time.Time { return at.AddDate(2, 0, 0) })
	for _, tc := range []struct {
		name  string
		model lifecycle.Model
		// first and second are the customer's events; sweep is the sweep
		// time, due when the customer had only the first event and not
		// due after the second; later is a time due after the second.
		first, second   lifecycle.Event
		sweep, later    time.Time
		wantDueAfterTwo time.Time
		movesLater      int
	}{
		{
			name:   "AsOf moved past the sweep time",
			model:  noSchedule{model.SterneCutler()}, // every customer is due
			first:  lifecycle.Event{ID: "e1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: at},
			second: lifecycle.Event{ID: "e2", CustomerID: "c", Type: lifecycle.SiteVisited, Time: at.Add(48 * time.Hour)},
			sweep:  at.Add(24 * time.Hour), later: at.Add(60 * time.Hour),
		},
		{
			name:   "Due moved past the sweep time",
			model:  model.SterneCutler(), // a buyer is due when they lapse
			first:  lifecycle.Event{ID: "o1", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at, Amount: 1, Currency: "EUR"},
			second: lifecycle.Event{ID: "o2", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at.AddDate(0, 0, 100), Amount: 1, Currency: "EUR"},
			sweep:  at.AddDate(0, 0, 200), later: at.AddDate(0, 0, 300), movesLater: 1, // the buyer lapses
			wantDueAfterTwo: at.AddDate(0, 0, 100).Add(model.DefaultLapseAfter + time.Nanosecond),
		},
	} {
		for _, path := range []string{"ListDue", "Apply and Scan", "Get and Put"} {
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				m := store.NewMemory()
				tr := lifecycle.NewTracker(tc.model, m, clock)
				if _, err := tr.Record(ctx, tc.first); err != nil {
					t.Fatal(err)
				}
				old, err := m.Get(ctx, "c")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tr.Record(ctx, tc.second); err != nil {
					t.Fatal(err)
				}
				cur, err := m.Get(ctx, "c")
				if err != nil {
					t.Fatal(err)
				}
				if !cur.Due.Equal(tc.wantDueAfterTwo) {
					t.Fatalf("Due after the second event %v, want %v", cur.Due, tc.wantDueAfterTwo)
				}
				// The customer's real listing at the sweep time is empty
				// (not due); the stale one is not.
				if _, sched := tc.model.(lifecycle.Scheduler); sched {
					for id, err := range m.ListDue(ctx, tc.sweep) {
						t.Fatalf("ListDue(%v) = %q, %v; want nothing", tc.sweep, id, err)
					}
				}
				var s lifecycle.Store
				switch path {
				case "ListDue":
					s = staleList{m, []string{"c"}}
				case "Apply and Scan":
					s = staleApplier{staleScan{plainStore{m}, []*lifecycle.Customer{old}}, m}
				case "Get and Put":
					s = staleScan{plainStore{m}, []*lifecycle.Customer{old}}
				}
				sr, err := lifecycle.NewTracker(tc.model, s, clock).Sweep(ctx, tc.sweep)
				if err != nil {
					t.Fatal(err)
				}
				if want := (lifecycle.SweepResult{Scanned: 1}); sr != want {
					t.Errorf("Sweep = %+v; want %+v (nothing was written)", sr, want)
				}
				c, err := m.Get(ctx, "c")
				if err != nil {
					t.Fatal(err)
				}
				if c.Version != 2 || !c.AsOf.Equal(tc.second.Time) {
					t.Errorf("stored version %d AsOf %v; want 2 and %v", c.Version, c.AsOf, tc.second.Time)
				}
				// A sweep when the customer is due does write, and counts.
				sr, err = lifecycle.NewTracker(tc.model, m, clock).Sweep(ctx, tc.later)
				if err != nil {
					t.Fatal(err)
				}
				if want := (lifecycle.SweepResult{Scanned: 1, Updated: 1, Moved: tc.movesLater}); sr != want {
					t.Errorf("a sweep when due = %+v; want %+v", sr, want)
				}
			})
		}
	}
}

// TestSweepTimeRange checks that Sweep refuses a time outside the years
// 1900 to 9999 itself, naming it, before reading any customer, on every
// store path (issue 16: the SQL stores used to fail on the first due
// customer, blaming it, where Memory accepted the time).
func TestSweepTimeRange(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() lifecycle.Store) {
		ctx := context.Background()
		s := newStore()
		tr := lifecycle.NewTracker(noSchedule{model.SterneCutler()}, s, lifecycle.WithClock(func() time.Time { return farFuture }))
		_, err := tr.Record(ctx, order("o1", "c1", t0, 100))
		require.NoError(t, err)
		before, err := s.Get(ctx, "c1")
		require.NoError(t, err)
		for _, now := range []time.Time{
			time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -2*3600)), // 10000-01-01T01:00Z
			time.Date(1899, 12, 31, 23, 59, 59, 0, time.UTC),
			{},
		} {
			sr, err := tr.Sweep(ctx, now)
			checkField(t, err, "now")
			require.Zero(t, sr)
			require.NotContains(t, err.Error(), "c1", "the error blames a customer")
			after, err := s.Get(ctx, "c1")
			require.NoError(t, err)
			require.Equal(t, before.Version, after.Version, "a refused sweep wrote %v", now)
		}
		// The last instant of 9999 is a valid sweep time.
		sr, err := tr.Sweep(ctx, lifecycle.Never)
		require.NoError(t, err)
		require.Equal(t, 1, sr.Updated)
	})
}

// TestReclassifyAfterModelSwitch: a customer recorded under one model keeps
// that model's stage and due time; a Sweep under another model, which
// trusts the due time, does not visit them, and Reclassify moves them to
// the new model's stage with its due time, writing every customer once.
func TestReclassifyAfterModelSwitch(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	old := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
	for i, id := range []string{"a", "b"} {
		_, err := old.Record(ctx, lifecycle.Event{ID: id + "-o", CustomerID: id, Type: lifecycle.OrderCompleted, Time: t0.Add(time.Duration(i) * time.Hour), Amount: 100, Currency: "EUR"})
		require.NoError(t, err)
	}
	// A visitor, and the customer who referred them, who has no event of
	// their own: a pending referrer once c's order credits them.
	_, err := old.RecordBatch(ctx, []lifecycle.Event{
		{ID: "c-v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, ReferrerID: "pending"},
		{ID: "c-o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: t0.Add(time.Hour), Amount: 100, Currency: "EUR"},
	})
	require.NoError(t, err)
	p, err := st.Get(ctx, "pending")
	require.NoError(t, err)
	require.True(t, p.PendingReferrer())

	five := model.FiveStage()
	nu := lifecycle.NewTracker(five, st, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
	at := t0.Add(20 * 24 * time.Hour) // past FiveStage's nurturing window, before Sterne–Cutler's lapse
	sr, err := nu.Sweep(ctx, at)
	require.NoError(t, err)
	require.Equal(t, lifecycle.SweepResult{}, sr, "a sweep trusts the old model's due times")

	var moved []string
	nu = lifecycle.NewTracker(five, st, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }),
		lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) { moved = append(moved, ch.CustomerID+":"+string(ch.To)) }))
	sr, err = nu.Reclassify(ctx, at)
	require.NoError(t, err)
	require.Equal(t, lifecycle.SweepResult{Scanned: 4, Updated: 3, Moved: 3}, sr) // a, b, c and the pending referrer, not written
	for _, id := range []string{"a", "b", "c"} {
		c, err := st.Get(ctx, id)
		require.NoError(t, err)
		f := c.Facts
		require.Equal(t, five.Stage(&f, at), c.Stage, id)
		require.Equal(t, at, c.AsOf, id)
		due := five.(lifecycle.Scheduler).NextChange(&f, at)
		if due.IsZero() { // the Scheduler's "never"
			due = lifecycle.Never
		}
		require.Equal(t, due, c.Due, id)
	}
	require.ElementsMatch(t, []string{"a:nurturing", "b:nurturing", "c:nurturing"}, moved)
	if p2, err := st.Get(ctx, "pending"); err != nil || p2.Version != p.Version {
		t.Errorf("the pending referrer was written: %v, version %d → %d", err, p.Version, p2.Version)
	}
	// Again at the same time: nothing is written (AsOf is at now).
	sr, err = nu.Reclassify(ctx, at)
	require.NoError(t, err)
	require.Equal(t, 0, sr.Updated)
}

// TestSweepAtNever: a customer whose Due is Never is never due, also at a
// sweep at Never: not listed, not counted, not written (a pending
// referrer, whose Due is Never, was counted; a customer due Never was
// rewritten). With a store that lists them anyway, they are not written.
func TestSweepAtNever(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	for name, st := range map[string]lifecycle.Store{"memory": store.NewMemory(), "scan": staleScan{Store: store.NewMemory()}} {
		tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
		_, err := tr.RecordBatch(ctx, []lifecycle.Event{
			{ID: "v", CustomerID: "visitor", Type: lifecycle.SiteVisited, Time: t0, ReferrerID: "ref"},
			{ID: "o", CustomerID: "visitor", Type: lifecycle.OrderCompleted, Time: t0.Add(time.Hour), Amount: 100, Currency: "EUR"},
			{ID: "s", CustomerID: "lead", Type: lifecycle.SignedUp, Time: t0},
		})
		require.NoError(t, err, name)
		before := map[string]uint64{}
		for _, id := range []string{"ref", "lead"} {
			c, err := st.Get(ctx, id)
			require.NoError(t, err, name)
			require.True(t, c.Due.Equal(lifecycle.Never), "%s: %s is due %v", name, id, c.Due)
			before[id] = c.Version
		}
		if s, ok := st.(staleScan); ok { // its Scan yields what was stored now
			for c, err := range s.Store.Scan(ctx) {
				require.NoError(t, err)
				s.old = append(s.old, c)
			}
			st = s
			tr = lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
		}
		sr, err := tr.Sweep(ctx, lifecycle.Never)
		require.NoError(t, err, name)
		require.Equal(t, 1, sr.Updated, "%s: only the buyer is due (their lapse): %+v", name, sr)
		if name == "memory" {
			require.Equal(t, 1, sr.Scanned, "%s: %+v", name, sr)
		}
		for id, v := range before {
			c, err := st.Get(ctx, id)
			require.NoError(t, err, name)
			require.Equal(t, v, c.Version, "%s: %s was written by a sweep at Never", name, id)
		}
	}
}

// TestNilTrackerAndStore: a nil Tracker's Model and Store are nil, and
// Browse of a nil store yields an error, instead of panicking.
func TestNilTrackerAndStore(t *testing.T) {
	var tr *lifecycle.Tracker
	require.Nil(t, tr.Model())
	require.Nil(t, tr.Store())
	n := 0
	for c, err := range lifecycle.Browse(context.Background(), nil) {
		require.Nil(t, c)
		require.ErrorIs(t, err, lifecycle.ErrNoTracker)
		n++
	}
	require.Equal(t, 1, n)
}

// TestReclassifyRangeErrorNamesReclassify: Reclassify's out-of-range
// error names Reclassify, not Sweep (found by an audit).
func TestReclassifyRangeErrorNamesReclassify(t *testing.T) {
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	_, err := tr.Reclassify(context.Background(), time.Time{})
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !strings.Contains(err.Error(), "Reclassify refuses") {
		t.Errorf("Reclassify(zero time) = %v; want ErrInvalidEvent naming Reclassify", err)
	}
}
