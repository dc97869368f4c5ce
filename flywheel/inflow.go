package flywheel

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Inflow draws the number of paid prospects of one rotation in Monte Carlo
// and agent modes. r is the run's seeded random stream (draw only from it
// to keep results reproducible) and mean is [Params.PaidProspects]. A draw
// below 0 or above [MaxPopulation] stops the simulation with an error
// wrapping [ErrInvalidParams].
//
// [Expected] always uses mean itself, so the expected-value recurrence
// matches Monte Carlo only for distributions whose mean is mean.
type Inflow func(r *rand.Rand, mean float64) int

// PaidInflow sets the distribution of the paid prospects per rotation in
// [MonteCarlo], [Agent] and Monte Carlo [Sweep]s (default
// [PoissonInflow]). A nil Inflow means the default.
func PaidInflow(f Inflow) Option {
	return everyOpt{"PaidInflow", func(s *settings) { s.inflow = f }}
}

// PoissonInflow returns the default inflow: Poisson(mean) paid prospects
// per rotation (variance mean).
func PoissonInflow() Inflow {
	return func(r *rand.Rand, mean float64) int { return int(poisson(r, mean)) }
}

// ConstantInflow returns the inflow of exactly mean paid prospects per
// rotation when mean is a whole number: it draws nothing, so the paid
// prospects add no variance and K-factor series with a fixed seed
// population map onto the simulator. For a fractional mean it gives
// ⌊mean⌋ or ⌊mean⌋+1 with the probability that keeps the mean (one
// uniform draw).
func ConstantInflow() Inflow {
	return func(r *rand.Rand, mean float64) int {
		whole := math.Floor(mean)
		if frac := mean - whole; frac > 0 && r.Float64() < frac {
			whole++
		}
		return int(whole)
	}
}

// drawPaid draws one rotation's paid prospects with f, nil meaning the
// Poisson default (the same draws as PoissonInflow), and checks the draw.
func drawPaid(f Inflow, r *rand.Rand, mean float64) (float64, error) {
	if f == nil {
		n := poisson(r, mean)
		if n > MaxPopulation {
			return 0, fmt.Errorf("%w: the paid inflow drew %g prospects, want 0 to 2^50", ErrInvalidParams, n)
		}
		return n, nil
	}
	n := f(r, mean)
	if n < 0 || n > MaxPopulation {
		return 0, fmt.Errorf("%w: the paid inflow drew %d prospects, want 0 to 2^50", ErrInvalidParams, n)
	}
	return float64(n), nil
}
