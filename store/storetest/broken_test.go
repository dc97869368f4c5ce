package storetest_test

import (
	"context"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// broken wraps Memory and breaks one rule, to show the suite notices.
type broken struct {
	*store.Memory
	mode string
	mu   sync.Mutex
	last map[string]*lifecycle.Customer
}

func (b *broken) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if b.mode == "put-retains" {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.mu.Lock()
		c, ok := b.last[id]
		b.mu.Unlock()
		if ok {
			return c.Clone(), nil // reads the caller's pointer kept by Put
		}
	}
	return b.Memory.Get(ctx, id)
}

func (b *broken) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	switch b.mode {
	case "no-cas":
		// Last writer wins: ignores prev.
		old, err := b.Memory.Get(ctx, c.ID)
		if err == nil {
			prev = old.Version
		} else {
			prev = 0
		}
		cc := c.Clone()
		cc.Version = prev + 1
		return b.Memory.Put(ctx, cc, prev)
	case "put-retains":
		b.mu.Lock()
		defer b.mu.Unlock()
		if err := b.Memory.Put(ctx, c, prev); err != nil {
			return err
		}
		b.last[c.ID] = c // keeps the caller's customer instead of a copy
		return nil
	}
	return b.Memory.Put(ctx, c, prev)
}

func (b *broken) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	if b.mode == "scan-drops" {
		return func(yield func(*lifecycle.Customer, error) bool) {
			n := 0
			for c, err := range b.Memory.Scan(ctx) {
				n++
				if n%10 == 0 {
					continue
				}
				if !yield(c, err) {
					return
				}
			}
		}
	}
	return b.Memory.Scan(ctx)
}

// lostUpdate has an Update that works on a copy and never stores it.
type lostUpdate struct{ *store.Memory }

func (l lostUpdate) Update(ctx context.Context, id string, fn func(*lifecycle.Customer) (bool, error)) error {
	c, err := l.Memory.Get(ctx, id)
	if err != nil {
		c = &lifecycle.Customer{ID: id}
	}
	_, err = fn(c)
	return err
}

func TestBrokenUpdaterFails(t *testing.T) {
	err := storetest.TestStore(lostUpdate{store.NewMemory()})
	if err == nil {
		t.Fatal("a store whose Update loses writes passed the suite")
	}
	for _, w := range []string{"UpdateNew", "UpdateExisting", "UpdateExclusive"} {
		if !strings.Contains(err.Error(), "storetest: "+w) {
			t.Errorf("the suite did not report rule %q; it said:\n%v", w, err)
		}
	}
}

func TestBrokenStoresFail(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want []string // rules that must be reported
	}{
		{"no-cas", []string{"PutConflict", "RaceOneWinner"}},
		{"put-retains", []string{"CopyOnPut"}},
		{"scan-drops", []string{"Scan:"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s := &broken{Memory: store.NewMemory(), mode: tc.mode, last: map[string]*lifecycle.Customer{}}
			err := storetest.TestStore(s)
			if err == nil {
				t.Fatalf("a store with %s passed the suite", tc.mode)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), "storetest: "+w) {
					t.Errorf("the suite did not report rule %q for %s; it said:\n%v", w, tc.mode, err)
				}
			}
		})
	}
}

// eventViaUpdate is an EventUpdater built on Update that gets the rule
// wrong in one way, chosen by mode.
type eventViaUpdate struct {
	*store.Memory
	mode string
}

func (e eventViaUpdate) UpdateEvent(ctx context.Context, id string, d uint64, fn func(*lifecycle.Customer, bool) (bool, error)) error {
	return e.Memory.Update(ctx, id, func(c *lifecycle.Customer) (bool, error) {
		_, seen := slices.BinarySearch(c.Seen, d)
		hist, digests := c.History, c.Seen
		if e.mode != "passes-logs" {
			c.History, c.Seen = nil, nil
		}
		changed, err := fn(c, seen && e.mode != "never-seen")
		if err != nil || !changed {
			return false, err
		}
		if e.mode != "passes-logs" {
			c.History = append(hist, c.History...)
			c.Seen = digests
		}
		if !seen && e.mode != "forgets-digest" {
			i, _ := slices.BinarySearch(c.Seen, d)
			c.Seen = slices.Insert(c.Seen, i, d)
		}
		return true, nil
	})
}

func TestBrokenEventUpdaterFails(t *testing.T) {
	// A correct one passes, so the failures below are the modes' fault.
	if err := storetest.TestStore(eventViaUpdate{store.NewMemory(), ""}); err != nil {
		t.Fatalf("a correct EventUpdater failed the suite: %v", err)
	}
	for mode, want := range map[string][]string{
		"forgets-digest": {"EventNew", "EventExisting", "EventExclusive"},
		"never-seen":     {"EventExisting"},
		"passes-logs":    {"EventExisting"},
	} {
		t.Run(mode, func(t *testing.T) {
			err := storetest.TestStore(eventViaUpdate{store.NewMemory(), mode})
			if err == nil {
				t.Fatalf("an EventUpdater that %s passed the suite", mode)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), "storetest: "+w) {
					t.Errorf("the suite did not report rule %q; it said:\n%v", w, err)
				}
			}
		})
	}
}
