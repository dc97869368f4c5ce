package modeltest_test

// Review: numbers docs/models.md quotes about the subscription box.

import (
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

// docs/models.md, "Worked example: a subscription box": "Without `Edges`,
// the builder derives 41 edges (24 of them taken by modeltest's 3,000
// random histories with `modeltest.Walks(3000)`: the ones above) ...
// `modeltest.Unused` lists the other 17."
func TestContractDocsBoxNumbers(t *testing.T) {
	const (
		trialStarted    = lifecycle.EventType("box.trial_started")
		winbackAccepted = lifecycle.EventType("box.winback_accepted")
	)
	renewed := model.Count(lifecycle.SubscriptionRenewed, 1)
	paying := model.Within(35*rvDay, lifecycle.SubscriptionRenewed)
	m := model.NewBuilder("subscription-box").
		Start(stage.Stage{ID: "prospect", Name: "Prospect"}).
		Stage(stage.Stage{ID: "trial", Name: "Trial"}, model.Count(trialStarted, 1)).
		Stage(stage.Stage{ID: "subscriber", Name: "Subscriber"}, model.All(renewed, paying)).
		Stage(stage.Stage{ID: "at-risk", Name: "At risk", Kind: stage.Decline},
			model.All(renewed, model.Not(paying))).
		Stage(stage.Stage{ID: "churned", Name: "Churned", Kind: stage.Exit},
			model.All(renewed, model.Not(model.Within(70*rvDay, lifecycle.SubscriptionRenewed)))).
		Stage(stage.Stage{ID: "win-back", Name: "Win-back", Kind: stage.WinBack},
			model.All(paying, model.Within(60*rvDay, winbackAccepted))).
		Stage(stage.Stage{ID: "advocate", Name: "Advocate"}, model.All(paying, model.Referrals(1))).
		MustBuild()
	if n := len(m.Stages().Edges()); n != 41 {
		t.Errorf("derived edges: %d, docs say 41", n)
	}
	_, unused := modeltest.Unused(m, modeltest.Walks(3000))
	if len(unused) != 17 {
		t.Errorf("Unused with Walks(3000): %d edges, docs say 17: %v", len(unused), unused)
	}
}
