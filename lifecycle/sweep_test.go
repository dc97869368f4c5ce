package lifecycle_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// staleScan is a Memory whose Scan yields copies taken earlier, as the Store
// contract allows for customers written during a scan.
type staleScan struct {
	*store.Memory
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

// A customer whose AsOf moved past the sweep time after Scan copied it is
// left alone, and not counted as updated.
func TestSweepCountsOnlyWrites(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := lifecycle.WithClock(func() time.Time { return at.Add(72 * time.Hour) })
	for _, inPlace := range []bool{true, false} {
		m := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), m, clock)
		if _, err := tr.Record(ctx, lifecycle.Event{ID: "e1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: at}); err != nil {
			t.Fatal(err)
		}
		old, err := m.Get(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Record(ctx, lifecycle.Event{ID: "e2", CustomerID: "c", Type: lifecycle.SiteVisited, Time: at.Add(48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var s lifecycle.Store = staleScan{m, []*lifecycle.Customer{old}}
		if !inPlace {
			s = struct{ lifecycle.Store }{s} // hides Updater and Loader
		}
		sr, err := lifecycle.NewTracker(model.SterneCutler(), s, clock).Sweep(ctx, at.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := (lifecycle.SweepResult{Scanned: 1}); sr != want {
			t.Errorf("in place %v: Sweep = %+v; want %+v (nothing was written)", inPlace, sr, want)
		}
		c, err := m.Get(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != 2 || !c.AsOf.Equal(at.Add(48*time.Hour)) {
			t.Errorf("in place %v: stored version %d AsOf %v; want 2 and %v", inPlace, c.Version, c.AsOf, at.Add(48*time.Hour))
		}
		// A sweep later than AsOf does write, and counts.
		sr, err = lifecycle.NewTracker(model.SterneCutler(), m, clock).Sweep(ctx, at.Add(60*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if sr.Updated != 1 {
			t.Errorf("in place %v: a sweep after AsOf = %+v; want Updated 1", inPlace, sr)
		}
	}
}
