package flywheel_test

import (
	"context"
	"testing"

	"github.com/clmkit/clm/flywheel"
)

// BenchmarkMonteCarlo: one op is 10,000 runs × 52 rotations of the
// literature's example (with all cores).
func BenchmarkMonteCarlo(b *testing.B) {
	p := flywheel.LiteratureExample()
	p.Rotations = 52
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(10_000), flywheel.Seed(1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAgent: one op is one agent-mode run of the literature's example
// over 12 rotations (about 6,000 events through a Tracker and a Memory
// store, then a Measure); it reports simulated events per second.
func BenchmarkAgent(b *testing.B) {
	p := flywheel.LiteratureExample()
	ctx := context.Background()
	var events int
	b.ReportAllocs()
	for b.Loop() {
		run, err := flywheel.Agent(ctx, p, flywheel.Seed(1))
		if err != nil {
			b.Fatal(err)
		}
		events += run.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
