package modeltest_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

// broken wraps Sterne–Cutler and breaks one rule.
type broken struct {
	name  string
	graph *stage.Graph
	stage func(f *lifecycle.Facts, now time.Time) stage.ID
}

func (b *broken) Name() string                                     { return b.name }
func (b *broken) Stages() *stage.Graph                             { return b.graph }
func (b *broken) Stage(f *lifecycle.Facts, now time.Time) stage.ID { return b.stage(f, now) }

// scheduled is a broken model with a NextChange.
type scheduled struct {
	broken
	next func(f *lifecycle.Facts, now time.Time) time.Time
}

func (s *scheduled) NextChange(f *lifecycle.Facts, now time.Time) time.Time { return s.next(f, now) }

var (
	sc      = model.SterneCutler()
	scSched = sc.(lifecycle.Scheduler)
)

// late returns Sterne–Cutler announcing its changes by later than they
// happen.
func late(name string, by time.Duration) *scheduled {
	return &scheduled{broken{name, sc.Stages(), sc.Stage}, func(f *lifecycle.Facts, now time.Time) time.Time {
		if t := scSched.NextChange(f, now); !t.IsZero() {
			return t.Add(by)
		}
		return time.Time{}
	}}
}

func brokenModels() []struct {
	name  string
	m     lifecycle.Model
	rules []string // rules that must fail
	says  []string // substrings of the message
} {
	var calls atomic.Int64
	forwardOnly := stage.MustNew(sc.Stages().Stages(), stage.Forward(sc.Stages().IDs()...))
	return []struct {
		name  string
		m     lifecycle.Model
		rules []string
		says  []string
	}{
		{"undeclared stage", &broken{"limbo", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if f.Count(lifecycle.OrderRefunded) > 0 {
				return "limbo"
			}
			return sc.Stage(f, now)
		}}, []string{"Total"}, []string{`returned "limbo", which the graph does not declare (declared: reach, acquisition, conversion, retention, loyalty)`, "order_refunded×"}},
		{"moves backwards without an edge", &broken{"forward-only", forwardOnly, sc.Stage},
			[]string{"Graph"}, []string{"an edge the graph does not declare", "facts before: {", "→ acquisition"}},
		{"mutates the facts", &broken{"mutator", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if len(f.Tallies) > 1 {
				f.Tallies[0].Count++
			}
			return sc.Stage(f, now)
		}}, []string{"Pure"}, []string{"modified the facts", "before {", "after {"}},
		// A change that is the same every time must be caught too: the
		// facts another rule classified must not be the ones Pure compares.
		{"mutates the facts the same way every time", &broken{"forgetful", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			f.ReferredBy = ""
			return sc.Stage(f, now)
		}}, []string{"Pure"}, []string{"modified the facts (referred_by "}},
		// A change made only at times the random histories reach (years
		// after the last event), the same every time: the histories' own
		// facts were classified, so the change was made before Pure's
		// copy was taken (found by an audit).
		{"mutates the facts only years after the last event", &broken{"late-mutator", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if d := now.Sub(f.Last); d > 800*24*time.Hour && d < 3000*24*time.Hour {
				f.Last = f.Last.Truncate(time.Second)
			}
			return sc.Stage(f, now)
		}}, []string{"Pure"}, []string{"modified the facts (first/last "}},
		{"panics on huge counts", &broken{"panicky", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			_ = make([]byte, f.Count(lifecycle.SiteVisited)%(1<<62)+1) // 1<<62 bytes: panics
			return sc.Stage(f, now)
		}}, []string{"NoPanic"}, []string{"panicked", "huge counts and amounts"}},
		{"depends on a hidden counter", &broken{"flaky", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if calls.Add(1)%2 == 0 {
				return model.Reach
			}
			return model.Loyalty
		}}, []string{"Deterministic", "Stable", "Graph"}, []string{"two deep copies of the same facts got", "then"}},
		{"no name", &broken{"", sc.Stages(), sc.Stage}, []string{"Declared"}, []string{"a model needs a stable, non-empty name"}},
		{"announces the lapse 1ns late", late("late-1ns", time.Nanosecond), []string{"NextChange"},
			[]string{"the stage changed before the time NextChange announced", "1ns before the time announced)", "NextChange(facts, now=", "at now and \"acquisition\" at t=", "order_completed×"}},
		{"announces the lapse a day late", late("late-1d", 24*time.Hour), []string{"NextChange"},
			[]string{"the stage changed before the time NextChange announced", "before the time announced)"}},
		{"announces never", &scheduled{broken{"never", sc.Stages(), sc.Stage}, func(*lifecycle.Facts, time.Time) time.Time { return time.Time{} }},
			[]string{"NextChange"}, []string{"= zero (never), but Stage is", "announced never (zero time)"}},
		{"NextChange panics on huge counts", &scheduled{broken{"panicky-next", sc.Stages(), sc.Stage}, func(f *lifecycle.Facts, now time.Time) time.Time {
			_ = make([]byte, f.Count(lifecycle.SiteVisited)%(1<<62)+1) // 1<<62 bytes: panics
			return scSched.NextChange(f, now)
		}}, []string{"NextChange"}, []string{"NextChange panicked", "huge counts and amounts"}},
		{"NextChange mutates the facts", &scheduled{broken{"next-mutator", sc.Stages(), sc.Stage}, func(f *lifecycle.Facts, now time.Time) time.Time {
			f.ReferredBy = ""
			return scSched.NextChange(f, now)
		}}, []string{"NextChange"}, []string{"NextChange modified the facts (referred_by "}},
	}
}

func TestBrokenModelsFail(t *testing.T) {
	for _, tc := range brokenModels() {
		t.Run(tc.name, func(t *testing.T) {
			err := modeltest.TestModel(tc.m, modeltest.Walks(60))
			if err == nil {
				t.Fatal("TestModel passed a broken model")
			}
			if !errors.Is(err, lifecycle.ErrInvalidModel) {
				t.Errorf("error does not wrap lifecycle.ErrInvalidModel")
			}
			msg := err.Error()
			for _, r := range tc.rules {
				if !strings.Contains(msg, "rule "+r+":") {
					t.Errorf("no failure of rule %s in:\n%s", r, msg)
				}
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message does not say %q:\n%s", s, msg)
				}
			}
			if !strings.Contains(msg, `modeltest: model "`+tc.m.Name()+`"`) {
				t.Errorf("message does not name the model:\n%s", msg)
			}
		})
	}
}

func TestOnlyBrokenRulesFail(t *testing.T) {
	m := &broken{"mutator", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
		f.Score = -1
		return model.Reach
	}}
	// The model answers reach only: the other stages are accepted as
	// never reached, so that the Reached rule passes.
	err := modeltest.TestModel(m, modeltest.Walks(20),
		modeltest.AllowUnreached(model.Acquisition, model.Conversion, model.Retention, model.Loyalty))
	if err == nil || !strings.Contains(err.Error(), "rule Pure:") {
		t.Errorf("rule Pure did not fail for a model that sets f.Score: %v", err)
	}
	for _, r := range []string{"Declared", "Total", "NoPanic", "Deterministic", "Stable", "Graph", "Reached", "NextChange"} {
		if err != nil && strings.Contains(err.Error(), "rule "+r+":") {
			t.Errorf("rule %s failed for a model that only breaks Pure:\n%v", r, err)
		}
	}
}

// A Scheduler that announces its changes late fails NextChange only; one
// that announces them early, or always answers due now, passes.
func TestNextChangeRule(t *testing.T) {
	err := modeltest.TestModel(late("late", time.Nanosecond), modeltest.Walks(60), modeltest.MaxReports(1000))
	if err == nil || !strings.Contains(err.Error(), "rule NextChange:") {
		t.Fatalf("rule NextChange did not fail for a late Scheduler: %v", err)
	}
	if !strings.Contains(err.Error(), "for random history ") {
		t.Errorf("no failure found along the random histories:\n%v", err)
	}
	for _, r := range []string{"Declared", "Total", "NoPanic", "Deterministic", "Pure", "Stable", "Graph", "Reached"} {
		if strings.Contains(err.Error(), "rule "+r+":") {
			t.Errorf("rule %s failed for a model that only breaks NextChange:\n%v", r, err)
		}
	}
	for _, m := range []lifecycle.Model{
		late("early", -time.Hour),
		&scheduled{broken{"always-due", sc.Stages(), sc.Stage}, func(_ *lifecycle.Facts, now time.Time) time.Time { return now.Add(-time.Nanosecond) }},
		// now itself, as the docs allow (at a zero now it reads as never,
		// which the Tracker never asks about: only panics and the facts
		// are checked there)
		&scheduled{broken{"due-now", sc.Stages(), sc.Stage}, func(_ *lifecycle.Facts, now time.Time) time.Time { return now }},
		&scheduled{broken{"long-due", sc.Stages(), sc.Stage}, func(*lifecycle.Facts, time.Time) time.Time { return time.Date(-1000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		if err := modeltest.TestModel(m, modeltest.Walks(60)); err != nil {
			t.Errorf("%s: %v", m.Name(), err)
		}
	}
}

// The NextChange rule is in the suite, and passes a model that is not a
// Scheduler (Run skips its subtest).
func TestNextChangeSkipsPlainModels(t *testing.T) {
	var found bool
	for _, r := range modeltest.Rules() {
		found = found || r.Name == "NextChange"
	}
	if !found {
		t.Error("Rules does not list NextChange")
	}
	plain := &broken{"plain", sc.Stages(), sc.Stage}
	if err := modeltest.TestModel(plain, modeltest.Walks(20)); err != nil {
		t.Errorf("TestModel failed a conforming model without NextChange: %v", err)
	}
	modeltest.Run(t, plain, modeltest.Walks(20))
}

// TestRuleTimeout: a model whose Stage loops up to a count (NoPanic gives
// counts of MaxInt64) fails its rule after RuleTimeout, naming the call
// and its facts, instead of hanging the suite.
func TestRuleTimeout(t *testing.T) {
	defer func(d time.Duration) { modeltest.RuleTimeout = d }(modeltest.RuleTimeout)
	modeltest.RuleTimeout = time.Second
	var stop atomic.Bool // lets the looping call return once the test is done
	defer stop.Store(true)
	m := &broken{name: "loops", graph: sc.Stages(), stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
		for i := int64(0); i < f.Count(lifecycle.OrderCompleted) && !stop.Load(); i++ {
		}
		return sc.Stage(f, now)
	}}
	start := time.Now()
	err := modeltest.TestModel(m)
	if err == nil || !errors.Is(err, lifecycle.ErrInvalidModel) || !strings.Contains(err.Error(), "RuleTimeout") || !strings.Contains(err.Error(), "Stage has not returned for facts") {
		t.Fatalf("TestModel of a model that loops = %v; want a RuleTimeout failure naming the call", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("TestModel took %v", d)
	}
}

// TestDeterministicCatchesAddressCache: a model that caches its answers
// by the facts' address and now answers for facts a reused *Facts held
// before; Deterministic reports it.
func TestDeterministicCatchesAddressCache(t *testing.T) {
	type key struct {
		f   *lifecycle.Facts
		now time.Time
	}
	cache := map[key]stage.ID{}
	m := &broken{name: "cached", graph: sc.Stages(), stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
		k := key{f, now}
		if id, ok := cache[k]; ok {
			return id
		}
		id := sc.Stage(f, now)
		cache[k] = id
		return id
	}}
	err := modeltest.TestModel(m)
	if err == nil || !strings.Contains(err.Error(), "rule Deterministic") || !strings.Contains(err.Error(), "not their address") {
		t.Fatalf("TestModel of a model caching by address = %v; want a Deterministic failure", err)
	}
}

// unstableName is Sterne–Cutler with a name that changes on every call.
type unstableName struct {
	lifecycle.Model
	n atomic.Int32
}

func (u *unstableName) Name() string { return "unstable-" + string(rune('a'+u.n.Add(1)%26)) }

// TestDeclaredCatchesUnstableName: a Name that changes between calls fails
// rule Declared.
func TestDeclaredCatchesUnstableName(t *testing.T) {
	err := modeltest.TestModel(&unstableName{Model: sc}, modeltest.Walks(5))
	if err == nil || !strings.Contains(err.Error(), "rule Declared") || !strings.Contains(err.Error(), "stable name") {
		t.Fatalf("TestModel of a model whose name changes = %v; want a Declared failure", err)
	}
}

// TestNoPanicSeesOtherCurrencies: facts with money in currencies other
// than EUR and USD are generated too (a model that panicked on a yen
// amount passed).
func TestNoPanicSeesOtherCurrencies(t *testing.T) {
	m := &broken{name: "no-yen", graph: sc.Stages(), stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
		for _, s := range f.Sums {
			if s.Currency == "JPY" {
				panic("yen")
			}
		}
		return sc.Stage(f, now)
	}}
	err := modeltest.TestModel(m, modeltest.Walks(20))
	if err == nil || !strings.Contains(err.Error(), "rule NoPanic") {
		t.Fatalf("TestModel of a model that panics on JPY = %v; want a NoPanic failure", err)
	}
}

// TestRuleTimeoutBetweenCalls: a rule that times out while its goroutine
// is between model calls, changing the facts of the last call, reports
// without reading them (under -race, the report read the facts the walk
// was changing).
func TestRuleTimeoutBetweenCalls(t *testing.T) {
	defer func(d time.Duration) { modeltest.RuleTimeout = d }(modeltest.RuleTimeout)
	modeltest.RuleTimeout = time.Millisecond
	// (A rule that times out runs on to its end in the background: few
	// walks, so that it ends soon after.)
	for range 5 {
		err := modeltest.TestModel(sc, modeltest.Walks(300))
		if err == nil || !strings.Contains(err.Error(), "RuleTimeout") {
			t.Fatalf("TestModel with a RuleTimeout of 1ms = %v; want a RuleTimeout failure", err)
		}
	}
}

// A model that answers an undeclared stage, but always the same for the
// same facts, fails Total only: Deterministic compares the same states
// (a history that Total ends early was not drawn to its end, and every
// later history shifted, so Deterministic blamed the model's memory;
// found by an audit).
func TestTotalOnlyNotDeterministic(t *testing.T) {
	m := &broken{"vip", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
		if f.Count(lifecycle.OrderRefunded) > 0 && f.Count(lifecycle.OrderCompleted) > 0 {
			return "vip"
		}
		return sc.Stage(f, now)
	}}
	err := modeltest.TestModel(m, modeltest.Walks(200))
	if err == nil || !strings.Contains(err.Error(), "rule Total:") {
		t.Fatalf("rule Total did not fail: %v", err)
	}
	for _, r := range []string{"Deterministic", "Stable", "Pure"} {
		if strings.Contains(err.Error(), "rule "+r+":") {
			t.Errorf("rule %s failed for a model that only breaks Total:\n%v", r, err)
		}
	}
}
