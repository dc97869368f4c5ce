package clv_test

// Tests written from the exported API docs, README.md
// and docs/analytics.md only.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/store"
)

// ---------- helpers ----------

var (
	rvBG     = clv.BGNBD{R: 0.2426, Alpha: 4.4135, A: 0.7929, B: 2.4258}
	rvPareto = clv.ParetoNBD{R: 0.5534, Alpha: 10.5802, S: 0.6061, Beta: 11.6562}
	rvMBG    = clv.MBGNBD{R: 0.5248, Alpha: 6.1830, A: 0.8914, B: 1.6140}
	rvGG     = clv.GammaGamma{P: 6.2488, Q: 3.7446, V: 15.4477}
	rvBGBB   = clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
)

func rvNoPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", name, r)
		}
	}()
	f()
}

// rvWantInvalid asserts err wraps ErrInvalidInput and its message contains
// every one of the (case-insensitive) substrings.
func rvWantInvalid(t *testing.T, name string, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: nil error, want ErrInvalidInput", name)
		return
	}
	if !errors.Is(err, clv.ErrInvalidInput) {
		t.Errorf("%s: error %q does not wrap ErrInvalidInput", name, err)
		return
	}
	low := strings.ToLower(err.Error())
	for _, s := range subs {
		if !strings.Contains(low, strings.ToLower(s)) {
			t.Errorf("%s: error %q does not mention %q", name, err, s)
		}
	}
}

func rvClose(got, want, rel float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-6)
}

// hyp2f1 sums the Gauss hypergeometric series for |z| < 1.
func hyp2f1(a, b, c, z float64) float64 {
	sum, term := 1.0, 1.0
	for n := 0; n < 5_000_000; n++ {
		fn := float64(n)
		term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		sum += term
		if math.Abs(term) < 1e-17*math.Abs(sum) && n > 5 {
			break
		}
	}
	return sum
}

func lgam(x float64) float64 { l, _ := math.Lgamma(x); return l }
func lbeta(a, b float64) float64 {
	return lgam(a) + lgam(b) - lgam(a+b)
}

// BG/NBD closed forms (Fader, Hardie & Lee 2005).
func hbgPAlive(m clv.BGNBD, x int, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	xf := float64(x)
	return 1 / (1 + m.A/(m.B+xf-1)*math.Pow((m.Alpha+T)/(m.Alpha+tx), m.R+xf))
}

func hbgCEP(m clv.BGNBD, t float64, x int, tx, T float64) float64 {
	xf := float64(x)
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	z := t / (al + T + t)
	bracket := 1 - math.Pow((al+T)/(al+T+t), r+xf)*hyp2f1(r+xf, b+xf, a+b+xf-1, z)
	return (a + b + xf - 1) / (a - 1) * bracket * hbgPAlive(m, x, tx, T)
}

func hbgEX(m clv.BGNBD, t float64) float64 {
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	return (a + b - 1) / (a - 1) * (1 - math.Pow(al/(al+t), r)*hyp2f1(r, b, a+b-1, t/(al+t)))
}

func hbgLL(m clv.BGNBD, x int, tx, T float64) float64 {
	xf := float64(x)
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	a1 := lgam(r+xf) - lgam(r) + r*math.Log(al)
	a2 := lgam(a+b) + lgam(b+xf) - lgam(b) - lgam(a+b+xf)
	a3 := -(r + xf) * math.Log(al+T)
	if x == 0 {
		return a1 + a2 + a3
	}
	a4 := math.Log(a) - math.Log(b+xf-1) - (r+xf)*math.Log(al+tx)
	mx := math.Max(a3, a4)
	return a1 + a2 + mx + math.Log(math.Exp(a3-mx)+math.Exp(a4-mx))
}

// Pareto/NBD closed forms (Fader & Hardie 2005 note).
func hpnA0(m clv.ParetoNBD, x int, tx, T float64) float64 {
	r, al, s, be := m.R, m.Alpha, m.S, m.Beta
	xf := float64(x)
	rsx := r + s + xf
	if al >= be {
		return hyp2f1(rsx, s+1, rsx+1, (al-be)/(al+tx))/math.Pow(al+tx, rsx) -
			hyp2f1(rsx, s+1, rsx+1, (al-be)/(al+T))/math.Pow(al+T, rsx)
	}
	return hyp2f1(rsx, r+xf, rsx+1, (be-al)/(be+tx))/math.Pow(be+tx, rsx) -
		hyp2f1(rsx, r+xf, rsx+1, (be-al)/(be+T))/math.Pow(be+T, rsx)
}

func hpnPAlive(m clv.ParetoNBD, x int, tx, T float64) float64 {
	r, al, s, be := m.R, m.Alpha, m.S, m.Beta
	xf := float64(x)
	return 1 / (1 + s/(r+s+xf)*math.Pow(al+T, r+xf)*math.Pow(be+T, s)*hpnA0(m, x, tx, T))
}

func hpnLL(m clv.ParetoNBD, x int, tx, T float64) float64 {
	r, al, s, be := m.R, m.Alpha, m.S, m.Beta
	xf := float64(x)
	pre := lgam(r+xf) + r*math.Log(al) + s*math.Log(be) - lgam(r)
	in := 1/(math.Pow(al+T, r+xf)*math.Pow(be+T, s)) + s/(r+s+xf)*hpnA0(m, x, tx, T)
	return pre + math.Log(in)
}

func hpnCEP(m clv.ParetoNBD, t float64, x int, tx, T float64) float64 {
	r, al, s, be := m.R, m.Alpha, m.S, m.Beta
	xf := float64(x)
	return (r + xf) * (be + T) / ((al + T) * (s - 1)) * (1 - math.Pow((be+T)/(be+T+t), s-1)) * hpnPAlive(m, x, tx, T)
}

func rvReadSummary(t *testing.T) []clv.Customer {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cdnow_customers_summary_with_transactions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []clv.Customer
	for _, rec := range recs[1:] {
		x, _ := strconv.Atoi(rec[1])
		tx, _ := strconv.ParseFloat(rec[2], 64)
		T, _ := strconv.ParseFloat(rec[3], 64)
		z, _ := strconv.ParseFloat(rec[4], 64)
		out = append(out, clv.Customer{ID: rec[0], Frequency: x, Recency: tx, T: T, MonetaryValue: z})
	}
	return out
}

type rvLinPM struct{ rate float64 }

func (m rvLinPM) ConditionalExpectedPurchases(t float64, c clv.Customer) (float64, error) {
	return m.rate * t, nil
}

type rvConstSM struct{ v float64 }

func (m rvConstSM) ConditionalExpectedSpend(c clv.Customer) (float64, error) { return m.v, nil }

type rvNaNPM struct{}

func (rvNaNPM) ConditionalExpectedPurchases(t float64, c clv.Customer) (float64, error) {
	return math.NaN(), nil
}

// ---------- AffordableAcquisitionCost ----------

func TestContractAffordableAcquisitionCostValue(t *testing.T) {
	got, err := clv.AffordableAcquisitionCost(200, 0.3, 0.05)
	if err != nil || !rvClose(got, 3, 1e-12) {
		t.Errorf("AffordableAcquisitionCost(200,0.3,0.05) = %v, %v; want 3", got, err)
	}
	for _, c := range [][3]float64{{0, 0.5, 0.5}, {100, 0, 0.5}, {100, 1, 1}, {100, 0.5, 0}} {
		got, err := clv.AffordableAcquisitionCost(c[0], c[1], c[2])
		if err != nil || got != c[0]*c[1]*c[2] {
			t.Errorf("AffordableAcquisitionCost%v = %v, %v", c, got, err)
		}
	}
}

func TestContractAffordableAcquisitionCostInvalid(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name                string
		value, margin, conv float64
		field               string
	}{
		{"margin>1", 100, 1.5, 0.1, "margin"},
		{"margin<0", 100, -0.1, 0.1, "margin"},
		{"margin NaN", 100, nan, 0.1, "margin"},
		{"conversion>1", 100, 0.5, 1.01, "conversion"},
		{"conversion<0", 100, 0.5, -0.01, "conversion"},
		{"conversion NaN", 100, 0.5, nan, "conversion"},
		{"value NaN", nan, 0.5, 0.1, "value"},
		{"value +Inf", inf, 0.5, 0.1, "value"},
		{"value -Inf", -inf, 0.5, 0.1, "value"},
		{"value negative", -5, 0.5, 0.1, "value"},
	}
	for _, c := range cases {
		rvNoPanic(t, c.name, func() {
			got, err := clv.AffordableAcquisitionCost(c.value, c.margin, c.conv)
			if err == nil {
				t.Errorf("%s: got %v, nil error", c.name, got)
				return
			}
			rvWantInvalid(t, c.name, err, c.field)
		})
	}
}

// ---------- LifetimeValue ----------

func TestContractLifetimeValueUnitsAndDiscount(t *testing.T) {
	c := clv.Customer{Frequency: 1, Recency: 1, T: 2}
	for _, tc := range []struct {
		unit     clv.TimeUnit
		unitDays float64
	}{{0, 7}, {clv.Week, 7}, {clv.Day, 1}} {
		const d = 0.01
		want := 0.0
		for i := 1; i <= 12; i++ {
			want += 10 * (clv.DaysPerMonth / tc.unitDays) / math.Pow(1+d, float64(i))
		}
		got, err := clv.LifetimeValue(rvLinPM{1}, rvConstSM{10}, c, clv.ValueOptions{Months: 12, MonthlyDiscountRate: d, Unit: tc.unit})
		if err != nil || !rvClose(got, want, 1e-12) {
			t.Errorf("unit %v: LifetimeValue = %v, %v; want %v", tc.unit, got, err, want)
		}
	}
}

func TestContractLifetimeValueBGNBDHand(t *testing.T) {
	c := clv.Customer{ID: "1", Frequency: 2, Recency: 30.43, T: 38.86, MonetaryValue: 22.35}
	spend, err := rvGG.ConditionalExpectedSpend(c)
	if err != nil {
		t.Fatal(err)
	}
	const d = 0.01
	want, prev := 0.0, 0.0
	for i := 1; i <= 24; i++ {
		e := hbgCEP(rvBG, float64(i)*clv.DaysPerMonth/7, 2, 30.43, 38.86)
		want += (e - prev) * spend / math.Pow(1+d, float64(i))
		prev = e
	}
	got, err := clv.LifetimeValue(rvBG, rvGG, c, clv.ValueOptions{Months: 24, MonthlyDiscountRate: d, Unit: clv.Week})
	if err != nil || !rvClose(got, want, 1e-8) {
		t.Errorf("LifetimeValue = %v, %v; hand %v", got, err, want)
	}
	// No discount: telescopes to E[purchases by month 24] × spend.
	got0, err := clv.LifetimeValue(rvBG, rvGG, c, clv.ValueOptions{Months: 24, Unit: clv.Week})
	if err != nil || !rvClose(got0, prev*spend, 1e-8) {
		t.Errorf("LifetimeValue d=0 = %v, %v; want %v", got0, err, prev*spend)
	}
}

func TestContractLifetimeValueMonotoneInHorizon(t *testing.T) {
	cs := []clv.Customer{
		{Frequency: 0, T: 10},
		{Frequency: 2, Recency: 30.43, T: 38.86, MonetaryValue: 22.35},
		{Frequency: 20, Recency: 5, T: 60, MonetaryValue: 100},
	}
	models := []clv.PurchaseModel{rvBG, rvPareto, rvMBG}
	for mi, pm := range models {
		for _, c := range cs {
			prev := 0.0
			for _, months := range []int{1, 2, 6, 12, 60, 240, 1200} {
				v, err := clv.LifetimeValue(pm, rvGG, c, clv.ValueOptions{Months: months, MonthlyDiscountRate: 0.01})
				if err != nil {
					t.Errorf("model %d %+v months %d: %v", mi, c, months, err)
					break
				}
				if math.IsNaN(v) || v < prev-1e-9 || v < 0 {
					t.Errorf("model %d %+v: value %v at %d months after %v", mi, c, v, months, prev)
				}
				prev = v
			}
		}
	}
}

func TestContractLifetimeValueInvalidOptions(t *testing.T) {
	c := clv.Customer{Frequency: 1, Recency: 1, T: 2, MonetaryValue: 10}
	cases := []struct {
		name  string
		opts  clv.ValueOptions
		field string
	}{
		{"months 0", clv.ValueOptions{Months: 0}, "months"},
		{"months -1", clv.ValueOptions{Months: -1}, "months"},
		{"months max+1", clv.ValueOptions{Months: clv.MaxMonths + 1}, "months"},
		{"months huge", clv.ValueOptions{Months: math.MaxInt}, "months"},
		{"rate -0.01", clv.ValueOptions{Months: 12, MonthlyDiscountRate: -0.01}, "discount"},
		{"rate NaN", clv.ValueOptions{Months: 12, MonthlyDiscountRate: math.NaN()}, "discount"},
		{"rate +Inf", clv.ValueOptions{Months: 12, MonthlyDiscountRate: math.Inf(1)}, "discount"},
		{"rate -1", clv.ValueOptions{Months: 12, MonthlyDiscountRate: -1}, "discount"},
		{"unit 3", clv.ValueOptions{Months: 12, Unit: 3}, "unit"},
		{"unit -1", clv.ValueOptions{Months: 12, Unit: -1}, "unit"},
	}
	for _, tc := range cases {
		rvNoPanic(t, tc.name, func() {
			v, err := clv.LifetimeValue(rvBG, rvGG, c, tc.opts)
			if err == nil {
				t.Errorf("%s: got %v, nil error", tc.name, v)
				return
			}
			rvWantInvalid(t, tc.name, err, tc.field)
		})
	}
	// Edges that are valid.
	for _, o := range []clv.ValueOptions{{Months: 1}, {Months: clv.MaxMonths, MonthlyDiscountRate: 0.01}, {Months: 12, MonthlyDiscountRate: 1e300}} {
		v, err := clv.LifetimeValue(rvBG, rvGG, c, o)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Errorf("opts %+v: %v, %v", o, v, err)
		}
	}
}

func TestContractLifetimeValueHostileModels(t *testing.T) {
	c := clv.Customer{Frequency: 1, Recency: 1, T: 2, MonetaryValue: 10}
	o := clv.ValueOptions{Months: 12, MonthlyDiscountRate: 0.01}
	cases := []struct {
		name string
		pm   clv.PurchaseModel
		sm   clv.SpendModel
	}{
		{"nil pm", nil, rvGG},
		{"nil sm", rvBG, nil},
		{"typed-nil *BGNBD", (*clv.BGNBD)(nil), rvGG},
		{"typed-nil *ParetoNBD", (*clv.ParetoNBD)(nil), rvGG},
		{"typed-nil *GammaGamma", rvBG, (*clv.GammaGamma)(nil)},
		{"invalid BGNBD params", clv.BGNBD{R: math.NaN(), Alpha: 1, A: 1, B: 1}, rvGG},
		{"invalid GammaGamma Q<1", rvBG, clv.GammaGamma{P: 1, Q: 0.5, V: 1}},
	}
	for _, tc := range cases {
		rvNoPanic(t, tc.name, func() {
			v, err := clv.LifetimeValue(tc.pm, tc.sm, c, o)
			if err == nil {
				t.Errorf("%s: got %v, nil error", tc.name, v)
			} else if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%s: %v does not wrap ErrInvalidInput", tc.name, err)
			}
		})
	}
	// A model returning NaN must not yield a NaN value with a nil error.
	rvNoPanic(t, "NaN model", func() {
		v, err := clv.LifetimeValue(rvNaNPM{}, rvGG, c, o)
		if err == nil && math.IsNaN(v) {
			t.Errorf("NaN purchase model: LifetimeValue = NaN, nil error")
		}
	})
}

func TestContractLifetimeValueInvalidCustomer(t *testing.T) {
	o := clv.ValueOptions{Months: 12, MonthlyDiscountRate: 0.01}
	for _, c := range []clv.Customer{
		{Frequency: 1, Recency: 5, T: 2, MonetaryValue: 10},
		{Frequency: 0, Recency: 1, T: 2},
		{Frequency: -1, Recency: 0, T: 2},
		{Frequency: 1, Recency: math.NaN(), T: 2, MonetaryValue: 10},
		{Frequency: 1, Recency: 1, T: math.Inf(1), MonetaryValue: 10},
		{Frequency: 1, Recency: 1, T: 2, MonetaryValue: math.NaN()},
		{Frequency: 1, Recency: 1, T: 2, MonetaryValue: -3},
	} {
		rvNoPanic(t, fmt.Sprint(c), func() {
			v, err := clv.LifetimeValue(rvBG, rvGG, c, o)
			if err == nil {
				t.Errorf("%+v: got %v, nil error", c, v)
			} else if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%+v: %v does not wrap ErrInvalidInput", c, err)
			}
		})
	}
}

// ---------- BG/NBD closed forms ----------

func TestContractBGNBDClosedForms(t *testing.T) {
	// FHL 2005: customer with x=2, t_x=30.43, T=38.86: E[Y(39)] ≈ 1.226.
	got, err := rvBG.ConditionalExpectedPurchases(39, clv.Customer{Frequency: 2, Recency: 30.43, T: 38.86})
	if err != nil || math.Abs(got-1.226) > 0.0015 {
		t.Errorf("published E[Y(39)|2,30.43,38.86] = %v, %v; want 1.226", got, err)
	}
	rows := []struct {
		x     int
		tx, T float64
	}{{0, 0, 38.86}, {1, 1.71, 38.86}, {2, 30.43, 38.86}, {7, 35, 38.86}, {25, 5, 60}, {0, 0, 0}, {3, 2, 2}}
	for _, r := range rows {
		c := clv.Customer{Frequency: r.x, Recency: r.tx, T: r.T}
		pa, err := rvBG.ProbabilityAlive(c)
		if want := hbgPAlive(rvBG, r.x, r.tx, r.T); err != nil || !rvClose(pa, want, 1e-10) {
			t.Errorf("P(alive)%+v = %v, %v; want %v", r, pa, err, want)
		}
		for _, h := range []float64{0.5, 10, 39, 52} {
			cep, err := rvBG.ConditionalExpectedPurchases(h, c)
			if want := hbgCEP(rvBG, h, r.x, r.tx, r.T); err != nil || !rvClose(cep, want, 1e-8) {
				t.Errorf("CEP(%v)%+v = %v, %v; want %v", h, r, cep, err, want)
			}
		}
		ll, err := rvBG.LogLikelihood([]clv.Customer{c})
		if want := hbgLL(rvBG, r.x, r.tx, r.T); err != nil || math.Abs(ll-want) > 1e-10*math.Max(1, math.Abs(want)) {
			t.Errorf("LL%+v = %v, %v; want %v", r, ll, err, want)
		}
	}
	for _, h := range []float64{0.1, 1, 39, 78} {
		ex, err := rvBG.ExpectedPurchases(h)
		if want := hbgEX(rvBG, h); err != nil || !rvClose(ex, want, 1e-8) {
			t.Errorf("E[X(%v)] = %v, %v; want %v", h, ex, err, want)
		}
	}
}

func TestContractBGNBDLogLikelihoodCDNOW(t *testing.T) {
	cs := rvReadSummary(t)
	want := 0.0
	for _, c := range cs {
		want += hbgLL(rvBG, c.Frequency, c.Recency, c.T)
	}
	got, err := rvBG.LogLikelihood(cs)
	if err != nil || !rvClose(got, want, 1e-10) {
		t.Errorf("LL = %v, %v; hand %v", got, err, want)
	}
	if math.Abs(want-(-9582.43)) > 0.05 {
		t.Errorf("hand LL at published params %v, want about -9582.43", want)
	}
}

func TestContractFreshCustomerEqualsUnconditional(t *testing.T) {
	type both interface {
		clv.PurchaseModel
		ExpectedPurchases(float64) (float64, error)
	}
	for i, m := range []both{rvBG, rvPareto, rvMBG} {
		for _, h := range []float64{0, 1, 39, 200} {
			a, err1 := m.ConditionalExpectedPurchases(h, clv.Customer{})
			b, err2 := m.ExpectedPurchases(h)
			if err1 != nil || err2 != nil || !rvClose(a, b, 1e-8) {
				t.Errorf("model %d t=%v: CEP(fresh)=%v (%v), E[X]=%v (%v)", i, h, a, err1, b, err2)
			}
		}
	}
}

func TestContractPredictionInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	alive := []clv.AliveModel{rvBG, rvPareto, rvMBG}
	pms := []clv.PurchaseModel{rvBG, rvPareto, rvMBG}
	var cs []clv.Customer
	for range 200 {
		T := math.Pow(10, -3+8*rng.Float64())
		x := rng.IntN(1000)
		tx := 0.0
		if x > 0 {
			tx = T * rng.Float64()
		}
		cs = append(cs, clv.Customer{Frequency: x, Recency: tx, T: T})
	}
	cs = append(cs, clv.Customer{Frequency: 1_000_000_000, Recency: 1, T: 1}, clv.Customer{Frequency: 5, Recency: 1e-300, T: 1e300}, clv.Customer{T: 1e300})
	for mi := range alive {
		for _, c := range cs {
			rvNoPanic(t, fmt.Sprint(mi, c), func() {
				p, err := alive[mi].ProbabilityAlive(c)
				if err != nil {
					if !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
						t.Errorf("model %d %+v: P(alive) error %v", mi, c, err)
					}
				} else if !(p >= 0 && p <= 1) {
					t.Errorf("model %d %+v: P(alive) = %v", mi, c, p)
				}
				prev := 0.0
				for _, h := range []float64{0, 1, 10, 100, 1e4} {
					e, err := pms[mi].ConditionalExpectedPurchases(h, c)
					if err != nil {
						if !errors.Is(err, clv.ErrNoConvergence) {
							t.Errorf("model %d %+v t=%v: error %v", mi, c, h, err)
						}
						break
					}
					if math.IsNaN(e) || e < prev*(1-1e-9) || e < 0 {
						t.Errorf("model %d %+v: CEP(%v)=%v after %v", mi, c, h, e, prev)
						break
					}
					prev = e
				}
			})
		}
	}
}

func TestContractBGNBDHugeHorizonBounds(t *testing.T) {
	// Documented: result within [0, t(r+x)/(α+T)] or ErrNoConvergence.
	for _, m := range []clv.BGNBD{rvBG, {R: 0.5, Alpha: 2, A: 0.5, B: 300}, {R: 2, Alpha: 1, A: 3, B: 800}} {
		for _, c := range []clv.Customer{{}, {Frequency: 3, Recency: 5, T: 10}} {
			for _, h := range []float64{1e3, 1e6, 1e9, 1e12, 1e15, 1e300} {
				rvNoPanic(t, "huge", func() {
					e, err := m.ConditionalExpectedPurchases(h, c)
					if err != nil {
						if !errors.Is(err, clv.ErrNoConvergence) {
							t.Errorf("%v %+v t=%g: %v", m, c, h, err)
						}
						return
					}
					bound := h * (m.R + float64(c.Frequency)) / (m.Alpha + c.T)
					if !(e >= 0 && e <= bound*(1+1e-9)) {
						t.Errorf("%v %+v t=%g: CEP=%v outside [0,%v]", m, c, h, e, bound)
					}
				})
			}
		}
	}
}

func TestContractPredictionInvalidInputs(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	bad := []struct {
		c     clv.Customer
		field string
	}{
		{clv.Customer{Frequency: 1, Recency: 5, T: 2}, "recency"},
		{clv.Customer{Frequency: 0, Recency: 1, T: 2}, "recency"},
		{clv.Customer{Frequency: -1, T: 2}, "frequency"},
		{clv.Customer{Frequency: 1, Recency: nan, T: 2}, "recency"},
		{clv.Customer{Frequency: 1, Recency: 1, T: nan}, "T"},
		{clv.Customer{Frequency: 1, Recency: 1, T: inf}, "T"},
		{clv.Customer{Frequency: 1, Recency: -1, T: 2}, "recency"},
		{clv.Customer{Frequency: 0, T: -2}, "T"},
	}
	type model interface {
		clv.PurchaseModel
		clv.AliveModel
	}
	for mi, m := range []model{rvBG, rvPareto, rvMBG} {
		for _, b := range bad {
			rvNoPanic(t, fmt.Sprint(mi, b.c), func() {
				_, err := m.ProbabilityAlive(b.c)
				rvWantInvalid(t, fmt.Sprintf("model %d P(alive) %+v", mi, b.c), err, b.field)
				_, err = m.ConditionalExpectedPurchases(10, b.c)
				rvWantInvalid(t, fmt.Sprintf("model %d CEP %+v", mi, b.c), err, b.field)
			})
		}
		good := clv.Customer{Frequency: 1, Recency: 1, T: 2}
		for _, h := range []float64{-1, nan, inf, -inf} {
			rvNoPanic(t, "t", func() {
				v, err := m.ConditionalExpectedPurchases(h, good)
				if err == nil {
					t.Errorf("model %d CEP(t=%v) = %v, nil error", mi, h, v)
				} else if !errors.Is(err, clv.ErrInvalidInput) {
					t.Errorf("model %d CEP(t=%v): %v not ErrInvalidInput", mi, h, err)
				}
			})
		}
	}
	// Invalid parameters.
	for _, m := range []clv.BGNBD{{}, {R: -1, Alpha: 1, A: 1, B: 1}, {R: 1, Alpha: nan, A: 1, B: 1}, {R: 1, Alpha: 1, A: inf, B: 1}} {
		rvNoPanic(t, "params", func() {
			_, err := m.ProbabilityAlive(clv.Customer{T: 1})
			if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%+v P(alive): %v", m, err)
			}
			_, err = m.ExpectedPurchases(1)
			if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%+v E[X]: %v", m, err)
			}
			_, err = m.LogLikelihood([]clv.Customer{{T: 1}})
			if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%+v LL: %v", m, err)
			}
		})
	}
}

// ---------- MBG/NBD ----------

func TestContractMBGNBDClosedForms(t *testing.T) {
	m := rvMBG
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	rows := []struct {
		x     int
		tx, T float64
	}{{0, 0, 38.86}, {2, 30.43, 38.86}, {10, 12, 50}}
	for _, row := range rows {
		c := clv.Customer{Frequency: row.x, Recency: row.tx, T: row.T}
		xf := float64(row.x)
		wantPA := 1 / (1 + a/(b+xf)*math.Pow((al+row.T)/(al+row.tx), r+xf))
		pa, err := m.ProbabilityAlive(c)
		if err != nil || !rvClose(pa, wantPA, 1e-10) {
			t.Errorf("P(alive)%+v = %v, %v; want %v", row, pa, err, wantPA)
		}
		for _, h := range []float64{1, 39} {
			z := h / (al + row.T + h)
			want := (a + b + xf) / (a - 1) * (1 - math.Pow((al+row.T)/(al+row.T+h), r+xf)*hyp2f1(r+xf, b+xf+1, a+b+xf, z)) * wantPA
			got, err := m.ConditionalExpectedPurchases(h, c)
			if err != nil || !rvClose(got, want, 1e-8) {
				t.Errorf("CEP(%v)%+v = %v, %v; want %v", h, row, got, err, want)
			}
		}
	}
	for _, h := range []float64{1, 39, 78} {
		want := b / (a - 1) * (1 - math.Pow(al/(al+h), r)*hyp2f1(r, b+1, a+b, h/(al+h)))
		got, err := m.ExpectedPurchases(h)
		if err != nil || !rvClose(got, want, 1e-8) {
			t.Errorf("E[X(%v)] = %v, %v; want %v", h, got, err, want)
		}
	}
}

func TestContractMBGNBDNearAEqualsOne(t *testing.T) {
	c := clv.Customer{Frequency: 2, Recency: 20, T: 30}
	var vals []float64
	for _, a := range []float64{1 - 1e-6, 1 - 1e-10, 1, 1 + 1e-10, 1 + 1e-6} {
		m := clv.MBGNBD{R: 0.5, Alpha: 6, A: a, B: 1.6}
		v, err := m.ConditionalExpectedPurchases(39, c)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("a=%v: %v, %v", a, v, err)
		}
		vals = append(vals, v)
	}
	for i := 1; i < len(vals); i++ {
		if !rvClose(vals[i], vals[0], 1e-4) {
			t.Errorf("MBG/NBD CEP not continuous near a=1: %v", vals)
			break
		}
	}
}

// ---------- Pareto/NBD ----------

func TestContractParetoNBDClosedForms(t *testing.T) {
	m := rvPareto
	rows := []struct {
		x     int
		tx, T float64
	}{{0, 0, 38.86}, {2, 30.43, 38.86}, {1, 1.71, 38.86}, {26, 30.86, 31}, {10, 5, 60}}
	for _, row := range rows {
		c := clv.Customer{Frequency: row.x, Recency: row.tx, T: row.T}
		pa, err := m.ProbabilityAlive(c)
		if want := hpnPAlive(m, row.x, row.tx, row.T); err != nil || !rvClose(pa, want, 1e-8) {
			t.Errorf("P(alive)%+v = %v, %v; want %v", row, pa, err, want)
		}
		got, err := m.ConditionalExpectedPurchases(39, c)
		if want := hpnCEP(m, 39, row.x, row.tx, row.T); err != nil || !rvClose(got, want, 1e-8) {
			t.Errorf("CEP(39)%+v = %v, %v; want %v", row, got, err, want)
		}
		ll, err := m.LogLikelihood([]clv.Customer{c})
		if want := hpnLL(m, row.x, row.tx, row.T); err != nil || !rvClose(ll, want, 1e-9) {
			t.Errorf("LL%+v = %v, %v; want %v", row, ll, err, want)
		}
	}
	// α ≥ β branch.
	m2 := clv.ParetoNBD{R: 0.8, Alpha: 20, S: 1.5, Beta: 4}
	for _, row := range rows {
		c := clv.Customer{Frequency: row.x, Recency: row.tx, T: row.T}
		pa, err := m2.ProbabilityAlive(c)
		if want := hpnPAlive(m2, row.x, row.tx, row.T); err != nil || !rvClose(pa, want, 1e-8) {
			t.Errorf("α>β P(alive)%+v = %v, %v; want %v", row, pa, err, want)
		}
	}
	for _, h := range []float64{1, 39, 100} {
		r, al, s, be := m.R, m.Alpha, m.S, m.Beta
		want := r * be / (al * (s - 1)) * (1 - math.Pow(be/(be+h), s-1))
		got, err := m.ExpectedPurchases(h)
		if err != nil || !rvClose(got, want, 1e-10) {
			t.Errorf("E[X(%v)] = %v, %v; want %v", h, got, err, want)
		}
	}
}

func TestContractParetoNBDLogLikelihoodCDNOW(t *testing.T) {
	cs := rvReadSummary(t)
	got, err := rvPareto.LogLikelihood(cs)
	// Published: −9595.0 (Fader, Hardie & Lee 2005; BTYD −9594.98).
	if err != nil || math.Abs(got-(-9594.98)) > 0.05 {
		t.Errorf("Pareto/NBD LL at published params = %v, %v; want -9594.98", got, err)
	}
}

func TestContractParetoNBDNearSEqualsOne(t *testing.T) {
	c := clv.Customer{Frequency: 2, Recency: 20, T: 30}
	var vals, exs []float64
	for _, s := range []float64{1 - 1e-7, 1 - 1e-12, 1, 1 + 1e-12, 1 + 1e-7} {
		m := clv.ParetoNBD{R: 0.55, Alpha: 10.5, S: s, Beta: 11.6}
		v, err := m.ConditionalExpectedPurchases(39, c)
		if err != nil || math.IsNaN(v) {
			t.Errorf("s=%v CEP: %v, %v", s, v, err)
		}
		e, err := m.ExpectedPurchases(39)
		if err != nil || math.IsNaN(e) {
			t.Errorf("s=%v E[X]: %v, %v", s, e, err)
		}
		vals, exs = append(vals, v), append(exs, e)
	}
	wantEX := 0.55 * 11.6 / 10.5 * math.Log((11.6+39)/11.6)
	for i := range vals {
		if !rvClose(vals[i], vals[2], 1e-5) {
			t.Errorf("CEP not continuous at s=1: %v", vals)
			break
		}
		if !rvClose(exs[i], wantEX, 1e-5) {
			t.Errorf("E[X(39)] near s=1: %v, want %v", exs, wantEX)
			break
		}
	}
}

// ---------- Gamma-Gamma ----------

func TestContractGammaGammaHand(t *testing.T) {
	m := rvGG
	for _, c := range []clv.Customer{{Frequency: 2, MonetaryValue: 22.35}, {Frequency: 1, MonetaryValue: 11.77}, {Frequency: 50, MonetaryValue: 1e6}} {
		x := float64(c.Frequency)
		want := m.P * (m.V + x*c.MonetaryValue) / (m.P*x + m.Q - 1)
		got, err := m.ConditionalExpectedSpend(c)
		if err != nil || !rvClose(got, want, 1e-12) {
			t.Errorf("CES%+v = %v, %v; want %v", c, got, err, want)
		}
	}
	pop := m.P * m.V / (m.Q - 1)
	got, err := m.ExpectedSpend()
	if err != nil || !rvClose(got, pop, 1e-12) {
		t.Errorf("ExpectedSpend = %v, %v; want %v", got, err, pop)
	}
	got, err = m.ConditionalExpectedSpend(clv.Customer{T: 5})
	if err != nil || !rvClose(got, pop, 1e-12) {
		t.Errorf("CES(frequency 0) = %v, %v; want population mean %v", got, err, pop)
	}
}

func TestContractGammaGammaInvalid(t *testing.T) {
	for _, m := range []clv.GammaGamma{{P: 1, Q: 1, V: 1}, {P: 1, Q: 0.5, V: 1}, {P: math.NaN(), Q: 2, V: 1}, {P: 1, Q: 2, V: -1}, {P: 1, Q: math.Inf(1), V: 1}} {
		rvNoPanic(t, m.String(), func() {
			v, err := m.ExpectedSpend()
			if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%+v ExpectedSpend = %v, %v", m, v, err)
			}
			v, err = m.ConditionalExpectedSpend(clv.Customer{Frequency: 1, Recency: 1, T: 1, MonetaryValue: 10})
			if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("%+v CES = %v, %v", m, v, err)
			}
		})
	}
	for _, c := range []clv.Customer{
		{Frequency: 1, Recency: 1, T: 2, MonetaryValue: math.NaN()},
		{Frequency: 1, Recency: 1, T: 2, MonetaryValue: math.Inf(1)},
		{Frequency: 1, Recency: 1, T: 2, MonetaryValue: -1},
		{Frequency: -2, MonetaryValue: 5},
	} {
		rvNoPanic(t, "ces", func() {
			v, err := rvGG.ConditionalExpectedSpend(c)
			if err == nil {
				t.Errorf("CES%+v = %v, nil error", c, v)
			} else {
				rvWantInvalid(t, fmt.Sprintf("CES%+v", c), err)
			}
		})
	}
}

func TestContractFitGammaGammaErrors(t *testing.T) {
	base := []clv.Customer{
		{ID: "a", Frequency: 2, Recency: 3, T: 5, MonetaryValue: 10},
		{ID: "b", Frequency: 1, Recency: 1, T: 5, MonetaryValue: 25},
		{ID: "c", Frequency: 4, Recency: 4, T: 5, MonetaryValue: 7},
	}
	mut := func(f func([]clv.Customer)) []clv.Customer {
		cs := slices.Clone(base)
		f(cs)
		return cs
	}
	cases := []struct {
		name string
		cs   []clv.Customer
		subs []string
	}{
		{"nil", nil, nil},
		{"no repeaters", []clv.Customer{{ID: "z", T: 3}}, nil},
		{"zero spend", mut(func(cs []clv.Customer) { cs[1].MonetaryValue = 0; cs[1].ID = "zero-guy" }), []string{"zero-guy"}},
		{"NaN spend", mut(func(cs []clv.Customer) { cs[2].MonetaryValue = math.NaN(); cs[2].ID = "nan-guy" }), []string{"nan-guy", "NaN"}},
		{"Inf spend", mut(func(cs []clv.Customer) { cs[2].MonetaryValue = math.Inf(1) }), []string{"inf"}},
		{"negative spend", mut(func(cs []clv.Customer) { cs[0].MonetaryValue = -4 }), []string{"-4"}},
		{"negative frequency", mut(func(cs []clv.Customer) { cs[0].Frequency = -4 }), []string{"-4"}},
	}
	for _, tc := range cases {
		rvNoPanic(t, tc.name, func() {
			_, _, err := clv.FitGammaGamma(tc.cs, nil)
			rvWantInvalid(t, tc.name, err, tc.subs...)
		})
	}
	// All identical spends: supremum at p → ∞.
	same := []clv.Customer{}
	for i := range 50 {
		same = append(same, clv.Customer{ID: strconv.Itoa(i), Frequency: 1 + i%5, Recency: 1, T: 10, MonetaryValue: 20})
	}
	_, _, err := clv.FitGammaGamma(same, nil)
	if !errors.Is(err, clv.ErrNoConvergence) {
		t.Errorf("identical spends: %v, want ErrNoConvergence", err)
	}
}

func TestContractFitGammaGammaCDNOW(t *testing.T) {
	cs := rvReadSummary(t)
	m, info, err := clv.FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.P-6.249) > 0.001 || math.Abs(m.Q-3.745) > 0.001 || math.Abs(m.V-15.448) > 0.001 {
		t.Errorf("Gamma-Gamma CDNOW = %v, want p=6.249 q=3.745 v=15.448", m)
	}
	if info.Customers != 946 {
		t.Errorf("Customers = %d, want 946 repeaters", info.Customers)
	}
	kept, dropped := clv.ExcludeZeroSpend(cs)
	if dropped != 0 || len(kept) != len(cs) {
		t.Errorf("ExcludeZeroSpend on CDNOW sample dropped %d", dropped)
	}
}

func TestContractExcludeZeroSpend(t *testing.T) {
	in := []clv.Customer{
		{ID: "keep0", Frequency: 0, T: 3},
		{ID: "drop", Frequency: 2, Recency: 1, T: 3, MonetaryValue: 0},
		{ID: "dropneg0", Frequency: 1, Recency: 1, T: 3, MonetaryValue: math.Copysign(0, -1)},
		{ID: "nan", Frequency: 1, Recency: 1, T: 3, MonetaryValue: math.NaN()},
		{ID: "neg", Frequency: 1, Recency: 1, T: 3, MonetaryValue: -1},
		{ID: "ok", Frequency: 1, Recency: 1, T: 3, MonetaryValue: 5},
	}
	orig := slices.Clone(in)
	out, n := clv.ExcludeZeroSpend(in)
	var ids []string
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	if n != 2 || !slices.Equal(ids, []string{"keep0", "nan", "neg", "ok"}) {
		t.Errorf("ExcludeZeroSpend = %v, %d", ids, n)
	}
	for i := range in {
		if in[i].ID != orig[i].ID || (in[i].MonetaryValue != orig[i].MonetaryValue && !math.IsNaN(in[i].MonetaryValue)) {
			t.Errorf("input modified at %d", i)
		}
	}
	if len(out) > 0 && len(in) > 0 && &out[0] == &in[0] {
		t.Errorf("result shares the input's backing array")
	}
}

// ---------- Fits: errors, options, invariants ----------

type rvFitFn struct {
	name string
	fit  func([]clv.Customer, *clv.FitOptions) (clv.FitInfo, error)
}

var rvFits = []rvFitFn{
	{"BG/NBD", func(cs []clv.Customer, o *clv.FitOptions) (clv.FitInfo, error) {
		m, info, err := clv.FitBGNBD(cs, o)
		if err == nil && m.Validate() != nil {
			err = fmt.Errorf("invalid model %v", m)
		}
		return info, err
	}},
	{"MBG/NBD", func(cs []clv.Customer, o *clv.FitOptions) (clv.FitInfo, error) {
		m, info, err := clv.FitMBGNBD(cs, o)
		if err == nil && m.Validate() != nil {
			err = fmt.Errorf("invalid model %v", m)
		}
		return info, err
	}},
	{"Pareto/NBD", func(cs []clv.Customer, o *clv.FitOptions) (clv.FitInfo, error) {
		m, info, err := clv.FitParetoNBD(cs, o)
		if err == nil && m.Validate() != nil {
			err = fmt.Errorf("invalid model %v", m)
		}
		return info, err
	}},
}

func TestContractFitInvalidRows(t *testing.T) {
	good := []clv.Customer{{ID: "g1", Frequency: 2, Recency: 5, T: 10}, {ID: "g2", T: 10}, {ID: "g3", Frequency: 1, Recency: 2, T: 8}}
	nan, inf := math.NaN(), math.Inf(1)
	bads := []struct {
		name  string
		c     clv.Customer
		field string
	}{
		{"recency>T", clv.Customer{ID: "bad", Frequency: 1, Recency: 12, T: 10}, "12"},
		{"freq0 recency>0", clv.Customer{ID: "bad", Frequency: 0, Recency: 3, T: 10}, "recency"},
		{"negative freq", clv.Customer{ID: "bad", Frequency: -1, T: 10}, "frequency"},
		{"NaN recency", clv.Customer{ID: "bad", Frequency: 1, Recency: nan, T: 10}, "NaN"},
		{"NaN T", clv.Customer{ID: "bad", Frequency: 1, Recency: 1, T: nan}, "NaN"},
		{"Inf T", clv.Customer{ID: "bad", Frequency: 1, Recency: 1, T: inf}, "inf"},
		{"negative T", clv.Customer{ID: "bad", T: -1}, "-1"},
		{"negative recency", clv.Customer{ID: "bad", Frequency: 1, Recency: -1, T: 3}, "-1"},
	}
	for _, f := range rvFits {
		for _, b := range bads {
			cs := append(slices.Clone(good), b.c)
			rvNoPanic(t, f.name+b.name, func() {
				_, err := f.fit(cs, nil)
				rvWantInvalid(t, f.name+" "+b.name, err, b.field)
			})
		}
		for _, empty := range [][]clv.Customer{nil, {}} {
			rvNoPanic(t, f.name+" empty", func() {
				_, err := f.fit(empty, nil)
				rvWantInvalid(t, f.name+" empty", err)
			})
		}
	}
}

func TestContractFitInvalidOptions(t *testing.T) {
	cs := rvReadSummary(t)[:200]
	opts := []struct {
		o     clv.FitOptions
		field string
	}{
		{clv.FitOptions{MaxIterations: -1}, "MaxIterations"},
		{clv.FitOptions{Tolerance: -1e-7}, "Tolerance"},
		{clv.FitOptions{Tolerance: math.NaN()}, "Tolerance"},
		{clv.FitOptions{Tolerance: math.Inf(1)}, "Tolerance"},
	}
	for _, f := range rvFits {
		for _, o := range opts {
			rvNoPanic(t, f.name, func() {
				_, err := f.fit(cs, &o.o)
				rvWantInvalid(t, fmt.Sprintf("%s %+v", f.name, o.o), err, o.field)
			})
		}
	}
	for _, o := range opts {
		_, _, err := clv.FitGammaGamma(cs, &o.o)
		rvWantInvalid(t, fmt.Sprintf("GammaGamma %+v", o.o), err, o.field)
		_, _, err = clv.FitSBG([]float64{1000, 631, 468, 382}, &o.o)
		rvWantInvalid(t, fmt.Sprintf("SBG %+v", o.o), err, o.field)
	}
}

func TestContractFitNoConvergence(t *testing.T) {
	cs := rvReadSummary(t)
	for _, f := range rvFits {
		_, err := f.fit(cs, &clv.FitOptions{MaxIterations: 1})
		if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("%s MaxIterations 1: %v, want ErrNoConvergence", f.name, err)
		}
		// Nobody repeats.
		var none []clv.Customer
		for i := range 100 {
			none = append(none, clv.Customer{ID: strconv.Itoa(i), T: float64(10 + i%30)})
		}
		start := time.Now()
		_, err = f.fit(none, nil)
		if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("%s nobody repeats: %v, want ErrNoConvergence", f.name, err)
		}
		// The package doc promises a million customers "in well under a
		// second on one core (Pareto/NBD in about one)"; 100 customers
		// (30 distinct rows) get a generous 30 s.
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s nobody repeats, 100 customers: took %v", f.name, d)
		}
	}
}

// The documented ErrNoConvergence case ("when nobody repeats") on the
// CDNOW sample's 2,357 customers (FitParetoNBD: "about 15 ms on CDNOW").
// Run alone: it leaves the fit running in the background on failure.
func TestContractFitNobodyRepeatsCDNOWTerminates(t *testing.T) {
	var zero []clv.Customer
	for _, c := range rvReadSummary(t) {
		zero = append(zero, clv.Customer{ID: c.ID, T: c.T})
	}
	for _, f := range rvFits {
		done := make(chan error, 1)
		start := time.Now()
		go func() { _, err := f.fit(zero, nil); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, clv.ErrNoConvergence) {
				t.Errorf("%s: %v, want ErrNoConvergence", f.name, err)
			}
			t.Logf("%s: %v", f.name, time.Since(start))
		case <-time.After(20 * time.Second):
			t.Errorf("%s on 2,357 non-repeating CDNOW customers: no answer after 20 s", f.name)
		}
	}
}

func TestContractFitHostileShapes(t *testing.T) {
	sets := map[string][]clv.Customer{
		"one customer":  {{Frequency: 1, Recency: 1, T: 2}},
		"all identical": slices.Repeat([]clv.Customer{{Frequency: 3, Recency: 7, T: 20}}, 500),
		"T zero":        {{T: 0}, {T: 0}, {Frequency: 1, Recency: 0, T: 0}},
		"huge T":        {{Frequency: 1, Recency: 1e12, T: 1e12}, {T: 1e12}, {Frequency: 5, Recency: 3e11, T: 9e11}},
		"tiny T":        {{Frequency: 1, Recency: 1e-12, T: 1e-12}, {T: 1e-12}, {Frequency: 5, Recency: 3e-13, T: 9e-13}},
	}
	for _, f := range rvFits {
		for name, cs := range sets {
			rvNoPanic(t, f.name+" "+name, func() {
				info, err := f.fit(cs, nil)
				if err != nil {
					if !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
						t.Errorf("%s %s: unexpected error %v", f.name, name, err)
					}
					return
				}
				if math.IsNaN(info.LogLikelihood) || math.IsInf(info.LogLikelihood, 0) {
					t.Errorf("%s %s: LL %v", f.name, name, info.LogLikelihood)
				}
				for _, e := range info.Estimates {
					if !(e.Value > 0) || math.IsInf(e.Value, 0) {
						t.Errorf("%s %s: estimate %+v", f.name, name, e)
					}
				}
			})
		}
	}
}

func TestContractFitDeterministicAndOrderFree(t *testing.T) {
	cs := rvReadSummary(t)
	shuffled := slices.Clone(cs)
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	doubled := append(slices.Clone(cs), cs...)

	a1, i1, err1 := clv.FitBGNBD(cs, nil)
	a2, i2, err2 := clv.FitBGNBD(cs, nil)
	if err1 != nil || err2 != nil || a1 != a2 || !reflect.DeepEqual(i1, i2) {
		t.Errorf("FitBGNBD not reproducible: %v %v / %v %v", a1, err1, a2, err2)
	}
	if math.Abs(a1.R-0.2426) > 5e-5 || math.Abs(a1.Alpha-4.4135) > 5e-5 || math.Abs(a1.A-0.7929) > 5e-5 || math.Abs(a1.B-2.4258) > 5e-5 || math.Abs(i1.LogLikelihood+9582.43) > 0.005 {
		t.Errorf("FitBGNBD CDNOW = %v LL %v; README: r=0.2426 α=4.4135 a=0.7929 b=2.4258, LL=−9582.43", a1, i1.LogLikelihood)
	}
	b, _, err := clv.FitBGNBD(shuffled, nil)
	if err != nil || !rvClose(b.R, a1.R, 1e-6) || !rvClose(b.Alpha, a1.Alpha, 1e-6) || !rvClose(b.A, a1.A, 1e-6) || !rvClose(b.B, a1.B, 1e-6) {
		t.Errorf("shuffled input: %v vs %v (%v)", b, a1, err)
	}
	d, di, err := clv.FitBGNBD(doubled, nil)
	if err != nil || !rvClose(d.R, a1.R, 1e-5) || !rvClose(d.Alpha, a1.Alpha, 1e-5) || !rvClose(d.A, a1.A, 1e-5) || !rvClose(d.B, a1.B, 1e-5) {
		t.Errorf("doubled input: %v vs %v (%v)", d, a1, err)
	}
	if di.Customers != 2*len(cs) || di.DistinctRows != i1.DistinctRows || !rvClose(di.LogLikelihood, 2*i1.LogLikelihood, 1e-8) {
		t.Errorf("doubled info: customers %d rows %d LL %v; single %d %d %v", di.Customers, di.DistinctRows, di.LogLikelihood, i1.Customers, i1.DistinctRows, i1.LogLikelihood)
	}
}

func TestContractFitInfoIdentities(t *testing.T) {
	cs := rvReadSummary(t)
	var infos []clv.FitInfo
	for _, f := range rvFits {
		info, err := f.fit(cs, nil)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		infos = append(infos, info)
	}
	_, gi, err := clv.FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	infos = append(infos, gi)
	_, si, err := clv.FitSBG([]float64{1000, 631, 468, 382, 326, 289, 262, 241}, nil)
	if err != nil {
		t.Fatal(err)
	}
	infos = append(infos, si)
	for _, info := range infos {
		k := len(info.Estimates)
		if len(info.Covariance) != k*k {
			t.Errorf("%s: covariance len %d, k %d", info.Model, len(info.Covariance), k)
			continue
		}
		for i, e := range info.Estimates {
			if !rvClose(e.StdErr, e.Value*e.LogStdErr, 1e-9) ||
				math.Abs(e.Low-(e.Value-1.96*e.StdErr)) > 1e-4*e.StdErr || math.Abs(e.High-(e.Value+1.96*e.StdErr)) > 1e-4*e.StdErr ||
				!rvClose(e.LogLow, e.Value*math.Exp(-1.96*e.LogStdErr), 1e-4) || !rvClose(e.LogHigh, e.Value*math.Exp(1.96*e.LogStdErr), 1e-4) {
				t.Errorf("%s: estimate %+v inconsistent", info.Model, e)
			}
			if !rvClose(info.Covariance[i*k+i], e.StdErr*e.StdErr, 1e-6) {
				t.Errorf("%s: cov[%d,%d]=%v, SE²=%v", info.Model, i, i, info.Covariance[i*k+i], e.StdErr*e.StdErr)
			}
			for j := range k {
				if !rvClose(info.Covariance[i*k+j], info.Covariance[j*k+i], 1e-9) {
					t.Errorf("%s: covariance not symmetric", info.Model)
				}
			}
		}
		if !rvClose(info.AIC(), -2*info.LogLikelihood+2*float64(k), 1e-12) {
			t.Errorf("%s: AIC %v", info.Model, info.AIC())
		}
		if !rvClose(info.BIC(), -2*info.LogLikelihood+float64(k)*math.Log(float64(info.Customers)), 1e-12) {
			t.Errorf("%s: BIC %v", info.Model, info.BIC())
		}
		s := info.Summary()
		if s.Model != info.Model || s.N != info.Customers || s.AIC != info.AIC() || s.BIC != info.BIC() || s.LogLikelihood != info.LogLikelihood {
			t.Errorf("%s: summary %+v", info.Model, s)
		}
		if !strings.Contains(s.String(), info.Model) {
			t.Errorf("%s: String lacks model name", info.Model)
		}
		rvCheckSummaryCSV(t, s)
	}
	var zero clv.FitInfo
	if zero.AIC() != 0 || !math.IsNaN(zero.BIC()) {
		t.Errorf("zero FitInfo: AIC %v BIC %v", zero.AIC(), zero.BIC())
	}
}

// Estimate's doc: "Low, High float64 // Value ∓ 1.96·StdErr" and
// "LogLow, LogHigh // Value·exp(∓1.96·LogStdErr)", "the convention of
// lifetimes' summary" (which multiplies by the literal 1.96).
func TestContractEstimateIntervalIsLiteral196(t *testing.T) {
	_, info, err := clv.FitBGNBD(rvReadSummary(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range info.Estimates {
		if !rvClose(e.Low, e.Value-1.96*e.StdErr, 1e-12) || !rvClose(e.High, e.Value+1.96*e.StdErr, 1e-12) ||
			!rvClose(e.LogLow, e.Value*math.Exp(-1.96*e.LogStdErr), 1e-12) {
			t.Errorf("%s: Low %.12g High %.12g LogLow %.12g; Value∓1.96·SE = %.12g, %.12g; Value·exp(−1.96·LogSE) = %.12g",
				e.Name, e.Low, e.High, e.LogLow, e.Value-1.96*e.StdErr, e.Value+1.96*e.StdErr, e.Value*math.Exp(-1.96*e.LogStdErr))
		}
	}
}

func rvCheckSummaryCSV(t *testing.T, s clv.Summary) {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("%s: CSV does not parse: %v", s.Model, err)
	}
	wantHead := []string{"model", "parameter", "estimate", "std_err", "low", "high", "log_low", "log_high", "log_likelihood", "aic", "bic", "n"}
	if len(recs) == 0 || !slices.Equal(recs[0], wantHead) {
		t.Fatalf("%s: CSV header %v", s.Model, recs)
	}
	if len(recs) != 1+len(s.Estimates) {
		t.Fatalf("%s: %d CSV rows for %d estimates", s.Model, len(recs)-1, len(s.Estimates))
	}
	same := func(str string, want float64) bool {
		v, err := strconv.ParseFloat(str, 64)
		return err == nil && (v == want || (math.IsNaN(v) && math.IsNaN(want)))
	}
	for i, e := range s.Estimates {
		r := recs[i+1]
		if r[0] != s.Model || r[1] != e.Name || !same(r[2], e.Value) || !same(r[3], e.StdErr) || !same(r[4], e.Low) || !same(r[5], e.High) ||
			!same(r[6], e.LogLow) || !same(r[7], e.LogHigh) || !same(r[8], s.LogLikelihood) || !same(r[9], s.AIC) || !same(r[10], s.BIC) || r[11] != strconv.Itoa(s.N) {
			t.Errorf("%s: CSV row %v does not read back %+v (LL %v AIC %v BIC %v n %d)", s.Model, r, e, s.LogLikelihood, s.AIC, s.BIC, s.N)
		}
	}
}

// ---------- sBG ----------

func TestContractSBGPublishedAndHand(t *testing.T) {
	m, info, err := clv.FitSBG([]float64{1000, 631, 468, 382, 326, 289, 262, 241}, nil)
	if err != nil || math.Abs(m.Alpha-0.704) > 0.0006 || math.Abs(m.Beta-1.182) > 0.0006 || info.Customers != 1000 {
		t.Errorf("regular cohort: %v %+v %v; want α=0.704 β=1.182", m, info.Customers, err)
	}
	h, _, err := clv.FitSBG([]float64{1000, 869, 743, 653, 593, 551, 517, 491}, nil)
	if err != nil || math.Abs(h.Alpha-0.668) > 0.0006 || math.Abs(h.Beta-3.806) > 0.0006 {
		t.Errorf("high end cohort: %v %v; want α=0.668 β=3.806", h, err)
	}
	u := clv.SBG{Alpha: 1, Beta: 1}
	s, err := u.Survival(5)
	if err != nil || len(s) != 6 {
		t.Fatalf("Survival(5) = %v, %v", s, err)
	}
	for i, v := range s {
		if !rvClose(v, 1/float64(i+1), 1e-12) {
			t.Errorf("S(%d) = %v, want %v", i, v, 1/float64(i+1))
		}
	}
	for tt := 1; tt < 5; tt++ {
		r, err := m.RetentionRate(tt)
		want := (m.Beta + float64(tt) - 1) / (m.Alpha + m.Beta + float64(tt) - 1)
		if err != nil || !rvClose(r, want, 1e-12) {
			t.Errorf("r(%d) = %v, %v; want %v", tt, r, err, want)
		}
	}
	s0, err := m.Survival(0)
	if err != nil || !slices.Equal(s0, []float64{1}) {
		t.Errorf("Survival(0) = %v, %v", s0, err)
	}
	// DERL vs the summed series.
	for _, d := range []float64{0.1, 0.5, 2} {
		for _, n0 := range []int{0, 1, 4} {
			n := n0 + 1
			sum := 0.0
			ln := func(k int) float64 { return lbeta(m.Alpha, m.Beta+float64(k)) }
			for tt := n; tt < n+20000; tt++ {
				sum += math.Exp(ln(tt)-ln(n-1)) / math.Pow(1+d, float64(tt-n))
			}
			got, err := m.DERL(d, n0)
			if err != nil || !rvClose(got, sum, 1e-8) {
				t.Errorf("DERL(%v,%d) = %v, %v; series %v", d, n0, got, err, sum)
			}
		}
	}
}

func TestContractSBGInvalid(t *testing.T) {
	for name, s := range map[string][]float64{
		"nil": nil, "one": {1000}, "growing": {1000, 1100}, "negative": {1000, -1},
		"NaN": {1000, math.NaN()}, "zero cohort": {0, 0}, "Inf": {math.Inf(1), 10},
		"NaN first": {math.NaN(), 10},
	} {
		rvNoPanic(t, name, func() {
			_, _, err := clv.FitSBG(s, nil)
			rvWantInvalid(t, "FitSBG "+name, err)
		})
	}
	for name, s := range map[string][]float64{"no churn": {1000, 1000, 1000}, "all churn": {100, 0, 0}} {
		_, _, err := clv.FitSBG(s, nil)
		if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("FitSBG %s: %v, want ErrNoConvergence", name, err)
		}
	}
	m := clv.SBG{Alpha: 0.7, Beta: 1.2}
	for _, p := range []int{-1, clv.MaxSurvival + 1, math.MaxInt} {
		_, err := m.Survival(p)
		rvWantInvalid(t, fmt.Sprintf("Survival(%d)", p), err)
	}
	for _, tt := range []int{0, -1} {
		_, err := m.RetentionRate(tt)
		rvWantInvalid(t, fmt.Sprintf("RetentionRate(%d)", tt), err)
	}
	for _, d := range []float64{0, -0.1, math.NaN(), math.Inf(1)} {
		rvNoPanic(t, "DERL", func() {
			v, err := m.DERL(d, 0)
			if err == nil {
				t.Errorf("DERL(%v) = %v, nil error", d, v)
			} else {
				rvWantInvalid(t, fmt.Sprintf("DERL(%v)", d), err)
			}
		})
	}
	rvNoPanic(t, "DERL renewals -1", func() {
		v, err := m.DERL(0.1, -1)
		if err == nil {
			t.Errorf("DERL(0.1, -1) = %v, nil error", v)
		}
	})
	for _, bad := range []clv.SBG{{}, {Alpha: math.NaN(), Beta: 1}, {Alpha: 1, Beta: math.Inf(1)}} {
		_, err := bad.Survival(3)
		rvWantInvalid(t, fmt.Sprintf("%+v Survival", bad), err)
	}
	// DERL ≤ (1+d)/d or ErrNoConvergence.
	for _, mm := range []clv.SBG{{Alpha: 0.5, Beta: 1e6}, {Alpha: 2, Beta: 5000}} {
		for _, d := range []float64{1e-3, 0.01, 0.1} {
			for _, rn := range []int{0, 1000, 1_000_000} {
				rvNoPanic(t, "derl", func() {
					v, err := mm.DERL(d, rn)
					if err != nil {
						if !errors.Is(err, clv.ErrNoConvergence) {
							t.Errorf("%v DERL(%v,%d): %v", mm, d, rn, err)
						}
						return
					}
					if !(v > 0 && v <= (1+d)/d*(1+1e-12)) {
						t.Errorf("%v DERL(%v,%d) = %v, bound %v", mm, d, rn, v, (1+d)/d)
					}
				})
			}
		}
	}
}

func TestContractSBGFractionalCohortBICNaN(t *testing.T) {
	_, info, err := clv.FitSBG([]float64{0.4, 0.25, 0.18, 0.14, 0.12}, nil)
	if err != nil {
		t.Fatalf("fractional cohort: %v", err)
	}
	if info.Customers != 0 || !math.IsNaN(info.BIC()) {
		t.Errorf("fractional cohort: n %d BIC %v; want 0, NaN", info.Customers, info.BIC())
	}
	rvCheckSummaryCSV(t, info.Summary())
}

// ---------- BG/BB ----------

func rvBGBBLik(m clv.BGBB, x, tx, n int) float64 {
	a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
	xf, txf, nf := float64(x), float64(tx), float64(n)
	l := math.Exp(lbeta(a+xf, b+nf-xf) - lbeta(a, b) + lbeta(g, d+nf) - lbeta(g, d))
	for i := 0; i <= n-tx-1; i++ {
		fi := float64(i)
		l += math.Exp(lbeta(a+xf, b+txf-xf+fi) - lbeta(a, b) + lbeta(g+1, d+txf+fi) - lbeta(g, d))
	}
	return l
}

func TestContractBGBBHand(t *testing.T) {
	m := rvBGBB
	a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
	for _, h := range [][3]int{{0, 0, 6}, {3, 5, 6}, {6, 6, 6}, {1, 1, 6}, {2, 4, 10}} {
		c := clv.DiscreteCustomer{Frequency: h[0], Recency: h[1], Periods: h[2]}
		L := rvBGBBLik(m, h[0], h[1], h[2])
		xf, nf := float64(h[0]), float64(h[2])
		want := math.Exp(lbeta(a+xf, b+nf-xf)-lbeta(a, b)+lbeta(g, d+nf+1)-lbeta(g, d)) / L
		got, err := m.ProbabilityAlive(c)
		if err != nil || !rvClose(got, want, 1e-9) {
			t.Errorf("BG/BB P(alive)%v = %v, %v; want %v", h, got, err, want)
		}
		ll, err := m.LogLikelihood([]clv.DiscreteCustomer{c})
		if err != nil || !rvClose(ll, math.Log(L), 1e-9) {
			t.Errorf("BG/BB LL%v = %v, %v; want %v", h, ll, err, math.Log(L))
		}
		for _, ns := range []int{1, 5, 30} {
			sum := 0.0
			for j := 1; j <= ns; j++ {
				sum += math.Exp(lbeta(g, d+nf+float64(j)) - lbeta(g, d))
			}
			wantE := math.Exp(lbeta(a+xf+1, b+nf-xf)-lbeta(a, b)) * sum / L
			gotE, err := m.ConditionalExpectedPurchases(ns, c)
			if err != nil || !rvClose(gotE, wantE, 1e-9) {
				t.Errorf("BG/BB CEP(%d)%v = %v, %v; want %v", ns, h, gotE, err, wantE)
			}
		}
	}
	for _, n := range []int{0, 1, 6, 50} {
		sum := 0.0
		for j := 1; j <= n; j++ {
			sum += math.Exp(lbeta(g, d+float64(j)) - lbeta(g, d))
		}
		want := a / (a + b) * sum
		got, err := m.ExpectedPurchases(n)
		if err != nil || !rvClose(got, want, 1e-9) {
			t.Errorf("BG/BB E[X(%d)] = %v, %v; want %v", n, got, err, want)
		}
	}
}

func TestContractBGBBInvalid(t *testing.T) {
	good := []clv.DiscreteCustomer{{Frequency: 2, Recency: 4, Periods: 6, Count: 10}, {Periods: 6, Count: 30}, {Frequency: 1, Recency: 1, Periods: 6, Count: 5}}
	bads := map[string]clv.DiscreteCustomer{
		"freq>recency":     {ID: "b", Frequency: 4, Recency: 3, Periods: 6},
		"recency>periods":  {ID: "b", Frequency: 2, Recency: 7, Periods: 6},
		"freq0 recency":    {ID: "b", Frequency: 0, Recency: 2, Periods: 6},
		"negative freq":    {ID: "b", Frequency: -1, Periods: 6},
		"periods 0":        {ID: "b", Periods: 0},
		"periods > max":    {ID: "b", Periods: clv.MaxOpportunities + 1},
		"NaN count":        {ID: "b", Periods: 6, Count: math.NaN()},
		"negative count":   {ID: "b", Periods: 6, Count: -2},
		"Inf count":        {ID: "b", Periods: 6, Count: math.Inf(1)},
		"negative periods": {ID: "b", Periods: -3},
	}
	for name, bad := range bads {
		rvNoPanic(t, name, func() {
			_, _, err := clv.FitBGBB(append(slices.Clone(good), bad), nil)
			rvWantInvalid(t, "FitBGBB "+name, err)
			if name != "NaN count" && name != "negative count" && name != "Inf count" {
				_, err = rvBGBB.ProbabilityAlive(bad)
				rvWantInvalid(t, "BGBB.ProbabilityAlive "+name, err)
			}
		})
	}
	_, _, err := clv.FitBGBB(nil, nil)
	rvWantInvalid(t, "FitBGBB nil", err)
	for _, n := range []int{-1} {
		rvNoPanic(t, "bgbb n", func() {
			_, err := rvBGBB.ExpectedPurchases(n)
			rvWantInvalid(t, "BGBB.ExpectedPurchases(-1)", err)
			_, err = rvBGBB.ConditionalExpectedPurchases(n, clv.DiscreteCustomer{Periods: 6})
			rvWantInvalid(t, "BGBB.CEP(-1)", err)
		})
	}
	// Huge horizons: within [0, n] or ErrNoConvergence; no panic.
	for _, n := range []int{1e6, 1e9, 1e15, math.MaxInt} {
		rvNoPanic(t, "bgbb huge", func() {
			v, err := rvBGBB.ExpectedPurchases(n)
			if err != nil {
				if !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
					t.Errorf("E[X(%d)]: %v", n, err)
				}
				return
			}
			if !(v >= 0 && v <= float64(n)) {
				t.Errorf("E[X(%d)] = %v", n, v)
			}
		})
	}
}

func TestContractBGBBPublished(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "donations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var cs []clv.DiscreteCustomer
	for _, r := range recs[1:] {
		x, _ := strconv.Atoi(r[0])
		tx, _ := strconv.Atoi(r[1])
		n, _ := strconv.Atoi(r[2])
		w, _ := strconv.ParseFloat(r[3], 64)
		cs = append(cs, clv.DiscreteCustomer{Frequency: x, Recency: tx, Periods: n, Count: w})
	}
	m, info, err := clv.FitBGBB(cs, nil)
	if err != nil || math.Abs(m.Alpha-1.204) > 6e-4 || math.Abs(m.Beta-0.750) > 6e-4 || math.Abs(m.Gamma-0.657) > 6e-4 || math.Abs(m.Delta-2.783) > 6e-4 {
		t.Errorf("donations: %v %v", m, err)
	}
	if info.Customers != 11104 {
		t.Errorf("donations n = %d, want 11104", info.Customers)
	}
}

// ---------- Summarize / ReadCDNOW ----------

func rvDay(d int, h int) time.Time { return time.Date(2024, 1, d, h, 0, 0, 0, time.UTC) }

func TestContractSummarizeHand(t *testing.T) {
	txs := []clv.Transaction{
		{CustomerID: "A", Time: rvDay(11, 9), Amount: 30},
		{CustomerID: "B", Time: rvDay(5, 12), Amount: 7},
		{CustomerID: "A", Time: rvDay(1, 10), Amount: 10},
		{CustomerID: "A", Time: rvDay(1, 18), Amount: 5},
		{CustomerID: "C", Time: rvDay(15, 1), Amount: 3},
		{CustomerID: "A", Time: rvDay(4, 0), Amount: 20},
	}
	orig := slices.Clone(txs)
	got, err := clv.Summarize(txs, clv.SummaryOptions{ObservationEnd: rvDay(21, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(txs, orig) {
		t.Errorf("input modified")
	}
	want := []clv.Customer{
		{ID: "A", Frequency: 2, Recency: 10, T: 20, MonetaryValue: 25},
		{ID: "B", Frequency: 0, Recency: 0, T: 16},
		{ID: "C", Frequency: 0, Recency: 0, T: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize = %+v\nwant %+v", got, want)
	}
	// Holdout split, weeks as unit.
	got, err = clv.Summarize(txs, clv.SummaryOptions{Unit: clv.Week, CalibrationEnd: rvDay(10, 23), ObservationEnd: rvDay(21, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want = []clv.Customer{
		{ID: "A", Frequency: 1, Recency: 3.0 / 7, T: 9.0 / 7, MonetaryValue: 20, HoldoutFrequency: 1, HoldoutMonetaryValue: 30, HoldoutDuration: 11.0 / 7},
		{ID: "B", Frequency: 0, Recency: 0, T: 5.0 / 7, HoldoutDuration: 11.0 / 7},
	}
	if len(got) != len(want) {
		t.Fatalf("holdout Summarize = %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Frequency != w.Frequency || !rvClose(g.Recency, w.Recency, 1e-12) || !rvClose(g.T, w.T, 1e-12) ||
			g.MonetaryValue != w.MonetaryValue || g.HoldoutFrequency != w.HoldoutFrequency || g.HoldoutMonetaryValue != w.HoldoutMonetaryValue ||
			!rvClose(g.HoldoutDuration, w.HoldoutDuration, 1e-12) {
			t.Errorf("holdout row %d = %+v, want %+v", i, g, w)
		}
	}
	// Shuffled input gives the same rows.
	rng := rand.New(rand.NewPCG(1, 1))
	sh := slices.Clone(txs)
	rng.Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
	got2, err := clv.Summarize(sh, clv.SummaryOptions{Unit: clv.Week, CalibrationEnd: rvDay(10, 23), ObservationEnd: rvDay(21, 0)})
	if err != nil || !reflect.DeepEqual(got, got2) {
		t.Errorf("shuffled input differs: %+v vs %+v (%v)", got2, got, err)
	}
}

func TestContractSummarizeOwnLocationDates(t *testing.T) {
	ny := time.FixedZone("UTC-5", -5*3600)
	txs := []clv.Transaction{
		{CustomerID: "x", Time: time.Date(2024, 1, 1, 23, 30, 0, 0, ny), Amount: 1}, // 2024-01-02 04:30 UTC
		{CustomerID: "x", Time: time.Date(2024, 1, 2, 6, 0, 0, 0, time.UTC), Amount: 2},
	}
	got, err := clv.Summarize(txs, clv.SummaryOptions{})
	if err != nil || len(got) != 1 || got[0].Frequency != 1 || got[0].Recency != 1 || got[0].MonetaryValue != 2 {
		t.Errorf("own-location dates: %+v, %v; want Frequency 1, Recency 1", got, err)
	}
}

func TestContractSummarizeErrors(t *testing.T) {
	ok := []clv.Transaction{
		{CustomerID: "a", Time: rvDay(1, 0), Amount: 1},
		{CustomerID: "a", Time: rvDay(2, 0), Amount: 1},
		{CustomerID: "b", Time: rvDay(3, 0), Amount: 1},
	}
	with := func(tx clv.Transaction) []clv.Transaction { return append(slices.Clone(ok), tx) }
	cases := []struct {
		name string
		txs  []clv.Transaction
		opts clv.SummaryOptions
		subs []string
	}{
		{"nil", nil, clv.SummaryOptions{}, nil},
		{"empty ID", with(clv.Transaction{Time: rvDay(4, 0), Amount: 1}), clv.SummaryOptions{}, []string{"3"}},
		{"NaN amount", with(clv.Transaction{CustomerID: "c", Time: rvDay(4, 0), Amount: math.NaN()}), clv.SummaryOptions{}, []string{"3", "amount", "NaN"}},
		{"Inf amount", with(clv.Transaction{CustomerID: "c", Time: rvDay(4, 0), Amount: math.Inf(1)}), clv.SummaryOptions{}, []string{"3", "amount"}},
		{"negative amount", with(clv.Transaction{CustomerID: "c", Time: rvDay(4, 0), Amount: -1}), clv.SummaryOptions{}, []string{"3", "amount", "-1"}},
		{"bad period", ok, clv.SummaryOptions{Period: 9}, []string{"period"}},
		{"bad unit", ok, clv.SummaryOptions{Unit: -1}, []string{"unit"}},
		{"overflow", []clv.Transaction{
			{CustomerID: "big", Time: rvDay(1, 0), Amount: math.MaxFloat64},
			{CustomerID: "big", Time: rvDay(2, 0), Amount: math.MaxFloat64},
			{CustomerID: "big", Time: rvDay(3, 0), Amount: math.MaxFloat64},
		}, clv.SummaryOptions{}, []string{"big"}},
		{"same-day overflow", []clv.Transaction{
			{CustomerID: "big2", Time: rvDay(1, 0), Amount: math.MaxFloat64},
			{CustomerID: "big2", Time: rvDay(1, 5), Amount: math.MaxFloat64},
		}, clv.SummaryOptions{}, []string{"big2"}},
	}
	for _, tc := range cases {
		rvNoPanic(t, tc.name, func() {
			_, err := clv.Summarize(tc.txs, tc.opts)
			rvWantInvalid(t, "Summarize "+tc.name, err, tc.subs...)
		})
	}
	// CalibrationEnd after ObservationEnd: no panic, and no negative durations.
	rvNoPanic(t, "calib after obs", func() {
		cs, err := clv.Summarize(ok, clv.SummaryOptions{CalibrationEnd: rvDay(20, 0), ObservationEnd: rvDay(2, 0)})
		if err == nil {
			for _, c := range cs {
				if c.HoldoutDuration < 0 || c.Recency > c.T {
					t.Errorf("CalibrationEnd after ObservationEnd gave row %+v", c)
				}
			}
		} else if !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("CalibrationEnd after ObservationEnd: %v", err)
		}
	})
}

func TestContractReadCDNOW(t *testing.T) {
	in := "\ufeffid date cds dollars\r\n\r\n00001 19970101 1 11.77\r\n00001 19970118 2 29.73\r\n\r\n00002 19970102 1 0.00\r\n"
	txs, err := clv.ReadCDNOW(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []clv.Transaction{
		{CustomerID: "00001", Time: time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 11.77},
		{CustomerID: "00001", Time: time.Date(1997, 1, 18, 0, 0, 0, 0, time.UTC), Amount: 29.73},
		{CustomerID: "00002", Time: time.Date(1997, 1, 2, 0, 0, 0, 0, time.UTC), Amount: 0},
	}
	if !reflect.DeepEqual(txs, want) {
		t.Errorf("ReadCDNOW 4-field = %+v", txs)
	}
	txs, err = clv.ReadCDNOW(strings.NewReader(" 00004 0001 19970101  2   29.33\n 00021 0002 19970101  3   63.34\n"))
	if err != nil || len(txs) != 2 || txs[0].CustomerID != "0001" || txs[1].CustomerID != "0002" || txs[1].Amount != 63.34 {
		t.Errorf("ReadCDNOW 5-field = %+v, %v", txs, err)
	}
	bad := map[string]string{
		"empty":       "",
		"header only": "id date cds dollars\n",
		"blank only":  "\n\n\r\n",
		"3 fields":    "00001 19970101 1 11.77\n00002 19970101 1\n",
		"bad date":    "00001 19970101 1 11.77\n00002 19970230 1 5\n",
		"bad dollar":  "00001 19970101 1 11.77\n00002 19970101 1 abc\n",
		"NaN dollar":  "00001 19970101 1 11.77\n00002 19970101 1 NaN\n",
		"Inf dollar":  "00001 19970101 1 11.77\n00002 19970101 1 Inf\n",
		"negative":    "00001 19970101 1 11.77\n00002 19970101 1 -5\n",
		"long line":   "00001 19970101 1 11.77\n00002 19970101 1 " + strings.Repeat("1", 70000) + "\n",
	}
	for name, s := range bad {
		rvNoPanic(t, name, func() {
			txs, err := clv.ReadCDNOW(strings.NewReader(s))
			if err == nil {
				t.Errorf("ReadCDNOW %s: %d transactions, nil error", name, len(txs))
				return
			}
			subs := []string{}
			if name != "empty" && name != "header only" && name != "blank only" {
				subs = append(subs, "line 2")
			}
			rvWantInvalid(t, "ReadCDNOW "+name, err, subs...)
		})
	}
	// Read errors are returned as they are.
	sentinel := errors.New("disk on fire")
	_, err = clv.ReadCDNOW(&rvErrReader{err: sentinel})
	if !errors.Is(err, sentinel) {
		t.Errorf("read error: %v", err)
	}
}

type rvErrReader struct{ err error }

func (r *rvErrReader) Read(p []byte) (int, error) { return 0, r.err }

// ---------- SummarizeCustomers ----------

func rvStoreCustomer(id string, n int64, first, last time.Time, cents int64) *lifecycle.Customer {
	return &lifecycle.Customer{
		ID: id,
		Facts: lifecycle.Facts{
			First:   first,
			Last:    last,
			Tallies: []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: n, First: first, Last: last}},
			Sums:    []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: cents}},
		},
	}
}

func rvSeq(cs ...*lifecycle.Customer) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

func TestContractSummarizeCustomersHand(t *testing.T) {
	ctx := context.Background()
	seq := rvSeq(
		rvStoreCustomer("z", 3, rvDay(1, 10), rvDay(11, 9), 3000),
		rvStoreCustomer("a", 1, rvDay(5, 10), rvDay(5, 10), 999),
	)
	got, err := clv.SummarizeCustomers(ctx, seq, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: rvDay(21, 0)})
	want := []clv.Customer{
		{ID: "a", Frequency: 0, Recency: 0, T: 16, MonetaryValue: 0},
		{ID: "z", Frequency: 2, Recency: 10, T: 20, MonetaryValue: 10},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("SummarizeCustomers = %+v, %v; want %+v", got, err, want)
	}
}

func TestContractSummarizeCustomersHostile(t *testing.T) {
	ok := rvStoreCustomer("z", 3, rvDay(1, 10), rvDay(11, 9), 3000)
	opts := clv.StoreSummaryOptions{Currency: "EUR"}
	// Cancelled before.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := clv.SummarizeCustomers(ctx, rvSeq(ok), opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	// Cancelled mid-scan.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	seq := func(yield func(*lifecycle.Customer, error) bool) {
		for i := range 1000 {
			if i == 1 {
				cancel2()
			}
			if !yield(rvStoreCustomer("c"+strconv.Itoa(i), 2, rvDay(1, 0), rvDay(3, 0), 500), nil) {
				return
			}
		}
	}
	_, err = clv.SummarizeCustomers(ctx2, seq, opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled mid-scan: %v", err)
	}
	// A failure yielded by seq is wrapped.
	sentinel := errors.New("scan broke")
	_, err = clv.SummarizeCustomers(context.Background(), func(yield func(*lifecycle.Customer, error) bool) {
		if !yield(ok, nil) {
			return
		}
		yield(nil, sentinel)
	}, opts)
	if !errors.Is(err, sentinel) {
		t.Errorf("seq error: %v", err)
	}
	// Nil customers and nil seq must not panic.
	rvNoPanic(t, "nil customer", func() {
		_, _ = clv.SummarizeCustomers(context.Background(), rvSeq(ok, nil), opts)
	})
	rvNoPanic(t, "nil seq", func() {
		_, err := clv.SummarizeCustomers(context.Background(), nil, opts)
		if err == nil {
			t.Errorf("nil seq: nil error")
		}
	})
	// Option errors name the option.
	for name, o := range map[string]clv.StoreSummaryOptions{
		"no currency":    {},
		"lower currency": {Currency: "eur"},
		"bad unit":       {Currency: "EUR", Unit: 5},
		"bad rate":       {Currency: "EUR", Rates: map[string]float64{"GBP": math.NaN()}},
		"zero rate":      {Currency: "EUR", Rates: map[string]float64{"GBP": 0}},
		"self rate":      {Currency: "EUR", Rates: map[string]float64{"EUR": 1}},
	} {
		rvNoPanic(t, name, func() {
			_, err := clv.SummarizeCustomers(context.Background(), rvSeq(ok), o)
			rvWantInvalid(t, "SummarizeCustomers "+name, err)
		})
	}
	// Last before first.
	_, err = clv.SummarizeCustomers(context.Background(), rvSeq(rvStoreCustomer("w", 2, rvDay(10, 0), rvDay(2, 0), 100)), opts)
	rvWantInvalid(t, "last before first", err, "w")
	// No customer left.
	_, err = clv.SummarizeCustomers(context.Background(), rvSeq(), opts)
	rvWantInvalid(t, "no customers", err)
}

// ---------- Matrices and CalibrationHoldout ----------

func TestContractMatrices(t *testing.T) {
	m, err := clv.ExpectedPurchasesMatrix(rvBG, 1, 39, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Frequencies, []int{0, 1, 2, 3}) || len(m.Recencies) != 4 || m.Recencies[0] != 0 || m.Recencies[3] != 39 || !rvClose(m.Recencies[1], 13, 1e-12) {
		t.Errorf("grid %v %v", m.Frequencies, m.Recencies)
	}
	for f := range m.Values {
		for j, v := range m.Values[f] {
			if f == 0 && j > 0 {
				if !math.IsNaN(v) {
					t.Errorf("cell (0,%d) = %v, want NaN", j, v)
				}
				continue
			}
			want := hbgCEP(rvBG, 1, f, m.Recencies[j], 39)
			if !rvClose(v, want, 1e-8) {
				t.Errorf("cell (%d,%d) = %v, want %v", f, j, v, want)
			}
		}
	}
	pa, err := clv.ProbabilityAliveMatrix(rvBG, 39, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if v := pa.Values[2][1]; !rvClose(v, hbgPAlive(rvBG, 2, 13, 39), 1e-10) {
		t.Errorf("P(alive) cell = %v", v)
	}
	var buf bytes.Buffer
	if err := pa.WriteSVG(&buf, clv.PlotOptions{}); err != nil || !strings.Contains(buf.String(), "<svg") {
		t.Errorf("WriteSVG: %v", err)
	}
	bad := []struct {
		name       string
		t, T       float64
		maxF, recs int
	}{
		{"T 0", 1, 0, 3, 4}, {"T NaN", 1, math.NaN(), 3, 4}, {"T Inf", 1, math.Inf(1), 3, 4}, {"T <0", 1, -1, 3, 4},
		{"t NaN", math.NaN(), 39, 3, 4}, {"t <0", -1, 39, 3, 4}, {"t Inf", math.Inf(1), 39, 3, 4},
		{"maxF -1", 1, 39, -1, 4}, {"maxF big", 1, 39, clv.MaxPlotFrequency + 1, 4},
		{"recs 1", 1, 39, 3, 1}, {"recs big", 1, 39, 3, clv.MaxPlotFrequency + 1},
		{"cells", 1, 39, clv.MaxPlotFrequency, clv.MaxPlotFrequency},
	}
	for _, b := range bad {
		rvNoPanic(t, b.name, func() {
			_, err := clv.ExpectedPurchasesMatrix(rvBG, b.t, b.T, b.maxF, b.recs)
			rvWantInvalid(t, "ExpectedPurchasesMatrix "+b.name, err)
			if b.name[0] != 't' {
				_, err = clv.ProbabilityAliveMatrix(rvBG, b.T, b.maxF, b.recs)
				rvWantInvalid(t, "ProbabilityAliveMatrix "+b.name, err)
			}
		})
	}
	for name, pm := range map[string]clv.PurchaseModel{"nil": nil, "typed nil": (*clv.BGNBD)(nil)} {
		rvNoPanic(t, "matrix "+name, func() {
			_, err := clv.ExpectedPurchasesMatrix(pm, 1, 39, 3, 4)
			if err == nil {
				t.Errorf("ExpectedPurchasesMatrix(%s model): nil error", name)
			}
		})
	}
	for name, am := range map[string]clv.AliveModel{"nil": nil, "typed nil": (*clv.ParetoNBD)(nil)} {
		rvNoPanic(t, "alive matrix "+name, func() {
			_, err := clv.ProbabilityAliveMatrix(am, 39, 3, 4)
			if err == nil {
				t.Errorf("ProbabilityAliveMatrix(%s model): nil error", name)
			}
		})
	}
	for name, mm := range map[string]*clv.Matrix{"nil": nil, "empty": {}, "ragged": {Frequencies: []int{0, 1}, Recencies: []float64{0, 1}, Values: [][]float64{{1, math.NaN()}, {1}}}} {
		rvNoPanic(t, "WriteSVG "+name, func() {
			err := mm.WriteSVG(&bytes.Buffer{}, clv.PlotOptions{})
			rvWantInvalid(t, "WriteSVG "+name, err)
		})
	}
}

func TestContractPlotOptionsLimits(t *testing.T) {
	m, err := clv.ProbabilityAliveMatrix(rvBG, 39, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []clv.PlotOptions{{Width: 199}, {Height: 149}, {Width: 20001}, {Height: 20001}, {Width: -5}, {Height: -1}} {
		rvNoPanic(t, "plot opts", func() {
			err := m.WriteSVG(&bytes.Buffer{}, o)
			rvWantInvalid(t, fmt.Sprintf("WriteSVG %+v", o), err)
		})
	}
	for _, o := range []clv.PlotOptions{{Width: 200, Height: 150}, {Width: 20000, Height: 20000}} {
		if err := m.WriteSVG(&bytes.Buffer{}, o); err != nil {
			t.Errorf("WriteSVG %+v: %v", o, err)
		}
	}
}

func TestContractCalibrationHoldout(t *testing.T) {
	cs := []clv.Customer{
		{ID: "a", T: 10, HoldoutFrequency: 1, HoldoutDuration: 4},
		{ID: "b", T: 10, HoldoutFrequency: 0, HoldoutDuration: 4},
		{ID: "c", Frequency: 1, Recency: 2, T: 10, HoldoutFrequency: 3, HoldoutDuration: 4},
		{ID: "d", Frequency: 5, Recency: 9, T: 10, HoldoutFrequency: 2, HoldoutDuration: 4},
		{ID: "e", Frequency: 9, Recency: 9, T: 10, HoldoutFrequency: 6, HoldoutDuration: 4},
	}
	bins, err := clv.CalibrationHoldout(rvLinPM{0.5}, cs, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []clv.HoldoutBin{
		{Label: "0", Frequency: 0, Customers: 2, Predicted: 2, Actual: 0.5},
		{Label: "1", Frequency: 1, Customers: 1, Predicted: 2, Actual: 3},
		{Label: "3+", Frequency: 3, Customers: 2, Predicted: 2, Actual: 4},
	}
	if !reflect.DeepEqual(bins, want) {
		t.Errorf("bins = %+v\nwant %+v", bins, want)
	}
	for name, pm := range map[string]clv.PurchaseModel{"nil": nil, "typed nil": (*clv.BGNBD)(nil), "typed nil mbg": (*clv.MBGNBD)(nil)} {
		rvNoPanic(t, "holdout "+name, func() {
			_, err := clv.CalibrationHoldout(pm, cs, 3)
			rvWantInvalid(t, "CalibrationHoldout "+name, err)
		})
	}
	for name, c := range map[string]struct {
		cs   []clv.Customer
		maxF int
	}{
		"no customers":  {nil, 3},
		"maxF 0":        {cs, 0},
		"maxF big":      {cs, clv.MaxPlotFrequency + 1},
		"neg holdout f": {[]clv.Customer{{T: 1, HoldoutFrequency: -1, HoldoutDuration: 1}}, 3},
		"neg duration":  {[]clv.Customer{{T: 1, HoldoutDuration: -1}}, 3},
		"NaN duration":  {[]clv.Customer{{T: 1, HoldoutDuration: math.NaN()}}, 3},
		"invalid row":   {[]clv.Customer{{Frequency: 1, Recency: 3, T: 1, HoldoutDuration: 1}}, 3},
	} {
		rvNoPanic(t, name, func() {
			_, err := clv.CalibrationHoldout(rvBG, c.cs, c.maxF)
			rvWantInvalid(t, "CalibrationHoldout "+name, err)
		})
	}
	var buf bytes.Buffer
	if err := clv.WriteCalibrationHoldoutSVG(&buf, bins, clv.PlotOptions{Model: "lin"}); err != nil || !strings.Contains(buf.String(), "lin") {
		t.Errorf("WriteCalibrationHoldoutSVG: %v", err)
	}
	rvWantInvalid(t, "WriteCalibrationHoldoutSVG no bins", clv.WriteCalibrationHoldoutSVG(&buf, nil, clv.PlotOptions{}))
	nanBins := []clv.HoldoutBin{{Label: "0", Predicted: math.NaN(), Actual: math.NaN()}}
	rvNoPanic(t, "nan bins", func() {
		rvWantInvalid(t, "WriteCalibrationHoldoutSVG NaN bins", clv.WriteCalibrationHoldoutSVG(&buf, nanBins, clv.PlotOptions{}))
	})
}

func TestContractTimeUnit(t *testing.T) {
	if clv.Day.Days() != 1 || clv.Week.Days() != 7 || clv.TimeUnit(0).Days() != 0 || clv.TimeUnit(9).Days() != 0 {
		t.Errorf("Days: %v %v %v", clv.Day.Days(), clv.Week.Days(), clv.TimeUnit(9).Days())
	}
	if clv.Day.String() != "day" || clv.Week.String() != "week" {
		t.Errorf("String: %q %q", clv.Day, clv.Week)
	}
	if clv.DaysPerMonth != 365.25/12 {
		t.Errorf("DaysPerMonth = %v", clv.DaysPerMonth)
	}
}

// FitGammaGamma with more than 64k distinct rows (the documented subsample
// path): recovers the simulating parameters, and is reproducible and
// independent of the input order.
func TestContractFitGammaGammaLargeSimulated(t *testing.T) {
	const p, q, v = 6, 4, 15.0
	rng := rand.New(rand.NewPCG(42, 43))
	sumExp := func(k int) float64 {
		s := 0.0
		for range k {
			s += rng.ExpFloat64()
		}
		return s
	}
	cs := make([]clv.Customer, 100_000)
	for i := range cs {
		x := 1 + rng.IntN(8)
		nu := sumExp(q) / v
		z := sumExp(p*x) / (float64(x) * nu)
		cs[i] = clv.Customer{ID: strconv.Itoa(i), Frequency: x, Recency: 1, T: 2, MonetaryValue: z}
	}
	m1, info1, err := clv.FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info1.DistinctRows <= 64_000 {
		t.Fatalf("DistinctRows %d: the subsample path is not exercised", info1.DistinctRows)
	}
	if !rvClose(m1.P, p, 0.1) || !rvClose(m1.Q, q, 0.1) || !rvClose(m1.V, v, 0.15) {
		t.Errorf("FitGammaGamma = %v, simulated p=%v q=%v v=%v", m1, p, q, v)
	}
	m2, info2, err := clv.FitGammaGamma(cs, nil)
	if err != nil || m1 != m2 || !reflect.DeepEqual(info1, info2) {
		t.Errorf("not reproducible: %v vs %v (%v)", m1, m2, err)
	}
	sh := slices.Clone(cs)
	rng.Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
	m3, _, err := clv.FitGammaGamma(sh, nil)
	if err != nil || !rvClose(m3.P, m1.P, 1e-6) || !rvClose(m3.Q, m1.Q, 1e-6) || !rvClose(m3.V, m1.V, 1e-6) {
		t.Errorf("shuffled: %v vs %v (%v)", m3, m1, err)
	}
}

func TestContractOtherFitsHostileMagnitudes(t *testing.T) {
	ggSets := map[string][]clv.Customer{
		"one repeater": {{Frequency: 2, Recency: 1, T: 2, MonetaryValue: 10}},
		"huge spends":  {{Frequency: 2, Recency: 1, T: 2, MonetaryValue: 1e300}, {Frequency: 1, Recency: 1, T: 2, MonetaryValue: 3e299}, {Frequency: 5, Recency: 1, T: 2, MonetaryValue: 7e300}},
		"tiny spends":  {{Frequency: 2, Recency: 1, T: 2, MonetaryValue: 1e-300}, {Frequency: 1, Recency: 1, T: 2, MonetaryValue: 3e-299}, {Frequency: 5, Recency: 1, T: 2, MonetaryValue: 7e-301}},
		"mixed scale":  {{Frequency: 2, Recency: 1, T: 2, MonetaryValue: 1e-300}, {Frequency: 1, Recency: 1, T: 2, MonetaryValue: 1e300}, {Frequency: 5, Recency: 1, T: 2, MonetaryValue: 1}},
		"huge freq":    {{Frequency: math.MaxInt32, Recency: 1, T: 2, MonetaryValue: 5}, {Frequency: 1, Recency: 1, T: 2, MonetaryValue: 50}, {Frequency: 3, Recency: 1, T: 2, MonetaryValue: 9}},
	}
	for name, cs := range ggSets {
		rvNoPanic(t, "gg "+name, func() {
			start := time.Now()
			m, info, err := clv.FitGammaGamma(cs, nil)
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("FitGammaGamma %s took %v", name, d)
			}
			if err != nil {
				if !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
					t.Errorf("FitGammaGamma %s: %v", name, err)
				}
				return
			}
			if m.Validate() != nil || math.IsNaN(info.LogLikelihood) || math.IsInf(info.LogLikelihood, 0) {
				t.Errorf("FitGammaGamma %s: %v LL %v", name, m, info.LogLikelihood)
			}
		})
	}
	bbSets := map[string][]clv.DiscreteCustomer{
		"nobody repeats":   {{Periods: 6, Count: 100}, {Periods: 3, Count: 5}},
		"everybody always": {{Frequency: 6, Recency: 6, Periods: 6, Count: 100}},
		"huge counts":      {{Periods: 6, Count: 1e300}, {Frequency: 2, Recency: 3, Periods: 6, Count: 1e300}},
	}
	for name, cs := range bbSets {
		rvNoPanic(t, "bgbb "+name, func() {
			start := time.Now()
			m, _, err := clv.FitBGBB(cs, nil)
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("FitBGBB %s took %v", name, d)
			}
			if err != nil {
				if !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
					t.Errorf("FitBGBB %s: %v", name, err)
				}
				return
			}
			if m.Validate() != nil {
				t.Errorf("FitBGBB %s: %v", name, m)
			}
		})
	}
	for name, s := range map[string][]float64{"huge": {1e300, 6e299, 4e299}, "tiny": {1e-300, 6e-301, 4e-301}, "long": slices.Repeat([]float64{1000}, 1)} {
		rvNoPanic(t, "sbg "+name, func() {
			m, _, err := clv.FitSBG(s, nil)
			if err != nil {
				if !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
					t.Errorf("FitSBG %s: %v", name, err)
				}
				return
			}
			if m.Validate() != nil {
				t.Errorf("FitSBG %s: %v", name, m)
			}
		})
	}
}

// BG/BB eq. 13 on the three documented paths (closed form past 1,000
// opportunities away from γ = 1; the plain sum within 1e-3 of γ = 1 up to
// 10^6; the second-order expansion past that), against a brute-force sum.
func TestContractBGBBConditionalPaths(t *testing.T) {
	c := clv.DiscreteCustomer{Frequency: 3, Recency: 5, Periods: 6}
	for _, g := range []float64{0.657, 1 - 5e-4, 1, 1 + 5e-4, 1 + 2e-3, 2.5} {
		m := clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: g, Delta: 2.783}
		a, b, d := m.Alpha, m.Beta, m.Delta
		n := float64(c.Periods)
		x := float64(c.Frequency)
		L := rvBGBBLik(m, c.Frequency, c.Recency, c.Periods)
		pre := math.Exp(lbeta(a+x+1, b+n-x)-lbeta(a, b)) / L
		// ratio_j = B(γ, δ+n+j)/B(γ,δ), by recurrence.
		ratio := math.Exp(lbeta(g, d+n+1) - lbeta(g, d))
		sum := 0.0
		checkpoints := map[int]bool{10: true, 1000: true, 1001: true, 50_000: true, 1_000_000: true, 1_000_001: true, 3_000_000: true}
		for j := 1; j <= 3_000_000; j++ {
			sum += ratio
			k := d + n + float64(j)
			ratio *= k / (g + k)
			if checkpoints[j] {
				got, err := m.ConditionalExpectedPurchases(j, c)
				if want := pre * sum; err != nil || !rvClose(got, want, 1e-6) {
					t.Errorf("γ=%v n*=%d: %v, %v; brute force %v", g, j, got, err, want)
				}
			}
		}
	}
}

func TestContractMorePlotAndStoreEdges(t *testing.T) {
	// CalibrationHoldout passes the model's own errors on.
	sentinel := errors.New("model broke")
	_, err := clv.CalibrationHoldout(rvErrPM{sentinel}, []clv.Customer{{T: 1, HoldoutDuration: 1}}, 2)
	if !errors.Is(err, sentinel) {
		t.Errorf("CalibrationHoldout model error: %v", err)
	}
	bins, err := clv.CalibrationHoldout(rvBG, []clv.Customer{{T: 1, HoldoutDuration: 1}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := clv.WriteCalibrationHoldoutSVG(&buf, bins, clv.PlotOptions{Model: "BG/NBD <x>"}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "actual") || strings.Contains(out, "<x>") {
		t.Errorf("holdout SVG: legend lacks \"actual\" or label not escaped")
	}
	m := clv.SBG{Alpha: 0.7, Beta: 1.2}
	for _, p := range []int{0, -1, clv.MaxSurvivalPeriods + 1} {
		rvNoPanic(t, "survival svg", func() {
			rvWantInvalid(t, fmt.Sprintf("WriteSurvivalSVG(%d)", p), m.WriteSurvivalSVG(&bytes.Buffer{}, p, nil, clv.PlotOptions{}))
		})
	}
	if err := m.WriteSurvivalSVG(&bytes.Buffer{}, 7, []float64{1000, 631, 468, 382, 326, 289, 262, 241}, clv.PlotOptions{}); err != nil {
		t.Errorf("WriteSurvivalSVG: %v", err)
	}
	rvNoPanic(t, "survival svg bad survivors", func() {
		err := m.WriteSurvivalSVG(&bytes.Buffer{}, 7, []float64{0, math.NaN(), -1}, clv.PlotOptions{})
		if err != nil && !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("WriteSurvivalSVG bad survivors: %v", err)
		}
	})
	// Typed-nil and nil stores.
	for name, st := range map[string]lifecycle.Store{"nil": nil, "typed nil": (*store.Memory)(nil)} {
		rvNoPanic(t, "store "+name, func() {
			_, err := clv.SummarizeStore(context.Background(), st, clv.StoreSummaryOptions{Currency: "EUR"})
			rvWantInvalid(t, "SummarizeStore "+name, err)
		})
	}
}

type rvErrPM struct{ err error }

func (m rvErrPM) ConditionalExpectedPurchases(t float64, c clv.Customer) (float64, error) {
	return 0, m.err
}
