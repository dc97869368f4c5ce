package stream_test

import (
	"context"
	"fmt"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// printer is a DeadLetterer that prints what it is given.
type printer struct{}

func (printer) DeadLetter(_ context.Context, ls []stream.DeadLetter) error {
	for _, l := range ls {
		fmt.Printf("dead letter %s: %v\n", l.Message.Source(), l.Err)
	}
	return nil
}

// A Processor records one partition's messages: the JSON event form and
// Segment calls alike; a message it cannot record goes to the dead
// letters, and the batch goes on.
func ExampleProcessor() {
	st := store.NewMemory()
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), printer{}, stream.Options{})
	batch := []stream.Message{
		{Topic: "events", Partition: 0, Offset: 0, Value: []byte(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":4999,"currency":"EUR"}`)},
		{Topic: "events", Partition: 0, Offset: 1, Value: []byte(`{"id":"e2","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":-1,"currency":"EUR"}`)},
		{Topic: "events", Partition: 0, Offset: 2, Value: []byte(`{"type":"track","event":"Order Completed","userId":"c1","messageId":"m9","timestamp":"2025-04-01T09:00:00Z","properties":{"total":"20.00","currency":"EUR"}}`)},
		{Topic: "events", Partition: 0, Offset: 3, Value: []byte(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":4999,"currency":"EUR"}`)},
	}
	res, err := p.Process(context.Background(), batch)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", res)
	c, _ := st.Get(context.Background(), "c1")
	fmt.Println(c.Stage, c.Facts.Orders(), c.Facts.Revenue("EUR"))
	// Output:
	// dead letter events/0/1: event 0 (id "e2"): lifecycle: invalid event: amount "-1": must not be negative (record refunds as order_refunded with a positive amount)
	// {Messages:4 Events:3 Applied:2 Duplicates:1 DeadLetters:1}
	// retention 2 6999
}

// Partition says which partition a customer's events go to.
func ExamplePartition() {
	for _, id := range []string{"c1", "c2", "c3"} {
		fmt.Println(id, stream.Partition(id, 12))
	}
	// Output:
	// c1 11
	// c2 1
	// c3 5
}
