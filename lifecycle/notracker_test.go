package lifecycle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// TestNoTracker: a Tracker without a model or a store, or not made by
// NewTracker, answers ErrNoTracker from every method instead of panicking.
func TestNoTracker(t *testing.T) {
	ctx := context.Background()
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Now().Add(-time.Hour)}
	for name, tr := range map[string]*lifecycle.Tracker{
		"nil, nil":   lifecycle.NewTracker(nil, nil),
		"no store":   lifecycle.NewTracker(model.SterneCutler(), nil),
		"no model":   lifecycle.NewTracker(nil, store.NewMemory()),
		"zero value": new(lifecycle.Tracker),
		"nil":        nil,
	} {
		calls := map[string]error{}
		_, calls["Record"] = tr.Record(ctx, e)
		_, calls["RecordBatch"] = tr.RecordBatch(ctx, []lifecycle.Event{e})
		_, calls["Import"] = tr.Import(ctx, func(yield func(lifecycle.Event, error) bool) { yield(e, nil) }, nil)
		_, calls["Sweep"] = tr.Sweep(ctx, time.Now())
		_, calls["Customer"] = tr.Customer(ctx, "c1")
		calls["Validate"] = tr.Validate(&e)
		for call, err := range calls {
			if !errors.Is(err, lifecycle.ErrNoTracker) {
				t.Errorf("%s: %s = %v; want an error wrapping ErrNoTracker", name, call, err)
			}
		}
	}
}

// TestNilPointerStoreOrModelIsNoTracker: a nil pointer of a store or model
// type counts as no store or model (Record panicked on a nil *store.Memory).
func TestNilPointerStoreOrModelIsNoTracker(t *testing.T) {
	type ptrModel struct{ lifecycle.Model }
	ctx := context.Background()
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Now()}
	for name, tr := range map[string]*lifecycle.Tracker{
		"nil *store.Memory": lifecycle.NewTracker(model.SterneCutler(), (*store.Memory)(nil)),
		"nil model pointer": lifecycle.NewTracker((*ptrModel)(nil), store.NewMemory()),
	} {
		if _, err := tr.Record(ctx, e); !errors.Is(err, lifecycle.ErrNoTracker) {
			t.Errorf("%s: Record = %v; want ErrNoTracker", name, err)
		}
		if _, err := tr.Sweep(ctx, time.Now()); !errors.Is(err, lifecycle.ErrNoTracker) {
			t.Errorf("%s: Sweep = %v; want ErrNoTracker", name, err)
		}
		if _, err := tr.Customer(ctx, "c1"); !errors.Is(err, lifecycle.ErrNoTracker) {
			t.Errorf("%s: Customer = %v; want ErrNoTracker", name, err)
		}
	}
}
