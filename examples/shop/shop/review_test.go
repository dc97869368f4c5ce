package shop_test

// Review tests (zz_). TestReview* fail: each is a finding against the
// docs (docs/shop.md, package doc). TestReviewHeld* pass: checks that held.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func zzVisit(i int, cust string) string {
	return fmt.Sprintf(`{"id":"e-%d","customer_id":"%s","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, i, cust)
}

// docs/shop.md, metrics table: clm_shop_http_request_duration_seconds'
// route label is "the route pattern that served it (..., `unmatched` when
// no route did)". A request for a path no route serves (404) is labelled
// with the catch-all handlers' patterns "/" and "/v1/"; "unmatched" never
// appears.
func TestReviewUnmatchedRouteLabel(t *testing.T) {
	srv, _ := newServer(t, nil)
	require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, "/nothing", "", "").Code)
	require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, "/v1/nothing", "", "").Code)
	// The API's other catch-all, and paths that are not clean (refused
	// with 404 whatever route their cleaned path matches): also
	// unmatched (found by an audit: labelled "/v1" and "GET /v1/stages").
	require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, "/v1", "", "").Code)
	require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, "/v1//stages", "", "").Code)
	require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, "/v1/./funnel", "", "").Code)
	mfs := scrape(t, srv)
	for _, m := range mfs["clm_shop_http_request_duration_seconds"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "route" {
				t.Logf("route=%q", lp.GetValue())
			}
		}
	}
	requireValue(t, mfs, 5, "clm_shop_http_request_duration_seconds", "route", "unmatched", "code", "404")
}

// docs/shop.md, The API: "All answers are JSON (but /metrics ... and the
// dashboard ...)" and "any other path gets 404 not_found". A path with
// "//", "." or ".." segments gets net/http's 307 redirect with a text/html
// body instead (POST /v1//events too).
func TestReviewNonCanonicalPathsAnswerJSON(t *testing.T) {
	srv, _ := newServer(t, nil)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/v1//stages"},
		{http.MethodGet, "/v1/customers/../stages"},
		{http.MethodGet, "/../../etc/passwd"},
		{http.MethodPost, "/v1//events"},
	} {
		rec := do(t, srv, tc.method, tc.path, jsonCT, visit)
		t.Logf("%s %s -> %d %s Location=%q", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Location"))
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"), "%s %s: %d %s", tc.method, tc.path, rec.Code, rec.Body)
		require.Equal(t, http.StatusNotFound, rec.Code, "%s %s", tc.method, tc.path)
	}
}

// TestReviewSegmentReferralConvertedIsCustom: a track call named
// "Referral Converted" is the custom type segment.referral_converted, as
// docs/shop.md says, and credits nobody.
func TestReviewSegmentReferralConvertedIsCustom(t *testing.T) {
	srv, tr := newServer(t, nil)
	rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT,
		`{"type":"track","event":"Referral Converted","userId":"u1","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	c, err := tr.Customer(t.Context(), "u1")
	require.NoError(t, err)
	require.Len(t, c.Facts.Tallies, 1)
	require.Equal(t, "segment.referral_converted", string(c.Facts.Tallies[0].Type))
	require.Empty(t, c.Facts.Referrals)
}

// Held: batch and body limits at and over the documented values.
func TestReviewHeldLimits(t *testing.T) {
	srv, _ := newServer(t, nil)
	var evs, segs []string
	for i := range shop.DefaultMaxBatch + 1 {
		evs = append(evs, zzVisit(i, fmt.Sprintf("k%d", i%7)))
		segs = append(segs, fmt.Sprintf(`{"type":"identify","userId":"s%d"}`, i))
	}
	require.Equal(t, 202, do(t, srv, "POST", "/v1/events", jsonCT, "["+strings.Join(evs[:1000], ",")+"]").Code)
	rec := do(t, srv, "POST", "/v1/events", jsonCT, "["+strings.Join(evs, ",")+"]")
	require.Equal(t, 413, rec.Code)
	require.Equal(t, "too_many_events", decode[answer](t, rec).Error.Code)
	require.Equal(t, 202, do(t, srv, "POST", "/v1/events", jsonCT, `{"batch":[`+strings.Join(segs[:1000], ",")+"]}").Code)
	require.Equal(t, 413, do(t, srv, "POST", "/v1/events", jsonCT, `{"batch":[`+strings.Join(segs, ",")+"]}").Code)
	body := zzVisit(5000, "big")
	body += strings.Repeat(" ", shop.DefaultMaxBodyBytes-len(body))
	require.Equal(t, 202, do(t, srv, "POST", "/v1/events", jsonCT, body).Code)
	rec = do(t, srv, "POST", "/v1/events", jsonCT, body+" ")
	require.Equal(t, 413, rec.Code)
	require.Equal(t, "body_too_large", decode[answer](t, rec).Error.Code)
	// Deep nesting, BOM, NUL: refused with JSON errors, no panic.
	require.Equal(t, 400, do(t, srv, "POST", "/v1/events", jsonCT, strings.Repeat("[", 100000)).Code)
	require.Equal(t, 400, do(t, srv, "POST", "/v1/events", jsonCT, "\ufeff"+visit).Code)
	require.Equal(t, 422, do(t, srv, "POST", "/v1/events", jsonCT, `{"id":"a\u0000","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`).Code)
	require.Equal(t, 400, do(t, srv, "POST", "/v1/events", jsonCT, "{\"id\":\"a\",\"customer_id\":\"c\xff\",\"type\":\"site_visited\",\"time\":\"2026-03-01T10:00:00Z\"}").Code)
	require.Equal(t, 400, do(t, srv, "POST", "/v1/events", jsonCT, `{"id":"a","id":"b","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`).Code)
	for _, p := range []string{"/v1/customers/%FF", "/v1/customers/%00", "/v1/customers/" + strings.Repeat("a", 257)} {
		require.Equal(t, "bad_id", decode[struct{ Error struct{ Code string } }](t, do(t, srv, "GET", p, "", "")).Error.Code, p)
	}
}

// Held: concurrent requests for one customer lose nothing and apply a
// shared event once; a retried request comes back as duplicates.
func TestReviewHeldConcurrentAndRetry(t *testing.T) {
	st := store.NewMemory()
	srv, tr := newServer(t, st)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 10 {
				body := fmt.Sprintf(`[{"id":"o-%d","customer_id":"same","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":100,"currency":"EUR"},`, g*100+k) +
					`{"id":"shared","customer_id":"same","type":"site_visited","time":"2026-03-01T10:00:00Z"}]`
				rec := do(t, srv, "POST", "/v1/events", jsonCT, body)
				var a answer
				_ = json.Unmarshal(rec.Body.Bytes(), &a)
				mu.Lock()
				statuses[fmt.Sprint(rec.Code)]++
				for _, r := range a.Results {
					statuses[r.Status]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, map[string]int{"202": 80, "applied": 81, "duplicate": 79}, statuses)
	c, err := tr.Customer(t.Context(), "same")
	require.NoError(t, err)
	require.EqualValues(t, 80, c.Facts.Orders())
	require.EqualValues(t, 8000, c.Facts.Revenue("EUR"))
	a := decode[answer](t, do(t, srv, "POST", "/v1/events", jsonCT, `[`+visit+`,`+order+`]`))
	b := decode[answer](t, do(t, srv, "POST", "/v1/events", jsonCT, `[`+visit+`,`+order+`]`))
	require.Equal(t, "applied", a.Results[1].Status)
	require.Equal(t, "duplicate", b.Results[1].Status)
	require.Equal(t, a.Results[1].Version, b.Results[1].Version)
	_ = lifecycle.OrderCompleted
	_ = model.Reach
}
