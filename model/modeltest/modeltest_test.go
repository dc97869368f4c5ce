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

var sc = model.SterneCutler()

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
		}}, []string{"Pure"}, []string{"modified the facts (referred_by r"}},
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
	err := modeltest.TestModel(m, modeltest.Walks(20))
	if err == nil || !strings.Contains(err.Error(), "rule Pure:") {
		t.Errorf("rule Pure did not fail for a model that sets f.Score: %v", err)
	}
	for _, r := range []string{"Declared", "Total", "NoPanic", "Deterministic", "Stable", "Graph"} {
		if err != nil && strings.Contains(err.Error(), "rule "+r+":") {
			t.Errorf("rule %s failed for a model that only breaks Pure:\n%v", r, err)
		}
	}
}

func TestMaxReports(t *testing.T) {
	m := &broken{"limbo", sc.Stages(), func(*lifecycle.Facts, time.Time) stage.ID { return "limbo" }}
	err := modeltest.TestModel(m, modeltest.Walks(20), modeltest.MaxReports(2))
	msg := err.Error()
	if n := strings.Count(msg, `returned "limbo"`); n != 2 {
		t.Errorf("%d Total failures reported, want 2", n)
	}
	if !strings.Contains(msg, "more failures not shown") {
		t.Errorf("no count of the failures left out:\n%s", msg)
	}
}

func TestNilModel(t *testing.T) {
	if err := modeltest.TestModel(nil); !errors.Is(err, lifecycle.ErrInvalidModel) {
		t.Errorf("TestModel(nil) = %v", err)
	}
}

func TestBuiltinsPassTestModel(t *testing.T) {
	for _, name := range []string{"sterne-cutler", "six-stage", "five-stage"} {
		m, err := model.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range []uint64{3} {
			if err := modeltest.TestModel(m, modeltest.Seed(seed, seed*7)); err != nil {
				t.Errorf("%s, seed %d:\n%v", name, seed, err)
			}
		}
	}
}

func TestBuiltinsWithOptionsPass(t *testing.T) {
	const d = 24 * time.Hour
	for _, m := range []lifecycle.Model{
		model.SterneCutler(model.LapseAfter(20*d), model.LoyalOrders(3), model.RepeatPurchases(2)),
		model.SterneCutler(model.LapseAfter(0)),
		model.SixStage(model.LapseAfter(30*d), model.BondPurchases(2), model.EngageVisits(1)),
		model.FiveStage(model.LapseAfter(10*d), model.NurtureAfter(30*d), model.AdvocateReferrals(2), model.PromoterScore(6)),
		model.FiveStage(model.LapseAfter(0), model.NurtureAfter(0)),
	} {
		if err := modeltest.TestModel(m, modeltest.Walks(150)); err != nil {
			t.Errorf("%s with options:\n%v", m.Name(), err)
		}
	}
}

func TestCustomModelsPass(t *testing.T) {
	m, err := model.NewBuilder("custom").
		Start(stage.Stage{ID: "new"}).
		Stage(stage.Stage{ID: "buyer"}, model.Orders(1)).
		Stage(stage.Stage{ID: "fan"}, model.All(model.Orders(2), model.Any(model.Score(9), model.Referrals(1)), model.Not(model.After(lifecycle.TicketOpened, lifecycle.TicketResolved)))).
		Stage(stage.Stage{ID: "big"}, model.All(model.Spent("EUR", 100000), model.Within(90*24*time.Hour, lifecycle.OrderCompleted))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Run(t, m)
}

func TestFormatFacts(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f := new(lifecycle.Facts)
	f.Add(&lifecycle.Event{Type: lifecycle.OrderCompleted, Time: at, Amount: 4999, Currency: "EUR", ReferrerID: "r1"})
	f.Add(&lifecycle.Event{Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 1, Currency: "EUR"})
	f.Add(&lifecycle.Event{Type: lifecycle.SurveyAnswered, Time: at, Attrs: map[string]string{"score": "9"}})
	want := "{first=2025-01-02T03:04:05Z last=2025-01-02T04:04:05Z order_completed×2[2025-01-02T03:04:05Z..2025-01-02T04:04:05Z] survey_answered×1[2025-01-02T03:04:05Z] order_completed:5000EUR referred_by=r1@2025-01-02T03:04:05Z score=9@2025-01-02T03:04:05Z}"
	if got := modeltest.FormatFacts(f); got != want {
		t.Errorf("FormatFacts =\n%s\nwant\n%s", got, want)
	}
	if got := modeltest.FormatFacts(new(lifecycle.Facts)); got != "{zero}" {
		t.Errorf("FormatFacts(zero) = %s", got)
	}
}

// A model that answers an undeclared stage or panics only on facts the
// random histories of the Graph rule reach (here: long histories, which
// the one random customer of the corpus is not) fails Total or NoPanic
// all the same: what the suite finds, it reports.
func TestWalksFeedTotalAndNoPanic(t *testing.T) {
	long := func(f *lifecycle.Facts) bool { n := f.Events(); return n > 35 && n < 1000 }
	for _, tc := range []struct {
		rule string
		m    lifecycle.Model
	}{
		{"Total", &broken{"long-limbo", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if long(f) {
				return "limbo"
			}
			return sc.Stage(f, now)
		}}},
		{"NoPanic", &broken{"long-panic", sc.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if long(f) {
				panic("too long")
			}
			return sc.Stage(f, now)
		}}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			opts := []modeltest.Option{modeltest.Walks(1), modeltest.Steps(60), modeltest.Seed(5, 6)}
			err := modeltest.TestModel(tc.m, opts...)
			if err == nil || !strings.Contains(err.Error(), "rule "+tc.rule+":") {
				t.Fatalf("rule %s did not fail: %v", tc.rule, err)
			}
			if !strings.Contains(err.Error(), "random history 0") {
				t.Errorf("the failure does not name the history:\n%v", err)
			}
		})
	}
}
