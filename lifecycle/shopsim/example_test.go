package shopsim_test

import (
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
)

// Generate a month of events for three customers; the same seed always
// gives the same stream, so the events can be recorded in a test.
func ExampleGenerate() {
	events := shopsim.Generate(shopsim.Config{
		Customers: 3,
		Start:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Days:      30,
		Seed:      1,
	})
	fmt.Println(len(events), "events")
	for _, e := range events[:4] {
		fmt.Println(e.Time.Format(time.DateTime), e.CustomerID, e.Type)
	}
	for _, e := range events {
		if e.Type == lifecycle.OrderCompleted {
			// Amounts are in minor units: cents for EUR.
			fmt.Printf("first order: %s %s %d.%02d %s\n", e.Time.Format(time.DateTime), e.CustomerID, e.Amount/100, e.Amount%100, e.Currency)
			break
		}
	}
	// Output:
	// 51 events
	// 2026-01-04 07:11:20 cust-0 site_visited
	// 2026-01-04 07:16:18 cust-0 product_viewed
	// 2026-01-05 19:26:51 cust-2 ad_impression
	// 2026-01-07 10:26:51 cust-2 site_visited
	// first order: 2026-01-09 06:39:11 cust-2 64.71 EUR
}

// A stream of an exact number of events, for a load test.
func ExampleStream() {
	events := shopsim.Stream(shopsim.StreamConfig{Events: 1000, Customers: 100, Seed: 1})
	customers := map[string]int{}
	for _, e := range events {
		customers[e.CustomerID]++
	}
	fmt.Println(len(events), "events from", len(customers), "customers")
	// Output: 1000 events from 63 customers
}
