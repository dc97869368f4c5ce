package model

import (
	"math"
	"time"
)

// Helpers for the models' NextChange methods (see [lifecycle.Scheduler]).
// They return the zero time for "never" and keep to the contract's safe
// side: when an instant cannot be computed exactly (time.Time overflow),
// they answer one that is earlier than the real one.

// dueNow returns a time at or before now that is not the zero time (which
// means "never"): now itself, or 1ns before it when now is the zero time.
func dueNow(now time.Time) time.Time {
	if now.IsZero() {
		return now.Add(-time.Nanosecond)
	}
	return now
}

// shift returns t + d, or ok false when the sum leaves time.Time's range
// (Add saturates or wraps there, so the result would not be t + d).
func shift(t time.Time, d time.Duration) (time.Time, bool) {
	if exact(t) {
		return t.Add(d), true
	}
	return shiftChecked(t, d)
}

// shiftChecked is shift for any t, by the checks time.Time allows: the
// sum must lie on the right side of t and be d away from it.
func shiftChecked(t time.Time, d time.Duration) (time.Time, bool) {
	r := t.Add(d)
	switch {
	case d > 0 && !r.After(t), d < 0 && !r.Before(t):
		return time.Time{}, false
	case r.Sub(t) != d:
		return time.Time{}, false
	}
	return r, true
}

// exact reports that t.Add(d) is exactly t + d for every Duration d: Add
// saturates only when the seconds it keeps (since year 1) leave int64,
// and a Duration moves them by less than 2^34, so any t within 2^62
// seconds of 1970 (about 146 billion years) is far from that. shift and
// summary.active use it to skip the checks Add needs near the ends of
// time.Time's range (TestExactShortcuts compares both ways).
func exact(t time.Time) bool {
	u := t.Unix()
	return -1<<62 < u && u < 1<<62
}

// instant turns a computed instant into an answer: the zero time means
// "never", so an instant that happens to be the zero time (January 1 of
// year 1, 00:00 UTC) is answered 1ns earlier, which the contract allows.
func instant(t time.Time) time.Time {
	if t.IsZero() {
		return t.Add(-time.Nanosecond)
	}
	return t
}

// exceeds returns the first instant t at which t.Sub(from) > d, which is
// when a condition "now.Sub(from) <= d" turns false for good: from + d +
// 1ns. time.Time.Sub saturates at the largest Duration, so with d that
// large the condition never turns false and exceeds returns the zero time
// (never). When from + d + 1ns is out of time.Time's range, it returns
// dueNow(now).
func exceeds(from time.Time, d time.Duration, now time.Time) time.Time {
	if d == math.MaxInt64 {
		return time.Time{}
	}
	t, ok := shift(from, d+1)
	if !ok {
		return dueNow(now)
	}
	return instant(t)
}

// reaches returns the first instant t at which t.Sub(from) >= d, which is
// when a condition "now.Sub(from) >= d" turns true for good: from + d.
// When that is out of time.Time's range, it returns dueNow(now).
func reaches(from time.Time, d time.Duration, now time.Time) time.Time {
	t, ok := shift(from, d)
	if !ok {
		return dueNow(now)
	}
	return instant(t)
}

// earliest returns the earlier of a and b, where the zero time means
// never (later than any instant).
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// activeUntil returns when a buyer who is active at now (see
// [summary.active]) stops being active through time alone: the first
// instant after LapseAfter has passed since the last purchase, last
// purchase + lapse + 1ns (active holds while now − last ≤ lapse). It
// returns the zero time when buyers never lapse (lapse ≤ 0). Only the
// lapse depends on time: net purchases and cancellations do not, and once
// lapsed a buyer stays lapsed until an event arrives.
func (s *summary) activeUntil(now time.Time, lapse time.Duration) time.Time {
	if lapse <= 0 {
		return time.Time{}
	}
	return exceeds(s.lastPurchase(), lapse, now)
}
