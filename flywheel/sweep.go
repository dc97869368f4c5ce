package flywheel

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/clmkit/clm/lifecycle"
)

// Outcome is what a [Sweep] reads from each simulation: a name (the CSV
// column) and a function of the result.
type Outcome struct {
	// Name is the outcome's CSV column and legend label; the outcomes of
	// one sweep need distinct, non-empty names, and no CSV column may
	// repeat: a name equal to an axis's parameter, or, in a Monte Carlo
	// sweep, to another outcome's name_se or name_n column, is refused.
	Name string
	// Of reads the outcome from a simulation's result.
	Of func(r *Result) float64
}

// CrossoverRotation is the outcome "the first rotation in which the mean
// referred prospects outnumber the mean paid prospects" (NaN if that never
// happens within the simulated rotations). In a Monte Carlo sweep it is
// read from each run's own counts.
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

// MetricAt is the outcome "metric m in rotation n" (its mean; NaN when
// fewer rotations were simulated or m is not a [Metric]), named
// "<metric>_at_<n>" ("advocates_at_12").
func MetricAt(m Metric, n int) Outcome {
	return Outcome{Name: m.String() + "_at_" + strconv.Itoa(n), Of: func(r *Result) float64 {
		rot, err := r.Rotation(n)
		if err != nil {
			return math.NaN()
		}
		return rot.Mean(m)
	}}
}

// Axis is one swept parameter: its name (see [ParamNames]) and the values
// to try, in order.
type Axis struct {
	Param  string
	Values []float64
}

// Table holds a sweep's outcomes over a grid of one or two parameters.
type Table struct {
	// Mode is how each grid point was simulated: [ModeExpected] or
	// [ModeMonteCarlo].
	Mode Mode
	// Runs is the number of Monte Carlo runs per grid point (1 in
	// expected-value mode).
	Runs int
	// X is the first axis; Y the second, with no values in a
	// one-parameter sweep.
	X, Y Axis
	// Grids holds one grid per outcome, in the order the outcomes were
	// given.
	Grids []Grid
}

// Grid is one outcome of a sweep at every grid point. Element [j][i] of
// each field belongs to X.Values[i] and Y.Values[j]; a one-parameter sweep
// has one row.
type Grid struct {
	// Outcome is the outcome's name.
	Outcome string
	// Values holds the outcome: in expected-value mode the outcome of the
	// expected result, in Monte Carlo mode the mean over the runs of the
	// outcome of each run (runs where it is NaN left out; NaN when it is
	// NaN in every run).
	Values [][]float64
	// StdErr holds the standard errors of Values: the sample standard
	// deviation over the runs divided by √N (0 in expected-value mode and
	// where N is 1; in Monte Carlo mode NaN where N is 0, as Values is).
	// Mean ± 1.96·StdErr is a 95% confidence interval.
	StdErr [][]float64
	// N holds the number of runs whose outcome is a number (in
	// expected-value mode 1, or 0 when the outcome is NaN).
	N [][]int
}

// Grid returns the grid of the named outcome; an unknown name is an error
// wrapping [ErrInvalidParams].
func (t *Table) Grid(outcome string) (*Grid, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil sweep table", ErrInvalidParams)
	}
	for k := range t.Grids {
		if t.Grids[k].Outcome == outcome {
			return &t.Grids[k], nil
		}
	}
	names := make([]string, len(t.Grids))
	for k, g := range t.Grids {
		names[k] = g.Outcome
	}
	return nil, fmt.Errorf("%w: the sweep has no outcome %q (it has %q)", ErrInvalidParams, outcome, names)
}

// SweepMode sets how [Sweep] simulates each grid point: [ModeExpected]
// (the default) or [ModeMonteCarlo] (with the Runs, Seed, Workers,
// PaidInflow and Progress options).
func SweepMode(m Mode) SweepOption {
	return sweepOpt{"SweepMode", func(s *settings) { s.sweepMode = m }}
}

// MaxSweepCells is the largest grid a [Sweep] runs.
const MaxSweepCells = 1 << 20

// Sweep simulates base with one or two parameters varied over a grid and
// returns every outcome at every grid point. axes has one or two entries;
// each names a parameter ([Params.Set]) and its values, two axes two
// different parameters. outcomes needs at
// least one entry, each with a function and a distinct, non-empty name
// that makes no CSV column repeat (see [Outcome].Name).
// Options read: [SweepMode] and, in Monte Carlo mode, [Runs], [Seed],
// [Workers], [Progress] and [PaidInflow]; any of these given to an
// expected-value sweep is an error wrapping [ErrInvalidParams] that names
// it.
//
// In expected-value mode each outcome is read from the [Expected] result
// and has no standard error. In Monte Carlo mode each outcome is read from
// every run on its own (a *Result with Runs 1 whose Stats hold that run's
// values; it is reused from run to run, so an Outcome must not keep it),
// and the grid reports the mean over the runs with its standard error. For
// an outcome that is linear in the counts, such as [CustomersAfter], the
// mean is the same as the outcome of the Monte Carlo means; for others,
// such as [CrossoverRotation], it is the mean of the per-run outcome. The
// same seed gives the same table.
//
// A grid point whose parameters are invalid, or whose simulation
// diverges, stops the sweep with an error naming the point; a nil ctx
// is [lifecycle.ErrNilContext].
func Sweep(ctx context.Context, base Params, outcomes []Outcome, axes []Axis, opts ...SweepOption) (*Table, error) {
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	s := newSettings(opts, SweepOption.sweep)
	switch {
	case len(axes) < 1 || len(axes) > 2:
		return nil, fmt.Errorf("%w: a sweep takes one or two axes, got %d", ErrInvalidParams, len(axes))
	case len(outcomes) == 0:
		return nil, fmt.Errorf("%w: a sweep needs at least one outcome", ErrInvalidParams)
	case s.sweepMode != ModeExpected && s.sweepMode != ModeMonteCarlo:
		return nil, fmt.Errorf("%w: sweep mode %q (want %q or %q)", ErrInvalidParams, s.sweepMode, ModeExpected, ModeMonteCarlo)
	}
	if s.sweepMode == ModeExpected {
		for _, name := range s.given {
			if name != "SweepMode" {
				return nil, fmt.Errorf("%w: option %s applies only to a Monte Carlo sweep (SweepMode(ModeMonteCarlo)); an expected-value sweep would ignore it", ErrInvalidParams, name)
			}
		}
	}
	seen := map[string]bool{}
	for k, o := range outcomes {
		switch {
		case o.Of == nil:
			return nil, fmt.Errorf("%w: the outcome %q has no function", ErrInvalidParams, o.Name)
		case o.Name == "":
			return nil, fmt.Errorf("%w: outcome %d has no name", ErrInvalidParams, k)
		case seen[o.Name]:
			return nil, fmt.Errorf("%w: two outcomes are named %q", ErrInvalidParams, o.Name)
		}
		seen[o.Name] = true
	}
	mc := s.sweepMode == ModeMonteCarlo
	t := &Table{Mode: s.sweepMode, Runs: 1, X: axes[0]}
	if mc {
		t.Runs = s.runs
	}
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
	if len(axes) == 2 && axes[0].Param == axes[1].Param {
		// The second axis's values would overwrite the first's.
		return nil, fmt.Errorf("%w: both axes vary %q", ErrInvalidParams, axes[0].Param)
	}
	// The CSV's columns (see Table.WriteCSV) must be told apart.
	cols := map[string]string{}
	for _, a := range axes {
		cols[a.Param] = "the axis of " + strconv.Quote(a.Param)
	}
	for _, o := range outcomes {
		names := []string{o.Name}
		if mc {
			names = append(names, o.Name+"_se", o.Name+"_n")
		}
		for _, n := range names {
			if prev, dup := cols[n]; dup {
				return nil, fmt.Errorf("%w: the outcome %q's CSV column %q is also %s's", ErrInvalidParams, o.Name, n, prev)
			}
			cols[n] = "the outcome " + strconv.Quote(o.Name)
		}
	}
	if len(t.X.Values)*len(ys) > MaxSweepCells {
		return nil, fmt.Errorf("%w: the grid has %d points, more than %d", ErrInvalidParams, len(t.X.Values)*len(ys), MaxSweepCells)
	}
	t.Grids = make([]Grid, len(outcomes))
	for k, o := range outcomes {
		g := Grid{Outcome: o.Name, Values: make([][]float64, len(ys)), StdErr: make([][]float64, len(ys)), N: make([][]int, len(ys))}
		for j := range ys {
			g.Values[j] = make([]float64, len(t.X.Values))
			g.StdErr[j] = make([]float64, len(t.X.Values))
			g.N[j] = make([]int, len(t.X.Values))
		}
		t.Grids[k] = g
	}
	var perRun [][]float64 // per outcome, the value of each run
	for j, y := range ys {
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
			if !mc {
				res, err := Expected(p)
				if err != nil {
					return nil, fmt.Errorf("sweep point %s: %w", point, err)
				}
				for k, o := range outcomes {
					v := o.Of(res)
					t.Grids[k].Values[j][i] = v
					if !math.IsNaN(v) {
						t.Grids[k].N[j][i] = 1
					}
				}
				continue
			}
			err := p.Validate()
			if err == nil {
				err = s.validateMC(&p)
			}
			if err != nil {
				return nil, fmt.Errorf("sweep point %s: %w", point, err)
			}
			// Progress counts the runs of every point: done goes on
			// increasing from one point to the next.
			ps := s
			if report := s.progress; report != nil {
				points, before := len(ys)*len(t.X.Values), j*len(t.X.Values)+i
				ps.progress = func(done, total int) { report(before*total+done, points*total) }
			}
			vals, _, err := simulateRuns(ctx, &p, &ps)
			if err != nil {
				return nil, fmt.Errorf("sweep point %s: %w", point, err)
			}
			perRun = perRunOutcomes(perRun, &p, &s, vals, outcomes)
			for k := range outcomes {
				st := summarise(perRun[k], nil)
				t.Grids[k].Values[j][i] = st.Mean
				t.Grids[k].StdErr[j][i] = st.StdErr
				t.Grids[k].N[j][i] = st.N
			}
		}
	}
	return t, nil
}

// perRunOutcomes evaluates every outcome on every run of vals (laid out
// as simulateRuns returns them), reusing buf.
func perRunOutcomes(buf [][]float64, p *Params, s *settings, vals []float64, outcomes []Outcome) [][]float64 {
	if len(buf) != len(outcomes) {
		buf = make([][]float64, len(outcomes))
	}
	for k := range buf {
		buf[k] = buf[k][:0]
	}
	n := p.Rotations
	series := NumMetrics * n
	res := &Result{Mode: ModeMonteCarlo, Params: *p, Runs: 1, Seed: s.seed, Rotations: make([]Rotation, n)}
	for i := 0; i < s.runs; i++ {
		row := vals[i*series : (i+1)*series]
		for t := range n {
			rot := &res.Rotations[t]
			rot.N = t + 1
			for m := range NumMetrics {
				rot.Stats[m] = Stat{Mean: row[m*n+t], N: 1}
			}
		}
		for k, o := range outcomes {
			buf[k] = append(buf[k], o.Of(res))
		}
	}
	return buf
}

// WriteCSV writes the table in long form: a header naming the parameters
// and the outcomes, then one line per grid point (the second parameter's
// column only in a two-parameter sweep). Monte Carlo tables add after each
// outcome its standard error ("<outcome>_se") and the number of runs it
// is over ("<outcome>_n").
func (t *Table) WriteCSV(w io.Writer) error {
	if t == nil {
		return fmt.Errorf("%w: nil sweep table", ErrInvalidParams)
	}
	if w == nil {
		return fmt.Errorf("%w: Table.WriteCSV: w is a nil io.Writer", ErrInvalidParams)
	}
	cw := csv.NewWriter(w)
	mc := t.Mode == ModeMonteCarlo
	header := []string{t.X.Param}
	if len(t.Y.Values) > 0 {
		header = append(header, t.Y.Param)
	}
	for _, g := range t.Grids {
		header = append(header, g.Outcome)
		if mc {
			header = append(header, g.Outcome+"_se", g.Outcome+"_n")
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rows := max(1, len(t.Y.Values))
	for j := range rows {
		for i, x := range t.X.Values {
			line := []string{formatCSV(x)}
			if len(t.Y.Values) > 0 {
				line = append(line, formatCSV(t.Y.Values[j]))
			}
			for _, g := range t.Grids {
				if j >= len(g.Values) || i >= len(g.Values[j]) {
					return fmt.Errorf("%w: grid %q does not match the axes", ErrInvalidParams, g.Outcome)
				}
				line = append(line, formatCSV(g.Values[j][i]))
				if mc {
					line = append(line, formatCSV(cell(g.StdErr, j, i)), strconv.Itoa(cellN(g.N, j, i)))
				}
			}
			if err := cw.Write(line); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell returns v[j][i], NaN when out of range.
func cell(v [][]float64, j, i int) float64 {
	if j < len(v) && i < len(v[j]) {
		return v[j][i]
	}
	return math.NaN()
}

// cellN returns n[j][i], 0 when out of range.
func cellN(n [][]int, j, i int) int {
	if j < len(n) && i < len(n[j]) {
		return n[j][i]
	}
	return 0
}
