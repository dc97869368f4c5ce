package clm_test

import (
	"context"
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// A shop records the events it already has and reads each customer's stage.
func Example() {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return at.Add(time.Hour) }))

	for _, e := range []lifecycle.Event{
		{ID: "v-1", CustomerID: "c42", Type: lifecycle.ProductViewed, Time: at},
		{ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(10 * time.Minute), Amount: 4999, Currency: "EUR"},
	} {
		res, err := t.Record(ctx, e)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s → %s\n", e.Type, res.From, res.To)
	}
	c, _ := t.Customer(ctx, "c42")
	fmt.Println(c.Stage, c.Facts.Revenue("EUR"), len(c.History))
	// Output:
	// product_viewed:  → acquisition
	// order_completed: acquisition → conversion
	// conversion 4999 2
}
