package shop_test

// Tests written from the documentation alone (go doc ./shop,
// docs/shop.md, README.md): they try to break the promises the docs make.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

var contractNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type contractRig struct {
	h  http.Handler
	st *store.Memory
	tr *lifecycle.Tracker
}

func contractNew(t *testing.T, opts ...shop.Option) *contractRig {
	t.Helper()
	m, err := model.Lookup("sterne-cutler")
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return contractNow }))
	return &contractRig{h: shop.New(tr, opts...), st: st, tr: tr}
}

type contractAnswer struct {
	Code   int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

func (a contractAnswer) errCode() string {
	e, _ := a.JSON["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (a contractAnswer) errMessage() string {
	e, _ := a.JSON["error"].(map[string]any)
	c, _ := e["message"].(string)
	return c
}

func (a contractAnswer) results() []map[string]any {
	rs, _ := a.JSON["results"].([]any)
	var out []map[string]any
	for _, r := range rs {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

func (g *contractRig) do(t *testing.T, req *http.Request) contractAnswer {
	t.Helper()
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s %s panicked: %v", req.Method, req.URL, r)
			}
		}()
		g.h.ServeHTTP(rec, req)
	}()
	a := contractAnswer{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	_ = json.Unmarshal(a.Body, &a.JSON)
	return a
}

func (g *contractRig) post(t *testing.T, body string, ctype string) contractAnswer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return g.do(t, req)
}

func (g *contractRig) get(t *testing.T, target string) contractAnswer {
	t.Helper()
	return g.do(t, httptest.NewRequest(http.MethodGet, target, nil))
}

func (g *contractRig) customers(t *testing.T) int {
	t.Helper()
	n := 0
	for _, err := range g.st.Scan(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// checkError checks the documented error shape and that it is JSON.
func contractCheckError(t *testing.T, name string, a contractAnswer, status int, code string) {
	t.Helper()
	if a.Code != status || a.errCode() != code {
		t.Errorf("%s: %d %q, want %d %q; body %.300s", name, a.Code, a.errCode(), status, code, a.Body)
		return
	}
	if a.errMessage() == "" {
		t.Errorf("%s: error without a message: %s", name, a.Body)
	}
	if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", name, ct)
	}
}

const contractGood = `{"id":"v-1","customer_id":"c42","type":"site_visited","time":"2026-03-01T10:00:00Z"}`

func TestContractDocExampleResults(t *testing.T) {
	m, _ := model.Lookup("sterne-cutler")
	st := store.NewMemory()
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC) }))
	g := &contractRig{h: shop.New(tr), st: st, tr: tr}
	a := g.post(t, `[
  {"id": "v-1", "customer_id": "c42", "type": "site_visited", "time": "2026-03-01T10:00:00Z"},
  {"id": "ord-1001", "customer_id": "c42", "type": "order_completed", "time": "2026-03-02T10:00:00Z",
   "amount": 4999, "currency": "EUR"}
]`, "application/json")
	if a.Code != http.StatusAccepted {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
	want := `{"accepted": 2, "results": [
    {"index": 0, "id": "v-1", "customer_id": "c42", "status": "applied", "to": "reach", "moved": true, "version": 1},
    {"index": 1, "id": "ord-1001", "customer_id": "c42", "status": "applied", "from": "reach", "to": "conversion", "moved": true, "version": 1}]}`
	var w, got any
	_ = json.Unmarshal([]byte(want), &w)
	_ = json.Unmarshal(a.Body, &got)
	if fmt.Sprint(w) != fmt.Sprint(got) {
		t.Errorf("answer\n%s\nwant (docs/shop.md)\n%s", a.Body, want)
	}
	c := g.get(t, "/v1/customers/c42")
	if c.Code != 200 || c.JSON["events"] != float64(2) || c.JSON["orders"] != float64(1) || c.JSON["version"] != float64(1) ||
		c.JSON["stage"] != "conversion" || fmt.Sprint(c.JSON["revenue"]) != "map[EUR:4999]" {
		t.Errorf("customer: %s", c.Body)
	}
	// Retrying the same request: every event a duplicate, nothing counted twice.
	a = g.post(t, `[
  {"id": "v-1", "customer_id": "c42", "type": "site_visited", "time": "2026-03-01T10:00:00Z"},
  {"id": "ord-1001", "customer_id": "c42", "type": "order_completed", "time": "2026-03-02T10:00:00Z",
   "amount": 4999, "currency": "EUR"}
]`, "")
	if a.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", a.Code, a.Body)
	}
	for _, r := range a.results() {
		if r["status"] != "duplicate" || r["to"] == nil || r["moved"] == nil || r["version"] != float64(1) {
			t.Errorf("retry result %v", r)
		}
	}
	c = g.get(t, "/v1/customers/c42")
	if c.JSON["events"] != float64(2) || c.JSON["version"] != float64(1) || fmt.Sprint(c.JSON["revenue"]) != "map[EUR:4999]" {
		t.Errorf("after a retry: %s", c.Body)
	}
}

func TestContractMalformedBodies(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty", "", 400, "malformed_json"},
		{"spaces", "   \n\t ", 400, "malformed_json"},
		{"truncated", `{"id":"e1"`, 400, "malformed_json"},
		{"null", "null", 400, "malformed_json"},
		{"number", "42", 400, "malformed_json"},
		{"string", `"hello"`, 400, "malformed_json"},
		{"true", "true", 400, "malformed_json"},
		{"empty array", "[]", 400, "malformed_json"},
		{"empty batch", `{"batch":[]}`, 400, "malformed_json"},
		{"batch null", `{"batch":null}`, 400, "malformed_json"},
		{"batch object", `{"batch":{}}`, 400, "malformed_json"},
		{"batch unknown field", `{"batch":[` + contractGood + `],"foo":1}`, 400, "malformed_json"},
		{"batch twice", `{"batch":[` + contractGood + `],"batch":[` + contractGood + `]}`, 400, "malformed_json"},
		{"trailing garbage", contractGood + ` x`, 400, "malformed_json"},
		{"two objects", contractGood + contractGood, 400, "malformed_json"},
		{"array then garbage", `[` + contractGood + `]]`, 400, "malformed_json"},
		{"deep nesting", deep, 400, "malformed_json"},
		{"not JSON", "id=e1&type=x", 400, "malformed_json"},
		{"unknown field", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","colour":"red"}`, 400, "malformed_event"},
		{"field in another case", `{"ID":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, 400, "malformed_event"},
		{"field twice", `{"id":"e1","id":"e2","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, 400, "malformed_event"},
		{"amount string", `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":"4999","currency":"EUR"}`, 400, "malformed_event"},
		{"time number", `{"id":"e1","customer_id":"c1","type":"site_visited","time":1772359200}`, 400, "malformed_event"},
		{"time +00:60", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00+00:60"}`, 400, "malformed_event"},
		{"time comma", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00,5Z"}`, 400, "malformed_event"},
		{"time 10 digits", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00.1234567891Z"}`, 400, "malformed_event"},
		{"good then unknown field", `[` + contractGood + `,{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","x":1}]`, 400, "malformed_event"},
		{"segment user_id", `{"type":"track","event":"Signed Up","user_id":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`, 400, "malformed_event"},
		{"segment messageId number", `{"type":"track","event":"Signed Up","userId":"c1","messageId":7,"timestamp":"2026-03-01T10:00:00Z"}`, 400, "malformed_event"},
		{"segment MESSAGEID", `{"type":"track","event":"Signed Up","userId":"c1","MESSAGEID":"m1","timestamp":"2026-03-01T10:00:00Z"}`, 400, "malformed_event"},
		{"segment RudderId case", `{"type":"track","event":"Signed Up","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","RudderId":"x"}`, 400, "malformed_event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := contractNew(t)
			a := g.post(t, tc.body, "application/json")
			contractCheckError(t, tc.name, a, tc.status, tc.code)
			if n := g.customers(t); n != 0 {
				t.Errorf("%s: %d customers stored after a refusal", tc.name, n)
			}
		})
	}
}

// Every bad event gets an error naming the field, as sent.
func TestContractRejectedFieldNames(t *testing.T) {
	for _, tc := range []struct {
		name, body, field string
		status            int
	}{
		{"unknown field", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","colour":"red"}`, "colour", 400},
		{"amount string", `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":"4999","currency":"EUR"}`, "amount", 400},
		{"referral_converted", `{"id":"e1","customer_id":"c1","type":"referral_converted","time":"2026-03-01T10:00:00Z"}`, "type", 422},
		{"typo type", `{"id":"e1","customer_id":"c1","type":"order_complete","time":"2026-03-01T10:00:00Z"}`, "type", 422},
		{"no id", `{"customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "id", 422},
		{"NUL in customer", `{"id":"e1","customer_id":"c\u0000","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "customer_id", 422},
		{"ZWSP in customer", `{"id":"e1","customer_id":"alice\u200b","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "customer_id", 422},
		{"RLO in id", `{"id":"\u202egnp.exe","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "id", 422},
		{"ESC in id", `{"id":"e\u001b[31m","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "id", 422},
		{"leading space", `{"id":"e1","customer_id":" c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "customer_id", 422},
		{"257 bytes", `{"id":"e1","customer_id":"` + strings.Repeat("x", 257) + `","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "customer_id", 422},
		{"16 min future", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T12:16:00Z"}`, "time", 422},
		{"lower-case currency", `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":5,"currency":"eur"}`, "currency", 422},
		{"negative amount", `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":-5,"currency":"EUR"}`, "amount", 422},
		{"year 1899", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"1899-12-31T00:00:00Z"}`, "time", 422},
		{"segment bad total", `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","properties":{"total":"abc","currency":"EUR"}}`, "properties.total", 422},
		{"segment bad timestamp", `{"type":"track","event":"Signed Up","userId":"c1","messageId":"m1","timestamp":"yesterday"}`, "timestamp", 422},
		{"segment only originalTimestamp", `{"type":"track","event":"Signed Up","userId":"c1","messageId":"m1","originalTimestamp":"2026-03-01T10:00:00Z"}`, "timestamp", 422},
		{"segment no user", `{"type":"track","event":"Signed Up","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`, "userId", 422},
		{"segment type Track", `{"type":"Track","event":"Signed Up","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`, "type", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := contractNew(t)
			a := g.post(t, `[`+contractGood+`,`+tc.body+`]`, "application/json")
			code := map[int]string{400: "malformed_event", 422: "invalid_event"}[tc.status]
			contractCheckError(t, tc.name, a, tc.status, code)
			rs := a.results()
			if len(rs) != 2 {
				t.Fatalf("results %s", a.Body)
			}
			if rs[0]["status"] != "not_applied" || rs[1]["status"] != "rejected" {
				t.Errorf("statuses %v, %v", rs[0]["status"], rs[1]["status"])
			}
			if a.JSON["accepted"] != float64(0) {
				t.Errorf("accepted %v", a.JSON["accepted"])
			}
			e, _ := rs[1]["error"].(map[string]any)
			if e["field"] != tc.field {
				t.Errorf("error field %v, want %q: %s", e["field"], tc.field, a.Body)
			}
			for _, k := range []string{"reason", "message"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error without %q: %v", k, e)
				}
			}
			if n := g.customers(t); n != 0 {
				t.Errorf("%d customers stored", n)
			}
		})
	}
}

func TestContractDocRejectionExample(t *testing.T) {
	g := contractNew(t)
	a := g.post(t, `[{"id":"v-2","customer_id":"c3","type":"site_visited","time":"2026-03-01T10:00:00Z"},
{"id":"o-9","customer_id":"c3","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":100,"currency":"eur"}]`, "application/json")
	want := `{
  "error": {"code": "invalid_event", "message": "1 of 2 events are invalid; none was applied"},
  "accepted": 0,
  "results": [
    {"index": 0, "id": "v-2", "customer_id": "c3", "status": "not_applied"},
    {"index": 1, "id": "o-9", "customer_id": "c3", "status": "rejected",
     "error": {"field": "currency", "value": "eur", "reason": "must be an ISO 4217 code of three upper-case letters",
               "message": "currency \"eur\": must be an ISO 4217 code of three upper-case letters"}}
  ]
}`
	var w, got any
	_ = json.Unmarshal([]byte(want), &w)
	_ = json.Unmarshal(a.Body, &got)
	if a.Code != 422 || fmt.Sprint(w) != fmt.Sprint(got) {
		t.Errorf("%d\n%s\nwant (docs/shop.md)\n%s", a.Code, a.Body, want)
	}
}

func TestContractContentTypes(t *testing.T) {
	for _, tc := range []struct {
		ctype, encoding string
		status          int
	}{
		{"", "", 202},
		{"application/json", "", 202},
		{"application/json; charset=utf-8", "", 202},
		{"application/json;charset=utf-8", "", 202},
		{"application/json", "identity", 202},
		{"text/plain", "", 415},
		{"application/x-www-form-urlencoded", "", 415},
		{"multipart/form-data; boundary=x", "", 415},
		{"application/jsonl", "", 415},
		{"application/json-seq", "", 415},
		{"application/vnd.api+json", "", 415},
		{"application/json; charset=latin1", "", 415},
		{"application/json; charset=utf-16", "", 415},
		{"application/json; charset=", "", 415},
		{"application/json;;;", "", 415},
		{"json", "", 415},
		{"application/json", "gzip", 415},
		{"application/json", "br", 415},
		{"application/json", "gzip, identity", 415},
	} {
		g := contractNew(t)
		req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(contractGood))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		a := g.do(t, req)
		name := fmt.Sprintf("Content-Type %q, Content-Encoding %q", tc.ctype, tc.encoding)
		if tc.status == 202 {
			if a.Code != 202 {
				t.Errorf("%s: %d %s", name, a.Code, a.Body)
			}
			continue
		}
		contractCheckError(t, name, a, 415, "unsupported_media_type")
		if n := g.customers(t); n != 0 {
			t.Errorf("%s: stored %d", name, n)
		}
	}
}

// Media types and charset names are case-insensitive (RFC 9110 8.3.1,
// RFC 2978): the same type in other letters is still application/json.
func TestContractContentTypeCase(t *testing.T) {
	for _, ct := range []string{"Application/JSON", "application/json; charset=UTF-8", "application/json; Charset=\"utf-8\""} {
		g := contractNew(t)
		a := g.post(t, contractGood, ct)
		if a.Code != 202 {
			t.Errorf("Content-Type %q: %d %s", ct, a.Code, a.Body)
		}
	}
}

func contractEvents(n int, cust string) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"e%d","customer_id":"%s","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, i, cust)
	}
	b.WriteString("]")
	return b.String()
}

func TestContractLimits(t *testing.T) {
	g := contractNew(t)
	// Exactly 1000 events pass, 1001 do not.
	if a := g.post(t, contractEvents(1000, "c1"), "application/json"); a.Code != 202 {
		t.Errorf("1000 events: %d %.200s", a.Code, a.Body)
	}
	g = contractNew(t)
	contractCheckError(t, "1001 events", g.post(t, contractEvents(1001, "c1"), "application/json"), 413, "too_many_events")
	if n := g.customers(t); n != 0 {
		t.Errorf("1001 events: %d stored", n)
	}
	// Over 1 MiB, with and without a Content-Length.
	big := contractGood + strings.Repeat(" ", shop.DefaultMaxBodyBytes)
	contractCheckError(t, "1 MiB + event", g.post(t, big, "application/json"), 413, "body_too_large")
	req := httptest.NewRequest(http.MethodPost, "/v1/events", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	contractCheckError(t, "chunked over 1 MiB", g.do(t, req), 413, "body_too_large")
	huge := "[" + strings.Repeat(contractGood+",", 30000) + contractGood + "]"
	contractCheckError(t, "many events over 1 MiB", g.post(t, huge, "application/json"), 413, "body_too_large")
	if n := g.customers(t); n != 0 {
		t.Errorf("over 1 MiB: %d stored", n)
	}
	// Exactly 1 MiB is not over it.
	exact := contractGood + strings.Repeat(" ", shop.DefaultMaxBodyBytes-len(contractGood))
	if a := g.post(t, exact, "application/json"); a.Code != 202 {
		t.Errorf("exactly 1 MiB: %d %.200s", a.Code, a.Body)
	}
	// Options.
	g = contractNew(t, shop.WithMaxBodyBytes(int64(len(contractGood))), shop.WithMaxBatch(2))
	if a := g.post(t, contractGood, ""); a.Code != 202 {
		t.Errorf("body at WithMaxBodyBytes: %d %s", a.Code, a.Body)
	}
	contractCheckError(t, "WithMaxBodyBytes+1", g.post(t, contractGood+" ", ""), 413, "body_too_large")
	g = contractNew(t, shop.WithMaxBatch(2))
	contractCheckError(t, "WithMaxBatch(2), 3 events", g.post(t, contractEvents(3, "c"), ""), 413, "too_many_events")
	g = contractNew(t, shop.WithMaxBatch(0), shop.WithMaxBodyBytes(-1))
	if a := g.post(t, contractEvents(1000, "c1"), ""); a.Code != 202 {
		t.Errorf("limits below 1 replaced by defaults: %d %.200s", a.Code, a.Body)
	}
	// A Segment batch counts its events too.
	g = contractNew(t, shop.WithMaxBatch(2))
	seg := `{"batch":[` + strings.Repeat(`{"type":"identify","userId":"c1","messageId":"m","timestamp":"2026-03-01T10:00:00Z"},`, 2) +
		`{"type":"identify","userId":"c1","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}]}`
	contractCheckError(t, "Segment batch over WithMaxBatch", g.post(t, seg, ""), 413, "too_many_events")
}

func TestContractDuplicatesInOneRequest(t *testing.T) {
	g := contractNew(t)
	o := `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":1000,"currency":"EUR"}`
	a := g.post(t, `[`+o+`,`+o+`]`, "")
	if a.Code != 202 {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
	rs := a.results()
	if len(rs) != 2 || rs[0]["status"] != "applied" || rs[1]["status"] != "duplicate" {
		t.Errorf("same event twice in a request: %s", a.Body)
	}
	c := g.get(t, "/v1/customers/c1")
	if c.JSON["orders"] != float64(1) || fmt.Sprint(c.JSON["revenue"]) != "map[EUR:1000]" || c.JSON["events"] != float64(1) {
		t.Errorf("counted twice: %s", c.Body)
	}
	// Same ID, other content: the first wins, nothing counted twice.
	o2 := `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":9999,"currency":"EUR"}`
	a = g.post(t, o2, "")
	if a.Code != 202 || a.results()[0]["status"] != "duplicate" {
		t.Errorf("same ID, other content: %d %s", a.Code, a.Body)
	}
	c = g.get(t, "/v1/customers/c1")
	if fmt.Sprint(c.JSON["revenue"]) != "map[EUR:1000]" {
		t.Errorf("revenue after a same-ID event: %s", c.Body)
	}
	// The same event ID for another customer is another event.
	a = g.post(t, strings.Replace(o, `"c1"`, `"c2"`, 1), "")
	if a.Code != 202 || a.results()[0]["status"] != "applied" {
		t.Errorf("same ID, other customer: %s", a.Body)
	}
}

func TestContractConcurrentPostsOneCustomer(t *testing.T) {
	g := contractNew(t)
	srv := httptest.NewServer(g.h)
	defer srv.Close()
	const writers, per = 16, 5
	var wg sync.WaitGroup
	post := func(body string) (int, []byte) {
		resp, err := http.Post(srv.URL+"/v1/events", "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var evs []string
			for i := 0; i < per; i++ {
				evs = append(evs, fmt.Sprintf(`{"id":"w%d-%d","customer_id":"hot","type":"order_completed","time":"2026-03-01T%02d:%02d:00Z","amount":100,"currency":"EUR"}`, w, i, w%10, i))
			}
			// One event every writer shares.
			evs = append(evs, `{"id":"shared","customer_id":"hot","type":"order_completed","time":"2026-03-01T09:00:00Z","amount":7,"currency":"EUR"}`)
			if code, b := post("[" + strings.Join(evs, ",") + "]"); code != 202 {
				t.Errorf("writer %d: %d %s", w, code, b)
			}
		}(w)
	}
	wg.Wait()
	c := g.get(t, "/v1/customers/hot")
	if c.JSON["events"] != float64(writers*per+1) || c.JSON["orders"] != float64(writers*per+1) {
		t.Errorf("events %v orders %v, want %d", c.JSON["events"], c.JSON["orders"], writers*per+1)
	}
	if fmt.Sprint(c.JSON["revenue"]) != fmt.Sprintf("map[EUR:%d]", writers*per*100+7) {
		t.Errorf("revenue %v", c.JSON["revenue"])
	}
	if c.JSON["version"] != float64(writers) {
		t.Errorf("version %v, want %d (one write per request)", c.JSON["version"], writers)
	}
	// The same single event from many writers: applied once.
	wg = sync.WaitGroup{}
	var mu sync.Mutex
	statuses := map[string]int{}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, b := post(`{"id":"once","customer_id":"race","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":500,"currency":"EUR"}`)
			var a struct {
				Results []struct{ Status string } `json:"results"`
			}
			_ = json.Unmarshal(b, &a)
			mu.Lock()
			defer mu.Unlock()
			if code != 202 || len(a.Results) != 1 {
				t.Errorf("%d %s", code, b)
				return
			}
			statuses[a.Results[0].Status]++
		}()
	}
	wg.Wait()
	if statuses["applied"] != 1 || statuses["duplicate"] != 15 {
		t.Errorf("statuses %v, want 1 applied and 15 duplicate", statuses)
	}
	c = g.get(t, "/v1/customers/race")
	if fmt.Sprint(c.JSON["revenue"]) != "map[EUR:500]" || c.JSON["version"] != float64(1) {
		t.Errorf("race: %s", c.Body)
	}
}

func TestContractCustomerIDs(t *testing.T) {
	g := contractNew(t)
	ids := []string{"José 😀", "a/b", "a?b#c", "%41", "e\u0301", "\u00e9", "a b", strings.Repeat("ü", 128)}
	var evs []string
	for i, id := range ids {
		b, _ := json.Marshal(id)
		evs = append(evs, fmt.Sprintf(`{"id":"e%d","customer_id":%s,"type":"site_visited","time":"2026-03-01T10:00:00Z"}`, i, b))
	}
	if a := g.post(t, "["+strings.Join(evs, ",")+"]", ""); a.Code != 202 {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
	for _, id := range ids {
		a := g.get(t, "/v1/customers/"+url.PathEscape(id))
		if a.Code != 200 || a.JSON["id"] != id {
			t.Errorf("GET customer %q (%s): %d %.200s", id, url.PathEscape(id), a.Code, a.Body)
		}
	}
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/customers/c%00", 400, "bad_id"},
		{"/v1/customers/alice%E2%80%8B", 400, "bad_id"},
		{"/v1/customers/%E2%80%AEgnp.exe", 400, "bad_id"},
		{"/v1/customers/%20c", 400, "bad_id"},
		{"/v1/customers/c%09", 400, "bad_id"},
		{"/v1/customers/%FF", 400, "bad_id"},
		{"/v1/customers/" + strings.Repeat("x", 257), 400, "bad_id"},
		{"/v1/customers/" + strings.Repeat("x", 256), 404, "not_found"},
		{"/v1/customers/nobody", 404, "not_found"},
	} {
		contractCheckError(t, tc.path, g.get(t, tc.path), tc.status, tc.code)
	}
	a := g.get(t, "/v1/customers/nobody")
	if !strings.Contains(a.errMessage(), `"nobody"`) {
		t.Errorf("not_found message %q does not name the customer", a.errMessage())
	}
	// The dashboard lookup answers as the API does.
	for _, tc := range []struct {
		q      string
		status int
	}{{"nobody", 404}, {"c\x00", 400}, {"alice\u200b", 400}, {"José 😀", 200}} {
		a := g.get(t, "/?customer="+url.QueryEscape(tc.q))
		if a.Code != tc.status {
			t.Errorf("dashboard ?customer=%q: %d", tc.q, a.Code)
		}
	}
}

func TestContractRoutes(t *testing.T) {
	g := contractNew(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
		msg          string
	}{
		{"GET", "/v1/events", 405, "method_not_allowed", "POST", ""},
		{"PUT", "/v1/events", 405, "method_not_allowed", "POST", ""},
		{"OPTIONS", "/v1/events", 405, "method_not_allowed", "POST", ""},
		{"DELETE", "/v1/stages", 405, "method_not_allowed", "GET, HEAD", ""},
		{"POST", "/v1/customers/c1", 405, "method_not_allowed", "GET, HEAD", ""},
		{"PATCH", "/v1/funnel", 405, "method_not_allowed", "GET, HEAD", ""},
		{"POST", "/metrics", 405, "method_not_allowed", "GET, HEAD", ""},
		{"GET", "/v1/nope", 404, "not_found", "", "no API route"},
		{"GET", "/v1/events/", 404, "not_found", "", "no API route"},
		{"GET", "/V1/STAGES", 404, "not_found", "", "no route"},
		{"GET", "/nope", 404, "not_found", "", "no route"},
		{"GET", "//v1/stages", 404, "not_found", "", ""},
		{"GET", "/v1//stages", 404, "not_found", "", ""},
		{"GET", "/v1/./stages", 404, "not_found", "", ""},
		{"GET", "/v1/../v1/stages", 404, "not_found", "", ""},
		{"GET", "/v1/webhooks", 404, "not_configured", "", ""},
	} {
		name := tc.method + " " + tc.path
		a := g.do(t, httptest.NewRequest(tc.method, tc.path, nil))
		contractCheckError(t, name, a, tc.status, tc.code)
		if tc.allow != "" && a.Header.Get("Allow") != tc.allow {
			t.Errorf("%s: Allow %q, want %q", name, a.Header.Get("Allow"), tc.allow)
		}
		if tc.msg != "" && !strings.Contains(a.errMessage(), tc.msg) {
			t.Errorf("%s: message %q, want it to contain %q", name, a.errMessage(), tc.msg)
		}
	}
	srv := httptest.NewServer(g.h)
	defer srv.Close()
	for _, p := range []string{"/v1/stages", "/v1/funnel", "/metrics", "/"} {
		resp, err := http.Head(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("HEAD %s: %d", p, resp.StatusCode)
		}
	}
	a := g.get(t, "/v1/stages")
	if a.Code != 200 || a.JSON["model"] != "sterne-cutler" {
		t.Errorf("GET /v1/stages: %d %s", a.Code, a.Body)
	}
}

func TestContractAPIKeys(t *testing.T) {
	g := contractNew(t, shop.WithAPIKeys("", "k1", "k2"))
	for _, tc := range []struct {
		name, method, path, auth string
		status                   int
	}{
		{"none", "GET", "/v1/stages", "", 401},
		{"wrong", "GET", "/v1/stages", "Bearer nope", 401},
		{"empty bearer", "GET", "/v1/stages", "Bearer ", 401},
		{"key prefix", "GET", "/v1/stages", "Bearer k", 401},
		{"key plus", "GET", "/v1/stages", "Bearer k1x", 401},
		{"bearer k2", "GET", "/v1/stages", "Bearer k2", 200},
		{"basic", "GET", "/", "Basic " + contractB64("anyone:k1"), 200},
		{"basic key as user", "GET", "/", "Basic " + contractB64("k1:"), 401},
		{"basic garbage", "GET", "/", "Basic !!!", 401},
		{"no key, unknown path", "GET", "/nope", "", 401},
		{"no key, bad method", "DELETE", "/v1/stages", "", 401},
		{"no key, bad body", "POST", "/v1/events", "", 401},
		{"no key, metrics", "GET", "/metrics", "", 401},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader("garbage"))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		a := g.do(t, req)
		if a.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, a.Code, tc.status)
			continue
		}
		if tc.status == 401 {
			ww := a.Header.Values("WWW-Authenticate")
			j := strings.Join(ww, "|")
			if !strings.Contains(j, `Bearer realm="clm-shop"`) || !strings.Contains(j, `Basic realm="clm-shop"`) {
				t.Errorf("%s: WWW-Authenticate %q", tc.name, ww)
			}
			if strings.HasPrefix(tc.path, "/v1/") && a.errCode() != "unauthorized" {
				t.Errorf("%s: code %q", tc.name, a.errCode())
			}
		}
	}
	// Only empty keys: open.
	g = contractNew(t, shop.WithAPIKeys("", ""))
	if a := g.get(t, "/v1/stages"); a.Code != 200 {
		t.Errorf("only empty keys: %d", a.Code)
	}
}

func contractB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestContractRefusedMetrics(t *testing.T) {
	g := contractNew(t, shop.WithAPIKeys("k"))
	auth := func(r *http.Request) *http.Request { r.Header.Set("Authorization", "Bearer k"); return r }
	req := auth(httptest.NewRequest("POST", "/v1/events", strings.NewReader("x")))
	req.Header.Set("Content-Type", "text/plain")
	g.do(t, req)
	g.do(t, auth(httptest.NewRequest("POST", "/v1/events", strings.NewReader("{"))))
	g.do(t, httptest.NewRequest("POST", "/v1/events", strings.NewReader("{"))) // 401: not counted
	a := g.do(t, auth(httptest.NewRequest("GET", "/metrics", nil)))
	body := string(a.Body)
	for _, want := range []string{
		`clm_shop_event_requests_refused_total{code="unsupported_media_type"} 1`,
		`clm_shop_event_requests_refused_total{code="malformed_json"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, `code="unauthorized"`) && strings.Contains(body, "clm_shop_event_requests_refused_total{code=\"unauthorized\"}") {
		t.Errorf("a 401 is counted as a refused request")
	}
}

func TestContractNilTracker(t *testing.T) {
	var h http.Handler
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("shop.New(nil) panicked: %v", r)
			}
		}()
		h = shop.New(nil)
	}()
	for _, p := range []string{"/v1/stages", "/v1/funnel", "/v1/customers/c1", "/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code < 500 {
			t.Errorf("GET %s without a tracker: %d", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/events", strings.NewReader(contractGood)))
	if rec.Code == 202 {
		t.Errorf("POST without a tracker: 202")
	}
}

// GET /v1/webhooks shows a dispatcher stopped by a 410 as "stopped", and the
// endpoint without its password, query or fragment (docs/shop.md).
func TestContractWebhooksStoppedBy410(t *testing.T) {
	m, _ := model.Lookup("sterne-cutler")
	st := store.NewMemory()
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return contractNow }))
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) }))
	defer recv.Close()
	secret, _ := webhook.NewSecret(nil)
	endpoint := strings.Replace(recv.URL, "http://", "http://user:pw-secret@", 1) + "/hook?token=q-secret#frag"
	s, err := webhook.New(endpoint, secret)
	if err != nil {
		t.Fatal(err)
	}
	d, err := feed.New(st, st, "webhooks", s.Deliver, feed.WithPoll(5*time.Millisecond), feed.WithBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h := shop.New(tr, shop.WithWebhooks(d.Stats, s.URL()))
	g := &contractRig{h: h, st: st, tr: tr}
	if a := g.post(t, contractGood, ""); a.Code != 202 {
		t.Fatal(a.Code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = d.Run(ctx)
	if !errors.Is(err, webhook.ErrGone) {
		t.Fatalf("Run: %v", err)
	}
	a := g.get(t, "/v1/webhooks")
	if a.Code != 200 {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
	if a.JSON["state"] != "stopped" {
		t.Errorf("state %v after a 410, want stopped: %s", a.JSON["state"], a.Body)
	}
	le, _ := a.JSON["last_error"].(string)
	if !strings.Contains(le, "410") && !strings.Contains(strings.ToLower(le), "gone") {
		t.Errorf("last_error %q", le)
	}
	u, _ := a.JSON["url"].(string)
	if strings.Contains(u, "pw-secret") {
		t.Errorf("url shows the password: %q", u)
	}
	if a.JSON["delivered"] != float64(0) || a.JSON["cursor"] != float64(0) {
		t.Errorf("delivered %v cursor %v", a.JSON["delivered"], a.JSON["cursor"])
	}
}

func TestContractWebhooksStates(t *testing.T) {
	for _, tc := range []struct {
		st   feed.Stats
		want string
	}{
		{feed.Stats{Running: true, Holding: true}, "delivering"},
		{feed.Stats{Running: true, Holding: false}, "standby"},
	} {
		stats := tc.st
		g := contractNew(t, shop.WithWebhooks(func() feed.Stats { return stats }, "https://crm.example/hooks/clm"))
		a := g.get(t, "/v1/webhooks")
		if a.Code != 200 || a.JSON["state"] != tc.want {
			t.Errorf("%+v: %d %s, want state %s", tc.st, a.Code, a.Body, tc.want)
		}
		for _, k := range []string{"url", "name", "state", "holding", "cursor", "delivered", "failures", "store_errors", "lease_losses", "attempts", "lag_seconds", "owner"} {
			if _, ok := a.JSON[k]; !ok {
				t.Errorf("field %q missing: %s", k, a.Body)
			}
		}
	}
	// A nil stats leaves webhooks unconfigured.
	g := contractNew(t, shop.WithWebhooks(nil, "https://x"))
	contractCheckError(t, "nil stats", g.get(t, "/v1/webhooks"), 404, "not_configured")
}

func TestContractSegmentDocExample(t *testing.T) {
	g := contractNew(t)
	a := g.post(t, `{"batch": [
  {"type": "track", "event": "Order Completed", "userId": "c7", "messageId": "m-1",
   "timestamp": "2026-03-01T10:00:00Z", "properties": {"total": 19.90, "currency": "EUR"}},
  {"type": "identify", "userId": "c7", "messageId": "m-2", "timestamp": "2026-03-01T10:00:00Z", "traits": {"x": 1}},
  {"type": "track", "event": "Referral Converted", "userId": "c8", "messageId": "m-3", "timestamp": "2026-03-01T10:00:00Z",
   "projectId": "p", "rudderId": "r", "request_ip": "1.2.3.4", "context": {}, "sentAt": "2026-03-01T10:00:00Z"}
], "writeKey": "w", "sentAt": "2026-03-01T10:00:00Z"}`, "application/json")
	if a.Code != 202 {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
	rs := a.results()
	if len(rs) != 3 || rs[0]["status"] != "applied" || rs[1]["status"] != "skipped" || rs[2]["status"] != "applied" {
		t.Errorf("results %s", a.Body)
	}
	c := g.get(t, "/v1/customers/c7")
	if fmt.Sprint(c.JSON["revenue"]) != "map[EUR:1990]" || c.JSON["orders"] != float64(1) {
		t.Errorf("c7 %s", c.Body)
	}
}

// TestContractDotCustomerIDs: a customer ID "." or ".." is valid for the
// library, but no URL path reaches it (dot segments are removed, escaped
// as %2E too), so POST /v1/events rejects it (422, naming the field as
// sent) rather than store a customer GET /v1/customers/{id} cannot
// return.
func TestContractDotCustomerIDs(t *testing.T) {
	for _, body := range []string{
		`[{"id":"e1","customer_id":".","type":"site_visited","time":"2026-03-01T10:00:00Z"},
{"id":"e2","customer_id":"..","type":"site_visited","time":"2026-03-01T10:00:00Z"}]`,
		`{"batch":[{"type":"track","event":"Product Viewed","messageId":"e1","userId":".","timestamp":"2026-03-01T10:00:00Z"},
{"type":"track","event":"Product Viewed","messageId":"e2","userId":"..","timestamp":"2026-03-01T10:00:00Z"}]}`,
	} {
		g := contractNew(t)
		a := g.post(t, body, "")
		if a.Code != 422 {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
		for i, r := range a.results() {
			e, _ := r["error"].(map[string]any)
			want := map[bool]string{true: "customer_id", false: "userId"}[strings.HasPrefix(body, "[")]
			if r["status"] != "rejected" || e["field"] != want || e["value"] != map[int]string{0: ".", 1: ".."}[i] {
				t.Errorf("result %d: %v", i, r)
			}
		}
		if n := g.st.Len(); n != 0 {
			t.Errorf("%d customers stored", n)
		}
	}
}

// doc.go: a rejected event's "error" has "field", "value", "reason" and
// "message". For a missing field the value is empty: is it still there?
func TestContractRejectedErrorHasValue(t *testing.T) {
	for _, body := range []string{
		`{"customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`,
		`{"type":"track","event":"Signed Up","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`,
	} {
		g := contractNew(t)
		a := g.post(t, body, "")
		rs := a.results()
		if a.Code != 422 || len(rs) != 1 {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
		e, _ := rs[0]["error"].(map[string]any)
		if _, ok := e["value"]; !ok {
			t.Errorf("error without \"value\": %v", e)
		}
	}
}

func TestContractWrongJSONTypesAndEncoding(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"type number", `{"id":"e1","customer_id":"c1","type":5,"time":"2026-03-01T10:00:00Z"}`, 400},
		{"segment timestamp number", `{"type":"track","event":"Signed Up","userId":"c1","messageId":"m1","timestamp":1772359200}`, 400},
		{"segment event number", `{"type":"track","event":5,"userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`, 400},
		{"segment properties twice key", `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","properties":{"total":1,"total":2,"currency":"EUR"}}`, 422},
		{"segment properties Total", `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","properties":{"Total":1,"currency":"EUR"}}`, 422},
		{"segment properties array", `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","properties":[1]}`, 422},
		{"invalid UTF-8", "{\"id\":\"e\xff\",\"customer_id\":\"c1\",\"type\":\"site_visited\",\"time\":\"2026-03-01T10:00:00Z\"}", 0},
		{"unpaired surrogate", `{"id":"e\ud800","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, 0},
		{"array of null", `[null]`, 0},
		{"array of number", `[` + contractGood + `, 42]`, 0},
	} {
		g := contractNew(t)
		a := g.post(t, tc.body, "application/json")
		switch {
		case tc.status == 400:
			contractCheckError(t, tc.name, a, 400, "malformed_event")
		case tc.status == 422:
			contractCheckError(t, tc.name, a, 422, "invalid_event")
		default:
			if a.Code != 400 && a.Code != 422 {
				t.Errorf("%s: %d %s", tc.name, a.Code, a.Body)
			}
			t.Logf("%s: %d %s", tc.name, a.Code, a.errCode())
		}
		if n := g.customers(t); n != 0 {
			t.Errorf("%s: %d stored", tc.name, n)
		}
	}
}

// Segment amounts are in major units, converted to minor units: the number
// of minor digits depends on the currency (ISO 4217: JPY 0, EUR 2, BHD 3).
func TestContractSegmentMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		total, currency string
		want            string
	}{
		{`"49.99"`, "EUR", "map[EUR:4999]"},
		{`49.99`, "EUR", "map[EUR:4999]"},
		{`500`, "JPY", "map[JPY:500]"},
		{`1.234`, "BHD", "map[BHD:1234]"},
		{`0.1`, "EUR", "map[EUR:10]"},
	} {
		g := contractNew(t)
		a := g.post(t, `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","properties":{"total":`+tc.total+`,"currency":"`+tc.currency+`"}}`, "")
		if a.Code != 202 {
			t.Errorf("total %s %s: %d %s", tc.total, tc.currency, a.Code, a.Body)
			continue
		}
		c := g.get(t, "/v1/customers/c1")
		if got := fmt.Sprint(c.JSON["revenue"]); got != tc.want {
			t.Errorf("total %s %s: revenue %s, want %s", tc.total, tc.currency, got, tc.want)
		}
	}
}

func TestContractFutureBoundary(t *testing.T) {
	for _, tc := range []struct {
		time   string
		status int
	}{
		{"2026-03-01T12:15:00Z", 202},
		{"2026-03-01T12:15:01Z", 422},
		{"2026-03-01T13:14:00+01:00", 202},
	} {
		g := contractNew(t)
		a := g.post(t, `{"id":"e1","customer_id":"c1","type":"site_visited","time":"`+tc.time+`"}`, "")
		if a.Code != tc.status {
			t.Errorf("time %s: %d %s", tc.time, a.Code, a.Body)
		}
	}
}
