package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
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

// The fault tests store a victim at version 1 that has seen events e1 and
// e2, make a write of version 2 that also applies e3 (a Put with Seen
// {e1, e2, e3}, or an Apply of e3) fail part-way, check that version 1 is
// stored exactly as before (customer row and event rows), and then check
// that the same write, retried, succeeds.

func victim(v uint64) *lifecycle.Customer {
	c := &lifecycle.Customer{ID: "victim", Stage: "reach", Version: v, Seen: seenOf("e1", "e2")}
	if v > 1 {
		c.Stage, c.Seen = "conversion", seenOf("e1", "e2", "e3")
	}
	return c
}

// writer makes the victim's version 2 from its version 1.
type writer struct {
	name  string
	write func(ctx context.Context, s *sqlstore.Store) error
}

var (
	putV2   = writer{"Put", func(ctx context.Context, s *sqlstore.Store) error { return s.Put(ctx, victim(2), 1) }}
	applyV2 = writer{"Apply", applyVictim}
	writers = []writer{putV2, applyV2}
)

// applyVictim applies e3 to the victim at version 1, making version 2.
func applyVictim(ctx context.Context, s *sqlstore.Store) error {
	return applyOne(ctx, s, "victim", []string{"e3"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if c.Version != 1 || c.Stage != "reach" || seen[0] {
			return false, fmt.Errorf("Apply's fn was given version %d, stage %s, e3 seen %v; want version 1, reach, not seen", c.Version, c.Stage, seen[0])
		}
		c.Stage = "conversion"
		c.Version++
		return true, nil
	})
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
	require.Equal(t, uint64(1), got.Version, "the failed write changed the version")
	require.Equal(t, "reach", string(got.Stage), "the failed write changed the stage")
	requireSeen(t, seenOf("e1", "e2"), got.Seen, "the failed write changed Seen")
	require.Equal(t, 2, rowCount(t, s, "events"), "the failed write left event rows behind")
}

// requireRetrySucceeds retries the failed write and checks its effect.
func requireRetrySucceeds(t *testing.T, s *sqlstore.Store, w writer) {
	t.Helper()
	require.NoError(t, w.write(context.Background(), s), "retrying the failed %s", w.name)
	requireVictimV2(t, s)
}

// requireVictimV2 checks that version 2 is stored, whole.
func requireVictimV2(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	got, err := s.Get(context.Background(), "victim")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version)
	require.Equal(t, "conversion", string(got.Stage))
	requireSeen(t, seenOf("e1", "e2", "e3"), got.Seen)
	require.Equal(t, 3, rowCount(t, s, "events"))
}

// blockEvents opens a transaction that inserts the victim's event row for
// e3 and keeps it open: a write of version 2 then updates the customer row
// and waits, mid-statement, for this transaction. The returned function
// rolls it back.
func blockEvents(t *testing.T, s *sqlstore.Store) (release func()) {
	t.Helper()
	tx, err := s.DB().BeginTx(context.Background(), nil)
	require.NoError(t, err)
	k := lifecycle.KeyOf("e3")
	_, err = tx.Exec(`INSERT INTO `+s.Table("events")+` (customer_id, key) VALUES ('victim', $1)`, k[:])
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

// TestPostgresConnectionKilled terminates the backend of a write (Put or
// Apply) that has already updated the customer row and waits inside the
// same statement.
func TestPostgresConnectionKilled(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			e := newEnv(t, sqlstore.Postgres)
			s := e.open(t)
			putVictim(t, s)
			release := blockEvents(t, s)
			done := make(chan error, 1)
			go func() { done <- w.write(context.Background(), s) }()
			pid := waitingBackend(t, s, s.Table("events"))
			var ok bool
			require.NoError(t, s.DB().QueryRow(`SELECT pg_terminate_backend($1)`, pid).Scan(&ok))
			require.True(t, ok)
			err := <-done
			require.Error(t, err, "%s on a terminated connection", w.name)
			require.NotErrorIs(t, err, lifecycle.ErrConflict)
			t.Logf("%s on a terminated connection: %v", w.name, err)
			release()
			requireVictimUnchanged(t, s)
			requireRetrySucceeds(t, s, w)
		})
	}
}

// TestPostgresContextCancelled cancels a write that has already updated
// the customer row and waits inside the same statement. Put runs the
// statement in a transaction it does not commit after the cancel: nothing
// is stored. Apply's statement commits on its own; the server may run it
// to its end after Apply returned: the customer and e3's key are then
// stored together, or neither is, and applying e3 again finds it seen or
// applies it.
func TestPostgresContextCancelled(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			e := newEnv(t, sqlstore.Postgres)
			s := e.open(t)
			putVictim(t, s)
			release := blockEvents(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.write(ctx, s) }()
			waitingBackend(t, s, s.Table("events"))
			cancel()
			err := <-done
			require.ErrorIs(t, err, context.Canceled)
			release()
			if w.name == putV2.name {
				requireVictimUnchanged(t, s)
				requireRetrySucceeds(t, s, w)
				return
			}
			waitStatementsDone(t, s)
			got, err := s.Get(context.Background(), "victim")
			require.NoError(t, err)
			t.Logf("the cancelled Apply stored version %d", got.Version)
			if got.Version == 1 {
				requireVictimUnchanged(t, s)
				requireRetrySucceeds(t, s, w)
				return
			}
			requireVictimV2(t, s)
			calls := 0
			require.NoError(t, applyOne(context.Background(), s, "victim", []string{"e3"}, stored(func(c *lifecycle.Customer, seen []bool) (bool, error) {
				calls++
				require.True(t, seen[0], "e3 is stored but Apply does not report it seen")
				return false, nil
			})))
			require.Equal(t, 1, calls)
		})
	}
}

// waitStatementsDone waits until no other backend runs a statement on s's
// tables.
func waitStatementsDone(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND state = 'active' AND position($1 in query) > 0`, s.Table("customers")).Scan(&n))
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("a statement on the store's tables still runs")
}

// TestPostgresSerializationFailure makes PostgreSQL abort a write with a
// real serialization failure: the write runs at SERIALIZABLE isolation and
// another transaction updates the row it waits for. Put retries it (as
// WithRetries says); Apply, whose fn has run by then, returns it wrapping
// ErrConflict, for the caller to apply again.
func TestPostgresSerializationFailure(t *testing.T) {
	cases := []struct {
		name    string
		w       writer
		retries int
		wantErr bool
	}{
		{"Put, no retries: the caller sees ErrConflict", putV2, 0, true},
		{"Put, default retries: Put retries and succeeds", putV2, sqlstore.DefaultRetries, false},
		{"Apply, default retries: the caller sees ErrConflict", applyV2, sqlstore.DefaultRetries, true},
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
			go func() { done <- tc.w.write(context.Background(), s) }()
			waitingBackend(t, s, s.Table("customers"))
			require.NoError(t, tx.Commit())
			err = <-done
			if !tc.wantErr {
				require.NoError(t, err)
				require.Equal(t, 1, log.count(), "retries logged")
				requireVictimV2(t, s)
				return
			}
			require.ErrorIs(t, err, lifecycle.ErrConflict)
			var pe *pgconn.PgError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "40001", pe.Code)
			require.Zero(t, log.count(), "retries logged")
			requireVictimUnchanged(t, s)
			requireRetrySucceeds(t, s, tc.w)
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
// the busy timeout allows, so every attempt of the write fails with
// SQLITE_BUSY (Apply's before its fn runs); or it lets go while the write
// is retrying, which then succeeds.
func TestSQLiteBusy(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			busy := func(t *testing.T) (env, string) {
				path := filepath.Join(t.TempDir(), "clm.db")
				return env{dialect: sqlstore.SQLite, url: "sqlite:" + path + "?_pragma=busy_timeout(50)", prefix: "clm_"}, path
			}
			t.Run("lock held throughout", func(t *testing.T) {
				e, path := busy(t)
				log := &retryLog{}
				s := e.open(t, sqlstore.WithRetries(2), sqlstore.WithLogger(slog.New(log)))
				putVictim(t, s)
				release := holdSQLiteWriteLock(t, path)
				err := w.write(context.Background(), s)
				var se *sqlite.Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, 5, se.Code()&0xff, "want SQLITE_BUSY, got %v", err)
				require.NotErrorIs(t, err, lifecycle.ErrConflict)
				require.Equal(t, 2, log.count(), "retries logged")
				release()
				requireVictimUnchanged(t, s)
				requireRetrySucceeds(t, s, w)
			})
			t.Run("lock released during the retries", func(t *testing.T) {
				e, path := busy(t)
				log := &retryLog{}
				s := e.open(t, sqlstore.WithRetries(20), sqlstore.WithLogger(slog.New(log)))
				putVictim(t, s)
				release := holdSQLiteWriteLock(t, path)
				time.AfterFunc(150*time.Millisecond, release)
				require.NoError(t, w.write(context.Background(), s))
				require.Positive(t, log.count(), "retries logged")
				requireVictimV2(t, s)
			})
		})
	}
}

// TestSQLiteContextCancelled cancels a write while it waits for another
// process's write lock.
func TestSQLiteContextCancelled(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clm.db")
			s := env{dialect: sqlstore.SQLite, url: "sqlite:" + path + "?_pragma=busy_timeout(300)", prefix: "clm_"}.open(t)
			putVictim(t, s)
			release := holdSQLiteWriteLock(t, path)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := w.write(ctx, s)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			release()
			requireVictimUnchanged(t, s)
			requireRetrySucceeds(t, s, w)
		})
	}
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

// TestSQLiteFaultsMidTransaction makes a statement inside the write's
// transaction fail after the customer row has been updated.
func TestSQLiteFaultsMidTransaction(t *testing.T) {
	cases := []struct {
		name   string
		w      writer
		on     string // a statement containing this fails
		inject func(cancel context.CancelFunc) error
		want   error
	}{
		{"events insert fails", putV2, "INSERT INTO clm_events", func(context.CancelFunc) error { return errors.New("test: disk I/O error") }, nil},
		{"connection dropped before the events delete", putV2, "DELETE FROM clm_events", func(context.CancelFunc) error { return errDropped }, driver.ErrBadConn},
		{"context cancelled before the events insert", putV2, "INSERT INTO clm_events", func(cancel context.CancelFunc) error { cancel(); return context.Canceled }, context.Canceled},
		{"events insert fails", applyV2, "INSERT INTO clm_events", func(context.CancelFunc) error { return errors.New("test: disk I/O error") }, nil},
		{"connection dropped before the events insert", applyV2, "INSERT INTO clm_events", func(context.CancelFunc) error { return errDropped }, driver.ErrBadConn},
		{"context cancelled before the events insert", applyV2, "INSERT INTO clm_events", func(cancel context.CancelFunc) error { cancel(); return context.Canceled }, context.Canceled},
		{"connection dropped before the commit", applyV2, "COMMIT", func(context.CancelFunc) error { return errDropped }, driver.ErrBadConn},
	}
	for _, tc := range cases {
		t.Run(tc.w.name+"/"+tc.name, func(t *testing.T) {
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
			err = tc.w.write(ctx, s)
			fc.inject.Store(nil)
			require.True(t, fired.Load(), "the fault was not injected")
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			t.Logf("%s: %v", tc.w.name, err)
			requireVictimUnchanged(t, s)
			requireRetrySucceeds(t, s, tc.w)
		})
	}
}
