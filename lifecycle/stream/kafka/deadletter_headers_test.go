package kafka_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/store"
)

// TestOversizeHeadersDeadLetter: a message whose own headers nearly fill
// the producer's limit is dead-lettered without its value and without
// those headers (the three clm- headers only), and does not block the
// partition: dropping the value alone did not make it fit, and the
// partition retried for ever (found by an audit). So is a tombstone (a
// message with a null value) too large by its own headers or its key:
// only a letter with a value was shrunk, and a tombstone's was published
// again and again (found by another audit).
func TestOversizeHeadersDeadLetter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value []byte
		big   string // what fills the limit: "headers" or "key"
	}{
		{"value/headers", []byte("not json"), "headers"},
		{"null/headers", nil, "headers"},
		{"null/key", nil, "key"},
	} {
		t.Run(tc.name, func(t *testing.T) { oversizeLetter(t, tc.value, tc.big) })
	}
}

func oversizeLetter(t *testing.T, value []byte, big string) {
	brokers := dlCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	n := 999_900
	for ; ; n -= 16 { // the largest header franz-go's default producer takes
		r := &kgo.Record{Key: []byte("c1"), Value: value, Headers: []kgo.RecordHeader{{Key: "trace", Value: bytes.Repeat([]byte("t"), n)}}}
		if big == "key" {
			r = &kgo.Record{Key: bytes.Repeat([]byte("k"), n), Value: value}
		}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err == nil {
			break
		} else if n < 990_000 {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("c1"), Value: zzEvent("e1", "c1", "site_visited", "01")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := dlConsumer(t, brokers, store.NewMemory())
	streamtest.Start(t, c)
	if !zzWait(t, "recorded", 8*time.Second, func() bool { return c.Stats().Events == 1 }) {
		t.Fatalf("a message with %d bytes of its own %s blocks its partition: %s; last log: %s", n, big, c.Stats(), lastLog.Last())
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(deadTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fs := rd.PollFetches(pctx)
	if fs.NumRecords() == 0 {
		t.Fatal("no dead letter after 10 s")
	}
	r := fs.Records()[0]
	var keys []string
	for _, h := range r.Headers {
		keys = append(keys, h.Key)
	}
	if len(r.Value) != 0 || r.Key != nil || len(keys) != 3 || keys[0] != stream.HeaderError || keys[1] != stream.HeaderSource || keys[2] != stream.HeaderDropped {
		t.Errorf("dead letter: value %d bytes, key %q, headers %q; want only %s, %s and %s", len(r.Value), r.Key, keys, stream.HeaderError, stream.HeaderSource, stream.HeaderDropped)
	}
}
