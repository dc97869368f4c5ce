package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

const dsnHelp = "PostgreSQL tests skipped: CLM_POSTGRES_DSN is not set. " +
	"Run them against a throwaway cluster with `bash .ci/postgres.sh` from the repository root " +
	"(installs PostgreSQL if missing, starts it on 127.0.0.1, runs these tests, stops it), " +
	"or set CLM_POSTGRES_DSN=postgres://user@host:port/db to a database the tests may create tables in."

// dialects is what every two-dialect test runs on.
var dialects = []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres}

// env is one fresh set of store tables: a new SQLite file, or new tables
// under a unique prefix in the PostgreSQL test database.
type env struct {
	dialect sqlstore.Dialect
	url     string
	prefix  string
}

var envSeq atomic.Int64

func newEnv(t testing.TB, d sqlstore.Dialect) env {
	t.Helper()
	switch d {
	case sqlstore.SQLite:
		// synchronous(NORMAL): in WAL mode commits are not fsynced, which
		// keeps the suite fast; it changes nothing about process crashes.
		return env{dialect: d, url: "sqlite:" + filepath.Join(t.TempDir(), "clm.db") + "?_pragma=synchronous(NORMAL)", prefix: sqlstore.DefaultTablePrefix}
	case sqlstore.Postgres:
		dsn := os.Getenv("CLM_POSTGRES_DSN")
		if dsn == "" {
			t.Skip(dsnHelp)
		}
		e := env{dialect: d, url: dsn, prefix: fmt.Sprintf("t%d_%d_%d_", os.Getpid(), time.Now().UnixNano()%1e9, envSeq.Add(1))}
		t.Cleanup(func() { dropTables(t, e) })
		// Commits do not wait for the WAL flush, which keeps the suite
		// fast; it changes nothing about client crashes.
		return e.withQuery("synchronous_commit=off")
	}
	t.Fatalf("unknown dialect %v", d)
	return env{}
}

func dropTables(t testing.TB, e env) {
	db, err := sql.Open("pgx", e.url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer db.Close()
	for _, name := range []string{"customers", "events", "changes", "feed", "feed_cursors", "schema_migrations"} {
		if _, err := db.Exec(`DROP TABLE IF EXISTS ` + e.prefix + name); err != nil {
			t.Errorf("cleanup: drop %s: %v", e.prefix+name, err)
		}
	}
}

// withQuery adds query parameters to the env's URL.
func (e env) withQuery(q string) env {
	if strings.Contains(e.url, "?") {
		e.url += "&" + q
	} else {
		e.url += "?" + q
	}
	return e
}

// open returns a new Store (with its own connection pool) on the env's
// tables, closed when the test ends.
func (e env) open(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Connect(context.Background(), e.url, append([]sqlstore.Option{sqlstore.WithTablePrefix(e.prefix)}, opts...)...)
	require.NoError(t, err, "Connect(%s)", e.url)
	t.Cleanup(func() { s.Close() })
	return s
}

// forEach runs f as a subtest per dialect.
func forEach(t *testing.T, f func(t *testing.T, d sqlstore.Dialect)) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}

// rowCount counts a table's rows.
func rowCount(t testing.TB, s *sqlstore.Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM `+s.Table(table)).Scan(&n))
	return n
}

// seenOf returns the set of the keys of these event IDs.
func seenOf(ids ...string) lifecycle.EventSet {
	var s lifecycle.EventSet
	for _, id := range ids {
		s.Add(lifecycle.KeyOf(id))
	}
	return s
}

// hexKeys returns the keys of s in ascending order, as hexadecimal
// strings (nil for the empty set).
func hexKeys(s *lifecycle.EventSet) []string {
	var out []string
	for k := range s.All() {
		out = append(out, k.String())
	}
	return out
}

// cmpSeen lets cmp compare (and show) EventSets, whose layout is private,
// as their keys.
var cmpSeen = cmp.Transformer("Keys", func(s lifecycle.EventSet) []string { return hexKeys(&s) })

// requireSeen checks that got holds exactly the keys of want.
func requireSeen(t testing.TB, want, got lifecycle.EventSet, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, hexKeys(&want), hexKeys(&got), msgAndArgs...)
}

// placeholder returns the dialect's n-th query parameter (from 1).
func placeholder(d sqlstore.Dialect, n int) string {
	if d == sqlstore.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// keyRows returns the keys the events table holds for customer id, in
// ascending order, as lower-case hexadecimal strings (nil for none).
func keyRows(t testing.TB, s *sqlstore.Store, id string) []string {
	t.Helper()
	q := `SELECT lower(hex(key)) FROM ` + s.Table("events") + ` WHERE customer_id = ? ORDER BY key`
	if s.Dialect() == sqlstore.Postgres {
		q = `SELECT encode(key, 'hex') FROM ` + s.Table("events") + ` WHERE customer_id = $1 ORDER BY key`
	}
	rows, err := s.DB().Query(q, id)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	require.NoError(t, rows.Err())
	return out
}

// applyOne applies one write with s.Apply and returns its outcome.
func applyOne(ctx context.Context, s *sqlstore.Store, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	ws := []lifecycle.Write{{ID: id, Events: events, Fn: fn}}
	s.Apply(ctx, ws)
	return ws[0].Err
}
