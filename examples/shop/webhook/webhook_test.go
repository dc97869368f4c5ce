package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

var (
	testSecret = []byte("s3cret")
	testNow    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testChange = lifecycle.Change{CustomerID: "c42", Transition: lifecycle.Transition{From: "acquisition", To: "conversion", At: testNow.Add(-time.Hour), Cause: "ord-1001"}}
)

// receiver is an httptest server that verifies every request and answers
// with the next status from a script (the last one repeats).
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	script  []int
	got     []Payload
	ids     []string
	badSigs int
	block   chan struct{} // when non-nil, each request waits for a value
	arrived chan struct{} // when non-nil, gets a value when a request arrives
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{t: t, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.arrived != nil {
		r.arrived <- struct{}{}
	}
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := Verify(testSecret, req.Header, body, testNow, DefaultTolerance); err != nil {
		r.badSigs++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, p)
	r.ids = append(r.ids, req.Header.Get(HeaderID))
	code := r.script[0]
	if len(r.script) > 1 {
		r.script = r.script[1:]
	}
	w.WriteHeader(code)
}

// sleeps records back-off waits without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newSender(t *testing.T, url string, opts ...Option) *Sender {
	t.Helper()
	base := []Option{
		WithClock(func() time.Time { return testNow }),
		WithRand(rand.New(rand.NewPCG(1, 2))),
	}
	s, err := New(url, string(testSecret), append(base, opts...)...)
	require.NoError(t, err)
	return s
}

func TestRetryThenSuccess(t *testing.T) {
	r := newReceiver(t, 503, 500, 429, 200)
	var sl sleeps
	s := newSender(t, r.srv.URL, WithSleeper(sl.sleep), WithBackoff(time.Second, 3*time.Second))
	s.Hook(context.Background(), testChange)
	require.NoError(t, s.Close(context.Background()))

	want := PayloadOf(testChange)
	require.Len(t, r.got, 4, "one request per attempt")
	for i, p := range r.got {
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("attempt %d payload (-want +got):\n%s", i+1, diff)
		}
		if r.ids[i] != want.ID {
			t.Errorf("attempt %d: %s = %q, want %q", i+1, HeaderID, r.ids[i], want.ID)
		}
	}
	if r.badSigs != 0 {
		t.Errorf("%d requests failed signature verification", r.badSigs)
	}
	if diff := cmp.Diff(Stats{Enqueued: 1, Delivered: 1, Retries: 3}, s.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	// Waits before retries 1, 2, 3: d = 1s, 2s, 3s (capped); each in [d/2, d).
	require.Len(t, sl.d, 3)
	for i, d := range sl.d {
		full := min(time.Second<<i, 3*time.Second)
		if d < full/2 || d >= full {
			t.Errorf("wait before retry %d = %v, want in [%v, %v)", i+1, d, full/2, full)
		}
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		script   []int
		attempts int
		want     Stats
		requests int
	}{
		{"4xx is not retried", []int{400}, 5, Stats{Enqueued: 1, Failed: 1}, 1},
		{"410 is not retried", []int{410}, 5, Stats{Enqueued: 1, Failed: 1}, 1},
		{"attempts exhausted", []int{500}, 3, Stats{Enqueued: 1, Failed: 1, Retries: 2}, 3},
		{"one attempt only", []int{502}, 1, Stats{Enqueued: 1, Failed: 1}, 1},
		{"408 is retried", []int{408, 204}, 3, Stats{Enqueued: 1, Delivered: 1, Retries: 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, tc.script...)
			var sl sleeps
			s := newSender(t, r.srv.URL, WithSleeper(sl.sleep), WithMaxAttempts(tc.attempts))
			s.Hook(context.Background(), testChange)
			require.NoError(t, s.Close(context.Background()))
			if diff := cmp.Diff(tc.want, s.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if len(r.got) != tc.requests {
				t.Errorf("receiver got %d requests, want %d", len(r.got), tc.requests)
			}
		})
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	r := newReceiver(t, 200)
	s, err := New(r.srv.URL, "another secret", WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	s.Hook(context.Background(), testChange)
	require.NoError(t, s.Close(context.Background()))
	if r.badSigs != 1 || len(r.got) != 0 {
		t.Errorf("bad signatures %d, accepted %d; want 1 and 0", r.badSigs, len(r.got))
	}
	if got := s.Stats().Failed; got != 1 {
		t.Errorf("Failed = %d, want 1 (a 401 is not retried)", got)
	}
}

func TestFullQueueDrops(t *testing.T) {
	r := newReceiver(t, 200)
	r.block = make(chan struct{})
	r.arrived = make(chan struct{}, 16)
	s := newSender(t, r.srv.URL, WithWorkers(1), WithQueueSize(2))
	ctx := context.Background()
	s.Hook(ctx, change("c1"))
	<-r.arrived // the worker holds c1 in flight; the queue is empty
	s.Hook(ctx, change("c2"))
	s.Hook(ctx, change("c3")) // queue full now
	s.Hook(ctx, change("c4")) // dropped
	s.Hook(ctx, change("c5")) // dropped
	st := s.Stats()
	if diff := cmp.Diff(Stats{Enqueued: 3, Dropped: 2, Queued: 2}, st); diff != "" {
		t.Errorf("stats with a full queue (-want +got):\n%s", diff)
	}
	go func() {
		for range 3 {
			r.block <- struct{}{}
		}
	}()
	require.NoError(t, s.Close(ctx))
	s.Hook(ctx, change("c6")) // after Close: dropped
	if diff := cmp.Diff(Stats{Enqueued: 3, Dropped: 3, Delivered: 3}, s.Stats()); diff != "" {
		t.Errorf("stats after drain (-want +got):\n%s", diff)
	}
	var got []string
	for _, p := range r.got {
		got = append(got, p.CustomerID)
	}
	if diff := cmp.Diff([]string{"c1", "c2", "c3"}, got); diff != "" {
		t.Errorf("delivered customers, in order (-want +got):\n%s", diff)
	}
}

func TestCloseDeadlineGivesUp(t *testing.T) {
	r := newReceiver(t, 500)
	// The default sleeper really waits (1 h here), so only Close's deadline
	// can end the deliveries.
	s := newSender(t, r.srv.URL, WithWorkers(1), WithBackoff(time.Hour, time.Hour))
	for _, id := range []string{"c1", "c2", "c3"} {
		s.Hook(context.Background(), change(id))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	if diff := cmp.Diff(Stats{Enqueued: 3, Failed: 3}, s.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	require.NoError(t, s.Close(context.Background()), "a second Close after the workers ended")
}

// TestBackoffFakeTime runs the real timer-based back-off under synctest's
// fake clock, with an in-memory transport, so no time passes for real.
func TestBackoffFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Time
		tr := roundTripper(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
			code := http.StatusServiceUnavailable
			if len(at) == 4 {
				code = http.StatusOK
			}
			return &http.Response{StatusCode: code, Status: strconv.Itoa(code), Body: http.NoBody, Header: http.Header{}}, nil
		})
		s, err := New("https://hooks.example.com/clm", "k",
			WithClient(&http.Client{Transport: tr}),
			WithRand(rand.New(rand.NewPCG(7, 8))),
			WithBackoff(2*time.Second, time.Minute))
		require.NoError(t, err)
		start := time.Now()
		s.Hook(context.Background(), testChange)
		require.NoError(t, s.Close(context.Background()))

		twin, _ := New("https://x.example", "k", WithRand(rand.New(rand.NewPCG(7, 8))), WithBackoff(2*time.Second, time.Minute))
		defer twin.Close(context.Background())
		want := []time.Duration{0}
		for n := 1; n <= 3; n++ {
			want = append(want, want[n-1]+twin.Backoff(n))
		}
		var got []time.Duration
		for _, a := range at {
			got = append(got, a.Sub(start))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("attempt times after enqueue (-want +got):\n%s", diff)
		}
		if st := s.Stats(); st.Delivered != 1 || st.Retries != 3 {
			t.Errorf("stats %+v, want 1 delivered after 3 retries", st)
		}
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBackoffBounds(t *testing.T) {
	s := newSender(t, "http://127.0.0.1:1/", WithBackoff(100*time.Millisecond, 5*time.Second))
	defer s.Close(context.Background())
	for n := 1; n <= 70; n++ {
		full := 5 * time.Second
		if n <= 6 {
			full = min(100*time.Millisecond<<(n-1), full)
		}
		for range 20 {
			if d := s.Backoff(n); d < full/2 || d >= full {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v)", n, d, full/2, full)
			}
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"chg_1"}`)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	good := http.Header{}
	good.Set(HeaderTimestamp, ts)
	good.Set(HeaderSignature, Sign(testSecret, ts, body))
	with := func(k, v string) http.Header {
		h := good.Clone()
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
		return h
	}
	tests := []struct {
		name   string
		h      http.Header
		body   []byte
		secret []byte
		now    time.Time
		ok     bool
	}{
		{"valid", good, body, testSecret, testNow, true},
		{"valid at the edge of tolerance", good, body, testSecret, testNow.Add(DefaultTolerance), true},
		{"body changed", good, []byte(`{"id":"chg_2"}`), testSecret, testNow, false},
		{"wrong secret", good, body, []byte("other"), testNow, false},
		{"replayed later", good, body, testSecret, testNow.Add(DefaultTolerance + time.Second), false},
		{"from the future", good, body, testSecret, testNow.Add(-DefaultTolerance - time.Second), false},
		{"timestamp changed", with(HeaderTimestamp, strconv.FormatInt(testNow.Unix()+1, 10)), body, testSecret, testNow, false},
		{"timestamp not a number", with(HeaderTimestamp, "yesterday"), body, testSecret, testNow, false},
		{"no timestamp", with(HeaderTimestamp, ""), body, testSecret, testNow, false},
		{"no signature", with(HeaderSignature, ""), body, testSecret, testNow, false},
		{"signature without version", with(HeaderSignature, Sign(testSecret, ts, body)[3:]), body, testSecret, testNow, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.h, tc.body, tc.now, DefaultTolerance)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrSignature)
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name, url, secret string
		opts              []Option
	}{
		{"relative url", "/hooks", "k", nil},
		{"ftp url", "ftp://example.com/x", "k", nil},
		{"no host", "http://", "k", nil},
		{"unparsable url", "http://[::1", "k", nil},
		{"empty secret", "https://example.com/x", "", nil},
		{"zero queue", "https://example.com/x", "k", []Option{WithQueueSize(0)}},
		{"zero workers", "https://example.com/x", "k", []Option{WithWorkers(0)}},
		{"zero attempts", "https://example.com/x", "k", []Option{WithMaxAttempts(0)}},
		{"max below base", "https://example.com/x", "k", []Option{WithBackoff(time.Second, time.Millisecond)}},
		{"zero timeout", "https://example.com/x", "k", []Option{WithTimeout(0)}},
		{"nil client", "https://example.com/x", "k", []Option{WithClient(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.url, tc.secret, tc.opts...)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New(%q) error = %v, want ErrConfig", tc.url, err)
			}
			if s != nil {
				t.Error("New returned a Sender with its error")
			}
		})
	}
}

func TestPayloadID(t *testing.T) {
	a := PayloadOf(testChange)
	b := PayloadOf(testChange)
	if a.ID != b.ID {
		t.Fatalf("payload ID not stable: %q vs %q", a.ID, b.ID)
	}
	other := testChange
	other.To = "retention"
	if PayloadOf(other).ID == a.ID {
		t.Errorf("different changes share the ID %q", a.ID)
	}
}

func change(customer string) lifecycle.Change {
	c := testChange
	c.CustomerID = customer
	return c
}

// A retried answer's Retry-After (seconds or an HTTP date) sets the least
// wait before the next attempt, capped at the back-off maximum; a
// malformed one is ignored.
func TestRetryAfter(t *testing.T) {
	answers := []struct {
		code  int
		after string
	}{
		{http.StatusTooManyRequests, "7"},
		{http.StatusServiceUnavailable, testNow.Add(20 * time.Second).Format(http.TimeFormat)},
		{http.StatusServiceUnavailable, "999999999999999999999"},
		{http.StatusServiceUnavailable, "soon"},
		{http.StatusOK, ""},
	}
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		a := answers[min(n, len(answers)-1)]
		n++
		mu.Unlock()
		if a.after != "" {
			w.Header().Set("Retry-After", a.after)
		}
		w.WriteHeader(a.code)
	}))
	t.Cleanup(srv.Close)
	var sl sleeps
	s := newSender(t, srv.URL, WithSleeper(sl.sleep), WithBackoff(time.Second, 30*time.Second))
	s.Hook(context.Background(), testChange)
	require.NoError(t, s.Close(context.Background()))
	require.Equal(t, Stats{Enqueued: 1, Delivered: 1, Retries: 4}, s.Stats())
	require.Len(t, sl.d, 4)
	require.Equal(t, 7*time.Second, sl.d[0], "Retry-After: 7")
	require.Equal(t, 20*time.Second, sl.d[1], "Retry-After: a date 20 s ahead")
	require.Equal(t, 30*time.Second, sl.d[2], "a huge Retry-After is capped at the back-off maximum")
	require.GreaterOrEqual(t, sl.d[3], 4*time.Second, "a malformed Retry-After leaves the back-off")
	require.Less(t, sl.d[3], 8*time.Second)
}

func TestRetryAfterParse(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{" 120 ", 2 * time.Minute},
		{"-5", 0},
		{"1.5", 0},
		{testNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{testNow.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"99999999999999999999", time.Duration(math.MaxInt64)}, // beyond uint64
		{"18446744073709551615", time.Duration(math.MaxInt64)},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		require.Equal(t, tc.want, RetryAfter(h, testNow), "Retry-After %q", tc.v)
	}
}

// TestBackoffNoOverflow: base·2ⁿ⁻¹ can wrap around int64 to a small
// positive number for a large base; the wait must still be capped at
// max, never drop back to a few milliseconds.
func TestBackoffNoOverflow(t *testing.T) {
	base, max := time.Duration(1<<40+1), time.Duration(1<<42)
	s := newSender(t, "http://127.0.0.1:1/", WithBackoff(base, max))
	for n := 1; n <= 70; n++ {
		full := max
		if n <= 2 {
			full = base << (n - 1)
		}
		if d := s.Backoff(n); d < full/2 || d >= full {
			t.Fatalf("Backoff(%d) = %v, want in [%v, %v)", n, d, full/2, full)
		}
	}
}

// TestDocPayloadExample: the payload shown in docs/shop.md is what
// PayloadOf gives for its change, ID included.
func TestDocPayloadExample(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/shop.md")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("docs/shop.md not found: not inside the clm repository")
	}
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)\{"id": "chg_[^}]*\}`).Find(doc)
	require.NotNil(t, m, "docs/shop.md shows a payload")
	var p Payload
	require.NoError(t, json.Unmarshal(m, &p), "%s", m)
	got := PayloadOf(lifecycle.Change{CustomerID: p.CustomerID, Transition: lifecycle.Transition{From: p.From, To: p.To, At: p.At, Cause: p.Cause}})
	require.Equal(t, got, p, "docs/shop.md's payload vs. PayloadOf of its change")
}
