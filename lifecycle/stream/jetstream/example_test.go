package jetstream_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/lifecycle"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// Setup creates the streams and the partitions' consumers; a producer
// publishes events to their customers' partitions; a consumer records
// them. The NATS server runs in this process here; with a real one, only
// the URL changes.
func Example() {
	dir, err := os.MkdirTemp("", "clm-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(10 * time.Second)

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	jsc, err := jetstream.New(nc)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	cfg := js.Config{Partitions: 6, FetchWait: 100 * time.Millisecond}
	if err := js.Setup(ctx, jsc, cfg); err != nil {
		fmt.Println(err)
		return
	}

	p, err := js.NewProducer(jsc, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	err = p.Publish(ctx,
		lifecycle.Event{ID: "e1", CustomerID: "c42", Type: lifecycle.SiteVisited, Time: at},
		lifecycle.Event{ID: "e2", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 4999, Currency: "EUR"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	st := store.NewMemory()
	c, err := js.NewConsumer(jsc, lifecycle.NewTracker(model.SterneCutler(), st), cfg)
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
