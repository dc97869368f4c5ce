package storetest_test

import (
	"context"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// laxMemory wraps Memory and breaks one documented rule of an optional
// capability that a review found the suite passing.
type laxMemory struct {
	*store.Memory
	mode string
	mu   *sync.Mutex
	put  map[string]*lifecycle.Customer // mode view-put-only: what Put stored
}

// ListDue as a store that rounds due times up to the microsecond lists
// (a customer due between microseconds comes out late): now rounded down.
func (m laxMemory) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	if m.mode == "due-round-up" {
		now = now.Truncate(time.Microsecond)
	}
	return m.Memory.ListDue(ctx, now)
}

// AdvanceCursor that takes a lease ending exactly at now for held.
func (m laxMemory) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if m.mode == "advance-at-end" {
		now = now.Add(-time.Nanosecond)
	}
	return m.Memory.AdvanceCursor(ctx, name, owner, c, now, until)
}

// Delete that leaves the customer, and so its changes, in place.
func (m laxMemory) Delete(ctx context.Context, id string) error {
	if m.mode == "delete-keeps-changes" {
		return nil
	}
	return m.Memory.Delete(ctx, id)
}

// Put, and View from what Put stored only (mode view-put-only): a view
// that misses customers written through Apply.
func (m laxMemory) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	err := m.Memory.Put(ctx, c, prev)
	if err == nil && m.mode == "view-put-only" {
		m.mu.Lock()
		m.put[c.ID] = c.Clone()
		m.mu.Unlock()
	}
	return err
}

func (m laxMemory) View(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	if m.mode != "view-put-only" {
		return m.Memory.View(ctx)
	}
	return func(yield func(*lifecycle.Customer, error) bool) {
		m.mu.Lock()
		cs := make([]*lifecycle.Customer, 0, len(m.put))
		for _, c := range m.put {
			cs = append(cs, c)
		}
		m.mu.Unlock()
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// A review wrote stores from the docs that each break one rule of an
// optional capability and found the suite passing them: ListDue late by
// less than a microsecond ("it must never list one late"), View missing
// customers written through Apply ("every stored customer once"),
// AdvanceCursor accepting an owner whose lease ends at now ("when owner
// holds the lease at now"), and changes of a deleted customer listed
// ("Deleting a customer removes its changes from the feed").
func TestContractReviewOptionalRules(t *testing.T) {
	for mode, rule := range map[string]string{
		"due-round-up":         "storetest: ListDue",
		"view-put-only":        "storetest: View",
		"advance-at-end":       "storetest: CursorLease",
		"delete-keeps-changes": "storetest: ChangesPastHidden",
	} {
		t.Run(mode, func(t *testing.T) {
			err := storetest.TestStore(laxMemory{Memory: store.NewMemory(), mode: mode, mu: new(sync.Mutex), put: map[string]*lifecycle.Customer{}})
			if err == nil || !strings.Contains(err.Error(), rule) {
				t.Fatalf("TestStore = %v; want the rule %q failed", err, rule)
			}
		})
	}
}
