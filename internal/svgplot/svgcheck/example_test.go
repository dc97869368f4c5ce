package svgcheck_test

import (
	"fmt"
	"strings"

	"github.com/clmkit/clm/internal/svgplot"
	"github.com/clmkit/clm/internal/svgplot/svgcheck"
)

// Parse a chart and read its structure.
func ExampleParse() {
	var b strings.Builder
	c := &svgplot.LineChart{Title: "t", XLabel: "x", YLabel: "y",
		XCategories: []string{"a", "b"},
		Series:      []svgplot.Series{{Name: "s & t", Y: []float64{1, 2}}}}
	if err := c.Write(&b); err != nil {
		fmt.Println(err)
		return
	}
	doc, err := svgcheck.Parse([]byte(b.String()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.XTicks, doc.Legend, doc.Classes["axis"])
	// Output:
	// [a b] [s & t] 2
}
