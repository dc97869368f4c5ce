package clv

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// cdnowBGNBD is the published BG/NBD fit on the CDNOW sample.
var cdnowBGNBD = BGNBD{R: 0.2426, Alpha: 4.4135, A: 0.7929, B: 2.4258}

// naiveBGNBDLogLik is the per-customer BG/NBD log-likelihood written
// directly from Fader, Hardie & Lee (2005) eq. 6, without collapsing or
// log-space tricks, as an independent check of the fast evaluator.
func naiveBGNBDLogLik(m BGNBD, c Customer) float64 {
	x := float64(c.Frequency)
	lg := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
	beta := func(p, q float64) float64 { return math.Exp(lg(p) + lg(q) - lg(p+q)) }
	a1 := math.Exp(lg(m.R+x)-lg(m.R)) * math.Pow(m.Alpha, m.R)
	a2 := beta(m.A, m.B+x) / beta(m.A, m.B)
	a3 := 1 / math.Pow(m.Alpha+c.T, m.R+x)
	l := a2 * a3
	if c.Frequency > 0 {
		a4 := 1 / math.Pow(m.Alpha+c.Recency, m.R+x)
		l += beta(m.A+1, m.B+x-1) / beta(m.A, m.B) * a4
	}
	return math.Log(a1 * l)
}

func TestBGNBDLogLikelihoodMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cs := simulateBGNBD(rng, cdnowBGNBD, 3000, 20, 40, 7)
	// Duplicate some rows so collapsing is exercised.
	cs = append(cs, cs[:500]...)
	for _, m := range []BGNBD{cdnowBGNBD, {R: 1.3, Alpha: 0.7, A: 2.5, B: 0.4}} {
		var want float64
		for _, c := range cs {
			want += naiveBGNBDLogLik(m, c)
		}
		got, err := m.LogLikelihood(cs)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("%v: LogLikelihood = %.10f, naive sum = %.10f", m, got, want)
		}
	}
}

func TestBGNBDGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cs := simulateBGNBD(rng, cdnowBGNBD, 2000, 10, 40, 0)
	d, err := newBGData(cs)
	if err != nil {
		t.Fatal(err)
	}
	ev := newBGEval(d)
	for _, m := range []BGNBD{cdnowBGNBD, {R: 2, Alpha: 10, A: 0.3, B: 5}} {
		grad := make([]float64, 4)
		ev.logLik(m, grad)
		params := []float64{m.R, m.Alpha, m.A, m.B}
		for i := range params {
			h := 1e-6 * params[i]
			up, dn := params, append([]float64(nil), params...)
			up = append([]float64(nil), params...)
			up[i] += h
			dn[i] -= h
			fu := ev.logLik(BGNBD{up[0], up[1], up[2], up[3]}, nil)
			fd := ev.logLik(BGNBD{dn[0], dn[1], dn[2], dn[3]}, nil)
			num := (fu - fd) / (2 * h)
			if math.Abs(grad[i]-num) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("%v: dLL/dθ%d = %v, numerical %v", m, i, grad[i], num)
			}
		}
	}
}

// Reference values computed independently with mpmath (30 digits) from
// Fader, Hardie & Lee (2005) eqs. 9, 10 and 13 at the published CDNOW
// parameters.
func TestBGNBDPredictions(t *testing.T) {
	m := cdnowBGNBD
	cond := []struct {
		t     float64
		c     Customer
		want  float64
		alive float64
	}{
		{39, Customer{Frequency: 2, Recency: 30.43, T: 38.86}, 1.2259111998992262, 0.7266079973001563},
		{39, Customer{Frequency: 0, Recency: 0, T: 38.86}, 0.19478655038715485, 1},
		{520, Customer{Frequency: 15, Recency: 20, T: 38.86}, 0.18452099607808552, 0.0033547537269419153},
		{1e4, Customer{Frequency: 3, Recency: 30, T: 38}, 33.256030717033056, math.NaN()},
	}
	for _, tc := range cond {
		got, err := m.ConditionalExpectedPurchases(tc.t, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if relErr(got, tc.want) > 1e-10 {
			t.Errorf("ConditionalExpectedPurchases(%v, %+v) = %.16g, want %.16g", tc.t, tc.c, got, tc.want)
		}
		if math.IsNaN(tc.alive) {
			continue
		}
		p, err := m.ProbabilityAlive(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if relErr(p, tc.alive) > 1e-12 {
			t.Errorf("ProbabilityAlive(%+v) = %.16g, want %.16g", tc.c, p, tc.alive)
		}
	}
	unc := []struct{ t, want float64 }{
		{39, 1.1950518784095004},
		{78, 1.8580217586441482},
		{1000, 6.5731729831312602},
		{0, 0},
	}
	for _, tc := range unc {
		got, err := m.ExpectedPurchases(tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if relErr(got, tc.want) > 1e-10 {
			t.Errorf("ExpectedPurchases(%v) = %.16g, want %.16g", tc.t, got, tc.want)
		}
	}
	// a = 1 is a removable singularity of eqs. 9–10; compare with
	// a = 1.0000001 (mpmath).
	m1 := m
	m1.A = 1
	if got, _ := m1.ConditionalExpectedPurchases(39, cond[0].c); math.Abs(got-1.101976933113249) > 1e-6 {
		t.Errorf("a=1: ConditionalExpectedPurchases = %v, want ≈ 1.101976933113249", got)
	}
	if got, _ := m1.ExpectedPurchases(39); math.Abs(got-1.0827292153916959) > 1e-6 {
		t.Errorf("a=1: ExpectedPurchases = %v, want ≈ 1.0827292153916959", got)
	}
}

// Predictions must be monotone in the horizon and consistent between the
// conditional (x=0, T=0) and unconditional forms.
func TestBGNBDPredictionConsistency(t *testing.T) {
	for _, m := range []BGNBD{cdnowBGNBD, {R: 3, Alpha: 2, A: 4, B: 0.5}, {R: 0.5, Alpha: 10, A: 1.2, B: 9}} {
		prev := 0.0
		for _, h := range []float64{0.1, 1, 10, 50, 100, 400, 2000} {
			u, err := m.ExpectedPurchases(h)
			if err != nil {
				t.Fatal(err)
			}
			c, err := m.ConditionalExpectedPurchases(h, Customer{})
			if err != nil {
				t.Fatal(err)
			}
			if relErr(c, u) > 1e-12 {
				t.Errorf("%v t=%v: conditional at T=0 %v ≠ unconditional %v", m, h, c, u)
			}
			if !(u > prev) {
				t.Errorf("%v: E[X(%v)] = %v not above %v", m, h, u, prev)
			}
			prev = u
		}
	}
}

func TestBGNBDParameterRecovery(t *testing.T) {
	truth := BGNBD{R: 0.5, Alpha: 6, A: 0.7, B: 2.8}
	rng := rand.New(rand.NewPCG(20240601, 42))
	cs := simulateBGNBD(rng, truth, 30000, 26, 52, 0)
	m, info, err := FitBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	se := bgStandardErrors(t, cs, m)
	t.Logf("fit %v (LL %.2f); standard errors of ln θ: %.3f", m, info.LogLikelihood, se)
	est := []float64{m.R, m.Alpha, m.A, m.B}
	tru := []float64{truth.R, truth.Alpha, truth.A, truth.B}
	names := []string{"r", "alpha", "a", "b"}
	for i := range est {
		if se[i] > 0.25 {
			t.Errorf("%s: standard error %.3f too large for a meaningful check", names[i], se[i])
		}
		if z := math.Abs(math.Log(est[i]/tru[i])) / se[i]; z > 4 {
			t.Errorf("%s = %.4f, true %.4f: %.1f standard errors away", names[i], est[i], tru[i], z)
		}
	}
}

// bgStandardErrors returns the asymptotic standard errors of the log
// parameters from the observed information (numerical Hessian of the
// analytic gradient).
func bgStandardErrors(t *testing.T, cs []Customer, m BGNBD) []float64 {
	t.Helper()
	d, err := newBGData(cs)
	if err != nil {
		t.Fatal(err)
	}
	ev := newBGEval(d)
	th := []float64{math.Log(m.R), math.Log(m.Alpha), math.Log(m.A), math.Log(m.B)}
	gradAt := func(th []float64) []float64 {
		p := BGNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
		g := make([]float64, 4)
		ev.logLik(p, g)
		return []float64{g[0] * p.R, g[1] * p.Alpha, g[2] * p.A, g[3] * p.B}
	}
	var h [4][4]float64
	const eps = 1e-5
	for j := range 4 {
		up := append([]float64(nil), th...)
		dn := append([]float64(nil), th...)
		up[j] += eps
		dn[j] -= eps
		gu, gd := gradAt(up), gradAt(dn)
		for i := range 4 {
			h[i][j] = -(gu[i] - gd[i]) / (2 * eps)
		}
	}
	inv, ok := invert4(h)
	if !ok {
		t.Fatal("observed information matrix is singular")
	}
	se := make([]float64, 4)
	for i := range se {
		se[i] = math.Sqrt(inv[i][i])
	}
	return se
}

// invert4 inverts a 4×4 matrix by Gauss–Jordan elimination with partial
// pivoting.
func invert4(m [4][4]float64) ([4][4]float64, bool) {
	var inv [4][4]float64
	for i := range 4 {
		inv[i][i] = 1
	}
	for c := range 4 {
		p := c
		for r := c + 1; r < 4; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if m[p][c] == 0 {
			return inv, false
		}
		m[c], m[p] = m[p], m[c]
		inv[c], inv[p] = inv[p], inv[c]
		f := m[c][c]
		for k := range 4 {
			m[c][k] /= f
			inv[c][k] /= f
		}
		for r := range 4 {
			if r != c {
				g := m[r][c]
				for k := range 4 {
					m[r][k] -= g * m[c][k]
					inv[r][k] -= g * inv[c][k]
				}
			}
		}
	}
	return inv, true
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestBGNBDInvalidInput(t *testing.T) {
	good := Customer{ID: "c1", Frequency: 2, Recency: 3, T: 5}
	tests := []struct {
		name  string
		m     BGNBD
		c     Customer
		h     float64
		field string
	}{
		{"negative r", BGNBD{-1, 1, 1, 1}, good, 1, "BGNBD.R"},
		{"NaN alpha", BGNBD{1, math.NaN(), 1, 1}, good, 1, "BGNBD.Alpha"},
		{"zero a", BGNBD{1, 1, 0, 1}, good, 1, "BGNBD.A"},
		{"Inf b", BGNBD{1, 1, 1, math.Inf(1)}, good, 1, "BGNBD.B"},
		{"negative frequency", cdnowBGNBD, Customer{Frequency: -1}, 1, "Frequency = -1"},
		{"NaN recency", cdnowBGNBD, Customer{Frequency: 1, Recency: math.NaN(), T: 3}, 1, "Recency = NaN"},
		{"recency beyond T", cdnowBGNBD, Customer{ID: "c9", Frequency: 1, Recency: 4, T: 3}, 1, `customer "c9": Recency = 4 exceeds T = 3`},
		{"recency without repeats", cdnowBGNBD, Customer{Frequency: 0, Recency: 1, T: 3}, 1, "Recency = 1 with Frequency = 0"},
		{"negative T", cdnowBGNBD, Customer{T: -2}, 1, "T = -2"},
		{"negative horizon", cdnowBGNBD, good, -1, "t = -1"},
		{"NaN horizon", cdnowBGNBD, good, math.NaN(), "t = NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.ConditionalExpectedPurchases(tc.h, tc.c)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %q", err, tc.field)
			}
		})
	}
	if _, _, err := FitBGNBD(nil, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("FitBGNBD(nil): err = %v, want ErrInvalidInput", err)
	}
	_, _, err := FitBGNBD([]Customer{good, {ID: "bad", Frequency: 1, Recency: math.Inf(1), T: 2}}, nil)
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "customers[1]") {
		t.Errorf("FitBGNBD with an infinite recency: err = %v, want ErrInvalidInput naming customers[1]", err)
	}
	if _, _, err := FitBGNBD([]Customer{good}, &FitOptions{Tolerance: -1}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("negative tolerance: err = %v, want ErrInvalidInput", err)
	}
}

// With no repeat purchases at all the likelihood has no interior maximum;
// the fit must say so rather than return boundary garbage.
func TestFitBGNBDNoConvergence(t *testing.T) {
	cs := make([]Customer, 200)
	for i := range cs {
		cs[i] = Customer{T: float64(10 + i%30)}
	}
	m, _, err := FitBGNBD(cs, nil)
	if !errors.Is(err, ErrNoConvergence) {
		t.Errorf("all-zero frequencies: got %v, err = %v; want ErrNoConvergence", m, err)
	} else {
		t.Log(err)
	}
}
