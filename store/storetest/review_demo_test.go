package storetest_test

// Each variant the suite does not catch, shown to break its documented rule.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

var rvT = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)

func rvPutGet(t *testing.T, bug string, c *lifecycle.Customer) *lifecycle.Customer {
	t.Helper()
	s := newRV(bug)
	if err := s.Put(context.Background(), c, 0); err != nil {
		t.Fatalf("%s: Put: %v", bug, err)
	}
	g, err := s.Get(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestContractUndetectedVariantsBreakRules(t *testing.T) {
	ctx := context.Background()
	t.Run("count-32", func(t *testing.T) {
		c := &lifecycle.Customer{ID: "c", Version: 1, Facts: lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: lifecycle.SiteVisited, Count: 5_000_000_000, First: rvT, Last: rvT}}}}
		if g := rvPutGet(t, "count-32", c); g.Facts.Tallies[0].Count == 5_000_000_000 {
			t.Error("variant kept the count")
		}
	})
	t.Run("amount-32", func(t *testing.T) {
		c := &lifecycle.Customer{ID: "c", Version: 1, Facts: lifecycle.Facts{Sums: []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "JPY", Amount: 3_000_000_000}}}}
		if g := rvPutGet(t, "amount-32", c); g.Facts.Sums[0].Amount == 3_000_000_000 {
			t.Error("variant kept the amount")
		} else {
			t.Logf("3,000,000,000 JPY came back as %d", g.Facts.Sums[0].Amount)
		}
	})
	t.Run("tallies-255", func(t *testing.T) {
		c := &lifecycle.Customer{ID: "c", Version: 1}
		for i := range 300 {
			c.Facts.Tallies = append(c.Facts.Tallies, lifecycle.Tally{Type: lifecycle.EventType(fmt.Sprintf("acme.t%03d", i)), Count: 1, First: rvT, Last: rvT})
		}
		if g := rvPutGet(t, "tallies-255", c); len(g.Facts.Tallies) == 300 {
			t.Error("variant kept the tallies")
		}
	})
	t.Run("stage-64/stage-255", func(t *testing.T) {
		long := stage.ID(strings.Repeat("s", stage.MaxIDLen))
		// stage.New accepts such an ID.
		if _, err := stage.New([]stage.Stage{{ID: long}}, nil); err != nil {
			t.Logf("stage.New with a 256-byte ID: %v", err)
		}
		for _, bug := range []string{"stage-64", "stage-255"} {
			c := &lifecycle.Customer{ID: "c", Version: 1, Stage: long, History: []lifecycle.Transition{{To: long, At: rvT}}}
			if g := rvPutGet(t, bug, c); g.Stage == long {
				t.Errorf("%s kept the stage", bug)
			}
		}
	})
	t.Run("type-32", func(t *testing.T) {
		typ := lifecycle.EventType("acme." + strings.Repeat("t", lifecycle.MaxTypeLen-5))
		e := lifecycle.Event{ID: "e", CustomerID: "c", Type: typ, Time: rvT}
		if err := e.Validate(); err != nil {
			t.Fatalf("a %d-byte custom type is refused: %v", len(typ), err)
		}
		c := &lifecycle.Customer{ID: "c", Version: 1, Facts: lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: typ, Count: 1, First: rvT, Last: rvT}}}}
		if g := rvPutGet(t, "type-32", c); g.Facts.Tallies[0].Type == typ {
			t.Error("variant kept the type")
		}
	})
	t.Run("load-keeps-dst", func(t *testing.T) {
		for _, bug := range []string{"load-keeps-dst-history", "load-keeps-dst-seen", "load-keeps-dst-referrals"} {
			s := newRV(bug)
			full := &lifecycle.Customer{ID: "full", Version: 1, History: []lifecycle.Transition{{To: "reach", At: rvT}},
				Facts: lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "f", At: rvT}}}}
			full.Seen.Set([]lifecycle.EventKey{lifecycle.KeyOf("e1")})
			bare := &lifecycle.Customer{ID: "bare", Version: 1}
			_ = s.Put(ctx, full, 0)
			_ = s.Put(ctx, bare, 0)
			var dst lifecycle.Customer
			_ = s.Load(ctx, "full", &dst)
			_ = s.Load(ctx, "bare", &dst)
			g, _ := s.Get(ctx, "bare")
			if len(dst.History) == len(g.History) && dst.Seen.Len() == g.Seen.Len() && len(dst.Facts.Referrals) == len(g.Facts.Referrals) {
				t.Errorf("%s: Load matched Get", bug)
			} else {
				t.Logf("%s: after Load of full then bare, dst has %d transitions, %d seen, %d referrals; Get has %d, %d, %d",
					bug, len(dst.History), dst.Seen.Len(), len(dst.Facts.Referrals), len(g.History), g.Seen.Len(), len(g.Facts.Referrals))
			}
		}
	})
	t.Run("view-no-ctx", func(t *testing.T) {
		s := newRV("view-no-ctx")
		_ = s.Put(ctx, &lifecycle.Customer{ID: "c", Version: 1}, 0)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for c, err := range s.View(cctx) {
			if err == nil && c != nil {
				return // broken as intended
			}
		}
		t.Error("View honoured ctx")
	})
	t.Run("apply-err-wrapped", func(t *testing.T) {
		s := newRV("apply-err-wrapped")
		boom := errors.New("boom")
		ws := []lifecycle.Write{{ID: "c", Fn: func(*lifecycle.Customer, []bool) (bool, error) { return false, boom }}}
		s.Apply(ctx, ws)
		if ws[0].Err == boom {
			t.Error("error came back as is")
		}
	})
	t.Run("apply-legacy-ignored", func(t *testing.T) {
		// A customer stored (by Put, e.g. migrated from an older release) with
		// the legacy key of event "old": recording "old" again through the
		// Tracker must be a duplicate.
		for _, bug := range []string{"", "apply-legacy-ignored"} {
			s := newRV(bug)
			c := &lifecycle.Customer{ID: "c", Version: 1, Stage: "acquisition", AsOf: rvT,
				Facts: lifecycle.Facts{First: rvT, Last: rvT, Tallies: []lifecycle.Tally{{Type: lifecycle.SiteVisited, Count: 1, First: rvT, Last: rvT}}}}
			c.Seen.Set([]lifecycle.EventKey{lifecycle.LegacyKeyOf("old")})
			if err := s.Put(ctx, c, 0); err != nil {
				t.Fatal(err)
			}
			tr := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(func() time.Time { return rvT.Add(time.Hour) }))
			res, err := tr.Record(ctx, lifecycle.Event{ID: "old", CustomerID: "c", Type: lifecycle.SiteVisited, Time: rvT})
			if err != nil {
				t.Fatal(err)
			}
			g, _ := s.Get(ctx, "c")
			t.Logf("bug %q: Record of the legacy event: Duplicate=%v, site_visited count now %d", bug, res.Duplicate, g.Facts.Count(lifecycle.SiteVisited))
			if (bug == "") != res.Duplicate {
				t.Errorf("bug %q: Duplicate = %v", bug, res.Duplicate)
			}
		}
	})
	t.Run("due-lists-nondue-after-2262", func(t *testing.T) {
		s := newRV("due-lists-nondue-after-2262")
		_ = s.Put(ctx, &lifecycle.Customer{ID: "c", Version: 1, Due: time.Date(5000, 1, 1, 0, 0, 0, 0, time.UTC)}, 0)
		for id := range s.ListDue(ctx, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)) {
			if id == "c" {
				return
			}
		}
		t.Error("not listed")
	})
	_ = math.MaxInt64
}
