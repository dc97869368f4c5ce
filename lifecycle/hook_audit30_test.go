package lifecycle_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// TestZeroLoggerDiscards: WithLogger of a logger without a handler (the
// zero slog.Logger) discards, as a nil one does: a panicking hook's log
// line panicked again, after the write, out of Record.
func TestZeroLoggerDiscards(t *testing.T) {
	hook := func(context.Context, lifecycle.Change) { panic("hook") }
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithLogger(&slog.Logger{}), lifecycle.WithHook(hook))
	res, err := tr.Record(context.Background(), lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Now().Add(-time.Hour)})
	if err != nil || !res.Moved {
		t.Errorf("Record = %+v, %v; want the event recorded, the hook's panic logged nowhere", res, err)
	}
}

// TestHookDeadlineAndReferralCredit: as the Hook doc says, a hook that
// waits on ctx until its deadline makes the referral credit's write fail
// with ctx's error; the event stays recorded, and recording it again
// gives the credit.
func TestHookDeadlineAndReferralCredit(t *testing.T) {
	mem := store.NewMemory()
	waiting := true
	hook := func(ctx context.Context, _ lifecycle.Change) {
		if waiting {
			<-ctx.Done()
		}
	}
	tr := lifecycle.NewTracker(model.SterneCutler(), mem, lifecycle.WithHook(hook))
	at := time.Now().Add(-time.Hour)
	bg := context.Background()
	waiting = false
	if _, err := tr.Record(bg, lifecycle.Event{ID: "r0", CustomerID: "ref", Type: lifecycle.SiteVisited, Time: at}); err != nil {
		t.Fatal(err)
	}
	waiting = true
	order := lifecycle.Event{ID: "o1", CustomerID: "new", Type: lifecycle.OrderCompleted, Amount: 100, Currency: "EUR", ReferrerID: "ref", Time: at}
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	if _, err := tr.Record(ctx, order); err == nil {
		t.Fatal("Record returned nil; the doc says the credit's write fails with ctx's error")
	}
	if c, err := mem.Get(bg, "new"); err != nil || c.Facts.Orders() != 1 {
		t.Fatalf("the event is not recorded: %v", err)
	}
	waiting = false
	if _, err := tr.Record(bg, order); err != nil {
		t.Fatal(err)
	}
	ref, err := mem.Get(bg, "ref")
	if err != nil || len(ref.Facts.Referrals) != 1 {
		t.Errorf("referrer's credits after recording the event again: %+v, %v; want one", ref.Facts.Referrals, err)
	}
}
