package funnel_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle/funnel"
)

// A table past MaxCells is refused, as a row past MaxPeriods is: a
// customer a day for 5,000 days makes 5,000 daily cohorts and about 12.5
// million cells (250 KB of orders asked for 400 MB); the same orders by
// month make a table of 165 rows, which is built.
func TestRetentionMaxCells(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	orders := make([]funnel.Order, 5000)
	for i := range orders {
		orders[i] = funnel.Order{CustomerID: "c" + strconv.Itoa(i), Time: t0.AddDate(0, 0, i), Amount: 100, Currency: "EUR"}
	}
	_, err := funnel.Retention(orders, funnel.Day)
	if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), "MaxCells") {
		t.Fatalf("Retention by day = %v; want ErrInvalidInput naming MaxCells", err)
	}
	tb, err := funnel.Retention(orders, funnel.Month)
	if err != nil || len(tb.Cohorts) != 165 {
		t.Fatalf("Retention by month: %v cohorts, %v", tb, err)
	}
	// Each month's cohort: every customer active and retained in its
	// first period only; none repeated.
	for _, c := range tb.Cohorts {
		if c.Retained[0] != c.Customers || (len(c.Retained) > 1 && c.Retained[1] != 0) || c.Repeated[len(c.Repeated)-1] != 0 {
			t.Fatalf("cohort %s: %+v", c.Key, c)
		}
	}
}

// Retained and Repeated (built as differences, one or two additions a
// customer) equal the counts taken period by period, on random orders.
func TestRetentionCountsByPeriod(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := range 20 {
		r := rand.New(rand.NewPCG(uint64(seed), 9))
		var orders []funnel.Order
		for c := range 60 {
			for range 1 + r.IntN(4) {
				orders = append(orders, funnel.Order{CustomerID: "c" + strconv.Itoa(c), Time: t0.Add(time.Duration(r.IntN(90*24)) * time.Hour)})
			}
		}
		tb, err := funnel.Retention(orders, funnel.Week)
		if err != nil {
			t.Fatal(err)
		}
		// The same counts, customer by customer and period by period.
		byCust := map[string][]time.Time{}
		for _, o := range orders {
			byCust[o.CustomerID] = append(byCust[o.CustomerID], o.Time)
		}
		last := funnel.Week.Index(tb.Until)
		want := map[int64][2][]int{} // cohort index: Retained, Repeated
		for _, ts := range byCust {
			slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
			first := funnel.Week.Index(ts[0])
			w, ok := want[first]
			if !ok {
				n := int(last-first) + 1
				w = [2][]int{make([]int, n), make([]int, n)}
				want[first] = w
			}
			lastK := funnel.Week.Index(ts[len(ts)-1]) - first
			for m := int64(0); m <= lastK; m++ {
				w[0][m]++
			}
			if len(ts) > 1 {
				for m := funnel.Week.Index(ts[1]) - first; m < int64(len(w[1])); m++ {
					w[1][m]++
				}
			}
		}
		if len(tb.Cohorts) != len(want) {
			t.Fatalf("seed %d: %d cohorts; want %d", seed, len(tb.Cohorts), len(want))
		}
		for _, c := range tb.Cohorts {
			w := want[funnel.Week.Index(c.Start)]
			if !slices.Equal(c.Retained, w[0]) || !slices.Equal(c.Repeated, w[1]) {
				t.Fatalf("seed %d, cohort %s: Retained %v Repeated %v; want %v %v", seed, c.Key, c.Retained, c.Repeated, w[0], w[1])
			}
		}
	}
}
