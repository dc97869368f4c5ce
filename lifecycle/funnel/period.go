package funnel

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"time"
)

// Period is a calendar bucket used to group customers into cohorts and to
// count periods since a cohort started. All periods are computed in UTC.
// The zero Period is [Day].
type Period struct {
	unit   periodUnit
	every  time.Duration
	origin time.Time
}

type periodUnit uint8

const (
	unitDay periodUnit = iota
	unitWeek
	unitMonth
	unitEvery
)

// The calendar periods.
var (
	// Day is a UTC calendar day; its key looks like "2026-03-01".
	Day = Period{unit: unitDay}
	// Week is an ISO 8601 week, Monday to Sunday in UTC; its key is the ISO
	// year and week, like "2026-W09".
	Week = Period{unit: unitWeek}
	// Month is a UTC calendar month; its key looks like "2026-03".
	Month = Period{unit: unitMonth}
)

// Every returns a period of fixed length d: buckets [origin + k·d,
// origin + (k+1)·d) for every integer k, so times before origin fall in
// buckets with negative k. The key of a bucket is its start in RFC 3339
// form (UTC), like "2026-03-01T00:00:00Z"; when d or origin is not a whole
// number of seconds, every key has nine fractional digits, like
// "2026-03-01T00:00:00.500000000Z". It returns an error wrapping
// [ErrInvalidInput] when d is not positive.
func Every(d time.Duration, origin time.Time) (Period, error) {
	if d <= 0 {
		return Period{}, fmt.Errorf("%w: period duration %v must be positive", ErrInvalidInput, d)
	}
	return Period{unit: unitEvery, every: d, origin: origin.UTC()}, nil
}

// String returns "day", "week", "month" or "every <duration> from <origin>".
func (p Period) String() string {
	switch p.unit {
	case unitWeek:
		return "week"
	case unitMonth:
		return "month"
	case unitEvery:
		return "every " + p.every.String() + " from " + p.origin.Format(time.RFC3339)
	}
	return "day"
}

// Index returns the sequence number of the period containing t: days,
// weeks or months since an arbitrary fixed epoch, or k for [Every]. The
// difference of two indexes is the number of whole periods between the
// buckets of the two times. An [Every] index beyond the int64 range (a
// period of a few tens of nanoseconds, thousands of years from its
// origin) saturates at math.MinInt64 or math.MaxInt64; [Period.Key] still
// names the right bucket.
func (p Period) Index(t time.Time) int64 {
	t = t.UTC()
	switch p.unit {
	case unitWeek:
		// 1970-01-01 was a Thursday; shifting by 3 days makes Monday the
		// first day of each week.
		return floorDiv(daysSinceEpoch(t)+3, 7)
	case unitMonth:
		return int64(t.Year())*12 + int64(t.Month()) - 1
	case unitEvery:
		if d := t.Sub(p.origin); d > math.MinInt64 && d < math.MaxInt64 {
			return floorDiv(int64(d), int64(p.every))
		}
		// More than about 292 years from the origin, where Sub saturates:
		// the same floor division, in wider integers (an index past the
		// int64 range saturates).
		return saturate(p.bigIndex(t))
	}
	return daysSinceEpoch(t)
}

// bigIndex returns the index of the [Every] bucket holding t, computed in
// integers as wide as it needs.
func (p Period) bigIndex(t time.Time) *big.Int {
	diff := new(big.Int).Mul(big.NewInt(t.Unix()-p.origin.Unix()), big.NewInt(1e9))
	diff.Add(diff, big.NewInt(int64(t.Nanosecond()-p.origin.Nanosecond())))
	return diff.Div(diff, big.NewInt(int64(p.every))) // Euclidean: the floor, for a positive divisor
}

// bigStart returns the start of the [Every] bucket with index q (as Start
// does, in integers as wide as it needs).
func (p Period) bigStart(q *big.Int) time.Time {
	ns := new(big.Int).Mul(q, big.NewInt(int64(p.every)))
	sec, frac := new(big.Int).DivMod(ns, big.NewInt(1e9), new(big.Int))
	sec.Add(sec, big.NewInt(p.origin.Unix()))
	return time.Unix(saturate(sec), int64(p.origin.Nanosecond())+frac.Int64()).UTC()
}

// saturate returns x, or the int64 nearest to it.
func saturate(x *big.Int) int64 {
	switch {
	case x.IsInt64():
		return x.Int64()
	case x.Sign() < 0:
		return math.MinInt64
	}
	return math.MaxInt64
}

// Start returns the first instant (UTC) of the period with this index.
func (p Period) Start(index int64) time.Time {
	switch p.unit {
	case unitWeek:
		return time.Unix((index*7-3)*86400, 0).UTC()
	case unitMonth:
		y, m := floorDiv(index, 12), index-floorDiv(index, 12)*12
		return time.Date(int(y), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC)
	case unitEvery:
		u := uint64(index) // |index|, MinInt64's as 2^63
		if index < 0 {
			u = -u
		}
		if hi, lo := bits.Mul64(u, uint64(p.every)); hi == 0 && lo <= math.MaxInt64 {
			d := time.Duration(lo)
			if index < 0 {
				d = -d
			}
			return p.origin.Add(d)
		}
		// Beyond what a Duration holds: seconds and nanoseconds apart.
		return p.bigStart(big.NewInt(index))
	}
	return time.Unix(index*86400, 0).UTC()
}

// Key returns the name of the period containing t, as described for each
// period. Keys of one Period sort in time order (for years 1000 to 9999).
func (p Period) Key(t time.Time) string {
	t = t.UTC()
	switch p.unit {
	case unitWeek:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case unitMonth:
		return t.Format("2006-01")
	case unitEvery:
		layout := time.RFC3339
		if p.every%time.Second != 0 || p.origin.Nanosecond() != 0 {
			// Bucket starts inside a second: a fixed-width fraction keeps
			// every key distinct and in time order.
			layout = "2006-01-02T15:04:05.000000000Z07:00"
		}
		if i := p.Index(t); i != math.MinInt64 && i != math.MaxInt64 {
			return p.Start(i).Format(layout)
		}
		// A saturated index (a period of a few nanoseconds, far from the
		// origin): the bucket's start in wider integers.
		return p.bigStart(p.bigIndex(t)).Format(layout)
	}
	return t.Format(time.DateOnly)
}

func daysSinceEpoch(t time.Time) int64 { return floorDiv(t.Unix(), 86400) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
