package funnel_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
)

// Money in several currencies without InCurrency gets the same error in
// whatever order the customers come (a store's scan order is any): the
// two currencies that sort first, each with its least customer ID. It
// named whichever pair the order met first.
func TestStoredRetentionCurrencyErrorOrder(t *testing.T) {
	g := model.SterneCutler().Stages()
	mk := func(id, cur string) *lifecycle.Customer {
		c := &lifecycle.Customer{ID: id, Version: 1, Stage: model.Conversion, Since: date(1, 5), AsOf: date(1, 5),
			History: []lifecycle.Transition{{To: model.Conversion, At: date(1, 5)}}}
		c.Facts.Add(&lifecycle.Event{ID: id + "-o", CustomerID: id, Type: lifecycle.OrderCompleted, Time: date(1, 5), Amount: 100, Currency: cur})
		return c
	}
	cs := []*lifecycle.Customer{mk("u2", "USD"), mk("e9", "EUR"), mk("g1", "GBP"), mk("e3", "EUR"), mk("u1", "USD"), mk("g5", "GBP")}
	const want = `funnel: invalid input: customer "g1": currency "GBP" differs from "EUR" (customer "e3"); choose one with InCurrency`
	for i := range 12 {
		order := slices.Clone(cs)
		for j := range order { // a different rotation and direction each time
			order[j] = cs[(j+i)%len(cs)]
		}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		_, err := funnel.StoredRetention(context.Background(), g, model.Retention, funnel.Customers(order), funnel.Month)
		if !errors.Is(err, funnel.ErrInvalidInput) || err.Error() != want {
			t.Fatalf("order %d: error = %v\nwant %s", i, err, want)
		}
	}
}
