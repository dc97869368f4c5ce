package storetest_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// mapStore is a plain, correct Store, Loader, Applier and DueLister on
// a map; mode makes it break one rule, so that each rule's check can be
// shown to fail a store that breaks it.
type mapStore struct {
	mu     sync.Mutex
	m      map[string]*lifecycle.Customer
	putDue map[string]time.Time // the due index only Put writes (mode due-put-only), and so which customers Put wrote (mode view-put-only)
	mode   string
}

func newMapStore(mode string) *mapStore {
	return &mapStore{m: map[string]*lifecycle.Customer{}, putDue: map[string]time.Time{}, mode: mode}
}

func (s *mapStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("customer %q: %w", id, lifecycle.ErrNotFound)
	}
	if s.mode == "panics-in-goroutines" && c.Version > 1 {
		// Only read-modify-write loops read a customer past version 1,
		// and the suite runs those in goroutines of its own.
		panic("Get of " + id)
	}
	out := c.Clone()
	switch s.mode {
	case "get-shares-sums":
		out.Facts.Sums = c.Facts.Sums
	case "get-shares-referrals":
		out.Facts.Referrals = c.Facts.Referrals
	}
	return out, nil
}

func (s *mapStore) Load(ctx context.Context, id string, dst *lifecycle.Customer) error {
	switch s.mode {
	case "load-ignores-ctx":
		ctx = context.Background()
	case "load-shares":
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.m[id]
		if !ok {
			return lifecycle.ErrNotFound
		}
		*dst = *c // the stored slices, not copies
		return nil
	}
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	c.CopyTo(dst)
	return nil
}

// keep returns what Put stores of c.
func (s *mapStore) keep(c *lifecycle.Customer) *lifecycle.Customer {
	out := c.Clone()
	at := func(t *time.Time) {
		switch s.mode {
		case "times-utc":
			*t = t.UTC()
		case "times-ms":
			*t = t.Truncate(time.Millisecond)
		}
	}
	at(&out.Since)
	at(&out.AsOf)
	at(&out.Facts.First)
	at(&out.Facts.Last)
	for i := range out.History {
		at(&out.History[i].At)
	}
	switch s.mode {
	case "put-keeps-sums":
		out.Facts.Sums = c.Facts.Sums
	case "put-keeps-referrals":
		out.Facts.Referrals = c.Facts.Referrals
	}
	return out
}

func (s *mapStore) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.mode == "scan-holds-lock" {
		// Waits for the lock as long as ctx lets it.
		for !s.mu.TryLock() {
			if err := ctx.Err(); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
	} else {
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if s.mode == "invalid-put-writes" && c != nil {
		// Writes the new stage before checking the version.
		if old, ok := s.m[c.ID]; ok && old.Version == prev {
			old.Stage = c.Stage
		}
	}
	if err := store.CheckPut(c, prev); err != nil {
		return err
	}
	old, ok := s.m[c.ID]
	var have uint64
	if ok {
		have = old.Version
		if s.mode == "seen-before-cas" {
			// Writes Seen (kept apart, say in a table of its own)
			// before the compare-and-swap, and not undone when it fails.
			old.Seen.Set(slices.Collect(c.Seen.All()))
		}
	}
	if have != prev {
		return &store.ConflictError{ID: c.ID, Want: prev, Have: have}
	}
	s.m[c.ID] = s.keep(c)
	s.putDue[c.ID] = c.Due
	return nil
}

func (s *mapStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if err := ctx.Err(); err != nil {
			switch s.mode {
			case "scan-cancel-silent":
				return // as if the store were empty
			case "scan-goes-on":
				if !yield(nil, err) {
					return
				}
			default:
				yield(nil, err)
				return
			}
		}
		s.mu.Lock()
		if s.mode == "scan-holds-lock" {
			defer s.mu.Unlock() // while the loop body runs
		}
		ids := make([]string, 0, len(s.m))
		for id := range s.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		out := make([]*lifecycle.Customer, len(ids))
		for i, id := range ids {
			out[i] = s.m[id]
			if s.mode != "scan-shares" {
				out[i] = out[i].Clone()
			}
		}
		if s.mode != "scan-holds-lock" {
			s.mu.Unlock()
		}
		for _, c := range out {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// ctxErr is what Apply returns when ctx is done: its
// error, or another one in mode update-other-error.
func (s *mapStore) ctxErr(ctx context.Context, id string) error {
	err := ctx.Err()
	if err != nil && s.mode == "update-other-error" {
		return fmt.Errorf("update %q: refused", id)
	}
	return err
}

func (s *mapStore) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		ws[i].Err = s.applyOne(ctx, ws[i].ID, ws[i].Events, ws[i].Fn)
	}
}

func (s *mapStore) applyOne(ctx context.Context, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	if err := s.ctxErr(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &lifecycle.Customer{ID: id}
	old, ok := s.m[id]
	if ok {
		c = old.Clone()
	}
	hist, seen := c.History, c.Seen
	c.History, c.Seen = nil, lifecycle.EventSet{}
	found := make([]bool, len(events))
	for i, e := range events {
		found[i] = seen.Has(e) && s.mode != "never-seen"
	}
	if ok && s.mode == "stored-then-new" {
		// Calling fn more than once is allowed, but the last call must be
		// given the stored customer: this store calls it on the stored
		// one, then on a new one, and keeps that.
		fn(c.Clone(), found)
		c, hist, seen = &lifecycle.Customer{ID: id}, nil, lifecycle.EventSet{}
		found = make([]bool, len(events))
	}
	prev := c.Version
	changed, err := fn(c, found)
	if err != nil || !changed {
		return err
	}
	if err := store.CheckPut(c, prev); err != nil {
		return err
	}
	c.ID = id
	if s.mode != "drops-history" {
		c.History = append(hist, c.History...)
	}
	c.Seen = seen
	for i, e := range events {
		if !found[i] && s.mode != "forgets-event" {
			c.Seen.Add(lifecycle.KeyOf(e))
		}
	}
	s.m[id] = c.Clone()
	return nil
}

func (s *mapStore) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	if s.mode == "due-round-up" {
		// As a store that rounds due times up to the microsecond lists:
		// a customer due between two microseconds comes out late.
		now = now.Truncate(time.Microsecond)
	}
	return func(yield func(string, error) bool) {
		if err := ctx.Err(); err != nil {
			yield("", err)
			return
		}
		s.mu.Lock()
		var ids []string
		for id, c := range s.m {
			d := c.Due
			if s.mode == "due-put-only" {
				var ok bool
				if d, ok = s.putDue[id]; !ok {
					d = lifecycle.Never // never indexed
				}
			}
			due := d.IsZero() || !d.After(now)
			if s.mode == "due-strict" {
				due = d.IsZero() || d.Before(now)
			}
			if due {
				ids = append(ids, id)
			}
		}
		s.mu.Unlock()
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

// View yields copies of the stored customers, taken under the lock; in
// mode view-put-only, only those written by Put (a view that misses the
// customers written through Apply, as the Tracker writes).
func (s *mapStore) View(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		s.mu.Lock()
		cs := make([]*lifecycle.Customer, 0, len(s.m))
		for id, c := range s.m {
			if _, put := s.putDue[id]; put || s.mode != "view-put-only" {
				cs = append(cs, c.Clone())
			}
		}
		s.mu.Unlock()
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// TestBrokenRulesFail breaks each rule in one way and checks that the
// suite reports that rule.
func TestBrokenRulesFail(t *testing.T) {
	// A rule whose store waits for itself ends when its context does.
	defer func(d time.Duration) { storetest.CaseTimeout = d }(storetest.CaseTimeout)
	storetest.CaseTimeout = 2 * time.Second
	if err := storetest.TestStore(newMapStore("")); err != nil {
		t.Fatalf("the correct map store failed the suite: %v", err)
	}
	for mode, rule := range map[string]string{
		"get-shares-sums":      "CopyOnGet",
		"get-shares-referrals": "CopyOnGet",
		"put-keeps-sums":       "CopyOnPut",
		"put-keeps-referrals":  "CopyOnPut",
		"scan-shares":          "CopyOnScan",
		"scan-cancel-silent":   "ContextCancelled",
		"scan-goes-on":         "ContextCancelled",
		"load-ignores-ctx":     "ContextCancelled",
		"load-shares":          "LoadMatchesGet",
		"seen-before-cas":      "PutConflict",
		"invalid-put-writes":   "PutInvalid",
		"stored-then-new":      "ApplyExisting",
		"never-seen":           "ApplyExisting",
		"forgets-event":        "ApplyNew",
		"drops-history":        "ApplyExisting",
		"due-strict":           "ListDue",
		"due-put-only":         "ListDue",
		"due-round-up":         "ListDue",
		"view-put-only":        "View",
		"times-utc":            "PutNewGet",
		"times-ms":             "PutNewGet",
		"panics-in-goroutines": "ConcurrentIncrements",
		"scan-holds-lock":      "ScanBodyWrites",
	} {
		t.Run(mode, func(t *testing.T) {
			err := storetest.TestStore(newMapStore(mode))
			if err == nil {
				t.Fatalf("a store with %s passed the suite", mode)
			}
			if !strings.Contains(err.Error(), "storetest: "+rule+":") {
				t.Errorf("the suite did not report rule %q for %s; it said:\n%v", rule, mode, err)
			}
			if mode == "scan-holds-lock" && !strings.Contains(err.Error(), "does Scan hold, while it yields, a lock Put takes?") {
				t.Errorf("the suite did not name the lock Scan holds; it said:\n%v", err)
			}
		})
	}
}
