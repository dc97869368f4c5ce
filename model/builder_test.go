package model_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

func TestRules(t *testing.T) {
	const d = 24 * time.Hour
	bought := facts(e(O, 0), e(O, 10), e(R, 11), e(TO, 12), e(TR, 13), e(TO, 14), e(RC, 15), survey(16, 8), e(SR, 20))
	cases := []struct {
		name string
		rule model.Rule
		f    *lifecycle.Facts
		now  float64
		want bool
		desc string
	}{
		{"count holds at n", model.Count(O, 2), bought, 20, true, "count(order_completed) >= 2"},
		{"count fails below n", model.Count(O, 3), bought, 20, false, "count(order_completed) >= 3"},
		{"count of a missing type", model.Count(V, 1), bought, 20, false, "count(site_visited) >= 1"},
		{"orders are net of refunds", model.Orders(2), bought, 20, false, "orders >= 2"},
		{"orders at 1", model.Orders(1), bought, 20, true, "orders >= 1"},
		{"within the window", model.Within(10*d, O), bought, 20, true, "within(order_completed, 10d)"},
		{"outside the window", model.Within(10*d, O), bought, 20.01, false, "within(order_completed, 10d)"},
		{"within of a missing type", model.Within(10*d, V), bought, 20, false, "within(site_visited, 10d)"},
		{"window in hours", model.Within(36*time.Hour, SR), bought, 21, true, "within(subscription_renewed, 36h0m0s)"},
		{"tenure reached", model.Tenure(20*d, O), bought, 20, true, "tenure(order_completed, 20d)"},
		{"tenure not reached", model.Tenure(21*d, O), bought, 20, false, "tenure(order_completed, 21d)"},
		{"tenure of a missing type", model.Tenure(d, V), bought, 20, false, "tenure(site_visited, 1d)"},
		{"after: reopened ticket", model.After(TO, TR), bought, 20, true, "after(ticket_opened, ticket_resolved)"},
		{"after: resolved last", model.After(TR, TO), bought, 20, false, "after(ticket_resolved, ticket_opened)"},
		{"after: x without y", model.After(O, SC), bought, 20, true, "after(order_completed, subscription_cancelled)"},
		{"after: no x", model.After(SC, O), bought, 20, false, "after(subscription_cancelled, order_completed)"},
		{"spent: net revenue", model.Spent("EUR", 5000), bought, 20, true, "spent(EUR) >= 5000"},
		{"spent: above net revenue", model.Spent("EUR", 5001), bought, 20, false, "spent(EUR) >= 5001"},
		{"spent: other currency", model.Spent("USD", 1), bought, 20, false, "spent(USD) >= 1"},
		{"referrals", model.Referrals(1), bought, 20, true, "referrals >= 1"},
		{"too few referrals", model.Referrals(2), bought, 20, false, "referrals >= 2"},
		{"score reached", model.Score(8), bought, 20, true, "score >= 8"},
		{"score not reached", model.Score(9), bought, 20, false, "score >= 9"},
		{"score 0 needs an answer", model.Score(0), facts(), 20, false, "score >= 0"},
		{"func", model.Func("big", func(f *lifecycle.Facts, _ time.Time) bool { return f.Events() > 5 }), bought, 20, true, "func(big)"},
		{"all holds", model.All(model.Count(O, 1), model.Referrals(1)), bought, 20, true, "all(count(order_completed) >= 1, referrals >= 1)"},
		{"all fails", model.All(model.Count(O, 1), model.Referrals(2)), bought, 20, false, "all(count(order_completed) >= 1, referrals >= 2)"},
		{"any holds", model.Any(model.Referrals(2), model.Score(5)), bought, 20, true, "any(referrals >= 2, score >= 5)"},
		{"any fails", model.Any(model.Referrals(2), model.Score(9)), bought, 20, false, "any(referrals >= 2, score >= 9)"},
		{"not", model.Not(model.Count(SC, 1)), bought, 20, true, "not(count(subscription_cancelled) >= 1)"},
		{"zero rule never holds", model.Rule{}, bought, 20, false, "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Holds(tc.f, day(tc.now)); got != tc.want {
				t.Errorf("%s.Holds = %v, want %v", tc.rule, got, tc.want)
			}
			if got := tc.rule.String(); got != tc.desc {
				t.Errorf("String() = %q, want %q", got, tc.desc)
			}
		})
	}
}

func st(id stage.ID) stage.Stage {
	return stage.Stage{ID: id, Name: strings.ToUpper(string(id[:1])) + string(id[1:])}
}

func TestBuilderClassifiesByLastRuleThatHolds(t *testing.T) {
	m, err := model.NewBuilder("tiers").
		Start(st("guest")).
		Stage(st("buyer"), model.Orders(1)).
		Stage(st("regular"), model.All(model.Orders(3), model.Within(90*24*time.Hour, O))).
		Stage(st("vip"), model.Spent("EUR", 10000)).
		Build()
	require.NoError(t, err)
	cases := []struct {
		name   string
		events []ev
		now    float64
		want   stage.ID
	}{
		{"no facts: fallback", nil, 0, "guest"},
		{"one order", orders(1, 0, 0), 0, "buyer"},
		{"three recent orders", orders(3, 0, 10), 20, "regular"},
		{"three old orders fall back to buyer", orders(3, 0, 10), 111, "buyer"},
		{"four orders of 25 EUR: vip wins over regular", orders(4, 0, 1), 3, "vip"},
		{"vip even when not recent", orders(4, 0, 1), 500, "vip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Stage(facts(tc.events...), day(tc.now)); got != tc.want {
				t.Errorf("Stage = %q, want %q", got, tc.want)
			}
		})
	}
	r, ok := m.Rule("regular")
	require.True(t, ok)
	if got := r.String(); got != "all(orders >= 3, within(order_completed, 90d))" {
		t.Errorf("Rule(regular) = %s", got)
	}
	if r, ok := m.Rule("guest"); !ok || !r.IsZero() {
		t.Errorf("Rule(guest) = %v, %v; want the zero rule", r, ok)
	}
	if _, ok := m.Rule("nope"); ok {
		t.Error("Rule(nope) found")
	}
	f := facts(orders(3, 0, 10)...)
	if n := testing.AllocsPerRun(100, func() { m.Stage(f, day(20)) }); n != 0 {
		t.Errorf("%v allocations per classification, want 0", n)
	}
}

func TestBuilderDerivesEdges(t *testing.T) {
	m, err := model.NewBuilder("derived").
		Start(st("visitor")).
		Stage(st("member"), model.Count(lifecycle.SignedUp, 1)). // only turns true
		Stage(st("active"), model.Within(30*24*time.Hour, O)).   // turns true and false
		Stage(st("referrer"), model.Referrals(1)).               // only turns true
		Build()
	require.NoError(t, err)
	want := []stage.Edge{
		{From: "visitor", To: "member", Kind: stage.Advance},
		{From: "visitor", To: "active", Kind: stage.Advance},
		{From: "visitor", To: "referrer", Kind: stage.Advance},
		{From: "member", To: "active", Kind: stage.Advance},
		{From: "member", To: "referrer", Kind: stage.Advance},
		{From: "active", To: "visitor", Kind: stage.Regress},
		{From: "active", To: "member", Kind: stage.Regress},
		{From: "active", To: "referrer", Kind: stage.Advance},
	}
	if diff := cmp.Diff(want, m.Stages().Edges()); diff != "" {
		t.Errorf("derived edges (-want +got):\n%s", diff)
	}
}

func TestBuilderDeclaredEdges(t *testing.T) {
	m, err := model.NewBuilder("declared").
		Start(st("a")).
		Stage(st("b"), model.Count(O, 1)).
		Edges(stage.Edge{From: "a", To: "b", Kind: stage.Advance}).
		Build()
	require.NoError(t, err)
	if diff := cmp.Diff([]stage.Edge{{From: "a", To: "b", Kind: stage.Advance}}, m.Stages().Edges()); diff != "" {
		t.Error(diff)
	}
}

func TestBuilderErrors(t *testing.T) {
	orders1 := model.Orders(1)
	cases := []struct {
		name  string
		build func() (*model.Custom, error)
		want  []string // substrings of the error
	}{
		{"no name", func() (*model.Custom, error) {
			return model.NewBuilder(" ").Start(st("a")).Build()
		}, []string{"the model has no name"}},
		{"no stages", func() (*model.Custom, error) { return model.NewBuilder("x").Build() }, []string{"no stages"}},
		{"stage before start", func() (*model.Custom, error) {
			return model.NewBuilder("x").Stage(st("b"), orders1).Start(st("a")).Build()
		}, []string{`Stage("b") before Start`}},
		{"start twice", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Start(st("b")).Build()
		}, []string{`Start("b") must be called once`}},
		{"stage without rule", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Stage(st("b"), model.Rule{}).Build()
		}, []string{`stage "b" has no entry rule`}},
		{"identical rules", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Stage(st("b"), model.Orders(1)).Stage(st("c"), model.Orders(1)).Build()
		}, []string{`stages "b" and "c" have the same rule orders >= 1: they can never be told apart`}},
		{"rule that can only turn false", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Stage(st("b"), model.Not(model.Count(V, 1))).Build()
		}, []string{`stage "b" can never be entered`}},
		{"unknown stage in an edge", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Stage(st("b"), orders1).
				Edges(stage.Edge{From: "a", To: "b", Kind: stage.Advance}, stage.Edge{From: "b", To: "zz", Kind: stage.Regress}).Build()
		}, []string{`unknown stage "zz"`}},
		{"unreachable stage with declared edges", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Stage(st("b"), orders1).Stage(st("c"), model.Referrals(1)).
				Edges(stage.Edge{From: "a", To: "b", Kind: stage.Advance}).Build()
		}, []string{`stage "c" cannot be reached`}},
		{"duplicate stage ID", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).Stage(st("a"), orders1).Build()
		}, []string{`duplicate stage ID "a"`}},
		{"bad parameters", func() (*model.Custom, error) {
			return model.NewBuilder("x").Start(st("a")).
				Stage(st("b"), model.Count("order_complete", 1)).
				Stage(st("c"), model.Count(O, 0)).
				Stage(st("d"), model.Within(0, O)).
				Stage(st("e"), model.Spent("eur", 5)).
				Stage(st("f"), model.Score(11)).
				Stage(st("g"), model.After(O, O)).
				Stage(st("h"), model.Func("", nil)).
				Stage(st("i"), model.All()).
				Stage(st("j"), model.Any(model.Referrals(0), model.Rule{})).
				Stage(st("k"), model.Tenure(-time.Hour, O)).
				Build()
		}, []string{
			`stage "b": rule count(order_complete) >= 1: event type "order_complete" is invalid`,
			`stage "c": rule count(order_completed) >= 0: count threshold 0 must be at least 1`,
			`stage "d": rule within(order_completed, 0s): window 0s must be positive`,
			`stage "e": rule spent(eur) >= 5: currency "eur" is not an ISO 4217 code`,
			`stage "f": rule score >= 11: score 11 must be from 0 to 10`,
			`stage "g": rule after(order_completed, order_completed): the two event types are the same`,
			`stage "h": rule func(): custom predicate has no name`,
			`stage "i": rule all(): no rules to combine`,
			`stage "j": rule any(referrals >= 0): rule 1 is the zero Rule`,
			`stage "j": rule referrals >= 0: referrals threshold 0 must be at least 1`,
			`stage "k": rule tenure(order_completed, -1h0m0s): tenure -1h0m0s must be positive`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.build()
			require.Error(t, err)
			require.Nil(t, m)
			if !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("error does not wrap ErrInvalidModel: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
		})
	}
}

// TestBuilderZeroRulesReported: every zero Rule in a group is named, and
// a rule that is broken gets no second, misleading error about when its
// stage can be entered.
func TestBuilderZeroRulesReported(t *testing.T) {
	orders := model.Count(lifecycle.OrderCompleted, 1)
	_, err := model.NewBuilder("x").Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, model.All(orders, model.Rule{}, model.Rule{})).
		Stage(stage.Stage{ID: "c"}, model.All()).
		Stage(stage.Stage{ID: "d"}, model.Not(model.Rule{})).
		Build()
	require.ErrorIs(t, err, model.ErrInvalidModel)
	require.Contains(t, err.Error(), "rules 1, 2 are the zero Rule")
	require.Contains(t, err.Error(), `stage "c": rule all(): no rules to combine`)
	require.Contains(t, err.Error(), "not of the zero Rule")
	require.NotContains(t, err.Error(), "can never be entered")
}

// With derived edges, a duplicate or empty stage ID is reported once, as
// stage.New reports it, without errors about edges the user never wrote.
func TestBuilderBadIDsReportedOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    *model.Builder
		want string
	}{
		{"duplicate", model.NewBuilder("x").Start(st("a")).Stage(st("b"), model.Orders(1)).Stage(st("a"), model.Referrals(1)), `duplicate stage ID "a" (positions 0 and 2)`},
		{"empty", model.NewBuilder("x").Start(st("a")).Stage(stage.Stage{}, model.Orders(1)), "stage 1 has an empty ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.b.Build()
			require.ErrorIs(t, err, model.ErrInvalidModel)
			require.ErrorIs(t, err, stage.ErrInvalidGraph)
			require.Contains(t, err.Error(), tc.want)
			if n := strings.Count(err.Error(), "invalid graph"); n != 1 {
				t.Errorf("%d graph problems reported, want 1:\n%v", n, err)
			}
		})
	}
}

func TestMustBuildPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustBuild did not panic on an invalid model")
		}
	}()
	model.NewBuilder("").MustBuild()
}

// EventTypes lists the types every kind of rule reads, each once, in the
// order the rules name them; a Func rule adds none.
func TestCustomEventTypes(t *testing.T) {
	const vendor = lifecycle.EventType("vendor.trial")
	m := model.NewBuilder("types").
		Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, model.Any(model.Count(vendor, 1), model.Tenure(time.Hour, vendor))).
		Stage(stage.Stage{ID: "c"}, model.All(model.Orders(1), model.Within(time.Hour, lifecycle.SiteVisited))).
		Stage(stage.Stage{ID: "d"}, model.Not(model.After(lifecycle.TicketOpened, lifecycle.TicketResolved))).
		Stage(stage.Stage{ID: "e"}, model.Any(model.Spent("EUR", 1), model.Referrals(1), model.Score(9),
			model.Func("never", func(*lifecycle.Facts, time.Time) bool { return false }))).
		MustBuild()
	want := []lifecycle.EventType{vendor, lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SiteVisited,
		lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed, lifecycle.ReferralConverted, lifecycle.SurveyAnswered}
	got := m.EventTypes()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EventTypes() (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if m.EventTypes()[0] != vendor {
		t.Error("EventTypes returns a slice the model keeps")
	}
}

// Rule.Err reports, outside a builder, what Build would report for the
// rule; nil for a well-formed one.
func TestRuleErr(t *testing.T) {
	if err := model.All(model.Orders(2), model.Within(time.Hour, lifecycle.SiteVisited)).Err(); err != nil {
		t.Errorf("well-formed rule: %v", err)
	}
	for r, want := range map[*model.Rule]string{
		ptr(model.Rule{}):                  "the zero Rule",
		ptr(model.Count("nope", 1)):        `event type "nope" is invalid`,
		ptr(model.All()):                   "no rules to combine",
		ptr(model.Any(model.Score(11))):    "score 11 must be from 0 to 10",
		ptr(model.Not(model.Spent("", 1))): "ISO 4217",
	} {
		err := r.Err()
		if !errors.Is(err, model.ErrInvalidModel) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Err() = %v, want ErrInvalidModel mentioning %q", r, err, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
