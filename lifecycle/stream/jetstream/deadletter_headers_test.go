package jetstream_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/store"
)

// TestOversizeHeadersDeadLetter: a message whose own headers nearly fill
// the server's 64 KiB of headers is dead-lettered without its value and
// without those headers (the three clm- headers only), and does not
// block the partition: the server refused it with clm-error added, a
// refusal not taken for "too large", and the partition retried for ever
// (found by an audit).
func TestOversizeHeadersDeadLetter(t *testing.T) {
	cfg := dlConfig()
	u := startServer(t, cfg)
	_, jsc := conn(t, u)
	ctx := context.Background()
	n := 65536
	for ; ; n -= 8 { // the largest header the server stores
		m := nats.NewMsg("dl.events.0")
		m.Data = []byte("not json")
		m.Header.Set("trace", strings.Repeat("t", n))
		if _, err := jsc.PublishMsg(ctx, m); err == nil {
			break
		} else if n < 60000 {
			t.Fatal(err)
		}
	}
	if _, err := jsc.Publish(ctx, "dl.events.0", zzEvent("e1", "c1", "site_visited", "01")); err != nil {
		t.Fatal(err)
	}
	logs := &streamtest.TailLog{}
	cfg.Processor.Logger = slog.New(slog.NewTextHandler(logs, nil))
	c := zzNew(t, u, store.NewMemory(), cfg)
	streamtest.Start(t, c)
	if !zzWait(8*time.Second, func() bool { return c.Stats().Events == 1 }) {
		t.Fatalf("a message with a %d-byte header of its own blocks its partition: %s; last log: %s", n, c.Stats(), logs.Last())
	}
	got := lastDead(t, jsc)
	if len(got.Data) != 0 || len(got.Header) != 3 || got.Header.Get(stream.HeaderError) == "" || got.Header.Get(stream.HeaderSource) == "" || got.Header.Get(stream.HeaderDropped) != "8" {
		t.Errorf("dead letter: value %d bytes, headers %v; want no value and only clm-error, clm-source and clm-dropped 8", len(got.Data), got.Header)
	}
}
