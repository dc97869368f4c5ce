package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// stageCounts reads GET /v1/stages as stage → customers.
func stageCounts(t *testing.T, baseURL string) map[stage.ID]int {
	t.Helper()
	type stagesView struct {
		Stages []struct {
			ID        stage.ID `json:"id"`
			Customers int      `json:"customers"`
		} `json:"stages"`
	}
	got := map[stage.ID]int{}
	for _, s := range getJSON[stagesView](t, baseURL+"/v1/stages").Stages {
		got[s.ID] = s.Customers
	}
	return got
}

// scrapeService GETs the service's /metrics and parses it with the
// Prometheus text parser.
func scrapeService(t *testing.T, baseURL string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(baseURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// TestSweepAtStart: customers recorded long ago have stale stages until a
// sweep; a service started with -sweep-every sweeps once before it
// answers, so its first answer already shows the lapses, and the sweep
// shows in its metrics.
func TestSweepAtStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.db")
	stream := newStream(11, 60) // events in 2025: most buyers have lapsed since
	svc := start(t, "-db", db)  // -sweep-every 0: never sweeps
	stream.post(t, svc.URL)
	stale := stageCounts(t, svc.URL)
	require.NoError(t, svc.stop())

	svc = start(t, "-db", db, "-sweep-every", "1h")
	got := stageCounts(t, svc.URL)
	sweptAt := time.Now()

	// The same stream replayed and swept independently.
	want, _ := stream.expected(t)
	tr := lifecycle.NewTracker(model.SterneCutler(), want)
	res, err := tr.Sweep(context.Background(), sweptAt)
	require.NoError(t, err)
	require.Positive(t, res.Moved, "the stream should hold customers who have lapsed by now")
	rep, err := funnel.AnalyzeStore(context.Background(), model.SterneCutler().Stages(), want)
	require.NoError(t, err)
	wantCounts := map[stage.ID]int{}
	for _, s := range rep.Stages {
		wantCounts[s.Stage] = s.Current
	}
	if diff := cmp.Diff(wantCounts, got); diff != "" {
		t.Errorf("stages right after a restart with -sweep-every (-swept +got):\n%s\nlogs:\n%s", diff, svc.logs)
	}
	require.NotEqual(t, wantCounts, stale, "without a sweep the stages are stale: the test would prove nothing")
	require.Contains(t, svc.logs.String(), `msg="shop: sweep" when="at start"`)

	mfs := scrapeService(t, svc.URL)
	var sweeps, moves float64
	for _, m := range mfs["clm_shop_sweeps_total"].GetMetric() {
		if m.GetLabel()[0].GetValue() == "ok" {
			sweeps = m.GetCounter().GetValue()
		}
	}
	for _, m := range mfs["clm_shop_stage_moves_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "to" && l.GetValue() == string(model.Acquisition) {
				moves += m.GetCounter().GetValue()
			}
		}
	}
	require.Equal(t, 1.0, sweeps, "one sweep, at start")
	require.Equal(t, uint64(1), mfs["clm_shop_sweep_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount())
	require.Equal(t, float64(res.Moved), moves, "every customer the start sweep moved lapsed to acquisition")
	require.NoError(t, svc.stop())
	require.False(t, strings.Contains(svc.logs.String(), "sweep failed"), "logs:\n%s", svc.logs)
}
