package lifecycle_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

// head is the start of a valid event object; tests append fields to it.
const head = `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"`

func TestEventUnmarshalJSONRefuses(t *testing.T) {
	tests := []struct {
		name, in      string
		field, reason string // reason is a substring of Reason
	}{
		{"empty", ``, "json", "is empty"},
		{"white space only", " \n\t", "json", "is empty"},
		{"not JSON", `id=e1`, "json", "is not valid JSON"},
		{"truncated", `{"id":"e1"`, "json", "is not valid JSON"},
		{"invalid escape", `{"id":"e\q"}`, "json", "is not valid JSON"},
		{"trailing object", head + `} {}`, "json", "has data after the JSON value"},
		{"trailing garbage", head + `}x`, "json", "has data after the JSON value"},
		{"null", `null`, "json", "must be a JSON object"},
		{"array", `[]`, "json", "must be a JSON object"},
		{"string", `"e1"`, "json", "must be a JSON object"},
		{"number", `1`, "json", "must be a JSON object"},

		{"id a number", `{"id":1}`, "id", "must be a string"},
		{"customer_id an object", `{"customer_id":{}}`, "customer_id", "must be a string"},
		{"type a boolean", `{"type":true}`, "type", "must be a string"},
		{"currency an array", `{"currency":["EUR"]}`, "currency", "must be a string"},
		{"referrer_id a number", `{"referrer_id":7}`, "referrer_id", "must be a string"},
		{"time a Unix number", `{"time":1772362800}`, "time", "must be an RFC 3339 string"},
		{"time not RFC 3339", `{"time":"01/03/2026 11:00"}`, "time", "must be an RFC 3339 time such as"},
		{"time without a zone", `{"time":"2026-03-01T11:00:00"}`, "time", "must be an RFC 3339 time such as"},
		{"time date only", `{"time":"2026-03-01"}`, "time", "must be an RFC 3339 time such as"},
		// The time package takes these (issue 16); RFC 3339 does not.
		{"time offset minutes 60", `{"time":"2026-03-01T10:00:00+00:60"}`, "time", "outside -23:59 to +23:59"},
		{"time offset minutes 99", `{"time":"2026-03-01T10:00:00-05:99"}`, "time", "outside -23:59 to +23:59"},
		{"time comma before the fraction", `{"time":"2026-03-01T10:00:00,5Z"}`, "time", "comma before the fraction"},
		{"time ten fraction digits", `{"time":"2026-03-01T10:00:00.1234567891Z"}`, "time", "more than 9 digits of fraction"},
		{"time empty fraction", `{"time":"2026-03-01T10:00:00.Z"}`, "time", "must be an RFC 3339 time such as"},
		{"time lower-case t", `{"time":"2026-03-01t10:00:00Z"}`, "time", "must be an RFC 3339 time such as"},
		{"time lower-case z", `{"time":"2026-03-01T10:00:00z"}`, "time", "must be an RFC 3339 time such as"},
		{"time leap second", `{"time":"2016-12-31T23:59:60Z"}`, "time", "not a valid date and time"},
		{"time offset without a colon", `{"time":"2026-03-01T10:00:00+0100"}`, "time", "must be an RFC 3339 time such as"},
		{"time February 30", `{"time":"2026-02-30T10:00:00Z"}`, "time", "not a valid date and time"},
		{"time hour 24", `{"time":"2026-03-01T24:00:00Z"}`, "time", "not a valid date and time"},
		{"time with a trailing space", `{"time":"2026-03-01T10:00:00Z "}`, "time", "must be an RFC 3339 time such as"},
		{"amount a string", `{"amount":"12"}`, "amount", "minor units"},
		{"amount a fraction", `{"amount":49.99}`, "amount", "minor units (4999 for 49.99), without a fraction"},
		{"amount with .0", `{"amount":4999.0}`, "amount", "without a fraction or exponent"},
		{"amount with an exponent", `{"amount":5e3}`, "amount", "without a fraction or exponent"},
		{"amount beyond int64", `{"amount":9223372036854775808}`, "amount", "int64 range"},
		{"amount below int64", `{"amount":-9223372036854775809}`, "amount", "int64 range"},
		{"attrs a string", `{"attrs":"a=b"}`, "attrs", "must be an object of strings"},
		{"attrs an array", `{"attrs":["a"]}`, "attrs", "must be an object of strings"},
		{"attrs value a number", `{"attrs":{"score":9}}`, "attrs.score", "must be a string"},
		{"attrs value null", `{"attrs":{"score":null}}`, "attrs.score", "must be a string"},
		{"attrs value an object", `{"attrs":{"k":{"a":"b"}}}`, "attrs.k", "must be a string"},

		{"unknown field", head + `,"colour":"red"}`, "colour", "unknown field"},
		{"unknown field null", `{"colour":null}`, "colour", "unknown field"},
		{"field in another case", `{"ID":"e1"}`, "ID", "unknown field"},
		{"Go field name", `{"CustomerID":"c1"}`, "CustomerID", "unknown field"},
		{"long unknown field is cut", `{"` + strings.Repeat("x", 100) + `":1}`, strings.Repeat("x", 64) + "…", "unknown field"},

		{"duplicate id", `{"id":"e0","id":"e1"}`, "id", "duplicate key"},
		{"duplicate through an escape", `{"id":"e0","\u0069d":"e1"}`, "id", "duplicate key"},
		{"duplicate null then value", `{"amount":null,"amount":5}`, "amount", "duplicate key"},
		{"duplicate attrs key", `{"attrs":{"k":"a","k":"b"}}`, "attrs.k", "duplicate key"},

		{"invalid UTF-8 in id", "{\"id\":\"e\xff\"}", "id", "is not valid UTF-8"},
		{"invalid UTF-8 in type", "{\"type\":\"site\xc3\x28visited\"}", "type", "is not valid UTF-8"},
		{"invalid UTF-8 in time", "{\"time\":\"2026\xff\"}", "time", "is not valid UTF-8"},
		{"invalid UTF-8 in an attrs value", "{\"attrs\":{\"k\":\"v\xed\xa0\x80\"}}", "attrs.k", "is not valid UTF-8"},
		{"invalid UTF-8 in an attrs key", "{\"attrs\":{\"k\xff\":\"v\"}}", "attrs.k\uFFFD", "the key is not valid UTF-8"},
		{"invalid UTF-8 in a field name", "{\"i\xffd\":\"e1\"}", "i\uFFFDd", "the key is not valid UTF-8"},
		{"invalid UTF-8 in an unknown field's value", "{\"x\":\"\xff\"}", "x", "unknown field"},
		{"lone high surrogate", `{"id":"e\ud800"}`, "id", "unpaired UTF-16 surrogate"},
		{"lone low surrogate", `{"id":"\udc00e"}`, "id", "unpaired UTF-16 surrogate"},
		{"high surrogate then a letter escape", `{"id":"\ud83d\u0041"}`, "id", "unpaired UTF-16 surrogate"},
		{"high surrogate at the end", `{"attrs":{"k":"\uD83D"}}`, "attrs.k", "unpaired UTF-16 surrogate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := valid()
			e := before
			err := e.UnmarshalJSON([]byte(tc.in))
			checkField(t, err, tc.field)
			var ve *lifecycle.ValidationError
			require.ErrorAs(t, err, &ve)
			if !strings.Contains(ve.Reason, tc.reason) {
				t.Errorf("Reason %q does not contain %q", ve.Reason, tc.reason)
			}
			if diff := cmp.Diff(before, e); diff != "" {
				t.Errorf("a refused input changed the event (-before +after):\n%s", diff)
			}
			// DecodeEvents refuses it with the same error, alone or as
			// the second element of an array.
			if tc.in != "[]" {
				_, err := lifecycle.DecodeEvents([]byte(tc.in))
				checkField(t, err, tc.field)
			}
			if json.Valid([]byte(tc.in)) {
				_, err := lifecycle.DecodeEvents([]byte(`[` + head + `},` + tc.in + `]`))
				checkField(t, err, tc.field)
				if !strings.HasPrefix(err.Error(), "event 1: ") {
					t.Errorf("array error %q does not start with the index", err)
				}
			}
		})
	}
}

func TestEventUnmarshalJSONAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		want     lifecycle.Event
	}{
		{"full", `{"id":"ord-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":4999,"currency":"EUR","referrer_id":"c0","attrs":{"channel":"web"}}`, valid()},
		{"fields in any order, white space", " {\n\t\"attrs\" : {\"channel\" : \"web\"} , \"referrer_id\":\"c0\",\"currency\":\"EUR\",\"amount\":4999,\"time\":\"2026-03-01T10:00:00Z\",\"type\":\"order_completed\",\"customer_id\":\"c1\",\"id\":\"ord-1\"}\r\n", valid()},
		{"empty object: semantics are Validate's", `{}`, lifecycle.Event{}},
		{"nulls are absent fields", `{"id":null,"customer_id":null,"type":null,"time":null,"amount":null,"currency":null,"referrer_id":null,"attrs":null}`, lifecycle.Event{}},
		{"semantically wrong values decode", `{"id":" x","type":"order_complete","amount":-5,"currency":"eur","referrer_id":""}`,
			lifecycle.Event{ID: " x", Type: "order_complete", Amount: -5, Currency: "eur"}},
		{"escapes", `{"id":"a\"b\\c\/d\u00e9\ud83d\ude00\n","attrs":{"\u006b":"\u003cv\u003e"}}`,
			lifecycle.Event{ID: "a\"b\\c/dé😀\n", Attrs: map[string]string{"k": "<v>"}}},
		{"NUL escape decodes (Validate refuses it)", `{"id":"e\u0000"}`, lifecycle.Event{ID: "e\x00"}},
		{"raw UTF-8", `{"customer_id":"Zoë 😀"}`, lifecycle.Event{CustomerID: "Zoë 😀"}},
		{"amount extremes", `{"amount":-9223372036854775808}`, lifecycle.Event{Amount: -1 << 63}},
		{"amount negative zero", `{"amount":-0}`, lifecycle.Event{}},
		{"empty attrs", `{"attrs":{}}`, lifecycle.Event{Attrs: map[string]string{}}},
		{"time with an offset and fraction", `{"time":"2026-03-01T11:00:00.5+01:00"}`,
			lifecycle.Event{Time: time.Date(2026, 3, 1, 11, 0, 0, 5e8, time.FixedZone("", 3600))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Fields set before decoding do not survive it.
			e := lifecycle.Event{ID: "old", Attrs: map[string]string{"old": "x"}, Amount: 1}
			require.NoError(t, e.UnmarshalJSON([]byte(tc.in)))
			if !e.Time.Equal(tc.want.Time) {
				t.Errorf("time %v, want %v", e.Time, tc.want.Time)
			}
			_, wantOff := tc.want.Time.Zone()
			if _, off := e.Time.Zone(); off != wantOff {
				t.Errorf("time offset %d, want %d", off, wantOff)
			}
			e.Time = tc.want.Time
			if diff := cmp.Diff(tc.want, e); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			// json.Unmarshal goes through UnmarshalJSON.
			var viaStd lifecycle.Event
			require.NoError(t, json.Unmarshal([]byte(tc.in), &viaStd))
			viaStd.Time = tc.want.Time
			if diff := cmp.Diff(tc.want, viaStd); diff != "" {
				t.Errorf("json.Unmarshal (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEventJSONStdlibPaths checks that encoding/json reaches the strict
// decoder from every way in, and reports its errors unchanged.
func TestEventJSONStdlibPaths(t *testing.T) {
	bad := head + `,"colour":"red"}`
	var e lifecycle.Event
	checkField(t, json.Unmarshal([]byte(bad), &e), "colour")

	var wrapper struct {
		Events []lifecycle.Event `json:"events"`
	}
	checkField(t, json.Unmarshal([]byte(`{"events":[`+head+`},`+bad+`]}`), &wrapper), "colour")

	dec := json.NewDecoder(strings.NewReader(head + `}` + "\n" + bad))
	require.NoError(t, dec.Decode(&e))
	checkField(t, dec.Decode(&e), "colour")

	// A syntax error is found by encoding/json before UnmarshalJSON runs.
	var se *json.SyntaxError
	require.ErrorAs(t, json.Unmarshal([]byte(head), &e), &se)
}

func TestEventJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		e    lifecycle.Event
	}{
		{"full", valid()},
		{"minimal", lifecycle.Event{ID: "v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0}},
		{"offset and nanoseconds", lifecycle.Event{ID: "v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("", -(5*3600+30*60)))}},
		{"text needing escapes", lifecycle.Event{ID: "<a&b>\"\\\u2028", CustomerID: "Zoë", Type: "acme.thing", Time: t0, Attrs: map[string]string{"q\"k": "tab\there", "score": "9"}}},
		{"large amount", lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: t0, Amount: 1<<63 - 1, Currency: "JPY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.e)
			require.NoError(t, err)
			var back lifecycle.Event
			require.NoError(t, back.UnmarshalJSON(b))
			if !back.Time.Equal(tc.e.Time) || back.Time.Format(time.RFC3339Nano) != tc.e.Time.Format(time.RFC3339Nano) {
				t.Errorf("time %v, want %v", back.Time, tc.e.Time)
			}
			back.Time = tc.e.Time
			if diff := cmp.Diff(tc.e, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			evs, err := lifecycle.DecodeEvents(b)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			require.Equal(t, tc.e.ID, evs[0].ID)
		})
	}
}

func TestDecodeEvents(t *testing.T) {
	one := func(id string) string {
		return `{"id":"` + id + `","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`
	}
	ev := func(id string) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "c1", Type: lifecycle.SiteVisited, Time: t0}
	}
	t.Run("one object", func(t *testing.T) {
		got, err := lifecycle.DecodeEvents([]byte(one("a")))
		require.NoError(t, err)
		if diff := cmp.Diff([]lifecycle.Event{ev("a")}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("array in order", func(t *testing.T) {
		got, err := lifecycle.DecodeEvents([]byte(" [ " + one("a") + " ,\n" + one("b") + "," + one("c") + " ] "))
		require.NoError(t, err)
		if diff := cmp.Diff([]lifecycle.Event{ev("a"), ev("b"), ev("c")}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("empty array", func(t *testing.T) {
		got, err := lifecycle.DecodeEvents([]byte(" [ ] "))
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Empty(t, got)
	})
	t.Run("every bad element reported with its index", func(t *testing.T) {
		in := "[" + one("a") + `,{"id":1},` + one("c") + `,{"colour":"red"},null,[]]`
		got, err := lifecycle.DecodeEvents([]byte(in))
		require.Nil(t, got)
		checkField(t, err, "id") // errors.As finds the first element's error
		msg := err.Error()
		for _, want := range []string{`event 1: lifecycle: invalid event: id "1": must be a string`, `event 3: lifecycle: invalid event: colour`, "event 4: ", "event 5: "} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not contain %q", msg, want)
			}
		}
		for _, notWant := range []string{"event 0:", "event 2:"} {
			if strings.Contains(msg, notWant) {
				t.Errorf("error %q reports a good element (%q)", msg, notWant)
			}
		}
		var j interface{ Unwrap() []error }
		require.ErrorAs(t, err, &j)
		require.Len(t, j.Unwrap(), 4)
		for _, e := range j.Unwrap() {
			require.ErrorIs(t, e, lifecycle.ErrInvalidEvent)
			var ve *lifecycle.ValidationError
			require.ErrorAs(t, e, &ve)
		}
	})
	t.Run("elements at the limit", func(t *testing.T) {
		in := "[" + strings.TrimSuffix(strings.Repeat(one("a")+",", lifecycle.MaxBatch), ",") + "]"
		got, err := lifecycle.DecodeEvents([]byte(in))
		require.NoError(t, err)
		require.Len(t, got, lifecycle.MaxBatch)
	})
	t.Run("elements over the limit", func(t *testing.T) {
		in := "[" + strings.Repeat("{},", lifecycle.MaxBatch) + "{}]"
		got, err := lifecycle.DecodeEvents([]byte(in))
		require.Nil(t, got)
		checkField(t, err, "json")
		require.Contains(t, err.Error(), strconv.Itoa(lifecycle.MaxBatch))
	})
	t.Run("not an object or array", func(t *testing.T) {
		for _, in := range []string{`null`, `"a"`, `12`, `true`} {
			got, err := lifecycle.DecodeEvents([]byte(in))
			require.Nil(t, got)
			checkField(t, err, "json")
		}
	})
	t.Run("trailing data after the array", func(t *testing.T) {
		_, err := lifecycle.DecodeEvents([]byte("[" + one("a") + "] []"))
		checkField(t, err, "json")
		require.Contains(t, err.Error(), "has data after the JSON value")
	})
	t.Run("nested arrays are not flattened", func(t *testing.T) {
		_, err := lifecycle.DecodeEvents([]byte("[[" + one("a") + "]]"))
		checkField(t, err, "json")
		require.True(t, strings.HasPrefix(err.Error(), "event 0: "), err.Error())
	})
}

func FuzzEventUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"id":"ord-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":4999,"currency":"EUR","referrer_id":"c0","attrs":{"channel":"web"}}`,
		`{"id":"s","customer_id":"c","type":"survey_answered","time":"2026-03-01T10:00:00.123+01:00","attrs":{"score":"9"}}`,
		`{"id":"a\"b\\c\u00e9\ud83d\ude00","attrs":{"\u006b":"\u003c"}}`,
		`{"id":"e\ud800"}`, "{\"id\":\"\xff\"}", `{"id":"a","id":"b"}`, `{"x":1}`, `{"amount":49.99}`,
		`{"time":123}`, `{"attrs":{"k":null}}`, `{"amount":null}`, `[{}]`, `null`, ``, `{} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e lifecycle.Event
		err := e.UnmarshalJSON(data)
		evs, batchErr := lifecycle.DecodeEvents(data)
		if err != nil {
			var ve *lifecycle.ValidationError
			if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError wrapping ErrInvalidEvent", err)
			}
			if batchErr != nil && !errors.Is(batchErr, lifecycle.ErrInvalidEvent) {
				t.Fatalf("DecodeEvents error %v does not wrap ErrInvalidEvent", batchErr)
			}
			return
		}
		if batchErr != nil || len(evs) != 1 {
			t.Fatalf("UnmarshalJSON accepts %q but DecodeEvents gives %d events, %v", data, len(evs), batchErr)
		}
		b, err := json.Marshal(e)
		if err != nil {
			// Only times outside years 0–9999 fail to encode; RFC 3339
			// text cannot express them, but an offset can push a time
			// across the boundary.
			if e.Time.UTC().Year() >= 0 && e.Time.UTC().Year() <= 9999 && e.Time.Year() >= 0 && e.Time.Year() <= 9999 {
				t.Fatalf("Marshal of an accepted event: %v", err)
			}
			return
		}
		var back lifecycle.Event
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if !back.Time.Equal(e.Time) {
			t.Fatalf("time %v became %v", e.Time, back.Time)
		}
		back.Time = e.Time
		if len(e.Attrs) == 0 {
			e.Attrs = nil // omitted when empty
		}
		if diff := cmp.Diff(e, back); diff != "" {
			t.Fatalf("round trip of %q through %s (-want +got):\n%s", data, b, diff)
		}
	})
}

// plainEvent has Event's fields and tags but not its UnmarshalJSON: it
// decodes the way encoding/json alone would, for comparison.
type plainEvent lifecycle.Event

var benchEvent = []byte(`{"id":"ord-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":4999,"currency":"EUR","referrer_id":"c0","attrs":{"channel":"web","category":"shoes"}}`)

func BenchmarkEventUnmarshal(b *testing.B) {
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchEvent)))
		for b.Loop() {
			var e lifecycle.Event
			if err := json.Unmarshal(benchEvent, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strict-direct", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchEvent)))
		for b.Loop() {
			var e lifecycle.Event
			if err := e.UnmarshalJSON(benchEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchEvent)))
		for b.Loop() {
			var e plainEvent
			if err := json.Unmarshal(benchEvent, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func ExampleDecodeEvents() {
	events, err := lifecycle.DecodeEvents([]byte(`[
		{"id":"v-1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"},
		{"id":"o-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:05:00Z","amount":4999,"currency":"EUR"}
	]`))
	fmt.Println(len(events), events[1].Amount, err)

	_, err = lifecycle.DecodeEvents([]byte(`[
		{"id":"v-2","customer_id":"c2","type":"site_visited","time":"2026-03-01T10:00:00Z"},
		{"id":"o-2","customer_id":"c2","type":"order_completed","time":1772359500,"amount":49.99,"currency":"EUR"}
	]`))
	var ve *lifecycle.ValidationError
	fmt.Println(errors.Is(err, lifecycle.ErrInvalidEvent), errors.As(err, &ve), ve.Field)
	fmt.Println(err)
	// Output:
	// 2 4999 <nil>
	// true true time
	// event 1: lifecycle: invalid event: time "1772359500": must be an RFC 3339 string
}

// An offset with seconds, or of 24 hours or more, cannot be written in
// RFC 3339: MarshalJSON writes the time in UTC, so the instant survives
// the round trip; other offsets are kept as they are.
func TestMarshalJSONOffsetWithSeconds(t *testing.T) {
	lmt := time.FixedZone("LMT", 19*60+32) // Amsterdam before 1937
	cet := time.FixedZone("CET", 3600)
	for _, at := range []time.Time{
		time.Date(1930, 5, 1, 12, 0, 0, 0, lmt),
		time.Date(2026, 3, 1, 11, 0, 0, 500, cet),
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("", 24*3600)),
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("", -25*3600)),
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("", 23*3600+59*60)),
	} {
		e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at}
		for _, v := range []any{e, &e} {
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("Marshal(%v): %v", at, err)
			}
			var back lifecycle.Event
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
			if !back.Time.Equal(at) {
				t.Errorf("%s: time %v, want the instant %v", data, back.Time, at)
			}
			_, off := at.Zone()
			if _, got := back.Time.Zone(); off%60 == 0 && off > -24*3600 && off < 24*3600 && got != off {
				t.Errorf("%s: offset %d s, want %d s kept", data, got, off)
			}
		}
	}
}

// TestUnknownEmptyKeyNamed: an unknown member whose name is empty is
// named `""` in the error's Field, as FromSegment names it (the message
// named no field; found by a hostile-input audit).
func TestUnknownEmptyKeyNamed(t *testing.T) {
	var e lifecycle.Event
	err := e.UnmarshalJSON([]byte(`{"id":"a","":"x"}`))
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || ve.Field != `""` || !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Fatalf("err = %v; want a ValidationError for field %q", err, `""`)
	}
}
