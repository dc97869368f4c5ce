package stage_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/stage"
)

func stages(ids ...stage.ID) []stage.Stage {
	out := make([]stage.Stage, len(ids))
	for i, id := range ids {
		out[i] = stage.Stage{ID: id, Name: strings.ToUpper(string(id))}
	}
	return out
}

func TestNewInvalid(t *testing.T) {
	abc := stages("a", "b", "c")
	tests := []struct {
		name   string
		stages []stage.Stage
		edges  []stage.Edge
		want   []string // substrings, one per expected problem
	}{
		{"empty", nil, nil, []string{"no stages"}},
		{"empty ID", stages("a", ""), nil, []string{"stage 1 has an empty ID"}},
		{"spaces in ID", stages("a", " b"), stage.Forward("a", " b"), []string{`stage ID " b" has surrounding spaces`}},
		{"duplicate ID", stages("a", "b", "a"), stage.Forward("a", "b"), []string{`duplicate stage ID "a" (positions 0 and 2)`}},
		{"ID not UTF-8", stages("a", "b\xff"), stage.Forward("a", "b\xff"), []string{`stage ID "b\xff" is not valid UTF-8`}},
		{"ID with a control character", stages("a", "b\nc"), stage.Forward("a", "b\nc"), []string{`stage ID "b\nc" holds U+000A`}},
		{"ID with a format character", stages("a", "b\u200bc"), stage.Forward("a", "b\u200bc"), []string{`holds U+200B`}},
		{"too many stages", stages(manyIDs(stage.MaxStages + 1)...), nil, []string{"1001 stages, more than MaxStages (1000)"}},
		{"ID too long", stages("a", stage.ID(strings.Repeat("x", stage.MaxIDLen+1))), stage.Forward("a", stage.ID(strings.Repeat("x", stage.MaxIDLen+1))), []string{"is longer than 256 bytes"}},
		{"edge to unknown stage", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "c", To: "x", Kind: stage.Regress}), []string{`edge c→x: unknown stage "x"`}},
		{"edge from unknown stage", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "y", To: "a", Kind: stage.Loop}), []string{`edge y→a: unknown stage "y"`}},
		{"unreachable stage", abc, stage.Forward("a", "b"), []string{`stage "c" cannot be reached from the start stage "a"`}},
		{"self-edge", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "b", To: "b", Kind: stage.Advance}), []string{"edge b→b: a stage cannot move to itself"}},
		{"advance backwards", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "c", To: "a", Kind: stage.Advance}), []string{"edge c→a: an advance must go to a later stage"}},
		{"regress forwards", abc, append(stage.Forward("a", "b"), stage.Edge{From: "b", To: "c", Kind: stage.Regress}), []string{"edge b→c: a regression must go to an earlier stage", `stage "c" cannot be reached`}},
		{"loop forwards", abc, append(stage.Forward("a", "b"), stage.Edge{From: "a", To: "c", Kind: stage.Loop}), []string{"edge a→c: a loop must go back to an earlier stage", `stage "c" cannot be reached`}},
		{"unknown kind", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "c", To: "b", Kind: 9}), []string{"edge c→b: unknown edge kind 9"}},
		{"zero kind", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "c", To: "b"}), []string{"edge c→b: unknown edge kind 0"}},
		{"duplicate edge", abc, append(stage.Forward("a", "b", "c"), stage.Edge{From: "a", To: "b", Kind: stage.Advance}), []string{"duplicate edge a→b"}},
		{"several problems at once", stages("a", "a", "b"), []stage.Edge{{From: "a", To: "z", Kind: stage.Advance}, {From: "b", To: "b", Kind: stage.Loop}},
			[]string{`duplicate stage ID "a"`, `unknown stage "z"`, "cannot move to itself", `stage "b" cannot be reached`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := stage.New(tc.stages, tc.edges)
			require.Error(t, err)
			require.Nil(t, g)
			if !errors.Is(err, stage.ErrInvalidGraph) {
				t.Fatalf("error %v does not wrap ErrInvalidGraph", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "stage: invalid graph"); n != len(tc.want) {
				t.Errorf("error reports %d problems, want %d: %v", n, len(tc.want), err)
			}
			require.Panics(t, func() { stage.MustNew(tc.stages, tc.edges) })
		})
	}
}

func TestGraph(t *testing.T) {
	st := stages("engage", "buy", "advocate")
	edges := append(stage.Forward("engage", "buy", "advocate"),
		stage.Edge{From: "advocate", To: "buy", Kind: stage.Regress},
		stage.Edge{From: "advocate", To: "engage", Kind: stage.Loop})
	g, err := stage.New(st, edges)
	require.NoError(t, err)
	st[0].Name = "changed" // New copied its input
	if diff := cmp.Diff(stages("engage", "buy", "advocate"), g.Stages()); diff != "" {
		t.Errorf("Stages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(edges, g.Edges()); diff != "" {
		t.Errorf("Edges (-want +got):\n%s", diff)
	}
	require.Equal(t, []stage.ID{"engage", "buy", "advocate"}, g.IDs())
	require.Equal(t, stage.ID("engage"), g.Start())
	require.Equal(t, 3, g.Len())
	require.Equal(t, 1, g.Index("buy"))
	require.Equal(t, -1, g.Index("nope"))
	require.True(t, g.Has("advocate"))
	require.False(t, g.Has("nope"))
	s, ok := g.Lookup("buy")
	require.True(t, ok)
	require.Equal(t, "BUY", s.Name)
	_, ok = g.Lookup("nope")
	require.False(t, ok)

	allows := []struct {
		from, to stage.ID
		want     bool
	}{
		{"", "engage", true}, {"", "advocate", true}, {"", "nope", false},
		{"engage", "engage", true}, {"engage", "buy", true}, {"engage", "advocate", true},
		{"buy", "engage", false}, {"advocate", "buy", true}, {"advocate", "engage", true},
		{"buy", "nope", false}, {"nope", "buy", false}, {"nope", "nope", false},
	}
	for _, a := range allows {
		if got := g.Allows(a.from, a.to); got != a.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", a.from, a.to, got, a.want)
		}
	}
	var empty stage.Graph
	require.Equal(t, stage.ID(""), empty.Start())
	require.False(t, empty.Allows("", "x"))
}

func TestEdgeKindString(t *testing.T) {
	for k, want := range map[stage.EdgeKind]string{stage.Advance: "advance", stage.Regress: "regress", stage.Loop: "loop", 0: "EdgeKind(0)", 7: "EdgeKind(7)"} {
		require.Equal(t, want, k.String())
	}
}

func TestForward(t *testing.T) {
	want := []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}, {From: "a", To: "c", Kind: stage.Advance}, {From: "b", To: "c", Kind: stage.Advance}}
	if diff := cmp.Diff(want, stage.Forward("a", "b", "c")); diff != "" {
		t.Errorf("Forward (-want +got):\n%s", diff)
	}
	require.Empty(t, stage.Forward("a"))
}

// Stage kinds decide edge kinds: into a decline or exit is a fall, out of
// an off-path stage a recovery, whatever the list order; New refuses an
// edge whose kind contradicts its ends.
func TestKinds(t *testing.T) {
	ss := []stage.Stage{{ID: "prospect"}, {ID: "subscriber"}, {ID: "at-risk", Kind: stage.Decline}, {ID: "churned", Kind: stage.Exit}, {ID: "win-back", Kind: stage.WinBack}, {ID: "advocate"}}
	ok := []stage.Edge{
		{From: "prospect", To: "subscriber", Kind: stage.Advance},
		{From: "subscriber", To: "at-risk", Kind: stage.Fall},
		{From: "at-risk", To: "churned", Kind: stage.Fall},
		{From: "churned", To: "win-back", Kind: stage.Recover},
		{From: "win-back", To: "subscriber", Kind: stage.Recover},
		{From: "at-risk", To: "subscriber", Kind: stage.Recover},
		{From: "subscriber", To: "advocate", Kind: stage.Advance},
		{From: "advocate", To: "churned", Kind: stage.Fall},
		{From: "advocate", To: "prospect", Kind: stage.Loop},
	}
	g, err := stage.New(ss, ok)
	require.NoError(t, err)
	require.Equal(t, []stage.ID{"prospect", "subscriber", "advocate"}, g.Path())
	require.Equal(t, stage.Exit, g.Kind("churned"))
	require.Equal(t, stage.Path, g.Kind("nope"))

	for _, tc := range []struct {
		e    stage.Edge
		want string
	}{
		{stage.Edge{From: "subscriber", To: "at-risk", Kind: stage.Advance}, "edge subscriber→at-risk: an edge into a stage of kind decline is a fall, not advance"},
		{stage.Edge{From: "advocate", To: "at-risk", Kind: stage.Regress}, "an edge into a stage of kind decline is a fall, not regress"},
		{stage.Edge{From: "churned", To: "win-back", Kind: stage.Advance}, "an edge out of a stage of kind exit is a recovery, not advance"},
		{stage.Edge{From: "prospect", To: "advocate", Kind: stage.Fall}, "a fall must go into a decline or exit stage"},
		{stage.Edge{From: "prospect", To: "advocate", Kind: stage.Recover}, "a recovery must come out of a decline, exit or win-back stage"},
		{stage.Edge{From: "prospect", To: "advocate", Kind: 9}, "unknown edge kind 9"},
	} {
		_, err := stage.New(ss, append(slicesClone(ok), tc.e))
		require.ErrorIs(t, err, stage.ErrInvalidGraph)
		require.ErrorContains(t, err, tc.want)
	}
	_, err = stage.New([]stage.Stage{{ID: "a", Kind: 7}}, nil)
	require.ErrorContains(t, err, `stage "a" has an unknown kind 7`)

	for k := stage.Path; k <= stage.WinBack; k++ {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var back stage.Kind
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, k, back)
	}
	require.Equal(t, "Kind(9)", stage.Kind(9).String())
	require.Equal(t, "fall", stage.Fall.String())
	require.Equal(t, "recover", stage.Recover.String())
	require.True(t, stage.WinBack.OffPath())
	require.False(t, stage.Path.OffPath())
}

func slicesClone(es []stage.Edge) []stage.Edge { return append([]stage.Edge(nil), es...) }

// manyIDs returns n distinct stage IDs.
func manyIDs(n int) []stage.ID {
	out := make([]stage.ID, n)
	for i := range out {
		out[i] = stage.ID("s" + strconv.Itoa(i))
	}
	return out
}
