package store_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// FuzzMemoryRoundTrip checks that whatever customer is Put, Get returns it
// exactly (reflect-equal), whether Memory keeps it compactly or as is,
// that an Apply then reports its remembered event (by key or by legacy
// key) as seen and another as not, appends to its history and Seen and
// keeps the rest, and that Apply can write the same customer as a new one.
func FuzzMemoryRoundTrip(f *testing.F) {
	f.Add("retention", "order_completed", "EUR", "e1", int64(1735689600), int64(5), false, "e7", false, int64(3), int64(1735689700))
	f.Add("", "", "", "", int64(-62135596800), int64(0), false, "", false, int64(0), int64(0))
	f.Add("s\x00ü", "x.y", "€", "c\xff", int64(1<<40), int64(999999999), true, "\xff\x00", true, int64(-1), int64(math.MaxInt64))
	f.Add("a", "b", "c", "d", int64(1735689600), int64(0), false, "old", true, int64(1), int64(-1))
	f.Fuzz(func(t *testing.T, st, typ, cur, cause string, sec, nsec int64, local bool, ev string, legacy bool, count, dueSec int64) {
		at := time.Unix(sec, nsec).UTC()
		if local {
			at = at.In(time.FixedZone("X", 3600))
		}
		var due time.Time
		switch dueSec {
		case 0: // zero: due at any sweep
		case math.MaxInt64:
			due = lifecycle.Never
		case -1:
			due = at
		default:
			due = time.Unix(dueSec, nsec).UTC()
		}
		var seen lifecycle.EventSet
		if legacy {
			seen.Add(lifecycle.LegacyKeyOf(ev))
		} else {
			seen.Add(lifecycle.KeyOf(ev))
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
			Seen:    seen,
			Due:     due,
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
		other := ev + "'"
		tr := lifecycle.Transition{From: stage.ID(st), To: stage.ID(typ), At: at, Cause: cur}
		err = applyOne(ctx, m, "c", []string{other, ev}, func(w *lifecycle.Customer, seen []bool) (bool, error) {
			if len(seen) != 2 || seen[0] || !seen[1] {
				t.Errorf("Apply(%q, %q) gave seen %v; want [false true] (Seen holds %q only, legacy %v)", other, ev, seen, ev, legacy)
			}
			if len(w.History) != 0 {
				t.Errorf("fn got History %v; want none", w.History)
			}
			if !reflect.DeepEqual(due, w.Due) {
				t.Errorf("fn got Due %#v; want %#v", w.Due, due)
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
		c.Seen.Add(lifecycle.KeyOf(other))
		if got, err = m.Get(ctx, "c"); err != nil || !reflect.DeepEqual(c, got) {
			t.Fatalf("after Apply: Get = %+v, %v\nwant %+v", got, err, c)
		}
		// The same customer written by Apply as a new one.
		n := c.Clone()
		n.ID, n.Version, n.Seen = "n", 1, lifecycle.EventSet{}
		n.Seen.Add(lifecycle.KeyOf(ev))
		err = applyOne(ctx, m, "n", []string{ev}, func(w *lifecycle.Customer, seen []bool) (bool, error) {
			if len(seen) != 1 || seen[0] {
				t.Errorf("Apply to a new customer gave seen %v; want [false]", seen)
			}
			h := w.History
			n.CopyTo(w)
			w.History = append(h, n.History...)
			w.Seen = lifecycle.EventSet{}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err = m.Get(ctx, "n"); err != nil || !reflect.DeepEqual(n, got) {
			t.Fatalf("new customer by Apply: Get = %+v, %v\nwant %+v", got, err, n)
		}
	})
}
