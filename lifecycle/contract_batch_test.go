package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

func TestContractBatchAllOrNothing(t *testing.T) {
	ctx := context.Background()
	tr, st := rvTracker(t)
	evs := []lifecycle.Event{
		rvOrder("o1", "a", rvT0.Add(-time.Hour)),
		rvEv("", "b", lifecycle.SiteVisited, rvT0),
		rvOrder("o1", "a", rvT0.Add(-time.Hour)),
		rvEv("x", "c", lifecycle.SiteVisited, rvT0.Add(time.Hour)), // too far ahead
		rvEv("y", "d", lifecycle.SiteVisited, rvT0),
		rvEv("z", "d", lifecycle.ReferralConverted, rvT0),
	}
	rs, err := tr.RecordBatch(ctx, evs)
	if !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Fatalf("err %v", err)
	}
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || ve.Field != "id" {
		t.Errorf("errors.As first: %+v", ve)
	}
	for _, idx := range []int{1, 3, 5} {
		if !strings.Contains(err.Error(), fmt.Sprintf("event %d: ", idx)) {
			t.Errorf("error does not name event %d: %v", idx, err)
		}
	}
	if strings.Contains(err.Error(), "event 0:") || strings.Contains(err.Error(), "event 4:") {
		t.Errorf("error names a valid event: %v", err)
	}
	for i, r := range rs {
		invalid := i == 1 || i == 3 || i == 5
		if invalid != (r.Err != nil) {
			t.Errorf("result %d: Err %v", i, r.Err)
		}
		if r.EventID != evs[i].ID || r.CustomerID != evs[i].CustomerID || r.Duplicate || r.Moved || r.Version != 0 || r.To != "" {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if n := len(rvSnapshot(t, st)); n != 0 {
		t.Errorf("%d customers stored after an invalid batch", n)
	}
	// Empty batch.
	rs, err = tr.RecordBatch(ctx, []lifecycle.Event{})
	if err != nil || len(rs) != 0 {
		t.Errorf("empty batch: %v %v", rs, err)
	}
}

func TestContractBatchSameIDTwoCustomers(t *testing.T) {
	ctx := context.Background()
	tr, _ := rvTracker(t)
	evs := []lifecycle.Event{
		rvEv("e", "a", lifecycle.SiteVisited, rvT0.Add(-time.Hour)),
		rvEv("e", "b", lifecycle.SiteVisited, rvT0.Add(-time.Hour)),
		rvEv("e", "a", lifecycle.SignedUp, rvT0.Add(-time.Minute)), // same ID: a duplicate even with another type
	}
	rs, err := tr.RecordBatch(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Duplicate || rs[1].Duplicate || !rs[2].Duplicate {
		t.Errorf("duplicates %+v", rs)
	}
	a, _ := tr.Customer(ctx, "a")
	if a.Facts.Events() != 1 || a.Facts.Count(lifecycle.SignedUp) != 0 {
		t.Errorf("a events %d", a.Facts.Events())
	}
	if rs[0].Version != a.Version || rs[2].Version != a.Version {
		t.Errorf("Version of results %d %d, stored %d", rs[0].Version, rs[2].Version, a.Version)
	}
	// Record of a duplicate returns the stored version too.
	r, err := tr.Record(ctx, evs[2])
	if err != nil || !r.Duplicate || r.Version != a.Version || r.From != a.Stage || r.To != a.Stage || r.Moved {
		t.Errorf("dup record %+v %v", r, err)
	}
}

func TestContractImportErrors(t *testing.T) {
	ctx := context.Background()
	tr, st := rvTracker(t)
	evs := []lifecycle.Event{
		rvEv("e0", "a", lifecycle.SiteVisited, rvT0.Add(-time.Hour)),
		rvEv("e1", "a", lifecycle.SiteVisited, rvT0.Add(-time.Hour)),
		rvEv("e2", "b", "bogus", rvT0),
		rvEv("e3", "b", lifecycle.SiteVisited, rvT0),
	}
	ir, err := tr.Import(ctx, rvSeq(evs), nil)
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !strings.Contains(err.Error(), "event 2") {
		t.Errorf("err %v", err)
	}
	if ir.Events != 2 || ir.Applied != 2 {
		t.Errorf("ir %+v", ir)
	}
	if _, err := st.Get(ctx, "b"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("b stored: %v", err)
	}
	// Iterator error at position 1.
	rdErr := errors.New("read failed")
	seq := func(yield func(lifecycle.Event, error) bool) {
		if !yield(evs[0], nil) {
			return
		}
		yield(lifecycle.Event{}, rdErr)
	}
	tr2, _ := rvTracker(t)
	ir, err = tr2.Import(ctx, seq, nil)
	if !errors.Is(err, rdErr) || !strings.Contains(err.Error(), "event 1") || ir.Applied != 1 {
		t.Errorf("read err: %+v %v", ir, err)
	}
	// First event invalid.
	tr3, _ := rvTracker(t)
	_, err = tr3.Import(ctx, rvSeq(evs[2:]), nil)
	if err == nil || !strings.Contains(err.Error(), "event 0") {
		t.Errorf("first invalid: %v", err)
	}
	// nil iterator
	if _, err := tr3.Import(ctx, nil, nil); err == nil {
		t.Error("nil iterator accepted")
	}
}

func TestContractImportHooks(t *testing.T) {
	ctx := context.Background()
	h := &rvHookLog{}
	tr, st := rvTracker(t, lifecycle.WithHook(h.hook))
	evs := rvGen(41, 8, 200)
	ir, err := tr.Import(ctx, rvSeq(evs), nil)
	if err != nil {
		t.Fatal(err)
	}
	rvCheckHooks(t, "import", h, st)
	// Moved counts the imported customers' stored moves (not credits').
	n := 0
	for _, ch := range h.chs {
		if !strings.HasPrefix(ch.Cause, "clm.referral:") {
			n++
		}
	}
	if ir.Moved != n {
		t.Errorf("ImportResult.Moved %d, hook moves from events %d", ir.Moved, n)
	}
}

// TestContractRecordBatchNoTrackerResults: RecordBatch "returns one result
// per event", also when the Tracker cannot record: each with the error.
func TestContractRecordBatchNoTrackerResults(t *testing.T) {
	events := []lifecycle.Event{{ID: "a", CustomerID: "c1"}, {ID: "b", CustomerID: "c2"}}
	for _, tr := range []*lifecycle.Tracker{nil, {}, lifecycle.NewTracker(nil, nil)} {
		res, err := tr.RecordBatch(context.Background(), events)
		if !errors.Is(err, lifecycle.ErrNoTracker) || len(res) != len(events) {
			t.Fatalf("RecordBatch = %d results, %v; want %d, ErrNoTracker", len(res), err, len(events))
		}
		for i, r := range res {
			if r.EventID != events[i].ID || r.CustomerID != events[i].CustomerID || !errors.Is(r.Err, lifecycle.ErrNoTracker) {
				t.Errorf("result %d = %+v", i, r)
			}
		}
	}
}
