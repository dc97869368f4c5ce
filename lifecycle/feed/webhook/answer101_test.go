package webhook_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
)

// WithTimeout bounds each attempt, reading what is read of the answer's
// body included: a receiver answering 101 Switching Protocols
// (Connection: Upgrade) and then keeping the connection open blocked
// Deliver for ever (the body of a 101 is the raw connection, which the
// request's context does not close), and a Dispatcher with it.
func TestAnswer101BoundedByTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold); ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
		<-hold
	}()
	s, err := webhook.New("http://"+ln.Addr().String()+"/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		webhook.WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ch := lifecycle.Change{CustomerID: "c42", Seq: 1}
	ch.To, ch.At = "reach", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Deliver(ctx, ch) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a 101 answer counted as delivered")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Deliver still blocked 3s after WithTimeout (200ms) and ctx (400ms) ran out")
	}
}

// A host with two ports is refused by New (it was accepted, and every
// delivery then failed to look the host "127.0.0.1:8080" up, for ever).
func TestNewRefusesTwoPorts(t *testing.T) {
	for _, raw := range []string{"http://127.0.0.1:8080:38879/hook", "https://shop.example:443:8443/"} {
		_, err := webhook.New(raw, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		if !errors.Is(err, webhook.ErrInvalid) || !strings.Contains(err.Error(), "more than one port") {
			t.Errorf("New(%q) = %v; want ErrInvalid naming the ports", raw, err)
		}
	}
	if _, err := webhook.New("http://[::1]:8080/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Errorf("an IPv6 host with a port: %v", err)
	}
}
