package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// FuzzMemoryRoundTrip checks that whatever customer is Put, Get returns it
// exactly (reflect-equal), whether Memory keeps it compactly or as is,
// that an UpdateEvent then appends to its history and Seen and keeps the
// rest, and that UpdateEvent can write the same customer as a new one.
func FuzzMemoryRoundTrip(f *testing.F) {
	f.Add("retention", "order_completed", "EUR", "e1", int64(1735689600), int64(5), false, uint64(7), int64(3))
	f.Add("", "", "", "", int64(-62135596800), int64(0), false, uint64(0), int64(0))
	f.Add("s\x00ü", "x.y", "€", "c\xff", int64(1<<40), int64(999999999), true, uint64(1<<63), int64(-1))
	f.Fuzz(func(t *testing.T, st, typ, cur, cause string, sec, nsec int64, local bool, digest uint64, count int64) {
		at := time.Unix(sec, nsec).UTC()
		if local {
			at = at.In(time.FixedZone("X", 3600))
		}
		c := &lifecycle.Customer{
			ID: "c", Stage: stage.ID(st), Since: at, AsOf: at, Version: 1,
			Facts: lifecycle.Facts{
				First: at, Last: at,
				Tallies:    []lifecycle.Tally{{Type: lifecycle.EventType(typ), Count: count, First: at, Last: at}},
				Sums:       []lifecycle.Sum{{Type: lifecycle.EventType(typ), Currency: cur, Amount: count}},
				ReferredBy: cause, ReferredAt: at, Score: int(count), ScoreAt: at,
			},
			History: []lifecycle.Transition{{From: "", To: stage.ID(st), At: at, Cause: cause}},
			Seen:    []uint64{digest},
		}
		m := store.NewMemory()
		ctx := t.Context()
		if err := m.Put(ctx, c.Clone(), 0); err != nil {
			t.Fatal(err)
		}
		got, err := m.Get(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, got) {
			t.Fatalf("Get = %+v\nwant %+v", got, c)
		}
		tr := lifecycle.Transition{From: stage.ID(st), To: stage.ID(typ), At: at, Cause: cur}
		err = m.UpdateEvent(ctx, "c", digest^1, func(w *lifecycle.Customer, seen bool) (bool, error) {
			if seen {
				t.Errorf("digest %d reported seen; Seen holds only %d", digest^1, digest)
			}
			w.History = append(w.History, tr)
			w.Version++
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		c.History = append(c.History, tr)
		c.Version = 2
		c.Seen = []uint64{min(digest, digest^1), max(digest, digest^1)}
		if got, err = m.Get(ctx, "c"); err != nil || !reflect.DeepEqual(c, got) {
			t.Fatalf("after UpdateEvent: Get = %+v, %v\nwant %+v", got, err, c)
		}
		// The same customer written by UpdateEvent as a new one.
		n := c.Clone()
		n.ID, n.Version, n.Seen = "n", 1, []uint64{digest}
		err = m.UpdateEvent(ctx, "n", digest, func(w *lifecycle.Customer, seen bool) (bool, error) {
			h := w.History
			n.CopyTo(w)
			w.History = append(h, n.History...)
			w.Seen = nil
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err = m.Get(ctx, "n"); err != nil || !reflect.DeepEqual(n, got) {
			t.Fatalf("new customer by UpdateEvent: Get = %+v, %v\nwant %+v", got, err, n)
		}
	})
}
