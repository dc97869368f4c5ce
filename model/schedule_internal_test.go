package model

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestExactShortcuts checks shift and within, which skip time.Time's own
// overflow checks for times where Add is exact, against the plain
// formulas: t.Add(d) with its checks (shiftChecked), and
// now.Sub(last) <= d. The times
// span every magnitude time.Time can hold, both ends of its range and
// readings of the monotonic clock.
func TestExactShortcuts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Now() // with a monotonic reading
	edges := []time.Time{
		{}, time.Unix(0, 0).UTC(), base, base.Add(time.Hour), base.Round(0),
		time.Unix(1<<62-1, 999_999_999), time.Unix(-1<<62+1, 0), time.Unix(1<<62, 0), time.Unix(-1<<62, 0),
		time.Unix(math.MaxInt64-62135596800, 999_999_999), time.Unix(math.MinInt64, 0),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	randTime := func() time.Time {
		if r.IntN(4) == 0 {
			return edges[r.IntN(len(edges))]
		}
		bitsN := r.IntN(63)
		sec := r.Int64N(1<<bitsN + 1)
		if r.IntN(2) == 0 {
			sec = -sec
		}
		return time.Unix(sec, r.Int64N(1e9)).UTC()
	}
	randDur := func() time.Duration {
		switch r.IntN(6) {
		case 0:
			return math.MaxInt64
		case 1:
			return time.Duration(math.MaxInt64 - r.Int64N(1e12))
		case 2:
			return 1
		}
		return time.Duration(r.Int64N(1 << r.IntN(63)))
	}
	for i := range 200_000 {
		a, b, d := randTime(), randTime(), randDur()
		if r.IntN(8) == 0 { // near each other, where the answer turns
			b = a.Add(-d + time.Duration(r.IntN(3)-1))
		}
		if got, want := within(a, b, d), a.Sub(b) <= d; got != want {
			t.Fatalf("%d: within(%v, %v, %v) = %v; Sub says %v", i, a, b, d, got, want)
		}
		if r.IntN(2) == 0 {
			d = -d
		}
		got, ok := shift(a, d)
		want, wantOK := shiftChecked(a, d)
		if ok != wantOK || got != want {
			t.Fatalf("%d: shift(%v, %v) = %v, %v; want %v, %v", i, a, d, got, ok, want, wantOK)
		}
	}
}
