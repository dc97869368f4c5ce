package clv

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The hand-written hash table must count exactly like a Go map.
func TestCollapseCustomers(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	cs := simulateBGNBD(rng, cdnowBGNBD, 50000, 27, 39, 7)
	cs = append(cs, Customer{Frequency: 0, Recency: math.Copysign(0, -1), T: cs[0].T})
	tb, sumX, sumT, err := collapseCustomers(cs)
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[rfmKey]float64)
	var wantX, wantT float64
	for _, c := range cs {
		want[rfmKey{int64(c.Frequency), math.Abs(c.Recency), c.T}]++
		wantX += float64(c.Frequency)
		wantT += c.T
	}
	if len(tb.keys) != len(want) {
		t.Fatalf("%d distinct rows, want %d", len(tb.keys), len(want))
	}
	for i, k := range tb.keys {
		if tb.counts[i] != want[k] {
			t.Errorf("row %+v counted %v times, want %v", k, tb.counts[i], want[k])
		}
	}
	if sumX != wantX || math.Abs(sumT-wantT) > 1e-9*wantT {
		t.Errorf("sums (%v, %v), want (%v, %v)", sumX, sumT, wantX, wantT)
	}
}
