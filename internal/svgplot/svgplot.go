// Package svgplot writes small, self-contained SVG charts: line charts
// (with optional error bars and categorical x axes) and heatmaps. It is
// shared by the clv and flywheel packages so that plots come from the
// library without a plotting dependency.
//
// Every chart has a title, two labelled axes with labelled ticks and a
// legend: one entry per series for a line chart, a colour scale for a
// heatmap. Elements carry class attributes ("axis x", "axis y", "tick x",
// "tick y", "series", "legend-entry", "cell", "colorbar") so that tests
// and style sheets can find them. Text is XML-escaped; coordinates are
// always finite. Invalid input (no data, mismatched lengths, no finite
// value, non-positive sizes) returns an error wrapping [ErrInvalid] and
// never panics.
package svgplot

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error about unusable chart input.
var ErrInvalid = errors.New("svgplot: invalid chart")

// Default chart size in pixels.
const (
	DefaultWidth  = 800
	DefaultHeight = 480
	// MaxSize bounds the width and the height.
	MaxSize = 20000
)

// Palette holds the series colours, used in turn.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// Series is one line of a [LineChart].
type Series struct {
	// Name is the series' legend entry.
	Name string
	// X and Y are the points; they must have the same length. With
	// [LineChart.XCategories] set, X is ignored and point i is drawn at
	// category i. Points whose X or Y is not finite are left out (the
	// line is broken there).
	X, Y []float64
	// Err, when not nil, holds a half-width per point, drawn as an error
	// bar Y ± Err (non-finite or negative half-widths draw no bar).
	Err []float64
	// Dashed draws a dashed line; Markers draws a dot at every point;
	// Points draws the dots only, without a line (for observations).
	Dashed, Markers, Points bool
}

// LineChart is a chart of one or more series against a common x axis.
type LineChart struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes.
	Title, XLabel, YLabel string
	// XCategories, when not empty, makes the x axis categorical: one
	// labelled tick per category, and every series has one Y per category.
	XCategories []string
	Series      []Series
	// YFromZero includes 0 in the y range.
	YFromZero bool
	// Width and Height in pixels (0: DefaultWidth and DefaultHeight).
	Width, Height int
}

// frame is the geometry shared by both chart kinds.
type frame struct {
	w, h                     int
	left, right, top, bottom float64
}

func newFrame(width, height int, legendWidth float64) (frame, error) {
	if width == 0 {
		width = DefaultWidth
	}
	if height == 0 {
		height = DefaultHeight
	}
	if width < 200 || height < 150 || width > MaxSize || height > MaxSize {
		return frame{}, fmt.Errorf("%w: size %d×%d, want 200–%d × 150–%d pixels", ErrInvalid, width, height, MaxSize, MaxSize)
	}
	return frame{w: width, h: height, left: 76, right: legendWidth, top: 44, bottom: 58}, nil
}

func (f frame) plotW() float64 { return float64(f.w) - f.left - f.right }
func (f frame) plotH() float64 { return float64(f.h) - f.top - f.bottom }

// writer formats SVG text; bufio.Writer keeps the first write error for Flush.
type writer struct {
	bw *bufio.Writer
}

func (w writer) p(format string, args ...any) { fmt.Fprintf(w.bw, format, args...) }

// Escape returns s with the XML special characters escaped, for text and
// attribute values.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '\t', '\n', '\r':
			b.WriteRune(r)
		default:
			if r < 0x20 || r == 0xFFFE || r == 0xFFFF {
				b.WriteRune('\uFFFD') // not allowed in XML 1.0
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (f frame) open(w writer, title string) {
	w.p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", f.w, f.h, f.w, f.h)
	w.p(`<rect width="%d" height="%d" fill="white"/>`+"\n", f.w, f.h)
	w.p(`<text class="title" x="%s" y="26" font-size="15" font-weight="bold">%s</text>`+"\n", num(f.left), Escape(title))
}

func (f frame) axisLabels(w writer, xlabel, ylabel string) {
	cx := f.left + f.plotW()/2
	cy := f.top + f.plotH()/2
	w.p(`<text class="label x" x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", num(cx), f.h-12, Escape(xlabel))
	w.p(`<text class="label y" x="18" y="%s" text-anchor="middle" transform="rotate(-90 18 %s)">%s</text>`+"\n", num(cy), num(cy), Escape(ylabel))
}

// Ticks returns round tick values (1, 2 or 5 × 10ᵏ apart) covering
// [lo, hi], at most about 12 of them. lo and hi must be finite with
// lo ≤ hi; lo == hi gets a range around the value.
func Ticks(lo, hi float64) []float64 {
	if !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return []float64{0, 1}
	}
	if lo == hi {
		d := math.Abs(lo) / 2
		if d == 0 || math.IsInf(lo-d, 0) || math.IsInf(hi+d, 0) {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	span := hi - lo
	if math.IsInf(span, 0) {
		span = math.MaxFloat64
	}
	raw := span / 5
	e := math.Floor(math.Log10(raw))
	mag := math.Pow(10, e)
	if !(mag > 0) || math.IsInf(mag, 0) {
		return []float64{lo, hi}
	}
	m := 10.0
	for _, c := range []float64{1, 2, 5} {
		if c*mag >= raw {
			m = c
			break
		}
	}
	step := m * mag
	k0 := math.Floor(lo / step)
	k1 := math.Ceil(hi / step)
	// Rounding trouble at the float limits, or a range a few ulps wide:
	// past 2^53 a float no longer counts k one by one (k++ would not
	// move, and the loop below would never end).
	if !(k1-k0 <= 12) || math.Abs(k0) >= 1<<53 || math.Abs(k1) >= 1<<53 {
		return []float64{lo, hi}
	}
	// k·m·10^e, divided by 10^−e for negative e, is the nearest float to
	// the decimal tick (0.6, not 0.6000000000000001).
	inv := math.Pow(10, -e)
	var out []float64
	for k := k0; k <= k1; k++ {
		v := k * step
		if e < 0 && !math.IsInf(inv, 0) {
			v = k * m / inv
		}
		if math.IsInf(v, 0) {
			return []float64{lo, hi}
		}
		out = append(out, v)
	}
	return out
}

// FormatTick formats a tick value with at most 6 significant digits.
func FormatTick(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// scale maps [lo, hi] onto [a, b]. A span past the float limit is worked
// on in halves, so that it does not overflow; others are not (half of a
// span of subnormal numbers, 5e-324, is 0).
func scale(lo, hi, a, b float64) func(float64) float64 {
	if !(hi > lo) {
		return func(float64) float64 { return (a + b) / 2 }
	}
	if span := hi - lo; !math.IsInf(span, 0) {
		return func(v float64) float64 { return a + (v-lo)/span*(b-a) }
	}
	span := hi/2 - lo/2
	return func(v float64) float64 { return a + (v/2-lo/2)/span*(b-a) }
}

// Write draws the chart as SVG.
func (c *LineChart) Write(w io.Writer) error {
	if len(c.Series) == 0 {
		return fmt.Errorf("%w: a line chart needs at least one series", ErrInvalid)
	}
	cat := len(c.XCategories) > 0
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	points := 0
	for k, s := range c.Series {
		n := len(s.Y)
		if cat {
			if n != len(c.XCategories) {
				return fmt.Errorf("%w: series %d (%q) has %d values for %d categories", ErrInvalid, k, s.Name, n, len(c.XCategories))
			}
		} else if len(s.X) != n {
			return fmt.Errorf("%w: series %d (%q) has %d x and %d y values", ErrInvalid, k, s.Name, len(s.X), n)
		}
		if s.Err != nil && len(s.Err) != n {
			return fmt.Errorf("%w: series %d (%q) has %d error bars for %d points", ErrInvalid, k, s.Name, len(s.Err), n)
		}
		for i, y := range s.Y {
			x := float64(i)
			if !cat {
				x = s.X[i]
			}
			if !finite(x) || !finite(y) {
				continue
			}
			points++
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
			lo, hi := y, y
			if s.Err != nil && finite(s.Err[i]) && s.Err[i] > 0 && finite(y-s.Err[i]) && finite(y+s.Err[i]) {
				lo, hi = y-s.Err[i], y+s.Err[i]
			}
			ylo, yhi = math.Min(ylo, lo), math.Max(yhi, hi)
		}
	}
	if points == 0 {
		return fmt.Errorf("%w: no finite point to draw", ErrInvalid)
	}
	if c.YFromZero {
		ylo, yhi = math.Min(ylo, 0), math.Max(yhi, 0)
	}
	f, err := newFrame(c.Width, c.Height, 190)
	if err != nil {
		return err
	}
	yt := Ticks(ylo, yhi)
	ylo, yhi = yt[0], yt[len(yt)-1]
	var xt []float64
	if cat {
		xlo, xhi = -0.5, float64(len(c.XCategories))-0.5
	} else {
		xt = Ticks(xlo, xhi)
		xlo, xhi = xt[0], xt[len(xt)-1]
	}
	X := scale(xlo, xhi, f.left, f.left+f.plotW())
	Y := scale(ylo, yhi, f.top+f.plotH(), f.top)
	bw := bufio.NewWriter(w)
	wr := writer{bw}
	f.open(wr, c.Title)
	base := f.top + f.plotH()
	for _, v := range yt {
		y := Y(v)
		wr.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e5e5e5"/>`+"\n", num(f.left), num(y), num(f.left+f.plotW()), num(y))
		wr.p(`<g class="tick y"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/><text x="%s" y="%s" text-anchor="end" dominant-baseline="middle">%s</text></g>`+"\n",
			num(f.left-5), num(y), num(f.left), num(y), num(f.left-8), num(y), Escape(FormatTick(v)))
	}
	xtick := func(x float64, label string) {
		wr.p(`<g class="tick x"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/><text x="%s" y="%s" text-anchor="middle">%s</text></g>`+"\n",
			num(x), num(base), num(x), num(base+5), num(x), num(base+19), Escape(label))
	}
	if cat {
		step := max(1, (len(c.XCategories)+19)/20)
		for i := 0; i < len(c.XCategories); i += step {
			xtick(X(float64(i)), c.XCategories[i])
		}
	} else {
		for _, v := range xt {
			xtick(X(v), FormatTick(v))
		}
	}
	wr.p(`<line class="axis x" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/>`+"\n", num(f.left), num(base), num(f.left+f.plotW()), num(base))
	wr.p(`<line class="axis y" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/>`+"\n", num(f.left), num(f.top), num(f.left), num(base))
	f.axisLabels(wr, c.XLabel, c.YLabel)
	step, font := LegendStep(len(c.Series), f.top+10, float64(f.h)-12)
	for k, s := range c.Series {
		color := palette[k%len(palette)]
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		wr.p(`<g class="series">` + "\n")
		var seg []string
		flush := func() {
			if len(seg) > 0 && !s.Points {
				wr.p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(seg, " "), color, dash)
			}
			seg = seg[:0]
		}
		for i, yv := range s.Y {
			xv := float64(i)
			if !cat {
				xv = s.X[i]
			}
			if !finite(xv) || !finite(yv) {
				flush()
				continue
			}
			x, y := X(xv), Y(yv)
			seg = append(seg, num(x)+","+num(y))
			if s.Err != nil && finite(s.Err[i]) && s.Err[i] > 0 && finite(yv-s.Err[i]) && finite(yv+s.Err[i]) {
				y0, y1 := Y(yv-s.Err[i]), Y(yv+s.Err[i])
				wr.p(`<path class="errorbar" d="M%s %sV%sM%s %sH%sM%s %sH%s" stroke="%s" fill="none"/>`+"\n",
					num(x), num(y0), num(y1), num(x-3), num(y0), num(x+3), num(x-3), num(y1), num(x+3), color)
			}
			if s.Markers || s.Points {
				wr.p(`<circle cx="%s" cy="%s" r="3.5" fill="%s"><title>%s: %s</title></circle>`+"\n", num(x), num(y), color, Escape(s.Name), FormatTick(yv))
			}
		}
		flush()
		wr.p("</g>\n")
		lx, ly := f.left+f.plotW()+16, f.top+10+float64(k)*step
		if s.Points {
			wr.p(`<g class="legend-entry"><circle cx="%s" cy="%s" r="3.5" fill="%s"/><text x="%s" y="%s" dominant-baseline="middle"%s>%s</text></g>`+"\n",
				num(lx+12), num(ly), color, num(lx+30), num(ly), font, Escape(s.Name))
		} else {
			wr.p(`<g class="legend-entry"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/><text x="%s" y="%s" dominant-baseline="middle"%s>%s</text></g>`+"\n",
				num(lx), num(ly), num(lx+24), num(ly), color, dash, num(lx+30), num(ly), font, Escape(s.Name))
		}
	}
	wr.p("</svg>\n")
	return bw.Flush()
}

// LegendStep returns the distance between the centres of n legend
// entries stacked from first to at most last (22 pixels, less when that
// would pass last), and, when the entries must be closer than 16 pixels,
// a font-size attribute (` font-size="…"`) that fits their text between
// them; else "".
func LegendStep(n int, first, last float64) (step float64, font string) {
	step = 22
	if n > 1 && first+float64(n-1)*step > last {
		step = max(0, last-first) / float64(n-1)
	}
	if step < 16 {
		font = ` font-size="` + num(max(1, step*0.75)) + `"`
	}
	return step, font
}

// Heatmap is a grid of values drawn as coloured cells.
type Heatmap struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes.
	Title, XLabel, YLabel string
	// ValueLabel names the quantity the colours show, above the colour
	// scale.
	ValueLabel string
	// XTicks label the columns and YTicks the rows (row 0 at the bottom).
	XTicks, YTicks []string
	// Values[j][i] is the value of row j and column i; non-finite values
	// are drawn grey and get an "undefined" legend entry.
	Values [][]float64
	// Width and Height in pixels (0: DefaultWidth and DefaultHeight).
	Width, Height int
}

// viridis stops, interpolated linearly.
var ramp = [][3]float64{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}

// Color returns the heatmap colour of u in [0, 1] (clamped).
func Color(u float64) string {
	if !(u > 0) {
		u = 0
	}
	if u > 1 {
		u = 1
	}
	pos := u * float64(len(ramp)-1)
	i := min(int(pos), len(ramp)-2)
	t := pos - float64(i)
	var c [3]int
	for k := range c {
		c[k] = int(math.Round(ramp[i][k] + t*(ramp[i+1][k]-ramp[i][k])))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// Write draws the heatmap as SVG.
func (h *Heatmap) Write(w io.Writer) error {
	rows := len(h.Values)
	if rows == 0 || len(h.YTicks) != rows {
		return fmt.Errorf("%w: a heatmap needs at least one row and one y tick per row (%d rows, %d ticks)", ErrInvalid, rows, len(h.YTicks))
	}
	cols := len(h.XTicks)
	if cols == 0 {
		return fmt.Errorf("%w: a heatmap needs at least one column", ErrInvalid)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	undefined := false
	for j, row := range h.Values {
		if len(row) != cols {
			return fmt.Errorf("%w: row %d has %d values for %d columns", ErrInvalid, j, len(row), cols)
		}
		for _, v := range row {
			if !finite(v) {
				undefined = true
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return fmt.Errorf("%w: no finite value to draw", ErrInvalid)
	}
	f, err := newFrame(h.Width, h.Height, 150)
	if err != nil {
		return err
	}
	ct := Ticks(lo, hi)
	clo, chi := ct[0], ct[len(ct)-1]
	u := scale(clo, chi, 0, 1)
	cw, ch := f.plotW()/float64(cols), f.plotH()/float64(rows)
	base := f.top + f.plotH()
	bw := bufio.NewWriter(w)
	wr := writer{bw}
	f.open(wr, h.Title)
	for j, row := range h.Values {
		y := base - float64(j+1)*ch
		for i, v := range row {
			fill, label := "#bdbdbd", "undefined"
			if finite(v) {
				fill, label = Color(u(v)), FormatTick(v)
			}
			wr.p(`<rect class="cell" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s, %s: %s</title></rect>`+"\n",
				num(f.left+float64(i)*cw), num(y), num(cw), num(ch), fill, Escape(h.XTicks[i]), Escape(h.YTicks[j]), Escape(label))
		}
	}
	// At most about 20 labelled ticks per axis.
	xs := max(1, (cols+19)/20)
	for i := 0; i < cols; i += xs {
		x := f.left + (float64(i)+0.5)*cw
		wr.p(`<g class="tick x"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/><text x="%s" y="%s" text-anchor="middle">%s</text></g>`+"\n",
			num(x), num(base), num(x), num(base+5), num(x), num(base+19), Escape(h.XTicks[i]))
	}
	ys := max(1, (rows+19)/20)
	for j := 0; j < rows; j += ys {
		y := base - (float64(j)+0.5)*ch
		wr.p(`<g class="tick y"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/><text x="%s" y="%s" text-anchor="end" dominant-baseline="middle">%s</text></g>`+"\n",
			num(f.left-5), num(y), num(f.left), num(y), num(f.left-8), num(y), Escape(h.YTicks[j]))
	}
	wr.p(`<line class="axis x" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/>`+"\n", num(f.left), num(base), num(f.left+f.plotW()), num(base))
	wr.p(`<line class="axis y" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/>`+"\n", num(f.left), num(f.top), num(f.left), num(base))
	f.axisLabels(wr, h.XLabel, h.YLabel)
	// Legend: a colour scale with labelled ticks, and a grey swatch for
	// undefined cells.
	lx := f.left + f.plotW() + 24
	barTop, barH := f.top+8, f.plotH()*0.7
	// The value label runs up beside the scale, so long labels fit.
	vx, vy := lx+76, barTop+barH/2
	wr.p(`<g class="legend-entry colorbar"><text x="%s" y="%s" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>`+"\n",
		num(vx), num(vy), num(vx), num(vy), Escape(h.ValueLabel))
	const steps = 32
	for k := range steps {
		y := barTop + barH - float64(k+1)*barH/steps
		wr.p(`<rect x="%s" y="%s" width="18" height="%s" fill="%s"/>`+"\n", num(lx), num(y), num(barH/steps+0.5), Color((float64(k)+0.5)/steps))
	}
	cy := scale(clo, chi, barTop+barH, barTop)
	for _, v := range ct {
		wr.p(`<text class="tick c" x="%s" y="%s" dominant-baseline="middle">%s</text>`+"\n", num(lx+24), num(cy(v)), Escape(FormatTick(v)))
	}
	wr.p("</g>\n")
	if undefined {
		y := barTop + barH + 24
		wr.p(`<g class="legend-entry"><rect x="%s" y="%s" width="18" height="12" fill="#bdbdbd"/><text x="%s" y="%s" dominant-baseline="middle">undefined</text></g>`+"\n",
			num(lx), num(y-6), num(lx+24), num(y))
	}
	wr.p("</svg>\n")
	return bw.Flush()
}
