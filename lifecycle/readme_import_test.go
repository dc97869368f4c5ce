package lifecycle_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// README.md, "Importing history": importFile, as printed.
func readmeImportFile(ctx context.Context, t *lifecycle.Tracker, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	events := func(yield func(lifecycle.Event, error) bool) {
		for {
			var e lifecycle.Event
			err := dec.Decode(&e)
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
	res, err := t.Import(ctx, events, func(r lifecycle.ImportResult) {
		fmt.Printf("%d events: %d applied, %d duplicates\n", r.Events, r.Applied, r.Duplicates)
	})
	fmt.Printf("%d customers written, %d stage changes\n", res.Customers, res.Moved)
	return err
}

func TestReadmeImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "ev.jsonl")
	data := `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-01-01T00:00:00Z"}
{"id":"e2","customer_id":"c1","type":"order_completed","time":"2026-01-02T00:00:00Z","amount":100,"currency":"EUR"}
{"id":"e3","customer_id":"c2","type":"order_complete","time":"2026-01-02T00:00:00Z"}
`
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := readmeTracker()
	err := readmeImportFile(ctx, tr, p)
	if err == nil || !strings.HasPrefix(err.Error(), "import: event 2: lifecycle: invalid event: ") || !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("import error: %v", err)
	}
	c, err := tr.Customer(ctx, "c1")
	if err != nil || c.Stage != model.Conversion {
		t.Errorf("events before the bad one not stored: %v", err)
	}
	// Again: duplicates.
	res, _ := tr.Import(ctx, func(yield func(lifecycle.Event, error) bool) {
		yield(lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, nil)
	}, nil)
	if res.Duplicates != 1 || res.Applied != 0 {
		t.Errorf("re-import: %+v", res)
	}
	// README analytics snippet compiles and runs.
	m := model.SterneCutler()
	st := tr.Store()
	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), st,
		funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
	if err != nil {
		t.Fatal(err)
	}
	_ = rep.Table()
	_ = store.NewMemory
}

func readmeTracker(opts ...lifecycle.Option) *lifecycle.Tracker {
	opts = append([]lifecycle.Option{lifecycle.WithClock(func() time.Time { return readmeAt })}, opts...)
	return lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), opts...)
}

// readmeAt is the clock of readmeTracker.
var readmeAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
