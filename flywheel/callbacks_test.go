package flywheel_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
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

// TestWorkersCappedByBlocks: Workers past the number of blocks of runs
// starts no idle goroutines (Workers(MaxInt) started one per run) and
// gives the same result as one worker.
func TestWorkersCappedByBlocks(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 4
	peak := 0
	progress := flywheel.Progress(func(int, int) { peak = max(peak, runtime.NumGoroutine()) })
	many, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(20000), flywheel.Workers(math.MaxInt), flywheel.Seed(7), progress)
	if err != nil {
		t.Fatal(err)
	}
	one, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(20000), flywheel.Workers(1), flywheel.Seed(7))
	if err != nil {
		t.Fatal(err)
	}
	if peak > 400 { // 20,000 runs are 313 blocks of 64
		t.Errorf("%d goroutines with Workers(MaxInt) over 313 blocks of runs", peak)
	}
	var a, b bytes.Buffer // (CSV, not reflect.DeepEqual: NaN is not equal to itself)
	if err := many.WriteCSV(&a); err != nil {
		t.Fatal(err)
	}
	if err := one.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("Workers(MaxInt) and Workers(1) differ")
	}
}

// TestProgressPanicErrorIndependentOfWorkers: with a Progress that
// panics and a run that fails, the error is the failing run's for any
// number of workers (the panic's was filed under whichever block made
// the call).
func TestProgressPanicErrorIndependentOfWorkers(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 4
	inflow := flywheel.PaidInflow(func(r *rand.Rand, _ float64) int {
		if r.Uint64()%500 == 7 {
			return -1
		}
		return 3
	})
	var want string
	for _, workers := range []int{1, 2, 8} {
		calls := 0
		progress := flywheel.Progress(func(int, int) {
			if calls++; calls == 2 {
				panic("second call")
			}
		})
		_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(6400), flywheel.Workers(workers), flywheel.Seed(3), inflow, progress)
		if !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), "paid inflow drew -1") {
			t.Fatalf("Workers(%d): %v; want the failing run's error", workers, err)
		}
		if want == "" {
			want = err.Error()
		} else if err.Error() != want {
			t.Errorf("Workers(%d): %v; Workers(1) gave %s", workers, err, want)
		}
	}
}
