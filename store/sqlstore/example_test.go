package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store/sqlstore"
)

// A Tracker on a SQLite file: the customers are still there after the
// process (here: the Store) is gone. For PostgreSQL, pass a
// "postgres://…" URL to Connect instead.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "clm-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	url := "sqlite:" + filepath.Join(dir, "clm.db")
	clock := func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }

	s, err := sqlstore.Connect(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	t := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(clock))
	day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range []lifecycle.Event{
		{ID: "e1", CustomerID: "ada", Type: lifecycle.SiteVisited, Time: day},
		{ID: "e2", CustomerID: "ada", Type: lifecycle.OrderCompleted, Time: day.Add(time.Hour), Amount: 4200, Currency: "EUR"},
		{ID: "e2", CustomerID: "ada", Type: lifecycle.OrderCompleted, Time: day.Add(time.Hour), Amount: 4200, Currency: "EUR"}, // a retry
		{ID: "e3", CustomerID: "bob", Type: lifecycle.SiteVisited, Time: day},
	} {
		res, err := t.Record(ctx, e)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("event %d: %s %s -> %s duplicate=%v\n", i+1, res.CustomerID, res.From, res.To, res.Duplicate)
	}
	s.Close()

	// Later, in another process.
	s, err = sqlstore.Connect(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ada, err := s.Get(ctx, "ada")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ada:", ada.Stage, "orders:", ada.Facts.Orders(), "revenue:", ada.Facts.Revenue("EUR"), "version:", ada.Version)
	counts, err := s.CountByStage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("by stage:", counts)
	for id, err := range s.ListByStage(ctx, model.Reach) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("in reach:", id)
	}
	// Output:
	// event 1: ada  -> reach duplicate=false
	// event 2: ada reach -> conversion duplicate=false
	// event 3: ada conversion -> conversion duplicate=true
	// event 4: bob  -> reach duplicate=false
	// ada: conversion orders: 1 revenue: 4200 version: 2
	// by stage: map[conversion:1 reach:1]
	// in reach: bob
}
