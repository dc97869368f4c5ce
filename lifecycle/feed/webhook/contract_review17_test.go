package webhook_test

// Behaviour review 17b: the webhook Sender and Verify held to their
// documentation (package doc, doc comments, docs/feed.md, docs/shop.md).
// Every test is named TestContractReview...

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

const z17Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func z17Change(cust string, seq uint64) lifecycle.Change {
	ch := lifecycle.Change{CustomerID: cust, Seq: seq, Pos: lifecycle.Cursor(seq)}
	ch.From, ch.To = "reach", "acquisition"
	if seq == 1 {
		ch.From = ""
	}
	ch.At = time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	ch.Cause = "s-1"
	return ch
}

// z17SpecVerify is the check docs/feed.md:230-234 gives "without Go".
func z17SpecVerify(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// webhook.New: "Errors wrap ErrInvalid and name the argument; they never
// show the secret, nor the URL's password"; WithTimeout: "New refuses
// d ≤ 0" (docs/feed.md:71-73 asks options' errors to name the value).
func TestContractReviewNewErrors(t *testing.T) {
	cases := []struct {
		url, secret string
		opt         webhook.Option
		want        []string
	}{
		{"", z17Secret, nil, []string{"url"}},
		{"/hooks", z17Secret, nil, []string{"url"}},
		{"ftp://h/x", z17Secret, nil, []string{"url"}},
		{"http://", z17Secret, nil, []string{"url"}},
		{"http://:8080/x", z17Secret, nil, []string{"url"}},
		{"http://h:0/x", z17Secret, nil, []string{"url", "0"}},
		{"http://h:65536/x", z17Secret, nil, []string{"url", "65536"}},
		{"http://h:99999999999999999999/x", z17Secret, nil, []string{"url"}},
		{"http://user:hunter2pw@h:0/x", z17Secret, nil, []string{"url"}},
		{"http://user:hunter2pw@h /x", z17Secret, nil, []string{"url"}},
		{"http:user:hunter2pw@h/x", z17Secret, nil, []string{"url", "has no host", "xxxxx@h/x"}},
		{"https:hunter2pw@h", z17Secret, nil, []string{"url", "has no host"}},
		{"http:/user:hunter2pw@h/x", z17Secret, nil, []string{"url", "has no host", "xxxxx@h/x"}},
		{"http:///user:hunter2pw@h/x", z17Secret, nil, []string{"url", "has no host"}},
		{"https://h/x", "", nil, []string{"secret"}},
		{"https://h/x", "hunter2pw-not-prefixed", nil, []string{"secret"}},
		{"https://h/x", "whsec_hunter2pw!!!", nil, []string{"secret"}},
		{"https://h/x", "whsec_" + base64.StdEncoding.EncodeToString([]byte("hunter2pw-23-bytes-long")), nil, []string{"secret", "23"}},
		{"https://h/x", "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 65)), nil, []string{"secret", "65"}},
		{"https://h/x", z17Secret, webhook.WithTimeout(0), []string{"WithTimeout", "0s"}},
		{"https://h/x", z17Secret, webhook.WithTimeout(-time.Second), []string{"WithTimeout", "-1s"}},
	}
	for _, tc := range cases {
		s, err := webhook.New(tc.url, tc.secret, tc.opt)
		if err == nil {
			t.Errorf("New(%q, %q): accepted", tc.url, tc.secret)
			continue
		}
		if s != nil {
			t.Errorf("New(%q): a Sender with the error", tc.url)
		}
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("New(%q): %v does not wrap ErrInvalid", tc.url, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("New(%q, …): %q does not name %q", tc.url, err, w)
			}
		}
		if strings.Contains(err.Error(), "hunter2pw") || strings.Contains(err.Error(), strings.TrimPrefix(z17Secret, "whsec_")) {
			t.Errorf("New(%q, …): error shows a secret: %q", tc.url, err)
		}
	}
	for _, ok := range []string{"http://h/x", "https://h:1/x", "https://h:65535/x?token=a#f", "http://[::1]:8080/", "http://user:pw@h/x"} {
		s, err := webhook.New(ok, z17Secret, nil)
		if err != nil {
			t.Errorf("New(%q): %v", ok, err)
			continue
		}
		if strings.Contains(s.URL(), ":pw@") {
			t.Errorf("URL() shows the password: %q", s.URL())
		}
	}
	// Unpadded base64 and keys of 24 and 64 bytes are fine.
	for _, n := range []int{24, 64} {
		sec := "whsec_" + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n))
		if _, err := webhook.New("https://h/x", sec); err != nil {
			t.Errorf("%d-byte key: %v", n, err)
		}
	}
}

type z17Got struct {
	header http.Header
	body   []byte
}

// Headers and body (docs/feed.md:155-181, package doc "Messages"): the
// Standard Webhooks headers, Content-Type application/json, the body in
// the documented shape with times in UTC, and the same body on every
// attempt; signatures check with Verify and with the spec's recipe.
func TestContractReviewMessage(t *testing.T) {
	var mu sync.Mutex
	var got []z17Got
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, z17Got{r.Header.Clone(), b})
		mu.Unlock()
		if n.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	clock := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var tick atomic.Int64
	s, err := webhook.New(srv.URL+"/hooks", z17Secret, webhook.WithClock(func() time.Time { return clock.Add(time.Duration(tick.Load()) * time.Second) }))
	if err != nil {
		t.Fatal(err)
	}
	ch := z17Change("c42", 2)
	if err := s.Deliver(context.Background(), ch); err == nil {
		t.Fatal("500 delivered")
	}
	tick.Store(7)
	if err := s.Deliver(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	if !bytes.Equal(got[0].body, got[1].body) {
		t.Errorf("body differs between attempts:\n%s\n%s", got[0].body, got[1].body)
	}
	want := fmt.Sprintf(`{"type":"customer.stage_changed","timestamp":"2026-03-01T10:00:00Z","data":{"id":%q,"customer_id":"c42","seq":2,"from":"reach","to":"acquisition","at":"2026-03-01T10:00:00Z","cause":"s-1"}}`, ch.ID())
	if string(got[1].body) != want {
		t.Errorf("body\n%s\nwant\n%s", got[1].body, want)
	}
	for i, g := range got {
		h := g.header
		if h.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", h.Get("Content-Type"))
		}
		if h.Get("webhook-id") != ch.ID() || !strings.HasPrefix(ch.ID(), "chg_") || len(ch.ID()) != 4+32 {
			t.Errorf("webhook-id %q, change ID %q", h.Get("webhook-id"), ch.ID())
		}
		wantTS := strconv.FormatInt(clock.Unix()+int64(7*i), 10)
		if h.Get("webhook-timestamp") != wantTS {
			t.Errorf("attempt %d: webhook-timestamp %q, want %q (when this attempt was signed)", i, h.Get("webhook-timestamp"), wantTS)
		}
		if !z17SpecVerify(z17Secret, h, g.body) {
			t.Errorf("attempt %d: the spec's check refuses the signature", i)
		}
		if err := webhook.Verify(z17Secret, h, g.body, clock.Add(time.Duration(7*i)*time.Second), 0); err != nil {
			t.Errorf("attempt %d: Verify: %v", i, err)
		}
	}
	// A first stage: from empty; a sweep: no cause.
	first := z17Change("c1", 1)
	first.Cause = ""
	p := webhook.NewPayload(first)
	b, _ := json.Marshal(p)
	if !strings.Contains(string(b), `"from":""`) || strings.Contains(string(b), `"cause"`) {
		t.Errorf("first stage by a sweep: %s", b)
	}
}

// How the Sender reads answers (docs/feed.md:183-192, Deliver's doc).
func TestContractReviewAnswers(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	type want struct {
		ok, stop, gone bool
		retryAfter     time.Duration // -1: no RetryAfterError
		status         int
		location       string
	}
	cases := []struct {
		status int
		hdr    map[string]string
		want   want
	}{
		{200, nil, want{ok: true}},
		{201, nil, want{ok: true}},
		{202, nil, want{ok: true}},
		{204, nil, want{ok: true}},
		{299, nil, want{ok: true}},
		{300, nil, want{retryAfter: -1, status: 300}},
		{301, map[string]string{"Location": "/elsewhere"}, want{retryAfter: -1, status: 301, location: "/elsewhere"}},
		{302, map[string]string{"Location": "/elsewhere"}, want{retryAfter: -1, status: 302, location: "/elsewhere"}},
		{303, map[string]string{"Location": "/elsewhere"}, want{retryAfter: -1, status: 303, location: "/elsewhere"}},
		{304, nil, want{retryAfter: -1, status: 304}},
		{307, map[string]string{"Location": "/elsewhere"}, want{retryAfter: -1, status: 307, location: "/elsewhere"}},
		{308, map[string]string{"Location": "/elsewhere"}, want{retryAfter: -1, status: 308, location: "/elsewhere"}},
		{400, nil, want{retryAfter: -1, status: 400}},
		{401, nil, want{retryAfter: -1, status: 401}},
		{404, nil, want{retryAfter: -1, status: 404}},
		{410, nil, want{stop: true, gone: true, retryAfter: -1, status: 410}},
		{410, map[string]string{"Retry-After": "5"}, want{stop: true, gone: true, retryAfter: -1, status: 410}},
		{429, nil, want{retryAfter: -1, status: 429}},
		{429, map[string]string{"Retry-After": "120"}, want{retryAfter: 120 * time.Second, status: 429}},
		{429, map[string]string{"Retry-After": " 7 "}, want{retryAfter: 7 * time.Second, status: 429}},
		{429, map[string]string{"Retry-After": "0"}, want{retryAfter: 0, status: 429}},
		{503, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, want{retryAfter: 90 * time.Second, status: 503}},
		{503, map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, want{retryAfter: 0, status: 503}},
		{503, map[string]string{"Retry-After": "86400"}, want{retryAfter: time.Hour, status: 503}},
		{503, map[string]string{"Retry-After": "99999999999999999999999"}, want{retryAfter: time.Hour, status: 503}},
		{503, map[string]string{"Retry-After": now.Add(48 * time.Hour).Format(http.TimeFormat)}, want{retryAfter: time.Hour, status: 503}},
		{503, map[string]string{"Retry-After": "-5"}, want{retryAfter: -1, status: 503}},
		{503, map[string]string{"Retry-After": "1.5"}, want{retryAfter: -1, status: 503}},
		{503, map[string]string{"Retry-After": "soon"}, want{retryAfter: -1, status: 503}},
		{503, nil, want{retryAfter: -1, status: 503}},
		{500, map[string]string{"Retry-After": "120"}, want{retryAfter: -1, status: 500}},
		{502, nil, want{retryAfter: -1, status: 502}},
		{599, nil, want{retryAfter: -1, status: 599}},
	}
	var redirectedHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirectedHits.Add(1) }))
	defer target.Close()
	for _, tc := range cases {
		name := fmt.Sprintf("%d %v", tc.status, tc.hdr)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.hdr {
				if k == "Location" {
					v = target.URL + v
				}
				w.Header().Set(k, v)
			}
			w.WriteHeader(tc.status)
		}))
		s, err := webhook.New(srv.URL, z17Secret, webhook.WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Deliver(context.Background(), z17Change("c1", 1))
		srv.Close()
		if tc.want.ok {
			if err != nil {
				t.Errorf("%s: %v, want nil", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: nil, want a failure", name)
			continue
		}
		var stop *feed.StopError
		if got := errors.As(err, &stop); got != tc.want.stop {
			t.Errorf("%s: stop %v, want %v (%v)", name, got, tc.want.stop, err)
		}
		if got := errors.Is(err, webhook.ErrGone); got != tc.want.gone {
			t.Errorf("%s: ErrGone %v, want %v", name, got, tc.want.gone)
		}
		var ra *feed.RetryAfterError
		switch hasRA := errors.As(err, &ra); {
		case tc.want.retryAfter < 0 && hasRA:
			t.Errorf("%s: RetryAfter %v, want none", name, ra.Delay)
		case tc.want.retryAfter >= 0 && !hasRA:
			t.Errorf("%s: no RetryAfter, want %v (%v)", name, tc.want.retryAfter, err)
		case hasRA && ra.Delay != tc.want.retryAfter:
			t.Errorf("%s: RetryAfter %v, want %v", name, ra.Delay, tc.want.retryAfter)
		}
		var se *webhook.StatusError
		if !errors.As(err, &se) {
			t.Errorf("%s: no *StatusError in %v", name, err)
			continue
		}
		if se.StatusCode != tc.want.status {
			t.Errorf("%s: StatusCode %d", name, se.StatusCode)
		}
		if tc.want.location != "" && se.Location != target.URL+tc.want.location {
			t.Errorf("%s: Location %q", name, se.Location)
		}
	}
	if n := redirectedHits.Load(); n != 0 {
		t.Errorf("a redirect target was hit %d times", n)
	}
}

// WithClient: "The Sender uses a copy whose CheckRedirect refuses to
// follow redirects; c itself is not changed."
func TestContractReviewWithClientNotChanged(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	follow := func(*http.Request, []*http.Request) error { return nil }
	c := &http.Client{CheckRedirect: follow, Timeout: 5 * time.Second}
	s, err := webhook.New(srv.URL, z17Secret, webhook.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	var se *webhook.StatusError
	if err := s.Deliver(context.Background(), z17Change("c", 1)); !errors.As(err, &se) || se.StatusCode != 307 {
		t.Errorf("Deliver: %v, want a 307 StatusError", err)
	}
	if hits.Load() != 0 {
		t.Errorf("redirect followed")
	}
	if c.CheckRedirect == nil || fmt.Sprintf("%p", c.CheckRedirect) != fmt.Sprintf("%p", follow) {
		t.Errorf("the caller's client was changed")
	}
}

// Hostile receivers: one that never answers, one that answers 200 and
// then trickles its body for ever, one that closes the connection, one
// that answers garbage, one that sends a huge body. Each attempt ends
// within the time-out ("WithTimeout bounds each delivery attempt:
// sending the request, waiting for the answer and reading what is read of
// its body"); only an answered 2xx counts as delivered.
func TestContractReviewHostileReceivers(t *testing.T) {
	const timeout = 300 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		raw     func(net.Conn) // a raw TCP server instead
		ok      bool
	}{
		{name: "hangs", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}},
		{name: "200 then trickles", ok: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for i := 0; i < 200; i++ {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-release:
					return
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}},
		{name: "huge body", ok: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			chunk := bytes.Repeat([]byte("y"), 1<<16)
			for i := 0; i < 1600; i++ { // 100 MiB
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
		{name: "closes", raw: func(c net.Conn) {
			_, _ = bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
		}},
		{name: "garbage", raw: func(c net.Conn) {
			_, _ = bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte("NOT HTTP AT ALL\r\n\r\n"))
			_ = c.Close()
		}},
		{name: "status then close", ok: true, raw: func(c net.Conn) {
			_, _ = bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
			_ = c.Close()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var url string
			if tc.raw != nil {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						go tc.raw(c)
					}
				}()
				url = "http://" + ln.Addr().String() + "/hooks"
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body) // so that a closed connection cancels r's context
					tc.handler(w, r)
				}))
				defer srv.Close()
				defer srv.CloseClientConnections()
				url = srv.URL
			}
			s, err := webhook.New(url, z17Secret, webhook.WithTimeout(timeout))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = s.Deliver(context.Background(), z17Change("c", 1))
			el := time.Since(start)
			if el > timeout+10*time.Second { // (generous: a time-out not kept hangs for ever)
				t.Errorf("attempt took %v with a %v time-out", el, timeout)
			}
			if tc.ok && err != nil {
				t.Errorf("2xx answered, error %v", err)
			}
			if !tc.ok && err == nil {
				t.Errorf("nothing answered 2xx, yet delivered")
			}
			t.Logf("%v after %v", err, el.Round(time.Millisecond))
		})
	}
}

// "It honours ctx": a cancelled ctx ends an attempt at once.
func TestContractReviewDeliverHonoursCtx(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := webhook.New(srv.URL, z17Secret)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Deliver(ctx, z17Change("c", 1))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Deliver: %v, want the context's error", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v", el)
	}
	//nolint:staticcheck // nil ctx on purpose
	if err := s.Deliver(nil, z17Change("c", 1)); !errors.Is(err, webhook.ErrInvalid) {
		t.Errorf("nil ctx: %v", err)
	}
	var nilS *webhook.Sender
	if err := nilS.Deliver(context.Background(), z17Change("c", 1)); !errors.Is(err, webhook.ErrInvalid) {
		t.Errorf("nil Sender: %v", err)
	}
	if err := new(webhook.Sender).Deliver(context.Background(), z17Change("c", 1)); !errors.Is(err, webhook.ErrInvalid) {
		t.Errorf("zero Sender: %v", err)
	}
}

// A change JSON cannot hold: "a feed.Stop error naming it, sent nowhere".
func TestContractReviewUnencodableChangeStops(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s, _ := webhook.New(srv.URL, z17Secret)
	ch := z17Change("c-bad", 3)
	ch.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Deliver(context.Background(), ch)
	var stop *feed.StopError
	if !errors.As(err, &stop) || !strings.Contains(err.Error(), ch.ID()) {
		t.Errorf("Deliver: %v; want a Stop naming %s", err, ch.ID())
	}
	if hits.Load() != 0 {
		t.Errorf("sent anyway")
	}
}

// Verify (docs/feed.md:225-230 and its doc comment).
func TestContractReviewVerify(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"customer.stage_changed"}`)
	sig, err := webhook.Sign(z17Secret, "chg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(id, ts, sig string) http.Header {
		h := http.Header{}
		if id != "" {
			h.Set("webhook-id", id)
		}
		if ts != "" {
			h.Set("webhook-timestamp", ts)
		}
		if sig != "" {
			h.Set("webhook-signature", sig)
		}
		return h
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	other := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	otherSig, _ := webhook.Sign(other, "chg_1", now, body)
	cases := []struct {
		name   string
		secret string
		h      http.Header
		body   []byte
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"genuine", z17Secret, hdr("chg_1", ts, sig), body, now, 0, nil},
		{"4m59 late", z17Secret, hdr("chg_1", ts, sig), body, now.Add(299 * time.Second), 0, nil},
		{"5m01 late", z17Secret, hdr("chg_1", ts, sig), body, now.Add(301 * time.Second), 0, webhook.ErrTimestamp},
		{"5m01 early", z17Secret, hdr("chg_1", ts, sig), body, now.Add(-301 * time.Second), 0, webhook.ErrTimestamp},
		{"own tolerance", z17Secret, hdr("chg_1", ts, sig), body, now.Add(20 * time.Second), 10 * time.Second, webhook.ErrTimestamp},
		{"negative tolerance = 5m", z17Secret, hdr("chg_1", ts, sig), body, now.Add(time.Minute), -time.Second, nil},
		{"several signatures", z17Secret, hdr("chg_1", ts, "v1a,xyz v1,AAAA "+otherSig+" "+sig), body, now, 0, nil},
		{"lower-case map keys", z17Secret, http.Header{"webhook-id": {"chg_1"}, "webhook-timestamp": {ts}, "webhook-signature": {sig}}, body, now, 0, nil},
		{"tampered body", z17Secret, hdr("chg_1", ts, sig), append([]byte(nil), append(body, ' ')...), now, 0, webhook.ErrSignature},
		{"other id", z17Secret, hdr("chg_2", ts, sig), body, now, 0, webhook.ErrSignature},
		{"other timestamp", z17Secret, hdr("chg_1", strconv.FormatInt(now.Unix()+1, 10), sig), body, now, 0, webhook.ErrSignature},
		{"other secret", other, hdr("chg_1", ts, sig), body, now, 0, webhook.ErrSignature},
		{"no id", z17Secret, hdr("", ts, sig), body, now, 0, webhook.ErrHeader},
		{"no timestamp", z17Secret, hdr("chg_1", "", sig), body, now, 0, webhook.ErrHeader},
		{"no signature", z17Secret, hdr("chg_1", ts, ""), body, now, 0, webhook.ErrHeader},
		{"blank signature", z17Secret, hdr("chg_1", ts, "   "), body, now, 0, webhook.ErrHeader},
		{"timestamp not a number", z17Secret, hdr("chg_1", "yesterday", sig), body, now, 0, webhook.ErrHeader},
		{"timestamp overflows", z17Secret, hdr("chg_1", "99999999999999999999999", sig), body, now, 0, webhook.ErrHeader},
		{"timestamp huge", z17Secret, hdr("chg_1", "9223372036854775807", sig), body, now, 0, webhook.ErrTimestamp},
		{"timestamp very negative", z17Secret, hdr("chg_1", "-9223372036854775808", sig), body, now, 0, webhook.ErrTimestamp},
		{"signature not scheme,base64", z17Secret, hdr("chg_1", ts, "garbage"), body, now, 0, webhook.ErrHeader},
		{"malformed secret", "whsec_!!", hdr("chg_1", ts, sig), body, now, 0, webhook.ErrInvalid},
		{"nil header", z17Secret, nil, body, now, 0, webhook.ErrHeader},
	}
	for _, tc := range cases {
		err := webhook.Verify(tc.secret, tc.h, tc.body, tc.now, tc.tol)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// End to end, as docs/feed.md's Set-up wires it: a Tracker on
// store.Memory, a Dispatcher with a Sender, events recorded while it runs
// (duplicates and late events among them), and a receiver that in turn
// answers 500, 302, 429 with Retry-After: 0, closes the connection, hangs
// past the time-out, or verifies and answers 204. Every change of the
// feed arrives verified under its own webhook-id, a webhook-id never
// carries two different bodies, each customer's changes first arrive in
// Seq order, and Stats.Delivered counts the 2xx answers.
func TestContractReviewEndToEndHostileReceiver(t *testing.T) {
	st := store.NewMemory()
	m, _ := model.Lookup("sterne-cutler")
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return base.Add(400 * 24 * time.Hour) }))

	var (
		mu      sync.Mutex
		bodies  = map[string]string{} // webhook-id → body
		first   []webhook.Payload
		okCount uint64
		n       int
	)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n % 7
		mu.Unlock()
		switch k {
		case 1:
			w.WriteHeader(500)
			return
		case 2:
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		case 3:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			return
		case 4:
			hj, ok := w.(http.Hijacker)
			if ok {
				c, _, err := hj.Hijack()
				if err == nil {
					_ = c.Close()
				}
			}
			return
		case 5:
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		if err := webhook.Verify(z17Secret, r.Header, body, time.Now(), 0); err != nil || !z17SpecVerify(z17Secret, r.Header, body) {
			t.Errorf("not verified: %v", err)
			w.WriteHeader(401)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("not a payload: %v", err)
			w.WriteHeader(400)
			return
		}
		id := r.Header.Get("webhook-id")
		mu.Lock()
		defer mu.Unlock()
		if id != p.Data.ID {
			t.Errorf("webhook-id %q, data.id %q", id, p.Data.ID)
		}
		if prev, ok := bodies[id]; ok {
			if prev != string(body) {
				t.Errorf("webhook-id %s carried two bodies:\n%s\n%s", id, prev, body)
			}
		} else {
			bodies[id] = string(body)
			first = append(first, p)
		}
		okCount++
		w.WriteHeader(204)
	}))
	defer srv.Close()
	defer close(release)

	s, err := webhook.New(srv.URL+"/hooks", z17Secret, webhook.WithTimeout(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	d, err := feed.New(st, st, "webhooks", s.Deliver, feed.WithBackoff(time.Millisecond, 5*time.Millisecond), feed.WithPoll(5*time.Millisecond), feed.WithBatch(4))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	// Events while it runs: visits, orders, late (earlier) events,
	// duplicates, and a sweep.
	for i := 0; i < 12; i++ {
		c := fmt.Sprintf("cust-%02d", i)
		evs := []lifecycle.Event{
			{ID: "o2-" + c, CustomerID: c, Type: lifecycle.OrderCompleted, Time: base.Add(72 * time.Hour), Amount: 500, Currency: "EUR"},
			{ID: "v-" + c, CustomerID: c, Type: lifecycle.SiteVisited, Time: base},
			{ID: "o1-" + c, CustomerID: c, Type: lifecycle.OrderCompleted, Time: base.Add(24 * time.Hour), Amount: 500, Currency: "EUR"},
			{ID: "v-" + c, CustomerID: c, Type: lifecycle.SiteVisited, Time: base},
		}
		if _, err := tr.RecordBatch(context.Background(), evs[:2]); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs[2:] {
			if _, err := tr.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := tr.Sweep(context.Background(), base.Add(400*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var all []lifecycle.Change
	var after lifecycle.Cursor
	for {
		page, err := st.Changes(context.Background(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Pos
	}
	deadline := time.Now().Add(15 * time.Second)
	for d.Stats().Cursor != all[len(all)-1].Pos {
		if time.Now().After(deadline) {
			t.Fatalf("not caught up: %+v", d.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ch := range all {
		if _, ok := bodies[ch.ID()]; !ok {
			t.Errorf("change %s (%s seq %d %s→%s) never delivered", ch.ID(), ch.CustomerID, ch.Seq, ch.From, ch.To)
		}
	}
	if len(bodies) != len(all) {
		t.Errorf("%d webhook-ids for %d changes", len(bodies), len(all))
	}
	last := map[string]uint64{}
	for _, p := range first {
		if p.Data.Seq <= last[p.Data.CustomerID] {
			t.Errorf("customer %s: seq %d first arrived after seq %d", p.Data.CustomerID, p.Data.Seq, last[p.Data.CustomerID])
		}
		last[p.Data.CustomerID] = p.Data.Seq
	}
	st2 := d.Stats()
	if st2.Delivered != okCount {
		t.Errorf("Stats.Delivered %d, receiver answered 2xx %d times", st2.Delivered, okCount)
	}
	if st2.Failures == 0 {
		t.Errorf("no failures counted against a hostile receiver")
	}
	t.Logf("%d changes, %d requests, %d failures", len(all), n, st2.Failures)
}
