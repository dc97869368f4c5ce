package lifecycle_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// benchCustomers is how many existing customers the benchmarks cycle over,
// as the looplab/fsm peer in /work/shared/tools/fsmpeer does.
var benchCustomers = 10_000

var benchT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchTracker returns a tracker whose clock is far enough ahead that no
// benchmark event is refused as coming from the future.
func benchTracker() *lifecycle.Tracker {
	later := benchT0.AddDate(50, 0, 0)
	return lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return later }))
}

// seedCustomers gives every customer a sign-up and a first order, as the
// peer does, and returns their IDs.
func seedCustomers(b *testing.B, tr *lifecycle.Tracker, n int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "c" + strconv.Itoa(i)
		for _, e := range []lifecycle.Event{
			{ID: ids[i] + "-s", CustomerID: ids[i], Type: lifecycle.SignedUp, Time: benchT0},
			{ID: ids[i] + "-o", CustomerID: ids[i], Type: lifecycle.OrderCompleted, Time: benchT0.Add(time.Hour), Amount: 4999, Currency: "EUR"},
		} {
			if _, err := tr.Record(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ids
}

// orderEvents builds n order events with unique IDs cycling over ids, each
// a minute after the previous one for its customer.
func orderEvents(ids []string, n int) []lifecycle.Event {
	events := make([]lifecycle.Event, n)
	for i := range events {
		c := ids[i%len(ids)]
		round := i / len(ids)
		events[i] = lifecycle.Event{
			ID:         "o" + strconv.Itoa(i),
			CustomerID: c,
			Type:       lifecycle.OrderCompleted,
			Time:       benchT0.Add(2*time.Hour + time.Duration(round)*time.Minute),
			Amount:     1999,
			Currency:   "EUR",
		}
	}
	return events
}

// BenchmarkRecordExisting records an order for an existing customer,
// cycling over 10,000 customers; every event has a new ID, so each one is
// applied (not a duplicate).
func BenchmarkRecordExisting(b *testing.B) {
	tr := benchTracker()
	ids := seedCustomers(b, tr, benchCustomers)
	events := orderEvents(ids, b.N)
	ctx := context.Background()
	runtime.GC() // do not charge the set-up's garbage to the timed loop
	b.ReportAllocs()
	b.ResetTimer()
	for i := range events {
		res, err := tr.Record(ctx, events[i])
		if err != nil || res.Duplicate {
			b.Fatalf("event %d: %+v, %v", i, res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordNew records the first event of a new customer.
func BenchmarkRecordNew(b *testing.B) {
	tr := benchTracker()
	events := make([]lifecycle.Event, b.N)
	for i := range events {
		id := "n" + strconv.Itoa(i)
		events[i] = lifecycle.Event{ID: id + "-v", CustomerID: id, Type: lifecycle.SiteVisited, Time: benchT0}
	}
	ctx := context.Background()
	runtime.GC() // do not charge the set-up's garbage to the timed loop
	b.ReportAllocs()
	b.ResetTimer()
	for i := range events {
		if _, err := tr.Record(ctx, events[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordParallel records orders for existing customers from
// GOMAXPROCS goroutines at once.
func BenchmarkRecordParallel(b *testing.B) {
	tr := benchTracker()
	ids := seedCustomers(b, tr, benchCustomers)
	events := orderEvents(ids, b.N)
	var next atomic.Int64
	ctx := context.Background()
	runtime.GC() // do not charge the set-up's garbage to the timed loop
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if _, err := tr.Record(ctx, events[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

var _ = fmt.Sprint
var _ = runtime.GC
