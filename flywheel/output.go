package flywheel

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/clmkit/clm/internal/svgplot"
)

// quantileName returns the CSV suffix of a quantile level: 0.05 → "p05",
// 0.5 → "p50", 0.025 → "p2.5".
func quantileName(q float64) string {
	v := q * 100
	if math.Abs(v-math.Round(v)) < 1e-9 {
		return fmt.Sprintf("p%02d", int(math.Round(v)))
	}
	return "p" + strconv.FormatFloat(v, 'g', 6, 64)
}

func formatCSV(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteCSV writes the result as CSV: a header line, then one line per
// rotation. The first column is "rotation" (from 1); then, for every metric
// in [AllMetrics] order, a column named by the metric (its mean). Monte
// Carlo results add, after each metric's mean, its standard error
// ("<metric>_se") and one column per quantile level ("<metric>_p05",
// "<metric>_p50", "<metric>_p95" for the defaults: the percent, as a
// whole number of at least two digits when it is whole to within 10^-9
// (p05, p100), else to six significant digits, "<metric>_p2.5"). Numbers
// use Go's
// shortest round-trip form; undefined values are "NaN".
func (r *Result) WriteCSV(w io.Writer) error {
	if r == nil {
		return fmt.Errorf("%w: WriteCSV of a nil Result", ErrInvalidParams)
	}
	if w == nil {
		return fmt.Errorf("%w: Result.WriteCSV: w is a nil io.Writer", ErrInvalidParams)
	}
	cw := csv.NewWriter(w)
	mc := r.Mode == ModeMonteCarlo
	header := []string{"rotation"}
	for _, m := range AllMetrics() {
		header = append(header, m.String())
		if mc {
			header = append(header, m.String()+"_se")
			for _, q := range r.Quantiles {
				header = append(header, m.String()+"_"+quantileName(q))
			}
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, 0, len(header))
	for _, rot := range r.Rotations {
		row = append(row[:0], strconv.Itoa(rot.N))
		for _, m := range AllMetrics() {
			st := rot.Stats[m]
			row = append(row, formatCSV(st.Mean))
			if mc {
				row = append(row, formatCSV(st.StdErr))
				for i := range r.Quantiles {
					v := math.NaN()
					if i < len(st.Quantiles) {
						v = st.Quantiles[i]
					}
					row = append(row, formatCSV(v))
				}
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// DefaultChartMetrics are the series [Result.WriteSVG] draws when given
// none: paid prospects, referred prospects, new customers and advocates.
func DefaultChartMetrics() []Metric {
	return []Metric{PaidProspects, ReferredProspects, NewCustomers, Advocates}
}

// metricUnit is what each metric's values are, for a chart's y axis: a
// kind (count, ratio, money) and the unit within it.
var metricUnit = func() (u [NumMetrics][2]string) {
	for m := range u {
		u[m] = [2]string{"count", "count per rotation"}
	}
	u[Advocates][1] = "count at the end of a rotation"
	u[Customers][1] = "cumulative count"
	u[ViralK] = [2]string{"ratio", "ratio"}
	u[Spend] = [2]string{"money", "money per rotation"}
	u[AcquisitionCost] = [2]string{"money", "money per new customer"}
	return u
}()

// axisLabel labels the y axis for metrics: their unit when they share one,
// else their kind when they share that, else "value" (the legend names
// each series).
func axisLabel(metrics []Metric) string {
	unit, kind := metricUnit[metrics[0]][1], metricUnit[metrics[0]][0]
	for _, m := range metrics[1:] {
		if metricUnit[m][1] != unit {
			unit = ""
		}
		if metricUnit[m][0] != kind {
			return "value"
		}
	}
	if unit == "" {
		return kind
	}
	return unit
}

var chartColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// WriteSVG draws the result as a self-contained SVG line chart (800×480
// pixels): one line per metric (the mean, or the value outside Monte Carlo
// mode) against the rotation, with axes, tick labels, a title, axis labels
// and a legend; the y axis is labelled with the metrics' unit when they
// share one ("count per rotation", "money per new customer" …), else
// their kind ("count", "money") or "value". For a Monte Carlo result each line has a shaded band from
// the first to the last quantile level (5% to 95% by default); with fewer
// than two quantile levels there are no bands. With no
// metrics it draws [DefaultChartMetrics]. Undefined (NaN) points are left
// out.
func (r *Result) WriteSVG(w io.Writer, metrics ...Metric) error {
	if r == nil {
		return fmt.Errorf("%w: WriteSVG of a nil Result", ErrInvalidParams)
	}
	if w == nil {
		return fmt.Errorf("%w: Result.WriteSVG: w is a nil io.Writer", ErrInvalidParams)
	}
	if len(metrics) == 0 {
		metrics = DefaultChartMetrics()
	}
	for _, m := range metrics {
		if m < 0 || int(m) >= NumMetrics {
			return fmt.Errorf("%w: metric %d is not a Metric", ErrInvalidParams, int(m))
		}
	}
	const (
		width, height          = 800, 480
		left, right, top, bott = 72, 190, 48, 56
		plotW, plotH           = width - left - right, height - top - bott
	)
	n := len(r.Rotations)
	bands := r.Mode == ModeMonteCarlo && len(r.Quantiles) >= 2
	lo, hi := 0, len(r.Quantiles)-1
	ymin, ymax := 0.0, 0.0 // the y axis starts at 0 unless a value is below
	see := func(v float64) {
		if finite(v) {
			ymin, ymax = min(ymin, v), max(ymax, v)
		}
	}
	for _, rot := range r.Rotations {
		for _, m := range metrics {
			st := rot.Stats[m]
			see(st.Mean)
			if bands && len(st.Quantiles) > hi {
				// Both edges: levels are kept in the order given, so the
				// last may be the lower one.
				see(st.Quantiles[hi])
				see(st.Quantiles[lo])
			}
		}
	}
	if ymin == ymax { // all zero (or nothing defined): an axis from 0 to 1
		ymax = ymin + 1
	}
	yTicks := svgplot.Ticks(ymin, ymax)
	ybot, ytop := yTicks[0], yTicks[len(yTicks)-1]
	xOf := func(i int) float64 { // i is the 0-based rotation index
		if n <= 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(n-1)
	}
	yOf := func(v float64) float64 {
		if span := ytop - ybot; !math.IsInf(span, 0) {
			return top + plotH - (v-ybot)/span*plotH
		}
		// In halves where the span overflows (halves of a subnormal span
		// would round to 0, and 0/0 is NaN).
		return top + plotH - (v/2-ybot/2)/(ytop/2-ybot/2)*plotH
	}

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	title := fmt.Sprintf("Flywheel simulation (%s", r.Mode)
	if r.Mode == ModeMonteCarlo {
		title += fmt.Sprintf(", %d runs", r.Runs)
		if bands {
			title += fmt.Sprintf(", band %s–%s", quantileName(r.Quantiles[lo]), quantileName(r.Quantiles[hi]))
		}
	}
	title += ")"
	p(`<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", left, svgplot.Escape(title))
	// Grid and y ticks.
	for _, v := range yTicks {
		y := yOf(v)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, left+plotW, y)
		p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y, formatTick(v))
	}
	// x ticks: at most about 13 labels.
	step := max(1, (n+12)/13)
	for i := 0; i < n; i += step {
		x := xOf(i)
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x, top+plotH, x, top+plotH+5)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x, top+plotH+18, r.Rotations[i].N)
	}
	// Axes and labels.
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", left, top, left, top+plotH)
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	p(`<text x="%d" y="%d" text-anchor="middle">rotation</text>`+"\n", left+plotW/2, height-14)
	p(`<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">%s</text>`+"\n", top+plotH/2, top+plotH/2, axisLabel(metrics))
	lstep, lfont := svgplot.LegendStep(len(metrics), top+10, height-12)
	for k, m := range metrics {
		color := chartColors[k%len(chartColors)]
		if bands {
			var pts []string
			for i, rot := range r.Rotations {
				if q := rot.Stats[m].Quantiles; len(q) > hi && finite(q[hi]) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), yOf(q[hi])))
				}
			}
			for i := n - 1; i >= 0; i-- {
				if q := r.Rotations[i].Stats[m].Quantiles; len(q) > hi && finite(q[lo]) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), yOf(q[lo])))
				}
			}
			if len(pts) > 2 {
				p(`<polygon points="%s" fill="%s" fill-opacity="0.18" stroke="none"/>`+"\n", strings.Join(pts, " "), color)
			}
		}
		var pts []string
		for i, rot := range r.Rotations {
			if v := rot.Stats[m].Mean; finite(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), yOf(v)))
			}
		}
		if len(pts) > 0 {
			p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), color)
		}
		// Legend.
		ly := float64(top+10) + float64(k)*lstep
		lx := left + plotW + 16
		if bands {
			p(`<rect x="%d" y="%.1f" width="24" height="%.1f" fill="%s" fill-opacity="0.18"/>`+"\n", lx, ly-min(6, lstep/2), min(12, lstep), color)
		}
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", lx, ly, lx+24, ly, color)
		p(`<text x="%d" y="%.1f" dominant-baseline="middle"%s>%s</text>`+"\n", lx+30, ly, lfont, svgplot.Escape(m.String()))
	}
	p("</svg>\n")
	return bw.Flush()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// formatTick labels a y tick: k from ten thousand, M from a million.
func formatTick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
