package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

var pmGraph = stage.MustNew([]stage.Stage{{ID: "a"}, {ID: "b"}}, stage.Forward("a", "b"))

type pmModel struct {
	name    func() string
	stages  func() *stage.Graph
	stageFn func(f *lifecycle.Facts, now time.Time) stage.ID
	next    func(f *lifecycle.Facts, now time.Time) time.Time
}

func (m *pmModel) Name() string {
	if m.name != nil {
		return m.name()
	}
	return "zz"
}
func (m *pmModel) Stages() *stage.Graph {
	if m.stages != nil {
		return m.stages()
	}
	return pmGraph
}
func (m *pmModel) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	if m.stageFn != nil {
		return m.stageFn(f, now)
	}
	return "a"
}
func (m *pmModel) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	if m.next != nil {
		return m.next(f, now)
	}
	return time.Time{}
}

var pmNow = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func pmRecord(m lifecycle.Model) (res lifecycle.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("CRASH (panic escaped the Tracker): %v", r)
		}
	}()
	tr := lifecycle.NewTracker(m, store.NewMemory(), lifecycle.WithClock(func() time.Time { return pmNow }))
	return tr.Record(context.Background(), lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: pmNow.Add(-time.Hour)})
}

// TestTrackerModelPanics: a model that panics anywhere the Tracker asks
// it something (Name, Stages, the graph's methods, Stage, NextChange,
// ConversionTypes), or whose Stages is nil, gives an error wrapping
// ErrInvalidModel from the Tracker's calls, never a panic.
func TestTrackerModelPanics(t *testing.T) {
	cases := map[string]*pmModel{
		"Stage and Name panic":      {name: func() string { panic("name boom") }, stageFn: func(*lifecycle.Facts, time.Time) stage.ID { panic("boom") }},
		"NextChange and Name panic": {name: func() string { panic("name boom") }, next: func(*lifecycle.Facts, time.Time) time.Time { panic("boom") }},
		"Stages returns nil":        {stages: func() *stage.Graph { return nil }},
		"Stages panics":             {stages: func() *stage.Graph { panic("stages boom") }},
	}
	for name, m := range cases {
		_, err := pmRecord(m)
		if !errors.Is(err, lifecycle.ErrInvalidModel) {
			t.Errorf("%s: Record error = %v, want one wrapping ErrInvalidModel", name, err)
		}
	}
}

type pmConv struct{ pmModel }

func (pmConv) ConversionTypes() []lifecycle.EventType { panic("conv boom") }

func TestTrackerConverterPanics(t *testing.T) {
	_, err := pmRecord(&pmConv{})
	if !errors.Is(err, lifecycle.ErrInvalidModel) {
		t.Errorf("ConversionTypes panics: Record error = %v, want one wrapping ErrInvalidModel", err)
	}
}
