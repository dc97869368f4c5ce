package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Mermaid returns a Mermaid flowchart of m's stage graph, titled with
// m.Name() (in the YAML front matter as it is when it starts with an
// ASCII letter, is ASCII letters, digits, spaces, dots, hyphens or
// underscores after that, does not end with a space, and is not a word
// YAML reads as other than text, such as null, true or no; otherwise as a
// JSON string, so that any name stays one text title), left to right: one node per stage, whose node ID is "s_"
// followed by the stage ID (each character other than an ASCII letter or
// digit written as _hex_, so "b-2" is s_b_2d_2) and whose label is the
// stage's name, or its ID when it has none or only characters left out
// (the characters Mermaid reads in a label — # " < > ` & \ % and : (an
// HTML entity such as &amp;, and \n, would be shown decoded; %% starts a
// comment or a directive; a line holding "style" or "classDef", then a
// colon, loses the last ; of its entity codes before Mermaid parses it) —
// written as the entity codes #35;, #quot;, #lt;, #gt;, #96;, #38;, #92;,
// #37; and #58;, a line break (\n, U+2028 or
// U+2029) as <br>, other control characters left out, invalid UTF-8 as
// U+FFFD),
// drawn by the stage's kind ([stage.Kind]): a rectangle for a path stage,
// a stadium for a decline, a subroutine box for an exit, a hexagon for a
// win-back; and one arrow per edge, in the graph's order, labelled with its
// kind: solid for advance and recover, dotted for regress and fall, thick
// for loop. Paste it into a ```mermaid block (Mermaid draws at most 500
// edges by default, its maxEdges setting: a builder model of 23 stages or
// more whose rules can turn both ways may derive more; declare its edges
// with [Builder.Edges]). A nil model, or one whose Stages returns nil, gets a
// chart without stages (a nil model's title is empty). A panic in m's
// Stages or Name is not recovered: it reaches the caller (such a model
// is broken; model/modeltest reports it).
func Mermaid(m lifecycle.Model) string {
	g, name := graphOf(m)
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s\n---\nflowchart LR\n", yamlTitle(name))
	for _, s := range g.Stages() {
		l, r := "[", "]"
		switch s.Kind {
		case stage.Decline:
			l, r = "([", "])"
		case stage.Exit:
			l, r = "[[", "]]"
		case stage.WinBack:
			l, r = "{{", "}}"
		}
		text := mermaidText(label(s))
		if text == "" { // a name of control characters only
			text = mermaidText(string(s.ID))
		}
		fmt.Fprintf(&b, "    %s%s\"%s\"%s\n", mermaidID(s.ID), l, text, r)
	}
	for _, e := range g.Edges() {
		arrow := "-->"
		switch e.Kind {
		case stage.Regress, stage.Fall:
			arrow = "-.->"
		case stage.Loop:
			arrow = "==>"
		}
		fmt.Fprintf(&b, "    %s %s|%s| %s\n", mermaidID(e.From), arrow, e.Kind, mermaidID(e.To))
	}
	return b.String()
}

// yamlTitle returns name as it is when YAML reads it as plain text (an
// ASCII letter first, then ASCII letters, digits, spaces, dots, hyphens or
// underscores, no space last; not null, a boolean or another word YAML
// reads as a value), and otherwise as a JSON string, which YAML reads as
// the same text.
func yamlTitle(name string) string {
	plain := name != "" && name[len(name)-1] != ' ' && !yamlWords[strings.ToLower(name)]
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			i > 0 && (r >= '0' && r <= '9' || r == ' ' || r == '.' || r == '-' || r == '_')
		plain = plain && ok
	}
	if plain {
		return name
	}
	q, _ := json.Marshal(name) // a string always marshals
	return string(q)
}

// yamlWords are the plain words YAML 1.1 or 1.2 reads as null, a boolean
// or a special number, not as text.
var yamlWords = map[string]bool{
	"null": true, "true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"y": true, "n": true, ".inf": true, ".nan": true,
}

// mermaidLabel writes the characters Mermaid reads in a quoted label as
// entity codes ("#" first: Mermaid decodes every #…; in a label).
var mermaidLabel = strings.NewReplacer("#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "`", "#96;", "&", "#38;", `\`, "#92;", "%", "#37;", ":", "#58;",
	"\n", "<br>", "\u2028", "<br>", "\u2029", "<br>")

// mermaidText returns s for a quoted Mermaid label: the characters
// Mermaid reads written as entity codes and a line break (\n, U+2028,
// U+2029: JavaScript, which Mermaid is, ends a line at each) as <br>
// (mermaidLabel), other control characters left out (a node is one line),
// and invalid UTF-8 as U+FFFD.
func mermaidText(s string) string {
	s = mermaidLabel.Replace(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// dotQuote returns s as a DOT quoted string: a backslash and a double quote
// escaped, "&" written &amp; (Graphviz decodes HTML entities in a label:
// a name &lt; would be shown <), a line break written \n, other control
// characters left out, and invalid UTF-8 as U+FFFD, so that Graphviz
// shows s as it is.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '&':
			b.WriteString("&amp;")
		case r == '\n':
			b.WriteString(`\n`)
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// graphOf returns m's stage graph and name, or the empty graph when Stages
// returns nil (a plugin's mistake, which the diagrams draw as no stages),
// and the empty graph and name for a nil m (nil or a typed nil).
func graphOf(m lifecycle.Model) (*stage.Graph, string) {
	if nilness.Is(m) {
		return new(stage.Graph), ""
	}
	if g := m.Stages(); g != nil {
		return g, m.Name()
	}
	return new(stage.Graph), m.Name()
}

// DOT returns a Graphviz DOT digraph of m's stage graph, named m.Name(),
// left to right: one node per stage (its ID, labelled with its name, or
// its ID when it has none; a rounded box for a path stage, dashed for a
// decline, double-bordered for an exit, a hexagon for a win-back) and one
// edge per graph edge, in the graph's order, labelled with its kind: solid
// for advance and recover, dashed for regress and fall, bold for loop.
// Render it with `dot -Tsvg`. A nil model, or one whose Stages returns
// nil, gets a digraph without nodes (a nil model's named ""); a panic in
// m's Stages or Name reaches the caller, as for [Mermaid]. Every name, ID
// and the title is quoted so that
// Graphviz shows it as written: \ and " escaped, & written &amp;
// (Graphviz decodes HTML entities in a label), a line break as \n, other
// control characters left out, invalid UTF-8 as U+FFFD. (A node's ID and
// the graph's name are not labels to Graphviz, which shows an escaped \
// in them as \\, in an SVG's tooltips and title: the labels, which show
// names, or IDs for stages without one, are exact.)
func DOT(m lifecycle.Model) string {
	g, name := graphOf(m)
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n", dotQuote(name))
	for _, s := range g.Stages() {
		attrs := ""
		switch s.Kind {
		case stage.Decline:
			attrs = `, style="rounded,dashed"`
		case stage.Exit:
			attrs = ", peripheries=2"
		case stage.WinBack:
			attrs = ", shape=hexagon, style=solid"
		}
		fmt.Fprintf(&b, "    %s [label=%s%s];\n", dotQuote(string(s.ID)), dotQuote(label(s)), attrs)
	}
	for _, e := range g.Edges() {
		style := "solid"
		switch e.Kind {
		case stage.Regress, stage.Fall:
			style = "dashed"
		case stage.Loop:
			style = "bold"
		}
		fmt.Fprintf(&b, "    %s -> %s [label=%s, style=%s];\n", dotQuote(string(e.From)), dotQuote(string(e.To)), dotQuote(e.Kind.String()), style)
	}
	b.WriteString("}\n")
	return b.String()
}

func label(s stage.Stage) string {
	if s.Name != "" {
		return s.Name
	}
	return string(s.ID)
}

// mermaidID turns a stage ID into a Mermaid node ID: letters, digits and
// underscores, prefixed so that it never clashes with a keyword ("end").
func mermaidID(id stage.ID) string {
	var b strings.Builder
	b.WriteString("s_")
	for _, r := range string(id) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%x_", r)
		}
	}
	return b.String()
}
