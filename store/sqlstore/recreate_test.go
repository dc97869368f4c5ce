package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store/sqlstore"
)

// markEvents returns a write's fn that appends each event not seen to the
// customer's stage ("+e1+e2"), so that the stage tells which events were
// applied, and how often; hook, if not nil, runs first.
func markEvents(events []string, hook func(c *lifecycle.Customer)) func(c *lifecycle.Customer, seen []bool) (bool, error) {
	return func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if hook != nil {
			hook(c)
		}
		changed := false
		for i, e := range events {
			if !seen[i] {
				c.Stage += stage.ID("+" + e)
				changed = true
			}
		}
		if changed {
			c.Version++
			c.AsOf = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return changed, nil
	}
}

// applyMarks applies writes of marked events (customer ID -> events) to s
// in one Apply, again for those that lost a race, as the Tracker would.
func applyMarks(t *testing.T, s *sqlstore.Store, writes map[string][]string, hook func(c *lifecycle.Customer)) {
	t.Helper()
	todo := writes
	for attempt := 0; len(todo) > 0; attempt++ {
		var ws []lifecycle.Write
		for id, events := range todo {
			ws = append(ws, lifecycle.Write{ID: id, Events: events, Fn: markEvents(events, hook)})
		}
		s.Apply(context.Background(), ws)
		next := map[string][]string{}
		for _, w := range ws {
			if w.Err == nil {
				continue
			}
			if !errors.Is(w.Err, lifecycle.ErrConflict) || attempt > 100 {
				t.Fatalf("apply %v to %s: %v", w.Events, w.ID, w.Err)
			}
			next[w.ID] = w.Events
		}
		todo = next
	}
}

// TestWriteAfterReadOfRecreatedCustomer: a customer read (not held) by
// one Store, then deleted and created again at the same version by
// another before the first writes, is another row: the write is a lost
// race, and applied again on the new row. (It used to check the version
// only, and overwrote the new customer with one made from the old: the
// new customer's event was in Seen but not in its data, and the deleted
// customer's in its data but not in Seen.) Through the one-customer
// statement and the many-customer one.
func TestWriteAfterReadOfRecreatedCustomer(t *testing.T) {
	for _, batch := range []bool{false, true} {
		name := "one"
		if batch {
			name = "batch"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, sqlstore.Postgres)
			a, b := e.open(t), e.open(t)
			applyMarks(t, b, map[string][]string{"x": {"e1"}, "y": {"f1"}}, nil) // version 1, not held by a
			once := false
			hook := func(c *lifecycle.Customer) {
				if c.ID != "x" || c.Version != 1 || once {
					return
				}
				once = true // a's fn on the row it read: b deletes x and creates it again
				if err := b.Delete(context.Background(), "x"); err != nil {
					t.Fatal(err)
				}
				applyMarks(t, b, map[string][]string{"x": {"e2"}}, nil)
			}
			writes := map[string][]string{"x": {"e3"}}
			if batch {
				writes["y"] = []string{"f2"}
			}
			applyMarks(t, a, writes, hook)
			if !once {
				t.Fatal("the hook never ran on the row read")
			}
			c, err := b.Get(context.Background(), "x")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(c.Stage); got != "+e2+e3" {
				t.Errorf("x's stage (the events applied) = %q, want +e2+e3; Seen has e1: %v, e2: %v, e3: %v", got, c.Seen.Has("e1"), c.Seen.Has("e2"), c.Seen.Has("e3"))
			}
			if c.Seen.Has("e1") || !c.Seen.Has("e2") || !c.Seen.Has("e3") {
				t.Errorf("x's Seen: e1 %v, e2 %v, e3 %v; want false, true, true", c.Seen.Has("e1"), c.Seen.Has("e2"), c.Seen.Has("e3"))
			}
		})
	}
}
