package sqlstore_test

// The benchmarks of the durable path against the naive PostgreSQL peer
// (../shared/tools/pgpeer: plain pgx INSERT … ON CONFLICT DO NOTHING of
// the same events), on the peer's workload: 1,000 customers drawn
// uniformly, fresh event IDs, a quarter of the events orders of 2,500 EUR
// minor units and the rest visits, one second apart. Compare ratios in one
// sitting; BENCHMARKS.md has the figures and the commands.

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store/sqlstore"
)

// peerCommits runs f for PostgreSQL with synchronous_commit on ("sync")
// and off ("async"), as the peer does.
func peerCommits(b *testing.B, f func(b *testing.B, e env)) {
	for _, sync := range []bool{true, false} {
		name := "commit=async"
		if sync {
			name = "commit=sync"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, sqlstore.Postgres)
			if sync {
				e = durableEnv(b, e)
			}
			f(b, e)
		})
	}
}

// BenchmarkRecordPostgres is BenchmarkPeerInsert's workload through
// Tracker.Record: 1 and 8 writers sharing one Tracker and pool.
func BenchmarkRecordPostgres(b *testing.B) {
	peerCommits(b, func(b *testing.B, e env) {
		tr := newTracker(e.open(b))
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { recordWriters(b, tr, writers) })
		}
	})
}

// BenchmarkRecordBatchPostgres is BenchmarkPeerInsertBatch's workload
// through Tracker.RecordBatch: an op is a batch of 100 events of customers
// drawn from 1,000; one writer.
func BenchmarkRecordBatchPostgres(b *testing.B) {
	peerCommits(b, func(b *testing.B, e env) { recordBatches(b, newTracker(e.open(b)), nil) })
}

// seq yields events as an import stream.
func seq(events []lifecycle.Event) iter.Seq2[lifecycle.Event, error] {
	return func(yield func(lifecycle.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// history returns n events for each of the customers, the peer's mix,
// one second apart.
func history(run string, customers []string, n int) []lifecycle.Event {
	r := rand.New(rand.NewPCG(5, 6))
	out := make([]lifecycle.Event, 0, len(customers)*n)
	for i := 0; i < len(customers)*n; i++ {
		e := benchEvent(run, i, r)
		e.CustomerID = customers[i%len(customers)]
		out = append(out, e)
	}
	return out
}

// BenchmarkRecordHistory records one new event (async commits) for a
// customer who already has history=N events: the cost of an event must
// not grow with the customer's history. 20 customers, drawn in turn.
func BenchmarkRecordHistory(b *testing.B) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.SQLite} {
		for _, h := range []int{10, 3000} {
			b.Run(fmt.Sprintf("%s/history=%d", d, h), func(b *testing.B) {
				s := newEnv(b, d).open(b)
				tr := newTracker(s)
				ctx := context.Background()
				customers := make([]string, 20)
				for i := range customers {
					customers[i] = fmt.Sprintf("h%02d", i)
				}
				run := fmt.Sprintf("hist-%d", time.Now().UnixNano())
				if _, err := tr.Import(ctx, seq(history(run, customers, h)), nil); err != nil {
					b.Fatal(err)
				}
				if d == sqlstore.Postgres {
					// Statistics as autovacuum keeps them in a store in
					// use: the plans made next see customers with many
					// keys.
					for _, table := range []string{"customers", "events"} {
						if _, err := s.DB().ExecContext(ctx, `VACUUM ANALYZE `+s.Table(table)); err != nil {
							b.Fatal(err)
						}
					}
				}
				r := rand.New(rand.NewPCG(7, 8))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					e := benchEvent(run+"-new", i, r)
					e.CustomerID = customers[i%len(customers)]
					e.Time = e.Time.Add(time.Duration(len(customers)*h) * time.Second)
					if _, err := tr.Record(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkImportPostgres imports 100,000 events of 10,000 customers into
// an empty store per op (synchronous commits), as BenchmarkPeerCopy
// copies them into an empty table.
func BenchmarkImportPostgres(b *testing.B) {
	const n, customers = 100_000, 10_000
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	for op := 0; op < b.N; op++ {
		b.StopTimer()
		run := fmt.Sprintf("imp-%d-%d", time.Now().UnixNano(), op)
		events := make([]lifecycle.Event, n)
		for i := range events {
			events[i] = benchEvent(run, i, r)
			events[i].CustomerID = fmt.Sprintf("c%05d", r.IntN(customers))
		}
		e := durableEnv(b, newEnv(b, sqlstore.Postgres))
		s, err := sqlstore.Connect(ctx, e.url, sqlstore.WithTablePrefix(e.prefix))
		if err != nil {
			b.Fatal(err)
		}
		tr := newTracker(s)
		b.StartTimer()
		ir, err := tr.Import(ctx, seq(events), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
		if ir.Applied != n {
			b.Fatalf("imported %d of %d events", ir.Applied, n)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// noSchedule hides a model's NextChange: every customer is due at every
// sweep.
type noSchedule struct{ lifecycle.Model }

// BenchmarkSweep sweeps 10,000 customers (buyers) of whom none
// (due=0: Sterne–Cutler announces their lapse months ahead) or all
// (due=100: the same model without NextChange, so every customer is due
// and re-classified at every sweep) are due; an op is one sweep.
func BenchmarkSweep(b *testing.B) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.SQLite} {
		for _, due := range []int{0, 100} {
			b.Run(fmt.Sprintf("%s/due=%d", d, due), func(b *testing.B) {
				s := newEnv(b, d).open(b)
				benchSweep(b, s, due)
			})
		}
	}
}

func benchSweep(b *testing.B, s lifecycle.Store, due int) {
	const customers = 10_000
	ctx := context.Background()
	var m lifecycle.Model = model.SterneCutler()
	if due == 100 {
		m = noSchedule{m}
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(m, s, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
	events := make([]lifecycle.Event, customers)
	for i := range events {
		events[i] = lifecycle.Event{ID: fmt.Sprintf("o%d", i), CustomerID: fmt.Sprintf("c%05d", i), Type: lifecycle.OrderCompleted,
			Time: t0.Add(time.Duration(i) * time.Second), Amount: 2500, Currency: "EUR"}
	}
	if _, err := tr.Import(ctx, seq(events), nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A month after the orders, a second later each sweep: nobody
		// has lapsed yet.
		sr, err := tr.Sweep(ctx, t0.AddDate(0, 1, 0).Add(time.Duration(i)*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if want := customers * due / 100; sr.Scanned != want {
			b.Fatalf("sweep visited %d customers; want %d", sr.Scanned, want)
		}
	}
}
