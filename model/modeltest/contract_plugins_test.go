package modeltest_test

// Review tests written from docs/models.md and `go doc` alone: plugin
// models a plugin author would write, and broken models that each break one
// documented rule of lifecycle.Model / lifecycle.Scheduler.

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

const rvDay = 24 * time.Hour

// ---------------------------------------------------------------------------
// Plugin models written the way docs/models.md tells a plugin author to.

// rvMembership is the builder example of docs/models.md ("Custom models:
// the builder"), verbatim.
func rvMembership(t *testing.T) *model.Custom {
	t.Helper()
	m, err := model.NewBuilder("membership").
		Start(stage.Stage{ID: "guest", Name: "Guest"}).
		Stage(stage.Stage{ID: "member", Name: "Member"}, model.Count(lifecycle.SignedUp, 1)).
		Stage(stage.Stage{ID: "customer", Name: "Customer"},
			model.All(model.Orders(1), model.Within(365*24*time.Hour, lifecycle.OrderCompleted))).
		Stage(stage.Stage{ID: "vip", Name: "VIP"},
			model.All(model.Spent("EUR", 50000), model.Within(365*24*time.Hour, lifecycle.OrderCompleted))).
		Build()
	if err != nil {
		t.Fatalf("Build of the docs' membership model: %v", err)
	}
	return m
}

// rvSupport is a builder model with stage kinds, Tenure, After, Score and
// Referrals.
func rvSupport(t *testing.T) *model.Custom {
	t.Helper()
	m, err := model.NewBuilder("acme-support").
		Start(stage.Stage{ID: "visitor"}).
		Stage(stage.Stage{ID: "customer"}, model.Orders(1)).
		Stage(stage.Stage{ID: "veteran"}, model.All(model.Orders(1), model.Tenure(365*rvDay, lifecycle.OrderCompleted))).
		Stage(stage.Stage{ID: "troubled", Kind: stage.Decline}, model.All(model.Orders(1), model.After(lifecycle.TicketOpened, lifecycle.TicketResolved))).
		Stage(stage.Stage{ID: "promoter"}, model.All(model.Orders(2), model.Any(model.Score(9), model.Referrals(1)), model.Within(90*rvDay, lifecycle.OrderCompleted))).
		Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return m
}

// rvRecency is the hand-written model of docs/models.md ("Time alone:
// lifecycle.Scheduler"): "active" while the last order is at most 90 days
// old, "idle" after; "new" before any order. Its NextChange is the docs'
// verbatim.
type rvRecency struct{}

var rvRecencyGraph = stage.MustNew(
	[]stage.Stage{{ID: "new"}, {ID: "active"}, {ID: "idle"}},
	[]stage.Edge{
		{From: "new", To: "active", Kind: stage.Advance},
		{From: "new", To: "idle", Kind: stage.Advance}, // a late order, classified long after (corpus)
		{From: "active", To: "idle", Kind: stage.Advance},
		{From: "idle", To: "active", Kind: stage.Regress},
	})

func (rvRecency) Name() string         { return "recency" }
func (rvRecency) Stages() *stage.Graph { return rvRecencyGraph }
func (rvRecency) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	last := f.LastTime(lifecycle.OrderCompleted)
	switch {
	case last.IsZero():
		return "new"
	case now.Sub(last) <= 90*rvDay:
		return "active"
	}
	return "idle"
}

func (m *rvRecency) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	last := f.LastTime(lifecycle.OrderCompleted)
	if last.IsZero() {
		return time.Time{} // never ordered: only an event moves them
	}
	idle := last.Add(90*24*time.Hour + time.Nanosecond) // the first idle instant
	if !idle.After(now) {
		return time.Time{} // idle already: time alone will not make them active
	}
	return idle
}

// rvWishlist is a hand-written model reading a custom event type, listing
// it as a TypeReader; a Scheduler with a tenure-like threshold that turns
// true with time.
type rvWishlist struct{}

const rvWish = lifecycle.EventType("acme.wishlist_added")

var rvWishlistGraph = stage.MustNew(
	[]stage.Stage{{ID: "browser"}, {ID: "wisher"}, {ID: "patient"}, {ID: "buyer"}},
	append(stage.Forward("browser", "wisher", "patient", "buyer"),
		stage.Edge{From: "buyer", To: "patient", Kind: stage.Regress},
		stage.Edge{From: "buyer", To: "wisher", Kind: stage.Regress},
		stage.Edge{From: "buyer", To: "browser", Kind: stage.Regress}))

func (rvWishlist) Name() string         { return "wishlist" }
func (rvWishlist) Stages() *stage.Graph { return rvWishlistGraph }
func (rvWishlist) EventTypes() []lifecycle.EventType {
	return []lifecycle.EventType{rvWish, lifecycle.OrderCompleted, lifecycle.OrderRefunded}
}
func (rvWishlist) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	switch {
	case f.Orders() > 0:
		return "buyer"
	case f.Count(rvWish) > 0 && now.Sub(f.FirstTime(rvWish)) >= 30*rvDay:
		return "patient" // has wished for 30 days without buying
	case f.Count(rvWish) > 0:
		return "wisher"
	}
	return "browser"
}

func (rvWishlist) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	if f.Orders() > 0 || f.Count(rvWish) == 0 {
		return time.Time{}
	}
	at := f.FirstTime(rvWish).Add(30 * rvDay)
	if !at.After(now) {
		return time.Time{}
	}
	return at
}

func TestContractPluginModelsPass(t *testing.T) {
	for _, tc := range []struct {
		m    lifecycle.Model
		opts []modeltest.Option
	}{
		{rvMembership(t), nil},
		{rvSupport(t), nil},
		{&rvRecency{}, nil},
		{rvWishlist{}, nil},
	} {
		t.Run(tc.m.Name(), func(t *testing.T) {
			if err := modeltest.TestModel(tc.m, append(tc.opts, modeltest.Walks(150))...); err != nil {
				t.Errorf("modeltest fails a plugin model written from the docs:\n%v", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Broken models: each breaks ONE documented rule; modeltest must fail it.

type rvBroken struct {
	name  func() string
	graph *stage.Graph
	stage func(f *lifecycle.Facts, now time.Time) stage.ID
	next  func(f *lifecycle.Facts, now time.Time) time.Time
}

func (b *rvBroken) Name() string                                     { return b.name() }
func (b *rvBroken) Stages() *stage.Graph                             { return b.graph }
func (b *rvBroken) Stage(f *lifecycle.Facts, now time.Time) stage.ID { return b.stage(f, now) }

type rvBrokenSched struct{ rvBroken }

func (b *rvBrokenSched) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	return b.next(f, now)
}

func rvName(s string) func() string { return func() string { return s } }

var (
	rvSC      = model.SterneCutler()
	rvSCSched = rvSC.(lifecycle.Scheduler)
	rvWL      = rvWishlist{}
)

func rvBrokenModels() []struct {
	name string
	m    lifecycle.Model
	rule string // the rule that must fail
	opts []modeltest.Option
} {
	// A name that changes once the model has started classifying (a
	// lazily loaded config, say).
	var classified atomic.Bool
	lazyName := &rvBroken{name: func() string {
		if classified.Load() {
			return "lazy-v2"
		}
		return "lazy"
	}, graph: rvSC.Stages(), stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
		classified.Store(true)
		return rvSC.Stage(f, now)
	}}

	// A name that changes on its fifth call (Declared asks four times).
	var nameCalls atomic.Int64
	fifthName := &rvBroken{name: func() string {
		if nameCalls.Add(1) >= 5 {
			return "fifth-v2"
		}
		return "fifth"
	}, graph: rvSC.Stages(), stage: rvSC.Stage}

	// A Stage that is random one call in 50.
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	flaky := &rvBroken{name: rvName("flaky-50"), graph: rvSC.Stages(), stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
		mu.Lock()
		k := rng.IntN(50)
		mu.Unlock()
		if k == 0 {
			return model.Reach
		}
		return rvSC.Stage(f, now)
	}}

	// A "sticky" model: never demotes a customer, remembering the highest
	// stage it answered per customer, keyed by their first event time —
	// state kept between calls, not a function of the facts and now.
	var smu sync.Mutex
	high := map[time.Time]int{}
	fwd := stage.MustNew(rvSC.Stages().Stages(), stage.Forward(rvSC.Stages().IDs()...))
	sticky := &rvBroken{name: rvName("sticky"), graph: fwd, stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
		id := rvSC.Stage(f, now)
		i := fwd.Index(id)
		smu.Lock()
		defer smu.Unlock()
		if h, ok := high[f.First]; ok && h > i {
			return fwd.IDs()[h]
		}
		high[f.First] = i
		return id
	}}

	// Reads the wall clock instead of now (time.Since), with every edge
	// declared.
	ids := []stage.ID{"new", "active", "idle"}
	var all []stage.Edge
	for i, a := range ids {
		for j, b := range ids {
			if i != j {
				k := stage.Advance
				if j < i {
					k = stage.Regress
				}
				all = append(all, stage.Edge{From: a, To: b, Kind: k})
			}
		}
	}
	clock := &rvBroken{name: rvName("wall-clock"), graph: stage.MustNew([]stage.Stage{{ID: "new"}, {ID: "active"}, {ID: "idle"}}, all),
		stage: func(f *lifecycle.Facts, now time.Time) stage.ID {
			last := f.LastTime(lifecycle.OrderCompleted)
			switch {
			case last.IsZero():
				return "new"
			case time.Since(last) <= 90*rvDay: // the bug: the wall clock, not now
				return "active"
			}
			return "idle"
		}}

	return []struct {
		name string
		m    lifecycle.Model
		rule string
		opts []modeltest.Option
	}{
		// lifecycle.Scheduler: "announcing one later than the real change is a bug"
		{"NextChange a day late on a threshold that turns true", &rvBrokenSched{rvBroken{rvName("wish-late"), rvWL.Stages(), rvWL.Stage, func(f *lifecycle.Facts, now time.Time) time.Time {
			if at := rvWL.NextChange(f, now); !at.IsZero() {
				return at.Add(rvDay)
			}
			return time.Time{}
		}}}, "NextChange", []modeltest.Option{modeltest.Types(rvWish)}},
		// lifecycle.Model: "it returns a stage that Stages declares"
		{"undeclared stage for three tickets", &rvBroken{rvName("tickets"), rvSC.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			if f.Count(lifecycle.TicketOpened) >= 3 {
				return "escalated"
			}
			return rvSC.Stage(f, now)
		}, nil}, "Total", nil},
		// lifecycle.Model: "it never panics, for zero facts included"
		{"panics on empty facts", &rvBroken{rvName("empty-panic"), rvSC.Stages(), func(f *lifecycle.Facts, now time.Time) stage.ID {
			_ = f.Tallies[0]
			return rvSC.Stage(f, now)
		}, nil}, "NoPanic", nil},
		// modeltest: "Declared also checks that Name gives the same name
		// every call, and every rule that Name gives the same name after
		// it as before it." (The rule it changes in reports it.)
		{"Name changes after the first Stage call", lazyName, "", nil},
		{"Name changes on its fifth call", fifthName, "", nil},
		// lifecycle.Model: "the same arguments always give the same answer"
		{"random one call in 50", flaky, "Deterministic", nil},
		// lifecycle.Model: "the answer depends only on the facts and now"
		{"sticky: remembers answers between calls", sticky, "", nil},
		// lifecycle.Model: "the answer depends only on the facts and now"
		{"reads the wall clock", clock, "", nil},
	}
}

func TestContractBrokenModelsFail(t *testing.T) {
	for _, tc := range rvBrokenModels() {
		t.Run(tc.name, func(t *testing.T) {
			err := modeltest.TestModel(tc.m, append(tc.opts, modeltest.Walks(150))...)
			if err == nil {
				t.Fatalf("modeltest passed a model that breaks a documented rule (expected rule %q to fail)", tc.rule)
			}
			if !errors.Is(err, lifecycle.ErrInvalidModel) {
				t.Errorf("error does not wrap lifecycle.ErrInvalidModel: %v", err)
			}
			if tc.rule != "" && !strings.Contains(err.Error(), "rule "+tc.rule+":") {
				t.Errorf("rule %s did not fail; got:\n%v", tc.rule, err)
			}
			if strings.HasPrefix(tc.name, "Name changes") && !strings.Contains(err.Error(), "a model needs a stable name") {
				t.Errorf("the changing name was not reported; got:\n%v", err)
			}
			t.Logf("caught: %.300s", err)
		})
	}
}

// ---------------------------------------------------------------------------
// Hostile options: the suite must not panic, and the built-ins must pass at
// the extremes of time ("for every Facts value and time", lifecycle.Model).

func TestContractHostileOptions(t *testing.T) {
	models := []lifecycle.Model{model.FiveStage(), rvMembership(t)}
	starts := []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9990, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 5*3600)),
	}
	for _, m := range models {
		for _, st := range starts {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s Start(%v): modeltest panicked: %v", m.Name(), st, r)
					}
				}()
				// The built-ins' thresholds are about 180 days; histories this
				// far from 2024 are still valid times.
				err := modeltest.TestModel(m, modeltest.Start(st), modeltest.Walks(25), modeltest.Steps(25),
					modeltest.AllowUnreached(m.Stages().IDs()...)) // only the other rules matter here
				if err != nil {
					t.Errorf("%s with Start(%v): %.1500v", m.Name(), st, err)
				}
			}()
		}
	}
	// Out-of-range option values are clamped; nil options are skipped.
	for _, opts := range [][]modeltest.Option{
		{modeltest.Walks(0), modeltest.Steps(-3), modeltest.MaxReports(-1)},
		{nil, modeltest.Seed(0, 0)},
		{modeltest.Walks(-1 << 62)},
	} {
		if err := modeltest.TestModel(model.SterneCutler(), append(opts, modeltest.AllowUnreached(model.SterneCutler().Stages().IDs()...))...); err != nil {
			t.Errorf("options %v: %v", opts, err)
		}
	}
	if st, ed := modeltest.Unused(nil); st != nil || ed != nil {
		t.Errorf("Unused(nil) = %v, %v", st, ed)
	}
	if err := modeltest.TestModel(nil); err == nil || !errors.Is(err, lifecycle.ErrInvalidModel) {
		t.Errorf("TestModel(nil) = %v", err)
	}
}
