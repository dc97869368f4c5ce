package funnel_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func Example() {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	end := at.Add(60 * 24 * time.Hour)
	m := model.SterneCutler()
	s := store.NewMemory()
	t := lifecycle.NewTracker(m, s, lifecycle.WithClock(func() time.Time { return end }))

	// Four visitors: one never comes back, one signs up, two buy (one of
	// them twice, and a beauty product with the first order).
	h := func(n int) time.Time { return at.Add(time.Duration(n) * time.Hour) }
	events := []lifecycle.Event{
		{ID: "1", CustomerID: "ann", Type: lifecycle.SiteVisited, Time: h(0)},
		{ID: "2", CustomerID: "bob", Type: lifecycle.SiteVisited, Time: h(1)},
		{ID: "3", CustomerID: "bob", Type: lifecycle.SignedUp, Time: h(25)},
		{ID: "4", CustomerID: "cat", Type: lifecycle.SiteVisited, Time: h(2)},
		{ID: "5", CustomerID: "cat", Type: lifecycle.OrderCompleted, Time: h(50), Amount: 3000, Currency: "EUR"},
		{ID: "6", CustomerID: "dan", Type: lifecycle.ProductViewed, Time: h(3)},
		{ID: "7", CustomerID: "dan", Type: lifecycle.OrderCompleted, Time: h(27), Amount: 4500, Currency: "EUR"},
		{ID: "8", CustomerID: "dan", Type: "shop.beauty_purchased", Time: h(27)},
		{ID: "9", CustomerID: "dan", Type: lifecycle.OrderCompleted, Time: h(27 + 24*20), Amount: 2000, Currency: "EUR"},
	}
	if _, err := t.RecordBatch(ctx, events); err != nil {
		fmt.Println(err)
		return
	}

	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), s)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rep.Funnel.Table())

	// Repeat buyers of beauty products, for a campaign.
	seg := funnel.All(funnel.InStage(model.Retention, model.Loyalty), funnel.HasEvent("shop.beauty_purchased", 1))
	for id, err := range seg.IDs(ctx, s) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("campaign:", id)
	}

	// The exact retention table from the order list, by week, as CSV.
	tab, err := funnel.Retention(funnel.OrdersFrom(events), funnel.Week)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = tab.Matrix(funnel.ActiveShare).WriteCSV(os.Stdout)
	// Output:
	// stage        current  entered  reached  stopped  conversion  stop_rate  to_next_median  stay_median
	// reach              1        3        4        1      0.7500     0.2500         24h0m0s      24h0m0s
	// acquisition        1        2        3        1      0.6667     0.3333         24h0m0s      24h0m0s
	// conversion         1        2        2        1      0.5000     0.5000        480h0m0s     480h0m0s
	// retention          1        1        1        1      0.0000     1.0000
	// loyalty            0        0        0        0      0.0000     0.0000
	// campaign: dan
	// cohort,customers,total_revenue,k0,k1,k2
	// 2026-W10,2,9500,1.0000,0.0000,0.5000
}
