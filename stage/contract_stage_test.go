package stage_test

// Review tests written from `go doc ./stage` alone.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clmkit/clm/stage"
)

func rvNew(t *testing.T, st []stage.Stage, ed []stage.Edge) (g *stage.Graph, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("New panicked: %v", r)
		}
	}()
	return stage.New(st, ed)
}

func TestContractGraphIsImmutable(t *testing.T) {
	st := []stage.Stage{{ID: "a"}, {ID: "b"}, {ID: "c", Kind: stage.Decline}}
	ed := []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "c", Kind: stage.Fall}, {From: "c", To: "b", Kind: stage.Recover}}
	g, err := rvNew(t, st, ed)
	if err != nil {
		t.Fatal(err)
	}
	// "Graph is a validated, immutable stage graph."
	st[0].ID, ed[0].To = "zz", "zz"
	if g.Start() != "a" || !g.Allows("a", "b") {
		t.Errorf("changing the slices given to New changed the graph")
	}
	g.Edges()[0].To = "c"
	g.IDs()[0] = "q"
	g.Stages()[0].ID = "q"
	if p := g.Path(); len(p) > 0 {
		p[0] = "q"
	}
	if g.Edges()[0].To != "b" || g.IDs()[0] != "a" || g.Stages()[0].ID != "a" || g.Path()[0] != "a" {
		t.Errorf("changing a returned slice changed the graph: %v %v", g.Edges(), g.IDs())
	}
	// Allows: same stage, entering, undeclared.
	for _, c := range []struct {
		from, to stage.ID
		want     bool
	}{
		{"a", "a", true}, {"", "c", true}, {"", "", false}, {"x", "x", false}, {"a", "x", false},
		{"x", "a", false}, {"a", "c", false}, {"b", "a", false}, {"c", "b", true},
	} {
		if got := g.Allows(c.from, c.to); got != c.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if g.Kind("c") != stage.Decline || g.Kind("nope") != stage.Path || g.Index("nope") != -1 || g.Has("") {
		t.Error("Kind/Index/Has of unknown stages")
	}
	var zero stage.Graph
	if zero.Len() != 0 || zero.Start() != "" || zero.Allows("", "a") || len(zero.Edges()) != 0 || zero.Has("a") {
		t.Error("the zero Graph is not empty")
	}
}

func TestContractGraphChecks(t *testing.T) {
	long := strings.Repeat("x", stage.MaxIDLen+1)
	for _, c := range []struct {
		name string
		st   []stage.Stage
		ed   []stage.Edge
		says string
	}{
		{"no stages", nil, nil, "no stages"},
		{"empty ID", []stage.Stage{{ID: "a"}, {ID: ""}}, nil, "empty"},
		{"spaces", []stage.Stage{{ID: "a "}}, nil, `"a "`},
		{"nbsp", []stage.Stage{{ID: "\u00a0a"}}, nil, "a"},
		{"too long", []stage.Stage{{ID: stage.ID(long)}}, nil, "256"},
		{"bad utf8", []stage.Stage{{ID: "a\xff"}}, nil, "UTF-8"},
		{"control", []stage.Stage{{ID: "a\tb"}}, nil, "U+0009"},
		{"format char", []stage.Stage{{ID: "a\u200bb"}}, nil, "U+200B"},
		{"line sep", []stage.Stage{{ID: "a\u2028b"}}, nil, "U+2028"},
		{"dup", []stage.Stage{{ID: "a"}, {ID: "a"}}, nil, "duplicate"},
		{"kind", []stage.Stage{{ID: "a", Kind: 4}}, nil, "kind"},
		{"unknown from", []stage.Stage{{ID: "a"}}, []stage.Edge{{From: "z", To: "a", Kind: stage.Regress}}, `"z"`},
		{"self", []stage.Stage{{ID: "a"}}, []stage.Edge{{From: "a", To: "a", Kind: stage.Loop}}, "itself"},
		{"zero kind", []stage.Stage{{ID: "a"}, {ID: "b"}}, []stage.Edge{{From: "a", To: "b"}}, "kind"},
		{"dup edge", []stage.Stage{{ID: "a"}, {ID: "b"}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "a", To: "b", Kind: stage.Advance}}, "duplicate"},
		{"dup edge other kind", []stage.Stage{{ID: "a"}, {ID: "b"}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "a", Kind: stage.Regress}, {From: "b", To: "a", Kind: stage.Loop}}, "duplicate"},
		{"advance backwards", []stage.Stage{{ID: "a"}, {ID: "b"}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "b", To: "a", Kind: stage.Advance}}, "b→a"},
		{"fall into path", []stage.Stage{{ID: "a"}, {ID: "b"}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Fall}}, "a→b"},
		{"advance into decline", []stage.Stage{{ID: "a"}, {ID: "b", Kind: stage.Decline}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}}, "a→b"},
		{"regress out of exit", []stage.Stage{{ID: "a"}, {ID: "b", Kind: stage.Exit}}, []stage.Edge{{From: "a", To: "b", Kind: stage.Fall}, {From: "b", To: "a", Kind: stage.Regress}}, "b→a"},
		{"unreachable", []stage.Stage{{ID: "a"}, {ID: "b"}}, nil, `"b"`},
		{"too many", func() []stage.Stage {
			var s []stage.Stage
			for i := 0; i <= stage.MaxStages; i++ {
				s = append(s, stage.Stage{ID: stage.ID(fmt.Sprint(i))})
			}
			return s
		}(), nil, "1001"},
	} {
		_, err := rvNew(t, c.st, c.ed)
		if err == nil || !errors.Is(err, stage.ErrInvalidGraph) {
			t.Errorf("%s: New = %v; want an error wrapping ErrInvalidGraph", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error does not say %q: %v", c.name, c.says, err)
		}
	}
	// Accepted: a loop back, a win-back recovered into, every kind's edges.
	st := []stage.Stage{{ID: "p"}, {ID: "s"}, {ID: "r", Kind: stage.Decline}, {ID: "x", Kind: stage.Exit}, {ID: "w", Kind: stage.WinBack}, {ID: "adv"}}
	ed := []stage.Edge{
		{From: "p", To: "s", Kind: stage.Advance}, {From: "s", To: "r", Kind: stage.Fall}, {From: "r", To: "x", Kind: stage.Fall},
		{From: "x", To: "w", Kind: stage.Recover}, {From: "w", To: "adv", Kind: stage.Recover}, {From: "adv", To: "p", Kind: stage.Loop},
		{From: "p", To: "w", Kind: stage.Advance}, {From: "adv", To: "w", Kind: stage.Regress}, {From: "w", To: "r", Kind: stage.Fall},
	}
	if _, err := rvNew(t, st, ed); err != nil {
		t.Errorf("New refused a well-formed graph: %v", err)
	}
	for _, e := range ed {
		g := stage.MustNew(st, ed)
		a, _ := g.Lookup(e.From)
		b, _ := g.Lookup(e.To)
		want := stage.KindOf(a, b, g.Index(e.To) > g.Index(e.From))
		if e.Kind != want && !(e.Kind == stage.Loop && want == stage.Regress) {
			t.Errorf("edge %v: KindOf = %v", e, want)
		}
	}
}

func TestContractStageKindText(t *testing.T) {
	for k := stage.Path; k <= stage.WinBack; k++ {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back stage.Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("round trip of %v: %v, %v", k, back, err)
		}
	}
	var k stage.Kind
	if err := k.UnmarshalText([]byte("Decline")); err == nil {
		t.Log("UnmarshalText accepts another case")
	}
	if stage.EdgeKind(0).String() != "EdgeKind(0)" || stage.Kind(9).String() != "Kind(9)" {
		t.Error("String of unknown kinds")
	}
	if stage.Path.OffPath() || !stage.Decline.OffPath() || !stage.Exit.OffPath() || !stage.WinBack.OffPath() {
		t.Error("OffPath")
	}
}
