package shop_test

// Behaviour review 17b: the shop's HTTP API held to docs/shop.md and the
// package documentation. Every test is named TestContractReview...

import (
	"context"
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
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// z17Now is the tracker's clock in these tests.
var z17Now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type z17Answer struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Accepted *int `json:"accepted"`
	Results  []struct {
		Index      int    `json:"index"`
		ID         string `json:"id"`
		CustomerID string `json:"customer_id"`
		Status     string `json:"status"`
		From       string `json:"from"`
		To         string `json:"to"`
		Moved      *bool  `json:"moved"`
		Version    uint64 `json:"version"`
		Error      *struct {
			Field   string `json:"field"`
			Value   string `json:"value"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"results"`
}

func z17Server(t *testing.T, st lifecycle.Store, opts ...shop.Option) (*shop.Server, lifecycle.Store) {
	t.Helper()
	if st == nil {
		st = store.NewMemory()
	}
	m, err := model.Lookup("sterne-cutler")
	if err != nil {
		t.Fatal(err)
	}
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return z17Now }))
	return shop.New(tr, opts...), st
}

func z17Do(t *testing.T, h http.Handler, method, target string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var z17JSON = map[string]string{"Content-Type": "application/json"}

func z17Post(t *testing.T, h http.Handler, body string) (*httptest.ResponseRecorder, z17Answer) {
	t.Helper()
	rec := z17Do(t, h, http.MethodPost, "/v1/events", z17JSON, body)
	var a z17Answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("POST answer %d is not JSON: %v\n%s", rec.Code, err, rec.Body)
	}
	return rec, a
}

func z17Visit(id, cust string) string {
	return fmt.Sprintf(`{"id":%q,"customer_id":%q,"type":"site_visited","time":"2026-03-01T10:00:00Z"}`, id, cust)
}

func z17Order(id, cust, at string) string {
	return fmt.Sprintf(`{"id":%q,"customer_id":%q,"type":"order_completed","time":%q,"amount":4999,"currency":"EUR"}`, id, cust, at)
}

// z17Customer reads a stored customer straight from the store.
func z17Customer(t *testing.T, st lifecycle.Store, id string) *lifecycle.Customer {
	t.Helper()
	c, err := st.Get(context.Background(), id)
	if errors.Is(err, lifecycle.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func z17Count(t *testing.T, st lifecycle.Store) int {
	t.Helper()
	n := 0
	for _, err := range st.Scan(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// z17CheckErrorBody checks the documented error shape and code.
func z17CheckErrorBody(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var a struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Errorf("error body is not JSON: %v: %s", err, rec.Body)
		return
	}
	if a.Error.Code != code {
		t.Errorf("error.code %q, want %q; body %s", a.Error.Code, code, rec.Body)
	}
	if a.Error.Message == "" {
		t.Errorf("error.message empty; body %s", rec.Body)
	}
}

// docs/shop.md:221-222 (400 malformed_json / malformed_event) and the
// all-or-nothing rule (docs/shop.md:200): hostile bodies get 400 with the
// documented code and nothing is stored.
func TestContractReviewMalformedBodies(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	cases := []struct {
		name, body, code string
	}{
		{"empty", "", "malformed_json"},
		{"whitespace", " \n\t ", "malformed_json"},
		{"not JSON", "id=e1&customer_id=c1", "malformed_json"},
		{"truncated", `[{"id":"e1"`, "malformed_json"},
		{"a string", `"hello"`, "malformed_json"},
		{"a number", `42`, "malformed_json"},
		{"null", `null`, "malformed_json"},
		{"empty array", `[]`, "malformed_json"},
		{"empty batch", `{"batch":[]}`, "malformed_json"},
		{"batch null", `{"batch":null}`, "malformed_json"},
		{"batch twice", `{"batch":[` + z17Visit("e1", "c1") + `],"batch":[]}`, "malformed_json"},
		{"batch envelope unknown field", `{"batch":[` + z17Visit("e1", "c1") + `],"colour":"red"}`, "malformed_json"},
		{"deeply nested", deep, "malformed_json"},
		{"trailing garbage", z17Visit("e1", "c1") + `}`, "malformed_json"},
		{"two objects", z17Visit("e1", "c1") + z17Visit("e2", "c1"), "malformed_json"},
		{"null in array", `[` + z17Visit("e1", "c1") + `,null]`, "malformed_event"},
		{"number in array", `[1]`, "malformed_event"},
		{"unknown field", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","colour":"red"}`, "malformed_event"},
		{"field in other case", `{"ID":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "malformed_event"},
		{"field twice", `{"id":"e1","id":"e2","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "malformed_event"},
		{"string amount", `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":"4999","currency":"EUR"}`, "malformed_event"},
		{"unix time", `{"id":"e1","customer_id":"c1","type":"site_visited","time":1772362800}`, "malformed_event"},
		{"time +00:60", `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00+00:60"}`, "malformed_event"},
		{"segment type number", `{"type":7,"userId":"u1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`, "malformed_event"},
		{"segment unknown field", `{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","user_id":"u2"}`, "malformed_event"},
		{"one good, one malformed", `[` + z17Visit("e1", "c1") + `,{"id":"e2","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","x":1}]`, "malformed_event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, st := z17Server(t, nil)
			rec := z17Do(t, srv, http.MethodPost, "/v1/events", z17JSON, tc.body)
			z17CheckErrorBody(t, rec, http.StatusBadRequest, tc.code)
			if n := z17Count(t, st); n != 0 {
				t.Errorf("%d customers stored after a refused request", n)
			}
		})
	}
}

// docs/shop.md:113-115 and :225: Content-Type application/json or none, a
// charset only utf-8, no Content-Encoding but identity; else 415
// unsupported_media_type. Media types and the charset are
// case-insensitive (RFC 9110).
func TestContractReviewContentTypes(t *testing.T) {
	cases := []struct {
		hdr  map[string]string
		want int
	}{
		{nil, http.StatusAccepted},
		{map[string]string{"Content-Type": "application/json"}, http.StatusAccepted},
		{map[string]string{"Content-Type": "application/json; charset=utf-8"}, http.StatusAccepted},
		{map[string]string{"Content-Type": "Application/JSON; Charset=\"UTF-8\""}, http.StatusAccepted},
		{map[string]string{"Content-Type": "application/json", "Content-Encoding": "identity"}, http.StatusAccepted},
		{map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "application/json-patch+json"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "application/json; charset=latin1"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "application/json; charset=utf-16"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "application/json;;;"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, http.StatusUnsupportedMediaType},
		{map[string]string{"Content-Type": "application/json", "Content-Encoding": "identity, br"}, http.StatusUnsupportedMediaType},
	}
	for i, tc := range cases {
		srv, st := z17Server(t, nil)
		rec := z17Do(t, srv, http.MethodPost, "/v1/events", tc.hdr, z17Visit("e1", "c1"))
		if tc.want == http.StatusAccepted {
			if rec.Code != tc.want {
				t.Errorf("%d %v: status %d, want 202; %s", i, tc.hdr, rec.Code, rec.Body)
			}
			continue
		}
		z17CheckErrorBody(t, rec, tc.want, "unsupported_media_type")
		if n := z17Count(t, st); n != 0 {
			t.Errorf("%v: %d customers stored after a 415", tc.hdr, n)
		}
	}
}

// docs/shop.md:116 "At most 1 MiB and 1000 events per request" and :223-224
// (413 body_too_large, too_many_events). A body of exactly 1 MiB is
// within the limit; one byte more is not; the same for 1000 and 1001
// events.
func TestContractReviewLimits(t *testing.T) {
	srv, st := z17Server(t, nil)
	ev := z17Visit("e1", "c1")
	exact := ev + strings.Repeat(" ", shop.DefaultMaxBodyBytes-len(ev))
	if rec := z17Do(t, srv, http.MethodPost, "/v1/events", z17JSON, exact); rec.Code != http.StatusAccepted {
		t.Errorf("body of exactly 1 MiB: %d, want 202: %s", rec.Code, rec.Body)
	}
	over := exact + " "
	srv2, st2 := z17Server(t, nil)
	z17CheckErrorBody(t, z17Do(t, srv2, http.MethodPost, "/v1/events", z17JSON, over), http.StatusRequestEntityTooLarge, "body_too_large")
	if n := z17Count(t, st2); n != 0 {
		t.Errorf("%d customers stored after a 413", n)
	}

	events := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = z17Visit(fmt.Sprintf("v-%d", i), fmt.Sprintf("lim-%d", i))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	srv3, st3 := z17Server(t, nil)
	z17CheckErrorBody(t, z17Do(t, srv3, http.MethodPost, "/v1/events", z17JSON, events(1001)), http.StatusRequestEntityTooLarge, "too_many_events")
	if n := z17Count(t, st3); n != 0 {
		t.Errorf("%d customers stored after too_many_events", n)
	}
	rec, a := z17Post(t, srv, events(1000))
	if rec.Code != http.StatusAccepted || a.Accepted == nil || *a.Accepted != 1000 || len(a.Results) != 1000 {
		t.Errorf("1000 events: %d, accepted %v, %d results", rec.Code, a.Accepted, len(a.Results))
	}
	_ = st
}

// docs/shop.md:193-198: "duplicate (the event ID was recorded before:
// nothing changed; retries are safe)". Posting the same request again
// answers duplicate for each event, with the same to/version, and the
// customer is unchanged.
func TestContractReviewRetriedRequestIsDuplicate(t *testing.T) {
	srv, st := z17Server(t, nil)
	body := `[` + z17Visit("v-1", "c42") + `,` + z17Order("ord-1", "c42", "2026-03-02T10:00:00Z") + `]`
	rec, first := z17Post(t, srv, body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	before := z17Customer(t, st, "c42")
	for retry := 0; retry < 3; retry++ {
		rec, again := z17Post(t, srv, body)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("retry: %d %s", rec.Code, rec.Body)
		}
		if again.Accepted == nil || *again.Accepted != 2 {
			t.Errorf("retry accepted %v, want 2 (duplicates are accepted)", again.Accepted)
		}
		for i, r := range again.Results {
			if r.Status != "duplicate" {
				t.Errorf("retry result %d status %q, want duplicate", i, r.Status)
			}
			if r.Moved == nil || *r.Moved {
				t.Errorf("retry result %d moved %v, want false", i, r.Moved)
			}
			if r.To != first.Results[len(first.Results)-1].To {
				t.Errorf("retry result %d to %q, want the customer's stage %q", i, r.To, first.Results[1].To)
			}
			if r.Version != before.Version {
				t.Errorf("retry result %d version %d, want %d", i, r.Version, before.Version)
			}
		}
	}
	after := z17Customer(t, st, "c42")
	if after.Version != before.Version || len(after.History) != len(before.History) || after.Facts.Count(lifecycle.OrderCompleted) != 1 {
		t.Errorf("retries changed the customer: version %d→%d, history %d→%d, orders %d",
			before.Version, after.Version, len(before.History), len(after.History), after.Facts.Count(lifecycle.OrderCompleted))
	}
}

// The same event twice in one request (a client that retries by
// appending) must not be counted twice: one applied, the other a
// duplicate (docs/shop.md:193), and the customer holds one order.
func TestContractReviewSameEventTwiceInOneRequest(t *testing.T) {
	srv, st := z17Server(t, nil)
	o := z17Order("ord-1", "c1", "2026-03-02T10:00:00Z")
	rec, a := z17Post(t, srv, `[`+o+`,`+o+`]`)
	t.Logf("%d %s", rec.Code, rec.Body)
	c := z17Customer(t, st, "c1")
	if rec.Code == http.StatusAccepted {
		if c == nil {
			t.Fatal("202 but no customer stored")
		}
		if n := c.Facts.Count(lifecycle.OrderCompleted); n != 1 {
			t.Errorf("one order sent twice in one request counted %d times", n)
		}
		applied := 0
		for _, r := range a.Results {
			if r.Status == "applied" {
				applied++
			}
		}
		if applied != 1 {
			t.Errorf("%d results applied, want 1 (the other a duplicate)", applied)
		}
		return
	}
	if c != nil {
		t.Errorf("request refused with %d but the customer was stored", rec.Code)
	}
}

// docs/shop.md:193-198 and :227 ("retrying the whole request is safe"):
// concurrent posts of the same event record it once; concurrent posts of
// distinct events of one customer record every one of them exactly once
// (a 503 store_failed, retried, included).
func TestContractReviewConcurrentPosts(t *testing.T) {
	srv, st := z17Server(t, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	post := func(body string) (int, z17Answer, error) {
		resp, err := http.Post(ts.URL+"/v1/events", "application/json", strings.NewReader(body))
		if err != nil {
			return 0, z17Answer{}, err
		}
		defer resp.Body.Close()
		var a z17Answer
		err = json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a, err
	}
	const n = 24
	var mu sync.Mutex
	applied, dups := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for try := 0; try < 20; try++ {
				code, a, err := post(z17Order("ord-same", "hot", "2026-03-02T10:00:00Z"))
				if err != nil {
					t.Error(err)
					return
				}
				if code == http.StatusServiceUnavailable {
					continue
				}
				if code != http.StatusAccepted {
					t.Errorf("status %d", code)
					return
				}
				mu.Lock()
				switch a.Results[0].Status {
				case "applied":
					applied++
				case "duplicate":
					dups++
				}
				mu.Unlock()
				return
			}
			t.Error("still 503 after 20 tries")
		}()
	}
	wg.Wait()
	if applied != 1 || dups != n-1 {
		t.Errorf("same event posted %d times concurrently: %d applied, %d duplicate; want 1 and %d", n, applied, dups, n-1)
	}
	if c := z17Customer(t, st, "hot"); c == nil || c.Facts.Count(lifecycle.OrderCompleted) != 1 {
		t.Errorf("customer hot: %+v", c)
	}

	// Distinct events for one customer, concurrently.
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := z17Order(fmt.Sprintf("ord-%d", i), "busy", fmt.Sprintf("2026-03-02T10:%02d:00Z", i))
			for try := 0; try < 20; try++ {
				code, _, err := post(body)
				if err != nil {
					t.Error(err)
					return
				}
				if code == http.StatusAccepted {
					return
				}
				if code != http.StatusServiceUnavailable && code != http.StatusInternalServerError {
					t.Errorf("status %d", code)
					return
				}
			}
			t.Error("not accepted after 20 tries")
		}()
	}
	wg.Wait()
	c := z17Customer(t, st, "busy")
	if c == nil || c.Facts.Count(lifecycle.OrderCompleted) != int64(n) {
		got := int64(-1)
		if c != nil {
			got = c.Facts.Count(lifecycle.OrderCompleted)
		}
		t.Errorf("%d distinct orders posted concurrently, customer holds %d", n, got)
	}
}

// Out-of-order events: the same events posted in two different orders
// (one request each, in reverse) end with the same stage, facts and
// revenue; duplicates of late events are still duplicates.
func TestContractReviewOutOfOrderEvents(t *testing.T) {
	evs := []string{
		z17Visit("v-1", "c"),
		`{"id":"s-1","customer_id":"c","type":"signed_up","time":"2026-03-01T11:00:00Z"}`,
		z17Order("o-1", "c", "2026-03-02T10:00:00Z"),
		z17Order("o-2", "c", "2026-03-05T10:00:00Z"),
	}
	inOrder, stA := z17Server(t, nil)
	for _, e := range evs {
		if rec, _ := z17Post(t, inOrder, e); rec.Code != http.StatusAccepted {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	reversed, stB := z17Server(t, nil)
	for i := len(evs) - 1; i >= 0; i-- {
		if rec, _ := z17Post(t, reversed, evs[i]); rec.Code != http.StatusAccepted {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	// A late duplicate.
	if _, a := z17Post(t, reversed, evs[0]); a.Results[0].Status != "duplicate" {
		t.Errorf("late duplicate: %q", a.Results[0].Status)
	}
	a, b := z17Customer(t, stA, "c"), z17Customer(t, stB, "c")
	if a.Stage != b.Stage || a.Facts.Count(lifecycle.OrderCompleted) != b.Facts.Count(lifecycle.OrderCompleted) {
		t.Errorf("in order: %s with %d orders; reversed: %s with %d orders", a.Stage, a.Facts.Count(lifecycle.OrderCompleted), b.Stage, b.Facts.Count(lifecycle.OrderCompleted))
	}
	ga := z17Do(t, inOrder, http.MethodGet, "/v1/customers/c", nil, "")
	gb := z17Do(t, reversed, http.MethodGet, "/v1/customers/c", nil, "")
	var ca, cb struct {
		Stage   string           `json:"stage"`
		Events  int              `json:"events"`
		Orders  int              `json:"orders"`
		Revenue map[string]int64 `json:"revenue"`
	}
	_ = json.Unmarshal(ga.Body.Bytes(), &ca)
	_ = json.Unmarshal(gb.Body.Bytes(), &cb)
	if fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Errorf("GET differs by arrival order: %+v vs %+v", ca, cb)
	}
	if ca.Events != 4 || ca.Orders != 2 || ca.Revenue["EUR"] != 9998 {
		t.Errorf("GET: %+v, want 4 events, 2 orders, EUR 9998", ca)
	}
}

// docs/shop.md:200-216: one bad event refuses the whole request (422
// invalid_event), the good one is not_applied, the bad one rejected with
// field, value, reason and message as documented; nothing is stored.
func TestContractReviewAllOrNothing(t *testing.T) {
	srv, st := z17Server(t, nil)
	body := `[{"id":"v-2","customer_id":"c3","type":"site_visited","time":"2026-03-01T10:00:00Z"},
	{"id":"o-9","customer_id":"c3","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":100,"currency":"eur"}]`
	rec, a := z17Post(t, srv, body)
	if rec.Code != http.StatusUnprocessableEntity || a.Error == nil || a.Error.Code != "invalid_event" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if a.Error.Message != "1 of 2 events are invalid; none was applied" {
		t.Errorf("message %q", a.Error.Message)
	}
	if a.Accepted == nil || *a.Accepted != 0 {
		t.Errorf("accepted %v, want 0", a.Accepted)
	}
	if len(a.Results) != 2 || a.Results[0].Status != "not_applied" || a.Results[1].Status != "rejected" {
		t.Fatalf("results %s", rec.Body)
	}
	e := a.Results[1].Error
	if e == nil || e.Field != "currency" || e.Value != "eur" || e.Reason != "must be an ISO 4217 code of three upper-case letters" ||
		e.Message != `currency "eur": must be an ISO 4217 code of three upper-case letters` {
		t.Errorf("error %+v", e)
	}
	if a.Results[1].ID != "o-9" || a.Results[1].CustomerID != "c3" || a.Results[0].ID != "v-2" {
		t.Errorf("ids: %s", rec.Body)
	}
	if n := z17Count(t, st); n != 0 {
		t.Errorf("%d customers stored", n)
	}
}

// docs/shop.md:226 (422 rows): referral_converted, a time more than 15
// minutes in the future, a customer ID "." or "..", a Segment call with
// only originalTimestamp ("is refused with timestamp is missing",
// docs/shop.md:168-171), an ID with a control character.
func TestContractReviewInvalidEvents(t *testing.T) {
	future := z17Now.Add(16 * time.Minute).Format(time.RFC3339)
	nearFuture := z17Now.Add(14 * time.Minute).Format(time.RFC3339)
	cases := []struct {
		name, body, field string
		want              int
	}{
		{"referral_converted", `{"id":"r1","customer_id":"c1","type":"referral_converted","time":"2026-03-01T10:00:00Z"}`, "type", 422},
		{"16 min future", fmt.Sprintf(`{"id":"f1","customer_id":"c1","type":"site_visited","time":%q}`, future), "time", 422},
		{"14 min future", fmt.Sprintf(`{"id":"f2","customer_id":"c1","type":"site_visited","time":%q}`, nearFuture), "", 202},
		{"customer .", `{"id":"d1","customer_id":".","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "customer_id", 422},
		{"customer ..", `{"id":"d2","customer_id":"..","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, "customer_id", 422},
		{"segment userId ..", `{"type":"page","userId":"..","messageId":"m-d","timestamp":"2026-03-01T10:00:00Z"}`, "userId", 422},
		{"only originalTimestamp", `{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","originalTimestamp":"2026-03-01T10:00:00Z"}`, "timestamp", 422},
		{"id with ESC", "{\"id\":\"e\\u001b1\",\"customer_id\":\"c1\",\"type\":\"site_visited\",\"time\":\"2026-03-01T10:00:00Z\"}", "id", 422},
		{"segment total without currency", `{"type":"track","event":"Order Completed","userId":"u1","messageId":"m2","timestamp":"2026-03-01T10:00:00Z","properties":{"total":19.9}}`, "properties.currency", 422},
		{"segment Referral Converted is custom", `{"type":"track","event":"Referral Converted","userId":"u1","messageId":"m3","timestamp":"2026-03-01T10:00:00Z"}`, "", 202},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, st := z17Server(t, nil)
			rec, a := z17Post(t, srv, tc.body)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want != 422 {
				return
			}
			if a.Error == nil || a.Error.Code != "invalid_event" || len(a.Results) != 1 || a.Results[0].Error == nil {
				t.Fatalf("body %s", rec.Body)
			}
			if f := a.Results[0].Error.Field; f != tc.field {
				t.Errorf("field %q, want %q (%s)", f, tc.field, rec.Body)
			}
			if n := z17Count(t, st); n != 0 {
				t.Errorf("%d customers stored", n)
			}
		})
	}
}

// docs/shop.md (POST /v1/events' 422 row) refuses customer IDs ".", ".."
// and "/" because not every client can reach them at GET
// /v1/customers/{id}; its GET section gives 400 bad_id only to IDs no
// event may carry. So every customer ID the API accepts can be read back
// at /v1/customers/{id}, escaped as a URL path segment.
func TestContractReviewAcceptedCustomerIDsCanBeReadBack(t *testing.T) {
	for _, id := range []string{"a/b", "a//b", "/", "//", "./a", "a/..", "x/./y", "%2E", "a?b", "a#b", "é"} {
		t.Run(id, func(t *testing.T) {
			srv, _ := z17Server(t, nil)
			rec, _ := z17Post(t, srv, z17Visit("e1", id))
			if rec.Code != http.StatusAccepted {
				t.Logf("POST customer_id %q refused with %d (acceptable): %s", id, rec.Code, rec.Body)
				return
			}
			get := z17Do(t, srv, http.MethodGet, "/v1/customers/"+url.PathEscape(id), nil, "")
			if get.Code != http.StatusOK {
				t.Errorf("customer_id %q was accepted (202) but GET /v1/customers/%s answers %d: %s", id, url.PathEscape(id), get.Code, get.Body)
			}
		})
	}
}

// docs/shop.md:98 error example and :248-250: an unknown customer is 404
// not_found with message `no customer "c42"`; an over-long ID is 400 bad_id.
func TestContractReviewCustomerErrors(t *testing.T) {
	srv, _ := z17Server(t, nil)
	rec := z17Do(t, srv, http.MethodGet, "/v1/customers/c42", nil, "")
	z17CheckErrorBody(t, rec, http.StatusNotFound, "not_found")
	if !strings.Contains(rec.Body.String(), `no customer \"c42\"`) {
		t.Errorf("message: %s", rec.Body)
	}
	z17CheckErrorBody(t, z17Do(t, srv, http.MethodGet, "/v1/customers/"+strings.Repeat("x", 257), nil, ""), http.StatusBadRequest, "bad_id")
	z17CheckErrorBody(t, z17Do(t, srv, http.MethodGet, "/v1/customers/a%E2%80%8Bb", nil, ""), http.StatusBadRequest, "bad_id")
	z17CheckErrorBody(t, z17Do(t, srv, http.MethodGet, "/v1/customers/a%00b", nil, ""), http.StatusBadRequest, "bad_id")
}

// docs/shop.md:99-106: each route a method pattern; GET answers HEAD; another
// method gets 405 method_not_allowed with Allow; other paths 404 not_found
// ("no API route …" under /v1/, "no route …" elsewhere), unclean paths too.
func TestContractReviewRouting(t *testing.T) {
	srv, _ := z17Server(t, nil)
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/events", "POST"},
		{http.MethodPut, "/v1/events", "POST"},
		{http.MethodDelete, "/v1/customers/c1", "GET, HEAD"},
		{http.MethodPost, "/v1/stages", "GET, HEAD"},
		{http.MethodPatch, "/v1/funnel", "GET, HEAD"},
		{http.MethodPost, "/v1/webhooks", "GET, HEAD"},
		{http.MethodPost, "/metrics", "GET, HEAD"},
		{http.MethodPost, "/", "GET, HEAD"},
	} {
		rec := z17Do(t, srv, tc.method, tc.path, z17JSON, "{}")
		z17CheckErrorBody(t, rec, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := rec.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	for _, p := range []string{"/v1/stages", "/v1/funnel", "/metrics", "/"} {
		rec := z17Do(t, srv, http.MethodHead, p, nil, "")
		if rec.Code != http.StatusOK {
			t.Errorf("HEAD %s: %d", p, rec.Code)
		}
	}
	for _, tc := range []struct{ path, prefix string }{
		{"/v1/nothing", "no API route"},
		{"/v1", "no API route"},
		{"/v1/customers", "no API route"},
		{"/v1/customers/a/b", "no API route"},
		{"/nothing", "no route"},
		{"/v1//stages", "no API route"},
		{"/v1/./stages", "no API route"},
		{"/v1/customers/../stages", "no API route"},
		{"/v1/customers//c1", "no API route"},
		{"//nothing", "no route"},
		{"/a/../nothing", "no route"},
	} {
		rec := z17Do(t, srv, http.MethodGet, tc.path, nil, "")
		z17CheckErrorBody(t, rec, http.StatusNotFound, "not_found")
		if tc.prefix != "" && !strings.Contains(rec.Body.String(), tc.prefix) {
			t.Errorf("GET %s: message lacks %q: %s", tc.path, tc.prefix, rec.Body)
		}
	}
	z17CheckErrorBody(t, z17Do(t, srv, http.MethodGet, "/v1/webhooks", nil, ""), http.StatusNotFound, "not_configured")
}

// docs/shop.md:81-87: with keys, every request carries one as Bearer (or
// Basic password); anything else gets 401 with both WWW-Authenticate
// values and code unauthorized — also POST /v1/events, which then
// records nothing.
func TestContractReviewAuth(t *testing.T) {
	srv, st := z17Server(t, nil, shop.WithAPIKeys("s3cret", "", "other"))
	for _, hdr := range []map[string]string{
		nil,
		{"Authorization": "Bearer wrong"},
		{"Authorization": "Bearer s3cre"},
		{"Authorization": "Bearer s3crett"},
		{"Authorization": "Bearer "},
		{"Authorization": "s3cret"},
		{"Authorization": "Basic " + "dXNlcjp3cm9uZw=="}, // user:wrong
	} {
		h := map[string]string{"Content-Type": "application/json"}
		for k, v := range hdr {
			h[k] = v
		}
		rec := z17Do(t, srv, http.MethodPost, "/v1/events", h, z17Visit("e1", "c1"))
		z17CheckErrorBody(t, rec, http.StatusUnauthorized, "unauthorized")
		got := rec.Header().Values("WWW-Authenticate")
		if strings.Join(got, "|") != `Bearer realm="clm-shop"|Basic realm="clm-shop"` {
			t.Errorf("%v: WWW-Authenticate %q", hdr, got)
		}
	}
	if n := z17Count(t, st); n != 0 {
		t.Errorf("%d customers stored by unauthorized requests", n)
	}
	for _, hdr := range []map[string]string{
		{"Authorization": "Bearer s3cret"},
		{"Authorization": "bearer other"},
		{"Authorization": "Basic " + "YW55OnMzY3JldA=="}, // any:s3cret
	} {
		if rec := z17Do(t, srv, http.MethodGet, "/v1/stages", hdr, ""); rec.Code != http.StatusOK {
			t.Errorf("%v: %d", hdr, rec.Code)
		}
	}
}

// z17FailStore fails every write of the customers fail names.
type z17FailStore struct {
	*store.Memory
	fail func(id string) bool
}

func (s *z17FailStore) Apply(ctx context.Context, ws []lifecycle.Write) {
	var pass []lifecycle.Write
	var idx []int
	for i := range ws {
		if s.fail(ws[i].ID) {
			ws[i].Err = errors.New("disk on fire")
			continue
		}
		pass = append(pass, ws[i])
		idx = append(idx, i)
	}
	if len(pass) > 0 {
		s.Memory.Apply(ctx, pass)
		for k, i := range idx {
			ws[i].Err = pass[k].Err
		}
	}
}

// docs/shop.md:227 and the package doc: "500 or 503: the store failed for
// some customers. Results say which events were applied; retrying the
// whole request is safe, as applied events come back as duplicates."
func TestContractReviewStoreFailureRetry(t *testing.T) {
	failing := true
	var mu sync.Mutex
	fs := &z17FailStore{Memory: store.NewMemory(), fail: func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		return failing && id == "bad"
	}}
	srv, _ := z17Server(t, fs)
	body := `[` + z17Visit("v1", "good") + `,` + z17Visit("v2", "bad") + `]`
	rec, a := z17Post(t, srv, body)
	if rec.Code != http.StatusInternalServerError && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if a.Error == nil || a.Error.Code != "store_failed" {
		t.Errorf("error %s", rec.Body)
	}
	if a.Results[0].Status != "applied" || a.Results[1].Status != "failed" {
		t.Errorf("results %s", rec.Body)
	}
	if a.Accepted == nil || *a.Accepted != 1 {
		t.Errorf("accepted %v, want 1", a.Accepted)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	rec, a = z17Post(t, srv, body)
	if rec.Code != http.StatusAccepted || a.Results[0].Status != "duplicate" || a.Results[1].Status != "applied" {
		t.Errorf("retry: %d %s", rec.Code, rec.Body)
	}
	if c := z17Customer(t, fs, "good"); c == nil || c.Version != 1 {
		t.Errorf("good customer after retry: %+v", c)
	}
}

// docs/shop.md:193 and the results table: a successful request answers
// 202 with one result per event in the order sent; applied results carry
// to, moved, version, and from only for a known customer; skipped
// Segment calls (identify, group, alias) are "skipped".
func TestContractReviewResultShape(t *testing.T) {
	srv, _ := z17Server(t, nil)
	body := `{"batch":[
	 {"type":"identify","userId":"c7","messageId":"m-0","timestamp":"2026-03-03T09:00:00Z","traits":{"email":"x@example.com"}},
	 {"type":"page","userId":"c7","messageId":"m-p","timestamp":"2026-03-03T09:30:00Z"},
	 {"type":"track","event":"Order Completed","userId":"c7","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":19.90,"currency":"EUR"}}
	],"sentAt":"2026-03-03T10:00:01Z","writeKey":"wk"}`
	rec, a := z17Post(t, srv, body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(a.Results) != 3 || a.Accepted == nil || *a.Accepted != 2 {
		t.Fatalf("results %s", rec.Body)
	}
	for i, r := range a.Results {
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
	}
	if a.Results[0].Status != "skipped" {
		t.Errorf("identify: %q", a.Results[0].Status)
	}
	p, o := a.Results[1], a.Results[2]
	if p.Status != "applied" || p.ID != "m-p" || p.CustomerID != "c7" || p.From != "" || p.To == "" || p.Moved == nil || !*p.Moved || p.Version != 1 {
		t.Errorf("page result %+v", p)
	}
	if o.Status != "applied" || o.From != p.To || o.Moved == nil || o.Version != 1 {
		t.Errorf("order result %+v", o)
	}
	g := z17Do(t, srv, http.MethodGet, "/v1/customers/c7", nil, "")
	var c struct {
		Revenue map[string]int64 `json:"revenue"`
	}
	_ = json.Unmarshal(g.Body.Bytes(), &c)
	if c.Revenue["EUR"] != 1990 {
		t.Errorf("revenue %v, want EUR 1990", c.Revenue)
	}
}

// docs/shop.md:321 metrics: clm_shop_events_total by status and
// clm_shop_event_requests_refused_total by code; "a 401 is not counted
// here".
func TestContractReviewEventMetrics(t *testing.T) {
	srv, _ := z17Server(t, nil, shop.WithAPIKeys("k"))
	auth := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer k"}
	post := func(hdr map[string]string, body string) int {
		return z17Do(t, srv, http.MethodPost, "/v1/events", hdr, body).Code
	}
	post(auth, z17Visit("e1", "c1"))                                                                         // applied
	post(auth, z17Visit("e1", "c1"))                                                                         // duplicate
	post(auth, `[`+z17Visit("e2", "c1")+`,`+z17Visit("e3", "c1")+`x]`)                                       // malformed_json
	post(auth, `[`+z17Visit("e2", "c1")+`,{"id":"e3"}]`)                                                     // invalid_event: not_applied + rejected
	post(map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer k"}, z17Visit("e9", "c1")) // 415
	post(map[string]string{"Content-Type": "application/json"}, z17Visit("e8", "c1"))                        // 401: not counted
	rec := z17Do(t, srv, http.MethodGet, "/metrics", map[string]string{"Authorization": "Bearer k"}, "")
	text := rec.Body.String()
	for _, want := range []string{
		`clm_shop_events_total{status="applied"} 1`,
		`clm_shop_events_total{status="duplicate"} 1`,
		`clm_shop_events_total{status="not_applied"} 1`,
		`clm_shop_events_total{status="rejected"} 1`,
		`clm_shop_event_requests_refused_total{code="malformed_json"} 1`,
		`clm_shop_event_requests_refused_total{code="invalid_event"} 1`,
		`clm_shop_event_requests_refused_total{code="unsupported_media_type"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, `code="unauthorized"`) {
		t.Errorf("a 401 is counted in refused requests")
	}
}

// docs/shop.md:280-296: GET /v1/webhooks state is delivering (this
// instance holds the lease), standby (another does) or stopped; lag 0
// when caught up; the endpoint as given.
func TestContractReviewWebhooksState(t *testing.T) {
	var mu sync.Mutex
	var st feed.Stats
	stats := func() feed.Stats { mu.Lock(); defer mu.Unlock(); return st }
	srv, _ := z17Server(t, nil, shop.WithWebhooks(stats, "https://crm.example/hooks/clm"), shop.WithClock(func() time.Time { return z17Now }))
	for _, tc := range []struct {
		s     feed.Stats
		state string
		lag   float64
	}{
		{feed.Stats{Name: "webhooks", Running: true, Holding: true, Cursor: 352, Delivered: 352}, "delivering", 0},
		{feed.Stats{Name: "webhooks", Running: true}, "standby", 0},
		{feed.Stats{Name: "webhooks", Running: false, LastError: "410 Gone"}, "stopped", 0},
		{feed.Stats{Name: "webhooks", Running: true, Holding: true, Current: "chg_x", Attempts: 3, PendingSince: z17Now.Add(-90 * time.Second)}, "delivering", 90},
	} {
		mu.Lock()
		st = tc.s
		mu.Unlock()
		rec := z17Do(t, srv, http.MethodGet, "/v1/webhooks", nil, "")
		var v struct {
			URL        string  `json:"url"`
			State      string  `json:"state"`
			Cursor     uint64  `json:"cursor"`
			LagSeconds float64 `json:"lag_seconds"`
			Attempts   int     `json:"attempts"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if v.State != tc.state || v.LagSeconds != tc.lag || v.URL != "https://crm.example/hooks/clm" || v.Cursor != uint64(tc.s.Cursor) || v.Attempts != tc.s.Attempts {
			t.Errorf("stats %+v: got %+v", tc.s, v)
		}
	}
}

// docs/shop.md: "every bad event gets an error naming the field as it was
// sent (field is "" for an error about the whole event, value is "" for a
// missing field)". A review found a Segment call's unknown or repeated
// field reported with value "" although it was sent; it is the value's
// JSON as sent now, as the library's own form reports an unknown field's.
func TestContractReviewSegmentFieldValueSent(t *testing.T) {
	const call = `{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"`
	long := strings.Repeat("é", 40) // 80 bytes: cut to 64 or fewer, between characters
	for _, tc := range []struct{ body, field, value string }{
		{call + `,"user_id":"u2"}`, "user_id", `"u2"`},
		{call + `,"RudderId":7}`, "RudderId", "7"},
		{call + `,"userId":"u3"}`, "userId", `"u3"`},
		{call + `,"extra":"` + long + `"}`, "extra", `"` + strings.Repeat("é", 31) + "…"},
		{`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","foo":1}`, "foo", "1"},
	} {
		srv, _ := z17Server(t, nil)
		rec, a := z17Post(t, srv, tc.body)
		if rec.Code != http.StatusBadRequest || len(a.Results) != 1 || a.Results[0].Error == nil {
			t.Errorf("%s: %d %s", tc.body, rec.Code, rec.Body)
			continue
		}
		if e := a.Results[0].Error; e.Field != tc.field || e.Value != tc.value {
			t.Errorf("%s: field %q value %q, want %q %q", tc.body, e.Field, e.Value, tc.field, tc.value)
		}
	}
}
