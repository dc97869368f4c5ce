package webhook

import (
	"math"
	"testing"
	"time"
)

// Verify "refuses a timestamp more than tolerance from now either way"
// (docs/feed.md). A review found timestamps centuries in the past accepted
// under the largest tolerance: time.Time.Sub saturates at about 292
// years, which then equalled the tolerance.
func TestWithin(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC) // .25 s
	n := now.Unix()
	five := 5 * time.Minute
	max := time.Duration(math.MaxInt64)
	for _, tc := range []struct {
		sec  int64
		tol  time.Duration
		want bool
	}{
		{n, five, true},
		{n - 300, five, false}, // 5 min 0.25 s ago
		{n - 299, five, true},  // 4 min 59.25 s ago
		{n + 300, five, true},  // 4 min 59.75 s ahead
		{n + 301, five, false}, // 5 min 0.75 s ahead
		{n - 300, five + 250*time.Millisecond, true},
		{n - 300, five + 249*time.Millisecond, false},
		{n + 301, five + 750*time.Millisecond, true},
		{n + 301, five + 749*time.Millisecond, false},
		{-9223372036, max, false},   // 1677: more than 292 years ago
		{n - 9223372036, max, true}, // 292 years and 0.25 s ago: within 292 years and 0.85 s
		{n - 9223372037, max, false},
		{-99999999999, max, false},
		{math.MinInt64, max, false},
		{math.MaxInt64, max, false},
		{99999999999, max, false},
		{n - 9_000_000_000, max, true}, // 285 years ago
		{n + 9_000_000_000, max, true},
		{math.MinInt64, five, false},
		{math.MaxInt64, five, false},
	} {
		if got := within(now, tc.sec, tc.tol); got != tc.want {
			t.Errorf("within(now, %d, %v) = %v, want %v", tc.sec, tc.tol, got, tc.want)
		}
	}
}
