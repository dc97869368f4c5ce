package model_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// reviewFacts builds facts from tallies (sorted by type, as Facts keeps them).
func reviewFacts(ts ...lifecycle.Tally) *lifecycle.Facts {
	f := &lifecycle.Facts{}
	for _, t := range ts {
		f.Tallies = append(f.Tallies, t)
		if f.First.IsZero() || t.First.Before(f.First) {
			f.First = t.First
		}
		if t.Last.After(f.Last) {
			f.Last = t.Last
		}
	}
	slices.SortFunc(f.Tallies, func(a, b lifecycle.Tally) int { return strings.Compare(string(a.Type), string(b.Type)) })
	return f
}

func reviewTally(typ lifecycle.EventType, n int64, first, last time.Time) lifecycle.Tally {
	return lifecycle.Tally{Type: typ, Count: n, First: first, Last: last}
}

// Rule.String: "Two rules with the same description are the same rule."
// Func doc: only Func rules with the same name are taken to be the same.
func TestFuncNamesDoNotCollideInDescription(t *testing.T) {
	yes := func(*lifecycle.Facts, time.Time) bool { return true }
	no := func(*lifecycle.Facts, time.Time) bool { return false }
	r1 := model.Any(model.Func("a), func(b", no))
	r2 := model.Any(model.Func("a", no), model.Func("b", yes))
	f := reviewFacts()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if r1.String() == r2.String() && r1.Holds(f, now) != r2.Holds(f, now) {
		t.Errorf("two rules with the same description %q hold differently (%v, %v)", r1, r1.Holds(f, now), r2.Holds(f, now))
	}
	_, err := model.NewBuilder("m").Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, r1).Stage(stage.Stage{ID: "c"}, r2).Build()
	if err != nil {
		t.Errorf("Build refuses two different rules: %v", err)
	}
}

// TestBuiltinsReadFarPastPurchases: events dated at or before January 1,
// year 1 are read as any others (the zero time meant "none").
func TestBuiltinsReadFarPastPurchases(t *testing.T) {
	y0 := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	// One order in year -1; now is a year later: last purchase more than
	// 180 days before now, so lapsed (acquisition).
	lapsed := reviewFacts(reviewTally(lifecycle.OrderCompleted, 1, y0.AddDate(-1, 0, 0), y0.AddDate(-1, 0, 0)))
	if got := model.SterneCutler().Stage(lapsed, y0); got != model.Acquisition {
		t.Errorf("order in year -1, now year 0: %q, want acquisition (lapsed)", got)
	}
	// An order and a subscription start in year 0, no cancellation; now a
	// day later: active (conversion... retention with 2 purchases).
	active := reviewFacts(reviewTally(lifecycle.OrderCompleted, 1, y0, y0), reviewTally(lifecycle.SubscriptionStarted, 1, y0, y0))
	if got := model.SterneCutler().Stage(active, y0.Add(24*time.Hour)); got != model.Retention {
		t.Errorf("2 purchases in year 0, no cancellation, now a day later: %q, want retention", got)
	}
}

func TestSixStageTicketAtZeroTime(t *testing.T) {
	z := time.Time{}
	// 3 orders a day after the zero time, a ticket opened at the zero
	// time, never resolved: an open ticket (no ticket_resolved at all),
	// so experience, not bonding.
	f := reviewFacts(reviewTally(lifecycle.OrderCompleted, 3, z.Add(24*time.Hour), z.Add(24*time.Hour)), reviewTally(lifecycle.TicketOpened, 1, z, z))
	if got := model.SixStage().Stage(f, z.Add(48*time.Hour)); got != model.SixStageExperience {
		t.Errorf("open ticket at the zero time: %q, want experience", got)
	}
}

// TestAtZeroTime: At(time.Time{}) classifies at the zero time (it was
// ignored).
func TestAtZeroTime(t *testing.T) {
	b := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "c", AsOf: b, Facts: *reviewFacts(reviewTally(lifecycle.OrderCompleted, 1, b, b))}
	rows, err := model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{model.SterneCutler()}, model.At(time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].At.IsZero() {
		t.Errorf("At(time.Time{}): row classified at %s, not at the zero time", rows[0].At)
	}
}

// TestMermaidTitleIsText: a name YAML would read as null, a boolean or a
// number is written as a quoted string in the front matter, so that the
// title is the name's text.
func TestMermaidTitleIsText(t *testing.T) {
	for name, want := range map[string]string{
		"null": `"null"`, "true": `"true"`, "No": `"No"`, "1e3": `"1e3"`, "1.10": `"1.10"`, "0x1F": `"0x1F"`, "~": `"~"`,
		"model-": "model-", "a.b c_d": "a.b c_d", "Shop 2": "Shop 2",
	} {
		m := model.NewBuilder(name).Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Orders(1)).MustBuild()
		if out := model.Mermaid(m); !strings.Contains(out, "---\ntitle: "+want+"\n---\n") {
			t.Errorf("model %q: front matter of %q; want the title %s", name, out, want)
		}
	}
}

// TestMermaidLabelOneLine: a stage name with a line break or another
// control character, or invalid UTF-8, stays one node line: the break as
// <br>, the others left out (found by an audit: a newline broke the node).
func TestMermaidLabelOneLine(t *testing.T) {
	m := model.NewBuilder("m").Start(stage.Stage{ID: "a", Name: "Two\nlines\x01\r\t<b>"}).Stage(stage.Stage{ID: "b", Name: "x\xffy"}, model.Orders(1)).MustBuild()
	out := model.Mermaid(m)
	if !strings.Contains(out, `s_a["Two<br>lines#lt;b#gt;"]`) {
		t.Errorf("stage a's node not one line with <br>:\n%s", out)
	}
	if !strings.Contains(out, "\"x\uFFFDy\"") {
		t.Errorf("stage b's invalid UTF-8 not U+FFFD:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			t.Errorf("a control character in line %q", line)
		}
	}
}

// TestDiagramLabelsEntities: a stage name holding an HTML entity or a
// backslash is shown as written: Mermaid and Graphviz both decode &amp;
// in a label, and Mermaid reads \n as a line break (found by an audit,
// with both renderers).
func TestDiagramLabelsEntities(t *testing.T) {
	m := model.NewBuilder("m").Start(stage.Stage{ID: "a", Name: `R&amp;D &lt;b&gt;`}).Stage(stage.Stage{ID: "b", Name: `C:\new\dir`}, model.Orders(1)).MustBuild()
	mm := model.Mermaid(m)
	for _, want := range []string{`s_a["R#38;amp;D #38;lt;b#38;gt;"]`, `s_b["C#58;#92;new#92;dir"]`} {
		if !strings.Contains(mm, want) {
			t.Errorf("Mermaid lacks %s:\n%s", want, mm)
		}
	}
	dot := model.DOT(m)
	for _, want := range []string{`"R&amp;amp;D &amp;lt;b&amp;gt;"`, `"C:\\new\\dir"`} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot)
		}
	}
}
