// Package clm is a Go library for customer lifecycle management in
// e-commerce: it takes the events a shop already has (visits, sign-ups,
// carts, orders, refunds, tickets, surveys, reviews, referrals, renewals,
// cancellations), keeps each customer's facts and lifecycle stage with a
// timestamped history of every stage change, and answers the questions shops
// ask — how many customers sit in each stage, where they drop out, how long
// each step takes, what a customer is worth.
//
// This root package holds documentation only. Start with:
//
//   - [github.com/clmkit/clm/lifecycle]: events, customers, the Model and
//     Store interfaces and the Tracker engine;
//   - [github.com/clmkit/clm/model]: the built-in stage models;
//   - [github.com/clmkit/clm/store]: the in-memory default store;
//   - [github.com/clmkit/clm/stage]: stage graphs.
//
// A Tracker needs nothing but a model and a store:
//
//	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
//	res, err := t.Record(ctx, lifecycle.Event{ID: "ord-1001", CustomerID: "c42",
//		Type: lifecycle.OrderCompleted, Time: at, Amount: 4999, Currency: "EUR"})
//	c, err := t.Customer(ctx, "c42") // stage, since when, facts, history
package clm
