package funnel

import (
	"fmt"
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
// buckets of the two times.
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
		return floorDiv(int64(t.Sub(p.origin)), int64(p.every))
	}
	return daysSinceEpoch(t)
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
		return p.origin.Add(time.Duration(index) * p.every)
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
		return p.Start(p.Index(t)).Format(layout)
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
