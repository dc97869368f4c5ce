package clv

import (
	"bufio"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// The fit benchmarks run every fit on the reference data of its paper
// (CDNOW, the donations, the sBG cohort) and on a million synthetic
// customers drawn deterministically below. bench/scipy_fits.py fits the
// same rows with SciPy; TestWriteBenchData writes the synthetic rows for
// it (see BENCHMARKS.md, "Customer value"):
//
//	go test ./lifecycle/clv -run '^$' -bench 'Fit' -benchmem -cpu 1

var benchData = flag.String("clv.benchdata", "", "TestWriteBenchData writes the synthetic benchmark data sets to this directory")

var (
	rfm1MOnce sync.Once
	rfm1MData []Customer
)

// rfm1M returns one million synthetic customers drawn (seeded) from the
// BG/NBD model r=0.25, α=4, a=0.8, b=2.5 with a CDNOW-like design:
// acquisition over 12 weeks, 39-week calibration, times at day resolution
// in weeks. The mean spends of the repeat buyers are drawn (with a second
// seed) from the Gamma-Gamma model p=6, q=4, v=15. The slice is shared:
// callers must not modify it.
func rfm1M() []Customer {
	rfm1MOnce.Do(func() {
		rng := rand.New(rand.NewPCG(2005, 24))
		rfm1MData = simulateBGNBD(rng, BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.5}, 1_000_000, 27, 39, 7)
		simulateGammaGamma(rand.New(rand.NewPCG(2013, 6)), GammaGamma{P: 6, Q: 4, V: 15}, rfm1MData)
	})
	return rfm1MData
}

// donations1M returns one million synthetic BG/BB histories drawn (seeded)
// from the donation estimates α=1.204, β=0.750, γ=0.657, δ=2.783, with 6
// to 12 opportunities each.
func donations1M() []DiscreteCustomer {
	rng := rand.New(rand.NewPCG(2010, 6))
	m := BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	cs := make([]DiscreteCustomer, 1_000_000)
	for i := range cs {
		p := betaRand(rng, m.Alpha, m.Beta)
		theta := betaRand(rng, m.Gamma, m.Delta)
		c := DiscreteCustomer{Periods: 6 + rng.IntN(7)}
		for t := 1; t <= c.Periods; t++ {
			if rng.Float64() < theta {
				break // became inactive before opportunity t
			}
			if rng.Float64() < p {
				c.Frequency++
				c.Recency = t
			}
		}
		cs[i] = c
	}
	return cs
}

// cohort1M returns the survivor counts of one million synthetic contract
// customers drawn (seeded) from the sBG model α=0.704, β=1.182 (the
// paper's regular cohort) over 12 renewal opportunities.
func cohort1M() []float64 {
	rng := rand.New(rand.NewPCG(2007, 21))
	s := make([]float64, 13)
	for range 1_000_000 {
		theta := betaRand(rng, 0.704, 1.182)
		s[0]++
		for t := 1; t < len(s); t++ {
			if rng.Float64() < theta {
				break
			}
			s[t]++
		}
	}
	return s
}

// sbgRegular is the regular cohort of Fader & Hardie (2007).
var sbgRegular = []float64{1000, 631, 468, 382, 326, 289, 262, 241}

// TestWriteBenchData writes the synthetic benchmark data sets as CSV to the
// directory given by -clv.benchdata (skipped without it), for
// bench/scipy_fits.py: rfm1m.csv (x, t_x, T, zbar), bgbb1m.csv (x, t_x, n)
// and sbg1m.csv (one survivor count a line). Floats are written in the
// shortest form that reads back to the same float64.
func TestWriteBenchData(t *testing.T) {
	if *benchData == "" {
		t.Skip("no -clv.benchdata directory")
	}
	write := func(name, header string, n int, row func(b []byte, i int) []byte) {
		f, err := os.Create(filepath.Join(*benchData, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(header + "\n")
		var b []byte
		for i := range n {
			b = append(row(b[:0], i), '\n')
			w.Write(b)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	g := func(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'g', -1, 64) }
	cs := rfm1M()
	write("rfm1m.csv", "x,t_x,T,zbar", len(cs), func(b []byte, i int) []byte {
		c := cs[i]
		b = strconv.AppendInt(b, int64(c.Frequency), 10)
		b = g(append(b, ','), c.Recency)
		b = g(append(b, ','), c.T)
		return g(append(b, ','), c.MonetaryValue)
	})
	ds := donations1M()
	write("bgbb1m.csv", "x,t_x,n", len(ds), func(b []byte, i int) []byte {
		c := ds[i]
		b = strconv.AppendInt(b, int64(c.Frequency), 10)
		b = strconv.AppendInt(append(b, ','), int64(c.Recency), 10)
		return strconv.AppendInt(append(b, ','), int64(c.Periods), 10)
	})
	s := cohort1M()
	write("sbg1m.csv", "survivors", len(s), func(b []byte, i int) []byte { return g(b, s[i]) })
}

// BenchmarkFitBGNBDCDNOW fits the BG/NBD model to the 2,357 CDNOW customers.
//
//	go test ./lifecycle/clv -run '^$' -bench FitBGNBD -benchmem
func BenchmarkFitBGNBDCDNOW(b *testing.B) {
	benchFit(b, cdnowSummary(b), FitBGNBD)
}

// BenchmarkFitBGNBD1M fits the BG/NBD model to the million customers of
// rfm1M. Data generation is outside the timed loop; collapsing identical
// rows is inside it.
func BenchmarkFitBGNBD1M(b *testing.B) {
	benchFit(b, rfm1M(), FitBGNBD)
}

// BenchmarkFitMBGNBDCDNOW fits the MBG/NBD model to the CDNOW customers.
func BenchmarkFitMBGNBDCDNOW(b *testing.B) {
	benchFit(b, cdnowSummary(b), FitMBGNBD)
}

// BenchmarkFitMBGNBD1M fits the MBG/NBD model to the customers of rfm1M.
func BenchmarkFitMBGNBD1M(b *testing.B) {
	benchFit(b, rfm1M(), FitMBGNBD)
}

// BenchmarkFitParetoNBDCDNOW fits the Pareto/NBD model to the CDNOW
// customers.
func BenchmarkFitParetoNBDCDNOW(b *testing.B) {
	benchFit(b, cdnowSummary(b), FitParetoNBD)
}

// BenchmarkFitParetoNBD1M fits the Pareto/NBD model to the customers of
// rfm1M.
func BenchmarkFitParetoNBD1M(b *testing.B) {
	benchFit(b, rfm1M(), FitParetoNBD)
}

// BenchmarkFitParetoNBDDegenerate fits three customers who all bought at
// the end of calibration: no interior maximum, so the fit ends in
// ErrNoConvergence; it must do so quickly (it took 6–9 s when the
// optimiser could drift to log-parameters of 17).
func BenchmarkFitParetoNBDDegenerate(b *testing.B) {
	cs := degenerateRows()
	for b.Loop() {
		if _, _, err := FitParetoNBD(cs, nil); !errors.Is(err, ErrNoConvergence) {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitGammaGammaCDNOW fits the Gamma-Gamma model to the 946 CDNOW
// repeat buyers.
func BenchmarkFitGammaGammaCDNOW(b *testing.B) {
	benchFit(b, cdnowSummary(b), FitGammaGamma)
}

// BenchmarkFitGammaGamma1M fits the Gamma-Gamma model to the repeat buyers
// among the customers of rfm1M.
func BenchmarkFitGammaGamma1M(b *testing.B) {
	benchFit(b, rfm1M(), FitGammaGamma)
}

// BenchmarkFitBGBBDonations fits the BG/BB model to the 11,104 donors of
// Fader, Hardie & Shang (2010).
func BenchmarkFitBGBBDonations(b *testing.B) {
	benchFit(b, donations(b), FitBGBB)
}

// BenchmarkFitBGBB1M fits the BG/BB model to the histories of donations1M.
func BenchmarkFitBGBB1M(b *testing.B) {
	benchFit(b, donations1M(), FitBGBB)
}

// BenchmarkFitSBGRegular fits the sBG model to the regular cohort of Fader
// & Hardie (2007).
func BenchmarkFitSBGRegular(b *testing.B) {
	benchFit(b, sbgRegular, FitSBG)
}

// BenchmarkFitSBG1M fits the sBG model to the survivors of cohort1M.
func BenchmarkFitSBG1M(b *testing.B) {
	benchFit(b, cohort1M(), FitSBG)
}

// benchFit times fit on data and reports the distinct rows and evaluations
// of the last fit, and the process CPU time per fit (cpu-ns/op: user +
// system time of the whole process, garbage collection included), which
// other processes on a shared machine disturb less than the wall time.
func benchFit[D any, M any](b *testing.B, data D, fit func(D, *FitOptions) (M, FitInfo, error)) {
	b.Helper()
	var info FitInfo
	cpu0 := cpuTime()
	for b.Loop() {
		var err error
		if _, info, err = fit(data, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(info.DistinctRows), "rows")
	b.ReportMetric(float64(info.Evaluations), "evals")
	if math.IsNaN(info.LogLikelihood) {
		b.Fatal("log-likelihood NaN")
	}
}

// BenchmarkBGBBLogLikelihoodLongHorizon evaluates the BG/BB likelihood of
// two histories of MaxOpportunities opportunities, at the donation data's
// estimates: the sum over the opportunities after Recency stops once the
// terms left cannot change it (a fit at 10^6 opportunities took minutes
// while it summed every term).
func BenchmarkBGBBLogLikelihoodLongHorizon(b *testing.B) {
	m := BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	cs := []DiscreteCustomer{{Frequency: 0, Recency: 0, Periods: MaxOpportunities}, {Frequency: 3, Recency: 10, Periods: MaxOpportunities}}
	for b.Loop() {
		if _, err := m.LogLikelihood(cs); err != nil {
			b.Fatal(err)
		}
	}
}
