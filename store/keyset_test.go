package store

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// TestKeySet checks the set against a sorted slice: random keys, keys
// already there, and clustered keys that differ in few bits, over several
// growths of the bucket and of the number of buckets.
func TestKeySet(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, clustered := range []bool{false, true} {
		var s keySet
		var want []lifecycle.EventKey
		for i := range 5000 {
			d := randKey(r)
			if clustered {
				binary.BigEndian.PutUint64(d[:8], 7)
				binary.BigEndian.PutUint64(d[8:], uint64(i))
			}
			if i%7 == 0 && len(want) > 0 {
				d = want[r.IntN(len(want))] // already there
			}
			j, there := slices.BinarySearchFunc(want, d, lifecycle.EventKey.Compare)
			if got := s.has(d); got != there {
				t.Fatalf("clustered %v, after %d adds: has(%v) = %v; want %v", clustered, i, d, got, there)
			}
			if added := s.add(d); added == there {
				t.Fatalf("clustered %v: add(%v) = %v with the key there: %v", clustered, d, added, there)
			}
			if !there {
				want = slices.Insert(want, j, d)
			}
			if s.len() != len(want) || s.slots()>>s.shift > maxBucket || s.len() > s.slots() {
				t.Fatalf("clustered %v: %d keys in %d slots, %d buckets; want %d keys, buckets of at most %d", clustered, s.len(), s.slots(), 1<<s.shift, len(want), maxBucket)
			}
		}
		got := s.list()
		slices.SortFunc(got, lifecycle.EventKey.Compare)
		if !slices.Equal(got, want) {
			t.Fatalf("clustered %v: list() differs from the %d keys added", clustered, len(want))
		}
		// set: the same keys, in a table sized for them.
		var es lifecycle.EventSet
		es.Set(want)
		var c keySet
		c.set(&es)
		for _, k := range want {
			if !c.has(k) {
				t.Fatalf("clustered %v: set lost %v", clustered, k)
			}
		}
		if c.len() != len(want) || c.has(randKey(r)) {
			t.Fatalf("clustered %v: set holds %d keys or a key not given; want %d", clustered, c.len(), len(want))
		}
		// A free slot's key bytes are zero: the zero key is found only once added.
		var zero lifecycle.EventKey
		if c.has(zero) || !c.add(zero) || !c.has(zero) || c.add(zero) {
			t.Fatalf("clustered %v: the zero key is found before it is added, or not after", clustered)
		}
		c.set(&lifecycle.EventSet{})
		if c.len() != 0 || c.tab != nil || c.list() != nil || c.has(want[0]) {
			t.Fatalf("clustered %v: set of the empty set is not empty", clustered)
		}
	}
}

// TestKeySetSize checks the sizes the docs rely on: one bucket whose slots
// grow from 4 to 128 (4, 8, 12, 16, then doubling), in arrival order, 16
// bytes a slot (a typical customer's 12 keys in 12 slots, 192 bytes), then
// buckets of 128 slots (the first holding the bucket's count) that double
// in number.
func TestKeySetSize(t *testing.T) {
	var s keySet
	r := rand.New(rand.NewPCG(5, 6))
	var added []lifecycle.EventKey
	sizes := []int{4, 8, 12, 16, 32, 64, 128}
	for i := 1; i <= 5000; i++ {
		k := randKey(r)
		s.add(k)
		added = append(added, k)
		if i <= maxBucket {
			want := sizes[0]
			for _, n := range sizes {
				if n >= i {
					want = n
					break
				}
			}
			if s.slots() != want || s.shift != 0 || len(s.tab) != 16*want {
				t.Fatalf("%d keys in %d slots (%d bytes), %d buckets; want %d slots, 1 bucket", i, s.slots(), len(s.tab), 1<<s.shift, want)
			}
			if got := s.list(); !slices.Equal(got, added) {
				t.Fatalf("%d keys: not in arrival order", i)
			}
		} else if s.slots()>>s.shift != maxBucket || len(s.tab) != 16*s.slots() {
			t.Fatalf("%d keys in %d slots (%d bytes), %d buckets; want buckets of %d", i, s.slots(), len(s.tab), 1<<s.shift, maxBucket)
		} else {
			sum := 0
			for b := range s.buckets() {
				_, _, fill := s.bucket(uint64(b))
				if fill > maxBucket-1 {
					t.Fatalf("%d keys: bucket %d counts %d keys; it has room for %d", i, b, fill, maxBucket-1)
				}
				sum += fill
			}
			if sum != i {
				t.Fatalf("%d keys: the buckets count %d", i, sum)
			}
		}
		if i == 12 && len(s.tab) != 192 {
			t.Fatalf("12 keys take %d bytes; want 192", len(s.tab))
		}
	}
	if s.slots() > 4*5000 {
		t.Fatalf("5,000 keys in %d slots; want at most 4 a key", s.slots())
	}
}

// TestKeyCode checks that a key's code gives the key back, and that keys
// that differ in one bit have codes that differ in about half their bits,
// tags and bucket bits included.
func TestKeyCode(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	flips := 0
	const n = 20000
	for i := range n {
		k := randKey(r)
		if i%3 == 0 {
			k = lifecycle.EventKey{}
			k[i%16] = byte(i)
		}
		lo, hi := codeOf(&k)
		if back := keyOf(lo, hi); back != k {
			t.Fatalf("keyOf(codeOf(%v)) = %v", k, back)
		}
		k2 := k
		k2[r.IntN(16)] ^= 1 << r.IntN(8)
		lo2, hi2 := codeOf(&k2)
		flips += bits.OnesCount64(lo^lo2) + bits.OnesCount64(hi^hi2)
		if uint16(lo) == uint16(lo2) && hi&0xff == hi2&0xff && lo == lo2 {
			t.Fatalf("keys %v and %v share a code word", k, k2)
		}
	}
	if avg := float64(flips) / n; avg < 60 || avg > 68 {
		t.Fatalf("a flipped key bit changes %.1f code bits on average; want about 64", avg)
	}
}

// BenchmarkKeySetAdd adds new keys to 10,000 sets in turn, as recording
// an order for one of 10,000 customers does.
func BenchmarkKeySetAdd(b *testing.B) {
	sets := make([]keySet, 10_000)
	r := rand.New(rand.NewPCG(7, 8))
	keys := make([]lifecycle.EventKey, 1<<16)
	for i := range keys {
		keys[i] = randKey(r)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := &sets[i%len(sets)]
		k := keys[i%len(keys)]
		k[0] ^= byte(i >> 16)
		k[1] ^= byte(i >> 24)
		if !s.add(k) {
			b.Fatal("a new key was there")
		}
	}
}

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
