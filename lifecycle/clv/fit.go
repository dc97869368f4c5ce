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
	// as used by FitBGBB and FitSBG, counts as one evaluation; for
	// FitGammaGamma, whose Newton iterations may begin on a subsample,
	// one evaluation is one pass over the rows used).
	Iterations, Evaluations int
	// Starts is the number of starting points tried.
	Starts int
	// Model names the fitted model ("BG/NBD", "MBG/NBD", "Pareto/NBD",
	// "Gamma-Gamma", "BG/BB", "sBG").
	Model string
	// Estimates holds one entry per parameter, in the order of the model
	// struct's fields, with its standard error and 95 % interval (see
	// [Estimate]).
	Estimates []Estimate
	// Covariance is the estimated covariance matrix of the parameters
	// (row-major, len(Estimates)² entries, same order as Estimates): the
	// inverse of the Hessian of the negative log-likelihood at the
	// optimum, obtained on the log scale the fit works in and carried to
	// the natural scale by the delta method (see [Estimate]).
	Covariance []float64
}

// Estimate is one fitted parameter with its asymptotic standard error and
// 95 % Wald interval.
//
// Every model is fitted on the logarithms of its (positive) parameters. The
// Hessian H of the total negative log-likelihood with respect to θ = ln(x)
// is taken at the optimum by central differences of the analytic gradient
// (BG/NBD, MBG/NBD, Pareto/NBD), by second differences of the
// log-likelihood with step 1e-3 (BG/BB and sBG, whose gradients are
// themselves numerical), or analytically (Gamma-Gamma), and inverted
// through its Cholesky factor: Var(θ) = H⁻¹. The delta method gives the natural-scale
// standard error SE(x) = x·SE(θ) (exact to first order; at a stationary
// point it equals the square root of the diagonal of the inverse Hessian
// taken in x directly). Low and High are the natural-scale interval
// x ± 1.96·SE(x), the convention of lifetimes' summary, which can reach
// below zero for poorly identified parameters; LogLow and LogHigh are the
// interval formed on the log scale, x·exp(∓1.96·SE(θ)), which is
// positive where a float64 holds it (past a log standard error of about
// 360 it underflows to 0 and overflows to +Inf: the data say nothing of
// the parameter) and is usually the better one for small samples. [FitSBG] and
// [FitGammaGamma] return an error wrapping [ErrNoConvergence] instead of
// estimates whose log-parameter standard error exceeds 50 (an interval of
// e^±98: the likelihood is flat there, on the boundary or with data that
// do not identify the parameter); the other fits report such estimates,
// whose predictions may still serve.
type Estimate struct {
	Name            string  // parameter name as in the papers ("r", "alpha", …; Gamma-Gamma's "v" is the paper's γ)
	Value           float64 // maximum-likelihood estimate
	StdErr          float64 // standard error on the natural scale (delta method)
	LogStdErr       float64 // standard error of ln(Value)
	Low, High       float64 // Value ∓ 1.96·StdErr
	LogLow, LogHigh float64 // Value·exp(∓1.96·LogStdErr)
}

// z975 is the 97.5 % quantile of the standard normal distribution as
// lifetimes' summary and the docs write it: 1.96 (not 1.959964…), so that
// the intervals are those lifetimes prints.
const z975 = 1.96

// maxLogStdErr is the largest standard error of a log-parameter the sBG
// and Gamma-Gamma fits report (see [FitInfo.identified]).
const maxLogStdErr = 50

// identified returns an error wrapping [ErrNoConvergence] when a
// log-parameter's standard error exceeds maxLogStdErr (an interval of more
// than e^±98 around the value: the likelihood is flat along it, on a ridge
// to the boundary or with too little data to identify it), else nil.
func (info *FitInfo) identified() error {
	for _, e := range info.Estimates {
		if !(e.LogStdErr <= maxLogStdErr) {
			return wrapNoConvergence(info.Model+" fit", fmt.Errorf("the standard error of ln(%s) is %.4g (more than %v): the maximum lies on the boundary, or the data do not identify the parameter", e.Name, e.LogStdErr, maxLogStdErr))
		}
	}
	return nil
}

// setEstimates fills Model, Estimates and Covariance from the optimum th
// (log-parameters) and the Hessian h of the mean negative log-likelihood
// per unit of weight n, so that the total's Hessian is n·h.
func (info *FitInfo) setEstimates(model string, names []string, th, h []float64, n float64) error {
	k := len(th)
	l, err := numeric.Cholesky(h, k, 1e-12)
	if err != nil {
		return err
	}
	inv := choleskyInverse(l, k)
	info.Model = model
	info.Estimates = make([]Estimate, k)
	info.Covariance = make([]float64, k*k)
	for i := range k {
		xi := math.Exp(th[i])
		for j := range k {
			info.Covariance[i*k+j] = inv[i*k+j] / n * xi * math.Exp(th[j])
		}
		lse := math.Sqrt(inv[i*k+i] / n)
		se := xi * lse
		info.Estimates[i] = Estimate{
			Name: names[i], Value: xi, StdErr: se, LogStdErr: lse,
			Low: xi - z975*se, High: xi + z975*se,
			LogLow: xi * math.Exp(-z975*lse), LogHigh: xi * math.Exp(z975*lse),
		}
	}
	return nil
}

// rescale multiplies the estimates at the indices idx (and their errors,
// intervals and covariances) by c: a fit made in other units (see
// FitParetoNBD) reports them in the data's. The errors of the logarithms
// do not change.
func (info *FitInfo) rescale(idx []int, c float64) {
	k := len(info.Estimates)
	for _, i := range idx {
		e := &info.Estimates[i]
		e.Value, e.StdErr, e.Low, e.High, e.LogLow, e.LogHigh = e.Value*c, e.StdErr*c, e.Low*c, e.High*c, e.LogLow*c, e.LogHigh*c
		for j := range k {
			info.Covariance[i*k+j] *= c
			info.Covariance[j*k+i] *= c
		}
	}
}

// choleskyInverse returns A⁻¹ (row-major) from the lower-triangular
// Cholesky factor L of A = L Lᵀ.
func choleskyInverse(l []float64, n int) []float64 {
	// Solve L Y = I column by column, then Lᵀ X = Y.
	inv := make([]float64, n*n)
	col := make([]float64, n)
	for c := range n {
		for i := range n {
			s := 0.0
			if i == c {
				s = 1
			}
			for k := 0; k < i; k++ {
				s -= l[i*n+k] * col[k]
			}
			col[i] = s / l[i*n+i]
		}
		for i := n - 1; i >= 0; i-- {
			s := col[i]
			for k := i + 1; k < n; k++ {
				s -= l[k*n+i] * inv[k*n+c]
			}
			inv[i*n+c] = s / l[i*n+i]
		}
	}
	return inv
}

// AIC returns Akaike's information criterion −2·LL + 2k, k the number of
// parameters (0 parameters if the fit carries no estimates).
func (info FitInfo) AIC() float64 {
	return -2*info.LogLikelihood + 2*float64(len(info.Estimates))
}

// BIC returns the Bayesian information criterion −2·LL + k·ln(n), with n
// the number of customers used by the fit, or NaN when n is 0 (for
// example an sBG cohort given as fractions under one half: n is its size
// rounded), where ln n has no value to give.
func (info FitInfo) BIC() float64 {
	if info.Customers < 1 {
		return math.NaN()
	}
	return -2*info.LogLikelihood + float64(len(info.Estimates))*math.Log(float64(info.Customers))
}

// Summary returns the fit's parameter table with its log-likelihood,
// AIC, BIC and n.
func (info FitInfo) Summary() Summary {
	return Summary{
		Model:         info.Model,
		Estimates:     append([]Estimate(nil), info.Estimates...),
		LogLikelihood: info.LogLikelihood,
		AIC:           info.AIC(),
		BIC:           info.BIC(),
		N:             info.Customers,
	}
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
//
// The Hessian of f at the returned point (row-major) is returned too; the
// fits pass it to [FitInfo.setEstimates] for the standard errors. It is
// taken from f's gradient, or, when values is not nil (the fits whose
// gradient is itself numerical), from second differences of values (see
// valueHessian).
func fitLogParams(what string, f numeric.Objective, values func([]float64) float64, starts [][]float64, opts *FitOptions, info *FitInfo) (numeric.Result, []float64, error) {
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
			if k := len(res.X); values != nil {
				h = valueHessian(values, res.X, 1e-3)
				info.Evaluations += 1 + 2*k + 2*k*(k-1)
			} else {
				h, err = numeric.Hessian(f, res.X, 0)
				info.Evaluations += 2 * k
			}
			if err == nil {
				_, err = numeric.Cholesky(h, len(res.X), 1e-9)
			}
			if err == nil {
				return res, h, nil
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
	return numeric.Result{}, nil, wrapNoConvergence(what, firstErr)
}

// fitLog is every BFGS fit on log-parameters (FitGammaGamma, which uses
// Newton's method, only as its fallback): it minimises f, the mean negative
// log-likelihood per unit of weight n (see fitLogParams), and fills info's
// LogLikelihood, Model and estimates (see [FitInfo.setEstimates]) under
// the parameters' names. When values is not nil (the fits whose gradient
// f is itself numerical), the Hessian for the standard errors is taken
// from second differences of values instead. It returns the parameters.
func fitLog(model string, names []string, f numeric.Objective, values func([]float64) float64, starts [][]float64, n float64, opts *FitOptions, info *FitInfo) ([]float64, error) {
	res, h, err := fitLogParams(model+" fit", f, values, starts, opts, info)
	if err != nil {
		return nil, err
	}
	info.LogLikelihood = -res.F * n
	if err := info.setEstimates(model, names, res.X, h, n); err != nil {
		return nil, wrapNoConvergence(model+" standard errors", err)
	}
	p := make([]float64, len(res.X))
	for i, x := range res.X {
		p[i] = math.Exp(x)
	}
	return p, nil
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

// valueHessian returns the Hessian (row-major) of f at x by second central
// differences of function values with step h in every coordinate. The
// fits whose gradient is itself a central difference use it for the
// standard errors: differencing a differenced gradient loses about half
// of the remaining digits, second differences of values with a larger
// step lose far fewer (truncation O(h²), rounding O(ε|f|/h²)).
func valueHessian(f func([]float64) float64, x []float64, h float64) []float64 {
	k := len(x)
	y := append([]float64(nil), x...)
	at := func(i, j int, si, sj float64) float64 {
		copy(y, x)
		y[i] += si
		y[j] += sj
		return f(y)
	}
	f0 := f(x)
	hess := make([]float64, k*k)
	for i := range k {
		hess[i*k+i] = (at(i, i, h, 0) - 2*f0 + at(i, i, -h, 0)) / (h * h)
		for j := 0; j < i; j++ {
			v := (at(i, j, h, h) - at(i, j, h, -h) - at(i, j, -h, h) + at(i, j, -h, -h)) / (4 * h * h)
			hess[i*k+j], hess[j*k+i] = v, v
		}
	}
	return hess
}
