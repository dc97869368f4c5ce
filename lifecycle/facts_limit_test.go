package lifecycle_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// code returns the i-th three-letter currency code (AAA, AAB, …).
func code(i int) string {
	return string([]byte{byte('A' + i/676%26), byte('A' + i/26%26), byte('A' + i%26)})
}

// One customer's facts hold at most MaxTallies event types and MaxSums
// sums through the Tracker: the event past either is refused as invalid,
// nothing of it is stored, and retrying it gets the same answer; events of
// the types and sums held, and other customers, go on. (Without the limit
// each new type copied the whole list, and past 255 store.Memory kept the
// customer whole, so every later event cost its whole history.)
func TestFactsLimits(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
	n := 0
	rec := func(c string, typ lifecycle.EventType, amount int64, cur string) (lifecycle.Result, error) {
		n++
		return tr.Record(ctx, lifecycle.Event{ID: "e" + strconv.Itoa(n), CustomerID: c, Type: typ,
			Time: t0.Add(time.Duration(n) * time.Minute), Amount: amount, Currency: cur})
	}
	for i := range lifecycle.MaxTallies {
		if _, err := rec("types", lifecycle.EventType("acme.t"+strconv.Itoa(i)), 0, ""); err != nil {
			t.Fatalf("type %d of %d: %v", i+1, lifecycle.MaxTallies, err)
		}
	}
	before, err := m.Get(ctx, "types")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a retry gets the same answer
		_, err := tr.Record(ctx, lifecycle.Event{ID: "over", CustomerID: "types", Type: "acme.over", Time: t0.AddDate(0, 6, 0)})
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "type" || ve.Value != "acme.over" {
			t.Fatalf("type %d: %v; want a ValidationError on type wrapping ErrInvalidEvent", lifecycle.MaxTallies+1, err)
		}
	}
	if after, err := m.Get(ctx, "types"); err != nil || after.Version != before.Version || after.Seen.Len() != before.Seen.Len() {
		t.Errorf("after the refusal: %v, %v; want the customer unchanged (version %d)", after, err, before.Version)
	}
	if _, err := rec("types", "acme.t7", 0, ""); err != nil {
		t.Errorf("an event of a type held: %v", err)
	}
	if _, err := rec("other", "acme.over", 0, ""); err != nil {
		t.Errorf("another customer: %v", err)
	}

	for i := range lifecycle.MaxSums {
		if _, err := rec("sums", lifecycle.OrderCompleted, 100, code(i)); err != nil {
			t.Fatalf("sum %d of %d: %v", i+1, lifecycle.MaxSums, err)
		}
	}
	_, err = rec("sums", lifecycle.OrderCompleted, 100, code(lifecycle.MaxSums))
	var ve *lifecycle.ValidationError
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "currency" || ve.Value != code(lifecycle.MaxSums) {
		t.Fatalf("sum %d: %v; want a ValidationError on currency wrapping ErrInvalidEvent", lifecycle.MaxSums+1, err)
	}
	if _, err := rec("sums", lifecycle.OrderCompleted, 100, code(3)); err != nil {
		t.Errorf("money in a currency held: %v", err)
	}
	if _, err := rec("sums", lifecycle.SiteVisited, 0, ""); err != nil {
		t.Errorf("an event without money: %v", err)
	}

	// A referral credit is never refused: the referrer, at MaxTallies
	// types, is credited when the customer it referred orders.
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "ref1", CustomerID: "referred", Type: lifecycle.SignedUp, Time: t0.AddDate(0, 7, 0), ReferrerID: "types"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "ref2", CustomerID: "referred", Type: lifecycle.OrderCompleted, Time: t0.AddDate(0, 7, 1), Amount: 500, Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	c, err := m.Get(ctx, "types")
	if err != nil || len(c.Facts.Referrals) != 1 || len(c.Facts.Tallies) != lifecycle.MaxTallies+1 {
		t.Errorf("referrer at the limit: %v, %v; want one credit and %d tallies", c, err, lifecycle.MaxTallies+1)
	}

	// In a batch, the refused event's customer gets Err on its events;
	// the others are applied.
	res, err := tr.RecordBatch(ctx, []lifecycle.Event{
		{ID: "b1", CustomerID: "types", Type: "acme.over2", Time: t0.AddDate(0, 8, 0)},
		{ID: "b2", CustomerID: "fresh", Type: lifecycle.SiteVisited, Time: t0.AddDate(0, 8, 0)},
	})
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.Is(res[0].Err, lifecycle.ErrInvalidEvent) || res[1].Err != nil || res[1].Version != 1 {
		t.Errorf("batch: %v, %+v; want the first refused, the second applied", err, res)
	}
}

// Facts.Add has no limit, and a long list grows as append does: adding
// thousands of types allocates a few dozen times, not once per type.
func TestFactsAddManyTypesAmortised(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]lifecycle.Event, 4096)
	for i := range events {
		events[i] = lifecycle.Event{ID: "e" + strconv.Itoa(i), CustomerID: "c", Type: lifecycle.EventType("acme.t" + strconv.Itoa(i)), Time: t0, Amount: 1, Currency: "EUR"}
	}
	var f lifecycle.Facts
	allocs := testing.AllocsPerRun(1, func() {
		f = lifecycle.Facts{}
		for i := range events {
			f.Add(&events[i])
		}
	})
	if len(f.Tallies) != len(events) || len(f.Sums) != len(events) {
		t.Fatalf("%d tallies, %d sums; want %d each", len(f.Tallies), len(f.Sums), len(events))
	}
	if allocs > 200 {
		t.Errorf("adding %d types allocated %v times; want the lists to grow as append does", len(events), allocs)
	}
}
