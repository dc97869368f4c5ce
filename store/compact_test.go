package store

import (
	"math"
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

func TestRecordDigests(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rec := &record{seen: []uint64{5, 9}, run: 2}
	want := []uint64{5, 9}
	for i := range 5000 { // long enough for the tail limit to grow past maxTail
		d := r.Uint64()
		if i%7 == 0 {
			d = want[r.IntN(len(want))] // already there
		}
		_, there := slices.BinarySearch(want, d)
		if got := rec.hasDigest(d); got != there {
			t.Fatalf("after %d adds: hasDigest(%d) = %v; want %v", i, d, got, there)
		}
		if there {
			continue
		}
		rec.addDigest(d)
		j, _ := slices.BinarySearch(want, d)
		want = slices.Insert(want, j, d)
		if len(rec.seen)-int(rec.run) >= tailLimit(int(rec.run)) || !slices.IsSorted(rec.seen[:rec.run]) {
			t.Fatalf("after %d adds: run %d of %d, tail too long or run unsorted", i, rec.run, len(rec.seen))
		}
		out := slices.Clone(rec.seen)
		mergeTail(out, int(rec.run))
		if !slices.Equal(out, want) {
			t.Fatalf("after %d adds: merged seen = %v; want %v", i, out, want)
		}
	}
}

func TestTailLimit(t *testing.T) {
	prev := 0
	for run := 0; run <= 1<<22; run += 1 + run/50 {
		got := tailLimit(run)
		if got < prev || got < maxTail {
			t.Fatalf("tailLimit(%d) = %d after %d: must not shrink or go below %d", run, got, prev, maxTail)
		}
		if run < 512 && got != maxTail {
			t.Fatalf("tailLimit(%d) = %d; want %d for runs below 512", run, got, maxTail)
		}
		// Near 2√run: between √run and 4√run.
		if r := math.Sqrt(float64(run)); run >= 512 && (float64(got) < r || float64(got) > 4*r) {
			t.Fatalf("tailLimit(%d) = %d; want about 2√%d = %.0f", run, got, run, 2*r)
		}
		prev = got
	}
}
