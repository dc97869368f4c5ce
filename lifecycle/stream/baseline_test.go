package stream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
)

// BenchmarkBaseline measures the store's own RecordBatch on the messages
// the engines' throughput benchmarks send (same partitions, batches of
// 500, the duplicates included), with one writer and with three, into the
// SQL store of streamtest.SQL: the figure the consumers' throughput is set
// beside in BENCHMARKS.md. An op records the whole plan (CLM_STREAM_FULL=1:
// the million events) into an empty store; run it with
// -benchtime 1x.
func BenchmarkBaseline(b *testing.B) {
	p, ref := streamtest.Load(b)
	valid := len(p.Messages) - p.InvalidCount()
	for _, writers := range []int{1, 3} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				st, _, _ := streamtest.SQL(b, "base")
				b.StartTimer()
				d, err := streamtest.Baseline(context.Background(), p, st, 12, writers, 500)
				if err != nil {
					b.Fatal(err)
				}
				total += d
				b.StopTimer()
				streamtest.Check(b, ref, st)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*valid)/total.Seconds(), "messages/s")
		})
	}
}
