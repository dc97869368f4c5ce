package numeric

import "math"

// AddSat returns a + b for a non-negative a, saturating at
// math.MaxInt64 (a negative b only lowers the sum). Counts and amounts of
// money add up this way across the library, so that no sum wraps negative.
func AddSat(a, b int64) int64 {
	return min(a, math.MaxInt64-max(b, 0)) + b
}
