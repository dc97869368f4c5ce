package clv_test

import (
	"context"
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// Summarise the customers a Tracker keeps in a Store, and compare with the
// exact summary of the same orders. Frequency, Recency and T agree when
// every purchase is on its own day; ann's two orders on 10 February are one
// purchase day for Summarize but two purchases for SummarizeStore, and the
// store's MonetaryValue is the mean over all orders, the first included.
func ExampleSummarizeStore() {
	ctx := context.Background()
	d := func(s string) time.Time { t, _ := time.Parse(time.DateTime, s); return t }
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return d("2024-07-01 00:00:00") }))
	orders := []struct {
		customer, when string
		cents          int64
	}{
		{"ann", "2024-01-02 10:00:00", 3000},
		{"ann", "2024-02-10 09:00:00", 2500},
		{"ann", "2024-02-10 17:30:00", 1000}, // same day as the order before
		{"ann", "2024-06-20 12:00:00", 4500},
		{"bob", "2024-01-15 08:00:00", 1200},
		{"bob", "2024-01-29 19:00:00", 1800},
		{"bob", "2024-02-05 20:00:00", 1500},
		{"cy", "2024-03-01 11:00:00", 6000},
	}
	var txs []clv.Transaction
	for i, o := range orders {
		e := lifecycle.Event{
			ID: fmt.Sprint("order-", i), CustomerID: o.customer, Type: lifecycle.OrderCompleted,
			Time: d(o.when), Amount: o.cents, Currency: "USD",
		}
		if _, err := tr.Record(ctx, e); err != nil {
			fmt.Println(err)
			return
		}
		txs = append(txs, clv.Transaction{CustomerID: o.customer, Time: d(o.when), Amount: float64(o.cents) / 100})
	}

	end := d("2024-06-30 23:59:59")
	fromStore, err := clv.SummarizeStore(ctx, tr.Store(), clv.StoreSummaryOptions{
		Currency: "USD", Unit: clv.Week, ObservationEnd: end,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	exact, err := clv.Summarize(txs, clv.SummaryOptions{Period: clv.Day, Unit: clv.Week, ObservationEnd: end})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, c := range fromStore {
		e := exact[i]
		fmt.Printf("%-4s store: x=%d t_x=%5.2f T=%5.2f m=%5.2f   log: x=%d t_x=%5.2f T=%5.2f m=%5.2f\n",
			c.ID, c.Frequency, c.Recency, c.T, c.MonetaryValue, e.Frequency, e.Recency, e.T, e.MonetaryValue)
	}
	// Output:
	// ann  store: x=3 t_x=24.29 T=25.71 m=27.50   log: x=2 t_x=24.29 T=25.71 m=40.00
	// bob  store: x=2 t_x= 3.00 T=23.86 m=15.00   log: x=2 t_x= 3.00 T=23.86 m=16.50
	// cy   store: x=0 t_x= 0.00 T=17.29 m= 0.00   log: x=0 t_x= 0.00 T=17.29 m= 0.00
}
