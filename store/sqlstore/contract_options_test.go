package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestContractBadOptions: "A bad option ... fails Open/Connect with an error
// wrapping sqlstore.ErrInvalidOption" (docs/storage.md), on both dialects.
func TestContractBadOptions(t *testing.T) {
	bad := map[string]sqlstore.Option{
		"prefix 33 bytes":  sqlstore.WithTablePrefix(zzRepeat("a", 33)),
		"prefix upper":     sqlstore.WithTablePrefix("Clm_"),
		"prefix digit":     sqlstore.WithTablePrefix("1clm_"),
		"prefix sqlite_":   sqlstore.WithTablePrefix("sqlite_x"),
		"prefix hyphen":    sqlstore.WithTablePrefix("a-b"),
		"prefix space":     sqlstore.WithTablePrefix("a b"),
		"prefix quote":     sqlstore.WithTablePrefix(`a"`),
		"prefix non-ascii": sqlstore.WithTablePrefix("é"),
		"prefix NUL":       sqlstore.WithTablePrefix("a\x00"),
		"page 0":           sqlstore.WithScanPageSize(0),
		"page -1":          sqlstore.WithScanPageSize(-1),
		"page 100001":      sqlstore.WithScanPageSize(100001),
		"retries -1":       sqlstore.WithRetries(-1),
		"retries 101":      sqlstore.WithRetries(101),
	}
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		for name, o := range bad {
			s, err := sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix), o)
			if s != nil {
				s.Close()
			}
			assert.ErrorIs(t, err, sqlstore.ErrInvalidOption, name)
		}
		good := []sqlstore.Option{
			sqlstore.WithScanPageSize(1), sqlstore.WithScanPageSize(100000), sqlstore.WithRetries(0), sqlstore.WithRetries(100),
			sqlstore.WithLogger(nil), nil, sqlstore.WithTablePrefix(zzRepeat("z", 10) + e.prefix[:min(len(e.prefix), 22)]),
		}
		for i, o := range good {
			s, err := sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix), o)
			if assert.NoError(t, err, "good option %d", i) {
				s.Close()
			}
		}
		if d == sqlstore.Postgres {
			zzDrop(t, e.url, zzRepeat("z", 10)+e.prefix[:min(len(e.prefix), 22)])
		}
	})
}

// TestContractURLs: Connect's URL forms.
func TestContractURLs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{"", "mysql://x", "sqlite", "SQLITE:" + filepath.Join(dir, "x.db"), "http://x", "postgres", "file:" + filepath.Join(dir, "y.db")} {
		s, err := sqlstore.Connect(ctx, u)
		if s != nil {
			s.Close()
		}
		assert.ErrorIs(t, err, sqlstore.ErrInvalidOption, "url %q", u)
	}
	// a PostgreSQL URL pgx cannot parse
	s, err := sqlstore.Connect(ctx, "postgres://u@localhost:notaport/db")
	if s != nil {
		s.Close()
	}
	assert.ErrorIs(t, err, sqlstore.ErrInvalidOption, "bad port")

	// sqlite:PATH with '#' and '%' in the file name, and several slashes
	p := filepath.Join(dir, "a#b%c.db")
	s, err = sqlstore.Connect(ctx, "sqlite:"+p, sqlstore.WithTablePrefix("p_"))
	require.NoError(t, err)
	s.Close()
	_, err = os.Stat(p)
	assert.NoError(t, err, "file named as given")
	s, err = sqlstore.Connect(ctx, "sqlite:///"+strings.TrimPrefix(filepath.Join(dir, "abs.db"), "/"))
	require.NoError(t, err)
	s.Close()
	_, err = os.Stat(filepath.Join(dir, "abs.db"))
	assert.NoError(t, err, "several slashes: the absolute path")
	// file: URI passed on
	s, err = sqlstore.Connect(ctx, "sqlite:file:"+filepath.Join(dir, "uri.db")+"?_pragma=synchronous(NORMAL)")
	require.NoError(t, err)
	s.Close()
	_, err = os.Stat(filepath.Join(dir, "uri.db"))
	assert.NoError(t, err)
	// defaults added, URL settings kept
	s, err = sqlstore.Connect(ctx, "sqlite:"+filepath.Join(dir, "d.db"))
	require.NoError(t, err)
	var bt int
	var jm string
	require.NoError(t, s.DB().QueryRow("PRAGMA busy_timeout").Scan(&bt))
	require.NoError(t, s.DB().QueryRow("PRAGMA journal_mode").Scan(&jm))
	assert.Equal(t, 10000, bt)
	assert.Equal(t, "wal", strings.ToLower(jm))
	assert.Equal(t, sqlstore.SQLite, s.Dialect())
	s.Close()
	s, err = sqlstore.Connect(ctx, "sqlite:"+filepath.Join(dir, "e.db")+"?_pragma=BUSY_TIMEOUT(1234)")
	require.NoError(t, err)
	require.NoError(t, s.DB().QueryRow("PRAGMA busy_timeout").Scan(&bt))
	assert.Equal(t, 1234, bt, "URL's busy_timeout kept (any letter case)")
	s.Close()
	// in-memory
	s, err = sqlstore.Connect(ctx, "sqlite::memory:")
	require.NoError(t, err)
	tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
	_, err = tr.Record(ctx, lifecycle.Event{ID: "1", CustomerID: "c", Type: "site_visited", Time: zzT0})
	require.NoError(t, err)
	n, err := s.Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	assert.NoError(t, s.Close())

	if dsn := os.Getenv("CLM_POSTGRES_DSN"); dsn != "" {
		pre := fmt.Sprintf("zzu%d_", os.Getpid())
		defer zzDrop(t, dsn, pre)
		show := func(s *sqlstore.Store, name string) string {
			conn, err := s.DB().Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			var v string
			require.NoError(t, conn.QueryRowContext(ctx, "SHOW "+name).Scan(&v))
			return v
		}
		s, err := sqlstore.Connect(ctx, dsn, sqlstore.WithTablePrefix(pre))
		require.NoError(t, err)
		assert.Equal(t, "force_generic_plan", show(s, "plan_cache_mode"))
		assert.Equal(t, "off", show(s, "enable_seqscan"))
		assert.Equal(t, sqlstore.Postgres, s.Dialect())
		s.Close()
		s, err = sqlstore.Connect(ctx, strings.Replace(dsn, "postgres://", "postgresql://", 1)+"&ENABLE_SEQSCAN=on", sqlstore.WithTablePrefix(pre))
		require.NoError(t, err)
		assert.Equal(t, "on", show(s, "enable_seqscan"), "URL's setting, upper case")
		assert.Equal(t, "force_generic_plan", show(s, "plan_cache_mode"))
		s.Close()
		s, err = sqlstore.Connect(ctx, dsn+"&options=-c%20plan_cache_mode%3Dauto", sqlstore.WithTablePrefix(pre))
		require.NoError(t, err)
		assert.Equal(t, "auto", show(s, "plan_cache_mode"), "options parameter kept")
		assert.Equal(t, "off", show(s, "enable_seqscan"))
		s.Close()
		// 16 idle connections
		s, err = sqlstore.Connect(ctx, dsn, sqlstore.WithTablePrefix(pre))
		require.NoError(t, err)
		var conns []*sql.Conn
		for range 16 {
			c, err := s.DB().Conn(ctx)
			require.NoError(t, err)
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		assert.Equal(t, 16, s.DB().Stats().Idle, "keeps up to 16 idle connections")
		s.Close()
	}
}

// TestContractOpenOwnDB: Open on the caller's *sql.DB; Close leaves it open;
// Table names; a bad dialect.
func TestContractOpenOwnDB(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "o.db"))
	require.NoError(t, err)
	defer db.Close()
	s, err := sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("own_"), nil)
	require.NoError(t, err)
	assert.Equal(t, "own_customers", s.Table("customers"))
	assert.Equal(t, "own_feed_cursors", s.Table("feed_cursors"))
	assert.Same(t, db, s.DB())
	require.NoError(t, s.Close())
	assert.NoError(t, db.Ping(), "Close leaves db open")
	s2, err := sqlstore.Open(ctx, db, sqlstore.Dialect(0))
	if s2 != nil {
		s2.Close()
	}
	assert.Error(t, err, "dialect 0")
	assert.Equal(t, "postgres", sqlstore.Postgres.String())
	assert.Equal(t, "sqlite", sqlstore.SQLite.String())
	// empty prefix is allowed
	s3, err := sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix(""))
	require.NoError(t, err)
	assert.Equal(t, "customers", s3.Table("customers"))
	require.NoError(t, s3.Put(ctx, zzBase("x"), 0))
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM customers").Scan(&n))
	assert.Equal(t, 1, n)
}

// TestContractMigrations: "idempotent and safe when several processes open
// the same database at once"; a newer schema → ErrSchemaVersion.
func TestContractMigrations(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := zzNew(t, d)
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix))
				errs[i] = err
				if err == nil {
					s.Close()
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		s := e.open(t)
		rows, err := s.DB().Query(`SELECT version FROM ` + s.Table("schema_migrations") + ` ORDER BY version`)
		require.NoError(t, err)
		var vs []int
		for rows.Next() {
			var v int
			require.NoError(t, rows.Scan(&v))
			vs = append(vs, v)
		}
		rows.Close()
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, vs)
		require.NoError(t, s.Put(context.Background(), zzBase("kept"), 0))
		s.Close()
		s = e.open(t)
		_, err = s.Get(context.Background(), "kept")
		require.NoError(t, err, "reopen keeps data")
		q := `INSERT INTO ` + s.Table("schema_migrations") + ` (version, name) VALUES (8, 'future')`
		_, err = s.DB().Exec(q)
		require.NoError(t, err)
		_, err = sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix))
		assert.ErrorIs(t, err, sqlstore.ErrSchemaVersion)
		_, err = sqlstore.Open(context.Background(), s.DB(), d, sqlstore.WithTablePrefix(e.prefix))
		assert.ErrorIs(t, err, sqlstore.ErrSchemaVersion)
	})
}

// TestContractCancelled: every method honours ctx: with a done context,
// nothing is written and the error wraps the context's error; Apply sets
// w.Err to it without calling fn.
func TestContractCancelled(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		bg := context.Background()
		require.NoError(t, s.Put(bg, zzBase("have"), 0))
		ctx, cancel := context.WithCancel(bg)
		cancel()
		_, err := s.Get(ctx, "have")
		assert.ErrorIs(t, err, context.Canceled, "Get")
		assert.ErrorIs(t, s.Put(ctx, zzBase("new"), 0), context.Canceled, "Put")
		assert.ErrorIs(t, s.Delete(ctx, "have"), context.Canceled, "Delete")
		_, err = s.Count(ctx)
		assert.ErrorIs(t, err, context.Canceled, "Count")
		_, err = s.CountByStage(ctx)
		assert.ErrorIs(t, err, context.Canceled, "CountByStage")
		_, err = s.Changes(ctx, 0, 10)
		assert.ErrorIs(t, err, context.Canceled, "Changes")
		_, _, err = s.ClaimCursor(ctx, "n", "o", zzT0, zzT0.Add(time.Minute))
		assert.ErrorIs(t, err, context.Canceled, "ClaimCursor")
		assert.ErrorIs(t, s.AdvanceCursor(ctx, "n", "o", 1, zzT0, zzT0.Add(time.Minute)), context.Canceled, "AdvanceCursor")
		for name, seq := range map[string]func(func(string, error) bool){
			"ListDue":     s.ListDue(ctx, lifecycle.Never),
			"ListByStage": s.ListByStage(ctx, "reach"),
		} {
			var gotErr error
			for _, err := range seq {
				gotErr = err
				break
			}
			assert.ErrorIs(t, gotErr, context.Canceled, name)
		}
		var gotErr error
		for _, err := range s.Scan(ctx) {
			gotErr = err
			break
		}
		assert.ErrorIs(t, gotErr, context.Canceled, "Scan")
		called := false
		ws := []lifecycle.Write{{ID: "new", Events: []string{"e"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) { called = true; return true, nil }}}
		s.Apply(ctx, ws)
		assert.ErrorIs(t, ws[0].Err, context.Canceled)
		assert.False(t, called, "fn called with a done context")
		tr := lifecycle.NewTracker(model.SterneCutler(), s, zzClock())
		_, err = tr.Record(ctx, lifecycle.Event{ID: "e", CustomerID: "new", Type: "site_visited", Time: zzT0})
		assert.ErrorIs(t, err, context.Canceled, "Record")
		_, err = tr.Import(ctx, zzSlice([]lifecycle.Event{{ID: "e", CustomerID: "new", Type: "site_visited", Time: zzT0}}), nil)
		assert.ErrorIs(t, err, context.Canceled, "Import")
		_, err = tr.Sweep(ctx, zzT0)
		assert.ErrorIs(t, err, context.Canceled, "Sweep")
		n, err := s.Count(bg)
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		assert.Equal(t, 1, zzCount(t, s, "events"))
		_ = errors.Is
	})
}
