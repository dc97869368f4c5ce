package stream_test

import (
	"context"
	"testing"

	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
)

// TestBaseline measures the store's own RecordBatch on the messages the
// engines' throughput tests send (same partitions, batches of 500, the
// duplicates included), with one writer and with three, into the SQL
// store of streamtest.SQL: the figure the consumers' throughput is set
// beside in BENCHMARKS.md. It is a measurement (see streamtest.Bench).
func TestBaseline(t *testing.T) {
	streamtest.Bench(t)
	p, ref := streamtest.Load(t)
	for _, writers := range []int{1, 3} {
		st, url, _ := streamtest.SQL(t, "base")
		d, err := streamtest.Baseline(context.Background(), p, st, 12, writers, 500)
		if err != nil {
			t.Fatal(err)
		}
		streamtest.Check(t, ref, st)
		t.Logf("%s, RecordBatch without a log, %d writers: %d messages in %s (%.0f messages/s)", streamtest.Engine(url), writers,
			len(p.Messages)-p.InvalidCount(), d.Round(1e6), float64(len(p.Messages)-p.InvalidCount())/d.Seconds())
	}
}
