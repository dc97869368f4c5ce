package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// Memory's methods and the analytics over a store answer a nil context
// with lifecycle.ErrNilContext (each of these panicked).
func TestNilContext(t *testing.T) {
	m := store.NewMemory()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return at }))
	if _, err := tr.Record(context.Background(), lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted,
		Time: at.Add(-time.Hour), Amount: 100, Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	var ctx context.Context // nil
	g := model.SterneCutler().Stages()
	first := func(seq func(yield func(string, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	for name, call := range map[string]func() error{
		"Get":     func() error { _, err := m.Get(ctx, "c1"); return err },
		"Load":    func() error { return m.Load(ctx, "c1", new(lifecycle.Customer)) },
		"Put":     func() error { return m.Put(ctx, &lifecycle.Customer{ID: "c2", Version: 1}, 0) },
		"Delete":  func() error { return m.Delete(ctx, "c1") },
		"ListDue": func() error { return first(m.ListDue(ctx, at)) },
		"Scan": func() error {
			for _, err := range m.Scan(ctx) {
				return err
			}
			return nil
		},
		"View": func() error {
			for _, err := range m.View(ctx) {
				return err
			}
			return nil
		},
		"Apply": func() error {
			ws := []lifecycle.Write{{ID: "c1", Fn: func(*lifecycle.Customer, []bool) (bool, error) { return false, nil }}}
			m.Apply(ctx, ws)
			return ws[0].Err
		},
		"Changes":             func() error { _, err := m.Changes(ctx, 0, 10); return err },
		"ClaimCursor":         func() error { _, _, err := m.ClaimCursor(ctx, "n", "o", at, at.Add(time.Minute)); return err },
		"AdvanceCursor":       func() error { return m.AdvanceCursor(ctx, "n", "o", 0, at, at.Add(time.Minute)) },
		"funnel.Analyze":      func() error { _, err := funnel.Analyze(ctx, g, lifecycle.Browse(context.Background(), m)); return err },
		"funnel.AnalyzeStore": func() error { _, err := funnel.AnalyzeStore(ctx, g, m); return err },
		"funnel.StoredRetention": func() error {
			_, err := funnel.StoredRetention(ctx, g, model.Retention, lifecycle.Browse(context.Background(), m), funnel.Day)
			return err
		},
		"funnel.Segment.IDs": func() error { return first(funnel.HasEvent(lifecycle.OrderCompleted, 1).IDs(ctx, m)) },
		"clv.SummarizeStore": func() error {
			_, err := clv.SummarizeStore(ctx, m, clv.StoreSummaryOptions{Currency: "EUR"})
			return err
		},
		"clv.SummarizeCustomers": func() error {
			_, err := clv.SummarizeCustomers(ctx, lifecycle.Browse(context.Background(), m), clv.StoreSummaryOptions{Currency: "EUR"})
			return err
		},
		"model.Classify": func() error {
			for _, err := range model.Classify(ctx, m, []lifecycle.Model{model.SterneCutler()}) {
				return err
			}
			return nil
		},
		"model.Correspond": func() error { _, err := model.Correspond(ctx, m, model.SterneCutler(), model.FiveStage()); return err },
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s with a nil context panics: %v", name, r)
				}
			}()
			if err := call(); !errors.Is(err, lifecycle.ErrNilContext) {
				t.Errorf("%s with a nil context = %v; want ErrNilContext", name, err)
			}
		}()
	}
	if c, err := m.Get(context.Background(), "c1"); err != nil || c.Facts.Orders() != 1 {
		t.Errorf("after the calls: %v, %v; want c1 unchanged, with its order", c, err)
	}
}
