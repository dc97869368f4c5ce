package lifecycle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// A nil context gets ErrNilContext from every Tracker method that takes
// one, and from Browse; nothing panics, and nothing is written.
func TestNilContext(t *testing.T) {
	st := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), st)
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Now().Add(-time.Hour)}
	var nilCtx context.Context
	for name, call := range map[string]func() error{
		"Record":      func() error { _, err := tr.Record(nilCtx, e); return err },
		"RecordBatch": func() error { _, err := tr.RecordBatch(nilCtx, []lifecycle.Event{e}); return err },
		"Import":      func() error { _, err := tr.Import(nilCtx, eventSeq([]lifecycle.Event{e}), nil); return err },
		"Sweep":       func() error { _, err := tr.Sweep(nilCtx, time.Now()); return err },
		"Reclassify":  func() error { _, err := tr.Reclassify(nilCtx, time.Now()); return err },
		"Customer":    func() error { _, err := tr.Customer(nilCtx, "c1"); return err },
		"Browse": func() error {
			for _, err := range lifecycle.Browse(nilCtx, st) {
				return err
			}
			return nil
		},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s(nil ctx) panicked: %v", name, r)
				}
			}()
			if err := call(); !errors.Is(err, lifecycle.ErrNilContext) {
				t.Errorf("%s(nil ctx) = %v; want ErrNilContext", name, err)
			}
		}()
	}
	if st.Len() != 0 {
		t.Errorf("%d customers written", st.Len())
	}
}
