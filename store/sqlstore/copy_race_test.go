package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestCopyRaces: into an empty store, two Imports of the same
// history (each chunk's new customers go in by COPY) race batch writers
// whose batches also hold over 1,000 new customers (COPY too) and a
// Record writer, with the Tracker's default retries. The result must
// equal a sequential replay, with every event reported applied once.
func TestCopyRaces(t *testing.T) {
	customers, distinct := 2500, 12000
	if raceEnabled || testing.Short() {
		// Still more than one Import chunk's worth of new customers
		// (COPY): the race detector makes the full size take long.
		customers, distinct = 1200, 5000
	}
	events := stream(77, customers, distinct)
	want := sequential(t, events, true)
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	mk := func() *lifecycle.Tracker {
		return lifecycle.NewTracker(model.SterneCutler(), e.open(t), lifecycle.WithClock(func() time.Time { return now }))
	}
	dl0 := deadlockCount(t, e.open(t))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	var mu sync.Mutex
	applied := map[string]int{}
	importedApplied := 0
	for k := range 2 {
		tr := mk()
		wg.Go(func() {
			ir, err := tr.Import(ctx, seq(duplicated(uint64(100+k), events)), nil)
			if err != nil {
				errs <- fmt.Errorf("import %d: %w", k, err)
			}
			mu.Lock()
			importedApplied += ir.Applied
			mu.Unlock()
		})
	}
	for k := range 2 {
		tr := mk()
		lane := duplicated(uint64(200+k), events)
		wg.Go(func() {
			for b := range slices.Chunk(lane, 4000) {
				rs, err := tr.RecordBatch(ctx, b)
				if err != nil {
					errs <- fmt.Errorf("batch %d: %w", k, err)
					return
				}
				mu.Lock()
				for _, r := range rs {
					if !r.Duplicate {
						applied[r.EventID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	tr := mk()
	wg.Go(func() {
		for _, ev := range events[:1500] {
			r, err := tr.Record(ctx, ev)
			if err != nil {
				errs <- fmt.Errorf("record: %w", err)
				return
			}
			if !r.Duplicate {
				mu.Lock()
				applied[r.EventID]++
				mu.Unlock()
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := importedApplied
	for id, n := range applied {
		total += n
		if n > 1 {
			t.Errorf("event %s reported applied %d times", id, n)
		}
	}
	require.Equal(t, distinct, total, "events reported applied vs distinct events")
	s := e.open(t)
	got := all(t, s)
	if diff := cmp.Diff(orderFree(want), orderFree(got), cmpOpts, cmpopts.IgnoreFields(lifecycle.Customer{}, "Version")); diff != "" {
		t.Fatalf("(-want +got):\n%.6000s", diff)
	}
	checkEventRows(t, s, got)
	sameDue(t, want, got)
	t.Logf("deadlocks in the database during the test: %d", deadlockCount(t, s)-dl0)
}
