package shop_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

var now = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T, st lifecycle.Store, opts ...shop.Option) (*shop.Server, *lifecycle.Tracker) {
	t.Helper()
	if st == nil {
		st = store.NewMemory()
	}
	tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return now }))
	return shop.New(tr, append([]shop.Option{shop.WithClock(func() time.Time { return now })}, opts...)...), tr
}

// answer is the decoded body of a POST /v1/events answer.
type answer struct {
	Error *struct {
		Code, Message string
	} `json:"error"`
	Accepted int `json:"accepted"`
	Results  []struct {
		Index      int      `json:"index"`
		ID         string   `json:"id"`
		CustomerID string   `json:"customer_id"`
		Status     string   `json:"status"`
		From       stage.ID `json:"from"`
		To         stage.ID `json:"to"`
		Moved      bool     `json:"moved"`
		Version    uint64   `json:"version"`
		Error      *struct {
			Field, Value, Reason, Message string
		} `json:"error"`
	} `json:"results"`
}

func do(t *testing.T, h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"), "body: %s", rec.Body)
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), "body: %s", rec.Body)
	return v
}

const (
	jsonCT = "application/json"
	visit  = `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`
	order  = `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":4999,"currency":"EUR"}`
	track  = `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":49.99,"currency":"EUR"}}`
)

func TestPostEventsBadInput(t *testing.T) {
	long := `[` + strings.Repeat(visit+",", 20) + visit + `]`
	tests := []struct {
		name     string
		ct       string
		encoding string // Content-Encoding, if any
		body     string
		opts     []shop.Option
		code     int
		kind     string         // the top-level error code
		fields   map[int]string // per-event errors: index → field named
	}{
		{name: "empty body", body: "", code: 400, kind: "malformed_json"},
		{name: "white space only", body: " \n", code: 400, kind: "malformed_json"},
		{name: "not JSON", body: "hello", code: 400, kind: "malformed_json"},
		{name: "truncated", body: `[{"id":"v-1",`, code: 400, kind: "malformed_json"},
		{name: "two values", body: visit + visit, code: 400, kind: "malformed_json"},
		{name: "a string", body: `"event"`, code: 400, kind: "malformed_json"},
		{name: "a number", body: `42`, code: 400, kind: "malformed_json"},
		{name: "null", body: `null`, code: 400, kind: "malformed_json"},
		{name: "empty array", body: `[]`, code: 400, kind: "malformed_json"},
		{name: "empty Segment batch", body: `{"batch":[]}`, code: 400, kind: "malformed_json"},
		{name: "Segment batch not an array", body: `{"batch":{"type":"track"}}`, code: 400, kind: "malformed_json"},
		{name: "Segment batch null", body: `{"batch":null}`, code: 400, kind: "malformed_json"},
		{name: "unknown envelope field", body: `{"batch":[` + track + `],"colour":"red"}`, code: 400, kind: "malformed_json"},
		{name: "element not an object", body: `[` + visit + `,7]`, code: 400, kind: "malformed_event", fields: map[int]string{1: ""}},
		{name: "unknown field", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","colour":"red"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "colour"}},
		{name: "amount as string", body: `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":"49.99","currency":"EUR"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "amount"}},
		{name: "amount with decimals", body: `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":49.99,"currency":"EUR"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "amount"}},
		{name: "attrs value not a string", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","attrs":{"page":3}}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "attrs.page"}},
		{name: "time not RFC 3339", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"01/03/2026"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "time"}},
		{name: "time as number", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":1772359200}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "time"}},
		{name: "one bad in a batch", body: `[` + visit + `,{"id":"x","colour":1}]`, code: 400, kind: "malformed_event", fields: map[int]string{1: "colour"}},
		{name: "Segment unknown field", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","colour":"red"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "colour"}},
		{name: "Segment bad timestamp", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-1","timestamp":"yesterday"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "timestamp"}},
		{name: "Segment timestamp missing", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-1"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "timestamp"}},
		{name: "Segment no user", body: `{"type":"track","event":"Signed Up","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "userId"}},
		{name: "Segment no event name", body: `{"type":"track","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "event"}},
		{name: "Segment event name of symbols", body: `{"type":"track","event":"!!!","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "event"}},
		{name: "Segment too many decimals", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":"49.999","currency":"EUR"}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.total"}},
		{name: "Segment revenue not a number", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"revenue":"lots","currency":"EUR"}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.revenue"}},
		{name: "Segment amount without currency", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":10}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.currency"}},
		{name: "Segment unknown call type", body: `{"type":"trak","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "type"}},
		{name: "Segment-shaped with a library type", body: `{"type":"bogus","userId":"u","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "type"}},
		{name: "Segment timestamp not a string", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-1","timestamp":1772359200}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "timestamp"}},
		{name: "Segment time in the future", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-1","timestamp":"2026-04-02T00:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "timestamp"}},
		{name: "bad Segment and bad library event", body: `[{"type":"track","event":"Signed Up","userId":"c2","timestamp":"2026-03-03T10:00:00Z"},` + visit + `,{"id":"v-9","customer_id":"c9","type":"nope","time":"2026-03-01T10:00:00Z"}]`, code: 422, kind: "invalid_event", fields: map[int]string{0: "messageId", 2: "type"}},
		{name: "Segment currency not a string", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":5,"currency":978}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.currency"}},
		{name: "missing id", body: `{"customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "id"}},
		{name: "missing customer", body: `{"id":"v-1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "customer_id"}},
		{name: "missing time", body: `{"id":"v-1","customer_id":"c1","type":"site_visited"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "time"}},
		{name: "unknown type", body: `{"id":"v-1","customer_id":"c1","type":"order_complete","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "type"}},
		{name: "lower-case currency", body: `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":4999,"currency":"eur"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "currency"}},
		{name: "amount without currency", body: `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":4999}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "currency"}},
		{name: "negative amount", body: `{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":-1,"currency":"EUR"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "amount"}},
		{name: "self referral", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","referrer_id":"c1"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "referrer_id"}},
		{name: "survey without score", body: `{"id":"s-1","customer_id":"c1","type":"survey_answered","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "attrs.score"}},
		{name: "time in the future", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-04-01T13:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "time"}},
		{name: "valid and invalid mixed", body: `[` + visit + `,` + order + `,{"id":"o-2","customer_id":"c1","type":"order_completed","time":"2026-03-02T10:00:00Z","amount":5}]`, code: 422, kind: "invalid_event", fields: map[int]string{2: "currency"}},
		{name: "Segment bad currency", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":5,"currency":"EURO"}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.currency"}},
		{name: "Segment score out of range", body: `{"type":"track","event":"Survey Answered","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"score":11}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.score"}},
		{name: "Segment anonymous self referral", body: `{"type":"track","event":"Signed Up","anonymousId":"a1","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"referrer_id":"a1"}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.referrer_id"}},
		{name: "Segment no messageId", body: `{"type":"track","event":"Signed Up","userId":"c2","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "messageId"}},
		{name: "body too large", body: long, opts: []shop.Option{shop.WithMaxBodyBytes(512)}, code: 413, kind: "body_too_large"},
		{name: "too many events", body: `[` + visit + `,` + order + `,` + track + `]`, opts: []shop.Option{shop.WithMaxBatch(2)}, code: 413, kind: "too_many_events"},
		{name: "text content type", ct: "text/plain", body: visit, code: 415, kind: "unsupported_media_type"},
		{name: "form content type", ct: "application/x-www-form-urlencoded", body: visit, code: 415, kind: "unsupported_media_type"},

		// Issue 16.
		{name: "charset utf-16", ct: "application/json; charset=utf-16", body: visit, code: 415, kind: "unsupported_media_type"},
		{name: "charset latin1", ct: "application/json; charset=ISO-8859-1", body: visit, code: 415, kind: "unsupported_media_type"},
		{name: "gzip content encoding", encoding: "gzip", body: "\x1f\x8b\x08\x00", code: 415, kind: "unsupported_media_type"},
		{name: "gzip content encoding, plain JSON body", encoding: "gzip", body: visit, code: 415, kind: "unsupported_media_type"},
		{name: "identity then br content encoding", encoding: "identity, br", body: visit, code: 415, kind: "unsupported_media_type"},
		{name: "referral credit", body: `{"id":"x1","customer_id":"c1","type":"referral_converted","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "type"}},
		{name: "referral credits in a batch", body: `[` + order + `,{"id":"clm.referral:c1","customer_id":"c2","type":"referral_converted","time":"2026-03-02T10:00:00Z","attrs":{"referred_id":"c1"}}]`, code: 422, kind: "invalid_event", fields: map[int]string{1: "type"}},
		{name: "customer ID with a zero width space", body: `{"id":"v-1","customer_id":"c1\u200b","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "customer_id"}},
		{name: "event ID with ESC", body: `{"id":"v\u001b1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "id"}},
		{name: "referrer ID with a right-to-left override", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","referrer_id":"\u202ec0"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "referrer_id"}},
		{name: "Segment userId only a BOM", body: `{"type":"track","event":"Signed Up","userId":"\ufeff","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "userId"}},
		{name: "time offset +00:60", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00+00:60"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "time"}},
		{name: "time with a comma fraction", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00,5Z"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "time"}},
		{name: "time with ten fraction digits", body: `{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00.1234567891Z"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "time"}},
		{name: "Segment timestamp offset +00:60", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00+00:60"}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "timestamp"}},
		{name: "Segment messageId twice", body: `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m-first","messageId":"m-second","timestamp":"2026-03-03T10:00:00Z"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "messageId"}},
		{name: "Segment MESSAGEID", body: `{"type":"track","event":"Signed Up","userId":"c2","MESSAGEID":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "MESSAGEID"}},
		{name: "Segment TYPE", body: `{"TYPE":"track","event":"Signed Up","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z"}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "TYPE"}},
		{name: "Segment total twice", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"total":"1.00","currency":"EUR","total":"999.00"}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.total"}},
		{name: "Segment properties.Total", body: `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m-1","timestamp":"2026-03-03T10:00:00Z","properties":{"Total":"999.00","currency":"EUR"}}`, code: 422, kind: "invalid_event", fields: map[int]string{0: "properties.Total"}},
		{name: "Segment batch twice", body: `{"batch":[` + track + `],"batch":[` + track + `]}`, code: 400, kind: "malformed_json"},
		{name: "Segment Batch", body: `{"Batch":[` + track + `]}`, code: 400, kind: "malformed_event", fields: map[int]string{0: "Batch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := store.NewMemory()
			srv, _ := newServer(t, st, tc.opts...)
			ct := tc.ct
			if ct == "" {
				ct = "application/json; charset=utf-8"
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", ct)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			require.Equal(t, tc.code, rec.Code, "body: %s", rec.Body)
			a := decode[answer](t, rec)
			require.NotNil(t, a.Error, "an error body")
			if a.Error.Code != tc.kind {
				t.Errorf("error code %q, want %q (%s)", a.Error.Code, tc.kind, a.Error.Message)
			}
			if a.Accepted != 0 {
				t.Errorf("accepted = %d, want 0", a.Accepted)
			}
			if tc.fields != nil {
				require.NotEmpty(t, a.Results, "per-event results")
				got := map[int]string{}
				for i, r := range a.Results {
					if r.Index != i {
						t.Errorf("result %d has index %d", i, r.Index)
					}
					switch {
					case r.Status == "rejected" && r.Error != nil:
						got[i] = r.Error.Field
						if r.Error.Reason == "" || r.Error.Message == "" {
							t.Errorf("result %d: error without reason or message: %+v", i, r.Error)
						}
					case r.Status != "not_applied":
						t.Errorf("result %d: status %q, want rejected or not_applied", i, r.Status)
					}
				}
				if diff := cmp.Diff(tc.fields, got); diff != "" {
					t.Errorf("fields named per event (-want +got):\n%s", diff)
				}
			}
			if n := st.Len(); n != 0 {
				t.Errorf("the store holds %d customers after a refused request; want none", n)
			}
		})
	}
}

func TestPostEventsApplies(t *testing.T) {
	srv, tr := newServer(t, nil)
	ctx := context.Background()

	rec := do(t, srv, http.MethodPost, "/v1/events", "", visit) // no Content-Type is accepted
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	a := decode[answer](t, rec)
	require.Len(t, a.Results, 1)
	if r := a.Results[0]; r.Status != "applied" || r.To != model.Reach || !r.Moved || r.Version != 1 {
		t.Errorf("single event result %+v", r)
	}

	batch := `[` + visit + `,` + order + `,` + track + `]`
	rec = do(t, srv, http.MethodPost, "/v1/events", jsonCT, batch)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	a = decode[answer](t, rec)
	var got []string
	for _, r := range a.Results {
		got = append(got, r.ID+" "+r.Status+" "+string(r.From)+"→"+string(r.To))
	}
	want := []string{"v-1 duplicate reach→reach", "o-1 applied reach→conversion", "m-1 applied →conversion"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batch results (-want +got):\n%s", diff)
	}
	if a.Accepted != 3 {
		t.Errorf("accepted = %d, want 3", a.Accepted)
	}

	seg := `{"batch":[
		{"type":"track","event":"Product Added","anonymousId":"anon-7","messageId":"m-2","timestamp":"2026-03-04T10:00:00Z","properties":{"sku":"T-1","price":12.5,"in_stock":true,"tags":["a"]}},
		{"type":"track","event":"Order Completed","userId":"c3","messageId":"m-3","timestamp":"2026-03-05T10:00:00+01:00","properties":{"revenue":"1200","currency":"JPY","referrer_id":"c2"},"context":{"ip":"10.0.0.1"}},
		{"type":"track","event":"Wishlist Added","userId":"c3","messageId":"m-4","timestamp":"2026-03-05T11:00:00Z"}
	],"sentAt":"2026-03-05T11:00:01Z"}`
	rec = do(t, srv, http.MethodPost, "/v1/events", jsonCT, seg)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)

	rec = do(t, srv, http.MethodPost, "/v1/events", jsonCT, `[{"type":"identify","userId":"c9","messageId":"i-1","timestamp":"2026-03-05T10:00:00Z","traits":{"email":"x@example.com"}},`+
		`{"type":"page","userId":"c9","messageId":"p-1","timestamp":"2026-03-05T10:01:00Z","name":"Home"}]`)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	a = decode[answer](t, rec)
	got = nil
	for _, r := range a.Results {
		got = append(got, r.Status+" "+string(r.To))
	}
	if diff := cmp.Diff([]string{"skipped ", "applied reach"}, got); diff != "" {
		t.Errorf("identify and page calls (-want +got):\n%s", diff)
	}

	c, err := tr.Customer(ctx, "anon-7")
	require.NoError(t, err)
	tl, ok := c.Facts.Tally(lifecycle.CartAdded)
	require.True(t, ok, "Product Added is recorded as cart_added")
	require.EqualValues(t, 1, tl.Count)

	c, err = tr.Customer(ctx, "c3")
	require.NoError(t, err)
	if got := c.Facts.Amount(lifecycle.OrderCompleted, "JPY"); got != 1200 {
		t.Errorf("JPY order amount = %d, want 1200 (no minor unit)", got)
	}
	if c.Facts.ReferredBy != "c2" {
		t.Errorf("ReferredBy = %q, want c2", c.Facts.ReferredBy)
	}
	if n := c.Facts.Count("segment.wishlist_added"); n != 1 {
		t.Errorf("custom Segment event: count of segment.wishlist_added = %d, want 1", n)
	}
	c, err = tr.Customer(ctx, "c2")
	require.NoError(t, err)
	if n := c.Facts.Count(lifecycle.ReferralConverted); n != 1 {
		t.Errorf("referrer c2 has %d referral_converted, want 1", n)
	}
	if got := c.Facts.Amount(lifecycle.OrderCompleted, "EUR"); got != 4999 {
		t.Errorf("c2's Segment total 49.99 EUR recorded as %d, want 4999", got)
	}
}

// failingStore refuses every write. It has only the three methods of
// lifecycle.Store, so the tracker cannot use an optional capability of
// the memory store behind it.
type failingStore struct{ m *store.Memory }

var errDisk = errors.New("disk on fire")

func (f failingStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return f.m.Get(ctx, id)
}

func (f failingStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return f.m.Scan(ctx)
}

func (failingStore) Put(context.Context, *lifecycle.Customer, uint64) error { return errDisk }

func TestPostEventsStoreFailure(t *testing.T) {
	srv, _ := newServer(t, failingStore{store.NewMemory()})
	rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, `[`+visit+`,`+track+`]`)
	require.Equal(t, http.StatusInternalServerError, rec.Code, "body: %s", rec.Body)
	a := decode[answer](t, rec)
	require.Equal(t, "store_failed", a.Error.Code)
	for _, r := range a.Results {
		if r.Status != "failed" || r.Error == nil || !strings.Contains(r.Error.Message, "disk on fire") {
			t.Errorf("result %+v, want failed with the store's error", r)
		}
	}
}

func TestCustomerEndpoint(t *testing.T) {
	srv, _ := newServer(t, nil)
	rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, `[`+visit+`,`+order+`]`)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)

	rec = do(t, srv, http.MethodGet, "/v1/customers/c1", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	type view struct {
		ID        string                 `json:"id"`
		Model     string                 `json:"model"`
		Stage     stage.ID               `json:"stage"`
		StageName string                 `json:"stage_name"`
		Since     time.Time              `json:"since"`
		Events    int64                  `json:"events"`
		Orders    int64                  `json:"orders"`
		Revenue   map[string]int64       `json:"revenue"`
		History   []lifecycle.Transition `json:"history"`
		Facts     lifecycle.Facts        `json:"facts"`
	}
	v := decode[view](t, rec)
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t2 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	want := view{
		ID: "c1", Model: "sterne-cutler", Stage: model.Conversion, StageName: "Conversion", Since: t2,
		Events: 2, Orders: 1, Revenue: map[string]int64{"EUR": 4999},
		History: []lifecycle.Transition{{To: model.Reach, At: t1, Cause: "v-1"}, {From: model.Reach, To: model.Conversion, At: t2, Cause: "o-1"}},
	}
	if diff := cmp.Diff(want, v, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Facts" }, cmp.Ignore())); diff != "" {
		t.Errorf("customer view (-want +got):\n%s", diff)
	}
	if v.Facts.Count(lifecycle.OrderCompleted) != 1 || v.Facts.Amount(lifecycle.OrderCompleted, "EUR") != 4999 {
		t.Errorf("facts %+v", v.Facts)
	}

	tests := []struct {
		name, method, path string
		code               int
		kind               string
	}{
		{"unknown customer", http.MethodGet, "/v1/customers/nobody", 404, "not_found"},
		{"ID too long", http.MethodGet, "/v1/customers/" + strings.Repeat("x", lifecycle.MaxIDLen+1), 400, "bad_id"},
		{"ID with a zero width space", http.MethodGet, "/v1/customers/c1%E2%80%8B", 400, "bad_id"},
		{"ID with a right-to-left override", http.MethodGet, "/v1/customers/%E2%80%AEgnp.exe", 400, "bad_id"},
		{"POST to a customer", http.MethodPost, "/v1/customers/c1", 405, "method_not_allowed"},
		{"GET events", http.MethodGet, "/v1/events", 405, "method_not_allowed"},
		{"DELETE stages", http.MethodDelete, "/v1/stages", 405, "method_not_allowed"},
		{"unknown API route", http.MethodGet, "/v1/orders", 404, "not_found"},
		{"unknown route", http.MethodGet, "/nope", 404, "not_found"},
		{"POST to the dashboard", http.MethodPost, "/", 405, "method_not_allowed"},
		{"customers without ID", http.MethodGet, "/v1/customers/", 404, "not_found"},
		{"webhooks not configured", http.MethodGet, "/v1/webhooks", 404, "not_configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, srv, tc.method, tc.path, "", "")
			require.Equal(t, tc.code, rec.Code, "body: %s", rec.Body)
			e := decode[struct {
				Error struct{ Code, Message string }
			}](t, rec)
			if e.Error.Code != tc.kind || e.Error.Message == "" {
				t.Errorf("error %+v, want code %q with a message", e.Error, tc.kind)
			}
			if tc.code == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

// stream records a small, fixed set of customers and returns how many are
// in each stage, counted from the store.
func stream(t *testing.T, srv http.Handler, st lifecycle.Store) map[stage.ID]int {
	t.Helper()
	var evs []string
	add := func(id, cust, typ string, day int, extra string) {
		evs = append(evs, `{"id":"`+id+`","customer_id":"`+cust+`","type":"`+typ+`","time":"2026-03-`+twoDigits(day)+`T10:00:00Z"`+extra+`}`)
	}
	for i := range 12 {
		c := "c" + strconv.Itoa(i)
		add("v-"+c, c, "site_visited", 1, "")
		if i%4 != 0 {
			add("p-"+c, c, "product_viewed", 2, "")
		}
		for k := range i / 3 {
			add("o-"+c+"-"+strconv.Itoa(k), c, "order_completed", 3+k, `,"amount":1000,"currency":"EUR"`)
		}
	}
	rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, "["+strings.Join(evs, ",")+"]")
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	counts := map[stage.ID]int{}
	for c, err := range st.Scan(context.Background()) {
		require.NoError(t, err)
		counts[c.Stage]++
	}
	return counts
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func TestStagesAndFunnel(t *testing.T) {
	st := store.NewMemory()
	srv, _ := newServer(t, st)
	counts := stream(t, srv, st)

	rec := do(t, srv, http.MethodGet, "/v1/stages", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	type stagesView struct {
		Model     string `json:"model"`
		Customers int    `json:"customers"`
		Stages    []struct {
			ID        stage.ID `json:"id"`
			Customers int      `json:"customers"`
		} `json:"stages"`
	}
	sv := decode[stagesView](t, rec)
	var ids []stage.ID
	total := 0
	for _, s := range sv.Stages {
		ids = append(ids, s.ID)
		if s.Customers != counts[s.ID] {
			t.Errorf("stage %s: %d customers, store has %d", s.ID, s.Customers, counts[s.ID])
		}
		total += s.Customers
	}
	if diff := cmp.Diff(model.SterneCutler().Stages().IDs(), ids); diff != "" {
		t.Errorf("stages not in model order (-want +got):\n%s", diff)
	}
	if sv.Customers != 12 || total != 12 {
		t.Errorf("customers = %d, sum over stages = %d, want 12", sv.Customers, total)
	}

	rec = do(t, srv, http.MethodGet, "/v1/funnel", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	type funnelView struct {
		Customers int `json:"customers"`
		Stages    []struct {
			ID         stage.ID `json:"id"`
			Current    int      `json:"current"`
			Reached    int      `json:"reached"`
			Conversion float64  `json:"conversion"`
			DropOff    float64  `json:"drop_off"`
		} `json:"stages"`
	}
	fv := decode[funnelView](t, rec)
	// Twelve customers: all reached reach; c1..c11 but c4, c8 viewed a
	// product, and those with orders (c3..c11) passed acquisition as well.
	// Orders: c3-c5 one, c6-c8 two, c9-c11 three.
	type row struct {
		ID               stage.ID
		Current, Reached int
	}
	var got []row
	for _, s := range fv.Stages {
		got = append(got, row{s.ID, s.Current, s.Reached})
	}
	wantRows := []row{
		{model.Reach, 1, 12},       // c0 visited only (c4 and c8 bought)
		{model.Acquisition, 2, 11}, // c1, c2 viewed products
		{model.Conversion, 3, 9},   // c3, c4, c5
		{model.Retention, 6, 6},    // c6..c11 (2 or 3 orders, below 5)
		{model.Loyalty, 0, 0},
	}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("funnel (-want +got):\n%s", diff)
	}
	if s := fv.Stages[1]; s.Conversion != 9.0/11 || s.DropOff != 2.0/11 {
		t.Errorf("acquisition conversion %v drop-off %v, want 9/11 and 2/11", s.Conversion, s.DropOff)
	}
}

var countRE = regexp.MustCompile(`<text class="count" data-stage="([a-z_]+)"[^>]*>(\d+)</text>`)

func TestDashboard(t *testing.T) {
	st := store.NewMemory()
	srv, _ := newServer(t, st)
	counts := stream(t, srv, st)

	rec := do(t, srv, http.MethodGet, "/", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	body := rec.Body.String()
	got := map[stage.ID]int{}
	for _, m := range countRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[2])
		got[stage.ID(m[1])] = n
	}
	want := map[stage.ID]int{}
	for _, id := range model.SterneCutler().Stages().IDs() {
		want[id] = counts[id]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart counts (-want +got):\n%s", diff)
	}
	for _, s := range []string{"<svg", "Conversion between stages", "Time in stage", `name="customer"`} {
		if !strings.Contains(body, s) {
			t.Errorf("dashboard lacks %q", s)
		}
	}
	for _, s := range []string{"<script", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, ""), s) {
			t.Errorf("dashboard contains %q: it must need no scripts or external assets", s)
		}
	}

	tests := []struct {
		name, query string
		code        int
		has         []string
		hasNot      []string
	}{
		{"found", "c7", 200, []string{`data-customer="c7"`, `id="customer-stage">Retention<`, "o-c7-1"}, []string{"customer-missing"}},
		{"not found", "nobody", 404, []string{`id="customer-missing"`, "No customer with ID &#34;nobody&#34;"}, []string{`id="customer"`}},
		{"markup is escaped", `<script>alert(1)</script>`, 404, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script>alert"}},
		// As the API answers (issue 16): 400 for an ID no event may carry.
		{"ID too long", strings.Repeat("y", 300), 400, []string{`id="customer-missing"`, "longer than 256 bytes"}, nil},
		{"ID with a zero width space", "c7%E2%80%8B", 400, []string{`id="customer-missing"`, "U&#43;200B"}, []string{`id="customer"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, srv, http.MethodGet, "/?customer="+urlQuery(tc.query), "", "")
			require.Equal(t, tc.code, rec.Code)
			body := rec.Body.String()
			for _, s := range tc.has {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(body, s) {
					t.Errorf("page has %q", s)
				}
			}
		})
	}

	if rec := do(t, srv, http.MethodGet, "/favicon.ico", "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /favicon.ico = %d, want 404", rec.Code)
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("<", "%3C", ">", "%3E", "(", "%28", ")", "%29", "/", "%2F", " ", "%20")
	return r.Replace(s)
}

// With API keys, every request must carry one: as a bearer token, or as
// the Basic-auth password a browser sends for the dashboard.
func TestAPIKeys(t *testing.T) {
	srv, _ := newServer(t, nil, shop.WithAPIKeys("", "k-one", "k-two"))
	send := func(method, target string, set func(h http.Header)) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		set(req.Header)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	for name, set := range map[string]func(http.Header){
		"no header":          func(http.Header) {},
		"wrong key":          func(h http.Header) { h.Set("Authorization", "Bearer k-three") },
		"empty bearer":       func(h http.Header) { h.Set("Authorization", "Bearer ") },
		"prefix of a key":    func(h http.Header) { h.Set("Authorization", "Bearer k-on") },
		"other scheme":       func(h http.Header) { h.Set("Authorization", "Token k-one") },
		"basic, wrong pass":  func(h http.Header) { h.Set("Authorization", basic("u", "k-on")) },
		"basic, key as user": func(h http.Header) { h.Set("Authorization", basic("k-one", "")) },
	} {
		for _, target := range []string{"/v1/stages", "/"} {
			rec := send(http.MethodGet, target, set)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s, GET %s", name, target)
			require.ElementsMatch(t, []string{`Bearer realm="clm-shop"`, `Basic realm="clm-shop"`}, rec.Header().Values("WWW-Authenticate"))
			body := decode[map[string]map[string]string](t, rec)
			require.Equal(t, "unauthorized", body["error"]["code"], "%s, GET %s", name, target)
		}
	}
	rec := send(http.MethodPost, "/v1/events", func(http.Header) {})
	require.Equal(t, http.StatusUnauthorized, rec.Code, "nothing is recorded without a key")

	for name, set := range map[string]func(http.Header){
		"first key":  func(h http.Header) { h.Set("Authorization", "Bearer k-one") },
		"second key": func(h http.Header) { h.Set("Authorization", "Bearer k-two") },
		"basic":      func(h http.Header) { h.Set("Authorization", basic("anyone", "k-two")) },
	} {
		require.Equal(t, http.StatusOK, send(http.MethodGet, "/v1/stages", set).Code, name)
		require.Equal(t, http.StatusOK, send(http.MethodGet, "/", set).Code, name)
	}

	open, _ := newServer(t, nil, shop.WithAPIKeys("", ""))
	require.Equal(t, http.StatusOK, do(t, open, http.MethodGet, "/v1/stages", "", "").Code, "only empty keys: no authentication")
}

func basic(user, pass string) string {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

// Segment's own libraries add fields to what they send: analytics-node a
// "timestamp" on the batch envelope and "_metadata" on every call,
// analytics-go a "messageId" on the envelope. Their batches must import.
func TestSegmentLibraryBatches(t *testing.T) {
	for name, body := range map[string]string{
		"analytics-node": `{"batch":[{"type":"track","event":"Product Added","userId":"c5","messageId":"node-1","timestamp":"2026-03-03T10:00:00.000Z",` +
			`"context":{"library":{"name":"analytics-node","version":"6.2.0"}},"_metadata":{"nodeVersion":"20.11.1"}}],` +
			`"timestamp":"2026-03-03T10:00:01.000Z","sentAt":"2026-03-03T10:00:01.000Z"}`,
		"analytics-go": `{"messageId":"b-7","sentAt":"2026-03-03T10:00:01Z","batch":[{"type":"track","event":"Product Added","userId":"c5","messageId":"go-1",` +
			`"timestamp":"2026-03-03T10:00:00Z","context":{"library":{"name":"analytics-go","version":"3.0.0"}}}],"context":{"library":{"name":"analytics-go"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := newServer(t, nil)
			rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, body)
			require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
			a := decode[answer](t, rec)
			require.Len(t, a.Results, 1)
			require.Equal(t, "applied", a.Results[0].Status)
		})
	}
}

// The scheme of an Authorization header is case-insensitive (RFC 9110,
// section 11.1): "bearer <key>" is as good as "Bearer <key>".
func TestAPIKeysBearerSchemeAnyCase(t *testing.T) {
	srv, _ := newServer(t, nil, shop.WithAPIKeys("k-one"))
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/stages", nil)
		req.Header.Set("Authorization", scheme+" k-one")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, "scheme %q", scheme)
	}
}

// Applied and duplicate results carry "moved" and "version" even when the
// event moved nobody; "from" only when the customer had a stage before.
func TestResultFieldsPresent(t *testing.T) {
	srv, _ := newServer(t, nil)
	rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, `[`+visit+`,`+visit+`]`)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	a := decode[struct {
		Results []map[string]any `json:"results"`
	}](t, rec)
	require.Len(t, a.Results, 2)
	first, dup := a.Results[0], a.Results[1]
	require.Equal(t, "applied", first["status"])
	require.Equal(t, true, first["moved"])
	require.NotContains(t, first, "from", "a new customer has no previous stage")
	require.Equal(t, "duplicate", dup["status"])
	require.Equal(t, false, dup["moved"], "a duplicate carries moved: false")
	require.Equal(t, "reach", dup["from"])
	require.EqualValues(t, 1, dup["version"])

	rec = do(t, srv, http.MethodPost, "/v1/events", jsonCT, `[`+visit+`,{"id":"x"}]`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "body: %s", rec.Body)
	b := decode[struct {
		Results []map[string]any `json:"results"`
	}](t, rec)
	for _, r := range b.Results {
		require.NotContains(t, r, "moved", "only applied and duplicate results carry moved: %v", r)
	}
}

// TestPendingReferrerNotCounted checks that a referrer with no event of
// its own (here a mistyped referrer ID) is not counted as a customer by
// /v1/stages, /v1/funnel or the dashboard, and that its record says what
// it is (issue 16).
func TestPendingReferrerNotCounted(t *testing.T) {
	st := store.NewMemory()
	srv, _ := newServer(t, st)
	body := `[{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z","referrer_id":"c0-typo"},` + order + `]`
	rec := do(t, srv, http.MethodPost, "/v1/events", "application/json; charset=UTF-8", body)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	require.Equal(t, 2, st.Len(), "c1 and the pending referrer are stored")

	type counts struct {
		Customers int `json:"customers"`
		Stages    []struct {
			ID        stage.ID `json:"id"`
			Customers int      `json:"customers"`
			Current   int      `json:"current"`
		} `json:"stages"`
	}
	for _, path := range []string{"/v1/stages", "/v1/funnel"} {
		v := decode[counts](t, do(t, srv, http.MethodGet, path, "", ""))
		sum := 0
		for _, s := range v.Stages {
			sum += s.Customers + s.Current
		}
		require.Equal(t, 1, v.Customers, path)
		require.Equal(t, 1, sum, "%s: customers in a stage", path)
	}
	page := do(t, srv, http.MethodGet, "/", "", "").Body.String()
	require.Contains(t, page, `<strong id="customers">1</strong> customers`)

	c := decode[struct {
		Stage           stage.ID `json:"stage"`
		PendingReferrer bool     `json:"pending_referrer"`
		Facts           lifecycle.Facts
	}](t, do(t, srv, http.MethodGet, "/v1/customers/c0-typo", "", ""))
	require.True(t, c.PendingReferrer)
	require.Empty(t, c.Stage)
	require.Len(t, c.Facts.Referrals, 1)
	rec = do(t, srv, http.MethodGet, "/?customer=c0-typo", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `id="customer-pending"`)
	require.NotContains(t, rec.Body.String(), `id="customer-stage"`)
}

// TestRoutes: every route answers its method (GET routes HEAD too), and
// every other method on its path gets 405 with a JSON error and an Allow
// header naming the methods it serves; paths outside the routes get 404.
func TestRoutes(t *testing.T) {
	srv, _ := newServer(t, nil)
	require.Equal(t, http.StatusAccepted, do(t, srv, http.MethodPost, "/v1/events", jsonCT, visit).Code)
	routes := []struct {
		method, path string
		code         int // of the route's own method
	}{
		{http.MethodPost, "/v1/events", http.StatusAccepted},
		{http.MethodGet, "/v1/customers/c1", http.StatusOK},
		{http.MethodGet, "/v1/stages", http.StatusOK},
		{http.MethodGet, "/v1/funnel", http.StatusOK},
		{http.MethodGet, "/v1/webhooks", http.StatusNotFound}, // not configured
		{http.MethodGet, "/metrics", http.StatusOK},
	}
	for _, rt := range routes {
		body := ""
		if rt.method == http.MethodPost {
			body = `{"id":"v-2","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`
		}
		rec := do(t, srv, rt.method, rt.path, jsonCT, body)
		require.Equal(t, rt.code, rec.Code, "%s %s: %s", rt.method, rt.path, rec.Body)
		allow := rt.method
		if rt.method == http.MethodGet {
			allow = "GET, HEAD"
			rec := do(t, srv, http.MethodHead, rt.path, "", "")
			require.Equal(t, rt.code, rec.Code, "HEAD %s", rt.path)
		}
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "BREW"} {
			if m == rt.method {
				continue
			}
			rec := do(t, srv, m, rt.path, "", "")
			require.Equal(t, http.StatusMethodNotAllowed, rec.Code, "%s %s", m, rt.path)
			require.Equal(t, allow, rec.Header().Get("Allow"), "%s %s", m, rt.path)
			e := decode[struct {
				Error struct{ Code, Message string }
			}](t, rec)
			require.Equal(t, "method_not_allowed", e.Error.Code, "%s %s", m, rt.path)
			require.Contains(t, e.Error.Message, m+" is not allowed on "+rt.path)
		}
	}
	for _, path := range []string{"/v1/customers/c1/orders", "/v1/events/x", "/metrics/x", "/nothing"} {
		require.Equal(t, http.StatusNotFound, do(t, srv, http.MethodGet, path, "", "").Code, path)
	}
	// The dashboard is GET / only.
	require.Equal(t, http.StatusOK, do(t, srv, http.MethodGet, "/", "", "").Code)
	require.Equal(t, http.StatusMethodNotAllowed, do(t, srv, http.MethodPost, "/", "", "").Code)
}

// TestSegmentCompatibleSenders: calls as RudderStack sends them (to a
// webhook destination or its HTTP API) and as Segment forwards them to a
// destination carry envelope fields of their own; they import. Fields
// that would change what is recorded, if ignored, are still refused.
func TestSegmentCompatibleSenders(t *testing.T) {
	const rudder = `{"type":"track","event":"Order Completed","userId":"c5","anonymousId":"a-5","messageId":"rs-1",` +
		`"rudderId":"5b8f3c1e-2d4a-4e3b-9a61-0d2c7f8e9a10","channel":"web","request_ip":"203.0.113.7",` +
		`"originalTimestamp":"2026-03-03T09:59:59.120Z","sentAt":"2026-03-03T10:00:00.500Z","receivedAt":"2026-03-03T10:00:01.020Z",` +
		`"timestamp":"2026-03-03T10:00:00.640Z","integrations":{"All":true},` +
		`"context":{"library":{"name":"RudderLabs JavaScript SDK","version":"3.0.0"},"ip":"203.0.113.7"},` +
		`"properties":{"total":"12.50","currency":"EUR","order_id":"o-55"}}`
	const forwarded = `{"type":"page","name":"Pricing","userId":"c6","messageId":"sg-1","projectId":"Zx8kQ2abc","version":2,` +
		`"receivedAt":"2026-03-03T10:00:01Z","sentAt":"2026-03-03T10:00:00Z","originalTimestamp":"2026-03-03T09:59:59Z",` +
		`"timestamp":"2026-03-03T10:00:00Z","writeKey":"wk","context":{"library":{"name":"analytics.js"}},"properties":{"path":"/pricing"}}`
	srv, tr := newServer(t, nil)
	rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, `{"batch":[`+rudder+`,`+forwarded+`],"sentAt":"2026-03-03T10:00:00.500Z"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
	a := decode[answer](t, rec)
	require.Len(t, a.Results, 2)
	for _, r := range a.Results {
		require.Equal(t, "applied", r.Status, "%+v", r)
	}
	c, err := tr.Customer(context.Background(), "c5")
	require.NoError(t, err)
	require.Equal(t, int64(1250), c.Facts.Revenue("EUR"), "properties.total in major units")
	require.Equal(t, time.Date(2026, 3, 3, 10, 0, 0, 640e6, time.UTC), c.Facts.Last, "the time is timestamp, not originalTimestamp, sentAt or receivedAt")
	_, err = tr.Customer(context.Background(), "c6")
	require.NoError(t, err)

	// Still refused: a name Segment does not define (user_id: ignoring it
	// would record the call under anonymousId), a known name in another
	// case, a field given twice, and a call with only originalTimestamp
	// (the time is timestamp alone).
	for _, tc := range []struct {
		name, call, field string
		code              int
	}{
		{"user_id", strings.Replace(rudder, `"userId":"c5"`, `"user_id":"c5"`, 1), "user_id", 400},
		{"rudderId in another case", strings.Replace(rudder, `"rudderId"`, `"RudderId"`, 1), "RudderId", 400},
		{"projectId in another case", strings.Replace(forwarded, `"projectId"`, `"projectID"`, 1), "projectID", 400},
		{"request_ip twice", strings.Replace(rudder, `"channel":"web"`, `"request_ip":"198.51.100.1"`, 1), "request_ip", 400},
		{"originalTimestamp only", strings.Replace(rudder, `"timestamp":"2026-03-03T10:00:00.640Z",`, ``, 1), "timestamp", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newServer(t, nil)
			rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, tc.call)
			require.Equal(t, tc.code, rec.Code, "body: %s", rec.Body)
			a := decode[answer](t, rec)
			require.Len(t, a.Results, 1)
			require.NotNil(t, a.Results[0].Error, "body: %s", rec.Body)
			require.Equal(t, tc.field, a.Results[0].Error.Field, "body: %s", rec.Body)
		})
	}
}

// TestDashboardPanels: customers and revenue by stage, and stages over
// the last twelve months, for the stream's twelve customers.
func TestDashboardPanels(t *testing.T) {
	st := store.NewMemory()
	srv, _ := newServer(t, st)
	counts := stream(t, srv, st)
	rec := do(t, srv, http.MethodGet, "/", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()

	// Revenue: c3..c5 (conversion) one order of 10 EUR each, c6..c8 two
	// and c9..c11 three (retention): 30 and 150 EUR.
	rows := regexp.MustCompile(`<tr data-stage="([a-z_]+)"><td>[^<]*</td><td class="num" data-customers="(\d+)">\d+</td><td class="num" data-currency="EUR" data-revenue="(-?\d+)">([^<]*)</td><td class="num">([^<]*)</td></tr>`).
		FindAllStringSubmatch(page, -1)
	type money struct {
		Customers       int
		Revenue         string
		Shown, PerShown string
	}
	got := map[string]money{}
	for _, m := range rows {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = money{n, m[3], m[4], m[5]}
	}
	want := map[string]money{
		"reach":       {counts[model.Reach], "0", "0.00 EUR", "0.00 EUR"},
		"acquisition": {counts[model.Acquisition], "0", "0.00 EUR", "0.00 EUR"},
		"conversion":  {3, "3000", "30.00 EUR", "10.00 EUR"},
		"retention":   {6, "15000", "150.00 EUR", "25.00 EUR"},
		"loyalty":     {0, "0", "0.00 EUR", "0.00 EUR"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("revenue by stage (-want +got):\n%s\npage:\n%s", diff, page)
	}

	// Over time: a month ago (2026-03-01 12:00) everybody had visited and
	// nothing more; now the current stages. Earlier, nobody.
	cells := regexp.MustCompile(`<td class="num" data-at="(\d{4}-\d\d-\d\d)">(\d+)</td>`)
	overTime := map[string]map[string]int{}
	for _, row := range regexp.MustCompile(`<tr data-stage="([a-z_]+)"><td>[^<]*</td>((?:<td class="num" data-at=[^>]*>\d+</td>)+)</tr>`).FindAllStringSubmatch(page, -1) {
		overTime[row[1]] = map[string]int{}
		for _, c := range cells.FindAllStringSubmatch(row[2], -1) {
			n, _ := strconv.Atoi(c[2])
			overTime[row[1]][c[1]] = n
		}
	}
	require.Len(t, overTime, 5, "a row per stage")
	for _, id := range model.SterneCutler().Stages().IDs() {
		row := overTime[string(id)]
		require.Len(t, row, 12, "stage %s: twelve months", id)
		wantMonthAgo := 0
		if id == model.Reach {
			wantMonthAgo = 12
		}
		require.Equal(t, wantMonthAgo, row["2026-03-01"], "stage %s a month ago", id)
		require.Equal(t, counts[id], row["2026-04-01"], "stage %s now", id)
		require.Equal(t, 0, row["2026-02-01"], "stage %s two months ago", id)
		require.Equal(t, 0, row["2025-05-01"], "stage %s eleven months ago", id)
	}
	require.Contains(t, page, `<th class="num">now</th>`)
	require.Contains(t, page, `<th class="num">Mar 2026</th>`)
}

// A nil option is skipped, as everywhere in clm, instead of panicking.
func TestNilOption(t *testing.T) {
	srv := shop.New(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()), nil, shop.Option(nil))
	if srv == nil {
		t.Fatal("New returned nil")
	}
}

// TestDashboardQueryNotUTF8: a ?customer= that is not valid UTF-8 is echoed
// as valid UTF-8 (the page says charset=utf-8), escaped.
func TestDashboardQueryNotUTF8(t *testing.T) {
	srv, _ := newServer(t, store.NewMemory())
	rec := do(t, srv, http.MethodGet, "/?customer=%FF%FE%3Cy%3E", "", "")
	body := rec.Body.String()
	if !utf8.ValidString(body) {
		t.Fatalf("the dashboard is not valid UTF-8")
	}
	if strings.Contains(body, "<y>") {
		t.Error("the query was echoed unescaped")
	}
}
