package model_test

// Review: Register/Lookup/Names, Mermaid/DOT and ClassifyCustomers from
// their docs.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

type rvNoStages struct{}

func (rvNoStages) Name() string                               { return "none" }
func (rvNoStages) Stages() *stage.Graph                       { return &stage.Graph{} }
func (rvNoStages) Stage(*lifecycle.Facts, time.Time) stage.ID { return "" }

type rvPanicky struct{ lifecycle.Model }

func (rvPanicky) Stage(*lifecycle.Facts, time.Time) stage.ID { panic("boom") }

type rvLiar struct{ lifecycle.Model }

func (rvLiar) Stage(*lifecycle.Facts, time.Time) stage.ID { return "nowhere" }

var rvRegSeq atomic.Int64

func TestContractReviewRegistry(t *testing.T) {
	name := fmt.Sprintf("review-%d-%d", time.Now().UnixNano(), rvRegSeq.Add(1))
	m := model.SterneCutler(model.LapseAfter(90 * rvD))
	for _, c := range []struct {
		name string
		m    lifecycle.Model
	}{
		{"", m}, {" " + name, m}, {name + " ", m}, {name + "\t", m}, {name + "-nil", nil},
		{name + "-typednil", (*model.Custom)(nil)}, {name + "-nostages", rvNoStages{}},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Register(%q) panicked: %v", c.name, r)
				}
			}()
			if err := model.Register(c.name, c.m); err == nil || !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("Register(%q, %T) = %v; want ErrInvalidModel", c.name, c.m, err)
			}
		}()
	}
	if err := model.Register(name, m); err != nil {
		t.Fatal(err)
	}
	if err := model.Register(name, model.SixStage()); !errors.Is(err, model.ErrDuplicateModel) {
		t.Errorf("second Register = %v; want ErrDuplicateModel", err)
	}
	if got, err := model.Lookup(name); err != nil || got != m {
		t.Errorf("Lookup after a refused duplicate = %v, %v (overwritten?)", got, err)
	}
	if _, err := model.Lookup(name + "-unknown"); !errors.Is(err, model.ErrUnknownModel) || !strings.Contains(err.Error(), "sterne-cutler") {
		t.Errorf("Lookup unknown = %v", err)
	}
	names := model.Names()
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("Names not sorted: %v", names)
		}
	}
	// Concurrent registration of one name: exactly one wins.
	race := name + "-race"
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if model.Register(race, model.FiveStage()) == nil {
				wins.Add(1)
			}
			_, _ = model.Lookup(race)
			_ = model.Names()
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent Registers of one name succeeded", wins.Load())
	}
}

func TestContractDiagrams(t *testing.T) {
	for _, c := range []struct{ name, title string }{
		{"membership", "membership"},
		{"null", `"null"`}, {"True", `"True"`}, {"NO", `"NO"`}, {"y", `"y"`}, {"off", `"off"`},
		{"a: b", `"a: b"`}, {"a #b", `"a #b"`}, {"trail ", `"trail "`}, {"1st", `"1st"`}, {"-x", `"-x"`},
		{"Sub box v2.1", "Sub box v2.1"}, {"café", `"café"`},
	} {
		m := model.NewBuilder(c.name).Start(stage.Stage{ID: "a-1", Name: `A "quoted" <b> #1 ` + "`x`"}).
			Stage(stage.Stage{ID: "b_2", Kind: stage.Decline}, model.Orders(1)).MustBuild()
		out := model.Mermaid(m)
		if !strings.Contains(out, "\ntitle: "+c.title+"\n") {
			t.Errorf("Mermaid title of %q:\n%s", c.name, out)
		}
		if !strings.Contains(out, `s_a_2d_1["A #quot;quoted#quot; #lt;b#gt; #35;1 #96;x#96;"]`) {
			t.Errorf("Mermaid node:\n%s", out)
		}
		if !strings.Contains(out, `s_b_5f_2(["b_2"])`) || !strings.Contains(out, "s_a_2d_1 -.->|fall| s_b_5f_2") {
			t.Errorf("Mermaid decline / edge:\n%s", out)
		}
		dot := model.DOT(m)
		if !strings.Contains(dot, `digraph `) || !strings.Contains(dot, `"a-1" -> "b_2" [label="fall", style=dashed]`) {
			t.Errorf("DOT:\n%s", dot)
		}
	}
}

func TestContractClassifyBadModels(t *testing.T) {
	c := &lifecycle.Customer{ID: "c1"}
	c.Facts = *rvF(rvOrders(1, 0, 0)...)
	sc := model.SterneCutler()
	for _, m := range []lifecycle.Model{rvPanicky{sc}, rvLiar{sc}} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("ClassifyCustomers panicked: %v", r)
				}
			}()
			if _, err := model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{sc, m}); !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("ClassifyCustomers with %T = %v; want ErrInvalidModel", m, err)
			}
			if _, err := model.CorrespondCustomers([]*lifecycle.Customer{c}, sc, m); !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("CorrespondCustomers with %T = %v; want ErrInvalidModel", m, err)
			}
		}()
	}
	if _, err := model.ClassifyCustomers([]*lifecycle.Customer{c, nil}, []lifecycle.Model{sc}); !errors.Is(err, lifecycle.ErrInvalidCustomer) || !strings.Contains(err.Error(), "1") {
		t.Errorf("nil customer: %v", err)
	}
	rows, err := model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{sc, model.FiveStage()}, model.At(rvT0.Add(400*rvD)))
	if err != nil || len(rows) != 1 || rows[0].Stages[0] != model.Acquisition || rows[0].Stages[1] != model.FiveStageNurturing {
		t.Errorf("ClassifyCustomers At(+400d) = %v, %v", rows, err)
	}
	rows, err = model.ClassifyCustomers([]*lifecycle.Customer{c}, []lifecycle.Model{sc})
	if err != nil || len(rows) != 1 || rows[0].Stages[0] != model.Conversion || !rows[0].At.Equal(rvT0) {
		t.Errorf("ClassifyCustomers at the last event = %v, %v", rows, err)
	}
}
