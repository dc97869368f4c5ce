package shopsim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateIsReproducibleAndValid(t *testing.T) {
	cfg := Config{Customers: 200, Seed: 7}
	a, b := Generate(cfg), Generate(cfg)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different streams (-first +second):\n%s", diff)
	}
	if c := Generate(Config{Customers: 200, Seed: 8}); cmp.Equal(a, c) {
		t.Fatal("different seeds gave the same stream")
	}
	ids := map[string]bool{}
	types := map[string]int{}
	for i, e := range a {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d invalid: %v", i, err)
		}
		if ids[e.ID] {
			t.Fatalf("duplicate event ID %q", e.ID)
		}
		ids[e.ID] = true
		types[string(e.Type)]++
		if i > 0 && e.Time.Before(a[i-1].Time) {
			t.Fatalf("event %d out of time order", i)
		}
	}
	for _, typ := range []string{"site_visited", "product_viewed", "cart_added", "order_completed", "signed_up"} {
		if types[typ] == 0 {
			t.Errorf("no %s events in a 200-customer stream: %v", typ, types)
		}
	}
}
