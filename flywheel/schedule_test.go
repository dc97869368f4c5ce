package flywheel_test

import (
	"math"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
)

func TestModelNextChange(t *testing.T) {
	const (
		O  = lifecycle.OrderCompleted
		R  = lifecycle.OrderRefunded
		RV = lifecycle.ReviewPosted
		SH = lifecycle.SocialShared
		RM = lifecycle.ReferralMade
		RC = lifecycle.ReferralConverted
	)
	lapse, window := flywheel.DefaultLapseAfter, flywheel.DefaultAdvocateWindow
	var never time.Time
	tests := []struct {
		name   string
		opts   []flywheel.ModelOption
		events []lifecycle.Event
		at     time.Duration // now, after t0
		want   time.Time     // zero: never
	}{
		{"no facts never change", nil, nil, 0, never},
		{"prospect never changes", nil, []lifecycle.Event{ev("v", lifecycle.SiteVisited, 0)}, day, never},
		{"lead never changes", nil, []lifecycle.Event{ev("s", lifecycle.SignedUp, 0)}, 400 * day, never},
		{"refunded buyer never changes", nil, []lifecycle.Event{ev("o", O, 0), ev("r", R, day)}, day, never},
		// Active holds while now − last order ≤ LapseAfter.
		{"nurture lapses at last order + 180 days + 1ns", nil, []lifecycle.Event{ev("o", O, 0)}, day, t0.Add(lapse + time.Nanosecond)},
		{"retain lapses from the last order", nil, []lifecycle.Event{ev("o1", O, 0), ev("o2", O, 20*day)}, 21 * day, t0.Add(20*day + lapse + time.Nanosecond)},
		{"at the lapse limit: 1ns to go", nil, []lifecycle.Event{ev("o", O, 0)}, lapse, t0.Add(lapse + time.Nanosecond)},
		{"lapsed buyer never changes", nil, []lifecycle.Event{ev("o", O, 0)}, lapse + time.Nanosecond, never},
		{"advocate by referral lapses", nil, []lifecycle.Event{ev("o", O, 0), ev("c", RC, day)}, 2 * day, t0.Add(lapse + time.Nanosecond)},
		// The window holds while now − last ≤ AdvocateWindow.
		{"advocate by a review leaves at review + 90 days + 1ns", nil, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day)}, day, t0.Add(day + window + time.Nanosecond)},
		{"the latest event in the window counts", nil, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day), ev("sh", SH, 5*day), ev("rm", RM, 3*day)}, 6 * day, t0.Add(5*day + window + time.Nanosecond)},
		{"an event out of the window does not count", nil, []lifecycle.Event{ev("o", O, 100*day), ev("rv", RV, 0), ev("sh", SH, 99*day)}, 100 * day, t0.Add(99*day + window + time.Nanosecond)},
		{"the lapse comes first", []flywheel.ModelOption{flywheel.LapseAfter(30 * day)}, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day)}, day, t0.Add(30*day + time.Nanosecond)},
		{"window closed: the lapse only", nil, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day)}, 92 * day, t0.Add(lapse + time.Nanosecond)},
		{"window off: the lapse only", []flywheel.ModelOption{flywheel.AdvocateWindow(0)}, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day)}, day, t0.Add(lapse + time.Nanosecond)},
		{"referrals make the window moot", nil, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day), ev("c", RC, day)}, day, t0.Add(lapse + time.Nanosecond)},
		{"too few referrals: the window counts", []flywheel.ModelOption{flywheel.AdvocateReferrals(2)}, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day), ev("c", RC, day)}, day, t0.Add(day + window + time.Nanosecond)},
		{"never lapse: the window only", []flywheel.ModelOption{flywheel.LapseAfter(0)}, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day)}, 2 * day, t0.Add(day + window + time.Nanosecond)},
		{"never lapse, no window: never", []flywheel.ModelOption{flywheel.LapseAfter(0)}, []lifecycle.Event{ev("o1", O, 0), ev("o2", O, day)}, 2 * day, never},
		{"a window of MaxInt64 never closes", []flywheel.ModelOption{flywheel.LapseAfter(0), flywheel.AdvocateWindow(math.MaxInt64)}, []lifecycle.Event{ev("o", O, 0), ev("rv", RV, day)}, 2 * day, never},
		{"a lapse of MaxInt64 never comes", []flywheel.ModelOption{flywheel.LapseAfter(math.MaxInt64)}, []lifecycle.Event{ev("o", O, 0)}, 2 * day, never},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := flywheel.Model(tc.opts...)
			sch, ok := m.(lifecycle.Scheduler)
			if !ok {
				t.Fatal("the flywheel model does not implement lifecycle.Scheduler")
			}
			f, now := facts(tc.events...), t0.Add(tc.at)
			got := sch.NextChange(f, now)
			if !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
				t.Fatalf("NextChange = %s, want %s", got, tc.want)
			}
			if tc.want.IsZero() {
				return
			}
			// Exact: the same stage 1ns before, another at the time.
			at := m.Stage(f, now)
			if s := m.Stage(f, tc.want.Add(-time.Nanosecond)); s != at {
				t.Errorf("Stage 1ns before NextChange is %q, not %q: NextChange is late", s, at)
			}
			if s := m.Stage(f, tc.want); s == at {
				t.Errorf("Stage at NextChange is still %q: NextChange is early", s)
			}
		})
	}
}

// An instant out of time.Time's range is answered early (due now), and
// NextChange does not panic.
func TestModelNextChangeOutOfRange(t *testing.T) {
	end := time.Unix(math.MaxInt64-62135596800, 999999999).UTC() // the largest time.Time
	f := &lifecycle.Facts{First: end, Last: end, Tallies: []lifecycle.Tally{
		{Type: lifecycle.OrderCompleted, Count: 1, First: end, Last: end},
		{Type: lifecycle.ReviewPosted, Count: 1, First: end, Last: end},
	}}
	sch := flywheel.Model().(lifecycle.Scheduler)
	for _, now := range []time.Time{t0, {}} {
		if got := sch.NextChange(f, now); got.IsZero() || got.After(now) {
			t.Errorf("NextChange(now=%s) = %s, want due now: a non-zero time at or before now", now, got)
		}
	}
}
