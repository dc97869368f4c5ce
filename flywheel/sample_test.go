package flywheel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSamplers checks the mean and variance of the binomial and Poisson
// samplers against theory, across the inversion and splitting regimes, up
// to the largest counts the parameters allow (2⁵⁰), where the
// log-factorials of the rejection tests are 3·10¹⁶ and a float64 rounds
// them to steps of 4 (their differences once came out that coarse, and
// the variances 3–50 % too large).
func TestSamplers(t *testing.T) {
	const draws = 100_000
	tests := []struct {
		name       string
		draw       func(r *rand.Rand) float64
		mean, vari float64
	}{
		{"binomial small", func(r *rand.Rand) float64 { return binomial(r, 20, 0.3) }, 6, 4.2},
		{"binomial p>0.5", func(r *rand.Rand) float64 { return binomial(r, 40, 0.9) }, 36, 3.6},
		{"binomial split", func(r *rand.Rand) float64 { return binomial(r, 1000, 0.25) }, 250, 187.5},
		{"binomial huge", func(r *rand.Rand) float64 { return binomial(r, 1e12, 0.4) }, 4e11, 2.4e11},
		{"binomial tiny p", func(r *rand.Rand) float64 { return binomial(r, 1e9, 3e-9) }, 3, 3},
		{"binomial p=1", func(r *rand.Rand) float64 { return binomial(r, 17, 1) }, 17, 0},
		{"binomial n=0", func(r *rand.Rand) float64 { return binomial(r, 0, 0.5) }, 0, 0},
		{"poisson small", func(r *rand.Rand) float64 { return poisson(r, 3.5) }, 3.5, 3.5},
		{"poisson split", func(r *rand.Rand) float64 { return poisson(r, 120) }, 120, 120},
		{"poisson huge", func(r *rand.Rand) float64 { return poisson(r, 5e10) }, 5e10, 5e10},
		{"poisson zero", func(r *rand.Rand) float64 { return poisson(r, 0) }, 0, 0},
		{"binomial 1e15, 0.3", func(r *rand.Rand) float64 { return binomial(r, 1e15, 0.3) }, 3e14, 1e15 * 0.3 * 0.7},
		{"binomial 3e14, 0.3", func(r *rand.Rand) float64 { return binomial(r, 3e14, 0.3) }, 9e13, 3e14 * 0.3 * 0.7},
		{"binomial 2^50, 1e-14", func(r *rand.Rand) float64 { return binomial(r, 1<<50, 1e-14) }, (1 << 50) * 1e-14, (1 << 50) * 1e-14 * (1 - 1e-14)},
		{"poisson 1e15", func(r *rand.Rand) float64 { return poisson(r, 1e15) }, 1e15, 1e15},
		{"poisson 3e14", func(r *rand.Rand) float64 { return poisson(r, 3e14) }, 3e14, 3e14},
		{"poisson 2^50", func(r *rand.Rand) float64 { return poisson(r, 1<<50) }, 1 << 50, 1 << 50},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(i)))
			var sum, sumSq float64
			xs := make([]float64, draws)
			for j := range xs {
				x := tc.draw(r)
				if x < 0 || x != math.Trunc(x) {
					t.Fatalf("draw %d = %v, want a whole number ≥ 0", j, x)
				}
				xs[j] = x
				sum += x
			}
			mean := sum / draws
			for _, x := range xs {
				sumSq += (x - mean) * (x - mean)
			}
			vari := sumSq / (draws - 1)
			if tc.vari == 0 {
				if mean != tc.mean || vari != 0 {
					t.Fatalf("mean %v var %v, want exactly %v and 0", mean, vari, tc.mean)
				}
				return
			}
			se := math.Sqrt(tc.vari / draws)
			if math.Abs(mean-tc.mean) > 5*se {
				t.Errorf("mean = %v, want %v ± %v (5 standard errors)", mean, tc.mean, 5*se)
			}
			// The sample variance's relative standard error is about
			// √(2/draws) = 0.45% (0.5% for the small means, whose
			// kurtosis is higher); allow 3%.
			if math.Abs(vari/tc.vari-1) > 0.03 {
				t.Errorf("variance = %v, want %v within 3%%", vari, tc.vari)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
	}{
		{"median odd", []float64{5, 1, 3}, 0.5, 3},
		{"median even", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"p05 of 1..101", seq(101), 0.05, 6},
		{"p95 of 1..101", seq(101), 0.95, 96},
		{"p95 of 1..10", seq(10), 0.95, 9.55},
		{"single", []float64{7}, 0.05, 7},
		{"ties", []float64{2, 2, 2, 2, 1}, 0.1, 1.4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(append([]float64(nil), tc.xs...), tc.q); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[n-1-i] = float64(i + 1)
	}
	return xs
}

// TestSamplerDistribution compares histograms of draws with the exact
// probability mass functions by a chi-square test, in the rejection
// regimes (BTRS, PTRS) and by inversion.
func TestSamplerDistribution(t *testing.T) {
	const draws = 40000
	logBinom := func(n, p float64) func(k float64) float64 {
		return func(k float64) float64 {
			return lgamma(n+1) - lgamma(k+1) - lgamma(n-k+1) + k*math.Log(p) + (n-k)*math.Log1p(-p)
		}
	}
	logPois := func(mu float64) func(k float64) float64 {
		return func(k float64) float64 { return -mu + k*math.Log(mu) - lgamma(k+1) }
	}
	tests := []struct {
		name   string
		draw   func(r *rand.Rand) float64
		logPMF func(k float64) float64
		lo, hi float64 // support range checked; outside is pooled
	}{
		{"binomial inversion", func(r *rand.Rand) float64 { return binomial(r, 30, 0.2) }, logBinom(30, 0.2), 0, 30},
		{"binomial btrs", func(r *rand.Rand) float64 { return binomial(r, 60, 0.3) }, logBinom(60, 0.3), 0, 60},
		{"binomial btrs p>0.5", func(r *rand.Rand) float64 { return binomial(r, 200, 0.85) }, logBinom(200, 0.85), 0, 200},
		{"binomial btrs large", func(r *rand.Rand) float64 { return binomial(r, 5000, 0.4) }, logBinom(5000, 0.4), 1850, 2150},
		{"poisson inversion", func(r *rand.Rand) float64 { return poisson(r, 6) }, logPois(6), 0, 40},
		{"poisson ptrs", func(r *rand.Rand) float64 { return poisson(r, 12) }, logPois(12), 0, 60},
		{"poisson ptrs large", func(r *rand.Rand) float64 { return poisson(r, 900) }, logPois(900), 780, 1020},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(i)))
			counts := map[float64]float64{}
			for range draws {
				counts[tc.draw(r)]++
			}
			// Cells with expected count ≥ 5; the rest pooled into one.
			var chi, pooledObs, pooledExp, df float64
			seen := 0.0
			for k := tc.lo; k <= tc.hi; k++ {
				e := draws * math.Exp(tc.logPMF(k))
				o := counts[k]
				seen += o
				if e < 5 {
					pooledObs += o
					pooledExp += e
					continue
				}
				chi += (o - e) * (o - e) / e
				df++
			}
			pooledObs += draws - seen
			var inRange float64
			for k := tc.lo; k <= tc.hi; k++ {
				inRange += math.Exp(tc.logPMF(k))
			}
			pooledExp += draws * (1 - inRange)
			if pooledExp > 0 {
				chi += (pooledObs - pooledExp) * (pooledObs - pooledExp) / math.Max(pooledExp, 1)
			}
			// The 99.99th percentile of chi-square with df degrees of freedom
			// is below df + 6·√(2·df) for the df here.
			if limit := df + 6*math.Sqrt(2*df); chi > limit {
				t.Errorf("chi-square %.1f > %.1f (df %.0f)", chi, limit, df)
			}
		})
	}
}

func TestLogFactorial(t *testing.T) {
	for _, k := range []float64{0, 1, 5, 1023, 1024, 1025, 5000, 1e6, 1e12} {
		want := lgamma(k + 1)
		if got := logFactorial(k); math.Abs(got-want) > 1e-13*math.Max(1, math.Abs(want)) {
			t.Errorf("logFactorial(%v) = %.17g, want %.17g", k, got, want)
		}
	}
}

// TestLogFactorialDiff checks the differences of log-factorials the
// rejection tests use against lgamma where it is exact enough, and where
// it is not (a, b near 10¹⁵) against the sum of log(i) for i in (b, a].
func TestLogFactorialDiff(t *testing.T) {
	for _, c := range [][2]float64{{5, 3}, {1030, 1000}, {5000, 4000}, {1e6, 1e6 - 37}, {2e6, 1e6}} {
		want := lgamma(c[0]+1) - lgamma(c[1]+1)
		if got := logFactorialDiff(c[0], c[1]); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("logFactorialDiff(%v, %v) = %.17g, want %.17g", c[0], c[1], got, want)
		}
	}
	for _, b := range []float64{1e15, 1 << 50} {
		for _, d := range []float64{1, 40, -25} {
			want := 0.0 // log(a!/b!) = Σ log i over (b, a], or minus over (a, b]
			lo, hi, sign := b, b+d, 1.0
			if d < 0 {
				lo, hi, sign = b+d, b, -1
			}
			for i := lo + 1; i <= hi; i++ {
				want += sign * math.Log(i)
			}
			if got := logFactorialDiff(b+d, b); math.Abs(got-want) > 1e-6 {
				t.Errorf("logFactorialDiff(%v+%v, %v) = %.17g, want %.17g", b, d, b, got, want)
			}
		}
	}
	for _, c := range [][2]float64{{12, 10}, {900, 880}, {2000, 1990}, {1e6, 1e6 + 300}} {
		k, mean := c[0], c[1]
		want := -mean + k*math.Log(mean) - lgamma(k+1)
		if got := logPoissonAt(k, mean); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("logPoissonAt(%v, %v) = %.17g, want %.17g", k, mean, got, want)
		}
	}
	// At the mode of a huge mean, log P ≈ -½·log(2π·mean).
	for _, mean := range []float64{1e15, 1 << 50} {
		want := -0.5 * math.Log(2*math.Pi*mean)
		if got := logPoissonAt(math.Floor(mean), mean); math.Abs(got-want) > 1e-6 {
			t.Errorf("logPoissonAt at the mode of %v = %.17g, want %.17g", mean, got, want)
		}
	}
}
