package model_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

func TestDiagrams(t *testing.T) {
	m, err := model.NewBuilder("tiny").
		Start(stage.Stage{ID: "end", Name: `The "end"`}).
		Stage(stage.Stage{ID: "b-2"}, model.Orders(1)).
		Build()
	require.NoError(t, err)
	wantMermaid := "---\ntitle: tiny\n---\nflowchart LR\n" +
		"    s_end[\"The #quot;end#quot;\"]\n" +
		"    s_b_2d_2[\"b-2\"]\n" +
		"    s_end -->|advance| s_b_2d_2\n" +
		"    s_b_2d_2 -.->|regress| s_end\n"
	if diff := cmp.Diff(wantMermaid, model.Mermaid(m)); diff != "" {
		t.Errorf("Mermaid (-want +got):\n%s", diff)
	}
	wantDOT := "digraph \"tiny\" {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n" +
		"    \"end\" [label=\"The \\\"end\\\"\"];\n" +
		"    \"b-2\" [label=\"b-2\"];\n" +
		"    \"end\" -> \"b-2\" [label=\"advance\", style=solid];\n" +
		"    \"b-2\" -> \"end\" [label=\"regress\", style=dashed];\n}\n"
	if diff := cmp.Diff(wantDOT, model.DOT(m)); diff != "" {
		t.Errorf("DOT (-want +got):\n%s", diff)
	}
}

func TestBuiltinDiagramsHaveEveryEdge(t *testing.T) {
	for _, name := range model.Names() {
		m, err := model.Lookup(name)
		require.NoError(t, err)
		mer, dot := model.Mermaid(m), model.DOT(m)
		for _, e := range m.Stages().Edges() {
			if !strings.Contains(dot, `"`+string(e.From)+`" -> "`+string(e.To)+`" [label="`+e.Kind.String()+`"`) {
				t.Errorf("%s: DOT lacks edge %v", name, e)
			}
			if !strings.Contains(mer, "|"+e.Kind.String()+"| s_"+string(e.To)+"\n") {
				t.Errorf("%s: Mermaid lacks edge %v", name, e)
			}
		}
		if got := strings.Count(mer, "|"); got != 2*len(m.Stages().Edges()) {
			t.Errorf("%s: Mermaid has %d edge labels, want %d", name, got/2, len(m.Stages().Edges()))
		}
	}
}

// TestDiagramsHostileNames: a model name and stage names holding what the
// formats read (YAML's ": " and line breaks; Mermaid's #…; entities,
// backticks and HTML; DOT's escapes) stay one title and one label each,
// written so that the renderer shows them as they are.
func TestDiagramsHostileNames(t *testing.T) {
	m, err := model.NewBuilder("shop: main\n---\nflowchart TD\n  evil").
		Start(stage.Stage{ID: "a", Name: "Tier #1; gold"}).
		Stage(stage.Stage{ID: "b", Name: "`tick <b>bold</b> \"q\""}, model.Orders(1)).
		Stage(stage.Stage{ID: "c", Name: "tab\there\u200bzw\\n"}, model.Orders(2)).
		Build()
	require.NoError(t, err)
	mer := model.Mermaid(m)
	lines := strings.Split(mer, "\n")
	require.Equal(t, "---", lines[0])
	require.Equal(t, `title: "shop: main\n---\nflowchart TD\n  evil"`, lines[1], "the title is one JSON string")
	require.Equal(t, "---", lines[2])
	require.Contains(t, mer, `s_a["Tier #35;1; gold"]`)
	require.Contains(t, mer, `s_b["#96;tick #lt;b#gt;bold#lt;/b#gt; #quot;q#quot;"]`)
	dot := model.DOT(m)
	require.Contains(t, dot, `digraph "shop: main\n---\nflowchart TD\n  evil" {`)
	require.Contains(t, dot, `"c" [label="tabhere`+"\u200b"+`zw\\n"]`, "control characters left out, other characters as they are, a backslash escaped")
	require.NotContains(t, dot, `\u200b`)
}

// TestMermaidPercentAndLineSeparators: %% (a comment or a directive to
// Mermaid, also after U+2028 or U+2029, where JavaScript starts a line)
// is written as entity codes, the separators as <br>, and a name of
// control characters only falls back to the ID, so the label is never
// empty (Mermaid refuses [""]).
func TestMermaidPercentAndLineSeparators(t *testing.T) {
	m, err := model.NewBuilder("x").
		Start(stage.Stage{ID: "a", Name: "x\u2029%% y"}).
		Stage(stage.Stage{ID: "b", Name: "a %%{init: {'flowchart': {'htmlLabels': false}}}%% b"}, model.Orders(1)).
		Stage(stage.Stage{ID: "c", Name: "\t\x00"}, model.Orders(2)).
		Stage(stage.Stage{ID: "d", Name: "line\u2028two"}, model.Orders(3)).
		Build()
	require.NoError(t, err)
	mer := model.Mermaid(m)
	require.Contains(t, mer, `s_a["x<br>#37;#37; y"]`)
	require.Contains(t, mer, `s_b["a #37;#37;{init#58; {'flowchart'#58; {'htmlLabels'#58; false}}}#37;#37; b"]`)
	require.Contains(t, mer, `s_c["c"]`)
	require.Contains(t, mer, `s_d["line<br>two"]`)
	require.NotContains(t, mer, "%")
	require.NotContains(t, mer, "\u2028")
	require.NotContains(t, mer, "\u2029")
}

// TestDiagramsNilModel: a nil model, or a typed nil, is drawn as no
// stages, with an empty title (it panicked).
func TestDiagramsNilModel(t *testing.T) {
	for _, m := range []lifecycle.Model{nil, (*model.Custom)(nil)} {
		require.Equal(t, "---\ntitle: \"\"\n---\nflowchart LR\n", model.Mermaid(m))
		require.Equal(t, "digraph \"\" {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n}\n", model.DOT(m))
	}
}
