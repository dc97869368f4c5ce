package flywheel

import (
	"errors"
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// Bass is the Bass diffusion model (F. M. Bass, "A new product growth for
// model consumer durables", Management Science 15(5), 1969), an alternative
// growth law to the flywheel's cohort recurrence: of a market of M
// eventual adopters, the share F(t) has adopted by time t, where adoption
// comes from outside influence (innovation, P: advertising, paid prospects)
// and from inside influence (imitation, Q: word of mouth, referrals):
//
//	dF/dt = (P + Q·F)(1 − F),  F(0) = 0,
//	F(t)  = (1 − e^{−(P+Q)t}) / (1 + (Q/P)·e^{−(P+Q)t}).
//
// Time is in rotations.
type Bass struct {
	P, Q, M float64
}

// Validate reports an error wrapping [ErrInvalidParams] unless P > 0,
// Q ≥ 0 and M > 0, all finite.
func (b Bass) Validate() error {
	var errs []error
	if !(b.P > 0 && b.P <= math.MaxFloat64) {
		errs = append(errs, invalidf("Bass.P", b.P, "must be positive and finite"))
	}
	if !(b.Q >= 0 && b.Q <= math.MaxFloat64) {
		errs = append(errs, invalidf("Bass.Q", b.Q, "must be finite and not negative"))
	}
	if !(b.M > 0 && b.M <= math.MaxFloat64) {
		errs = append(errs, invalidf("Bass.M", b.M, "must be positive and finite"))
	}
	return errors.Join(errs...)
}

// F returns the cumulative share of the market adopted by time t ≥ 0 (0
// for t ≤ 0).
func (b Bass) F(t float64) float64 {
	f, _ := b.split(t)
	return f
}

// split returns F(t) and 1 − F(t), each without the cancellation of the
// other's complement: F's numerator 1 − e^{−(P+Q)t} as −expm1 (for a
// small t), and 1 − F = (e + (Q/P)·e)/(1 + (Q/P)·e), e = e^{−(P+Q)t}
// (far in the tail, where 1 − F as a difference is 0 long before the
// density is).
func (b Bass) split(t float64) (f, rest float64) {
	if t <= 0 {
		return 0, 1
	}
	x := (b.P + b.Q) * t
	e := math.Exp(-x)
	qe := b.Q / b.P * e
	if math.IsNaN(qe) || math.IsInf(qe, 0) {
		// Q/P overflows (a tiny P): (Q/P)·e in logarithms.
		qe = math.Exp(math.Log(b.Q) - math.Log(b.P) - x)
	}
	if math.IsInf(qe, 1) {
		return 0, 1 // F below the smallest float64
	}
	return -math.Expm1(-x) / (1 + qe), (e + qe) / (1 + qe)
}

// Cumulative returns M·F(t), the adopters by time t.
func (b Bass) Cumulative(t float64) float64 { return b.M * b.F(t) }

// Series returns the cumulative adopters at the end of rotations 1 to n
// (none for n ≤ 0; n above [MaxRotations] is taken as MaxRotations, as
// in [Bass.PeriodSales] and [Bass.DiscreteSales]).
func (b Bass) Series(n int) []float64 {
	out := make([]float64, min(max(n, 0), MaxRotations))
	for i := range out {
		out[i] = b.Cumulative(float64(i + 1))
	}
	return out
}

// FitBass fits P, Q and M by least squares to a series of cumulative
// adopters observed at the end of rotations 1, 2, …: it minimises
// Σ (M·F(t) − y_t)². For given P and Q the best M has a closed form
// (Σ F·y / Σ F²), so the search runs over log P and log Q only, with the
// Nelder–Mead method from several starting points (P from 0.001 to 0.1, Q
// from 0.01 to 1), keeping the best.
//
// The series must have at least 3 values, all finite and not negative,
// and not all zero (errors wrap [ErrInvalidParams]); [ErrNoFit] is returned
// when no start converges to a positive market. The parameters are
// identified well only when the series reaches past the inflection point,
// where adoption per rotation peaks.
func FitBass(cumulative []float64) (Bass, error) {
	if len(cumulative) < 3 {
		return Bass{}, fmt.Errorf("%w: a Bass fit needs at least 3 values, got %d", ErrInvalidParams, len(cumulative))
	}
	var scale float64
	for i, y := range cumulative {
		if !(y >= 0 && y <= math.MaxFloat64) {
			return Bass{}, invalidf(fmt.Sprintf("cumulative[%d]", i), y, "must be finite and not negative")
		}
		scale = math.Max(scale, y)
	}
	if scale == 0 {
		return Bass{}, fmt.Errorf("%w: the adoption series is all zero", ErrInvalidParams)
	}
	return fitProfiled(cumulative, scale, func(b Bass) []float64 { return b.Series(len(cumulative)) })
}

// fitProfiled minimises Σ (y − M·g(P, Q))² over P and Q, where
// pred(Bass{P, Q, 1}) gives g, with M profiled out (its best value for
// given P and Q is Σ g·y / Σ g²): Nelder–Mead over log P and log Q from
// several starts (P from 0.001 to 0.1, Q from 0.01 to 1), keeping the best
// fit with a positive market. It runs on ys divided by scale, their
// largest value, so that it does not depend on the series' units (no
// overflow or underflow of the squares), and scales M back at the end.
func fitProfiled(ys []float64, scale float64, pred func(Bass) []float64) (Bass, error) {
	ns := make([]float64, len(ys))
	for i, y := range ys {
		ns[i] = y / scale
	}
	profile := func(p, q float64) (sse, m float64) {
		g := pred(Bass{P: p, Q: q, M: 1})
		var gy, gg, yy float64
		for i, y := range ns {
			gy += g[i] * y
			gg += g[i] * g[i]
			yy += y * y
		}
		if gg == 0 || !finite(gg) {
			return math.Inf(1), 0
		}
		m = gy / gg
		return math.Max(yy-gy*gy/gg, 0), m
	}
	obj := func(x, _ []float64) float64 {
		if math.Abs(x[0]) > 30 || math.Abs(x[1]) > 30 {
			return math.Inf(1)
		}
		sse, m := profile(math.Exp(x[0]), math.Exp(x[1]))
		if !(m > 0) {
			return math.Inf(1)
		}
		return sse
	}
	best := Bass{}
	bestSSE := math.Inf(1)
	for _, p0 := range []float64{0.001, 0.01, 0.1} {
		for _, q0 := range []float64{0.01, 0.1, 0.5, 1} {
			res, err := numeric.NelderMead(obj, []float64{math.Log(p0), math.Log(q0)}, &numeric.Settings{FuncTol: 1e-15, XTol: 1e-11})
			if err != nil && !errors.Is(err, numeric.ErrNoConvergence) {
				continue
			}
			if !(res.F < bestSSE) {
				continue
			}
			p, q := math.Exp(res.X[0]), math.Exp(res.X[1])
			_, m := profile(p, q)
			if m *= scale; m > 0 && finite(m) {
				best, bestSSE = Bass{P: p, Q: q, M: m}, res.F
			}
		}
	}
	if math.IsInf(bestSSE, 1) {
		return Bass{}, fmt.Errorf("%w: no Bass parameters with a positive market fit the series", ErrNoFit)
	}
	return best, nil
}
