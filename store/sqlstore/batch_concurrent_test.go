package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// deadlockCount returns pg_stat_database.deadlocks of the test database.
func deadlockCount(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.DB().QueryRow(`SELECT pg_stat_get_db_deadlocks(oid) FROM pg_database WHERE datname = current_database()`).Scan(&n))
	return n
}

// TestConcurrentBatchImportRecord: three Stores (three pools)
// write the same customers at once: RecordBatch of big batches (split
// writes), an Import (one Apply of every customer) and single Records, all
// with duplicates within and across calls. Every distinct event must be
// reported applied exactly once over all calls, and the stored customers
// must equal a sequential replay into store.Memory.
func TestConcurrentBatchImportRecord(t *testing.T) {
	for _, c := range []struct{ customers, distinct, batch int }{{400, 5000, 700}, {1500, 15000, 3000}, {120, 3000, 200}} {
		if (raceEnabled || testing.Short()) && c.customers > 1000 {
			continue // (the race detector makes it take minutes; the smaller cases run)
		}
		t.Run(fmt.Sprintf("%d_%d_%d", c.customers, c.distinct, c.batch), func(t *testing.T) {
			concurrentWriters(t, c.customers, c.distinct, c.batch)
		})
	}
}

func concurrentWriters(t *testing.T, customers, distinct, batch int) {
	events := stream(31, customers, distinct)
	want := sequential(t, events, false)
	e := newEnv(t, sqlstore.Postgres)
	s1, s2, s3 := e.open(t), e.open(t), e.open(t)
	t1, t2, t3 := newTracker(s1), newTracker(s2), newTracker(s3)
	ctx := context.Background()
	dl0 := deadlockCount(t, s1)

	applied := make(map[string]*atomic.Int64, len(events))
	for _, ev := range events {
		applied[ev.ID] = new(atomic.Int64)
	}
	note := func(rs []lifecycle.Result) {
		for _, r := range rs {
			if r.Err == nil && !r.Duplicate {
				applied[r.EventID].Add(1)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	// Two batch writers, different shuffles of the duplicated stream.
	for k, tr := range []*lifecycle.Tracker{t1, t2} {
		lane := duplicated(uint64(40+k), events)
		wg.Go(func() {
			for b := range slices.Chunk(lane, batch) {
				rs, err := tr.RecordBatch(ctx, b)
				if err != nil {
					errs <- fmt.Errorf("batch writer %d: %w", k, err)
					return
				}
				note(rs)
				// and retry the same batch: all duplicates
				rs, err = tr.RecordBatch(ctx, b)
				if err != nil {
					errs <- fmt.Errorf("batch writer %d retry: %w", k, err)
					return
				}
				for _, r := range rs {
					if !r.Duplicate {
						errs <- fmt.Errorf("batch writer %d retry: event %s applied again", k, r.EventID)
						return
					}
				}
			}
		})
	}
	// An importer.
	var imported atomic.Int64
	wg.Go(func() {
		lane := duplicated(50, events)
		ir, err := t3.Import(ctx, seq(lane), nil)
		if err != nil {
			errs <- fmt.Errorf("import: %w", err)
			return
		}
		imported.Store(int64(ir.Applied))
		if ir.Events != len(lane) || ir.Applied+ir.Duplicates != ir.Events {
			errs <- fmt.Errorf("import counts %+v for %d events", ir, len(lane))
		}
	})
	// Single Records on the third store.
	var recorded sync.Map
	wg.Go(func() {
		r := rand.New(rand.NewPCG(9, 9))
		for range 600 {
			ev := events[r.IntN(len(events))]
			res, err := t3.Record(ctx, ev)
			if err != nil {
				errs <- fmt.Errorf("record: %w", err)
				return
			}
			if !res.Duplicate {
				recorded.Store(ev.ID, true)
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	// Import's applied events are counted, not named: check the total.
	total := imported.Load()
	recorded.Range(func(k, _ any) bool { applied[k.(string)].Add(1); return true })
	twice := 0
	for _, c := range applied {
		total += c.Load()
		if c.Load() > 1 {
			twice++
		}
	}
	require.Zero(t, twice, "events reported applied more than once")
	require.Equal(t, int64(distinct), total, "events reported applied (batches + import + records) vs distinct events")

	got := all(t, e.open(t))
	if diff := cmp.Diff(orderFree(want), orderFree(got), cmpOpts, cmpopts.IgnoreFields(lifecycle.Customer{}, "Version")); diff != "" {
		t.Fatalf("concurrent writers vs. a sequential replay (-want +got):\n%.6000s", diff)
	}
	checkEventRows(t, s1, got)
	sameDue(t, want, got)
	// Every stored transition has one change row.
	nh := 0
	for _, c := range got {
		nh += len(c.History)
	}
	require.Equal(t, nh, rowCount(t, s1, "changes"), "change rows vs. transitions in the histories")
	t.Logf("deadlocks during the test (whole database): %d", deadlockCount(t, s1)-dl0)
}

// sameDue compares the customers' due times (not in orderFree).
func sameDue(t *testing.T, want, got map[string]*lifecycle.Customer) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			continue
		}
		if !w.Due.Equal(g.Due) {
			t.Errorf("customer %s: due %v, want %v", id, g.Due, w.Due)
		}
	}
}
