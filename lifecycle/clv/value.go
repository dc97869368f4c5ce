package clv

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/nilness"
)

// PurchaseModel predicts repeat purchases of a customer; [BGNBD],
// [MBGNBD] and [ParetoNBD] implement it.
type PurchaseModel interface {
	// ConditionalExpectedPurchases returns the expected number of
	// purchases of c in the t time units following its T.
	ConditionalExpectedPurchases(t float64, c Customer) (float64, error)
}

// SpendModel predicts the mean value of a customer's future purchases;
// [GammaGamma] implements it.
type SpendModel interface {
	// ConditionalExpectedSpend returns the expected value per purchase of c.
	ConditionalExpectedSpend(c Customer) (float64, error)
}

// DaysPerMonth is the average month length used to convert the monthly
// horizon of [LifetimeValue] into the models' time unit: 365.25/12.
const DaysPerMonth = 365.25 / 12

// MaxMonths bounds [ValueOptions].Months: 12,000 (a thousand years;
// LifetimeValue evaluates the purchase model once a month).
const MaxMonths = 12_000

// ValueOptions configure [LifetimeValue].
type ValueOptions struct {
	// Months is the horizon in months; it must be from 1 to [MaxMonths].
	Months int
	// MonthlyDiscountRate is the discount rate per month (e.g. 0.01 for
	// 1%/month, about 12.7%/year); it must be ≥ 0.
	MonthlyDiscountRate float64
	// Unit is the time unit the purchase model was fitted in: Day or
	// Week. Default Week (where [SummaryOptions] and
	// [StoreSummaryOptions] default to Day: a model fitted on a summary
	// made with the defaults needs Unit: Day here).
	Unit TimeUnit
}

// LifetimeValue returns the discounted expected value of customer c over
// the next opts.Months months:
//
//	Σ_{i=1..Months} (E[purchases by month i] − E[purchases by month i−1])
//	                · E[spend] / (1 + MonthlyDiscountRate)^i
//
// where the expected purchases come from pm (conditional on c's history)
// and the expected spend per purchase from sm. A month is [DaysPerMonth]
// days (DaysPerMonth/7 weeks). The lifetimes package's
// customer_lifetime_value sums the same terms, but takes a month as 30
// days (freq "D") or 4.345 weeks (freq "W"), so its values differ slightly.
// The value is revenue; multiply by a margin for profit (see
// [AffordableAcquisitionCost]). A model that gives NaN or a negative or
// infinite expectation is an error wrapping [ErrInvalidInput]; a value
// past the largest float64 (an expected spend near it) one wrapping
// [ErrNoConvergence].
func LifetimeValue(pm PurchaseModel, sm SpendModel, c Customer, opts ValueOptions) (float64, error) {
	if nilness.Is(pm) || nilness.Is(sm) {
		return 0, invalidf("LifetimeValue: nil model")
	}
	if opts.Months <= 0 || opts.Months > MaxMonths {
		return 0, invalidf("ValueOptions.Months = %d, must be from 1 to %d", opts.Months, MaxMonths)
	}
	if err := checkNonNegative("ValueOptions.MonthlyDiscountRate", opts.MonthlyDiscountRate); err != nil {
		return 0, err
	}
	unit := opts.Unit
	if unit == 0 {
		unit = Week
	}
	if unit.Days() == 0 {
		return 0, invalidf("ValueOptions.Unit = %v, must be Day or Week", unit)
	}
	spend, err := sm.ConditionalExpectedSpend(c)
	if err != nil {
		return 0, err
	}
	if !(spend >= 0) || math.IsInf(spend, 1) {
		return 0, fmt.Errorf("%w: LifetimeValue: the spend model's expected spend is %v, not a finite number of 0 or more", ErrInvalidInput, spend)
	}
	month := DaysPerMonth / unit.Days()
	var value, prev float64
	for i := 1; i <= opts.Months; i++ {
		cum, err := pm.ConditionalExpectedPurchases(float64(i)*month, c)
		if err != nil {
			return 0, err
		}
		if !(cum >= 0) || math.IsInf(cum, 1) {
			return 0, fmt.Errorf("%w: LifetimeValue: the purchase model's expected purchases by month %d are %v, not a finite number of 0 or more", ErrInvalidInput, i, cum)
		}
		// Discounted before the spend multiplies it, so that the product
		// overflows only when the term does.
		value += spend * ((cum - prev) / math.Pow(1+opts.MonthlyDiscountRate, float64(i)))
		prev = cum
	}
	if math.IsInf(value, 0) || math.IsNaN(value) {
		// Each month's term is finite, their sum not (a spend near the
		// float limit).
		return 0, fmt.Errorf("%w: LifetimeValue: the value over %d months, at an expected spend of %v, exceeds the largest float64", ErrNoConvergence, opts.Months, spend)
	}
	return value, nil
}

// AffordableAcquisitionCost returns the most one can pay per lead and still
// break even: value × margin × conversion, where value is the expected
// (discounted) revenue of an acquired customer, margin the profit margin as
// a fraction of revenue (0..1) and conversion the lead-to-customer
// conversion rate (0..1).
func AffordableAcquisitionCost(value, margin, conversion float64) (float64, error) {
	if err := checkNonNegative("value", value); err != nil {
		return 0, err
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"margin", margin}, {"conversion", conversion}} {
		if !(p.v >= 0 && p.v <= 1) {
			return 0, fmt.Errorf("%w: %s = %v, must be in [0, 1]", ErrInvalidInput, p.name, p.v)
		}
	}
	return value * margin * conversion, nil
}
