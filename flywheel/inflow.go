package flywheel

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/clmkit/clm/internal/clip"
)

// Inflow draws the number of paid prospects of one rotation in Monte Carlo
// and agent modes. r is the run's seeded random stream (draw only from it
// to keep results reproducible) and mean is [Params.PaidProspects]. A draw
// below 0 or above [MaxPopulation], or a panic, stops the simulation with
// an error wrapping [ErrInvalidParams]. (The default's, Poisson with the mean of
// valid Params, is never below 0; one above MaxPopulation, possible for a
// mean near it, is a population past it: [ErrDiverged].)
//
// [Expected] always uses mean itself, so the expected-value recurrence
// matches Monte Carlo only for distributions whose mean is mean.
type Inflow func(r *rand.Rand, mean float64) int

// PaidInflow sets the distribution of the paid prospects per rotation in
// [MonteCarlo], [Agent] and Monte Carlo [Sweep]s (default: Poisson draws,
// the same as [PoissonInflow]'s). A nil Inflow means the default.
func PaidInflow(f Inflow) Option {
	return everyOpt{"PaidInflow", func(s *settings) { s.inflow = f }}
}

// PoissonInflow returns an inflow that draws as the default does:
// Poisson(mean) paid prospects per rotation (variance mean). A mean that
// is not a finite number of 0 or more draws -1 (an error, see [Inflow]),
// and a draw too large for an int, [math.MaxInt]. Passed to [PaidInflow],
// it is checked as any Inflow is: a draw above [MaxPopulation] is an
// [ErrInvalidParams] error, where the default's is [ErrDiverged].
func PoissonInflow() Inflow {
	return func(r *rand.Rand, mean float64) int {
		if !(mean >= 0) || math.IsInf(mean, 1) {
			return -1
		}
		return saturate(poisson(r, mean))
	}
}

// saturate converts a draw to an int, the largest int for one beyond it.
func saturate(n float64) int {
	if n >= math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

// ConstantInflow returns the inflow of exactly mean paid prospects per
// rotation when mean is a whole number: it draws nothing, so the paid
// prospects add no variance and K-factor series with a fixed seed
// population map onto the simulator. For a fractional mean it gives
// ⌊mean⌋ or ⌊mean⌋+1 with the probability that keeps the mean (one
// uniform draw). A mean that is not a finite number of 0 or more gives -1
// (an error, see [Inflow]).
func ConstantInflow() Inflow {
	return func(r *rand.Rand, mean float64) int {
		if !(mean >= 0) || math.IsInf(mean, 1) {
			return -1
		}
		whole := math.Floor(mean)
		if frac := mean - whole; frac > 0 && r.Float64() < frac {
			whole++
		}
		return saturate(whole)
	}
}

// recovered runs f, a user's function, and returns its panic as an error
// wrapping ErrInvalidParams that names what f is: Monte Carlo runs call
// such functions (PaidInflow, Progress) on worker goroutines, where a
// panic would end the process, past any recover of the caller's.
func recovered(what string, f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the %s function panicked: %s", ErrInvalidParams, what, clip.Value(p))
		}
	}()
	f()
	return nil
}

// drawPaid draws one rotation's paid prospects with f, nil meaning the
// Poisson default (the same draws as PoissonInflow), and checks the draw.
func drawPaid(f Inflow, r *rand.Rand, mean float64) (float64, error) {
	if f == nil {
		n := poisson(r, mean)
		if n > MaxPopulation {
			return 0, fmt.Errorf("%w: the paid inflow drew %g prospects, past 2^50", ErrDiverged, n)
		}
		return n, nil
	}
	var n int
	if err := recovered("PaidInflow", func() { n = f(r, mean) }); err != nil {
		return 0, err
	}
	if n < 0 || n > MaxPopulation {
		return 0, fmt.Errorf("%w: the paid inflow drew %d prospects, want 0 to 2^50", ErrInvalidParams, n)
	}
	return float64(n), nil
}
