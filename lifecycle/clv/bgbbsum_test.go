package clv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clmkit/clm/internal/numeric"
)

// TestBGBBSumStopsExactly: logTerms stops summing once the terms left
// cannot change the sum (they decrease, so they add at most the last
// term times their number); its result equals the whole sum's, to a few
// units in the last place, for random parameters and histories.
func TestBGBBSumStopsExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 2000 {
		m := BGBB{Alpha: math.Exp(r.Float64()*8 - 4), Beta: math.Exp(r.Float64()*8 - 4), Gamma: math.Exp(r.Float64()*8 - 4), Delta: math.Exp(r.Float64()*8 - 4)}
		n := 1 + r.IntN(20000)
		tx := r.IntN(n + 1)
		x := 0
		if tx > 0 {
			x = 1 + r.IntN(tx)
		}
		got, _ := m.logTerms(x, tx, n)
		// The whole sum, every term.
		a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
		lab, lgd := numeric.LogBeta(a, b), numeric.LogBeta(g, d)
		fx, ftx, fn := float64(x), float64(tx), float64(n)
		lAlive := numeric.LogBeta(a+fx, b+(fn-fx)) - lab + numeric.LogBeta(g, d+fn) - lgd
		want := lAlive
		if tx < n {
			l0 := numeric.LogBeta(a+fx, b+(ftx-fx)) - lab + numeric.LogBeta(g+1, d+ftx) - lgd
			sum, term := 1.0, 1.0
			for i := 0; i < n-tx-1; i++ {
				fi := float64(i)
				term *= (b + (ftx - fx + fi)) / (a + b + ftx + fi) * (d + ftx + fi) / (g + 1 + d + ftx + fi)
				sum += term
			}
			want = numeric.LogSumExp(lAlive, l0+math.Log(sum))
		}
		if math.Abs(got-want) > 1e-13*math.Max(1, math.Abs(want)) {
			t.Fatalf("%+v x=%d tx=%d n=%d: %v; the whole sum gives %v", m, x, tx, n, got, want)
		}
	}
}
