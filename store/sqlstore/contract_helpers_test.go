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
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// zzEnv is one fresh set of tables for a review test: a SQLite file in the
// test's temporary directory, or PostgreSQL tables under a unique prefix,
// dropped at the end of the test.
type zzEnv struct {
	d      sqlstore.Dialect
	url    string
	prefix string
}

var zzSeq atomic.Int64

func zzNew(t testing.TB, d sqlstore.Dialect) zzEnv {
	t.Helper()
	switch d {
	case sqlstore.SQLite:
		return zzEnv{d: d, url: "sqlite:" + filepath.Join(t.TempDir(), "r.db") + "?_pragma=synchronous(NORMAL)", prefix: "zzr_"}
	case sqlstore.Postgres:
		dsn := os.Getenv("CLM_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("CLM_POSTGRES_DSN not set")
		}
		e := zzEnv{d: d, url: dsn, prefix: fmt.Sprintf("zzr%d_%d_", os.Getpid(), zzSeq.Add(1))}
		t.Cleanup(func() { zzDrop(t, dsn, e.prefix) })
		return e
	}
	t.Fatalf("dialect %v", d)
	return zzEnv{}
}

func zzDrop(t testing.TB, dsn, prefix string) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer db.Close()
	for _, n := range []string{"customers", "events", "changes", "feed", "feed_cursors", "schema_migrations"} {
		if _, err := db.Exec(`DROP TABLE IF EXISTS ` + prefix + n); err != nil {
			t.Errorf("cleanup %s: %v", prefix+n, err)
		}
	}
}

func (e zzEnv) open(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Connect(context.Background(), e.url, append([]sqlstore.Option{sqlstore.WithTablePrefix(e.prefix)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func zzEach(t *testing.T, f func(t *testing.T, d sqlstore.Dialect)) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}

func zzCount(t testing.TB, s *sqlstore.Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM `+s.Table(table)).Scan(&n))
	return n
}

func zzKeys(s lifecycle.EventSet) []string {
	var out []string
	for k := range s.All() {
		out = append(out, k.String())
	}
	return out
}

// zzExact compares customers as the store contract requires: times as the
// same instant with the same offset, Seen by its keys.
var zzExact = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob
	}),
	cmp.Transformer("Keys", func(s lifecycle.EventSet) []string { return zzKeys(s) }),
	cmpopts.EquateEmpty(),
}

// zzState is what must agree between stores for the same events: everything
// but History, Since and Version.
func zzState(c *lifecycle.Customer) *lifecycle.Customer {
	d := c.Clone()
	d.History = nil
	d.Since = time.Time{}
	d.Version = 0
	return d
}

func zzAll(t testing.TB, s lifecycle.Store) map[string]*lifecycle.Customer {
	t.Helper()
	out := map[string]*lifecycle.Customer{}
	for c, err := range s.Scan(context.Background()) {
		require.NoError(t, err)
		out[c.ID] = c
	}
	return out
}

func zzSlice(evs []lifecycle.Event) func(func(lifecycle.Event, error) bool) {
	return func(yield func(lifecycle.Event, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

var zzT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// zzClock accepts every event time up to Never.
func zzClock() lifecycle.Option {
	return lifecycle.WithClock(func() time.Time { return lifecycle.Never })
}

func zzRepeat(s string, n int) string { return strings.Repeat(s, n) }
