package modeltest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

const (
	day           = 24 * time.Hour
	trialStarted  = lifecycle.EventType("box.trial_started")
	winbackAccept = lifecycle.EventType("box.winback_accepted")
)

// box builds the subscription-box model of issue 18: prospect → trial →
// subscriber → at-risk → churned → win-back → advocate. With stuck, every
// stage after trial also requires that the customer never started a
// trial: a modelling mistake that leaves trial no way out, although the
// derived graph declares edges out of it.
func box(t *testing.T, stuck bool) *model.Custom {
	t.Helper()
	paid := func(r model.Rule) model.Rule {
		if stuck {
			return model.All(r, model.Not(model.Count(trialStarted, 1)))
		}
		return r
	}
	renewed := model.Count(lifecycle.SubscriptionRenewed, 1)
	paying := model.Within(35*day, lifecycle.SubscriptionRenewed)
	m, err := model.NewBuilder("subscription-box").
		Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "trial"}, model.Count(trialStarted, 1)).
		Stage(stage.Stage{ID: "subscriber"}, paid(model.All(renewed, paying))).
		Stage(stage.Stage{ID: "at-risk"}, paid(model.All(renewed, model.Not(paying)))).
		Stage(stage.Stage{ID: "churned"}, paid(model.All(renewed, model.Not(model.Within(70*day, lifecycle.SubscriptionRenewed))))).
		Stage(stage.Stage{ID: "win-back"}, paid(model.All(paying, model.Count(winbackAccept, 1)))).
		Stage(stage.Stage{ID: "advocate"}, paid(model.All(paying, model.Referrals(1)))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hidden is a model that does not list the event types it reads.
type hidden struct{ m lifecycle.Model }

func (h hidden) Name() string                                     { return h.m.Name() }
func (h hidden) Stages() *stage.Graph                             { return h.m.Stages() }
func (h hidden) Stage(f *lifecycle.Facts, now time.Time) stage.ID { return h.m.Stage(f, now) }

// The box whose trial has a way out passes, with no Types option: the
// builder lists the custom types its rules read.
func TestReachedBoxPasses(t *testing.T) {
	m := box(t, false)
	if err := modeltest.TestModel(m); err != nil {
		t.Fatal(err)
	}
	modeltest.Run(t, m)
}

// The box whose trial has no way out fails the Reached rule by default,
// and passes once the edges out of trial are accepted.
func TestReachedBoxWithoutWayOut(t *testing.T) {
	m := box(t, true)
	err := modeltest.TestModel(m)
	if err == nil {
		t.Fatal("TestModel passed a model whose trial stage has no way out")
	}
	if !errors.Is(err, lifecycle.ErrInvalidModel) {
		t.Errorf("error does not wrap lifecycle.ErrInvalidModel: %v", err)
	}
	msg := err.Error()
	for _, s := range []string{`rule Reached: stage "trial" was reached but never left`, "trial → subscriber (advance)", `modeltest.AllowUnused(stage.Edge{From: "trial", To: "subscriber"}`} {
		if !strings.Contains(msg, s) {
			t.Errorf("message does not say %q:\n%s", s, msg)
		}
	}
	if strings.Count(msg, "lifecycle: invalid model:") != 1 {
		t.Errorf("want one failure, the Reached rule's:\n%s", msg)
	}
	var out []stage.Edge
	for _, e := range m.Stages().Edges() {
		if e.From == "trial" {
			out = append(out, e)
		}
	}
	if err := modeltest.TestModel(m, modeltest.AllowUnused(out...)); err != nil {
		t.Errorf("the edges out of trial are accepted, yet: %v", err)
	}
	// Accepting some of them is not enough.
	if err := modeltest.TestModel(m, modeltest.AllowUnused(out[1:]...)); err == nil {
		t.Error("accepting all but one edge out of trial passed")
	}
}

// A model that does not list its types, tested without Types, never
// reaches trial or win-back (their rules read custom types): the Reached
// rule fails by default, and passes with Types, or with AllowUnreached
// naming the stages.
func TestReachedStageNeverReached(t *testing.T) {
	m := hidden{box(t, false)}
	err := modeltest.TestModel(m)
	for _, id := range []string{"trial", "win-back"} {
		if err == nil || !strings.Contains(err.Error(), `rule Reached: stage "`+id+`" was never reached in 300 random histories of 40 steps (seed 1,2)`) ||
			!strings.Contains(err.Error(), `modeltest.AllowUnreached("`+id+`")`) {
			t.Errorf("want %s reported as never reached, got: %v", id, err)
		}
	}
	if err := modeltest.TestModel(m, modeltest.AllowUnreached("trial"), modeltest.AllowUnreached("win-back")); err != nil {
		t.Errorf("AllowUnreached(trial, win-back): %v", err)
	}
	if err := modeltest.TestModel(m, modeltest.AllowUnreached("trial")); err == nil {
		t.Error("AllowUnreached(trial) accepted win-back too")
	}
	if err := modeltest.TestModel(m, modeltest.Types(trialStarted, winbackAccept)); err != nil {
		t.Errorf("Types(...): %v", err)
	}
	stages, _ := modeltest.Unused(m)
	if len(stages) != 2 || stages[0] != "trial" || stages[1] != "win-back" {
		t.Errorf("Unused stages = %v, want [trial win-back]", stages)
	}
}

// EveryEdge fails for each declared edge no history takes; Unused lists
// them, and AllowUnused accepts them.
func TestReachedEveryEdge(t *testing.T) {
	m := box(t, false)
	// model.Builder's documentation quotes these numbers.
	if n := len(m.Stages().Edges()); n != 41 {
		t.Errorf("the box's derived graph has %d edges, want 41", n)
	}
	_, unused := modeltest.Unused(m, modeltest.Walks(3000), modeltest.Steps(60))
	if len(unused) != 18 {
		t.Errorf("3000 histories leave %d derived edges unused, want 18: %v", len(unused), unused)
	}
	_, unused = modeltest.Unused(m)
	if len(unused) != 18 { // the documentation quotes this too
		t.Errorf("the default search leaves %d derived edges unused, want 18: %v", len(unused), unused)
	}
	// prospect → subscriber needs a renewal from prospect: the box's
	// rules allow it. advocate → prospect cannot happen: an advocate
	// has renewed, and renewals never go away.
	for _, want := range [][2]stage.ID{{"advocate", "prospect"}} {
		found := false
		for _, e := range unused {
			found = found || (e.From == want[0] && e.To == want[1])
		}
		if !found {
			t.Errorf("Unused does not list %s → %s: %v", want[0], want[1], unused)
		}
	}
	err := modeltest.TestModel(m, modeltest.EveryEdge())
	if err == nil || !strings.Contains(err.Error(), "declared edges were never taken") {
		t.Fatalf("EveryEdge passed a graph with unused edges: %v", err)
	}
	if err := modeltest.TestModel(m, modeltest.EveryEdge(), modeltest.AllowUnused(unused...)); err != nil {
		t.Errorf("EveryEdge with the unused edges accepted: %v", err)
	}
}

var _ modeltest.TypeReader = (*model.Custom)(nil)

// The box's own custom types are what it lists.
func TestCustomEventTypes(t *testing.T) {
	got := box(t, false).EventTypes()
	for _, want := range []lifecycle.EventType{trialStarted, lifecycle.SubscriptionRenewed, winbackAccept, lifecycle.ReferralConverted} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("EventTypes() = %v, missing %s", got, want)
		}
	}
}
