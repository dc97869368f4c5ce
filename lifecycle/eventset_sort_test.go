package lifecycle_test

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// TestEventSetSetSorts: Set of keys in any order, with repeats and
// legacy keys (which share their first byte), holds them sorted and once,
// as a plain sort and compaction of them would, for sizes around the
// one where Set starts dealing keys into runs by their first byte.
func TestEventSetSetSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 2, 63, 64, 65, 300, 5000} {
		for round := range 3 {
			keys := make([]lifecycle.EventKey, n)
			for i := range keys {
				switch rng.IntN(10) {
				case 0:
					keys[i] = lifecycle.LegacyKeyOf("e" + strconv.Itoa(rng.IntN(n+1)))
				case 1:
					if i > 0 {
						keys[i] = keys[rng.IntN(i)] // a repeat
						continue
					}
					fallthrough
				default:
					keys[i] = lifecycle.KeyOf("e" + strconv.Itoa(rng.IntN(4*n+1)))
				}
			}
			orig := slices.Clone(keys)
			want := slices.Clone(keys)
			slices.SortFunc(want, lifecycle.EventKey.Compare)
			want = slices.Compact(want)
			var s lifecycle.EventSet
			if round == 1 {
				s.Set(make([]lifecycle.EventKey, 10)) // memory to reuse
			}
			s.Set(keys)
			got := slices.Collect(s.All())
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d round %d: Set holds %d keys, not the %d sorted once", n, round, len(got), len(want))
			}
			if !slices.Equal(keys, orig) {
				t.Fatalf("n=%d: Set changed its argument", n)
			}
			if s.Len() != len(want) {
				t.Fatalf("n=%d: Len %d, want %d", n, s.Len(), len(want))
			}
		}
	}
}

// BenchmarkEventSetSet sets 200 keys in arrival order, as a store's read
// of a customer with 200 events does.
func BenchmarkEventSetSet(b *testing.B) {
	keys := make([]lifecycle.EventKey, 200)
	for i := range keys {
		keys[i] = lifecycle.KeyOf("e" + strconv.Itoa(i))
	}
	var s lifecycle.EventSet
	for b.Loop() {
		s.Set(keys)
	}
}
