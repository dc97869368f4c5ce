package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// feed is Memory's change feed: one entry per committed transition, in
// commit order, naming the customer and the transition's position in its
// history (24 bytes an entry; the transition itself is read from the
// customer when listed). Entries are appended under the customer's shard
// lock, after the commit, so a customer's entries are in history order
// and an entry is never visible before its transition. A deleted
// customer's entries are emptied (id ""), so they are never listed.
type feed struct {
	mu      sync.Mutex
	log     chunks[feedEntry]
	cursors map[string]lease
}

type feedEntry struct {
	id  string
	seq uint64
}

// lease is a named cursor and who holds it until when.
type lease struct {
	pos   lifecycle.Cursor
	owner string
	until time.Time
}

// note records that the customer id's history grew from old to now
// transitions. The caller holds the customer's shard lock.
func (f *feed) note(id string, old, now int) {
	if now <= old {
		return
	}
	f.mu.Lock()
	for seq := old + 1; seq <= now; seq++ {
		e := f.log.push()
		e.id, e.seq = id, uint64(seq)
	}
	f.mu.Unlock()
}

// forget empties the entries of a deleted customer. The caller holds the
// customer's shard lock.
func (f *feed) forget(id string) {
	f.mu.Lock()
	for e := range f.log.all {
		if e.id == id {
			e.id = ""
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
	for b := r.hist; len(b) > 0; n++ {
		b = b[histFixed+int(le.Uint32(b[12:])):]
	}
	return n
}

// Changes lists the transitions committed to this store, as
// [lifecycle.ChangeLister] describes; the feed lives in the process, as
// the customers do, and is lost with them. Pos counts the transitions
// committed since [NewMemory] (the first is 1). It keeps 24 bytes per
// transition for the life of the store; a deleted customer's changes are
// never listed.
func (m *Memory) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		limit = 100
	}
	type at struct {
		feedEntry
		pos lifecycle.Cursor
	}
	var page []at
	m.feed.mu.Lock()
	n := m.feed.log.len()
	for i := int(min(after, lifecycle.Cursor(n))); i < n && len(page) < limit; i++ {
		if e := *m.feed.log.at(i); e.id != "" {
			page = append(page, at{e, lifecycle.Cursor(i + 1)})
		}
	}
	m.feed.mu.Unlock()
	out := make([]lifecycle.Change, 0, len(page))
	var buf []lifecycle.Transition // decoded compact histories; never a stored customer's array
	for _, e := range page {
		s, h := m.shard(e.id)
		s.mu.RLock()
		r, ok := s.get(h, e.id)
		var tr lifecycle.Transition
		if ok {
			var hist []lifecycle.Transition
			if r.full != nil {
				hist = r.full.History // read only
			} else {
				buf = decodeHist(buf[:0], r.hist, m.names())
				hist = buf
			}
			if ok = e.seq <= uint64(len(hist)); ok {
				tr = hist[e.seq-1]
				tr.Cause = cloneString(tr.Cause) // a compact Cause points into the record
			}
		}
		s.mu.RUnlock()
		if ok { // else deleted after the page was read
			out = append(out, lifecycle.Change{CustomerID: e.id, Transition: tr, Seq: e.seq, Pos: e.pos})
		}
	}
	return out, nil
}

// ClaimCursor keeps named cursors in the process, as
// [lifecycle.CursorKeeper] describes: they are lost with the store.
func (m *Memory) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	f := &m.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cursors == nil {
		f.cursors = make(map[string]lease)
	}
	l := f.cursors[name]
	if l.owner != "" && l.owner != owner && now.Before(l.until) {
		return l.pos, false, nil
	}
	l.owner, l.until = owner, until
	f.cursors[name] = l
	return l.pos, until.After(now), nil
}

// AdvanceCursor moves a named cursor, as [lifecycle.CursorKeeper]
// describes.
func (m *Memory) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := &m.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.cursors[name]
	switch {
	case l.owner != owner || !now.Before(l.until):
		return fmt.Errorf("store: cursor %q: lease held by %q until %s, not by %q: %w", name, l.owner, l.until.Format(time.RFC3339Nano), owner, lifecycle.ErrConflict)
	case c < l.pos:
		return fmt.Errorf("store: cursor %q: %d is before the stored %d: %w", name, c, l.pos, lifecycle.ErrConflict)
	}
	l.pos, l.until = c, until
	if f.cursors == nil {
		f.cursors = make(map[string]lease)
	}
	f.cursors[name] = l
	return nil
}
