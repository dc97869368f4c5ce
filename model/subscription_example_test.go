package model_test

import (
	"context"
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// The event types of the subscription box's own vocabulary.
const (
	trialStarted    = lifecycle.EventType("box.trial_started")
	winbackAccepted = lifecycle.EventType("box.winback_accepted")
)

// subscriptionBox is the worked example of docs/models.md: a subscription
// lifecycle, which is not a funnel. Its path is prospect → trial →
// subscriber → advocate; at-risk is a decline, churned an exit and
// win-back a win-back, so the funnel and the diagrams do not take them
// for steps forward.
func subscriptionBox() *model.Custom {
	const day = 24 * time.Hour
	renewed := model.Count(lifecycle.SubscriptionRenewed, 1)
	paying := model.Within(35*day, lifecycle.SubscriptionRenewed) // a monthly renewal, with 5 days' grace
	// to lists the stages a stage moves to; Build gives each edge the kind
	// its ends call for (stage.KindOf).
	to := func(from stage.ID, tos ...stage.ID) []stage.Edge {
		var es []stage.Edge
		for _, t := range tos {
			es = append(es, stage.Edge{From: from, To: t})
		}
		return es
	}
	return model.NewBuilder("subscription-box").
		Start(stage.Stage{ID: "prospect", Name: "Prospect"}).
		Stage(stage.Stage{ID: "trial", Name: "Trial"}, model.Count(trialStarted, 1)).
		Stage(stage.Stage{ID: "subscriber", Name: "Subscriber"}, model.All(renewed, paying)).
		Stage(stage.Stage{ID: "at-risk", Name: "At risk", Kind: stage.Decline},
			model.All(renewed, model.Not(paying))).
		Stage(stage.Stage{ID: "churned", Name: "Churned", Kind: stage.Exit},
			model.All(renewed, model.Not(model.Within(70*day, lifecycle.SubscriptionRenewed)))).
		Stage(stage.Stage{ID: "win-back", Name: "Win-back", Kind: stage.WinBack},
			model.All(paying, model.Within(60*day, winbackAccepted))).
		Stage(stage.Stage{ID: "advocate", Name: "Advocate"}, model.All(paying, model.Referrals(1))).
		// The exact graph: every move the rules can make, and no other
		// (modeltest.EveryEdge checks both ways).
		Edges(to("prospect", "trial", "subscriber", "win-back", "advocate")...).
		Edges(to("trial", "subscriber", "win-back", "advocate")...).
		Edges(to("subscriber", "at-risk", "churned", "win-back", "advocate")...).
		Edges(to("at-risk", "subscriber", "churned", "win-back", "advocate")...).
		Edges(to("churned", "subscriber", "win-back", "advocate")...).
		Edges(to("win-back", "subscriber", "at-risk", "churned", "advocate")...).
		Edges(to("advocate", "at-risk", "churned")...).
		MustBuild()
}

// A subscription lifecycle with a decline (at-risk), an exit (churned) and
// a win-back: its diagram draws falls and recoveries, and its funnel
// measures prospect → trial → subscriber → advocate, counting at-risk,
// churned and win-back beside it.
func ExampleBuilder_subscription() {
	ctx := context.Background()
	m := subscriptionBox()
	fmt.Print(model.Mermaid(m))

	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	on := func(d int) time.Time { return start.AddDate(0, 0, d) }
	var events []lifecycle.Event
	add := func(who string, ty lifecycle.EventType, days ...int) {
		for _, d := range days {
			e := lifecycle.Event{ID: fmt.Sprintf("%s-%s-%d", who, ty, d), CustomerID: who, Type: ty, Time: on(d)}
			if ty == lifecycle.SubscriptionRenewed || ty == lifecycle.OrderCompleted {
				e.Amount, e.Currency = 2900, "EUR"
			}
			events = append(events, e)
		}
	}
	add("ann", lifecycle.SiteVisited, 0)                                 // a prospect
	add("bob", trialStarted, 0)                                          // a trial that goes nowhere
	add("cat", trialStarted, 0)                                          // a faithful subscriber
	add("cat", lifecycle.SubscriptionRenewed, 14, 44, 74, 104, 134)      //
	add("dan", trialStarted, 0)                                          // pays once: at risk, then churned
	add("dan", lifecycle.SubscriptionRenewed, 14)                        //
	add("eve", trialStarted, 0)                                          // churns, is won back, subscribes
	add("eve", winbackAccepted, 90)                                      //
	add("eve", lifecycle.SubscriptionRenewed, 14, 90, 120, 150)          //
	add("fay", lifecycle.SubscriptionRenewed, 10, 40, 70, 100, 130, 160) // subscribes at once, refers gus
	events = append(events, lifecycle.Event{ID: "gus-order", CustomerID: "gus", Type: lifecycle.OrderCompleted,
		Time: on(20), Amount: 3500, Currency: "EUR", ReferrerID: "fay"})

	// Record day by day, with a sweep every evening, as a shop running a
	// daily sweep would (time alone moves subscribers to at-risk and
	// churned, and won-back customers back to subscriber).
	end := on(161)
	s := store.NewMemory()
	t := lifecycle.NewTracker(m, s, lifecycle.WithClock(func() time.Time { return end }))
	for d := 0; d <= 160; d++ {
		for _, e := range events {
			if e.Time.Equal(on(d)) {
				if _, err := t.Record(ctx, e); err != nil {
					fmt.Println(err)
					return
				}
			}
		}
		if _, err := t.Sweep(ctx, on(d).Add(12*time.Hour)); err != nil {
			fmt.Println(err)
			return
		}
	}

	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), s, funnel.Percentiles())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rep.Funnel.Table())

	eve, err := t.Customer(ctx, "eve")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print("eve:")
	for i, tr := range eve.History {
		fmt.Print(map[bool]string{true: " ", false: " → "}[i == 0], tr.To)
	}
	fmt.Println()
	// Output:
	// ---
	// title: subscription-box
	// ---
	// flowchart LR
	//     s_prospect["Prospect"]
	//     s_trial["Trial"]
	//     s_subscriber["Subscriber"]
	//     s_at_2d_risk(["At risk"])
	//     s_churned[["Churned"]]
	//     s_win_2d_back{{"Win-back"}}
	//     s_advocate["Advocate"]
	//     s_prospect -->|advance| s_trial
	//     s_prospect -->|advance| s_subscriber
	//     s_prospect -->|advance| s_win_2d_back
	//     s_prospect -->|advance| s_advocate
	//     s_trial -->|advance| s_subscriber
	//     s_trial -->|advance| s_win_2d_back
	//     s_trial -->|advance| s_advocate
	//     s_subscriber -.->|fall| s_at_2d_risk
	//     s_subscriber -.->|fall| s_churned
	//     s_subscriber -->|advance| s_win_2d_back
	//     s_subscriber -->|advance| s_advocate
	//     s_at_2d_risk -->|recover| s_subscriber
	//     s_at_2d_risk -.->|fall| s_churned
	//     s_at_2d_risk -->|recover| s_win_2d_back
	//     s_at_2d_risk -->|recover| s_advocate
	//     s_churned -->|recover| s_subscriber
	//     s_churned -->|recover| s_win_2d_back
	//     s_churned -->|recover| s_advocate
	//     s_win_2d_back -->|recover| s_subscriber
	//     s_win_2d_back -.->|fall| s_at_2d_risk
	//     s_win_2d_back -.->|fall| s_churned
	//     s_win_2d_back -->|recover| s_advocate
	//     s_advocate -.->|fall| s_at_2d_risk
	//     s_advocate -.->|fall| s_churned
	// stage           kind  current  entered  reached  stopped  conversion  stop_rate  to_next_median  stay_median
	// prospect        path        2        2        7        2      0.7143     0.2857
	// trial           path        1        4        5        1      0.8000     0.2000        336h0m0s     336h0m0s
	// subscriber      path        2        4        4        3      0.2500     0.7500        240h0m0s     852h0m0s
	// at-risk      decline        0        2        2        1      0.5000     0.5000                     840h0m0s
	// churned         exit        1        2        2        1      0.5000     0.5000                     132h0m0s
	// win-back    win-back        0        1        1        0      1.0000     0.0000                    1452h0m0s
	// advocate        path        1        1        1        1      0.0000     1.0000
	// eve: trial → subscriber → at-risk → churned → win-back → subscriber
}
