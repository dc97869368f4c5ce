package flywheel_test

// Review tests (time): the flywheel model's NextChange held to
// lifecycle.Scheduler's contract and to its documented instants, at DST,
// leap-day, range and overflow edges.

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
)

const zzDay = 24 * time.Hour

type zzEv struct {
	typ lifecycle.EventType
	at  time.Time
}

func zzFacts(evs ...zzEv) *lifecycle.Facts {
	f := &lifecycle.Facts{}
	for i, e := range evs {
		ev := lifecycle.Event{ID: fmt.Sprintf("e%d", i), CustomerID: "c", Type: e.typ, Time: e.at}
		if e.typ == lifecycle.ReferralConverted {
			ev.ID = fmt.Sprintf("clm.referral:r%d", i)
			ev.Attrs = map[string]string{lifecycle.ReferredIDAttr: fmt.Sprintf("r%d", i)}
		}
		f.Add(&ev)
	}
	return f
}

func zzFmt(t time.Time) string {
	if t.IsZero() {
		return "zero (never)"
	}
	return t.Format(time.RFC3339Nano)
}

var zzOffsets = []time.Duration{0, 1, time.Hour, 25 * time.Hour, 30 * zzDay, 89 * zzDay, 90 * zzDay, 90*zzDay + 1, 91 * zzDay,
	179 * zzDay, 180 * zzDay, 180*zzDay + 1, 181 * zzDay, 400 * zzDay, 292 * 365 * zzDay, math.MaxInt64 - 1, math.MaxInt64}

func zzCheck(m lifecycle.Model, f *lifecycle.Facts, now time.Time) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	s0 := m.Stage(f, now)
	T := m.(lifecycle.Scheduler).NextChange(f, now)
	if !T.IsZero() && !T.After(now) {
		return ""
	}
	probes := []time.Time{lifecycle.Never}
	for _, o := range zzOffsets {
		if p := now.Add(o); !p.Before(now) {
			probes = append(probes, p)
		}
	}
	if !T.IsZero() {
		probes = append(probes, T.Add(-1), now.Add(T.Sub(now)/2))
	}
	for _, p := range probes {
		if p.Before(now) || (!T.IsZero() && !p.Before(T)) {
			continue
		}
		if s := m.Stage(f, p); s != s0 {
			return fmt.Sprintf("NextChange(now=%s) = %s, Stage(now)=%s but Stage(%s)=%s", now.Format(time.RFC3339Nano), zzFmt(T), s0, p.Format(time.RFC3339Nano), s)
		}
	}
	return ""
}

// TestContractReviewFlywheelNextChangeNeverLate: "NextChange is the instant an
// active buyer lapses or an advocacy window runs out, whichever comes
// first" (docs/flywheel.md:31-33), never later than the real change.
func TestContractReviewFlywheelNextChangeNeverLate(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	ber, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	bases := map[string]time.Time{
		"NY DST":      time.Date(2024, 3, 10, 1, 59, 59, 0, ny),
		"Berlin DST":  time.Date(2024, 10, 27, 2, 30, 0, 0, ber),
		"leap":        time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
		"1900":        time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		"2262":        time.Unix(0, math.MaxInt64).UTC().Add(-90 * zzDay),
		"9999":        lifecycle.Never.Add(-180*zzDay - 1),
		"9999 window": lifecycle.Never.Add(-90*zzDay - 1),
	}
	o, r := lifecycle.OrderCompleted, lifecycle.OrderRefunded
	hist := func(b time.Time) map[string][]zzEv {
		return map[string][]zzEv{
			"one order":          {{o, b}},
			"two orders":         {{o, b}, {o, b.Add(zzDay)}},
			"refunded":           {{o, b}, {r, b.Add(zzDay)}},
			"order+review":       {{o, b}, {lifecycle.ReviewPosted, b.Add(zzDay)}},
			"order+old share":    {{lifecycle.SocialShared, b.Add(-85 * zzDay)}, {o, b}},
			"order+late invite":  {{o, b}, {lifecycle.ReferralMade, b.Add(150 * zzDay)}},
			"order+review+share": {{o, b}, {lifecycle.ReviewPosted, b.Add(zzDay)}, {lifecycle.SocialShared, b.Add(40 * zzDay)}},
			"order+credit":       {{o, b}, {lifecycle.ReferralConverted, b.Add(zzDay)}},
			"signup":             {{lifecycle.SignedUp, b}},
		}
	}
	mx := time.Duration(math.MaxInt64)
	models := map[string]lifecycle.Model{"default": flywheel.Model()}
	for _, l := range []time.Duration{0, -1, 1, zzDay, mx - 1, mx, math.MinInt64} {
		for _, w := range []time.Duration{0, -1, 1, 90 * zzDay, 400 * zzDay, mx - 1, mx} {
			models[fmt.Sprintf("lapse=%d window=%d", int64(l), int64(w))] = flywheel.Model(flywheel.LapseAfter(l), flywheel.AdvocateWindow(w))
		}
	}
	var fails []string
	for bn, b := range bases {
		for hn, h := range hist(b) {
			f := zzFacts(h...)
			for mn, m := range models {
				for _, off := range []time.Duration{-zzDay, 0, 1, 89 * zzDay, 90*zzDay + 1, 179 * zzDay, 180*zzDay + 1, 500 * zzDay} {
					now := f.Last.Add(off)
					if msg := zzCheck(m, f, now); msg != "" {
						fails = append(fails, fmt.Sprintf("[%s | %s | %s] %s", mn, bn, hn, msg))
					}
				}
			}
		}
	}
	for i, f := range fails {
		if i == 8 {
			t.Errorf("... %d more", len(fails)-8)
			break
		}
		t.Error(f)
	}
}

// TestContractReviewFlywheelDocumentedInstants: Model's doc: "for an active
// buyer, NextChange returns the instant they lapse, last order_completed +
// LapseAfter + 1ns, or, for an advocate by a recent review, share or
// invitation alone, the instant the latest of them leaves the window (its
// time + AdvocateWindow + 1ns) when that is earlier".
func TestContractReviewFlywheelDocumentedInstants(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	b := time.Date(2024, 9, 1, 12, 0, 0, 0, ny) // +90d crosses the fall-back change
	m := flywheel.Model().(interface {
		lifecycle.Model
		lifecycle.Scheduler
	})
	f := zzFacts(zzEv{lifecycle.OrderCompleted, b})
	if got, want := m.NextChange(f, b), b.Add(flywheel.DefaultLapseAfter+1); !got.Equal(want) {
		t.Errorf("buyer: NextChange = %s, doc: %s", zzFmt(got), want)
	}
	f = zzFacts(zzEv{lifecycle.OrderCompleted, b}, zzEv{lifecycle.ReviewPosted, b.Add(time.Hour)}, zzEv{lifecycle.SocialShared, b.Add(2 * time.Hour)})
	now := b.Add(2 * time.Hour)
	if s := m.Stage(f, now); s != flywheel.Advocate {
		t.Fatalf("stage %s, want advocate", s)
	}
	if got, want := m.NextChange(f, now), b.Add(2*time.Hour+flywheel.DefaultAdvocateWindow+1); !got.Equal(want) {
		t.Errorf("advocate by window: NextChange = %s, doc: latest + window + 1ns = %s", zzFmt(got), want)
	}
	// not a buyer: zero
	f = zzFacts(zzEv{lifecycle.SignedUp, b})
	if got := m.NextChange(f, b); !got.IsZero() {
		t.Errorf("lead: NextChange = %s, want zero", zzFmt(got))
	}
	// never lapse and no window: zero
	m2 := flywheel.Model(flywheel.LapseAfter(0), flywheel.AdvocateWindow(0)).(lifecycle.Scheduler)
	f = zzFacts(zzEv{lifecycle.OrderCompleted, b}, zzEv{lifecycle.ReviewPosted, b})
	if got := m2.NextChange(f, b); !got.IsZero() {
		t.Errorf("never lapse, no window: NextChange = %s, doc: zero", zzFmt(got))
	}
}
