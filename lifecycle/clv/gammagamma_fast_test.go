package clv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clmkit/clm/internal/numeric"
)

// TestGammaGammaMomentExpansion checks the row sums from one moment pass
// (ggMoments) against direct passes (ggData.sums) across the expansion's
// radius, and that v outside it is refused.
func TestGammaGammaMomentExpansion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	cs := simulateBGNBD(rng, BGNBD{R: 1, Alpha: 5, A: 0.5, B: 3}, 5000, 30, 52, 7)
	simulateGammaGamma(rng, GammaGamma{P: 4, Q: 5, V: 60}, cs)
	// Without repeated rows (the four-row path) and with (weights).
	for _, cs := range [][]Customer{cs[:4999], append(cs, cs[:200]...)} {
		d, err := newGGData(cs)
		if err != nil {
			t.Fatal(err)
		}
		testMoments(t, d)
	}
}

func testMoments(t *testing.T, d *ggData) {
	t.Helper()
	for _, v0 := range []float64{0.5, 12, 60, 3000} {
		mo := d.moments(v0)
		for _, f := range []float64{1, 1.05, 0.91, 1 + 0.999*ggRadius, 1 - 0.999*ggRadius} {
			v := v0 * f
			got, ok := mo.sums(v)
			if !ok {
				t.Fatalf("v0 %v: v = %v refused", v0, v)
			}
			want := d.sums(v, true)
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"b0", got.b0, want.b0}, {"a0", got.a0, want.a0}, {"b1", got.b1, want.b1}, {"a1", got.a1, want.a1}, {"b2", got.b2, want.b2}, {"a2", got.a2, want.a2}} {
				if math.Abs(c.got-c.want) > 1e-12*math.Abs(c.want) {
					t.Errorf("v0 %v, v %v: %s = %.17g, direct %.17g", v0, v, c.name, c.got, c.want)
				}
			}
		}
		if _, ok := mo.sums(v0 * (1 + 1.01*ggRadius)); ok {
			t.Errorf("v0 %v: v beyond the radius accepted", v0)
		}
	}
}

// TestLogProd checks the product form of a sum of logarithms against the
// sum, with factors across the float64 range.
func TestLogProd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	var lp logProd
	var want float64
	if lp.log() != 0 {
		t.Fatalf("empty logProd: %v", lp.log())
	}
	for i := range 100000 {
		v := math.Exp(rng.NormFloat64() * 3)
		switch i % 1000 {
		case 1:
			v = 1e-300
		case 2:
			v = 1e300
		case 3:
			v = 5e-324
		}
		lp.mul(v)
		want += numeric.Log(v) // math.Log(5e-324) is −709.09 on amd64, not −744.44
	}
	if got := lp.log(); math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("logProd = %.17g, sum of logs %.17g", got, want)
	}
}

// TestGammaGammaNewtonMatchesBFGS checks that the Newton fit (with its
// subsample stage) and BFGS on the same likelihood reach the same point.
// BFGS gets a looser tolerance: on 300,000 rows the rounding of the plain
// sum of the likelihood stops its line search near 1e-6.
func TestGammaGammaNewtonMatchesBFGS(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 21))
	cs := simulateBGNBD(rng, BGNBD{R: 0.8, Alpha: 4, A: 0.6, B: 3}, 300000, 30, 52, 0)
	simulateGammaGamma(rng, GammaGamma{P: 3, Q: 6, V: 40}, cs)
	m, info, err := FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.DistinctRows <= 1<<16 {
		t.Fatalf("%d rows: the subsample stage is not exercised", info.DistinctRows)
	}
	d, _ := newGGData(cs)
	g3 := make([]float64, 3)
	f := func(th, grad []float64) float64 {
		p := GammaGamma{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2])}
		ll := d.logLik(p, g3)
		if grad != nil {
			grad[0], grad[1], grad[2] = -g3[0]*p.P/d.wTotal, -g3[1]*p.Q/d.wTotal, -g3[2]*p.V/d.wTotal
		}
		return -ll / d.wTotal
	}
	var bi FitInfo
	p, err := fitLog("Gamma-Gamma", []string{"p", "q", "v"}, f, nil, [][]float64{{0, math.Log(2), math.Log(d.sumM / d.wTotal)}}, d.wTotal, &FitOptions{Tolerance: 1e-5}, &bi)
	if err != nil {
		t.Fatal(err)
	}
	got := []float64{m.P, m.Q, m.V}
	for i := range p {
		if relErr(got[i], p[i]) > 1e-3 {
			t.Errorf("parameter %d: Newton %.8g, BFGS %.8g", i, got[i], p[i])
		}
	}
	if math.Abs(info.LogLikelihood-bi.LogLikelihood) > 1e-9*math.Abs(bi.LogLikelihood) || info.LogLikelihood < bi.LogLikelihood-1e-6 {
		t.Errorf("LL: Newton %.10g, BFGS %.10g", info.LogLikelihood, bi.LogLikelihood)
	}
	for i, e := range info.Estimates {
		if relErr(e.StdErr, bi.Estimates[i].StdErr) > 1e-2 {
			t.Errorf("%s: standard error %.6g (analytic Hessian), %.6g (BFGS fit's)", e.Name, e.StdErr, bi.Estimates[i].StdErr)
		}
	}
}
