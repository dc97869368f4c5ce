package model_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// Classify one customer's facts with each built-in, as time passes.
func Example() {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var f lifecycle.Facts
	for i, ty := range []lifecycle.EventType{lifecycle.SiteVisited, lifecycle.ProductViewed, lifecycle.OrderCompleted, lifecycle.OrderCompleted} {
		f.Add(&lifecycle.Event{Type: ty, Time: at.Add(time.Duration(i) * 10 * 24 * time.Hour), Amount: 1999, Currency: "EUR"})
	}
	for _, name := range []string{"five-stage", "six-stage", "sterne-cutler"} {
		m, _ := model.Lookup(name)
		fmt.Printf("%-13s day 30: %-10s day 300: %s\n", name,
			m.Stage(&f, at.Add(30*24*time.Hour)), m.Stage(&f, at.Add(300*24*time.Hour)))
	}
	// Output:
	// five-stage    day 30: retention  day 300: nurturing
	// six-stage     day 30: experience day 300: evaluation
	// sterne-cutler day 30: retention  day 300: acquisition
}

// Options change a built-in's thresholds.
func ExampleSterneCutler() {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var f lifecycle.Facts
	for i := range 3 {
		f.Add(&lifecycle.Event{Type: lifecycle.OrderCompleted, Time: at.AddDate(0, i, 0), Amount: 4500, Currency: "EUR"})
	}
	now := at.AddDate(0, 4, 0)
	fmt.Println(model.SterneCutler().Stage(&f, now))
	fmt.Println(model.SterneCutler(model.LoyalOrders(3)).Stage(&f, now))
	fmt.Println(model.SterneCutler(model.LapseAfter(30*24*time.Hour)).Stage(&f, now))
	// Output:
	// retention
	// loyalty
	// acquisition
}

// Declare a model with rules, then classify with it.
func ExampleBuilder() {
	m, err := model.NewBuilder("membership").
		Start(stage.Stage{ID: "guest", Name: "Guest"}).
		Stage(stage.Stage{ID: "member", Name: "Member"}, model.Count(lifecycle.SignedUp, 1)).
		Stage(stage.Stage{ID: "customer", Name: "Customer"}, model.All(model.Orders(1), model.Within(365*24*time.Hour, lifecycle.OrderCompleted))).
		Stage(stage.Stage{ID: "vip", Name: "VIP"}, model.All(model.Spent("EUR", 50000), model.Within(365*24*time.Hour, lifecycle.OrderCompleted))).
		Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var f lifecycle.Facts
	f.Add(&lifecycle.Event{Type: lifecycle.SignedUp, Time: at})
	fmt.Println(m.Stage(&f, at))
	f.Add(&lifecycle.Event{Type: lifecycle.OrderCompleted, Time: at, Amount: 60000, Currency: "EUR"})
	fmt.Println(m.Stage(&f, at))
	fmt.Println(m.Stage(&f, at.AddDate(2, 0, 0)))
	for _, e := range m.Stages().Edges()[:4] {
		fmt.Println(e.From, "→", e.To, e.Kind)
	}
	// Output:
	// member
	// vip
	// member
	// guest → member advance
	// guest → customer advance
	// guest → vip advance
	// member → customer advance
}

// Build reports every problem at once.
func ExampleBuilder_Build() {
	_, err := model.NewBuilder("oops").
		Start(stage.Stage{ID: "new"}).
		Stage(stage.Stage{ID: "buyer"}, model.Orders(1)).
		Stage(stage.Stage{ID: "repeat"}, model.Orders(1)).
		Stage(stage.Stage{ID: "fan"}, model.Score(12)).
		Build()
	fmt.Println(err)
	// Output:
	// lifecycle: invalid model: "oops": stages "buyer" and "repeat" have the same rule orders >= 1: they can never be told apart ("buyer" would never be chosen)
	// lifecycle: invalid model: "oops": stage "fan": rule score >= 12: score 12 must be from 0 to 10
}

// Choose the model by name, as from configuration.
func ExampleLookup() {
	m, err := model.Lookup("six-stage")
	fmt.Println(m.Name(), m.Stages().IDs(), err)
	_, err = model.Lookup("sterne-cuttler")
	fmt.Println(errors.Is(err, model.ErrUnknownModel))
	// Output:
	// six-stage [awareness engagement evaluation purchase experience bonding] <nil>
	// true
}

// Register a variant of a built-in under its own name.
func ExampleRegister() {
	err := model.Register("sterne-cutler-90d", model.SterneCutler(model.LapseAfter(90*24*time.Hour)))
	fmt.Println(err)
	fmt.Println(model.Register("sterne-cutler-90d", model.SterneCutler()))
	// Output:
	// <nil>
	// model: duplicate model name: "sterne-cutler-90d" is already registered (model "sterne-cutler")
}

func ExampleMermaid() {
	m, _ := model.NewBuilder("trial").
		Start(stage.Stage{ID: "trial", Name: "Trial"}).
		Stage(stage.Stage{ID: "paid", Name: "Paid"}, model.Within(31*24*time.Hour, lifecycle.SubscriptionRenewed)).
		Build()
	fmt.Print(model.Mermaid(m))
	fmt.Print(model.DOT(m))
	// Output:
	// ---
	// title: trial
	// ---
	// flowchart LR
	//     s_trial["Trial"]
	//     s_paid["Paid"]
	//     s_trial -->|advance| s_paid
	//     s_paid -.->|regress| s_trial
	// digraph "trial" {
	//     rankdir=LR;
	//     node [shape=box, style=rounded];
	//     "trial" [label="Trial"];
	//     "paid" [label="Paid"];
	//     "trial" -> "paid" [label="advance", style=solid];
	//     "paid" -> "trial" [label="regress", style=dashed];
	// }
}

// Put two models side by side on the customers of a store.
func ExampleCorrespond() {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return at.AddDate(1, 0, 0) }))
	events := []lifecycle.Event{
		{ID: "1", CustomerID: "ann", Type: lifecycle.SiteVisited, Time: at},
		{ID: "2", CustomerID: "bob", Type: lifecycle.OrderCompleted, Time: at, Amount: 2000, Currency: "EUR"},
		{ID: "3", CustomerID: "bob", Type: lifecycle.OrderCompleted, Time: at.AddDate(0, 0, 20), Amount: 2000, Currency: "EUR"},
		{ID: "4", CustomerID: "cat", Type: lifecycle.OrderCompleted, Time: at, Amount: 2000, Currency: "EUR"},
		{ID: "5", CustomerID: "cat", Type: lifecycle.OrderCompleted, Time: at.AddDate(0, 0, 5), Amount: 2000, Currency: "EUR"},
		{ID: "6", CustomerID: "cat", Type: lifecycle.SurveyAnswered, Time: at.AddDate(0, 0, 6), Attrs: map[string]string{"score": "10"}},
	}
	if _, err := t.RecordBatch(ctx, events); err != nil {
		fmt.Println(err)
		return
	}
	c, err := model.Correspond(ctx, t.Store(), model.SterneCutler(), model.FiveStage())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(c)
	// Output:
	// sterne-cutler \ five-stage  awareness  conversion  nurturing  retention  advocacy  total
	// reach                               1           0          0          0         0      1
	// acquisition                         0           0          0          0         0      0
	// conversion                          0           0          0          0         0      0
	// retention                           0           0          0          1         1      2
	// loyalty                             0           0          0          0         0      0
	// total                               1           0          0          1         1      3
}

// Stream the customers × models table.
func ExampleClassify() {
	ctx := context.Background()
	s := store.NewMemory()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var f lifecycle.Facts
	f.Add(&lifecycle.Event{Type: lifecycle.OrderCompleted, Time: at, Amount: 999, Currency: "EUR"})
	_ = s.Put(ctx, &lifecycle.Customer{ID: "c1", Facts: f, AsOf: at, Version: 1}, 0)
	models := []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()}
	for row, err := range model.Classify(ctx, s, models, model.At(at.AddDate(0, 1, 0))) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(row.CustomerID, row.Stages)
	}
	// Output:
	// c1 [conversion purchase nurturing]
}
