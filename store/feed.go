package store

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// feed is Memory's change feed: one entry per committed transition, in
// commit order, naming where the customer is kept (its shard and its
// position in the shard's list) and the transition's position in its
// history: 8 bytes an entry and no pointer, so the collector never reads
// the log (the transition itself is read from the customer when listed).
// Entries are appended under the customer's shard lock, after the commit,
// so a customer's entries are in history order and an entry is never
// visible before its transition. Deleting a customer, which moves the
// shard's last record into its place, empties the deleted customer's
// entries and points the moved one's at its new place, under the shard's
// lock and the feed's; a reader takes the shard's lock before it reads an
// entry again to follow it (lock order: shard, then feed).
//
// A Put may also shorten a history. The entries past its new length stay
// (and are not listed while the history is shorter), and high keeps the
// customer's highest Seq with an entry until the history is that long
// again: a history that grows back gets entries only past it, so a
// customer's Seq is listed at most once, as sqlstore, which keys its
// change rows by customer and Seq, lists it.
type feed struct {
	mu      sync.Mutex
	log     chunks[feedEntry]
	high    map[uint32]uint32 // by feedEntry.at: the highest Seq with an entry, for customers whose history is shorter
	cursors map[string]lease
}

// feedEntry is one transition of the feed: at is the customer's shard
// times 2^posBits plus its position in the shard's list, or gone.
type feedEntry struct {
	at  uint32
	seq uint32
}

const (
	posBits  = 26             // bits of a position in a shard's list in feedEntry.at
	maxShard = 1<<posBits - 1 // customers a shard holds at most (the position 2^26−1 of shard 63 would be gone)
	gone     = math.MaxUint32 // feedEntry.at of a deleted customer's entry
	maxSeq   = math.MaxUint32 // transitions a customer's history holds at most
	posMask  = 1<<posBits - 1 // a position's bits in feedEntry.at
)

// feedAt returns feedEntry.at for shard s, position pos.
func feedAt(s, pos int) uint32 { return uint32(s)<<posBits | uint32(pos) }

// lease is a named cursor and who holds it until when.
type lease struct {
	pos   lifecycle.Cursor
	owner string
	until time.Time
}

// note records that the history of the customer at position pos of shard
// s went from old to now transitions: it adds an entry for each Seq past
// old (and past the customer's high, see feed) up to now. The caller
// holds that shard's lock and has checked that now is at most maxSeq.
func (f *feed) note(s, pos, old, now int) {
	if now == old {
		return
	}
	at := feedAt(s, pos)
	f.mu.Lock()
	if len(f.high) > 0 || now < old { // (rare: only after a Put shortened a history)
		if h, ok := f.high[at]; ok {
			old = max(old, int(h))
			if now >= int(h) {
				delete(f.high, at)
			}
		}
		if now < old { // a Put shortens the history
			if f.high == nil {
				f.high = make(map[uint32]uint32)
			}
			f.high[at] = uint32(old)
			f.mu.Unlock()
			return
		}
	}
	for seq := old + 1; seq <= now; seq++ {
		*f.log.push() = feedEntry{at, uint32(seq)}
	}
	f.mu.Unlock()
}

// forget empties the entries of the customer deleted from position pos of
// shard s and points those of the customer moved there from position last
// at pos. The caller holds the shard's lock.
func (f *feed) forget(s, pos, last int) {
	del, moved := feedAt(s, pos), feedAt(s, last)
	f.mu.Lock()
	if len(f.high) > 0 {
		h, ok := f.high[moved]
		delete(f.high, del)
		delete(f.high, moved)
		if ok && moved != del {
			f.high[del] = h
		}
	}
	for e := range f.log.all {
		switch e.at {
		case del:
			e.at = gone
		case moved:
			e.at = del
		}
	}
	f.mu.Unlock()
}

// histLen returns how many transitions r holds.
func histLen(r *record) int {
	if r.full != nil {
		return len(r.full.History)
	}
	n := 0
	for b := r.hist(); len(b) > 0; n++ {
		b = b[transitionLen(b):]
	}
	return n
}

// Changes lists the transitions committed to this store, as
// [lifecycle.ChangeLister] describes; the feed lives in the process, as
// the customers do, and is lost with them. Pos numbers the feed's entries
// since the store was made (the first is 1): one for each Seq a
// customer's history reaches for the first time, so a history that is
// shortened and then grows again adds entries only past the longest it
// had (an entry lists the transition the history holds at its Seq when
// read, so one written again is listed at the entry's Pos),
// and the positions of a deleted customer's changes are not reused. It
// keeps 8 bytes per entry for the life of the store; a deleted customer's
// changes are never listed.
func (m *Memory) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		limit = 100
	}
	type entry struct {
		i     int    // position in the log
		shard uint32 // the customer's shard, which never changes
	}
	var (
		page []entry
		out  []lifecycle.Change
	)
	// A page's entries may all be hidden (past a history a Put shortened)
	// or deleted after the page was read: then read on, so that an empty
	// page means there is nothing after after to list.
	for from := int(min(after, lifecycle.Cursor(math.MaxInt))); len(out) == 0; {
		page = page[:0]
		m.feed.mu.Lock()
		n := m.feed.log.len()
		for i := min(from, n); i < n && len(page) < limit; i++ {
			if at := m.feed.log.at(i).at; at != gone {
				page = append(page, entry{i, at >> posBits})
			}
		}
		m.feed.mu.Unlock()
		if len(page) == 0 {
			break
		}
		from = page[len(page)-1].i + 1
		for _, pe := range page {
			i := pe.i
			// The customer's position may change until its shard's lock is
			// held, so read the entry again under it.
			s := &m.shards[pe.shard]
			s.mu.RLock()
			m.feed.mu.Lock()
			e := *m.feed.log.at(i)
			m.feed.mu.Unlock()
			ok := e.at != gone
			var tr lifecycle.Transition
			var id string
			if ok {
				r := s.list.at(int(e.at & posMask))
				id = cloneString(r.id()) // a compact ID points into the record
				if r.full != nil {
					if ok = int(e.seq) <= len(r.full.History); ok {
						tr = r.full.History[e.seq-1]
					}
				} else if tr, ok = histAt(r.hist(), int(e.seq), m.names()); ok {
					tr.Cause = cloneString(tr.Cause) // a compact Cause points into the record
				}
			}
			s.mu.RUnlock()
			if ok { // else deleted after the page was read, or hidden
				out = append(out, lifecycle.Change{CustomerID: id, Transition: tr, Seq: uint64(e.seq), Pos: lifecycle.Cursor(i + 1)})
			}
		}
		if err := ctxErr(ctx); err != nil && len(out) == 0 {
			return nil, err
		}
	}
	return out, nil
}

// ClaimCursor keeps named cursors in the process, as
// [lifecycle.CursorKeeper] describes: they are lost with the store.
func (m *Memory) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, false, err
	}
	f := &m.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cursors == nil {
		f.cursors = make(map[string]lease)
	}
	l, claimed := f.cursors[name]
	if claimed && l.owner != owner && now.Before(l.until) { // held by another owner ("" too)
		return l.pos, false, nil
	}
	l.owner, l.until = owner, leaseEnd(now, until)
	f.cursors[name] = l
	return l.pos, until.After(now), nil
}

// AdvanceCursor moves a named cursor, as [lifecycle.CursorKeeper]
// describes.
func (m *Memory) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	f := &m.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	l, claimed := f.cursors[name]
	switch {
	case !claimed: // never claimed: nobody holds it (not even "", whatever now is)
		return fmt.Errorf("store: cursor %q: not claimed, so not held by %q: %w", name, owner, lifecycle.ErrConflict)
	case l.owner == owner && l.until.IsZero():
		return fmt.Errorf("store: cursor %q: %q gave the lease up: claim it again: %w", name, owner, lifecycle.ErrConflict)
	case l.owner == owner && !now.Before(l.until):
		return fmt.Errorf("store: cursor %q: the lease of %q ended at %s, at or before now (%s): claim it again: %w", name, owner, l.until.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), lifecycle.ErrConflict)
	case l.until.IsZero():
		return fmt.Errorf("store: cursor %q: %q gave the lease up, and %q holds none: claim it first: %w", name, l.owner, owner, lifecycle.ErrConflict)
	case l.owner != owner || !now.Before(l.until):
		return fmt.Errorf("store: cursor %q: lease held by %q until %s, not by %q: %w", name, l.owner, l.until.Format(time.RFC3339Nano), owner, lifecycle.ErrConflict)
	case c < l.pos:
		return fmt.Errorf("store: cursor %q: %d is before the stored %d: %w", name, c, l.pos, lifecycle.ErrConflict)
	}
	l.pos, l.until = c, leaseEnd(now, until)
	if f.cursors == nil {
		f.cursors = make(map[string]lease)
	}
	f.cursors[name] = l
	return nil
}

// leaseEnd is the lease end stored for a claim or advance at now with
// until: until, or, for an until at or before now (a lease given up), the
// zero time, so that every claimant finds it free whatever its clock
// (stored as until, a claimant whose clock is a little behind the
// releaser's would wait for it).
func leaseEnd(now, until time.Time) time.Time {
	if until.After(now) {
		return until
	}
	return time.Time{}
}
