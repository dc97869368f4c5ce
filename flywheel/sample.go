package flywheel

import (
	"math"
	"math/rand/v2"
)

// The samplers below are exact. Small means use inversion (a sequential
// search of the distribution function); larger ones use Hörmann's
// transformed rejection with squeeze: BTRS for the binomial and PTRS for
// the Poisson distribution (W. Hörmann, "The generation of binomial random
// variates", J. Stat. Comput. Simul. 46, 1993; "The transformed rejection
// method for generating Poisson random variables", Insurance: Mathematics
// and Economics 12, 1993), which take O(1) time whatever the mean; their
// acceptance tests take the log-probability of a draw relative to the
// mode's, from differences of log-factorials computed without cancellation
// (logFactorialDiff), so they stay exact at the largest counts the
// parameters allow (2⁵⁰). Counts are float64 holding whole numbers (exact
// below 2⁵³).

// inversionMax is the mean below which inversion is used.
const inversionMax = 10

// binomial draws from Binomial(n, p) for a whole n ≥ 0 and p in [0, 1].
func binomial(r *rand.Rand, n, p float64) float64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	case n*p < inversionMax:
		return binomialInversion(r, n, p)
	}
	return btrs(r, n, p)
}

// binomialInversion draws Binomial(n, p) by sequential search of the
// distribution function; p ≤ 0.5 and n·p < inversionMax.
func binomialInversion(r *rand.Rand, n, p float64) float64 {
	q := 1 - p
	pk := math.Exp(n * math.Log1p(-p))
	ratio := p / q
	u := r.Float64()
	k := 0.0
	for u > pk && k < n {
		u -= pk
		pk *= (n - k) / (k + 1) * ratio
		k++
		if pk == 0 {
			break
		}
	}
	return k
}

// btrs draws Binomial(n, p) for p ≤ 0.5 and n·p ≥ inversionMax.
func btrs(r *rand.Rand, n, p float64) float64 {
	q := 1 - p
	spq := math.Sqrt(n * p * q)
	b := 1.15 + 2.53*spq
	a := -0.0873 + 0.0248*b + 0.01*p
	c := n*p + 0.5
	vr := 0.92 - 4.2/b
	alpha := (2.83 + 5.1/b) * spq
	lpq := math.Log(p / q)
	m := math.Floor((n + 1) * p)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + c)
		if k < 0 || k > n {
			continue
		}
		if us >= 0.07 && v <= vr {
			return k
		}
		v = math.Log(v * alpha / (a/(us*us) + b))
		// log(P(k)/P(m)), from differences of log-factorials taken without
		// cancellation (see logFactorialDiff).
		if v <= (k-m)*lpq-logFactorialDiff(k, m)-logFactorialDiff(n-k, n-m) {
			return k
		}
	}
}

// poisson draws from Poisson(mean), mean ≥ 0 and finite (0 for NaN or a
// mean ≤ 0, +Inf for +Inf: its loops would never end on them).
func poisson(r *rand.Rand, mean float64) float64 {
	switch {
	case !(mean > 0):
		return 0
	case math.IsInf(mean, 1):
		return mean
	}
	if mean < inversionMax {
		pk := math.Exp(-mean)
		u := r.Float64()
		k := 0.0
		for u > pk {
			u -= pk
			k++
			pk *= mean / k
			if pk == 0 {
				break
			}
		}
		return k
	}
	return ptrs(r, mean)
}

// ptrs draws Poisson(mean) for mean ≥ inversionMax.
func ptrs(r *rand.Rand, mean float64) float64 {
	slam := math.Sqrt(mean)
	loglam := math.Log(mean)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	// log P(k) = log P(m) + (k-m)·log(mean) - (log k! - log m!), m the
	// mode: each part computed without the cancellation of terms as large
	// as mean·log(mean) (see logFactorialDiff, logPoissonAt).
	m := math.Floor(mean)
	atMode := logPoissonAt(m, mean)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + mean + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= atMode+(k-m)*loglam-logFactorialDiff(k, m) {
			return k
		}
	}
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// logFactorials holds log(k!) for small k.
var logFactorials = func() []float64 {
	t := make([]float64, 1024)
	for k := range t {
		t[k] = lgamma(float64(k) + 1)
	}
	return t
}()

// logFactorial returns log(k!) for a whole k ≥ 0: from a table below 1024,
// else by Stirling's series, whose first omitted term is below 10⁻¹⁸ there.
func logFactorial(k float64) float64 {
	if k < float64(len(logFactorials)) {
		return logFactorials[int(k)]
	}
	x := k + 1
	return (x-0.5)*math.Log(x) - x + 0.5*math.Log(2*math.Pi) + stirlingRest(x)
}

// stirlingRest returns the terms of Stirling's series for log Γ(x) after
// (x-½)·log x - x + ½·log 2π, x > 1024.
func stirlingRest(x float64) float64 {
	ix2 := 1 / (x * x)
	return (1.0/12 - (1.0/360-ix2/1260)*ix2) / x
}

// logFactorialDiff returns log(a!) - log(b!) for whole a, b ≥ 0. Near a
// mean of 10¹⁵ each log-factorial is about 3·10¹⁶, where a float64's step
// is 4, while the rejection tests need their difference to well under 1:
// so for a and b past the table it is taken from Stirling's series term by
// term, with x = a+1, y = b+1, d = a-b, as
// (x-½)·log1p(d/y) + d·log y - d + rest(x) - rest(y), whose terms are of
// the size of the difference, not of the log-factorials.
func logFactorialDiff(a, b float64) float64 {
	if a < float64(len(logFactorials)) || b < float64(len(logFactorials)) {
		return logFactorial(a) - logFactorial(b)
	}
	x, y, d := a+1, b+1, a-b
	return (x-0.5)*math.Log1p(d/y) + d*math.Log(y) - d + stirlingRest(x) - stirlingRest(y)
}

// logPoissonAt returns log P(k) of Poisson(mean), -mean + k·log(mean) -
// log(k!), for a whole k ≥ 0; past the table, with x = k+1, as
// (x - mean) + k·log1p((mean-x)/x) - ½·log(2πx) - rest(x), which keeps
// no term of the size of mean·log(mean) (see logFactorialDiff).
func logPoissonAt(k, mean float64) float64 {
	if k < float64(len(logFactorials)) {
		return -mean + k*math.Log(mean) - logFactorial(k)
	}
	x := k + 1
	return (x - mean) + k*math.Log1p((mean-x)/x) - 0.5*math.Log(2*math.Pi*x) - stirlingRest(x)
}
