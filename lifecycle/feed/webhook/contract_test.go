package webhook_test

// Tests written from the documentation alone (go doc, docs/feed.md,
// docs/shop.md): they try to break the promises the docs make.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
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
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// The Standard Webhooks reference test vector.
const (
	contractVecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	contractVecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	contractVecTS     = 1614265330
	contractVecBody   = `{"test": 2432232314}`
	contractVecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func contractSecret(n int) string {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*7 + 3)
	}
	return webhook.SecretPrefix + base64.StdEncoding.EncodeToString(k)
}

// contractSpecVerify is an independent check, from the documented scheme only.
func contractSpecVerify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return errors.New("missing id or timestamp")
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		v, sig, ok := strings.Cut(s, ",")
		if ok && v == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no matching v1 signature in %q", h.Get("webhook-signature"))
}

func contractChange(cust string, seq uint64, from, to string, at time.Time, cause string) lifecycle.Change {
	return lifecycle.Change{
		CustomerID: cust,
		Seq:        seq,
		Pos:        lifecycle.Cursor(seq * 10),
		Transition: lifecycle.Transition{From: stage.ID(from), To: stage.ID(to), At: at, Cause: cause},
	}
}

type contractReq struct {
	Header http.Header
	Body   []byte
	Method string
	Path   string
}

// contractServer records requests and answers with h (or 204).
type contractServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []contractReq
}

func contractNewServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *contractServer {
	t.Helper()
	s := &contractServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, contractReq{Header: r.Header.Clone(), Body: body, Method: r.Method, Path: r.URL.Path})
		n := len(s.reqs)
		s.mu.Unlock()
		if h != nil {
			h(w, r, n)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *contractServer) requests() []contractReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]contractReq(nil), s.reqs...)
}

var contractT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// ---------------------------------------------------------------- signatures

func TestContractSignReferenceVector(t *testing.T) {
	got, err := webhook.Sign(contractVecSecret, contractVecID, time.Unix(contractVecTS, 0), []byte(contractVecBody))
	if err != nil || got != contractVecSig {
		t.Fatalf("Sign = %q, %v; want %q", got, err, contractVecSig)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, contractVecID)
	h.Set(webhook.HeaderTimestamp, strconv.Itoa(contractVecTS))
	h.Set(webhook.HeaderSignature, contractVecSig)
	if err := webhook.Verify(contractVecSecret, h, []byte(contractVecBody), time.Unix(contractVecTS, 0), 0); err != nil {
		t.Fatalf("Verify(reference vector) = %v", err)
	}
}

func TestContractSecretKeySizes(t *testing.T) {
	for _, tc := range []struct {
		n  int
		ok bool
	}{{0, false}, {1, false}, {23, false}, {24, true}, {32, true}, {64, true}, {65, false}, {1000, false}} {
		sec := contractSecret(tc.n)
		_, err := webhook.New("http://127.0.0.1/x", sec)
		_, serr := webhook.Sign(sec, "id", contractT0, nil)
		if tc.ok {
			if err != nil || serr != nil {
				t.Errorf("key of %d bytes: New %v, Sign %v; want accepted", tc.n, err, serr)
			}
			continue
		}
		for _, e := range []error{err, serr} {
			if !errors.Is(e, webhook.ErrInvalid) {
				t.Errorf("key of %d bytes: error %v, want ErrInvalid", tc.n, e)
			}
			if e != nil && tc.n > 0 && strings.Contains(e.Error(), strings.TrimPrefix(sec, "whsec_")) {
				t.Errorf("key of %d bytes: error shows the secret: %v", tc.n, e)
			}
		}
	}
}

func TestContractMalformedSecrets(t *testing.T) {
	good := contractSecret(32)
	for _, sec := range []string{
		"", "whsec_", "whsec_!!!!", "WHSEC_" + strings.TrimPrefix(good, "whsec_"),
		strings.TrimPrefix(good, "whsec_"), "whsec_" + "%%%%" + strings.TrimPrefix(good, "whsec_"),
		"whsec_\x00\x01", "whsec_" + strings.Repeat("A", 1<<20),
	} {
		_, err := webhook.New("https://example.com/h", sec)
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("New(secret %.20q…) = %v, want ErrInvalid", sec, err)
			continue
		}
		if !strings.Contains(err.Error(), "secret") {
			t.Errorf("New(secret %.20q…) error does not name the argument: %v", sec, err)
		}
		if len(sec) > 12 && strings.Contains(err.Error(), sec[6:len(sec)/2+6]) {
			t.Errorf("error shows the secret: %.80v", err)
		}
		h := http.Header{}
		h.Set(webhook.HeaderID, "x")
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(contractT0.Unix(), 10))
		h.Set(webhook.HeaderSignature, "v1,AAAA")
		if err := webhook.Verify(sec, h, nil, contractT0, 0); !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("Verify(secret %.20q…) = %v, want ErrInvalid", sec, err)
		}
	}
}

func contractSigned(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := webhook.Sign(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func TestContractVerifyTolerance(t *testing.T) {
	sec := contractSecret(32)
	body := []byte(`{"a":1}`)
	for _, tc := range []struct {
		skew, tol time.Duration
		ok        bool
	}{
		{0, 0, true},
		{-5 * time.Minute, 0, true}, // exactly 5 minutes old: within
		{5 * time.Minute, 0, true},
		{-5*time.Minute - time.Second, 0, false},
		{5*time.Minute + time.Second, 0, false},
		{-10 * time.Second, 10 * time.Second, true},
		{-11 * time.Second, 10 * time.Second, false},
		{11 * time.Second, 10 * time.Second, false},
		{-4 * time.Minute, -1, true},
		{-6 * time.Minute, -1, false},
	} {
		h := contractSigned(t, sec, "msg_1", contractT0.Add(tc.skew), body)
		err := webhook.Verify(sec, h, body, contractT0, tc.tol)
		if tc.ok && err != nil {
			t.Errorf("skew %v tol %v: %v, want nil", tc.skew, tc.tol, err)
		}
		if !tc.ok && !errors.Is(err, webhook.ErrTimestamp) {
			t.Errorf("skew %v tol %v: %v, want ErrTimestamp", tc.skew, tc.tol, err)
		}
	}
}

func TestContractVerifyTampering(t *testing.T) {
	sec := contractSecret(32)
	body := []byte(`{"type":"customer.stage_changed"}`)
	base := func() http.Header { return contractSigned(t, sec, "chg_1", contractT0, body) }
	if err := webhook.Verify(sec, base(), body, contractT0, 0); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	// body changed
	if err := webhook.Verify(sec, base(), append(body, ' '), contractT0, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("tampered body: %v, want ErrSignature", err)
	}
	// id changed
	h := base()
	h.Set(webhook.HeaderID, "chg_2")
	if err := webhook.Verify(sec, h, body, contractT0, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("tampered id: %v, want ErrSignature", err)
	}
	// timestamp changed within tolerance
	h = base()
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(contractT0.Unix()+1, 10))
	if err := webhook.Verify(sec, h, body, contractT0, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("tampered timestamp: %v, want ErrSignature", err)
	}
	// other secret
	if err := webhook.Verify(contractSecret(33), base(), body, contractT0, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("other secret: %v, want ErrSignature", err)
	}
	// "v1a," is skipped, a matching v1 later in the list is found
	h = base()
	good := h.Get(webhook.HeaderSignature)
	h.Set(webhook.HeaderSignature, "v1a,"+strings.TrimPrefix(good, "v1,")+" v1,AAAA "+good)
	if err := webhook.Verify(sec, h, body, contractT0, 0); err != nil {
		t.Errorf("list with the good one last: %v", err)
	}
	// only other schemes, or the right MAC under another version
	h.Set(webhook.HeaderSignature, "v1a,"+strings.TrimPrefix(good, "v1,")+" v2,"+strings.TrimPrefix(good, "v1,"))
	if err := webhook.Verify(sec, h, body, contractT0, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("only v1a/v2 entries: %v, want ErrSignature", err)
	}
	// a prefix of the right MAC must not match
	h.Set(webhook.HeaderSignature, good[:len(good)-4])
	if err := webhook.Verify(sec, h, body, contractT0, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("truncated signature: %v, want ErrSignature", err)
	}
	// empty v1
	h.Set(webhook.HeaderSignature, "v1,")
	if err := webhook.Verify(sec, h, body, contractT0, 0); err == nil {
		t.Errorf("empty v1 signature accepted")
	}
}

func TestContractVerifyMalformedHeaders(t *testing.T) {
	sec := contractSecret(32)
	body := []byte("{}")
	for name, mutate := range map[string]func(h http.Header){
		"no id":               func(h http.Header) { h.Del(webhook.HeaderID) },
		"no timestamp":        func(h http.Header) { h.Del(webhook.HeaderTimestamp) },
		"no signature":        func(h http.Header) { h.Del(webhook.HeaderSignature) },
		"empty id":            func(h http.Header) { h.Set(webhook.HeaderID, "") },
		"timestamp letters":   func(h http.Header) { h.Set(webhook.HeaderTimestamp, "abc") },
		"timestamp fraction":  func(h http.Header) { h.Set(webhook.HeaderTimestamp, "1772359200.5") },
		"timestamp overflow":  func(h http.Header) { h.Set(webhook.HeaderTimestamp, "99999999999999999999999") },
		"timestamp maxint":    func(h http.Header) { h.Set(webhook.HeaderTimestamp, "9223372036854775807") },
		"timestamp minint":    func(h http.Header) { h.Set(webhook.HeaderTimestamp, "-9223372036854775808") },
		"timestamp empty":     func(h http.Header) { h.Set(webhook.HeaderTimestamp, "") },
		"signature garbage":   func(h http.Header) { h.Set(webhook.HeaderSignature, "garbage") },
		"signature spaces":    func(h http.Header) { h.Set(webhook.HeaderSignature, "     ") },
		"signature huge list": func(h http.Header) { h.Set(webhook.HeaderSignature, strings.Repeat("v1,AAAA ", 200000)) },
	} {
		t.Run(name, func(t *testing.T) {
			h := contractSigned(t, sec, "chg_x", contractT0, body)
			mutate(h)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Verify panicked: %v", r)
					}
				}()
				err = webhook.Verify(sec, h, body, contractT0, 0)
			}()
			if err == nil {
				t.Fatalf("accepted")
			}
			if !errors.Is(err, webhook.ErrHeader) && !errors.Is(err, webhook.ErrTimestamp) && !errors.Is(err, webhook.ErrSignature) {
				t.Fatalf("error %v wraps none of ErrHeader, ErrTimestamp, ErrSignature", err)
			}
		})
	}
}

// The const doc says header names are case-insensitive; a receiver that
// copies headers from a framework that gives them in lower case (or builds an
// http.Header literal) hands Verify non-canonical keys.
func TestContractVerifyLowerCaseHeaderKeys(t *testing.T) {
	sec := contractSecret(32)
	body := []byte("{}")
	c := contractSigned(t, sec, "chg_x", contractT0, body)
	h := http.Header{
		"webhook-id":        {c.Get(webhook.HeaderID)},
		"webhook-timestamp": {c.Get(webhook.HeaderTimestamp)},
		"webhook-signature": {c.Get(webhook.HeaderSignature)},
	}
	if err := webhook.Verify(sec, h, body, contractT0, 0); err != nil {
		t.Errorf("Verify with lower-case header keys (names are case-insensitive, per the doc): %v", err)
	}
}

// -------------------------------------------------------------------- New

func TestContractNewHostileURLs(t *testing.T) {
	sec := contractSecret(32)
	for _, u := range []string{
		"", " ", "example.com/hook", "/hook", "//example.com/hook", "ftp://example.com/h",
		"file:///etc/passwd", "javascript:alert(1)", "mailto:a@b.c", "https:opaque",
		"http://", "http:///path", "https://?x=1", "http://[::1", "http://exa mple.com/",
		"http://example.com/\n", "http://example.com/\x7f",
		"ws://example.com/", "unix:///var/run/docker.sock",
	} {
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("New(%q) panicked: %v", u, r)
				}
			}()
			_, err = webhook.New(u, sec)
		}()
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("New(%q) = %v, want ErrInvalid", u, err)
		}
	}
	// The password never shows.
	for _, u := range []string{"ftp://user:hunter2@example.com/", "http://user:hunter2@/x", "http://user:hunter2@example.com/\x00"} {
		_, err := webhook.New(u, sec)
		if err == nil {
			t.Errorf("New(%q) accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) error shows the password: %v", u, err)
		}
	}
	_, err := webhook.New("http://user:hunter2@example.com/x", "whsec_bad")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad secret with a URL holding a password: %v", err)
	}
	s, err := webhook.New("https://user:hunter2@example.com/x?q=1", sec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.URL(), "hunter2") || !strings.Contains(s.URL(), "example.com/x") {
		t.Errorf("URL() = %q", s.URL())
	}
	// Upper-case scheme is still http(s).
	if _, err := webhook.New("HTTPS://example.com/x", sec); err != nil {
		t.Errorf("New(HTTPS://…) = %v", err)
	}
}

func TestContractNewOptions(t *testing.T) {
	sec := contractSecret(32)
	for _, d := range []time.Duration{0, -1, -time.Hour} {
		_, err := webhook.New("https://example.com/h", sec, webhook.WithTimeout(d))
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("WithTimeout(%v): %v, want ErrInvalid", d, err)
		} else if !strings.Contains(strings.ToLower(err.Error()), "timeout") {
			t.Errorf("WithTimeout(%v): error does not name the option: %v", d, err)
		}
	}
	if _, err := webhook.New("https://example.com/h", sec, nil, webhook.WithClient(nil), webhook.WithClock(nil)); err != nil {
		t.Errorf("nil options: %v", err)
	}
}

// ---------------------------------------------------------------- Deliver

func TestContractDeliverMessage(t *testing.T) {
	sec := contractSecret(32)
	srv := contractNewServer(t, nil)
	now := time.Date(2026, 3, 1, 10, 0, 7, 0, time.UTC)
	s, err := webhook.New(srv.URL+"/hooks/clm", sec, webhook.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("X", 2*3600+30*60)
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, loc)
	for _, ch := range []lifecycle.Change{
		contractChange("c42", 1, "", "reach", at, "v-1"),
		contractChange("c42", 2, "reach", "acquisition", at, ""),
		contractChange("ü\"<>&\u00e9/\\ 😀", 3, "a", "b", at, "e\"1"),
	} {
		if err := s.Deliver(context.Background(), ch); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		rs := srv.requests()
		r := rs[len(rs)-1]
		if r.Method != http.MethodPost || r.Path != "/hooks/clm" {
			t.Errorf("%s %s", r.Method, r.Path)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		if got := r.Header.Get("webhook-id"); got != ch.ID() {
			t.Errorf("webhook-id %q, want %q", got, ch.ID())
		}
		if got := r.Header.Get("webhook-timestamp"); got != strconv.FormatInt(now.Unix(), 10) {
			t.Errorf("webhook-timestamp %q, want %d", got, now.Unix())
		}
		if err := contractSpecVerify(sec, r.Header, r.Body); err != nil {
			t.Errorf("independent verification: %v", err)
		}
		if err := webhook.Verify(sec, r.Header, r.Body, now, 0); err != nil {
			t.Errorf("Verify: %v", err)
		}
		var raw struct {
			Type      string                     `json:"type"`
			Timestamp string                     `json:"timestamp"`
			Data      map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		var top map[string]json.RawMessage
		_ = json.Unmarshal(r.Body, &top)
		if len(top) != 3 {
			t.Errorf("top-level keys %v, want type, timestamp, data", top)
		}
		if raw.Type != webhook.EventStageChanged {
			t.Errorf("type %q", raw.Type)
		}
		wantAt := at.UTC().Format(time.RFC3339Nano)
		if raw.Timestamp != wantAt {
			t.Errorf("timestamp %q, want %q (UTC)", raw.Timestamp, wantAt)
		}
		var gotAt string
		_ = json.Unmarshal(raw.Data["at"], &gotAt)
		if gotAt != wantAt {
			t.Errorf("data.at %q, want %q", gotAt, wantAt)
		}
		var p webhook.Payload
		_ = json.Unmarshal(r.Body, &p)
		want := webhook.NewPayload(ch)
		if p.Data.ID != ch.ID() || p.Data.CustomerID != ch.CustomerID || p.Data.Seq != ch.Seq ||
			p.Data.From != ch.From || p.Data.To != ch.To || p.Data.Cause != ch.Cause || !p.Data.At.Equal(ch.At) {
			t.Errorf("data %+v, change %+v", p.Data, ch)
		}
		if want.Data != p.Data && !(want.Data.At.Equal(p.Data.At)) {
			t.Errorf("NewPayload %+v, sent %+v", want, p)
		}
		if _, ok := raw.Data["from"]; !ok {
			t.Errorf("data.from missing (documented as present, empty for a first stage): %s", r.Body)
		}
		if _, ok := raw.Data["cause"]; ok != (ch.Cause != "") {
			t.Errorf("data.cause present=%v for cause %q: %s", ok, ch.Cause, r.Body)
		}
	}
}

func TestContractDeliverSameBodyEveryAttempt(t *testing.T) {
	sec := contractSecret(40)
	srv := contractNewServer(t, nil)
	var clock atomic.Int64
	clock.Store(contractT0.Unix())
	s, err := webhook.New(srv.URL, sec, webhook.WithClock(func() time.Time { return time.Unix(clock.Load(), 0) }))
	if err != nil {
		t.Fatal(err)
	}
	ch := contractChange("c1", 2, "reach", "conversion", contractT0, "o-1")
	for i := 0; i < 3; i++ {
		clock.Add(3600)
		if err := s.Deliver(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
	}
	rs := srv.requests()
	for i, r := range rs {
		if !bytes.Equal(r.Body, rs[0].Body) {
			t.Errorf("attempt %d body differs:\n%s\n%s", i, r.Body, rs[0].Body)
		}
		if r.Header.Get("webhook-id") != rs[0].Header.Get("webhook-id") {
			t.Errorf("attempt %d webhook-id differs", i)
		}
		if err := contractSpecVerify(sec, r.Header, r.Body); err != nil {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	if rs[0].Header.Get("webhook-timestamp") == rs[2].Header.Get("webhook-timestamp") {
		t.Errorf("timestamp did not follow the clock")
	}
}

// Two different changes never share a webhook-id.
func TestContractChangeIDsDistinct(t *testing.T) {
	at := contractT0
	cs := []lifecycle.Change{
		contractChange("a1", 2, "reach", "conversion", at, "x"),
		contractChange("a", 12, "reach", "conversion", at, "x"),
		contractChange("a1", 23, "reach", "conversion", at, "x"),
		contractChange("a12", 3, "reach", "conversion", at, "x"),
		contractChange("a:1", 2, "reach", "conversion", at, "x"),
		contractChange("a", 1, "reach", "conversion", at, "x"),
		contractChange("a", 1, "", "reachconversion", at, "x"),
		contractChange("a", 1, "reachconversion", "", at, "x"),
		contractChange("a\x00", 1, "reach", "conversion", at, "x"),
	}
	seen := map[string]int{}
	for i, c := range cs {
		id := c.ID()
		if !strings.HasPrefix(id, "chg_") || len(id) != 4+32 {
			t.Errorf("ID %q: want chg_ and 32 hex digits", id)
		}
		if j, ok := seen[id]; ok {
			t.Errorf("changes %d (%+v) and %d (%+v) share ID %s", j, cs[j], i, c, id)
		}
		seen[id] = i
	}
	c := cs[0]
	c2 := c
	c2.Pos = 999
	c2.Undeclared = true
	if c.ID() != c2.ID() {
		t.Errorf("ID depends on Pos or Undeclared")
	}
}

func contractErrKind(err error) string {
	var se *webhook.StatusError
	var ra *feed.RetryAfterError
	var st *feed.StopError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &st):
		return "stop"
	case errors.As(err, &ra):
		return "retryafter"
	case errors.As(err, &se):
		return "status"
	default:
		return "other"
	}
}

func TestContractDeliverStatuses(t *testing.T) {
	sec := contractSecret(32)
	var target atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { target.Add(1) }))
	defer other.Close()
	for _, tc := range []struct {
		code int
		kind string
	}{
		{200, "nil"}, {201, "nil"}, {202, "nil"}, {204, "nil"}, {299, "nil"},
		{300, "status"}, {301, "status"}, {302, "status"}, {303, "status"}, {304, "status"}, {307, "status"}, {308, "status"},
		{400, "status"}, {401, "status"}, {404, "status"}, {409, "status"}, {413, "status"}, {422, "status"},
		{410, "stop"}, {429, "status"}, {500, "status"}, {502, "status"}, {503, "status"}, {504, "status"}, {599, "status"},
	} {
		srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if tc.code >= 300 && tc.code < 400 {
				w.Header().Set("Location", other.URL+"/elsewhere")
			}
			w.WriteHeader(tc.code)
		})
		s, err := webhook.New("http://u:hunter2@"+strings.TrimPrefix(srv.URL, "http://")+"/h", sec)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, "e"))
		if k := contractErrKind(err); k != tc.kind {
			t.Errorf("%d: %v (%s), want %s", tc.code, err, k, tc.kind)
			continue
		}
		if err == nil {
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%d: error shows the URL's password: %v", tc.code, err)
		}
		var se *webhook.StatusError
		if !errors.As(err, &se) || se.StatusCode != tc.code {
			t.Errorf("%d: StatusError %+v", tc.code, se)
			continue
		}
		if strings.Contains(se.URL, "hunter2") {
			t.Errorf("%d: StatusError.URL shows the password: %q", tc.code, se.URL)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(tc.code)) || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
			t.Errorf("%d: error does not say which endpoint answered what: %v", tc.code, err)
		}
		if errors.Is(err, webhook.ErrGone) != (tc.code == 410) {
			t.Errorf("%d: errors.Is(ErrGone) = %v", tc.code, errors.Is(err, webhook.ErrGone))
		}
		if tc.code >= 300 && tc.code < 400 && tc.code != 304 && se.Location != other.URL+"/elsewhere" {
			t.Errorf("%d: Location %q", tc.code, se.Location)
		}
	}
	if n := target.Load(); n != 0 {
		t.Errorf("redirect target hit %d times", n)
	}
}

func TestContractRedirectNotFollowedWithCallerClient(t *testing.T) {
	var target, checks atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { target.Add(1) }))
	defer other.Close()
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { checks.Add(1); return nil }}
	s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, "e"))
	var se *webhook.StatusError
	if !errors.As(err, &se) || se.StatusCode != 307 {
		t.Errorf("Deliver = %v, want *StatusError 307", err)
	}
	if target.Load() != 0 {
		t.Errorf("redirect followed with the caller's client")
	}
	if c.CheckRedirect == nil {
		t.Errorf("caller's client changed: CheckRedirect cleared")
	} else {
		_ = c.CheckRedirect(nil, nil)
		if checks.Load() != 1 {
			t.Errorf("caller's CheckRedirect replaced (called %d times)", checks.Load())
		}
	}
}

type contractCountRT struct{ n atomic.Int32 }

func (c *contractCountRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestContractClientTransportUsed(t *testing.T) {
	srv := contractNewServer(t, nil)
	rt := &contractCountRT{}
	s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithClient(&http.Client{Transport: rt}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, "")); err != nil {
		t.Fatal(err)
	}
	if rt.n.Load() != 1 {
		t.Errorf("caller's transport used %d times", rt.n.Load())
	}
}

func TestContractRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	type want struct {
		kind  string // "retryafter", "status"
		delay time.Duration
	}
	for _, tc := range []struct {
		code int
		ra   string
		want want
	}{
		{429, "5", want{"retryafter", 5 * time.Second}},
		{503, "120", want{"retryafter", 2 * time.Minute}},
		{503, "0", want{"retryafter", 0}},
		{429, "3600", want{"retryafter", time.Hour}},
		{429, "7200", want{"retryafter", time.Hour}},
		{429, "99999999999999999999999", want{"retryafter", time.Hour}},
		{503, "9223372036854775807", want{"retryafter", time.Hour}},
		{429, "-5", want{"status", 0}},
		{429, "1.5", want{"status", 0}},
		{429, "soon", want{"status", 0}},
		{429, "", want{"status", 0}},
		{503, "", want{"status", 0}},
		{503, now.Add(30 * time.Minute).Format(http.TimeFormat), want{"retryafter", 30 * time.Minute}},
		{503, now.Add(2 * time.Hour).Format(http.TimeFormat), want{"retryafter", time.Hour}},
		{429, now.Add(90 * time.Second).Format(time.RFC850), want{"retryafter", 90 * time.Second}},
		{429, now.Add(90 * time.Second).UTC().Format(time.ANSIC), want{"retryafter", 90 * time.Second}},
		{503, now.Add(1000 * 24 * time.Hour).Format(http.TimeFormat), want{"retryafter", time.Hour}},
		{500, "5", want{"status", 0}},
		{502, "5", want{"status", 0}},
	} {
		srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if tc.ra != "" {
				w.Header().Set("Retry-After", tc.ra)
			}
			w.WriteHeader(tc.code)
		})
		s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
		k := contractErrKind(err)
		if k != tc.want.kind {
			t.Errorf("%d Retry-After %q: %v (%s), want %s", tc.code, tc.ra, err, k, tc.want.kind)
			continue
		}
		var se *webhook.StatusError
		if !errors.As(err, &se) || se.StatusCode != tc.code {
			t.Errorf("%d Retry-After %q: no *StatusError inside %v", tc.code, tc.ra, err)
		}
		if k == "retryafter" {
			var ra *feed.RetryAfterError
			errors.As(err, &ra)
			if d := ra.Delay - tc.want.delay; d < -time.Second || d > time.Second {
				t.Errorf("%d Retry-After %q: delay %v, want %v", tc.code, tc.ra, ra.Delay, tc.want.delay)
			}
		}
	}
	// A past HTTP date is a valid Retry-After: no wait beyond the back-off.
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat))
		w.WriteHeader(503)
	})
	s, _ := webhook.New(srv.URL, contractSecret(32), webhook.WithClock(func() time.Time { return now }))
	err := s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
	var ra *feed.RetryAfterError
	if errors.As(err, &ra) && ra.Delay != 0 {
		t.Errorf("past date: delay %v", ra.Delay)
	}
}

func TestContractTimeoutSlowAnswer(t *testing.T) {
	release := make(chan struct{})
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(200) // 2xx, late
	})
	defer close(release)
	s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Deliver took %v with a 200ms timeout", el)
	}
	if err == nil {
		t.Errorf("a time-out counted as delivered")
	}
	if k := contractErrKind(err); k == "stop" {
		t.Errorf("a time-out stops the dispatcher: %v", err)
	}
}

func TestContractTimeoutSlowBody(t *testing.T) {
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		for i := 0; i < 100; i++ {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			fl.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Deliver took %v reading a dripping body with a 300ms timeout (err %v)", el, err)
	}
	t.Logf("slow 200 body: %v", err)
}

func TestContractHugeAnswerBody(t *testing.T) {
	var written atomic.Int64
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(200)
		chunk := bytes.Repeat([]byte("y"), 64<<10)
		for i := 0; i < 2048; i++ { // 128 MiB
			m, err := w.Write(chunk)
			written.Add(int64(m))
			if err != nil {
				return
			}
		}
	})
	s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
	if err != nil {
		t.Errorf("2xx with a huge body: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Deliver took %v", el)
	}
	time.Sleep(100 * time.Millisecond)
	if w := written.Load(); w >= 128<<20 {
		t.Errorf("the whole 128 MiB answer was read (%d bytes)", w)
	}
}

func TestContractConnectionResetAndEOF(t *testing.T) {
	for _, mode := range []string{"reset", "eof", "garbage"} {
		srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			switch mode {
			case "reset":
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
			case "garbage":
				buf.WriteString("NOT HTTP AT ALL\r\n\r\n")
				buf.Flush()
			}
			conn.Close()
		})
		s, err := webhook.New(srv.URL, contractSecret(32), webhook.WithTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
		if err == nil {
			t.Errorf("%s: counted as delivered", mode)
		}
		if contractErrKind(err) == "stop" {
			t.Errorf("%s: stops the dispatcher: %v", mode, err)
		}
	}
}

func TestContractEarlyHintsThenFailure(t *testing.T) {
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Link", "</x>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(500)
	})
	s, _ := webhook.New(srv.URL, contractSecret(32))
	err := s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
	var se *webhook.StatusError
	if !errors.As(err, &se) || se.StatusCode != 500 {
		t.Errorf("103 then 500: %v, want *StatusError 500", err)
	}
}

func TestContractCancellation(t *testing.T) {
	release := make(chan struct{})
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s, _ := webhook.New(srv.URL, contractSecret(32))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the request is in flight, at the receiver (after a
		// fixed sleep instead, a slow first request could reach the
		// receiver only after the count taken below, as if sent with a
		// done context).
		for deadline := time.Now().Add(10 * time.Second); len(srv.requests()) == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	err := s.Deliver(ctx, contractChange("c", 1, "", "reach", contractT0, ""))
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Deliver returned %v after cancellation", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want an error wrapping context.Canceled", err)
	}
	// Already done: nothing should be sent.
	before := len(srv.requests())
	err = s.Deliver(ctx, contractChange("c", 2, "reach", "conversion", contractT0, ""))
	if err == nil {
		t.Errorf("done context: delivered")
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(srv.requests()) - before; n != 0 {
		t.Errorf("done context: %d requests sent", n)
	}
	// Deadline shorter than the timeout.
	dctx, dcancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer dcancel()
	start = time.Now()
	err = s.Deliver(dctx, contractChange("c", 3, "conversion", "retention", contractT0, ""))
	if el := time.Since(start); el > 10*time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v after %v", err, el)
	}
}

func TestContractNilSenderAndContext(t *testing.T) {
	ch := contractChange("c", 1, "", "reach", contractT0, "")
	call := func(name string, f func() error) {
		t.Helper()
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panicked: %v", name, r)
					err = webhook.ErrInvalid
				}
			}()
			err = f()
		}()
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	var nilS *webhook.Sender
	call("nil Sender", func() error { return nilS.Deliver(context.Background(), ch) })
	s, _ := webhook.New("http://127.0.0.1:1/", contractSecret(32))
	//lint:ignore SA1012 a nil context on purpose
	call("nil context", func() error { return s.Deliver(nil, ch) }) //nolint:staticcheck
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("nil Sender URL() panicked: %v", r)
			}
		}()
		_ = nilS.URL()
	}()
}

func TestContractUnrepresentableTime(t *testing.T) {
	srv := contractNewServer(t, nil)
	s, _ := webhook.New(srv.URL, contractSecret(32))
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("W", -5*3600)), // UTC year 10000
	} {
		ch := contractChange("c-bad", 3, "a", "b", at, "")
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Deliver(%v) panicked: %v", at, r)
				}
			}()
			err = s.Deliver(context.Background(), ch)
		}()
		var st *feed.StopError
		if !errors.As(err, &st) {
			t.Errorf("At %v: %v, want a feed.Stop error", at, err)
			continue
		}
		if !strings.Contains(err.Error(), ch.ID()) && !strings.Contains(err.Error(), "c-bad") {
			t.Errorf("At %v: error does not name the change: %v", at, err)
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d unrepresentable changes were sent", n)
	}
	// Year 0 and 9999 are inside the range.
	for _, at := range []time.Time{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), {}} {
		if err := s.Deliver(context.Background(), contractChange("c", 1, "", "reach", at, "")); err != nil {
			t.Errorf("At %v: %v", at, err)
		}
	}
}

func TestContractConcurrentDeliver(t *testing.T) {
	sec := contractSecret(32)
	srv := contractNewServer(t, nil)
	s, _ := webhook.New(srv.URL, sec)
	var wg sync.WaitGroup
	want := map[string]bool{}
	for i := 0; i < 40; i++ {
		ch := contractChange(fmt.Sprintf("c%d", i), uint64(i%3+1), "a", "b", contractT0, "")
		want[ch.ID()] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Deliver(context.Background(), ch); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := map[string]bool{}
	for _, r := range srv.requests() {
		if err := contractSpecVerify(sec, r.Header, r.Body); err != nil {
			t.Error(err)
		}
		var p webhook.Payload
		_ = json.Unmarshal(r.Body, &p)
		if p.Data.ID != r.Header.Get("webhook-id") {
			t.Errorf("body id %q vs header %q", p.Data.ID, r.Header.Get("webhook-id"))
		}
		got[p.Data.ID] = true
	}
	if len(got) != len(want) {
		t.Errorf("got %d distinct ids, want %d", len(got), len(want))
	}
}

// ------------------------------------------------------ with a dispatcher

type contractRig struct {
	st  *store.Memory
	tr  *lifecycle.Tracker
	now time.Time
}

func contractNewRig(t *testing.T) *contractRig {
	t.Helper()
	m, err := model.Lookup("sterne-cutler")
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &contractRig{st: st, tr: lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return now })), now: now}
}

// record makes a few stage changes for customer c.
func (g *contractRig) record(t *testing.T, c string, base time.Time) {
	t.Helper()
	evs := []lifecycle.Event{
		{ID: c + "-v", CustomerID: c, Type: lifecycle.SiteVisited, Time: base},
		{ID: c + "-a", CustomerID: c, Type: lifecycle.CartAdded, Time: base.Add(time.Hour)},
		{ID: c + "-o1", CustomerID: c, Type: lifecycle.OrderCompleted, Time: base.Add(2 * time.Hour), Amount: 100, Currency: "EUR"},
		{ID: c + "-o2", CustomerID: c, Type: lifecycle.OrderCompleted, Time: base.Add(48 * time.Hour), Amount: 100, Currency: "EUR"},
		{ID: c + "-o3", CustomerID: c, Type: lifecycle.OrderCompleted, Time: base.Add(96 * time.Hour), Amount: 100, Currency: "EUR"},
	}
	for _, e := range evs {
		if _, err := g.tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func (g *contractRig) feedIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	var after lifecycle.Cursor
	for {
		cs, err := g.st.Changes(context.Background(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			return ids
		}
		for _, c := range cs {
			ids = append(ids, c.ID())
			after = c.Pos
		}
	}
}

// contractCheckDeliveries checks that every feed change arrived, that every
// webhook-id always came with one body, and that each customer's changes
// first arrived in seq order.
func contractCheckDeliveries(t *testing.T, sec string, feedIDs []string, reqs []contractReq, okReq func(i int) bool) {
	t.Helper()
	bodies := map[string][]byte{}
	firstOK := map[string]bool{}
	lastSeq := map[string]uint64{}
	var okOrder []string
	for i, r := range reqs {
		if err := contractSpecVerify(sec, r.Header, r.Body); err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		id := r.Header.Get("webhook-id")
		if b, ok := bodies[id]; ok && !bytes.Equal(b, r.Body) {
			t.Errorf("webhook-id %s came with two bodies:\n%s\n%s", id, b, r.Body)
		}
		bodies[id] = r.Body
		if !okReq(i) || firstOK[id] {
			continue
		}
		firstOK[id] = true
		okOrder = append(okOrder, id)
		var p webhook.Payload
		_ = json.Unmarshal(r.Body, &p)
		if p.Data.Seq <= lastSeq[p.Data.CustomerID] {
			t.Errorf("customer %s: seq %d after %d", p.Data.CustomerID, p.Data.Seq, lastSeq[p.Data.CustomerID])
		}
		lastSeq[p.Data.CustomerID] = p.Data.Seq
	}
	if len(okOrder) != len(feedIDs) {
		t.Errorf("%d changes accepted, the feed holds %d", len(okOrder), len(feedIDs))
	}
	for i := range feedIDs {
		if i < len(okOrder) && okOrder[i] != feedIDs[i] {
			t.Errorf("accepted #%d is %s, feed order has %s", i, okOrder[i], feedIDs[i])
			break
		}
	}
}

func contractRunUntil(t *testing.T, d *feed.Dispatcher, want uint64) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			return err
		case <-deadline:
			cancel()
			t.Fatalf("not delivered in time: %+v", d.Stats())
		case <-time.After(10 * time.Millisecond):
			if d.Stats().Delivered >= want {
				cancel()
				return <-done
			}
		}
	}
}

// The receiver is down for a long time (5xx, resets, 429 without
// Retry-After, redirects), then comes back: nothing lost, in order.
func TestContractDispatcherReceiverDownLong(t *testing.T) {
	g := contractNewRig(t)
	for i := 0; i < 4; i++ {
		g.record(t, fmt.Sprintf("cust-%d", i), time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC))
	}
	ids := g.feedIDs(t)
	sec := contractSecret(32)
	var mu sync.Mutex
	okAt := map[int]bool{}
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		ok := n > 25 && n%3 != 0
		mu.Lock()
		okAt[n-1] = ok
		mu.Unlock()
		if ok {
			w.WriteHeader(200)
			return
		}
		switch n % 4 {
		case 0:
			w.WriteHeader(500)
		case 1:
			w.WriteHeader(429)
		case 2:
			w.Header().Set("Location", "http://127.0.0.1:1/")
			w.WriteHeader(302)
		case 3:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}
	})
	s, _ := webhook.New(srv.URL, sec, webhook.WithTimeout(2*time.Second))
	d, err := feed.New(g.st, g.st, "zz", s.Deliver, feed.WithBackoff(time.Millisecond, 5*time.Millisecond), feed.WithPoll(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := contractRunUntil(t, d, uint64(len(ids))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	reqs := srv.requests()
	contractCheckDeliveries(t, sec, ids, reqs, func(i int) bool { return okAt[i] })
	// After a failed attempt, the next request is the same change.
	for i := 0; i+1 < len(reqs); i++ {
		if !okAt[i] && reqs[i+1].Header.Get("webhook-id") != reqs[i].Header.Get("webhook-id") {
			t.Errorf("request %d failed, request %d is another change", i, i+1)
		}
	}
	st := d.Stats()
	if st.Delivered != uint64(len(ids)) {
		t.Errorf("Stats.Delivered %d, want %d", st.Delivered, len(ids))
	}
}

// The receiver acts on the change but answers 2xx after the time-out: the
// change comes again, with the same id and body, and nothing is skipped.
func TestContractDispatcherLate2xx(t *testing.T) {
	g := contractNewRig(t)
	g.record(t, "late", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ids := g.feedIDs(t)
	sec := contractSecret(32)
	seen := map[string]int{}
	var mu sync.Mutex
	okAt := map[int]bool{}
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		id := r.Header.Get("webhook-id")
		seen[id]++
		first := seen[id] == 1
		okAt[n-1] = !first
		mu.Unlock()
		if first {
			// Answer only once the sender has given up (its time-out), not
			// after a fixed 300ms: the time-out can then be long enough for
			// the second attempt to be answered in time on a loaded machine.
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
		w.WriteHeader(200)
	})
	s, _ := webhook.New(srv.URL, sec, webhook.WithTimeout(500*time.Millisecond))
	d, _ := feed.New(g.st, g.st, "zz", s.Deliver, feed.WithBackoff(time.Millisecond, 5*time.Millisecond), feed.WithPoll(5*time.Millisecond))
	if err := contractRunUntil(t, d, uint64(len(ids))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	contractCheckDeliveries(t, sec, ids, srv.requests(), func(i int) bool { return okAt[i] })
	for _, id := range ids {
		if seen[id] != 2 {
			t.Errorf("%s seen %d times, want 2 (late 2xx then again)", id, seen[id])
		}
	}
}

// 410 stops the dispatcher before the change; a later Run starts with it.
func TestContractDispatcherGoneThenResume(t *testing.T) {
	g := contractNewRig(t)
	g.record(t, "g1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g.record(t, "g2", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	ids := g.feedIDs(t)
	sec := contractSecret(32)
	var gone atomic.Bool
	gone.Store(true)
	var mu sync.Mutex
	okAt := map[int]bool{}
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 3 && gone.Load() {
			w.WriteHeader(410)
			return
		}
		mu.Lock()
		okAt[n-1] = true
		mu.Unlock()
		w.WriteHeader(204)
	})
	s, _ := webhook.New(srv.URL, sec)
	d, _ := feed.New(g.st, g.st, "zz", s.Deliver, feed.WithBackoff(time.Millisecond, 5*time.Millisecond), feed.WithPoll(5*time.Millisecond))
	err := contractRunUntil(t, d, uint64(len(ids)))
	var stp *feed.StopError
	if !errors.Is(err, webhook.ErrGone) || !errors.As(err, &stp) {
		t.Fatalf("Run after a 410: %v, want a StopError wrapping ErrGone", err)
	}
	if st := d.Stats(); st.Delivered != 2 {
		t.Errorf("delivered %d before the 410, want 2", st.Delivered)
	}
	gone.Store(false)
	d2, _ := feed.New(g.st, g.st, "zz", s.Deliver, feed.WithBackoff(time.Millisecond, 5*time.Millisecond), feed.WithPoll(5*time.Millisecond))
	if err := contractRunUntil(t, d2, uint64(len(ids)-2)); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Run: %v", err)
	}
	reqs := srv.requests()
	if reqs[3].Header.Get("webhook-id") != reqs[2].Header.Get("webhook-id") {
		t.Errorf("after resuming, the first change is not the refused one")
	}
	mu.Lock()
	defer mu.Unlock()
	contractCheckDeliveries(t, sec, ids, reqs, func(i int) bool { return okAt[i] })
}

// Events recorded by concurrent writers while the dispatcher runs.
func TestContractDispatcherConcurrentWriters(t *testing.T) {
	g := contractNewRig(t)
	sec := contractSecret(32)
	var mu sync.Mutex
	okAt := map[int]bool{}
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		ok := n%5 != 0
		mu.Lock()
		okAt[n-1] = ok
		mu.Unlock()
		if !ok {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	s, _ := webhook.New(srv.URL, sec)
	d, _ := feed.New(g.st, g.st, "zz", s.Deliver, feed.WithBackoff(time.Millisecond, 5*time.Millisecond), feed.WithPoll(2*time.Millisecond), feed.WithBatch(3))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var wg sync.WaitGroup
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evTypes := []lifecycle.EventType{lifecycle.SiteVisited, lifecycle.CartAdded, lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.ReviewPosted}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i, typ := range evTypes {
				for c := 0; c < 3; c++ {
					e := lifecycle.Event{ID: fmt.Sprintf("w%d-%d", w, i), CustomerID: fmt.Sprintf("shared-%d", c), Type: typ,
						Time: base.Add(time.Duration(i*24+w) * time.Hour)}
					if typ == lifecycle.OrderCompleted {
						e.Amount, e.Currency = 100, "EUR"
					}
					if _, err := g.tr.Record(context.Background(), e); err != nil {
						t.Error(err)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	ids := g.feedIDs(t)
	deadline := time.Now().Add(20 * time.Second)
	for d.Stats().Delivered < uint64(len(ids)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	contractCheckDeliveries(t, sec, ids, srv.requests(), func(i int) bool { return okAt[i] })
}

// A 2xx whose body breaks off: the status said delivered.
func TestContractTruncated2xxBody(t *testing.T) {
	srv := contractNewServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a few bytes")
		buf.Flush()
		conn.Close()
	})
	s, _ := webhook.New(srv.URL, contractSecret(32))
	err := s.Deliver(context.Background(), contractChange("c", 1, "", "reach", contractT0, ""))
	t.Logf("200 with a truncated body: %v", err)
	if err != nil {
		t.Errorf("2xx answered, Deliver = %v; the doc says 2xx: nil, delivered", err)
	}
}

// A port outside 1–65535 can never be dialled: New accepts the URL and
// every delivery then fails, retried for ever.
func TestContractNewRefusesInvalidPort(t *testing.T) {
	sec := contractSecret(32)
	for _, u := range []string{"http://h:0/", "http://h:65536/", "http://h:99999999999/"} {
		if _, err := webhook.New(u, sec); !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("New(%q) = %v, want ErrInvalid (not a usable http URL)", u, err)
		}
	}
}

// A Sender not made by New (the zero value) must not panic: the library's
// other types (Tracker) answer an error for their zero value.
func TestContractZeroSenderNoPanic(t *testing.T) {
	ch := contractChange("c", 1, "", "reach", contractT0, "")
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("(&webhook.Sender{}).Deliver panicked: %v", r)
		}
	}()
	err := (&webhook.Sender{}).Deliver(context.Background(), ch)
	if !errors.Is(err, webhook.ErrInvalid) {
		t.Errorf("zero Sender: %v, want ErrInvalid", err)
	}
	_ = (&webhook.Sender{}).URL()
}

// TestContractNewNeverShowsPassword: a URL that does not parse because
// its password holds '#', '/', '?' or a bad escape is refused without
// the password or any part of it in the error.
func TestContractNewNeverShowsPassword(t *testing.T) {
	secret, err := webhook.NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ raw, pw string }{
		{"https://user:s3cr#t@hooks.example/x", "s3cr#t"},
		{"https://user:s3cr/t@hooks.example/x", "s3cr/t"},
		{"https://user:s3?cr@hooks.example/x", "s3?cr"},
		{"https://user:50%off@hooks.example/x", "50%off"},
		{"https://user:pa ss@hooks.example:99999999999/x", "pa ss"},
	} {
		_, err := webhook.New(c.raw, secret)
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("New(%q) = %v; want ErrInvalid", c.raw, err)
			continue
		}
		msg := err.Error()
		for i := 0; i+3 <= len(c.pw); i++ {
			if part := c.pw[i : i+3]; strings.Contains(msg, part) {
				t.Errorf("New(%q): error %q shows %q of the password", c.raw, msg, part)
				break
			}
		}
		if !strings.Contains(msg, "url") {
			t.Errorf("New(%q): error %q does not name the argument", c.raw, msg)
		}
	}
}

// A v1 signature is the base64 Sign writes: the same MAC spelt with other
// values in the last character's unused bits (which a lenient decoder
// ignores) is refused. (Found by an audit: Verify compared the decoded
// bytes.)
func TestContractVerifyNonCanonicalBase64(t *testing.T) {
	h := http.Header{}
	h.Set(webhook.HeaderID, contractVecID)
	h.Set(webhook.HeaderTimestamp, strconv.Itoa(contractVecTS))
	b64 := strings.TrimPrefix(contractVecSig, "v1,")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, b64[len(b64)-2]) // before the "="
	for flip := 1; flip < 4; flip++ {
		alt := b64[:len(b64)-2] + string(alphabet[last^flip]) + "="
		if mac, _ := base64.StdEncoding.DecodeString(alt); !bytes.Equal(mac, mustDecode(t, b64)) {
			t.Fatalf("%q does not decode to the genuine MAC: the test is wrong", alt)
		}
		h.Set(webhook.HeaderSignature, "v1,"+alt)
		err := webhook.Verify(contractVecSecret, h, []byte(contractVecBody), time.Unix(contractVecTS, 0), 0)
		if !errors.Is(err, webhook.ErrSignature) {
			t.Errorf("Verify(%q) = %v, want ErrSignature", alt, err)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A refused timestamp's message says which way it is off: "old" or "in
// the future", never a negative duration.
func TestContractVerifyTimestampMessage(t *testing.T) {
	sec := contractSecret(32)
	body := []byte(`{}`)
	for skew, want := range map[time.Duration]string{
		-6 * time.Minute: "is 6m0s old",
		6 * time.Minute:  "is 6m0s in the future",
	} {
		err := webhook.Verify(sec, contractSigned(t, sec, "msg_1", contractT0.Add(skew), body), body, contractT0, 0)
		if !errors.Is(err, webhook.ErrTimestamp) || !strings.Contains(err.Error(), want) {
			t.Errorf("skew %v: %v, want ErrTimestamp saying %q", skew, err, want)
		}
	}
}
