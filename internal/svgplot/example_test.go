package svgplot_test

import (
	"fmt"
	"strings"

	"github.com/clmkit/clm/internal/svgplot"
)

// A line chart with two series ; Write renders it as SVG.
func ExampleLineChart() {
	c := &svgplot.LineChart{
		Title:  "Squares and cubes",
		XLabel: "n",
		YLabel: "value",
		Series: []svgplot.Series{
			{Name: "n²", X: []float64{0, 1, 2}, Y: []float64{0, 1, 4}},
			{Name: "n³", X: []float64{0, 1, 2}, Y: []float64{0, 1, 8}, Dashed: true},
		},
		Width: 300, Height: 200,
	}
	var b strings.Builder
	if err := c.Write(&b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.SplitN(b.String(), "\n", 2)[0])
	fmt.Println(strings.Count(b.String(), `class="legend-entry"`), "legend entries")
	// Output:
	// <svg xmlns="http://www.w3.org/2000/svg" width="300" height="200" viewBox="0 0 300 200" font-family="sans-serif" font-size="12">
	// 2 legend entries
}
