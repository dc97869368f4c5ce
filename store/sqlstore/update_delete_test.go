package sqlstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestUpdateDeleteRace: a Delete of a customer that an Update holds waits
// for the Update and then deletes the customer, on PostgreSQL too, where
// both lock rows: neither fails. (Delete once removed the customer's event
// rows before taking the customer's row: the Update's write of those event
// rows then waited for the Delete, which waited for the Update's row lock,
// and PostgreSQL aborted one of the two as a deadlock.)
func TestUpdateDeleteRace(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s := e.open(t)
		ctx := context.Background()
		require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "x", Stage: "reach", Version: 1, Seen: []uint64{1}}, 0))
		inFn, release := make(chan struct{}), make(chan struct{})
		var calls atomic.Int64
		updated := make(chan error, 1)
		go func() {
			updated <- s.Update(ctx, "x", func(c *lifecycle.Customer) (bool, error) {
				close(inFn)
				<-release
				return bump(&calls)(c)
			})
		}()
		<-inFn
		deleted := make(chan error, 1)
		go func() { deleted <- s.Delete(ctx, "x") }()
		waitForWaitingDelete(t, s)
		close(release)
		require.NoError(t, <-updated)
		require.NoError(t, <-deleted)
		require.EqualValues(t, 1, calls.Load())
		_, err := s.Get(ctx, "x")
		require.True(t, errors.Is(err, lifecycle.ErrNotFound), "Get after Delete = %v", err)
		require.Zero(t, rowCount(t, s, "events"), "event rows left")
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
