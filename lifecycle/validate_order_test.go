package lifecycle_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// Of several bad attributes, Validate reports the one whose key sorts
// first, whatever the map's iteration order (it reported whichever the
// map yielded first).
func TestValidateBadAttrsInKeyOrder(t *testing.T) {
	long := strings.Repeat("v", lifecycle.MaxAttrValueLen+1)
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited,
		Time:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Attrs: map[string]string{"m": long, "b": "x\x00", "z": long, "k": "ok", "d": long, "q": long}}
	for range 200 {
		err := e.Validate()
		var ve *lifecycle.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Fatalf("Validate = %v; want a *ValidationError wrapping ErrInvalidEvent", err)
		}
		if ve.Field != "attrs.b" {
			t.Fatalf("Validate reports field %q (%v); want attrs.b, the least bad key", ve.Field, err)
		}
	}
	// A bad key sorts by itself too: "" before every other.
	e.Attrs[""] = "v"
	for range 100 {
		var ve *lifecycle.ValidationError
		if err := e.Validate(); !errors.As(err, &ve) || ve.Field != "attrs" || ve.Value != "" {
			t.Fatalf("Validate = %v; want the empty key reported under attrs", err)
		}
	}
}
