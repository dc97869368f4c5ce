// Package store holds [Memory], the zero-set-up in-memory [lifecycle.Store].
//
// Memory is the default for tests, demos and single-process services: it
// needs no set-up and is safe for concurrent use, but it keeps nothing when
// the process ends. For durable, multi-instance storage use the SQL store in
// store/sqlstore, or implement [lifecycle.Store] for your own database and
// check it with store/storetest.
package store

import (
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"sync"

	"github.com/clmkit/clm/lifecycle"
)

const shardCount = 64

// Memory is an in-memory [lifecycle.Store], sharded by customer ID so that
// writers to different customers rarely wait for each other. It copies
// customers on the way in and out (Get, Load, Put, Scan), so callers can
// never change stored state by accident; only [Memory.View] and the fn of
// [Memory.Update] see the stored customers themselves. The zero value is
// not usable; call [NewMemory].
type Memory struct {
	seed   maphash.Seed
	shards [shardCount]shard
}

// shard holds its customers in a dense slice in insertion order, with a map
// from ID to position. Passes over every customer (Scan, View) walk the
// slice, which visits customers roughly in the order they were allocated:
// several times faster than walking a map over a large heap.
type shard struct {
	mu   sync.RWMutex
	idx  map[string]int
	list []*lifecycle.Customer
	_    [8]byte // pad to 64 bytes: neighbouring shards' locks rarely share a cache line
}

func (s *shard) get(id string) (*lifecycle.Customer, bool) {
	i, ok := s.idx[id]
	if !ok {
		return nil, false
	}
	return s.list[i], true
}

func (s *shard) insert(c *lifecycle.Customer) {
	s.idx[c.ID] = len(s.list)
	s.list = append(s.list, c)
}

// remove deletes a customer by moving the last one into its place.
func (s *shard) remove(id string) {
	i, ok := s.idx[id]
	if !ok {
		return
	}
	last := len(s.list) - 1
	if i != last {
		s.list[i] = s.list[last]
		s.idx[s.list[i].ID] = i
	}
	s.list[last] = nil
	s.list = s.list[:last]
	delete(s.idx, id)
}

var (
	_ lifecycle.Store   = (*Memory)(nil)
	_ lifecycle.Loader  = (*Memory)(nil)
	_ lifecycle.Updater = (*Memory)(nil)
	_ lifecycle.Viewer  = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].idx = make(map[string]int)
	}
	return m
}

func (m *Memory) shard(id string) *shard {
	return &m.shards[maphash.String(m.seed, id)%shardCount]
}

// Get returns a copy of the customer, or an error wrapping
// [lifecycle.ErrNotFound].
func (m *Memory) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := m.shard(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.get(id)
	if !ok {
		return nil, notFound(id)
	}
	return c.Clone(), nil
}

// Load copies the customer into dst, reusing dst's memory; it returns an
// error wrapping [lifecycle.ErrNotFound] when there is no such customer.
func (m *Memory) Load(ctx context.Context, id string, dst *lifecycle.Customer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.shard(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.get(id)
	if !ok {
		return notFound(id)
	}
	c.CopyTo(dst)
	return nil
}

func notFound(id string) error {
	return fmt.Errorf("store: customer %q: %w", id, lifecycle.ErrNotFound)
}

// Put stores a copy of c if the stored version is prev (0: not stored yet)
// and c.Version is prev+1, as [lifecycle.Store] requires.
func (m *Memory) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckPut(c, prev); err != nil {
		return err
	}
	s := m.shard(c.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.get(c.ID)
	var have uint64
	if ok {
		have = old.Version
	}
	if have != prev {
		return &ConflictError{ID: c.ID, Want: prev, Have: have}
	}
	if !ok {
		s.insert(c.Clone())
		return nil
	}
	c.CopyTo(old)
	return nil
}

// Update runs fn on the stored customer in place, under the shard's write
// lock, as [lifecycle.Updater] describes: a new customer (ID id, Version 0)
// is inserted only if fn reports a change. If fn reports a change without
// setting Version to the previous version plus one (breaking the
// Updater's rules), Update returns an error wrapping
// [lifecycle.ErrInvalidCustomer] and does not insert a new customer; an
// existing one keeps whatever fn did to it.
func (m *Memory) Update(ctx context.Context, id string, fn func(c *lifecycle.Customer) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.get(id)
	if !ok {
		c = &lifecycle.Customer{ID: id}
	}
	prev := c.Version
	changed, err := fn(c)
	if err != nil || !changed {
		return err
	}
	if err := CheckPut(c, prev); err != nil {
		return err
	}
	if !ok {
		s.insert(c)
	}
	return nil
}

// Delete removes a customer; deleting a missing customer is not an error.
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.shard(id)
	s.mu.Lock()
	s.remove(id)
	s.mu.Unlock()
	return nil
}

// Len returns the number of customers stored.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.list)
		s.mu.RUnlock()
	}
	return n
}

// Scan yields a copy of every stored customer. It copies one shard (about
// 1/64 of the customers) at a time under a read lock, so writers are held up
// only briefly. A customer stored when Scan is called and not deleted
// before its shard is copied is yielded once, in the version its shard held
// at that moment; a customer added during the scan is yielded at most once
// (not at all if its shard was already copied).
func (m *Memory) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		var batch []*lifecycle.Customer
		for i := range m.shards {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			s := &m.shards[i]
			s.mu.RLock()
			batch = batch[:0]
			for _, c := range s.list {
				batch = append(batch, c.Clone())
			}
			s.mu.RUnlock()
			for j, c := range batch {
				batch[j] = nil
				if !yield(c, nil) {
					return
				}
			}
		}
	}
}

// View yields every stored customer without copying it, one shard (about
// 1/64 of the customers) at a time under that shard's read lock, as
// [lifecycle.Viewer] describes: the loop body must not modify or keep the
// customer and must not call the store (writers to the shard wait until
// the body returns, and a call back into the store can deadlock).
func (m *Memory) View(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for i := range m.shards {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !m.shards[i].view(yield) {
				return
			}
		}
	}
}

// view yields the shard's customers under its read lock; it reports false
// when the loop body stopped early. The deferred unlock keeps the shard
// usable even if the body panics.
func (s *shard) view(yield func(*lifecycle.Customer, error) bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.list {
		if !yield(c, nil) {
			return false
		}
	}
	return true
}

// ConflictError is returned by Put when the stored version is not the one
// the writer read. It unwraps to [lifecycle.ErrConflict].
type ConflictError struct {
	ID   string // the customer
	Want uint64 // the version the writer expected (prev)
	Have uint64 // the version stored (0: none)
}

// Error describes the conflict: the customer and both versions.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: customer %q: expected version %d, stored version is %d: %v", e.ID, e.Want, e.Have, lifecycle.ErrConflict)
}

// Unwrap returns [lifecycle.ErrConflict].
func (e *ConflictError) Unwrap() error { return lifecycle.ErrConflict }

// CheckPut checks the arguments of a Put as every [lifecycle.Store] must:
// a non-empty ID and c.Version == prev+1. Store implementations may call it
// first; the error wraps [lifecycle.ErrInvalidCustomer].
func CheckPut(c *lifecycle.Customer, prev uint64) error {
	switch {
	case c == nil:
		return fmt.Errorf("store: nil customer: %w", lifecycle.ErrInvalidCustomer)
	case c.ID == "":
		return fmt.Errorf("store: customer ID is empty: %w", lifecycle.ErrInvalidCustomer)
	case c.Version != prev+1:
		return fmt.Errorf("store: customer %q: version %d must be prev+1 = %d: %w", c.ID, c.Version, prev+1, lifecycle.ErrInvalidCustomer)
	}
	return nil
}
