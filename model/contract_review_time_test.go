package model_test

// Review tests (time): every built-in model and builder rules, held to the
// documented NextChange contract (lifecycle.Scheduler, docs/models.md
// "Time alone") and to the documented due instants, at time-zone, DST,
// leap-day, month-end, overflow and zero-time edges.

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

const zzDay = 24 * time.Hour

func zzLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata for %s: %v", name, err)
	}
	return l
}

// zzFacts folds events (type, time) into facts through the public Facts.Add.
func zzFacts(evs ...zzEv) *lifecycle.Facts {
	f := &lifecycle.Facts{}
	for i, e := range evs {
		ev := lifecycle.Event{ID: fmt.Sprintf("e%d", i), CustomerID: "c", Type: e.typ, Time: e.at}
		if e.typ == lifecycle.SurveyAnswered {
			ev.Attrs = map[string]string{lifecycle.ScoreAttr: e.attr}
		}
		if e.typ == lifecycle.ReferralConverted {
			ev.ID = "clm.referral:r" + fmt.Sprint(i)
			ev.Attrs = map[string]string{lifecycle.ReferredIDAttr: fmt.Sprintf("r%d", i)}
		}
		f.Add(&ev)
	}
	return f
}

type zzEv struct {
	typ  lifecycle.EventType
	at   time.Time
	attr string
}

// zzProbeOffsets are the offsets after now at which the stage is compared
// with the stage at now, when they fall before the announced change.
var zzProbeOffsets = []time.Duration{
	0, 1, time.Second, time.Hour, 23 * time.Hour, 25 * time.Hour, 14*zzDay - 1, 14 * zzDay, 14*zzDay + 1,
	30 * zzDay, 89 * zzDay, 90 * zzDay, 90*zzDay + 1, 179 * zzDay, 180*zzDay - 1, 180 * zzDay, 180*zzDay + 1,
	181 * zzDay, 365 * zzDay, 366 * zzDay, 10 * 365 * zzDay, 100 * 365 * zzDay, 292 * 365 * zzDay,
	math.MaxInt64 - 1, math.MaxInt64,
}

// zzCheckNext holds NextChange(f, now) to lifecycle.Scheduler's contract:
// Stage(f, t) == Stage(f, now) for every probe t with now <= t < T (T zero:
// every later t). It returns a description of the first violation, or "".
func zzCheckNext(m lifecycle.Model, f *lifecycle.Facts, now time.Time) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	sch, ok := m.(lifecycle.Scheduler)
	if !ok {
		return "not a Scheduler"
	}
	s0 := m.Stage(f, now)
	T := sch.NextChange(f, now)
	if !T.IsZero() && !T.After(now) {
		return "" // due now: always right
	}
	var probes []time.Time
	for _, off := range zzProbeOffsets {
		p := now.Add(off)
		if p.Before(now) { // saturated or wrapped: skip
			continue
		}
		probes = append(probes, p)
	}
	probes = append(probes, lifecycle.Never, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if !T.IsZero() {
		probes = append(probes, T.Add(-1), now.Add(T.Sub(now)/2))
	}
	for _, p := range probes {
		if p.Before(now) || (!T.IsZero() && !p.Before(T)) {
			continue
		}
		if s := m.Stage(f, p); s != s0 {
			return fmt.Sprintf("model %s: NextChange(now=%s) = %s, but Stage(now)=%s and Stage(%s)=%s (before the announced change)",
				m.Name(), now.Format(time.RFC3339Nano), zzFmt(T), s0, p.Format(time.RFC3339Nano), s)
		}
	}
	return ""
}

func zzFmt(t time.Time) string {
	if t.IsZero() {
		return "zero (never)"
	}
	return t.Format(time.RFC3339Nano)
}

// zzHistories are event sets relative to a base time b.
func zzHistories(b time.Time) map[string][]zzEv {
	o, r, s := lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionStarted
	return map[string][]zzEv{
		"one order":              {{typ: o, at: b}},
		"two orders":             {{typ: o, at: b}, {typ: o, at: b.Add(3 * zzDay)}},
		"five orders":            {{typ: o, at: b}, {typ: o, at: b.Add(zzDay)}, {typ: o, at: b.Add(2 * zzDay)}, {typ: o, at: b.Add(3 * zzDay)}, {typ: o, at: b.Add(4 * zzDay)}},
		"order refunded":         {{typ: o, at: b}, {typ: r, at: b.Add(zzDay)}},
		"two orders one refund":  {{typ: o, at: b}, {typ: o, at: b.Add(10 * zzDay)}, {typ: r, at: b.Add(11 * zzDay)}},
		"sub then cancel":        {{typ: s, at: b}, {typ: lifecycle.SubscriptionCancelled, at: b.Add(zzDay)}},
		"cancel then renew":      {{typ: s, at: b}, {typ: lifecycle.SubscriptionCancelled, at: b.Add(zzDay)}, {typ: lifecycle.SubscriptionRenewed, at: b.Add(2 * zzDay)}},
		"orders + ticket":        {{typ: o, at: b}, {typ: o, at: b.Add(zzDay)}, {typ: o, at: b.Add(2 * zzDay)}, {typ: lifecycle.TicketOpened, at: b.Add(3 * zzDay)}},
		"order + review":         {{typ: o, at: b}, {typ: lifecycle.ReviewPosted, at: b.Add(zzDay)}},
		"2 orders + late review": {{typ: o, at: b}, {typ: o, at: b.Add(zzDay)}, {typ: lifecycle.ReviewPosted, at: b.Add(170 * zzDay)}},
		"2 orders + share early": {{typ: lifecycle.SocialShared, at: b.Add(-80 * zzDay)}, {typ: o, at: b}, {typ: o, at: b.Add(zzDay)}},
		"2 orders + promoter":    {{typ: o, at: b}, {typ: o, at: b.Add(zzDay)}, {typ: lifecycle.SurveyAnswered, at: b.Add(2 * zzDay), attr: "10"}},
		"2 orders + credit":      {{typ: o, at: b}, {typ: o, at: b.Add(zzDay)}, {typ: lifecycle.ReferralConverted, at: b.Add(2 * zzDay)}},
		"visits only":            {{typ: lifecycle.SiteVisited, at: b}, {typ: lifecycle.SiteVisited, at: b.Add(1)}, {typ: lifecycle.SiteVisited, at: b.Add(2)}},
		"signup":                 {{typ: lifecycle.SignedUp, at: b}},
	}
}

// zzBases are base times at the edges the brief names: DST changes in New
// York and Berlin (given in those zones), a leap day, month ends, the ends
// of the event range and of int64 nanoseconds.
func zzBases(t *testing.T) map[string]time.Time {
	ny, ber := zzLoc(t, "America/New_York"), zzLoc(t, "Europe/Berlin")
	return map[string]time.Time{
		"NY spring-forward":   time.Date(2024, 3, 10, 1, 59, 59, 999999999, ny),
		"NY fall-back 1st":    time.Date(2024, 11, 3, 1, 30, 0, 0, ny),
		"NY fall-back 2nd":    time.Date(2024, 11, 3, 1, 30, 0, 0, ny).Add(time.Hour),
		"Berlin gap":          time.Date(2024, 3, 31, 2, 30, 0, 0, ber),
		"Berlin overlap":      time.Date(2024, 10, 27, 2, 30, 0, 0, ber),
		"leap day":            time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		"month end Jan 31 NY": time.Date(2023, 1, 31, 23, 0, 0, 0, ny),
		"1900":                time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		"1677 edge":           time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC),
		"2262 edge":           time.Unix(0, math.MaxInt64).UTC().Add(-180 * zzDay),
		"year 9999":           time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC),
		"Never-180d-1ns":      lifecycle.Never.Add(-180*zzDay - 1),
		"year 1":              time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	}
}

type zzModel struct {
	name string
	m    lifecycle.Model
}

func zzBuiltins() []zzModel {
	mi, mx := time.Duration(math.MinInt64), time.Duration(math.MaxInt64)
	var out []zzModel
	for _, l := range []struct {
		n string
		d time.Duration
	}{{"default", model.DefaultLapseAfter}, {"lapse0", 0}, {"lapse-1", -1}, {"lapse1ns", 1}, {"lapseMax", mx}, {"lapseMax-1", mx - 1}, {"lapseMin", mi}, {"lapse1d", zzDay}} {
		lo := model.LapseAfter(l.d)
		out = append(out,
			zzModel{"sc/" + l.n, model.SterneCutler(lo)},
			zzModel{"six/" + l.n, model.SixStage(lo)},
			zzModel{"five/" + l.n, model.FiveStage(lo)},
			zzModel{"five/" + l.n + "/nurture0", model.FiveStage(lo, model.NurtureAfter(0))},
			zzModel{"five/" + l.n + "/nurture1ns", model.FiveStage(lo, model.NurtureAfter(1))},
			zzModel{"five/" + l.n + "/nurtureMax", model.FiveStage(lo, model.NurtureAfter(mx))},
			zzModel{"five/" + l.n + "/nurture-1", model.FiveStage(lo, model.NurtureAfter(-1))},
		)
	}
	return out
}

// zzNows are the classification times tried for a history with base b and
// last event last.
func zzNows(b, last time.Time) []time.Time {
	out := []time.Time{b.Add(-zzDay), b, last}
	for _, off := range []time.Duration{1, 13 * zzDay, 14*zzDay - 1, 14 * zzDay, 90 * zzDay, 179 * zzDay, 180*zzDay - 1, 180 * zzDay, 180*zzDay + 1, 400 * zzDay} {
		if p := last.Add(off); p.After(last) {
			out = append(out, p)
		}
	}
	return out
}

// TestContractReviewNextChangeNeverLateBuiltins: docs/models.md "Time alone":
// "later than the real change is a bug". Every built-in, every lapse and
// nurture setting incl. 0, negative, 1ns and MaxInt64, at DST, leap-day,
// range-edge bases.
func TestContractReviewNextChangeNeverLateBuiltins(t *testing.T) {
	var fails []string
	for bn, b := range zzBases(t) {
		for hn, h := range zzHistories(b) {
			f := zzFacts(h...)
			last := f.Last
			for _, zm := range zzBuiltins() {
				for _, now := range zzNows(b, last) {
					if msg := zzCheckNext(zm.m, f, now); msg != "" {
						fails = append(fails, fmt.Sprintf("[%s | %s | %s] %s", zm.name, bn, hn, msg))
					}
				}
			}
		}
	}
	zzReport(t, fails)
}

func zzReport(t *testing.T, fails []string) {
	t.Helper()
	if len(fails) == 0 {
		return
	}
	for i, f := range fails {
		if i == 8 {
			t.Errorf("... and %d more", len(fails)-8)
			break
		}
		t.Error(f)
	}
}

// TestContractReviewDocumentedDueInstants holds each built-in to the instant its
// doc comment names: "for an active buyer, NextChange returns the instant
// they lapse, last purchase + LapseAfter + 1ns"; five-stage: "for a buyer
// in conversion, the end of the window, first purchase + NurtureAfter";
// zero for everyone else. Events given in New York / Berlin local time
// across DST and on a leap day.
func TestContractReviewDocumentedDueInstants(t *testing.T) {
	ny, ber := zzLoc(t, "America/New_York"), zzLoc(t, "Europe/Berlin")
	lapse := model.DefaultLapseAfter
	for _, b := range []time.Time{
		time.Date(2024, 3, 9, 12, 0, 0, 0, ny),       // 180 d later crosses the fall-back change
		time.Date(2024, 10, 26, 2, 30, 0, 0, ber),    // crosses the spring-forward change
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), // leap day
		time.Date(2023, 8, 31, 23, 59, 59, 999999999, ny),
	} {
		f := zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: b})
		want := b.Add(lapse + 1)
		for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage()} {
			got := m.(lifecycle.Scheduler).NextChange(f, b)
			if !got.Equal(want) {
				t.Errorf("%s: order at %s: NextChange = %s, doc says last purchase + LapseAfter + 1ns = %s", m.Name(), b, zzFmt(got), want)
			}
			if s := m.Stage(f, want.Add(-1)); s == m.Stage(f, want) {
				t.Errorf("%s: stage at lapse-1ns %s equals stage at lapse %s", m.Name(), s, m.Stage(f, want))
			}
		}
		fs := model.FiveStage()
		got := fs.(lifecycle.Scheduler).NextChange(f, b)
		if w := b.Add(model.DefaultNurtureAfter); !got.Equal(w) {
			t.Errorf("five-stage: conversion buyer at %s: NextChange = %s, doc: first purchase + NurtureAfter = %s", b, zzFmt(got), w)
		}
		f2 := zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: b}, zzEv{typ: lifecycle.OrderCompleted, at: b.Add(time.Hour)})
		got = fs.(lifecycle.Scheduler).NextChange(f2, b.Add(time.Hour))
		if w := b.Add(time.Hour + lapse + 1); !got.Equal(w) {
			t.Errorf("five-stage: retention buyer: NextChange = %s, doc: last purchase + LapseAfter + 1ns = %s", zzFmt(got), w)
		}
		// nurtured buyer: zero.
		got = fs.(lifecycle.Scheduler).NextChange(f, b.Add(20*zzDay))
		if !got.IsZero() {
			t.Errorf("five-stage: nurtured buyer: NextChange = %s, doc: zero (never)", zzFmt(got))
		}
	}
	// LapseAfter(MaxInt64) and ≤ 0: never lapse, NextChange zero.
	f := zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
	for _, d := range []time.Duration{0, -1, math.MinInt64, math.MaxInt64} {
		for _, m := range []lifecycle.Model{model.SterneCutler(model.LapseAfter(d)), model.SixStage(model.LapseAfter(d))} {
			if got := m.(lifecycle.Scheduler).NextChange(f, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
				t.Errorf("%s LapseAfter(%d): NextChange = %s, doc: zero when buyers never lapse", m.Name(), int64(d), zzFmt(got))
			}
			if s := m.Stage(f, lifecycle.Never); s != model.Conversion && s != model.SixStagePurchase {
				t.Errorf("%s LapseAfter(%d): Stage at Never = %s, want still the buying stage (never lapse)", m.Name(), int64(d), s)
			}
		}
	}
}

// TestContractReviewNilAndZeroNow: a nil f reads as empty facts (model docs);
// NextChange must not panic at zero now or with facts in year 1 / 9999.
func TestContractReviewNilAndZeroNow(t *testing.T) {
	for _, zm := range zzBuiltins() {
		for _, now := range []time.Time{{}, lifecycle.Never, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: panic at now=%s with nil facts: %v", zm.name, now, r)
					}
				}()
				_ = zm.m.Stage(nil, now)
				if got := zm.m.(lifecycle.Scheduler).NextChange(nil, now); !got.IsZero() {
					t.Errorf("%s: NextChange(nil, %s) = %s, want zero (no events: time never moves them)", zm.name, now, zzFmt(got))
				}
			}()
		}
	}
}

// --- builder rules ---

func zzBuild(t *testing.T, rules ...model.Rule) *model.Custom {
	t.Helper()
	b := model.NewBuilder("zz").Start(stage.Stage{ID: "s0"})
	for i, r := range rules {
		b = b.Stage(stage.Stage{ID: stage.ID(fmt.Sprintf("s%d", i+1))}, r)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return m
}

// TestContractReviewBuilderTimeRulesNeverLate: Within, Tenure, Not, All, Any
// compositions with windows of 1ns, 1 day, 180 days, MaxInt64-1 and
// MaxInt64, at the same edge bases and histories as the built-ins.
func TestContractReviewBuilderTimeRulesNeverLate(t *testing.T) {
	o, v, rv := lifecycle.OrderCompleted, lifecycle.SiteVisited, lifecycle.ReviewPosted
	mx := time.Duration(math.MaxInt64)
	var models []zzModel
	for _, d := range []time.Duration{1, zzDay, 180 * zzDay, mx - 1, mx} {
		n := fmt.Sprint(int64(d))
		models = append(models,
			zzModel{"within " + n, zzBuild(t, model.Within(d, o))},
			zzModel{"tenure " + n, zzBuild(t, model.Tenure(d, o))},
			zzModel{"not within " + n, zzBuild(t, model.Count(v, 1), model.All(model.Count(o, 1), model.Not(model.Within(d, o))))},
			zzModel{"not tenure " + n, zzBuild(t, model.Count(o, 1), model.All(model.Count(o, 1), model.Not(model.Tenure(d, o))))},
			zzModel{"any within/tenure " + n, zzBuild(t, model.Any(model.Within(d, rv), model.Tenure(d, o)))},
			zzModel{"all within/tenure " + n, zzBuild(t, model.Count(o, 1), model.All(model.Within(d, o), model.Tenure(d/2+1, o)))},
			zzModel{"stack " + n, zzBuild(t, model.Count(o, 1), model.Within(d, o), model.All(model.Orders(2), model.Within(d/3+1, o)), model.All(model.Within(d, rv), model.Orders(1)))},
			zzModel{"after+within " + n, zzBuild(t, model.After(o, lifecycle.OrderRefunded), model.All(model.After(o, lifecycle.OrderRefunded), model.Within(d, o)))},
		)
	}
	var fails []string
	for bn, b := range zzBases(t) {
		for hn, h := range zzHistories(b) {
			f := zzFacts(h...)
			for _, zm := range models {
				for _, now := range zzNows(b, f.Last) {
					if msg := zzCheckNext(zm.m, f, now); msg != "" {
						fails = append(fails, fmt.Sprintf("[%s | %s | %s] %s", zm.name, bn, hn, msg))
					}
				}
			}
		}
	}
	zzReport(t, fails)
}

// TestContractReviewBuilderDocumentedInstants: docs/models.md "Sweeps": "a Within
// rule that holds turns false at the last event of its type + the window +
// 1 ns; a Tenure rule that does not hold turns true at the first event of
// its type + the tenure".
func TestContractReviewBuilderDocumentedInstants(t *testing.T) {
	ber := zzLoc(t, "Europe/Berlin")
	first := time.Date(2024, 3, 30, 2, 30, 0, 0, ber)
	last := time.Date(2024, 10, 27, 2, 30, 0, 0, ber)
	f := zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: first}, zzEv{typ: lifecycle.OrderCompleted, at: last})
	w := zzBuild(t, model.Within(30*zzDay, lifecycle.OrderCompleted))
	if got, want := w.NextChange(f, last), last.Add(30*zzDay+1); !got.Equal(want) {
		t.Errorf("Within: NextChange = %s, doc: last + window + 1ns = %s", zzFmt(got), want)
	}
	ten := zzBuild(t, model.Tenure(365*zzDay, lifecycle.OrderCompleted))
	if got, want := ten.NextChange(f, last), first.Add(365*zzDay); !got.Equal(want) {
		t.Errorf("Tenure: NextChange = %s, doc: first + tenure = %s", zzFmt(got), want)
	}
	// Within(MaxInt64) "never closes": zero, and holds at Never for an event in 1900.
	f0 := zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)})
	wm := zzBuild(t, model.Within(math.MaxInt64, lifecycle.OrderCompleted))
	if got := wm.NextChange(f0, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("Within(MaxInt64): NextChange = %s, doc: never closes", zzFmt(got))
	}
	if s := wm.Stage(f0, lifecycle.Never); s != "s1" {
		t.Errorf("Within(MaxInt64): stage at Never = %s, want s1 (never closes)", s)
	}
}

// TestContractReviewBuilderBadDurations: "Checks — Build reports every problem,
// joined, each wrapping model.ErrInvalidModel and naming the model, stage
// and rule: ... window ≤ 0".
func TestContractReviewBuilderBadDurations(t *testing.T) {
	for _, c := range []struct {
		r    model.Rule
		want string
	}{
		{model.Within(0, lifecycle.OrderCompleted), "0s"},
		{model.Within(-time.Nanosecond, lifecycle.OrderCompleted), "-1ns"},
		{model.Within(math.MinInt64, lifecycle.OrderCompleted), "-2562047h47m16.854775808s"},
		{model.Tenure(0, lifecycle.OrderCompleted), "0s"},
		{model.Tenure(-zzDay, lifecycle.OrderCompleted), "-24h0m0s"},
		{model.Tenure(math.MinInt64, lifecycle.OrderCompleted), "-2562047h47m16.854775808s"},
	} {
		_, err := model.NewBuilder("bad").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Any(c.r, model.Count(lifecycle.SignedUp, 1))).Build()
		if err == nil || !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("%s: Build err = %v, want ErrInvalidModel", c.r, err)
			continue
		}
		for _, part := range []string{`"bad"`, "b", c.want} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q does not name %q", c.r, err, part)
			}
		}
		if rerr := c.r.Err(); rerr == nil || !errors.Is(rerr, model.ErrInvalidModel) {
			t.Errorf("%s: Rule.Err = %v", c.r, rerr)
		}
		if c.r.Holds(zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: time.Now()}), time.Now()) {
			t.Errorf("%s: a broken rule holds", c.r)
		}
	}
}

// TestContractReviewModeltestEdges runs the documented conformance suite with its
// histories started at the edges (DST in New York, 2261, 9998) and with
// extreme lapse settings.
func TestContractReviewModeltestEdges(t *testing.T) {
	ny := zzLoc(t, "America/New_York")
	starts := []time.Time{time.Date(2024, 3, 10, 1, 0, 0, 0, ny), time.Date(2261, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(9997, 1, 1, 0, 0, 0, 0, time.UTC)}
	ms := []lifecycle.Model{
		model.SterneCutler(model.LapseAfter(time.Nanosecond)),
		model.SixStage(model.LapseAfter(math.MaxInt64 - 1)),
		model.FiveStage(model.LapseAfter(0), model.NurtureAfter(math.MaxInt64)),
		model.FiveStage(model.LapseAfter(2*zzDay), model.NurtureAfter(zzDay)),
	}
	for _, st := range starts {
		for _, m := range ms {
			err := modeltest.TestModel(m, modeltest.Start(st), modeltest.Walks(40), modeltest.Steps(20),
				modeltest.AllowUnused(m.Stages().Edges()...), modeltest.AllowUnreached(m.Stages().IDs()...))
			if err != nil {
				t.Errorf("start %s, %s: %v", st, m.Name(), err)
			}
		}
	}
}

// zzLate is Sterne–Cutler announcing its lapse one nanosecond late: the
// checker must catch it (a self-test of zzCheckNext).
type zzLate struct{ lifecycle.Model }

func (m zzLate) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	t := m.Model.(lifecycle.Scheduler).NextChange(f, now)
	if t.IsZero() {
		return t
	}
	return t.Add(1)
}

func TestContractReviewCheckerSelfTest(t *testing.T) {
	b := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	f := zzFacts(zzEv{typ: lifecycle.OrderCompleted, at: b})
	if msg := zzCheckNext(zzLate{model.SterneCutler()}, f, b); msg == "" {
		t.Fatal("checker missed a NextChange 1ns late")
	}
}
