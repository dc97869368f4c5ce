package sqlstore_test

import (
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestContractLoadReusesDst: Load "copies the customer with this ID into dst,
// reusing dst's slices, as lifecycle.Loader describes; it fails as Store.Get
// does" - the result equals Get, whatever dst held before.
func TestContractLoadReusesDst(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		big := zzBase("big")
		for i := range 50 {
			big.History = append(big.History, lifecycle.Transition{From: "a", To: "b", At: zzT0, Cause: fmt.Sprint(i)})
			big.Facts.Tallies = append(big.Facts.Tallies, lifecycle.Tally{Type: lifecycle.EventType(fmt.Sprintf("acme.%02d", i)), Count: 1, First: zzT0, Last: zzT0})
			big.Seen.Add(lifecycle.KeyOf(fmt.Sprint("k", i)))
		}
		big.Facts.ReferredBy, big.Facts.ReferredAt, big.Facts.Score, big.Facts.ScoreAt = "ref", zzT0, 9, zzT0
		require.NoError(t, s.Put(ctx, big, 0))
		small := &lifecycle.Customer{ID: "small", Stage: "reach", Version: 1, AsOf: zzT0, Since: zzT0}
		require.NoError(t, s.Put(ctx, small, 0))
		var dst lifecycle.Customer
		require.NoError(t, s.Load(ctx, "big", &dst))
		g, _ := s.Get(ctx, "big")
		assert.Empty(t, cmp.Diff(g, &dst, zzExact))
		require.NoError(t, s.Load(ctx, "small", &dst))
		g, _ = s.Get(ctx, "small")
		assert.Empty(t, cmp.Diff(g, &dst, zzExact), "Load into a reused Customer left something behind")
	})
}

// TestContractChangesFarCursor: Changes lists "changes whose Pos is after
// after": a cursor past every position lists nothing.
func TestContractChangesFarCursor(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		_, err := tr.Record(ctx, lifecycle.Event{ID: "1", CustomerID: "c", Type: "site_visited", Time: zzT0})
		require.NoError(t, err)
		for _, after := range []lifecycle.Cursor{1000, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
			p, err := s.Changes(ctx, after, 10)
			if err == nil {
				assert.Empty(t, p, "Changes(after=%d) lists changes before it", after)
			}
		}
		p, err := s.Changes(ctx, 0, math.MaxInt)
		require.NoError(t, err)
		assert.Len(t, p, 1)
	})
}

// TestContractCursorNeverMovesBack: CursorKeeper: "when c is before the
// stored cursor, it stores nothing and returns an error wrapping
// ErrConflict" - also for cursors past 2^63.
func TestContractCursorNeverMovesBack(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		_, held, err := s.ClaimCursor(ctx, "n", "A", zzT0, zzT0.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, held)
		big := lifecycle.Cursor(math.MaxInt64 + 10)
		err = s.AdvanceCursor(ctx, "n", "A", big, zzT0, zzT0.Add(time.Hour))
		if err != nil {
			t.Logf("AdvanceCursor(2^63+9) refused: %v", err)
			return
		}
		c, _, err := s.ClaimCursor(ctx, "n", "A", zzT0, zzT0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, big, c, "the stored cursor")
		err = s.AdvanceCursor(ctx, "n", "A", 5, zzT0, zzT0.Add(time.Hour))
		assert.ErrorIs(t, err, lifecycle.ErrConflict, "cursor moved back from 2^63+9 to 5")
	})
}

// TestContractFeedShortenedHistory: ChangeLister: "A Put may shorten a
// history: a Seq past its new length keeps its place in the feed but is not
// listed while the history is shorter, and a later write that fills it again
// adds no new change; the change at that place is listed as the history holds
// it then".
func TestContractFeedShortenedHistory(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		tr := func(from, to, cause string) lifecycle.Transition {
			return lifecycle.Transition{From: stage.ID(from), To: stage.ID(to), At: zzT0, Cause: cause}
		}
		c := &lifecycle.Customer{ID: "c", Stage: "z", Since: zzT0, AsOf: zzT0, Version: 1,
			History: []lifecycle.Transition{tr("", "x", "1"), tr("x", "y", "2"), tr("y", "z", "3")}}
		require.NoError(t, s.Put(ctx, c, 0))
		c.Version, c.History = 2, c.History[:1]
		require.NoError(t, s.Put(ctx, c, 1))
		p := zzAllChanges(t, s, 0, 10)
		require.Len(t, p, 1)
		assert.Equal(t, uint64(1), p[0].Seq)
		c.Version, c.History = 3, []lifecycle.Transition{tr("", "x", "1"), tr("x", "q", "2b"), tr("q", "r", "3b"), tr("r", "s", "4")}
		require.NoError(t, s.Put(ctx, c, 2))
		all := zzAllChanges(t, s, 0, 10)
		require.Len(t, all, 4)
		for i, ch := range all {
			assert.Equal(t, uint64(i+1), ch.Seq)
			assert.Equal(t, c.History[i], ch.Transition)
		}
		assert.Less(t, all[2].Pos, all[3].Pos)
		after := zzAllChanges(t, s, p[0].Pos, 10)
		assert.Len(t, after, 3)
		var n int
		require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM `+s.Table("changes")).Scan(&n))
		assert.Equal(t, 4, n, "filling seq 2 and 3 again adds no new change rows")
	})
}

// zzDeletingLister deletes a customer after ListDue has listed it, before
// the Tracker writes it.
type zzDeletingLister struct {
	*sqlstore.Store
	victim string
}

func (z *zzDeletingLister) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var ids []string
		for id, err := range z.Store.ListDue(ctx, now) {
			if err != nil {
				yield("", err)
				return
			}
			ids = append(ids, id)
		}
		if err := z.Store.Delete(ctx, z.victim); err != nil {
			yield("", err)
			return
		}
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

// TestContractSweepDoesNotRecreate: Sweep doc: "a customer deleted after
// being listed is not re-created".
func TestContractSweepDoesNotRecreate(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		for _, id := range []string{"a", "b", "c"} {
			_, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: id, Type: "order_completed", Time: zzT0})
			require.NoError(t, err)
		}
		w := lifecycle.NewTracker(model.SterneCutler(), &zzDeletingLister{Store: s, victim: "b"}, zzClock())
		res, err := w.Sweep(ctx, zzT0.Add(200*24*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 2, res.Moved)
		_, err = s.Get(ctx, "b")
		assert.ErrorIs(t, err, lifecycle.ErrNotFound, "deleted customer re-created by the sweep")
		assert.Equal(t, 2, zzCount(t, s, "customers"))
	})
}

// TestContractBatchesRacing: two Stores send overlapping RecordBatches of
// more than 64 customers (the split write on PostgreSQL), each retried: every
// event applied once over all callers; retried batches all Duplicate.
func TestContractBatchesRacing(t *testing.T) {
	evs := zzStream(150, 2, 29)
	want := zzStates(zzReplay(t, model.SterneCutler(), evs))
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		ss := []*sqlstore.Store{e.open(t), e.open(t)}
		ctx := context.Background()
		var mu sync.Mutex
		applied := map[string]int{}
		var wg sync.WaitGroup
		for w := range 4 {
			tr := lifecycle.NewTracker(model.SterneCutler(), ss[w%2], zzClock())
			batch := append([]lifecycle.Event(nil), evs...)
			r := rand.New(rand.NewPCG(uint64(w), 9))
			r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
			batch = append(batch, batch[:20]...) // duplicates within the batch
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 2 {
					res, err := tr.RecordBatch(ctx, batch)
					if err != nil {
						t.Errorf("batch: %v", err)
						return
					}
					mu.Lock()
					for _, r := range res {
						if !r.Duplicate && r.Err == nil {
							applied[r.CustomerID+"/"+r.EventID]++
							if round == 1 {
								t.Errorf("retried batch applied %s", r.EventID)
							}
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, ev := range evs {
			assert.Equal(t, 1, applied[ev.CustomerID+"/"+ev.ID], ev.ID)
		}
		assert.Empty(t, cmp.Diff(want, zzStates(zzAll(t, ss[0])), zzExact))
		assert.Equal(t, len(evs), zzCount(t, ss[0], "events"))
	})
}

// TestContractPutAfterHeldRow: the same Store writes a customer through the
// Tracker (holding its row), then with Put; the next Record must build on
// what Put stored ("a stale row ... costs a retry, never a wrong result").
func TestContractPutAfterHeldRow(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		_, err := tr.Record(ctx, lifecycle.Event{ID: "e1", CustomerID: "c", Type: "site_visited", Time: zzT0})
		require.NoError(t, err)
		c, err := s.Get(ctx, "c")
		require.NoError(t, err)
		c.Facts.ReferredBy = "set-by-put"
		c.Seen.Add(lifecycle.KeyOf("e-put"))
		c.Version++
		require.NoError(t, s.Put(ctx, c, c.Version-1))
		r, err := tr.Record(ctx, lifecycle.Event{ID: "e-put", CustomerID: "c", Type: "site_visited", Time: zzT0})
		require.NoError(t, err)
		assert.True(t, r.Duplicate, "event Put marked seen")
		_, err = tr.Record(ctx, lifecycle.Event{ID: "e2", CustomerID: "c", Type: "site_visited", Time: zzT0})
		require.NoError(t, err)
		g, err := s.Get(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, "set-by-put", g.Facts.ReferredBy)
		assert.Equal(t, uint64(3), g.Version)
		assert.Equal(t, 3, g.Seen.Len())
	})
}
