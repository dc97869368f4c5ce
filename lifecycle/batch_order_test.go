package lifecycle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestRecordBatchResultOrder: RecordBatch's results follow the events'
// order, with customers interleaved and event IDs repeated within a
// customer's events (up to 16 of them, which are compared, and more, which
// go through a map) and across customers; a repeat is a Duplicate, and
// the same batch again is all duplicates.
func TestRecordBatchResultOrder(t *testing.T) {
	for _, n := range []int{1, 2, 16, 17, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := context.Background()
			tr, _ := rvTracker(t)
			var evs []lifecycle.Event
			custs := []string{"a", "b", "c"}
			for i := 0; i < n; i++ {
				for k, c := range custs {
					if k == 2 && i%3 != 0 {
						continue // c has fewer events
					}
					id := fmt.Sprintf("e%d", i%7) // repeats within a customer; same IDs across customers
					if c == "b" {
						id = fmt.Sprintf("e%d", i%5)
					}
					evs = append(evs, rvEv(id, c, lifecycle.SiteVisited, rvT0.Add(-time.Duration(n-i)*time.Minute)))
				}
			}
			rs, err := tr.RecordBatch(ctx, evs)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[[2]string]bool{}
			for i, r := range rs {
				key := [2]string{evs[i].CustomerID, evs[i].ID}
				if r.EventID != evs[i].ID || r.CustomerID != evs[i].CustomerID {
					t.Fatalf("result %d: %+v for event %+v", i, r, evs[i])
				}
				if r.Duplicate != seen[key] {
					t.Errorf("result %d (%v): Duplicate %v", i, key, r.Duplicate)
				}
				seen[key] = true
			}
			for _, c := range custs {
				cu, err := tr.Customer(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				for k := range seen {
					if k[0] == c {
						want++
					}
				}
				if cu.Facts.Events() != int64(want) {
					t.Errorf("%s: %d events, want %d", c, cu.Facts.Events(), want)
				}
			}
			rs, err = tr.RecordBatch(ctx, evs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				if !r.Duplicate || r.EventID != evs[i].ID || r.CustomerID != evs[i].CustomerID {
					t.Errorf("again, result %d: %+v", i, r)
				}
			}
		})
	}
}
