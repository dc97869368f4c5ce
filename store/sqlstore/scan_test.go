package sqlstore_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store/sqlstore"
)

// fill stores n copies of a template customer (IDs c0000000, c0000001, …)
// directly in SQL, which is much faster than n Puts.
func fill(t testing.TB, s *sqlstore.Store, n int) *lifecycle.Customer {
	t.Helper()
	ctx := context.Background()
	tmpl := &lifecycle.Customer{
		ID: "template", Stage: "retention", Version: 1,
		Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), AsOf: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		Facts: lifecycle.Facts{
			Tallies: []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: 3}, {Type: lifecycle.SiteVisited, Count: 12}},
			Sums:    []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: 12345}},
		},
		History: []lifecycle.Transition{{To: "reach", Cause: "e1"}, {From: "reach", To: "conversion", Cause: "e2"}, {From: "conversion", To: "retention", Cause: "e3"}},
		Seen:    seenOf("e1", "e2", "e3"),
	}
	require.NoError(t, s.Put(ctx, tmpl, 0))
	_, err := s.DB().Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO `+s.Table("customers")+` (id, stage, version, as_of, data, due)
SELECT printf('c%07d', i), stage, version, as_of, data, due
FROM n, `+s.Table("customers")+` WHERE id = 'template'`, n-1)
	require.NoError(t, err)
	_, err = s.DB().Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO `+s.Table("events")+` (customer_id, key) SELECT printf('c%07d', i), key FROM n, `+s.Table("events")+` WHERE customer_id = 'template'`, n-1)
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "template"))
	return tmpl
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestScanBoundedMemory scans 200,000 customers (10,000 under the race
// detector or -short) from SQLite and checks that the live heap never grows
// by more than 2 MiB, a small fraction of what the customers take when held.
func TestScanBoundedMemory(t *testing.T) {
	n := 200_000
	if raceEnabled || testing.Short() {
		n = 10_000
	}
	s := newEnv(t, sqlstore.SQLite).open(t)
	tmpl := fill(t, s, n)
	ctx := context.Background()

	base := liveHeap()
	var peak uint64
	count, prev := 0, ""
	for c, err := range s.Scan(ctx) {
		require.NoError(t, err)
		if c.ID <= prev {
			t.Fatalf("Scan yielded %q after %q: not in ascending ID order", c.ID, prev)
		}
		prev = c.ID
		if count == 0 {
			want := tmpl.Clone()
			want.ID = "c0000000"
			if diff := cmp.Diff(want, c, cmpSeen); diff != "" {
				t.Fatalf("first customer (-want +got):\n%s", diff)
			}
		}
		count++
		if count%(n/10) == 0 {
			peak = max(peak, liveHeap())
		}
	}
	require.Equal(t, n, count)
	growth := int64(peak) - int64(base)

	// For scale: what 2,000 of these customers take when held.
	held := make([]*lifecycle.Customer, 0, 2000)
	before := liveHeap()
	for c, err := range s.Scan(ctx) {
		require.NoError(t, err)
		if held = append(held, c); len(held) == cap(held) {
			break
		}
	}
	per := float64(liveHeap()-before) / float64(len(held))
	runtime.KeepAlive(held)
	t.Logf("scanned %d customers; live heap grew by %d KiB at most; holding them all would take about %.0f MiB (%.0f B each)",
		n, growth/1024, per*float64(n)/(1<<20), per)
	const limit = 2 << 20
	if growth > limit {
		t.Fatalf("live heap grew by %d bytes while scanning %d customers; want at most %d", growth, n, limit)
	}
	require.Greater(t, per*float64(n), float64(4*limit), "the test is too small to tell streaming from buffering")
}

func TestListAndCountByStage(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t, sqlstore.WithScanPageSize(3))
		ctx := context.Background()
		want := map[stage.ID][]string{}
		for i := range 20 {
			st := stage.ID([]string{"reach", "conversion", "loyalty"}[i%3])
			id := fmt.Sprintf("id-%02d", i)
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: id, Stage: st, Version: 1}, 0))
			want[st] = append(want[st], id)
		}
		// A pending referrer (no stage) is not counted.
		require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "pending", Version: 1, Due: lifecycle.Never}, 0))
		// Move one customer: the index follows.
		require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "id-00", Stage: "loyalty", Version: 2}, 1))
		want["reach"] = want["reach"][1:]
		want["loyalty"] = append(want["loyalty"], "id-00")
		slices.Sort(want["loyalty"])

		counts, err := s.CountByStage(ctx)
		require.NoError(t, err)
		wantCounts := map[stage.ID]int64{}
		for st, ids := range want {
			wantCounts[st] = int64(len(ids))
		}
		if diff := cmp.Diff(wantCounts, counts); diff != "" {
			t.Errorf("CountByStage (-want +got):\n%s", diff)
		}
		for _, st := range []stage.ID{"reach", "conversion", "loyalty", "retention"} {
			var got []string
			for id, err := range s.ListByStage(ctx, st) {
				require.NoError(t, err)
				got = append(got, id)
			}
			if diff := cmp.Diff(want[st], got); diff != "" {
				t.Errorf("ListByStage(%q) (-want +got):\n%s", st, diff)
			}
		}
		total, err := s.Count(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(21), total) // records: the pending referrer too

		// Stopping early, and a cancelled context.
		for range s.ListByStage(ctx, "conversion") {
			break
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for _, err := range s.ListByStage(cctx, "conversion") {
			require.ErrorIs(t, err, context.Canceled)
		}
	})
}

func TestDelete(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "gone", Stage: "reach", Version: 1, Seen: seenOf("e1", "e2")}, 0))
		require.NoError(t, s.Delete(ctx, "gone"))
		require.NoError(t, s.Delete(ctx, "gone"), "deleting a missing customer")
		_, err := s.Get(ctx, "gone")
		require.ErrorIs(t, err, lifecycle.ErrNotFound)
		require.Zero(t, rowCount(t, s, "events"))
		// The ID can be used again from version 1, with no stale events.
		require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "gone", Stage: "reach", Version: 1, Seen: seenOf("e5")}, 0))
		got, err := s.Get(ctx, "gone")
		require.NoError(t, err)
		requireSeen(t, seenOf("e5"), got.Seen)
		// Deleted again, it is created anew by Apply, which does not find
		// the old customer's events.
		require.NoError(t, s.Delete(ctx, "gone"))
		require.NoError(t, applyOne(ctx, s, "gone", []string{"e5", "e6"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
			require.Zero(t, c.Version)
			require.Equal(t, []bool{false, false}, seen, "Apply after Delete finds the deleted customer's events")
			c.Stage, c.Version = "reach", 1
			return true, nil
		}))
		got, err = s.Get(ctx, "gone")
		require.NoError(t, err)
		requireSeen(t, seenOf("e5", "e6"), got.Seen)
		require.Equal(t, 2, rowCount(t, s, "events"))
	})
}
