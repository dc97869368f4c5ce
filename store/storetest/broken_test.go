package storetest_test

import (
	"context"
	"errors"
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

// lostApply has an Apply that works on a copy and never stores it.
type lostApply struct{ *store.Memory }

func (l lostApply) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		ws[i].Err = l.applyOne(ctx, ws[i].ID, ws[i].Events, ws[i].Fn)
	}
}

func (l lostApply) applyOne(ctx context.Context, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	c, err := l.Memory.Get(ctx, id)
	if err != nil {
		c = &lifecycle.Customer{ID: id}
	}
	_, err = fn(c, make([]bool, len(events)))
	return err
}

func TestBrokenLostApplyFails(t *testing.T) {
	err := storetest.TestStore(lostApply{store.NewMemory()})
	if err == nil {
		t.Fatal("a store whose Apply loses writes passed the suite")
	}
	for _, w := range []string{"ApplyNew", "ApplyExisting", "ApplyExclusive", "ApplyOnce"} {
		if !strings.Contains(err.Error(), "storetest: "+w) {
			t.Errorf("the suite did not report rule %q; it said:\n%v", w, err)
		}
	}
}

// applyViaPut is an Applier built on Memory's Get and Put (checking the
// version at commit) that gets the rules wrong in one way, chosen by mode.
type applyViaPut struct {
	*store.Memory
	mode string
}

func (a applyViaPut) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		ws[i].Err = a.applyOne(ctx, ws[i].ID, ws[i].Events, ws[i].Fn)
	}
}

func (a applyViaPut) applyOne(ctx context.Context, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := a.Memory.Get(ctx, id)
	if errors.Is(err, lifecycle.ErrNotFound) {
		c, err = &lifecycle.Customer{ID: id}, nil
	}
	if err != nil {
		return err
	}
	seen := make([]bool, len(events))
	for i, e := range events {
		seen[i] = c.HasSeen(e) && a.mode != "never-seen"
	}
	hist, keys := c.History, c.Seen
	if a.mode != "doubles-history" {
		c.History, c.Seen = nil, lifecycle.EventSet{}
	} else {
		keys = lifecycle.EventSet{}
		keys.Set(slices.Collect(c.Seen.All()))
	}
	prev := c.Version
	changed, err := fn(c, seen)
	if err != nil || !changed {
		return err
	}
	if a.mode == "doubles-history" && len(hist) > 16 {
		// doubles-history doubles it on every write: bounded, so that the
		// rules that write a customer hundreds of times do not exhaust
		// memory (2^n transitions) before the suite reports the mode.
		hist = hist[:16]
	}
	c.History = append(hist, c.History...) // doubles-history: hist was passed to fn too
	c.ID, c.Seen = id, keys
	for i, e := range events {
		if !seen[i] && a.mode != "forgets-key" {
			c.Seen.Add(lifecycle.KeyOf(e))
		}
	}
	return a.Memory.Put(ctx, c, prev)
}

func TestBrokenApplierFails(t *testing.T) {
	// A correct one passes, so the failures below are the modes' fault.
	if err := storetest.TestStore(applyViaPut{store.NewMemory(), ""}); err != nil {
		t.Fatalf("a correct Applier failed the suite: %v", err)
	}
	for mode, want := range map[string][]string{
		"forgets-key":     {"ApplyNew", "ApplyExisting", "ApplyExclusive", "ApplyOnce"},
		"never-seen":      {"ApplyExisting", "ApplyOnce"},
		"doubles-history": {"ApplyExisting"},
	} {
		t.Run(mode, func(t *testing.T) {
			err := storetest.TestStore(applyViaPut{store.NewMemory(), mode})
			if err == nil {
				t.Fatalf("an Applier that %s passed the suite", mode)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), "storetest: "+w) {
					t.Errorf("the suite did not report rule %q; it said:\n%v", w, err)
				}
			}
		})
	}
}
