// Package webhook delivers customers' stage changes to an HTTP endpoint:
// the signal a shop uses to send a post-purchase e-mail when a customer
// converts, or a win-back offer when a buyer lapses.
//
// A [Sender] is plugged into a tracker with [lifecycle.WithHook]:
//
//	s, err := webhook.New(url, secret)
//	...
//	t := lifecycle.NewTracker(m, st, lifecycle.WithHook(s.Hook))
//	...
//	defer s.Close(ctx) // delivers what is queued, within ctx
//
// The hook never blocks the request that recorded the event: it puts the
// change on a bounded queue (default 1024 changes) and returns. A pool of
// workers (default 4) takes changes off the queue and POSTs each one as
// JSON. A delivery succeeds on any 2xx answer. Network errors, time-outs
// and the answers 408, 425, 429 and 5xx are retried with exponential
// back-off and jitter, up to a maximum number of attempts (default 6); any
// other answer (a 4xx: the receiver refused the message) fails the delivery
// at once. A retried answer with a Retry-After header (delay-seconds or an
// HTTP date) makes the wait before the next attempt at least what it asks
// for, up to the back-off maximum (see [WithBackoff]).
//
// # Drop policy
//
// When the queue is full, or the Sender is closing, the new change is
// dropped: it is counted in [Stats].Dropped and logged at warning level,
// and the event that caused it stays recorded. Deliveries are a
// notification, not the source of truth: a receiver that must not miss a
// change reads the customer from the shop's API, and a dropped or failed
// change can be found in the customer's history.
//
// # Signature
//
// Every attempt carries three headers:
//
//	Clm-Webhook-Id:        the delivery ID, the same on every attempt
//	Clm-Webhook-Timestamp: Unix seconds when the attempt was signed
//	Clm-Webhook-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">
//
// The HMAC key is the shared secret. Receivers check them with [Verify],
// which also refuses timestamps too far from its clock so that a captured
// request cannot be replayed later.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Header names set on every delivery attempt.
const (
	HeaderID        = "Clm-Webhook-Id"
	HeaderTimestamp = "Clm-Webhook-Timestamp"
	HeaderSignature = "Clm-Webhook-Signature"
)

// EventStageChanged is the Type of every [Payload] a Sender delivers.
const EventStageChanged = "customer.stage_changed"

// Defaults of a [Sender]'s options.
const (
	DefaultQueueSize   = 1024
	DefaultWorkers     = 4
	DefaultMaxAttempts = 6
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
	DefaultTimeout     = 10 * time.Second
	// DefaultTolerance is how far a signed timestamp may be from the
	// receiver's clock, either way, before [Verify] refuses it.
	DefaultTolerance = 5 * time.Minute
)

// Sentinel errors.
var (
	// ErrConfig is wrapped by errors about a Sender's URL, secret or
	// options.
	ErrConfig = errors.New("webhook: invalid configuration")
	// ErrSignature is wrapped by every error [Verify] returns.
	ErrSignature = errors.New("webhook: invalid signature")
)

// Payload is the JSON body of a delivery.
type Payload struct {
	// ID identifies the change; it is the same on every attempt, so a
	// receiver can ignore a delivery it has already handled.
	ID string `json:"id"`
	// Type is always [EventStageChanged].
	Type       string    `json:"type"`
	CustomerID string    `json:"customer_id"`
	From       stage.ID  `json:"from"` // empty when the customer is new
	To         stage.ID  `json:"to"`
	At         time.Time `json:"at"`
	// Cause is the ID of the event that caused the change, empty for a
	// change caused by time passing (a sweep).
	Cause string `json:"cause,omitempty"`
}

// PayloadOf returns the payload a Sender delivers for a change. Its ID is
// "chg_" and 16 hex digits of a 64-bit FNV-1a hash of the customer ID, the
// stages and the time, so it is stable across retries and restarts.
func PayloadOf(ch lifecycle.Change) Payload {
	h := fnv.New64a()
	for _, s := range []string{ch.CustomerID, string(ch.From), string(ch.To), ch.At.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return Payload{
		ID:         fmt.Sprintf("chg_%016x", h.Sum64()),
		Type:       EventStageChanged,
		CustomerID: ch.CustomerID,
		From:       ch.From,
		To:         ch.To,
		At:         ch.At.UTC(),
		Cause:      ch.Cause,
	}
}

// Stats counts what a Sender has done since it was created.
type Stats struct {
	Enqueued  int64 `json:"enqueued"`  // changes accepted onto the queue
	Dropped   int64 `json:"dropped"`   // changes refused: queue full or Sender closing
	Delivered int64 `json:"delivered"` // deliveries answered with 2xx
	Failed    int64 `json:"failed"`    // deliveries given up: attempts exhausted, a 4xx, or Close's deadline
	Retries   int64 `json:"retries"`   // attempts after the first
	Queued    int64 `json:"queued"`    // changes waiting on the queue now
}

// Sleeper waits for d or until ctx is done, returning ctx's error in the
// latter case. The default uses a [time.Timer].
type Sleeper func(ctx context.Context, d time.Duration) error

// Option configures a [Sender].
type Option func(*Sender)

// WithClient sets the HTTP client (default: a client with no overall
// time-out; each attempt is bounded by [WithTimeout]).
func WithClient(c *http.Client) Option { return func(s *Sender) { s.client = c } }

// WithQueueSize sets how many changes may wait for delivery (default
// [DefaultQueueSize]); further changes are dropped.
func WithQueueSize(n int) Option { return func(s *Sender) { s.queueSize = n } }

// WithWorkers sets how many deliveries run at once (default
// [DefaultWorkers]).
func WithWorkers(n int) Option { return func(s *Sender) { s.workers = n } }

// WithMaxAttempts sets how many times a delivery is tried, the first
// included, before it is given up (default [DefaultMaxAttempts]).
func WithMaxAttempts(n int) Option { return func(s *Sender) { s.attempts = n } }

// WithBackoff sets the back-off between attempts. Before retry n (n = 1
// for the second attempt) the Sender waits a random time, uniform in
// [d/2, d), where d = min(base·2ⁿ⁻¹, max) (defaults [DefaultBaseDelay] and
// [DefaultMaxDelay]). A retried answer's Retry-After header lengthens the
// wait to what it asks for, but never beyond max.
func WithBackoff(base, max time.Duration) Option {
	return func(s *Sender) { s.base, s.max = base, max }
}

// WithTimeout bounds each attempt, from connecting to reading the answer
// (default [DefaultTimeout]).
func WithTimeout(d time.Duration) Option { return func(s *Sender) { s.timeout = d } }

// WithRand sets the source of the back-off jitter. The default is a PCG
// source seeded from the clock at construction, so that several instances
// of a service do not retry in step.
func WithRand(r *rand.Rand) Option { return func(s *Sender) { s.rng = r } }

// WithClock sets the clock that stamps each attempt (default [time.Now]).
func WithClock(now func() time.Time) Option { return func(s *Sender) { s.now = now } }

// WithSleeper replaces the timer that waits between attempts; tests use it
// to record the delays instead of waiting.
func WithSleeper(f Sleeper) Option { return func(s *Sender) { s.sleep = f } }

// WithLogger sets the logger for drops, retries and failures (default:
// discard).
func WithLogger(l *slog.Logger) Option { return func(s *Sender) { s.log = l } }

// Sender delivers stage changes to one URL. Create it with [New]; its
// methods are safe for concurrent use.
type Sender struct {
	url       string
	secret    []byte
	client    *http.Client
	queueSize int
	workers   int
	attempts  int
	base, max time.Duration
	timeout   time.Duration
	now       func() time.Time
	sleep     Sleeper
	log       *slog.Logger

	rngMu sync.Mutex
	rng   *rand.Rand

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan Payload

	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup

	enqueued, dropped, delivered, failed, retries atomic.Int64
}

// New returns a Sender that POSTs changes to rawURL (an absolute http or
// https URL), signed with secret (not empty), and starts its workers. Call
// [Sender.Close] to stop them. Errors wrap [ErrConfig].
func New(rawURL, secret string, opts ...Option) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: url %q: must be an absolute http or https URL", ErrConfig, rawURL)
	}
	if secret == "" {
		return nil, fmt.Errorf("%w: secret is empty: receivers could not verify deliveries", ErrConfig)
	}
	s := &Sender{
		url:       rawURL,
		secret:    []byte(secret),
		client:    &http.Client{},
		queueSize: DefaultQueueSize,
		workers:   DefaultWorkers,
		attempts:  DefaultMaxAttempts,
		base:      DefaultBaseDelay,
		max:       DefaultMaxDelay,
		timeout:   DefaultTimeout,
		now:       time.Now,
		sleep:     sleepTimer,
		log:       slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(s)
	}
	switch {
	case s.queueSize < 1:
		return nil, fmt.Errorf("%w: queue size %d: must be at least 1", ErrConfig, s.queueSize)
	case s.workers < 1:
		return nil, fmt.Errorf("%w: workers %d: must be at least 1", ErrConfig, s.workers)
	case s.attempts < 1:
		return nil, fmt.Errorf("%w: max attempts %d: must be at least 1", ErrConfig, s.attempts)
	case s.base <= 0 || s.max < s.base:
		return nil, fmt.Errorf("%w: back-off base %v, max %v: need 0 < base <= max", ErrConfig, s.base, s.max)
	case s.timeout <= 0:
		return nil, fmt.Errorf("%w: timeout %v: must be positive", ErrConfig, s.timeout)
	case s.client == nil || s.now == nil || s.sleep == nil || s.log == nil:
		return nil, fmt.Errorf("%w: nil client, clock, sleeper or logger", ErrConfig)
	}
	if s.rng == nil {
		seed := uint64(time.Now().UnixNano())
		s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	s.queue = make(chan Payload, s.queueSize)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range s.workers {
		s.wg.Add(1)
		go s.work()
	}
	return s, nil
}

// Hook is a [lifecycle.Hook]: it queues the change for delivery and returns
// at once. When the queue is full or the Sender is closing, it drops the
// change (see the package doc).
func (s *Sender) Hook(ctx context.Context, ch lifecycle.Change) {
	if !s.Enqueue(PayloadOf(ch)) {
		s.log.WarnContext(ctx, "webhook: change dropped", "customer", ch.CustomerID, "from", ch.From, "to", ch.To, "queued", len(s.queue), "capacity", cap(s.queue))
	}
}

// Enqueue queues a payload for delivery without blocking. It reports
// false, and counts a drop, when the queue is full or the Sender closing.
func (s *Sender) Enqueue(p Payload) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.closed {
		select {
		case s.queue <- p:
			s.enqueued.Add(1)
			return true
		default:
		}
	}
	s.dropped.Add(1)
	return false
}

// Stats returns the Sender's counters.
func (s *Sender) Stats() Stats {
	return Stats{
		Enqueued:  s.enqueued.Load(),
		Dropped:   s.dropped.Load(),
		Delivered: s.delivered.Load(),
		Failed:    s.failed.Load(),
		Retries:   s.retries.Load(),
		Queued:    int64(len(s.queue)),
	}
}

// Close stops accepting changes and waits until every queued change has
// been delivered or given up, or until ctx is done. In the latter case it
// cancels the deliveries in flight and the back-off waits, counts every
// change not delivered as failed, and returns an error wrapping ctx's
// error. Close is idempotent; later calls wait the same way.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	<-done // workers see the cancelled context and give up their changes
	return fmt.Errorf("webhook: close: gave up on undelivered changes: %w", ctx.Err())
}

func (s *Sender) work() {
	defer s.wg.Done()
	for p := range s.queue {
		if s.ctx.Err() != nil {
			s.failed.Add(1)
			continue
		}
		s.deliver(p)
	}
}

// deliver tries p up to the maximum number of attempts.
func (s *Sender) deliver(p Payload) {
	body, err := json.Marshal(p)
	if err != nil { // a Payload always marshals; keep the worker alive anyway
		s.failed.Add(1)
		s.log.Error("webhook: encoding payload", "id", p.ID, "err", err)
		return
	}
	for attempt := 1; ; attempt++ {
		retry, after, err := s.attempt(p.ID, body)
		if err == nil {
			s.delivered.Add(1)
			return
		}
		if !retry || attempt >= s.attempts {
			s.failed.Add(1)
			s.log.Error("webhook: delivery failed", "id", p.ID, "customer", p.CustomerID, "to", p.To, "attempts", attempt, "err", err)
			return
		}
		d := max(s.Backoff(attempt), min(after, s.max))
		s.log.Warn("webhook: delivery attempt failed, retrying", "id", p.ID, "attempt", attempt, "delay", d, "err", err)
		if err := s.sleep(s.ctx, d); err != nil {
			s.failed.Add(1)
			s.log.Error("webhook: delivery abandoned at shutdown", "id", p.ID, "customer", p.CustomerID, "attempts", attempt)
			return
		}
		s.retries.Add(1)
	}
}

// attempt POSTs once; it reports whether a failure may be retried and,
// for a retried answer, the wait its Retry-After header asks for (0 when
// none).
func (s *Sender) attempt(id string, body []byte) (retry bool, after time.Duration, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "clm-webhook/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(s.secret, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		return true, 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, 0, nil
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return true, RetryAfter(resp.Header, s.now()), fmt.Errorf("receiver answered %s", resp.Status)
	default:
		return false, 0, fmt.Errorf("receiver refused the delivery: %s", resp.Status)
	}
}

// RetryAfter returns the wait an answer's Retry-After header asks for, at
// now: its delay-seconds, or the time from now to its HTTP date. It is 0
// when the header is absent, malformed or names a time already past, and
// the longest Duration for more seconds than a Duration holds.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	switch secs, err := strconv.ParseUint(v, 10, 64); {
	case errors.Is(err, strconv.ErrRange), err == nil && secs > math.MaxInt64/uint64(time.Second):
		return math.MaxInt64 // digits only, but more seconds than a Duration holds
	case err == nil:
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// Backoff returns the wait before retry n (n ≥ 1), as described at
// [WithBackoff]. It draws from the Sender's random source.
func (s *Sender) Backoff(n int) time.Duration {
	d := s.base
	for i := 1; i < n && d < s.max; i++ {
		d *= 2
		if d <= 0 { // wrapped around: d was above half the longest Duration
			d = s.max
		}
	}
	d = min(d, s.max)
	half := d / 2
	if d-half <= 0 {
		return d
	}
	s.rngMu.Lock()
	j := time.Duration(s.rng.Int64N(int64(d - half)))
	s.rngMu.Unlock()
	return half + j
}

func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sign returns the value of the [HeaderSignature] header for a body signed
// at the given timestamp (Unix seconds, as in [HeaderTimestamp]): "v1="
// followed by the hex HMAC-SHA256, keyed with secret, of the timestamp, a
// dot and the body.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as a receiver gets it: the signature in h must
// be the one [Sign] gives for body under secret, and the timestamp must be
// within tolerance of now, either way (use [DefaultTolerance]). Errors wrap
// [ErrSignature]. Receivers must verify the body bytes exactly as received,
// before decoding them.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sig := h.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return fmt.Errorf("%w: missing %s or %s header", ErrSignature, HeaderTimestamp, HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrSignature, HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is %v away from now, more than the %v allowed", ErrSignature, ts, d.Round(time.Second), tolerance)
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("%w: signature does not match the body", ErrSignature)
	}
	return nil
}
