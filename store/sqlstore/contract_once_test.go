package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// zzStream makes a shop stream: n customers, k events each, every third
// customer referred by the previous one (one referrer per customer).
func zzStream(n, k int, seed uint64) []lifecycle.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	types := []lifecycle.EventType{"site_visited", "product_viewed", "cart_added", "order_completed", "order_completed", "order_refunded", "survey_answered", "acme.custom"}
	var evs []lifecycle.Event
	for c := range n {
		cid := fmt.Sprintf("cust-%04d", c)
		for j := range k {
			ty := types[r.IntN(len(types))]
			e := lifecycle.Event{ID: fmt.Sprintf("ev-%d-%d", c, j), CustomerID: cid, Type: ty, Time: zzT0.Add(time.Duration(r.IntN(400*24)) * time.Hour)}
			switch ty {
			case "order_completed", "order_refunded":
				e.Amount, e.Currency = int64(r.IntN(10000)+1), []string{"EUR", "USD"}[r.IntN(2)]
			case "survey_answered":
				e.Attrs = map[string]string{"score": fmt.Sprint(r.IntN(11))}
			}
			if c%3 == 2 && j == 0 {
				e.ReferrerID = fmt.Sprintf("cust-%04d", c-1)
			}
			evs = append(evs, e)
		}
	}
	return evs
}

func zzReplay(t testing.TB, m lifecycle.Model, evs []lifecycle.Event) map[string]*lifecycle.Customer {
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(m, mem, zzClock())
	for _, e := range evs {
		_, err := tr.Record(context.Background(), e)
		require.NoError(t, err)
	}
	return zzAll(t, mem)
}

func zzStates(cs map[string]*lifecycle.Customer) map[string]*lifecycle.Customer {
	out := map[string]*lifecycle.Customer{}
	for id, c := range cs {
		out[id] = zzState(c)
	}
	return out
}

// TestContractConcurrentTwoStores: README "any number of goroutines (and
// Trackers in several processes sharing a SQL store) may record at once";
// Tracker doc "Idempotent ... Order-independent". Two Stores on the same
// tables, 3 goroutines each, every event delivered 1-3 times, shuffled.
func TestContractConcurrentTwoStores(t *testing.T) {
	evs := zzStream(10, 12, 7)
	want := zzStates(zzReplay(t, model.SterneCutler(), evs))
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1, s2 := e.open(t), e.open(t)
		var deliveries []lifecycle.Event
		r := rand.New(rand.NewPCG(3, 4))
		for _, ev := range evs {
			for range 1 + r.IntN(3) {
				deliveries = append(deliveries, ev)
			}
		}
		r.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
		var mu sync.Mutex
		applied := map[string]int{}
		ch := make(chan lifecycle.Event)
		var wg sync.WaitGroup
		for w := range 6 {
			s := s1
			if w%2 == 1 {
				s = s2
			}
			tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ev := range ch {
					res, err := tr.Record(context.Background(), ev)
					if err != nil {
						t.Errorf("record %s: %v", ev.ID, err)
						continue
					}
					if !res.Duplicate {
						mu.Lock()
						applied[ev.CustomerID+"/"+ev.ID]++
						mu.Unlock()
					}
				}
			}()
		}
		for _, ev := range deliveries {
			ch <- ev
		}
		close(ch)
		wg.Wait()
		for _, ev := range evs {
			assert.Equal(t, 1, applied[ev.CustomerID+"/"+ev.ID], "event %s applied", ev.ID)
		}
		got := zzStates(zzAll(t, s1))
		assert.Empty(t, cmp.Diff(want, got, zzExact))
		assert.Equal(t, len(evs), zzCount(t, s1, "events"))
		// every customer's events rows agree with its Seen
		for id, c := range zzAll(t, s2) {
			var n int
			q := `SELECT count(*) FROM ` + s2.Table("events") + ` WHERE customer_id = ` + map[sqlstore.Dialect]string{sqlstore.SQLite: "?", sqlstore.Postgres: "$1"}[d]
			require.NoError(t, s2.DB().QueryRow(q, id).Scan(&n))
			assert.Equal(t, c.Seen.Len(), n, id)
		}
	})
}

// TestContractDeleteRecreate: "Delete removes a customer and the record of
// their applied events, in one transaction; deleting a missing customer is
// not an error." After it, the same events are new again, through the same
// Store (which held the row) and another one.
func TestContractDeleteRecreate(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1, s2 := e.open(t), e.open(t)
		ctx := context.Background()
		t1 := lifecycle.NewTracker(model.SterneCutler(), s1, zzClock())
		ev := func(id string, ty lifecycle.EventType, h int) lifecycle.Event {
			return lifecycle.Event{ID: id, CustomerID: "c", Type: ty, Time: zzT0.Add(time.Duration(h) * time.Hour), Amount: 100, Currency: "EUR"}
		}
		for i, e := range []lifecycle.Event{ev("e1", "order_completed", 1), ev("e2", "order_completed", 2)} {
			_, err := t1.Record(ctx, e)
			require.NoError(t, err, i)
		}
		require.NoError(t, s1.Delete(ctx, "c"))
		require.NoError(t, s1.Delete(ctx, "c"), "deleting a missing customer")
		_, err := s1.Get(ctx, "c")
		assert.ErrorIs(t, err, lifecycle.ErrNotFound)
		assert.Zero(t, zzCount(t, s1, "events"))
		assert.Zero(t, zzCount(t, s1, "customers"))
		chs, err := s1.Changes(ctx, 0, 100)
		require.NoError(t, err)
		assert.Empty(t, chs, "changes of a deleted customer not listed before are never listed")

		// same store, same events: applied again
		r, err := t1.Record(ctx, ev("e1", "order_completed", 1))
		require.NoError(t, err)
		assert.False(t, r.Duplicate, "e1 after delete")
		assert.Equal(t, uint64(1), r.Version)
		c, err := s1.Get(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, int64(1), c.Facts.Orders())
		assert.Len(t, c.History, 1)

		// another store deletes while s1 holds the row; s1 writes again
		require.NoError(t, s2.Delete(ctx, "c"))
		r, err = t1.Record(ctx, ev("e3", "site_visited", 3))
		require.NoError(t, err)
		assert.False(t, r.Duplicate)
		c, err = s2.Get(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, int64(0), c.Facts.Orders(), "old facts came back after delete: %+v", c.Facts)
		assert.Equal(t, uint64(1), c.Version)
		assert.False(t, c.HasSeen("e1"))
		assert.Equal(t, 1, zzCount(t, s1, "events"))

		// delete and re-create up to the same version through s2, then s1 writes from its held row
		require.NoError(t, s2.Delete(ctx, "c"))
		t2 := lifecycle.NewTracker(model.SterneCutler(), s2, zzClock())
		_, err = t2.Record(ctx, ev("e9", "order_completed", 9))
		require.NoError(t, err)
		r, err = t1.Record(ctx, ev("e4", "order_completed", 4))
		require.NoError(t, err)
		assert.False(t, r.Duplicate)
		c, err = s1.Get(ctx, "c")
		require.NoError(t, err)
		assert.True(t, c.HasSeen("e9") && c.HasSeen("e4") && !c.HasSeen("e3"), "seen: e9 %v e4 %v e3 %v", c.HasSeen("e9"), c.HasSeen("e4"), c.HasSeen("e3"))
		assert.Equal(t, int64(2), c.Facts.Orders())
		assert.Equal(t, uint64(2), c.Version)
	})
}

// TestContractSweepOnlyDue: Tracker.Sweep doc: "Customers who are not due are
// neither read through the store's index (DueLister) nor written".
func TestContractSweepOnlyDue(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t, sqlstore.WithScanPageSize(1))
		ctx := context.Background()
		var moves []lifecycle.Change
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock(), lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) { moves = append(moves, ch) }))
		for i := range 5 {
			_, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: fmt.Sprint("early", i), Type: "order_completed", Time: zzT0})
			require.NoError(t, err)
			_, err = tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: fmt.Sprint("late", i), Type: "order_completed", Time: zzT0.Add(100 * 24 * time.Hour)})
			require.NoError(t, err)
			_, err = tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: fmt.Sprint("visitor", i), Type: "ad_impression", Time: zzT0})
			require.NoError(t, err)
		}
		before := zzAll(t, s)
		now := zzT0.Add(181 * 24 * time.Hour)
		var due []string
		for id, err := range s.ListDue(ctx, now) {
			require.NoError(t, err)
			due = append(due, id)
		}
		assert.ElementsMatch(t, []string{"early0", "early1", "early2", "early3", "early4"}, due)
		moves = nil
		res, err := tr.Sweep(ctx, now)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.SweepResult{Scanned: 5, Updated: 5, Moved: 5}, res)
		assert.Len(t, moves, 5)
		after := zzAll(t, s)
		for id, c := range after {
			if strings.HasPrefix(id, "early") {
				assert.Equal(t, "acquisition", string(c.Stage), id)
				assert.Equal(t, before[id].Version+1, c.Version)
				assert.True(t, c.AsOf.Equal(now))
			} else {
				assert.Empty(t, cmp.Diff(before[id], c, zzExact), "not-due customer %s written", id)
			}
		}
		res, err = tr.Sweep(ctx, now)
		require.NoError(t, err)
		assert.Zero(t, res.Updated)
		_, err = tr.Sweep(ctx, time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC))
		var ve *lifecycle.ValidationError
		assert.True(t, errors.As(err, &ve) && ve.Field == "now", "sweep 1899: %v", err)
	})
}

// TestContractImportMatchesReplay: Import doc: "the customers end with the
// same facts, stages, AsOf, Seen and referral credits as recording the
// events one by one with Tracker.Record"; "importing the same input again is
// safe: what was applied comes back as Duplicates". 1,200 customers, so the
// first chunk on PostgreSQL goes by COPY; a second Store records some of the
// events during the import.
func TestContractImportMatchesReplay(t *testing.T) {
	evs := zzStream(1200, 3, 11)
	want := zzStates(zzReplay(t, model.SterneCutler(), evs))
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1 := e.open(t)
		ctx := context.Background()
		in := append([]lifecycle.Event(nil), evs...)
		in = append(in, evs[:50]...) // repeated in the input
		r := rand.New(rand.NewPCG(5, 6))
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		tr := lifecycle.NewTracker(model.SterneCutler(), s1, zzClock())
		hooks := 0
		tr = lifecycle.NewTracker(model.SterneCutler(), s1, zzClock(), lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooks++ }))
		res, err := tr.Import(ctx, zzSlice(in), nil)
		require.NoError(t, err)
		total := 0
		for _, c := range zzAll(t, s1) {
			total += len(c.History)
		}
		assert.Equal(t, total, hooks, "hooks called for every stored move")
		assert.LessOrEqual(t, res.Moved, total)
		assert.Equal(t, 1200, res.Customers, "customers written")
		assert.Equal(t, len(in), res.Events)
		assert.Equal(t, len(evs), res.Applied)
		assert.Equal(t, 50, res.Duplicates)
		assert.Empty(t, cmp.Diff(want, zzStates(zzAll(t, s1)), zzExact))
		assert.Equal(t, len(evs), zzCount(t, s1, "events"))
		res, err = tr.Import(ctx, zzSlice(evs), nil)
		require.NoError(t, err)
		assert.Equal(t, 0, res.Applied)
		assert.Equal(t, len(evs), res.Duplicates)
	})
}

// TestContractImportConcurrentAndStop: an import racing a live writer on
// another Store applies every event once; an invalid event stops it naming
// its position, after storing the events before it.
func TestContractImportConcurrentAndStop(t *testing.T) {
	evs := zzStream(60, 5, 13)
	want := zzStates(zzReplay(t, model.SterneCutler(), evs))
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1, s2 := e.open(t), e.open(t)
		ctx := context.Background()
		// a stop at position 100
		bad := append([]lifecycle.Event(nil), evs[:100]...)
		bad = append(bad, lifecycle.Event{ID: "x", CustomerID: "bad\x00", Type: "site_visited", Time: zzT0})
		bad = append(bad, evs[100:]...)
		tr := lifecycle.NewTracker(model.SterneCutler(), s1, zzClock())
		res, err := tr.Import(ctx, zzSlice(bad), nil)
		require.Error(t, err)
		assert.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
		assert.Contains(t, err.Error(), "event 100")
		assert.Equal(t, 100, res.Applied)
		assert.Equal(t, 100, zzCount(t, s1, "events"))

		// the whole stream again, while another Store records every event
		live := lifecycle.NewTracker(model.SterneCutler(), s2, zzClock())
		var wg sync.WaitGroup
		var liveApplied, impApplied int
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := len(evs) - 1; i >= 0; i-- {
				r, err := live.Record(ctx, evs[i])
				if err != nil {
					t.Errorf("live: %v", err)
					return
				}
				if !r.Duplicate {
					liveApplied++
				}
			}
		}()
		res, err = tr.Import(ctx, zzSlice(evs), nil)
		require.NoError(t, err)
		impApplied = res.Applied
		wg.Wait()
		assert.Equal(t, len(evs)-100, liveApplied+impApplied, "applied exactly once over both")
		assert.Empty(t, cmp.Diff(want, zzStates(zzAll(t, s1)), zzExact))
		assert.Equal(t, len(evs), zzCount(t, s1, "events"))
	})
}

// TestContractDialectsAgreeOnReplay: the same events, in the same order, give
// the same customers (History and Version included), the same Sweep and
// Reclassify results and the same stage counts on both dialects and in
// store.Memory.
func TestContractDialectsAgreeOnReplay(t *testing.T) {
	evs := zzStream(30, 10, 17)
	type outcome struct {
		sweep, reclass lifecycle.SweepResult
		customers      map[string]*lifecycle.Customer
		hooks          int
	}
	run := func(t *testing.T, s lifecycle.Store) outcome {
		var o outcome
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.FiveStage(), s, zzClock(), lifecycle.WithHook(func(context.Context, lifecycle.Change) { o.hooks++ }))
		for _, e := range evs {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
		var err error
		o.sweep, err = tr.Sweep(ctx, zzT0.Add(500*24*time.Hour))
		require.NoError(t, err)
		o.reclass, err = lifecycle.NewTracker(model.SixStage(), s, zzClock()).Reclassify(ctx, zzT0.Add(600*24*time.Hour))
		require.NoError(t, err)
		o.customers = zzAll(t, s)
		return o
	}
	want := run(t, store.NewMemory())
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t, sqlstore.WithScanPageSize(3))
		got := run(t, s)
		assert.Equal(t, want.sweep, got.sweep, "Sweep result")
		assert.Equal(t, want.reclass, got.reclass, "Reclassify result")
		assert.Equal(t, want.hooks, got.hooks, "hook calls")
		assert.Empty(t, cmp.Diff(want.customers, got.customers, zzExact))
		cnt, err := s.CountByStage(context.Background())
		require.NoError(t, err)
		wantCnt := map[stage.ID]int64{}
		for _, c := range want.customers {
			if !c.PendingReferrer() {
				wantCnt[c.Stage]++
			}
		}
		assert.Equal(t, wantCnt, cnt)
	})
}
