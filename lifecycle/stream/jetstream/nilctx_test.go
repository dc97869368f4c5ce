package jetstream_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	nats "github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/lifecycle"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// noServer is a JetStream whose every method panics (its embedded
// interface is nil): the checks below must return before using it.
type noServer struct{ nats.JetStream }

// TestNilContextAndBadArguments: Setup, Consumer.Run and Producer.Send
// and Publish refuse a nil ctx with an error wrapping
// lifecycle.ErrNilContext before they reach the server (Send published
// its messages, then panicked), Setup refuses a nil JetStream, a
// Consumer or Producer not made by its constructor is an ErrConfig error,
// and Partitions past MaxPartitions is refused when made (Run's
// allocation panicked).
func TestNilContextAndBadArguments(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	cfg := js.Config{Partitions: 2}
	c, err := js.NewConsumer(noServer{}, tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := js.NewProducer(noServer{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Unix(1e9, 0)}
	_, sendErr := p.Send(nilCtx, nil)
	for name, err := range map[string]error{
		"Setup":            js.Setup(nilCtx, noServer{}, cfg),
		"Consumer.Run":     c.Run(nilCtx),
		"Producer.Publish": p.Publish(nilCtx, ev),
		"Producer.Send":    sendErr,
	} {
		if !errors.Is(err, lifecycle.ErrNilContext) {
			t.Errorf("%s(nil ctx) = %v, want ErrNilContext", name, err)
		}
	}
	var zero js.Consumer
	_, zeroSend := (&js.Producer{}).Send(ctx, nil)
	_, bigConsumer := js.NewConsumer(noServer{}, tr, js.Config{Partitions: math.MaxInt})
	_, bigProducer := js.NewProducer(noServer{}, js.Config{Partitions: js.MaxPartitions + 1})
	for name, err := range map[string]error{
		"Setup(nil JetStream)":           js.Setup(ctx, nil, cfg),
		"zero Consumer.Run":              zero.Run(ctx),
		"zero Producer.Send":             zeroSend,
		"NewConsumer(MaxInt partitions)": bigConsumer,
		"NewProducer(MaxPartitions+1)":   bigProducer,
	} {
		if !errors.Is(err, js.ErrConfig) {
			t.Errorf("%s = %v, want ErrConfig", name, err)
		}
	}
	_ = zero.Stats()
	if _, err := js.NewProducer(noServer{}, js.Config{Partitions: js.MaxPartitions}); err != nil {
		t.Errorf("NewProducer(MaxPartitions) = %v", err)
	}
}
