package clv

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestParetoFitSpendsNoBudgetOnRealData: the fits of CDNOW and of a
// million synthetic customers never fall back on the slow series, so
// fitSeriesTerms (see paretoEval) changes nothing for them; the
// degenerate sample's fit fails as before, well within it.
func TestParetoFitSpendsNoBudgetOnRealData(t *testing.T) {
	sets := map[string][]Customer{"CDNOW": cdnowSummary(t), "degenerate": degenerateRows()}
	if !testing.Short() {
		sets["1M"] = rfm1M()
	}
	for name, cs := range sets {
		_, _, ev, err := fitParetoNBD(cs, nil)
		if name == "degenerate" {
			if !errors.Is(err, ErrNoConvergence) || errors.Is(err, errSeriesBudget) {
				t.Errorf("%s: %v; want ErrNoConvergence from the search, not the budget", name, err)
			}
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case ev == nil:
		case name == "degenerate" && ev.budget <= 0:
			t.Errorf("%s: the fit ran out of its budget of slow series", name)
		case name != "degenerate" && ev.budget != fitSeriesTerms:
			t.Errorf("%s: the fit summed %d terms of slow series; want none", name, fitSeriesTerms-ev.budget)
		}
	}
}

// TestParetoFitOfSlowSeriesStops: rows whose series converge slowly (a
// frequency of 2^31−1 or 2^20 against T = 2) made a fit sum series of up
// to 5 million terms in every evaluation, for minutes; it stops at the
// budget with ErrNoConvergence naming such a row.
func TestParetoFitOfSlowSeriesStops(t *testing.T) {
	for _, x := range []int{math.MaxInt32, 1 << 20} {
		cs := []Customer{{Frequency: x, Recency: 1, T: 2}, {Frequency: 1, Recency: 1, T: 2}, {Frequency: 3, Recency: 1, T: 2}}
		_, _, ev, err := fitParetoNBD(cs, nil)
		if !errors.Is(err, ErrNoConvergence) || !strings.Contains(err.Error(), "converge too slowly") {
			t.Fatalf("Frequency %d: %v; want ErrNoConvergence, series too slow", x, err)
		}
		if ev == nil || ev.budget > 0 || ev.slow == (rfmRow{}) {
			t.Errorf("Frequency %d: the budget was not spent (%+v)", x, ev)
		}
		// LogLikelihood has no budget: each call sums what it must.
	}
}
