package stage_test

import (
	"errors"
	"fmt"

	"github.com/clmkit/clm/stage"
)

// Build a flywheel: engage → buy → advocate, with a lapse back to engage and
// advocates looping round to bring in new prospects. Then see what New says
// about a broken graph.
func Example() {
	stages := []stage.Stage{
		{ID: "engage", Name: "Engage", Summary: "Browsing, signing up.", Action: "Answer questions."},
		{ID: "buy", Name: "Buy", Summary: "Has ordered.", Action: "Deliver well."},
		{ID: "advocate", Name: "Advocate", Summary: "Recommends the shop.", Action: "Reward referrals."},
	}
	edges := append(stage.Forward("engage", "buy", "advocate"),
		stage.Edge{From: "buy", To: "engage", Kind: stage.Regress},
		stage.Edge{From: "advocate", To: "engage", Kind: stage.Loop})
	g, err := stage.New(stages, edges)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stages:", g.IDs(), "start:", g.Start())
	fmt.Println("buy → engage allowed:", g.Allows("buy", "engage"))
	fmt.Println("advocate → buy allowed:", g.Allows("advocate", "buy"))

	broken := append(stages, stage.Stage{ID: "buy"}, stage.Stage{ID: "lost"})
	_, err = stage.New(broken, []stage.Edge{{From: "engage", To: "churned", Kind: stage.Advance}, {From: "advocate", To: "buy", Kind: stage.Advance}})
	fmt.Println("invalid:", errors.Is(err, stage.ErrInvalidGraph))
	fmt.Println(err)
	// Output:
	// stages: [engage buy advocate] start: engage
	// buy → engage allowed: true
	// advocate → buy allowed: false
	// invalid: true
	// stage: invalid graph: duplicate stage ID "buy" (positions 1 and 3)
	// stage: invalid graph: edge engage→churned: unknown stage "churned"
	// stage: invalid graph: edge advocate→buy: an advance must go to a later stage
	// stage: invalid graph: stage "buy" cannot be reached from the start stage "engage"
	// stage: invalid graph: stage "advocate" cannot be reached from the start stage "engage"
	// stage: invalid graph: stage "lost" cannot be reached from the start stage "engage"
}

// A subscription lifecycle is not a funnel: at-risk is a decline and
// churned an exit, so the edges into them are falls and the edges out of
// them recoveries, wherever they sit in the list.
func ExampleKindOf() {
	subscriber := stage.Stage{ID: "subscriber"}
	atRisk := stage.Stage{ID: "at-risk", Kind: stage.Decline}
	churned := stage.Stage{ID: "churned", Kind: stage.Exit}
	advocate := stage.Stage{ID: "advocate"}
	fmt.Println(stage.KindOf(subscriber, atRisk, true))
	fmt.Println(stage.KindOf(atRisk, churned, true))
	fmt.Println(stage.KindOf(atRisk, subscriber, false))
	fmt.Println(stage.KindOf(subscriber, advocate, true))

	g, err := stage.New([]stage.Stage{{ID: "prospect"}, subscriber, atRisk, churned, advocate}, []stage.Edge{
		{From: "prospect", To: "subscriber", Kind: stage.Advance},
		{From: "subscriber", To: "at-risk", Kind: stage.Fall},
		{From: "at-risk", To: "churned", Kind: stage.Fall},
		{From: "at-risk", To: "subscriber", Kind: stage.Recover},
		{From: "subscriber", To: "advocate", Kind: stage.Advance},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("path:", g.Path())
	_, err = stage.New([]stage.Stage{subscriber, atRisk}, []stage.Edge{{From: "subscriber", To: "at-risk", Kind: stage.Advance}})
	fmt.Println(err)
	// Output:
	// fall
	// fall
	// recover
	// advance
	// path: [prospect subscriber advocate]
	// stage: invalid graph: edge subscriber→at-risk: an edge into a stage of kind decline is a fall, not advance
	// stage: invalid graph: stage "at-risk" cannot be reached from the start stage "subscriber"
}
