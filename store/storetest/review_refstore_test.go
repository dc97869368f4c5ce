package storetest_test

// A third-party store written from the docs alone (lifecycle.Store, Loader,
// Viewer, Applier, DueLister, ChangeLister, CursorKeeper), and variants of it
// that each break one documented rule, selected by bug.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

type rvCursor struct {
	pos   lifecycle.Cursor
	owner string
	held  bool
	until time.Time
}

type rvEntry struct {
	id  string
	seq uint64
}

type rvStore struct {
	bug     string
	mu      sync.Mutex
	cs      map[string]*lifecycle.Customer
	due     map[string]time.Time // for the bug "due-ignores-apply"
	feed    []rvEntry
	fed     map[string]map[uint64]bool
	snap    map[rvEntry]lifecycle.Transition // for "feed-stale-transition"
	cursors map[string]*rvCursor
}

func newRV(bug string) *rvStore {
	return &rvStore{bug: bug, cs: map[string]*lifecycle.Customer{}, due: map[string]time.Time{},
		fed: map[string]map[uint64]bool{}, snap: map[rvEntry]lifecycle.Transition{}, cursors: map[string]*rvCursor{}}
}

func (r *rvStore) ctxErr(ctx context.Context, method string) error {
	if r.bug == method+"-no-ctx" {
		return nil
	}
	return ctx.Err()
}

// clone copies c the way the store keeps it, with the value-mangling bugs.
func (r *rvStore) keep(c *lifecycle.Customer) *lifecycle.Customer {
	k := c.Clone()
	mapTimes := func(f func(time.Time) time.Time) {
		k.Since, k.AsOf, k.Due = f(k.Since), f(k.AsOf), f(k.Due)
		k.Facts.First, k.Facts.Last = f(k.Facts.First), f(k.Facts.Last)
		k.Facts.ReferredAt, k.Facts.ScoreAt = f(k.Facts.ReferredAt), f(k.Facts.ScoreAt)
		for i := range k.Facts.Tallies {
			k.Facts.Tallies[i].First, k.Facts.Tallies[i].Last = f(k.Facts.Tallies[i].First), f(k.Facts.Tallies[i].Last)
		}
		for i := range k.Facts.Referrals {
			k.Facts.Referrals[i].At = f(k.Facts.Referrals[i].At)
		}
		for i := range k.History {
			k.History[i].At = f(k.History[i].At)
		}
	}
	switch r.bug {
	case "utc-times":
		mapTimes(func(t time.Time) time.Time {
			if t.IsZero() {
				return t
			}
			return t.UTC()
		})
	case "truncate-micro":
		mapTimes(func(t time.Time) time.Time { return t.Truncate(time.Microsecond) })
	case "offset-seconds-to-minutes":
		mapTimes(func(t time.Time) time.Time {
			_, off := t.Zone()
			if off%60 == 0 {
				return t
			}
			return t.In(time.FixedZone("", off/60*60))
		})
	case "cause-64":
		for i := range k.History {
			if len(k.History[i].Cause) > 64 {
				k.History[i].Cause = k.History[i].Cause[:64]
			}
		}
	case "cause-256":
		for i := range k.History {
			if len(k.History[i].Cause) > 256 {
				k.History[i].Cause = k.History[i].Cause[:256]
			}
		}
	case "drop-due":
		k.Due = time.Time{}
	case "never-to-zero":
		if k.Due.Equal(lifecycle.Never) {
			k.Due = time.Time{}
		}
	case "due-utc-wall-shift":
		// keep the wall clock, lose the offset
		if !k.Due.IsZero() {
			d := k.Due
			k.Due = time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), time.UTC)
		}
	case "drop-referrals":
		k.Facts.Referrals = nil
	case "drop-score":
		k.Facts.Score, k.Facts.ScoreAt = 0, time.Time{}
	case "drop-referred-by":
		k.Facts.ReferredBy = ""
	case "count-32":
		for i := range k.Facts.Tallies {
			k.Facts.Tallies[i].Count = int64(uint32(k.Facts.Tallies[i].Count))
		}
	case "amount-32":
		for i := range k.Facts.Sums {
			k.Facts.Sums[i].Amount = int64(int32(k.Facts.Sums[i].Amount))
		}
	case "tallies-255":
		if len(k.Facts.Tallies) > 255 {
			k.Facts.Tallies = k.Facts.Tallies[:255]
		}
	case "history-cap-50":
		if len(k.History) > 50 {
			k.History = k.History[:50]
		}
	case "stage-64", "stage-255":
		n := 64
		if r.bug == "stage-255" {
			n = 255
		}
		cut := func(s string) string {
			if len(s) > n {
				return s[:n]
			}
			return s
		}
		k.Stage = stage.ID(cut(string(k.Stage)))
		for i := range k.History {
			k.History[i].From = stage.ID(cut(string(k.History[i].From)))
			k.History[i].To = stage.ID(cut(string(k.History[i].To)))
		}
	case "type-32":
		for i := range k.Facts.Tallies {
			if len(k.Facts.Tallies[i].Type) > 32 {
				k.Facts.Tallies[i].Type = k.Facts.Tallies[i].Type[:32]
			}
		}
		for i := range k.Facts.Sums {
			if len(k.Facts.Sums[i].Type) > 32 {
				k.Facts.Sums[i].Type = k.Facts.Sums[i].Type[:32]
			}
		}
	case "drop-legacy":
		var keys []lifecycle.EventKey
		for key := range k.Seen.All() {
			if !key.IsLegacy() {
				keys = append(keys, key)
			}
		}
		k.Seen.Set(keys)
	case "seen-cap-1000":
		keys := slices.Collect(k.Seen.All())
		if len(keys) > 1000 {
			k.Seen.Set(keys[:1000])
		}
	case "drop-since":
		k.Since = time.Time{}
	case "history-at-utc":
		for i := range k.History {
			k.History[i].At = k.History[i].At.UTC()
		}
	}
	return k
}

func (r *rvStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := r.ctxErr(ctx, "get"); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.cs[id]
	if !ok {
		if r.bug == "get-missing-plain-error" {
			return nil, errors.New("no such customer")
		}
		return nil, fmt.Errorf("rv: %q: %w", id, lifecycle.ErrNotFound)
	}
	if r.bug == "get-shared" {
		return c, nil
	}
	out := c.Clone()
	if r.bug == "get-drops-seen" {
		out.Seen = lifecycle.EventSet{}
	}
	return out, nil
}

func (r *rvStore) Load(ctx context.Context, id string, dst *lifecycle.Customer) error {
	if err := r.ctxErr(ctx, "load"); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.cs[id]
	if !ok {
		return fmt.Errorf("rv: %q: %w", id, lifecycle.ErrNotFound)
	}
	switch r.bug {
	case "load-shallow":
		*dst = *c
	case "load-keeps-dst-history":
		h := dst.History
		c.CopyTo(dst)
		if len(c.History) == 0 {
			dst.History = h
		}
	case "load-keeps-dst-seen":
		seen := dst.Seen
		c.CopyTo(dst)
		if c.Seen.Len() == 0 {
			dst.Seen = seen
		}
	case "load-keeps-dst-referrals":
		refs := dst.Facts.Referrals
		c.CopyTo(dst)
		if len(c.Facts.Referrals) == 0 {
			dst.Facts.Referrals = refs
		}
	case "load-stale-version":
		c.CopyTo(dst)
		dst.Version--
	default:
		c.CopyTo(dst)
	}
	return nil
}

func (r *rvStore) addFeed(id string, hist []lifecycle.Transition, from int) {
	if r.fed[id] == nil {
		r.fed[id] = map[uint64]bool{}
	}
	for i := from; i < len(hist); i++ {
		seq := uint64(i + 1)
		if r.bug == "feed-skip-second" && i == from+1 {
			continue
		}
		if r.fed[id][seq] && r.bug != "feed-refill-new-entry" {
			continue
		}
		r.fed[id][seq] = true
		r.feed = append(r.feed, rvEntry{id, seq})
		r.snap[rvEntry{id, seq}] = hist[i]
	}
}

func (r *rvStore) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := r.ctxErr(ctx, "put"); err != nil {
		return err
	}
	if err := store.CheckPut(c, prev); err != nil {
		switch {
		case r.bug == "put-no-version-check" && c != nil && c.ID != "":
		case r.bug == "put-empty-id" && c != nil && c.ID == "" && c.Version == prev+1:
		case r.bug == "put-invalid-writes" && c != nil && c.ID != "":
			r.mu.Lock()
			r.cs[c.ID] = r.keep(c)
			r.mu.Unlock()
			return err
		default:
			return err
		}
	}
	if r.bug == "id-refuse-over-128" && len(c.ID) > 128 {
		return fmt.Errorf("rv: id too long: %w", lifecycle.ErrInvalidCustomer)
	}
	if r.bug == "ok-refuse-offset-seconds" && rvHasOffsetSeconds(c) {
		return fmt.Errorf("rv: offset with seconds: %w", lifecycle.ErrInvalidCustomer)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var have uint64
	old := r.cs[c.ID]
	if old != nil {
		have = old.Version
	}
	if have != prev {
		switch {
		case r.bug == "put-ignore-prev":
		case r.bug == "put-create-overwrites" && prev == 0:
		case r.bug == "put-conflict-wrong-sentinel":
			return fmt.Errorf("rv: %q at %d, not %d: %w", c.ID, have, prev, lifecycle.ErrInvalidCustomer)
		case r.bug == "put-conflict-partial":
			if old != nil {
				n := old.Clone()
				n.Due = c.Due
				r.cs[c.ID] = n
			}
			return &store.ConflictError{ID: c.ID, Want: prev, Have: have}
		default:
			return &store.ConflictError{ID: c.ID, Want: prev, Have: have}
		}
	}
	var k *lifecycle.Customer
	if r.bug == "put-keeps-c" {
		k = c
	} else {
		k = r.keep(c)
	}
	if r.bug == "seen-union" && old != nil {
		keys := slices.Collect(old.Seen.All())
		keys = append(keys, slices.Collect(k.Seen.All())...)
		k.Seen.Set(keys)
	}
	r.cs[c.ID] = k
	r.due[c.ID] = k.Due
	if r.bug != "feed-put-not-listed" {
		r.addFeed(c.ID, k.History, 0)
	}
	return nil
}

func rvHasOffsetSeconds(c *lifecycle.Customer) bool {
	ts := []time.Time{c.Since, c.AsOf, c.Due, c.Facts.First, c.Facts.Last, c.Facts.ReferredAt, c.Facts.ScoreAt}
	for _, t := range c.Facts.Tallies {
		ts = append(ts, t.First, t.Last)
	}
	for _, x := range c.Facts.Referrals {
		ts = append(ts, x.At)
	}
	for _, h := range c.History {
		ts = append(ts, h.At)
	}
	for _, t := range ts {
		if _, off := t.Zone(); off%60 != 0 {
			return true
		}
	}
	return false
}

func (r *rvStore) Delete(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cs, id)
	delete(r.due, id)
	if r.bug != "feed-delete-keeps-fed" {
		delete(r.fed, id)
	}
	for i := range r.feed {
		if r.feed[i].id == id && r.bug != "feed-delete-keeps-entries" {
			r.feed[i].id = "\x00deleted"
		}
	}
	return nil
}

func (r *rvStore) snapshot(shared bool) []*lifecycle.Customer {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*lifecycle.Customer, 0, len(r.cs))
	for _, c := range r.cs {
		if shared {
			out = append(out, c)
		} else {
			out = append(out, c.Clone())
		}
	}
	return out
}

func (r *rvStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if r.bug == "scan-holds-lock" {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, c := range r.cs {
				if !yield(c.Clone(), nil) {
					return
				}
			}
			return
		}
		all := r.snapshot(r.bug == "scan-shared")
		if r.bug == "scan-skip-one" && len(all) > 0 {
			all = all[1:]
		}
		if r.bug == "scan-dup" && len(all) > 0 {
			all = append(all, all[0].Clone())
		}
		for _, c := range all {
			if err := r.ctxErr(ctx, "scan"); err != nil {
				if !yield(nil, err) || r.bug != "scan-continues-after-error" {
					return
				}
				if !yield(c, nil) {
					return
				}
				continue
			}
			if !yield(c, nil) && r.bug != "scan-ignores-break" {
				return
			}
		}
	}
}

func (r *rvStore) View(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		all := r.snapshot(true)
		if r.bug == "view-skip-one" && len(all) > 0 {
			all = all[1:]
		}
		if r.bug == "view-dup" && len(all) > 0 {
			all = append(all, all[0])
		}
		for _, c := range all {
			if err := r.ctxErr(ctx, "view"); err != nil {
				yield(nil, err)
				return
			}
			if !yield(c, nil) && r.bug != "view-ignores-break" {
				return
			}
		}
	}
}

func (r *rvStore) isDue(d, now time.Time) bool {
	switch r.bug {
	case "due-strict-before":
		return d.IsZero() || d.Before(now)
	case "due-no-zero":
		return !d.IsZero() && !d.After(now)
	case "due-includes-future":
		return d.IsZero() || !d.After(now.Add(time.Hour))
	case "due-wallclock":
		w := time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), time.UTC)
		n := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
		return d.IsZero() || !w.After(n)
	case "due-late-subsecond":
		return d.IsZero() || !d.Truncate(time.Second).Add(time.Second).After(now)
	case "due-pre1970-never":
		return d.IsZero() || d.Year() >= 1970 && !d.After(now)
	case "ok-due-early-seconds":
		// docs/storage.md's Redis sketch: Due as whole Unix seconds rounded
		// down, ZRANGEBYSCORE key -inf now.
		// (In seconds and nanoseconds: UnixNano does not hold a now past
		// 2262.)
		return d.IsZero() || d.Unix() < now.Unix() || d.Unix() == now.Unix()
	case "due-omits-after-2262":
		// an index of int64 Unix nanoseconds that leaves out what it
		// cannot hold
		return d.IsZero() || d.Year() < 2262 && !d.After(now)
	case "due-lists-nondue-after-2262", "ok-due-clamp-never":
		// like Memory: Unix nanoseconds clamped to the int64 range (the
		// second keeps Never in its index, so lists it at a now past 2262)
		return d.IsZero() || rvClampNano(d) <= rvClampNano(now)
	}
	return d.IsZero() || !d.After(now)
}

func rvClampNano(t time.Time) int64 {
	if t.Year() > 2261 {
		return 1<<63 - 1
	}
	if t.Year() < 1678 {
		return -1 << 63
	}
	return t.UnixNano()
}

func (r *rvStore) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := r.ctxErr(ctx, "due"); err != nil {
			yield("", err)
			return
		}
		r.mu.Lock()
		var ids []string
		for id, c := range r.cs {
			d := c.Due
			if r.bug == "due-ignores-apply" {
				d = r.due[id]
			}
			if d.Equal(lifecycle.Never) && r.bug != "ok-due-never-listed" && r.bug != "ok-due-clamp-never" {
				continue
			}
			if r.isDue(d, now) {
				ids = append(ids, id)
			}
		}
		r.mu.Unlock()
		if r.bug == "due-first-page" && len(ids) > 100 {
			ids = ids[:100]
		}
		if r.bug == "due-dup" && len(ids) > 0 {
			ids = append(ids, ids[0])
		}
		for _, id := range ids {
			if err := r.ctxErr(ctx, "due"); err != nil {
				yield("", err)
				return
			}
			if !yield(id, nil) {
				return
			}
		}
	}
}

func (r *rvStore) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		if r.bug == "apply-first-only" && i > 0 {
			continue
		}
		r.applyOne(ctx, &ws[i])
	}
}

func (r *rvStore) applyOne(ctx context.Context, w *lifecycle.Write) {
	if err := ctx.Err(); err != nil && r.bug != "apply-no-ctx" {
		w.Err = err
		return
	}
	locked := r.bug != "apply-no-lock"
	r.mu.Lock()
	stored := r.cs[w.ID]
	var work *lifecycle.Customer
	var prev uint64
	if stored != nil {
		work = stored.Clone()
		prev = stored.Version
		if r.bug != "apply-gives-history-appends-all" && r.bug != "ok-apply-with-history" {
			work.History = nil
		}
	} else {
		work = &lifecycle.Customer{ID: w.ID}
		if r.bug == "apply-new-no-id" {
			work.ID = ""
		}
	}
	work.Seen = lifecycle.EventSet{}
	seen := make([]bool, len(w.Events))
	for i, ev := range w.Events {
		if stored != nil && r.bug != "apply-seen-false" {
			if r.bug == "apply-legacy-ignored" {
				seen[i] = slices.Contains(slices.Collect(stored.Seen.All()), lifecycle.KeyOf(ev))
			} else {
				seen[i] = stored.Seen.Has(ev)
			}
		}
	}
	if r.bug == "apply-seen-reversed" {
		slices.Reverse(seen)
	}
	if !locked {
		r.mu.Unlock()
		// A store without a lock has a window between its read and its
		// write (a round trip, for a database); yield, so that writers
		// racing it land in that window on a loaded machine too (the
		// bug's detection must not depend on the scheduler's luck).
		runtime.Gosched()
	}
	ok, err := w.Fn(work, seen)
	if !locked {
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	if err != nil {
		w.Err = err
		if r.bug == "apply-err-wrapped" {
			w.Err = fmt.Errorf("rv: %w", err)
		}
		if r.bug != "apply-fn-error-stores" {
			return
		}
	}
	if !ok && r.bug != "apply-stores-on-false" {
		return
	}
	if work.Version != prev+1 && r.bug != "apply-no-version-check" && r.bug != "apply-stores-on-false" {
		w.Err = fmt.Errorf("rv: %q: version %d, want %d: %w", w.ID, work.Version, prev+1, lifecycle.ErrInvalidCustomer)
		return
	}
	if r.bug == "apply-stores-on-false" && !ok {
		work.Version = prev + 1
	}
	n := r.keep(work)
	n.ID = w.ID
	if r.bug == "ok-apply-with-history" && stored != nil {
		if len(n.History) > len(stored.History) {
			n.History = n.History[len(stored.History):]
		} else {
			n.History = nil
		}
	}
	var hist []lifecycle.Transition
	base := 0
	if stored != nil && r.bug != "apply-replaces-history" {
		hist = slices.Clone(stored.History)
		base = len(hist)
	}
	hist = append(hist, n.History...)
	if r.bug == "apply-replaces-history" {
		base = 0
		if stored != nil {
			base = len(stored.History)
		}
	}
	n.History = hist
	var keys []lifecycle.EventKey
	if stored != nil {
		keys = slices.Collect(stored.Seen.All())
	}
	if r.bug != "apply-seen-not-recorded" {
		for i, ev := range w.Events {
			if !seen[i] {
				keys = append(keys, lifecycle.KeyOf(ev))
			}
		}
	}
	n.Seen.Set(keys)
	if r.bug == "apply-stale-due" && stored != nil {
		n.Due = stored.Due
	}
	r.cs[w.ID] = n
	if r.bug != "feed-apply-not-listed" {
		r.addFeed(w.ID, n.History, base)
	}
}

func (r *rvStore) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if err := r.ctxErr(ctx, "feed"); err != nil {
		return nil, err
	}
	if limit < 1 {
		if r.bug == "feed-limit-zero-empty" {
			return nil, nil
		}
		limit = 100
	}
	if r.bug == "feed-limit-ignored" {
		limit = 1 << 30
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []lifecycle.Change
	start := int(after)
	if r.bug == "feed-relists-last" && start > 0 {
		start--
	}
	for i := start; i < len(r.feed) && len(out) < limit; i++ {
		e := r.feed[i]
		c := r.cs[e.id]
		if c == nil && r.bug != "feed-deleted-listed" {
			continue
		}
		if c == nil || e.seq > uint64(len(c.History)) {
			if r.bug == "feed-stops-at-hidden" {
				break
			}
			if r.bug != "feed-hidden-listed" {
				continue
			}
		}
		tr := r.snap[e]
		if c != nil && e.seq <= uint64(len(c.History)) && r.bug != "feed-stale-transition" {
			tr = c.History[e.seq-1]
		}
		seq := e.seq
		if r.bug == "feed-seq-zero-based" {
			seq--
		}
		out = append(out, lifecycle.Change{CustomerID: e.id, Transition: tr, Seq: seq, Pos: lifecycle.Cursor(i + 1)})
	}
	if r.bug == "feed-page-reversed" {
		slices.Reverse(out)
	}
	return out, nil
}

func (r *rvStore) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := r.ctxErr(ctx, "cur"); err != nil {
		return 0, false, err
	}
	if r.bug == "ok-empty-owner-refused" && owner == "" {
		return 0, false, errors.New("rv: empty owner refused")
	}
	r.mu.Lock()
	cur := r.cursors[name]
	if cur == nil {
		cur = &rvCursor{}
		r.cursors[name] = cur
	}
	active := cur.held && now.Before(cur.until)
	if r.bug == "cur-end-inclusive" {
		active = cur.held && !now.After(cur.until)
	}
	if r.bug == "cur-empty-owner-nobody" && cur.owner == "" {
		active = false
	}
	if r.bug == "cur-race" {
		r.mu.Unlock()
		time.Sleep(time.Millisecond)
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	if active && cur.owner != owner && r.bug != "cur-steal" {
		return cur.pos, false, nil
	}
	if r.bug == "cur-claim-resets" && cur.owner != owner {
		cur.pos = 0
	}
	if r.bug == "cur-no-renew-claim" && active && cur.owner == owner {
		return cur.pos, true, nil
	}
	// An until at or before now gives the lease up (held false: free for
	// anyone, whatever their clock).
	cur.owner, cur.held, cur.until = owner, until.After(now), until
	return cur.pos, cur.held, nil
}

func (r *rvStore) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := r.ctxErr(ctx, "cur"); err != nil {
		return err
	}
	if r.bug == "ok-empty-owner-refused" && owner == "" {
		return errors.New("rv: empty owner refused")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.cursors[name]
	holds := cur != nil && cur.held && cur.owner == owner && now.Before(cur.until)
	switch r.bug {
	case "cur-advance-nonholder":
		holds = cur != nil
	case "cur-expired-advance":
		holds = cur != nil && cur.held && cur.owner == owner
	}
	if !holds {
		return fmt.Errorf("rv: cursor %q not held by %q: %w", name, owner, lifecycle.ErrConflict)
	}
	if c < cur.pos && r.bug != "cur-advance-back" {
		return fmt.Errorf("rv: cursor %q back: %w", name, lifecycle.ErrConflict)
	}
	cur.pos = c
	if r.bug != "cur-no-renew" {
		cur.until = until
	}
	if !until.After(now) {
		if r.bug == "cur-no-giveup" {
			cur.until = now.Add(time.Hour)
		} else {
			cur.held = false
		}
	}
	return nil
}

var (
	_ lifecycle.Store        = (*rvStore)(nil)
	_ lifecycle.Loader       = (*rvStore)(nil)
	_ lifecycle.Viewer       = (*rvStore)(nil)
	_ lifecycle.Applier      = (*rvStore)(nil)
	_ lifecycle.DueLister    = (*rvStore)(nil)
	_ lifecycle.ChangeLister = (*rvStore)(nil)
	_ lifecycle.CursorKeeper = (*rvStore)(nil)
)
