package lifecycle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func Example() {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return at.Add(90 * 24 * time.Hour) }))

	events := []lifecycle.Event{
		{ID: "v-1", CustomerID: "c42", Type: lifecycle.SiteVisited, Time: at},
		{ID: "s-1", CustomerID: "c42", Type: lifecycle.SignedUp, Time: at.Add(time.Minute)},
		{ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 4999, Currency: "EUR"},
		{ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 4999, Currency: "EUR"}, // a retry
		{ID: "ord-1002", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(30 * 24 * time.Hour), Amount: 2500, Currency: "EUR"},
	}
	for _, e := range events {
		res, err := t.Record(ctx, e)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%s: %s → %s duplicate=%v\n", e.ID, res.From, res.To, res.Duplicate)
	}
	c, _ := t.Customer(ctx, "c42")
	fmt.Println("stage:", c.Stage, "since", c.Since.Format(time.DateOnly))
	fmt.Println("orders:", c.Facts.Orders(), "revenue:", c.Facts.Revenue("EUR"))
	for _, tr := range c.History {
		fmt.Printf("%q → %q at %s (%s)\n", tr.From, tr.To, tr.At.Format(time.DateTime), tr.Cause)
	}
	// Output:
	// v-1:  → reach duplicate=false
	// s-1: reach → acquisition duplicate=false
	// ord-1001: acquisition → conversion duplicate=false
	// ord-1001: conversion → conversion duplicate=true
	// ord-1002: conversion → retention duplicate=false
	// stage: retention since 2026-03-31
	// orders: 2 revenue: 7499
	// "" → "reach" at 2026-03-01 10:00:00 (v-1)
	// "reach" → "acquisition" at 2026-03-01 10:01:00 (s-1)
	// "acquisition" → "conversion" at 2026-03-01 11:00:00 (ord-1001)
	// "conversion" → "retention" at 2026-03-31 10:00:00 (ord-1002)
}
