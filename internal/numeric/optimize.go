package numeric

import (
	"fmt"
	"math"
	"slices"
)

// Objective evaluates a function to be minimised at x. When grad is non-nil
// (it then has len(x)) the objective must also store the gradient in it.
// Returning +Inf or NaN marks x as infeasible; the optimisers back off from
// such points.
type Objective func(x, grad []float64) float64

// Settings control the optimisers. The zero value selects the defaults.
type Settings struct {
	// MaxIterations bounds the number of BFGS iterations or Nelder–Mead
	// function evaluations (per restart). Default 200 for BFGS and
	// 2000·len(x) for Nelder–Mead.
	MaxIterations int
	// GradTol is the BFGS convergence threshold on the infinity norm of the
	// gradient. Default 1e-7.
	GradTol float64
	// FuncTol is the Nelder–Mead convergence threshold on the spread of
	// function values over the simplex. Default 1e-10.
	FuncTol float64
	// XTol is the Nelder–Mead convergence threshold on the simplex size
	// (infinity norm). Default 1e-8.
	XTol float64
}

// Result is the outcome of a minimisation.
type Result struct {
	X           []float64 // best point found
	F           float64   // objective value at X
	Grad        []float64 // gradient at X (BFGS only)
	Iterations  int       // iterations (BFGS) or restarts + 1 (Nelder–Mead)
	Evaluations int       // objective evaluations
}

// BFGS minimises f from x0 with the Broyden–Fletcher–Goldfarb–Shanno
// quasi-Newton method and a strong-Wolfe line search (Nocedal & Wright,
// Algorithms 3.5 and 3.6). f must supply gradients.
//
// It converges when the infinity norm of the gradient is at most GradTol.
// If the line search fails, the inverse-Hessian approximation is reset to
// the identity once; a second consecutive failure, a non-finite starting
// value, or reaching MaxIterations returns the best point so far together
// with an error wrapping ErrNoConvergence.
func BFGS(f Objective, x0 []float64, s *Settings) (Result, error) {
	n := len(x0)
	maxIter, gtol := 200, 1e-7
	if s != nil {
		if s.MaxIterations > 0 {
			maxIter = s.MaxIterations
		}
		if s.GradTol > 0 {
			gtol = s.GradTol
		}
	}
	res := Result{X: slices.Clone(x0), Grad: make([]float64, n)}
	if n == 0 {
		return res, fmt.Errorf("%w: BFGS: empty starting point", ErrDomain)
	}
	res.F = f(res.X, res.Grad)
	res.Evaluations++
	if !finite(res.F) || !allFinite(res.Grad) {
		return res, fmt.Errorf("%w: BFGS: objective not finite at the starting point (f = %v)", ErrNoConvergence, res.F)
	}

	h := identity(n) // inverse Hessian approximation, row-major
	p := make([]float64, n)
	xNew := make([]float64, n)
	gNew := make([]float64, n)
	sv := make([]float64, n)
	yv := make([]float64, n)
	hy := make([]float64, n)
	freshH := true

	for it := 0; it < maxIter; it++ {
		res.Iterations = it
		if normInf(res.Grad) <= gtol {
			return res, nil
		}
		// p = −H g
		for i := range n {
			var v float64
			for j := range n {
				v -= h[i*n+j] * res.Grad[j]
			}
			p[i] = v
		}
		dphi0 := dot(p, res.Grad)
		if !(dphi0 < 0) {
			// Not a descent direction: fall back to steepest descent.
			h = identity(n)
			for i := range n {
				p[i] = -res.Grad[i]
			}
			dphi0 = dot(p, res.Grad)
			freshH = true
		}
		step := 1.0
		if freshH {
			// Keep the first trial step modest when no curvature is known.
			step = math.Min(1, 1/normInf(p))
		}
		ls := lineSearch{f: f, x: res.X, p: p, f0: res.F, d0: dphi0, xt: xNew, gt: gNew}
		alpha, fNew, ok := ls.search(step)
		res.Evaluations += ls.evals
		if !ok {
			if freshH {
				return res, fmt.Errorf("%w: BFGS: line search failed after %d iterations (f = %.10g, |grad|inf = %.3g > %.3g)",
					ErrNoConvergence, it, res.F, normInf(res.Grad), gtol)
			}
			h = identity(n)
			freshH = true
			continue
		}
		// ls left the gradient at alpha in gNew (it evaluates last at alpha).
		for i := range n {
			sv[i] = alpha * p[i]
			xNew[i] = res.X[i] + sv[i]
			yv[i] = gNew[i] - res.Grad[i]
		}
		sy := dot(sv, yv)
		copy(res.X, xNew)
		copy(res.Grad, gNew)
		res.F = fNew
		if sy <= 1e-12*math.Sqrt(dot(sv, sv)*dot(yv, yv)) {
			continue // curvature condition failed: skip the update
		}
		if freshH {
			// Scale the initial matrix (Nocedal & Wright eq. 6.20).
			scale := sy / dot(yv, yv)
			for i := range h {
				h[i] *= scale
			}
			freshH = false
		}
		// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
		rho := 1 / sy
		for i := range n {
			var v float64
			for j := range n {
				v += h[i*n+j] * yv[j]
			}
			hy[i] = v
		}
		yhy := dot(yv, hy)
		for i := range n {
			for j := range n {
				h[i*n+j] += -rho*(hy[i]*sv[j]+sv[i]*hy[j]) + (rho*rho*yhy+rho)*sv[i]*sv[j]
			}
		}
	}
	res.Iterations = maxIter
	if normInf(res.Grad) <= gtol {
		return res, nil
	}
	return res, fmt.Errorf("%w: BFGS: %d iterations reached (f = %.10g, |grad|inf = %.3g > %.3g)",
		ErrNoConvergence, maxIter, res.F, normInf(res.Grad), gtol)
}

// lineSearch finds a step satisfying the strong Wolfe conditions along p.
type lineSearch struct {
	f      Objective
	x, p   []float64
	f0, d0 float64
	xt, gt []float64 // scratch: trial point and its gradient
	evals  int
	last   float64 // step at which xt/gt were last evaluated
}

const (
	wolfeC1 = 1e-4
	wolfeC2 = 0.9
)

// eval returns φ(α) and φ'(α), leaving the gradient at α in ls.gt.
func (ls *lineSearch) eval(alpha float64) (phi, dphi float64) {
	for i := range ls.x {
		ls.xt[i] = ls.x[i] + alpha*ls.p[i]
	}
	phi = ls.f(ls.xt, ls.gt)
	ls.evals++
	ls.last = alpha
	if !finite(phi) || !allFinite(ls.gt) {
		return math.Inf(1), math.NaN()
	}
	return phi, dot(ls.gt, ls.p)
}

func (ls *lineSearch) search(alpha float64) (step, fval float64, ok bool) {
	const maxSteps = 40
	prevA, prevF, prevD := 0.0, ls.f0, ls.d0
	for i := 0; i < maxSteps; i++ {
		phi, dphi := ls.eval(alpha)
		if phi > ls.f0+wolfeC1*alpha*ls.d0 || (i > 0 && phi >= prevF) {
			return ls.zoom(prevA, prevF, prevD, alpha, phi, dphi)
		}
		if math.Abs(dphi) <= -wolfeC2*ls.d0 {
			return alpha, phi, true
		}
		if dphi >= 0 {
			return ls.zoom(alpha, phi, dphi, prevA, prevF, prevD)
		}
		prevA, prevF, prevD = alpha, phi, dphi
		alpha *= 2
	}
	return 0, 0, false
}

// zoom narrows [lo, hi] (not necessarily ordered) to a strong-Wolfe step.
func (ls *lineSearch) zoom(lo, fLo, dLo, hi, fHi, dHi float64) (float64, float64, bool) {
	const maxSteps = 40
	for i := 0; i < maxSteps; i++ {
		a := interpolate(lo, fLo, dLo, hi, fHi, dHi)
		phi, dphi := ls.eval(a)
		if phi > ls.f0+wolfeC1*a*ls.d0 || phi >= fLo {
			hi, fHi, dHi = a, phi, dphi
		} else {
			if math.Abs(dphi) <= -wolfeC2*ls.d0 {
				return a, phi, true
			}
			if dphi*(hi-lo) >= 0 {
				hi, fHi, dHi = lo, fLo, dLo
			}
			lo, fLo, dLo = a, phi, dphi
		}
		if math.Abs(hi-lo) <= 1e-16*math.Max(1, math.Abs(lo)) {
			break
		}
	}
	// Accept a step that at least decreases f sufficiently (weak Wolfe
	// is not guaranteed, BFGS skips the update if curvature fails).
	if lo > 0 && fLo < ls.f0+wolfeC1*lo*ls.d0 {
		if ls.last != lo {
			fLo, _ = ls.eval(lo)
		}
		return lo, fLo, finite(fLo)
	}
	return 0, 0, false
}

// interpolate returns the minimiser of the cubic (or quadratic) fitted to
// the end points, safeguarded to lie inside the middle 80% of [lo, hi];
// bisection when the end values are unusable.
func interpolate(lo, fLo, dLo, hi, fHi, dHi float64) float64 {
	left, right := math.Min(lo, hi), math.Max(lo, hi)
	width := right - left
	mid := left + width/2
	if !finite(fHi) || !finite(fLo) {
		return mid
	}
	var a float64
	if finite(dHi) && finite(dLo) {
		d1 := dLo + dHi - 3*(fLo-fHi)/(lo-hi)
		disc := d1*d1 - dLo*dHi
		if disc >= 0 {
			d2 := math.Copysign(math.Sqrt(disc), hi-lo)
			a = hi - (hi-lo)*(dHi+d2-d1)/(dHi-dLo+2*d2)
		} else {
			a = math.NaN()
		}
	} else {
		// Quadratic through f(lo), f'(lo), f(hi).
		dx := hi - lo
		denom := 2 * (fHi - fLo - dLo*dx)
		a = lo - dLo*dx*dx/denom
	}
	if !finite(a) || a < left+0.1*width || a > right-0.1*width {
		return mid
	}
	return a
}

// NelderMead minimises f from x0 with the Nelder–Mead simplex method using
// the dimension-adaptive coefficients of Gao & Han (2012). The initial
// simplex steps 5% of each coordinate (0.00025 for zero coordinates). After
// each convergence the method restarts from the best point with a fresh
// simplex, until a restart no longer improves f by more than FuncTol. The
// gradient argument of f is always nil.
//
// It returns an error wrapping ErrNoConvergence if MaxIterations evaluations
// pass without convergence, or if f is not finite at x0.
func NelderMead(f Objective, x0 []float64, s *Settings) (Result, error) {
	n := len(x0)
	maxEval, ftol, xtol := 2000*n, 1e-10, 1e-8
	if s != nil {
		if s.MaxIterations > 0 {
			maxEval = s.MaxIterations
		}
		if s.FuncTol > 0 {
			ftol = s.FuncTol
		}
		if s.XTol > 0 {
			xtol = s.XTol
		}
	}
	res := Result{X: slices.Clone(x0)}
	if n == 0 {
		return res, fmt.Errorf("%w: Nelder–Mead: empty starting point", ErrDomain)
	}
	res.F = f(res.X, nil)
	res.Evaluations++
	if !finite(res.F) {
		return res, fmt.Errorf("%w: Nelder–Mead: objective not finite at the starting point (f = %v)", ErrNoConvergence, res.F)
	}
	const maxRestarts = 10
	for restart := 0; restart < maxRestarts; restart++ {
		res.Iterations = restart + 1
		x, fx, evals, ok := nmRun(f, res.X, maxEval, ftol, xtol)
		res.Evaluations += evals
		improved := fx < res.F-ftol
		if fx < res.F {
			res.X, res.F = x, fx
		}
		if !ok {
			return res, fmt.Errorf("%w: Nelder–Mead: %d evaluations reached (f = %.10g)", ErrNoConvergence, maxEval, res.F)
		}
		if !improved && restart > 0 {
			return res, nil
		}
	}
	return res, nil
}

func nmRun(f Objective, x0 []float64, maxEval int, ftol, xtol float64) ([]float64, float64, int, bool) {
	n := len(x0)
	nf := float64(n)
	alpha, beta, gamma, delta := 1.0, 1+2/nf, 0.75-1/(2*nf), 1-1/nf
	pts := make([][]float64, n+1)
	fv := make([]float64, n+1)
	evals := 0
	eval := func(x []float64) float64 {
		evals++
		v := f(x, nil)
		if !finite(v) {
			return math.Inf(1)
		}
		return v
	}
	for i := range pts {
		pts[i] = slices.Clone(x0)
		if i > 0 {
			if pts[i][i-1] != 0 {
				pts[i][i-1] *= 1.05
			} else {
				pts[i][i-1] = 0.00025
			}
		}
		fv[i] = eval(pts[i])
	}
	order := make([]int, n+1)
	centroid := make([]float64, n)
	xr := make([]float64, n)
	xe := make([]float64, n)
	xc := make([]float64, n)
	for evals < maxEval {
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return cmpFloat(fv[i], fv[j]) })
		best, worst, second := order[0], order[n], order[n-1]
		// Convergence test.
		var size float64
		for i := range pts {
			for j := range n {
				size = math.Max(size, math.Abs(pts[i][j]-pts[best][j]))
			}
		}
		if fv[worst]-fv[best] <= ftol && size <= xtol {
			return slices.Clone(pts[best]), fv[best], evals, true
		}
		clear(centroid)
		for _, i := range order[:n] {
			for j := range n {
				centroid[j] += pts[i][j] / nf
			}
		}
		for j := range n {
			xr[j] = centroid[j] + alpha*(centroid[j]-pts[worst][j])
		}
		fr := eval(xr)
		switch {
		case fr < fv[best]:
			for j := range n {
				xe[j] = centroid[j] + beta*(xr[j]-centroid[j])
			}
			if fe := eval(xe); fe < fr {
				copy(pts[worst], xe)
				fv[worst] = fe
			} else {
				copy(pts[worst], xr)
				fv[worst] = fr
			}
		case fr < fv[second]:
			copy(pts[worst], xr)
			fv[worst] = fr
		default:
			outside := fr < fv[worst]
			for j := range n {
				if outside {
					xc[j] = centroid[j] + gamma*(xr[j]-centroid[j])
				} else {
					xc[j] = centroid[j] - gamma*(centroid[j]-pts[worst][j])
				}
			}
			fc := eval(xc)
			if (outside && fc <= fr) || (!outside && fc < fv[worst]) {
				copy(pts[worst], xc)
				fv[worst] = fc
				break
			}
			// Shrink towards the best point.
			for _, i := range order[1:] {
				for j := range n {
					pts[i][j] = pts[best][j] + delta*(pts[i][j]-pts[best][j])
				}
				fv[i] = eval(pts[i])
			}
		}
	}
	best := 0
	for i := range fv {
		if fv[i] < fv[best] {
			best = i
		}
	}
	return slices.Clone(pts[best]), fv[best], evals, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func identity(n int) []float64 {
	h := make([]float64, n*n)
	for i := range n {
		h[i*n+i] = 1
	}
	return h
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func normInf(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func allFinite(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}

// Hessian returns the n×n Hessian (row-major) of f at x, by central
// differences of the analytic gradient with relative step h (default 1e-5
// when h ≤ 0), symmetrised. It costs 2n gradient evaluations.
func Hessian(f Objective, x []float64, h float64) ([]float64, error) {
	n := len(x)
	if h <= 0 {
		h = 1e-5
	}
	hess := make([]float64, n*n)
	xp := slices.Clone(x)
	gu := make([]float64, n)
	gd := make([]float64, n)
	for j := range n {
		step := h * math.Max(1, math.Abs(x[j]))
		xp[j] = x[j] + step
		fu := f(xp, gu)
		xp[j] = x[j] - step
		fd := f(xp, gd)
		xp[j] = x[j]
		if !finite(fu) || !finite(fd) || !allFinite(gu) || !allFinite(gd) {
			return nil, fmt.Errorf("%w: Hessian: objective not finite near x[%d] = %v", ErrDomain, j, x[j])
		}
		for i := range n {
			hess[i*n+j] = (gu[i] - gd[i]) / (2 * step)
		}
	}
	for i := range n {
		for j := range i {
			v := (hess[i*n+j] + hess[j*n+i]) / 2
			hess[i*n+j], hess[j*n+i] = v, v
		}
	}
	return hess, nil
}

// Cholesky returns the lower-triangular factor L (row-major) with
// L Lᵀ = a for a symmetric n×n matrix a. It returns an error wrapping
// ErrDomain unless every pivot exceeds rtol times the largest diagonal
// element of a (a numerical test that a is positive definite).
func Cholesky(a []float64, n int, rtol float64) ([]float64, error) {
	if len(a) != n*n {
		return nil, fmt.Errorf("%w: Cholesky: len(a) = %d, want %d", ErrDomain, len(a), n*n)
	}
	var maxDiag float64
	for i := range n {
		maxDiag = math.Max(maxDiag, a[i*n+i])
	}
	l := make([]float64, n*n)
	for j := range n {
		d := a[j*n+j]
		for k := range j {
			d -= l[j*n+k] * l[j*n+k]
		}
		if !(d > rtol*maxDiag) || !(maxDiag > 0) {
			return nil, fmt.Errorf("%w: Cholesky: matrix not positive definite (pivot %d = %.3g, largest diagonal %.3g)",
				ErrDomain, j, d, maxDiag)
		}
		l[j*n+j] = math.Sqrt(d)
		for i := j + 1; i < n; i++ {
			v := a[i*n+j]
			for k := range j {
				v -= l[i*n+k] * l[j*n+k]
			}
			l[i*n+j] = v / l[j*n+j]
		}
	}
	return l, nil
}

// CentralDifference turns a function without gradients into an Objective
// whose gradient is estimated by central differences with step
// h·max(1, |x_i|) (default 1e-6 when h ≤ 0). Each gradient costs 2·len(x)
// extra evaluations.
func CentralDifference(f func(x []float64) float64, h float64) Objective {
	if h <= 0 {
		h = 1e-6
	}
	return func(x, grad []float64) float64 {
		fx := f(x)
		if grad == nil || !finite(fx) {
			return fx
		}
		xp := slices.Clone(x)
		for i := range x {
			step := h * math.Max(1, math.Abs(x[i]))
			xp[i] = x[i] + step
			fu := f(xp)
			xp[i] = x[i] - step
			fd := f(xp)
			xp[i] = x[i]
			grad[i] = (fu - fd) / (2 * step)
		}
		return fx
	}
}
