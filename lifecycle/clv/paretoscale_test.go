package clv

import (
	"errors"
	"math"
	"testing"
)

// TestParetoFitUnitFree: the Pareto/NBD fit of CDNOW in other units of
// time (times multiplied by k) gives the same r and s, α and β times k,
// their errors times k, and the log-likelihood less ln k per purchase
// counted (a density in the purchase times). In units of 10^-4 weeks the
// fit failed after seconds, and in thousandths it took ten times as long
// (found by an audit).
func TestParetoFitUnitFree(t *testing.T) {
	base, binfo, err := FitParetoNBD(cdnowSummary(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var sumX float64
	for _, c := range cdnowSummary(t) {
		sumX += float64(c.Frequency)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
	for _, k := range []float64{1e-6, 1e-4, 1e-3, 1.0 / 7, 24, 1e6} {
		cs := cdnowSummary(t)
		for i := range cs {
			cs[i].Recency *= k
			cs[i].T *= k
		}
		m, info, err := FitParetoNBD(cs, nil)
		if err != nil {
			t.Fatalf("k = %g: %v", k, err)
		}
		if !near(m.R, base.R) || !near(m.S, base.S) || !near(m.Alpha/k, base.Alpha) || !near(m.Beta/k, base.Beta) {
			t.Errorf("k = %g: %+v; want %+v with α and β times k", k, m, base)
		}
		if want := binfo.LogLikelihood - sumX*math.Log(k); !near(info.LogLikelihood, want) {
			t.Errorf("k = %g: log-likelihood %v; want %v", k, info.LogLikelihood, want)
		}
		if e, be := info.Estimates[1], binfo.Estimates[1]; e.Value != m.Alpha || !near(e.StdErr/k, be.StdErr) || !near(e.LogStdErr, be.LogStdErr) || !near(info.Covariance[1*4+3]/(k*k), binfo.Covariance[1*4+3]) {
			t.Errorf("k = %g: α's estimate %+v, covariance with β %v; want %+v times k (and k² for the covariance %v)", k, e, info.Covariance[1*4+3], be, binfo.Covariance[1*4+3])
		}
		if ll, err := m.LogLikelihood(cs); err != nil || !near(ll, info.LogLikelihood) {
			t.Errorf("k = %g: LogLikelihood at the fit = %v, %v; want the fit's %v", k, ll, err, info.LogLikelihood)
		}
	}
}

// TestParetoFitEveryoneAliveAtT: where every customer's last purchase is
// at T nobody can have dropped out: no interior maximum, at once.
func TestParetoFitEveryoneAliveAtT(t *testing.T) {
	_, _, ev, err := fitParetoNBD(degenerateRows(), nil)
	if !errors.Is(err, ErrNoConvergence) || ev != nil {
		t.Errorf("fit of rows all bought at T: %v (evaluator %v); want ErrNoConvergence before any evaluation", err, ev)
	}
}
