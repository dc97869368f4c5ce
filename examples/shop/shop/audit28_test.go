package shop_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// docs/shop.md: "stages over time: customers in each stage at the same
// day and hour of each of the last 12 months". On the 29th-31st,
// now.AddDate(0, -k, 0) normalises (Feb 31 -> Mar 3): months repeat and
// others are missing.
func TestAuditOverTimeMonthEnd(t *testing.T) {
	end := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return end }))
	srv := shop.New(tr, shop.WithClock(func() time.Time { return end }))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	// One row's cells: the 12 points.
	row := regexp.MustCompile(`<tr data-stage="reach"><td>[^<]*</td>((?:<td class="num" data-at=[^>]*>\d+</td>)+)</tr>`).FindStringSubmatch(rec.Body.String())
	if row == nil {
		t.Fatalf("no over-time row in\n%s", rec.Body)
	}
	var months []string
	for _, m := range regexp.MustCompile(`data-at="(\d{4}-\d\d)-\d\d"`).FindAllStringSubmatch(row[1], -1) {
		months = append(months, m[1])
	}
	var want []string
	for k := 11; k >= 0; k-- {
		want = append(want, time.Date(2026, time.Month(3-k), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"))
	}
	if fmt.Sprint(months) != fmt.Sprint(want) {
		t.Errorf("over-time points on %s fall in months\n%v, want one per month\n%v", end.Format("2006-01-02"), months, want)
	}
}

// docs/shop.md: "customers and revenue by stage: per stage, the
// customers in it now, their net revenue ... per currency". Facts
// saturate at MaxInt64 per customer, but the per-stage sum wraps.
func TestAuditStageRevenueOverflow(t *testing.T) {
	srv, _ := newServer(t, nil)
	body := `[{"id":"o1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":9223372036854775807,"currency":"EUR"},
	{"id":"o2","customer_id":"c2","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":9223372036854775807,"currency":"EUR"}]`
	if rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, body); rec.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	page := do(t, srv, http.MethodGet, "/", "", "").Body.String()
	for _, m := range regexp.MustCompile(`<tr data-stage="([a-z]+)">.*?data-revenue="(-?\d+)">([^<]*)<`).FindAllStringSubmatch(page, -1) {
		if strings.HasPrefix(m[2], "-") {
			t.Errorf("stage %s shows revenue %s (%s) after two orders and no refund", m[1], m[2], m[3])
		}
	}
}

// docs/shop.md: the risk panel's money is "in the currency with the
// largest net revenue"; the code takes the largest absolute net revenue,
// so one refund in another currency (no order) switches the panel to
// that currency and the fit fails for every EUR customer.
func TestAuditRiskCurrencyIsLargestNet(t *testing.T) {
	srv, _ := newServer(t, nil)
	var evs []string
	base := now.AddDate(-1, 0, 0)
	for c := range 30 {
		for k := range 1 + c%4 {
			at := base.Add(time.Duration(c*5+k*60) * 24 * time.Hour)
			evs = append(evs, fmt.Sprintf(`{"id":"o%d-%d","customer_id":"c%d","type":"order_completed","time":%q,"amount":10000,"currency":"EUR"}`, c, k, c, at.Format(time.RFC3339)))
		}
	}
	if rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, "["+strings.Join(evs, ",")+"]"); rec.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	if page := do(t, srv, http.MethodGet, "/", "", "").Body.String(); strings.Contains(page, `id="risk-msg"`) {
		t.Fatalf("risk panel fails before the refund:\n%s", page)
	}
	refund := `{"id":"r1","customer_id":"x1","type":"order_refunded","time":"2026-03-01T10:00:00Z","amount":999999999,"currency":"USD"}`
	if rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, refund); rec.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	page := do(t, srv, http.MethodGet, "/", "", "").Body.String()
	if m := regexp.MustCompile(`<p class="missing" id="risk-msg">([^<]*)</p>`).FindStringSubmatch(page); m != nil {
		t.Errorf("EUR has the largest net revenue (+7500.00 EUR vs -9999999.99 USD), yet the risk panel says: %s", m[1])
	}
}

// docs/shop.md: a Segment call is recognised by its "type" or by a
// userId, anonymousId or messageId, and in the library's form "an unknown
// field (names are case-sensitive)" is refused naming the field as sent.
// isSegment peeks with encoding/json, which matches keys case-insensitively:
// a library event with "MessageId" is taken for a Segment call and the
// error blames "id", a field the library's form has.
func TestAuditCaseVariantSegmentKeyMisnamed(t *testing.T) {
	srv, _ := newServer(t, nil)
	for _, extra := range []string{"MessageId", "userid", "ANONYMOUSID"} {
		body := `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","` + extra + `":"x"}`
		rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, body)
		var a answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || len(a.Results) != 1 || a.Results[0].Error == nil {
			t.Fatalf("%s: %d %s", extra, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusBadRequest || a.Results[0].Error.Field != extra {
			t.Errorf("%s: got %d, field %q (%s); want 400 naming %q", extra, rec.Code, a.Results[0].Error.Field, a.Results[0].Error.Message, extra)
		}
	}
}
