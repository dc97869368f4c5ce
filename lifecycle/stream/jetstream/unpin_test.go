package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/store"
)

// TestIdlePartitionUnpinnedOnStop: a consumer that stops while its
// partition is idle (its last pulls returned nothing) still unpins it, so
// the next process gets the partition at once, not after PinnedTTL.
func TestIdlePartitionUnpinnedOnStop(t *testing.T) {
	cfg := js.Config{Stream: "UNPIN", Subject: "unpin.events", DeadLetterSubject: "unpin.dead", Durable: "unpin", Partitions: 1,
		Batch: 10, FetchWait: 200 * time.Millisecond, AckWait: 3 * time.Second, PinnedTTL: 8 * time.Second}
	url := startServer(t, cfg)
	_, jsc := conn(t, url)
	pr, err := js.NewProducer(jsc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(id string) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "c1", Type: lifecycle.SignedUp, Time: time.Now().Add(-time.Minute).UTC()}
	}
	st := store.NewMemory()
	newC := func() *js.Consumer {
		_, j := conn(t, url)
		c, err := js.NewConsumer(j, lifecycle.NewTracker(streamtest.Model(), st), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := newC()
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan struct{})
	go func() { _ = a.Run(ctxA); close(doneA) }()
	if err := pr.Publish(context.Background(), ev("e1")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.Stats().Batches < 1 {
		if time.Now().After(deadline) {
			t.Fatal("A never recorded e1")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // A's pulls now come back empty: idle, but pinned
	cancelA()
	<-doneA

	b := newC()
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	go func() { _ = b.Run(ctxB) }()
	start := time.Now()
	if err := pr.Publish(context.Background(), ev("e2")); err != nil {
		t.Fatal(err)
	}
	for b.Stats().Batches < 1 {
		if time.Since(start) > 15*time.Second {
			t.Fatal("B never recorded e2")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("after A stopped (ctx cancelled) while idle, B got the partition's new message only after %s (PinnedTTL %s): A did not unpin it", took.Round(100*time.Millisecond), cfg.PinnedTTL)
	}
}
