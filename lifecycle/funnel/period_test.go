package funnel_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle/funnel"
)

func TestPeriod(t *testing.T) {
	every3d, err := funnel.Every(72*time.Hour, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		p     funnel.Period
		t     time.Time
		key   string
		start time.Time
	}{
		{"day", funnel.Day, utc(2026, 3, 1, 23), "2026-03-01", utc(2026, 3, 1, 0)},
		{"zero period is day", funnel.Period{}, utc(2026, 3, 1, 1), "2026-03-01", utc(2026, 3, 1, 0)},
		{"day in another zone counts in UTC", funnel.Day, time.Date(2026, 3, 2, 1, 0, 0, 0, time.FixedZone("CET", 3600)), "2026-03-02", utc(2026, 3, 2, 0)},
		{"week starts on Monday", funnel.Week, utc(2026, 1, 1, 12), "2026-W01", utc(2025, 12, 29, 0)},
		{"Sunday ends the week", funnel.Week, utc(2026, 3, 8, 23), "2026-W10", utc(2026, 3, 2, 0)},
		{"month", funnel.Month, utc(2026, 2, 28, 5), "2026-02", utc(2026, 2, 1, 0)},
		{"month before 1970", funnel.Month, utc(1969, 12, 31, 5), "1969-12", utc(1969, 12, 1, 0)},
		{"every 3 days", every3d, utc(2026, 1, 7, 1), "2026-01-07T00:00:00Z", utc(2026, 1, 7, 0)},
		{"every 3 days before origin", every3d, utc(2025, 12, 31, 1), "2025-12-29T00:00:00Z", utc(2025, 12, 29, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Key(tc.t); got != tc.key {
				t.Errorf("Key = %q, want %q", got, tc.key)
			}
			if got := tc.p.Start(tc.p.Index(tc.t)); !got.Equal(tc.start) {
				t.Errorf("Start(Index) = %v, want %v", got, tc.start)
			}
		})
	}
	if _, err := funnel.Every(0, time.Time{}); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("Every(0): error = %v, want ErrInvalidInput", err)
	}
}

// FuzzPeriod checks that the period holding t starts at or before t and
// that the next one starts after t, and that keys follow time order.
func FuzzPeriod(f *testing.F) {
	f.Add(int64(1767225600), int64(3600), uint8(0))
	f.Add(int64(-86400*400), int64(86399), uint8(1))
	f.Add(int64(1772323200), int64(0), uint8(2))
	f.Add(int64(1700000000), int64(259200), uint8(3))
	f.Fuzz(func(t *testing.T, sec, delta int64, kind uint8) {
		const span = 200 * 365 * 86400 // about 1870 to 2170
		sec = sec % span
		delta = delta % (400 * 86400)
		if delta < 0 {
			delta = -delta
		}
		ps := []funnel.Period{funnel.Day, funnel.Week, funnel.Month}
		every, _ := funnel.Every(time.Duration(delta%86400+1)*time.Minute, time.Unix(0, 0))
		ps = append(ps, every)
		p := ps[int(kind)%len(ps)]
		a := time.Unix(sec, 0).UTC()
		b := a.Add(time.Duration(delta) * time.Second)
		i := p.Index(a)
		if s := p.Start(i); s.After(a) || !p.Start(i+1).After(a) {
			t.Fatalf("%v: %v not in [%v, %v)", p, a, s, p.Start(i+1))
		}
		if p.Index(b) < i {
			t.Fatalf("%v: Index(%v) = %d < Index(%v) = %d", p, b, p.Index(b), a, i)
		}
		if p.Key(b) < p.Key(a) {
			t.Fatalf("%v: Key(%v) = %q sorts before Key(%v) = %q", p, b, p.Key(b), a, p.Key(a))
		}
	})
}

// Buckets shorter than a second, or an origin inside a second, still get
// one key each, and the keys still sort in time order.
func TestEveryKeysBelowASecond(t *testing.T) {
	origin := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d      time.Duration
		origin time.Time
	}{
		{500 * time.Millisecond, origin},
		{1500 * time.Millisecond, origin},
		{time.Hour, origin.Add(250 * time.Millisecond)},
	} {
		p, err := funnel.Every(tc.d, tc.origin)
		if err != nil {
			t.Fatal(err)
		}
		var prev string
		for k := int64(-3); k < 4; k++ {
			s := p.Start(k)
			key := p.Key(s)
			if got, err := time.Parse(time.RFC3339Nano, key); err != nil || !got.Equal(s) {
				t.Errorf("%v: Key(%v) = %q, want its start in RFC 3339", p, s, key)
			}
			if k > -3 && key <= prev {
				t.Errorf("%v: key %q of bucket %d does not sort after %q", p, key, k, prev)
			}
			prev = key
		}
	}
}

// TestEveryTinyPeriodFarAway: a period of a few nanoseconds thousands of
// years from its origin has an index past the int64 range, which
// saturates; Key still names the bucket that holds the time (it named one
// bucket, holding none of them, for every such time: found by a
// hostile-input audit).
func TestEveryTinyPeriodFarAway(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{time.Nanosecond, 7, 10, 33} {
		p, err := funnel.Every(d, origin)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		for _, at := range []time.Time{
			time.Date(5000, 6, 1, 0, 0, 0, 123, time.UTC),
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 0, 0, 0, 100, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 17, time.UTC),
			origin.Add(-3),
		} {
			key := p.Key(at)
			start, err := time.Parse(time.RFC3339Nano, key)
			if err != nil {
				t.Fatalf("every %v: Key(%v) = %q: %v", d, at, key, err)
			}
			if start.After(at) || !at.Before(start.Add(d)) {
				t.Errorf("every %v: Key(%v) = %q, a bucket that does not hold it", d, at, key)
			}
			if keys[key] {
				t.Errorf("every %v: Key(%v) = %q, the key of another time", d, at, key)
			}
			keys[key] = true
		}
	}
	p, _ := funnel.Every(10, origin)
	if got := p.Index(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)); got != math.MaxInt64 {
		t.Errorf("Index far past the int64 range = %d; want it saturated at math.MaxInt64", got)
	}
}
