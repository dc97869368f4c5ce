package clv_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/store"
)

// Of several bad Rates entries, the error names the one whose currency
// sorts first, whatever the map's order (it named whichever the map
// yielded first: five different errors for the same options).
func TestStoreSummaryRatesErrorOrder(t *testing.T) {
	opts := clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{
		"gbp": 1.17, "usd": 0.9, "EUR": 1, "JPY": -1, "CHF": 0,
	}}
	const want = `clv: invalid input: StoreSummaryOptions.Rates["CHF"] = 0, must be finite and > 0`
	for range 100 {
		_, err := clv.SummarizeStore(context.Background(), store.NewMemory(), opts)
		if !errors.Is(err, clv.ErrInvalidInput) || err.Error() != want {
			t.Fatalf("SummarizeStore = %v; want %s", err, want)
		}
	}
}

// Of several customers at fault, the error names the one whose ID sorts
// first, whatever the order the store yields them in (a fresh Memory's
// order depends on its hash seed: eight different errors in 50 runs).
func TestStoreSummaryCustomerErrorOrder(t *testing.T) {
	var events []lifecycle.Event
	for _, c := range []string{"hal", "bob", "cat", "dan", "eve", "fay", "gus", "ann2", "ann"} {
		events = append(events, order(c+"1", c, at(1, 9), 2000, "GBP"))
	}
	const want = `customer "ann": order_completed money in GBP`
	for range 30 {
		s := record(t, events)
		_, err := clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{Currency: "EUR"})
		if !errors.Is(err, clv.ErrInvalidInput) || !strings.Contains(err.Error(), want) {
			t.Fatalf("SummarizeStore = %v; want an error naming %s", err, want)
		}
	}
}
