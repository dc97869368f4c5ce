package clv

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidInput is wrapped by every error caused by invalid input data or
// parameters: NaN or infinite numbers, negative amounts or times, empty data,
// inconsistent RFM rows, model parameters out of range, or a nil io.Writer
// given to a Write function or method.
var ErrInvalidInput = errors.New("clv: invalid input")

// ErrNoConvergence is wrapped by errors from fits whose optimiser did not
// converge (for example when the likelihood has its maximum at the boundary
// of the parameter space), and by predictions and likelihoods whose series
// did not converge or whose arithmetic lost its precision (a NaN, an
// infinity or a value out of the quantity's range, at parameters near the
// float limits).
var ErrNoConvergence = errors.New("clv: no convergence")

// checked, deferred on a prediction's or likelihood's named results,
// turns a result that is not a number from lo to hi into an error
// wrapping ErrNoConvergence: at extreme parameters (1e300, subnormal
// numbers) the arithmetic loses its precision, and what it gives (NaN,
// an infinity, a negative expectation) must not come back as an answer.
func checked(what string, lo, hi float64, v *float64, err *error) {
	if *err != nil || *v >= lo && *v <= hi {
		return
	}
	*err = fmt.Errorf("%w: %s: got %v, outside [%v, %v]: the arithmetic lost its precision at these parameters", ErrNoConvergence, what, *v, lo, hi)
	*v = 0
}

// invalidf returns an error wrapping ErrInvalidInput.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// checkPositive reports an error unless v is finite and > 0.
func checkPositive(field string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return invalidf("%s = %v, must be finite and > 0", field, v)
	}
	return nil
}

// checkNonNegative reports an error unless v is finite and ≥ 0.
func checkNonNegative(field string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return invalidf("%s = %v, must be finite and ≥ 0", field, v)
	}
	return nil
}

// checkHorizon validates a prediction horizon t (≥ 0, finite).
func checkHorizon(t float64) error {
	return checkNonNegative("t", t)
}

// checkCustomer validates the calibration RFM fields of c.
func checkCustomer(c Customer) error {
	who := func() string {
		if c.ID != "" {
			return fmt.Sprintf("customer %q", c.ID)
		}
		return "customer"
	}
	if c.Frequency < 0 {
		return invalidf("%s: Frequency = %d, must be ≥ 0", who(), c.Frequency)
	}
	if !(c.Recency >= 0) || math.IsInf(c.Recency, 0) {
		return invalidf("%s: Recency = %v, must be finite and ≥ 0", who(), c.Recency)
	}
	if !(c.T >= 0) || math.IsInf(c.T, 0) {
		return invalidf("%s: T = %v, must be finite and ≥ 0", who(), c.T)
	}
	if c.Recency > c.T {
		return invalidf("%s: Recency = %v exceeds T = %v", who(), c.Recency, c.T)
	}
	if c.Frequency == 0 && c.Recency != 0 {
		return invalidf("%s: Recency = %v with Frequency = 0, must be 0", who(), c.Recency)
	}
	return nil
}

// wrapNoConvergence wraps an optimiser error with ErrNoConvergence.
func wrapNoConvergence(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrNoConvergence, what, err)
}
