package lifecycle_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
)

var rvErrStore = errors.New("rv: store is down")

// rvFake is a Store (Get, Put, Scan only) following the documented rules,
// with faults to inject.
type rvFake struct {
	mu   sync.Mutex
	m    map[string]*lifecycle.Customer
	puts int
	// faults, consulted per call: return non-nil to fail.
	getFault func(id string) error
	putFault func(c *lifecycle.Customer) (err error, commit bool)
}

func rvNewFake() *rvFake { return &rvFake{m: map[string]*lifecycle.Customer{}} }

func (f *rvFake) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.getFault != nil {
		if err := f.getFault(id); err != nil {
			return nil, err
		}
	}
	c, ok := f.m[id]
	if !ok {
		return nil, lifecycle.ErrNotFound
	}
	return c.Clone(), nil
}

func (f *rvFake) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if c.ID == "" || c.Version != prev+1 {
		return lifecycle.ErrInvalidCustomer
	}
	var cur uint64
	if s, ok := f.m[c.ID]; ok {
		cur = s.Version
	}
	if cur != prev {
		return lifecycle.ErrConflict
	}
	if f.putFault != nil {
		if err, commit := f.putFault(c); err != nil {
			if commit {
				f.m[c.ID] = c.Clone()
			}
			return err
		}
	}
	f.m[c.ID] = c.Clone()
	return nil
}

func (f *rvFake) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		f.mu.Lock()
		var cs []*lifecycle.Customer
		for _, c := range f.m {
			cs = append(cs, c.Clone())
		}
		f.mu.Unlock()
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

func (f *rvFake) get(id string) *lifecycle.Customer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.m[id]; ok {
		return c.Clone()
	}
	return nil
}

func rvOrder(id, cust string, at time.Time) lifecycle.Event {
	e := rvEv(id, cust, lifecycle.OrderCompleted, at)
	e.Amount, e.Currency = 1000, "EUR"
	return e
}

func TestContractFaultGetFails(t *testing.T) {
	ctx := context.Background()
	f := rvNewFake()
	tr := lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock))
	if _, err := tr.Record(ctx, rvOrder("o1", "c", rvT0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	before := f.get("c")
	f.getFault = func(string) error { return rvErrStore }
	res, err := tr.Record(ctx, rvOrder("o2", "c", rvT0.Add(-time.Minute)))
	if !errors.Is(err, rvErrStore) {
		t.Fatalf("err %v", err)
	}
	if res != (lifecycle.Result{EventID: "o2", CustomerID: "c"}) {
		t.Errorf("result with error: %+v", res)
	}
	if after := f.get("c"); after.Version != before.Version {
		t.Error("store changed after a failed Get")
	}
	f.getFault = nil
	res, err = tr.Record(ctx, rvOrder("o2", "c", rvT0.Add(-time.Minute)))
	if err != nil || res.Duplicate {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if c := f.get("c"); c.Facts.Count(lifecycle.OrderCompleted) != 2 {
		t.Errorf("orders %d", c.Facts.Count(lifecycle.OrderCompleted))
	}
}

func TestContractFaultPutFails(t *testing.T) {
	ctx := context.Background()
	for _, commit := range []bool{false, true} {
		f := rvNewFake()
		tr := lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock))
		if _, err := tr.Record(ctx, rvOrder("o1", "c", rvT0.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
		f.putFault = func(*lifecycle.Customer) (error, bool) { return rvErrStore, commit }
		res, err := tr.Record(ctx, rvOrder("o2", "c", rvT0.Add(-time.Minute)))
		if !errors.Is(err, rvErrStore) {
			t.Fatalf("commit=%v err %v", commit, err)
		}
		if res != (lifecycle.Result{EventID: "o2", CustomerID: "c"}) {
			t.Errorf("commit=%v result with error: %+v", commit, res)
		}
		c := f.get("c")
		n := c.Facts.Count(lifecycle.OrderCompleted)
		if (commit && n != 2) || (!commit && n != 1) {
			t.Errorf("commit=%v: orders %d", commit, n)
		}
		f.putFault = nil
		res, err = tr.Record(ctx, rvOrder("o2", "c", rvT0.Add(-time.Minute)))
		if err != nil || res.Duplicate != commit {
			t.Errorf("commit=%v retry: %+v %v", commit, res, err)
		}
		if c := f.get("c"); c.Facts.Count(lifecycle.OrderCompleted) != 2 || !c.HasSeen("o2") || c.Seen.Len() != 2 {
			t.Errorf("commit=%v after retry: orders %d seen %d", commit, c.Facts.Count(lifecycle.OrderCompleted), c.Seen.Len())
		}
	}
}

func TestContractFaultConflictRetries(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		opts  []lifecycle.Option
		calls int
	}{
		{nil, 33},
		{[]lifecycle.Option{lifecycle.WithMaxRetries(0)}, 1},
		{[]lifecycle.Option{lifecycle.WithMaxRetries(-3)}, 1},
		{[]lifecycle.Option{lifecycle.WithMaxRetries(3)}, 4},
	} {
		f := rvNewFake()
		f.putFault = func(*lifecycle.Customer) (error, bool) { return lifecycle.ErrConflict, false }
		opts := append([]lifecycle.Option{lifecycle.WithClock(rvClock)}, c.opts...)
		tr := lifecycle.NewTracker(model.SterneCutler(), f, opts...)
		res, err := tr.Record(ctx, rvOrder("o1", "c", rvT0.Add(-time.Hour)))
		if !errors.Is(err, lifecycle.ErrConflict) {
			t.Errorf("err %v", err)
		}
		if res != (lifecycle.Result{EventID: "o1", CustomerID: "c"}) {
			t.Errorf("res %+v", res)
		}
		if f.puts != c.calls {
			t.Errorf("%d Put calls, want %d", f.puts, c.calls)
		}
		if f.get("c") != nil {
			t.Error("stored after conflicts")
		}
	}
	// A conflict that resolves: applied once.
	f := rvNewFake()
	n := 0
	f.putFault = func(*lifecycle.Customer) (error, bool) {
		n++
		if n <= 5 {
			return lifecycle.ErrConflict, false
		}
		return nil, false
	}
	h := &rvHookLog{}
	tr := lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock), lifecycle.WithHook(h.hook))
	res, err := tr.Record(ctx, rvOrder("o1", "c", rvT0.Add(-time.Hour)))
	if err != nil || res.Duplicate || res.Version != 1 || !res.Moved {
		t.Errorf("res %+v err %v", res, err)
	}
	if len(h.chs) != 1 {
		t.Errorf("hooks %d", len(h.chs))
	}
}

func TestContractFaultCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := rvNewFake()
	tr := lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock))
	_, err := tr.Record(ctx, rvOrder("o1", "c", rvT0.Add(-time.Hour)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	res, err := tr.RecordBatch(ctx, []lifecycle.Event{rvOrder("o1", "c", rvT0.Add(-time.Hour)), rvOrder("o2", "d", rvT0.Add(-time.Hour))})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("batch err %v", err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("batch result %+v", r)
		}
	}
	if len(f.m) != 0 {
		t.Error("stored with a cancelled ctx")
	}
}

func TestContractFaultReferralCredit(t *testing.T) {
	ctx := context.Background()
	f := rvNewFake()
	tr := lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock))
	if _, err := tr.Record(ctx, rvEv("v", "ref", lifecycle.SiteVisited, rvT0.Add(-48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	f.putFault = func(c *lifecycle.Customer) (error, bool) {
		if c.ID == "ref" {
			return rvErrStore, false
		}
		return nil, false
	}
	e := rvOrder("o1", "kid", rvT0.Add(-time.Hour))
	e.ReferrerID = "ref"
	res, err := tr.Record(ctx, e)
	if !errors.Is(err, rvErrStore) || !strings.Contains(err.Error(), "crediting referrer") {
		t.Fatalf("err %v", err)
	}
	if res.Version != 1 || !res.Moved || res.To == "" {
		t.Errorf("result on credit failure is not complete: %+v", res)
	}
	if c := f.get("ref"); len(c.Facts.Referrals) != 0 {
		t.Error("credit stored")
	}
	f.putFault = nil
	res, err = tr.Record(ctx, e)
	if err != nil || !res.Duplicate {
		t.Fatalf("retry %+v %v", res, err)
	}
	c := f.get("ref")
	if len(c.Facts.Referrals) != 1 || c.Facts.Referrals[0].Customer != "kid" || !c.Facts.Referrals[0].At.Equal(e.Time) {
		t.Errorf("credit after retry: %+v", c.Facts.Referrals)
	}
	if c.HasSeen(lifecycle.ReferralEventID("kid")) || !c.AsOf.Equal(rvT0.Add(-48*time.Hour)) || !c.Facts.Last.Equal(rvT0.Add(-48*time.Hour)) {
		t.Errorf("credit entered Seen/AsOf/Last: asof %v last %v", c.AsOf, c.Facts.Last)
	}
	// Batch: the credit failure only in the joined error, no Err on results.
	f.putFault = func(c *lifecycle.Customer) (error, bool) {
		if c.ID == "ref" {
			return rvErrStore, false
		}
		return nil, false
	}
	e2 := rvOrder("o9", "kid2", rvT0.Add(-time.Hour))
	e2.ReferrerID = "ref"
	rs, err := tr.RecordBatch(ctx, []lifecycle.Event{e2, rvEv("x", "other", lifecycle.SiteVisited, rvT0)})
	if err == nil || !strings.Contains(err.Error(), "crediting referrer") {
		t.Errorf("batch err %v", err)
	}
	for _, r := range rs {
		if r.Err != nil || r.Version != 1 {
			t.Errorf("batch result %+v", r)
		}
	}
}

func TestContractBatchPartialFailure(t *testing.T) {
	ctx := context.Background()
	f := rvNewFake()
	f.putFault = func(c *lifecycle.Customer) (error, bool) {
		if c.ID == "bad" {
			return rvErrStore, false
		}
		return nil, false
	}
	tr := lifecycle.NewTracker(model.SterneCutler(), f, lifecycle.WithClock(rvClock))
	evs := []lifecycle.Event{
		rvOrder("o1", "good", rvT0.Add(-3*time.Hour)),
		rvOrder("o1", "bad", rvT0.Add(-3*time.Hour)),
		rvOrder("o2", "good", rvT0.Add(-2*time.Hour)),
		rvOrder("o2", "bad", rvT0.Add(-2*time.Hour)),
		rvOrder("o1", "good", rvT0.Add(-3*time.Hour)), // repeated in the batch
	}
	rs, err := tr.RecordBatch(ctx, evs)
	if !errors.Is(err, rvErrStore) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("err %v", err)
	}
	for i, r := range rs {
		switch evs[i].CustomerID {
		case "bad":
			if !errors.Is(r.Err, rvErrStore) || r != (lifecycle.Result{EventID: evs[i].ID, CustomerID: "bad", Err: r.Err}) {
				t.Errorf("bad result %d: %+v", i, r)
			}
		case "good":
			if r.Err != nil || r.Version != 1 {
				t.Errorf("good result %d: %+v", i, r)
			}
		}
	}
	if !rs[4].Duplicate || rs[0].Duplicate || rs[2].Duplicate {
		t.Errorf("duplicates: %+v", rs)
	}
	if g := f.get("good"); g.Facts.Count(lifecycle.OrderCompleted) != 2 || g.Version != 1 {
		t.Errorf("good stored %d orders v%d", g.Facts.Count(lifecycle.OrderCompleted), g.Version)
	}
	if f.get("bad") != nil {
		t.Error("bad stored")
	}
}
