package model_test

// Review tests written from docs/models.md ("Checks") and go doc alone:
// the Builder on hostile input.

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// rvBuild builds without letting a panic escape.
func rvBuild(t *testing.T, b *model.Builder) (m *model.Custom, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Build panicked: %v", r)
		}
	}()
	return b.Build()
}

func rvYes(*lifecycle.Facts, time.Time) bool { return true }

func TestContractBuilderRuleChecks(t *testing.T) {
	const acme = lifecycle.EventType("acme.thing")
	// Each case: a rule with ONE bad parameter, and strings the error must
	// hold: the model, the stage, and the offending value.
	for _, tc := range []struct {
		name string
		r    model.Rule
		says []string
	}{
		{"count 0", model.Count(acme, 0), []string{"0"}},
		{"count negative", model.Count(acme, -5), []string{"-5"}},
		{"count min int", model.Count(acme, math.MinInt64), []string{"-9223372036854775808"}},
		{"count empty type", model.Count("", 1), []string{"type"}},
		{"count unprefixed type", model.Count("wishlist_added", 1), []string{"wishlist_added"}},
		{"count referral_converted", model.Count(lifecycle.ReferralConverted, 1), []string{"referral_converted"}},
		{"count upper-case type", model.Count("Acme.Thing", 1), []string{"Acme.Thing"}},
		{"orders 0", model.Orders(0), []string{"0"}},
		{"within 0", model.Within(0, acme), []string{"0s"}},
		{"within negative", model.Within(-time.Hour, acme), []string{"-1h"}},
		{"within min duration", model.Within(math.MinInt64, acme), []string{"window"}},
		{"within bad type", model.Within(time.Hour, "nodot"), []string{"nodot"}},
		{"tenure 0", model.Tenure(0, acme), []string{"0s"}},
		{"tenure negative", model.Tenure(-1, acme), []string{"-1ns"}},
		{"after same type", model.After(acme, acme), []string{"acme.thing"}},
		{"after bad second type", model.After(acme, "x"), []string{`"x"`}},
		{"after referral_converted", model.After(lifecycle.ReferralConverted, acme), []string{"referral_converted"}},
		{"spent lower-case currency", model.Spent("eur", 1), []string{`"eur"`}},
		{"spent empty currency", model.Spent("", 1), []string{`""`}},
		{"spent 4 letters", model.Spent("EURO", 1), []string{"EURO"}},
		{"spent amount 0", model.Spent("EUR", 0), []string{"0"}},
		{"spent negative", model.Spent("EUR", -100), []string{"-100"}},
		{"referrals 0", model.Referrals(0), []string{"0"}},
		{"score 11", model.Score(11), []string{"11"}},
		{"score -1", model.Score(-1), []string{"-1"}},
		{"func empty name", model.Func("", rvYes), []string{"name"}},
		{"func blank name", model.Func("  ", rvYes), []string{"name"}},
		{"func nil", model.Func("mine", nil), []string{"mine"}},
		{"all empty", model.All(), []string{"all"}},
		{"any empty", model.Any(), []string{"any"}},
		{"all with zero rule", model.All(model.Orders(1), model.Rule{}), []string{"zero Rule"}},
		{"not of zero rule", model.Not(model.Rule{}), []string{"zero Rule"}},
		{"nested bad", model.Any(model.All(model.Not(model.Count(acme, -2)))), []string{"-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.r.Err(); err == nil || !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("Rule.Err() = %v; want an error wrapping ErrInvalidModel", err)
			}
			_, err := rvBuild(t, model.NewBuilder("hostile").
				Start(stage.Stage{ID: "s0"}).
				Stage(stage.Stage{ID: "bad-stage"}, tc.r))
			if err == nil {
				t.Fatalf("Build accepted %s", tc.r)
			}
			if !errors.Is(err, model.ErrInvalidModel) || !errors.Is(err, lifecycle.ErrInvalidModel) {
				t.Errorf("error does not wrap ErrInvalidModel: %v", err)
			}
			msg := err.Error()
			for _, s := range append([]string{`"hostile"`, `"bad-stage"`}, tc.says...) {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not name %s: %v", s, msg)
				}
			}
			if tc.r.Holds(nil, time.Now()) {
				t.Errorf("a broken rule holds (Rule.Holds: \"nor does a rule Rule.Err reports broken\")")
			}
		})
	}
}

func TestContractBuilderStructureChecks(t *testing.T) {
	ok := model.Count("acme.a", 1)
	for _, tc := range []struct {
		name  string
		b     *model.Builder
		says  []string
		graph bool // the error must also wrap stage.ErrInvalidGraph
	}{
		{"empty name", model.NewBuilder("").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok), []string{"name"}, false},
		{"blank name", model.NewBuilder(" \t").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok), []string{"name"}, false},
		{"no stages", model.NewBuilder("m"), []string{`"m"`, "no stages"}, false},
		{"Stage before Start", model.NewBuilder("m").Stage(stage.Stage{ID: "b"}, ok), []string{`"m"`, `"b"`, "Start"}, false},
		{"Start twice", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Start(stage.Stage{ID: "a2"}), []string{`"m"`, `"a2"`, "Start"}, false},
		{"Start after Stage", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Start(stage.Stage{ID: "c"}), []string{`"c"`}, false},
		{"stage without rule", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Rule{}), []string{`"m"`, `"b"`, "rule"}, false},
		{"duplicate rule", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Stage(stage.Stage{ID: "c"}, model.Count("acme.a", 1)), []string{`"b"`, `"c"`}, false},
		{"rule can only turn false", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Not(ok)), []string{`"b"`, "never be entered"}, false},
		{"duplicate stage ID", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "a"}, ok), []string{`"m"`, `"a"`, "duplicate"}, true},
		{"empty stage ID", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: ""}, ok), []string{`"m"`, "empty"}, true},
		{"empty start ID", model.NewBuilder("m").Start(stage.Stage{}).Stage(stage.Stage{ID: "b"}, ok), []string{`"m"`, "empty"}, true},
		{"padded stage ID", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: " b"}, ok), []string{`" b"`}, true},
		{"control char in ID", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b\x00"}, ok), []string{"U+0000"}, true},
		{"unknown kind", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b", Kind: 9}, ok), []string{`"b"`, "9"}, true},
		{"edge to unknown stage", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Edges(stage.Edge{From: "a", To: "b"}, stage.Edge{From: "a", To: "zz"}), []string{`"zz"`}, true},
		{"self edge", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Edges(stage.Edge{From: "a", To: "b"}, stage.Edge{From: "b", To: "b"}), []string{"b→b"}, true},
		{"edge kind contradicts ends", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Edges(stage.Edge{From: "a", To: "b", Kind: stage.Fall}), []string{"a→b"}, true},
		{"edge kind unknown", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Edges(stage.Edge{From: "a", To: "b", Kind: 77}), []string{"77"}, true},
		{"unreachable stage", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Stage(stage.Stage{ID: "c"}, model.Orders(1)).Edges(stage.Edge{From: "a", To: "b"}), []string{`"c"`}, true},
		{"converts none", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Converts(), []string{"Converts"}, false},
		{"converts referral_converted", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Converts(lifecycle.ReferralConverted), []string{"referral_converted"}, false},
		{"converts unprefixed", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Converts("paid"), []string{`"paid"`}, false},
		{"converts empty", model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, ok).Converts(""), []string{"Converts"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rvBuild(t, tc.b)
			if err == nil {
				t.Fatal("Build accepted it")
			}
			if !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("error does not wrap ErrInvalidModel: %v", err)
			}
			if tc.graph && !errors.Is(err, stage.ErrInvalidGraph) {
				t.Errorf("graph error does not wrap stage.ErrInvalidGraph: %v", err)
			}
			// "Build reports every problem found, joined, each wrapping ErrInvalidModel"
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, p := range j.Unwrap() {
					if !errors.Is(p, model.ErrInvalidModel) {
						t.Errorf("a joined problem does not wrap ErrInvalidModel: %v", p)
					}
				}
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not say %s: %v", s, err)
				}
			}
		})
	}
}

// "Build reports every problem found, joined": several problems in one
// declaration are all reported.
func TestContractBuilderReportsEachProblem(t *testing.T) {
	_, err := rvBuild(t, model.NewBuilder("").
		Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, model.Count("acme.x", 0)).
		Stage(stage.Stage{ID: "c"}, model.Score(42)).
		Stage(stage.Stage{ID: "d"}, model.Rule{}).
		Converts("nope"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, s := range []string{"name", `"b"`, "42", `"d"`, `"nope"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("problem %s not reported: %v", s, err)
		}
	}
}

// Extreme but valid parameters: nothing panics, NextChange at extreme times
// keeps to the Scheduler contract.
func TestContractBuilderExtremes(t *testing.T) {
	const x = lifecycle.EventType("acme.x")
	m, err := rvBuild(t, model.NewBuilder("extreme").
		Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, model.Within(math.MaxInt64, x)).
		Stage(stage.Stage{ID: "c"}, model.All(model.Tenure(math.MaxInt64, x), model.Count(x, math.MaxInt64))).
		Stage(stage.Stage{ID: "d"}, model.All(model.Within(1, x), model.Spent("EUR", math.MaxInt64))).
		Stage(stage.Stage{ID: "e"}, model.All(model.Tenure(1, lifecycle.OrderCompleted), model.Score(10), model.Referrals(math.MaxInt64))))
	if err != nil {
		t.Fatal(err)
	}
	times := []time.Time{
		{}, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(1<<62, 0), time.Unix(-1<<62, 0),
	}
	for _, at := range times {
		for _, now := range times {
			f := &lifecycle.Facts{First: at, Last: at, Tallies: []lifecycle.Tally{
				{Type: x, Count: math.MaxInt64, First: at, Last: at},
				{Type: lifecycle.OrderCompleted, Count: 1, First: at, Last: at},
			}}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("panic at event %v now %v: %v", at, now, r)
					}
				}()
				base := m.Stage(f, now)
				due := m.NextChange(f, now)
				if now.IsZero() {
					return // the zero now: only panics checked
				}
				for _, d := range []time.Duration{1, time.Second, time.Hour, 24 * time.Hour, 400 * 24 * time.Hour, 100 * 365 * 24 * time.Hour, math.MaxInt64} {
					tt := now.Add(d)
					if !tt.After(now) || (!due.IsZero() && !tt.Before(due)) {
						continue
					}
					if got := m.Stage(f, tt); got != base {
						t.Errorf("event at %v, now %v: NextChange = %v but the stage moves %s → %s at %v", at, now, due, base, got, tt)
					}
				}
			}()
		}
	}
}

// Thousands of rules and the most stages: no panic, errors name the limit.
func TestContractBuilderMany(t *testing.T) {
	// One rule made of 5000 distinct Count rules.
	var rs []model.Rule
	for i := 0; i < 5000; i++ {
		rs = append(rs, model.Count(lifecycle.EventType(fmt.Sprintf("acme.t%d", i)), 1))
	}
	m, err := rvBuild(t, model.NewBuilder("wide").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Any(rs...)).Stage(stage.Stage{ID: "c"}, model.All(rs...)))
	if err != nil {
		t.Fatal(err)
	}
	f := &lifecycle.Facts{}
	if got := m.Stage(f, time.Now()); got != "a" {
		t.Errorf("Stage = %s", got)
	}
	if n := len(m.EventTypes()); n != 5000 {
		t.Errorf("EventTypes lists %d types, want 5000", n)
	}
	// stage.MaxStages stages: accepted; one more: refused, naming the limit.
	build := func(n int) error {
		b := model.NewBuilder("tall").Start(stage.Stage{ID: "s0"})
		for i := 1; i < n; i++ {
			b.Stage(stage.Stage{ID: stage.ID(fmt.Sprintf("s%d", i))}, model.Count(lifecycle.EventType(fmt.Sprintf("acme.t%d", i)), 1))
		}
		_, err := rvBuild(t, b)
		return err
	}
	if testing.Short() {
		t.Skip("short")
	}
	if err := build(stage.MaxStages + 1); err == nil || !errors.Is(err, model.ErrInvalidModel) || !strings.Contains(err.Error(), "1001") {
		t.Errorf("Build of %d stages = %v", stage.MaxStages+1, err)
	}
}

// Custom.NextChange: "A Func rule cannot tell, so a model whose stage may
// depend on one answers now: due now (1ns before now when now is the zero
// time, which means never)."
func TestContractFuncDueNow(t *testing.T) {
	m := model.NewBuilder("f").Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, model.Func("odd hour", func(_ *lifecycle.Facts, now time.Time) bool { return now.Hour()%2 == 1 })).
		Stage(stage.Stage{ID: "c"}, model.Count("acme.x", 1)).MustBuild()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := m.NextChange(nil, now); !got.Equal(now) {
		t.Errorf("NextChange with a Func = %v, want now", got)
	}
	if got := m.NextChange(nil, time.Time{}); !got.Equal(time.Time{}.Add(-1)) {
		t.Errorf("NextChange at the zero now = %v, want 1ns before it", got)
	}
	// In c, whose rule never turns false, the Func below no longer matters.
	f := &lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: "acme.x", Count: 1, First: now, Last: now}}}
	if got := m.NextChange(f, now); !got.IsZero() {
		t.Errorf("NextChange in c = %v, want never", got)
	}
}
