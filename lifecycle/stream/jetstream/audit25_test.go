package jetstream_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
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

// Found by an audit of the consumers against docs/streams.md; each test
// failed before its fix (the line-break one checks the documented form).

// rawPublish publishes a message whose header block is hdrs, through the
// NATS protocol itself, as a client other than nats.go may.
func rawPublish(t *testing.T, u, subject, hdrs, payload string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil { // INFO
		t.Fatal(err)
	}
	hdr := "NATS/1.0\r\n" + hdrs + "\r\n"
	fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"protocol\":1}\r\nHPUB %s %d %d\r\n%s%s\r\nPING\r\n",
		subject, len(hdr), len(hdr)+len(payload), hdr, payload)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, "PONG") {
			return
		}
		if strings.HasPrefix(l, "-ERR") {
			t.Fatal(l)
		}
	}
}

// An invalid message carrying a header whose name nats.go refuses to
// publish ("x/trace") is dead-lettered without that header instead of
// blocking its partition (its dead letter's publish failed for ever).
func TestDeadLetterUnpublishableHeaderName(t *testing.T) {
	cfg := dlConfig()
	u := startServer(t, cfg)
	rawPublish(t, u, "dl.events.0", "x/trace: 1\r\nx-ok: 2\r\n", "garbage")
	got := firstDeadLetter(t, u, cfg)
	if string(got.Data) != "garbage" || got.Header.Get("x-ok") != "2" || got.Header.Get(stream.HeaderError) == "" {
		t.Errorf("dead letter %q with headers %v", got.Data, got.Header)
	}
	for k := range got.Header {
		if strings.Contains(k, "/") {
			t.Errorf("header %q copied", k)
		}
	}
}

// firstDeadLetter runs a consumer of cfg's partition 0 at u until it has
// processed a batch (the partition is blocked when it never does), and
// returns the last dead letter of the partition.
func firstDeadLetter(t *testing.T, u string, cfg js.Config) *jetstream.RawStreamMsg {
	t.Helper()
	_, jc := conn(t, u)
	c, err := js.NewConsumer(jc, lifecycle.NewTracker(streamtest.Model(), store.NewMemory()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Start(t, c)
	for deadline := time.Now().Add(15 * time.Second); c.Stats().Batches == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no batch after 15 s: the partition is blocked: %s", c.Stats())
		}
	}
	return lastDead(t, jc)
}

// clm-error of a two-line error is its text with the line break written
// as a space, as docs/streams.md says the NATS client writes it.
func TestDeadLetterErrorHeaderOneLine(t *testing.T) {
	cfg := dlConfig()
	u := startServer(t, cfg)
	_, jsc := conn(t, u)
	v := `[{"type":"track","event":"Signed Up","messageId":"m1","timestamp":"2025-03-02T10:00:00Z"},{"type":"track","event":"Signed Up","messageId":"m2","timestamp":"2025-03-02T10:00:00Z"}]`
	_, derr := stream.Decode(stream.FormatAuto, []byte(v))
	text := stream.ErrorHeader(derr)
	if !strings.Contains(text, "\n") {
		t.Fatalf("the error %q has one line: the test needs two", text)
	}
	want := strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ").Replace(text))
	m := nats.NewMsg("dl.events.0")
	m.Data = []byte(v)
	if _, err := jsc.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := firstDeadLetter(t, u, cfg)
	if h := got.Header.Get(stream.HeaderError); h != want {
		t.Errorf("clm-error\n got %q\nwant %q", h, want)
	}
}

// A consumer whose partition's pin moved to another process (its batch
// outlived PinnedTTL) stops reporting that partition's lag once a pull
// is refused for the other's pin (it kept it for ever).
func TestLagDroppedWhenPinLost(t *testing.T) {
	cfg := dlConfig()
	cfg.AckWait = 10 * time.Second
	u := startServer(t, cfg)
	_, jsc := conn(t, u)
	pr, err := js.NewProducer(jsc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	var evs []lifecycle.Event
	for i := range 15 {
		evs = append(evs, lifecycle.Event{ID: fmt.Sprint("e", i), CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at.Add(time.Duration(i) * time.Minute)})
	}
	if err := pr.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	slow := streamtest.NewGated(4 * time.Second) // A's first batch outlives the pin's TTL (1 s)
	_, jc := conn(t, u)
	a, err := js.NewConsumer(jc, lifecycle.NewTracker(streamtest.Model(), slow), cfg)
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Start(t, a)
	slow.InFlight(t)
	_, jc2 := conn(t, u)
	b, err := js.NewConsumer(jc2, lifecycle.NewTracker(streamtest.Model(), store.NewMemory()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Start(t, b)
	deadline := time.Now().Add(30 * time.Second)
	for {
		sa, sb := a.Stats(), b.Stats()
		_, has := sa.Lag[0]
		if sb.Messages > 0 && sa.Batches > 0 && !has {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, A: %s lag %v; B: %s lag %v: A still reports the partition B reads", sa, sa.Lag, sb, sb.Lag)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
