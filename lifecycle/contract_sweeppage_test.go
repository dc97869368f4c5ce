package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// rvScanFail wraps rvFake so Scan fails after n customers.
type rvScanFail struct {
	*rvFake
	n int
}

var rvErrScan = errors.New("rv: scan failed")

func (s rvScanFail) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		i := 0
		for c, err := range s.rvFake.Scan(ctx) {
			if i == s.n {
				yield(nil, rvErrScan)
				return
			}
			i++
			if !yield(c, err) {
				return
			}
		}
	}
}

func rvFill(t *testing.T, tr *lifecycle.Tracker, n int, at time.Time) {
	t.Helper()
	evs := make([]lifecycle.Event, n)
	for i := range evs {
		evs[i] = rvOrder("o", fmt.Sprintf("c%03d", i), at)
	}
	if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func TestContractSweepPages(t *testing.T) {
	ctx := context.Background()
	old := rvT0.Add(-300 * 24 * time.Hour)
	// Memory: all lapse.
	tr, _ := rvTracker(t)
	rvFill(t, tr, 250, old)
	sr, err := tr.Sweep(ctx, rvT0)
	if err != nil || sr != (lifecycle.SweepResult{Scanned: 250, Updated: 250, Moved: 250}) {
		t.Errorf("memory sweep %+v %v", sr, err)
	}
	// Plain store, failing every write: stops after the first page.
	f := rvNewFake()
	tr = lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock))
	rvFill(t, tr, 250, old)
	f.putFault = func(*lifecycle.Customer) (error, bool) { return rvErrStore, false }
	f.puts = 0
	sr, err = tr.Sweep(ctx, rvT0)
	if !errors.Is(err, rvErrStore) {
		t.Errorf("err %v", err)
	}
	if sr.Scanned != 100 || sr.Updated != 0 || sr.Moved != 0 {
		t.Errorf("failing sweep %+v", sr)
	}
	if f.puts != 100 {
		t.Errorf("%d Put calls, want 100 (one page)", f.puts)
	}
	// Then it finishes.
	f.putFault = nil
	sr, err = tr.Sweep(ctx, rvT0)
	if err != nil || sr.Updated != 250 || sr.Moved != 250 {
		t.Errorf("second sweep %+v %v", sr, err)
	}
	// Scan failing after 150 customers: those listed are written, then the error.
	f2 := rvNewFake()
	tr = lifecycle.NewTracker(model.SterneCutler(), rvScanFail{f2, 150}, lifecycle.WithClock(rvClock))
	rvFill(t, tr, 250, old)
	sr, err = tr.Sweep(ctx, rvT0)
	if !errors.Is(err, rvErrScan) || sr.Scanned != 150 || sr.Updated != 150 {
		t.Errorf("scan failure: %+v %v", sr, err)
	}
	sr, err = tr.Sweep(ctx, rvT0)
	if !errors.Is(err, rvErrScan) || sr.Updated > 100 || sr.Scanned != sr.Updated {
		t.Errorf("scan failure 2: %+v %v", sr, err)
	}
}

// A model without Scheduler: every customer is due at every sweep; Due zero.
type rvNoSched struct{ m lifecycle.Model }

func (m rvNoSched) Name() string { return "nosched" }
func (m rvNoSched) Stages() *stageGraph {
	return m.m.Stages()
}
func (m rvNoSched) Stage(f *lifecycle.Facts, now time.Time) stageID { return m.m.Stage(f, now) }

func TestContractSweepNoScheduler(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(rvNoSched{model.SterneCutler()}, st, lifecycle.WithClock(rvClock))
	rvFill(t, tr, 5, rvT0.Add(-10*24*time.Hour))
	if _, err := tr.Record(ctx, rvEv("v", "visitor", lifecycle.SiteVisited, rvT0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	for c := range rvSnapshot(t, st) {
		cc, _ := st.Get(ctx, c)
		if !cc.Due.IsZero() {
			t.Errorf("%s Due %v, want zero", c, cc.Due)
		}
	}
	sr, err := tr.Sweep(ctx, rvT0.Add(-30*time.Minute))
	if err != nil || sr.Scanned != 6 || sr.Updated != 6 {
		t.Errorf("sweep 1 %+v %v", sr, err)
	}
	sr, err = tr.Sweep(ctx, rvT0)
	if err != nil || sr.Scanned != 6 || sr.Updated != 6 {
		t.Errorf("sweep 2 %+v %v", sr, err)
	}
	// A sweep at the same time: due (Due zero) but AsOf not before now.
	sr, err = tr.Sweep(ctx, rvT0)
	if err != nil || sr.Updated != 0 {
		t.Errorf("sweep 3 %+v %v", sr, err)
	}
}

type stageGraph = stage.Graph
type stageID = stage.ID
