package flywheel

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// Density returns f(t) = dF/dt, the adoption density at time t ≥ 0 (0 for
// t < 0):
//
//	f(t) = ((P+Q)²/P) · e^{−(P+Q)t} / (1 + (Q/P)·e^{−(P+Q)t})².
//
// M·f(t) is the adoption rate (adopters per rotation) at t.
func (b Bass) Density(t float64) float64 {
	if t < 0 {
		return 0
	}
	// f = (P + Q·F)(1 − F), which avoids the overflow of Q/P for tiny P,
	// with 1 − F from split (a difference would be 0 in the tail).
	f, rest := b.split(t)
	return (b.P + b.Q*f) * rest
}

// PeakTime returns t* = ln(Q/P)/(P+Q), the time at which the adoption
// density peaks (the inflection point of F), or 0 when Q ≤ P (adoption is
// highest at launch and declines).
func (b Bass) PeakTime() float64 {
	if b.Q <= b.P {
		return 0
	}
	return (math.Log(b.Q) - math.Log(b.P)) / (b.P + b.Q) // Q/P may overflow
}

// PeakDensity returns f(t*), the largest adoption density: (P+Q)²/(4Q)
// when Q > P (there F(t*) = (Q−P)/(2Q)), P otherwise. M·f(t*) is the
// peak adoption rate.
func (b Bass) PeakDensity() float64 {
	if b.Q <= b.P {
		return b.P
	}
	return (b.P + b.Q) / 4 * ((b.P + b.Q) / b.Q) // (P+Q)² may overflow
}

// PeriodSales returns the adopters in each of rotations 1..n under the
// continuous model, M·(F(t) − F(t−1)): the quantity fitted by
// [FitBassSales] (n is bounded as in [Bass.Series]).
func (b Bass) PeriodSales(n int) []float64 {
	out := make([]float64, min(max(n, 0), MaxRotations))
	prev := 0.0
	for i := range out {
		c := b.Cumulative(float64(i + 1))
		out[i] = c - prev
		prev = c
	}
	return out
}

// DiscreteSales returns the adopters in rotations 1..n under the
// discrete-time Bass model (Bass 1969, eq. 4; the form estimated by
// [FitBassOLS]):
//
//	S_t = (P + Q·N_{t−1}/M)·(M − N_{t−1}),  N_t = N_{t−1} + S_t,  N_0 = 0.
//
// For small P+Q it approaches [Bass.PeriodSales]; with P+Q > 1 the
// recurrence can overshoot M, which the continuous model cannot, and
// then its sales turn negative and may run off to −Inf (P = 0.5, Q = 3:
// 500, 1000, −2500, … −Inf by the twelfth rotation). n is bounded as in
// [Bass.Series].
func (b Bass) DiscreteSales(n int) []float64 {
	out := make([]float64, min(max(n, 0), MaxRotations))
	var cum float64
	for i := range out {
		s := (b.P + b.Q*cum/b.M) * (b.M - cum)
		out[i] = s
		cum += s
	}
	return out
}

// BassFit is a fitted Bass model with its least-squares diagnostics.
type BassFit struct {
	Bass
	// N is the number of observations fitted.
	N int
	// SSE is the residual sum of squares Σ (y − ŷ)².
	SSE float64
	// RSE is the residual standard error √(SSE/(N−3)) (3 parameters), in
	// the units of the series.
	RSE float64
	// R2 is the coefficient of determination 1 − SSE/Σ(y − ȳ)²; NaN for
	// a constant series (Σ(y − ȳ)² = 0).
	R2 float64
	// StdErrP, StdErrQ and StdErrM are the asymptotic standard errors of
	// the non-linear least-squares estimates, RSE·√diag((JᵀJ)⁻¹) with J
	// the Jacobian of the fitted values in (P, Q, M) at the optimum
	// (central differences); NaN if JᵀJ is singular or N ≤ 3. The OLS fit
	// reports NaN (its standard errors are those of a, b, c, not of P, Q, M).
	StdErrP, StdErrQ, StdErrM float64
}

// String formats the fit with its diagnostics.
func (f BassFit) String() string {
	return fmt.Sprintf("bass p=%.5g (se %.3g) q=%.5g (se %.3g) m=%.6g (se %.3g) n=%d rse=%.5g r2=%.4f",
		f.P, f.StdErrP, f.Q, f.StdErrQ, f.M, f.StdErrM, f.N, f.RSE, f.R2)
}

// checkSeries validates a non-negative series of at least 4 values (3
// parameters and one residual degree of freedom), not all zero.
func checkSeries(name string, ys []float64) (scale float64, err error) {
	if len(ys) < 4 {
		return 0, fmt.Errorf("%w: a Bass fit of %s needs at least 4 values, got %d", ErrInvalidParams, name, len(ys))
	}
	for i, y := range ys {
		if !(y >= 0 && y <= math.MaxFloat64) {
			return 0, invalidf(fmt.Sprintf("%s[%d]", name, i), y, "must be finite and not negative")
		}
		scale = math.Max(scale, y)
	}
	if scale == 0 {
		return 0, fmt.Errorf("%w: the %s series is all zero", ErrInvalidParams, name)
	}
	return scale, nil
}

// FitBassSales fits P, Q and M to per-period (non-cumulative) adopters
// s_1, s_2, … observed in rotations 1, 2, … by the non-linear least
// squares of Srinivasan & Mason (1986), "Nonlinear Least Squares
// Estimation of New Product Diffusion Models", Marketing Science 5(2):
// it minimises Σ (s_t − M·(F(t) − F(t−1)))². As in [FitBass], M is
// profiled out in closed form and the search runs over log P and log Q
// with Nelder–Mead from a grid of starts, keeping the best.
//
// The series must have at least 4 values, all finite and not negative,
// and not all zero (errors wrap [ErrInvalidParams]); [ErrNoFit] is
// returned when no start reaches a positive market.
func FitBassSales(sales []float64) (BassFit, error) {
	scale, err := checkSeries("sales", sales)
	if err != nil {
		return BassFit{}, err
	}
	pred := func(b Bass) []float64 { return b.PeriodSales(len(sales)) }
	return fitBassLS(sales, scale, pred)
}

// FitBassCumulative is [FitBass] with the diagnostics of [BassFit]: it
// fits the cumulative series and reports SSE, RSE, R² and standard errors
// of the cumulative fit. It needs at least 4 values.
func FitBassCumulative(cumulative []float64) (BassFit, error) {
	if _, err := checkSeries("cumulative", cumulative); err != nil {
		return BassFit{}, err
	}
	b, err := FitBass(cumulative)
	if err != nil {
		return BassFit{}, err
	}
	return bassDiagnostics(b, cumulative, func(b Bass) []float64 { return b.Series(len(cumulative)) }), nil
}

// fitBassLS fits P, Q and M to ys by least squares (see fitProfiled),
// with the diagnostics of [BassFit].
func fitBassLS(ys []float64, scale float64, pred func(Bass) []float64) (BassFit, error) {
	best, err := fitProfiled(ys, scale, pred)
	if err != nil {
		return BassFit{}, err
	}
	return bassDiagnostics(best, ys, pred), nil
}

// bassDiagnostics computes SSE, RSE, R² and the asymptotic standard errors
// of b fitted to ys with fitted values pred(b).
func bassDiagnostics(b Bass, ys []float64, pred func(Bass) []float64) BassFit {
	fit := BassFit{Bass: b, N: len(ys), StdErrP: math.NaN(), StdErrQ: math.NaN(), StdErrM: math.NaN()}
	fit.SSE, fit.RSE, fit.R2 = fitQuality(ys, pred(b))
	if len(ys) <= 3 {
		return fit
	}
	// Jacobian by central differences with relative steps.
	theta := []float64{b.P, b.Q, b.M}
	jac := make([][]float64, 3)
	for k := range 3 {
		h := 1e-6 * theta[k]
		if h == 0 {
			h = 1e-9
		}
		up, dn := theta, theta
		up = []float64{theta[0], theta[1], theta[2]}
		dn = []float64{theta[0], theta[1], theta[2]}
		up[k] += h
		dn[k] -= h
		if dn[k] <= 0 && k != 1 {
			return fit
		}
		if dn[k] < 0 {
			dn[k] = 0
		}
		yu := pred(Bass{P: up[0], Q: up[1], M: up[2]})
		yd := pred(Bass{P: dn[0], Q: dn[1], M: dn[2]})
		jac[k] = make([]float64, len(ys))
		for i := range ys {
			jac[k][i] = (yu[i] - yd[i]) / (up[k] - dn[k])
		}
	}
	jtj := make([]float64, 9)
	for r := range 3 {
		for c := range 3 {
			var s float64
			for i := range ys {
				s += jac[r][i] * jac[c][i]
			}
			jtj[r*3+c] = s
		}
	}
	inv, ok := invert3(jtj)
	if !ok {
		return fit
	}
	s2 := fit.RSE * fit.RSE
	fit.StdErrP = math.Sqrt(s2 * inv[0])
	fit.StdErrQ = math.Sqrt(s2 * inv[4])
	fit.StdErrM = math.Sqrt(s2 * inv[8])
	return fit
}

// fitQuality returns the SSE of the fitted values yhat of ys, the RSE
// with 3 parameters (NaN for 3 observations or fewer) and R² (NaN when ys
// is constant). The sums are taken on ys divided by its largest size, so
// that they overflow only where the result does.
func fitQuality(ys, yhat []float64) (sse, rse, r2 float64) {
	var scale float64
	for _, y := range ys {
		scale = max(scale, math.Abs(y))
	}
	if scale == 0 || math.IsInf(scale, 0) {
		scale = 1
	}
	var mean float64
	for _, y := range ys {
		mean += y / scale
	}
	mean /= float64(len(ys))
	var e2, t2 float64
	for i, y := range ys {
		e, d := y/scale-yhat[i]/scale, y/scale-mean
		e2 += e * e
		t2 += d * d
	}
	sse, rse, r2 = e2*scale*scale, math.NaN(), math.NaN()
	if t2 > 0 {
		r2 = 1 - e2/t2
	}
	if dof := len(ys) - 3; dof > 0 {
		rse = math.Sqrt(e2/float64(dof)) * scale
	}
	return sse, rse, r2
}

// invert3 inverts a symmetric positive-definite 3×3 matrix (row-major) by
// its Cholesky factor, scaled to unit diagonal first for conditioning.
func invert3(a []float64) ([]float64, bool) {
	var d [3]float64
	for i := range 3 {
		if !(a[i*4] > 0) {
			return nil, false
		}
		d[i] = 1 / math.Sqrt(a[i*4])
	}
	s := make([]float64, 9)
	for r := range 3 {
		for c := range 3 {
			s[r*3+c] = a[r*3+c] * d[r] * d[c]
		}
	}
	l, err := numeric.Cholesky(s, 3, 1e-14)
	if err != nil {
		return nil, false
	}
	inv := make([]float64, 9)
	for c := range 3 {
		var col [3]float64
		for i := range 3 {
			v := 0.0
			if i == c {
				v = 1
			}
			for k := 0; k < i; k++ {
				v -= l[i*3+k] * col[k]
			}
			col[i] = v / l[i*3+i]
		}
		for i := 2; i >= 0; i-- {
			v := col[i]
			for k := i + 1; k < 3; k++ {
				v -= l[k*3+i] * inv[k*3+c]
			}
			inv[i*3+c] = v / l[i*3+i]
		}
	}
	for r := range 3 {
		for c := range 3 {
			inv[r*3+c] *= d[r] * d[c]
		}
	}
	return inv, true
}

// FitBassOLS estimates the discrete-time Bass model from per-period
// adopters by the ordinary least squares of Bass (1969): the regression
// S_t = a + b·N_{t−1} + c·N_{t−1}², N_{t−1} the adopters before period t,
// gives M = (−b − √(b² − 4ac))/(2c), P = a/M and Q = −c·M. The diagnostics
// (SSE, RSE, R²) are those of the discrete model's one-step fitted values
// a + b·N_{t−1} + c·N²_{t−1}; the standard errors are NaN.
//
// It needs at least 4 values, all finite and not negative and not all
// zero (errors wrap [ErrInvalidParams]); [ErrNoFit] is returned when the
// regression does not give c < 0, a > 0 and a real M > 0.
func FitBassOLS(sales []float64) (BassFit, error) {
	scale, err := checkSeries("sales", sales)
	if err != nil {
		return BassFit{}, err
	}
	// Normal equations on the series scaled by its largest value.
	var xtx [9]float64
	var xty [3]float64
	var cum float64
	for _, y := range sales {
		n := cum / scale
		row := [3]float64{1, n, n * n}
		for r := range 3 {
			for c := range 3 {
				xtx[r*3+c] += row[r] * row[c]
			}
			xty[r] += row[r] * y / scale
		}
		cum += y
	}
	inv, ok := invert3(xtx[:])
	if !ok {
		return BassFit{}, fmt.Errorf("%w: the Bass regression is singular", ErrNoFit)
	}
	var coef [3]float64
	for r := range 3 {
		for c := range 3 {
			coef[r] += inv[r*3+c] * xty[c]
		}
	}
	a, b, c := coef[0], coef[1], coef[2]
	disc := b*b - 4*a*c
	if !(c < 0 && a > 0 && disc >= 0) {
		return BassFit{}, fmt.Errorf("%w: the Bass regression gives a = %.4g, b = %.4g, c = %.4g (need a > 0, c < 0)", ErrNoFit, a*scale, b, c/scale)
	}
	m := (-b - math.Sqrt(disc)) / (2 * c)
	if !(m > 0) {
		return BassFit{}, fmt.Errorf("%w: the Bass regression gives no positive market", ErrNoFit)
	}
	bass := Bass{P: a / m, Q: -c * m, M: m * scale}
	fit := bassDiagnostics(bass, sales, func(b Bass) []float64 { return b.DiscreteSales(len(sales)) })
	// One-step fitted values of the regression, not the recursion.
	yhat := make([]float64, len(sales))
	cum = 0
	for i, y := range sales {
		n := cum / scale
		yhat[i] = (a + b*n + c*n*n) * scale
		cum += y
	}
	fit.SSE, fit.RSE, fit.R2 = fitQuality(sales, yhat)
	fit.StdErrP, fit.StdErrQ, fit.StdErrM = math.NaN(), math.NaN(), math.NaN()
	return fit, nil
}
