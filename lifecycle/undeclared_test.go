package lifecycle_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// churnBox is a subscription model with an exact graph: prospect →
// subscriber → churned, churned → subscriber. It declares no edge
// prospect → churned, and in time order no customer makes that move.
func churnBox(t *testing.T) *model.Custom {
	t.Helper()
	const day = 24 * time.Hour
	renewed := model.Count(lifecycle.SubscriptionRenewed, 1)
	m, err := model.NewBuilder("churn-box").
		Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "subscriber"}, model.Within(35*day, lifecycle.SubscriptionRenewed)).
		Stage(stage.Stage{ID: "churned", Kind: stage.Exit}, model.All(renewed, model.Not(model.Within(35*day, lifecycle.SubscriptionRenewed)))).
		Edges(stage.Edge{From: "prospect", To: "subscriber"}, stage.Edge{From: "subscriber", To: "churned"}, stage.Edge{From: "churned", To: "subscriber"}).
		Build()
	require.NoError(t, err)
	return m
}

// A late event makes a move the graph does not declare: a prospect's
// renewal from three months ago arrives, and the facts put them in
// churned at once. The Tracker stores the move (stages are a pure function
// of the facts) and marks it on the Result and on the hook's Change,
// counts it, and logs it at Warn with WarnUndeclared.
func TestUndeclaredMove(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	for _, warn := range []bool{false, true} {
		var logs bytes.Buffer
		var changes []lifecycle.Change
		opts := []lifecycle.Option{
			lifecycle.WithClock(func() time.Time { return at }),
			lifecycle.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
			lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) { changes = append(changes, ch) }),
		}
		if warn {
			opts = append(opts, lifecycle.WarnUndeclared())
		}
		tr := lifecycle.NewTracker(churnBox(t), store.NewMemory(), opts...)

		res, err := tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: at})
		require.NoError(t, err)
		require.False(t, res.Undeclared, "entering the model is never undeclared")

		late := lifecycle.Event{ID: "r", CustomerID: "c", Type: lifecycle.SubscriptionRenewed, Time: at.AddDate(0, -3, 0), Amount: 900, Currency: "EUR"}
		res, err = tr.Record(ctx, late)
		require.NoError(t, err)
		require.True(t, res.Moved)
		require.Equal(t, stage.ID("prospect"), res.From)
		require.Equal(t, stage.ID("churned"), res.To)
		require.True(t, res.Undeclared, "prospect → churned is not an edge of the graph")
		require.EqualValues(t, 1, tr.Undeclared())

		// A declared move is not marked.
		res, err = tr.Record(ctx, lifecycle.Event{ID: "r2", CustomerID: "c", Type: lifecycle.SubscriptionRenewed, Time: at, Amount: 900, Currency: "EUR"})
		require.NoError(t, err)
		require.True(t, res.Moved)
		require.False(t, res.Undeclared, "churned → subscriber is declared")
		require.EqualValues(t, 1, tr.Undeclared())

		require.Len(t, changes, 3)
		require.False(t, changes[0].Undeclared)
		require.True(t, changes[1].Undeclared)
		require.False(t, changes[2].Undeclared)

		c, err := tr.Customer(ctx, "c")
		require.NoError(t, err)
		require.Len(t, c.History, 3, "the undeclared move is stored like any other")

		logged := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "from=prospect to=churned")
		require.Equal(t, warn, logged, "log: %s", logs.String())
	}
}
