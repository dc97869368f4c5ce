package storetest_test

import (
	"context"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// applyStops applies the writes one at a time and stops at the first that
// fails: the writes after it keep a nil Err and are not stored.
type applyStops struct{ *store.Memory }

func (a applyStops) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		a.Memory.Apply(ctx, ws[i:i+1])
		if ws[i].Err != nil {
			return
		}
	}
}

// applyShallow hands fn a copy of the stored customer that shares its
// Facts' slices with the one it keeps: what a failing fn does to them
// reaches the store.
type applyShallow struct{ *store.Memory }

func (a applyShallow) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		w := &ws[i]
		stored, err := a.Memory.Get(ctx, w.ID)
		if err != nil {
			a.Memory.Apply(ctx, ws[i:i+1])
			continue
		}
		seen := make([]bool, len(w.Events))
		for k, e := range w.Events {
			seen[k] = stored.HasSeen(e)
		}
		c := *stored
		c.History, c.Seen = nil, lifecycle.EventSet{}
		prev := c.Version
		changed, err := w.Fn(&c, seen)
		if err != nil || !changed {
			// Memory's Get returned its own copy; write back what the
			// shared slices now hold, as a store keeping them would.
			stored.Version++
			w.Err = a.Memory.Put(ctx, stored, prev)
			if w.Err == nil {
				w.Err = err
			}
			continue
		}
		a.Memory.Apply(ctx, ws[i:i+1])
	}
}

// dueOffset lists the due customers in pages of 256 by an offset into the
// sorted due set, read again for each page: a loop body that makes the
// customers it is given no longer due shrinks the set, and the pages skip
// some.
type dueOffset struct{ *store.Memory }

func (d dueOffset) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	const page = 256
	return func(yield func(string, error) bool) {
		for off := 0; ; off += page {
			var ids []string
			for id, err := range d.Memory.ListDue(ctx, now) {
				if err != nil {
					yield("", err)
					return
				}
				ids = append(ids, id)
			}
			slices.Sort(ids)
			if off >= len(ids) {
				return
			}
			for _, id := range ids[off:min(off+page, len(ids))] {
				if !yield(id, nil) {
					return
				}
			}
		}
	}
}

// The Apply rules catch a store that drops the writes after a failing one,
// and one whose working copy shares slices with the stored customer (both
// passed the suite before)...
func TestApplyGaps(t *testing.T) {
	for name, s := range map[string]lifecycle.Store{
		"stops at the first failure": applyStops{store.NewMemory()},
		"shallow working copy":       applyShallow{store.NewMemory()},
	} {
		err := storetest.TestStore(s)
		if err == nil || !strings.Contains(err.Error(), "ApplyMany") {
			t.Errorf("%s: TestStore = %v; want ApplyMany to fail", name, err)
		}
	}
	// ... and ListDue one that pages by an offset into a due set its loop
	// body shrinks.
	if err := storetest.TestStore(dueOffset{store.NewMemory()}); err == nil || !strings.Contains(err.Error(), "ListDue") {
		t.Errorf("paging by offset: TestStore = %v; want ListDue to fail", err)
	}
}
