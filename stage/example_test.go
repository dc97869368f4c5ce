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
}
