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
