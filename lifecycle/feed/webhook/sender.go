package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/stage"
)

// EventStageChanged is the type of every message a [Sender] delivers.
const EventStageChanged = "customer.stage_changed"

// DefaultTimeout bounds one delivery attempt unless [WithTimeout] says
// otherwise (the specification recommends 15 to 30 seconds).
const DefaultTimeout = 15 * time.Second

// MaxRetryAfter caps the wait a Retry-After header may ask for: a longer
// one (or an HTTP date further away) counts as this.
const MaxRetryAfter = time.Hour

// maxDrain is how much of a response body a Sender reads before closing
// it (reading it lets the connection be reused).
const maxDrain = 64 << 10

// Payload is the JSON body of every message:
//
//	{"type":"customer.stage_changed","timestamp":"2026-03-01T10:00:00Z",
//	 "data":{"id":"chg_…","customer_id":"c42","seq":2,"from":"reach",
//	         "to":"acquisition","at":"2026-03-01T10:00:00Z","cause":"s-1"}}
//
// A change's body is the same on every attempt (only the
// webhook-timestamp header and the signature change).
type Payload struct {
	// Type is always [EventStageChanged].
	Type string `json:"type"`
	// Timestamp is when the change happened: the transition's At (the
	// time the customer was classified at, that of the latest event or
	// sweep applied or of the latest referral credit when later
	// ([lifecycle.Customer.ClassifiedAt]), or the start of the stage left
	// when that is later still: see [lifecycle.Tracker]; not the time of
	// delivery), in UTC.
	Timestamp time.Time `json:"timestamp"`
	// Data is the change.
	Data Data `json:"data"`
}

// Data describes one stage change.
type Data struct {
	// ID is the change's identity ([lifecycle.Change.ID]), also sent as
	// webhook-id: the same for every delivery of the change, different
	// for every other change. Deduplicate by it.
	ID string `json:"id"`
	// CustomerID is the customer whose stage changed.
	CustomerID string `json:"customer_id"`
	// Seq is the change's position in the customer's history, from 1: of
	// two changes of one customer, the higher Seq is the later.
	Seq uint64 `json:"seq"`
	// From is the stage left (empty for a customer's first stage), and To
	// the stage entered.
	From stage.ID `json:"from"`
	To   stage.ID `json:"to"`
	// At is when the customer changed stage (the transition's At: see
	// Payload.Timestamp), in UTC; the same as
	// Payload.Timestamp.
	At time.Time `json:"at"`
	// Cause is the ID of the event that caused the change; absent when
	// time alone did (a sweep).
	Cause string `json:"cause,omitempty"`
}

// NewPayload returns the message a Sender delivers for ch.
func NewPayload(ch lifecycle.Change) Payload {
	at := ch.At.UTC()
	return Payload{
		Type:      EventStageChanged,
		Timestamp: at,
		Data: Data{
			ID:         ch.ID(),
			CustomerID: ch.CustomerID,
			Seq:        ch.Seq,
			From:       ch.From,
			To:         ch.To,
			At:         at,
			Cause:      ch.Cause,
		},
	}
}

// StatusError is a delivery the receiver answered with a status other
// than 2xx.
type StatusError struct {
	// URL is the endpoint, its password (if any) redacted.
	URL string
	// StatusCode is the HTTP status the receiver answered.
	StatusCode int
	// Location is the Location header of a redirect (3xx), which a Sender
	// does not follow.
	Location string
}

// Error says which endpoint answered what.
func (e *StatusError) Error() string {
	msg := "webhook: POST " + e.URL + ": " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
	switch {
	case e.StatusCode == http.StatusGone:
		msg += " (the receiver wants no more deliveries)"
	case e.StatusCode >= 300 && e.StatusCode < 400:
		msg += " (redirect to " + strconv.Quote(clip.String(e.Location)) + " not followed: update the endpoint's URL)"
	}
	return msg
}

// Unwrap returns [ErrGone] for a 410 Gone, nil otherwise.
func (e *StatusError) Unwrap() error {
	if e.StatusCode == http.StatusGone {
		return ErrGone
	}
	return nil
}

// ErrGone is wrapped by the error of a delivery the receiver answered
// with 410 Gone.
var ErrGone = errors.New("webhook: endpoint gone")

// config holds what the options set.
type config struct {
	client  *http.Client
	now     func() time.Time
	timeout time.Duration
}

// Option configures a [Sender]; [New] ignores a nil Option and refuses a
// value out of range.
type Option func(*config)

// WithClient sets the HTTP client (default, and when c is nil: a client
// with [http.DefaultTransport]). The Sender uses a copy whose
// CheckRedirect refuses to follow redirects; c itself is not changed.
func WithClient(c *http.Client) Option {
	return func(cfg *config) { cfg.client = c }
}

// WithClock sets the clock that stamps webhook-timestamp and reads
// Retry-After dates (default, and when now is nil: [time.Now]).
func WithClock(now func() time.Time) Option {
	return func(cfg *config) { cfg.now = now }
}

// WithTimeout bounds each delivery attempt: sending the request,
// waiting for the answer and reading what is read of its body (default
// [DefaultTimeout]). New refuses
// d ≤ 0. Keep it well within the dispatcher's lease (feed.WithLease).
func WithTimeout(d time.Duration) Option {
	return func(cfg *config) { cfg.timeout = d }
}

// Sender delivers stage changes to one HTTP endpoint, signed on the
// Standard Webhooks convention. Its [Sender.Deliver] is a [feed.Handler].
// A Sender is safe for concurrent use.
type Sender struct {
	url     string // as given, for requests
	shown   string // for messages: password redacted
	key     []byte
	client  *http.Client
	now     func() time.Time
	timeout time.Duration
}

// New returns a Sender that POSTs to rawURL, an absolute http or https
// URL with a host (and one port from 1 to 65535, if it names one), signing
// with secret ("whsec_" and the base64 of a 24- to 64-byte
// key: see [NewSecret]). Errors wrap [ErrInvalid] and name the argument;
// they never show the secret, nor the URL's password. Nil options are
// ignored.
func New(rawURL, secret string, opts ...Option) (*Sender, error) {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		red, had := redactRaw(rawURL)
		if had {
			// The parser's reason may quote part of the password (as a
			// port, or an escape): leave it out.
			return nil, fmt.Errorf("%w: url %q: not a valid URL", ErrInvalid, clip.String(red))
		}
		return nil, fmt.Errorf("%w: url %q: %v", ErrInvalid, clip.String(red), unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: url %q: must be an absolute http or https URL", ErrInvalid, clip.String(redacted(u)))
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: url %q: has no host", ErrInvalid, clip.String(redacted(u)))
	case !strings.HasPrefix(u.Host, "[") && strings.Contains(u.Hostname(), ":"):
		return nil, fmt.Errorf("%w: url %q: host %q has more than one port", ErrInvalid, clip.String(redacted(u)), clip.String(u.Host))
	case !validPort(u.Port()):
		return nil, fmt.Errorf("%w: url %q: port %q is not 1 to 65535", ErrInvalid, clip.String(redacted(u)), u.Port())
	}
	key, err := parseSecret(secret)
	if err != nil {
		return nil, err
	}
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.timeout <= 0 {
		return nil, fmt.Errorf("%w: WithTimeout %s: must be positive", ErrInvalid, cfg.timeout)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	client := &http.Client{}
	if cfg.client != nil {
		c := *cfg.client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Sender{
		url:     rawURL,
		shown:   u.Redacted(),
		key:     key,
		client:  client,
		now:     cfg.now,
		timeout: cfg.timeout,
	}, nil
}

// redactRaw returns a URL that did not parse with what may be the
// password of its user information written "xxxxx", as url.URL.Redacted
// does, and whether it may have had one. Since the URL did not parse, a
// password may hold '/', '?' or '#': everything from the first ':' after
// "://" to the last '@' is taken for it (too much, at worst, of a URL
// that is wrong anyway).
func redactRaw(raw string) (string, bool) {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw, false
	}
	start := len(raw) - len(rest)
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw, false
	}
	colon := strings.Index(rest[:at], ":")
	if colon < 0 {
		return raw, true
	}
	return raw[:start+colon+1] + "xxxxx" + raw[start+at:], true
}

// redacted is u.Redacted, which shows a URL with no host as it is
// ("http:user:pw@host/", "http:/user:pw@host/x": the parser takes the user
// information for an opaque part or a path), with all between the scheme
// and the last '@' of such a URL written "xxxxx".
func redacted(u *url.URL) string {
	if u.Host == "" {
		if s := u.String(); strings.Contains(s, "@") {
			return u.Scheme + ":xxxxx" + s[strings.LastIndex(s, "@"):]
		}
	}
	return u.Redacted()
}

// unwrapURLError returns the reason inside a *url.Error (whose message
// repeats the URL).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// URL returns the endpoint, its password (if any) redacted.
func (s *Sender) URL() string {
	if s == nil {
		return ""
	}
	return s.shown
}

// Deliver POSTs ch to the endpoint as a JSON [Payload] with the headers
// webhook-id (ch's [lifecycle.Change.ID]), webhook-timestamp (now, in Unix
// seconds) and webhook-signature, and Content-Type application/json. It is
// a [feed.Handler]; its result tells the dispatcher what to do:
//
//   - 2xx: nil, delivered.
//   - 410 Gone: a [feed.Stop] error wrapping a [*StatusError] (and
//     [ErrGone]) that names the URL: the receiver wants no more, and the
//     dispatcher stops before this change.
//   - 429 Too Many Requests and 503 Service Unavailable with a valid
//     Retry-After (delta-seconds or an HTTP date; capped at
//     [MaxRetryAfter]): a [feed.RetryAfter] error wrapping a
//     [*StatusError].
//   - A redirect (3xx) is not followed: it is a failure, a
//     [*StatusError] with the Location; the change is tried again later.
//   - Any other status: a [*StatusError]; a transport error or a
//     time-out ([WithTimeout]): that error. Both are tried again.
//   - A change JSON cannot hold (a time outside the years 0–9999, which
//     the Tracker never records but a store's Put may hold): a
//     [feed.Stop] error naming it, sent nowhere; retrying could not send
//     it, and the dispatcher stops before it instead of retrying for ever.
//
// It reads at most 64 KiB of the answer's body, then closes it. It
// honours ctx.
func (s *Sender) Deliver(ctx context.Context, ch lifecycle.Change) error {
	if s == nil {
		return fmt.Errorf("%w: nil *Sender", ErrInvalid)
	}
	if s.now == nil {
		return fmt.Errorf("%w: a Sender not made by New", ErrInvalid)
	}
	if ctx == nil {
		return fmt.Errorf("%w: nil context: %w", ErrInvalid, lifecycle.ErrNilContext)
	}
	body, err := json.Marshal(NewPayload(ch))
	if err != nil { // a time outside years 0–9999: no retry can send it
		return feed.Stop(fmt.Errorf("webhook: change %s of customer %q cannot be encoded: %w", ch.ID(), ch.CustomerID, err))
	}
	id := ch.ID()
	ts := strconv.FormatInt(s.now().Unix(), 10)

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %s: %w", s.shown, unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "clm-webhook")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, signature(s.key, id, ts, body))

	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: deliver %s: %w", id, err)
	}
	// The body is closed when ctx ends, so that the drain below stops at
	// the time-out too: the body of a 101 Switching Protocols answer is
	// the connection itself, which the request's context does not close,
	// nor may a WithClient transport's. (Deferred first, it runs last.)
	defer context.AfterFunc(ctx, func() { _ = resp.Body.Close() })()
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
	}()
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	se := &StatusError{URL: s.shown, StatusCode: code}
	switch {
	case code >= 300 && code < 400:
		se.Location = resp.Header.Get("Location")
	case code == http.StatusGone:
		return feed.Stop(se)
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), s.now()); ok {
			return feed.RetryAfter(d, se)
		}
	}
	return se
}

// parseRetryAfter reads a Retry-After value: delta-seconds or an HTTP
// date (a date in the past means 0). The wait is capped at
// MaxRetryAfter. ok is false for an absent or malformed value.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(MaxRetryAfter/time.Second) { // too many digits even for uint64: absurd too
			return MaxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter), true
}

// validPort reports whether port, the port of a URL (empty: the scheme's
// own), is one a connection can be made to.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}
