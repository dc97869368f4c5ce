package flywheel

import (
	"fmt"
	"io"

	"github.com/clmkit/clm/internal/svgplot"
)

// WriteHeatmapSVG draws the named outcome of a two-parameter sweep as an
// SVG heatmap: the first parameter across (one column per value), the
// second up (one row per value), the outcome as the colour with a colour
// scale as the legend; grid points where the outcome is NaN are grey
// ("undefined" in the legend). An unknown outcome, a one-parameter sweep
// or an outcome that is NaN everywhere is an error wrapping
// [ErrInvalidParams].
func (t *Table) WriteHeatmapSVG(w io.Writer, outcome string) error {
	if w == nil {
		return fmt.Errorf("%w: Table.WriteHeatmapSVG: w is a nil io.Writer", ErrInvalidParams)
	}
	g, err := t.Grid(outcome)
	if err != nil {
		return err
	}
	if len(t.Y.Values) == 0 {
		return fmt.Errorf("%w: a heatmap needs a two-parameter sweep; draw %q with WriteLinesSVG", ErrInvalidParams, outcome)
	}
	h := &svgplot.Heatmap{
		Title:      fmt.Sprintf("%s by %s and %s (%s)", outcome, t.X.Param, t.Y.Param, t.describe()),
		XLabel:     t.X.Param,
		YLabel:     t.Y.Param,
		ValueLabel: outcome,
		XTicks:     tickLabels(t.X.Values),
		YTicks:     tickLabels(t.Y.Values),
		Values:     g.Values,
	}
	if err := h.Write(w); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return nil
}

// WriteLinesSVG draws the named outcome of a sweep as an SVG line chart
// against the first parameter: one line for a one-parameter sweep (named
// by the outcome), one line per value of the second parameter otherwise
// ("churn = 0.5"), each in the legend. Monte Carlo tables draw error bars
// of ±1.96 standard errors (the 95% confidence interval of the mean).
// NaN points are left out. An unknown outcome, or one that is NaN
// everywhere, is an error wrapping [ErrInvalidParams].
func (t *Table) WriteLinesSVG(w io.Writer, outcome string) error {
	if w == nil {
		return fmt.Errorf("%w: Table.WriteLinesSVG: w is a nil io.Writer", ErrInvalidParams)
	}
	g, err := t.Grid(outcome)
	if err != nil {
		return err
	}
	c := &svgplot.LineChart{
		Title:  fmt.Sprintf("%s by %s (%s)", outcome, t.X.Param, t.describe()),
		XLabel: t.X.Param,
		YLabel: outcome,
	}
	for j, row := range g.Values {
		name := outcome
		if len(t.Y.Values) > 0 && j < len(t.Y.Values) {
			name = fmt.Sprintf("%s = %s", t.Y.Param, formatValue(t.Y.Values[j]))
		}
		s := svgplot.Series{Name: name, X: t.X.Values, Y: row, Markers: true}
		if t.Mode == ModeMonteCarlo && j < len(g.StdErr) {
			s.Err = make([]float64, len(g.StdErr[j]))
			for i, se := range g.StdErr[j] {
				s.Err[i] = 1.96 * se
			}
		}
		c.Series = append(c.Series, s)
	}
	if err := c.Write(w); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return nil
}

// describe names the mode of the table for chart titles.
func (t *Table) describe() string {
	if t.Mode == ModeMonteCarlo {
		return fmt.Sprintf("Monte Carlo, %d runs, ±1.96 SE", t.Runs)
	}
	return string(t.Mode)
}

func tickLabels(vs []float64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = formatValue(v)
	}
	return out
}
