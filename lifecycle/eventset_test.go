package lifecycle_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// TestEventSetUnmarshalErrors checks that bad JSON is refused with an
// error wrapping ErrEventSet that names the element, and leaves the set
// as it was.
func TestEventSetUnmarshalErrors(t *testing.T) {
	var s lifecycle.EventSet
	for _, id := range []string{"a", "b", "c"} {
		s.Add(lifecycle.KeyOf(id))
	}
	zzz := lifecycle.KeyOf("zzz").String()
	for _, tc := range []struct{ in, want string }{
		{`["` + zzz + `", 5, "nothex"]`, "element 2"},
		{`{"a":1}`, "not a JSON array"},
		{`["` + zzz + `", -1]`, "element 1"},
		{`["` + strings.Repeat("g", 32) + `"]`, "element 0"},
		{`[1.5]`, "element 0"},
	} {
		err := json.Unmarshal([]byte(tc.in), &s)
		if !errors.Is(err, lifecycle.ErrEventSet) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%s) = %v; want an error wrapping ErrEventSet naming %s", tc.in, err, tc.want)
		}
		if s.Len() != 3 || !s.Has("a") || !s.Has("b") || !s.Has("c") || s.Has("zzz") {
			t.Fatalf("after the refused Unmarshal(%s), the set changed: %d keys", tc.in, s.Len())
		}
	}
	// Inside a Customer, the error still wraps ErrEventSet.
	var c lifecycle.Customer
	if err := json.Unmarshal([]byte(`{"id":"x","seen":["nothex"]}`), &c); !errors.Is(err, lifecycle.ErrEventSet) {
		t.Fatalf("Customer with a bad seen = %v; want an error wrapping ErrEventSet", err)
	}
}

// TestImportNilIterator checks that a nil event iterator is an error, not
// a panic.
func TestImportNilIterator(t *testing.T) {
	tr := newTrackerOn(store.NewMemory())
	if _, err := tr.Import(context.Background(), nil, nil); !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Fatalf("Import(nil) = %v; want an error wrapping ErrInvalidEvent", err)
	}
}
