package funnel

import (
	"math"
	"slices"
	"time"
)

// DefaultPercentiles are the percentiles a [Dist] reports unless
// [Percentiles] chooses others.
var DefaultPercentiles = []float64{25, 50, 75, 90}

// Dist summarises a set of durations exactly (every duration is kept until
// the report is built; no sketch, no interpolation). A duration is a
// time.Duration, which holds about 292 years: a longer one (a history
// from 1900 to 9999, say) is counted as the largest Duration,
// math.MaxInt64 nanoseconds, as time.Time.Sub gives it.
//
// Percentiles use the nearest-rank definition: the p-th percentile of N
// sorted durations d[1] ≤ … ≤ d[N] is d[⌈p/100 · N⌉], the smallest observed
// duration such that at least p percent of the durations are at or below
// it. So the median of an even number of durations is the lower of the two
// middle ones, and every reported percentile is an observed duration. The
// rank is computed in float64, as math.Ceil(p * N / 100): exact for a
// whole p, while a p no float64 holds exactly may land on the rank above
// its decimal reading (16.1 of 1,000 durations: the 162nd, the float64
// nearest 16.1 being a little above it).
type Dist struct {
	// N is the number of durations; every other field is zero when N is 0.
	N int `json:"n"`
	// Min, Median and Max are the smallest, the nearest-rank 50th
	// percentile and the largest duration.
	Min    time.Duration `json:"min"`
	Median time.Duration `json:"median"`
	Max    time.Duration `json:"max"`
	// Mean is the arithmetic mean, rounded to the nanosecond.
	Mean time.Duration `json:"mean"`
	// Percentiles holds one entry per requested percentile, in the order
	// requested (see [Percentiles]).
	Percentiles []Percentile `json:"percentiles,omitempty"`
}

// Percentile is one nearest-rank percentile of a [Dist].
type Percentile struct {
	P     float64       `json:"p"` // in (0, 100]
	Value time.Duration `json:"value"`
}

// Percentile returns the reported value for percentile p; ok is false when
// p was not requested or the Dist is empty.
func (d Dist) Percentile(p float64) (v time.Duration, ok bool) {
	for _, q := range d.Percentiles {
		if q.P == p {
			return q.Value, d.N > 0
		}
	}
	return 0, false
}

// mean returns the arithmetic mean of ds (not empty), rounded to the
// nanosecond, half away from zero, computed exactly: a float64 sum would
// lose nanoseconds once durations pass about 104 days (2⁵³ ns).
func mean(ds []time.Duration) time.Duration {
	// Each v is q·n + r with 0 ≤ r < n, so the mean is Σq + Σr/n; Σq stays
	// within the range of the durations and Σr below n².
	n := int64(len(ds))
	var q, r int64
	for _, v := range ds {
		qi, ri := int64(v)/n, int64(v)%n
		if ri < 0 {
			qi, ri = qi-1, ri+n
		}
		q += qi
		r += ri
		if r >= n {
			q, r = q+r/n, r%n
		}
	}
	// The mean is q + r/n with 0 ≤ r < n.
	if 2*r > n || (2*r == n && q >= 0) {
		q++
	}
	return time.Duration(q)
}

// newDist summarises ds, sorting it in place.
func newDist(ds []time.Duration, ps []float64) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	slices.Sort(ds)
	d := Dist{
		N:      len(ds),
		Min:    ds[0],
		Median: rank(ds, 50),
		Max:    ds[len(ds)-1],
		Mean:   mean(ds),
	}
	if len(ps) > 0 {
		d.Percentiles = make([]Percentile, len(ps))
		for i, p := range ps {
			d.Percentiles[i] = Percentile{P: p, Value: rank(ds, p)}
		}
	}
	return d
}

// rank returns the nearest-rank percentile p of sorted, non-empty ds.
func rank(ds []time.Duration, p float64) time.Duration {
	k := int(math.Ceil(p * float64(len(ds)) / 100))
	// Guard against rounding in p/100*N producing N+1 or 0.
	k = min(max(k, 1), len(ds))
	return ds[k-1]
}

// durs collects durations in chunks that are never moved once allocated,
// so that adding millions of them costs no re-copying.
type durs struct {
	chunks [][]time.Duration
	n      int
}

const (
	firstChunk = 64
	maxChunk   = 1 << 16
)

func (d *durs) add(v time.Duration) {
	if k := len(d.chunks); k == 0 || len(d.chunks[k-1]) == cap(d.chunks[k-1]) {
		size := firstChunk
		if k > 0 {
			size = min(2*cap(d.chunks[k-1]), maxChunk)
		}
		d.chunks = append(d.chunks, make([]time.Duration, 0, size))
	}
	last := &d.chunks[len(d.chunks)-1]
	*last = append(*last, v)
	d.n++
}

// dist summarises the durations collected so far.
func (d *durs) dist(ps []float64) Dist {
	all := make([]time.Duration, 0, d.n)
	for _, c := range d.chunks {
		all = append(all, c...)
	}
	return newDist(all, ps)
}
