package lifecycle_test

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// TestNoMergeOfCollidingIDs records, for one customer, two order IDs whose
// 64-bit FNV-1a digests are equal (found by a search on two cores; the old
// Seen took the second for a duplicate of the first and lost the order):
// both must be applied, on Memory and through the fallback.
func TestNoMergeOfCollidingIDs(t *testing.T) {
	a, b := "o-6c8b7ec53d44f736", "o-4a8f28a4ec152c74"
	fa, fb := fnv.New64a(), fnv.New64a()
	fa.Write([]byte(a))
	fb.Write([]byte(b))
	if fa.Sum64() != fb.Sum64() {
		t.Fatalf("the pair does not collide under FNV-1a: %x, %x", fa.Sum64(), fb.Sum64())
	}
	if lifecycle.KeyOf(a) == lifecycle.KeyOf(b) {
		t.Fatal("KeyOf merges the pair")
	}
	la, lb := lifecycle.LegacyKeyOf(a), lifecycle.LegacyKeyOf(b)
	if la != lb || binary.BigEndian.Uint64(la[8:]) != fa.Sum64() {
		t.Fatalf("LegacyKeyOf(%q) = %v, LegacyKeyOf(%q) = %v; want both 0xff×8 then the FNV digest %x", a, la, b, lb, fa.Sum64())
	}
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, s := range map[string]lifecycle.Store{"memory": store.NewMemory(), "get-put": plainStore{store.NewMemory()}} {
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(func() time.Time { return t0.Add(time.Hour) }))
		for i, id := range []string{a, b} {
			res, err := tr.Record(ctx, lifecycle.Event{ID: id, CustomerID: "c", Type: lifecycle.OrderCompleted, Time: t0.Add(time.Duration(i) * time.Minute), Amount: 100, Currency: "EUR"})
			if err != nil || res.Duplicate {
				t.Fatalf("%s: Record(%q) = %+v, %v; want it applied", name, id, res, err)
			}
		}
		c, err := tr.Customer(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if tally, _ := c.Facts.Tally(lifecycle.OrderCompleted); tally.Count != 2 || c.Seen.Len() != 2 || !c.HasSeen(a) || !c.HasSeen(b) {
			t.Fatalf("%s: after both orders: %d orders, %d seen; want 2 and 2", name, tally.Count, c.Seen.Len())
		}
	}
}
