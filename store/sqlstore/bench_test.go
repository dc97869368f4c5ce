package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// benchEvent is the i-th event of a benchmark: a visit or an order of one
// of 1,000 customers, with a fresh ID.
func benchEvent(run string, i int, r *rand.Rand) lifecycle.Event {
	return benchEventOf(run, i, r, 1000)
}

// benchEventOf is benchEvent for one of n customers.
func benchEventOf(run string, i int, r *rand.Rand, n int) lifecycle.Event {
	e := lifecycle.Event{
		ID:         fmt.Sprintf("%s-%d", run, i),
		CustomerID: fmt.Sprintf("b%04d", r.IntN(n)),
		Type:       lifecycle.SiteVisited,
		Time:       time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
	}
	if i%4 == 0 {
		e.Type, e.Amount, e.Currency = lifecycle.OrderCompleted, 2500, "EUR"
	}
	return e
}

// benchEnvs are the benchmarks' databases: each dialect durable (every
// commit flushed to disk: SQLite synchronous FULL, PostgreSQL
// synchronous_commit on) and with commits not waiting for the flush
// (SQLite synchronous NORMAL in WAL mode, PostgreSQL synchronous_commit
// off; both survive a process crash, not a power loss).
func benchEnvs(b *testing.B, f func(b *testing.B, e env)) {
	for _, d := range dialects {
		for _, durable := range []bool{true, false} {
			name := d.String() + "/commit=async"
			if durable {
				name = d.String() + "/commit=sync"
			}
			b.Run(name, func(b *testing.B) {
				e := newEnv(b, d)
				if durable {
					e = durableEnv(b, e)
				}
				f(b, e)
			})
		}
	}
}

// durableEnv undoes newEnv's fast-commit settings.
func durableEnv(b *testing.B, e env) env {
	switch e.dialect {
	case sqlstore.SQLite:
		e.url = "sqlite:" + b.TempDir() + "/clm.db?_pragma=synchronous(FULL)"
	case sqlstore.Postgres:
		e.url = e.url[:len(e.url)-len("synchronous_commit=off")] + "synchronous_commit=on"
	}
	return e
}

// BenchmarkRecord records new events for 1,000 customers from 1 and from 8
// concurrent writers (goroutines sharing one Tracker and connection pool).
func BenchmarkRecord(b *testing.B) {
	benchEnvs(b, func(b *testing.B, e env) {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
				recordWriters(b, newTracker(e.open(b)), writers)
			})
		}
	})
}

// recordWriters records b.N events of the peer's workload (benchEvent)
// from writers goroutines sharing tr, and reports events/s.
func recordWriters(b *testing.B, tr *lifecycle.Tracker, writers int) {
	run := fmt.Sprintf("w%d-%d", writers, time.Now().UnixNano())
	var next atomic.Int64
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if _, err := tr.Record(ctx, benchEvent(run, i, r)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordHot records new events for 4 customers from 8 concurrent
// writers on two Stores (two connection pools, as two instances of a
// service would have): every write contends with others for the same
// customer.
func BenchmarkRecordHot(b *testing.B) {
	benchEnvs(b, func(b *testing.B, e env) {
		trackers := []*lifecycle.Tracker{newTracker(e.open(b)), newTracker(e.open(b))}
		run := fmt.Sprintf("hot-%d", time.Now().UnixNano())
		var next atomic.Int64
		ctx := context.Background()
		b.ResetTimer()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 2))
				for {
					i := int(next.Add(1)) - 1
					if i >= b.N {
						return
					}
					if _, err := trackers[w%2].Record(ctx, benchEventOf(run, i, r, 4)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkRecordBatch records batches of 100 events spread over 10
// customers, one writer; an op is one batch.
func BenchmarkRecordBatch(b *testing.B) {
	benchEnvs(b, func(b *testing.B, e env) {
		recordBatches(b, newTracker(e.open(b)), func(n, i int) string { return fmt.Sprintf("b%04d", n%100*10+i%10) })
	})
}

// recordBatches records b.N batches of 100 events of the peer's workload
// (benchEvent), one writer, and reports events/s; customer, when not nil,
// gives the customer of the i-th event of the n-th batch instead.
func recordBatches(b *testing.B, tr *lifecycle.Tracker, customer func(n, i int) string) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	batch := make([]lifecycle.Event, 100)
	run := fmt.Sprintf("batch-%d", time.Now().UnixNano())
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range batch {
			batch[i] = benchEvent(run, n*len(batch)+i, r)
			if customer != nil {
				batch[i].CustomerID = customer(n, i)
			}
		}
		if _, err := tr.RecordBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
