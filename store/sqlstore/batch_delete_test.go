package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestBatchesWithDeletes: two Stores record batches of visits
// (duplicates within and across batches, every batch retried) to the
// same customers while a third deletes customers and records to them
// again (so rows are recreated at low versions, under the held rows of
// the batch writers). Whatever the interleaving, a stored customer must
// count exactly the visits whose keys it holds: a visit counted twice,
// or a key stored without its count (or the reverse), breaks that.
func TestBatchesWithDeletes(t *testing.T) {
	const customers, events = 150, 30000
	e := newEnv(t, sqlstore.Postgres)
	s1, s2, s3 := e.open(t), e.open(t), e.open(t)
	t1, t2, t3 := newTracker(s1), newTracker(s2), newTracker(s3)
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]lifecycle.Event, events)
	for i := range evs {
		evs[i] = lifecycle.Event{ID: fmt.Sprintf("v%d", i), CustomerID: fmt.Sprintf("d%03d", i%customers), Type: lifecycle.SiteVisited, Time: start.Add(time.Duration(i) * time.Minute)}
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, 8)
	for k, tr := range []*lifecycle.Tracker{t1, t2} {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(k), 3))
			lane := slices.Clone(evs)
			r.Shuffle(len(lane), func(i, j int) { lane[i], lane[j] = lane[j], lane[i] })
			for b := range slices.Chunk(lane, 400) {
				b = append(b, b[:50]...)
				for range 2 {
					if _, err := tr.RecordBatch(ctx, b); err != nil {
						errs <- fmt.Errorf("writer %d: %w", k, err)
						return
					}
				}
			}
		})
	}
	var deleted atomic.Int64
	var wd sync.WaitGroup
	wd.Go(func() {
		r := rand.New(rand.NewPCG(5, 5))
		for !stop.Load() {
			id := fmt.Sprintf("d%03d", r.IntN(customers))
			if err := s3.Delete(ctx, id); err != nil {
				errs <- err
				return
			}
			deleted.Add(1)
			// and record a few visits again, through the third Store
			for range 3 {
				ev := evs[r.IntN(events)]
				ev.CustomerID = id
				ev.ID = fmt.Sprintf("x-%s-%d", id, r.IntN(5))
				if _, err := t3.Record(ctx, ev); err != nil {
					errs <- err
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	stop.Store(true)
	wd.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d deletes", deleted.Load())
	bad := 0
	for c, err := range e.open(t).Scan(ctx) {
		require.NoError(t, err)
		visits := c.Facts.Count(lifecycle.SiteVisited)
		if visits != int64(c.Seen.Len()) || c.Seen.Len() != len(keyRows(t, s1, c.ID)) {
			bad++
			if bad < 10 {
				t.Errorf("customer %s: %d visits counted, %d keys in Seen, %d key rows, version %d", c.ID, visits, c.Seen.Len(), len(keyRows(t, s1, c.ID)), c.Version)
			}
		}
		var ch int
		require.NoError(t, s1.DB().QueryRow(`SELECT count(*) FROM `+s1.Table("changes")+` WHERE customer_id = $1`, c.ID).Scan(&ch))
		if ch != len(c.History) {
			t.Errorf("customer %s: %d change rows, %d transitions", c.ID, ch, len(c.History))
		}
	}
}
