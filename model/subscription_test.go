package model_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

const oneDay = 24 * time.Hour

// The worked subscription example's graph is exact: every move its rules
// make is declared, and every declared edge is taken.
func TestSubscriptionBoxExact(t *testing.T) {
	// 3,000 walks: under the race detector on a loaded machine one rule
	// can take over RuleTimeout's default minute.
	defer func(d time.Duration) { modeltest.RuleTimeout = d }(modeltest.RuleTimeout)
	modeltest.RuleTimeout = 10 * time.Minute
	m := subscriptionBox()
	if err := modeltest.TestModel(m, modeltest.EveryEdge(), modeltest.Walks(3000)); err != nil {
		t.Fatal(err)
	}
}

// Derived edges take their kind from the stages' kinds, not from the list
// order: subscriber → at-risk is a fall, churned → win-back a recovery.
func TestDerivedEdgeKinds(t *testing.T) {
	m := model.NewBuilder("box").
		Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "subscriber"}, model.Within(35*oneDay, "box.renewed")).
		Stage(stage.Stage{ID: "at-risk", Kind: stage.Decline}, model.All(model.Count("box.renewed", 1), model.Not(model.Within(35*oneDay, "box.renewed")))).
		Stage(stage.Stage{ID: "churned", Kind: stage.Exit}, model.All(model.Count("box.renewed", 1), model.Not(model.Within(70*oneDay, "box.renewed")))).
		Stage(stage.Stage{ID: "win-back", Kind: stage.WinBack}, model.All(model.Within(35*oneDay, "box.renewed"), model.Count("box.offer", 1))).
		MustBuild()
	want := map[[2]stage.ID]stage.EdgeKind{
		{"prospect", "subscriber"}: stage.Advance,
		{"subscriber", "prospect"}: stage.Regress,
		{"subscriber", "at-risk"}:  stage.Fall,
		{"at-risk", "churned"}:     stage.Fall,
		{"churned", "at-risk"}:     stage.Fall,
		{"at-risk", "subscriber"}:  stage.Recover,
		{"churned", "win-back"}:    stage.Recover,
		{"win-back", "subscriber"}: stage.Recover,
		{"win-back", "churned"}:    stage.Fall,
	}
	got := map[[2]stage.ID]stage.EdgeKind{}
	for _, e := range m.Stages().Edges() {
		got[[2]stage.ID{e.From, e.To}] = e.Kind
	}
	for k, kind := range want {
		if got[k] != kind {
			t.Errorf("edge %s → %s: kind %v, want %v", k[0], k[1], got[k], kind)
		}
	}
	dot := model.DOT(m)
	for _, s := range []string{`"at-risk" [label="at-risk", style="rounded,dashed"]`, `"churned" [label="churned", peripheries=2]`, `"win-back" [label="win-back", shape=hexagon, style=solid]`, `"subscriber" -> "at-risk" [label="fall", style=dashed]`, `"churned" -> "win-back" [label="recover", style=solid]`} {
		if !strings.Contains(dot, s) {
			t.Errorf("DOT lacks %s:\n%s", s, dot)
		}
	}
	mer := model.Mermaid(m)
	for _, s := range []string{`s_at_2d_risk(["at-risk"])`, `s_churned[["churned"]]`, `s_win_2d_back{{"win-back"}}`, `s_subscriber -.->|fall| s_at_2d_risk`, `s_churned -->|recover| s_win_2d_back`} {
		if !strings.Contains(mer, s) {
			t.Errorf("Mermaid lacks %s:\n%s", s, mer)
		}
	}
}

// Declared edges without a kind get the kind their ends call for; a kind
// that contradicts them is refused.
func TestDeclaredEdgeKinds(t *testing.T) {
	b := func(edges ...stage.Edge) (*model.Custom, error) {
		return model.NewBuilder("box").
			Start(stage.Stage{ID: "prospect"}).
			Stage(stage.Stage{ID: "subscriber"}, model.Within(35*oneDay, "box.renewed")).
			Stage(stage.Stage{ID: "at-risk", Kind: stage.Decline}, model.All(model.Count("box.renewed", 1), model.Not(model.Within(35*oneDay, "box.renewed")))).
			Edges(edges...).
			Build()
	}
	m, err := b(stage.Edge{From: "prospect", To: "subscriber"}, stage.Edge{From: "subscriber", To: "at-risk"}, stage.Edge{From: "at-risk", To: "subscriber"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []stage.EdgeKind{stage.Advance, stage.Fall, stage.Recover}
	for i, e := range m.Stages().Edges() {
		if e.Kind != kinds[i] {
			t.Errorf("edge %s → %s: kind %v, want %v", e.From, e.To, e.Kind, kinds[i])
		}
	}
	if _, err := b(stage.Edge{From: "prospect", To: "subscriber"}, stage.Edge{From: "subscriber", To: "at-risk", Kind: stage.Advance}); err == nil || !strings.Contains(err.Error(), "is a fall, not advance") {
		t.Errorf("an advance into a decline: %v", err)
	}
}
