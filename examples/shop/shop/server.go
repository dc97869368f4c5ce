package shop

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/stage"
)

// Limits of POST /v1/events.
const (
	// DefaultMaxBodyBytes is the largest request body accepted: 1 MiB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxBatch is the most events accepted in one request.
	DefaultMaxBatch = 1000
)

// Option configures a [Server]. A nil Option is skipped.
type Option func(*Server)

// WithLogger sets the logger for requests and failures (default: discard).
// Each request is logged at info level with its method, path, status and
// duration.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithMaxBodyBytes sets the largest request body accepted (default
// [DefaultMaxBodyBytes]); larger bodies get 413.
func WithMaxBodyBytes(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithMaxBatch sets the most events accepted in one request (default
// [DefaultMaxBatch]); more get 413.
func WithMaxBatch(n int) Option { return func(s *Server) { s.maxBatch = n } }

// WithWebhooks shows the state of webhook deliveries on the dashboard and
// at GET /v1/webhooks: stats is usually the Stats method of the
// [feed.Dispatcher] that delivers the tracker's store's change feed, and
// endpoint the URL it delivers to, as it may be shown (without secrets).
// A nil stats leaves webhooks unconfigured.
func WithWebhooks(stats func() feed.Stats, endpoint string) Option {
	return func(s *Server) { s.hooks, s.endpoint = stats, endpoint }
}

// WithClock sets the clock the dashboard shows as its generation time
// (default [time.Now]).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithAPIKeys makes every request (the API and the dashboard) carry one of
// keys: as "Authorization: Bearer <key>", or, for a browser opening the
// dashboard, as the password of HTTP Basic authentication (any user name).
// Others get 401 with a WWW-Authenticate header and, for the API, a JSON
// error with code "unauthorized". Keys are compared in constant time;
// empty keys are ignored. Without this option, or with no non-empty key,
// the server is open: run it only where the network is trusted.
func WithAPIKeys(keys ...string) Option {
	return func(s *Server) {
		for _, k := range keys {
			if k != "" {
				s.keys = append(s.keys, []byte(k))
			}
		}
	}
}

// Server is the shop's [http.Handler]. Create it with [New].
type Server struct {
	t        *lifecycle.Tracker
	graph    *stage.Graph
	log      *slog.Logger
	maxBody  int64
	maxBatch int
	hooks    func() feed.Stats
	endpoint string
	now      func() time.Time
	keys     [][]byte
	metrics  *Metrics
	mux      *http.ServeMux
	page     *template.Template
	fit      fitCache // the last BG/NBD fit of the risk panel
}

// New returns a Server that records into t and reads t's store. Limits
// below 1 are replaced by the defaults. Without a Tracker (nil, or one
// with no model) every request that passes the API key check (see
// [WithAPIKeys]) is answered with 503 and the code "no_tracker".
func New(t *lifecycle.Tracker, opts ...Option) *Server {
	var graph *stage.Graph
	if m := t.Model(); m != nil {
		graph = m.Stages()
	}
	s := &Server{
		t:        t,
		graph:    graph,
		log:      slog.New(slog.DiscardHandler),
		maxBody:  DefaultMaxBodyBytes,
		maxBatch: DefaultMaxBatch,
		now:      time.Now,
	}
	for _, o := range opts {
		if o != nil { // a nil option is skipped, as everywhere in clm
			o(s)
		}
	}
	if s.maxBody < 1 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxBatch < 1 {
		s.maxBatch = DefaultMaxBatch
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	s.metrics.reg.MustRegister(newStateCollector(s))
	s.page = dashboardTemplate
	s.mux = http.NewServeMux()
	s.route(http.MethodPost, "/v1/events", s.postEvents)
	s.route(http.MethodGet, "/v1/customers/{id}", s.getCustomer)
	s.route(http.MethodGet, "/v1/stages", s.getStages)
	s.route(http.MethodGet, "/v1/funnel", s.getFunnel)
	s.route(http.MethodGet, "/v1/webhooks", s.getWebhooks)
	s.route(http.MethodGet, "/metrics", s.metrics.handler().ServeHTTP)
	noRoute := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no API route "+r.URL.Path)
	}
	s.mux.HandleFunc("/v1/", noRoute)
	s.mux.HandleFunc("/v1", noRoute) // else the mux redirects /v1 to /v1/, in HTML

	s.route(http.MethodGet, "/{$}", s.dashboard)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.URL.Path)
	})
	return s
}

// ServeHTTP routes the request, logs it and turns a panic into a 500.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	escaped := r.URL.EscapedPath()
	// Refused below: no route serves an unclean path, nor the target *
	// (net/http answers OPTIONS * itself; the mux would answer another
	// method's with an empty 400).
	unclean := escaped != cleanPath(escaped) || r.RequestURI == "*"
	_, pattern := s.mux.Handler(r) // the route, for the latency metric
	if pattern == "/" || pattern == "/v1/" || pattern == "/v1" || unclean {
		pattern = "" // the catch-alls, or an unclean path: no route matched
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.ErrorContext(r.Context(), "shop: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, "internal", "internal error")
			}
		}
		s.metrics.observeRequest(pattern, rec.code, time.Since(start))
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.code), slog.Duration("duration", time.Since(start)))
	}()
	if !s.authorized(r) {
		rec.Header().Add("WWW-Authenticate", `Bearer realm="clm-shop"`)
		rec.Header().Add("WWW-Authenticate", `Basic realm="clm-shop"`)
		writeError(rec, http.StatusUnauthorized, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)")
		return
	}
	if s.graph == nil {
		writeError(rec, http.StatusServiceUnavailable, "no_tracker", "the server has no tracker (shop.New was given none)")
		return
	}
	if unclean {
		// net/http's mux would redirect, with an HTML body, to the clean
		// path: every answer here is JSON, and no route has such a path.
		// (The escaped path, as the mux cleans it: a customer ID's
		// escaped "/" (%2F) is no separator, so /v1/customers/a%2F%2Fb
		// names the customer "a//b".)
		what := "no route "
		if strings.HasPrefix(escaped, "/v1/") {
			what = "no API route " // as the API's own catch-all says
		}
		writeError(rec, http.StatusNotFound, "not_found", what+r.URL.Path)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// cleanPath returns p with no empty, "." or ".." segment, its trailing
// slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// authorized reports whether r carries one of the server's keys, or the
// server has none.
func (s *Server) authorized(r *http.Request) bool {
	if len(s.keys) == 0 {
		return true
	}
	var got string
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "Bearer") { // auth schemes are case-insensitive
		got = strings.TrimSpace(tok)
	} else if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	} else {
		return false
	}
	key, found := []byte(got), 0
	for _, k := range s.keys {
		found |= subtle.ConstantTimeCompare(k, key)
	}
	return found == 1
}

// route serves path with h for method (and HEAD too, for GET), and
// answers every other method on path with 405, a JSON error and an Allow
// header: the pattern with a method is more specific than the one
// without, so net/http's ServeMux picks h whenever the method matches.
func (s *Server) route(method, path string, h http.HandlerFunc) {
	allow := method
	if method == http.MethodGet {
		allow += ", " + http.MethodHead
	}
	s.mux.HandleFunc(method+" "+path, h)
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path+"; use "+method)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// apiError is the body of every error answer.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, apiError{Error: errorBody{Code: kind, Message: msg}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
