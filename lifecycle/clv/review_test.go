package clv

import (
	"errors"
	"math"
	"testing"
)

// TestBGNBDLostPrecisionIsAnError: where the hypergeometric function loses
// its precision (b in the hundreds, horizons many times α+T), BG/NBD and
// MBG/NBD expected purchases are ErrNoConvergence, not a wrong number (they
// were 72 or −4.8e27 where the answer is 17.7 or 26.5); nearby horizons
// still answer, within the bound an active customer's rate sets.
func TestBGNBDLostPrecisionIsAnError(t *testing.T) {
	c := Customer{Frequency: 2, Recency: 30.43, T: 38.86}
	for _, m := range []BGNBD{{0.2426, 4.4135, 5, 200}, {0.2426, 4.4135, 20, 200}, {0.2426, 4.4135, 0.7929, 1000}} {
		v, err := m.ConditionalExpectedPurchases(520, c)
		bound := 520 * (m.R + 2) / (m.Alpha + c.T)
		if err == nil && !(v >= 0 && v <= bound) {
			t.Errorf("%v: ConditionalExpectedPurchases(520) = %v, outside [0, %v], without an error", m, v, bound)
		}
		if err != nil && !errors.Is(err, ErrNoConvergence) {
			t.Errorf("%v: error %v does not wrap ErrNoConvergence", m, err)
		}
		mb := MBGNBD{m.R, m.Alpha, m.A, m.B - 1}
		if v, err := mb.ConditionalExpectedPurchases(520, c); err == nil && !(v >= 0 && v <= bound) {
			t.Errorf("%v: ConditionalExpectedPurchases(520) = %v, outside [0, %v], without an error", mb, v, bound)
		}
		if v, err := m.ConditionalExpectedPurchases(52, c); err != nil || !(v >= 0 && v <= 52*(m.R+2)/(m.Alpha+c.T)) {
			t.Errorf("%v: ConditionalExpectedPurchases(52) = %v, %v; want a value in bounds", m, v, err)
		}
	}
}

// TestSBGDERLLostPrecisionIsAnError: DERL is at most (1+d)/d; where the
// 2F1 lost its precision it is ErrNoConvergence (it was −75 or 2.6e32),
// and renewals = MaxInt does not overflow.
func TestSBGDERLLostPrecisionIsAnError(t *testing.T) {
	for _, tc := range []struct {
		m        SBG
		d        float64
		renewals int
	}{{SBG{0.7, 300}, 0.1, 0}, {SBG{0.704, 1.182}, 0.1, 1000}, {SBG{0.668, 3.806}, 0.05, 1000}, {SBG{0.704, 1.182}, 0.1, math.MaxInt}} {
		v, err := tc.m.DERL(tc.d, tc.renewals)
		if err == nil && !(v >= 0 && v <= (1+tc.d)/tc.d*(1+1e-9)) {
			t.Errorf("%v.DERL(%v, %d) = %v, outside [0, (1+d)/d], without an error", tc.m, tc.d, tc.renewals, v)
		}
		if err != nil && !errors.Is(err, ErrNoConvergence) {
			t.Errorf("%v.DERL(%v, %d): %v does not wrap ErrNoConvergence", tc.m, tc.d, tc.renewals, err)
		}
	}
	// The paper's regular cohort, a few renewals: a value.
	if v, err := (SBG{0.704, 1.182}).DERL(0.1, 2); err != nil || v <= 0 || v > 11 {
		t.Errorf("DERL(0.1, 2) = %v, %v", v, err)
	}
}

// TestTypedNilModelIsInvalid: a nil *BGNBD passed as a model is invalid
// input, as a nil interface is (it panicked).
func TestTypedNilModelIsInvalid(t *testing.T) {
	var m *BGNBD
	c := Customer{Frequency: 2, Recency: 30, T: 38}
	if _, err := LifetimeValue(m, GammaGamma{6.25, 3.74, 15.44}, c, ValueOptions{Months: 12, MonthlyDiscountRate: 0.01, Unit: Week}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("LifetimeValue(nil *BGNBD) = %v; want ErrInvalidInput", err)
	}
	if _, err := CalibrationHoldout(m, []Customer{c}, 3); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("CalibrationHoldout(nil *BGNBD) = %v; want ErrInvalidInput", err)
	}
}

// TestMatrixHugeT: a matrix over a T near the largest float has finite
// recencies (T·j overflowed to +Inf, refused as a recency never given).
func TestMatrixHugeT(t *testing.T) {
	m, err := ProbabilityAliveMatrix(BGNBD{0.2426, 4.4135, 0.7929, 2.4259}, 1e308, 1, 4)
	if err != nil {
		t.Fatalf("ProbabilityAliveMatrix(T = 1e308) = %v", err)
	}
	for _, r := range m.Recencies {
		if math.IsInf(r, 0) || math.IsNaN(r) || r > 1e308 {
			t.Fatalf("recencies %v", m.Recencies)
		}
	}
}
