package sqlstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestApplyDeleteRace: a Delete of a customer that an Apply is writing.
// Whatever the order, the customer ends up deleted with all its event
// rows, and neither call fails except as a lost race: no deadlock, no key
// row left behind.
//
// While Apply's fn runs: on SQLite, Apply holds the write lock, so Delete
// waits for it and then deletes the customer Apply wrote. On PostgreSQL
// nothing is locked while fn runs: Delete goes first, and Apply, which
// finds at commit that the customer it read is gone, loses the race
// (ErrConflict) and stores nothing.
//
// While Apply's statement runs (PostgreSQL), having updated the customer
// row and waiting to insert its key row: Delete takes the customer's row
// before its key rows, as Apply's statement does, so it waits for Apply
// and then deletes both. (Delete once removed the customer's event rows
// before taking the customer's row: a writer's insert of those event rows
// then waited for the Delete, which waited for the writer's row lock, and
// PostgreSQL aborted one of the two as a deadlock.)
func TestApplyDeleteRace(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		t.Run("while fn runs", func(t *testing.T) {
			s := newEnv(t, d).open(t)
			ctx := context.Background()
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "x", Stage: "reach", Version: 1, Seen: seenOf("e1")}, 0))
			inFn, release := make(chan struct{}), make(chan struct{})
			var calls atomic.Int64
			applied := make(chan error, 1)
			go func() {
				applied <- applyOne(ctx, s, "x", []string{"e2"}, stored(func(c *lifecycle.Customer, seen []bool) (bool, error) {
					close(inFn)
					<-release
					return bump(&calls)(c, seen)
				}))
			}()
			<-inFn
			deleted := make(chan error, 1)
			go func() { deleted <- s.Delete(ctx, "x") }()
			if d == sqlstore.SQLite {
				waitForWaitingDelete(t, s)
				select {
				case err := <-deleted:
					close(release)
					t.Fatalf("Delete returned %v while Apply held the write lock", err)
				default:
				}
				close(release)
				require.NoError(t, <-applied)
				require.NoError(t, <-deleted)
			} else {
				require.NoError(t, <-deleted, "Delete while Apply's fn runs")
				close(release)
				err := <-applied
				require.ErrorIs(t, err, lifecycle.ErrConflict)
				var ce *store.ConflictError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, store.ConflictError{ID: "x", Want: 1, Have: 0}, *ce)
			}
			require.EqualValues(t, 1, calls.Load())
			_, err := s.Get(ctx, "x")
			require.True(t, errors.Is(err, lifecycle.ErrNotFound), "Get after Delete = %v", err)
			require.Zero(t, rowCount(t, s, "events"), "event rows left")
		})
		if d != sqlstore.Postgres {
			return
		}
		t.Run("while Apply's statement runs", func(t *testing.T) {
			s := newEnv(t, d).open(t)
			ctx := context.Background()
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "x", Stage: "reach", Version: 1, Seen: seenOf("e1")}, 0))
			// Another transaction inserts e2's key row and keeps it
			// uncommitted: Apply's statement updates the customer row and
			// then waits for it.
			tx, err := s.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			defer tx.Rollback()
			k := lifecycle.KeyOf("e2")
			_, err = tx.Exec(`INSERT INTO `+s.Table("events")+` (customer_id, key) VALUES ('x', $1)`, k[:])
			require.NoError(t, err)
			var calls atomic.Int64
			applied := make(chan error, 1)
			go func() { applied <- applyOne(ctx, s, "x", []string{"e2"}, stored(bump(&calls))) }()
			waitingBackend(t, s, s.Table("events"))
			deleted := make(chan error, 1)
			go func() { deleted <- s.Delete(ctx, "x") }()
			waitForWaitingDelete(t, s)
			require.NoError(t, tx.Rollback())
			require.NoError(t, <-applied)
			require.NoError(t, <-deleted)
			require.EqualValues(t, 1, calls.Load())
			_, err = s.Get(ctx, "x")
			require.True(t, errors.Is(err, lifecycle.ErrNotFound), "Get after Delete = %v", err)
			require.Zero(t, rowCount(t, s, "events"), "event rows left")
		})
	})
}

// waitForWaitingDelete returns when a Delete on s waits for a lock: on
// PostgreSQL, when a DELETE on its tables waits for a lock; on SQLite,
// where Delete waits for the Store's write lock, after a pause.
func waitForWaitingDelete(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	if s.Dialect() != sqlstore.Postgres {
		time.Sleep(50 * time.Millisecond)
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM ' || $1 || '%'`, s.Table("")).Scan(&n))
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no DELETE waits for a lock")
}
