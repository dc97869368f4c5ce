package model_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

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
