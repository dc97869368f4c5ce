package flywheel_test

// Tests from an audit of hostile parameters against the docs.

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/store"
)

// Bass's series take any n: none for n ≤ 0, at most MaxRotations (a huge
// n panicked in make).
func TestAuditBassSeriesBounds(t *testing.T) {
	b := flywheel.Bass{P: 0.03, Q: 0.4, M: 100}
	for name, f := range map[string]func(int) []float64{"Series": b.Series, "PeriodSales": b.PeriodSales, "DiscreteSales": b.DiscreteSales} {
		for _, n := range []int{math.MinInt, -1, 0} {
			if got := f(n); len(got) != 0 {
				t.Errorf("%s(%d) has %d values; want none", name, n, len(got))
			}
		}
		for _, n := range []int{flywheel.MaxRotations + 1, 1 << 40, math.MaxInt} {
			if got := f(n); len(got) != flywheel.MaxRotations {
				t.Errorf("%s(%d) has %d values; want MaxRotations", name, n, len(got))
			}
		}
		if got, want := f(flywheel.MaxRotations), f(3); got[2] != want[2] {
			t.Errorf("%s: the third value depends on n: %v, %v", name, got[2], want[2])
		}
	}
}

// A nil *Rotation's Mean is NaN, as for a metric that is not one.
func TestAuditNilRotationMean(t *testing.T) {
	var r *flywheel.Rotation
	if got := r.Mean(flywheel.Customers); !math.IsNaN(got) {
		t.Errorf("nil Rotation's Mean = %v; want NaN", got)
	}
}

// Agent with a nil pointer of a store type is an error wrapping
// ErrInvalidParams, as Measure's is (it said "the Tracker has no model or
// no store", an error about a Tracker the caller never made).
func TestAuditAgentTypedNilStore(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	_, err := flywheel.Agent(context.Background(), p, flywheel.WithStore((*store.Memory)(nil)))
	if !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Agent(WithStore(nil *store.Memory)) = %v; want ErrInvalidParams", err)
	}
}
