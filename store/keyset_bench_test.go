package store

import (
	"math/rand/v2"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// BenchmarkKeySetHasLarge looks up keys that are not there (a new event,
// the common case) in 10,000 sets of 300 keys each: several buckets a
// set, 48 MB of keys in all, so most look-ups miss the cache.
func BenchmarkKeySetHasLarge(b *testing.B) {
	sets := make([]keySet, 10_000)
	r := rand.New(rand.NewPCG(9, 10))
	for i := range sets {
		for range 300 {
			sets[i].add(randKey(r))
		}
	}
	probes := make([]lifecycle.EventKey, 1<<16)
	for i := range probes {
		probes[i] = randKey(r)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if sets[(i*7919)%len(sets)].has(probes[i%len(probes)]) {
			b.Fatal("found a key never added")
		}
	}
}
