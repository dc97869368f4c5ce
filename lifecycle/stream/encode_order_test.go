package stream_test

import (
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
)

// Of several attributes JSON cannot carry, Encode names the one whose key
// sorts first, whatever the map's order (it named whichever the map
// yielded first), as Event.Validate does.
func TestEncodeBadAttrsInKeyOrder(t *testing.T) {
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited,
		Time:  time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		Attrs: map[string]string{"m": "v\xff", "c": "v\xfe", "x": "v\xfd", "k": "ok", "q\xff": "v"}}
	for range 200 {
		_, err := stream.Encode(e)
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) {
			t.Fatalf("Encode = %v; want a *ValidationError wrapping ErrInvalidEvent", err)
		}
		if ve.Field != "attrs.c" || ve.Value != "v\xfe" {
			t.Fatalf("Encode names %s = %q; want attrs.c, the least bad key", ve.Field, ve.Value)
		}
	}
}
