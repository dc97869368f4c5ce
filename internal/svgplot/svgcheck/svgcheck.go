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
	// Texts holds every text element's content.
	Texts []string
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
			if t.Name.Local == "text" {
				text.Reset()
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			depth--
			classes := stack
			stack = stack[:len(stack)-1]
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
