package lifecycle_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// TestFromSegmentTimeOutOfRangeValue: a timestamp outside the years
// Validate accepts is quoted as Validate writes it, its offset and
// fraction kept (FromSegment's doc said "without its fraction").
func TestFromSegmentTimeOutOfRangeValue(t *testing.T) {
	for _, ts := range []string{"1899-12-31T23:59:59.999999999Z", "1850-01-01T00:00:00.5-05:00", "1899-12-31T23:59:59+02:00"} {
		in := `{"type":"track","event":"Order Completed","userId":"c","messageId":"m","timestamp":"` + ts + `"}`
		_, err := lifecycle.FromSegment([]byte(in))
		var ve *lifecycle.ValidationError
		if !errors.As(err, &ve) || ve.Field != "timestamp" || ve.Value != ts {
			t.Errorf("FromSegment(timestamp %s): %v; want Field timestamp, Value %q", ts, err, ts)
		}
	}
}

// TestFromSegmentOrderCancelledAndRefunded: a shop that sends Order
// Cancelled and Order Refunded for one order has it taken back once: the
// cancellation is a custom type, the refund the refund (mapping both to
// order_refunded took two orders back for one).
func TestFromSegmentOrderCancelledAndRefunded(t *testing.T) {
	call := func(event, id, order string, total int) string {
		return `{"type":"track","event":"` + event + `","userId":"c","messageId":"` + id + `","timestamp":"2020-01-01T00:00:00Z","properties":{"order_id":"` + order + `","total":` + strconv.Itoa(total) + `,"currency":"USD"}}`
	}
	in := "[" + call("Order Completed", "m1", "o1", 30) + "," + call("Order Cancelled", "m2", "o1", 30) + "," +
		call("Order Refunded", "m3", "o1", 30) + "," + call("Order Completed", "m4", "o2", 50) + "]"
	evs, err := lifecycle.FromSegment([]byte(in))
	if err != nil || len(evs) != 4 {
		t.Fatalf("FromSegment = %v, %v", evs, err)
	}
	if evs[1].Type != "segment.order_cancelled" {
		t.Errorf("Order Cancelled = %s; want the custom type segment.order_cancelled", evs[1].Type)
	}
	var f lifecycle.Facts
	for _, e := range evs {
		f.Add(&e)
	}
	if f.Orders() != 1 || f.Revenue("USD") != 5000 {
		t.Errorf("orders %d, revenue %d; want 1 and 5000", f.Orders(), f.Revenue("USD"))
	}
}

// TestFromSegmentRequiredFields: as its doc says, FromSegment refuses a
// call without messageId or timestamp, and an amount without currency
// (which Segment would take as US dollars), naming the field.
func TestFromSegmentRequiredFields(t *testing.T) {
	for field, in := range map[string]string{
		"messageId":           `{"type":"track","event":"Song Played","userId":"u","timestamp":"2012-12-02T00:30:12.984Z"}`,
		"timestamp":           `{"type":"track","event":"Song Played","userId":"u","messageId":"m"}`,
		"properties.currency": `{"type":"track","event":"Item Purchased","userId":"u","messageId":"m","timestamp":"2012-12-02T00:30:12.984Z","properties":{"revenue":14.99}}`,
	} {
		_, err := lifecycle.FromSegment([]byte(in))
		var ve *lifecycle.ValidationError
		if !errors.As(err, &ve) || ve.Field != field || !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("without %s: %v; want a ValidationError on %s", field, err, field)
		}
	}
}
