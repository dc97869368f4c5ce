package webhook

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/internal/clip"
)

// Header names (Standard Webhooks). Go's [http.Header] writes them
// canonicalised (Webhook-Id); header names are case-insensitive.
const (
	// HeaderID carries the message ID: the change's [lifecycle.Change.ID],
	// the same on every attempt to deliver it.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the time of the attempt, in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries the signatures, space-separated, each
	// "v1," and the base64 HMAC-SHA256 of id.timestamp.body.
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret: a secret is written "whsec_" and the
// standard base64 of the key bytes.
const SecretPrefix = "whsec_"

// Key sizes the Standard Webhooks specification allows for HMAC-SHA256
// secrets, in bytes.
const (
	MinKeyBytes = 24
	MaxKeyBytes = 64
)

// DefaultTolerance is how far a timestamp may be from the receiver's
// clock, either way, when [Verify] is given a tolerance ≤ 0.
const DefaultTolerance = 5 * time.Minute

// Sentinel errors; test with [errors.Is].
var (
	// ErrInvalid is wrapped by errors about a bad argument: a URL that is
	// not absolute http or https or whose port is not 1 to 65535, a
	// malformed secret, an option out of range, a nil Sender or context
	// (which also wraps [lifecycle.ErrNilContext]), a Sender not made by
	// [New].
	ErrInvalid = errors.New("webhook: invalid argument")
	// ErrHeader is wrapped by [Verify]'s errors about a missing or
	// malformed webhook-id, webhook-timestamp or webhook-signature.
	ErrHeader = errors.New("webhook: missing or malformed header")
	// ErrTimestamp is wrapped by [Verify]'s error for a timestamp too far
	// from the receiver's clock (a replay, or clocks that disagree).
	ErrTimestamp = errors.New("webhook: timestamp out of tolerance")
	// ErrSignature is wrapped by [Verify]'s error when no v1 signature
	// matches: a tampered message, or the wrong secret.
	ErrSignature = errors.New("webhook: no matching signature")
)

// NewSecret returns a new secret: "whsec_" and the base64 of 32 bytes
// read from r (crypto/rand's reader when r is nil). Give it to the
// receiver, out of band, and to [New].
func NewSecret(r io.Reader) (string, error) {
	if r == nil {
		r = crand.Reader
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(r, key); err != nil {
		return "", fmt.Errorf("webhook: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// parseSecret returns the key of a secret. Its errors never show the
// secret: a secret must not reach logs.
func parseSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: secret (%d characters, not shown) must start with %q", ErrInvalid, len(secret), SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(rest) // padding left out
	}
	if err != nil {
		return nil, fmt.Errorf("%w: secret %q… (%d characters, rest not shown) is not %q and standard base64", ErrInvalid, SecretPrefix, len(secret), SecretPrefix)
	}
	if len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return nil, fmt.Errorf("%w: secret %q… (not shown) holds a %d-byte key; the Standard Webhooks specification asks for %d to %d bytes (NewSecret makes 32)",
			ErrInvalid, SecretPrefix, len(key), MinKeyBytes, MaxKeyBytes)
	}
	return key, nil
}

// mac returns the HMAC-SHA256 of id.timestamp.body under key.
func mac(key []byte, id, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// signature returns the webhook-signature value for one key.
func signature(key []byte, id, timestamp string, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body))
}

// Sign returns the webhook-signature value ("v1," and the base64
// HMAC-SHA256 of id.timestamp.body, the timestamp in Unix seconds) that
// a sender with this secret puts on a message; for a receiver's tests.
// Its error wraps [ErrInvalid] for a malformed secret.
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := parseSecret(secret)
	if err != nil {
		return "", err
	}
	return signature(key, id, strconv.FormatInt(timestamp.Unix(), 10), body), nil
}

// Verify checks a message received with headers h and body body, as the
// Standard Webhooks specification says a receiver does: the
// webhook-timestamp, Unix seconds written as [Sign] writes them (a
// decimal integer with no '+', space or leading zero: a malformed header
// otherwise), must be within tolerance
// of now, either way
// (DefaultTolerance, 5 minutes, when tolerance ≤ 0), and one of the
// space-separated "v1," signatures in webhook-signature must be the
// HMAC-SHA256, under the secret's key, of the webhook-id, ".", the
// webhook-timestamp, "." and the body, in padded standard base64 whose
// unused last bits are zero, as [Sign] writes it (compared in constant time;
// signatures of other schemes, such as "v1a,", are skipped). body must be
// the bytes received, not JSON decoded and encoded again. Header names
// are matched whatever their case: h may hold them as a map literal does
// ("webhook-id"); a name held under several spellings, none of them
// canonical, is read from those keys in byte order.
//
// It returns nil for a genuine, fresh message, and otherwise an error
// wrapping [ErrHeader], [ErrTimestamp], [ErrSignature], or [ErrInvalid]
// for a malformed secret. A receiver answers a refused message with a 4xx
// status and does not act on it; it deduplicates accepted messages by
// webhook-id, which repeats when a message is delivered again.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := parseSecret(secret)
	if err != nil {
		return err
	}
	id, ts := header(h, HeaderID), header(h, HeaderTimestamp)
	sigs := strings.Join(headerValues(h, HeaderSignature), " ")
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is missing", ErrHeader, HeaderID)
	case ts == "":
		return fmt.Errorf("%w: %s is missing", ErrHeader, HeaderTimestamp)
	case strings.TrimSpace(sigs) == "":
		return fmt.Errorf("%w: %s is missing", ErrHeader, HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strconv.FormatInt(sec, 10) != ts {
		return fmt.Errorf("%w: %s %q is not Unix seconds as a sender writes them (a decimal integer, no '+', space or leading zero)", ErrHeader, HeaderTimestamp, clip.String(ts))
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if !within(now, sec, tolerance) {
		then := time.Unix(sec, 0)
		d, side := now.Sub(then), "old"
		if then.After(now) {
			d, side = then.Sub(now), "in the future"
		}
		age := d.Round(time.Second).String()
		if d == math.MaxInt64 { // (Sub saturates: some 292 years or more)
			age = "more than " + age
		}
		return fmt.Errorf("%w: %s %d is %s %s (now is %s), more than %s", ErrTimestamp, HeaderTimestamp, sec,
			age, side, now.UTC().Format(time.RFC3339), tolerance)
	}
	want := []byte(base64.StdEncoding.EncodeToString(mac(key, id, ts, body)))
	wellFormed := false // an entry scheme,base64 (a v1 one decoding)
	for _, s := range strings.Fields(sigs) {
		scheme, b64, ok := strings.Cut(s, ",")
		if !ok || scheme == "" || b64 == "" {
			continue
		}
		if scheme != "v1" {
			wellFormed = true // another scheme's: not ours to read
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
			continue
		}
		wellFormed = true
		// The text is compared, not the bytes it decodes to: a decoder
		// ignores the last character's unused bits, so four spellings
		// decode to one MAC, and only the one Sign writes is genuine.
		if hmac.Equal([]byte(b64), want) {
			return nil
		}
	}
	if !wellFormed {
		return fmt.Errorf("%w: %s %q holds no signature of the form scheme,base64", ErrHeader, HeaderSignature, clip.String(sigs))
	}
	return fmt.Errorf("%w: none of the v1 signatures in %s matches message %q", ErrSignature, HeaderSignature, clip.String(id))
}

// header returns h's first value for name, also where h's keys are not in
// canonical form ("webhook-id", as a map literal or another framework may
// hold them): header names are case-insensitive (see headerValues for a
// name held under several keys).
func header(h http.Header, name string) string {
	if v := headerValues(h, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// headerValues returns every value of name in h, whatever its keys' case:
// those of its canonical key when it has values, else those of every key
// equal to name but for case, the keys in byte order (not the map's, which
// would make Verify's answer vary from call to call for one message).
func headerValues(h http.Header, name string) []string {
	if v := h.Values(name); len(v) > 0 {
		return v
	}
	var keys []string
	for k := range h {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		out = append(out, h[k]...)
	}
	return out
}

// within reports whether the instant sec (Unix seconds) is at most tol
// from now, either way: in seconds and nanoseconds, so that a timestamp
// centuries away is never within a tolerance as large as time.Duration
// holds (time.Time.Sub saturates at about 292 years).
func within(now time.Time, sec int64, tol time.Duration) bool {
	n, ns := now.Unix(), int64(now.Nanosecond())
	tolSec, tolNs := int64(tol/time.Second), int64(tol%time.Second)
	if sec <= n {
		// now − sec = (n − sec) s + ns. (The difference of two int64s
		// fits a uint64.)
		d := uint64(n) - uint64(sec)
		return d < uint64(tolSec) || d == uint64(tolSec) && ns <= tolNs
	}
	// sec − now = (sec − n) s − ns.
	d := uint64(sec) - uint64(n)
	return d <= uint64(tolSec) || d == uint64(tolSec)+1 && 1_000_000_000 <= tolNs+ns
}
