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

// nilGraphModel is a plugin's mistake: a model whose Stages returns nil.
type nilGraphModel struct{}

func (nilGraphModel) Name() string                               { return "nil graph" }
func (nilGraphModel) Stages() *stage.Graph                       { return nil }
func (nilGraphModel) Stage(*lifecycle.Facts, time.Time) stage.ID { return "" }

// A review found that Mermaid and DOT panicked on a model whose Stages
// returns nil, where the Tracker, Register and modeltest report
// ErrInvalidModel: they draw no stages now.
func TestContractReviewDiagramNilGraph(t *testing.T) {
	var mermaid, dot string
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panicked: %v", r)
			}
		}()
		mermaid, dot = model.Mermaid(nilGraphModel{}), model.DOT(nilGraphModel{})
	}()
	if !strings.Contains(mermaid, "flowchart LR") || strings.Contains(mermaid, "s_") {
		t.Errorf("Mermaid = %q, want a flowchart without stages", mermaid)
	}
	if !strings.HasPrefix(dot, `digraph "nil graph" {`) || strings.Contains(dot, "->") {
		t.Errorf("DOT = %q, want a digraph without nodes", dot)
	}
}

// A review found Classify and Correspond panicking on a nil *store.Memory,
// which the rest of the library counts as no store ("A nil s is an error
// wrapping lifecycle.ErrNoTracker").
func TestContractReviewClassifyTypedNilStore(t *testing.T) {
	var s *store.Memory
	for _, err := range model.Classify(context.Background(), s, []lifecycle.Model{model.SterneCutler()}) {
		if !errors.Is(err, lifecycle.ErrNoTracker) {
			t.Errorf("Classify = %v, want ErrNoTracker", err)
		}
	}
	if _, err := model.Correspond(context.Background(), s, model.SterneCutler(), model.SixStage()); !errors.Is(err, lifecycle.ErrNoTracker) {
		t.Errorf("Correspond = %v, want ErrNoTracker", err)
	}
}
