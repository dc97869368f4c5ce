package clv

import (
	"errors"
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// FitOptions tune the maximum-likelihood fits. A nil *FitOptions or the zero
// value selects the defaults.
type FitOptions struct {
	// MaxIterations bounds the optimiser iterations per starting point.
	// Default 200 (BFGS).
	MaxIterations int
	// Tolerance is the convergence threshold on the largest absolute
	// gradient component of the mean log-likelihood per customer with
	// respect to the log-parameters. Default 1e-7.
	Tolerance float64
}

// FitInfo describes a completed fit.
type FitInfo struct {
	// LogLikelihood is the maximised total log-likelihood.
	LogLikelihood float64
	// Customers is the number of customers used by the fit.
	Customers int
	// DistinctRows is the number of distinct data rows after collapsing
	// identical customers into weighted rows.
	DistinctRows int
	// Iterations and Evaluations count optimiser iterations and objective
	// evaluations over all starting points tried (a numerical gradient,
	// as used by FitParetoNBD, counts as one evaluation).
	Iterations, Evaluations int
	// Starts is the number of starting points tried.
	Starts int
}

func (o *FitOptions) settings() *numeric.Settings {
	s := &numeric.Settings{GradTol: 1e-7}
	if o != nil {
		s.MaxIterations = o.MaxIterations
		if o.Tolerance > 0 {
			s.GradTol = o.Tolerance
		}
	}
	return s
}

func checkFitOptions(o *FitOptions) error {
	if o == nil {
		return nil
	}
	if o.MaxIterations < 0 {
		return invalidf("FitOptions.MaxIterations = %d, must be ≥ 0", o.MaxIterations)
	}
	if !(o.Tolerance >= 0) || math.IsInf(o.Tolerance, 0) {
		return invalidf("FitOptions.Tolerance = %v, must be finite and ≥ 0", o.Tolerance)
	}
	return nil
}

// fitLogParams minimises f (a mean negative log-likelihood in log-parameter
// space) with BFGS from each start in turn, stopping at the first start that
// converges to a point with a positive-definite Hessian; it returns that
// result, or an error wrapping ErrNoConvergence (with the first start's
// reason) if none did.
func fitLogParams(what string, f numeric.Objective, starts [][]float64, opts *FitOptions, info *FitInfo) (numeric.Result, error) {
	s := opts.settings()
	var firstErr error
	for _, x0 := range starts {
		info.Starts++
		res, err := numeric.BFGS(f, x0, s)
		info.Iterations += res.Iterations
		info.Evaluations += res.Evaluations
		if err == nil {
			// A gradient near zero is not enough: the maximum must be a
			// proper interior one (positive-definite Hessian of the
			// objective), otherwise the parameters are not identified or
			// the supremum lies at the boundary of the parameter space.
			var h []float64
			h, err = numeric.Hessian(f, res.X, 0)
			info.Evaluations += 2 * len(res.X)
			if err == nil {
				_, err = numeric.Cholesky(h, len(res.X), 1e-9)
			}
			if err == nil {
				return res, nil
			}
			err = fmt.Errorf("stationary point at log-parameters %.4g is not a proper maximum: %w", res.X, err)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no starting point")
	}
	return numeric.Result{}, wrapNoConvergence(what, firstErr)
}

// indexer assigns dense indices to distinct float64 values.
type indexer struct {
	idx  map[float64]int32
	vals []float64
}

func newIndexer() *indexer { return &indexer{idx: make(map[float64]int32)} }

func (ix *indexer) of(v float64) int32 {
	if i, ok := ix.idx[v]; ok {
		return i
	}
	i := int32(len(ix.vals))
	ix.idx[v] = i
	ix.vals = append(ix.vals, v)
	return i
}
