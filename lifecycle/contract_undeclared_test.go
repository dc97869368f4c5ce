package lifecycle_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

type rvAB struct{ g *stage.Graph }

func (m rvAB) Name() string         { return "ab" }
func (m rvAB) Stages() *stage.Graph { return m.g }
func (m rvAB) Stage(f *lifecycle.Facts, _ time.Time) stage.ID {
	if f.Orders() > 0 {
		return "b"
	}
	return "a"
}

type rvSyncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *rvSyncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestContractUndeclaredMove(t *testing.T) {
	ctx := context.Background()
	g := stage.MustNew([]stage.Stage{{ID: "a", Name: "A"}, {ID: "b", Name: "B"}}, stage.Forward("a", "b"))
	st := store.NewMemory()
	var chs []lifecycle.Change
	buf := &rvSyncBuf{}
	tr := lifecycle.NewTracker(rvAB{g}, st, lifecycle.WithClock(rvClock), lifecycle.WarnUndeclared(),
		lifecycle.WithLogger(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
			c, err := st.Get(ctx, ch.CustomerID)
			if err != nil || c.Stage != ch.To {
				t.Errorf("hook before commit: %v %+v", err, c)
			}
			chs = append(chs, ch)
		}))
	if _, err := tr.Record(ctx, rvOrder("o", "c", rvT0.Add(-2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	r := rvOrder("r", "c", rvT0.Add(-time.Hour))
	r.Type = lifecycle.OrderRefunded
	res, err := tr.Record(ctx, r)
	if err != nil || !res.Moved || !res.Undeclared || res.From != "b" || res.To != "a" {
		t.Fatalf("%+v %v", res, err)
	}
	if tr.Undeclared() != 1 {
		t.Errorf("Undeclared() = %d", tr.Undeclared())
	}
	if len(chs) != 2 || chs[0].Undeclared || chs[0].From != "" || !chs[1].Undeclared {
		t.Errorf("hook changes %+v", chs)
	}
	if n := strings.Count(buf.b.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warn logs: %s", n, buf.b.String())
	}
	c, _ := st.Get(ctx, "c")
	if c.Stage != "a" || len(c.History) != 2 {
		t.Errorf("stored %s %+v", c.Stage, c.History)
	}
	// Duplicate of the refund: not counted again.
	if res, _ := tr.Record(ctx, r); !res.Duplicate || res.Undeclared || tr.Undeclared() != 1 {
		t.Errorf("dup %+v, Undeclared %d", res, tr.Undeclared())
	}
}
