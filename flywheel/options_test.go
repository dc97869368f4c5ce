package flywheel_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/internal/typecheck"
)

// typeCheck type-checks a file of package p importing flywheel, store and
// time, and returns the type errors.
func typeCheck(t *testing.T, body string) []string {
	t.Helper()
	src := `package p

import (
	"context"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/store"
)

var (
	ctx = context.Background()
	p   = flywheel.LiteratureExample()
	st  = store.NewMemory()
	_   = time.Hour
	_   = st
)

` + body
	c, err := checker()
	if err != nil {
		t.Fatal(err)
	}
	errs, err := c.Errors(src)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// checker finds the export data the snippets need once.
var checker = sync.OnceValues(func() (*typecheck.Checker, error) {
	return typecheck.New("github.com/clmkit/clm/flywheel", "github.com/clmkit/clm/store", "context", "time")
})

// An option a simulation does not read is a compile error, never
// ignored; an option several read works with each of them.
func TestOptionsThatDoNotApply(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list -export")
	}
	ok := `
var seed = flywheel.Seed(1)
var _, _ = flywheel.MonteCarlo(ctx, p, seed, flywheel.Runs(10), flywheel.Workers(1), flywheel.Quantiles(0.5), flywheel.Progress(nil), flywheel.PaidInflow(nil), nil)
var _, _ = flywheel.Agent(ctx, p, seed, flywheel.PaidInflow(nil), flywheel.WithModel(nil), flywheel.WithStore(st), flywheel.StartAt(time.Time{}), flywheel.Every(time.Hour), flywheel.MaxEvents(10))
var _, _ = flywheel.Sweep(ctx, p, nil, nil, seed, flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(10), flywheel.Workers(1), flywheel.Progress(nil), flywheel.PaidInflow(nil))
`
	if errs := typeCheck(t, ok); len(errs) > 0 {
		t.Fatalf("options that apply do not compile: %v", errs)
	}
	for _, bad := range []string{
		"var _, _ = flywheel.MonteCarlo(ctx, p, flywheel.WithStore(st))",
		"var _, _ = flywheel.MonteCarlo(ctx, p, flywheel.Every(time.Hour))",
		"var _, _ = flywheel.MonteCarlo(ctx, p, flywheel.SweepMode(flywheel.ModeMonteCarlo))",
		"var _, _ = flywheel.Agent(ctx, p, flywheel.Runs(10))",
		"var _, _ = flywheel.Agent(ctx, p, flywheel.Quantiles(0.5))",
		"var _, _ = flywheel.Sweep(ctx, p, nil, nil, flywheel.Quantiles(0.5))",
		"var _, _ = flywheel.Sweep(ctx, p, nil, nil, flywheel.WithStore(st))",
	} {
		errs := typeCheck(t, bad)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "does not implement") {
			t.Errorf("%s compiles (errors: %v); want a compile error", bad, errs)
		}
	}
}

// A Monte Carlo option given to an expected-value sweep, which would not
// read it, is an error naming it.
func TestSweepExpectedRefusesMonteCarloOptions(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	axes := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1}}}
	outcomes := []flywheel.Outcome{flywheel.CustomersAfter(2)}
	for name, o := range map[string]flywheel.SweepOption{
		"Runs": flywheel.Runs(10), "Seed": flywheel.Seed(1), "Workers": flywheel.Workers(1),
		"Progress": flywheel.Progress(func(int, int) {}), "PaidInflow": flywheel.PaidInflow(flywheel.ConstantInflow()),
	} {
		_, err := flywheel.Sweep(ctx, p, outcomes, axes, o)
		if !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), "option "+name+" applies only to a Monte Carlo sweep") {
			t.Errorf("%s in an expected-value sweep: %v", name, err)
		}
		_, err = flywheel.Sweep(ctx, p, outcomes, axes, flywheel.SweepMode(flywheel.ModeExpected), o)
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s with SweepMode(ModeExpected): %v", name, err)
		}
		if _, err := flywheel.Sweep(ctx, p, outcomes, axes, flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(5), o); err != nil {
			t.Errorf("%s in a Monte Carlo sweep: %v", name, err)
		}
	}
	if _, err := flywheel.Sweep(ctx, p, outcomes, axes, flywheel.SweepMode(flywheel.ModeExpected), nil); err != nil {
		t.Errorf("SweepMode(ModeExpected) and a nil option: %v", err)
	}
}
