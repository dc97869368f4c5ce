package clv

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkFitBGNBDCDNOW fits the BG/NBD model to the 2,357 CDNOW customers.
//
//	go test ./lifecycle/clv -run '^$' -bench FitBGNBD -benchmem
func BenchmarkFitBGNBDCDNOW(b *testing.B) {
	cs := cdnowSummary(b)
	for b.Loop() {
		if _, _, err := FitBGNBD(cs, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitBGNBD1M fits the BG/NBD model to one million synthetic
// customers drawn (seeded) from r=0.25, α=4, a=0.8, b=2.5, with a CDNOW-like
// design: acquisition over 12 weeks, 39-week calibration, times at day
// resolution in weeks. Data generation is outside the timed loop; collapsing
// identical rows is inside it.
func BenchmarkFitBGNBD1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(2005, 24))
	cs := simulateBGNBD(rng, BGNBD{R: 0.25, Alpha: 4, A: 0.8, B: 2.5}, 1_000_000, 27, 39, 7)
	var info FitInfo
	for b.Loop() {
		var err error
		if _, info, err = FitBGNBD(cs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(info.DistinctRows), "rows")
}
