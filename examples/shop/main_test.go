package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// syncBuffer collects the service's logs for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// service is the shop running in this process on a loopback port.
type service struct {
	URL  string
	logs *syncBuffer
	stop func() error // cancels run's context and returns its error
}

func start(t *testing.T, args ...string) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	ready := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-sweep-every", "0"}, args...), logs, func(a net.Addr) { ready <- a })
	}()
	s := &service{logs: logs}
	select {
	case a := <-ready:
		s.URL = "http://" + a.String()
	case err := <-errc:
		cancel()
		t.Fatalf("service did not start: %v\nlogs:\n%s", err, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("service did not start in 30 s\nlogs:\n%s", logs)
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-errc })
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

// shopStream is a realistic seeded stream: visits, product views, carts,
// sign-ups with referrals, orders over months, a few refunds. Each event
// is sent either in the library's JSON or as a Segment call.
type shopStream struct {
	events []lifecycle.Event // what the service must record
	wire   []any             // the same events as sent
}

func newStream(seed uint64, customers int) shopStream {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	base := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	var s shopStream
	add := func(e lifecycle.Event) {
		s.events = append(s.events, e)
		s.wire = append(s.wire, wireForm(rng, e))
	}
	for i := range customers {
		c := fmt.Sprintf("cust-%04d", i)
		at := base.Add(time.Duration(rng.IntN(60*24)) * time.Hour)
		add(lifecycle.Event{ID: c + "-visit", CustomerID: c, Type: lifecycle.SiteVisited, Time: at, Attrs: map[string]string{"channel": []string{"ads", "search", "social"}[rng.IntN(3)]}})
		if rng.Float64() < 0.25 {
			continue
		}
		at = at.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		if rng.Float64() < 0.4 {
			e := lifecycle.Event{ID: c + "-signup", CustomerID: c, Type: lifecycle.SignedUp, Time: at}
			if i > 10 && rng.Float64() < 0.3 {
				e.ReferrerID = fmt.Sprintf("cust-%04d", rng.IntN(i))
			}
			add(e)
		}
		add(lifecycle.Event{ID: c + "-view", CustomerID: c, Type: lifecycle.ProductViewed, Time: at.Add(time.Minute)})
		if rng.Float64() < 0.45 {
			continue
		}
		add(lifecycle.Event{ID: c + "-cart", CustomerID: c, Type: lifecycle.CartAdded, Time: at.Add(5 * time.Minute)})
		if rng.Float64() < 0.35 {
			continue
		}
		orders := 1 + rng.IntN(7)
		ot := at.Add(10 * time.Minute)
		for k := range orders {
			add(lifecycle.Event{ID: fmt.Sprintf("%s-ord-%d", c, k), CustomerID: c, Type: lifecycle.OrderCompleted, Time: ot,
				Amount: int64(1000 + rng.IntN(19000)), Currency: "EUR"})
			ot = ot.Add(time.Duration(10+rng.IntN(40)) * 24 * time.Hour)
		}
		if rng.Float64() < 0.1 {
			add(lifecycle.Event{ID: c + "-refund", CustomerID: c, Type: lifecycle.OrderRefunded, Time: at.Add(3 * 24 * time.Hour), Amount: 500, Currency: "EUR"})
		}
	}
	return s
}

// segmentNames are the Segment event names of the types the stream uses.
var segmentNames = map[lifecycle.EventType]string{
	lifecycle.SiteVisited: "Site Visited", lifecycle.SignedUp: "Signed Up", lifecycle.ProductViewed: "Product Viewed",
	lifecycle.CartAdded: "Product Added", lifecycle.OrderCompleted: "Order Completed", lifecycle.OrderRefunded: "Order Refunded",
}

// wireForm returns e as sent: the library's JSON (70%) or a Segment track
// call carrying the same facts (30%).
func wireForm(rng *rand.Rand, e lifecycle.Event) any {
	if rng.Float64() < 0.7 {
		return e
	}
	name := segmentNames[e.Type]
	call := map[string]any{
		"type": "track", "event": name, "userId": e.CustomerID, "messageId": e.ID,
		"timestamp": e.Time.Format(time.RFC3339), "context": map[string]any{"library": map[string]string{"name": "analytics.js"}},
	}
	props := map[string]any{}
	if e.Amount != 0 {
		props["total"] = fmt.Sprintf("%d.%02d", e.Amount/100, e.Amount%100)
		props["currency"] = e.Currency
	}
	if e.ReferrerID != "" {
		props["referrer_id"] = e.ReferrerID
	}
	if len(props) > 0 {
		call["properties"] = props
	}
	return call
}

func postJSON(t *testing.T, url string, v any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	var v T
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

// post sends the stream in batches of 40 and checks every answer.
func (s shopStream) post(t *testing.T, baseURL string) {
	t.Helper()
	for i := 0; i < len(s.wire); i += 40 {
		code, body := postJSON(t, baseURL+"/v1/events", s.wire[i:min(i+40, len(s.wire))])
		require.Equal(t, http.StatusAccepted, code, "batch at %d: %s", i, body)
	}
}

// expected replays the stream through a tracker of its own.
func (s shopStream) expected(t *testing.T) (*store.Memory, *funnel.Report) {
	t.Helper()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), st)
	_, err := tr.RecordBatch(context.Background(), s.events)
	require.NoError(t, err)
	rep, err := funnel.AnalyzeStore(context.Background(), model.SterneCutler().Stages(), st)
	require.NoError(t, err)
	return st, rep
}

type funnelRow struct {
	ID                        stage.ID
	Current, Reached, Stopped int
}

func TestEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		endToEnd(t, "-db", filepath.Join(t.TempDir(), "shop.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("CLM_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("PostgreSQL end-to-end test skipped: CLM_POSTGRES_DSN is not set (see .ci/postgres.sh)")
		}
		prefix := fmt.Sprintf("shop_e2e_%d_", time.Now().UnixNano())
		endToEnd(t, "-postgres", dsn, "-table-prefix", prefix)
	})
}

// endToEnd starts the service on the store the flags name, posts a
// realistic stream, reads the funnel and customers back, checks the
// webhooks and restarts the service on the same store.
func endToEnd(t *testing.T, storeFlags ...string) {
	rc := newReceiver(t)
	svc := start(t, append(storeFlags, "-webhook-url", rc.URL+"/hooks", "-webhook-secret", rc.secret)...)
	stream := newStream(2026, 150)
	stream.post(t, svc.URL)
	// Posting it all again changes nothing: every event is a duplicate.
	code, body := postJSON(t, svc.URL+"/v1/events", stream.wire[:40])
	require.Equal(t, http.StatusAccepted, code)
	require.NotContains(t, string(body), `"applied"`, "a replayed batch must come back as duplicates")

	want, rep := stream.expected(t)
	var wantRows []funnelRow
	for _, s := range rep.Stages {
		wantRows = append(wantRows, funnelRow{s.Stage, s.Current, s.Reached, s.Stopped})
	}

	type funnelView struct {
		Customers int `json:"customers"`
		Stages    []struct {
			ID         stage.ID `json:"id"`
			Current    int      `json:"current"`
			Reached    int      `json:"reached"`
			Stopped    int      `json:"stopped"`
			Conversion float64  `json:"conversion"`
			Stay       struct {
				N             int     `json:"n"`
				MedianSeconds float64 `json:"median_seconds"`
			} `json:"stay"`
		} `json:"stages"`
	}
	fv := getJSON[funnelView](t, svc.URL+"/v1/funnel")
	var gotRows []funnelRow
	for i, s := range fv.Stages {
		gotRows = append(gotRows, funnelRow{s.ID, s.Current, s.Reached, s.Stopped})
		ws := rep.Stages[i]
		if s.Conversion != ws.Conversion || s.Stay.N != ws.Stay.N || s.Stay.MedianSeconds != ws.Stay.Median.Seconds() {
			t.Errorf("stage %s: conversion %v, stays %d (median %vs); want %v, %d (%vs)", s.ID, s.Conversion, s.Stay.N, s.Stay.MedianSeconds, ws.Conversion, ws.Stay.N, ws.Stay.Median.Seconds())
		}
	}
	if diff := cmp.Diff(wantRows, gotRows); diff != "" {
		t.Errorf("funnel (-want +got):\n%s", diff)
	}
	if fv.Customers != 150 {
		t.Errorf("funnel over %d customers, want 150", fv.Customers)
	}
	for _, r := range wantRows {
		if r.Current == 0 && r.ID != model.Loyalty {
			t.Errorf("stage %s is empty: the stream should fill every stage but loyalty", r.ID)
		}
	}

	type stagesView struct {
		Stages []struct {
			ID        stage.ID `json:"id"`
			Customers int      `json:"customers"`
		} `json:"stages"`
	}
	sv := getJSON[stagesView](t, svc.URL+"/v1/stages")
	for i, s := range sv.Stages {
		if s.ID != wantRows[i].ID || s.Customers != wantRows[i].Current {
			t.Errorf("stages[%d] = %s %d, want %s %d", i, s.ID, s.Customers, wantRows[i].ID, wantRows[i].Current)
		}
	}

	type customerView struct {
		Stage   stage.ID               `json:"stage"`
		Orders  int64                  `json:"orders"`
		Revenue map[string]int64       `json:"revenue"`
		History []lifecycle.Transition `json:"history"`
	}
	transitions := 0
	for c, err := range want.Scan(context.Background()) {
		require.NoError(t, err)
		transitions += len(c.History)
		if !strings.HasSuffix(c.ID, "7") { // look a tenth of them up
			continue
		}
		got := getJSON[customerView](t, svc.URL+"/v1/customers/"+c.ID)
		w := customerView{Stage: c.Stage, Orders: c.Facts.Orders(), History: c.History}
		if cur := c.Facts.Currencies(); len(cur) > 0 {
			w.Revenue = map[string]int64{"EUR": c.Facts.Revenue("EUR")}
		}
		if diff := cmp.Diff(w, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("customer %s (-want +got):\n%s", c.ID, diff)
		}
	}

	// The webhooks catch up with the stream, and the receiver holds one
	// verified delivery per transition.
	waitCaughtUp(t, svc.URL, svc.logs, time.Now())
	// The metrics count every transition as a stage move and as a
	// delivery, and every event once.
	mfs := scrapeService(t, svc.URL)
	sum := func(name string) (n float64) {
		for _, m := range mfs[name].GetMetric() {
			n += m.GetCounter().GetValue()
		}
		return n
	}
	require.Equal(t, float64(transitions), sum("clm_shop_stage_moves_total"), "stage moves counted")
	require.Equal(t, float64(transitions), sum("clm_shop_webhook_deliveries_total"), "deliveries counted")
	require.Equal(t, float64(len(stream.events)+40), sum("clm_shop_events_total"), "events counted (the stream, and 40 sent again)")
	require.NoError(t, svc.stop(), "logs:\n%s", svc.logs)
	received, problems := rc.snapshot()
	t.Logf("%d events, %d transitions, %d webhook deliveries", len(stream.events), transitions, len(received))
	if len(received) != transitions || len(problems) > 0 {
		t.Errorf("webhook receiver got %d different changes (problems: %q), want one per transition: %d", len(received), problems, transitions)
	}
	if !strings.Contains(svc.logs.String(), "shop: webhooks stopped") {
		t.Errorf("shutdown did not stop the webhooks:\n%s", svc.logs)
	}

	// The store keeps the customers across a restart.
	svc2 := start(t, storeFlags...)
	got := getJSON[customerView](t, svc2.URL+"/v1/customers/cust-0007")
	c, err := want.Get(context.Background(), "cust-0007")
	require.NoError(t, err)
	if got.Stage != c.Stage || len(got.History) != len(c.History) {
		t.Errorf("after restart: cust-0007 in %s with %d transitions, want %s with %d", got.Stage, len(got.History), c.Stage, len(c.History))
	}
	require.NoError(t, svc2.stop())
}

func TestRunRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown model", []string{"-model", "nope"}, "nope"},
		{"webhook without secret", []string{"-webhook-url", "http://127.0.0.1:9/x", "-webhook-secret", ""}, "-webhook-secret"},
		{"bad webhook URL", []string{"-webhook-url", "ftp://x", "-webhook-secret", testSecret}, "http or https"},
		{"webhook URL without host", []string{"-webhook-url", "http:///x", "-webhook-secret", testSecret}, "-webhook-url"},
		{"old-style secret", []string{"-webhook-url", "http://127.0.0.1:9/x", "-webhook-secret", "e2e-secret"}, `"whsec_…" and the base64 of 24 to 64 random bytes; make one with: echo "whsec_$(openssl rand -base64 32)"`},
		{"secret not base64", []string{"-webhook-url", "http://127.0.0.1:9/x", "-webhook-secret", "whsec_!!!"}, "-webhook-secret"},
		{"secret key too short", []string{"-webhook-url", "http://127.0.0.1:9/x", "-webhook-secret", "whsec_c2hvcnQ="}, "openssl rand"},
		{"lease too short", []string{"-webhook-lease", "10ms"}, "-webhook-lease"},
		{"empty webhook name", []string{"-webhook-name", ""}, "-webhook-name"},
		{"webhook name with a control character", []string{"-webhook-name", "a\x00b"}, "-webhook-name"},
		{"negative shutdown timeout", []string{"-shutdown-timeout", "-1s"}, "-shutdown-timeout"},
		{"bad log format", []string{"-log-format", "xml"}, "-log-format"},
		{"stray argument", []string{"serve"}, "unexpected"},
		{"bad postgres URL", []string{"-postgres", "mysql://x"}, "-postgres"},
		{"SQLite URL as -postgres", []string{"-postgres", "sqlite::memory:"}, "-postgres"},
		{"key=value connection string", []string{"-postgres", "host=db user=clm password=s3cret dbname=shop"}, "key=value"},
		{"scheme missing", []string{"-postgres", "clm:s3cret@db/shop"}, "-postgres"},
		{"address in use", []string{"-addr", "256.0.0.1:80"}, `-addr "256.0.0.1:80"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-db", ":memory:", "-addr", "127.0.0.1:0"}, tc.args...)
			err := run(context.Background(), args, io.Discard, nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			for i, a := range tc.args {
				if (a == "-webhook-secret" || a == "-postgres") && tc.args[i+1] != "" {
					require.NotContains(t, err.Error(), "s3cret", "the error shows a password")
				}
				if a == "-webhook-secret" && tc.args[i+1] != "" {
					require.NotContains(t, err.Error(), tc.args[i+1], "the error shows the secret")
				}
			}
		})
	}
}

// overTimeRE finds each row of the "stages over time" panel and its last
// cell (now); revenueRowRE each row of the revenue panel and its customers.
var (
	overTimeRE   = regexp.MustCompile(`<tr data-stage="([a-z_]+)"><td>[^<]*</td>(?:<td class="num" data-at="[0-9-]+">\d+</td>)*<td class="num" data-at="[0-9-]+">(\d+)</td></tr>`)
	revenueRowRE = regexp.MustCompile(`<tr data-stage="([a-z_]+)"><td>[^<]*</td><td class="num" data-customers="(\d+)">`)
)

// heatCellRE finds the first cell (k = 0) of each cohort of the retention
// heatmap and the cohort's size; flywheelRowRE each period of the flywheel
// table; riskRowRE each customer of the risk panel.
var (
	heatCellRE    = regexp.MustCompile(`<rect class="cell" data-cohort="(\d{4}-\d\d)" data-k="0" data-retained="\d+" data-customers="(\d+)"`)
	flywheelRowRE = regexp.MustCompile(`<tr data-period="\d{4}-\d\d-\d\d" data-prospects="\d+" data-referred="\d+" data-new="\d+">`)
	riskRowRE     = regexp.MustCompile(`<tr data-customer="[^"]+" data-palive="[0-9.]+">`)
)

// countRE finds the chart's count labels in the rendered DOM.
var countRE = regexp.MustCompile(`<text[^>]*class="count"[^>]*data-stage="([a-z_]+)"[^>]*>\s*(\d+)\s*</text>`)

func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, "/usr/bin/chromium", append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium %v\nstderr:\n%s", args, stderr.String())
	return out
}

// TestBrowserDashboard loads the dashboard in headless Chromium and checks
// that the funnel chart shows the service's stage counts.
func TestBrowserDashboard(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("headless browser test skipped: /usr/bin/chromium not found (install the Debian package chromium)")
	}
	svc := start(t, "-db", ":memory:")
	newStream(7, 80).post(t, svc.URL)

	type stagesView struct {
		Stages []struct {
			ID        stage.ID `json:"id"`
			Customers int      `json:"customers"`
		} `json:"stages"`
	}
	want := map[string]int{}
	for _, s := range getJSON[stagesView](t, svc.URL+"/v1/stages").Stages {
		want[string(s.ID)] = s.Customers
	}

	dom := chromium(t, "--dump-dom", svc.URL+"/")
	got := map[string]int{}
	for _, m := range countRE.FindAllSubmatch(dom, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		got[string(m[1])] = n
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("funnel chart counts in the rendered DOM (-want +got):\n%s\nDOM:\n%s", diff, dom)
	}
	if !bytes.Contains(dom, []byte(`<svg id="funnel"`)) {
		t.Error("the rendered DOM has no funnel SVG")
	}
	// The "stages over time" panel ends with the counts of now, and the
	// revenue panel counts the same customers per stage.
	gotNow, gotRevenueRows := map[string]int{}, map[string]int{}
	for _, m := range overTimeRE.FindAllSubmatch(dom, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		gotNow[string(m[1])] = n
	}
	for _, m := range revenueRowRE.FindAllSubmatch(dom, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		gotRevenueRows[string(m[1])] = n
	}
	if diff := cmp.Diff(want, gotNow); diff != "" {
		t.Errorf("stages over time, now, in the rendered DOM (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, gotRevenueRows); diff != "" {
		t.Errorf("customers by stage in the revenue panel of the rendered DOM (-want +got):\n%s", diff)
	}
	if !bytes.Contains(dom, []byte(`data-currency="EUR"`)) {
		t.Error("the revenue panel shows no EUR revenue")
	}

	// The owner panels: the retention heatmap has a cell per cohort and
	// month since, cohort sizes adding up to the customers with an order;
	// the flywheel table a row per period; the risk panel a list or the
	// reason it has none.
	cohortSizes := map[string]int{}
	for _, m := range heatCellRE.FindAllSubmatch(dom, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		cohortSizes[string(m[1])] = n
	}
	buyers := 0
	for _, n := range cohortSizes {
		buyers += n
	}
	if len(cohortSizes) == 0 || buyers != want["conversion"]+want["retention"]+want["loyalty"] {
		t.Errorf("retention heatmap: cohorts %v add up to %d customers, want the %d with an order", cohortSizes, buyers, want["conversion"]+want["retention"]+want["loyalty"])
	}
	if n := len(flywheelRowRE.FindAll(dom, -1)); n != 12 {
		t.Errorf("flywheel table: %d periods rendered, want 12", n)
	}
	switch risk := riskRowRE.FindAll(dom, -1); {
	case len(risk) > 0:
		t.Logf("risk panel: %d customers listed", len(risk))
	case bytes.Contains(dom, []byte(`id="risk-msg"`)):
		t.Logf("risk panel: %s", regexp.MustCompile(`id="risk-msg">([^<]*)<`).FindSubmatch(dom)[1])
	default:
		t.Error("the risk panel shows neither customers nor a message")
	}

	dom = chromium(t, "--dump-dom", svc.URL+"/?customer=cust-0007")
	if !bytes.Contains(dom, []byte(`data-customer="cust-0007"`)) {
		t.Errorf("customer lookup did not render cust-0007:\n%s", dom)
	}

	dir := t.TempDir()
	shot := filepath.Join(dir, "dashboard.png")
	chromium(t, "--screenshot="+shot, "--window-size=1200,900", "--hide-scrollbars", svc.URL+"/")
	f, err := os.Open(shot)
	require.NoError(t, err, "screenshot not written")
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	require.NoError(t, err)
	if format != "png" || cfg.Width != 1200 || cfg.Height != 900 {
		t.Errorf("screenshot is %s %dx%d, want png 1200x900", format, cfg.Width, cfg.Height)
	}
	t.Logf("screenshot: %s", shot)
	if keep := os.Getenv("SHOP_SCREENSHOT_DIR"); keep != "" {
		b, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(keep, "dashboard.png"), b, 0o644))
	}
}

// -api-keys (or $CLM_SHOP_API_KEYS) turns authentication on for the whole
// service.
func TestRunAPIKeys(t *testing.T) {
	s := start(t, "-db", ":memory:", "-api-keys", " k1 , k2 ")
	get := func(key string) int {
		req, err := http.NewRequest(http.MethodGet, s.URL+"/v1/stages", nil)
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, get(""))
	require.Equal(t, http.StatusUnauthorized, get("k3"))
	require.Equal(t, http.StatusOK, get("k1"))
	require.Equal(t, http.StatusOK, get("k2"))
	require.Contains(t, s.logs.String(), "auth=true")

	t.Setenv("CLM_SHOP_API_KEYS", "from-env")
	s = start(t, "-db", ":memory:")
	require.Equal(t, http.StatusUnauthorized, get(""))
	require.Equal(t, http.StatusOK, get("from-env"))
}

// TestDocListsEveryFlag: the command's doc comment lists every flag the
// command defines, and no other.
func TestDocListsEveryFlag(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	doc, _, ok := strings.Cut(string(src), "\npackage main")
	require.True(t, ok, "main.go has a package clause")
	documented := regexp.MustCompile(`(?m)^//\t(-[a-z-]+) `).FindAllStringSubmatch(doc, -1)
	var inDoc []string
	for _, m := range documented {
		inDoc = append(inDoc, m[1])
	}
	var usage bytes.Buffer
	_, err = parseFlags([]string{"-h"}, &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	var defined []string
	for _, m := range regexp.MustCompile(`(?m)^  (-[a-z-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		defined = append(defined, m[1])
	}
	require.NotEmpty(t, defined)
	require.ElementsMatch(t, defined, inDoc, "flags defined (usage) vs. flags in main.go's doc comment")
}

// TestHelpExitsZero: -h prints the usage and exits 0, as a flag set with
// flag.ExitOnError would; bad flags and failures exit 2.
func TestHelpExitsZero(t *testing.T) {
	if os.Getenv("SHOP_TEST_MAIN") == "1" {
		os.Args = append([]string{"shop"}, strings.Fields(os.Getenv("SHOP_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	for args, want := range map[string]int{"-h": 0, "-help": 0, "-no-such-flag": 2, "-log-format xml": 2} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelpExitsZero$")
		cmd.Env = append(os.Environ(), "SHOP_TEST_MAIN=1", "SHOP_TEST_ARGS="+args)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, want, code, "shop %s exit code; output:\n%s", args, out)
	}
}
