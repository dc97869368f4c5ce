package svgplot_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/internal/svgplot"
	"github.com/clmkit/clm/internal/svgplot/svgcheck"
)

func TestLineChartStructure(t *testing.T) {
	c := &svgplot.LineChart{
		Title:  `a <b> & "c"`,
		XLabel: "x & y",
		YLabel: "value <units>",
		Series: []svgplot.Series{
			{Name: "one <1>", X: []float64{0, 1, 2, 3}, Y: []float64{1, math.NaN(), 3, 4}, Markers: true},
			{Name: "two & 2", X: []float64{0, 1, 2, 3}, Y: []float64{-1, 2, math.Inf(1), 0}, Err: []float64{0.5, -1, math.NaN(), 1}, Dashed: true},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, c.Write(&buf))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err, buf.String())
	require.Equal(t, `a <b> & "c"`, doc.Title)
	require.Equal(t, "x & y", doc.XLabel)
	require.Equal(t, "value <units>", doc.YLabel)
	require.Equal(t, []string{"one <1>", "two & 2"}, doc.Legend)
	require.Equal(t, 1, doc.Classes["axis"]/2, "two axes")
	require.Equal(t, []string{"0", "1", "2", "3"}, doc.XTicks)
	require.Contains(t, doc.YTicks, "0")
	require.Equal(t, 2, doc.Classes["series"])
	require.Equal(t, 2, doc.Classes["errorbar"], "no bar for a negative, NaN or undrawn half-width")
	require.Equal(t, 3, doc.Elements["circle"], "markers only at finite points")
	// The NaN breaks series one into two pieces, the Inf series two.
	require.Equal(t, 4, doc.Elements["polyline"])

	c.Series[0].Markers, c.Series[0].Points = false, true
	buf.Reset()
	require.NoError(t, c.Write(&buf))
	doc, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, 2, doc.Elements["polyline"], "points only: no line")
	require.Equal(t, 4, doc.Elements["circle"], "three points and a legend dot")
	require.Equal(t, []string{"one <1>", "two & 2"}, doc.Legend)
}

func TestLineChartCategories(t *testing.T) {
	c := &svgplot.LineChart{Title: "t", XLabel: "x", YLabel: "y", XCategories: []string{"0", "1", "2+"}, YFromZero: true,
		Series: []svgplot.Series{{Name: "s", Y: []float64{5, 6, 7}}}}
	var buf bytes.Buffer
	require.NoError(t, c.Write(&buf))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, []string{"0", "1", "2+"}, doc.XTicks)
	require.Equal(t, "0", doc.YTicks[0], "y from zero")
}

func TestHeatmapStructure(t *testing.T) {
	h := &svgplot.Heatmap{Title: "heat", XLabel: "x", YLabel: "y", ValueLabel: "v & w",
		XTicks: []string{"a", "b", "c"}, YTicks: []string{"r0", "r1"},
		Values: [][]float64{{0, 1, 2}, {3, math.NaN(), 5}}}
	var buf bytes.Buffer
	require.NoError(t, h.Write(&buf))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, 6, doc.Classes["cell"])
	require.Equal(t, []string{"a", "b", "c"}, doc.XTicks)
	require.Equal(t, []string{"r0", "r1"}, doc.YTicks)
	require.Equal(t, []string{"v & w", "undefined"}, doc.Legend)
	require.Equal(t, 1, doc.Classes["colorbar"])
	require.Contains(t, doc.Texts, "5")
	require.Contains(t, doc.Texts, "0")
}

func TestInvalid(t *testing.T) {
	for name, err := range map[string]error{
		"no series":     (&svgplot.LineChart{}).Write(&bytes.Buffer{}),
		"length":        (&svgplot.LineChart{Series: []svgplot.Series{{X: []float64{1}, Y: []float64{1, 2}}}}).Write(&bytes.Buffer{}),
		"categories":    (&svgplot.LineChart{XCategories: []string{"a"}, Series: []svgplot.Series{{Y: []float64{1, 2}}}}).Write(&bytes.Buffer{}),
		"err length":    (&svgplot.LineChart{Series: []svgplot.Series{{X: []float64{1}, Y: []float64{1}, Err: []float64{}}}}).Write(&bytes.Buffer{}),
		"all NaN":       (&svgplot.LineChart{Series: []svgplot.Series{{X: []float64{1}, Y: []float64{math.NaN()}}}}).Write(&bytes.Buffer{}),
		"negative size": (&svgplot.LineChart{Width: -5, Series: []svgplot.Series{{X: []float64{1}, Y: []float64{1}}}}).Write(&bytes.Buffer{}),
		"huge size":     (&svgplot.Heatmap{Height: 1 << 30, XTicks: []string{"a"}, YTicks: []string{"b"}, Values: [][]float64{{1}}}).Write(&bytes.Buffer{}),
		"empty heatmap": (&svgplot.Heatmap{}).Write(&bytes.Buffer{}),
		"no columns":    (&svgplot.Heatmap{YTicks: []string{"b"}, Values: [][]float64{{}}}).Write(&bytes.Buffer{}),
		"ragged":        (&svgplot.Heatmap{XTicks: []string{"a"}, YTicks: []string{"b", "c"}, Values: [][]float64{{1}, {1, 2}}}).Write(&bytes.Buffer{}),
		"heat all NaN":  (&svgplot.Heatmap{XTicks: []string{"a"}, YTicks: []string{"b"}, Values: [][]float64{{math.NaN()}}}).Write(&bytes.Buffer{}),
	} {
		require.True(t, errors.Is(err, svgplot.ErrInvalid), "%s: %v", name, err)
	}
}

// Extreme and constant values give finite coordinates and few ticks (a
// span of the smallest subnormal, 0 to 5e-324, gave NaN: found by an
// audit).
func TestExtremes(t *testing.T) {
	for _, ys := range [][]float64{{0, 0}, {5, 5}, {-1e308, 1e308}, {5e-324, 1e-320}, {0, 5e-324}, {-5e-324, 5e-324}, {-3, -2}, {1e15, 1e15 + 1}} {
		c := &svgplot.LineChart{Title: "t", Series: []svgplot.Series{{Name: "s", X: []float64{0, 1}, Y: ys}}}
		var buf bytes.Buffer
		require.NoError(t, c.Write(&buf), "%v", ys)
		doc, err := svgcheck.Parse(buf.Bytes())
		require.NoError(t, err, "%v", ys)
		require.LessOrEqual(t, len(doc.YTicks), 14, "%v", ys)
		require.GreaterOrEqual(t, len(doc.YTicks), 2, "%v", ys)
		h := &svgplot.Heatmap{XTicks: []string{"a", "b"}, YTicks: []string{"r"}, Values: [][]float64{ys}}
		buf.Reset()
		require.NoError(t, h.Write(&buf), "%v", ys)
		_, err = svgcheck.Parse(buf.Bytes())
		require.NoError(t, err, "%v", ys)
	}
}

func TestTicks(t *testing.T) {
	require.Equal(t, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, svgplot.Ticks(0, 1))
	require.Equal(t, []float64{0, 20, 40, 60, 80, 100, 120}, svgplot.Ticks(3, 101))
	require.Equal(t, []float64{-10, -5, 0, 5, 10, 15}, svgplot.Ticks(-7, 12))
	require.Equal(t, []float64{0, 1}, svgplot.Ticks(math.NaN(), 1))
	require.Equal(t, []float64{0, 1}, svgplot.Ticks(2, 1))
	require.Equal(t, "#440154", svgplot.Color(math.NaN()))
	require.Equal(t, "#fde725", svgplot.Color(2))
}

func TestParseRejects(t *testing.T) {
	for name, s := range map[string]string{
		"not svg":    `<html xmlns="http://www.w3.org/2000/svg"></html>`,
		"no ns":      `<svg></svg>`,
		"NaN coord":  `<svg xmlns="http://www.w3.org/2000/svg"><line x1="NaN"/></svg>`,
		"Inf points": `<svg xmlns="http://www.w3.org/2000/svg"><polyline points="1,2 +Inf,3"/></svg>`,
		"broken":     `<svg xmlns="http://www.w3.org/2000/svg"><text>a & b</text></svg>`,
	} {
		_, err := svgcheck.Parse([]byte(s))
		require.Error(t, err, name)
	}
}

// A range a few ulps wide gets ticks (the loop never ended: past 2^53,
// k++ does not move a float), and a chart of nearly equal values is
// drawn.
func TestTicksRangeOfUlps(t *testing.T) {
	for _, r := range [][2]float64{{1, math.Nextafter(1, 2)}, {100, math.Nextafter(100, 200)}, {0.3, 0.1 + 0.2}, {math.Nextafter(1, 0), 1}} {
		lo, hi := min(r[0], r[1]), max(r[0], r[1])
		ts := svgplot.Ticks(lo, hi)
		if len(ts) == 0 || len(ts) > 13 || ts[0] > lo || ts[len(ts)-1] < hi {
			t.Errorf("Ticks(%v, %v) = %v", lo, hi, ts)
		}
	}
	c := &svgplot.LineChart{Series: []svgplot.Series{{Name: "s", X: []float64{0, 1}, Y: []float64{100, math.Nextafter(100, 200)}}}}
	if err := c.Write(new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
}
