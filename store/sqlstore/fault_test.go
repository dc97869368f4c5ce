package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// The fault tests store a victim at version 1 with Seen {1, 2}, make a Put
// of version 2 with Seen {1, 2, 3} fail part-way, check that version 1 is
// stored exactly as before (customer row and event rows), and then check
// that the same Put, retried, succeeds.

func victim(v uint64) *lifecycle.Customer {
	c := &lifecycle.Customer{ID: "victim", Stage: "reach", Version: v, Seen: []uint64{1, 2}}
	if v > 1 {
		c.Stage, c.Seen = "conversion", []uint64{1, 2, 3}
	}
	return c
}

func putVictim(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	require.NoError(t, s.Put(context.Background(), victim(1), 0))
}

// requireVictimUnchanged checks that version 1 is stored, whole.
func requireVictimUnchanged(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	got, err := s.Get(context.Background(), "victim")
	require.NoError(t, err)
	require.Equal(t, uint64(1), got.Version, "the failed Put changed the version")
	require.Equal(t, "reach", string(got.Stage), "the failed Put changed the stage")
	require.Equal(t, []uint64{1, 2}, got.Seen, "the failed Put changed Seen")
	require.Equal(t, 2, rowCount(t, s, "events"), "the failed Put left event rows behind")
}

// requireRetrySucceeds retries the failed Put and checks its effect.
func requireRetrySucceeds(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	require.NoError(t, s.Put(context.Background(), victim(2), 1), "retrying the failed Put")
	got, err := s.Get(context.Background(), "victim")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version)
	require.Equal(t, []uint64{1, 2, 3}, got.Seen)
	require.Equal(t, 3, rowCount(t, s, "events"))
}

// blockEvents opens a transaction that inserts the victim's event row for
// digest 3 and keeps it open: a Put of version 2 then updates the customer
// row and waits, mid-statement, for this transaction. The returned function
// rolls it back.
func blockEvents(t *testing.T, s *sqlstore.Store) (release func()) {
	t.Helper()
	tx, err := s.DB().BeginTx(context.Background(), nil)
	require.NoError(t, err)
	_, err = tx.Exec(`INSERT INTO ` + s.Table("events") + ` (customer_id, digest) VALUES ('victim', 3)`)
	require.NoError(t, err)
	var once sync.Once
	release = func() { once.Do(func() { require.NoError(t, tx.Rollback()) }) }
	t.Cleanup(release)
	return release
}

// waitingBackend returns the PID of the backend that waits for a lock
// while running a statement on table.
func waitingBackend(t *testing.T, s *sqlstore.Store, table string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var pid int
		err := s.DB().QueryRow(`SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND position($1 in query) > 0`, table).Scan(&pid)
		if err == nil {
			return pid
		}
		require.ErrorIs(t, err, sql.ErrNoRows)
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no backend is waiting for a lock")
	return 0
}

// TestPostgresConnectionKilled terminates the backend of a Put that has
// already updated the customer row and waits inside the same statement.
func TestPostgresConnectionKilled(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s := e.open(t)
	putVictim(t, s)
	release := blockEvents(t, s)
	done := make(chan error, 1)
	go func() { done <- s.Put(context.Background(), victim(2), 1) }()
	pid := waitingBackend(t, s, s.Table("events"))
	var ok bool
	require.NoError(t, s.DB().QueryRow(`SELECT pg_terminate_backend($1)`, pid).Scan(&ok))
	require.True(t, ok)
	err := <-done
	require.Error(t, err, "Put on a terminated connection")
	require.NotErrorIs(t, err, lifecycle.ErrConflict)
	t.Logf("Put on a terminated connection: %v", err)
	release()
	requireVictimUnchanged(t, s)
	requireRetrySucceeds(t, s)
}

// TestPostgresContextCancelled cancels a Put that has already updated the
// customer row and waits inside the same statement.
func TestPostgresContextCancelled(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s := e.open(t)
	putVictim(t, s)
	release := blockEvents(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Put(ctx, victim(2), 1) }()
	waitingBackend(t, s, s.Table("events"))
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	release()
	requireVictimUnchanged(t, s)
	requireRetrySucceeds(t, s)
}

// TestPostgresSerializationFailure makes PostgreSQL abort a Put with a real
// serialization failure: the Put runs at SERIALIZABLE isolation and another
// transaction updates the row it waits for.
func TestPostgresSerializationFailure(t *testing.T) {
	cases := []struct {
		name    string
		retries int
		wantErr bool
	}{
		{"no retries: the caller sees ErrConflict", 0, true},
		{"default retries: Put retries and succeeds", sqlstore.DefaultRetries, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sqlstore.Postgres)
			log := &retryLog{}
			s := e.withQuery("default_transaction_isolation=serializable").open(t, sqlstore.WithRetries(tc.retries), sqlstore.WithLogger(slog.New(log)))
			putVictim(t, s)
			tx, err := s.DB().Begin()
			require.NoError(t, err)
			_, err = tx.Exec(`UPDATE ` + s.Table("customers") + ` SET data = data WHERE id = 'victim'`)
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- s.Put(context.Background(), victim(2), 1) }()
			waitingBackend(t, s, s.Table("customers"))
			require.NoError(t, tx.Commit())
			err = <-done
			if !tc.wantErr {
				require.NoError(t, err)
				require.Equal(t, 1, log.count(), "retries logged")
				return
			}
			require.ErrorIs(t, err, lifecycle.ErrConflict)
			var pe *pgconn.PgError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "40001", pe.Code)
			requireVictimUnchanged(t, s)
			requireRetrySucceeds(t, s)
		})
	}
}

// retryLog is a slog.Handler counting the store's retry messages.
type retryLog struct{ n atomic.Int32 }

func (l *retryLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *retryLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retrying") {
		l.n.Add(1)
	}
	return nil
}
func (l *retryLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *retryLog) WithGroup(string) slog.Handler      { return l }
func (l *retryLog) count() int                         { return int(l.n.Load()) }

// holdSQLiteWriteLock takes the database's write lock from another
// connection pool and keeps it until release is called.
func holdSQLiteWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`)
	require.NoError(t, err)
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, err := conn.ExecContext(context.Background(), `ROLLBACK`)
			require.NoError(t, err)
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestSQLiteBusy: another process holds the write lock for longer than
// the busy timeout allows, so every attempt of the Put fails with
// SQLITE_BUSY; or it lets go while the Put is retrying, which then succeeds.
func TestSQLiteBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clm.db")
	e := env{dialect: sqlstore.SQLite, url: "sqlite:" + path + "?_pragma=busy_timeout(50)", prefix: "clm_"}
	t.Run("lock held throughout", func(t *testing.T) {
		log := &retryLog{}
		s := e.open(t, sqlstore.WithRetries(2), sqlstore.WithLogger(slog.New(log)))
		putVictim(t, s)
		release := holdSQLiteWriteLock(t, path)
		err := s.Put(context.Background(), victim(2), 1)
		var se *sqlite.Error
		require.ErrorAs(t, err, &se)
		require.Equal(t, 5, se.Code()&0xff, "want SQLITE_BUSY, got %v", err)
		require.NotErrorIs(t, err, lifecycle.ErrConflict)
		require.Equal(t, 2, log.count(), "retries logged")
		release()
		requireVictimUnchanged(t, s)
		requireRetrySucceeds(t, s)
	})
	t.Run("lock released during the retries", func(t *testing.T) {
		log := &retryLog{}
		s := e.open(t, sqlstore.WithRetries(20), sqlstore.WithLogger(slog.New(log)))
		c := &lifecycle.Customer{ID: "second", Stage: "reach", Version: 1}
		release := holdSQLiteWriteLock(t, path)
		time.AfterFunc(150*time.Millisecond, release)
		require.NoError(t, s.Put(context.Background(), c, 0))
		require.Positive(t, log.count(), "retries logged")
	})
}

// TestSQLiteContextCancelled cancels a Put while it waits for another
// process's write lock.
func TestSQLiteContextCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clm.db")
	s := env{dialect: sqlstore.SQLite, url: "sqlite:" + path + "?_pragma=busy_timeout(300)", prefix: "clm_"}.open(t)
	putVictim(t, s)
	release := holdSQLiteWriteLock(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.Put(ctx, victim(2), 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	release()
	requireVictimUnchanged(t, s)
	requireRetrySucceeds(t, s)
}

// faultConnector opens SQLite connections whose statements can be made to
// fail: the injected function sees every statement before it runs.
type faultConnector struct {
	dsn    string
	inject atomic.Pointer[func(ctx context.Context, query string) error]
}

var errDropped = errors.New("test: connection dropped")

func (c *faultConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: conn, c: c}, nil
}

func (c *faultConnector) Driver() driver.Driver { return &sqlite.Driver{} }

type faultConn struct {
	driver.Conn
	c       *faultConnector
	dropped bool
}

func (fc *faultConn) check(ctx context.Context, query string) error {
	if fc.dropped {
		return driver.ErrBadConn
	}
	if f := fc.c.inject.Load(); f != nil {
		if err := (*f)(ctx, query); err != nil {
			if errors.Is(err, errDropped) {
				// The connection goes away: SQLite rolls back its open
				// transaction when it is closed.
				fc.dropped = true
				fc.Conn.Close()
				return driver.ErrBadConn
			}
			return err
		}
	}
	return nil
}

func (fc *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := fc.check(ctx, query); err != nil {
		return nil, err
	}
	return fc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (fc *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := fc.check(ctx, query); err != nil {
		return nil, err
	}
	return fc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (fc *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if fc.dropped {
		return nil, driver.ErrBadConn
	}
	tx, err := fc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultTx{Tx: tx, fc: fc}, nil
}

// faultTx refuses to touch a dropped connection.
type faultTx struct {
	driver.Tx
	fc *faultConn
}

func (tx *faultTx) Commit() error {
	if tx.fc.dropped {
		return driver.ErrBadConn
	}
	return tx.Tx.Commit()
}

func (tx *faultTx) Rollback() error {
	if tx.fc.dropped {
		return driver.ErrBadConn
	}
	return tx.Tx.Rollback()
}

func (fc *faultConn) Close() error {
	if fc.dropped {
		return nil
	}
	return fc.Conn.Close()
}

func (fc *faultConn) IsValid() bool { return !fc.dropped }

// TestSQLiteFaultsMidTransaction makes a statement inside the Put's
// transaction fail after the customer row has been updated.
func TestSQLiteFaultsMidTransaction(t *testing.T) {
	cases := []struct {
		name   string
		on     string // a statement containing this fails
		inject func(cancel context.CancelFunc) error
		want   error
	}{
		{"events insert fails", "INSERT INTO clm_events", func(context.CancelFunc) error { return errors.New("test: disk I/O error") }, nil},
		{"connection dropped before the events delete", "DELETE FROM clm_events", func(context.CancelFunc) error { return errDropped }, driver.ErrBadConn},
		{"context cancelled before the events insert", "INSERT INTO clm_events", func(cancel context.CancelFunc) error { cancel(); return context.Canceled }, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := &faultConnector{dsn: "file:" + filepath.Join(t.TempDir(), "clm.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"}
			db := sql.OpenDB(fc)
			defer db.Close()
			s, err := sqlstore.Open(context.Background(), db, sqlstore.SQLite)
			require.NoError(t, err)
			putVictim(t, s)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var fired atomic.Bool
			f := func(_ context.Context, query string) error {
				if strings.Contains(query, tc.on) && fired.CompareAndSwap(false, true) {
					return tc.inject(cancel)
				}
				return nil
			}
			fc.inject.Store(&f)
			err = s.Put(ctx, victim(2), 1)
			fc.inject.Store(nil)
			require.True(t, fired.Load(), "the fault was not injected")
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			t.Logf("Put: %v", err)
			requireVictimUnchanged(t, s)
			requireRetrySucceeds(t, s)
		})
	}
}
