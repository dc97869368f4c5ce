package model_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// TestDeepRules: rules nested 20,000 deep build, classify and schedule
// (NextChange learns each group's truth in the same pass, once quadratic
// in the depth), and a broken one's error names each broken group by a
// description cut at 64 bytes, so the message grows with the depth, not
// with its square.
func TestDeepRules(t *testing.T) {
	const depth = 20_000
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var f lifecycle.Facts
	f.Add(&lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at, Amount: 100, Currency: "EUR"})

	all, any := model.Orders(1), model.Orders(2)
	for range depth {
		all, any = model.All(all), model.Any(model.Not(model.Not(any)))
	}
	m := model.NewBuilder("deep").Start(stage.Stage{ID: "a"}).
		Stage(stage.Stage{ID: "b"}, all).
		Stage(stage.Stage{ID: "c"}, model.All(any, model.Within(24*time.Hour, lifecycle.OrderCompleted))).
		MustBuild()
	if got := m.Stage(&f, at); got != "b" {
		t.Errorf("Stage = %q; want b (one order)", got)
	}
	// Neither rule changes with time: the deepest Orders decides both.
	if got := m.NextChange(&f, at); !got.IsZero() {
		t.Errorf("NextChange = %v; want never", got)
	}

	broken := model.Orders(1)
	for range depth / 2 {
		broken = model.All(model.Rule{}, broken)
	}
	err := broken.Err()
	if !errors.Is(err, model.ErrInvalidModel) {
		t.Fatalf("Err of a broken deep rule = %v; want ErrInvalidModel", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "is the zero Rule"); n != depth/2 {
		t.Errorf("Err names %d broken groups; want %d", n, depth/2)
	}
	if limit := depth / 2 * 320; len(msg) > limit {
		t.Errorf("Err's message is %d bytes; want at most %d (each description cut at 64)", len(msg), limit)
	}
	if !strings.Contains(msg, "rule all(all(all(") || !strings.Contains(msg, "…: rule 0 is the zero Rule") {
		t.Errorf("Err's message does not describe the groups, cut: %.300s", msg)
	}
}
