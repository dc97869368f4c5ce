package shop_test

import (
	"context"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	clmmodel "github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// scrape GETs /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := do(t, h, http.MethodGet, "/metrics", "", "")
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"), "Content-Type %q", rec.Header().Get("Content-Type"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	require.NoError(t, err)
	return mfs
}

// value returns the value of the sample of family name whose labels are
// exactly labels (name, value pairs): a counter's or gauge's value, a
// histogram's sample count. ok is false when there is no such sample.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) != len(want) {
			continue
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func requireValue(t *testing.T, mfs map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(mfs, name, labels...)
	require.True(t, ok, "no sample %s%v", name, labels)
	require.Equal(t, want, got, "%s%v", name, labels)
}

// TestMetrics scrapes /metrics after a few events, refusals, a sweep and
// with webhook stats, and checks the values the text parser reads.
func TestMetrics(t *testing.T) {
	st := store.NewMemory()
	m := shop.NewMetrics()
	tr := lifecycle.NewTracker(clmmodel.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return now }), lifecycle.WithHook(m.Hook))
	stats := feed.Stats{Name: "webhooks", Running: true, Holding: true, Cursor: 7, Delivered: 6, Failures: 2, StoreErrors: 1,
		Current: "chg_x", PendingSince: now.Add(-30 * time.Second)}
	srv := shop.New(tr, shop.WithClock(func() time.Time { return now }), shop.WithMetrics(m),
		shop.WithWebhooks(func() feed.Stats { return stats }, "https://hooks.example/clm"))

	// c1 visits then orders (reach, then conversion); c2 orders by Segment
	// (new, straight to conversion); the visit again is a duplicate.
	require.Equal(t, http.StatusAccepted, do(t, srv, http.MethodPost, "/v1/events", jsonCT, `[`+visit+`,`+order+`,`+track+`]`).Code)
	require.Equal(t, http.StatusAccepted, do(t, srv, http.MethodPost, "/v1/events", jsonCT, visit).Code)
	require.Equal(t, http.StatusAccepted, do(t, srv, http.MethodPost, "/v1/events", jsonCT, `{"type":"identify","userId":"c1"}`).Code)
	// Refusals: two malformed JSON bodies, one invalid event beside a
	// good one, one unsupported media type.
	require.Equal(t, http.StatusBadRequest, do(t, srv, http.MethodPost, "/v1/events", jsonCT, "nope").Code)
	require.Equal(t, http.StatusBadRequest, do(t, srv, http.MethodPost, "/v1/events", jsonCT, "[]").Code)
	require.Equal(t, http.StatusUnprocessableEntity, do(t, srv, http.MethodPost, "/v1/events", jsonCT,
		`[{"id":"v-9","customer_id":"c9","type":"site_visited","time":"2026-03-01T10:00:00Z"},{"id":"x"}]`).Code)
	require.Equal(t, http.StatusUnsupportedMediaType, do(t, srv, http.MethodPost, "/v1/events", "text/plain", visit).Code)
	require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, "/v1/customers/nobody", "", "").Code)
	require.Equal(t, http.StatusMethodNotAllowed, do(t, srv, http.MethodDelete, "/v1/stages", "", "").Code)

	mfs := scrape(t, srv)
	requireValue(t, mfs, 3, "clm_shop_events_total", "status", "applied")
	requireValue(t, mfs, 1, "clm_shop_events_total", "status", "duplicate")
	requireValue(t, mfs, 1, "clm_shop_events_total", "status", "skipped")
	requireValue(t, mfs, 1, "clm_shop_events_total", "status", "rejected")
	requireValue(t, mfs, 1, "clm_shop_events_total", "status", "not_applied")
	requireValue(t, mfs, 2, "clm_shop_event_requests_refused_total", "code", "malformed_json")
	requireValue(t, mfs, 1, "clm_shop_event_requests_refused_total", "code", "invalid_event")
	requireValue(t, mfs, 1, "clm_shop_event_requests_refused_total", "code", "unsupported_media_type")
	_, ok := value(mfs, "clm_shop_event_requests_refused_total", "code", "malformed_event")
	require.False(t, ok, "no malformed_event refusal happened")

	// Every transition of the customers' histories is a move: c1 none →
	// reach → conversion, c2 none → conversion (its first event is an
	// order).
	requireValue(t, mfs, 1, "clm_shop_stage_moves_total", "from", "none", "to", "reach")
	requireValue(t, mfs, 1, "clm_shop_stage_moves_total", "from", "reach", "to", "conversion")
	requireValue(t, mfs, 1, "clm_shop_stage_moves_total", "from", "none", "to", "conversion")
	require.Len(t, mfs["clm_shop_stage_moves_total"].GetMetric(), 3)
	requireValue(t, mfs, 0, "clm_shop_stage_moves_undeclared_total") // the built-ins' graphs declare every move these make
	requireValue(t, mfs, 0, "clm_shop_customers", "stage", "reach")
	requireValue(t, mfs, 2, "clm_shop_customers", "stage", "conversion")
	requireValue(t, mfs, 0, "clm_shop_customers", "stage", "loyalty")
	requireValue(t, mfs, 0, "clm_shop_sweeps_total", "result", "ok")

	requireValue(t, mfs, 6, "clm_shop_webhook_deliveries_total")
	requireValue(t, mfs, 2, "clm_shop_webhook_failures_total")
	requireValue(t, mfs, 1, "clm_shop_webhook_store_errors_total")
	requireValue(t, mfs, 30, "clm_shop_webhook_lag_seconds")
	requireValue(t, mfs, 1, "clm_shop_webhook_delivering")
	requireValue(t, mfs, 7, "clm_shop_webhook_cursor")

	// Request latency by route pattern and status; the scrape itself is
	// counted once it is answered.
	requireValue(t, mfs, 3, "clm_shop_http_request_duration_seconds", "route", "POST /v1/events", "code", "202")
	requireValue(t, mfs, 2, "clm_shop_http_request_duration_seconds", "route", "POST /v1/events", "code", "400")
	requireValue(t, mfs, 1, "clm_shop_http_request_duration_seconds", "route", "POST /v1/events", "code", "422")
	requireValue(t, mfs, 1, "clm_shop_http_request_duration_seconds", "route", "GET /v1/customers/{id}", "code", "404")
	requireValue(t, mfs, 1, "clm_shop_http_request_duration_seconds", "route", "/v1/stages", "code", "405")
	require.Equal(t, dto.MetricType_HISTOGRAM, mfs["clm_shop_http_request_duration_seconds"].GetType())
	require.Contains(t, mfs, "go_goroutines", "the Go runtime collector")

	// No label carries a customer or event ID.
	for name, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			for _, lp := range mm.GetLabel() {
				for _, id := range []string{"c1", "c2", "c9", "v-1", "o-1", "m-1", "nobody"} {
					require.NotContains(t, lp.GetValue(), id, "%s{%s}", name, lp.GetName())
				}
			}
		}
	}

	// A sweep 200 days later lapses both buyers (180 days without an
	// order): conversion → acquisition, counted as moves and as a sweep.
	res, err := srv.Sweep(context.Background(), now.AddDate(0, 0, 200))
	require.NoError(t, err)
	require.Equal(t, 2, res.Moved)
	mfs = scrape(t, srv)
	requireValue(t, mfs, 2, "clm_shop_stage_moves_total", "from", "conversion", "to", "acquisition")
	requireValue(t, mfs, 1, "clm_shop_sweeps_total", "result", "ok")
	requireValue(t, mfs, 1, "clm_shop_sweep_duration_seconds")
	requireValue(t, mfs, 2, "clm_shop_customers", "stage", "acquisition")
	requireValue(t, mfs, 0, "clm_shop_customers", "stage", "conversion")
	requireValue(t, mfs, 1, "clm_shop_http_request_duration_seconds", "route", "GET /metrics", "code", "200")
}

// Without webhooks there are no webhook metrics; a server made without
// WithMetrics serves metrics of its own.
func TestMetricsWithoutWebhooks(t *testing.T) {
	srv, _ := newServer(t, nil)
	require.Equal(t, http.StatusAccepted, do(t, srv, http.MethodPost, "/v1/events", jsonCT, visit).Code)
	mfs := scrape(t, srv)
	requireValue(t, mfs, 1, "clm_shop_events_total", "status", "applied")
	requireValue(t, mfs, 1, "clm_shop_customers", "stage", "reach")
	for name := range mfs {
		require.False(t, strings.HasPrefix(name, "clm_shop_webhook_"), "%s without webhooks", name)
	}
	// Two servers, two registries: no duplicate registration.
	other, _ := newServer(t, nil)
	requireValue(t, scrape(t, other), 0, "clm_shop_customers", "stage", "reach")
}

// A store that cannot be read makes the scrape fail with 500 rather than
// report stale or missing stage counts.
func TestMetricsStoreFailure(t *testing.T) {
	srv, _ := newServer(t, unreadableStore{store.NewMemory()})
	rec := do(t, srv, http.MethodGet, "/metrics", "", "")
	require.Equal(t, http.StatusInternalServerError, rec.Code, "body: %s", rec.Body)
	require.Contains(t, rec.Body.String(), "disk on fire")
}

// unreadableStore fails every Scan. It has only the three methods of
// lifecycle.Store, so that nothing reads around Scan.
type unreadableStore struct{ m *store.Memory }

func (u unreadableStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return u.m.Get(ctx, id)
}

func (u unreadableStore) Put(ctx context.Context, c *lifecycle.Customer, version uint64) error {
	return u.m.Put(ctx, c, version)
}

func (unreadableStore) Scan(context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) { yield(nil, errDisk) }
}

// TestMetricsUndeclared: the hook counts the moves the model's graph does
// not declare apart.
func TestMetricsUndeclared(t *testing.T) {
	m := shop.NewMetrics()
	tr := lifecycle.NewTracker(clmmodel.SterneCutler(), store.NewMemory(), lifecycle.WithHook(m.Hook))
	srv := shop.New(tr, shop.WithMetrics(m))
	m.Hook(context.Background(), lifecycle.Change{CustomerID: "x", Transition: lifecycle.Transition{From: "reach", To: "conversion"}})
	m.Hook(context.Background(), lifecycle.Change{CustomerID: "x", Transition: lifecycle.Transition{From: "conversion", To: "reach"}, Undeclared: true})
	mfs := scrape(t, srv)
	requireValue(t, mfs, 1, "clm_shop_stage_moves_undeclared_total")
	requireValue(t, mfs, 1, "clm_shop_stage_moves_total", "from", "conversion", "to", "reach")
}
