package model_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

var huge = strings.Repeat("x", 1<<20)

// hugeStage answers a 1 MB stage its graph does not declare.
type hugeStage struct{}

func (hugeStage) Name() string                               { return "huge-stage" }
func (hugeStage) Stages() *stage.Graph                       { return stage.MustNew([]stage.Stage{{ID: "a"}}, nil) }
func (hugeStage) Stage(*lifecycle.Facts, time.Time) stage.ID { return stage.ID(huge) }

// hugePanic panics with a 1 MB value.
type hugePanic struct{ hugeStage }

func (hugePanic) Stage(*lifecycle.Facts, time.Time) stage.ID { panic(huge) }

// hugeName is hugeStage under a 1 MB name.
type hugeName struct{ hugeStage }

func (hugeName) Name() string { return huge }

// TestErrorsCutQuotedValues: the registry's, the builder's, the rules'
// and the comparison functions' errors, and the Tracker's about a model,
// quote a 1 MB name, stage, type, currency or panic value cut to 64 bytes.
func TestErrorsCutQuotedValues(t *testing.T) {
	ctx := context.Background()
	_, lookup := model.Lookup(huge)
	_, name := model.NewBuilder(huge).Build()
	_, noRule := model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: stage.ID(huge)}, model.Rule{}).Build()
	_, early := model.NewBuilder("m").Stage(stage.Stage{ID: stage.ID(huge)}, model.Orders(1)).Build()
	_, badRule := model.NewBuilder(huge).Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: stage.ID(huge)}, model.Count(lifecycle.EventType(huge), 0)).Build()
	same := model.Func(huge, func(*lifecycle.Facts, time.Time) bool { return true })
	_, dup := model.NewBuilder("m").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, same).Stage(stage.Stage{ID: "c"}, same).Build()
	customers := []*lifecycle.Customer{{ID: huge[:256]}}
	_, undeclared := model.ClassifyCustomers(customers, []lifecycle.Model{hugeStage{}})
	_, panicked := model.ClassifyCustomers(customers, []lifecycle.Model{hugePanic{}})
	record := func(m lifecycle.Model) error {
		tr := lifecycle.NewTracker(m, store.NewMemory())
		_, err := tr.Record(ctx, lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: time.Unix(1e9, 0)})
		return err
	}
	for what, err := range map[string]error{
		"Register":                 model.Register(" "+huge, model.SterneCutler()),
		"Register control":         model.Register(huge+"\x00", model.SterneCutler()),
		"Lookup":                   lookup,
		"Build name":               name,
		"Build stage without rule": noRule,
		"Build Stage before Start": early,
		"Build bad rule":           badRule,
		"Build same rules":         dup,
		"Func":                     model.Func(huge+"!", nil).Err(),
		"Count":                    model.Count(lifecycle.EventType(huge), 1).Err(),
		"Spent":                    model.Spent(huge, 1).Err(),
		"ClassifyCustomers":        undeclared,
		"ClassifyCustomers panic":  panicked,
		"Tracker undeclared":       record(hugeStage{}),
		"Tracker panic":            record(hugePanic{}),
		"Tracker, huge name":       record(hugeName{}),
	} {
		if !errors.Is(err, lifecycle.ErrInvalidModel) && !errors.Is(err, model.ErrUnknownModel) {
			t.Errorf("%s: err = %.200v, want ErrInvalidModel", what, err)
			continue
		}
		if n := len(err.Error()); n > 2048 {
			t.Errorf("%s: error of %d bytes; want each 1 MB value cut to 64", what, n)
		}
	}
}

// laterGraph answers the graph {a} for its first after Stages calls and
// {b} from then on; its stage is always a.
type laterGraph struct{ after, n int }

func (*laterGraph) Name() string { return "later" }
func (m *laterGraph) Stages() *stage.Graph {
	if m.n++; m.n > m.after {
		return stage.MustNew([]stage.Stage{{ID: "b"}}, nil)
	}
	return stage.MustNew([]stage.Stage{{ID: "a"}}, nil)
}
func (*laterGraph) Stage(*lifecycle.Facts, time.Time) stage.ID { return "a" }

// TestCorrespondGraphThatChanges: a model whose graph changes between
// calls is an error wrapping ErrInvalidModel, not a panic (an index of
// -1 in the table).
func TestCorrespondGraphThatChanges(t *testing.T) {
	customers := []*lifecycle.Customer{{ID: "c1"}}
	for later := range 6 {
		m := &laterGraph{after: later}
		c, err := model.CorrespondCustomers(customers, model.SterneCutler(), m)
		if err == nil {
			if c.Total != 1 {
				t.Errorf("after %d calls: Total %d, want 1", later, c.Total)
			}
			continue
		}
		if !errors.Is(err, lifecycle.ErrInvalidModel) && !errors.Is(err, model.ErrUnknownModel) {
			t.Errorf("after %d calls: err = %v, want ErrInvalidModel", later, err)
		}
	}
	s := store.NewMemory()
	if err := s.Put(context.Background(), &lifecycle.Customer{ID: "c1", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	for later := range 6 {
		m := &laterGraph{after: later}
		if _, err := model.Correspond(context.Background(), s, model.SterneCutler(), m); err != nil && !errors.Is(err, lifecycle.ErrInvalidModel) {
			t.Errorf("Correspond after %d calls: err = %v, want ErrInvalidModel", later, err)
		}
	}
}

// TestRegisterRefusesLookalikeSpaces: a name holding a space separator
// other than U+0020 (no-break, ideographic, thin) is refused, as one
// with a zero-width space is; "a b" is accepted.
func TestRegisterRefusesLookalikeSpaces(t *testing.T) {
	for _, n := range []string{"a\u00a0b", "a\u3000b", "a\u2009b", "a\u200bb"} {
		if err := model.Register(n, model.SixStage()); !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("Register(%q) = %v, want ErrInvalidModel", n, err)
		}
	}
	if err := model.Register("audit30 a b", model.SixStage()); err != nil {
		t.Errorf("Register(%q) = %v, want nil", "audit30 a b", err)
	}
}
