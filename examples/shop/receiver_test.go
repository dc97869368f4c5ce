package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// testSecret is a Standard Webhooks secret: "whsec_" and the base64 of 32
// bytes.
const testSecret = "whsec_dGhlIHNob3AncyB0ZXN0IGtleSwgMzIgYnl0ZXMhIQ=="

// specVerify checks a delivery as the Standard Webhooks specification
// tells a receiver to, written from the specification (not from the
// library): the key is the base64 after "whsec_"; the signed content is
// webhook-id, ".", webhook-timestamp, ".", and the body as received; the
// signature is the base64 of its HMAC-SHA256; webhook-signature holds
// space-separated "v1,<signature>" entries, one of which must match
// (compared in constant time); and the timestamp must be within five
// minutes of the receiver's clock.
func specVerify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q: %v", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %s is %v away from now", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(sigs) {
		version, value, _ := strings.Cut(sig, ",")
		if version == "v1" && hmac.Equal([]byte(value), []byte(want)) {
			return nil
		}
	}
	return errors.New("no v1 signature matches")
}

// changeData is the "data" of a delivery, decoded from the JSON that
// docs/shop.md describes.
type changeData struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	Seq        uint64    `json:"seq"`
	From       stage.ID  `json:"from"`
	To         stage.ID  `json:"to"`
	At         time.Time `json:"at"`
	Cause      string    `json:"cause"`
}

// change is the lifecycle.Change the data describes (Pos aside).
func (d changeData) change() lifecycle.Change {
	return lifecycle.Change{CustomerID: d.CustomerID, Seq: d.Seq,
		Transition: lifecycle.Transition{From: d.From, To: d.To, At: d.At, Cause: d.Cause}}
}

// delivery is one verified request the receiver got.
type delivery struct {
	Path string // the URL path it was sent to
	ID   string // webhook-id
	Data changeData
	At   time.Time // when it arrived
	Sent time.Time // when it was signed (webhook-timestamp, whole seconds)
}

// receiver is a webhook endpoint for the tests: it verifies every request
// with specVerify, records the verified ones (in arrival order) and
// answers with what respond says (204 by default). It can hold one
// delivery: record it, then not answer until released or the sender goes
// away.
type receiver struct {
	*httptest.Server
	secret string

	mu        sync.Mutex
	log       []delivery
	problems  []string
	requests  int
	respond   func(r *http.Request, n int) (status int, header http.Header) // n counts requests from 1
	holdAt    int                                                           // hold the holdAt-th verified delivery (0: none)
	held      chan string                                                   // gets the held delivery's webhook-id
	release   chan struct{}
	rawSample struct {
		header http.Header
		body   []byte
	}
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{secret: testSecret, release: make(chan struct{})}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(func() {
		rc.releaseHeld()
		rc.Close()
	})
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	problem := func(format string, args ...any) {
		rc.problems = append(rc.problems, fmt.Sprintf(format, args...))
		rc.mu.Unlock()
		http.Error(w, "refused", http.StatusBadRequest)
	}
	if err != nil {
		problem("reading a body: %v", err)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		problem("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		return
	}
	if err := specVerify(rc.secret, r.Header, body, time.Now()); err != nil {
		problem("a delivery fails the specification's check: %v", err)
		return
	}
	var p struct {
		Type      string     `json:"type"`
		Timestamp time.Time  `json:"timestamp"`
		Data      changeData `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		problem("body %s: %v", body, err)
		return
	}
	id := r.Header.Get("webhook-id")
	switch {
	case p.Type != "customer.stage_changed" || !p.Timestamp.Equal(p.Data.At):
		problem("body %s: want type customer.stage_changed and timestamp = data.at", body)
		return
	case id != p.Data.ID:
		problem("webhook-id %s but data.id %s", id, p.Data.ID)
		return
	case id != p.Data.change().ID():
		problem("webhook-id %s is not the identity of the change it carries (%s)", id, p.Data.change().ID())
		return
	}
	d := delivery{Path: r.URL.Path, ID: id, Data: p.Data, At: time.Now()}
	if sec, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); err == nil {
		d.Sent = time.Unix(sec, 0)
	}
	rc.log = append(rc.log, d)
	if rc.rawSample.body == nil {
		rc.rawSample.header, rc.rawSample.body = r.Header.Clone(), body
	}
	if rc.holdAt > 0 && len(rc.log) == rc.holdAt {
		held, release := rc.held, rc.release
		rc.mu.Unlock()
		held <- id
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, header := http.StatusNoContent, http.Header(nil)
	if rc.respond != nil {
		status, header = rc.respond(r, n)
	}
	rc.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
}

// hold makes the receiver hold its n-th verified delivery: it is
// recorded, its webhook-id is sent on the returned channel, and it gets
// no answer until releaseHeld or until the sender goes away.
func (rc *receiver) hold(n int) <-chan string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.holdAt = n
	rc.held = make(chan string, 1)
	return rc.held
}

// releaseHeld lets a held delivery answer 204.
func (rc *receiver) releaseHeld() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	select {
	case <-rc.release:
	default:
		close(rc.release)
	}
}

// setRespond sets what the receiver answers to a verified delivery.
func (rc *receiver) setRespond(f func(r *http.Request, n int) (int, http.Header)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.respond = f
}

// deliveries returns the verified deliveries so far, in arrival order.
func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.log)
}

// snapshot returns the verified changes by webhook-id, and the problems
// seen: requests that failed verification, and a webhook-id that came
// with two different changes.
func (rc *receiver) snapshot() (map[string]changeData, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := map[string]changeData{}
	problems := slices.Clone(rc.problems)
	for _, d := range rc.log {
		if prev, ok := got[d.ID]; ok && !sameChange(prev, d.Data) {
			problems = append(problems, fmt.Sprintf("webhook-id %s carried two different changes: %+v and %+v", d.ID, prev, d.Data))
		}
		got[d.ID] = d.Data
	}
	return got, problems
}

func sameChange(a, b changeData) bool {
	return a.ID == b.ID && a.CustomerID == b.CustomerID && a.Seq == b.Seq && a.From == b.From &&
		a.To == b.To && a.At.Equal(b.At) && a.Cause == b.Cause
}

// TestSpecVerify: the specification's check accepts a delivery the shop
// sent and refuses it tampered, stale, or under another secret; so the
// receiver of the tests is not a check that passes everything.
func TestSpecVerify(t *testing.T) {
	rc := newReceiver(t)
	svc := start(t, "-db", ":memory:", "-webhook-url", rc.URL+"/hooks", "-webhook-secret", rc.secret)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	code, body := postJSON(t, svc.URL+"/v1/events", lifecycle.Event{ID: "v-1", CustomerID: "c42", Type: lifecycle.SiteVisited, Time: at})
	require.Equal(t, http.StatusAccepted, code, "%s", body)
	waitCaughtUp(t, svc.URL, svc.logs, time.Now())

	rc.mu.Lock()
	h, raw := rc.rawSample.header, rc.rawSample.body
	rc.mu.Unlock()
	require.NotNil(t, raw, "no delivery arrived")
	now := time.Now()
	require.NoError(t, specVerify(testSecret, h, raw, now))

	tampered := []byte(strings.Replace(string(raw), `"to":"reach"`, `"to":"loyalty"`, 1))
	require.NotEqual(t, raw, tampered)
	require.Error(t, specVerify(testSecret, h, tampered, now), "a tampered body")
	require.Error(t, specVerify(testSecret, h, raw, now.Add(6*time.Minute)), "a stale timestamp")
	require.Error(t, specVerify("whsec_b3RoZXIgc2VjcmV0LCBhbHNvIDMyIGJ5dGVzIGxvbmch", h, raw, now), "another secret")
	other := h.Clone()
	other.Set("webhook-id", "chg_0123")
	require.Error(t, specVerify(testSecret, other, raw, now), "another webhook-id")

	got, problems := rc.snapshot()
	require.Empty(t, problems)
	require.Len(t, got, 1)
	for id, d := range got {
		want := lifecycle.Change{CustomerID: "c42", Seq: 1, Transition: lifecycle.Transition{To: "reach", At: at, Cause: "v-1"}}
		require.Equal(t, want.ID(), id)
		require.Equal(t, changeData{ID: id, CustomerID: "c42", Seq: 1, To: "reach", At: at, Cause: "v-1"}, d)
	}
}
