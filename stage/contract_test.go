package stage_test

// Tests of package stage, written from its docs only.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clmkit/clm/stage"
)

func zrs(ids ...stage.ID) []stage.Stage {
	out := make([]stage.Stage, len(ids))
	for i, id := range ids {
		out[i] = stage.Stage{ID: id}
	}
	return out
}

func zrChain(ids ...stage.ID) []stage.Edge {
	var es []stage.Edge
	for i := 1; i < len(ids); i++ {
		es = append(es, stage.Edge{From: ids[i-1], To: ids[i], Kind: stage.Advance})
	}
	return es
}

func zrNew(t *testing.T, stages []stage.Stage, edges []stage.Edge) (*stage.Graph, error) {
	t.Helper()
	var g *stage.Graph
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("New panicked: %v", r)
			}
		}()
		g, err = stage.New(stages, edges)
	}()
	return g, err
}

func TestContractNewRejects(t *testing.T) {
	long := stage.ID(strings.Repeat("x", stage.MaxIDLen+1))
	manyStages := make([]stage.Stage, stage.MaxStages+1)
	for i := range manyStages {
		manyStages[i] = stage.Stage{ID: stage.ID(fmt.Sprintf("s%d", i))}
	}
	manyEdges := make([]stage.Edge, stage.MaxStages)
	for i := range manyEdges {
		manyEdges[i] = stage.Edge{From: manyStages[i].ID, To: manyStages[i+1].ID, Kind: stage.Advance}
	}
	cases := []struct {
		name   string
		stages []stage.Stage
		edges  []stage.Edge
		want   string // substring: the field or value at fault
	}{
		{"no stages", nil, nil, ""},
		{"too many stages", manyStages, manyEdges, "1001"},
		{"duplicate ID", zrs("a", "b", "a"), zrChain("a", "b"), `"a"`},
		{"empty ID", zrs("a", ""), nil, ""},
		{"leading space", zrs("a", " b"), []stage.Edge{{From: "a", To: " b", Kind: stage.Advance}}, `" b"`},
		{"trailing newline", zrs("a", "b\n"), []stage.Edge{{From: "a", To: "b\n", Kind: stage.Advance}}, `b\n`},
		{"trailing NBSP", zrs("a", "b\u00a0"), []stage.Edge{{From: "a", To: "b\u00a0", Kind: stage.Advance}}, "b"},
		{"too long", zrs("a", long), []stage.Edge{{From: "a", To: long, Kind: stage.Advance}}, "256"},
		{"invalid UTF-8", zrs("a", "b\xff"), []stage.Edge{{From: "a", To: "b\xff", Kind: stage.Advance}}, ""},
		{"NUL", zrs("a", "b\x00c"), []stage.Edge{{From: "a", To: "b\x00c", Kind: stage.Advance}}, ""},
		{"tab inside (Cc)", zrs("a", "b\tc"), []stage.Edge{{From: "a", To: "b\tc", Kind: stage.Advance}}, ""},
		{"ZWSP inside (Cf)", zrs("a", "b\u200bc"), []stage.Edge{{From: "a", To: "b\u200bc", Kind: stage.Advance}}, "U+200B"},
		{"BOM (Cf)", zrs("a", "\ufeffb"), []stage.Edge{{From: "a", To: "\ufeffb", Kind: stage.Advance}}, "U+FEFF"},
		{"soft hyphen (Cf)", zrs("a", "b\u00adc"), []stage.Edge{{From: "a", To: "b\u00adc", Kind: stage.Advance}}, "U+00AD"},
		{"LS (Zl)", zrs("a", "b\u2028c"), []stage.Edge{{From: "a", To: "b\u2028c", Kind: stage.Advance}}, "U+2028"},
		{"PS (Zp)", zrs("a", "b\u2029c"), []stage.Edge{{From: "a", To: "b\u2029c", Kind: stage.Advance}}, "U+2029"},
		{"unknown stage kind", []stage.Stage{{ID: "a"}, {ID: "b", Kind: stage.Kind(4)}}, zrChain("a", "b"), `"b"`},
		{"unknown stage kind 255", []stage.Stage{{ID: "a"}, {ID: "b", Kind: stage.Kind(255)}}, zrChain("a", "b"), `"b"`},
		{"edge to unknown", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "a", To: "zz", Kind: stage.Advance}), "zz"},
		{"edge from unknown", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "zz", To: "a", Kind: stage.Regress}), "zz"},
		{"edge from empty", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "", To: "b", Kind: stage.Advance}), ""},
		{"self edge", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "b", To: "b", Kind: stage.Advance}), "b"},
		{"duplicate edge", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "a", To: "b", Kind: stage.Advance}), "a"},
		{"duplicate edge other kind", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "b", To: "a", Kind: stage.Regress}, stage.Edge{From: "b", To: "a", Kind: stage.Loop}), "b"},
		{"zero edge kind", zrs("a", "b"), []stage.Edge{{From: "a", To: "b"}}, ""},
		{"unknown edge kind", zrs("a", "b"), []stage.Edge{{From: "a", To: "b", Kind: stage.EdgeKind(6)}}, ""},
		{"advance backwards", zrs("a", "b"), append(zrChain("a", "b"), stage.Edge{From: "b", To: "a", Kind: stage.Advance}), ""},
		{"regress forwards", zrs("a", "b"), []stage.Edge{{From: "a", To: "b", Kind: stage.Regress}}, ""},
		{"loop forwards", zrs("a", "b"), []stage.Edge{{From: "a", To: "b", Kind: stage.Loop}}, ""},
		{"fall into path", zrs("a", "b"), []stage.Edge{{From: "a", To: "b", Kind: stage.Fall}}, ""},
		{"advance into decline", []stage.Stage{{ID: "a"}, {ID: "d", Kind: stage.Decline}}, []stage.Edge{{From: "a", To: "d", Kind: stage.Advance}}, ""},
		{"advance out of exit", []stage.Stage{{ID: "a"}, {ID: "x", Kind: stage.Exit}, {ID: "b"}}, []stage.Edge{{From: "a", To: "x", Kind: stage.Fall}, {From: "x", To: "b", Kind: stage.Advance}}, ""},
		{"regress out of decline", []stage.Stage{{ID: "a"}, {ID: "d", Kind: stage.Decline}}, []stage.Edge{{From: "a", To: "d", Kind: stage.Fall}, {From: "d", To: "a", Kind: stage.Regress}}, ""},
		{"recover into exit", []stage.Stage{{ID: "a"}, {ID: "w", Kind: stage.WinBack}, {ID: "x", Kind: stage.Exit}}, []stage.Edge{{From: "a", To: "w", Kind: stage.Advance}, {From: "w", To: "x", Kind: stage.Recover}}, ""},
		{"unreachable", zrs("a", "b", "c"), zrChain("a", "b"), `"c"`},
		{"unreachable cycle", zrs("a", "b", "c"), []stage.Edge{{From: "b", To: "c", Kind: stage.Advance}, {From: "c", To: "b", Kind: stage.Regress}}, `"b"`},
	}
	for _, c := range cases {
		g, err := zrNew(t, c.stages, c.edges)
		if err == nil {
			t.Errorf("%s: New = %v, nil; want an error", c.name, g.IDs())
			continue
		}
		if g != nil {
			t.Errorf("%s: New returned a graph with an error", c.name)
		}
		if !errors.Is(err, stage.ErrInvalidGraph) {
			t.Errorf("%s: %v does not wrap ErrInvalidGraph", c.name, err)
		}
		if c.want != "" && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q does not name %q", c.name, err, c.want)
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if !errors.Is(e, stage.ErrInvalidGraph) {
					t.Errorf("%s: joined %v does not wrap ErrInvalidGraph", c.name, e)
				}
			}
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: MustNew did not panic", c.name)
				}
			}()
			stage.MustNew(c.stages, c.edges)
		}()
	}
}

// Reports every problem: three problems, three joined errors.
func TestContractNewReportsEveryProblem(t *testing.T) {
	_, err := stage.New(zrs("a", "a", " b", "c"), []stage.Edge{{From: "a", To: "zz", Kind: stage.Advance}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{`"a"`, `" b"`, "zz"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not mention %s", err, w)
		}
	}
	// With well-formed IDs, reachability is checked alongside edge problems.
	_, err = stage.New(zrs("a", "b", "c"), []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "b", Kind: stage.Advance}, {From: "a", To: "zz", Kind: stage.Advance}})
	for _, w := range []string{"b→b", "zz", `"c"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%v does not mention %s", err, w)
		}
	}
}

func TestContractNewAccepts(t *testing.T) {
	maxStages := make([]stage.Stage, stage.MaxStages)
	for i := range maxStages {
		maxStages[i] = stage.Stage{ID: stage.ID(fmt.Sprintf("s%d", i))}
	}
	maxEdges := make([]stage.Edge, stage.MaxStages-1)
	for i := range maxEdges {
		maxEdges[i] = stage.Edge{From: maxStages[i].ID, To: maxStages[i+1].ID, Kind: stage.Advance}
	}
	id256 := stage.ID(strings.Repeat("é", 128)) // 256 bytes
	for _, c := range []struct {
		name   string
		stages []stage.Stage
		edges  []stage.Edge
	}{
		{"one stage", zrs("a"), nil},
		{"MaxStages", maxStages, maxEdges},
		{"ID of MaxIDLen bytes", zrs("a", id256), []stage.Edge{{From: "a", To: id256, Kind: stage.Advance}}},
		{"space inside (Zs, not listed)", zrs("a", "b c"), []stage.Edge{{From: "a", To: "b c", Kind: stage.Advance}}},
		{"non-ASCII", zrs("a", "größe"), []stage.Edge{{From: "a", To: "größe", Kind: stage.Advance}}},
		{"loop back", zrs("a", "b"), []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "a", Kind: stage.Loop}}},
		{"regress back", zrs("a", "b"), []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "a", Kind: stage.Regress}}},
		{"fall backwards into decline", []stage.Stage{{ID: "d", Kind: stage.Decline}, {ID: "a"}}, []stage.Edge{{From: "d", To: "a", Kind: stage.Recover}, {From: "a", To: "d", Kind: stage.Fall}}},
		{"decline → exit is a fall", []stage.Stage{{ID: "a"}, {ID: "d", Kind: stage.Decline}, {ID: "x", Kind: stage.Exit}}, []stage.Edge{{From: "a", To: "d", Kind: stage.Fall}, {From: "d", To: "x", Kind: stage.Fall}}},
		{"exit → win-back is a recovery", []stage.Stage{{ID: "a"}, {ID: "x", Kind: stage.Exit}, {ID: "w", Kind: stage.WinBack}}, []stage.Edge{{From: "a", To: "x", Kind: stage.Fall}, {From: "x", To: "w", Kind: stage.Recover}}},
		{"win-back → decline is a fall", []stage.Stage{{ID: "a"}, {ID: "w", Kind: stage.WinBack}, {ID: "d", Kind: stage.Decline}}, []stage.Edge{{From: "a", To: "w", Kind: stage.Advance}, {From: "w", To: "d", Kind: stage.Fall}}},
		{"path → earlier win-back is a regress", []stage.Stage{{ID: "a"}, {ID: "w", Kind: stage.WinBack}, {ID: "b"}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "w", Kind: stage.Regress}}},
		{"win-back → later path is a recovery", []stage.Stage{{ID: "a"}, {ID: "w", Kind: stage.WinBack}, {ID: "b"}}, []stage.Edge{{From: "a", To: "w", Kind: stage.Advance}, {From: "w", To: "b", Kind: stage.Recover}}},
		{"start stage is a decline", []stage.Stage{{ID: "d", Kind: stage.Decline}}, nil},
	} {
		if _, err := zrNew(t, c.stages, c.edges); err != nil {
			t.Errorf("%s: New = %v", c.name, err)
		}
	}
}

func TestContractKindOf(t *testing.T) {
	P, D, X, W := stage.Stage{Kind: stage.Path}, stage.Stage{Kind: stage.Decline}, stage.Stage{Kind: stage.Exit}, stage.Stage{Kind: stage.WinBack}
	for _, c := range []struct {
		from, to stage.Stage
		later    bool
		want     stage.EdgeKind
	}{
		{P, P, true, stage.Advance}, {P, P, false, stage.Regress},
		{P, D, true, stage.Fall}, {P, D, false, stage.Fall}, {P, X, true, stage.Fall},
		{D, X, true, stage.Fall}, {X, D, false, stage.Fall}, {W, D, true, stage.Fall}, {W, X, false, stage.Fall},
		{D, P, true, stage.Recover}, {D, P, false, stage.Recover}, {X, P, true, stage.Recover},
		{X, W, true, stage.Recover}, {W, P, false, stage.Recover}, {W, W, true, stage.Recover},
		{P, W, true, stage.Advance}, {P, W, false, stage.Regress},
	} {
		if got := stage.KindOf(c.from, c.to, c.later); got != c.want {
			t.Errorf("KindOf(%v, %v, %v) = %v, want %v", c.from.Kind, c.to.Kind, c.later, got, c.want)
		}
	}
}

func TestContractGraphAccessors(t *testing.T) {
	g, err := stage.New([]stage.Stage{{ID: "a"}, {ID: "d", Kind: stage.Decline}, {ID: "b"}},
		[]stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "d", Kind: stage.Fall}, {From: "d", To: "b", Kind: stage.Recover}})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Allows("a", "a") || !g.Allows("a", "b") || g.Allows("b", "a") || g.Allows("a", "d") {
		t.Error("Allows")
	}
	if g.Allows("zz", "zz") || g.Allows("", "zz") || g.Allows("a", "zz") {
		t.Error("Allows to an undeclared stage")
	}
	if !g.Allows("", "d") || !g.Allows("", "a") {
		t.Error("entering the graph is allowed into any declared stage")
	}
	if g.Index("zz") != -1 || g.Index("b") != 2 || g.Start() != "a" || g.Len() != 3 {
		t.Error("Index/Start/Len")
	}
	if g.Kind("zz") != stage.Path || g.Kind("d") != stage.Decline {
		t.Error("Kind")
	}
	if got := g.Path(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Path = %v", got)
	}
	// Immutability: modifying returned slices leaves the graph unchanged.
	g.Stages()[0].ID = "mut"
	g.IDs()[0] = "mut"
	g.Path()[0] = "mut"
	if es := g.Edges(); len(es) > 0 {
		es[0].To = "mut"
	}
	if g.Start() != "a" || g.IDs()[0] != "a" || g.Path()[0] != "a" || g.Edges()[0].To != "b" || !g.Has("a") || g.Has("mut") {
		t.Error("a returned slice aliases the graph")
	}
	// New copies its inputs.
	st := zrs("a", "b")
	es := zrChain("a", "b")
	g2, _ := stage.New(st, es)
	st[0].ID, es[0].To = "mut", "mut"
	if g2.Start() != "a" || g2.Edges()[0].To != "b" {
		t.Error("New keeps the caller's slices")
	}
	// The zero Graph.
	var z stage.Graph
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("zero Graph panicked: %v", r)
			}
		}()
		if z.Len() != 0 || z.Start() != "" || z.Has("a") || z.Index("a") != -1 || z.Allows("", "a") || z.Allows("a", "a") ||
			len(z.IDs()) != 0 || len(z.Edges()) != 0 || len(z.Path()) != 0 || len(z.Stages()) != 0 || z.Kind("a") != stage.Path {
			t.Error("zero Graph is not empty")
		}
		if _, ok := z.Lookup("a"); ok {
			t.Error("zero Graph Lookup ok")
		}
	}()
}

func TestContractForward(t *testing.T) {
	es := stage.Forward("a", "b", "c", "d")
	if len(es) != 6 {
		t.Fatalf("Forward of 4 gave %d edges", len(es))
	}
	for _, e := range es {
		if e.Kind != stage.Advance || e.From >= e.To {
			t.Errorf("edge %v", e)
		}
	}
	if len(stage.Forward()) != 0 || len(stage.Forward("a")) != 0 {
		t.Error("Forward of 0 or 1 stage gave edges")
	}
}

func TestContractKindText(t *testing.T) {
	for k, s := range map[stage.Kind]string{stage.Path: "path", stage.Decline: "decline", stage.Exit: "exit", stage.WinBack: "win-back", stage.Kind(7): "Kind(7)"} {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
	for k, s := range map[stage.EdgeKind]string{stage.Advance: "advance", stage.Regress: "regress", stage.Loop: "loop", stage.Fall: "fall", stage.Recover: "recover", 0: "EdgeKind(0)", 9: "EdgeKind(9)"} {
		if k.String() != s {
			t.Errorf("EdgeKind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
	for _, k := range []stage.Kind{stage.Path, stage.Decline, stage.Exit, stage.WinBack} {
		b, err := json.Marshal(stage.Stage{ID: "a", Kind: k})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"`+k.String()+`"`) {
			t.Errorf("JSON of kind %v: %s", k, b)
		}
		var back stage.Stage
		if err := json.Unmarshal(b, &back); err != nil || back.Kind != k {
			t.Errorf("round trip of %v: %v, %v", k, back.Kind, err)
		}
	}
	var k stage.Kind
	for _, bad := range []string{"bogus", "", "Path", "Kind(9)", "4"} {
		if err := k.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = nil error, kind %v", bad, k)
		}
	}
	if !stage.Decline.OffPath() || !stage.Exit.OffPath() || !stage.WinBack.OffPath() || stage.Path.OffPath() {
		t.Error("OffPath")
	}
}
