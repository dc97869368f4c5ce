package model_test

// Tests, written from the package docs, docs/models.md and
// README.md only. Helpers carry a zr prefix so as not to collide with the
// package's own test helpers.

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

const zrDay = 24 * time.Hour

var zrT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type zrEv struct {
	typ    lifecycle.EventType
	at     time.Time
	amount int64
	cur    string
	score  int
	ref    string
}

func zrE(t lifecycle.EventType, at time.Time) zrEv { return zrEv{typ: t, at: at} }
func zrPay(t lifecycle.EventType, at time.Time, amount int64, cur string) zrEv {
	return zrEv{typ: t, at: at, amount: amount, cur: cur}
}
func zrSurvey(at time.Time, score int) zrEv {
	return zrEv{typ: lifecycle.SurveyAnswered, at: at, score: score}
}
func zrCredit(at time.Time, referred string) zrEv {
	return zrEv{typ: lifecycle.ReferralConverted, at: at, ref: referred}
}

func zrFacts(evs ...zrEv) *lifecycle.Facts {
	f := &lifecycle.Facts{}
	for i, e := range evs {
		ev := lifecycle.Event{ID: fmt.Sprintf("e%d", i), CustomerID: "c", Type: e.typ, Time: e.at, Amount: e.amount, Currency: e.cur}
		switch e.typ {
		case lifecycle.SurveyAnswered:
			ev.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(e.score)}
		case lifecycle.ReferralConverted:
			ev.ID = lifecycle.ReferralEventID(e.ref)
			ev.Attrs = map[string]string{lifecycle.ReferredIDAttr: e.ref}
		}
		f.Add(&ev)
	}
	return f
}

func zrRepeat(t lifecycle.EventType, n int, last time.Time, gap time.Duration) []zrEv {
	var evs []zrEv
	for i := range n {
		evs = append(evs, zrE(t, last.Add(-time.Duration(n-1-i)*gap)))
	}
	return evs
}

func zrCat(parts ...[]zrEv) []zrEv { return slices.Concat(parts...) }

func zrSt(id stage.ID) stage.Stage { return stage.Stage{ID: id} }

// zrNoPanic runs fn and reports a panic as a test error.
func zrNoPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	fn()
}

// ---------------------------------------------------------------------------
// Rules: boundary semantics.

// Within: now − last ≤ d holds (inclusive at the exact nanosecond); an event
// after now counts as within; no event never holds.
func TestContractWithinBoundary(t *testing.T) {
	d := 7 * zrDay
	last := zrT0.Add(3 * zrDay)
	f := zrFacts(zrE(lifecycle.OrderCompleted, zrT0), zrE(lifecycle.OrderCompleted, last))
	r := model.Within(d, lifecycle.OrderCompleted)
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{last.Add(d), true},
		{last.Add(d - 1), true},
		{last.Add(d + 1), false},
		{last, true},
		{last.Add(-time.Hour), true}, // event after now
		{zrT0.Add(-365 * zrDay), true},
	} {
		if got := r.Holds(f, c.now); got != c.want {
			t.Errorf("Within(7d).Holds at last%+v = %v, want %v", c.now.Sub(last), got, c.want)
		}
	}
	if r.Holds(zrFacts(zrE(lifecycle.SiteVisited, zrT0)), zrT0) {
		t.Error("Within holds with no event of its type")
	}
}

// Within(math.MaxInt64) never closes, even across more than 292 years.
func TestContractWithinMaxDurationNeverCloses(t *testing.T) {
	last := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	f := zrFacts(zrE(lifecycle.OrderCompleted, last))
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	if !model.Within(math.MaxInt64, lifecycle.OrderCompleted).Holds(f, far) {
		t.Error("Within(MaxInt64) closed after ~8100 years; docs: never closes")
	}
	// One nanosecond less is a real window: 8100 years exceed it.
	if model.Within(math.MaxInt64-1, lifecycle.OrderCompleted).Holds(f, far) {
		t.Error("Within(MaxInt64-1) holds across 8100 years (now − last > d)")
	}
}

// Tenure: now − first ≥ d (inclusive at the exact nanosecond); it reads the
// first event, not the last.
func TestContractTenureBoundary(t *testing.T) {
	d := 30 * zrDay
	first := zrT0
	f := zrFacts(zrE(lifecycle.SignedUp, first), zrE(lifecycle.SignedUp, first.Add(20*zrDay)))
	r := model.Tenure(d, lifecycle.SignedUp)
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{first.Add(d), true},
		{first.Add(d - 1), false},
		{first.Add(d + 1), true},
		{first.Add(-zrDay), false}, // the first event after now
	} {
		if got := r.Holds(f, c.now); got != c.want {
			t.Errorf("Tenure(30d).Holds at first%+v = %v, want %v", c.now.Sub(first), got, c.want)
		}
	}
	if r.Holds(&lifecycle.Facts{}, zrT0.Add(1000*zrDay)) {
		t.Error("Tenure holds with no event of its type")
	}
	// More than 292 years of tenure: Sub saturates at MaxInt64, which is ≥ d.
	old := zrFacts(zrE(lifecycle.SignedUp, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)))
	if !model.Tenure(math.MaxInt64, lifecycle.SignedUp).Holds(old, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Tenure(MaxInt64) does not hold after 8099 years")
	}
	if model.Tenure(math.MaxInt64, lifecycle.SignedUp).Holds(old, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Tenure(MaxInt64) holds after 100 years")
	}
}

// After: strictly later; equal times do not hold; x and no y holds; no x
// never holds.
func TestContractAfterSemantics(t *testing.T) {
	x, y := lifecycle.TicketOpened, lifecycle.TicketResolved
	r := model.After(x, y)
	now := zrT0.Add(100 * zrDay)
	for _, c := range []struct {
		name string
		f    *lifecycle.Facts
		want bool
	}{
		{"equal times", zrFacts(zrE(x, zrT0), zrE(y, zrT0)), false},
		{"x 1ns later", zrFacts(zrE(x, zrT0.Add(1)), zrE(y, zrT0)), true},
		{"y 1ns later", zrFacts(zrE(x, zrT0), zrE(y, zrT0.Add(1))), false},
		{"x and no y", zrFacts(zrE(x, zrT0)), true},
		{"y and no x", zrFacts(zrE(y, zrT0)), false},
		{"neither", &lifecycle.Facts{}, false},
		{"last x later, first x earlier", zrFacts(zrE(x, zrT0), zrE(y, zrT0.Add(zrDay)), zrE(x, zrT0.Add(2*zrDay))), true},
	} {
		if got := r.Holds(c.f, now); got != c.want {
			t.Errorf("After(%s): Holds = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestContractCountOrdersReferralsBoundary(t *testing.T) {
	now := zrT0.Add(10 * zrDay)
	two := zrFacts(zrRepeat(lifecycle.SignedUp, 2, zrT0, time.Hour)...)
	if model.Count(lifecycle.SignedUp, 3).Holds(two, now) || !model.Count(lifecycle.SignedUp, 2).Holds(two, now) {
		t.Error("Count(t, n) is not 'at least n'")
	}
	huge := &lifecycle.Facts{First: zrT0, Last: zrT0, Tallies: []lifecycle.Tally{{Type: "zr.thing", Count: math.MaxInt64, First: zrT0, Last: zrT0}}}
	if !model.Count("zr.thing", math.MaxInt64).Holds(huge, now) {
		t.Error("Count(t, MaxInt64) does not hold for a tally of MaxInt64")
	}
	// 3 orders, 1 refund: 2 net.
	f := zrFacts(zrCat(zrRepeat(lifecycle.OrderCompleted, 3, zrT0, zrDay), []zrEv{zrE(lifecycle.OrderRefunded, zrT0.Add(zrDay))})...)
	if !model.Orders(2).Holds(f, now) || model.Orders(3).Holds(f, now) {
		t.Error("Orders(n) does not count completed − refunded")
	}
	// More refunds than orders: 0 net, never negative.
	g := zrFacts(zrE(lifecycle.OrderCompleted, zrT0), zrE(lifecycle.OrderRefunded, zrT0), zrE(lifecycle.OrderRefunded, zrT0), zrE(lifecycle.SubscriptionStarted, zrT0))
	if model.Orders(1).Holds(g, now) {
		t.Error("Orders(1) holds with more refunds than orders (subscriptions are not orders)")
	}
	// Referrals: one entry per referred customer.
	r := zrFacts(zrCredit(zrT0, "a"), zrCredit(zrT0.Add(time.Hour), "a"), zrCredit(zrT0, "b"))
	if !model.Referrals(2).Holds(r, now) || model.Referrals(3).Holds(r, now) {
		t.Errorf("Referrals: want exactly 2 referred customers credited, facts %+v", r.Referrals)
	}
}

// Spent: orders + subscription starts + renewals − refunds, in one currency.
func TestContractSpentSemantics(t *testing.T) {
	now := zrT0.Add(10 * zrDay)
	f := zrFacts(
		zrPay(lifecycle.OrderCompleted, zrT0, 1000, "EUR"),
		zrPay(lifecycle.SubscriptionStarted, zrT0, 500, "EUR"),
		zrPay(lifecycle.SubscriptionRenewed, zrT0, 500, "EUR"),
		zrPay(lifecycle.OrderRefunded, zrT0, 300, "EUR"),
		zrPay(lifecycle.OrderCompleted, zrT0, 99999, "USD"),
		zrPay(lifecycle.OrderRefunded, zrT0, 50, "USD"),
		zrPay(lifecycle.CartAdded, zrT0, 77777, "EUR"), // not a purchase
	)
	for _, c := range []struct {
		cur    string
		amount int64
		want   bool
	}{
		{"EUR", 1700, true},
		{"EUR", 1701, false},
		{"USD", 99949, true},
		{"USD", 99950, false},
		{"JPY", 1, false},
	} {
		if got := model.Spent(c.cur, c.amount).Holds(f, now); got != c.want {
			t.Errorf("Spent(%s, %d) = %v, want %v", c.cur, c.amount, got, c.want)
		}
	}
	// Refunds exceeding purchases: net negative, never ≥ 1.
	neg := zrFacts(zrPay(lifecycle.OrderCompleted, zrT0, 10, "EUR"), zrPay(lifecycle.OrderRefunded, zrT0, 1000, "EUR"))
	if model.Spent("EUR", 1).Holds(neg, now) {
		t.Error("Spent holds with refunds above purchases")
	}
	// Saturation: two orders of MaxInt64 do not overflow into a negative.
	sat := zrFacts(zrPay(lifecycle.OrderCompleted, zrT0, math.MaxInt64, "EUR"), zrPay(lifecycle.OrderCompleted, zrT0.Add(1), math.MaxInt64, "EUR"))
	if !model.Spent("EUR", math.MaxInt64).Holds(sat, now) {
		t.Error("Spent(EUR, MaxInt64) does not hold for two orders of MaxInt64")
	}
}

func TestContractScoreSemantics(t *testing.T) {
	now := zrT0.Add(10 * zrDay)
	if model.Score(0).Holds(&lifecycle.Facts{}, now) {
		t.Error("Score(0) holds for a customer who never answered")
	}
	if !model.Score(0).Holds(zrFacts(zrSurvey(zrT0, 0)), now) {
		t.Error("Score(0) does not hold for an answer of 0")
	}
	f := zrFacts(zrSurvey(zrT0, 10), zrSurvey(zrT0.Add(zrDay), 8))
	if model.Score(9).Holds(f, now) || !model.Score(8).Holds(f, now) {
		t.Error("Score does not read the last answer")
	}
	// Hand-built facts: a Score but no ScoreAt means never answered.
	if model.Score(0).Holds(&lifecycle.Facts{Score: 5}, now) {
		t.Error("Score(0) holds for facts with ScoreAt zero")
	}
}

// Broken rules never hold, whatever their parts; the zero Rule is an error.
func TestContractBrokenRulesNeverHold(t *testing.T) {
	now := zrT0.Add(zrDay)
	f := zrFacts(zrE(lifecycle.SignedUp, zrT0))
	ok := model.Count(lifecycle.SignedUp, 1)
	if !ok.Holds(f, now) {
		t.Fatal("sanity: Count(signed_up, 1) should hold")
	}
	var zero model.Rule
	if !zero.IsZero() || zero.Err() == nil || !errors.Is(zero.Err(), model.ErrInvalidModel) || zero.Holds(f, now) {
		t.Errorf("zero Rule: IsZero %v, Err %v, Holds %v", zero.IsZero(), zero.Err(), zero.Holds(f, now))
	}
	broken := map[string]model.Rule{
		"Not(zero)":             model.Not(zero),
		"Not(Not(zero))":        model.Not(model.Not(zero)),
		"Func nil":              model.Func("x", nil),
		"Not(Func nil)":         model.Not(model.Func("x", nil)),
		"Any(ok, Not(zero))":    model.Any(ok, model.Not(zero)),
		"Any(ok, zero)":         model.Any(ok, zero),
		"All(ok, Func nil)":     model.All(ok, model.Func("x", nil)),
		"Any(ok, Count(t, 0))":  model.Any(ok, model.Count(lifecycle.SignedUp, 0)),
		"Not(Count(t, 0))":      model.Not(model.Count(lifecycle.SignedUp, 0)),
		"Not(Any())":            model.Not(model.Any()),
		"Not(All())":            model.Not(model.All()),
		"Any(ok, Score(11))":    model.Any(ok, model.Score(11)),
		"Any(ok, Spent(eur,1))": model.Any(ok, model.Spent("eur", 1)),
		"Not(Within(0))":        model.Not(model.Within(0, lifecycle.SignedUp)),
	}
	for name, r := range broken {
		if r.Err() == nil {
			t.Errorf("%s: Err() = nil, want an error", name)
		} else if !errors.Is(r.Err(), model.ErrInvalidModel) {
			t.Errorf("%s: Err() = %v, does not wrap ErrInvalidModel", name, r.Err())
		}
		zrNoPanic(t, name+".Holds", func() {
			if r.Holds(f, now) {
				t.Errorf("%s: Holds = true; docs: a rule Err reports broken never holds", name)
			}
		})
	}
}

// Every malformed parameter the docs list is reported by Err, wrapping
// ErrInvalidModel and naming the bad value.
func TestContractRuleErrNamesValue(t *testing.T) {
	fn := func(*lifecycle.Facts, time.Time) bool { return true }
	cases := []struct {
		name string
		r    model.Rule
		want []string // substrings of the message
	}{
		{"Count n=0", model.Count(lifecycle.SignedUp, 0), []string{"0"}},
		{"Count n=-1", model.Count(lifecycle.SignedUp, -1), []string{"-1"}},
		{"Count n=MinInt64", model.Count(lifecycle.SignedUp, math.MinInt64), []string{"-9223372036854775808"}},
		{"Orders 0", model.Orders(0), []string{"0"}},
		{"Referrals -3", model.Referrals(-3), []string{"-3"}},
		{"Count bad type", model.Count("order_complete", 1), []string{"order_complete"}},
		{"Count empty type", model.Count("", 1), nil},
		{"Count upper type", model.Count("Acme.Thing", 1), []string{"Acme.Thing"}},
		{"Count referral_converted", model.Count(lifecycle.ReferralConverted, 1), []string{"referral_converted"}},
		{"Within 0", model.Within(0, lifecycle.SignedUp), nil},
		{"Within -1ns", model.Within(-1, lifecycle.SignedUp), []string{"-1ns"}},
		{"Within MinInt64", model.Within(math.MinInt64, lifecycle.SignedUp), nil},
		{"Within bad type", model.Within(zrDay, "acme..x"), []string{"acme..x"}},
		{"Within referral_converted", model.Within(zrDay, lifecycle.ReferralConverted), []string{"referral_converted"}},
		{"Tenure 0", model.Tenure(0, lifecycle.SignedUp), nil},
		{"Tenure -1h", model.Tenure(-time.Hour, lifecycle.SignedUp), []string{"-1h"}},
		{"Tenure bad type", model.Tenure(zrDay, "acme.wish-list"), []string{"acme.wish-list"}},
		{"After same type", model.After(lifecycle.TicketOpened, lifecycle.TicketOpened), []string{"ticket_opened"}},
		{"After bad x", model.After("nope", lifecycle.TicketOpened), []string{"nope"}},
		{"After bad y", model.After(lifecycle.TicketOpened, "nope2"), []string{"nope2"}},
		{"After referral_converted", model.After(lifecycle.ReferralConverted, lifecycle.TicketOpened), []string{"referral_converted"}},
		{"Spent lower-case", model.Spent("eur", 1), []string{"eur"}},
		{"Spent two letters", model.Spent("EU", 1), []string{"EU"}},
		{"Spent four letters", model.Spent("EURO", 1), []string{"EURO"}},
		{"Spent digit", model.Spent("E1R", 1), []string{"E1R"}},
		{"Spent empty", model.Spent("", 1), nil},
		{"Spent amount 0", model.Spent("EUR", 0), []string{"0"}},
		{"Spent amount -5", model.Spent("EUR", -5), []string{"-5"}},
		{"Score 11", model.Score(11), []string{"11"}},
		{"Score -1", model.Score(-1), []string{"-1"}},
		{"Score MinInt", model.Score(math.MinInt), nil},
		{"Func empty name", model.Func("", fn), nil},
		{"Func nil fn", model.Func("zrfn", nil), []string{"zrfn"}},
		{"All()", model.All(), nil},
		{"Any()", model.Any(), nil},
		{"All(zero)", model.All(model.Rule{}), nil},
		{"Not(zero)", model.Not(model.Rule{}), nil},
	}
	for _, c := range cases {
		var err error
		zrNoPanic(t, c.name+".Err", func() { err = c.r.Err() })
		if err == nil {
			t.Errorf("%s: Err() = nil", c.name)
			continue
		}
		if !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("%s: %v does not wrap ErrInvalidModel", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %q", c.name, err, w)
			}
		}
		// Holds on a broken rule: never true, never a panic.
		zrNoPanic(t, c.name+".Holds", func() {
			if c.r.Holds(zrFacts(zrE(lifecycle.SignedUp, zrT0), zrE(lifecycle.TicketOpened, zrT0)), zrT0.Add(zrDay)) {
				t.Errorf("%s: broken rule holds", c.name)
			}
		})
	}
	// Well-formed rules at the edges are fine.
	for name, r := range map[string]model.Rule{
		"Count MaxInt64":   model.Count("acme.x", math.MaxInt64),
		"Within MaxInt64":  model.Within(math.MaxInt64, lifecycle.SignedUp),
		"Within 1ns":       model.Within(1, lifecycle.SignedUp),
		"Tenure MaxInt64":  model.Tenure(math.MaxInt64, lifecycle.SignedUp),
		"Score 0":          model.Score(0),
		"Score 10":         model.Score(10),
		"Spent MaxInt64":   model.Spent("JPY", math.MaxInt64),
		"After custom":     model.After("acme.a", "acme.b"),
		"Not(Not(Count))":  model.Not(model.Not(model.Count(lifecycle.SignedUp, 1))),
		"Func odd name":    model.Func("a, b)", fn),
		"Any single":       model.Any(model.Orders(1)),
		"deeply nested":    model.All(model.Any(model.Not(model.All(model.Orders(1), model.Score(3))))),
		"Spent EUR 1":      model.Spent("EUR", 1),
		"Referrals Max":    model.Referrals(math.MaxInt64),
		"Orders MaxInt64":  model.Orders(math.MaxInt64),
		"Count order_refd": model.Count(lifecycle.OrderRefunded, 1),
	} {
		if err := r.Err(); err != nil {
			t.Errorf("%s: Err() = %v, want nil", name, err)
		}
	}
}

// Rule.String: the documented example, and distinct rules get distinct
// descriptions ("Two rules with the same description are the same rule").
func TestContractRuleStringDistinct(t *testing.T) {
	ex := model.All(model.Count(lifecycle.OrderCompleted, 2), model.Within(180*zrDay, lifecycle.OrderCompleted))
	if got, want := ex.String(), "all(count(order_completed) >= 2, within(order_completed, 180d))"; got != want {
		t.Errorf("String() = %q, want the documented %q", got, want)
	}
	fn := func(*lifecycle.Facts, time.Time) bool { return true }
	pairs := [][2]model.Rule{
		{model.Within(zrDay, lifecycle.SignedUp), model.Within(zrDay+1, lifecycle.SignedUp)},
		{model.Within(zrDay, lifecycle.SignedUp), model.Within(zrDay+time.Second, lifecycle.SignedUp)},
		{model.Within(zrDay, lifecycle.SignedUp), model.Within(zrDay+time.Minute, lifecycle.SignedUp)},
		{model.Within(1, lifecycle.SignedUp), model.Within(2, lifecycle.SignedUp)},
		{model.Within(math.MaxInt64, lifecycle.SignedUp), model.Within(math.MaxInt64-1, lifecycle.SignedUp)},
		{model.Tenure(365*zrDay, lifecycle.SignedUp), model.Tenure(365*zrDay+time.Millisecond, lifecycle.SignedUp)},
		{model.Spent("EUR", 100), model.Spent("USD", 100)},
		{model.Spent("EUR", 100), model.Spent("EUR", 1000)},
		{model.Count(lifecycle.SignedUp, 1), model.Count(lifecycle.SignedUp, 2)},
		{model.Orders(1), model.Count(lifecycle.OrderCompleted, 1)},
		{model.After("acme.a", "acme.b"), model.After("acme.b", "acme.a")},
		{model.All(model.Func("a", fn), model.Func("b", fn)), model.All(model.Func("a), func(b", fn))},
		{model.All(model.Func("a", fn), model.Func("b", fn)), model.All(model.Func(`a", "b`, fn))},
		{model.Any(model.Orders(1), model.Score(3)), model.All(model.Orders(1), model.Score(3))},
		{model.Not(model.Orders(1)), model.Orders(1)},
		{model.Score(3), model.Score(4)},
	}
	for _, p := range pairs {
		a, b := p[0].String(), p[1].String()
		if a == b {
			t.Errorf("two different rules share the description %q", a)
		}
	}
}

// A Func's name appears quoted when it holds other than letters, digits,
// spaces, dots, hyphens and underscores.
func TestContractFuncNameQuoting(t *testing.T) {
	fn := func(*lifecycle.Facts, time.Time) bool { return true }
	plain := model.Func("big-spender_v1.2 x", fn).String()
	if !strings.Contains(plain, "big-spender_v1.2 x") || strings.Contains(plain, `"big-spender_v1.2 x"`) {
		t.Errorf("plain Func name: %q", plain)
	}
	odd := model.Func("a,b)", fn).String()
	if !strings.Contains(odd, strconv.Quote("a,b)")) {
		t.Errorf("Func name with punctuation not quoted as a Go string: %q", odd)
	}
}

// ---------------------------------------------------------------------------
// Builder.

func zrOKBuilder(name string) *model.Builder {
	return model.NewBuilder(name).
		Start(zrSt("a")).
		Stage(zrSt("b"), model.Count(lifecycle.SignedUp, 1))
}

func TestContractBuilderErrors(t *testing.T) {
	fn := func(*lifecycle.Facts, time.Time) bool { return true }
	cases := []struct {
		name string
		b    *model.Builder
		want []string
	}{
		{"empty name", model.NewBuilder("").Start(zrSt("a")).Stage(zrSt("b"), model.Orders(1)), nil},
		{"no stages", model.NewBuilder("zrm"), []string{"zrm"}},
		{"start missing", model.NewBuilder("zrm").Stage(zrSt("b"), model.Orders(1)), []string{"zrm"}},
		{"start repeated", model.NewBuilder("zrm").Start(zrSt("a")).Start(zrSt("a2")).Stage(zrSt("b"), model.Orders(1)), []string{"zrm"}},
		{"start after stage", model.NewBuilder("zrm").Stage(zrSt("b"), model.Orders(1)).Start(zrSt("a")), []string{"zrm"}},
		{"zero rule", zrOKBuilder("zrm").Stage(zrSt("c"), model.Rule{}), []string{"zrm", `c`}},
		{"bad count", zrOKBuilder("zrm").Stage(zrSt("c"), model.Count(lifecycle.OrderCompleted, 0)), []string{"zrm", "c", "order_completed"}},
		{"bad type", zrOKBuilder("zrm").Stage(zrSt("c"), model.Count("order_complete", 1)), []string{"zrm", "c", "order_complete"}},
		{"bad window", zrOKBuilder("zrm").Stage(zrSt("c"), model.Within(-time.Hour, lifecycle.OrderCompleted)), []string{"zrm", "c"}},
		{"bad currency", zrOKBuilder("zrm").Stage(zrSt("c"), model.Spent("eur", 100)), []string{"zrm", "c", "eur"}},
		{"bad amount", zrOKBuilder("zrm").Stage(zrSt("c"), model.Spent("EUR", 0)), []string{"zrm", "c"}},
		{"bad score", zrOKBuilder("zrm").Stage(zrSt("c"), model.Score(11)), []string{"zrm", "c", "11"}},
		{"after same", zrOKBuilder("zrm").Stage(zrSt("c"), model.After(lifecycle.TicketOpened, lifecycle.TicketOpened)), []string{"zrm", "c"}},
		{"func unnamed", zrOKBuilder("zrm").Stage(zrSt("c"), model.Func("", fn)), []string{"zrm", "c"}},
		{"func nil", zrOKBuilder("zrm").Stage(zrSt("c"), model.Func("f", nil)), []string{"zrm", "c"}},
		{"empty all", zrOKBuilder("zrm").Stage(zrSt("c"), model.All()), []string{"zrm", "c"}},
		{"empty any", zrOKBuilder("zrm").Stage(zrSt("c"), model.Any()), []string{"zrm", "c"}},
		{"zero in all", zrOKBuilder("zrm").Stage(zrSt("c"), model.All(model.Orders(1), model.Rule{})), []string{"zrm", "c"}},
		{"zero in any", zrOKBuilder("zrm").Stage(zrSt("c"), model.Any(model.Orders(1), model.Rule{})), []string{"zrm", "c"}},
		{"zero in not", zrOKBuilder("zrm").Stage(zrSt("c"), model.Not(model.Rule{})), []string{"zrm", "c"}},
		{"same rule twice", zrOKBuilder("zrm").Stage(zrSt("c"), model.Count(lifecycle.SignedUp, 1)), []string{"zrm", "c"}},
		{"only false: not count", zrOKBuilder("zrm").Stage(zrSt("c"), model.Not(model.Count(lifecycle.OrderCompleted, 1))), []string{"zrm", "c"}},
		{"only false: not tenure", zrOKBuilder("zrm").Stage(zrSt("c"), model.Not(model.Tenure(zrDay, lifecycle.OrderCompleted))), []string{"zrm", "c"}},
		{"only false: not referrals", zrOKBuilder("zrm").Stage(zrSt("c"), model.Not(model.Referrals(1))), []string{"zrm", "c"}},
		{"only false: all of nots", zrOKBuilder("zrm").Stage(zrSt("c"), model.All(model.Not(model.Count("acme.x", 1)), model.Not(model.Count("acme.y", 1)))), []string{"zrm", "c"}},
		{"only false: any of nots", zrOKBuilder("zrm").Stage(zrSt("c"), model.Any(model.Not(model.Count("acme.x", 1)), model.Not(model.Tenure(zrDay, "acme.y")))), []string{"zrm", "c"}},
		{"converts bad", zrOKBuilder("zrm").Converts("nope"), []string{"zrm", "nope"}},
		{"converts referral_converted", zrOKBuilder("zrm").Converts(lifecycle.ReferralConverted), []string{"zrm", "referral_converted"}},
		{"converts none", zrOKBuilder("zrm").Converts(), []string{"zrm"}},
		{"duplicate id", zrOKBuilder("zrm").Stage(zrSt("a"), model.Orders(1)), []string{"a"}},
		{"duplicate id later", zrOKBuilder("zrm").Stage(zrSt("b"), model.Orders(1)), []string{"b"}},
		{"empty id", zrOKBuilder("zrm").Stage(zrSt(""), model.Orders(1)), nil},
		{"space-padded id", zrOKBuilder("zrm").Stage(zrSt(" c"), model.Orders(1)), nil},
		{"control char id", zrOKBuilder("zrm").Stage(zrSt("c\x1b"), model.Orders(1)), nil},
		{"long id", zrOKBuilder("zrm").Stage(zrSt(stage.ID(strings.Repeat("x", stage.MaxIDLen+1))), model.Orders(1)), nil},
		{"unknown kind", zrOKBuilder("zrm").Stage(stage.Stage{ID: "c", Kind: stage.Kind(9)}, model.Orders(1)), []string{"c"}},
		{"edge unknown stage", zrOKBuilder("zrm").Edges(stage.Edge{From: "a", To: "b"}, stage.Edge{From: "a", To: "zz"}), []string{"zz"}},
		{"edge wrong kind", zrOKBuilder("zrm").Edges(stage.Edge{From: "a", To: "b", Kind: stage.Regress}), []string{"a", "b"}},
		{"edge unknown kind", zrOKBuilder("zrm").Edges(stage.Edge{From: "a", To: "b", Kind: stage.EdgeKind(42)}), nil},
		{"unreachable declared", zrOKBuilder("zrm").Stage(zrSt("c"), model.Orders(1)).Edges(stage.Edge{From: "a", To: "b"}), []string{"c"}},
		{"self edge", zrOKBuilder("zrm").Edges(stage.Edge{From: "a", To: "b"}, stage.Edge{From: "b", To: "b"}), []string{"b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m *model.Custom
			var err error
			zrNoPanic(t, "Build", func() { m, err = c.b.Build() })
			if err == nil {
				t.Fatalf("Build() = %v, nil; want an error", m.Stages().IDs())
			}
			if m != nil {
				t.Errorf("Build returned a model with an error")
			}
			if !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("error %v does not wrap ErrInvalidModel", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			zrNoPanic(t, "MustBuild", func() {
				defer func() {
					if recover() == nil {
						t.Error("MustBuild did not panic on an invalid declaration")
					}
				}()
				c.b.MustBuild()
			})
		})
	}
}

// Build reports every problem, joined.
func TestContractBuilderReportsEveryProblem(t *testing.T) {
	_, err := model.NewBuilder("zrm").
		Start(zrSt("a")).
		Stage(zrSt("b"), model.Count(lifecycle.SignedUp, 0)).
		Stage(zrSt("c"), model.Spent("eur", 1)).
		Stage(zrSt("d"), model.Score(42)).
		Build()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"eur", "42", `"b"`, `"c"`, `"d"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
}

// zrLeaves returns the errors of a tree that have no joined children: the
// separate problems a caller iterating the joined error sees.
func zrLeaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e == model.ErrInvalidModel {
				continue
			}
			out = append(out, zrLeaves(e)...)
		}
		return out
	}
	return []error{err}
}

// Build's doc: "every problem found, joined, each wrapping ErrInvalidModel";
// models.md: "each wrapping model.ErrInvalidModel and naming the model".
// Rule problems do so; check the graph problems stage.New finds too.
func TestContractBuilderGraphProblemsEachWrap(t *testing.T) {
	_, err := zrOKBuilder("zrm").Stage(zrSt("a"), model.Orders(1)).Stage(zrSt(" c"), model.Score(3)).Build()
	if err == nil {
		t.Fatal("no error")
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok || len(j.Unwrap()) < 2 {
		t.Fatalf("want 2 separate problems, joined: %q", err)
	}
	for _, e := range j.Unwrap() {
		if !errors.Is(e, model.ErrInvalidModel) || !errors.Is(e, stage.ErrInvalidGraph) {
			t.Errorf("problem %q does not wrap ErrInvalidModel and stage.ErrInvalidGraph", e)
		}
		if !strings.Contains(e.Error(), `zrm`) || strings.Contains(e.Error(), "\n") {
			t.Errorf("problem %q does not name the model, or holds several", e)
		}
	}
	// The same check for rule problems (passes).
	_, err = zrOKBuilder("zrm").Stage(zrSt("c"), model.Score(11)).Stage(zrSt("d"), model.Orders(0)).Build()
	for _, e := range zrLeaves(err) {
		if !errors.Is(e, model.ErrInvalidModel) || !strings.Contains(e.Error(), "zrm") {
			t.Errorf("rule problem %q", e)
		}
	}
}

// A stage whose rule can only turn false is fine once edges are declared.
func TestContractBuilderOnlyFalseWithEdges(t *testing.T) {
	m, err := model.NewBuilder("zrm").
		Start(zrSt("a")).
		Stage(zrSt("b"), model.Not(model.Count(lifecycle.OrderCompleted, 1))).
		Edges(stage.Edge{From: "a", To: "b"}, stage.Edge{From: "b", To: "a"}).
		Build()
	if err != nil {
		t.Fatalf("Build with Edges: %v", err)
	}
	// Zero Kind is filled in from the ends.
	for _, e := range m.Stages().Edges() {
		want := stage.Advance
		if e.From == "b" {
			want = stage.Regress
		}
		if e.Kind != want {
			t.Errorf("edge %s→%s got kind %v, want %v", e.From, e.To, e.Kind, want)
		}
	}
	if got := m.Stage(&lifecycle.Facts{}, zrT0); got != "b" {
		t.Errorf("Stage(empty) = %s, want b", got)
	}
}

// Derived edges: count rules only turn true → advances only; Within turns
// both ways; kinds follow KindOf (fall into a decline, recover out of it).
func TestContractBuilderDerivedEdges(t *testing.T) {
	m, err := model.NewBuilder("zrm").
		Start(zrSt("p")).
		Stage(zrSt("s"), model.Count(lifecycle.SubscriptionStarted, 1)).
		Stage(stage.Stage{ID: "r", Kind: stage.Decline}, model.All(model.Count(lifecycle.SubscriptionStarted, 1), model.Not(model.Within(30*zrDay, lifecycle.SubscriptionRenewed)))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	g := m.Stages()
	want := map[[2]stage.ID]stage.EdgeKind{
		{"p", "s"}: stage.Advance,
		{"p", "r"}: stage.Fall,
		{"s", "r"}: stage.Fall,
		{"r", "p"}: stage.Recover,
		{"r", "s"}: stage.Recover,
	}
	got := map[[2]stage.ID]stage.EdgeKind{}
	for _, e := range g.Edges() {
		got[[2]stage.ID{e.From, e.To}] = e.Kind
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("edge %s→%s: kind %v, want %v (graph %v)", k[0], k[1], got[k], v, g.Edges())
		}
	}
	if g.Allows("s", "p") {
		t.Errorf("derived graph declares s → p, but Count only turns true")
	}
}

func TestContractCustomClassificationAndRule(t *testing.T) {
	m, err := model.NewBuilder("zrm").
		Start(zrSt("a")).
		Stage(zrSt("b"), model.Count("acme.x", 1)).
		Stage(zrSt("c"), model.Count("acme.y", 1)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	now := zrT0.Add(zrDay)
	for _, c := range []struct {
		f    *lifecycle.Facts
		want stage.ID
	}{
		{&lifecycle.Facts{}, "a"},
		{zrFacts(zrE("acme.x", zrT0)), "b"},
		{zrFacts(zrE("acme.y", zrT0)), "c"}, // later stage wins although b's rule does not hold
		{zrFacts(zrE("acme.x", zrT0), zrE("acme.y", zrT0)), "c"},
		{zrFacts(zrE("acme.z", zrT0)), "a"},
	} {
		if got := m.Stage(c.f, now); got != c.want {
			t.Errorf("Stage = %s, want %s", got, c.want)
		}
	}
	if r, ok := m.Rule("a"); !ok || !r.IsZero() {
		t.Errorf("Rule(first) = %v, %v; want zero, true", r, ok)
	}
	if _, ok := m.Rule("nope"); ok {
		t.Error("Rule(unknown) ok = true")
	}
	if r, ok := m.Rule("c"); !ok || r.String() != model.Count("acme.y", 1).String() {
		t.Errorf("Rule(c) = %v, %v", r, ok)
	}
	if m.Name() != "zrm" {
		t.Errorf("Name = %q", m.Name())
	}
	// ConversionTypes default and Converts adding up; new slice every call.
	ct := m.ConversionTypes()
	if !slices.Equal(ct, lifecycle.DefaultConversionTypes()) {
		t.Errorf("ConversionTypes = %v, want the defaults", ct)
	}
	ct[0] = "mutated"
	if m.ConversionTypes()[0] == "mutated" {
		t.Error("ConversionTypes returns a shared slice")
	}
	m2 := zrOKBuilder("zrm2").Converts(lifecycle.SubscriptionRenewed).Converts("acme.paid").MustBuild()
	if got := m2.ConversionTypes(); !slices.Equal(got, []lifecycle.EventType{lifecycle.SubscriptionRenewed, "acme.paid"}) {
		t.Errorf("Converts adding up: %v", got)
	}
	et := m.EventTypes()
	if !slices.Equal(et, []lifecycle.EventType{"acme.x", "acme.y"}) {
		t.Errorf("EventTypes = %v", et)
	}
	et[0] = "mutated"
	if m.EventTypes()[0] == "mutated" {
		t.Error("EventTypes returns a shared slice")
	}
}

// EventTypes: the documented types for each rule, in order of first mention,
// each once; a Func adds nothing.
func TestContractCustomEventTypes(t *testing.T) {
	fn := func(*lifecycle.Facts, time.Time) bool { return false }
	m, err := model.NewBuilder("zrm").
		Start(zrSt("a")).
		Stage(zrSt("b"), model.Any(model.Orders(1), model.Func("f", fn))).
		Stage(zrSt("c"), model.All(model.Spent("EUR", 1), model.Within(zrDay, "acme.w"))).
		Stage(zrSt("d"), model.Any(model.Referrals(1), model.Score(3), model.After("acme.x", lifecycle.OrderCompleted), model.Tenure(zrDay, "acme.t"))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	got := m.EventTypes()
	want := []lifecycle.EventType{
		lifecycle.OrderCompleted, lifecycle.OrderRefunded,
		lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed,
		"acme.w", lifecycle.ReferralConverted, lifecycle.SurveyAnswered, "acme.x", "acme.t",
	}
	// The order of the four Spent types among themselves is not pinned down.
	if len(got) != len(want) {
		t.Fatalf("EventTypes = %v, want (in some order for Spent's types) %v", got, want)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("EventTypes %v lacks %s", got, w)
		}
	}
	if got[0] != lifecycle.OrderCompleted || got[len(got)-1] != "acme.t" {
		t.Errorf("EventTypes %v not in order of first mention", got)
	}
}

// ---------------------------------------------------------------------------
// NextChange of a Custom: documented values and brute force.

func zrNext(m lifecycle.Model, f *lifecycle.Facts, now time.Time) time.Time {
	return m.(lifecycle.Scheduler).NextChange(f, now)
}

func TestContractCustomNextChangeDocumented(t *testing.T) {
	d := 10 * zrDay
	last := zrT0.Add(5 * zrDay)
	f := zrFacts(zrE("acme.x", zrT0), zrE("acme.x", last))

	within := model.NewBuilder("zrw").Start(zrSt("a")).Stage(zrSt("b"), model.Within(d, "acme.x")).MustBuild()
	if got, want := within.NextChange(f, last), last.Add(d+1); !got.Equal(want) {
		t.Errorf("Within holding: NextChange = %v, want last + d + 1ns = %v", got, want)
	}
	if got := within.NextChange(f, last.Add(d+1)); !got.IsZero() {
		t.Errorf("Within closed: NextChange = %v, want zero (never)", got)
	}

	tenure := model.NewBuilder("zrt").Start(zrSt("a")).Stage(zrSt("b"), model.Tenure(d, "acme.x")).MustBuild()
	if got, want := tenure.NextChange(f, last), zrT0.Add(d); !got.Equal(want) {
		t.Errorf("Tenure not yet: NextChange = %v, want first + d = %v", got, want)
	}
	if got := tenure.NextChange(f, zrT0.Add(d)); !got.IsZero() {
		t.Errorf("Tenure held: NextChange = %v, want zero", got)
	}
	if got := tenure.NextChange(&lifecycle.Facts{}, zrT0); !got.IsZero() {
		t.Errorf("Tenure, no event: NextChange = %v, want zero", got)
	}

	// All(false Count, Tenure): the Count decides and never changes with time.
	decided := model.NewBuilder("zrd").Start(zrSt("a")).Stage(zrSt("b"), model.All(model.Count("acme.y", 1), model.Tenure(d, "acme.x"))).MustBuild()
	if got := decided.NextChange(f, last); !got.IsZero() {
		t.Errorf("All(false Count, Tenure): NextChange = %v, want zero", got)
	}

	// Func: due now; at the zero time, 1ns before it.
	fn := model.Func("f", func(*lifecycle.Facts, time.Time) bool { return false })
	fm := model.NewBuilder("zrf").Start(zrSt("a")).Stage(zrSt("b"), fn).MustBuild()
	if got := fm.NextChange(f, last); got.After(last) {
		t.Errorf("Func: NextChange = %v, want at or before now", got)
	}
	if got, want := fm.NextChange(f, time.Time{}), (time.Time{}).Add(-1); !got.Equal(want) {
		t.Errorf("Func at zero now: NextChange = %v, want 1ns before the zero time", got)
	}
}

// zrProbe checks the Scheduler contract for one (facts, now): for every probe t
// with now ≤ t < T, Stage(f, t) == Stage(f, now). It returns a failure text.
func zrProbe(m lifecycle.Model, f *lifecycle.Facts, now time.Time, probes []time.Time) string {
	s := m.(lifecycle.Scheduler)
	var T time.Time
	var at stage.ID
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprintf("panic: %v", r)
			}
		}()
		T = s.NextChange(f, now)
		at = m.Stage(f, now)
	}()
	if msg != "" {
		return msg
	}
	if !T.IsZero() && !T.After(now) {
		return "" // due now: always right
	}
	for _, p := range probes {
		if p.Before(now) || (!T.IsZero() && !p.Before(T)) {
			continue
		}
		if got := m.Stage(f, p); got != at {
			return fmt.Sprintf("stage %s at now=%s, NextChange=%s, but %s at %s (now+%v)",
				at, now.Format(time.RFC3339Nano), zrShow(T), got, p.Format(time.RFC3339Nano), p.Sub(now))
		}
	}
	return ""
}

func zrShow(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339Nano)
}

// zrCandidates: the boundaries every documented rule can cross, for the
// given durations, around every first and last time in the facts.
func zrCandidates(f *lifecycle.Facts, now time.Time, ds []time.Duration, r *rand.Rand) []time.Time {
	ps := []time.Time{now, now.Add(1), now.Add(time.Second), now.Add(zrDay), now.Add(400 * zrDay), now.Add(100 * 365 * zrDay),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}
	for _, tl := range f.Tallies {
		for _, base := range []time.Time{tl.First, tl.Last} {
			for _, d := range ds {
				for _, eps := range []time.Duration{-1, 0, 1} {
					ps = append(ps, base.Add(d).Add(eps))
				}
			}
		}
	}
	for range 20 {
		ps = append(ps, now.Add(time.Duration(r.Int64N(int64(500*zrDay)))))
	}
	return ps
}

var zrTypes = []lifecycle.EventType{"acme.x", "acme.y", lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionStarted, lifecycle.SurveyAnswered}
var zrRandModels = 300

var zrDurs = []time.Duration{time.Hour, zrDay, 7 * zrDay, 30 * zrDay}

func zrRandRule(r *rand.Rand, depth int) model.Rule {
	typ := func() lifecycle.EventType { return zrTypes[r.IntN(2)+r.IntN(2)*2] }
	dur := func() time.Duration { return zrDurs[r.IntN(len(zrDurs))] }
	k := r.IntN(10)
	if depth >= 2 {
		k = r.IntN(6)
	}
	switch k {
	case 0:
		return model.Count(typ(), int64(1+r.IntN(2)))
	case 1:
		return model.Within(dur(), typ())
	case 2:
		return model.Tenure(dur(), typ())
	case 3:
		x := typ()
		y := lifecycle.EventType("acme.y")
		if x == y {
			y = "acme.x"
		}
		return model.After(x, y)
	case 4:
		return model.Orders(int64(1 + r.IntN(2)))
	case 5:
		return model.Score(r.IntN(11))
	case 6:
		return model.Not(zrRandRule(r, depth+1))
	case 7, 8:
		return model.All(zrRandRule(r, depth+1), zrRandRule(r, depth+1))
	default:
		return model.Any(zrRandRule(r, depth+1), zrRandRule(r, depth+1))
	}
}

func zrRandFacts(r *rand.Rand, base time.Time, span time.Duration) *lifecycle.Facts {
	var evs []zrEv
	n := r.IntN(6)
	for range n {
		typ := zrTypes[r.IntN(len(zrTypes))]
		at := base.Add(time.Duration(r.Int64N(int64(span))))
		if r.IntN(4) == 0 {
			at = at.Truncate(time.Hour)
		}
		e := zrE(typ, at)
		if typ == lifecycle.SurveyAnswered {
			e.score = r.IntN(11)
		}
		evs = append(evs, e)
	}
	return zrFacts(evs...)
}

// NextChange versus brute-force stepping, on random builder models and facts
// (every event at or before now, as the Tracker classifies).
func TestContractCustomNextChangeBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	built, fails := 0, 0
	for mi := 0; mi < zrRandModels && fails < 5; mi++ {
		b := model.NewBuilder("zrrand").Start(zrSt("s0"))
		for i := range 1 + r.IntN(4) {
			b.Stage(zrSt(stage.ID(fmt.Sprintf("s%d", i+1))), zrRandRule(r, 0))
		}
		m, err := b.Build()
		if err != nil {
			continue
		}
		built++
		for range 30 {
			f := zrRandFacts(r, zrT0, 60*zrDay)
			now := zrT0.Add(60 * zrDay)
			if !f.Last.IsZero() && r.IntN(2) == 0 {
				now = f.Last.Add(time.Duration(r.Int64N(int64(40 * zrDay))))
			}
			if !f.Last.IsZero() && r.IntN(3) == 0 {
				// now exactly on a boundary, or 1ns either side
				tl := f.Tallies[r.IntN(len(f.Tallies))]
				base := tl.First
				if r.IntN(2) == 0 {
					base = tl.Last
				}
				if c := base.Add(zrDurs[r.IntN(len(zrDurs))]).Add(time.Duration(r.IntN(3) - 1)); !c.Before(f.Last) {
					now = c
				}
			}
			if msg := zrProbe(m, f, now, zrCandidates(f, now, zrDurs, r)); msg != "" {
				fails++
				t.Errorf("model %s: %s; facts %+v", describe(m), msg, f.Tallies)
				break
			}
		}
	}
	if built < 50 {
		t.Fatalf("only %d random models built", built)
	}
}

// The same with events after now (a Facts value the contract covers too).
func TestContractCustomNextChangeBruteForceFutureEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	fails := 0
	for mi := 0; mi < zrRandModels && fails < 3; mi++ {
		b := model.NewBuilder("zrrand").Start(zrSt("s0"))
		for i := range 1 + r.IntN(4) {
			b.Stage(zrSt(stage.ID(fmt.Sprintf("s%d", i+1))), zrRandRule(r, 0))
		}
		m, err := b.Build()
		if err != nil {
			continue
		}
		for range 30 {
			f := zrRandFacts(r, zrT0, 60*zrDay)
			now := zrT0.Add(time.Duration(r.Int64N(int64(60 * zrDay))))
			if msg := zrProbe(m, f, now, zrCandidates(f, now, zrDurs, r)); msg != "" {
				fails++
				t.Errorf("model %s: %s; facts %+v", describe(m), msg, f.Tallies)
				break
			}
		}
	}
}

func describe(m *model.Custom) string {
	var parts []string
	for _, id := range m.Stages().IDs()[1:] {
		r, _ := m.Rule(id)
		parts = append(parts, string(id)+"="+r.String())
	}
	return strings.Join(parts, "; ")
}

// ---------------------------------------------------------------------------
// Built-in models on hand-built facts.

type zrCase struct {
	name string
	m    lifecycle.Model
	evs  []zrEv
	now  time.Time
	want stage.ID
}

var zrNow = zrT0.Add(400 * zrDay)

func zrRun(t *testing.T, cases []zrCase) {
	t.Helper()
	for _, c := range cases {
		f := zrFacts(c.evs...)
		var got stage.ID
		zrNoPanic(t, c.name, func() { got = c.m.Stage(f, c.now) })
		if got != c.want {
			t.Errorf("%s: %s: Stage = %s, want %s", c.m.Name(), c.name, got, c.want)
		}
	}
}

func TestContractSterneCutlerStages(t *testing.T) {
	sc := model.SterneCutler()
	n := zrNow
	o := lifecycle.OrderCompleted
	var cases []zrCase
	add := func(name string, want stage.ID, evs ...zrEv) {
		cases = append(cases, zrCase{name, sc, evs, n, want})
	}
	add("no facts", model.Reach)
	for _, typ := range []lifecycle.EventType{lifecycle.AdImpression, lifecycle.SiteVisited, lifecycle.ContentViewed,
		lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.ReferralMade,
		"acme.custom", lifecycle.OrderRefunded, lifecycle.SubscriptionCancelled} {
		add("only "+string(typ), model.Reach, zrE(typ, n.Add(-zrDay)))
	}
	add("only survey", model.Reach, zrSurvey(n.Add(-zrDay), 10))
	add("only referral credit", model.Reach, zrCredit(n.Add(-zrDay), "x"))
	for _, typ := range []lifecycle.EventType{lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ProductViewed,
		lifecycle.CartAdded, lifecycle.CheckoutStarted, lifecycle.InquirySent, lifecycle.ChatStarted,
		lifecycle.ContentDownloaded, lifecycle.LoyaltyJoined} {
		add("only "+string(typ), model.Acquisition, zrE(typ, n.Add(-zrDay)))
	}
	add("one order", model.Conversion, zrE(o, n.Add(-zrDay)))
	add("one renewal", model.Conversion, zrE(lifecycle.SubscriptionRenewed, n.Add(-zrDay)))
	add("one order at exactly LapseAfter", model.Conversion, zrE(o, n.Add(-model.DefaultLapseAfter)))
	add("one order 1ns past LapseAfter", model.Acquisition, zrE(o, n.Add(-model.DefaultLapseAfter-1)))
	add("refunded only order", model.Acquisition, zrE(o, n.Add(-zrDay)), zrE(lifecycle.OrderRefunded, n))
	add("two orders", model.Retention, zrRepeat(o, 2, n, zrDay)...)
	add("order + subscription", model.Retention, zrE(o, n.Add(-zrDay)), zrE(lifecycle.SubscriptionStarted, n))
	add("refunds do not eat subscriptions", model.Conversion, zrE(o, n.Add(-zrDay)), zrE(lifecycle.OrderRefunded, n), zrE(lifecycle.OrderRefunded, n), zrE(lifecycle.SubscriptionStarted, n))
	add("four orders", model.Retention, zrRepeat(o, 4, n, zrDay)...)
	add("five orders", model.Loyalty, zrRepeat(o, 5, n, zrDay)...)
	add("five orders one refunded", model.Retention, zrCat(zrRepeat(o, 5, n, zrDay), []zrEv{zrE(lifecycle.OrderRefunded, n)})...)
	add("lapsed loyal", model.Acquisition, zrRepeat(o, 5, n.Add(-200*zrDay), zrDay)...)
	add("lapsed loyal buys again", model.Loyalty, zrCat(zrRepeat(o, 5, n.Add(-200*zrDay), zrDay), []zrEv{zrE(o, n)})...)
	add("cancel later than last purchase", model.Acquisition, zrE(lifecycle.SubscriptionStarted, n.Add(-zrDay)), zrE(lifecycle.SubscriptionCancelled, n.Add(-zrDay+1)))
	add("cancel at the time of last purchase", model.Conversion, zrE(lifecycle.SubscriptionStarted, n.Add(-zrDay)), zrE(lifecycle.SubscriptionCancelled, n.Add(-zrDay)))
	add("cancel before last purchase", model.Retention, zrE(lifecycle.SubscriptionStarted, n.Add(-3*zrDay)), zrE(lifecycle.SubscriptionCancelled, n.Add(-2*zrDay)), zrE(lifecycle.SubscriptionRenewed, n.Add(-zrDay)))
	add("refund does not move last purchase", model.Conversion, zrE(o, n.Add(-200*zrDay)), zrE(o, n.Add(-10*zrDay)), zrE(lifecycle.OrderRefunded, n))
	add("loyal with tickets and surveys", model.Loyalty, zrCat(zrRepeat(o, 5, n, zrDay), []zrEv{zrE(lifecycle.TicketOpened, n), zrSurvey(n, 0)})...)
	add("lapsed with referrals", model.Acquisition, zrCat(zrRepeat(o, 5, n.Add(-200*zrDay), zrDay), []zrEv{zrCredit(n, "r1"), zrCredit(n, "r2")})...)
	zrRun(t, cases)
}

func TestContractSterneCutlerOptions(t *testing.T) {
	n := zrNow
	o := lifecycle.OrderCompleted
	zrRun(t, []zrCase{
		{"LoyalOrders(2) raised to 3: 2 orders", model.SterneCutler(model.LoyalOrders(2)), zrRepeat(o, 2, n, zrDay), n, model.Retention},
		{"LoyalOrders(2) raised to 3: 3 orders", model.SterneCutler(model.LoyalOrders(2)), zrRepeat(o, 3, n, zrDay), n, model.Loyalty},
		{"LoyalOrders(0): 2 orders", model.SterneCutler(model.LoyalOrders(0)), zrRepeat(o, 2, n, zrDay), n, model.Retention},
		{"LoyalOrders(-5): 1 order", model.SterneCutler(model.LoyalOrders(-5)), zrRepeat(o, 1, n, zrDay), n, model.Conversion},
		{"LoyalOrders(MinInt64): 1 order", model.SterneCutler(model.LoyalOrders(math.MinInt64)), zrRepeat(o, 1, n, zrDay), n, model.Conversion},
		{"RepeatPurchases(1) raised to 2", model.SterneCutler(model.RepeatPurchases(1)), zrRepeat(o, 1, n, zrDay), n, model.Conversion},
		{"RepeatPurchases(-1) raised to 2", model.SterneCutler(model.RepeatPurchases(-1)), zrRepeat(o, 1, n, zrDay), n, model.Conversion},
		{"RepeatPurchases(5): loyal raised to 6: 5 orders", model.SterneCutler(model.RepeatPurchases(5)), zrRepeat(o, 5, n, zrDay), n, model.Retention},
		{"RepeatPurchases(5): 6 orders", model.SterneCutler(model.RepeatPurchases(5)), zrRepeat(o, 6, n, zrDay), n, model.Loyalty},
		{"RepeatPurchases(MaxInt64): 1 order", model.SterneCutler(model.RepeatPurchases(math.MaxInt64)), zrRepeat(o, 1, n, zrDay), n, model.Conversion},
		{"RepeatPurchases(MaxInt64): 3 orders", model.SterneCutler(model.RepeatPurchases(math.MaxInt64)), zrRepeat(o, 3, n, zrDay), n, model.Conversion},
		{"LoyalOrders(MaxInt64): 6 orders", model.SterneCutler(model.LoyalOrders(math.MaxInt64)), zrRepeat(o, 6, n, zrDay), n, model.Retention},
		{"LapseAfter(0) never lapses", model.SterneCutler(model.LapseAfter(0)), zrRepeat(o, 1, n.Add(-5000*zrDay), zrDay), n, model.Conversion},
		{"LapseAfter(-1) never lapses", model.SterneCutler(model.LapseAfter(-1)), zrRepeat(o, 1, n.Add(-5000*zrDay), zrDay), n, model.Conversion},
		{"LapseAfter(MaxInt64) never lapses across 8000y", model.SterneCutler(model.LapseAfter(math.MaxInt64)),
			[]zrEv{zrE(o, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), model.Conversion},
		{"LapseAfter(MaxInt64-1) lapses across 8000y", model.SterneCutler(model.LapseAfter(math.MaxInt64 - 1)),
			[]zrEv{zrE(o, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), model.Acquisition},
		{"LapseAfter(1ns): exactly", model.SterneCutler(model.LapseAfter(1)), []zrEv{zrE(o, n.Add(-1))}, n, model.Conversion},
		{"LapseAfter(1ns): 2ns", model.SterneCutler(model.LapseAfter(1)), []zrEv{zrE(o, n.Add(-2))}, n, model.Acquisition},
		{"nil option skipped", model.SterneCutler(nil), zrRepeat(o, 5, n, zrDay), n, model.Loyalty},
	})
}

func TestContractSixStageStages(t *testing.T) {
	six := model.SixStage()
	n := zrNow
	o := lifecycle.OrderCompleted
	var cases []zrCase
	add := func(name string, want stage.ID, evs ...zrEv) {
		cases = append(cases, zrCase{name, six, evs, n, want})
	}
	add("no facts", model.SixStageAwareness)
	add("ad + content viewed", model.SixStageAwareness, zrE(lifecycle.AdImpression, n), zrE(lifecycle.ContentViewed, n))
	add("two visits", model.SixStageAwareness, zrRepeat(lifecycle.SiteVisited, 2, n, time.Hour)...)
	add("three visits", model.SixStageEngagement, zrRepeat(lifecycle.SiteVisited, 3, n, time.Hour)...)
	add("custom", model.SixStageAwareness, zrE("acme.x", n))
	add("only refund", model.SixStageAwareness, zrE(lifecycle.OrderRefunded, n))
	add("only credit", model.SixStageAwareness, zrCredit(n, "x"))
	for _, typ := range []lifecycle.EventType{lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ContentDownloaded,
		lifecycle.InquirySent, lifecycle.ChatStarted, lifecycle.LoyaltyJoined, lifecycle.SocialShared,
		lifecycle.ReviewPosted, lifecycle.ReferralMade, lifecycle.TicketOpened} {
		add("only "+string(typ), model.SixStageEngagement, zrE(typ, n))
	}
	add("only survey", model.SixStageEngagement, zrSurvey(n, 3))
	for _, typ := range []lifecycle.EventType{lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.CheckoutStarted} {
		add("only "+string(typ), model.SixStageEvaluation, zrE(typ, n))
	}
	add("one order", model.SixStagePurchase, zrE(o, n))
	add("refunded only order", model.SixStageEvaluation, zrE(o, n), zrE(lifecycle.OrderRefunded, n))
	add("lapsed", model.SixStageEvaluation, zrE(o, n.Add(-model.DefaultLapseAfter-1)))
	add("at exactly LapseAfter", model.SixStagePurchase, zrE(o, n.Add(-model.DefaultLapseAfter)))
	add("one order + ticket after", model.SixStageExperience, zrE(o, n.Add(-zrDay)), zrE(lifecycle.TicketOpened, n))
	add("one order + ticket at same instant", model.SixStagePurchase, zrE(o, n), zrE(lifecycle.TicketOpened, n))
	add("one order + ticket before", model.SixStagePurchase, zrE(lifecycle.TicketOpened, n.Add(-zrDay)), zrE(o, n))
	add("ticket after first, refunded first, second order", model.SixStageExperience,
		zrE(o, n.Add(-3*zrDay)), zrE(lifecycle.OrderRefunded, n.Add(-3*zrDay)), zrE(lifecycle.TicketOpened, n.Add(-2*zrDay)), zrE(o, n))
	add("two orders", model.SixStageExperience, zrRepeat(o, 2, n, zrDay)...)
	add("three orders", model.SixStageBonding, zrRepeat(o, 3, n, zrDay)...)
	add("three orders, open ticket", model.SixStageExperience, zrCat(zrRepeat(o, 3, n, zrDay), []zrEv{zrE(lifecycle.TicketOpened, n)})...)
	add("three orders, ticket resolved after", model.SixStageBonding, zrCat(zrRepeat(o, 3, n.Add(-zrDay), zrDay), []zrEv{zrE(lifecycle.TicketOpened, n.Add(-zrDay)), zrE(lifecycle.TicketResolved, n)})...)
	add("three orders, ticket resolved same instant", model.SixStageBonding, zrCat(zrRepeat(o, 3, n, zrDay), []zrEv{zrE(lifecycle.TicketOpened, n), zrE(lifecycle.TicketResolved, n)})...)
	add("three orders, ticket opened before them and never resolved", model.SixStageExperience, zrCat([]zrEv{zrE(lifecycle.TicketOpened, n.Add(-100*zrDay))}, zrRepeat(o, 3, n, zrDay))...)
	add("three orders, resolved then opened", model.SixStageExperience, zrCat(zrRepeat(o, 3, n, zrDay), []zrEv{zrE(lifecycle.TicketResolved, n.Add(-zrDay)), zrE(lifecycle.TicketOpened, n)})...)
	add("bonded then cancelled", model.SixStageEvaluation, zrCat(zrRepeat(lifecycle.SubscriptionRenewed, 3, n.Add(-zrDay), zrDay), []zrEv{zrE(lifecycle.SubscriptionCancelled, n)})...)
	add("bonded lapsed with reviews", model.SixStageEvaluation, zrCat(zrRepeat(o, 3, n.Add(-200*zrDay), zrDay), []zrEv{zrE(lifecycle.ReviewPosted, n), zrE(lifecycle.ReferralMade, n)})...)
	add("lapsed bonded buys again", model.SixStageBonding, zrCat(zrRepeat(o, 3, n.Add(-200*zrDay), zrDay), []zrEv{zrE(o, n)})...)
	zrRun(t, cases)

	o2 := zrRepeat(o, 2, n, zrDay)
	zrRun(t, []zrCase{
		{"BondPurchases(2): 2 orders", model.SixStage(model.BondPurchases(2)), o2, n, model.SixStageBonding},
		{"BondPurchases(1) raised to 2: 1 order", model.SixStage(model.BondPurchases(1)), o2[:1], n, model.SixStagePurchase},
		{"BondPurchases(0): 1 order", model.SixStage(model.BondPurchases(0)), o2[:1], n, model.SixStagePurchase},
		{"BondPurchases(MinInt64): 1 order", model.SixStage(model.BondPurchases(math.MinInt64)), o2[:1], n, model.SixStagePurchase},
		{"BondPurchases(MaxInt64): 50 orders", model.SixStage(model.BondPurchases(math.MaxInt64)), zrRepeat(o, 50, n, time.Hour), n, model.SixStageExperience},
		{"EngageVisits(1): 1 visit", model.SixStage(model.EngageVisits(1)), zrRepeat(lifecycle.SiteVisited, 1, n, zrDay), n, model.SixStageEngagement},
		{"EngageVisits(0): no visit", model.SixStage(model.EngageVisits(0)), []zrEv{zrE(lifecycle.AdImpression, n)}, n, model.SixStageAwareness},
		{"EngageVisits(-3): no visit", model.SixStage(model.EngageVisits(-3)), nil, n, model.SixStageAwareness},
		{"EngageVisits(MaxInt64): 100 visits", model.SixStage(model.EngageVisits(math.MaxInt64)), zrRepeat(lifecycle.SiteVisited, 100, n, time.Minute), n, model.SixStageAwareness},
		{"LapseAfter(0)", model.SixStage(model.LapseAfter(0)), []zrEv{zrE(o, n.Add(-9000*zrDay))}, n, model.SixStagePurchase},
		{"nil option", model.SixStage(nil), o2, n, model.SixStageExperience},
	})
}

func TestContractFiveStageStages(t *testing.T) {
	five := model.FiveStage()
	n := zrNow
	o := lifecycle.OrderCompleted
	na := model.DefaultNurtureAfter
	var cases []zrCase
	add := func(name string, want stage.ID, evs ...zrEv) {
		cases = append(cases, zrCase{name, five, evs, n, want})
	}
	add("no facts", model.FiveStageAwareness)
	add("signed up, viewed, ticket, survey 10, referral", model.FiveStageAwareness,
		zrE(lifecycle.SignedUp, n), zrE(lifecycle.ProductViewed, n), zrE(lifecycle.TicketOpened, n), zrSurvey(n, 10), zrCredit(n, "x"))
	add("one order now", model.FiveStageConversion, zrE(o, n))
	add("one order NurtureAfter−1ns ago", model.FiveStageConversion, zrE(o, n.Add(-na+1)))
	add("one order exactly NurtureAfter ago", model.FiveStageNurturing, zrE(o, n.Add(-na)))
	add("one order 100 days ago", model.FiveStageNurturing, zrE(o, n.Add(-100*zrDay)))
	add("one order lapsed", model.FiveStageNurturing, zrE(o, n.Add(-200*zrDay)))
	add("refunded only order", model.FiveStageAwareness, zrE(o, n), zrE(lifecycle.OrderRefunded, n))
	add("refunded only order, long ago", model.FiveStageAwareness, zrE(o, n.Add(-300*zrDay)), zrE(lifecycle.OrderRefunded, n.Add(-300*zrDay)))
	add("two orders", model.FiveStageRetention, zrRepeat(o, 2, n, zrDay)...)
	add("two orders + referral", model.FiveStageAdvocacy, zrCat(zrRepeat(o, 2, n, zrDay), []zrEv{zrCredit(n, "x")})...)
	add("two orders + score 9", model.FiveStageAdvocacy, zrCat(zrRepeat(o, 2, n, zrDay), []zrEv{zrSurvey(n, 9)})...)
	add("two orders + score 8", model.FiveStageRetention, zrCat(zrRepeat(o, 2, n, zrDay), []zrEv{zrSurvey(n, 8)})...)
	add("two orders + score 10 then 8", model.FiveStageRetention, zrCat(zrRepeat(o, 2, n, zrDay), []zrEv{zrSurvey(n.Add(-zrDay), 10), zrSurvey(n, 8)})...)
	add("two orders + score 8 + referral", model.FiveStageAdvocacy, zrCat(zrRepeat(o, 2, n, zrDay), []zrEv{zrSurvey(n, 3), zrCredit(n, "x")})...)
	add("one order + referral + score 10", model.FiveStageConversion, zrE(o, n), zrCredit(n, "x"), zrSurvey(n, 10))
	add("one order 20d ago + referral + score 10", model.FiveStageNurturing, zrE(o, n.Add(-20*zrDay)), zrCredit(n, "x"), zrSurvey(n, 10))
	add("advocate lapsed", model.FiveStageNurturing, zrCat(zrRepeat(o, 3, n.Add(-200*zrDay), zrDay), []zrEv{zrCredit(n, "x"), zrCredit(n, "y")})...)
	add("subscriber cancelled", model.FiveStageNurturing, zrE(lifecycle.SubscriptionStarted, n.Add(-zrDay)), zrE(lifecycle.SubscriptionRenewed, n.Add(-zrDay)), zrE(lifecycle.SubscriptionCancelled, n))
	add("cancel same instant as last purchase", model.FiveStageRetention, zrE(lifecycle.SubscriptionStarted, n.Add(-zrDay)), zrE(lifecycle.SubscriptionRenewed, n), zrE(lifecycle.SubscriptionCancelled, n))
	add("refund leaves 1 net within NurtureAfter", model.FiveStageConversion, zrE(o, n.Add(-5*zrDay)), zrE(lifecycle.OrderRefunded, n.Add(-4*zrDay)), zrE(o, n))
	add("refund leaves 1 net after NurtureAfter of first", model.FiveStageNurturing, zrE(o, n.Add(-50*zrDay)), zrE(lifecycle.OrderRefunded, n.Add(-49*zrDay)), zrE(o, n))
	add("lapsed retention buys again", model.FiveStageRetention, zrCat(zrRepeat(o, 2, n.Add(-300*zrDay), zrDay), []zrEv{zrE(o, n)})...)
	add("support tickets ignored", model.FiveStageRetention, zrCat(zrRepeat(o, 2, n, zrDay), []zrEv{zrE(lifecycle.TicketOpened, n)})...)
	zrRun(t, cases)

	two := zrRepeat(o, 2, n, zrDay)
	zrRun(t, []zrCase{
		{"PromoterScore(11): score 10", model.FiveStage(model.PromoterScore(11)), zrCat(two, []zrEv{zrSurvey(n, 10)}), n, model.FiveStageRetention},
		{"PromoterScore(12) clamps to 11", model.FiveStage(model.PromoterScore(12)), zrCat(two, []zrEv{zrSurvey(n, 10)}), n, model.FiveStageRetention},
		{"PromoterScore(MaxInt) clamps to 11", model.FiveStage(model.PromoterScore(math.MaxInt)), zrCat(two, []zrEv{zrSurvey(n, 10)}), n, model.FiveStageRetention},
		{"PromoterScore(-1) clamps to 0: score 0", model.FiveStage(model.PromoterScore(-1)), zrCat(two, []zrEv{zrSurvey(n, 0)}), n, model.FiveStageAdvocacy},
		{"PromoterScore(-1): no survey", model.FiveStage(model.PromoterScore(-1)), two, n, model.FiveStageRetention},
		{"PromoterScore(MinInt): no survey", model.FiveStage(model.PromoterScore(math.MinInt)), two, n, model.FiveStageRetention},
		{"AdvocateReferrals(0) → 1: no referral", model.FiveStage(model.AdvocateReferrals(0)), two, n, model.FiveStageRetention},
		{"AdvocateReferrals(-9) → 1: no referral", model.FiveStage(model.AdvocateReferrals(-9)), two, n, model.FiveStageRetention},
		{"AdvocateReferrals(MinInt64): no referral", model.FiveStage(model.AdvocateReferrals(math.MinInt64)), two, n, model.FiveStageRetention},
		{"AdvocateReferrals(2): one referral", model.FiveStage(model.AdvocateReferrals(2)), zrCat(two, []zrEv{zrCredit(n, "x")}), n, model.FiveStageRetention},
		{"AdvocateReferrals(2): two referrals", model.FiveStage(model.AdvocateReferrals(2)), zrCat(two, []zrEv{zrCredit(n, "x"), zrCredit(n, "y")}), n, model.FiveStageAdvocacy},
		{"RepeatPurchases(1) → 2: 1 order + referral", model.FiveStage(model.RepeatPurchases(1)), []zrEv{zrE(o, n), zrCredit(n, "x")}, n, model.FiveStageConversion},
		{"RepeatPurchases(MaxInt64): 3 orders", model.FiveStage(model.RepeatPurchases(math.MaxInt64)), zrRepeat(o, 3, n, 10*zrDay), n, model.FiveStageNurturing},
		{"NurtureAfter(-1) → 0: order now", model.FiveStage(model.NurtureAfter(-1)), []zrEv{zrE(o, n)}, n, model.FiveStageNurturing},
		{"NurtureAfter(0): order now", model.FiveStage(model.NurtureAfter(0)), []zrEv{zrE(o, n)}, n, model.FiveStageNurturing},
		{"NurtureAfter(400d) lowered to 180d: at 180d", model.FiveStage(model.NurtureAfter(400 * zrDay)), []zrEv{zrE(o, n.Add(-180*zrDay))}, n, model.FiveStageNurturing},
		{"NurtureAfter(400d) lowered to 180d: at 179d", model.FiveStage(model.NurtureAfter(400 * zrDay)), []zrEv{zrE(o, n.Add(-179*zrDay))}, n, model.FiveStageConversion},
		{"NurtureAfter(30d), LapseAfter(10d): at 10d", model.FiveStage(model.NurtureAfter(30*zrDay), model.LapseAfter(10*zrDay)), []zrEv{zrE(o, n.Add(-10*zrDay))}, n, model.FiveStageNurturing},
		{"NurtureAfter(30d), LapseAfter(10d), options reversed", model.FiveStage(model.LapseAfter(10*zrDay), model.NurtureAfter(30*zrDay)), []zrEv{zrE(o, n.Add(-10*zrDay))}, n, model.FiveStageNurturing},
		{"LapseAfter(0), NurtureAfter(1000d) kept: at 500d", model.FiveStage(model.LapseAfter(0), model.NurtureAfter(1000*zrDay)), []zrEv{zrE(o, n.Add(-500*zrDay))}, n, model.FiveStageConversion},
		{"LapseAfter(0), NurtureAfter(1000d) kept: at 1000d", model.FiveStage(model.LapseAfter(0), model.NurtureAfter(1000*zrDay)), []zrEv{zrE(o, n.Add(-1000*zrDay))}, n, model.FiveStageNurturing},
		{"LapseAfter(MaxInt64), NurtureAfter(MaxInt64)", model.FiveStage(model.LapseAfter(math.MaxInt64), model.NurtureAfter(math.MaxInt64)), []zrEv{zrE(o, n.Add(-1000*zrDay))}, n, model.FiveStageConversion},
		{"nil option", model.FiveStage(nil), two, n, model.FiveStageRetention},
	})
}

// NextChange of the built-ins at the documented instants.
func TestContractBuiltinNextChangeDocumented(t *testing.T) {
	o := lifecycle.OrderCompleted
	last := zrT0.Add(10 * zrDay)
	one := zrFacts(zrE(o, last))
	la := model.DefaultLapseAfter
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage()} {
		if got, want := zrNext(m, one, last.Add(zrDay)), last.Add(la+1); !got.Equal(want) {
			t.Errorf("%s: active buyer: NextChange = %s, want last + LapseAfter + 1ns = %s", m.Name(), zrShow(got), zrShow(want))
		}
		if got := zrNext(m, one, last.Add(la+1)); !got.IsZero() {
			t.Errorf("%s: lapsed buyer: NextChange = %s, want never", m.Name(), zrShow(got))
		}
		if got := zrNext(m, zrFacts(zrE(lifecycle.SignedUp, last)), last); !got.IsZero() {
			t.Errorf("%s: non-buyer: NextChange = %s, want never", m.Name(), zrShow(got))
		}
		if got := zrNext(m, &lifecycle.Facts{}, last); !got.IsZero() {
			t.Errorf("%s: empty facts: NextChange = %s, want never", m.Name(), zrShow(got))
		}
	}
	for _, m := range []lifecycle.Model{model.SterneCutler(model.LapseAfter(0)), model.SixStage(model.LapseAfter(-1)),
		model.SterneCutler(model.LapseAfter(math.MaxInt64)), model.SixStage(model.LapseAfter(math.MaxInt64))} {
		if got := zrNext(m, one, last.Add(zrDay)); !got.IsZero() {
			t.Errorf("%s, never lapsing: NextChange = %s, want never", m.Name(), zrShow(got))
		}
	}
	five := model.FiveStage()
	if got, want := zrNext(five, one, last.Add(zrDay)), last.Add(model.DefaultNurtureAfter); !got.Equal(want) {
		t.Errorf("five-stage conversion: NextChange = %s, want first + NurtureAfter = %s", zrShow(got), zrShow(want))
	}
	if got := zrNext(five, one, last.Add(20*zrDay)); !got.IsZero() {
		t.Errorf("five-stage nurturing: NextChange = %s, want never", zrShow(got))
	}
	two := zrFacts(zrE(o, last.Add(-zrDay)), zrE(o, last))
	if got, want := zrNext(five, two, last), last.Add(la+1); !got.Equal(want) {
		t.Errorf("five-stage retention: NextChange = %s, want lapse %s", zrShow(got), zrShow(want))
	}
	// Conversion where the lapse comes first: NurtureAfter(30d), LapseAfter(10d).
	fl := model.FiveStage(model.NurtureAfter(30*zrDay), model.LapseAfter(10*zrDay))
	if got := zrNext(fl, one, last); got.After(last.Add(10 * zrDay)) {
		t.Errorf("five-stage, lapse first: NextChange = %s, later than the 10d window", zrShow(got))
	}
}

// NextChange versus brute force for every built-in on random facts of the
// types the built-ins read, with default and hostile thresholds.
func TestContractBuiltinNextChangeBruteForce(t *testing.T) {
	models := []lifecycle.Model{
		model.SterneCutler(), model.SixStage(), model.FiveStage(),
		model.SterneCutler(model.LapseAfter(3 * zrDay)),
		model.SixStage(model.LapseAfter(3*zrDay), model.BondPurchases(2)),
		model.FiveStage(model.LapseAfter(3*zrDay), model.NurtureAfter(5*zrDay)),
		model.FiveStage(model.NurtureAfter(0)),
		model.FiveStage(model.LapseAfter(0)),
		model.FiveStage(model.LapseAfter(2*zrDay), model.NurtureAfter(10*zrDay)),
		model.FiveStage(model.LapseAfter(math.MaxInt64)),
		model.SterneCutler(model.LapseAfter(math.MaxInt64 - 1)),
	}
	types := []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.OrderRefunded,
		lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed, lifecycle.SubscriptionCancelled,
		lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.SurveyAnswered, lifecycle.ReferralConverted, lifecycle.SignedUp}
	ds := []time.Duration{3 * zrDay, 5 * zrDay, 2 * zrDay, 10 * zrDay, model.DefaultLapseAfter, model.DefaultNurtureAfter}
	r := rand.New(rand.NewPCG(1, 99))
	for _, m := range models {
		fails := 0
		for i := 0; i < 3000 && fails < 3; i++ {
			var evs []zrEv
			for k := range r.IntN(7) {
				typ := types[r.IntN(len(types))]
				at := zrT0.Add(time.Duration(r.Int64N(int64(30 * zrDay))))
				e := zrE(typ, at)
				switch typ {
				case lifecycle.SurveyAnswered:
					e.score = r.IntN(11)
				case lifecycle.ReferralConverted:
					e.ref = fmt.Sprintf("r%d", k)
				}
				evs = append(evs, e)
			}
			f := zrFacts(evs...)
			now := zrT0.Add(30 * zrDay)
			if !f.Last.IsZero() {
				now = f.Last.Add(time.Duration(r.Int64N(int64(20 * zrDay))))
			}
			if msg := zrProbe(m, f, now, zrCandidates(f, now, ds, r)); msg != "" {
				fails++
				t.Errorf("%s: %s; facts %+v", m.Name(), msg, f.Tallies)
			}
		}
	}
}

// Times at the edges of the representable range: no panic from Stage or
// NextChange of any built-in or builder model.
func TestContractEdgeTimesNoPanic(t *testing.T) {
	maxT := time.Unix(math.MaxInt64-62135596800, 999999999).UTC()
	minT := time.Unix(math.MinInt64, 0).UTC()
	times := []time.Time{{}, minT, maxT, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), lifecycle.Never}
	custom := model.NewBuilder("zredge").Start(zrSt("a")).
		Stage(zrSt("b"), model.Within(math.MaxInt64, lifecycle.OrderCompleted)).
		Stage(zrSt("c"), model.Tenure(math.MaxInt64, lifecycle.OrderCompleted)).
		Stage(zrSt("d"), model.All(model.Within(zrDay, lifecycle.SignedUp), model.Not(model.Within(time.Hour, lifecycle.SignedUp)))).
		MustBuild()
	models := []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(),
		model.FiveStage(model.LapseAfter(0), model.NurtureAfter(math.MaxInt64)), custom}
	for _, a := range times {
		for _, b := range times {
			f := zrFacts(zrE(lifecycle.OrderCompleted, a), zrE(lifecycle.OrderCompleted, b), zrE(lifecycle.SignedUp, a))
			for _, now := range times {
				for _, m := range models {
					zrNoPanic(t, fmt.Sprintf("%s at %v with events %v,%v", m.Name(), now, a, b), func() {
						m.Stage(f, now)
						m.(lifecycle.Scheduler).NextChange(f, now)
					})
				}
			}
		}
	}
}

// Hand-built facts with MaxInt64 counts and more refunds than orders.
func TestContractHugeCountsNoPanic(t *testing.T) {
	now := zrNow
	tl := func(typ lifecycle.EventType, n int64) lifecycle.Tally {
		return lifecycle.Tally{Type: typ, Count: n, First: zrT0, Last: now}
	}
	fs := []*lifecycle.Facts{
		{First: zrT0, Last: now, Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, math.MaxInt64), tl(lifecycle.SubscriptionRenewed, math.MaxInt64), tl(lifecycle.SubscriptionStarted, math.MaxInt64)}},
		{First: zrT0, Last: now, Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 1), tl(lifecycle.OrderRefunded, math.MaxInt64), tl(lifecycle.SubscriptionRenewed, math.MaxInt64)}},
		{First: zrT0, Last: now, Tallies: []lifecycle.Tally{tl(lifecycle.SiteVisited, math.MaxInt64)}},
	}
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()} {
		for i, f := range fs {
			var got stage.ID
			zrNoPanic(t, m.Name(), func() { got = m.Stage(f, now) })
			if !m.Stages().Has(got) {
				t.Errorf("%s facts %d: undeclared stage %q", m.Name(), i, got)
			}
		}
	}
	// MaxInt64 orders plus MaxInt64 subscriptions: net purchases must not wrap
	// negative; an active customer with that many purchases is in the top stage.
	f := fs[0]
	if got := model.SterneCutler().Stage(f, now); got != model.Loyalty {
		t.Errorf("sterne-cutler with MaxInt64 orders+subscriptions: %s, want loyalty", got)
	}
	if got := model.SixStage().Stage(f, now); got != model.SixStageBonding {
		t.Errorf("six-stage with MaxInt64 orders+subscriptions: %s, want bonding", got)
	}
	if got := model.FiveStage().Stage(f, now); got != model.FiveStageRetention {
		t.Errorf("five-stage with MaxInt64 orders+subscriptions: %s, want retention", got)
	}
}

// Stage and Holds on a nil *Facts (not documented either way): record it.
func TestContractNilFactsNoPanic(t *testing.T) {
	m := zrOKBuilder("zrnil").MustBuild()
	for _, mm := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(), m} {
		zrNoPanic(t, mm.Name()+".Stage(nil)", func() { mm.Stage(nil, zrNow) })
		zrNoPanic(t, mm.Name()+".NextChange(nil)", func() { mm.(lifecycle.Scheduler).NextChange(nil, zrNow) })
	}
	zrNoPanic(t, "Rule.Holds(nil)", func() { model.Orders(1).Holds(nil, zrNow) })
}

// ---------------------------------------------------------------------------
// Registry.

type zrEmptyModel struct{ g *stage.Graph }

func (zrEmptyModel) Name() string                               { return "zr-empty" }
func (m zrEmptyModel) Stages() *stage.Graph                     { return m.g }
func (zrEmptyModel) Stage(*lifecycle.Facts, time.Time) stage.ID { return "" }

func TestContractRegistry(t *testing.T) {
	for _, name := range []string{model.SterneCutlerName, model.SixStageName, model.FiveStageName} {
		m, err := model.Lookup(name)
		if err != nil || m == nil || m.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, m, err)
		}
	}
	names := model.Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() %v not sorted", names)
	}
	for _, n := range []string{"sterne-cutler", "six-stage", "five-stage"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names() %v lacks %s", names, n)
		}
	}
	names[0] = "mutated"
	if model.Names()[0] == "mutated" {
		t.Error("Names returns a shared slice")
	}
	for _, name := range []string{"nope", "", "Sterne-Cutler", " sterne-cutler"} {
		_, err := model.Lookup(name)
		if !errors.Is(err, model.ErrUnknownModel) {
			t.Errorf("Lookup(%q) = %v, want ErrUnknownModel", name, err)
			continue
		}
		for _, n := range []string{"five-stage", "six-stage", "sterne-cutler"} {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("Lookup(%q) error %q does not list %s", name, err, n)
			}
		}
	}
	// Duplicate: nothing overwritten.
	impostor := model.NewBuilder("impostor").Start(zrSt("a")).Stage(zrSt("b"), model.Orders(1)).MustBuild()
	if err := model.Register("sterne-cutler", impostor); !errors.Is(err, model.ErrDuplicateModel) {
		t.Errorf("Register(taken) = %v, want ErrDuplicateModel", err)
	}
	if m, _ := model.Lookup("sterne-cutler"); m.Name() != "sterne-cutler" {
		t.Errorf("duplicate Register overwrote: %s", m.Name())
	}
	// Invalid.
	g0, _ := stage.New(nil, nil)
	for name, c := range map[string]struct {
		n string
		m lifecycle.Model
	}{
		"empty name":         {"", model.SterneCutler()},
		"leading space":      {" zz-review-x", model.SterneCutler()},
		"trailing newline":   {"zz-review-x\n", model.SterneCutler()},
		"trailing tab":       {"zz-review-x\t", model.SterneCutler()},
		"nil model":          {"zz-review-nil", nil},
		"typed nil Custom":   {"zz-review-typednil", (*model.Custom)(nil)},
		"nil graph":          {"zz-review-nilgraph", zrEmptyModel{}},
		"empty graph":        {"zz-review-emptygraph", zrEmptyModel{g: &stage.Graph{}}},
		"graph from New nil": {"zz-review-newnil", zrEmptyModel{g: g0}},
	} {
		var err error
		zrNoPanic(t, "Register "+name, func() { err = model.Register(c.n, c.m) })
		if !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("Register(%s) = %v, want ErrInvalidModel", name, err)
		}
		if _, lerr := model.Lookup(c.n); lerr == nil && c.n != "" {
			t.Errorf("Register(%s) failed but Lookup finds %q", name, c.n)
		}
	}
	// A variant under another name.
	v := model.SterneCutler(model.LapseAfter(90 * zrDay))
	if err := model.Register("zz-review-sc-90d", v); err != nil && !errors.Is(err, model.ErrDuplicateModel) { // (duplicate: -count > 1)
		t.Fatalf("Register variant: %v", err)
	}
	got, err := model.Lookup("zz-review-sc-90d")
	if err != nil {
		t.Fatal(err)
	}
	f := zrFacts(zrE(lifecycle.OrderCompleted, zrT0))
	if s := got.Stage(f, zrT0.Add(100*zrDay)); s != model.Acquisition {
		t.Errorf("variant: %s, want acquisition (lapsed after 90d)", s)
	}
}

// ---------------------------------------------------------------------------
// Diagrams.

func TestContractMermaidTitleAndNodeIDs(t *testing.T) {
	mk := func(name string, ids ...stage.ID) *model.Custom {
		b := model.NewBuilder(name).Start(zrSt(ids[0]))
		for i, id := range ids[1:] {
			b.Stage(zrSt(id), model.Count(lifecycle.EventType(fmt.Sprintf("acme.t%d", i)), 1))
		}
		return b.MustBuild()
	}
	for name, quoted := range map[string]bool{
		"plain-name_1.0 x": false,
		"null":             true,
		"true":             true,
		"no":               true,
		"Yes":              true,
		"1abc":             true,
		"a: b":             true,
		"x ":               true,
		"#x":               true,
		"a\nb":             true,
	} {
		out := model.Mermaid(mk(name, "a", "b"))
		want := "title: " + name + "\n"
		if quoted {
			q, _ := jsonString(name)
			want = "title: " + q + "\n"
		}
		if !strings.Contains(out, want) {
			t.Errorf("Mermaid title for %q: want line %q in\n%s", name, want, out)
		}
	}
	out := model.Mermaid(mk("m", "b-2", "b_2", "b.2"))
	for _, id := range []string{"s_b_2d_2", "s_b_5f_2", "s_b_2e_2"} {
		if !strings.Contains(out, id) {
			t.Errorf("Mermaid lacks node %s:\n%s", id, out)
		}
	}
	lab := model.NewBuilder("m").Start(stage.Stage{ID: "a", Name: `<b>"#x"` + "`"}).Stage(zrSt("b"), model.Orders(1)).MustBuild()
	out = model.Mermaid(lab)
	if !strings.Contains(out, `#lt;b#gt;#quot;#35;x#quot;#96;`) {
		t.Errorf("Mermaid label not escaped as documented:\n%s", out)
	}
}

func jsonString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// ---------------------------------------------------------------------------
// Hostile hand-built Facts values: "Stage is total ... for every Facts value".

func TestContractHostileFactsTotal(t *testing.T) {
	now := zrNow
	tl := func(typ lifecycle.EventType, n int64, first, last time.Time) lifecycle.Tally {
		return lifecycle.Tally{Type: typ, Count: n, First: first, Last: last}
	}
	fs := map[string]*lifecycle.Facts{
		"negative counts":   {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, -5, zrT0, now), tl(lifecycle.SiteVisited, math.MinInt64, zrT0, now)}},
		"unsorted tallies":  {Tallies: []lifecycle.Tally{tl(lifecycle.SubscriptionStarted, 1, zrT0, now), tl(lifecycle.OrderCompleted, 3, zrT0, now)}},
		"duplicate tallies": {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 3, zrT0, now), tl(lifecycle.OrderCompleted, 3, zrT0, now)}},
		"first after last":  {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 2, now, zrT0)}},
		"zero times":        {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 2, time.Time{}, time.Time{})}},
		"score out of range": {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 2, zrT0, now), tl(lifecycle.SurveyAnswered, 1, now, now)},
			Score: math.MaxInt, ScoreAt: now},
		"negative score": {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 2, zrT0, now), tl(lifecycle.SurveyAnswered, 1, now, now)},
			Score: math.MinInt, ScoreAt: now},
		"referral tally without referrals": {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 2, zrT0, now), tl(lifecycle.ReferralConverted, 7, now, now)}},
		"negative sums": {Tallies: []lifecycle.Tally{tl(lifecycle.OrderCompleted, 2, zrT0, now)},
			Sums: []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: math.MinInt64}, {Type: lifecycle.OrderRefunded, Currency: "EUR", Amount: math.MinInt64}}},
		"5000 custom types": func() *lifecycle.Facts {
			f := &lifecycle.Facts{}
			for i := range 5000 {
				f.Tallies = append(f.Tallies, tl(lifecycle.EventType(fmt.Sprintf("acme.t%05d", i)), 1, zrT0, now))
			}
			return f
		}(),
	}
	custom := model.NewBuilder("zrhostile").Start(zrSt("a")).
		Stage(zrSt("b"), model.Spent("EUR", 1)).
		Stage(zrSt("c"), model.All(model.Orders(1), model.Within(zrDay, lifecycle.OrderCompleted))).
		Stage(zrSt("d"), model.Any(model.Score(9), model.Referrals(3), model.Tenure(30*zrDay, lifecycle.OrderCompleted))).
		MustBuild()
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(), custom} {
		for name, f := range fs {
			for _, at := range []time.Time{now, {}, zrT0.Add(-zrDay)} {
				zrNoPanic(t, m.Name()+" "+name, func() {
					if s := m.Stage(f, at); !m.Stages().Has(s) {
						t.Errorf("%s %s: undeclared stage %q", m.Name(), name, s)
					}
					m.(lifecycle.Scheduler).NextChange(f, at)
				})
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Comparison.

type zrPanicModel struct{}

func (zrPanicModel) Name() string { return "zrpanic" }
func (zrPanicModel) Stages() *stage.Graph {
	return stage.MustNew([]stage.Stage{{ID: "a"}}, nil)
}
func (zrPanicModel) Stage(*lifecycle.Facts, time.Time) stage.ID { panic("boom") }

type zrLiarModel struct{ zrPanicModel }

func (zrLiarModel) Name() string                               { return "zrliar" }
func (zrLiarModel) Stage(*lifecycle.Facts, time.Time) stage.ID { return "limbo" }

func TestContractClassifyCustomersErrors(t *testing.T) {
	c := &lifecycle.Customer{ID: "c1", AsOf: zrNow, Facts: *zrFacts(zrE(lifecycle.OrderCompleted, zrNow))}
	pending := &lifecycle.Customer{ID: "p1", Facts: *zrFacts(zrCredit(zrNow, "x"))}
	sc := model.SterneCutler()

	rows, err := model.ClassifyCustomers([]*lifecycle.Customer{c, pending}, []lifecycle.Model{sc, model.FiveStage()})
	if err != nil || len(rows) != 1 || rows[0].CustomerID != "c1" || rows[0].Stages[0] != model.Conversion || rows[0].Stages[1] != model.FiveStageConversion {
		t.Errorf("ClassifyCustomers = %+v, %v", rows, err)
	}
	if len(rows) == 1 && !rows[0].At.Equal(zrNow) {
		t.Errorf("Row.At = %v, want the classification time %v", rows[0].At, zrNow)
	}
	_, err = model.ClassifyCustomers([]*lifecycle.Customer{c, nil}, []lifecycle.Model{sc})
	if !errors.Is(err, lifecycle.ErrInvalidCustomer) || !strings.Contains(fmt.Sprint(err), "1") {
		t.Errorf("nil customer: %v", err)
	}
	for _, m := range []lifecycle.Model{zrPanicModel{}, zrLiarModel{}} {
		var err error
		zrNoPanic(t, "ClassifyCustomers "+m.Name(), func() {
			_, err = model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{sc, m})
		})
		if !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("%s: %v, want ErrInvalidModel", m.Name(), err)
		}
		zrNoPanic(t, "CorrespondCustomers "+m.Name(), func() {
			_, err = model.CorrespondCustomers([]*lifecycle.Customer{c}, sc, m)
		})
		if !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("Correspond %s: %v, want ErrInvalidModel", m.Name(), err)
		}
	}
	// A nil model in the list: an error, not a crash.
	zrNoPanic(t, "ClassifyCustomers nil model", func() {
		_, err = model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{sc, nil})
	})
	if err == nil {
		t.Error("ClassifyCustomers with a nil model: no error")
	}
	zrNoPanic(t, "CorrespondCustomers nil model", func() {
		_, err = model.CorrespondCustomers([]*lifecycle.Customer{c}, nil, sc)
	})
	if err == nil {
		t.Error("CorrespondCustomers with a nil model: no error")
	}
	// Classify with a nil store.
	var gotErr error
	zrNoPanic(t, "Classify nil store", func() {
		for _, e := range model.Classify(t.Context(), nil, []lifecycle.Model{sc}) {
			gotErr = e
		}
	})
	if !errors.Is(gotErr, lifecycle.ErrNoTracker) {
		t.Errorf("Classify(nil store): %v, want ErrNoTracker", gotErr)
	}
	// At(zero time).
	rows, err = model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{sc}, model.At(time.Time{}))
	if err != nil || len(rows) != 1 || !rows[0].At.IsZero() {
		t.Errorf("At(zero): %+v, %v", rows, err)
	}
	corr, err := model.CorrespondCustomers([]*lifecycle.Customer{c, pending}, sc, model.FiveStage())
	if err != nil || corr.Total != 1 || corr.Count(model.Conversion, model.FiveStageConversion) != 1 || corr.Count("zz", "yy") != 0 {
		t.Errorf("CorrespondCustomers = %+v, %v", corr, err)
	}
}

// The diagrams in docs/models.md and README.md are "its output": compare the
// built-ins' Mermaid output with every mermaid block titled with their name.
func TestContractDocDiagramsMatchMermaid(t *testing.T) {
	for _, file := range []string{"../docs/models.md", "../README.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(string(b), "```mermaid\n")[1:]
		seen := 0
		for _, blk := range blocks {
			body := blk[:strings.Index(blk, "```")]
			for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()} {
				if strings.Contains(body, "title: "+m.Name()+"\n") {
					seen++
					if got := model.Mermaid(m); got != body {
						t.Errorf("%s: the %s diagram differs from model.Mermaid:\n--- doc\n%s--- Mermaid\n%s", file, m.Name(), body, got)
					}
				}
			}
		}
		if seen != 3 {
			t.Errorf("%s: found %d built-in diagrams, want 3", file, seen)
		}
	}
}

// YAML 1.1 reads more words than null/true/no as other than text.
func TestContractMermaidYAMLWords(t *testing.T) {
	for _, name := range []string{"y", "Y", "yes", "YES", "n", "N", "NO", "on", "On", "ON", "off", "Off", "OFF", "Null", "NULL", "True", "FALSE", "false"} {
		m := model.NewBuilder(name).Start(zrSt("a")).Stage(zrSt("b"), model.Orders(1)).MustBuild()
		out := model.Mermaid(m)
		if !strings.Contains(out, "title: \""+name+"\"\n") {
			t.Errorf("Mermaid title for %q is not quoted:\n%s", name, strings.SplitN(out, "flowchart", 2)[0])
		}
	}
}

// Custom.Stage does not allocate (no Func), for a rule of every kind.
func TestContractCustomStageNoAlloc(t *testing.T) {
	m := model.NewBuilder("zralloc").Start(zrSt("a")).
		Stage(zrSt("b"), model.Any(model.Count(lifecycle.SignedUp, 1), model.Tenure(zrDay, lifecycle.SignedUp))).
		Stage(zrSt("c"), model.All(model.Orders(1), model.Within(30*zrDay, lifecycle.OrderCompleted), model.Not(model.After(lifecycle.TicketOpened, lifecycle.TicketResolved)))).
		Stage(zrSt("d"), model.All(model.Spent("EUR", 100), model.Any(model.Referrals(1), model.Score(9)))).
		MustBuild()
	f := zrFacts(zrE(lifecycle.SignedUp, zrT0), zrPay(lifecycle.OrderCompleted, zrT0, 500, "EUR"), zrSurvey(zrT0, 10), zrE(lifecycle.TicketOpened, zrT0))
	now := zrT0.Add(zrDay)
	if n := testing.AllocsPerRun(100, func() { m.Stage(f, now) }); n != 0 {
		t.Errorf("Custom.Stage allocates %v times", n)
	}
}

// Rules are immutable values: changing the slice passed to All or Any
// afterwards changes nothing.
func TestContractRuleImmutable(t *testing.T) {
	rs := []model.Rule{model.Count("acme.a", 1), model.Count("acme.b", 1)}
	all, anyR := model.All(rs...), model.Any(rs...)
	sa, sy := all.String(), anyR.String()
	rs[0] = model.Count("acme.c", 5)
	if all.String() != sa || anyR.String() != sy {
		t.Errorf("All/Any alias the caller's slice: %s, %s", all, anyR)
	}
	f := zrFacts(zrE("acme.a", zrT0), zrE("acme.b", zrT0))
	if !all.Holds(f, zrT0) {
		t.Error("All changed meaning after the caller's slice changed")
	}
}

// A built Custom is immutable: later Builder calls and changes to the slices
// given to Edges and Converts do not reach it.
func TestContractCustomImmutableAfterBuild(t *testing.T) {
	edges := []stage.Edge{{From: "a", To: "b"}, {From: "b", To: "a"}}
	types := []lifecycle.EventType{lifecycle.SubscriptionRenewed}
	b := model.NewBuilder("zrimm").Start(zrSt("a")).Stage(zrSt("b"), model.Within(zrDay, "acme.x")).Edges(edges...).Converts(types...)
	m := b.MustBuild()
	edges[0].To = "zz"
	types[0] = "acme.other"
	b.Stage(zrSt("c"), model.Count("acme.y", 1)).Edges(stage.Edge{From: "a", To: "c"})
	if m.Stages().Len() != 2 || m.Stages().Edges()[0].To != "b" {
		t.Errorf("model changed after Build: %v %v", m.Stages().IDs(), m.Stages().Edges())
	}
	if got := m.ConversionTypes(); len(got) != 1 || got[0] != lifecycle.SubscriptionRenewed {
		t.Errorf("ConversionTypes changed after Build: %v", got)
	}
	if _, ok := m.Rule("c"); ok {
		t.Error("a stage added after Build appears in the model")
	}
	// Edges called twice: the edges add up.
	m2 := model.NewBuilder("zrimm2").Start(zrSt("a")).Stage(zrSt("b"), model.Within(zrDay, "acme.x")).
		Edges(stage.Edge{From: "a", To: "b"}).Edges(stage.Edge{From: "b", To: "a"}).MustBuild()
	if !m2.Stages().Allows("a", "b") || !m2.Stages().Allows("b", "a") {
		t.Errorf("Edges calls do not add up: %v", m2.Stages().Edges())
	}
}

// Build of more than MaxStages stages is refused; the refusal should not
// first derive the quadratic edge set (hostile configuration: memory grows
// with the square of the stage count, ~1 GiB for 3,000 stages, before the
// MaxStages error).
func TestContractBuilderTooManyStagesCheap(t *testing.T) {
	const n = 1500
	b := model.NewBuilder("zrbig").Start(zrSt("s0"))
	for i := 1; i < n; i++ {
		b.Stage(zrSt(stage.ID(fmt.Sprintf("s%d", i))), model.Count(lifecycle.EventType(fmt.Sprintf("acme.t%d", i)), 1))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := b.Build()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, model.ErrInvalidModel) || !strings.Contains(fmt.Sprint(err), "1500") {
		t.Errorf("Build of %d stages: %v", n, err)
	}
	if mib := (after.TotalAlloc - before.TotalAlloc) >> 20; mib > 32 {
		t.Errorf("Build of %d stages allocated %d MiB before refusing them (more than MaxStages=%d)", n, mib, stage.MaxStages)
	}
}

// Classification time: ClassifiedAt (the later of AsOf and the last credit),
// or the time of the last event when that is zero.
func TestContractClassifyAtClassificationTime(t *testing.T) {
	o := lifecycle.OrderCompleted
	noAsOf := &lifecycle.Customer{ID: "a", Facts: *zrFacts(zrE(o, zrT0), zrE(o, zrT0.Add(zrDay)))}
	credit := &lifecycle.Customer{ID: "b", AsOf: zrT0, Facts: *zrFacts(zrE(o, zrT0), zrCredit(zrT0.Add(300*zrDay), "x"))}
	rows, err := model.ClassifyCustomers([]*lifecycle.Customer{noAsOf, credit}, []lifecycle.Model{model.SterneCutler()})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%+v %v", rows, err)
	}
	if !rows[0].At.Equal(zrT0.Add(zrDay)) || rows[0].Stages[0] != model.Retention {
		t.Errorf("AsOf zero: %+v, want At = last event, retention", rows[0])
	}
	if !rows[1].At.Equal(zrT0.Add(300*zrDay)) || rows[1].Stages[0] != model.Acquisition {
		t.Errorf("credit after AsOf: %+v, want At = credit time, acquisition (lapsed)", rows[1])
	}
}

// Func rules that depend on now, mixed into random models: NextChange must
// still never be late (a model whose stage may depend on a Func is due now).
func TestContractCustomNextChangeWithFunc(t *testing.T) {
	x := zrT0.Add(50 * zrDay)
	fnTime := model.Func("after-x", func(_ *lifecycle.Facts, now time.Time) bool { return !now.Before(x) })
	fnWeek := model.Func("even-week", func(_ *lifecycle.Facts, now time.Time) bool { return (now.Unix()/(7*86400))%2 == 0 })
	r := rand.New(rand.NewPCG(21, 22))
	fails := 0
	for mi := 0; mi < 400 && fails < 3; mi++ {
		b := model.NewBuilder("zrfunc").Start(zrSt("s0"))
		for i := range 1 + r.IntN(4) {
			rule := zrRandRule(r, 1)
			switch r.IntN(4) {
			case 0:
				rule = model.All(rule, fnTime)
			case 1:
				rule = model.Any(rule, model.Not(fnWeek))
			case 2:
				rule = model.Any(model.All(rule, fnWeek), fnTime)
			}
			b.Stage(zrSt(stage.ID(fmt.Sprintf("s%d", i+1))), rule)
		}
		m, err := b.Build()
		if err != nil {
			continue
		}
		for range 20 {
			f := zrRandFacts(r, zrT0, 60*zrDay)
			now := zrT0.Add(time.Duration(r.Int64N(int64(60 * zrDay))))
			if !f.Last.IsZero() && f.Last.After(now) {
				now = f.Last
			}
			probes := zrCandidates(f, now, zrDurs, r)
			probes = append(probes, x.Add(-1), x, x.Add(1))
			for w := int64(0); w < 30; w++ {
				probes = append(probes, time.Unix(w*7*86400+int64(now.Unix()/(7*86400))*7*86400, 0).UTC())
			}
			if msg := zrProbe(m, f, now, probes); msg != "" {
				fails++
				t.Errorf("model %s: %s; facts %+v", describe(m), msg, f.Tallies)
				break
			}
		}
	}
}
