package clv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// donations reads the BG/BB data of Fader, Hardie & Shang (2010).
func donations(tb testing.TB) []DiscreteCustomer {
	tb.Helper()
	var cs []DiscreteCustomer
	for _, r := range readCSV(tb, testdata("donations.csv")) {
		cs = append(cs, DiscreteCustomer{Frequency: atoi(tb, r["frequency"]), Recency: atoi(tb, r["recency"]),
			Periods: atoi(tb, r["periods"]), Count: atof(tb, r["weights"])})
	}
	return cs
}

// sbgCohorts returns the survivor series of the two cohorts of Fader &
// Hardie (2007) derived from the per-customer file.
func sbgCohorts(tb testing.TB) map[string][]float64 {
	tb.Helper()
	out := map[string][]float64{}
	for _, r := range readCSV(tb, testdata("sbg_paper.csv")) {
		c := r["cohorts"]
		if out[c] == nil {
			out[c] = make([]float64, 8)
		}
		// recency k ≤ 7: churned at renewal k, so active after 0..k−1
		// renewals; recency 8: active throughout.
		for t := 0; t < min(atoi(tb, r["recency"]), 8); t++ {
			out[c][t]++
		}
	}
	return out
}

func roundsTo(got, want float64, decimals int) bool {
	s := math.Pow(10, float64(decimals))
	return math.Round(got*s) == math.Round(want*s)
}

// TestFitMBGNBDCDNOW checks the MBG/NBD fit on the CDNOW 1/10 sample
// against r=0.525, α=6.183, a=0.891, b=1.614: the values of R's BTYDplus
// (mbgcnbd with k=1) that lifetimes' test suite asserts for its
// ModifiedBetaGeoFitter on this file (tests/test_estimation.py,
// test_params_out_is_close_to_BTYDplus, decimal=3). Our estimates must
// round to the same three decimals.
func TestFitMBGNBDCDNOW(t *testing.T) {
	cs := cdnowSummary(t)
	m, info, err := FitMBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v LL=%.4f", m, info.LogLikelihood)
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"r", m.R, 0.525}, {"alpha", m.Alpha, 6.183}, {"a", m.A, 0.891}, {"b", m.B, 1.614}} {
		if !roundsTo(p.got, p.want, 3) {
			t.Errorf("%s = %.6f, want %.3f", p.name, p.got, p.want)
		}
	}
	ll, err := m.LogLikelihood(cs)
	if err != nil || math.Abs(ll-info.LogLikelihood) > 1e-6 {
		t.Errorf("LogLikelihood = %v, %v; fit reported %v", ll, err, info.LogLikelihood)
	}
}

// TestFitBGBBDonations checks the BG/BB fit on the donation data against
// Fader, Hardie & Shang (2010): α=1.204, β=0.750, γ=0.657, δ=2.783 (the
// values lifetimes asserts too), to the three published decimals.
func TestFitBGBBDonations(t *testing.T) {
	cs := donations(t)
	m, info, err := FitBGBB(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Customers != 11104 || info.DistinctRows != 22 {
		t.Errorf("customers %d, rows %d; want 11104, 22", info.Customers, info.DistinctRows)
	}
	t.Logf("%v LL=%.4f", m, info.LogLikelihood)
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"alpha", m.Alpha, 1.204}, {"beta", m.Beta, 0.750}, {"gamma", m.Gamma, 0.657}, {"delta", m.Delta, 2.783}} {
		if !roundsTo(p.got, p.want, 3) {
			t.Errorf("%s = %.6f, want %.3f", p.name, p.got, p.want)
		}
	}
}

// TestFitSBGCohorts checks the sBG fits against Fader & Hardie (2007):
// regular α=0.704, β=1.182; high end α=0.668, β=3.806, to the three
// published decimals, and the survivor counts derived from the file
// against those of the paper.
func TestFitSBGCohorts(t *testing.T) {
	co := sbgCohorts(t)
	for _, c := range []struct {
		name        string
		survivors   []float64
		alpha, beta float64
	}{
		{"regular", []float64{1000, 631, 468, 382, 326, 289, 262, 241}, 0.704, 1.182},
		{"highend", []float64{1000, 869, 743, 653, 593, 551, 517, 491}, 0.668, 3.806},
	} {
		if !slicesEqual(co[c.name], c.survivors) {
			t.Fatalf("%s: survivors from file %v, paper %v", c.name, co[c.name], c.survivors)
		}
		m, info, err := FitSBG(c.survivors, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v LL=%.4f", c.name, m, info.LogLikelihood)
		if !roundsTo(m.Alpha, c.alpha, 3) || !roundsTo(m.Beta, c.beta, 3) {
			t.Errorf("%s: %v, want alpha=%.3f beta=%.3f", c.name, m, c.alpha, c.beta)
		}
	}
}

func slicesEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStandardErrorsLifetimes compares the BG/NBD standard errors on CDNOW
// with those printed by lifetimes' BetaGeoFitter.summary in its Quickstart
// (docs/Quickstart.md): 0.012557, 0.378221, 0.185719, 0.705345 (lifetimes
// inverts an autograd Hessian in the natural parameters). Tolerance 1e-5
// relative + rounding of the printed 6 decimals; the intervals (1.96·SE,
// as lifetimes) are compared to 1e-4.
func TestStandardErrorsLifetimes(t *testing.T) {
	_, info, err := FitBGNBD(cdnowSummary(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ se, lo, hi float64 }{
		{0.012557, 0.217981, 0.267205},
		{0.378221, 3.672218, 5.154846},
		{0.185719, 0.428877, 1.156895},
		{0.705345, 1.043276, 3.808229},
	}
	for i, w := range want {
		e := info.Estimates[i]
		if math.Abs(e.StdErr-w.se) > 1e-5*w.se+1e-6 {
			t.Errorf("%s: se %.7f, lifetimes %.6f", e.Name, e.StdErr, w.se)
		}
		if math.Abs(e.Low-w.lo) > 1e-4 || math.Abs(e.High-w.hi) > 1e-4 {
			t.Errorf("%s: interval [%.6f, %.6f], lifetimes [%.6f, %.6f]", e.Name, e.Low, e.High, w.lo, w.hi)
		}
	}
}

// fdCovariance returns the inverse of the Hessian of −ll at x (natural
// parameters), the Hessian taken by second differences of ll values alone
// (no gradients, independent of the fitting code's Hessian), with steps
// h_i = 1e-3·x_i.
func fdCovariance(tb testing.TB, ll func(x []float64) float64, x []float64) []float64 {
	tb.Helper()
	k := len(x)
	h := make([]float64, k*k)
	at := func(di, dj int, si, sj float64) float64 {
		y := append([]float64(nil), x...)
		y[di] += si
		y[dj] += sj
		return ll(y)
	}
	for i := range k {
		for j := range k {
			hi, hj := 1e-3*x[i], 1e-3*x[j]
			v := (at(i, j, hi, hj) - at(i, j, hi, -hj) - at(i, j, -hi, hj) + at(i, j, -hi, -hj)) / (4 * hi * hj)
			h[i*k+j] = -v
		}
	}
	// Gauss–Jordan inversion.
	a := append([]float64(nil), h...)
	inv := make([]float64, k*k)
	for i := range k {
		inv[i*k+i] = 1
	}
	for c := range k {
		p := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r*k+c]) > math.Abs(a[p*k+c]) {
				p = r
			}
		}
		for j := range k {
			a[c*k+j], a[p*k+j] = a[p*k+j], a[c*k+j]
			inv[c*k+j], inv[p*k+j] = inv[p*k+j], inv[c*k+j]
		}
		d := a[c*k+c]
		for j := range k {
			a[c*k+j] /= d
			inv[c*k+j] /= d
		}
		for r := range k {
			if r != c {
				f := a[r*k+c]
				for j := range k {
					a[r*k+j] -= f * a[c*k+j]
					inv[r*k+j] -= f * inv[c*k+j]
				}
			}
		}
	}
	return inv
}

// TestStandardErrorsFiniteDifference checks every fit's covariance against
// the inverse of a finite-difference Hessian of its public LogLikelihood
// in the natural parameters. The two differ by the truncation and rounding
// of the differences (relative step 1e-4 on values of order 10⁴: about
// 1e-5 relative) and by how far the optimum is from exact stationarity, so
// standard errors must agree to 0.2 % and covariances to 0.2 % of
// √(var_i var_j).
func TestStandardErrorsFiniteDifference(t *testing.T) {
	cs := cdnowSummary(t)
	check := func(name string, info FitInfo, ll func([]float64) float64) {
		x := make([]float64, len(info.Estimates))
		for i, e := range info.Estimates {
			x[i] = e.Value
		}
		cov := fdCovariance(t, ll, x)
		k := len(x)
		for i := range k {
			for j := range k {
				scale := math.Sqrt(cov[i*k+i] * cov[j*k+j])
				if d := math.Abs(info.Covariance[i*k+j] - cov[i*k+j]); d > 2e-3*scale {
					t.Errorf("%s: cov[%d,%d] = %.6g, finite differences %.6g", name, i, j, info.Covariance[i*k+j], cov[i*k+j])
				}
			}
			if se := math.Sqrt(cov[i*k+i]); math.Abs(info.Estimates[i].StdErr-se) > 2e-3*se {
				t.Errorf("%s: se(%s) = %.6g, finite differences %.6g", name, info.Estimates[i].Name, info.Estimates[i].StdErr, se)
			}
		}
		if len(info.Covariance) != k*k || info.Model == "" {
			t.Errorf("%s: model %q, covariance len %d", name, info.Model, len(info.Covariance))
		}
	}
	must := func(v float64, err error) float64 {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	_, info, err := FitBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("BG/NBD", info, func(x []float64) float64 { return must(BGNBD{x[0], x[1], x[2], x[3]}.LogLikelihood(cs)) })
	_, info, err = FitMBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("MBG/NBD", info, func(x []float64) float64 { return must(MBGNBD{x[0], x[1], x[2], x[3]}.LogLikelihood(cs)) })
	_, info, err = FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("Gamma-Gamma", info, func(x []float64) float64 { return must(GammaGamma{x[0], x[1], x[2]}.LogLikelihood(cs)) })
	_, info, err = FitParetoNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("Pareto/NBD", info, func(x []float64) float64 { return must(ParetoNBD{x[0], x[1], x[2], x[3]}.LogLikelihood(cs)) })
	dc := donations(t)
	_, info, err = FitBGBB(dc, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("BG/BB", info, func(x []float64) float64 { return must(BGBB{x[0], x[1], x[2], x[3]}.LogLikelihood(dc)) })
	surv := []float64{1000, 631, 468, 382, 326, 289, 262, 241}
	_, info, err = FitSBG(surv, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("sBG", info, func(x []float64) float64 { return must(SBG{x[0], x[1]}.LogLikelihood(surv)) })
}

// TestSummaryRendering checks the text and CSV forms of a summary.
func TestSummaryRendering(t *testing.T) {
	_, info, err := FitSBG([]float64{1000, 631, 468, 382, 326, 289, 262, 241}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := info.Summary()
	if s.N != 1000 || len(s.Estimates) != 2 {
		t.Fatalf("summary %+v", s)
	}
	if math.Abs(s.AIC-(-2*s.LogLikelihood+4)) > 1e-9 || math.Abs(s.BIC-(-2*s.LogLikelihood+2*math.Log(1000))) > 1e-9 {
		t.Errorf("AIC %v BIC %v LL %v", s.AIC, s.BIC, s.LogLikelihood)
	}
	text := s.String()
	for _, want := range []string{"sBG fit, n = 1000", "parameter", "alpha", "beta", "log-likelihood", "AIC", "BIC"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	var buf bytes.Buffer
	if n, err := s.WriteTo(&buf); err != nil || int(n) != len(text) || buf.String() != text {
		t.Errorf("WriteTo = %d, %v", n, err)
	}
	buf.Reset()
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][1] != "parameter" || recs[1][1] != "alpha" || recs[2][0] != "sBG" || recs[2][11] != "1000" {
		t.Errorf("csv %v", recs)
	}
	if v := atof(t, recs[1][3]); v != s.Estimates[0].StdErr {
		t.Errorf("csv std_err %v, want %v", v, s.Estimates[0].StdErr)
	}
}

// quad2 integrates f over (0,1)² with the midpoint rule after the
// substitution u = (1−cos πs)/2 in each variable, which removes the
// integrable endpoint singularities of beta densities with shape > 0.
func quad2(n int, f func(u, v float64) float64) float64 {
	var sum float64
	h := 1 / float64(n)
	for i := range n {
		s := (float64(i) + 0.5) * h
		u := (1 - math.Cos(math.Pi*s)) / 2
		du := math.Pi / 2 * math.Sin(math.Pi*s) * h
		for j := range n {
			r := (float64(j) + 0.5) * h
			v := (1 - math.Cos(math.Pi*r)) / 2
			dv := math.Pi / 2 * math.Sin(math.Pi*r) * h
			sum += f(u, v) * du * dv
		}
	}
	return sum
}

// betaPDF is the unnormalised Beta(a, b) density (the normalisation
// cancels in the posterior ratios below).
func betaPDF(x, a, b float64) float64 { return math.Pow(x, a-1) * math.Pow(1-x, b-1) }

// TestMBGNBDPredictionsQuadrature checks P(alive) and the conditional
// expected purchases of MBG/NBD against a direct numerical integration of
// the individual-level model over the posterior of (λ, p): given λ and p
// a customer with history (x, t_x, T) has likelihood
// λ^x (1−p)^x [(1−p) e^{−λT} + p e^{−λ t_x}], is alive with the first term,
// and then expects (1 − e^{−λpt})/p purchases in t. The quadrature (600²
// points, λ = 40·(w/(1−w))²) is accurate to about 1e-4 relative here;
// tolerance 1e-3.
func TestMBGNBDPredictionsQuadrature(t *testing.T) {
	m := MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614}
	for _, c := range []Customer{{Frequency: 0, T: 38}, {Frequency: 2, Recency: 30.43, T: 38.86}, {Frequency: 7, Recency: 10, T: 39}} {
		x, tx, T, h := float64(c.Frequency), c.Recency, c.T, 39.0
		var den, alive, future float64
		den = quad2(600, func(w, p float64) float64 {
			lam := 40 * (w / (1 - w)) * (w / (1 - w))
			jac := 40 * 2 * w / ((1 - w) * (1 - w) * (1 - w))
			base := math.Pow(lam, m.R-1) * math.Exp(-m.Alpha*lam) * jac * betaPDF(p, m.A, m.B) * math.Pow(lam, x) * math.Pow(1-p, x)
			return base * ((1-p)*math.Exp(-lam*T) + p*math.Exp(-lam*tx))
		})
		alive = quad2(600, func(w, p float64) float64 {
			lam := 40 * (w / (1 - w)) * (w / (1 - w))
			jac := 40 * 2 * w / ((1 - w) * (1 - w) * (1 - w))
			return math.Pow(lam, m.R-1) * math.Exp(-m.Alpha*lam) * jac * betaPDF(p, m.A, m.B) * math.Pow(lam, x) * math.Pow(1-p, x+1) * math.Exp(-lam*T)
		})
		future = quad2(600, func(w, p float64) float64 {
			lam := 40 * (w / (1 - w)) * (w / (1 - w))
			jac := 40 * 2 * w / ((1 - w) * (1 - w) * (1 - w))
			return math.Pow(lam, m.R-1) * math.Exp(-m.Alpha*lam) * jac * betaPDF(p, m.A, m.B) * math.Pow(lam, x) * math.Pow(1-p, x+1) * math.Exp(-lam*T) * -math.Expm1(-lam*p*h) / p
		})
		pa, err := m.ProbabilityAlive(c)
		if err != nil {
			t.Fatal(err)
		}
		ce, err := m.ConditionalExpectedPurchases(h, c)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(pa-alive/den) > 1e-3*alive/den {
			t.Errorf("%+v: P(alive) = %.6f, quadrature %.6f", c, pa, alive/den)
		}
		if math.Abs(ce-future/den) > 1e-3*future/den {
			t.Errorf("%+v: E[Y(%v)] = %.6f, quadrature %.6f", c, h, ce, future/den)
		}
	}
	e0, err := m.ExpectedPurchases(39)
	if err != nil {
		t.Fatal(err)
	}
	c0, _ := m.ConditionalExpectedPurchases(39, Customer{})
	if e0 != c0 || !(e0 > 0) {
		t.Errorf("ExpectedPurchases = %v, conditional at the origin %v", e0, c0)
	}
}

// TestBGBBPredictionsQuadrature checks the BG/BB likelihood, P(alive) and
// conditional expectations against numerical integration of the
// individual-level model over (p, θ) (tolerance 1e-3 relative, the
// quadrature is good to about 1e-4), that the likelihood sums to 1 over
// all histories with n opportunities, and the law of total expectation:
// Σ_h L(h)·E[X* | h] equals α/(α+β)·Σ_{j=n+1}^{n+n*} B(γ, δ+j)/B(γ, δ).
func TestBGBBPredictionsQuadrature(t *testing.T) {
	m := BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	const n, horizon = 6, 5
	norm := quad2(400, func(p, th float64) float64 { return betaPDF(p, m.Alpha, m.Beta) * betaPDF(th, m.Gamma, m.Delta) })
	var total, expSum float64
	for x := 0; x <= n; x++ {
		for tx := x; tx <= n; tx++ {
			if (x == 0) != (tx == 0) {
				continue
			}
			c := DiscreteCustomer{Frequency: x, Recency: tx, Periods: n}
			ll, err := m.LogLikelihood([]DiscreteCustomer{c})
			if err != nil {
				t.Fatal(err)
			}
			// Number of histories with these (x, t_x): C(t_x−1, x−1).
			mult := 1.0
			if x > 0 {
				mult = binom(tx-1, x-1)
			}
			total += mult * math.Exp(ll)
			ce, err := m.ConditionalExpectedPurchases(horizon, c)
			if err != nil {
				t.Fatal(err)
			}
			expSum += mult * math.Exp(ll) * ce
			if x != 2 && x != 0 && x != n {
				continue
			}
			fx, ftx := float64(x), float64(tx)
			lik := quad2(400, func(p, th float64) float64 {
				w := betaPDF(p, m.Alpha, m.Beta) * betaPDF(th, m.Gamma, m.Delta) * math.Pow(p, fx)
				s := math.Pow(1-p, n-fx) * math.Pow(1-th, n)
				for i := 0; i < n-tx; i++ {
					s += math.Pow(1-p, ftx-fx+float64(i)) * th * math.Pow(1-th, ftx+float64(i))
				}
				return w * s
			}) / norm
			alive := quad2(400, func(p, th float64) float64 {
				return betaPDF(p, m.Alpha, m.Beta) * betaPDF(th, m.Gamma, m.Delta) * math.Pow(p, fx) * math.Pow(1-p, n-fx) * math.Pow(1-th, n+1)
			}) / norm
			fut := quad2(400, func(p, th float64) float64 {
				var s float64
				for j := 1; j <= horizon; j++ {
					s += p * math.Pow(1-th, float64(j))
				}
				return betaPDF(p, m.Alpha, m.Beta) * betaPDF(th, m.Gamma, m.Delta) * math.Pow(p, fx) * math.Pow(1-p, n-fx) * math.Pow(1-th, n) * s
			}) / norm
			pa, err := m.ProbabilityAlive(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				name      string
				got, want float64
			}{{"L", math.Exp(ll), lik}, {"P(alive)", pa, alive / lik}, {"E[X*]", ce, fut / lik}} {
				if math.Abs(q.got-q.want) > 1e-3*q.want {
					t.Errorf("x=%d tx=%d: %s = %.6g, quadrature %.6g", x, tx, q.name, q.got, q.want)
				}
			}
		}
	}
	if math.Abs(total-1) > 1e-12 {
		t.Errorf("likelihoods sum to %.15f, want 1", total)
	}
	var want float64
	s := 1.0
	for j := 1; j <= n+horizon; j++ {
		s *= (m.Delta + float64(j) - 1) / (m.Gamma + m.Delta + float64(j) - 1)
		if j > n {
			want += s
		}
	}
	want *= m.Alpha / (m.Alpha + m.Beta)
	if math.Abs(expSum-want) > 1e-12 {
		t.Errorf("Σ L·E[X*] = %.15f, want %.15f", expSum, want)
	}
	// The closed form (long horizons) agrees with the sum; near γ = 1 (it
	// is used down to |γ−1| = 1e-3) it loses digits to cancellation, so
	// 1e-8 relative.
	for _, g := range []float64{0.657, 1.5, 1 + 2e-3} {
		mm := BGBB{1.2, 0.75, g, 2.783}
		closed := mm.survivalSum(6, 5000)
		var sum float64
		s := math.Exp(lbeta(g, 2.783+6) - lbeta(g, 2.783))
		for j := 1; j <= 5000; j++ {
			s *= (2.783 + 6 + float64(j) - 1) / (g + 2.783 + 6 + float64(j) - 1)
			sum += s
		}
		if math.Abs(closed-sum) > 1e-8*sum {
			t.Errorf("gamma %v: closed form %.12g, sum %.12g", g, closed, sum)
		}
	}
	e, err := m.ExpectedPurchases(n)
	if err != nil || !(e > 0) {
		t.Errorf("ExpectedPurchases = %v, %v", e, err)
	}
}

func lbeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// TestSBGPredictions checks S(t), r(t) and DERL against direct
// computations: S(t) = B(α, β+t)/B(α, β) from log-gamma, r(t) = S(t)/S(t−1)
// and DERL as the truncated series Σ S(t)/S(n−1)/(1+d)^{t−n} (100,000
// terms, the tail below 1e-12), to 1e-12 relative; and the identity
// DEL = 1 + DERL(d, 0)/(1+d).
func TestSBGPredictions(t *testing.T) {
	m := SBG{Alpha: 0.704, Beta: 1.182}
	s, err := m.Survival(20)
	if err != nil {
		t.Fatal(err)
	}
	for tt := 0; tt <= 20; tt++ {
		want := math.Exp(lbeta(m.Alpha, m.Beta+float64(tt)) - lbeta(m.Alpha, m.Beta))
		if math.Abs(s[tt]-want) > 1e-12*want {
			t.Errorf("S(%d) = %v, want %v", tt, s[tt], want)
		}
		if tt > 0 {
			r, err := m.RetentionRate(tt)
			if err != nil || math.Abs(r-s[tt]/s[tt-1]) > 1e-12 {
				t.Errorf("r(%d) = %v, %v; want %v", tt, r, err, s[tt]/s[tt-1])
			}
		}
	}
	for _, d := range []float64{0.1, 0.01} {
		for _, ren := range []int{0, 1, 4} {
			got, err := m.DERL(d, ren)
			if err != nil {
				t.Fatal(err)
			}
			n := float64(ren + 1)
			var want float64
			lS0 := lbeta(m.Alpha, m.Beta+n-1)
			for k := range 100000 {
				want += math.Exp(lbeta(m.Alpha, m.Beta+n+float64(k))-lS0) / math.Pow(1+d, float64(k))
			}
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("DERL(%v, %d) = %.12g, series %.12g", d, ren, got, want)
			}
		}
	}
}

// TestExcludeZeroSpend: the full CDNOW master file has exactly one repeat
// buyer with a zero mean repeat spend (customer 10244, calibration to
// 1997-09-30, day periods, weeks); FitGammaGamma rejects the data naming
// it, and fits after ExcludeZeroSpend leaves that one row out.
func TestExcludeZeroSpend(t *testing.T) {
	f, err := os.Open(testdata("CDNOW_master.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	txs, err := ReadCDNOW(f)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Summarize(txs, SummaryOptions{Period: Day, Unit: Week, CalibrationEnd: time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = FitGammaGamma(cs, nil)
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), `"10244"`) || !strings.Contains(err.Error(), "MonetaryValue = 0") {
		t.Fatalf("strict fit error = %v", err)
	}
	kept, dropped := ExcludeZeroSpend(cs)
	if dropped != 1 || len(kept) != len(cs)-1 {
		t.Fatalf("dropped %d, kept %d of %d", dropped, len(kept), len(cs))
	}
	m, info, err := FitGammaGamma(kept, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v on %d repeat buyers", m, info.Customers)
	// Invalid rows are kept so that the fit still reports them.
	bad := []Customer{{ID: "n", Frequency: 1, MonetaryValue: math.NaN()}, {ID: "z", Frequency: 2}, {ID: "o"}}
	kept, dropped = ExcludeZeroSpend(bad)
	if dropped != 1 || len(kept) != 2 || kept[0].ID != "n" || kept[1].ID != "o" {
		t.Errorf("kept %v, dropped %d", kept, dropped)
	}
}

// TestNewModelsBadInput: invalid input gives ErrInvalidInput naming the
// field, never a panic.
func TestNewModelsBadInput(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"mbg empty", err3(FitMBGNBD(nil, nil)), "empty"},
		{"mbg negative", err3(FitMBGNBD([]Customer{{Frequency: -1}}, nil)), "Frequency = -1"},
		{"mbg nan", err3(FitMBGNBD([]Customer{{T: nan}}, nil)), "T = NaN"},
		{"mbg opts", err3(FitMBGNBD([]Customer{{T: 1}}, &FitOptions{MaxIterations: -1})), "MaxIterations"},
		{"bgbb empty", err3(FitBGBB(nil, nil)), "empty"},
		{"bgbb freq>rec", err3(FitBGBB([]DiscreteCustomer{{Frequency: 3, Recency: 2, Periods: 6}}, nil)), "Frequency = 3 exceeds Recency = 2"},
		{"bgbb rec>n", err3(FitBGBB([]DiscreteCustomer{{Frequency: 1, Recency: 7, Periods: 6}}, nil)), "Recency = 7"},
		{"bgbb periods", err3(FitBGBB([]DiscreteCustomer{{}}, nil)), "Periods = 0"},
		{"bgbb count", err3(FitBGBB([]DiscreteCustomer{{Periods: 1, Count: nan}}, nil)), "Count = NaN"},
		{"bgbb negative", err3(FitBGBB([]DiscreteCustomer{{Frequency: -1, Periods: 2}}, nil)), "Frequency = -1"},
		{"sbg short", err3(FitSBG([]float64{1000}, nil)), "survivors"},
		{"sbg nan", err3(FitSBG([]float64{1000, nan}, nil)), "survivors[1] = NaN"},
		{"sbg grows", err3(FitSBG([]float64{1000, 900, 950}, nil)), "survivors[2] = 950 exceeds"},
		{"sbg zero", err3(FitSBG([]float64{0, 0}, nil)), "cohort size"},
		{"sbg negative", err3(FitSBG([]float64{10, -1}, nil)), "survivors[1] = -1"},
		{"sbg params", (SBG{Alpha: -1, Beta: 1}).Validate(), "SBG.Alpha = -1"},
		{"sbg d", err2(SBG{1, 1}.DERL(0, 0)), "d = 0"},
		{"sbg renewals", err2(SBG{1, 1}.DERL(0.1, -1)), "renewals = -1"},
		{"sbg t", err2(SBG{1, 1}.RetentionRate(0)), "t = 0"},
		{"sbg periods", err2(SBG{1, 1}.Survival(-1)), "periods = -1"},
		{"mbg params", (MBGNBD{R: nan, Alpha: 1, A: 1, B: 1}).Validate(), "MBGNBD.R = NaN"},
		{"mbg horizon", err2(MBGNBD{1, 1, 1, 1}.ConditionalExpectedPurchases(-1, Customer{})), "t = -1"},
		{"bgbb params", (BGBB{1, 1, 0, 1}).Validate(), "BGBB.Gamma = 0"},
		{"bgbb horizon", err2(BGBB{1, 1, 1, 1}.ConditionalExpectedPurchases(-1, DiscreteCustomer{Periods: 1})), "periods = -1"},
		{"bgbb customer", err2(BGBB{1, 1, 1, 1}.ProbabilityAlive(DiscreteCustomer{})), "Periods = 0"},
		{"bgbb n", err2(BGBB{1, 1, 1, 1}.ExpectedPurchases(-2)), "n = -2"},
	} {
		if !errors.Is(c.err, ErrInvalidInput) || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrInvalidInput containing %q", c.name, c.err, c.want)
		}
	}
	// No churn: the maximum lies at the boundary.
	if _, _, err := FitSBG([]float64{100, 100, 100}, nil); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("FitSBG without churn: %v, want ErrNoConvergence", err)
	}
}

func err2[T any](_ T, err error) error { return err }

func err3[T, U any](_ T, _ U, err error) error { return err }

// TestFitSBGFractionalCohortBIC: a cohort given as fractions under one
// half has no customer count for BIC's ln n: BIC is NaN (it was −Inf),
// while AIC and the fit stand; a cohort of proportions of one has n = 1.
func TestFitSBGFractionalCohortBIC(t *testing.T) {
	regular := []float64{1000, 631, 468, 382, 326, 289, 262, 241}
	scaled := func(f float64) []float64 {
		out := make([]float64, len(regular))
		for i, v := range regular {
			out[i] = v * f
		}
		return out
	}
	_, info, err := FitSBG(scaled(0.0004), nil) // a cohort of 0.4
	if err != nil {
		t.Fatal(err)
	}
	if info.Customers != 0 || !math.IsNaN(info.BIC()) || math.IsInf(info.AIC(), 0) || math.IsNaN(info.AIC()) {
		t.Fatalf("n %d, BIC %v, AIC %v; want n 0, BIC NaN and a finite AIC", info.Customers, info.BIC(), info.AIC())
	}
	if s := info.Summary(); !math.IsNaN(s.BIC) {
		t.Fatalf("Summary BIC %v; want NaN", s.BIC)
	}
	_, info, err = FitSBG(scaled(0.001), nil) // proportions: a cohort of 1
	if err != nil {
		t.Fatal(err)
	}
	if want := -2 * info.LogLikelihood; info.Customers != 1 || info.BIC() != want {
		t.Fatalf("n %d, BIC %v; want n 1 and BIC −2LL = %v", info.Customers, info.BIC(), want)
	}
}
