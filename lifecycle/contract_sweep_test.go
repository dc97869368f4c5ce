package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

type rvHookLog struct {
	mu  sync.Mutex
	chs []lifecycle.Change
}

func (h *rvHookLog) hook(_ context.Context, ch lifecycle.Change) {
	h.mu.Lock()
	h.chs = append(h.chs, ch)
	h.mu.Unlock()
}

// rvCheckHooks: hooks fire exactly once per stored transition.
func rvCheckHooks(t *testing.T, label string, h *rvHookLog, st lifecycle.Store) {
	t.Helper()
	type key struct {
		c        string
		from, to stage.ID
		at       int64
		cause    string
	}
	count := map[key]int{}
	total := 0
	for c, err := range st.Scan(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range c.History {
			count[key{c.ID, tr.From, tr.To, tr.At.UnixNano(), tr.Cause}]++
			total++
		}
		if c.PendingReferrer() && (c.Stage != "" || len(c.History) != 0) {
			t.Errorf("%s: pending referrer %s has stage %q history %d", label, c.ID, c.Stage, len(c.History))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.chs) != total {
		t.Errorf("%s: %d hook calls, %d stored transitions", label, len(h.chs), total)
	}
	for _, ch := range h.chs {
		if ch.Seq != 0 || ch.Pos != 0 {
			t.Errorf("%s: hook change with Seq %d Pos %d", label, ch.Seq, ch.Pos)
		}
		k := key{ch.CustomerID, ch.From, ch.To, ch.At.UnixNano(), ch.Cause}
		if count[k] == 0 {
			t.Errorf("%s: hook change %+v not stored (or called twice)", label, ch)
			continue
		}
		count[k]--
	}
}

func TestContractHooksOncePerTransition(t *testing.T) {
	ctx := context.Background()
	evs := rvGen(21, 5, 400)
	for _, plain := range []bool{false, true} {
		h := &rvHookLog{}
		mem := store.NewMemory()
		var st lifecycle.Store = mem
		if plain {
			st = rvPlain{mem}
		}
		tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(rvClock), lifecycle.WithHook(h.hook), lifecycle.WithHook(nil))
		r := rand.New(rand.NewPCG(21, 2))
		all := rvWithDups(r, evs)
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(all); i += 6 {
					if i%5 == 0 && i+3 < len(all) {
						if _, err := tr.RecordBatch(ctx, all[i:i+3]); err != nil {
							t.Error(err)
						}
						continue
					}
					if _, err := tr.Record(ctx, all[i]); err != nil {
						t.Error(err)
					}
				}
			}(w)
		}
		wg.Wait()
		if _, err := tr.Sweep(ctx, rvT0); err != nil {
			t.Fatal(err)
		}
		rvCheckHooks(t, fmt.Sprintf("plain=%v", plain), h, mem)
	}
}

func TestContractHookPanicAndOrder(t *testing.T) {
	ctx := context.Background()
	var order []int
	tr, _ := rvTracker(t,
		lifecycle.WithHook(func(context.Context, lifecycle.Change) { order = append(order, 1); panic("boom") }),
		lifecycle.WithHook(func(context.Context, lifecycle.Change) { order = append(order, 2) }))
	res, err := tr.Record(ctx, rvEv("e1", "c1", lifecycle.SiteVisited, rvT0))
	if err != nil || !res.Moved || res.From != "" {
		t.Fatalf("res %+v err %v", res, err)
	}
	if len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Errorf("hook order %v", order)
	}
	c, err := tr.Customer(ctx, "c1")
	if err != nil || c.Stage == "" {
		t.Errorf("event not stored: %v", err)
	}
}

func TestContractSweepSemantics(t *testing.T) {
	ctx := context.Background()
	h := &rvHookLog{}
	tr, st := rvTracker(t, lifecycle.WithHook(h.hook))
	old := rvT0.Add(-200 * 24 * time.Hour)
	recent := rvT0.Add(-10 * 24 * time.Hour)
	mk := func(id, c string, at time.Time) lifecycle.Event {
		e := rvEv(id, c, lifecycle.OrderCompleted, at)
		e.Amount, e.Currency = 100, "EUR"
		return e
	}
	for _, e := range []lifecycle.Event{mk("o1", "lapser", old), mk("o2", "fresh", recent), rvEv("v1", "visitor", lifecycle.SiteVisited, old)} {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	lap, _ := tr.Customer(ctx, "lapser")
	if lap.Stage != "conversion" {
		t.Fatalf("lapser stage %s", lap.Stage)
	}
	wantDue := old.Add(180*24*time.Hour + 1)
	if !lap.Due.Equal(wantDue) {
		t.Errorf("lapser Due %v, want %v", lap.Due, wantDue)
	}
	vis, _ := tr.Customer(ctx, "visitor")
	if !vis.Due.Equal(lifecycle.Never) {
		t.Errorf("visitor Due %v, want Never", vis.Due)
	}
	// A sweep just before the lapse moves nobody.
	sr, err := tr.Sweep(ctx, wantDue.Add(-1))
	if err != nil || sr.Moved != 0 {
		t.Errorf("early sweep %+v %v", sr, err)
	}
	// A sweep exactly at Due moves the lapser.
	h.chs = nil
	sr, err = tr.Sweep(ctx, wantDue)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Moved != 1 || sr.Updated != 1 || sr.Scanned != 1 {
		t.Errorf("sweep at due: %+v", sr)
	}
	lap, _ = tr.Customer(ctx, "lapser")
	if lap.Stage != "acquisition" || !lap.AsOf.Equal(wantDue) || lap.History[len(lap.History)-1].Cause != "" || !lap.Since.Equal(wantDue) {
		t.Errorf("lapser after sweep: %s asof %v hist %+v", lap.Stage, lap.AsOf, lap.History)
	}
	if len(h.chs) != 1 || h.chs[0].CustomerID != "lapser" || h.chs[0].Cause != "" {
		t.Errorf("hooks on sweep: %+v", h.chs)
	}
	// Nothing due any more at that time.
	sr, err = tr.Sweep(ctx, wantDue)
	if err != nil || sr != (lifecycle.SweepResult{}) {
		t.Errorf("second sweep %+v %v", sr, err)
	}
	// A clock gone back: nothing updated.
	sr, err = tr.Sweep(ctx, old)
	if err != nil || sr.Updated != 0 || sr.Moved != 0 {
		t.Errorf("backwards sweep %+v %v", sr, err)
	}
	// Out of range now.
	for _, now := range []time.Time{{}, time.Date(1899, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := tr.Sweep(ctx, now)
		rvWantField(t, "sweep now "+now.String(), err, "now")
		_, err = tr.Reclassify(ctx, now)
		rvWantField(t, "reclassify now "+now.String(), err, "now")
	}
	// A sweep at Never is allowed; Never-due customers are not touched.
	before := rvSnapshot(t, st)
	sr, err = tr.Sweep(ctx, lifecycle.Never)
	if err != nil {
		t.Fatal(err)
	}
	after := rvSnapshot(t, st)
	for id, c := range after {
		b := before[id]
		if b.Due.Equal(lifecycle.Never) && c.Version != b.Version {
			t.Errorf("%s with Due Never was written by a sweep at Never", id)
		}
	}
	// fresh is due at recent+180d+1ns <= Never, so it was swept.
	if f := after["fresh"]; f.Stage != "acquisition" || !f.AsOf.Equal(lifecycle.Never) {
		t.Errorf("fresh after sweep at Never: %s %v (sweep %+v)", f.Stage, f.AsOf, sr)
	}
}

func TestContractSweepAheadAsOfNeverBack(t *testing.T) {
	ctx := context.Background()
	tr, _ := rvTracker(t)
	e := rvEv("o1", "c", lifecycle.OrderCompleted, rvT0.Add(-300*24*time.Hour))
	if _, err := tr.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Sweep(ctx, rvT0); err != nil {
		t.Fatal(err)
	}
	// A late order dated before the sweep: AsOf stays at the sweep time and
	// the customer is classified at that time.
	late := rvEv("o2", "c", lifecycle.OrderCompleted, rvT0.Add(-250*24*time.Hour))
	res, err := tr.Record(ctx, late)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tr.Customer(ctx, "c")
	if !c.AsOf.Equal(rvT0) {
		t.Errorf("AsOf %v, want sweep time %v", c.AsOf, rvT0)
	}
	if c.Stage != "acquisition" || res.Moved {
		t.Errorf("stage %s moved %v: the late order lapsed at the sweep time", c.Stage, res.Moved)
	}
}

func TestContractReclassify(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	old := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(rvClock))
	evs := rvGen(31, 8, 120)
	for _, e := range evs {
		if _, err := old.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Also a customer with an event after now.
	if _, err := old.Record(ctx, rvEv("late", "future", lifecycle.SiteVisited, rvT0)); err != nil {
		t.Fatal(err)
	}
	h := &rvHookLog{}
	six := model.SixStage()
	nt := lifecycle.NewTracker(six, st, lifecycle.WithClock(rvClock), lifecycle.WithHook(h.hook))
	now := rvT0.Add(-time.Minute)
	before := rvSnapshot(t, st)
	sr, err := nt.Reclassify(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Scanned != len(before) {
		t.Errorf("Scanned %d, customers %d", sr.Scanned, len(before))
	}
	after := rvSnapshot(t, st)
	moved, updated := 0, 0
	for id, c := range after {
		b := before[id]
		if b.PendingReferrer() || !now.After(b.AsOf) {
			if c.Version != b.Version {
				t.Errorf("%s left alone? version %d -> %d", id, b.Version, c.Version)
			}
			continue
		}
		updated++
		want := six.Stage(&c.Facts, now)
		if c.Stage != want || !c.AsOf.Equal(now) {
			t.Errorf("%s: stage %s asof %v, want %s at %v", id, c.Stage, c.AsOf, want, now)
		}
		if c.Stage != b.Stage {
			moved++
		}
	}
	if sr.Moved != moved || sr.Updated != updated {
		t.Errorf("Reclassify %+v, counted moved %d updated %d", sr, moved, updated)
	}
	if len(h.chs) != moved {
		t.Errorf("hooks %d, moved %d", len(h.chs), moved)
	}
}

func TestContractNoTracker(t *testing.T) {
	ctx := context.Background()
	var zero lifecycle.Tracker
	var nilT *lifecycle.Tracker
	trs := map[string]*lifecycle.Tracker{
		"zero":     &zero,
		"nil":      nilT,
		"no model": lifecycle.NewTracker(nil, store.NewMemory()),
		"no store": lifecycle.NewTracker(model.SterneCutler(), nil),
		"nil mem":  lifecycle.NewTracker(model.SterneCutler(), (*store.Memory)(nil)),
	}
	e := rvEv("e", "c", lifecycle.SiteVisited, rvT0.Add(-time.Hour))
	for name, tr := range trs {
		chk := func(what string, err error) {
			if !errors.Is(err, lifecycle.ErrNoTracker) {
				t.Errorf("%s %s: %v, want ErrNoTracker", name, what, err)
			}
		}
		_, err := tr.Record(ctx, e)
		chk("Record", err)
		_, err = tr.RecordBatch(ctx, []lifecycle.Event{e})
		chk("RecordBatch", err)
		_, err = tr.RecordBatch(ctx, nil)
		chk("RecordBatch empty", err)
		_, err = tr.Sweep(ctx, rvT0)
		chk("Sweep", err)
		_, err = tr.Reclassify(ctx, rvT0)
		chk("Reclassify", err)
		_, err = tr.Customer(ctx, "c")
		chk("Customer", err)
		_, err = tr.Import(ctx, rvSeq([]lifecycle.Event{e}), nil)
		chk("Import", err)
		chk("Validate", tr.Validate(&e))
	}
	if nilT.Undeclared() != 0 || nilT.Model() != nil || nilT.Store() != nil {
		t.Error("nil tracker accessors")
	}
	for _, err := range lifecycle.Browse(ctx, nil) {
		if !errors.Is(err, lifecycle.ErrNoTracker) {
			t.Errorf("Browse(nil): %v", err)
		}
	}
}
