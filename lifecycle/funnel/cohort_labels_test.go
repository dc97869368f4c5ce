package funnel_test

import (
	"context"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
)

// Two cohorts never share a label: a key that starts with a quote is
// quoted too (the key `"(all)"` was drawn as the key (all) is).
func TestReportTableCohortLabelsDistinct(t *testing.T) {
	g := model.SterneCutler().Stages()
	first := g.Stages()[0].ID
	cs := []*lifecycle.Customer{{ID: "(all)", Stage: first}, {ID: `"(all)"`, Stage: first}, {ID: `"x`, Stage: first}}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs),
		funnel.CohortBy(func(c *lifecycle.Customer) string { return c.ID }))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{}
	for _, row := range rep.Table().Rows[len(g.Stages()):] {
		labels[row[0]] = true
	}
	if len(labels) != len(rep.Cohorts) {
		t.Errorf("%d cohorts drawn with %d labels %v", len(rep.Cohorts), len(labels), labels)
	}
}
