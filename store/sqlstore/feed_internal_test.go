package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestChangesCommittedOutOfOrder is the outbox's classic trap: a writer
// that began first commits last. Its change must still be listed after a
// reader has passed the change of a writer that committed before it: a
// feed numbered as writers insert (a serial column) would list the fast
// writer's change at a higher number, and a reader continuing after it
// would never see the slow one.
func TestChangesCommittedOutOfOrder(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "tfeed")
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	enter := func(id, cause string) func(*lifecycle.Customer, []bool) (bool, error) {
		return func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.Stage, c.Since, c.AsOf, c.Version = "reach", t0, t0, c.Version+1
			c.History = append(c.History, lifecycle.Transition{To: "reach", At: t0, Cause: cause})
			return true, nil
		}
	}
	// The slow writer: the same statement the Store runs for an Apply,
	// in a transaction left open.
	slow, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	c := &lifecycle.Customer{ID: "slow"}
	enter("slow", "s1")(c, nil)
	data, err := encode(c)
	if err != nil {
		t.Fatal(err)
	}
	var won string
	if err := slow.QueryRowContext(ctx, s.q.applyWrite, []string{c.ID}, []string{"reach"}, []int64{1}, []time.Time{t0}, [][]byte{data},
		[]int64{dueCol(c.Due)}, []int64{0}, []string{}, [][]byte{}, []string{""}, []string{}, [][]byte{}, []string{c.ID}, []int64{1}).Scan(&won, new(string), new(bool)); err != nil {
		t.Fatal(err)
	}
	// The fast writer commits while the slow one is open.
	if err := applyOne(ctx, s, "fast", []string{"f1"}, enter("fast", "f1")); err != nil {
		t.Fatal(err)
	}
	page, err := s.Changes(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].CustomerID != "fast" {
		t.Fatalf("Changes before the slow writer committed = %+v; want fast's change only", page)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	next, err := s.Changes(ctx, page[0].Pos, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].CustomerID != "slow" || next[0].Seq != 1 || next[0].Cause != "s1" {
		t.Fatalf("Changes after fast's change, once the slow writer committed = %+v; want slow's change", next)
	}
	if next[0].Pos <= page[0].Pos {
		t.Fatalf("slow's change is at %d, not after fast's at %d", next[0].Pos, page[0].Pos)
	}
}
