package funnel_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/stage"
)

// subscription is a lifecycle that is not a funnel: its path is prospect →
// subscriber → advocate, with at-risk (a decline), churned (an exit) and
// win-back placed between subscriber and advocate in the list.
func subscription(t *testing.T) *stage.Graph {
	t.Helper()
	g, err := stage.New([]stage.Stage{
		{ID: "prospect"}, {ID: "subscriber"},
		{ID: "at-risk", Kind: stage.Decline}, {ID: "churned", Kind: stage.Exit}, {ID: "win-back", Kind: stage.WinBack},
		{ID: "advocate"},
	}, []stage.Edge{
		{From: "prospect", To: "subscriber", Kind: stage.Advance},
		{From: "subscriber", To: "at-risk", Kind: stage.Fall},
		{From: "subscriber", To: "advocate", Kind: stage.Advance},
		{From: "at-risk", To: "subscriber", Kind: stage.Recover},
		{From: "at-risk", To: "churned", Kind: stage.Fall},
		{From: "churned", To: "win-back", Kind: stage.Recover},
		{From: "win-back", To: "subscriber", Kind: stage.Recover},
	})
	require.NoError(t, err)
	return g
}

// The funnel follows the path stages: half the subscribers falling to
// at-risk does not make them reach anything, and conversion from
// subscriber counts only those who became advocates. (By list position,
// the old funnel counted every at-risk customer as converting from
// subscriber, 3 of 4 here, and every churned one as having reached
// at-risk.)
func TestFunnelKinds(t *testing.T) {
	g := subscription(t)
	cs := []*lifecycle.Customer{
		hand("A", 30, stage.ID("prospect"), 0),
		hand("B", 30, stage.ID("prospect"), 0, stage.ID("subscriber"), 1, stage.ID("at-risk"), 10),
		hand("C", 30, stage.ID("prospect"), 0, stage.ID("subscriber"), 1, stage.ID("at-risk"), 10, stage.ID("churned"), 20),
		hand("D", 30, stage.ID("prospect"), 0, stage.ID("subscriber"), 2, stage.ID("advocate"), 5),
		hand("E", 30, stage.ID("prospect"), 0, stage.ID("subscriber"), 1, stage.ID("at-risk"), 10, stage.ID("subscriber"), 12),
		hand("F", 30, stage.ID("subscriber"), 0, stage.ID("at-risk"), 3, stage.ID("churned"), 6, stage.ID("win-back"), 9, stage.ID("subscriber"), 11),
	}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs))
	require.NoError(t, err)
	// current, entered, reached, stopped
	require.Equal(t, [][4]int{
		{1, 5, 6, 1}, // prospect: F skipped it
		{2, 5, 5, 4}, // subscriber: B, C, E and F stop there
		{1, 4, 4, 2}, // at-risk: E and F came back to the path, B and C did not
		{1, 2, 2, 1}, // churned: F came back through win-back
		{0, 1, 1, 0}, // win-back
		{1, 1, 1, 1}, // advocate
	}, counts(rep.Funnel))
	conv := func(id stage.ID) float64 { s, _ := rep.Stage(id); return s.Conversion }
	require.InDelta(t, 5.0/6, conv("prospect"), 1e-12)
	require.InDelta(t, 1.0/5, conv("subscriber"), 1e-12) // to advocate, not to at-risk
	require.InDelta(t, 0.5, conv("at-risk"), 1e-12)      // back on the path
	require.InDelta(t, 0.5, conv("churned"), 1e-12)
	require.InDelta(t, 1.0, conv("win-back"), 1e-12)
	require.InDelta(t, 0.0, conv("advocate"), 1e-12)

	sub, _ := rep.Stage("subscriber")
	require.Equal(t, 1, sub.ToNext.N, "time to the next path stage: D only")
	require.Equal(t, 3*d, sub.ToNext.Median)
	risk, _ := rep.Stage("at-risk")
	require.Equal(t, stage.Decline, risk.Kind)
	require.Zero(t, risk.ToNext.N, "an off-path stage has no next stage")
	require.Equal(t, 4, risk.FromStart.N)

	tab := rep.Funnel.Table()
	require.Equal(t, "kind", tab.Header[1])
	require.Equal(t, []string{"at-risk", "decline"}, tab.Rows[2][:2])

	b, err := json.Marshal(risk)
	require.NoError(t, err)
	require.True(t, strings.Contains(string(b), `"kind":"decline"`), string(b))
	b, err = json.Marshal(sub)
	require.NoError(t, err)
	require.False(t, strings.Contains(string(b), `"kind"`), string(b))
}
