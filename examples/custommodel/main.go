// Command custommodel is a plugin author's walkthrough: it declares a
// subscription-box lifecycle (trial → activated → subscribed → renewed →
// champion) with the model builder, checks it with modeltest.TestModel,
// registers it, and tracks a year of a simulated shop's events with
// a lifecycle.Tracker on a memory store, then prints how many customers
// are in each stage, and how its stages correspond to Sterne–Cutler's
// for the same customers (model.Correspond, a cross-table).
//
//	go run ./examples/custommodel [-customers N] [-seed S]
//
// -customers (default 500) is the number of simulated customers and -seed
// (default 42) seeds the simulation, so a run prints the same figures every
// time. -h lists the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/clmkit/clm/examples/internal/cli"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// Custom event types carry the shop's vendor prefix.
const (
	TrialStarted   lifecycle.EventType = "box.trial_started"   // a free trial box was ordered
	TrialActivated lifecycle.EventType = "box.trial_activated" // the trial box was opened and its code scanned
)

const day = 24 * time.Hour

// subscriptionBox declares the model. A customer is in the last stage
// whose rule holds; trial is the fallback.
func subscriptionBox() (*model.Custom, error) {
	// Paid and not cancelled since: the last subscription_cancelled is
	// not later than both the last order and the last renewal.
	cancelled := model.All(
		model.After(lifecycle.SubscriptionCancelled, lifecycle.OrderCompleted),
		model.After(lifecycle.SubscriptionCancelled, lifecycle.SubscriptionRenewed))
	// A box is paid monthly; 35 days without a payment means it stopped.
	paying := model.Any(
		model.Within(35*day, lifecycle.OrderCompleted),
		model.Within(35*day, lifecycle.SubscriptionRenewed))
	return model.NewBuilder("subscription-box").
		Start(stage.Stage{ID: "trial", Name: "Trial", Summary: "Ordered a free trial box.", Action: "Make the unboxing great; remind them to activate."}).
		Stage(stage.Stage{ID: "activated", Name: "Activated", Summary: "Opened and activated the trial box.", Action: "Offer the first paid month."},
			model.Count(TrialActivated, 1)).
		Stage(stage.Stage{ID: "subscribed", Name: "Subscribed", Summary: "Pays for a subscription.", Action: "Deliver on time; ask for feedback."},
			model.All(model.Orders(1), paying, model.Not(cancelled))).
		Stage(stage.Stage{ID: "renewed", Name: "Renewed", Summary: "Renewed at least once and still paying.", Action: "Personalise the boxes; offer an annual plan."},
			model.All(model.Count(lifecycle.SubscriptionRenewed, 1), model.Within(35*day, lifecycle.SubscriptionRenewed), model.Not(cancelled))).
		Stage(stage.Stage{ID: "champion", Name: "Champion", Summary: "Six renewals or more, still paying, and recommends the box.", Action: "Reward referrals; invite to the community."},
			model.All(model.Count(lifecycle.SubscriptionRenewed, 6), model.Within(35*day, lifecycle.SubscriptionRenewed), model.Not(cancelled),
				model.Any(model.Referrals(1), model.Score(9)))).
		Build()
}

// simulate returns a year of events for n customers, in time order: trial
// boxes, activations, first orders, monthly renewals with churn, surveys
// and referrals (a referred customer names their referrer on their first
// event; the Tracker credits the referrer when they order).
func simulate(r *rand.Rand, start time.Time, n int) []lifecycle.Event {
	var events []lifecycle.Event
	add := func(c string, t lifecycle.EventType, at time.Time, amount int64, ref string, attrs map[string]string) {
		e := lifecycle.Event{ID: c + "-" + strconv.Itoa(len(events)), CustomerID: c, Type: t, Time: at, ReferrerID: ref, Attrs: attrs}
		if amount > 0 {
			e.Amount, e.Currency = amount, "EUR"
		}
		events = append(events, e)
	}
	for i := 0; i < n; i++ {
		c := "cust-" + strconv.Itoa(i)
		at := start.Add(time.Duration(r.Int64N(int64(360 * day))))
		ref := ""
		if i > 10 && r.IntN(6) == 0 {
			ref = "cust-" + strconv.Itoa(r.IntN(i)) // referred by an earlier customer
		}
		add(c, lifecycle.SiteVisited, at, 0, ref, nil)
		add(c, TrialStarted, at.Add(time.Hour), 0, "", nil)
		if r.IntN(10) < 3 {
			continue // never opened the box
		}
		at = at.Add(time.Duration(2+r.IntN(5)) * day)
		add(c, TrialActivated, at, 0, "", nil)
		if r.IntN(10) < 4 {
			continue // did not subscribe
		}
		at = at.Add(time.Duration(1+r.IntN(7)) * day)
		add(c, lifecycle.OrderCompleted, at, 2900, "", nil)
		if r.IntN(25) == 0 {
			add(c, lifecycle.OrderRefunded, at.Add(3*day), 2900, "", nil) // sent back the first box
			continue
		}
		for month := 1; ; month++ {
			at = at.Add(30 * day)
			if at.After(start.Add(365 * day)) {
				break
			}
			if r.IntN(10) == 0 { // about 10% churn a month
				if r.IntN(2) == 0 { // half cancel, half just stop paying
					add(c, lifecycle.SubscriptionCancelled, at.Add(-2*day), 0, "", nil)
				}
				break
			}
			add(c, lifecycle.SubscriptionRenewed, at, 2900, "", nil)
			if month%3 == 0 && r.IntN(2) == 0 {
				add(c, lifecycle.SurveyAnswered, at.Add(day), 0, "", map[string]string{lifecycle.ScoreAttr: strconv.Itoa(5 + r.IntN(6))})
			}
		}
	}
	end := start.Add(365 * day)
	events = slices.DeleteFunc(events, func(e lifecycle.Event) bool { return e.Time.After(end) })
	slices.SortStableFunc(events, func(a, b lifecycle.Event) int { return a.Time.Compare(b.Time) })
	return events
}

// walkthrough declares, checks and registers the model, then tracks the
// simulated customers and prints the stage counts.
func walkthrough(ctx context.Context, w io.Writer, seed uint64, customers int) error {
	// 1. Declare the model; Build checks it.
	m, err := subscriptionBox()
	if err != nil {
		return err
	}
	// 2. Check it against the rules of lifecycle.Model, with the custom
	// event types it reads in the random histories.
	if err := modeltest.TestModel(m, modeltest.Types(TrialStarted, TrialActivated)); err != nil {
		return fmt.Errorf("the model does not conform: %w", err)
	}
	// 3. Register it, so that configuration can name it.
	if err := model.Register(m.Name(), m); err != nil {
		return err
	}
	chosen, err := model.Lookup("subscription-box")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "model %q: %d stages, %d edges; modeltest: ok\n\n", chosen.Name(), chosen.Stages().Len(), len(chosen.Stages().Edges()))

	// 4. Track a year of events.
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(365 * day)
	tr := lifecycle.NewTracker(chosen, store.NewMemory(), lifecycle.WithClock(func() time.Time { return end }))
	events := simulate(rand.New(rand.NewPCG(seed, seed^0x5eed)), start, customers)
	if _, err := tr.RecordBatch(ctx, events); err != nil {
		return err
	}
	// Time passing moves customers too (a box not renewed in 35 days).
	sw, err := tr.Sweep(ctx, end)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d events for %d customers; the year-end sweep moved %d\n\n", len(events), customers, sw.Moved)

	// 5. Count customers per stage.
	counts := map[stage.ID]int{}
	for c, err := range tr.Store().Scan(ctx) {
		if err != nil {
			return err
		}
		counts[c.Stage]++
	}
	fmt.Fprintf(w, "%-12s %9s\n", "stage", "customers")
	total := 0
	for _, s := range chosen.Stages().Stages() {
		fmt.Fprintf(w, "%-12s %9d\n", s.Name, counts[s.ID])
		total += counts[s.ID]
	}
	fmt.Fprintf(w, "%-12s %9d\n", "total", total)

	// 6. The same customers under a built-in, side by side.
	c, err := model.Correspond(ctx, tr.Store(), chosen, model.SterneCutler())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s", c)
	return nil
}

func main() { cli.Main("custommodel", run) }

// run parses args and runs the walkthrough.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("custommodel", "Declares a subscription-box lifecycle model, checks it with modeltest, and tracks\na year of simulated customers with it.", stderr)
	customers := fs.Int("customers", 500, "number of simulated customers (1 to 100000)")
	seed := fs.Uint64("seed", 42, "seed of the simulation")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *customers < 1 || *customers > 100_000 {
		return cli.Usagef("-customers %d: must be from 1 to 100000", *customers)
	}
	return walkthrough(ctx, stdout, *seed, *customers)
}
