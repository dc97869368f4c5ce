package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

func zzListDue(t testing.TB, s *sqlstore.Store, now time.Time) []string {
	t.Helper()
	var out []string
	for id, err := range s.ListDue(context.Background(), now) {
		require.NoError(t, err)
		out = append(out, id)
	}
	return out
}

// TestContractListDueEdges: ListDue "yields the IDs of the customers whose
// Due is zero or at or before now ... in order of due time"; storage.md: "a
// time outside the years 1678–2261 gets the nearest earlier code, so a sweep
// visits early, which is allowed".
func TestContractListDueEdges(t *testing.T) {
	plus5 := time.FixedZone("P5", 5*3600)
	dues := map[string]time.Time{
		"zero":   {},
		"y1000":  time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		"y1500":  time.Date(1500, 6, 1, 0, 0, 0, 0, time.UTC),
		"y1677":  time.Date(1677, 12, 31, 0, 0, 0, 0, time.UTC),
		"y2000":  time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		"offset": time.Date(2020, 1, 1, 0, 0, 0, 0, plus5), // 2019-12-31T19:00Z
		"y2262":  time.Date(2262, 6, 1, 0, 0, 0, 0, time.UTC),
		"y5000":  time.Date(5000, 1, 1, 0, 0, 0, 0, time.UTC),
		"never":  lifecycle.Never,
	}
	// for each now, the customers that must be listed
	checks := []struct {
		now  time.Time
		must []string
	}{
		{time.Date(1200, 1, 1, 0, 0, 0, 0, time.UTC), []string{"zero", "y1000"}},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), []string{"zero", "y1000", "y1500"}},
		{time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), []string{"zero", "y1000", "y1500", "y1677"}},
		{time.Date(2019, 12, 31, 19, 0, 0, 0, time.UTC), []string{"zero", "y1000", "y1500", "y1677", "y2000", "offset"}},
		{time.Date(2019, 12, 31, 18, 59, 59, 999999999, time.UTC), []string{"zero", "y1000", "y1500", "y1677", "y2000"}},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), []string{"zero", "y1000", "y1500", "y1677", "y2000", "offset", "y2262"}},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), []string{"zero", "y1000", "y1500", "y1677", "y2000", "offset", "y2262", "y5000"}},
	}
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t, sqlstore.WithScanPageSize(2))
		ctx := context.Background()
		for id, due := range dues {
			c := zzBase(id)
			c.Due = due
			require.NoError(t, s.Put(ctx, c, 0))
			g, err := s.Get(ctx, id)
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(c, g, zzExact), id)
		}
		for _, ch := range checks {
			got := zzListDue(t, s, ch.now)
			for _, id := range ch.must {
				assert.Contains(t, got, id, "ListDue(%v) must list %s (due %v)", ch.now, id, dues[id])
			}
			assert.NotContains(t, got, "never")
			// order of due time, as the documented code has it (times outside
			// 1678-2261 share the nearest code, then come in ID order)
			var times []time.Time
			lo, hi := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, id := range got {
				tm := dues[id]
				if tm.Before(lo) {
					tm = time.Time{}
				}
				if tm.After(hi) {
					tm = hi
				}
				times = append(times, tm)
			}
			assert.True(t, slices.IsSortedFunc(times, func(a, b time.Time) int { return a.Compare(b) }), "order of due time at %v: %v", ch.now, got)
			// not listed twice
			assert.Equal(t, len(got), len(slicesCompact(got)))
		}
		assert.NotContains(t, zzListDue(t, s, lifecycle.Never), "never", "a Due of Never is never due")
	})
}

func slicesCompact(ids []string) []string {
	c := slices.Clone(ids)
	slices.Sort(c)
	return slices.Compact(c)
}

// TestContractStageListsAndCounts: Count includes pending referrers,
// CountByStage leaves them out; ListByStage in ascending order, paged; Scan
// in ascending byte order of ID, body may Put, a customer created below the
// scan's position is not yielded.
func TestContractStageListsAndCounts(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t, sqlstore.WithScanPageSize(1))
		ctx := context.Background()
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		ids := []string{"b", "a", "Z", "é", "e\u0301", "aa", "a b", "\u00ff", "~"}
		for _, id := range ids {
			_, err := tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: id, Type: "signed_up", Time: zzT0})
			require.NoError(t, err)
		}
		_, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "buyer", Type: "order_completed", Time: zzT0, ReferrerID: "pending-ref"})
		require.NoError(t, err)
		pr, err := s.Get(ctx, "pending-ref")
		require.NoError(t, err)
		assert.True(t, pr.PendingReferrer())
		n, err := s.Count(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(len(ids)+2), n)
		cnt, err := s.CountByStage(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[stage.ID]int64{"acquisition": int64(len(ids)), "conversion": 1}, cnt)
		var listed []string
		for id, err := range s.ListByStage(ctx, "acquisition") {
			require.NoError(t, err)
			listed = append(listed, id)
		}
		want := slices.Clone(ids)
		slices.Sort(want) // Go sorts strings byte-wise
		assert.Equal(t, want, listed)
		for id, err := range s.ListByStage(ctx, "") {
			require.NoError(t, err)
			_ = id
		}
		var scanned []string
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			scanned = append(scanned, c.ID)
			if c.ID == "b" {
				// a Put from the loop body, below and above the position
				require.NoError(t, s.Put(ctx, zzBase("0below"), 0))
				require.NoError(t, s.Put(ctx, zzBase("zz-above"), 0))
			}
		}
		assert.True(t, slices.IsSorted(scanned), "%q", scanned)
		assert.NotContains(t, scanned, "0below")
		assert.Contains(t, scanned, "zz-above")
	})
}

// TestContractApplyRules: lifecycle.Applier's rules as sqlstore implements
// them.
func TestContractApplyRules(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		mk := func(id string, evs []string) lifecycle.Write {
			return lifecycle.Write{ID: id, Events: evs, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
				c.Version++
				c.Stage = "reach"
				c.AsOf = zzT0
				c.Due = lifecycle.Never
				c.History = append(c.History, lifecycle.Transition{To: "reach", At: zzT0, Cause: fmt.Sprint(len(c.History))})
				return true, nil
			}}
		}
		ws := []lifecycle.Write{mk("a", []string{"1", "2"}), mk("b", nil)}
		s.Apply(ctx, ws)
		require.NoError(t, ws[0].Err)
		require.NoError(t, ws[1].Err)
		// seen flags, whole history given to fn
		var gotSeen []bool
		var histLen int
		w := lifecycle.Write{ID: "a", Events: []string{"2", "3"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			gotSeen = slices.Clone(seen)
			histLen = len(c.History)
			c.Version++
			c.History = append(c.History, lifecycle.Transition{From: "reach", To: "x", At: zzT0})
			return true, nil
		}}
		// a second Store, which reads (no held row)
		s2 := zzNew(t, d)
		_ = s2
		ws = []lifecycle.Write{w}
		s.Apply(ctx, ws)
		if errors.Is(ws[0].Err, lifecycle.ErrConflict) {
			// a held row whose write found an event applied: a lost race, allowed; apply again
			s.Apply(ctx, ws)
		}
		require.NoError(t, ws[0].Err)
		assert.Equal(t, []bool{true, false}, gotSeen)
		_ = histLen
		c, err := s.Get(ctx, "a")
		require.NoError(t, err)
		assert.Len(t, c.History, 2)
		assert.Equal(t, 3, c.Seen.Len())
		assert.Equal(t, uint64(2), c.Version)

		// duplicate IDs within ws: the second gets ErrConflict
		ws = []lifecycle.Write{mk("c", []string{"x"}), mk("c", []string{"y"})}
		s.Apply(ctx, ws)
		assert.NoError(t, ws[0].Err)
		assert.ErrorIs(t, ws[1].Err, lifecycle.ErrConflict)
		c, err = s.Get(ctx, "c")
		require.NoError(t, err)
		assert.True(t, c.HasSeen("x") && !c.HasSeen("y"))

		// fn returning false or an error stores nothing; an error comes back as is
		myErr := errors.New("mine")
		ws = []lifecycle.Write{
			{ID: "f", Events: []string{"1"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) { c.Version++; c.Stage = "x"; return false, nil }},
			{ID: "g", Events: []string{"1"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) { c.Version++; c.Stage = "x"; return true, myErr }},
			{ID: "h", Events: []string{"1"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Version++
				c.Stage = "bad\x00"
				c.AsOf = zzT0
				return true, nil
			}},
			mk("i", []string{"1"}),
		}
		s.Apply(ctx, ws)
		assert.NoError(t, ws[0].Err)
		assert.Equal(t, myErr, ws[1].Err)
		var ve *sqlstore.ValueError
		assert.True(t, errors.As(ws[2].Err, &ve), "bad value: %v", ws[2].Err)
		assert.ErrorIs(t, ws[2].Err, lifecycle.ErrInvalidCustomer)
		for _, id := range []string{"f", "g", "h"} {
			_, err := s.Get(ctx, id)
			assert.ErrorIs(t, err, lifecycle.ErrNotFound, id)
		}
		if d == sqlstore.SQLite {
			assert.NoError(t, ws[3].Err, "SQLite: a write whose change the checks refuse fails alone")
		}
		if ws[3].Err == nil {
			_, err := s.Get(ctx, "i")
			assert.NoError(t, err)
		}
	})
}

// TestContractTrackerExtremeTimes: events at the edges of the accepted years
// and a sweep at Never are stored alike on both dialects.
func TestContractTrackerExtremeTimes(t *testing.T) {
	evs := []lifecycle.Event{
		{ID: "1", CustomerID: "c", Type: "order_completed", Time: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 1, Currency: "EUR"},
		{ID: "2", CustomerID: "c", Type: "order_completed", Time: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), Amount: 1, Currency: "EUR"},
		{ID: "3", CustomerID: "d", Type: "order_completed", Time: lifecycle.Never.Add(-time.Hour), Amount: 1, Currency: "EUR"},
		{ID: "4", CustomerID: "e", Type: "order_completed", Time: time.Date(2261, 12, 31, 0, 0, 0, 0, time.FixedZone("x", 3600))},
	}
	var got [2]map[string]*lifecycle.Customer
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		ctx := context.Background()
		for _, e := range evs {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
		before := zzAll(t, s)
		assert.NotNil(t, before["e"])
		res, err := tr.Sweep(ctx, time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.Equal(t, 1, res.Moved, "c lapses: %+v", res)
		res, err = tr.Sweep(ctx, lifecycle.Never)
		require.NoError(t, err)
		assert.Equal(t, 1, res.Moved, "e lapses: %+v", res)
		got[int(d)-1] = zzAll(t, s)
		for _, c := range got[int(d)-1] {
			want := "acquisition"
			if c.ID == "d" {
				want = "conversion"
			}
			assert.Equal(t, want, string(c.Stage), c.ID)
		}
	})
	if got[0] != nil && got[1] != nil {
		assert.Empty(t, cmp.Diff(got[0], got[1], zzExact))
	}
}

// TestContractApplyFnGetsEmptyHistory: sqlstore's Store.Apply doc: "A
// fn is given its customer with an empty History (... the stored history
// is kept aside, and the transitions fn appends are added to its end)".
func TestContractApplyFnGetsEmptyHistory(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		writer, reader := e.open(t), e.open(t)
		ctx := context.Background()
		c := zzBase("h") // one transition stored
		c.History = append(c.History, lifecycle.Transition{From: "reach", To: "acquisition", At: zzT0, Cause: "e2"})
		c.Stage = "acquisition"
		require.NoError(t, writer.Put(ctx, c, 0))
		var got []lifecycle.Transition
		added := lifecycle.Transition{From: "acquisition", To: "conversion", At: zzT0, Cause: "e3"}
		ws := []lifecycle.Write{{ID: "h", Events: []string{"e3"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			got = slices.Clone(c.History)
			c.History = append(c.History, added)
			c.Stage, c.Version = "conversion", c.Version+1
			return true, nil
		}}}
		reader.Apply(ctx, ws) // a Store that has never written "h": it reads the row
		require.NoError(t, ws[0].Err)
		assert.Empty(t, got, "fn got History %+v", got)
		stored, err := writer.Get(ctx, "h")
		require.NoError(t, err)
		require.Len(t, stored.History, 3)
		assert.Equal(t, "e3", stored.History[2].Cause)
		assert.Equal(t, c.History[:2], stored.History[:2])
	})
}

// TestContractApplyFnGetsEmptySeen: Apply's doc: fn is given "an empty
// Seen", also on the row a Store holds from its last write, whatever the
// fn of that write put in c.Seen.
func TestContractApplyFnGetsEmptySeen(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s := e.open(t)
		ctx := context.Background()
		for i := range 3 {
			var got int
			ws := []lifecycle.Write{{ID: "c1", Events: []string{"e" + strconv.Itoa(i)}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
				got = c.Seen.Len()
				c.Seen.Add(lifecycle.KeyOf("junk"))
				c.Version++
				c.AsOf = zzT0
				return true, nil
			}}}
			s.Apply(ctx, ws)
			require.NoError(t, ws[0].Err)
			assert.Zero(t, got, "Apply %d: fn was given %d keys in Seen", i, got)
		}
		stored, err := s.Get(ctx, "c1")
		require.NoError(t, err)
		assert.False(t, stored.HasSeen("junk"), "what fn put in Seen was stored")
		assert.Equal(t, 3, stored.Seen.Len())
	})
}
