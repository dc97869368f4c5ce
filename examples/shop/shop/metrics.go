package shop

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clmkit/clm/lifecycle"
)

// MetricsNamespace prefixes the name of every metric the shop defines.
const MetricsNamespace = "clm_shop"

// scrapeTimeout bounds the store read behind the customers-per-stage
// gauge on each scrape.
const scrapeTimeout = 10 * time.Second

// Metrics holds the shop's Prometheus metrics and the registry GET
// /metrics serves. Make one with [NewMetrics], give its [Metrics.Hook] to
// the tracker (so that stage moves are counted, by events and by sweeps
// alike) and pass it to [New] with [WithMetrics]. A Metrics serves one
// [Server]; without WithMetrics, New makes one of its own, whose stage
// moves stay uncounted.
//
// Every label has a bounded set of values: stage IDs of the model, the
// API's result statuses and error codes, route patterns and HTTP status
// codes. No customer or event ID is ever a label.
type Metrics struct {
	reg      *prometheus.Registry
	events   *prometheus.CounterVec   // by result status
	refused  *prometheus.CounterVec   // POST /v1/events answers with an error, by code
	moves    *prometheus.CounterVec   // by from, to
	undecl   prometheus.Counter       // moves the model's graph does not declare
	sweeps   *prometheus.CounterVec   // by result: ok, failed
	sweepDur prometheus.Histogram     // seconds
	requests *prometheus.HistogramVec // seconds, by route, code
}

// NewMetrics returns the shop's metrics in a registry of their own, with
// the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: MetricsNamespace, Name: "events_total",
			Help: "Events received by POST /v1/events, by the status answered for each: applied (recorded), duplicate (recorded before), skipped (a Segment call that records nothing), rejected, not_applied or failed.",
		}, []string{"status"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: MetricsNamespace, Name: "event_requests_refused_total",
			Help: "POST /v1/events requests answered with an error, by the error code answered (malformed_json, malformed_event, invalid_event, body_too_large, too_many_events, unsupported_media_type, bad_body, store_failed).",
		}, []string{"code"}),
		moves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: MetricsNamespace, Name: "stage_moves_total",
			Help: "Stage changes stored by this instance (by events and by sweeps), by stage left (\"none\" for a new customer) and stage entered.",
		}, []string{"from", "to"}),
		undecl: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: MetricsNamespace, Name: "stage_moves_undeclared_total",
			Help: "Stage changes stored by this instance that the model's graph does not declare (lifecycle.Change.Undeclared: a late event moved a customer between two stages the graph does not link).",
		}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: MetricsNamespace, Name: "sweeps_total",
			Help: "Sweeps run (time-only moves applied), by result: ok or failed.",
		}, []string{"result"}),
		sweepDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: MetricsNamespace, Name: "sweep_duration_seconds",
			Help:    "How long each sweep took, failed ones included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1 ms to about 4.4 min
		}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: MetricsNamespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency, by the route pattern that served the request (\"unmatched\" when none did) and the status code answered.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.events, m.refused, m.moves, m.undecl, m.sweeps, m.sweepDur, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"ok", "failed"} {
		m.sweeps.WithLabelValues(r) // export zeros: a sweep that never ran shows
	}
	return m
}

// Registry returns the registry GET /metrics serves, to which an
// embedding program may add collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Hook counts stage changes, and apart those the model's graph does not
// declare ([lifecycle.Change.Undeclared]); give it to the tracker with
// [lifecycle.WithHook].
func (m *Metrics) Hook(_ context.Context, ch lifecycle.Change) {
	from := string(ch.From)
	if from == "" {
		from = "none"
	}
	m.moves.WithLabelValues(from, string(ch.To)).Inc()
	if ch.Undeclared {
		m.undecl.Inc()
	}
}

// WithMetrics makes the server record into m and serve m's registry at
// GET /metrics (default: metrics of its own, see [Metrics]). New panics
// if m already serves another Server: its registry would hold the
// other's stage counts too.
func WithMetrics(m *Metrics) Option { return func(s *Server) { s.metrics = m } }

// Sweep runs the tracker's [lifecycle.Tracker.Sweep] at now and records
// its duration and result in the metrics.
func (s *Server) Sweep(ctx context.Context, now time.Time) (lifecycle.SweepResult, error) {
	start := time.Now()
	res, err := s.t.Sweep(ctx, now)
	s.metrics.sweepDur.Observe(time.Since(start).Seconds())
	result := "ok"
	if err != nil {
		result = "failed"
	}
	s.metrics.sweeps.WithLabelValues(result).Inc()
	return res, err
}

// countResults counts the events of an answer by status.
func (m *Metrics) countResults(rs []eventResult) {
	for _, r := range rs {
		m.events.WithLabelValues(r.Status).Inc()
	}
}

// handler serves the registry in the Prometheus exposition
// formats. A failed collection (the store cannot be read) is a 500.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

// stateCollector reads, on each scrape, what lives in the store and in
// the webhook dispatcher: customers per stage and webhook deliveries.
type stateCollector struct {
	s         *Server
	customers *prometheus.Desc
	delivered *prometheus.Desc
	failures  *prometheus.Desc
	storeErrs *prometheus.Desc
	lag       *prometheus.Desc
	holding   *prometheus.Desc
	cursor    *prometheus.Desc
}

func newStateCollector(s *Server) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(MetricsNamespace, "", name), help, labels, nil)
	}
	return &stateCollector{
		s:         s,
		customers: d("customers", "Customers in each stage of the model, read from the store on each scrape (pending referrers are not counted).", "stage"),
		delivered: d("webhook_deliveries_total", "Stage changes the webhook receiver accepted (2xx), since this instance started."),
		failures:  d("webhook_failures_total", "Failed webhook delivery attempts (each retry counts), since this instance started."),
		storeErrs: d("webhook_store_errors_total", "Failed store calls of the webhook dispatcher (retried), since this instance started."),
		lag:       d("webhook_lag_seconds", "How long the change being delivered has waited at least; 0 when caught up."),
		holding:   d("webhook_delivering", "1 when this instance holds the delivery lease and delivers, 0 when it stands by or deliveries stopped."),
		cursor:    d("webhook_cursor", "Position in the change feed up to which every change has been delivered."),
	}
}

// Describe sends the descriptions of the metrics the collector makes.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.customers, c.delivered, c.failures, c.storeErrs, c.lag, c.holding, c.cursor} {
		ch <- d
	}
}

// Collect reads the store's stage counts and the dispatcher's stats.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	rep, err := c.s.report(ctx)
	if err != nil {
		c.s.log.Error("shop: metrics: reading the store", "err", err)
		ch <- prometheus.NewInvalidMetric(c.customers, err)
	} else {
		for _, st := range c.s.graph.Stages() {
			ss, _ := rep.Stage(st.ID)
			ch <- prometheus.MustNewConstMetric(c.customers, prometheus.GaugeValue, float64(ss.Current), string(st.ID))
		}
	}
	if c.s.hooks == nil {
		return
	}
	st := c.s.hooks()
	holding := 0.0
	if st.Running && st.Holding {
		holding = 1
	}
	ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(st.Delivered))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(st.Failures))
	ch <- prometheus.MustNewConstMetric(c.storeErrs, prometheus.CounterValue, float64(st.StoreErrors))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, st.Lag(c.s.now()).Seconds())
	ch <- prometheus.MustNewConstMetric(c.holding, prometheus.GaugeValue, holding)
	ch <- prometheus.MustNewConstMetric(c.cursor, prometheus.GaugeValue, float64(st.Cursor))
}

// observeRequest records a request's latency under its route pattern.
func (m *Metrics) observeRequest(pattern string, code int, d time.Duration) {
	if pattern == "" {
		pattern = "unmatched"
	}
	m.requests.WithLabelValues(pattern, strconv.Itoa(code)).Observe(d.Seconds())
}
