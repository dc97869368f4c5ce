package clv

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clmkit/clm/internal/numeric"
)

func TestGammaGammaGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cs := simulateBGNBD(rng, cdnowBGNBD, 3000, 20, 40, 0)
	simulateGammaGamma(rng, GammaGamma{P: 6, Q: 4, V: 15}, cs)
	d, err := newGGData(cs)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []GammaGamma{{6.249, 3.745, 15.448}, {1.5, 0.8, 300}} {
		g := make([]float64, 3)
		d.logLik(m, g)
		ps := []float64{m.P, m.Q, m.V}
		for i := range ps {
			h := 1e-6 * ps[i]
			up := append([]float64(nil), ps...)
			dn := append([]float64(nil), ps...)
			up[i] += h
			dn[i] -= h
			num := (d.logLik(GammaGamma{up[0], up[1], up[2]}, nil) - d.logLik(GammaGamma{dn[0], dn[1], dn[2]}, nil)) / (2 * h)
			if math.Abs(g[i]-num) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("%v: dLL/dθ%d = %v, numerical %v", m, i, g[i], num)
			}
		}
	}
}

// The log-likelihood must be the log of the density of the mean of x
// Gamma(p, ν) spends with ν ~ Gamma(q, v), which integrates to one over z̄.
func TestGammaGammaDensityIntegratesToOne(t *testing.T) {
	m := GammaGamma{P: 6.249, Q: 3.745, V: 15.448}
	for _, x := range []int{1, 3, 10} {
		// ∫ f(z) dz over z = e^u, trapezoid in u.
		var sum float64
		const lo, hi, n = -8.0, 12.0, 20000
		du := (hi - lo) / n
		for i := 0; i <= n; i++ {
			z := math.Exp(lo + float64(i)*du)
			ll, err := m.LogLikelihood([]Customer{{Frequency: x, MonetaryValue: z}})
			if err != nil {
				t.Fatal(err)
			}
			w := 1.0
			if i == 0 || i == n {
				w = 0.5
			}
			sum += w * math.Exp(ll) * z * du
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("x=%d: density integrates to %v", x, sum)
		}
	}
}

func TestGammaGammaParameterRecovery(t *testing.T) {
	truth := GammaGamma{P: 4, Q: 5, V: 60}
	rng := rand.New(rand.NewPCG(99, 7))
	cs := simulateBGNBD(rng, BGNBD{R: 1, Alpha: 5, A: 0.5, B: 3}, 30000, 30, 52, 0)
	simulateGammaGamma(rng, truth, cs)
	m, info, err := FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit %v on %d repeaters", m, info.Customers)
	// Compare with the asymptotic standard errors of the log-parameters
	// (observed information from a numerical Hessian of the analytic
	// gradient).
	d, err := newGGData(cs)
	if err != nil {
		t.Fatal(err)
	}
	f := func(th, grad []float64) float64 {
		p := GammaGamma{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2])}
		g := make([]float64, 3)
		ll := d.logLik(p, g)
		if grad != nil {
			grad[0], grad[1], grad[2] = -g[0]*p.P, -g[1]*p.Q, -g[2]*p.V
		}
		return -ll
	}
	th := []float64{math.Log(m.P), math.Log(m.Q), math.Log(m.V)}
	h, err := numeric.Hessian(f, th, 0)
	if err != nil {
		t.Fatal(err)
	}
	var h4 [4][4]float64
	for i := range 3 {
		for j := range 3 {
			h4[i][j] = h[i*3+j]
		}
	}
	h4[3][3] = 1
	inv, ok := invert4(h4)
	if !ok {
		t.Fatal("singular information matrix")
	}
	est := []float64{m.P, m.Q, m.V}
	tru := []float64{truth.P, truth.Q, truth.V}
	for i, name := range []string{"p", "q", "v"} {
		se := math.Sqrt(inv[i][i])
		if se > 0.25 {
			t.Errorf("%s: standard error %.3f too large for a meaningful check", name, se)
		}
		if z := math.Abs(math.Log(est[i]/tru[i])) / se; z > 4 {
			t.Errorf("%s = %.4f, true %.4f: %.1f standard errors away", name, est[i], tru[i], z)
		}
	}
	got, _ := m.ExpectedSpend()
	want, _ := truth.ExpectedSpend()
	if relErr(got, want) > 0.03 {
		t.Errorf("mean spend %.3f, true %.3f", got, want)
	}
}

func TestGammaGammaPredictions(t *testing.T) {
	m := GammaGamma{P: 6.25, Q: 3.75, V: 15.5}
	pop := 6.25 * 15.5 / 2.75
	tests := []struct {
		c    Customer
		want float64
	}{
		{Customer{Frequency: 0}, pop},
		{Customer{Frequency: 1, MonetaryValue: 20}, 6.25 * (15.5 + 20) / (6.25 + 2.75)},
		// The weight on the customer's own mean grows with x.
		{Customer{Frequency: 50, MonetaryValue: 100}, 6.25 * (15.5 + 5000) / (312.5 + 2.75)},
	}
	for _, tc := range tests {
		got, err := m.ConditionalExpectedSpend(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if relErr(got, tc.want) > 1e-14 {
			t.Errorf("ConditionalExpectedSpend(%+v) = %v, want %v", tc.c, got, tc.want)
		}
	}
	if got, _ := m.ExpectedSpend(); relErr(got, pop) > 1e-15 {
		t.Errorf("ExpectedSpend = %v, want %v", got, pop)
	}
}

func TestGammaGammaInvalidInput(t *testing.T) {
	tests := []struct {
		name  string
		m     GammaGamma
		c     Customer
		field string
	}{
		{"q not above 1", GammaGamma{1, 0.9, 1}, Customer{}, "GammaGamma.Q = 0.9"},
		{"negative p", GammaGamma{-1, 3, 1}, Customer{}, "GammaGamma.P"},
		{"NaN v", GammaGamma{1, 3, math.NaN()}, Customer{}, "GammaGamma.V"},
		{"NaN spend", GammaGamma{1, 3, 1}, Customer{ID: "z", Frequency: 2, MonetaryValue: math.NaN()}, `customer "z": MonetaryValue = NaN`},
		{"negative frequency", GammaGamma{1, 3, 1}, Customer{Frequency: -3}, "Frequency = -3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.ConditionalExpectedSpend(tc.c)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want ErrInvalidInput naming %q", err, tc.field)
			}
		})
	}
	fits := []struct {
		name  string
		cs    []Customer
		field string
	}{
		{"no repeaters", []Customer{{Frequency: 0}, {Frequency: 0}}, "no customer with Frequency > 0"},
		{"zero spend", []Customer{{ID: "a", Frequency: 1, MonetaryValue: 0}}, `customers[0] ("a"): MonetaryValue = 0`},
		{"infinite spend", []Customer{{Frequency: 1, MonetaryValue: 3}, {ID: "b", Frequency: 2, MonetaryValue: math.Inf(1)}}, "MonetaryValue = +Inf"},
	}
	for _, tc := range fits {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := FitGammaGamma(tc.cs, nil)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want ErrInvalidInput naming %q", err, tc.field)
			}
		})
	}
}
