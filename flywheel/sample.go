package flywheel

import (
	"math"
	"math/rand/v2"
)

// The samplers below are exact: small means use inversion, large ones
// Knuth's splitting by order statistics (TAOCP vol. 2, 3.4.1), which
// reduces a draw with a large mean to O(log n) gamma draws. Counts are
// float64 holding whole numbers (exact below 2⁵³).

// inversionMax is the mean below which inversion is used.
const inversionMax = 16

// binomial draws from Binomial(n, p) for a whole n ≥ 0 and p in [0, 1].
func binomial(r *rand.Rand, n, p float64) float64 {
	var acc float64
	sign := 1.0 // the result is acc + sign·X
	for {
		if n <= 0 || p <= 0 {
			return acc
		}
		if p >= 1 {
			return acc + sign*n
		}
		if p > 0.5 {
			// X ~ Bin(n, p) is n − Bin(n, 1−p).
			acc += sign * n
			sign = -sign
			p = 1 - p
		}
		if n*p < inversionMax {
			return acc + sign*binomialInversion(r, n, p)
		}
		// The a-th smallest of n uniforms is Beta(a, n+1−a).
		a := math.Floor(n/2) + 1
		b := n + 1 - a
		x := beta(r, a, b)
		if x >= p {
			n, p = a-1, p/x
		} else {
			acc += sign * a
			n, p = b-1, (p-x)/(1-x)
		}
	}
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

// poisson draws from Poisson(mean), mean ≥ 0.
func poisson(r *rand.Rand, mean float64) float64 {
	var acc float64
	for {
		if mean <= 0 {
			return acc
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
			return acc + k
		}
		// The m-th arrival of a unit-rate Poisson process is Gamma(m).
		m := math.Floor(mean * 7 / 8)
		x := gamma(r, m)
		if x < mean {
			acc += m
			mean -= x
			continue
		}
		return acc + binomial(r, m-1, mean/x)
	}
}

// gamma draws from Gamma(shape a ≥ 1, rate 1) by Marsaglia and Tsang's
// method (ACM TOMS 26(3), 2000).
func gamma(r *rand.Rand, a float64) float64 {
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 {
			return d * v
		}
		if math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// beta draws from Beta(a, b) for a, b ≥ 1.
func beta(r *rand.Rand, a, b float64) float64 {
	x := gamma(r, a)
	y := gamma(r, b)
	return x / (x + y)
}
