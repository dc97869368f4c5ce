package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// importState is what an import must leave as a sequential replay does.
type importState struct {
	Facts   lifecycle.Facts
	Stage   string
	AsOf    time.Time
	Due     time.Time
	Seen    int
	Version uint64
}

func importSnapshot(t *testing.T, s lifecycle.Store) map[string]importState {
	t.Helper()
	out := map[string]importState{}
	for c, err := range s.Scan(context.Background()) {
		require.NoError(t, err)
		out[c.ID] = importState{Facts: c.Facts, Stage: string(c.Stage), AsOf: c.AsOf.UTC(), Due: c.Due.UTC(), Seen: c.Seen.Len()}
	}
	return out
}

// TestImport imports 30,000 events of 3,000 customers (so that on
// PostgreSQL the new customers go in by COPY) into each dialect, part of
// them already recorded and the rest raced by concurrent Records from a
// second Store, and compares with a sequential replay into Memory.
func TestImport(t *testing.T) {
	const n, customers = 30_000, 3_000
	r := rand.New(rand.NewPCG(21, 22))
	events := make([]lifecycle.Event, n)
	for i := range events {
		events[i] = benchEvent("imp", i, r)
		events[i].CustomerID = fmt.Sprintf("c%04d", r.IntN(customers))
	}
	mem := store.NewMemory()
	ref := lifecycle.NewTracker(model.SterneCutler(), mem, lifecycle.WithClock(func() time.Time { return now }))
	for _, e := range events {
		_, err := ref.Record(context.Background(), e)
		require.NoError(t, err)
	}
	want := importSnapshot(t, mem)
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		e := newEnv(t, d)
		tr := newTracker(e.open(t))
		// Into an empty store: every customer is new.
		ir, err := tr.Import(ctx, seq(events[:n/2]), nil)
		require.NoError(t, err)
		require.Equal(t, n/2, ir.Applied)
		// The rest, part of it twice, while another instance records
		// some of the same events.
		other := newTracker(e.open(t))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range events[n/2 : n/2+3000] {
				if _, err := other.Record(ctx, ev); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		ir, err = tr.Import(ctx, seq(events[n/3:]), nil)
		require.NoError(t, err)
		wg.Wait()
		require.Equal(t, n-n/3, ir.Events)
		got := importSnapshot(t, e.open(t))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("import differs from a sequential replay (-replay +import):\n%s", diff)
		}
		require.Equal(t, n, rowCount(t, tr.Store().(*sqlstore.Store), "events"))
	})
}
