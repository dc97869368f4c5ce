package modeltest_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
)

// subGraph declares no prospect → paid: a prospect who starts a paid
// subscription moves so, undeclared.
var subGraph = func() *stage.Graph {
	ids := []stage.ID{"prospect", "trialing", "buyer", "paid"}
	var st []stage.Stage
	for _, id := range ids {
		st = append(st, stage.Stage{ID: id})
	}
	at := map[stage.ID]int{}
	for i, id := range ids {
		at[id] = i
	}
	var es []stage.Edge
	for _, e := range [][2]stage.ID{{"prospect", "trialing"}, {"prospect", "buyer"}, {"buyer", "prospect"}, {"trialing", "paid"}, {"buyer", "paid"}, {"paid", "trialing"}} {
		es = append(es, stage.Edge{From: e[0], To: e[1], Kind: stage.KindOf(st[at[e[0]]], st[at[e[1]]], at[e[1]] > at[e[0]])})
	}
	return stage.MustNew(st, es)
}()

type subModel struct {
	name   string
	stages func() *stage.Graph
}

func (m subModel) Name() string { return m.name }
func (m subModel) Stages() *stage.Graph {
	if m.stages != nil {
		return m.stages()
	}
	return subGraph
}
func (subModel) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	sub, rev := f.Count(lifecycle.SubscriptionStarted) > 0, f.Revenue("EUR") > 0
	switch {
	case sub && rev:
		return "paid"
	case sub:
		return "trialing"
	case rev:
		return "buyer"
	}
	return "prospect"
}
func (subModel) NextChange(*lifecycle.Facts, time.Time) time.Time { return time.Time{} }

// The random histories put money on subscription starts (and now and then
// on other types), so a move that money on one makes is checked against
// the graph: this model's prospect → paid passed before.
func TestGraphSeesMoneyOnSubscriptions(t *testing.T) {
	err := modeltest.TestModel(subModel{name: "sub"}, modeltest.AllowUnused(subGraph.Edges()...))
	if err == nil || !strings.Contains(err.Error(), "prospect → paid") {
		t.Fatalf("TestModel = %v; want the undeclared move prospect → paid", err)
	}
}

// Declared refuses names model.Register refuses, and a graph that changes
// from one call of Stages to the next.
func TestDeclaredNamesAndStableGraph(t *testing.T) {
	for _, name := range []string{"acme\u200bbox", "acme\nbox", "a\xff"} {
		err := modeltest.TestModel(subModel{name: name}, modeltest.AllowUnused(subGraph.Edges()...))
		if err == nil || !strings.Contains(err.Error(), "model.Register refuses it") {
			t.Errorf("name %q: %v", name, err)
		}
	}
	calls := 0
	other := stage.MustNew([]stage.Stage{{ID: "prospect"}, {ID: "trialing"}, {ID: "buyer"}, {ID: "paid"}}, stage.Forward("prospect", "trialing", "buyer", "paid"))
	m := subModel{name: "lazy", stages: func() *stage.Graph {
		calls++
		if calls == 1 {
			return other
		}
		return subGraph
	}}
	if err := modeltest.TestModel(m, modeltest.AllowUnused(subGraph.Edges()...)); err == nil || !strings.Contains(err.Error(), "another graph") {
		t.Errorf("a graph that changes: %v", err)
	}
}

// counted answers from the facts until it has been called flip times,
// then forgets a lapse: an answer that depends on how often the model was
// called. Deterministic ends before the change; the rules after it meet it.
type counted struct {
	calls atomic.Int64
	flip  int64
}

func (m *counted) Name() string         { return "counted" }
func (m *counted) Stages() *stage.Graph { return subGraph }
func (m *counted) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	id := subModel{}.Stage(f, now)
	if m.calls.Add(1) > m.flip && id == "buyer" {
		return "prospect"
	}
	return id
}

func TestLaterRulesCompareWithFirstAnswers(t *testing.T) {
	probe := &counted{flip: 1 << 62}
	_ = modeltest.TestModel(probe, modeltest.AllowUnused(subGraph.Edges()...))
	total := probe.calls.Load() // the calls of a whole run
	m := &counted{flip: total * 3 / 4}
	err := modeltest.TestModel(m, modeltest.AllowUnused(subGraph.Edges()...))
	if err == nil || !strings.Contains(err.Error(), "first classification of the same state") {
		t.Fatalf("a model whose answers change after %d of %d calls: TestModel = %v", m.flip, total, err)
	}
}
