package kafka_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// A producer publishes events keyed by customer ID; a consumer of the
// group "clm" records them. The cluster here is franz-go's in-process
// kfake; with a real one, only the broker addresses change.
func Example() {
	cluster, err := kfake.NewCluster(kfake.SeedTopics(6, "events", "events.dead"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx := context.Background()

	p, err := kafka.NewProducer(brokers, "events")
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	err = p.Publish(ctx,
		lifecycle.Event{ID: "e1", CustomerID: "c42", Type: lifecycle.SiteVisited, Time: at},
		lifecycle.Event{ID: "e2", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 4999, Currency: "EUR"},
	)
	p.Close()
	if err != nil {
		fmt.Println(err)
		return
	}

	st := store.NewMemory()
	c, err := kafka.NewConsumer(lifecycle.NewTracker(model.SterneCutler(), st),
		kafka.Config{Brokers: brokers, Topic: "events", Group: "clm"})
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	for c.Stats().Events < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	cu, _ := st.Get(ctx, "c42")
	fmt.Println(cu.Stage, cu.Facts.Events(), c.Stats().DeadLetters)
	// Output: conversion 2 0
}
