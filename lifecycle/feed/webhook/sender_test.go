package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/stage"
)

// specAccepts is a receiver's check written from the Standard Webhooks
// specification, apart from this package's code: the key is the base64
// after "whsec_"; the signed content is id.timestamp.body; the header
// holds space-separated signatures, one of which must be "v1," and the
// base64 HMAC-SHA256 of the content.
func specAccepts(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	content := h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(content))
	expected := []byte("v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)))
	for _, sig := range strings.Split(h.Get("webhook-signature"), " ") {
		if subtle.ConstantTimeCompare([]byte(sig), expected) == 1 {
			return true
		}
	}
	return false
}

// testSecret returns a secret made from a seeded generator.
func testSecret(t *testing.T, seed uint64) string {
	t.Helper()
	var s [32]byte
	s[0] = byte(seed)
	secret, err := webhook.NewSecret(rand.NewChaCha8(s))
	require.NoError(t, err)
	return secret
}

var at = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func change(cust string, seq uint64, from, to string, cause string) lifecycle.Change {
	return lifecycle.Change{CustomerID: cust, Seq: seq, Pos: lifecycle.Cursor(seq),
		Transition: lifecycle.Transition{From: stage.ID(from), To: stage.ID(to), At: at, Cause: cause}}
}

func fixedClock() time.Time { return at.Add(2 * time.Hour) }

// received is one request a test server got.
type received struct {
	method string
	header http.Header
	body   []byte
}

// recorder is a test endpoint answering with answer (200 when nil).
type recorder struct {
	mu     sync.Mutex
	got    []received
	answer func(w http.ResponseWriter, n int)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, received{r.Method, r.Header.Clone(), body})
	n := len(rc.got)
	rc.mu.Unlock()
	if rc.answer != nil {
		rc.answer(w, n)
	}
}

func (rc *recorder) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func TestNewValidates(t *testing.T) {
	secret := testSecret(t, 1)
	short := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16))
	long := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))
	min := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 24))
	max := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 64))
	cases := []struct {
		name, url, secret string
		opts              []webhook.Option
		want              string // in the message; "" = no error
	}{
		{"ok", "https://shop.example/hooks", secret, nil, ""},
		{"http ok", "http://127.0.0.1:8080/h", secret, nil, ""},
		{"upper-case scheme", "HTTPS://shop.example/h", secret, nil, ""},
		{"24-byte key", "https://shop.example/h", min, nil, ""},
		{"64-byte key", "https://shop.example/h", max, nil, ""},
		{"nil option", "https://shop.example/h", secret, []webhook.Option{nil, webhook.WithClient(nil), webhook.WithClock(nil)}, ""},
		{"empty url", "", secret, nil, `url "": must be an absolute http or https URL`},
		{"relative url", "/hooks", secret, nil, `url "/hooks": must be an absolute`},
		{"ftp url", "ftp://shop.example/x", secret, nil, `url "ftp://shop.example/x"`},
		{"no host", "https:///x", secret, nil, "has no host"},
		{"unparsable url", "https://shop example/%zz", secret, nil, `url "https://shop example/%zz"`},
		{"password redacted", "ftp://u:hunter2@shop.example/", secret, nil, `url "ftp://u:xxxxx@shop.example/"`},
		{"no prefix", "https://shop.example/h", strings.TrimPrefix(secret, "whsec_"), nil, `must start with "whsec_"`},
		{"not base64", "https://shop.example/h", "whsec_not base64!", nil, "standard base64"},
		{"short key", "https://shop.example/h", short, nil, "16-byte key"},
		{"long key", "https://shop.example/h", long, nil, "65-byte key"},
		{"zero timeout", "https://shop.example/h", secret, []webhook.Option{webhook.WithTimeout(0)}, "WithTimeout 0s"},
		{"negative timeout", "https://shop.example/h", secret, []webhook.Option{webhook.WithTimeout(-time.Second)}, "WithTimeout -1s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := webhook.New(c.url, c.secret, c.opts...)
			if c.want == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.ErrorIs(t, err, webhook.ErrInvalid)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "hunter2")
			if rest := strings.TrimPrefix(c.secret, "whsec_"); len(rest) > 8 {
				assert.NotContains(t, err.Error(), rest[:8], "the secret is never shown")
			}
		})
	}
}

func TestDeliverSendsASignedStandardWebhook(t *testing.T) {
	secret := testSecret(t, 2)
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := webhook.New(srv.URL+"/hooks", secret, webhook.WithClock(fixedClock))
	require.NoError(t, err)

	ch := change("c42", 2, "reach", "acquisition", "s-1")
	require.NoError(t, s.Deliver(context.Background(), ch))
	got := rc.requests()
	require.Len(t, got, 1)
	r := got[0]
	assert.Equal(t, http.MethodPost, r.method)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, ch.ID(), r.header.Get("webhook-id"))
	assert.Equal(t, strconv.FormatInt(fixedClock().Unix(), 10), r.header.Get("webhook-timestamp"))
	assert.True(t, strings.HasPrefix(r.header.Get("webhook-signature"), "v1,"))
	assert.True(t, specAccepts(secret, r.header, r.body), "a receiver following the spec accepts it")
	assert.NoError(t, webhook.Verify(secret, r.header, r.body, fixedClock(), 0))
	assert.False(t, specAccepts(testSecret(t, 3), r.header, r.body), "another secret does not")

	assert.JSONEq(t, `{"type":"customer.stage_changed","timestamp":"2026-03-01T10:00:00Z",
		"data":{"id":"`+ch.ID()+`","customer_id":"c42","seq":2,"from":"reach","to":"acquisition",
		"at":"2026-03-01T10:00:00Z","cause":"s-1"}}`, string(r.body))
	var p webhook.Payload
	require.NoError(t, json.Unmarshal(r.body, &p))
	assert.Equal(t, webhook.NewPayload(ch), p)

	// A sweep's change has no cause; the same change delivered again has
	// the same ID and body.
	sweep := change("c42", 3, "acquisition", "reach", "")
	require.NoError(t, s.Deliver(context.Background(), sweep))
	require.NoError(t, s.Deliver(context.Background(), sweep))
	got = rc.requests()
	require.Len(t, got, 3)
	assert.NotContains(t, string(got[1].body), "cause")
	assert.Equal(t, got[1].body, got[2].body)
	assert.Equal(t, got[1].header.Get("webhook-id"), got[2].header.Get("webhook-id"))
	assert.NotEqual(t, got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"))
}

func TestSpecTestVector(t *testing.T) {
	// The signing test vector of the Standard Webhooks reference
	// libraries (libraries/go/webhook_test.go in
	// github.com/standard-webhooks/standard-webhooks).
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	sig, err := webhook.Sign(secret, id, ts, body)
	require.NoError(t, err)
	assert.Equal(t, want, sig)

	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", want)
	assert.True(t, specAccepts(secret, h, body))
	assert.NoError(t, webhook.Verify(secret, h, body, ts.Add(4*time.Minute), 0))
}

func signedHeader(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := webhook.Sign(secret, id, ts, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

func TestVerifyRefuses(t *testing.T) {
	secret := testSecret(t, 4)
	now := fixedClock()
	body := []byte(`{"type":"customer.stage_changed"}`)
	good := func() http.Header { return signedHeader(t, secret, "chg_1", now, body) }
	require.NoError(t, webhook.Verify(secret, good(), body, now, 0))

	t.Run("tampered body", func(t *testing.T) {
		err := webhook.Verify(secret, good(), []byte(`{"type":"customer.stage_changed" }`), now, 0)
		assert.ErrorIs(t, err, webhook.ErrSignature)
	})
	t.Run("malformed signature header", func(t *testing.T) {
		for _, sig := range []string{"garbage", "v1,", "v1,!!!", ",", "v1"} {
			h := good()
			h.Set("webhook-signature", sig)
			assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrHeader, sig)
		}
		h := good()
		h.Set("webhook-signature", "v1a,AAAA")
		assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrSignature, "another scheme's signature is well-formed, and not a match")
	})
	t.Run("header keys not canonical", func(t *testing.T) {
		h := http.Header{}
		for k, v := range good() {
			h[strings.ToLower(k)] = v
		}
		assert.NoError(t, webhook.Verify(secret, h, body, now, 0))
	})
	t.Run("tampered id", func(t *testing.T) {
		h := good()
		h.Set("webhook-id", "chg_2")
		assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrSignature)
	})
	t.Run("timestamp moved", func(t *testing.T) {
		h := good()
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10))
		assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrSignature)
	})
	t.Run("wrong secret", func(t *testing.T) {
		assert.ErrorIs(t, webhook.Verify(testSecret(t, 5), good(), body, now, 0), webhook.ErrSignature)
	})
	t.Run("stale", func(t *testing.T) {
		err := webhook.Verify(secret, good(), body, now.Add(5*time.Minute+time.Second), 0)
		assert.ErrorIs(t, err, webhook.ErrTimestamp)
		assert.NoError(t, webhook.Verify(secret, good(), body, now.Add(5*time.Minute), 0), "5 minutes is the default tolerance")
	})
	t.Run("from the future", func(t *testing.T) {
		assert.ErrorIs(t, webhook.Verify(secret, good(), body, now.Add(-6*time.Minute), 0), webhook.ErrTimestamp)
	})
	t.Run("own tolerance", func(t *testing.T) {
		assert.ErrorIs(t, webhook.Verify(secret, good(), body, now.Add(31*time.Second), 30*time.Second), webhook.ErrTimestamp)
		assert.NoError(t, webhook.Verify(secret, good(), body, now.Add(time.Hour), 2*time.Hour))
	})
	t.Run("absurd timestamp", func(t *testing.T) {
		for _, ts := range []string{"99999999999999999", "-99999999999999999", "9223372036854775807", "0", "-5"} {
			h := good()
			h.Set("webhook-timestamp", ts)
			assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrTimestamp, ts)
		}
	})
	t.Run("malformed timestamp", func(t *testing.T) {
		for _, ts := range []string{"soon", "1.5", "1e9", "99999999999999999999999", "+1700000000", "01700000000", "00", "-0", "-05", " 1700000000"} {
			h := good()
			h.Set("webhook-timestamp", ts)
			assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrHeader, ts)
		}
	})
	t.Run("missing headers", func(t *testing.T) {
		for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			h := good()
			h.Del(name)
			err := webhook.Verify(secret, h, body, now, 0)
			assert.ErrorIs(t, err, webhook.ErrHeader)
			assert.Contains(t, err.Error(), name)
		}
		assert.ErrorIs(t, webhook.Verify(secret, nil, body, now, 0), webhook.ErrHeader)
	})
	t.Run("several signatures", func(t *testing.T) {
		h := good()
		other := signedHeader(t, testSecret(t, 6), "chg_1", now, body).Get("webhook-signature")
		h.Set("webhook-signature", "v1a,c29tZXRoaW5n "+other+" v1,!!! "+h.Get("webhook-signature")+" v2,abc")
		assert.NoError(t, webhook.Verify(secret, h, body, now, 0), "one matching v1 signature is enough")
		h.Set("webhook-signature", "v1a,c29tZXRoaW5n "+other)
		assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrSignature)
		// The same signature under another scheme name does not count.
		h.Set("webhook-signature", "v2"+strings.TrimPrefix(good().Get("webhook-signature"), "v1"))
		assert.ErrorIs(t, webhook.Verify(secret, h, body, now, 0), webhook.ErrSignature)
	})
	t.Run("bad secret", func(t *testing.T) {
		assert.ErrorIs(t, webhook.Verify("hunter2", good(), body, now, 0), webhook.ErrInvalid)
	})
}

func TestRedirectIsAFailureAndNotFollowed(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { targetHits.Add(1) }))
	defer target.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		rc := &recorder{answer: func(w http.ResponseWriter, _ int) {
			w.Header().Set("Location", target.URL+"/elsewhere")
			w.WriteHeader(code)
		}}
		srv := httptest.NewServer(rc)
		client := &http.Client{Timeout: 10 * time.Second}
		s, err := webhook.New(srv.URL, testSecret(t, 7), webhook.WithClient(client))
		require.NoError(t, err)
		err = s.Deliver(context.Background(), change("c1", 1, "", "reach", "e1"))
		srv.Close()

		var se *webhook.StatusError
		require.ErrorAs(t, err, &se, "status %d", code)
		assert.Equal(t, code, se.StatusCode)
		assert.Equal(t, target.URL+"/elsewhere", se.Location)
		assert.Contains(t, err.Error(), "not followed")
		var stop *feed.StopError
		var ra *feed.RetryAfterError
		assert.False(t, errors.As(err, &stop) || errors.As(err, &ra), "a redirect is a plain failure, retried")
		assert.Len(t, rc.requests(), 1)
		assert.Nil(t, client.CheckRedirect, "the caller's client is not changed")
	}
	assert.Zero(t, targetHits.Load(), "the redirect target is never hit")
}

func TestGoneStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer srv.Close()
	s, err := webhook.New(srv.URL+"/hooks", testSecret(t, 8))
	require.NoError(t, err)
	err = s.Deliver(context.Background(), change("c1", 1, "", "reach", "e1"))
	var stop *feed.StopError
	require.ErrorAs(t, err, &stop)
	assert.ErrorIs(t, err, webhook.ErrGone)
	var se *webhook.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusGone, se.StatusCode)
	assert.Contains(t, err.Error(), srv.URL+"/hooks")
	assert.Equal(t, srv.URL+"/hooks", s.URL())
}

func TestRetryAfter(t *testing.T) {
	now := fixedClock()
	cases := []struct {
		name   string
		code   int
		header string
		want   time.Duration // -1: no RetryAfter, a plain failure
	}{
		{"429 seconds", http.StatusTooManyRequests, "7", 7 * time.Second},
		{"503 seconds", http.StatusServiceUnavailable, " 120 ", 2 * time.Minute},
		{"503 HTTP date", http.StatusServiceUnavailable, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"429 date in the past", http.StatusTooManyRequests, now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"429 absurd seconds", http.StatusTooManyRequests, "999999999", time.Hour},
		{"429 too many digits", http.StatusTooManyRequests, "99999999999999999999999999", time.Hour},
		{"503 far date", http.StatusServiceUnavailable, now.AddDate(1, 0, 0).Format(http.TimeFormat), time.Hour},
		{"429 without header", http.StatusTooManyRequests, "", -1},
		{"503 malformed", http.StatusServiceUnavailable, "soon", -1},
		{"429 negative", http.StatusTooManyRequests, "-5", -1},
		{"500 ignores Retry-After", http.StatusInternalServerError, "7", -1},
		{"404", http.StatusNotFound, "", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.WriteHeader(c.code)
			}))
			defer srv.Close()
			s, err := webhook.New(srv.URL, testSecret(t, 9), webhook.WithClock(func() time.Time { return now }))
			require.NoError(t, err)
			err = s.Deliver(context.Background(), change("c1", 1, "", "reach", "e1"))
			var se *webhook.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.code, se.StatusCode)
			var ra *feed.RetryAfterError
			if c.want < 0 {
				assert.False(t, errors.As(err, &ra), "no RetryAfter: %v", err)
				return
			}
			require.ErrorAs(t, err, &ra)
			assert.Equal(t, c.want, ra.Delay)
			var stop *feed.StopError
			assert.False(t, errors.As(err, &stop))
		})
	}
}

func TestTransportErrorsAndTimeouts(t *testing.T) {
	secret := testSecret(t, 10)
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		s, err := webhook.New("http://"+addr+"/hooks", secret)
		require.NoError(t, err)
		err = s.Deliver(context.Background(), change("c1", 1, "", "reach", "e1"))
		require.Error(t, err)
		var se *webhook.StatusError
		assert.False(t, errors.As(err, &se))
	})
	t.Run("time-out", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body) // so that the server notices the client leaving
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		s, err := webhook.New(srv.URL, secret, webhook.WithTimeout(50*time.Millisecond))
		require.NoError(t, err)
		start := time.Now()
		err = s.Deliver(context.Background(), change("c1", 1, "", "reach", "e1"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body) // so that the server notices the client leaving
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}))
		defer srv.Close()
		s, err := webhook.New(srv.URL, secret)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		assert.ErrorIs(t, s.Deliver(ctx, change("c1", 1, "", "reach", "e1")), context.Canceled)
	})
	t.Run("nil sender and context", func(t *testing.T) {
		var s *webhook.Sender
		assert.ErrorIs(t, s.Deliver(context.Background(), change("c1", 1, "", "reach", "e1")), webhook.ErrInvalid)
		assert.Empty(t, s.URL())
		s, err := webhook.New("https://shop.example/h", secret)
		require.NoError(t, err)
		var nilCtx context.Context
		err = s.Deliver(nilCtx, change("c1", 1, "", "reach", "e1"))
		assert.ErrorIs(t, err, webhook.ErrInvalid)
		assert.ErrorIs(t, err, lifecycle.ErrNilContext)
	})
	t.Run("time out of JSON range", func(t *testing.T) {
		s, err := webhook.New("https://shop.example/h", secret)
		require.NoError(t, err)
		ch := change("c1", 1, "", "reach", "e1")
		ch.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		assert.Error(t, s.Deliver(context.Background(), ch))
	})
}

func TestBodiesAreDrainedSoConnectionsAreReused(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-id") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("ok ", 1000)))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s, err := webhook.New(srv.URL, testSecret(t, 11), webhook.WithClient(srv.Client()))
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, s.Deliver(context.Background(), change("c1", uint64(i+1), "", "reach", "e1")))
	}
	assert.Equal(t, int32(1), conns.Load(), "one connection, reused")
}

// TestDeliverUnencodableChangeStops: a change JSON cannot hold (a time in
// the year 10000) is a feed.Stop naming it, sent nowhere, instead of a
// failure retried for ever in front of every later change.
func TestDeliverUnencodableChangeStops(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s, err := webhook.New(srv.URL, testSecret(t, 4), webhook.WithClock(fixedClock))
	require.NoError(t, err)
	ch := lifecycle.Change{CustomerID: "c1", Seq: 1, Pos: 1}
	ch.To, ch.At = "reach", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	err = s.Deliver(context.Background(), ch)
	var stop *feed.StopError
	require.ErrorAs(t, err, &stop)
	assert.Contains(t, err.Error(), `customer "c1" cannot be encoded`)
	assert.Zero(t, hits.Load())
}

// TestNewHidesPassword: a URL that does not parse is named without its
// password.
func TestNewHidesPassword(t *testing.T) {
	for _, raw := range []string{"http://user:hunter2@host/%zz", "https://user:hunter2@host:bad/", "http://user:hunter2@host/a b%"} {
		_, err := webhook.New(raw, testSecret(t, 4))
		require.ErrorIs(t, err, webhook.ErrInvalid, raw)
		assert.NotContains(t, err.Error(), "hunter2", raw)
		assert.Contains(t, err.Error(), "user:xxxxx@host", raw)
	}
}
