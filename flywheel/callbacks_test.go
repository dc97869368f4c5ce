package flywheel_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clmkit/clm/flywheel"
)

// TestCallbackPanicsAreErrors: a Progress or PaidInflow function that
// panics stops the simulation with an error wrapping ErrInvalidParams;
// it ran on a worker goroutine, where the panic ended the process past
// any recover of the caller's.
func TestCallbackPanicsAreErrors(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 8
	boom := func(int, int) { panic("boom") }
	bad := flywheel.PaidInflow(func(*rand.Rand, float64) int { panic("bad inflow") })
	for _, workers := range []int{1, 2} {
		if _, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(10), flywheel.Workers(workers), flywheel.Progress(boom)); !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), "boom") {
			t.Errorf("Workers(%d), a panicking Progress: %v; want ErrInvalidParams", workers, err)
		}
		if _, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(10), flywheel.Workers(workers), bad); !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), "bad inflow") {
			t.Errorf("Workers(%d), a panicking inflow: %v; want ErrInvalidParams", workers, err)
		}
	}
}

// TestOptionErrorsGiveIntegersExactly: an integer option past 2^53 is
// quoted as given, not as the float64 nearest it.
func TestOptionErrorsGiveIntegersExactly(t *testing.T) {
	p := flywheel.LiteratureExample()
	_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(-(1<<53 + 1)))
	if !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), "Runs = -9007199254740993 ") {
		t.Errorf("Runs(-(2^53+1)): %v; want the value exactly", err)
	}
}
