package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// BenchmarkSweep sweeps 10,000 buyers in Memory of whom none (due=0:
// Sterne–Cutler announces their lapse months ahead, so the sweep reads
// only the due time kept in each record of Memory's dense lists, and
// decodes nothing) or all (due=100: the same model with its
// NextChange hidden, so every customer is due and re-classified at every
// sweep) are due; an op is one sweep.
func BenchmarkSweep(b *testing.B) {
	for _, due := range []int{0, 100} {
		b.Run(fmt.Sprintf("memory/due=%d", due), func(b *testing.B) {
			const customers = 10_000
			ctx := context.Background()
			var m lifecycle.Model = model.SterneCutler()
			if due == 100 {
				m = struct{ lifecycle.Model }{m} // hides NextChange
			}
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			tr := lifecycle.NewTracker(m, store.NewMemory(), lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
			events := make([]lifecycle.Event, customers)
			for i := range events {
				events[i] = lifecycle.Event{ID: fmt.Sprintf("o%d", i), CustomerID: fmt.Sprintf("c%05d", i), Type: lifecycle.OrderCompleted,
					Time: t0.Add(time.Duration(i) * time.Second), Amount: 2500, Currency: "EUR"}
			}
			if _, err := tr.RecordBatch(ctx, events); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sr, err := tr.Sweep(ctx, t0.AddDate(0, 1, 0).Add(time.Duration(i)*time.Second))
				if err != nil {
					b.Fatal(err)
				}
				if want := customers * due / 100; sr.Scanned != want {
					b.Fatalf("sweep visited %d customers; want %d", sr.Scanned, want)
				}
			}
		})
	}
}
