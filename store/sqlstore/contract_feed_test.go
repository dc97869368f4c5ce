package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store/sqlstore"
)

func zzAllChanges(t testing.TB, s *sqlstore.Store, after lifecycle.Cursor, limit int) []lifecycle.Change {
	t.Helper()
	var out []lifecycle.Change
	for {
		page, err := s.Changes(context.Background(), after, limit)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Pos
	}
}

// TestContractChangesListEveryTransition: ChangeLister doc: "Every transition
// a write commits to a customer's history ... is listed exactly once, with
// the customer ID and its position in the history (Seq)"; "A customer's
// changes are listed in Seq order"; "limit < 1 means 100"; the feed is
// "shared by every Store on the same tables". Writers on two Stores, a reader
// paging concurrently on a third.
func TestContractChangesListEveryTransition(t *testing.T) {
	evs := zzStream(20, 8, 23)
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1, s2, s3 := e.open(t), e.open(t), e.open(t)
		ctx := context.Background()
		var wg sync.WaitGroup
		for w, s := range []*sqlstore.Store{s1, s2} {
			tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, ev := range evs {
					if i%2 == w || i%5 == 0 {
						if _, err := tr.Record(ctx, ev); err != nil {
							t.Errorf("record: %v", err)
						}
					}
				}
			}()
		}
		done := make(chan struct{})
		stop := make(chan struct{})
		var listed []lifecycle.Change
		var after lifecycle.Cursor
		go func() {
			defer close(done)
			for {
				page, err := s3.Changes(ctx, after, 3)
				if err != nil {
					t.Errorf("changes: %v", err)
					return
				}
				listed = append(listed, page...)
				if len(page) > 0 {
					after = page[len(page)-1].Pos
				}
				select {
				case <-stop:
					if len(page) == 0 {
						return
					}
				default:
				}
			}
		}()
		wg.Wait()
		close(stop)
		<-done
		listed = append(listed, zzAllChanges(t, s3, after, 0)...)
		cs := zzAll(t, s1)
		total := 0
		for _, c := range cs {
			total += len(c.History)
		}
		assert.Equal(t, total, len(listed), "every transition listed once")
		seen := map[string]bool{}
		lastSeq := map[string]uint64{}
		var lastPos lifecycle.Cursor
		for _, ch := range listed {
			k := fmt.Sprint(ch.CustomerID, "/", ch.Seq)
			assert.False(t, seen[k], "listed twice: %s", k)
			seen[k] = true
			assert.Greater(t, ch.Pos, lastPos, "positions increase")
			lastPos = ch.Pos
			assert.Greater(t, ch.Seq, lastSeq[ch.CustomerID], "seq order for %s", ch.CustomerID)
			lastSeq[ch.CustomerID] = ch.Seq
			c := cs[ch.CustomerID]
			if assert.NotNil(t, c) && assert.LessOrEqual(t, int(ch.Seq), len(c.History)) {
				assert.Empty(t, cmp.Diff(c.History[ch.Seq-1], ch.Transition, zzExact))
			}
			assert.False(t, ch.Undeclared)
			assert.True(t, strings.HasPrefix(ch.ID(), "chg_") && len(ch.ID()) == 36, ch.ID())
		}
		// limit < 1 means 100
		if total > 100 {
			p, err := s1.Changes(ctx, 0, 0)
			require.NoError(t, err)
			assert.Len(t, p, 100)
			p, err = s1.Changes(ctx, 0, -5)
			require.NoError(t, err)
			assert.Len(t, p, 100)
		}
		// s1 and s2 list the same feed at the same positions
		assert.Empty(t, cmp.Diff(zzAllChanges(t, s1, 0, 50), zzAllChanges(t, s2, 0, 7), zzExact))
	})
}

// TestContractChangesAfterDelete: "Positions are never reused, even after
// Delete, which removes the customer's rows (its changes not yet listed are
// never listed)"; Change.ID: "After a customer is deleted, recording the same
// events again gives the same transitions at the same positions, hence the
// same IDs".
func TestContractChangesAfterDelete(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		rec := func(cid, id string, ty lifecycle.EventType, h int) {
			_, err := tr.Record(ctx, lifecycle.Event{ID: id, CustomerID: cid, Type: ty, Time: zzT0.Add(time.Duration(h) * time.Hour)})
			require.NoError(t, err)
		}
		rec("a", "1", "site_visited", 1)
		rec("a", "2", "order_completed", 2)
		first := zzAllChanges(t, s, 0, 10)
		require.Len(t, first, 2)
		rec("a", "3", "order_completed", 3)
		rec("b", "1", "order_completed", 3)
		require.NoError(t, s.Delete(ctx, "a"))
		next := zzAllChanges(t, s, first[1].Pos, 10)
		require.Len(t, next, 1, "only b's change: %+v", next)
		assert.Equal(t, "b", next[0].CustomerID)
		rec("a", "1", "site_visited", 1)
		rec("a", "2", "order_completed", 2)
		again := zzAllChanges(t, s, next[0].Pos, 10)
		require.Len(t, again, 2)
		for i := range again {
			assert.Greater(t, again[i].Pos, next[0].Pos)
			assert.Equal(t, first[i].ID(), again[i].ID(), "same transitions, same IDs")
		}
	})
}

// TestContractCursors: CursorKeeper doc rules and ClaimCursor's refusals.
func TestContractCursors(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s, s2 := e.open(t), e.open(t)
		ctx := context.Background()
		now := zzT0
		c, held, err := s.ClaimCursor(ctx, "n", "A", now, now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, held)
		assert.Zero(t, c)
		_, held, err = s2.ClaimCursor(ctx, "n", "B", now.Add(30*time.Second), now.Add(2*time.Minute))
		require.NoError(t, err)
		assert.False(t, held, "B while A holds")
		err = s2.AdvanceCursor(ctx, "n", "B", 5, now, now.Add(time.Minute))
		assert.ErrorIs(t, err, lifecycle.ErrConflict)
		require.NoError(t, s.AdvanceCursor(ctx, "n", "A", 7, now.Add(time.Second), now.Add(time.Minute)))
		err = s.AdvanceCursor(ctx, "n", "A", 6, now.Add(time.Second), now.Add(time.Minute))
		assert.ErrorIs(t, err, lifecycle.ErrConflict, "moving back")
		// renewal
		c, held, err = s.ClaimCursor(ctx, "n", "A", now.Add(2*time.Second), now.Add(time.Hour))
		require.NoError(t, err)
		assert.True(t, held)
		assert.Equal(t, lifecycle.Cursor(7), c)
		// ended at or before now: B takes over
		c, held, err = s2.ClaimCursor(ctx, "n", "B", now.Add(time.Hour), now.Add(2*time.Hour))
		require.NoError(t, err)
		assert.True(t, held, "lease ended at now")
		assert.Equal(t, lifecycle.Cursor(7), c)
		err = s.AdvanceCursor(ctx, "n", "A", 9, now.Add(time.Hour), now.Add(3*time.Hour))
		assert.ErrorIs(t, err, lifecycle.ErrConflict, "A's lease ended")
		// give up: until at or before now
		require.NoError(t, s2.AdvanceCursor(ctx, "n", "B", 8, now.Add(time.Hour+time.Second), now.Add(time.Hour+time.Second)))
		c, held, err = s.ClaimCursor(ctx, "n", "A", now.Add(time.Hour+2*time.Second), now.Add(5*time.Hour))
		require.NoError(t, err)
		assert.True(t, held, "after B gave up")
		assert.Equal(t, lifecycle.Cursor(8), c)

		// the empty owner is an owner like any other, or refused
		_, held, err = s.ClaimCursor(ctx, "e", "", now, now.Add(time.Minute))
		if err == nil {
			assert.True(t, held)
			_, held2, err2 := s.ClaimCursor(ctx, "e", "X", now, now.Add(time.Minute))
			require.NoError(t, err2)
			assert.False(t, held2, `"" holds the lease, X must not get it`)
		}

		// extreme times: years 1 and 9999, sub-microsecond
		far := lifecycle.Never
		_, held, err = s.ClaimCursor(ctx, "far", "A", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), far)
		require.NoError(t, err)
		assert.True(t, held)
		_, held, err = s2.ClaimCursor(ctx, "far", "B", far.Add(-time.Second), far)
		require.NoError(t, err)
		assert.False(t, held, "lease until Never still held a second before")

		// names and owners the table cannot hold
		for _, bad := range []string{zzRepeat("n", 257), "a\xff", "a\x00"} {
			_, _, err := s.ClaimCursor(ctx, bad, "A", now, now.Add(time.Minute))
			assert.ErrorIs(t, err, sqlstore.ErrInvalidCursor, "name %q", bad)
			_, _, err = s.ClaimCursor(ctx, "ok", bad, now, now.Add(time.Minute))
			assert.ErrorIs(t, err, sqlstore.ErrInvalidCursor, "owner %q", bad)
			err = s.AdvanceCursor(ctx, bad, "A", 1, now, now.Add(time.Minute))
			assert.ErrorIs(t, err, sqlstore.ErrInvalidCursor, "advance name %q", bad)
			err = s.AdvanceCursor(ctx, "ok", bad, 1, now, now.Add(time.Minute))
			assert.ErrorIs(t, err, sqlstore.ErrInvalidCursor, "advance owner %q", bad)
			if err != nil {
				assert.True(t, strings.Contains(err.Error(), "owner") || strings.Contains(err.Error(), "name"), err.Error())
			}
		}
		// the longest and odd but holdable names
		for _, ok := range []string{zzRepeat("é", 128), "\t\n\x01", " x "} {
			_, held, err := s.ClaimCursor(ctx, ok, ok, now, now.Add(time.Minute))
			require.NoError(t, err, "%q", ok)
			assert.True(t, held)
			require.NoError(t, s.AdvanceCursor(ctx, ok, ok, 3, now, now.Add(time.Minute)))
			c, held, err := s2.ClaimCursor(ctx, ok, ok, now, now.Add(time.Minute))
			require.NoError(t, err)
			assert.True(t, held)
			assert.Equal(t, lifecycle.Cursor(3), c)
		}
		_ = errors.Is
	})
}

// TestContractCursorConcurrentClaim: "one at a time holds the name" - many
// claimants at once, on two Stores: exactly one holds it.
func TestContractCursorConcurrentClaim(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		ss := []*sqlstore.Store{e.open(t), e.open(t)}
		ctx := context.Background()
		var mu sync.Mutex
		holders := 0
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, held, err := ss[i%2].ClaimCursor(ctx, "race", fmt.Sprint("o", i), zzT0, zzT0.Add(time.Minute))
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if held {
					mu.Lock()
					holders++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 1, holders)
	})
}
