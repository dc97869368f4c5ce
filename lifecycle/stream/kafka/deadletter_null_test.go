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

// A tombstone (a record with a null value) whose own headers, or key, are
// too large for its dead letter must not block its partition: the letter
// goes with the three clm- headers only, as one with a value does. (It was
// published again and again: only a letter with a value was shrunk.)
func TestOversizeDeadLetterNullValue(t *testing.T) {
	for _, big := range []string{"headers", "key"} {
		t.Run(big, func(t *testing.T) { nullValueLetter(t, big) })
	}
}

func nullValueLetter(t *testing.T, big string) {
	brokers := dlCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	n := 999_900
	for ; ; n -= 16 { // the largest header franz-go's default producer takes
		r := &kgo.Record{Key: []byte("c1"), Value: nil, Headers: []kgo.RecordHeader{{Key: "trace", Value: bytes.Repeat([]byte("t"), n)}}}
		if big == "key" {
			r = &kgo.Record{Key: bytes.Repeat([]byte("k"), n), Value: nil}
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
		t.Fatalf("a null-valued message with a %s of %d bytes blocks its partition: %s; last log: %s", big, n, c.Stats(), lastLog.Last())
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
	var keys []string
	for _, h := range fs.Records()[0].Headers {
		keys = append(keys, h.Key)
	}
	if len(keys) != 3 || keys[0] != stream.HeaderError || keys[1] != stream.HeaderSource || keys[2] != stream.HeaderDropped {
		t.Errorf("dead letter headers %q; want only %s, %s and %s", keys, stream.HeaderError, stream.HeaderSource, stream.HeaderDropped)
	}
}
