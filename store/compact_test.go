package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSearchDigest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 32, 33, 100, 1000} {
		seen := make([]uint64, 0, n)
		for len(seen) < n {
			seen = append(seen, r.Uint64())
		}
		// Clustered digests defeat the estimate: the fall-back must
		// still find everything.
		if n == 1000 {
			for i := range seen[:500] {
				seen[i] = uint64(i) * 3
			}
		}
		slices.Sort(seen)
		seen = slices.Compact(seen)
		probes := slices.Clone(seen)
		for range 2000 {
			probes = append(probes, r.Uint64(), r.Uint64()%4000)
		}
		for _, d := range probes {
			wi, wf := slices.BinarySearch(seen, d)
			if i, f := searchDigest(seen, d); i != wi || f != wf {
				t.Fatalf("n=%d: searchDigest(%d) = %d, %v; want %d, %v", n, d, i, f, wi, wf)
			}
		}
	}
}
