package lifecycle_test

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func eventSeq(events []lifecycle.Event) iter.Seq2[lifecycle.Event, error] {
	return func(yield func(lifecycle.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// TestImportMatchesReplay imports shuffled streams with repeats, on every
// store path, and compares with a sequential replay of the distinct
// events through Record.
func TestImportMatchesReplay(t *testing.T) {
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 9))
		events := stream(r, 15+r.IntN(20))
		want := replay(t, events)
		mixed := shuffled(r, events)
		for _, p := range storePaths {
			st := p.new()
			tr := newTrackerOn(st)
			var calls int
			ir, err := tr.Import(context.Background(), eventSeq(mixed), func(lifecycle.ImportResult) { calls++ })
			require.NoError(t, err, "seed %d (%s)", seed, p.name)
			if diff := cmp.Diff(want, snapshot(t, st)); diff != "" {
				t.Fatalf("seed %d (%s): import differs from sequential replay (-replay +import):\n%s", seed, p.name, diff)
			}
			if ir.Events != len(mixed) || ir.Applied != len(events) || ir.Duplicates != len(mixed)-len(events) || calls != 1 {
				t.Fatalf("seed %d (%s): %+v, %d progress calls; want %d events, %d applied, %d duplicates, 1 call", seed, p.name, ir, calls, len(mixed), len(events), len(mixed)-len(events))
			}
			// Importing again applies nothing.
			again, err := tr.Import(context.Background(), eventSeq(events), nil)
			require.NoError(t, err)
			if again.Applied != 0 || again.Duplicates != len(events) || again.Customers != 0 {
				t.Fatalf("seed %d (%s): importing again = %+v; want every event a duplicate and no write", seed, p.name, again)
			}
		}
	}
}

// TestImportExistingAndConcurrent imports into a store whose customers
// already hold part of the events, while other goroutines record the
// same events: every event is applied once, as in a replay.
func TestImportExistingAndConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	events := stream(r, 60)
	want := replay(t, events)
	for _, p := range storePaths {
		st := p.new()
		tr := newTrackerOn(st, lifecycle.WithMaxRetries(1000))
		ctx := context.Background()
		for _, e := range events[:len(events)/3] { // already recorded
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rr := rand.New(rand.NewPCG(uint64(g), 5))
				for _, e := range shuffled(rr, events) {
					if _, err := tr.Record(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		_, err := tr.Import(ctx, eventSeq(shuffled(r, events)), nil)
		require.NoError(t, err, p.name)
		wg.Wait()
		if diff := cmp.Diff(want, snapshot(t, st)); diff != "" {
			t.Fatalf("%s: import with existing customers and concurrent writers differs from replay (-replay +import):\n%s", p.name, diff)
		}
	}
}

// TestImportChunks imports more events than one chunk and checks the
// progress reports.
func TestImportChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 205,000 events (two chunks and then some)")
	}
	const n = 2*lifecycle.ImportChunk + 5000
	events := make([]lifecycle.Event, n)
	for i := range events {
		events[i] = ev("e"+itoa(i), "c"+itoa(i%997), lifecycle.SiteVisited, t0.Add(timeSec(i)))
	}
	st := store.NewMemory()
	tr := newTrackerOn(st)
	var seen []lifecycle.ImportResult
	ir, err := tr.Import(context.Background(), eventSeq(events), func(r lifecycle.ImportResult) { seen = append(seen, r) })
	require.NoError(t, err)
	if ir.Applied != n || len(seen) != 3 || seen[0].Events != lifecycle.ImportChunk || seen[1].Events != 2*lifecycle.ImportChunk || seen[2] != ir {
		t.Fatalf("Import = %+v with progress %+v; want %d applied in 3 chunks", ir, seen, n)
	}
	if st.Len() != 997 {
		t.Fatalf("%d customers stored; want 997", st.Len())
	}
}

// TestImportStops checks that an invalid event or an iterator error stops
// the import, naming the event's position, after applying what came
// before.
func TestImportStops(t *testing.T) {
	ctx := context.Background()
	good := []lifecycle.Event{ev("a", "c1", lifecycle.SiteVisited, t0), ev("b", "c2", lifecycle.SiteVisited, t0)}
	bad := append(slices.Clone(good), ev("", "c3", lifecycle.SiteVisited, t0), ev("d", "c4", lifecycle.SiteVisited, t0))
	st := store.NewMemory()
	ir, err := newTrackerOn(st).Import(ctx, eventSeq(bad), nil)
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !strings.Contains(err.Error(), "event 2") {
		t.Fatalf("Import with an invalid third event = %v; want ErrInvalidEvent naming event 2", err)
	}
	if ir.Applied != 2 || st.Len() != 2 {
		t.Fatalf("after the invalid event: %+v, %d stored; want the 2 events before it applied", ir, st.Len())
	}
	boom := errors.New("read failed")
	failing := func(yield func(lifecycle.Event, error) bool) {
		if yield(ev("x", "c9", lifecycle.SiteVisited, t0), nil) {
			yield(lifecycle.Event{}, boom)
		}
	}
	st = store.NewMemory()
	ir, err = newTrackerOn(st).Import(ctx, failing, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "event 1") || ir.Applied != 1 {
		t.Fatalf("Import whose iterator fails = %+v, %v; want the error, naming event 1, after 1 applied", ir, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func timeSec(i int) time.Duration { return time.Duration(i) * time.Second }

// TestBatchTwoReferrers: where a customer's events name two different
// referrers (the one exception to order independence), Import and
// RecordBatch fold the customer's events together and credit the referrer
// of the earliest referring event only, as recording the events one by one
// in time order does; recording them in another order may credit both.
func TestBatchTwoReferrers(t *testing.T) {
	ctx := context.Background()
	t1 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	events := []lifecycle.Event{
		{ID: "o1", CustomerID: "b", Type: lifecycle.OrderCompleted, Time: t1, ReferrerID: "a"},
		{ID: "s1", CustomerID: "b", Type: lifecycle.SignedUp, Time: t1.Add(-time.Hour), ReferrerID: "c"},
	}
	later := t1.AddDate(1, 0, 0)
	credited := func(record func(*lifecycle.Tracker)) map[string]int {
		m := store.NewMemory()
		record(lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return later })))
		out := map[string]int{}
		for c, err := range m.Scan(ctx) {
			require.NoError(t, err)
			out[c.ID] = len(c.Facts.Referrals)
		}
		return out
	}
	inTimeOrder := credited(func(tr *lifecycle.Tracker) {
		for _, e := range []lifecycle.Event{events[1], events[0]} {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
	})
	require.Equal(t, map[string]int{"b": 0, "c": 1}, inTimeOrder)
	asGiven := credited(func(tr *lifecycle.Tracker) {
		for _, e := range events {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
	})
	require.Equal(t, map[string]int{"a": 1, "b": 0, "c": 1}, asGiven, "the exception: a credit is never taken back")
	require.Equal(t, inTimeOrder, credited(func(tr *lifecycle.Tracker) {
		_, err := tr.Import(ctx, eventSeq(events), nil)
		require.NoError(t, err)
	}), "Import")
	require.Equal(t, inTimeOrder, credited(func(tr *lifecycle.Tracker) {
		_, err := tr.RecordBatch(ctx, events)
		require.NoError(t, err)
	}), "RecordBatch")
}

// TestImportTwoReferrersAcrossChunks: where a customer's events naming two
// referrers fall in different chunks, Import is as recording the chunks
// in input order, as its doc says: the credit the first chunk gave is
// kept when the second names an earlier referrer (found by a hostile-input
// audit: the doc promised time order across chunks).
func TestImportTwoReferrersAcrossChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,001 events (two chunks)")
	}
	ctx := context.Background()
	t1 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	o := lifecycle.Event{ID: "o1", CustomerID: "b", Type: lifecycle.OrderCompleted, Time: t1, ReferrerID: "a"}
	s := lifecycle.Event{ID: "s1", CustomerID: "b", Type: lifecycle.SignedUp, Time: t1.Add(-time.Hour), ReferrerID: "c"}
	events := []lifecycle.Event{o}
	for i := range lifecycle.ImportChunk - 1 {
		events = append(events, ev("f"+itoa(i), "f"+itoa(i%991), lifecycle.SiteVisited, t0.Add(timeSec(i))))
	}
	events = append(events, s) // the first event of the second chunk
	m := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return t1.AddDate(1, 0, 0) }))
	_, err := tr.Import(ctx, eventSeq(events), nil)
	require.NoError(t, err)
	for _, id := range []string{"a", "c"} {
		c, err := m.Get(ctx, id)
		require.NoError(t, err, "referrer %s", id)
		require.Len(t, c.Facts.Referrals, 1, "referrer %s: a credit for b", id)
	}
}

// downStore is a Memory whose writes all fail with errDown; it has only
// the methods of a Store, so the Tracker writes through Put.
type downStore struct{ m *store.Memory }

var errDown = errors.New("store down")

func (d downStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return d.m.Get(ctx, id)
}

func (d downStore) Put(context.Context, *lifecycle.Customer, uint64) error { return errDown }

func (d downStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return d.m.Scan(ctx)
}

// TestImportStopsWriteFails: when the write of the events before an
// invalid event (or an iterator's error) fails, the error still names and
// wraps the event's error, beside the write's.
func TestImportStopsWriteFails(t *testing.T) {
	ctx := context.Background()
	tr := newTrackerOn(downStore{store.NewMemory()})
	in := []lifecycle.Event{ev("a", "c1", lifecycle.SiteVisited, t0), ev("", "c2", lifecycle.SiteVisited, t0)}
	_, err := tr.Import(ctx, eventSeq(in), nil)
	if !errors.Is(err, errDown) || !errors.Is(err, lifecycle.ErrInvalidEvent) || !strings.Contains(err.Error(), "event 1") {
		t.Errorf("Import with an invalid second event, the first's write failing = %v; want both errors, naming event 1", err)
	}
	boom := errors.New("read failed")
	failing := func(yield func(lifecycle.Event, error) bool) {
		if yield(ev("a", "c1", lifecycle.SiteVisited, t0), nil) {
			yield(lifecycle.Event{}, boom)
		}
	}
	_, err = tr.Import(ctx, failing, nil)
	if !errors.Is(err, errDown) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "reading event 1") {
		t.Errorf("Import whose iterator fails after an event whose write fails = %v; want both errors, naming event 1", err)
	}
}

// TestImportCountsCustomersOfEvents: Customers counts the customers whose
// events were written, not a referrer a referral credit writes (as Moved
// leaves out the moves credits cause).
func TestImportCountsCustomersOfEvents(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	signUp := ev("s", "b", lifecycle.SignedUp, t0)
	signUp.ReferrerID = "ghost"
	order := ev("o", "b", lifecycle.OrderCompleted, t0.Add(time.Hour))
	order.Amount, order.Currency = 100, "EUR"
	ir, err := newTrackerOn(st).Import(ctx, eventSeq([]lifecycle.Event{signUp, order}), nil)
	require.NoError(t, err)
	if ir.Customers != 1 || st.Len() != 2 {
		t.Errorf("Import of a referred customer's events: Customers %d, %d stored; want 1 (the referrer, written by the credit, not counted) and 2", ir.Customers, st.Len())
	}
}
