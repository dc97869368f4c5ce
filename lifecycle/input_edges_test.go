package lifecycle_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestSegmentWhiteSpaceNotJSON: only JSON's white space may surround a
// Segment payload; \f, \v, U+0085, U+00A0 or U+3000 make it not JSON,
// which FromSegment refuses with Field "json" (it trimmed them as Go
// white space and accepted the payload).
func TestSegmentWhiteSpaceNotJSON(t *testing.T) {
	call := `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2025-03-02T10:00:00Z"}`
	for _, in := range []string{"\f" + call, "\v[]", "\u00a0[]", "\u0085[]", "[]\u3000"} {
		evs, err := lifecycle.FromSegment([]byte(in))
		var ve *lifecycle.ValidationError
		if !errors.As(err, &ve) || ve.Field != "json" || evs != nil {
			t.Errorf("FromSegment(%q) = %v, %v; want an error on Field json", in, evs, err)
		}
	}
	if evs, err := lifecycle.FromSegment([]byte(" \t\r\n" + call + "\n")); err != nil || len(evs) != 1 {
		t.Errorf("JSON white space around a call: %v, %v", evs, err)
	}
}

// TestSegmentMinusZero: a total of -0 (or -0.00) is zero, not negative.
func TestSegmentMinusZero(t *testing.T) {
	for _, total := range []string{`-0`, `"-0.00"`} {
		in := `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2025-03-02T10:00:00Z","properties":{"total":` + total + `,"currency":"EUR"}}`
		evs, err := lifecycle.FromSegment([]byte(in))
		if err != nil || len(evs) != 1 || evs[0].Amount != 0 {
			t.Errorf("total %s: %v, %v; want an order of 0", total, evs, err)
		}
	}
	in := `{"type":"track","event":"Order Completed","userId":"c1","messageId":"m1","timestamp":"2025-03-02T10:00:00Z","properties":{"total":-0.01,"currency":"EUR"}}`
	var ve *lifecycle.ValidationError
	if _, err := lifecycle.FromSegment([]byte(in)); !errors.As(err, &ve) || !strings.Contains(ve.Reason, "negative") {
		t.Errorf("total -0.01: %v; want refused as negative", err)
	}
}

// TestMarshalValidEventNearYear10000: an event Validate accepts whose time,
// in its own zone, is in the year 10000 is written in UTC (it failed).
func TestMarshalValidEventNearYear10000(t *testing.T) {
	at := time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC).In(time.FixedZone("", 3600))
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("Marshal of a valid event: %v", err)
	}
	var back lifecycle.Event
	if err := json.Unmarshal(b, &back); err != nil || !back.Time.Equal(at) {
		t.Errorf("round trip of %s: %v, %v", b, back.Time, err)
	}
}

// TestCustomerJSONOffsetsMarshalWrites: Customer.UnmarshalJSON reads an
// offset with seconds only as MarshalJSON writes one (seconds not zero,
// under 24 hours); ±24:00:00, which MarshalJSON refuses, is an error
// naming the value (it was read, and the customer could not be written
// again).
func TestCustomerJSONOffsetsMarshalWrites(t *testing.T) {
	for _, v := range []string{"2026-01-01T00:00:00+24:00:00", "2026-01-01T00:00:00-24:00:00", "x"} {
		var c lifecycle.Customer
		err := json.Unmarshal([]byte(`{"id":"c1","since":"`+v+`"}`), &c)
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("since %q: %v; want an error naming it", v, err)
		}
	}
	at := time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 19*60+32))
	b, err := json.Marshal(lifecycle.Customer{ID: "c1", Since: at})
	if err != nil {
		t.Fatal(err)
	}
	var c lifecycle.Customer
	if err := json.Unmarshal(b, &c); err != nil || !c.Since.Equal(at) {
		t.Fatalf("round trip of %s: %v, %v", b, c.Since, err)
	}
	if _, off := c.Since.Zone(); off != 19*60+32 {
		t.Errorf("offset %d; want %d", off, 19*60+32)
	}
}

// A tiny amount past any exponent is refused for its decimal places, as
// a less tiny one is (it said "is out of range"), and a NUL in a Segment
// event's name is refused without talking of attribute values (found by
// an audit).
func TestAuditTinyAmountAndEventNameMessages(t *testing.T) {
	for _, num := range []string{"1e-400", "1e-1001", "5e-99999999999"} {
		if _, err := lifecycle.ParseMinor(num, "EUR"); err == nil || !strings.Contains(err.Error(), "decimal places") {
			t.Errorf("ParseMinor(%q, EUR) = %v; want a decimal places error", num, err)
		}
	}
	if _, err := lifecycle.ParseMinor("0e-99999", "EUR"); err != nil {
		t.Errorf("ParseMinor(0e-99999) = %v; want 0", err)
	}
	_, err := lifecycle.FromSegment([]byte(`{"type":"track","event":"Order\u0000Completed","userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}`))
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || ve.Field != "event" || strings.Contains(ve.Reason, "values") {
		t.Errorf("FromSegment(NUL in event) = %v; want Field event, a reason not about attribute values", err)
	}
}
