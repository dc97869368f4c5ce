package clv_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func zzReadCSV(t *testing.T, name string) [][]string {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rec[1:]
}

func zzF(s string) float64 { v, _ := strconv.ParseFloat(strings.TrimSpace(s), 64); return v }

func zzCDNOW(t *testing.T) []clv.Customer {
	var cs []clv.Customer
	for _, r := range zzReadCSV(t, "cdnow_customers_summary_with_transactions.csv") {
		cs = append(cs, clv.Customer{ID: r[0], Frequency: int(zzF(r[1])), Recency: zzF(r[2]), T: zzF(r[3]), MonetaryValue: zzF(r[4])})
	}
	return cs
}

// Published values cited in docs/analytics.md and testdata/README.md.
func TestContractReviewPublishedFits(t *testing.T) {
	cs := zzCDNOW(t)
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %v, published %v", name, got, want)
		}
	}
	bg, info, err := clv.FitBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	near("BG/NBD r", bg.R, 0.2426, 1e-4)
	near("BG/NBD alpha", bg.Alpha, 4.4135, 1e-3)
	near("BG/NBD a", bg.A, 0.7929, 1e-4)
	near("BG/NBD b", bg.B, 2.4258, 1e-3)
	near("BG/NBD LL", info.LogLikelihood, -9582.43, 0.01)
	if info.Model != "BG/NBD" || info.Customers != 2357 || len(info.Estimates) != 4 || len(info.Covariance) != 16 {
		t.Errorf("info %+v", info)
	}
	se := []float64{0.012557, 0.378221, 0.185719, 0.705345}
	for i, e := range info.Estimates {
		near("BG/NBD se "+e.Name, e.StdErr, se[i], se[i]*2e-4+1e-6)
		near("Low", e.Low, e.Value-1.96*e.StdErr, 1e-9)
		near("LogHigh", e.LogHigh, e.Value*math.Exp(1.96*e.LogStdErr), 1e-9)
		near("SE delta", e.StdErr, e.Value*e.LogStdErr, 1e-12)
	}
	near("AIC", info.AIC(), -2*info.LogLikelihood+8, 1e-9)
	near("BIC", info.BIC(), -2*info.LogLikelihood+4*math.Log(2357), 1e-9)
	// FHL 2005: customer x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the next 39 weeks (lifetimes doc value 1.2264).
	e, err := bg.ConditionalExpectedPurchases(39, clv.Customer{Frequency: 2, Recency: 30.43, T: 38.86})
	if err != nil {
		t.Fatal(err)
	}
	near("FHL E[Y(39)|2,30.43,38.86]", e, 1.226, 0.001)

	mb, _, err := clv.FitMBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	near("MBG r", mb.R, 0.525, 5e-4)
	near("MBG alpha", mb.Alpha, 6.183, 5e-3)
	near("MBG a", mb.A, 0.891, 5e-4)
	near("MBG b", mb.B, 1.614, 5e-3)

	gg, _, err := clv.FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	near("GG p", gg.P, 6.249, 5e-3)
	near("GG q", gg.Q, 3.745, 5e-3)
	near("GG v", gg.V, 15.448, 5e-2)

	var dc []clv.DiscreteCustomer
	for _, r := range zzReadCSV(t, "donations.csv") {
		dc = append(dc, clv.DiscreteCustomer{Frequency: int(zzF(r[0])), Recency: int(zzF(r[1])), Periods: int(zzF(r[2])), Count: zzF(r[3])})
	}
	bb, binfo, err := clv.FitBGBB(dc, nil)
	if err != nil {
		t.Fatal(err)
	}
	near("BG/BB alpha", bb.Alpha, 1.204, 1e-3)
	near("BG/BB beta", bb.Beta, 0.750, 1e-3)
	near("BG/BB gamma", bb.Gamma, 0.657, 1e-3)
	near("BG/BB delta", bb.Delta, 2.783, 2e-3)
	near("BG/BB LL", binfo.LogLikelihood, -33225.6, 0.1)
	if binfo.Customers != 11104 {
		t.Errorf("BG/BB customers = %d, want 11104", binfo.Customers)
	}

	for _, c := range []struct {
		s    []float64
		a, b float64
		ll   float64
	}{
		{[]float64{1000, 631, 468, 382, 326, 289, 262, 241}, 0.704, 1.182, -1680.27},
		{[]float64{1000, 869, 743, 653, 593, 551, 517, 491}, 0.668, 3.806, -1611.16},
	} {
		m, info, err := clv.FitSBG(c.s, nil)
		if err != nil {
			t.Fatal(err)
		}
		near("sBG alpha", m.Alpha, c.a, 1e-3)
		near("sBG beta", m.Beta, c.b, 1e-3)
		near("sBG LL", info.LogLikelihood, c.ll, 0.01)
		if info.Customers != 1000 {
			t.Errorf("sBG n = %d, want 1000", info.Customers)
		}
	}
}

func TestContractReviewSBGFormulas(t *testing.T) {
	m := clv.SBG{Alpha: 0.704, Beta: 1.182}
	s, err := m.Survival(7)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 8 || s[0] != 1 {
		t.Fatalf("Survival(7) = %v", s)
	}
	for tt := 1; tt <= 7; tt++ {
		r, err := m.RetentionRate(tt)
		if err != nil {
			t.Fatal(err)
		}
		want := (m.Beta + float64(tt) - 1) / (m.Alpha + m.Beta + float64(tt) - 1)
		if math.Abs(r-want) > 1e-12 || math.Abs(s[tt]/s[tt-1]-want) > 1e-12 {
			t.Errorf("r(%d) = %v, S ratio %v, want %v", tt, r, s[tt]/s[tt-1], want)
		}
	}
	// DERL = Σ_{t≥n} S(t)/S(n−1)/(1+d)^{t−n}, and ≤ (1+d)/d.
	for _, d := range []float64{0.1, 0.5, 2} {
		for _, ren := range []int{0, 3} {
			got, err := m.DERL(d, ren)
			if err != nil {
				t.Fatal(err)
			}
			n := ren + 1
			long, _ := m.Survival(20000)
			sum := 0.0
			for tt := n; tt < len(long); tt++ {
				sum += long[tt] / long[n-1] / math.Pow(1+d, float64(tt-n))
			}
			if math.Abs(got-sum) > 1e-6*sum {
				t.Errorf("DERL(%v, %d) = %v, series %v", d, ren, got, sum)
			}
			if got > (1+d)/d {
				t.Errorf("DERL above (1+d)/d")
			}
		}
	}
	// Hostile.
	for _, n := range []int{-1, clv.MaxSurvival + 1, math.MinInt} {
		var err error
		rvNoPanic(t, "Survival", func() { _, err = m.Survival(n) })
		rvWantInvalid(t, fmt.Sprintf("Survival(%d)", n), err, strconv.Itoa(n))
	}
	for _, n := range []int{0, -1, math.MinInt} {
		var err error
		rvNoPanic(t, "RetentionRate", func() { _, err = m.RetentionRate(n) })
		rvWantInvalid(t, fmt.Sprintf("RetentionRate(%d)", n), err, strconv.Itoa(n))
	}
	for _, d := range []float64{0, -0.1, math.NaN(), math.Inf(1)} {
		var err error
		rvNoPanic(t, "DERL", func() { _, err = m.DERL(d, 0) })
		rvWantInvalid(t, fmt.Sprintf("DERL(%v, 0)", d), err, strconv.FormatFloat(d, 'g', -1, 64))
	}
	rvNoPanic(t, "DERL", func() { _, err = m.DERL(0.1, -1) })
	rvWantInvalid(t, "DERL(0.1, -1)", err, "-1")
	rvNoPanic(t, "DERL huge renewals", func() { _, err = m.DERL(0.1, math.MaxInt) })
	if err != nil && !errors.Is(err, clv.ErrInvalidInput) && !errors.Is(err, clv.ErrNoConvergence) {
		t.Errorf("DERL(0.1, MaxInt) = %v", err)
	}
	for _, bad := range []clv.SBG{{0, 1}, {1, -1}, {math.NaN(), 1}, {1, math.Inf(1)}} {
		_, err := bad.Survival(3)
		rvWantInvalid(t, fmt.Sprintf("Survival of %+v", bad), err)
		_, err = bad.DERL(0.1, 1)
		rvWantInvalid(t, fmt.Sprintf("DERL of %+v", bad), err)
		_, err = bad.RetentionRate(1)
		rvWantInvalid(t, fmt.Sprintf("RetentionRate of %+v", bad), err)
	}
}

func TestContractReviewFitSBGHostile(t *testing.T) {
	cases := map[string][]float64{
		"nil":         nil,
		"one value":   {100},
		"negative":    {100, -1, 0},
		"NaN":         {100, math.NaN(), 50},
		"growing":     {100, 80, 90},
		"zero cohort": {0, 0, 0},
		"Inf":         {math.Inf(1), 100, 50},
	}
	for name, s := range cases {
		var err error
		rvNoPanic(t, name, func() { _, _, err = clv.FitSBG(s, nil) })
		rvWantInvalid(t, "FitSBG "+name, err)
	}
	for name, s := range map[string][]float64{"no churn": {100, 100, 100}, "all churn": {100, 0, 0}} {
		var err error
		rvNoPanic(t, name, func() { _, _, err = clv.FitSBG(s, nil) })
		if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("FitSBG %s = %v, want ErrNoConvergence", name, err)
		}
	}
	// Fractional cohort under one half: n = 0 and BIC NaN.
	_, info, err := clv.FitSBG([]float64{0.4, 0.3, 0.2, 0.15}, nil)
	if err == nil {
		if info.Customers != 0 || !math.IsNaN(info.BIC()) {
			t.Errorf("cohort 0.4: n = %d BIC = %v, want 0 and NaN", info.Customers, info.BIC())
		}
	}
}

func TestContractReviewFitRFMHostile(t *testing.T) {
	good := []clv.Customer{{ID: "g1", Frequency: 2, Recency: 10, T: 20, MonetaryValue: 5}, {ID: "g2", Frequency: 0, T: 15}, {ID: "g3", Frequency: 5, Recency: 19, T: 30, MonetaryValue: 8}}
	bad := map[string]struct {
		c        clv.Customer
		contains []string
	}{
		"negative frequency": {clv.Customer{ID: "bad", Frequency: -1, Recency: 0, T: 5}, []string{"bad", "-1"}},
		"NaN recency":        {clv.Customer{ID: "bad", Frequency: 1, Recency: math.NaN(), T: 5}, []string{"bad", "NaN"}},
		"Inf T":              {clv.Customer{ID: "bad", Frequency: 1, Recency: 1, T: math.Inf(1)}, []string{"bad", "Inf"}},
		"negative T":         {clv.Customer{ID: "bad", Frequency: 0, Recency: 0, T: -3}, []string{"bad", "-3"}},
		"recency > T":        {clv.Customer{ID: "bad", Frequency: 1, Recency: 9, T: 5}, []string{"bad", "9"}},
		"recency w/o freq":   {clv.Customer{ID: "bad", Frequency: 0, Recency: 2, T: 5}, []string{"bad", "2"}},
		"negative recency":   {clv.Customer{ID: "bad", Frequency: 1, Recency: -2, T: 5}, []string{"bad", "-2"}},
	}
	fits := map[string]func([]clv.Customer) error{
		"BGNBD":     func(c []clv.Customer) error { _, _, err := clv.FitBGNBD(c, nil); return err },
		"MBGNBD":    func(c []clv.Customer) error { _, _, err := clv.FitMBGNBD(c, nil); return err },
		"ParetoNBD": func(c []clv.Customer) error { _, _, err := clv.FitParetoNBD(c, nil); return err },
	}
	for fname, fit := range fits {
		var err error
		rvNoPanic(t, fname+" nil", func() { err = fit(nil) })
		rvWantInvalid(t, fname+" nil", err)
		rvNoPanic(t, fname+" empty", func() { err = fit([]clv.Customer{}) })
		rvWantInvalid(t, fname+" empty", err)
		for name, b := range bad {
			in := append(append([]clv.Customer{}, good...), b.c)
			rvNoPanic(t, fname+" "+name, func() { err = fit(in) })
			rvWantInvalid(t, fname+" "+name, err, b.contains...)
		}
		// Nobody repeats: ErrNoConvergence.
		rvNoPanic(t, fname+" nobody repeats", func() {
			err = fit([]clv.Customer{{Frequency: 0, T: 5}, {Frequency: 0, T: 9}})
		})
		if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("%s nobody repeats = %v, want ErrNoConvergence", fname, err)
		}
		// Hostile magnitudes must not panic and must wrap a sentinel.
		for _, in := range [][]clv.Customer{
			{{Frequency: math.MaxInt32, Recency: 1e-300, T: 1e-300}, {Frequency: 0, T: 1}},
			{{Frequency: 3, Recency: 1e300, T: 1e300}, {Frequency: 0, T: 1e300}},
			{{Frequency: 1, Recency: 0, T: 0}, {Frequency: 0, T: 0}},
		} {
			rvNoPanic(t, fname+" extreme", func() { err = fit(in) })
			if err != nil && !errors.Is(err, clv.ErrInvalidInput) && !errors.Is(err, clv.ErrNoConvergence) {
				t.Errorf("%s extreme %v: %v wraps no sentinel", fname, in, err)
			}
		}
	}
	// FitOptions: nil and zero pick defaults; hostile values must not panic.
	for _, o := range []*clv.FitOptions{{MaxIterations: -5}, {Tolerance: math.NaN()}, {Tolerance: -1}, {MaxIterations: 1}} {
		var err error
		rvNoPanic(t, fmt.Sprintf("FitOptions %+v", *o), func() { _, _, err = clv.FitBGNBD(zzCDNOW(t)[:200], o) })
		if err != nil && !errors.Is(err, clv.ErrInvalidInput) && !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("FitOptions %+v: %v wraps no sentinel", *o, err)
		}
	}
}

func TestContractReviewGammaGammaHostile(t *testing.T) {
	cs := []clv.Customer{{ID: "a", Frequency: 2, Recency: 3, T: 5, MonetaryValue: 10}, {ID: "b", Frequency: 1, Recency: 2, T: 5, MonetaryValue: 20}}
	for name, mv := range map[string]float64{"zero": 0, "negative": -3, "NaN": math.NaN(), "Inf": math.Inf(1)} {
		in := append(append([]clv.Customer{}, cs...), clv.Customer{ID: "bad", Frequency: 1, Recency: 1, T: 5, MonetaryValue: mv})
		var err error
		rvNoPanic(t, name, func() { _, _, err = clv.FitGammaGamma(in, nil) })
		rvWantInvalid(t, "FitGammaGamma "+name, err, "bad")
	}
	var err error
	_, _, err = clv.FitGammaGamma([]clv.Customer{{Frequency: 0, T: 3}}, nil)
	rvWantInvalid(t, "FitGammaGamma no repeat buyers", err)
	// Zero spread: ErrNoConvergence.
	_, _, err = clv.FitGammaGamma([]clv.Customer{{Frequency: 1, Recency: 1, T: 2, MonetaryValue: 10}, {Frequency: 3, Recency: 1, T: 2, MonetaryValue: 10}, {Frequency: 2, Recency: 1, T: 2, MonetaryValue: 10}}, nil)
	if !errors.Is(err, clv.ErrNoConvergence) {
		t.Errorf("identical spends: %v, want ErrNoConvergence", err)
	}
	// ExcludeZeroSpend.
	in := []clv.Customer{{ID: "z", Frequency: 1, Recency: 1, T: 2, MonetaryValue: 0}, {ID: "f", Frequency: 0, T: 2}, {ID: "n", Frequency: 1, Recency: 1, T: 2, MonetaryValue: math.NaN()}}
	cp := append([]clv.Customer{}, in...)
	kept, dropped := clv.ExcludeZeroSpend(in)
	if dropped != 1 || len(kept) != 2 || kept[0].ID != "f" || kept[1].ID != "n" {
		t.Errorf("ExcludeZeroSpend = %v, %d", kept, dropped)
	}
	if fmt.Sprint(in) != fmt.Sprint(cp) {
		t.Errorf("ExcludeZeroSpend modified its input")
	}
	// Q ≤ 1.
	for _, q := range []float64{1, 0.5} {
		m := clv.GammaGamma{P: 2, Q: q, V: 3}
		_, err := m.ExpectedSpend()
		rvWantInvalid(t, fmt.Sprintf("ExpectedSpend Q=%v", q), err)
		_, err = m.ConditionalExpectedSpend(clv.Customer{Frequency: 1, Recency: 1, T: 2, MonetaryValue: 5})
		rvWantInvalid(t, fmt.Sprintf("ConditionalExpectedSpend Q=%v", q), err)
	}
	m := clv.GammaGamma{P: 6.25, Q: 3.74, V: 15.44}
	es, _ := m.ExpectedSpend()
	if want := m.P * m.V / (m.Q - 1); math.Abs(es-want) > 1e-12 {
		t.Errorf("ExpectedSpend = %v, want %v", es, want)
	}
	c0, _ := m.ConditionalExpectedSpend(clv.Customer{Frequency: 0, T: 3})
	if math.Abs(c0-es) > 1e-12 {
		t.Errorf("Frequency 0 spend %v, want population mean %v", c0, es)
	}
	c := clv.Customer{Frequency: 4, Recency: 3, T: 5, MonetaryValue: 30}
	cs4, _ := m.ConditionalExpectedSpend(c)
	if want := m.P * (m.V + 4*30) / (m.P*4 + m.Q - 1); math.Abs(cs4-want) > 1e-12 {
		t.Errorf("ConditionalExpectedSpend = %v, want %v", cs4, want)
	}
	for _, bad := range []clv.Customer{{Frequency: 1, Recency: 1, T: 2, MonetaryValue: math.NaN()}, {Frequency: 1, Recency: 1, T: 2, MonetaryValue: -1}, {Frequency: -1}} {
		var err error
		rvNoPanic(t, "ConditionalExpectedSpend", func() { _, err = m.ConditionalExpectedSpend(bad) })
		rvWantInvalid(t, fmt.Sprintf("ConditionalExpectedSpend(%+v)", bad), err)
	}
}

func TestContractReviewPredictionsHostile(t *testing.T) {
	bg := clv.BGNBD{R: 0.2426, Alpha: 4.4135, A: 0.7929, B: 2.4258}
	mb := clv.MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614}
	pn := clv.ParetoNBD{R: 0.55, Alpha: 10.58, S: 0.61, Beta: 11.67}
	good := clv.Customer{Frequency: 2, Recency: 30.43, T: 38.86}
	type pm interface {
		clv.PurchaseModel
		clv.AliveModel
		ExpectedPurchases(float64) (float64, error)
	}
	models := map[string]pm{"BGNBD": bg, "MBGNBD": mb, "ParetoNBD": pn}
	for name, m := range models {
		for _, tt := range []float64{-1, math.NaN(), math.Inf(1), math.Inf(-1)} {
			var err error
			rvNoPanic(t, name, func() { _, err = m.ConditionalExpectedPurchases(tt, good) })
			rvWantInvalid(t, fmt.Sprintf("%s.ConditionalExpectedPurchases(%v)", name, tt), err, strconv.FormatFloat(tt, 'g', -1, 64))
			rvNoPanic(t, name, func() { _, err = m.ExpectedPurchases(tt) })
			rvWantInvalid(t, fmt.Sprintf("%s.ExpectedPurchases(%v)", name, tt), err, strconv.FormatFloat(tt, 'g', -1, 64))
		}
		for _, c := range []clv.Customer{{Frequency: -1, T: 3}, {Frequency: 1, Recency: 5, T: 3}, {Frequency: 0, Recency: 1, T: 3}, {Frequency: 1, Recency: math.NaN(), T: 3}} {
			var err error
			rvNoPanic(t, name, func() { _, err = m.ProbabilityAlive(c) })
			rvWantInvalid(t, fmt.Sprintf("%s.ProbabilityAlive(%+v)", name, c), err)
			rvNoPanic(t, name, func() { _, err = m.ConditionalExpectedPurchases(1, c) })
			rvWantInvalid(t, fmt.Sprintf("%s.ConditionalExpectedPurchases(1, %+v)", name, c), err)
		}
		// t = 0: no purchases expected.
		if v, err := m.ConditionalExpectedPurchases(0, good); err != nil || v != 0 {
			t.Errorf("%s.ConditionalExpectedPurchases(0) = %v, %v; want 0", name, v, err)
		}
		if v, err := m.ExpectedPurchases(0); err != nil || v != 0 {
			t.Errorf("%s.ExpectedPurchases(0) = %v, %v; want 0", name, v, err)
		}
		// Extreme but valid customers: no panic; a value in range or a sentinel.
		for _, c := range []clv.Customer{{Frequency: 1 << 30, Recency: 1e6, T: 1e6}, {Frequency: 0, T: 1e300}, {Frequency: 5, Recency: 1e-300, T: 1e-300}, {Frequency: 0, T: 0}} {
			var p, e float64
			var err1, err2 error
			rvNoPanic(t, name, func() { p, err1 = m.ProbabilityAlive(c) })
			rvNoPanic(t, name, func() { e, err2 = m.ConditionalExpectedPurchases(10, c) })
			if err1 == nil && !(p >= 0 && p <= 1) {
				t.Errorf("%s.ProbabilityAlive(%+v) = %v outside [0,1]", name, c, p)
			}
			if err2 == nil && !(e >= 0) {
				t.Errorf("%s.ConditionalExpectedPurchases(10, %+v) = %v", name, c, e)
			}
			for _, err := range []error{err1, err2} {
				if err != nil && !errors.Is(err, clv.ErrInvalidInput) && !errors.Is(err, clv.ErrNoConvergence) {
					t.Errorf("%s %+v: %v wraps no sentinel", name, c, err)
				}
			}
		}
	}
	// Invalid parameters.
	for name, m := range map[string]pm{"BGNBD": clv.BGNBD{R: -1, Alpha: 1, A: 1, B: 1}, "MBGNBD": clv.MBGNBD{R: 1, Alpha: math.NaN(), A: 1, B: 1}, "ParetoNBD": clv.ParetoNBD{R: 1, Alpha: 1, S: 0, Beta: 1}} {
		_, err := m.ProbabilityAlive(good)
		rvWantInvalid(t, name+" invalid params ProbabilityAlive", err)
		_, err = m.ConditionalExpectedPurchases(1, good)
		rvWantInvalid(t, name+" invalid params CEP", err)
		_, err = m.ExpectedPurchases(1)
		rvWantInvalid(t, name+" invalid params EP", err)
		_, err = m.(interface {
			LogLikelihood([]clv.Customer) (float64, error)
		}).LogLikelihood([]clv.Customer{good})
		rvWantInvalid(t, name+" invalid params LL", err)
	}
	// BG/NBD: P(alive) = 1 without repeat purchases; MBG/NBD formula.
	if p, _ := bg.ProbabilityAlive(clv.Customer{Frequency: 0, T: 30}); p != 1 {
		t.Errorf("BG/NBD P(alive | x=0) = %v, want 1", p)
	}
	p, _ := mb.ProbabilityAlive(good)
	want := 1 / (1 + mb.A/(mb.B+2)*math.Pow((mb.Alpha+good.T)/(mb.Alpha+good.Recency), mb.R+2))
	if math.Abs(p-want) > 1e-12 {
		t.Errorf("MBG/NBD P(alive) = %v, want %v", p, want)
	}
	if p0, _ := mb.ProbabilityAlive(clv.Customer{Frequency: 0, T: 30}); !(p0 < 1) {
		t.Errorf("MBG/NBD P(alive | x=0) = %v, want < 1", p0)
	}
}

func TestContractReviewBGBBHostile(t *testing.T) {
	m := clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	bad := []clv.DiscreteCustomer{
		{ID: "x", Frequency: 3, Recency: 2, Periods: 6},
		{ID: "x", Frequency: 1, Recency: 7, Periods: 6},
		{ID: "x", Frequency: -1, Recency: 0, Periods: 6},
		{ID: "x", Frequency: 0, Recency: 2, Periods: 6},
		{ID: "x", Frequency: 0, Recency: 0, Periods: 0},
		{ID: "x", Frequency: 0, Recency: 0, Periods: clv.MaxOpportunities + 1},
		{ID: "x", Frequency: 1, Recency: 1, Periods: 6, Count: math.NaN()},
		{ID: "x", Frequency: 1, Recency: 1, Periods: 6, Count: -1},
		{ID: "x", Frequency: 1, Recency: 1, Periods: 6, Count: math.Inf(1)},
	}
	for _, c := range bad {
		var err error
		rvNoPanic(t, "FitBGBB", func() {
			_, _, err = clv.FitBGBB([]clv.DiscreteCustomer{{Frequency: 2, Recency: 5, Periods: 6}, {Frequency: 0, Periods: 6}, c}, nil)
		})
		rvWantInvalid(t, fmt.Sprintf("FitBGBB(%+v)", c), err, "x")
		if c.Count == 0 {
			rvNoPanic(t, "ProbabilityAlive", func() { _, err = m.ProbabilityAlive(c) })
			rvWantInvalid(t, fmt.Sprintf("ProbabilityAlive(%+v)", c), err)
			rvNoPanic(t, "CEP", func() { _, err = m.ConditionalExpectedPurchases(3, c) })
			rvWantInvalid(t, fmt.Sprintf("ConditionalExpectedPurchases(%+v)", c), err)
		}
	}
	var err error
	_, _, err = clv.FitBGBB(nil, nil)
	rvWantInvalid(t, "FitBGBB(nil)", err)
	for _, n := range []int{-1, math.MinInt} {
		rvNoPanic(t, "ExpectedPurchases", func() { _, err = m.ExpectedPurchases(n) })
		rvWantInvalid(t, fmt.Sprintf("ExpectedPurchases(%d)", n), err, strconv.Itoa(n))
		rvNoPanic(t, "CEP", func() {
			_, err = m.ConditionalExpectedPurchases(n, clv.DiscreteCustomer{Frequency: 1, Recency: 1, Periods: 6})
		})
		rvWantInvalid(t, fmt.Sprintf("ConditionalExpectedPurchases(%d)", n), err, strconv.Itoa(n))
	}
	// Huge horizons: no panic; a value in [0, n] or ErrNoConvergence.
	for _, n := range []int{math.MaxInt, 1 << 40} {
		var v float64
		rvNoPanic(t, "ExpectedPurchases", func() { v, err = m.ExpectedPurchases(n) })
		if err == nil && !(v >= 0 && v <= float64(n)) {
			t.Errorf("ExpectedPurchases(%d) = %v", n, v)
		}
		if err != nil && !errors.Is(err, clv.ErrNoConvergence) && !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("ExpectedPurchases(%d) = %v", n, err)
		}
		rvNoPanic(t, "CEP", func() {
			v, err = m.ConditionalExpectedPurchases(n, clv.DiscreteCustomer{Frequency: 1, Recency: 1, Periods: 6})
		})
		_ = v // range checked in TestContractBGBBLongHorizons
	}
	// γ exactly 1 and near it: continuous in γ.
	c := clv.DiscreteCustomer{Frequency: 3, Recency: 5, Periods: 6}
	for _, n := range []int{10, 5000, 2_000_000} {
		m1 := clv.BGBB{Alpha: 1.2, Beta: 0.75, Gamma: 1, Delta: 2.8}
		m2 := clv.BGBB{Alpha: 1.2, Beta: 0.75, Gamma: 1 + 1e-9, Delta: 2.8}
		m3 := clv.BGBB{Alpha: 1.2, Beta: 0.75, Gamma: 1 + 2e-3, Delta: 2.8}
		v1, e1 := m1.ConditionalExpectedPurchases(n, c)
		v2, e2 := m2.ConditionalExpectedPurchases(n, c)
		v3, e3 := m3.ConditionalExpectedPurchases(n, c)
		if e1 != nil || e2 != nil || e3 != nil {
			t.Errorf("γ≈1, n=%d: %v %v %v", n, e1, e2, e3)
			continue
		}
		if math.Abs(v1-v2) > 1e-6*v1 || math.Abs(v1-v3) > 2e-2*v1 {
			t.Errorf("γ≈1, n=%d: CEP %v (γ=1), %v (γ=1+1e-9), %v (γ=1.002): discontinuous", n, v1, v2, v3)
		}
	}
	// LogLikelihood: probabilities of all histories with n=3 sum to 1.
	sum := 0.0
	hist := []clv.DiscreteCustomer{{Periods: 3}}
	for x := 1; x <= 3; x++ {
		for tx := x; tx <= 3; tx++ {
			// number of histories with x transactions, last at tx: C(tx-1, x-1)
			k := 1.0
			for i := 0; i < x-1; i++ {
				k = k * float64(tx-1-i) / float64(i+1)
			}
			hist = append(hist, clv.DiscreteCustomer{Frequency: x, Recency: tx, Periods: 3, Count: k})
		}
	}
	hist[0].Count = 1
	for _, h := range hist {
		ll, err := m.LogLikelihood([]clv.DiscreteCustomer{{Frequency: h.Frequency, Recency: h.Recency, Periods: 3}})
		if err != nil {
			t.Fatal(err)
		}
		sum += h.Count * math.Exp(ll)
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("Σ likelihood over histories = %v, want 1", sum)
	}
}

func TestContractReviewLifetimeValueHostile(t *testing.T) {
	bg := clv.BGNBD{R: 0.2426, Alpha: 4.4135, A: 0.7929, B: 2.4258}
	gg := clv.GammaGamma{P: 6.25, Q: 3.74, V: 15.44}
	c := clv.Customer{Frequency: 2, Recency: 30.43, T: 38.86, MonetaryValue: 20}
	bad := map[string]clv.ValueOptions{
		"months 0":        {Months: 0},
		"months -1":       {Months: -1},
		"months too many": {Months: clv.MaxMonths + 1},
		"discount -0.1":   {Months: 12, MonthlyDiscountRate: -0.1},
		"discount NaN":    {Months: 12, MonthlyDiscountRate: math.NaN()},
		"discount Inf":    {Months: 12, MonthlyDiscountRate: math.Inf(1)},
		"unit 9":          {Months: 12, Unit: clv.TimeUnit(9)},
		"unit -1":         {Months: 12, Unit: clv.TimeUnit(-1)},
	}
	for name, o := range bad {
		var err error
		rvNoPanic(t, name, func() { _, err = clv.LifetimeValue(bg, gg, c, o) })
		rvWantInvalid(t, "LifetimeValue "+name, err)
	}
	var err error
	rvNoPanic(t, "nil purchase model", func() { _, err = clv.LifetimeValue(nil, gg, c, clv.ValueOptions{Months: 12}) })
	rvWantInvalid(t, "LifetimeValue nil purchase model", err)
	rvNoPanic(t, "nil spend model", func() { _, err = clv.LifetimeValue(bg, nil, c, clv.ValueOptions{Months: 12}) })
	rvWantInvalid(t, "LifetimeValue nil spend model", err)
	var nilBG *clv.BGNBD
	rvNoPanic(t, "typed nil purchase model", func() { _, err = clv.LifetimeValue(nilBG, gg, c, clv.ValueOptions{Months: 12}) })
	rvWantInvalid(t, "LifetimeValue typed nil purchase model", err)

	// The documented sum, by hand, weeks.
	v, err := clv.LifetimeValue(bg, gg, c, clv.ValueOptions{Months: 12, MonthlyDiscountRate: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	spend, _ := gg.ConditionalExpectedSpend(c)
	want, prev := 0.0, 0.0
	for i := 1; i <= 12; i++ {
		e, _ := bg.ConditionalExpectedPurchases(float64(i)*clv.DaysPerMonth/7, c)
		want += (e - prev) * spend / math.Pow(1.01, float64(i))
		prev = e
	}
	if math.Abs(v-want) > 1e-9*want {
		t.Errorf("LifetimeValue = %v, documented sum %v", v, want)
	}
	// Day unit: same value when alpha is scaled by 7.
	bgd := bg
	bgd.Alpha *= 7
	cd := c
	cd.Recency *= 7
	cd.T *= 7
	vd, err := clv.LifetimeValue(bgd, gg, cd, clv.ValueOptions{Months: 12, MonthlyDiscountRate: 0.01, Unit: clv.Day})
	if err != nil || math.Abs(vd-v) > 1e-9*v {
		t.Errorf("LifetimeValue in days = %v, %v; in weeks %v", vd, err, v)
	}
	// A model that returns NaN or a negative expectation is an error.
	_, err = clv.LifetimeValue(zzModel{math.NaN()}, gg, c, clv.ValueOptions{Months: 3})
	rvWantInvalid(t, "LifetimeValue NaN model", err)
	_, err = clv.LifetimeValue(zzModel{-1}, gg, c, clv.ValueOptions{Months: 3})
	rvWantInvalid(t, "LifetimeValue negative model", err)
	_, err = clv.LifetimeValue(bg, zzSpend{math.Inf(1)}, c, clv.ValueOptions{Months: 3})
	rvWantInvalid(t, "LifetimeValue infinite spend", err)
	_, err = clv.LifetimeValue(bg, zzSpend{-5}, c, clv.ValueOptions{Months: 3})
	rvWantInvalid(t, "LifetimeValue negative spend", err)

	// AffordableAcquisitionCost.
	if v, err := clv.AffordableAcquisitionCost(100, 0.3, 0.05); err != nil || math.Abs(v-1.5) > 1e-12 {
		t.Errorf("AffordableAcquisitionCost(100, .3, .05) = %v, %v", v, err)
	}
	for _, a := range [][3]float64{{100, 1.5, 0.5}, {100, -0.1, 0.5}, {100, 0.5, 1.1}, {100, 0.5, -0.1}, {-100, 0.5, 0.5}, {math.NaN(), 0.5, 0.5}, {100, math.NaN(), 0.5}, {math.Inf(1), 0.5, 0.5}} {
		var err error
		rvNoPanic(t, "AffordableAcquisitionCost", func() { _, err = clv.AffordableAcquisitionCost(a[0], a[1], a[2]) })
		rvWantInvalid(t, fmt.Sprintf("AffordableAcquisitionCost%v", a), err)
	}
}

type zzModel struct{ v float64 }

func (m zzModel) ConditionalExpectedPurchases(t float64, c clv.Customer) (float64, error) {
	return m.v * t, nil
}

type zzSpend struct{ v float64 }

func (m zzSpend) ConditionalExpectedSpend(clv.Customer) (float64, error) { return m.v, nil }

func TestContractReviewSummarize(t *testing.T) {
	d := func(y, m, dd int) time.Time { return time.Date(y, time.Month(m), dd, 12, 0, 0, 0, time.UTC) }
	txs := []clv.Transaction{
		{CustomerID: "b", Time: d(2026, 1, 1), Amount: 10},
		{CustomerID: "b", Time: d(2026, 1, 1), Amount: 5},
		{CustomerID: "b", Time: d(2026, 1, 11), Amount: 20},
		{CustomerID: "b", Time: d(2026, 1, 21), Amount: 40},
		{CustomerID: "a", Time: d(2026, 1, 5), Amount: 7},
		{CustomerID: "c", Time: d(2026, 2, 1), Amount: 7},
	}
	cp := append([]clv.Transaction{}, txs...)
	rows, err := clv.Summarize(txs, clv.SummaryOptions{CalibrationEnd: d(2026, 1, 31), ObservationEnd: d(2026, 2, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(txs, cp) {
		t.Errorf("Summarize modified its input")
	}
	if len(rows) != 2 || rows[0].ID != "a" || rows[1].ID != "b" {
		t.Fatalf("rows %+v: want a, b sorted; c omitted (first purchase after calibration)", rows)
	}
	b := rows[1]
	if b.Frequency != 2 || b.Recency != 20 || b.T != 30 || b.MonetaryValue != 30 || b.HoldoutDuration != 10 || b.HoldoutFrequency != 0 {
		t.Errorf("row b = %+v", b)
	}
	a := rows[0]
	if a.Frequency != 0 || a.Recency != 0 || a.T != 26 || a.MonetaryValue != 0 {
		t.Errorf("row a = %+v", a)
	}
	// Time zones: only the calendar date in the time's own location matters.
	tz := time.FixedZone("E", 13*3600)
	rows2, err := clv.Summarize([]clv.Transaction{
		{CustomerID: "z", Time: time.Date(2026, 1, 1, 23, 30, 0, 0, tz), Amount: 1}, // 2026-01-01 10:30 UTC
		{CustomerID: "z", Time: time.Date(2026, 1, 2, 0, 30, 0, 0, tz), Amount: 1},  // 2026-01-01 11:30 UTC, but Jan 2 locally
	}, clv.SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rows2[0].Frequency != 1 || rows2[0].Recency != 1 {
		t.Errorf("local dates Jan 1 and Jan 2 (+13:00): %+v, want Frequency 1 Recency 1", rows2[0])
	}
	// Week period with Day... Period Day, Unit Week.
	rows3, err := clv.Summarize(txs[:4], clv.SummaryOptions{Unit: clv.Week})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rows3[0].Recency-20.0/7) > 1e-12 {
		t.Errorf("Unit Week recency %v, want 20/7", rows3[0].Recency)
	}
	// Hostile.
	bad := map[string]struct {
		txs      []clv.Transaction
		opts     clv.SummaryOptions
		contains []string
	}{
		"empty":         {nil, clv.SummaryOptions{}, nil},
		"no customer":   {[]clv.Transaction{{Time: d(2026, 1, 1), Amount: 1}}, clv.SummaryOptions{}, []string{"0"}},
		"zero time":     {[]clv.Transaction{{CustomerID: "a", Time: d(2026, 1, 1), Amount: 1}, {CustomerID: "a", Amount: 1}}, clv.SummaryOptions{}, []string{"1"}},
		"NaN amount":    {[]clv.Transaction{{CustomerID: "a", Time: d(2026, 1, 1), Amount: math.NaN()}}, clv.SummaryOptions{}, []string{"0", "NaN"}},
		"neg amount":    {[]clv.Transaction{{CustomerID: "a", Time: d(2026, 1, 1), Amount: -2}}, clv.SummaryOptions{}, []string{"0", "-2"}},
		"Inf amount":    {[]clv.Transaction{{CustomerID: "a", Time: d(2026, 1, 1), Amount: math.Inf(1)}}, clv.SummaryOptions{}, []string{"0", "Inf"}},
		"bad period":    {txs, clv.SummaryOptions{Period: clv.TimeUnit(5)}, []string{"5"}},
		"bad unit":      {txs, clv.SummaryOptions{Unit: clv.TimeUnit(-2)}, []string{"-2"}},
		"cal after obs": {txs, clv.SummaryOptions{CalibrationEnd: d(2026, 3, 1), ObservationEnd: d(2026, 2, 1)}, nil},
		"overflow":      {[]clv.Transaction{{CustomerID: "a", Time: d(2026, 1, 1), Amount: math.MaxFloat64}, {CustomerID: "a", Time: d(2026, 1, 1), Amount: math.MaxFloat64}}, clv.SummaryOptions{}, []string{"a"}},
	}
	for name, c := range bad {
		var err error
		rvNoPanic(t, name, func() { _, err = clv.Summarize(c.txs, c.opts) })
		rvWantInvalid(t, "Summarize "+name, err, c.contains...)
	}
	// Transactions far apart in time (years 1 and 9999): no panic, no overflow.
	var r4 []clv.Customer
	rvNoPanic(t, "Summarize far apart", func() {
		r4, err = clv.Summarize([]clv.Transaction{{CustomerID: "x", Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 1}, {CustomerID: "x", Time: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), Amount: 1}}, clv.SummaryOptions{})
	})
	if err == nil && (len(r4) != 1 || r4[0].Recency < 3.6e6 || r4[0].Recency != r4[0].T) {
		t.Errorf("years 1 to 9999: %+v", r4)
	}
}

func TestContractReviewReadCDNOW(t *testing.T) {
	txs, err := clv.ReadCDNOW(strings.NewReader("\ufeffid date cds dollars\r\n00001 19970101 1 29.33\r\n\r\n00001 19970118 2 29.73\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 2 || txs[0].CustomerID != "00001" || !txs[0].Time.Equal(time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)) || txs[1].Amount != 29.73 {
		t.Errorf("ReadCDNOW = %+v", txs)
	}
	if txs[0].Time.Location() != time.UTC {
		t.Errorf("time location %v, want UTC", txs[0].Time.Location())
	}
	txs, err = clv.ReadCDNOW(strings.NewReader("4 0001 19970101 2 77.00\n"))
	if err != nil || len(txs) != 1 || txs[0].CustomerID != "0001" {
		t.Errorf("5-field layout: %+v, %v", txs, err)
	}
	bad := map[string]struct {
		in       string
		contains []string
	}{
		"empty":            {"", nil},
		"only header":      {"id date cds dollars\n", nil},
		"three fields":     {"1 19970101 1 2.0\n2 19970101 1\n", []string{"2"}},
		"bad date":         {"1 19970101 1 2.0\n1 19971301 1 2.0\n", []string{"2", "date"}},
		"bad dollars":      {"1 19970101 1 2.0\n1 19970102 1 abc\n", []string{"2"}},
		"NaN dollars":      {"1 19970101 1 NaN\n", []string{"1"}},
		"negative dollars": {"1 19970101 1 -5\n", []string{"1"}},
		"Inf dollars":      {"1 19970101 1 +Inf\n", []string{"1"}},
		"long line":        {"1 19970101 1 2.0\n" + strings.Repeat("9", 70000) + " 19970101 1 2.0\n", []string{"2"}},
	}
	for name, c := range bad {
		var err error
		rvNoPanic(t, name, func() { _, err = clv.ReadCDNOW(strings.NewReader(c.in)) })
		rvWantInvalid(t, "ReadCDNOW "+name, err, c.contains...)
	}
	rerr := errors.New("disk on fire")
	_, err = clv.ReadCDNOW(&zzErrReader{err: rerr})
	if err != rerr && !errors.Is(err, rerr) {
		t.Errorf("ReadCDNOW read error = %v, want it as it is", err)
	}
	// Full master file round trip: 69,659 transactions.
	f, err := os.Open("testdata/CDNOW_master.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := clv.ReadCDNOW(f)
	if err != nil || len(all) != 69659 {
		t.Errorf("CDNOW_master: %d transactions, %v; README says 69,659", len(all), err)
	}
	total := 0.0
	for _, tx := range all {
		total += tx.Amount
	}
	if math.Abs(total-2500315.63) > 0.01 {
		t.Errorf("CDNOW_master total = %.2f, README says 2,500,315.63", total)
	}
}

type zzErrReader struct{ err error }

func (r *zzErrReader) Read([]byte) (int, error) { return 0, r.err }

func zzCustomers(cs ...*lifecycle.Customer) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

func TestContractReviewSummarizeCustomersHostile(t *testing.T) {
	ctx := context.Background()
	c := zzStoredBuyer(t)
	ok := clv.StoreSummaryOptions{Currency: "EUR"}
	if rows, err := clv.SummarizeCustomers(ctx, zzCustomers(c), ok); err != nil || len(rows) != 1 {
		t.Fatalf("SummarizeCustomers = %+v, %v", rows, err)
	} else {
		r := rows[0]
		// Orders 2026-01-01 (30.00), 2026-01-11 (50.00): n = 2, Frequency 1, Recency 10, T 10, MonetaryValue 40.
		if r.Frequency != 1 || r.Recency != 10 || r.T != 10 || math.Abs(r.MonetaryValue-40) > 1e-9 || r.ID != c.ID {
			t.Errorf("row = %+v", r)
		}
	}
	bad := map[string]struct {
		opts     clv.StoreSummaryOptions
		contains []string
	}{
		"no currency":     {clv.StoreSummaryOptions{}, nil},
		"bad currency":    {clv.StoreSummaryOptions{Currency: "eur"}, []string{"eur"}},
		"rate NaN":        {clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": math.NaN()}}, []string{"GBP", "NaN"}},
		"rate 0":          {clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": 0}}, []string{"GBP"}},
		"rate negative":   {clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": -1}}, []string{"GBP", "-1"}},
		"rate self":       {clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"EUR": 1}}, []string{"EUR"}},
		"rate bad key":    {clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"gbp": 1}}, []string{"gbp"}},
		"bad unit":        {clv.StoreSummaryOptions{Currency: "EUR", Unit: clv.TimeUnit(3)}, []string{"3"}},
		"bad type":        {clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{"site_visited"}}, []string{"site_visited"}},
		"dup type":        {clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.OrderCompleted}}, []string{"order_completed"}},
		"refund as type":  {clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{lifecycle.OrderRefunded}}, []string{"order_refunded"}},
		"obs end between": {clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)}, []string{c.ID}},
		"unknown money":   {clv.StoreSummaryOptions{Currency: "USD"}, []string{c.ID, "EUR"}},
	}
	for name, b := range bad {
		var err error
		rvNoPanic(t, name, func() { _, err = clv.SummarizeCustomers(ctx, zzCustomers(c), b.opts) })
		rvWantInvalid(t, "SummarizeCustomers "+name, err, b.contains...)
	}
	var err error
	rvNoPanic(t, "nil seq", func() { _, err = clv.SummarizeCustomers(ctx, nil, ok) })
	rvWantInvalid(t, "SummarizeCustomers nil seq", err)
	rvNoPanic(t, "nil customer", func() { _, err = clv.SummarizeCustomers(ctx, zzCustomers(c, nil), ok) })
	_, err = clv.SummarizeCustomers(ctx, zzCustomers(), ok)
	rvWantInvalid(t, "SummarizeCustomers no customers", err)
	serr := errors.New("scan broke")
	_, err = clv.SummarizeCustomers(ctx, func(yield func(*lifecycle.Customer, error) bool) { yield(nil, serr) }, ok)
	if !errors.Is(err, serr) {
		t.Errorf("scan error = %v, want wrapped", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = clv.SummarizeCustomers(cctx, zzCustomers(c), ok)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx = %v, want context.Canceled", err)
	}
	rvNoPanic(t, "SummarizeStore nil", func() { _, err = clv.SummarizeStore(ctx, nil, ok) })
	if err == nil {
		t.Errorf("SummarizeStore(nil store): no error")
	}
}

// zzStoredBuyer records two orders through a real Tracker.
func zzStoredBuyer(t *testing.T) *lifecycle.Customer {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return now }))
	for i, e := range []lifecycle.Event{
		{ID: "o1", CustomerID: "buyer", Type: lifecycle.OrderCompleted, Time: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), Amount: 3000, Currency: "EUR"},
		{ID: "o2", CustomerID: "buyer", Type: lifecycle.OrderCompleted, Time: time.Date(2026, 1, 11, 9, 0, 0, 0, time.UTC), Amount: 5000, Currency: "EUR"},
	} {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	c, err := tr.Customer(ctx, "buyer")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContractReviewPlotsHostile(t *testing.T) {
	bg := clv.BGNBD{R: 0.2426, Alpha: 4.4135, A: 0.7929, B: 2.4258}
	cs := []clv.Customer{{Frequency: 0, T: 39, HoldoutFrequency: 1, HoldoutDuration: 39}, {Frequency: 2, Recency: 20, T: 39, HoldoutDuration: 39}, {Frequency: 9, Recency: 30, T: 39, HoldoutFrequency: 3, HoldoutDuration: 39}}
	var err error
	for _, mf := range []int{0, -1, clv.MaxPlotFrequency + 1} {
		rvNoPanic(t, "CalibrationHoldout", func() { _, err = clv.CalibrationHoldout(bg, cs, mf) })
		rvWantInvalid(t, fmt.Sprintf("CalibrationHoldout maxFrequency %d", mf), err, strconv.Itoa(mf))
	}
	rvNoPanic(t, "CalibrationHoldout nil model", func() { _, err = clv.CalibrationHoldout(nil, cs, 3) })
	rvWantInvalid(t, "CalibrationHoldout nil model", err)
	rvNoPanic(t, "CalibrationHoldout typed nil model", func() { _, err = clv.CalibrationHoldout((*clv.BGNBD)(nil), cs, 3) })
	rvWantInvalid(t, "CalibrationHoldout typed nil model", err)
	_, err = clv.CalibrationHoldout(bg, nil, 3)
	rvWantInvalid(t, "CalibrationHoldout no customers", err)
	_, err = clv.CalibrationHoldout(bg, []clv.Customer{{Frequency: 0, T: 3, HoldoutFrequency: -1, HoldoutDuration: 3}}, 3)
	rvWantInvalid(t, "CalibrationHoldout negative holdout frequency", err, "-1")
	_, err = clv.CalibrationHoldout(bg, []clv.Customer{{Frequency: 0, T: 3, HoldoutDuration: -2}}, 3)
	rvWantInvalid(t, "CalibrationHoldout negative holdout duration", err, "-2")
	_, err = clv.CalibrationHoldout(bg, []clv.Customer{{Frequency: 0, T: 3, HoldoutDuration: math.NaN()}}, 3)
	rvWantInvalid(t, "CalibrationHoldout NaN holdout duration", err, "NaN")
	bins, err := clv.CalibrationHoldout(bg, cs, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 3 || bins[2].Label != "3+" || bins[2].Frequency != 3 || bins[2].Customers != 1 || bins[0].Actual != 1 {
		t.Errorf("bins = %+v", bins)
	}
	var b bytes.Buffer
	for name, o := range map[string]clv.PlotOptions{"negative width": {Width: -1}, "tiny width": {Width: 100}, "huge height": {Height: 20001}, "tiny height": {Height: 10}} {
		rvNoPanic(t, name, func() { err = clv.WriteCalibrationHoldoutSVG(&b, bins, o) })
		rvWantInvalid(t, "WriteCalibrationHoldoutSVG "+name, err)
	}
	err = clv.WriteCalibrationHoldoutSVG(&b, nil, clv.PlotOptions{})
	rvWantInvalid(t, "WriteCalibrationHoldoutSVG nil bins", err)
	err = clv.WriteCalibrationHoldoutSVG(&b, []clv.HoldoutBin{{Label: "0", Predicted: math.NaN(), Actual: math.Inf(1)}}, clv.PlotOptions{})
	rvWantInvalid(t, "WriteCalibrationHoldoutSVG no finite value", err)
	b.Reset()
	if err := clv.WriteCalibrationHoldoutSVG(&b, bins, clv.PlotOptions{Title: `<a & "b">`, Model: "</svg>"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "</svg></") || strings.Contains(b.String(), `<a &`) {
		t.Errorf("labels not escaped")
	}

	// Matrices.
	type mcase struct {
		t, T     float64
		mf, rec  int
		contains string
	}
	for _, c := range []mcase{{1, 0, 3, 3, "0"}, {1, -1, 3, 3, "-1"}, {1, math.NaN(), 3, 3, "NaN"}, {1, math.Inf(1), 3, 3, "Inf"}, {-1, 10, 3, 3, "-1"}, {math.NaN(), 10, 3, 3, "NaN"},
		{1, 10, -1, 3, "-1"}, {1, 10, clv.MaxPlotFrequency + 1, 3, "10001"}, {1, 10, 3, 1, "1"}, {1, 10, 3, clv.MaxPlotFrequency + 1, "10001"}, {1, 10, 2000, 2000, ""}} {
		rvNoPanic(t, "ExpectedPurchasesMatrix", func() { _, err = clv.ExpectedPurchasesMatrix(bg, c.t, c.T, c.mf, c.rec) })
		rvWantInvalid(t, fmt.Sprintf("ExpectedPurchasesMatrix%+v", c), err, c.contains)
	}
	rvNoPanic(t, "nil model", func() { _, err = clv.ExpectedPurchasesMatrix(nil, 1, 10, 3, 3) })
	rvWantInvalid(t, "ExpectedPurchasesMatrix nil model", err)
	rvNoPanic(t, "nil model", func() { _, err = clv.ProbabilityAliveMatrix(nil, 10, 3, 3) })
	rvWantInvalid(t, "ProbabilityAliveMatrix nil model", err)
	m, err := clv.ProbabilityAliveMatrix(bg, 39, 4, 14)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Values) != 5 || len(m.Values[0]) != 14 || len(m.Recencies) != 14 || m.Recencies[0] != 0 || m.Recencies[13] != 39 || math.Abs(m.Recencies[1]-3) > 1e-12 {
		t.Errorf("matrix shape %d×%d, recencies %v", len(m.Values), len(m.Values[0]), m.Recencies)
	}
	if m.Values[0][0] != 1 || !math.IsNaN(m.Values[0][1]) {
		t.Errorf("frequency 0 row = %v", m.Values[0])
	}
	want, _ := bg.ProbabilityAlive(clv.Customer{Frequency: 3, Recency: m.Recencies[5], T: 39})
	if m.Values[3][5] != want {
		t.Errorf("cell [3][5] = %v, want %v", m.Values[3][5], want)
	}
	for _, bad := range []*clv.Matrix{nil, {}, {Frequencies: []int{0, 1}, Recencies: []float64{0, 1}, Values: [][]float64{{1, 2}, {1}}}} {
		rvNoPanic(t, "WriteSVG", func() { err = bad.WriteSVG(&b, clv.PlotOptions{}) })
		rvWantInvalid(t, fmt.Sprintf("Matrix.WriteSVG(%v)", bad), err)
	}
	sbg := clv.SBG{Alpha: 0.7, Beta: 1.2}
	for _, n := range []int{0, -1, clv.MaxSurvivalPeriods + 1} {
		rvNoPanic(t, "WriteSurvivalSVG", func() { err = sbg.WriteSurvivalSVG(&b, n, nil, clv.PlotOptions{}) })
		rvWantInvalid(t, fmt.Sprintf("WriteSurvivalSVG(%d)", n), err)
	}
	for name, s := range map[string][]float64{"zero cohort": {0, 0}, "NaN": {100, math.NaN()}, "negative": {100, -5}} {
		rvNoPanic(t, name, func() { err = sbg.WriteSurvivalSVG(&b, 5, s, clv.PlotOptions{}) })
		rvWantInvalid(t, "WriteSurvivalSVG "+name, err)
	}
	rvNoPanic(t, "invalid sBG", func() { err = clv.SBG{Alpha: -1, Beta: 1}.WriteSurvivalSVG(&b, 5, nil, clv.PlotOptions{}) })
	rvWantInvalid(t, "WriteSurvivalSVG invalid model", err)
}

func TestContractReviewSummaryCSV(t *testing.T) {
	_, info, err := clv.FitSBG([]float64{1000, 631, 468, 382, 326, 289, 262, 241}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := info.Summary()
	if s.Model != "sBG" || s.N != 1000 || len(s.Estimates) != 2 || s.AIC != info.AIC() || s.BIC != info.BIC() {
		t.Errorf("summary %+v", s)
	}
	var b bytes.Buffer
	if err := s.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"model", "parameter", "estimate", "std_err", "low", "high", "log_low", "log_high", "log_likelihood", "aic", "bic", "n"}
	if !reflect.DeepEqual(rec[0], want) || len(rec) != 3 {
		t.Errorf("CSV = %v", rec)
	}
	if v, _ := strconv.ParseFloat(rec[1][2], 64); v != s.Estimates[0].Value {
		t.Errorf("estimate %q does not read back exactly as %v", rec[1][2], s.Estimates[0].Value)
	}
	var w bytes.Buffer
	n, err := s.WriteTo(&w)
	if err != nil || int(n) != w.Len() || w.String() != s.String() {
		t.Errorf("WriteTo = %d, %v", n, err)
	}
	// FitInfo with no estimates: AIC with k = 0, BIC NaN at n = 0.
	var empty clv.FitInfo
	if empty.AIC() != 0 || !math.IsNaN(empty.BIC()) {
		t.Errorf("empty FitInfo AIC %v BIC %v", empty.AIC(), empty.BIC())
	}
	if clv.Day.String() != "day" || clv.Week.String() != "week" || clv.Week.Days() != 7 || clv.TimeUnit(9).Days() != 0 {
		t.Errorf("TimeUnit strings")
	}
}

// BG/BB expectations over long horizons: an expected count can neither be
// negative nor fall as the horizon grows. ExpectedPurchases doc: "A result
// outside [0, n], which only a loss of precision or an overflow in these
// forms could give, is an error wrapping [ErrNoConvergence]."
func TestContractReviewBGBBLongHorizons(t *testing.T) {
	m := clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	c := clv.DiscreteCustomer{Frequency: 1, Recency: 1, Periods: 6}
	// Direct sum at n = 1e6 against the closed form.
	n := 1_000_000
	term, sum := 1.0, 0.0 // B(γ, δ+j)/B(γ, δ)
	for j := 1; j <= n; j++ {
		term *= (m.Delta + float64(j) - 1) / (m.Gamma + m.Delta + float64(j) - 1)
		sum += term
	}
	want := m.Alpha / (m.Alpha + m.Beta) * sum
	if got, err := m.ExpectedPurchases(n); err != nil || math.Abs(got-want) > 1e-8*want {
		t.Errorf("ExpectedPurchases(1e6) = %v, %v; direct sum %v", got, err, want)
	}
	prevEP, prevCEP := 0.0, 0.0
	for e := 3.0; e <= 18.9; e += 0.5 {
		n := int(math.Pow(10, e))
		ep, err := m.ExpectedPurchases(n)
		if err == nil {
			if ep < prevEP || ep > float64(n) {
				t.Errorf("ExpectedPurchases(1e%.1f) = %v, after %v at the shorter horizon (an expectation cannot fall)", e, ep, prevEP)
			}
			prevEP = ep
		} else if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("ExpectedPurchases(1e%.1f): %v", e, err)
		}
		v, err := m.ConditionalExpectedPurchases(n, c)
		if err == nil {
			if v < prevCEP || v < 0 || v > float64(n) {
				t.Errorf("ConditionalExpectedPurchases(1e%.1f) = %v, after %v at the shorter horizon (nil error)", e, v, prevCEP)
			}
			prevCEP = max(v, prevCEP)
		} else if !errors.Is(err, clv.ErrNoConvergence) {
			t.Errorf("ConditionalExpectedPurchases(1e%.1f): %v", e, err)
		}
	}
}

// TestContractReviewBGBBLongHorizonReference holds ExpectedPurchases to
// values computed with 50-digit arithmetic (mpmath, the closed form's
// log-gamma differences) on the donations fit's parameters, at horizons
// where float64 log-gamma differences keep no digits.
func TestContractReviewBGBBLongHorizonReference(t *testing.T) {
	m := clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	for _, c := range []struct {
		n    int
		want float64
	}{
		{1_000_000, 381.61351248903303},
		{10_000_000_000_000, 97331.546722536544},
		{10_000_000_000_000_000, 1040576.0965386139},
		{1_000_000_000_000_000_000, 5049815.3941897944},
	} {
		got, err := m.ExpectedPurchases(c.n)
		if err != nil || math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("ExpectedPurchases(%d) = %.17g, %v; want %.17g", c.n, got, err, c.want)
		}
	}
}

// TestContractReviewBGBBLargeGammaDelta: with γ+δ past 170 the closed form
// (past 1,000 opportunities) overflowed in its constant and returned
// ErrNoConvergence; it must agree with the sum it stands for.
func TestContractReviewBGBBLargeGammaDelta(t *testing.T) {
	m := clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 171, Delta: 2.783}
	sum, err := m.ExpectedPurchases(1000) // added up term by term
	if err != nil {
		t.Fatal(err)
	}
	closed, err := m.ExpectedPurchases(1001) // the closed form; one more opportunity adds almost nothing here
	if err != nil || math.Abs(closed-sum) > 1e-9*sum {
		t.Errorf("ExpectedPurchases(1001) = %v, %v; the sum to 1000 is %v", closed, err, sum)
	}
}
