package shop_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle/feed"
)

// TestWebhooksView: GET /v1/webhooks and the dashboard show the
// dispatcher's state, lag and last error, escaped.
func TestWebhooksView(t *testing.T) {
	stats := feed.Stats{
		Name: "webhooks", Owner: "host/1/x", Running: true, Holding: true, Cursor: 41,
		Delivered: 40, Failures: 3, Current: "chg_abc", Attempts: 2,
		NextAttempt:  now.Add(4 * time.Second),
		PendingSince: now.Add(-90 * time.Second),
		LastError:    `webhook: POST http://h/x: 302 Found (redirect to "<script>" not followed)`,
		LastErrorAt:  now.Add(-time.Second),
	}
	srv, _ := newServer(t, nil, shop.WithWebhooks(func() feed.Stats { return stats }, "https://hooks.example/clm"))

	type view struct {
		URL, Name, State, Owner, Current string
		Holding                          bool
		Cursor, Delivered, Failures      uint64
		Attempts                         int
		LagSeconds                       float64    `json:"lag_seconds"`
		LastError                        string     `json:"last_error"`
		NextAttempt                      *time.Time `json:"next_attempt"`
	}
	get := func() view {
		rec := do(t, srv, http.MethodGet, "/v1/webhooks", "", "")
		require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
		return decode[view](t, rec)
	}
	v := get()
	require.Equal(t, view{URL: "https://hooks.example/clm", Name: "webhooks", State: "delivering", Owner: "host/1/x",
		Current: "chg_abc", Holding: true, Cursor: 41, Delivered: 40, Failures: 3, Attempts: 2,
		LagSeconds: 90, LastError: stats.LastError, NextAttempt: &stats.NextAttempt}, v)

	rec := do(t, srv, http.MethodGet, "/", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	for _, want := range []string{`<td id="webhooks-state">delivering</td>`, `<td class="num">40</td><td class="num">3</td><td class="num">1m</td><td class="num">41</td>`,
		"https://hooks.example/clm", "2 failed attempts", "&lt;script&gt;"} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "<script>")

	stats.Holding = false
	require.Equal(t, "standby", get().State)
	stats.Running = false
	require.Equal(t, "stopped", get().State)

	// Without webhooks: 404 and no section on the dashboard.
	srv, _ = newServer(t, nil, shop.WithWebhooks(nil, "ignored"))
	rec = do(t, srv, http.MethodGet, "/v1/webhooks", "", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	rec = do(t, srv, http.MethodGet, "/", "", "")
	require.False(t, strings.Contains(rec.Body.String(), `id="webhooks"`))
}

// TestDocReceiverIsTested: the receiver docs/shop.md shows is the one
// Example_webhooks runs.
func TestDocReceiverIsTested(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/shop.md")
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(doc), "```go\n// receiver handles")
	require.True(t, ok, "docs/shop.md has no receiver block")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	block = "// receiver handles" + block
	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	require.Contains(t, string(src), block, "docs/shop.md's receiver differs from example_test.go's")
}
