package flywheel

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Outcome is what a [Sweep] reads from each simulation: a name (the CSV
// column) and a function of the result.
type Outcome struct {
	Name string
	Of   func(r *Result) float64
}

// CrossoverRotation is the outcome "the first rotation in which the mean
// referred prospects outnumber the mean paid prospects" (NaN if that never
// happens within the simulated rotations).
func CrossoverRotation() Outcome {
	return Outcome{Name: "crossover_rotation", Of: func(r *Result) float64 {
		for _, rot := range r.Rotations {
			if rot.Mean(ReferredProspects) > rot.Mean(PaidProspects) {
				return float64(rot.N)
			}
		}
		return math.NaN()
	}}
}

// CustomersAfter is the outcome "mean cumulative customers at the end of
// rotation n" (NaN when fewer rotations were simulated).
func CustomersAfter(n int) Outcome {
	return Outcome{Name: "customers_after_" + strconv.Itoa(n), Of: func(r *Result) float64 {
		if n < 1 || n > len(r.Rotations) {
			return math.NaN()
		}
		return r.Rotations[n-1].Mean(Customers)
	}}
}

// Axis is one swept parameter: its name (see [ParamNames]) and the values
// to try, in order.
type Axis struct {
	Param  string
	Values []float64
}

// Table is a sweep's outcome over a grid of one or two parameters.
type Table struct {
	// Outcome is the outcome's name.
	Outcome string
	// X is the first axis; Y the second, with no values in a
	// one-parameter sweep.
	X, Y Axis
	// Values[j][i] is the outcome at X.Values[i] and Y.Values[j]; a
	// one-parameter sweep has one row.
	Values [][]float64
}

// SweepMode sets how [Sweep] simulates each grid point: [ModeExpected]
// (the default) or [ModeMonteCarlo] (with the Runs, Seed, Workers and
// Quantiles options; Outcome functions then read the means).
func SweepMode(m Mode) Option { return func(s *settings) { s.sweepMode = m } }

// MaxSweepCells is the largest grid a [Sweep] runs.
const MaxSweepCells = 1 << 20

// Sweep simulates base with one or two parameters varied over a grid and
// returns the outcome at every grid point. axes has one or two entries;
// each names a parameter ([Params.Set]) and its values. Options read:
// [SweepMode] and, in Monte Carlo mode, those of [MonteCarlo]. A grid point
// whose parameters are invalid, or whose simulation diverges, stops the
// sweep with an error naming the point.
func Sweep(ctx context.Context, base Params, outcome Outcome, axes []Axis, opts ...Option) (*Table, error) {
	s := newSettings(opts)
	switch {
	case len(axes) < 1 || len(axes) > 2:
		return nil, fmt.Errorf("%w: a sweep takes one or two axes, got %d", ErrInvalidParams, len(axes))
	case outcome.Of == nil:
		return nil, fmt.Errorf("%w: the outcome %q has no function", ErrInvalidParams, outcome.Name)
	case s.sweepMode != ModeExpected && s.sweepMode != ModeMonteCarlo:
		return nil, fmt.Errorf("%w: sweep mode %q (want %q or %q)", ErrInvalidParams, s.sweepMode, ModeExpected, ModeMonteCarlo)
	}
	t := &Table{Outcome: outcome.Name, X: axes[0]}
	ys := []float64{math.NaN()}
	if len(axes) == 2 {
		t.Y = axes[1]
		ys = axes[1].Values
	}
	for k, a := range axes {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("%w: axis %d (%q) has no values", ErrInvalidParams, k, a.Param)
		}
		if _, err := base.Get(a.Param); err != nil {
			return nil, err
		}
	}
	if len(t.X.Values)*len(ys) > MaxSweepCells {
		return nil, fmt.Errorf("%w: the grid has %d points, more than %d", ErrInvalidParams, len(t.X.Values)*len(ys), MaxSweepCells)
	}
	t.Values = make([][]float64, len(ys))
	for j, y := range ys {
		t.Values[j] = make([]float64, len(t.X.Values))
		for i, x := range t.X.Values {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := base
			point := fmt.Sprintf("%s=%s", t.X.Param, formatValue(x))
			if len(axes) == 2 {
				point += fmt.Sprintf(", %s=%s", t.Y.Param, formatValue(y))
			}
			if err := p.Set(t.X.Param, x); err != nil {
				return nil, fmt.Errorf("sweep point %s: %w", point, err)
			}
			if len(axes) == 2 {
				if err := p.Set(t.Y.Param, y); err != nil {
					return nil, fmt.Errorf("sweep point %s: %w", point, err)
				}
			}
			var res *Result
			var err error
			if s.sweepMode == ModeMonteCarlo {
				res, err = MonteCarlo(ctx, p, opts...)
			} else {
				res, err = Expected(p)
			}
			if err != nil {
				return nil, fmt.Errorf("sweep point %s: %w", point, err)
			}
			t.Values[j][i] = outcome.Of(res)
		}
	}
	return t, nil
}

// WriteCSV writes the table in long form: a header naming the parameters
// and the outcome, then one line per grid point (the second parameter's
// column only in a two-parameter sweep).
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{t.X.Param}
	if len(t.Y.Values) > 0 {
		header = append(header, t.Y.Param)
	}
	if err := cw.Write(append(header, t.Outcome)); err != nil {
		return err
	}
	for j, row := range t.Values {
		for i, v := range row {
			line := []string{formatCSV(t.X.Values[i])}
			if len(t.Y.Values) > 0 {
				line = append(line, formatCSV(t.Y.Values[j]))
			}
			if err := cw.Write(append(line, formatCSV(v))); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
