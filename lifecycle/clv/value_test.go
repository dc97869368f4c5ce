package clv

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// linearModel buys at a constant rate: E[purchases in t] = rate·t.
type linearModel struct{ rate float64 }

func (m linearModel) ConditionalExpectedPurchases(t float64, _ Customer) (float64, error) {
	return m.rate * t, nil
}

type constSpend float64

func (s constSpend) ConditionalExpectedSpend(Customer) (float64, error) { return float64(s), nil }

func TestLifetimeValue(t *testing.T) {
	const rate, spend = 0.5, 40.0 // per week, per purchase
	monthWeeks := DaysPerMonth / 7
	perMonth := rate * monthWeeks * spend
	tests := []struct {
		name string
		opts ValueOptions
		want float64
	}{
		{"undiscounted", ValueOptions{Months: 12}, 12 * perMonth},
		{"discounted", ValueOptions{Months: 3, MonthlyDiscountRate: 0.1}, perMonth * (1/1.1 + 1/1.21 + 1/1.331)},
		{"daily unit", ValueOptions{Months: 2, Unit: Day}, 2 * rate * DaysPerMonth * spend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LifetimeValue(linearModel{rate}, constSpend(spend), Customer{}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if relErr(got, tc.want) > 1e-12 {
				t.Errorf("LifetimeValue = %v, want %v", got, tc.want)
			}
		})
	}
}

// With the real models, value must grow with the horizon, shrink with the
// discount rate, and be larger for a frequent, recent buyer than for a
// lapsed one.
func TestLifetimeValueBGNBD(t *testing.T) {
	gg := GammaGamma{P: 6.249, Q: 3.745, V: 15.448}
	recent := Customer{Frequency: 5, Recency: 37, T: 38, MonetaryValue: 30}
	lapsed := Customer{Frequency: 5, Recency: 5, T: 38, MonetaryValue: 30}
	v := func(c Customer, months int, d float64) float64 {
		t.Helper()
		x, err := LifetimeValue(cdnowBGNBD, gg, c, ValueOptions{Months: months, MonthlyDiscountRate: d})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if !(v(recent, 24, 0.01) > v(recent, 12, 0.01)) {
		t.Error("value did not grow with the horizon")
	}
	if !(v(recent, 12, 0.02) < v(recent, 12, 0.01)) {
		t.Error("value did not shrink with the discount rate")
	}
	if !(v(recent, 12, 0.01) > 5*v(lapsed, 12, 0.01)) {
		t.Errorf("recent buyer worth %v, lapsed buyer %v", v(recent, 12, 0.01), v(lapsed, 12, 0.01))
	}
	// Undiscounted value equals expected purchases × expected spend.
	n, _ := cdnowBGNBD.ConditionalExpectedPurchases(12*DaysPerMonth/7, recent)
	s, _ := gg.ConditionalExpectedSpend(recent)
	if got := v(recent, 12, 0); relErr(got, n*s) > 1e-12 {
		t.Errorf("undiscounted value %v, want %v", got, n*s)
	}
}

func TestLifetimeValueInvalidInput(t *testing.T) {
	gg := GammaGamma{P: 6.249, Q: 3.745, V: 15.448}
	tests := []struct {
		name  string
		pm    PurchaseModel
		sm    SpendModel
		c     Customer
		opts  ValueOptions
		field string
	}{
		{"zero months", cdnowBGNBD, gg, Customer{}, ValueOptions{}, "ValueOptions.Months = 0"},
		{"negative discount", cdnowBGNBD, gg, Customer{}, ValueOptions{Months: 1, MonthlyDiscountRate: -0.1}, "MonthlyDiscountRate = -0.1"},
		{"NaN discount", cdnowBGNBD, gg, Customer{}, ValueOptions{Months: 1, MonthlyDiscountRate: math.NaN()}, "MonthlyDiscountRate = NaN"},
		{"bad unit", cdnowBGNBD, gg, Customer{}, ValueOptions{Months: 1, Unit: 5}, "ValueOptions.Unit"},
		{"nil model", nil, gg, Customer{}, ValueOptions{Months: 1}, "nil model"},
		{"bad customer", cdnowBGNBD, gg, Customer{Frequency: 1, Recency: 9, T: 3}, ValueOptions{Months: 1}, "Recency = 9 exceeds T = 3"},
		{"bad spend model", cdnowBGNBD, GammaGamma{P: 1, Q: 1, V: 1}, Customer{}, ValueOptions{Months: 1}, "GammaGamma.Q = 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LifetimeValue(tc.pm, tc.sm, tc.c, tc.opts)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want ErrInvalidInput naming %q", err, tc.field)
			}
		})
	}
}

func TestAffordableAcquisitionCost(t *testing.T) {
	tests := []struct {
		value, margin, conversion float64
		want                      float64
		field                     string
	}{
		{200, 0.3, 0.05, 3, ""},
		{0, 0.3, 0.05, 0, ""},
		{100, 1, 1, 100, ""},
		{-1, 0.3, 0.05, 0, "value = -1"},
		{math.NaN(), 0.3, 0.05, 0, "value = NaN"},
		{100, 1.5, 0.05, 0, "margin = 1.5"},
		{100, 0.3, -0.1, 0, "conversion = -0.1"},
		{100, 0.3, math.NaN(), 0, "conversion = NaN"},
	}
	for _, tc := range tests {
		got, err := AffordableAcquisitionCost(tc.value, tc.margin, tc.conversion)
		if tc.field == "" {
			if err != nil || relErr(got, tc.want) > 1e-15 {
				t.Errorf("AffordableAcquisitionCost(%v, %v, %v) = %v, %v; want %v", tc.value, tc.margin, tc.conversion, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("AffordableAcquisitionCost(%v, %v, %v): err = %v, want ErrInvalidInput naming %q", tc.value, tc.margin, tc.conversion, err, tc.field)
		}
	}
}

// The discount divides a month's purchases before the spend multiplies
// them: at a spend of 1e308 and 900 %/month the value is finite (about
// 4.35e307), and LifetimeValue returns it (it overflowed in the product
// and reported ErrNoConvergence).
func TestLifetimeValueLargeSpendDiscounted(t *testing.T) {
	const spend = 1e308
	opts := ValueOptions{Months: 1, MonthlyDiscountRate: 9, Unit: Week}
	want := DaysPerMonth / 7 * (spend / 10)
	got, err := LifetimeValue(linearModel{1}, constSpend(spend), Customer{}, opts)
	if err != nil || relErr(got, want) > 1e-12 {
		t.Fatalf("LifetimeValue = %v, %v; want %v", got, err, want)
	}
	// Past the largest float64 it is still an error.
	opts.MonthlyDiscountRate = 0
	opts.Months = 2
	if _, err := LifetimeValue(linearModel{1}, constSpend(spend), Customer{}, opts); !errors.Is(err, ErrNoConvergence) {
		t.Fatalf("a value past the largest float64: %v", err)
	}
}
