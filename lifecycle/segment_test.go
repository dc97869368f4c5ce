package lifecycle_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

func TestFromSegment(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 249_000_000, time.UTC)
	ts := `"timestamp":"2026-03-01T10:00:00.249Z"`
	tests := []struct {
		name  string
		in    string
		want  []lifecycle.Event
		field string // the ValidationError field expected, "" for none
	}{
		{"order completed with total", `{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1",` + ts + `,"properties":{"order_id":"o-9","total":49.99,"revenue":40,"currency":"EUR"}}`,
			[]lifecycle.Event{{ID: "m1", CustomerID: "u1", Type: lifecycle.OrderCompleted, Time: at, Amount: 4999, Currency: "EUR",
				Attrs: map[string]string{"segment_event": "Order Completed", "order_id": "o-9"}}}, ""},
		{"revenue when no total, JPY", `{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1",` + ts + `,"properties":{"revenue":1500,"currency":"jpy"}}`,
			[]lifecycle.Event{{ID: "m1", CustomerID: "u1", Type: lifecycle.OrderCompleted, Time: at, Amount: 1500, Currency: "JPY",
				Attrs: map[string]string{"segment_event": "Order Completed"}}}, ""},
		{"KWD three decimals, amount as string", `{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1",` + ts + `,"properties":{"total":"1.250","currency":"KWD"}}`,
			[]lifecycle.Event{{ID: "m1", CustomerID: "u1", Type: lifecycle.OrderCompleted, Time: at, Amount: 1250, Currency: "KWD",
				Attrs: map[string]string{"segment_event": "Order Completed"}}}, ""},
		{"no float rounding: 0.29 and 1.005e2", `[{"type":"track","event":"Order Completed","userId":"u","messageId":"a",` + ts + `,"properties":{"total":0.29,"currency":"EUR"}},` +
			`{"type":"track","event":"Order Completed","userId":"u","messageId":"b",` + ts + `,"properties":{"total":1.005e2,"currency":"BHD"}}]`,
			[]lifecycle.Event{
				{ID: "a", CustomerID: "u", Type: lifecycle.OrderCompleted, Time: at, Amount: 29, Currency: "EUR", Attrs: map[string]string{"segment_event": "Order Completed"}},
				{ID: "b", CustomerID: "u", Type: lifecycle.OrderCompleted, Time: at, Amount: 100500, Currency: "BHD", Attrs: map[string]string{"segment_event": "Order Completed"}},
			}, ""},
		{"negative refund is its size", `{"type":"track","event":"Order Refunded","anonymousId":"anon","messageId":"m",` + ts + `,"properties":{"total":-5.5,"currency":"USD"}}`,
			[]lifecycle.Event{{ID: "m", CustomerID: "anon", Type: lifecycle.OrderRefunded, Time: at, Amount: 550, Currency: "USD", Attrs: map[string]string{"segment_event": "Order Refunded"}}}, ""},
		{"batch with skipped identify, page, custom and referral", `{"batch":[` +
			`{"type":"identify","userId":"u"},` +
			`{"type":"page","userId":"u","messageId":"p",` + ts + `},` +
			`{"type":"track","event":"Trial Started","userId":42,"messageId":"t",` + ts + `},` +
			`{"type":"track","event":"Signed Up","userId":"u","messageId":"s",` + ts + `,"properties":{"referrer_id":"ann"}},` +
			`{"type":"track","event":"Survey Answered","userId":"u","messageId":"q",` + ts + `,"properties":{"score":9}}]}`,
			[]lifecycle.Event{
				{ID: "p", CustomerID: "u", Type: lifecycle.SiteVisited, Time: at, Attrs: map[string]string{"segment_event": "page"}},
				{ID: "t", CustomerID: "42", Type: "segment.trial_started", Time: at, Attrs: map[string]string{"segment_event": "Trial Started"}},
				{ID: "s", CustomerID: "u", Type: lifecycle.SignedUp, Time: at, ReferrerID: "ann", Attrs: map[string]string{"segment_event": "Signed Up"}},
				{ID: "q", CustomerID: "u", Type: lifecycle.SurveyAnswered, Time: at, Attrs: map[string]string{"segment_event": "Survey Answered", "score": "9"}},
			}, ""},
		{"spec names", `[` +
			`{"type":"track","event":"Product Viewed","userId":"u","messageId":"1",` + ts + `},` +
			`{"type":"track","event":"Product Added","userId":"u","messageId":"2",` + ts + `},` +
			`{"type":"track","event":"Checkout Started","userId":"u","messageId":"3",` + ts + `},` +
			`{"type":"track","event":"Newsletter Subscribed","userId":"u","messageId":"4",` + ts + `},` +
			`{"type":"track","event":"Referral Converted","userId":"u","messageId":"5",` + ts + `}]`,
			[]lifecycle.Event{
				{ID: "1", CustomerID: "u", Type: lifecycle.ProductViewed, Time: at, Attrs: map[string]string{"segment_event": "Product Viewed"}},
				{ID: "2", CustomerID: "u", Type: lifecycle.CartAdded, Time: at, Attrs: map[string]string{"segment_event": "Product Added"}},
				{ID: "3", CustomerID: "u", Type: lifecycle.CheckoutStarted, Time: at, Attrs: map[string]string{"segment_event": "Checkout Started"}},
				{ID: "4", CustomerID: "u", Type: lifecycle.NewsletterSubscribed, Time: at, Attrs: map[string]string{"segment_event": "Newsletter Subscribed"}},
				{ID: "5", CustomerID: "u", Type: "segment.referral_converted", Time: at, Attrs: map[string]string{"segment_event": "Referral Converted"}},
			}, ""},
		{"not JSON", `{"type":`, nil, "json"},
		{"empty", `  `, nil, "json"},
		{"missing messageId", `{"type":"track","event":"Signed Up","userId":"u",` + ts + `}`, []lifecycle.Event{}, "messageId"},
		{"missing user", `{"type":"track","event":"Signed Up","messageId":"m",` + ts + `}`, []lifecycle.Event{}, "userId"},
		{"bad userId", `{"type":"track","event":"Signed Up","userId":1.5,"messageId":"m",` + ts + `}`, []lifecycle.Event{}, "userId"},
		{"missing timestamp", `{"type":"track","event":"Signed Up","userId":"u","messageId":"m"}`, []lifecycle.Event{}, "timestamp"},
		{"bad timestamp", `{"type":"track","event":"Signed Up","userId":"u","messageId":"m","timestamp":"yesterday"}`, []lifecycle.Event{}, "timestamp"},
		{"unknown call type", `{"type":"flush","userId":"u","messageId":"m",` + ts + `}`, []lifecycle.Event{}, "type"},
		{"track without event", `{"type":"track","userId":"u","messageId":"m",` + ts + `}`, []lifecycle.Event{}, "event"},
		{"event name with no letters", `{"type":"track","event":"!!!","userId":"u","messageId":"m",` + ts + `}`, []lifecycle.Event{}, "event"},
		{"too many decimals", `{"type":"track","event":"Order Completed","userId":"u","messageId":"m",` + ts + `,"properties":{"revenue":49.999,"currency":"EUR"}}`, []lifecycle.Event{}, "properties.revenue"},
		{"negative revenue", `{"type":"track","event":"Order Completed","userId":"u","messageId":"m",` + ts + `,"properties":{"revenue":-1,"currency":"EUR"}}`, []lifecycle.Event{}, "properties.revenue"},
		{"revenue not a number", `{"type":"track","event":"Order Completed","userId":"u","messageId":"m",` + ts + `,"properties":{"total":true,"currency":"EUR"}}`, []lifecycle.Event{}, "properties.total"},
		{"revenue too large", `{"type":"track","event":"Order Completed","userId":"u","messageId":"m",` + ts + `,"properties":{"total":1e30,"currency":"EUR"}}`, []lifecycle.Event{}, "properties.total"},
		{"revenue without currency", `{"type":"track","event":"Order Completed","userId":"u","messageId":"m",` + ts + `,"properties":{"total":5}}`, []lifecycle.Event{}, "properties.currency"},
		{"bad currency", `{"type":"track","event":"Order Completed","userId":"u","messageId":"m",` + ts + `,"properties":{"total":5,"currency":"EU"}}`, []lifecycle.Event{}, "properties.currency"},
		{"self-referral", `{"type":"track","event":"Signed Up","userId":"u","messageId":"m",` + ts + `,"properties":{"referrer_id":"u"}}`, []lifecycle.Event{}, "properties.referrer_id"},
		{"survey without score", `{"type":"track","event":"Survey Answered","userId":"u","messageId":"m",` + ts + `}`, []lifecycle.Event{}, "properties.score"},
		{"score not a number", `{"type":"track","event":"Survey Answered","userId":"u","messageId":"m",` + ts + `,"properties":{"score":true}}`, []lifecycle.Event{}, "properties.score"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lifecycle.FromSegment([]byte(tc.in))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			checkField(t, err, tc.field)
		})
	}
}

// TestFromSegmentScoreAsSent: a score sent as neither a string nor a
// number is reported with the value sent, not as missing.
func TestFromSegmentScoreAsSent(t *testing.T) {
	for raw, reason := range map[string]string{
		`true`:     "must be an integer from 0 to 10",
		`{"a": 1}`: "must be an integer from 0 to 10",
		`[9]`:      "must be an integer from 0 to 10",
		`null`:     "is required on survey_answered",
		`"eleven"`: "must be an integer from 0 to 10",
	} {
		in := `{"type":"track","event":"Survey Answered","userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z","properties":{"score":` + raw + `}}`
		_, err := lifecycle.FromSegment([]byte(in))
		var ve *lifecycle.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("score %s: %v; want a ValidationError", raw, err)
		}
		want := raw
		if raw == `"eleven"` {
			want = "eleven"
		}
		if ve.Field != "properties.score" || ve.Value != want || ve.Reason != reason {
			t.Errorf("score %s: Field %q, Value %q, Reason %q; want properties.score, %q, %q", raw, ve.Field, ve.Value, ve.Reason, want, reason)
		}
	}
}

func TestFromSegmentBatchKeepsGoodCalls(t *testing.T) {
	in := `[{"type":"track","event":"Signed Up","userId":"u","messageId":"a","timestamp":"2026-03-01T10:00:00Z"},` +
		`{"type":"track","event":"Signed Up","userId":"u","timestamp":"2026-03-01T10:00:00Z"}]`
	got, err := lifecycle.FromSegment([]byte(in))
	require.Len(t, got, 1)
	require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
	require.Contains(t, err.Error(), "segment call 1")
}

func TestParseMinor(t *testing.T) {
	tests := []struct {
		num, cur string
		want     int64
		err      bool
	}{
		{"49.99", "EUR", 4999, false},
		{"49.9", "EUR", 4990, false},
		{"49.990000", "EUR", 4999, false},
		{"0", "EUR", 0, false},
		{"1500", "JPY", 1500, false},
		{"1500.0", "JPY", 1500, false},
		{"1500.5", "JPY", 0, true},
		{"1.234", "KWD", 1234, false},
		{"1.2345", "CLF", 12345, false},
		{"1E2", "EUR", 10000, false},
		{"12345e-2", "EUR", 12345, false},
		{"1e-3", "EUR", 0, true},
		{"92233720368547758.07", "EUR", 9223372036854775807, false},
		{"92233720368547758.08", "EUR", 0, true},
		{"0e99999", "EUR", 0, false},
		{"1.", "EUR", 0, true},
		{".5", "EUR", 0, true},
		{"-1", "EUR", 0, true},
		{"1e", "EUR", 0, true},
		{"", "EUR", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.num+" "+tc.cur, func(t *testing.T) {
			got, err := lifecycle.ParseMinor(tc.num, tc.cur)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("ParseMinor(%q, %q) = %d, %v; want %d, error %v", tc.num, tc.cur, got, err, tc.want, tc.err)
			}
		})
	}
}

func FuzzSegment(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1","timestamp":"2026-03-01T10:00:00.249Z","properties":{"total":49.99,"currency":"EUR"}}`,
		`{"batch":[{"type":"page","anonymousId":"a","messageId":"p","timestamp":"2026-03-01T10:00:00Z"}]}`,
		`[{"type":"track","event":"Order Refunded","userId":7,"messageId":"r","timestamp":"2026-03-01T10:00:00+01:00","properties":{"revenue":"-1e1","currency":"kwd"}}]`,
		`{"type":"track","event":"Survey Answered","userId":"u","messageId":"q","timestamp":"2026-03-01T10:00:00Z","properties":{"score":11}}`,
		`[]`, `{}`, `null`, `{"batch":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := lifecycle.FromSegment(data)
		if err != nil {
			if !errors.Is(err, lifecycle.ErrInvalidEvent) {
				t.Fatalf("error %v does not wrap ErrInvalidEvent", err)
			}
			var ve *lifecycle.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("error %v holds no ValidationError naming a field", err)
			}
		}
		for _, e := range events {
			if err := e.Validate(); err != nil {
				t.Fatalf("FromSegment returned an invalid event %+v: %v", e, err)
			}
			if !strings.HasPrefix(string(e.Type), "segment.") && !e.Type.Standard() {
				t.Fatalf("type %q", e.Type)
			}
		}
	})
}

// TestFromSegmentFieldErrors checks that every refused call names the
// Segment field at fault and its value as sent, whatever is wrong with it.
func TestFromSegmentFieldErrors(t *testing.T) {
	// call is a valid call with fields added, each replacing the base
	// field of the same name (a key given twice is refused).
	call := func(fields string) string {
		base := []string{`"type":"track"`, `"event":"Order Completed"`, `"userId":"u"`, `"messageId":"m"`, `"timestamp":"2026-03-01T10:00:00Z"`}
		key, _, _ := strings.Cut(fields, ":")
		base = slices.DeleteFunc(base, func(f string) bool { return strings.HasPrefix(f, key+":") })
		return "{" + strings.Join(base, ",") + "," + fields + "}"
	}
	long := "1" + strings.Repeat("0", 100)
	tests := []struct {
		name, in     string
		field, value string
	}{
		{"messageId a number", call(`"messageId":5`), "messageId", "5"},
		{"timestamp a number", call(`"timestamp":1772359200`), "timestamp", "1772359200"},
		{"event a number", call(`"event":5`), "event", "5"},
		{"type a number", `{"type":1,"userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}`, "type", "1"},
		{"properties a string", call(`"properties":"x"`), "properties", `"x"`},
		{"properties an array", call(`"properties":[]`), "properties", `[]`},
		{"currency a number", call(`"properties":{"total":5,"currency":978}`), "properties.currency", "978"},
		{"anonymousId with a space", `{"type":"track","event":"Signed Up","anonymousId":" a","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}`, "anonymousId", " a"},
		{"referrerId self-referral", call(`"properties":{"referrerId":"u"}`), "properties.referrerId", "u"},
		{"refund with too many decimals keeps its sign", `{"type":"track","event":"Order Refunded","userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z","properties":{"total":"-1.999","currency":"EUR"}}`, "properties.total", "-1.999"},
		{"long negative amount is cut", call(`"properties":{"revenue":-` + long + `,"currency":"EUR"}`), "properties.revenue", "-" + long[:63] + "…"},
		{"long amount is cut", call(`"properties":{"revenue":` + long + `,"currency":"EUR"}`), "properties.revenue", long[:64] + "…"},
		{"currency shown as sent", call(`"properties":{"total":5,"currency":"eu"}`), "properties.currency", "eu"},
		{"currency with a non-ASCII letter", call(`"properties":{"total":5,"currency":"ınr"}`), "properties.currency", "ınr"},
		{"event name too long for an attribute", call(`"event":"a` + strings.Repeat(" ", 1100) + `b"`), "event", "a" + strings.Repeat(" ", 63) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lifecycle.FromSegment([]byte(tc.in))
			require.Empty(t, got)
			checkField(t, err, tc.field)
			var ve *lifecycle.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.value, ve.Value)
		})
	}
}

func TestFromSegmentIDs(t *testing.T) {
	in := `[{"type":"track","event":"Signed Up","userId":12345678901234567890,"messageId":"a","timestamp":"2026-03-01T10:00:00Z"},` +
		`{"type":"track","event":"Signed Up","userId":"","anonymousId":-7,"messageId":"b","timestamp":"2026-03-01T10:00:00Z"},` +
		`{"type":"track","event":"Signed Up","userId":1e3,"messageId":"c","timestamp":"2026-03-01T10:00:00Z"}]`
	got, err := lifecycle.FromSegment([]byte(in))
	require.Len(t, got, 2)
	require.Equal(t, "12345678901234567890", got[0].CustomerID)
	require.Equal(t, "-7", got[1].CustomerID)
	checkField(t, err, "userId")
	require.True(t, strings.HasPrefix(err.Error(), "segment call 2: "), err.Error())
}

func TestFromSegmentEventNames(t *testing.T) {
	for name, want := range map[string]lifecycle.EventType{
		"Order Completed":       lifecycle.OrderCompleted,
		"order_completed":       lifecycle.OrderCompleted,
		"ORDER COMPLETED":       lifecycle.OrderCompleted,
		"Newsletter Subscribed": lifecycle.NewsletterSubscribed,
		"Product Added":         lifecycle.CartAdded,
		"product_added":         "segment.product_added", // SegmentTypes keys match exactly
		"Referral Converted":    "segment.referral_converted",
		"referral_converted":    "segment.referral_converted",
		"Trial Started":         "segment.trial_started",
	} {
		in := `{"type":"track","event":"` + name + `","userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}`
		got, err := lifecycle.FromSegment([]byte(in))
		require.NoError(t, err, name)
		require.Len(t, got, 1, name)
		require.Equal(t, want, got[0].Type, name)
		require.Equal(t, name, got[0].Attrs[lifecycle.SegmentEventAttr])
	}
}

// A call with bytes that are not UTF-8 is refused (as the event JSON form
// refuses them), not stored with U+FFFD in place of the bytes; the other
// calls of a batch still convert.
func TestFromSegmentInvalidUTF8(t *testing.T) {
	good := `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`
	bad := "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"c\xff\",\"messageId\":\"m2\",\"timestamp\":\"2026-03-01T10:00:00Z\"}"
	events, err := lifecycle.FromSegment([]byte("[" + good + "," + bad + "]"))
	if len(events) != 1 || events[0].ID != "m1" {
		t.Fatalf("events = %+v; want only m1", events)
	}
	var ve *lifecycle.ValidationError
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "json" || !strings.Contains(err.Error(), "segment call 1") || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Fatalf("err = %v; want call 1 refused, Field json, not valid UTF-8", err)
	}
}

// FromSegment decodes as strictly as the JSON form (issue 16): a key
// given twice, at any level it reads, and a key that differs only in
// case from one it reads are refused, where encoding/json would keep the
// last value or match the key; times are parsed strictly; IDs follow
// ValidateID.
func TestFromSegmentStrictDecoding(t *testing.T) {
	const ts = `"timestamp":"2026-03-01T10:00:00Z"`
	track := func(fields string) string {
		return `{"type":"track","event":"Order Completed","userId":"u",` + fields + `}`
	}
	tests := []struct {
		name, in, field, reason string
	}{
		{"messageId twice", track(`"messageId":"m-first","messageId":"m-second",` + ts), "messageId", "duplicate key"},
		{"messageId twice, once through an escape", track(`"messageId":"m-first","message\u0049d":"m-second",` + ts), "messageId", "duplicate key"},
		{"total twice", track(`"messageId":"m",` + ts + `,"properties":{"total":"1.00","currency":"EUR","total":"999.00"}`), "properties.total", "duplicate key"},
		{"unread key twice", track(`"messageId":"m",` + ts + `,"context":{},"context":{}`), "context", "duplicate key"},
		{"unread property twice", track(`"messageId":"m",` + ts + `,"properties":{"sku":"a","sku":"b"}`), "properties.sku", "duplicate key"},
		{"MESSAGEID", track(`"MESSAGEID":"m",` + ts), "MESSAGEID", "case-sensitive"},
		{"messageID beside messageId", track(`"messageId":"m","messageID":"m2",` + ts), "messageID", "case-sensitive"},
		{"UserId", `{"type":"track","event":"Signed Up","UserId":"u","messageId":"m",` + ts + `}`, "UserId", "case-sensitive"},
		{"Type", `{"Type":"track","event":"Signed Up","userId":"u","messageId":"m",` + ts + `}`, "Type", "case-sensitive"},
		{"properties.Total", track(`"messageId":"m",` + ts + `,"properties":{"Total":"999.00","currency":"EUR"}`), "properties.Total", "case-sensitive"},
		{"properties.referrerID", track(`"messageId":"m",` + ts + `,"properties":{"referrerID":"r"}`), "properties.referrerID", "case-sensitive"},
		{"batch twice", `{"batch":[` + track(`"messageId":"m1",`+ts) + `],"batch":[` + track(`"messageId":"m2",`+ts) + `]}`, "batch", "duplicate key"},
		{"Batch", `{"Batch":[` + track(`"messageId":"m1",`+ts) + `]}`, "Batch", "case-sensitive"},
		{"messageId with an unpaired surrogate", track(`"messageId":"m\ud800",` + ts), "messageId", "unpaired UTF-16 surrogate"},
		{"order_id with an unpaired surrogate", track(`"messageId":"m",` + ts + `,"properties":{"order_id":"o\udc00"}`), "properties.order_id", "unpaired UTF-16 surrogate"},

		{"timestamp offset +00:60", track(`"messageId":"m","timestamp":"2026-03-01T10:00:00+00:60"`), "timestamp", "outside -23:59 to +23:59"},
		{"timestamp comma fraction", track(`"messageId":"m","timestamp":"2026-03-01T10:00:00,250Z"`), "timestamp", "comma before the fraction"},
		{"timestamp ten fraction digits", track(`"messageId":"m","timestamp":"2026-03-01T10:00:00.1234567891Z"`), "timestamp", "more than 9 digits"},
		{"timestamp offset +24:00", track(`"messageId":"m","timestamp":"2026-03-01T10:00:00+24:00"`), "timestamp", "outside -23:59 to +23:59"},

		{"userId with a zero width space", `{"type":"track","event":"Signed Up","userId":"alice\u200b","messageId":"m",` + ts + `}`, "userId", "U+200B"},
		{"anonymousId only a BOM", `{"type":"track","event":"Signed Up","anonymousId":"\ufeff","messageId":"m",` + ts + `}`, "anonymousId", "U+FEFF"},
		{"messageId with a right-to-left override", track(`"messageId":"\u202egnp.exe",` + ts), "messageId", "U+202E"},
		{"referrer_id with a line separator", track(`"messageId":"m",` + ts + `,"properties":{"referrer_id":"r\u2028x"}`), "properties.referrer_id", "U+2028"},
		{"referrerId with ESC", track(`"messageId":"m",` + ts + `,"properties":{"referrerId":"r\u001bx"}`), "properties.referrerId", "U+001B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lifecycle.FromSegment([]byte(tc.in))
			require.Empty(t, got)
			checkField(t, err, tc.field)
			var ve *lifecycle.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Reason, tc.reason)
		})
	}
	// Members FromSegment does not read, nested deeper, are not decoded;
	// the same call without the faults converts.
	ok := track(`"messageId":"m",` + ts + `,"context":{"ip":"1","ip":"2"},"properties":{"total":"1.00","currency":"EUR","products":[{"sku":"a","sku":"b"}]}`)
	got, err := lifecycle.FromSegment([]byte(ok))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(100), got[0].Amount)
}

// TestFromSegmentBatchObjectDuplicateKey: a key given twice in a batch
// object is refused, as in a call (only "batch" itself was checked).
func TestFromSegmentBatchObjectDuplicateKey(t *testing.T) {
	call := `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m1","timestamp":"2025-03-02T10:00:00Z"}`
	for _, v := range []string{
		`{"batch":[` + call + `],"sentAt":"2025-03-02T10:00:00Z","sentAt":"2025-03-02T11:00:00Z"}`,
		`{"batch":[` + call + `],"context":{},"context":{"x":1}}`,
		`{"context":{},"batch":[` + call + `],"context":{}}`,
	} {
		evs, err := lifecycle.FromSegment([]byte(v))
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || !strings.Contains(err.Error(), "duplicate key") {
			t.Errorf("lifecycle.FromSegment(%s) = %d events, %v; want a duplicate-key ValidationError", v, len(evs), err)
		}
	}
	if evs, err := lifecycle.FromSegment([]byte(`{"batch":[` + call + `],"sentAt":"2025-03-02T10:00:00Z","context":{}}`)); err != nil || len(evs) != 1 {
		t.Errorf("a batch object without a duplicate: %d events, %v", len(evs), err)
	}
}
