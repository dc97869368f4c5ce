// Package svgcheck parses the SVG written by package svgplot and reports
// its structure, for the tests of the packages that draw plots.
package svgcheck

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Doc is what a chart holds.
type Doc struct {
	// Classes counts the elements carrying each class token.
	Classes map[string]int
	// Elements counts the elements by name.
	Elements map[string]int
	// Title is the text of the element of class "title".
	Title string
	// XLabel and YLabel are the axis labels.
	XLabel, YLabel string
	// XTicks and YTicks are the tick labels in document order.
	XTicks, YTicks []string
	// Legend holds the text of each legend entry.
	Legend []string
	// Texts holds every text element's content, Tooltips every title
	// element's.
	Texts, Tooltips []string
	// Width and Height are the root element's.
	Width, Height float64
	// Off lists the coordinates that lie more than a pixel off the
	// canvas (0 to Width, 0 to Height), as element@attribute=value.
	Off []string
}

var numRe = regexp.MustCompile(`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]?Inf`)

var numericAttrs = map[string]bool{"x": true, "y": true, "x1": true, "y1": true, "x2": true, "y2": true,
	"cx": true, "cy": true, "r": true, "width": true, "height": true, "points": true, "d": true, "transform": true}

// Parse checks that data is well-formed XML whose root is an svg element
// and whose coordinates are all finite numbers, and returns its structure.
func Parse(data []byte) (*Doc, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	doc := &Doc{Classes: map[string]int{}, Elements: map[string]int{}}
	// stack of the class lists of the open elements
	var stack [][]string
	var text strings.Builder
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (t.Name.Local != "svg" || t.Name.Space != "http://www.w3.org/2000/svg") {
				return nil, fmt.Errorf("root element %s %q, want svg in the SVG namespace", t.Name.Local, t.Name.Space)
			}
			attrs := make(map[string]string, len(t.Attr))
			for _, a := range t.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if depth == 0 {
				doc.Width, _ = strconv.ParseFloat(attrs["width"], 64)
				doc.Height, _ = strconv.ParseFloat(attrs["height"], 64)
			} else {
				doc.offCanvas(t.Name.Local, attrs)
			}
			depth++
			doc.Elements[t.Name.Local]++
			var classes []string
			for _, a := range t.Attr {
				if a.Name.Local == "class" {
					classes = strings.Fields(a.Value)
					for _, c := range classes {
						doc.Classes[c]++
					}
				}
				if numericAttrs[a.Name.Local] {
					for _, m := range numRe.FindAllString(a.Value, -1) {
						v, err := strconv.ParseFloat(m, 64)
						if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
							return nil, fmt.Errorf("<%s %s=%q>: %q is not a finite number", t.Name.Local, a.Name.Local, a.Value, m)
						}
					}
				}
			}
			stack = append(stack, classes)
			if t.Name.Local == "text" || t.Name.Local == "title" {
				text.Reset()
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			depth--
			classes := stack
			stack = stack[:len(stack)-1]
			if t.Name.Local == "title" {
				doc.Tooltips = append(doc.Tooltips, text.String())
			}
			if t.Name.Local != "text" {
				continue
			}
			s := text.String()
			doc.Texts = append(doc.Texts, s)
			in := func(class string) bool {
				for _, cl := range classes {
					for _, c := range cl {
						if c == class {
							return true
						}
					}
				}
				return false
			}
			switch {
			case in("title"):
				doc.Title = s
			case in("label") && in("x"):
				doc.XLabel = s
			case in("label") && in("y"):
				doc.YLabel = s
			case in("tick") && in("x"):
				doc.XTicks = append(doc.XTicks, s)
			case in("tick") && in("y"):
				doc.YTicks = append(doc.YTicks, s)
			case in("legend-entry") && !in("tick"):
				doc.Legend = append(doc.Legend, s)
			}
		}
	}
	if depth != 0 || doc.Elements["svg"] == 0 {
		return nil, errors.New("no complete svg element")
	}
	return doc, nil
}

// pathCmd is one command of a path's d attribute, as the charts write
// them (M, L, H and V with absolute coordinates).
var pathCmd = regexp.MustCompile(`([MVHL])\s*([^MVHL]*)`)

// offCanvas notes the coordinates of element el (its attributes a) that
// lie more than a pixel off the canvas.
func (d *Doc) offCanvas(el string, a map[string]string) {
	num := func(s string) (float64, bool) {
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	in := func(name string, v, size float64) {
		if v < -1 || v > size+1 {
			d.Off = append(d.Off, el+"@"+name+"="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	for _, n := range []string{"x", "x1", "x2", "cx"} {
		if v, ok := num(a[n]); ok {
			in(n, v, d.Width)
		}
	}
	for _, n := range []string{"y", "y1", "y2", "cy"} {
		if v, ok := num(a[n]); ok {
			in(n, v, d.Height)
		}
	}
	if x, ok := num(a["x"]); ok {
		if w, ok := num(a["width"]); ok {
			in("x+width", x+w, d.Width)
		}
	}
	if y, ok := num(a["y"]); ok {
		if h, ok := num(a["height"]); ok {
			in("y+height", y+h, d.Height)
		}
	}
	for _, pt := range strings.Fields(a["points"]) {
		if xs, ys, ok := strings.Cut(pt, ","); ok {
			if x, ok := num(xs); ok {
				in("points", x, d.Width)
			}
			if y, ok := num(ys); ok {
				in("points", y, d.Height)
			}
		}
	}
	for _, m := range pathCmd.FindAllStringSubmatch(a["d"], -1) {
		for k, s := range numRe.FindAllString(m[2], -1) {
			v, ok := num(s)
			switch {
			case !ok:
			case m[1] == "V" || (m[1] != "H" && k%2 == 1):
				in("d", v, d.Height)
			default:
				in("d", v, d.Width)
			}
		}
	}
}
