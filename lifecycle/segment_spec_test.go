package lifecycle_test

import (
	"errors"
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

// TestFromSegmentOrderCancelled: "Order Cancelled" (E-commerce v2) is a
// refund of the order's total, so that a cancelled order's revenue is
// taken back; it was the custom type segment.order_cancelled, and the
// revenue stayed.
func TestFromSegmentOrderCancelled(t *testing.T) {
	in := `[{"type":"track","event":"Order Completed","userId":"c","messageId":"m1","timestamp":"2020-01-01T00:00:00Z","properties":{"order_id":"o1","total":30,"currency":"USD"}},
	        {"type":"track","event":"Order Cancelled","userId":"c","messageId":"m2","timestamp":"2020-01-02T00:00:00Z","properties":{"order_id":"o1","total":30,"currency":"USD"}}]`
	evs, err := lifecycle.FromSegment([]byte(in))
	if err != nil || len(evs) != 2 {
		t.Fatalf("FromSegment = %v, %v", evs, err)
	}
	if e := evs[1]; e.Type != lifecycle.OrderRefunded || e.Amount != 3000 || e.Currency != "USD" || e.Attrs[lifecycle.SegmentEventAttr] != "Order Cancelled" {
		t.Errorf("Order Cancelled = %+v; want an order_refunded of 3000 USD", e)
	}
	var f lifecycle.Facts
	for _, e := range evs {
		f.Add(&e)
	}
	if r := f.Revenue("USD"); r != 0 {
		t.Errorf("revenue after a completed and a cancelled order of 30 USD: %d; want 0", r)
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
