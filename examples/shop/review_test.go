package main

// Review tests (zz_): each test here that fails is a finding against
// docs/shop.md; see the comment on each.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// docs/shop.md: "A bad flag or value exits with status 2 and a message
// naming the flag". A bad -addr gives "listen tcp: address nope: missing
// port in address", which does not name -addr.
func TestReviewBadAddrNamesFlag(t *testing.T) {
	for _, addr := range []string{"nope", "127.0.0.1:99999"} {
		err := run(context.Background(), []string{"-db", ":memory:", "-sweep-every", "0", "-addr", addr}, io.Discard, nil)
		require.Error(t, err)
		require.Contains(t, err.Error(), "-addr", "error for -addr %q: %v", addr, err)
	}
}

// docs/shop.md, GET /v1/webhooks: "url: the endpoint, without its
// password, query or fragment" (main.go: the query and fragment "may hold
// a token"). The same answer's last_error, and the dashboard, show the
// endpoint with its query verbatim once a delivery fails.
func TestReviewWebhookQueryTokenNotShown(t *testing.T) {
	const token = "TOPSECRET123"
	s := start(t, "-db", ":memory:", "-shutdown-timeout", "1ms",
		"-webhook-url", "http://127.0.0.1:1/hook?token="+token, "-webhook-secret", testSecret)
	resp, err := http.Post(s.URL+"/v1/events", "application/json",
		strings.NewReader(`{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r, err := http.Get(s.URL + "/v1/webhooks")
		require.NoError(t, err)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		body = string(b)
		if strings.Contains(body, `"last_error"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Contains(t, body, `"last_error"`, "a delivery failed")
	require.NotContains(t, body, token, "GET /v1/webhooks shows the endpoint's query:\n%s", body)
	r, err := http.Get(s.URL + "/")
	require.NoError(t, err)
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	require.NotContains(t, string(b), token, "the dashboard shows the endpoint's query")
}

// docs/shop.md, GET /v1/webhooks: "url: the endpoint, without its
// password, query or fragment". A review found the password shown as
// xxxxx and the query as "?…".
func TestContractReviewShownURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:xxxxx@h.example/hooks/clm?token=abc#frag": "http://user@h.example/hooks/clm",
		"https://crm.example/hooks/clm":                        "https://crm.example/hooks/clm",
		"https://crm.example/hooks/clm?":                       "https://crm.example/hooks/clm",
		"https://:xxxxx@crm.example/a#b":                       "https://crm.example/a",
	} {
		if got := shownURL(in); got != want {
			t.Errorf("shownURL(%q) = %q, want %q", in, got, want)
		}
	}
}
