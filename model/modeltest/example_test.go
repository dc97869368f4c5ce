package modeltest_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

// A model built with the builder conforms; the same rules with hand-written
// edges that forget the regression fail the Graph rule.
func ExampleTestModel() {
	stages := func(b *model.Builder) *model.Builder {
		return b.Start(stage.Stage{ID: "prospect"}).
			Stage(stage.Stage{ID: "active"}, model.Within(90*24*time.Hour, lifecycle.OrderCompleted))
	}
	good := stages(model.NewBuilder("good")).MustBuild()
	fmt.Println("good:", modeltest.TestModel(good, modeltest.Seed(1, 2)))

	bad := stages(model.NewBuilder("bad")).
		Edges(stage.Edge{From: "prospect", To: "active", Kind: stage.Advance}).
		MustBuild()
	err := modeltest.TestModel(bad, modeltest.Seed(1, 2), modeltest.MaxReports(1))
	first, _, _ := strings.Cut(err.Error(), ", after")
	fmt.Println("bad:", first)
	// Output:
	// good: <nil>
	// bad: lifecycle: invalid model: modeltest: model "bad": rule Graph: moved active → prospect, an edge the graph does not declare
}

// A stage the random histories reach but never leave, although the graph
// declares a way out, fails the Reached rule: here a paying customer must
// never have started a trial, so trial is a dead end. The builder lists
// the custom type its rules read (box.trial_started), so no Types option
// is needed to reach trial. Accepting the edge passes; Unused lists the
// declared edges no history took.
func ExampleAllowUnused() {
	const trialStarted = lifecycle.EventType("box.trial_started")
	m := model.NewBuilder("box").
		Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "trial"}, model.Count(trialStarted, 1)).
		Stage(stage.Stage{ID: "paid"}, model.All(
			model.Count(lifecycle.SubscriptionRenewed, 1),
			model.Not(model.Count(trialStarted, 1)))).
		MustBuild()

	err := modeltest.TestModel(m)
	first, _, _ := strings.Cut(err.Error(), " in 300")
	fmt.Println(first)

	err = modeltest.TestModel(m, modeltest.AllowUnused(stage.Edge{From: "trial", To: "paid"}))
	fmt.Println("accepted:", err)

	stages, edges := modeltest.Unused(m)
	fmt.Println("unreached stages:", len(stages))
	for _, e := range edges {
		fmt.Printf("unused edge: %s → %s (%s)\n", e.From, e.To, e.Kind)
	}
	// Output:
	// lifecycle: invalid model: modeltest: model "box": rule Reached: stage "trial" was reached but never left
	// accepted: <nil>
	// unreached stages: 0
	// unused edge: trial → paid (advance)
	// unused edge: paid → prospect (regress)
}
