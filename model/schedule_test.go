package model_test

import (
	"math"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// nextCase pins one NextChange answer. want is an instant, or the zero
// time for never; when it is an instant after now, the test also checks
// that the stage is the same 1ns before it and differs at it (the answer
// is exact, not just early enough).
type nextCase struct {
	name   string
	model  lifecycle.Model
	events []ev
	now    time.Time
	want   time.Time
}

const (
	ns  = time.Nanosecond
	d24 = 24 * time.Hour
)

// never is the NextChange answer for "time alone never changes the stage".
var never time.Time

func runNextCases(t *testing.T, cases []nextCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := facts(tc.events...)
			checkNext(t, tc.model, f, tc.now, tc.want)
		})
	}
}

func checkNext(t *testing.T, m lifecycle.Model, f *lifecycle.Facts, now, want time.Time) {
	t.Helper()
	sch, ok := m.(lifecycle.Scheduler)
	if !ok {
		t.Fatalf("%s does not implement lifecycle.Scheduler", m.Name())
	}
	got := sch.NextChange(f, now)
	if !got.Equal(want) || got.IsZero() != want.IsZero() {
		t.Fatalf("%s.NextChange(now=%s) = %s, want %s", m.Name(), show(now), show(got), show(want))
	}
	if want.IsZero() || !want.After(now) {
		return
	}
	at := m.Stage(f, now)
	if before := m.Stage(f, want.Add(-ns)); before != at {
		t.Errorf("Stage 1ns before %s is %q, not %q as at now: NextChange is late", show(want), before, at)
	}
	if after := m.Stage(f, want); after == at {
		t.Errorf("Stage at %s is still %q: NextChange is early", show(want), after)
	}
}

func show(t time.Time) string {
	if t.IsZero() {
		return "zero (never)"
	}
	return t.Format(time.RFC3339Nano)
}

func TestSterneCutlerNextChange(t *testing.T) {
	sc := model.SterneCutler()
	lapse := model.DefaultLapseAfter
	runNextCases(t, []nextCase{
		{"zero facts never change", sc, nil, day(0), never},
		{"reach never changes", sc, []ev{e(V, 0), e(lifecycle.AdImpression, 1)}, day(1), never},
		{"engaged prospect never changes", sc, []ev{e(lifecycle.SignedUp, 0)}, day(400), never},
		{"one order: lapses 180 days + 1ns after it", sc, orders(1, 0, 0), day(10), day(0).Add(lapse + ns)},
		{"at the lapse limit: 1ns to go", sc, orders(1, 0, 0), day(180), day(180).Add(ns)},
		{"the last purchase counts", sc, orders(3, 0, 20), day(45), day(40).Add(lapse + ns)},
		{"a renewal after the last order counts", sc, []ev{e(O, 0), e(SR, 30)}, day(31), day(30).Add(lapse + ns)},
		{"loyal customer lapses the same way", sc, orders(5, 0, 10), day(41), day(40).Add(lapse + ns)},
		{"now before the last purchase", sc, orders(1, 100, 0), day(0), day(100).Add(lapse + ns)},
		{"lapsed buyer never changes", sc, orders(1, 0, 0), day(180).Add(ns), never},
		{"cancelled subscription never changes", sc, []ev{e(SR, 0), e(SC, 10)}, day(10), never},
		{"refunded only order never changes", sc, []ev{e(O, 0), e(R, 1)}, day(1), never},
		{"LapseAfter(30d)", model.SterneCutler(model.LapseAfter(30 * d24)), orders(2, 0, 1), day(5), day(1).Add(30*d24 + ns)},
		{"LapseAfter(0) never lapses", model.SterneCutler(model.LapseAfter(0)), orders(2, 0, 1), day(5), never},
		{"LapseAfter(-1) never lapses", model.SterneCutler(model.LapseAfter(-1)), orders(2, 0, 1), day(5), never},
		// now.Sub(last) saturates at the largest Duration, so a lapse
		// that large never comes.
		{"LapseAfter(MaxInt64) never lapses", model.SterneCutler(model.LapseAfter(math.MaxInt64)), orders(1, 0, 0), day(5), never},
		{"LapseAfter(MaxInt64-1)", model.SterneCutler(model.LapseAfter(math.MaxInt64 - 1)), orders(1, 0, 0), day(5), day(0).Add(math.MaxInt64)},
	})
}

func TestSixStageNextChange(t *testing.T) {
	six := model.SixStage()
	lapse := model.DefaultLapseAfter
	runNextCases(t, []nextCase{
		{"zero facts never change", six, nil, day(0), never},
		{"engagement never changes", six, []ev{e(V, 0), e(V, 1), e(V, 2)}, day(2), never},
		{"evaluation never changes", six, []ev{e(lifecycle.CartAdded, 0)}, day(500), never},
		{"purchase lapses 180 days + 1ns after the last purchase", six, orders(1, 0, 0), day(1), day(0).Add(lapse + ns)},
		{"bonding lapses the same way", six, orders(3, 0, 5), day(11), day(10).Add(lapse + ns)},
		{"an open ticket does not end by itself", six, cat(orders(3, 0, 5), []ev{e(TO, 11)}), day(12), day(10).Add(lapse + ns)},
		{"lapsed buyer never changes", six, orders(3, 0, 5), day(191), never},
		{"cancelled subscription never changes", six, []ev{e(SR, 0), e(SC, 1)}, day(2), never},
		{"LapseAfter(60d)", model.SixStage(model.LapseAfter(60 * d24)), orders(3, 0, 5), day(20), day(10).Add(60*d24 + ns)},
		{"LapseAfter(0) never lapses", model.SixStage(model.LapseAfter(0)), orders(3, 0, 5), day(20), never},
	})
}

func TestFiveStageNextChange(t *testing.T) {
	five := model.FiveStage()
	lapse, nurture := model.DefaultLapseAfter, model.DefaultNurtureAfter
	runNextCases(t, []nextCase{
		{"zero facts never change", five, nil, day(0), never},
		{"non-buyer never changes", five, []ev{e(V, 0), e(lifecycle.SignedUp, 0)}, day(3), never},
		{"refunded only order never changes", five, []ev{e(O, 0), e(R, 1)}, day(1), never},
		// Conversion holds while now − first < NurtureAfter: nurturing
		// from first + 14 days exactly.
		{"conversion ends 14 days after the first purchase", five, orders(1, 0, 0), day(1), day(0).Add(nurture)},
		{"conversion 1ns before its end", five, orders(1, 0, 0), day(14).Add(-ns), day(14)},
		// A nurtured buyer who lapses is still nurtured.
		{"nurtured buyer never changes", five, orders(1, 0, 0), day(14), never},
		{"nurtured buyer with a refunded repeat never changes", five, []ev{e(O, 0), e(O, 20), e(R, 21)}, day(21), never},
		{"retention lapses", five, orders(2, 0, 20), day(21), day(20).Add(lapse + ns)},
		{"advocacy lapses", five, cat(orders(2, 0, 20), []ev{e(RC, 21)}), day(22), day(20).Add(lapse + ns)},
		{"lapsed buyer never changes", five, orders(2, 0, 20), day(201), never},
		{"cancellation never changes", five, []ev{e(O, 0), e(SR, 30), e(SC, 40)}, day(40), never},
		{"first purchase is the earliest, refunded or not", five, []ev{e(R, 0), e(SR, 0), e(SC, 5), e(O, 6)}, day(6), day(0).Add(nurture)},
		{"LapseAfter(0): conversion still ends", model.FiveStage(model.LapseAfter(0)), orders(1, 0, 0), day(1), day(14)},
		{"LapseAfter(0): nurtured buyer never changes", model.FiveStage(model.LapseAfter(0)), orders(1, 0, 0), day(20), never},
		{"NurtureAfter(0): no conversion, nurtured for good", model.FiveStage(model.NurtureAfter(0)), orders(1, 0, 0), day(0), never},
		{"NurtureAfter(0): retention lapses", model.FiveStage(model.NurtureAfter(0)), orders(2, 0, 0), day(0), day(0).Add(lapse + ns)},
		{"NurtureAfter(30d)", model.FiveStage(model.NurtureAfter(30 * d24)), orders(1, 0, 0), day(20), day(30)},
		{"LapseAfter below NurtureAfter", model.FiveStage(model.LapseAfter(10*d24), model.NurtureAfter(30*d24)), orders(1, 0, 0), day(1), day(10)},
	})
}

// Times at the edges of time.Time's range do not make NextChange panic,
// and an instant it cannot compute is answered early (due now), never
// late.
func TestNextChangeExtremeTimes(t *testing.T) {
	maxTime := time.Unix(math.MaxInt64-62135596800, 999999999).UTC() // the largest time.Time
	buyer := func(at time.Time) *lifecycle.Facts {
		return &lifecycle.Facts{First: at, Last: at, Tallies: []lifecycle.Tally{{Type: O, Count: 2, First: at, Last: at}}}
	}
	now := day(0)
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()} {
		// The lapse of a purchase at the end of time is out of range.
		got := m.(lifecycle.Scheduler).NextChange(buyer(maxTime), now)
		if got.IsZero() || got.After(now) {
			t.Errorf("%s: NextChange for a purchase at the end of time = %s, want due now (at or before %s)", m.Name(), show(got), show(now))
		}
		got = m.(lifecycle.Scheduler).NextChange(buyer(maxTime), time.Time{})
		if got.IsZero() || got.After(time.Time{}) {
			t.Errorf("%s: NextChange at the zero time = %s, want due now, a non-zero time at or before it", m.Name(), show(got))
		}
		// The year 9999 is far from the edge: the answer is exact.
		y9999 := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
		checkNext(t, m, buyer(y9999), y9999, y9999.Add(model.DefaultLapseAfter+ns))
	}
}

func TestBuiltinsAreSchedulers(t *testing.T) {
	for _, name := range []string{model.SterneCutlerName, model.SixStageName, model.FiveStageName} {
		m, err := model.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(lifecycle.Scheduler); !ok {
			t.Errorf("%s does not implement lifecycle.Scheduler", name)
		}
	}
}

func TestCustomNextChange(t *testing.T) {
	const (
		SU = lifecycle.SignedUp
		RV = lifecycle.ReviewPosted
	)
	build := func(stages ...any) *model.Custom {
		b := model.NewBuilder("custom").Start(stage.Stage{ID: "new"})
		for i := 0; i < len(stages); i += 2 {
			b.Stage(stage.Stage{ID: stage.ID(stages[i].(string))}, stages[i+1].(model.Rule))
		}
		return b.MustBuild()
	}
	within := build("recent", model.Within(30*d24, O))
	tenure := build("veteran", model.Tenure(365*d24, SU))
	ordersOnly := build("buyer", model.Orders(1), "big", model.Spent("EUR", 5000), "fan", model.All(model.Referrals(1), model.Score(9)), "open", model.After(TO, TR))
	layered := build("old", model.Tenure(30*d24, SU), "buyer", model.Orders(1), "recent", model.All(model.Orders(1), model.Within(60*d24, O)))
	pruned := build("active", model.All(model.Orders(2), model.Within(60*d24, O)))
	anyOf := build("engaged", model.Any(model.Count(SU, 1), model.Within(10*d24, V)))
	negated := build("quiet", model.Not(model.Within(20*d24, V)))
	fn := build("custom", model.Func("odd", func(f *lifecycle.Facts, _ time.Time) bool { return f.Events()%2 == 1 }))
	fnBelow := build("custom", model.Func("odd", func(f *lifecycle.Facts, _ time.Time) bool { return f.Events()%2 == 1 }), "buyer", model.Orders(1))
	fnIrrelevant := build("fan", model.All(model.Referrals(1), model.Func("any", func(*lifecycle.Facts, time.Time) bool { return true })))
	runNextCases(t, []nextCase{
		// Within holds while now − last ≤ d: it ends at last + d + 1ns.
		{"within ends 1ns after the window", within, orders(1, 0, 0), day(1), day(30).Add(ns)},
		{"within at its limit", within, orders(1, 0, 0), day(30), day(30).Add(ns)},
		{"within over never comes back", within, orders(1, 0, 0), day(31), never},
		{"within of a missing type never changes", within, []ev{e(V, 0)}, day(1), never},
		// Tenure holds from first + d on.
		{"tenure begins at first + d", tenure, []ev{e(SU, 10), e(SU, 20)}, day(11), day(10 + 365)},
		{"tenure reached never changes", tenure, []ev{e(SU, 10)}, day(375), never},
		{"tenure of a missing type never changes", tenure, []ev{e(V, 0)}, day(1), never},
		{"rules without time never change", ordersOnly, cat(orders(3, 0, 1), []ev{e(TO, 4), e(RC, 5), survey(6, 10)}), day(10), never},
		// Only the holding rule and the rules after it matter.
		{"a later rule's window", layered, []ev{e(SU, 0), e(O, 5)}, day(10), day(65).Add(ns)},
		{"the rules below the holding one are ignored", layered, []ev{e(SU, 0), e(O, 5)}, day(66), never},
		{"fallback: an earlier tenure", layered, []ev{e(SU, 0)}, day(1), day(30)},
		// All with a child false for good is false for good.
		{"all with a child false for good", pruned, orders(1, 0, 0), day(1), never},
		{"all with every child able to change", pruned, orders(2, 0, 1), day(2), day(61).Add(ns)},
		// Any with a child true for good is true for good.
		{"any with a child true for good", anyOf, []ev{e(SU, 0), e(V, 1)}, day(2), never},
		{"any held by a window only", anyOf, []ev{e(V, 1)}, day(2), day(11).Add(ns)},
		{"not of a window turns true when it ends", negated, []ev{e(V, 0)}, day(1), day(20).Add(ns)},
		{"not of an ended window never changes", negated, []ev{e(V, 0)}, day(21), never},
		{"a func rule is due now", fn, []ev{e(V, 0)}, day(1), day(1)},
		{"a func rule is due now, also when it does not hold", fn, []ev{e(V, 0), e(V, 1)}, day(1), day(1)},
		{"a func rule below the holding one is ignored", fnBelow, orders(1, 0, 0), day(1), never},
		{"a func rule that cannot decide is ignored", fnIrrelevant, []ev{e(V, 0)}, day(1), never},
	})
	// Due now at the zero time is a non-zero time before it.
	if got := fn.NextChange(facts(e(V, 0)), time.Time{}); got.IsZero() || got.After(time.Time{}) {
		t.Errorf("a func rule at now = zero: NextChange = %s, want a non-zero time at or before now", show(got))
	}
	// An answer that would be the zero instant (January 1 of year 1) is
	// given 1ns earlier: the zero time means never.
	zeroAt := (time.Time{}).Add(-30*d24 - ns)
	pre := &lifecycle.Facts{First: zeroAt, Last: zeroAt, Tallies: []lifecycle.Tally{{Type: O, Count: 1, First: zeroAt, Last: zeroAt}}}
	if got, want := within.NextChange(pre, zeroAt), (time.Time{}).Add(-ns); !got.Equal(want) {
		t.Errorf("NextChange whose answer is the zero instant = %s, want %s", show(got), show(want))
	}
	// Extreme windows: Within(MaxInt64) never ends (Sub saturates), and
	// instants out of range are answered early.
	huge := build("recent", model.Within(math.MaxInt64, O))
	checkNext(t, huge, facts(e(O, 0)), day(1), never)
	maxTime := time.Unix(math.MaxInt64-62135596800, 999999999).UTC()
	end := &lifecycle.Facts{First: maxTime, Last: maxTime, Tallies: []lifecycle.Tally{{Type: SU, Count: 1, First: maxTime, Last: maxTime}}}
	if got := tenure.NextChange(end, day(0)); got.IsZero() || got.After(day(0)) {
		t.Errorf("tenure out of range: NextChange = %s, want due now", show(got))
	}
}
