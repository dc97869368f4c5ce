package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

func migrationRows(t *testing.T, s *sqlstore.Store) []int {
	t.Helper()
	rows, err := s.DB().Query(`SELECT version FROM ` + s.Table("schema_migrations") + ` ORDER BY version`)
	require.NoError(t, err)
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		vs = append(vs, v)
	}
	require.NoError(t, rows.Err())
	return vs
}

func allVersions() []int {
	var vs []int
	for v := 1; v <= sqlstore.SchemaVersion; v++ {
		vs = append(vs, v)
	}
	return vs
}

// TestMigrateConcurrentOpen starts eight instances, each with its own
// connection pool, on an empty database at once: all must come up, and
// every migration must have run exactly once.
func TestMigrateConcurrentOpen(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		const n = 8
		stores := make([]*sqlstore.Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stores[i], errs[i] = sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix))
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "instance %d", i)
			t.Cleanup(func() { stores[i].Close() })
		}
		if diff := cmp.Diff(allVersions(), migrationRows(t, stores[0])); diff != "" {
			t.Errorf("schema_migrations after %d concurrent opens (-want +got):\n%s", n, diff)
		}
		// Every instance works on the shared tables.
		ctx := context.Background()
		c := &lifecycle.Customer{ID: "shared", Stage: "reach", Version: 1}
		require.NoError(t, stores[3].Put(ctx, c, 0))
		got, err := stores[5].Get(ctx, "shared")
		require.NoError(t, err)
		require.Equal(t, uint64(1), got.Version)
		// Opening again is a no-op.
		again := e.open(t)
		if diff := cmp.Diff(allVersions(), migrationRows(t, again)); diff != "" {
			t.Errorf("schema_migrations after reopening (-want +got):\n%s", diff)
		}
	})
}

// TestMigrateUpgrade opens a database left at schema version 1 (no stage
// index) with customers in it, and checks that Open upgrades it in place.
func TestMigrateUpgrade(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		ctx := context.Background()
		old := e.open(t)
		// Roll the schema back to version 1 by hand, as an old release
		// would have left it.
		_, err := old.DB().Exec(`DROP INDEX ` + e.prefix + `customers_stage`)
		require.NoError(t, err)
		_, err = old.DB().Exec(`DELETE FROM ` + old.Table("schema_migrations") + ` WHERE version > 1`)
		require.NoError(t, err)
		require.NoError(t, old.Put(ctx, &lifecycle.Customer{ID: "kept", Stage: "loyalty", Version: 1, Seen: []uint64{7}}, 0))

		s := e.open(t)
		if diff := cmp.Diff(allVersions(), migrationRows(t, s)); diff != "" {
			t.Errorf("schema_migrations after upgrade (-want +got):\n%s", diff)
		}
		var ids []string
		for id, err := range s.ListByStage(ctx, "loyalty") {
			require.NoError(t, err)
			ids = append(ids, id)
		}
		require.Equal(t, []string{"kept"}, ids)
		got, err := s.Get(ctx, "kept")
		require.NoError(t, err)
		require.Equal(t, []uint64{7}, got.Seen)
	})
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s := e.open(t)
		_, err := s.DB().Exec(`INSERT INTO ` + s.Table("schema_migrations") + ` (version, name) VALUES (999, 'from the future')`)
		require.NoError(t, err)
		_, err = sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix))
		if !errors.Is(err, sqlstore.ErrSchemaVersion) {
			t.Fatalf("Connect on a schema at version 999 = %v; want an error wrapping ErrSchemaVersion", err)
		}
	})
}

func TestOpenRefusesBadOptions(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		open func() (*sqlstore.Store, error)
		want string // in the message
	}{
		{"nil db", func() (*sqlstore.Store, error) { return sqlstore.Open(ctx, nil, sqlstore.SQLite) }, "nil *sql.DB"},
		{"unknown dialect", func() (*sqlstore.Store, error) { return sqlstore.Open(ctx, db, sqlstore.Dialect(7)) }, "Dialect(7)"},
		{"prefix with a dash", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("my-app_"))
		}, `"my-app_"`},
		{"prefix with SQL", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("x; DROP TABLE y; --"))
		}, "table prefix"},
		{"prefix starting with a digit", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("1clm_"))
		}, `"1clm_"`},
		{"page size 0", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithScanPageSize(0))
		}, "page size 0"},
		{"negative retries", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithRetries(-1))
		}, "retries -1"},
		{"nil logger", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithLogger(nil))
		}, "nil logger"},
		{"mysql URL", func() (*sqlstore.Store, error) { return sqlstore.Connect(ctx, "mysql://u:secret@h/db") }, "mysql://u:xxxxx@h/db"},
		{"empty sqlite path", func() (*sqlstore.Store, error) { return sqlstore.Connect(ctx, "sqlite:") }, "names no file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.open()
			if !errors.Is(err, sqlstore.ErrInvalidOption) {
				t.Fatalf("got %v, %v; want an error wrapping ErrInvalidOption", s, err)
			}
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "secret")
		})
	}
}

// TestConnectMemory checks the one-connection in-memory SQLite database.
func TestConnectMemory(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Connect(ctx, "sqlite::memory:")
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "m", Stage: "reach", Version: 1}, 0))
	// Scan's body may write: Scan holds no connection while it runs.
	for c, err := range s.Scan(ctx) {
		require.NoError(t, err)
		c.Version++
		require.NoError(t, s.Put(ctx, c, c.Version-1))
	}
	got, err := s.Get(ctx, "m")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version)
}

// TestConnectMemoryWithParameters checks that "sqlite::memory:" carrying
// query parameters is still the one private in-memory database, however
// many goroutines use the Store: every connection of a pool to
// ":memory:" would be a database of its own, without the tables.
func TestConnectMemoryWithParameters(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"sqlite::memory:?_pragma=synchronous(NORMAL)", "sqlite:file::memory:"} {
		t.Run(url, func(t *testing.T) {
			s, err := sqlstore.Connect(ctx, url)
			require.NoError(t, err)
			defer s.Close()
			for i := range 8 {
				require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Stage: "reach", Version: 1}, 0))
			}
			// Concurrent readers: the pool would open more connections.
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 8 {
						if _, err := s.Get(ctx, "c"+strconv.Itoa(i)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			n, err := s.Count(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(8), n)
		})
	}
}
