package jetstream_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/store"
)

// lastDead returns the last dead letter of partition 0 in dlConfig's
// dead-letter stream.
func lastDead(t *testing.T, jsc jetstream.JetStream) *jetstream.RawStreamMsg {
	t.Helper()
	s, err := jsc.Stream(context.Background(), "DL_DEAD")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetLastMsgForSubject(context.Background(), "dl.dead.0")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func dlConfig() js.Config {
	return js.Config{Stream: "DL", Subject: "dl.events", DeadLetterSubject: "dl.dead", Durable: "dl", Partitions: 1,
		Batch: 10, FetchWait: 200 * time.Millisecond, AckWait: 3 * time.Second, PinnedTTL: time.Second,
		Processor: stream.Options{Backoff: 10 * time.Millisecond}}
}

// TestOversizeDeadLetterWithoutValue: an invalid message the library's
// own Producer publishes (within the server's max_payload), too large to
// publish once the clm-error and clm-source headers are added, is
// dead-lettered without its value (clm-dropped) and does not block the
// partition. (Process retried it for ever.)
func TestOversizeDeadLetterWithoutValue(t *testing.T) {
	cfg := dlConfig()
	url := startServer(t, cfg)
	_, jsc := conn(t, url)
	pr, err := js.NewProducer(jsc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var big stream.Outgoing
	for n := 1 << 20; ; n -= 8 {
		big = stream.Outgoing{Key: "c1", Value: bytes.Repeat([]byte("x"), n)}
		if _, err := pr.Send(context.Background(), []stream.Outgoing{big}); err == nil {
			break
		} else if n < 1<<20-4096 {
			t.Fatal(err)
		}
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := pr.Publish(context.Background(), lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at}); err != nil {
		t.Fatal(err)
	}
	logs := &streamtest.TailLog{}
	cfg.Processor.Logger = slog.New(slog.NewTextHandler(logs, nil))
	_, jc := conn(t, url)
	c, err := js.NewConsumer(jc, lifecycle.NewTracker(streamtest.Model(), store.NewMemory()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Start(t, c)
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c.Stats().Batches > 0 {
			got := lastDead(t, jsc)
			if len(got.Data) != 0 || got.Header.Get(stream.HeaderDropped) != strconv.Itoa(len(big.Value)) || got.Header.Get(stream.HeaderSource) == "" {
				t.Errorf("dead letter of %d bytes, headers %v; want no value and %s %d", len(got.Data), got.Header, stream.HeaderDropped, len(big.Value))
			}
			return
		}
	}
	t.Fatalf("after 8 s the batch holding a %d-byte invalid message (which the library's Producer published) is not done, nothing acknowledged: the partition is blocked retrying its dead letter (%s); last log: %s", len(big.Value), c.Stats(), logs.Last())
}

// TestDeadLetterKeepsHeaders: a dead letter keeps the message's value,
// key and own headers (its clm-format, which says how to decode it, and
// any other but NATS's own, Nats-…), beside clm-error and clm-source.
func TestDeadLetterKeepsHeaders(t *testing.T) {
	cfg := dlConfig()
	url := startServer(t, cfg)
	nc, jsc := conn(t, url)
	_ = nc
	v := `{"type":"track","event":"Signed Up","userId":"c9","messageId":"m1","timestamp":"2100-01-01T00:00:00Z"}`
	m := nats.NewMsg("dl.events.0")
	m.Data = []byte(v)
	m.Header.Set(stream.HeaderFormat, "segment")
	m.Header.Set("traceparent", "00-abc-def-01")
	// A publisher's JetStream condition (this stream's name) holds for
	// the message, not for its dead letter in another stream: not kept.
	m.Header.Set("Nats-Expected-Stream", "DL")
	m.Header.Set("clm-key", "c9")
	if _, err := jsc.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	_, jc := conn(t, url)
	c, err := js.NewConsumer(jc, lifecycle.NewTracker(streamtest.Model(), store.NewMemory()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Start(t, c)
	for deadline := time.Now().Add(8 * time.Second); c.Stats().Batches == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no batch after 8 s: %s", c.Stats())
		}
	}
	got := lastDead(t, jsc)
	if string(got.Data) != v || got.Header.Get(stream.HeaderError) == "" || got.Header.Get(stream.HeaderSource) != "dl.events.0/0/1" || got.Header.Get("clm-key") != "c9" {
		t.Errorf("dead letter %q headers %q", got.Data, got.Header)
	}
	if got.Header.Get("Nats-Expected-Stream") != "" {
		t.Errorf("dead letter headers %q: a Nats- header was copied", got.Header)
	}
	if got.Header.Get(stream.HeaderFormat) != "segment" || got.Header.Get("traceparent") == "" {
		t.Errorf("dead letter headers %q: the message's own headers (%s: segment, traceparent) are not kept, so it is not published whole", got.Header, stream.HeaderFormat)
	}
}
