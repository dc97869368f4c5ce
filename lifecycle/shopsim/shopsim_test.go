package shopsim

import (
	"math"
	"reflect"
	"testing"
	"time"

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

// TestOddConfigs: configurations out of range are read as documented
// (Days over MaxDays as MaxDays; NaN, +Inf or ≤ 1 ZipfS and NaN
// SessionsAlpha as the defaults) instead of panicking or never returning.
func TestOddConfigs(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, days := range []int{MaxDays + 1, math.MaxInt} {
			evs := Generate(Config{Customers: 3, Days: days, Seed: 1})
			want := Generate(Config{Customers: 3, Days: MaxDays, Seed: 1})
			if !reflect.DeepEqual(evs, want) {
				t.Errorf("Generate with Days %d differs from Days MaxDays", days)
			}
			if got := Stream(StreamConfig{Events: 100, Days: days}); len(got) != 100 {
				t.Errorf("Stream with Days %d: %d events", days, len(got))
			}
		}
		def := Stream(StreamConfig{Events: 50, Seed: 2})
		for _, s := range []float64{math.NaN(), math.Inf(1), 1, -3} {
			if got := Stream(StreamConfig{Events: 50, Seed: 2, ZipfS: s}); !reflect.DeepEqual(got, def) {
				t.Errorf("Stream with ZipfS %v differs from the default", s)
			}
		}
		if got, def := Generate(Config{Seed: 3, SessionsAlpha: math.NaN()}), Generate(Config{Seed: 3}); !reflect.DeepEqual(got, def) {
			t.Error("Generate with SessionsAlpha NaN differs from the default")
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("did not return in 60 s")
	}
}
