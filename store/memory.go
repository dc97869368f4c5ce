// Package store holds [Memory], the zero-set-up in-memory [lifecycle.Store].
//
// Memory is the default for tests, demos and single-process services: it
// needs no set-up and is safe for concurrent use, but it keeps nothing when
// the process ends. For durable, multi-instance storage use the SQL store in
// store/sqlstore, or implement [lifecycle.Store] for your own database and
// check it with store/storetest.
package store

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

const shardCount = 64

// Memory is an in-memory [lifecycle.Store], sharded by customer ID so that
// writers to different customers rarely wait for each other. It keeps each
// customer in a compact form (about half the memory of a
// [lifecycle.Customer] with typical facts: see BENCHMARKS.md) and hands
// out copies (Get, Load, Scan), so callers can never change stored state
// by accident; the fn of [Memory.Apply] works on a copy that is stored
// only when it reports a change, and [Memory.View]
// is read-only (see its doc). What Put stores, Get returns exactly, except
// that empty slices come back nil: a customer the compact form cannot hold
// exactly (a time that is not in UTC or falls outside what Unix
// nanoseconds in an int64 hold, about 1677-09-21 to 2262-04-11, a Seen with legacy keys (see [lifecycle.LegacyKeyOf]), more than 255
// tallies or sums, an ID longer than 256 bytes, a Version or a tally's Count past 4,294,967,295 or a
// Count below 0, a transition's Cause longer than 65,535 bytes, or more
// than 65,535 distinct stage IDs, event types and currencies in one
// store) is kept as is. A store holds at most 2^26−1 customers in each of
// its 64 shards (about 4 billion) and 2^32−1 transitions a customer: the
// change feed names them in 8 bytes; past that, Put and Apply return an
// error. The zero value is an empty
// store, ready to use, as is [NewMemory]'s; a Memory must not be copied
// after first use.
type Memory struct {
	once   sync.Once // setup, on first use: the zero Memory works
	seed   maphash.Seed
	syms   *symbols
	shards [shardCount]shard
	feed   feed
}

// shard holds its customers in a dense list in insertion order (list.go),
// with an index from ID to position (index.go). Passes over every customer
// (Scan, View) walk the list, which visits customers roughly in the order
// they were allocated: several times faster than walking a map over a
// large heap. scratch, keys, seen, free, buf
// and hbuf are working space for writers, used under the write lock.
type shard struct {
	mu      sync.RWMutex
	seed    maphash.Seed // the Memory's
	idx     index
	list    list
	scratch lifecycle.Customer
	keys    []lifecycle.EventKey
	seen    []bool
	free    int    // for a write of one event: the slot of r.seen its key goes in (see keySet.findCode), or -1
	lo, hi  uint64 // and that key's code (see keyset.go)
	buf     []byte
	hbuf    []byte
}

// release ends a write: the working copy lets go of the caller's ID
// string (a stored customer keeps its own copy; see record.put), and the
// shard is unlocked.
func (s *shard) release() {
	s.scratch.ID = ""
	s.mu.Unlock()
}

// get returns the record of id, whose hash is h (see hashID).
func (s *shard) get(h uint64, id string) (*record, bool) {
	r, _ := s.lookup(h, id)
	return r, r != nil
}

// lookup returns the record of id, whose hash is h, and its position in
// the shard's list, or nil and -1.
func (s *shard) lookup(h uint64, id string) (*record, int) {
	i := s.idx.get(h, id, &s.list)
	if i < 0 {
		return nil, -1
	}
	return s.list.at(i), i
}

// insert adds a record for id, whose hash is h, and returns it and its
// position, or an error when the shard holds as many customers as it can
// (maxShard: more than the memory of any machine).
func (s *shard) insert(h uint64, id string) (*record, int, error) {
	if s.list.len() >= maxShard {
		return nil, 0, fmt.Errorf("store: customer %q: the shard holds %d customers, as many as it can", id, s.list.len())
	}
	r := s.list.push() // its ID goes in with its data (see record.put)
	s.idx.add(h, id, s.list.len()-1, &s.list)
	return r, s.list.len() - 1, nil
}

// remove deletes a customer by moving the last one into its place, and
// returns the position it had and the moved one's old position (the
// same when it was the last), or -1 and -1 when id is not stored.
func (s *shard) remove(h uint64, id string) (pos, last int) {
	slot, i := s.idx.find(h, id, &s.list)
	if i < 0 {
		return -1, -1
	}
	s.idx.remove(slot)
	last = s.list.len() - 1
	if i != last {
		moved := s.list.at(last)
		*s.list.at(i) = *moved
		s.idx.move(hashID(s.seed, moved.id()), moved.id(), i, &s.list)
	}
	s.list.pop()
	return i, last
}

var (
	_ lifecycle.Store     = (*Memory)(nil)
	_ lifecycle.Loader    = (*Memory)(nil)
	_ lifecycle.Applier   = (*Memory)(nil)
	_ lifecycle.DueLister = (*Memory)(nil)
	_ lifecycle.Viewer    = (*Memory)(nil)

	_ lifecycle.ChangeLister = (*Memory)(nil)
	_ lifecycle.CursorKeeper = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store. (The zero Memory is an
// empty store too.)
func NewMemory() *Memory {
	m := new(Memory)
	m.once.Do(m.setup)
	return m
}

func (m *Memory) setup() {
	m.seed, m.syms = maphash.MakeSeed(), newSymbols()
	for i := range m.shards {
		m.shards[i].seed = m.seed
	}
}

// shard returns the shard of id and the hash of id that finds it in the
// shard (see hashID). Every method that finds a customer by ID goes
// through it, so it sets the store up on first use; the passes over every
// shard (Len, Scan, View, ListDue) work on shards not set up.
func (m *Memory) shard(id string) (*shard, uint64) {
	m.once.Do(m.setup)
	h := hashID(m.seed, id)
	return &m.shards[h%shardCount], h
}

func (m *Memory) names() []string {
	m.once.Do(m.setup)
	return *m.syms.names.Load()
}

// decode makes c a copy of the customer r holds, reusing c's slices.
// Empty slices are nil unless keep is set: then they keep c's arrays for
// the next decode (View's reused customer). keys, when not nil, is working
// space for the event keys, reused from one decode to the next (a pass
// over every customer); else they are read into a new slice.
func (m *Memory) decode(r *record, c *lifecycle.Customer, names []string, keep bool, keys *[]lifecycle.EventKey) {
	if r.full != nil {
		r.full.CopyTo(c)
		return
	}
	m.decodeCore(r, c, names)
	c.History = decodeHist(c.History, r.hist(), names)
	if keys != nil {
		*keys = r.seen.appendTo((*keys)[:0])
		c.Seen.Set(*keys)
	} else {
		c.Seen.Set(r.seen.list())
	}
	if !keep {
		f := &c.Facts
		f.Tallies, f.Sums, f.Referrals = nilIfEmpty(f.Tallies), nilIfEmpty(f.Sums), nilIfEmpty(f.Referrals)
		c.History = nilIfEmpty(c.History)
		if c.Seen.Len() == 0 {
			c.Seen = lifecycle.EventSet{}
		}
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// decodeCore sets every field of c but History and Seen from r, which is
// compact.
func (m *Memory) decodeCore(r *record, c *lifecycle.Customer, names []string) {
	c.ID = r.id()
	decodeBody(c, r.body(), names)
	c.Due = unpackDue(r.due)
	if r.ext == nil {
		c.Facts.ReferredBy, c.Facts.Referrals = "", c.Facts.Referrals[:0]
		return
	}
	c.Facts.ReferredBy = r.ext.referredBy
	c.Facts.Referrals = append(c.Facts.Referrals[:0], r.ext.referrals...)
}

// encode makes r hold c, in compact form when it can, or else as a copy
// of c.
func (m *Memory) encode(s *shard, r *record, c *lifecycle.Customer) {
	body, ok := encodeBody(s.buf, c, m.syms, nil, nil)
	s.buf = body
	due, dueOK := packDue(c.Due)
	ok = ok && dueOK && noLegacy(&c.Seen) && fitsID(c.ID)
	var hist []byte
	if ok {
		hist, ok = appendHist(s.hbuf[:0], c.History, m.syms)
		s.hbuf = hist
	}
	if !ok {
		*r = record{full: c.Clone(), due: dueCode(c.Due)}
		r.full.ID = cloneString(c.ID) // never the caller's string (see record.put)
		return
	}
	r.full = nil
	r.due = due
	if old := r.hist(); len(hist) >= len(old) && bytes.HasPrefix(hist, old) {
		r.put(c.ID, body, hist[len(old):])
	} else {
		// Never overwrite the ID's or the history's bytes: the ID and
		// decoded Causes point into them.
		r.data = slices.Concat(r.data[:headLen(r.data)], body, hist)
	}
	r.seen.set(&c.Seen)
	setExtra(r, &c.Facts)
}

// newExtra returns the extra of f, its strings the store's own (never the
// caller's): those old, the extra it replaces, already holds are reused
// (a referrer's referrals are sorted by customer and grow one at a time),
// the others copied.
func newExtra(old *extra, f *lifecycle.Facts) *extra {
	x := &extra{referredBy: f.ReferredBy, referrals: slices.Clone(f.Referrals)}
	var was []lifecycle.Referral
	if old != nil {
		was = old.referrals
		if old.referredBy == x.referredBy {
			x.referredBy = old.referredBy
		} else {
			x.referredBy = cloneString(x.referredBy)
		}
	} else {
		x.referredBy = cloneString(x.referredBy)
	}
	j := 0
	for i := range x.referrals {
		c := x.referrals[i].Customer
		for j < len(was) && was[j].Customer < c {
			j++
		}
		if j < len(was) && was[j].Customer == c {
			x.referrals[i].Customer = was[j].Customer
		} else {
			x.referrals[i].Customer = cloneString(c)
		}
	}
	return x
}

func setExtra(r *record, f *lifecycle.Facts) {
	switch {
	case f.ReferredBy == "" && len(f.Referrals) == 0:
		r.ext = nil
	case r.ext != nil && r.ext.referredBy == f.ReferredBy && slices.Equal(r.ext.referrals, f.Referrals):
	default:
		r.ext = newExtra(r.ext, f)
	}
}

// commit stores c, the working copy an [Memory.Apply] fn changed: its
// fields but History and Seen, the transitions it appended, and the keys
// not seen.
func (m *Memory) commit(s *shard, r *record, c *lifecycle.Customer, keys []lifecycle.EventKey, seen []bool) {
	if r.full == nil {
		body, ok := encodeBody(s.buf, c, m.syms, r.body(), m.names())
		s.buf = body
		due, dueOK := packDue(c.Due)
		ok = ok && dueOK && fitsID(c.ID) // a new customer's ID goes in with its data
		var more []byte
		if ok {
			more, ok = appendHist(s.hbuf[:0], c.History, m.syms)
			s.hbuf = more
		}
		if ok {
			r.put(c.ID, body, more)
			r.due = due
			if len(keys) == 1 && !seen[0] && s.free >= 0 {
				r.seen.putCode(s.free, s.lo, s.hi) // where apply's look-up found room
			} else {
				for i, k := range keys {
					if !seen[i] {
						r.seen.add(k)
					}
				}
			}
			setExtra(r, &c.Facts)
			return
		}
	}
	// Slow path: the whole customer, through encode.
	whole := c.Clone()
	var old lifecycle.Customer
	if r.full != nil || r.data != nil { // not a new customer
		m.decode(r, &old, m.names(), false, nil)
	}
	whole.History = append(old.History, c.History...)
	whole.Seen = old.Seen
	for i, k := range keys {
		if !seen[i] {
			whole.Seen.Add(k)
		}
	}
	m.encode(s, r, whole)
}

// ctxErr is ctx.Err(), or [lifecycle.ErrNilContext] for a nil ctx: every
// method of Memory that takes a context checks it so, and does nothing
// for a nil one.
func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return lifecycle.ErrNilContext
	}
	return ctx.Err()
}

// resetCustomer makes c a new customer with this ID, keeping its slices'
// arrays.
func resetCustomer(c *lifecycle.Customer, id string) {
	*c = lifecycle.Customer{
		ID:      id,
		Facts:   lifecycle.Facts{Tallies: c.Facts.Tallies[:0], Sums: c.Facts.Sums[:0], Referrals: c.Facts.Referrals[:0]},
		History: c.History[:0],
	}
}

// Get returns a copy of the customer, or an error wrapping
// [lifecycle.ErrNotFound].
func (m *Memory) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s, h := m.shard(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.get(h, id)
	if !ok {
		return nil, notFound(id)
	}
	c := new(lifecycle.Customer)
	m.decode(r, c, m.names(), false, nil)
	return c, nil
}

// Load copies the customer into dst, reusing dst's memory; it returns an
// error wrapping [lifecycle.ErrNotFound] when there is no such customer.
func (m *Memory) Load(ctx context.Context, id string, dst *lifecycle.Customer) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s, h := m.shard(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.get(h, id)
	if !ok {
		return notFound(id)
	}
	m.decode(r, dst, m.names(), false, nil)
	return nil
}

func notFound(id string) error {
	return fmt.Errorf("store: customer %q: %w", id, lifecycle.ErrNotFound)
}

// Put stores a copy of c if the stored version is prev (0: not stored yet)
// and c.Version is prev+1, as [lifecycle.Store] requires.
func (m *Memory) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := CheckPut(c, prev); err != nil {
		return err
	}
	s, h := m.shard(c.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, pos := s.lookup(h, c.ID)
	ok := r != nil
	var have uint64
	if ok {
		have = r.version()
	}
	if have != prev {
		return &ConflictError{ID: c.ID, Want: prev, Have: have}
	}
	if err := checkHistLen(c.ID, len(c.History)); err != nil {
		return err
	}
	old := 0
	if !ok {
		var err error
		if r, pos, err = s.insert(h, c.ID); err != nil {
			return err
		}
		m.encode(s, r, c)
	} else {
		old = histLen(r)
		m.encode(s, r, c)
	}
	m.feed.note(int(h%shardCount), pos, old, len(c.History))
	return nil
}

// checkHistLen returns an error when a history of n transitions is
// longer than the change feed can count (maxSeq: more than the memory of
// any machine holds).
func checkHistLen(id string, n int) error {
	if uint64(n) > maxSeq {
		return fmt.Errorf("store: customer %q: History: %d transitions, more than %d: %w", id, n, uint64(maxSeq), lifecycle.ErrInvalidCustomer)
	}
	return nil
}

func (r *record) version() uint64 {
	if r.full != nil {
		return r.full.Version
	}
	return uint64(le.Uint32(r.body()[offVersion:]))
}

// Apply is the Tracker's write path, as [lifecycle.Applier] describes: it
// applies the writes one after the other, each under its customer's
// shard's write lock (so Apply never reports a conflict); a write's fn
// works on a copy of the stored customer without History and Seen, and
// Memory appends the transitions fn adds and the keys of the events not
// seen itself. Looking an event up scans the 2-byte tags of at most 128
// keys and reads the rest of a key only where its tag matches, whatever
// the customer's number of events (see keyset.go); a customer kept whole (see
// the type's doc) is copied whole. If a fn reports a change without setting Version to the previous
// version plus one (breaking the Applier's rules), the write's Err wraps
// [lifecycle.ErrInvalidCustomer] and nothing is stored for it. The stored
// customer keeps the ID id whatever fn does to c.ID.
func (m *Memory) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		w := &ws[i]
		w.Err = m.apply(ctx, w.ID, w.Events, w.Fn)
	}
}

// apply is Apply for one write.
func (m *Memory) apply(ctx context.Context, id string, events []string, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s, h := m.shard(id)
	s.mu.Lock()
	defer s.release()
	c := &s.scratch
	s.keys, s.seen, s.free = s.keys[:0], s.seen[:0], -1
	for _, e := range events {
		s.keys = append(s.keys, lifecycle.KeyOf(e))
		s.seen = append(s.seen, false)
	}
	r, pos := s.lookup(h, id)
	ok := r != nil
	switch {
	case !ok:
		resetCustomer(c, id)
	case r.full != nil:
		r.full.CopyTo(c)
		for i, e := range events {
			s.seen[i] = r.full.Seen.Has(e)
		}
		c.History = c.History[:0]
	default:
		m.decodeCore(r, c, m.names())
		for i := range s.keys {
			lo, hi := codeOf(&s.keys[i])
			at, free := r.seen.findCode(lo, hi)
			s.seen[i], s.free, s.lo, s.hi = at >= 0, free, lo, hi
		}
		c.History = c.History[:0]
	}
	c.Seen = lifecycle.EventSet{}
	prev := c.Version
	changed, err := fn(c, s.seen)
	if err != nil || !changed {
		return err
	}
	c.ID = id
	if err := CheckPut(c, prev); err != nil {
		return err
	}
	old := 0
	if ok && len(c.History) > 0 {
		old = histLen(r)
	}
	if err := checkHistLen(id, old+len(c.History)); err != nil {
		return err
	}
	if !ok {
		var err error
		if r, pos, err = s.insert(h, id); err != nil {
			return err
		}
	}
	m.commit(s, r, c, s.keys, s.seen)
	m.feed.note(int(h%shardCount), pos, old, old+len(c.History))
	return nil
}

// ListDue yields the IDs of the customers whose Due is zero or at or
// before now, and no others, as [lifecycle.DueLister] describes, leaving out those whose
// Due is [lifecycle.Never] (never due, also at now = Never). It reads each shard's
// due times (kept in each record of the shard's dense list of records,
// so a shard is read without decoding a customer) under its read lock, and yields the
// shard's due IDs after releasing it, so the loop body may write.
func (m *Memory) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	at := dueCode(now)
	return func(yield func(string, error) bool) {
		var ids []string
		for i := range m.shards {
			if err := ctxErr(ctx); err != nil {
				yield("", err)
				return
			}
			s := &m.shards[i]
			ids = ids[:0]
			s.mu.RLock()
			for r := range s.list.all {
				due := r.due <= at && r.due != dueNever // Never is never due
				if r.full != nil {
					// Its due code may be rounded (a time outside what
					// Unix nanoseconds hold): the exact time decides.
					d := r.full.Due
					due = d.IsZero() || !d.After(now) && !d.Equal(lifecycle.Never)
				}
				if due {
					ids = append(ids, r.id())
				}
			}
			s.mu.RUnlock()
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
		}
	}
}

// Delete removes a customer, and its changes from the change feed;
// deleting a missing customer is not an error.
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s, h := m.shard(id)
	s.mu.Lock()
	if pos, last := s.remove(h, id); pos >= 0 {
		m.feed.forget(int(h%shardCount), pos, last)
	}
	s.mu.Unlock()
	return nil
}

// Len returns the number of customers stored.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += s.list.len()
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
		var keys []lifecycle.EventKey
		for i := range m.shards {
			if err := ctxErr(ctx); err != nil {
				yield(nil, err)
				return
			}
			s := &m.shards[i]
			s.mu.RLock()
			names := m.names()
			batch = batch[:0]
			for r := range s.list.all {
				c := new(lifecycle.Customer)
				m.decode(r, c, names, false, &keys)
				batch = append(batch, c)
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

// View yields every stored customer, one shard (about 1/64 of the
// customers) at a time under that shard's read lock, as [lifecycle.Viewer]
// describes. It decodes each customer into one Customer it reuses (or
// yields the customer itself, for one kept as is), so the loop body must
// not modify or keep the customer, and must not call the store (writers to
// the shard wait until the body returns, and a call back into the store
// can deadlock).
func (m *Memory) View(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		c := new(lifecycle.Customer)
		var keys []lifecycle.EventKey
		for i := range m.shards {
			if err := ctxErr(ctx); err != nil {
				yield(nil, err)
				return
			}
			if !m.view(&m.shards[i], c, &keys, yield) {
				return
			}
		}
	}
}

// view yields the shard's customers under its read lock; it reports false
// when the loop body stopped early. The deferred unlock keeps the shard
// usable even if the body panics.
func (m *Memory) view(s *shard, c *lifecycle.Customer, keys *[]lifecycle.EventKey, yield func(*lifecycle.Customer, error) bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := m.names()
	for r := range s.list.all {
		v := r.full
		if v == nil {
			m.decode(r, c, names, true, keys)
			v = c
		}
		if !yield(v, nil) {
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

// Error describes the conflict: the customer and both versions. Equal
// versions mean the customer was replaced meanwhile by another at the
// same version (deleted and created again, say): a store that tells rows
// apart by more than the version (sqlstore, by PostgreSQL's row version)
// refuses the write then too.
func (e *ConflictError) Error() string {
	if e.Want == e.Have {
		return fmt.Sprintf("store: customer %q: the stored customer at version %d is not the one read (it was replaced at the same version, deleted and created again, say): %v", e.ID, e.Have, lifecycle.ErrConflict)
	}
	return fmt.Sprintf("store: customer %q: expected version %d, stored version is %d: %v", e.ID, e.Want, e.Have, lifecycle.ErrConflict)
}

// Unwrap returns [lifecycle.ErrConflict].
func (e *ConflictError) Unwrap() error { return lifecycle.ErrConflict }

// CheckPut checks the arguments of a Put as every [lifecycle.Store] must:
// a non-nil customer, a non-empty ID and c.Version == prev+1 (so prev is
// below math.MaxUint64: no version follows it). Store implementations may
// call it first; the error wraps [lifecycle.ErrInvalidCustomer] and names
// the customer and the versions (a nil customer's, or one without an ID,
// names neither).
func CheckPut(c *lifecycle.Customer, prev uint64) error {
	switch {
	case c == nil:
		return fmt.Errorf("store: nil customer: %w", lifecycle.ErrInvalidCustomer)
	case c.ID == "":
		return fmt.Errorf("store: customer ID is empty: %w", lifecycle.ErrInvalidCustomer)
	case prev == math.MaxUint64:
		// prev+1 would wrap round to 0, the version of no stored customer.
		return fmt.Errorf("store: customer %q: prev %d is the largest version, no version follows it: %w", c.ID, prev, lifecycle.ErrInvalidCustomer)
	case c.Version != prev+1:
		return fmt.Errorf("store: customer %q: version %d must be prev+1 = %d: %w", c.ID, c.Version, prev+1, lifecycle.ErrInvalidCustomer)
	}
	return nil
}
