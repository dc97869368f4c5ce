package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store/sqlstore"
)

// RELIABILITY.md: "Context cancelled mid-batch: RecordBatch returns an
// error wrapping context.Canceled; … all others have Err wrapping
// context.Canceled." A review found a batch cancelled while its write
// statement ran failing with pgx's "conn closed" (pgx closes the
// connection of a cancelled statement), which wrapped nothing. Batches of
// four customers are cancelled at random moments within about eight
// batches' time.
func TestContractReviewRecordBatchCancelledWrapsCanceled(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		tr := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
		batch := func(i int) []lifecycle.Event {
			b := make([]lifecycle.Event, 4)
			for j := range b {
				b[j] = lifecycle.Event{ID: fmt.Sprintf("e%d-%d", i, j), CustomerID: fmt.Sprintf("c%d", j), Type: lifecycle.SiteVisited, Time: t0.Add(time.Duration(i+20) * time.Minute)}
			}
			return b
		}
		start := time.Now()
		for i := range 10 {
			_, err := tr.RecordBatch(ctx, batch(-i-1))
			require.NoError(t, err)
		}
		took := time.Since(start) / 10
		r := rand.New(rand.NewPCG(1, 2))
		cancelled, bad := 0, 0
		for i := 0; i < 1500 && bad == 0; i++ {
			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(time.Duration(r.Int64N(int64(took*8)+1)), cancel)
			res, err := tr.RecordBatch(cctx, batch(i))
			cancel()
			if err != nil {
				cancelled++
				if !errors.Is(err, context.Canceled) {
					bad++
					t.Errorf("batch %d: %v", i, err)
				}
			}
			for _, res := range res {
				if res.Err != nil && !errors.Is(res.Err, context.Canceled) {
					bad++
					t.Errorf("batch %d, event %s: %v", i, res.EventID, res.Err)
				}
			}
		}
		t.Logf("%d batches cancelled (a batch takes %v)", cancelled, took)
	})
}

// Store.ListByStage with a stage the store could never have written
// yields nothing, as Get finds no customer with an ID it could never
// hold; a review found PostgreSQL's "invalid byte sequence" error yielded.
func TestContractReviewListByStageHostileStage(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		for _, st := range []string{"re\x00ach", "re\xffach", string(make([]byte, sqlstore.MaxStageLen+1))} {
			for id, err := range s.ListByStage(ctx, stage.ID(st)) {
				t.Errorf("ListByStage(%q) yielded %q, %v", st, id, err)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		n := 0
		for _, err := range s.ListByStage(cctx, "re\x00ach") {
			n++
			if !errors.Is(err, context.Canceled) {
				t.Errorf("ListByStage with a cancelled context: %v", err)
			}
		}
		if n != 1 {
			t.Errorf("ListByStage with a cancelled context yielded %d times, want the context's error once", n)
		}
	})
}
