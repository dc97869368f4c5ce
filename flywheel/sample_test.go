package flywheel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSamplers checks the mean and variance of the binomial and Poisson
// samplers against theory, across the inversion and splitting regimes.
func TestSamplers(t *testing.T) {
	const draws = 20000
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
			// √(2/draws) = 1%; allow 6%.
			if math.Abs(vari/tc.vari-1) > 0.06 {
				t.Errorf("variance = %v, want %v within 6%%", vari, tc.vari)
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
