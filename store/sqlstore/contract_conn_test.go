package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestContractNoConnectionHeldInLoops: Scan "holds no connection while the
// caller's loop body runs"; ListDue pages "without holding a connection while
// the loop body runs"; ListByStage pages "as Store.Scan pages". With a pool of
// one connection, the body can still read and write.
func TestContractNoConnectionHeldInLoops(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t, sqlstore.WithScanPageSize(2))
		bg := context.Background()
		for i := range 5 {
			c := zzBase(fmt.Sprint("c", i))
			c.Due = time.Time{}
			require.NoError(t, s.Put(bg, c, 0))
		}
		s.DB().SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(bg, 20*time.Second)
		defer cancel()
		n := 0
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			_, err := s.Get(ctx, c.ID)
			require.NoError(t, err, "Get inside Scan")
			n++
		}
		assert.Equal(t, 5, n)
		n = 0
		for id, err := range s.ListDue(ctx, zzT0) {
			require.NoError(t, err)
			_, err := s.Get(ctx, id)
			require.NoError(t, err, "Get inside ListDue")
			n++
		}
		assert.Equal(t, 5, n)
		n = 0
		for id, err := range s.ListByStage(ctx, "reach") {
			require.NoError(t, err)
			_, err := s.Get(ctx, id)
			require.NoError(t, err, "Get inside ListByStage")
			n++
		}
		assert.Equal(t, 5, n)
	})
}

// TestContractIDsByteWise: IDs "are compared byte by byte" (README): IDs that
// differ only in case, trailing space, normalisation or a control character
// are distinct customers on both dialects.
func TestContractIDsByteWise(t *testing.T) {
	ids := []string{"a", "a ", "A", "\u00e9", "e\u0301", "a\t", "ａ"}
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		for i, id := range ids {
			c := zzBase(id)
			c.Stage = stage.ID("s" + fmt.Sprint(i))
			require.NoError(t, s.Put(ctx, c, 0), "%q", id)
		}
		for i, id := range ids {
			c, err := s.Get(ctx, id)
			require.NoError(t, err, "%q", id)
			assert.Equal(t, id, c.ID)
			assert.Equal(t, "s"+fmt.Sprint(i), string(c.Stage), "%q", id)
		}
		n, _ := s.Count(ctx)
		assert.Equal(t, int64(len(ids)), n)
		// the same event ID for two of them is two events
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		for _, id := range []string{"\u00e9", "e\u0301"} {
			r, err := tr.Record(ctx, lifecycle.Event{ID: "same", CustomerID: id, Type: "site_visited", Time: zzT0})
			require.NoError(t, err)
			assert.False(t, r.Duplicate, "%q", id)
		}
	})
}

// TestContractDeleteRacesWriters: storage.md: "Delete takes the customer's
// row before its event rows, as every writer does, so it does not deadlock
// with a writer."
func TestContractDeleteRacesWriters(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1, s2 := e.open(t), e.open(t)
		ctx := context.Background()
		var wg sync.WaitGroup
		for w := range 2 {
			tr := lifecycle.NewTracker(model.SterneCutler(), []*sqlstore.Store{s1, s2}[w], zzClock())
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 40 {
					_, err := tr.RecordBatch(ctx, []lifecycle.Event{
						{ID: fmt.Sprint(w, "-", i), CustomerID: "x", Type: "order_completed", Time: zzT0},
						{ID: fmt.Sprint(w, "-", i), CustomerID: "y", Type: "site_visited", Time: zzT0},
					})
					if err != nil {
						t.Errorf("record: %v", err)
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				if err := s2.Delete(ctx, []string{"x", "y"}[i%2]); err != nil {
					t.Errorf("delete: %v", err)
				}
			}
		}()
		wg.Wait()
		for _, id := range []string{"x", "y"} {
			c, err := s1.Get(ctx, id)
			if err != nil {
				continue
			}
			var n int
			q := `SELECT count(*) FROM ` + s1.Table("events") + ` WHERE customer_id = ` + map[sqlstore.Dialect]string{sqlstore.SQLite: "?", sqlstore.Postgres: "$1"}[d]
			require.NoError(t, s1.DB().QueryRow(q, id).Scan(&n))
			assert.Equal(t, c.Seen.Len(), n, "events rows agree with Seen for %s", id)
			assert.Equal(t, int64(c.Seen.Len()), c.Facts.Events(), "facts count what Seen holds for %s", id)
		}
	})
}

// TestContractApplyOneEventExisting: Apply of one customer the Store does
// not hold, with one event: fn may be called on a new customer first, but
// "fn is called again on it [the stored row]": its last call sees the stored
// customer and the event seen.
func TestContractApplyOneEventExisting(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		s1, s2 := e.open(t), e.open(t)
		ctx := context.Background()
		require.NoError(t, s1.Put(ctx, zzBase("c"), 0)) // e1 applied
		var lastVersion uint64
		var lastSeen []bool
		calls := 0
		ws := []lifecycle.Write{{ID: "c", Events: []string{"e1"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			calls++
			lastVersion = c.Version
			lastSeen = append([]bool(nil), seen...)
			if seen[0] {
				return false, nil
			}
			c.Version++
			c.Stage = "dup"
			return true, nil
		}}}
		s2.Apply(ctx, ws)
		if ws[0].Err != nil {
			assert.ErrorIs(t, ws[0].Err, lifecycle.ErrConflict)
		}
		c, err := s1.Get(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, uint64(1), c.Version, "an applied event applied again")
		assert.Equal(t, "reach", string(c.Stage))
		if ws[0].Err == nil {
			assert.Equal(t, uint64(1), lastVersion)
			assert.Equal(t, []bool{true}, lastSeen)
		}
	})
}

// TestContractSQLiteMemoryAndPool: "sqlite::memory: ... is a private
// in-memory database, limited to one connection"; WithLogger: migrations at
// Info.
func TestContractSQLiteMemoryAndPool(t *testing.T) {
	ctx := context.Background()
	a, err := sqlstore.Connect(ctx, "sqlite::memory:")
	require.NoError(t, err)
	defer a.Close()
	b, err := sqlstore.Connect(ctx, "sqlite::memory:?_pragma=synchronous(OFF)")
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, a.Put(ctx, zzBase("only-in-a"), 0))
	_, err = b.Get(ctx, "only-in-a")
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "private")
	assert.Equal(t, 1, a.DB().Stats().MaxOpenConnections)
	assert.Equal(t, 1, b.DB().Stats().MaxOpenConnections)

	var buf bytes.Buffer
	var mu sync.Mutex
	l := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := sqlstore.Connect(ctx, "sqlite:"+filepath.Join(t.TempDir(), "l.db"), sqlstore.WithLogger(l))
	require.NoError(t, err)
	s.Close()
	mu.Lock()
	assert.Contains(t, buf.String(), "level=INFO", "migrations logged at Info")
	mu.Unlock()
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
