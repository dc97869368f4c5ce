package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/store"
)

// dlCluster is a one-partition cluster: topic "events" and "events.dead".
func dlCluster(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic), kfake.SeedTopics(1, deadTopic),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

var lastLog = &streamtest.TailLog{}

func dlConsumer(t *testing.T, brokers []string, st lifecycle.Store) *kafka.Consumer {
	t.Helper()
	cfg := consumerConfig(brokers, "dl", 10)
	cfg.Processor.Backoff = 10 * time.Millisecond
	cfg.Processor.Logger = slog.New(slog.NewTextHandler(lastLog, nil))
	c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOversizeDeadLetterWithoutValue: an invalid message that the
// library's own Producer publishes, but whose dead letter (the same value
// plus the clm-error and clm-source headers) is over franz-go's default
// ProducerBatchMaxBytes, is dead-lettered without its value (clm-dropped)
// and does not block the partition. (Process retried it for ever: the
// batch never ended and nothing was committed.)
func TestOversizeDeadLetterWithoutValue(t *testing.T) {
	brokers := dlCluster(t)
	pr, err := kafka.NewProducer(brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	good, err := stream.Encode(lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	// The largest invalid (not JSON) message the library's producer takes.
	var big stream.Outgoing
	for n := 1_000_000; ; n -= 8 {
		big = stream.Outgoing{Key: "c1", Value: bytes.Repeat([]byte("x"), n)}
		if _, err := pr.Send(context.Background(), []stream.Outgoing{big}); err == nil {
			break
		} else if n < 990_000 {
			t.Fatal(err)
		}
	}
	if _, err := pr.Send(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	c := dlConsumer(t, brokers, st)
	streamtest.Start(t, c)
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if c.Stats().Batches > 0 {
			rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(deadTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			fs := rd.PollFetches(ctx)
			if fs.NumRecords() == 0 {
				t.Fatalf("no dead letter after 10 s: %s", c.Stats())
			}
			r := fs.Records()[0]
			hs := map[string]string{}
			for _, h := range r.Headers {
				hs[h.Key] = string(h.Value)
			}
			if len(r.Value) != 0 || hs[stream.HeaderDropped] != strconv.Itoa(len(big.Value)) || hs[stream.HeaderSource] == "" {
				t.Errorf("dead letter of %d bytes, headers %q; want no value and %s %d", len(r.Value), hs, stream.HeaderDropped, len(big.Value))
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("after 8 s the batch holding a %d-byte invalid message (which the library's Producer published) is not done, nothing is committed: the partition is blocked retrying its dead letter (%s); last log: %s", len(big.Value), c.Stats(), lastLog.Last())
}

// TestDeadLetterKeepsHeaders: a dead letter keeps the message's key,
// value and own headers (its clm-format, which says how to decode it, and
// any other), beside clm-error and clm-source. (The message's headers were
// dropped, so a dead letter replayed after a fix was decoded another
// way.)
func TestDeadLetterKeepsHeaders(t *testing.T) {
	brokers := dlCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// A Segment call from the future, marked as Segment by its header.
	v := `{"type":"track","event":"Signed Up","userId":"c9","messageId":"m1","timestamp":"2100-01-01T00:00:00Z"}`
	rec := &kgo.Record{Key: []byte("c9"), Value: []byte(v), Headers: []kgo.RecordHeader{
		{Key: stream.HeaderFormat, Value: []byte("segment")}, {Key: "traceparent", Value: []byte("00-abc-def-01")}}}
	if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := dlConsumer(t, brokers, store.NewMemory())
	streamtest.Start(t, c)

	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(deadTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fs := rd.PollFetches(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || fs.NumRecords() == 0 {
		t.Fatalf("no dead letter after 10 s: %s", c.Stats())
	}
	r := fs.Records()[0]
	hs := map[string]string{}
	for _, h := range r.Headers {
		hs[h.Key] = string(h.Value)
	}
	if string(r.Key) != "c9" || string(r.Value) != v || hs[stream.HeaderError] == "" || hs[stream.HeaderSource] != "events/0/0" {
		t.Errorf("dead letter key %q value %q headers %q", r.Key, r.Value, hs)
	}
	if hs[stream.HeaderFormat] != "segment" || hs["traceparent"] == "" {
		t.Errorf("dead letter headers %q: the message's own headers (%s: segment, traceparent) are not kept, so it is not published whole", hs, stream.HeaderFormat)
	}
}

// TestNewConsumerWithoutRunHoldsNothing: a Consumer joins the group only
// when Run makes its client, so one made but never run (a start-up that
// fails after NewConsumer; there is no Close) holds no partition from the
// group's running members. (NewConsumer made the client, which joins at
// once.)
func TestNewConsumerWithoutRunHoldsNothing(t *testing.T) {
	brokers := dlCluster(t)
	idle := dlConsumer(t, brokers, store.NewMemory()) // never run
	_ = idle
	time.Sleep(2 * time.Second)
	st := store.NewMemory()
	c := dlConsumer(t, brokers, st)
	streamtest.Start(t, c)
	pr, err := kafka.NewProducer(brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := pr.Publish(context.Background(), lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c.Stats().Batches > 0 {
			return
		}
	}
	t.Fatalf("a running consumer recorded nothing in 8 s (%s): the partition is held by a Consumer that was created (NewConsumer) but never run", c.Stats())
}
