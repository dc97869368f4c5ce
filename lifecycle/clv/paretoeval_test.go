package clv

import (
	"math"
	"testing"
)

// TestParetoEvalAgainstLogTerms checks the series likelihood and its
// analytic gradient against logTerms (2F1 through numeric.LogHyp2F1) and
// central differences of it, on rows with x = 0, t_x = T, large x and
// parameters with α > β, α < β, α = β and |α−β| large (the fallback).
func TestParetoEvalAgainstLogTerms(t *testing.T) {
	rows := []rfmRow{
		{0, 0, 38.86, 3}, {1, 1.71, 38.86, 1}, {2, 30.43, 38.86, 2}, {5, 20, 20, 1},
		{29, 35.1, 36, 1}, {0, 0, 27, 1}, {3, 0.5, 30.2, 1}, {120, 38, 39, 1},
	}
	e := newParetoEval(rows)
	for _, m := range []ParetoNBD{
		{0.5533, 10.5776, 0.6061, 11.6650},
		{0.55, 11.6, 0.6, 10.5},
		{1.2, 7, 0.8, 7},
		{0.3, 2, 2.5, 40},
		{2, 60, 0.4, 3},
		{0.25, 4, 0.9, 4.05},
	} {
		var want float64
		for _, r := range rows {
			l, _, err := m.logTerms(r.x, r.tx, r.t)
			if err != nil {
				t.Fatal(err)
			}
			want += r.w * l
		}
		g := make([]float64, 4)
		got, ok := e.logLik(m, g)
		if !ok || math.Abs(got-want) > 1e-10*math.Abs(want) {
			t.Errorf("%v: logLik %.15g (ok %v), logTerms %.15g", m, got, ok, want)
		}
		p := [4]float64{m.R, m.Alpha, m.S, m.Beta}
		for j := range p {
			const h = 1e-5
			up, dn := p, p
			up[j] *= math.Exp(h)
			dn[j] *= math.Exp(-h)
			lu, _ := e.logLik(ParetoNBD{up[0], up[1], up[2], up[3]}, nil)
			ld, _ := e.logLik(ParetoNBD{dn[0], dn[1], dn[2], dn[3]}, nil)
			num := (lu - ld) / (2 * h) / p[j]
			if math.Abs(g[j]-num) > 1e-6*math.Max(1, math.Abs(num)) {
				t.Errorf("%v: d/d%s = %.10g, numerical %.10g", m, []string{"r", "alpha", "s", "beta"}[j], g[j], num)
			}
		}
	}
}
