package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

func pragmaOf(t *testing.T, s *sqlstore.Store, name string) string {
	t.Helper()
	var v string
	require.NoError(t, s.DB().QueryRow(`PRAGMA `+name).Scan(&v))
	return v
}

// TestReviewSQLiteURLJournalModeUppercase: Connect adds journal_mode(WAL)
// "unless the URL sets" it. SQLite pragma names are case-insensitive; a URL
// that sets JOURNAL_MODE(DELETE) gets WAL anyway.
func TestReviewSQLiteURLJournalModeUppercase(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "j.db")
	s, err := sqlstore.Connect(ctx, "sqlite:"+p+"?_pragma=JOURNAL_MODE(DELETE)")
	require.NoError(t, err)
	defer s.Close()
	if got := pragmaOf(t, s, "journal_mode"); got != "delete" {
		t.Errorf("journal_mode = %q; the URL set DELETE", got)
	}
}

// TestReviewSQLiteURLTimeoutAlias: modernc.org/sqlite's _timeout parameter
// (an alias of _busy_timeout) sets the busy timeout; Connect should not
// replace it with its own 10 s.
func TestReviewSQLiteURLTimeoutAlias(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "b.db")
	s, err := sqlstore.Connect(ctx, "sqlite:"+p+"?_timeout=1234")
	require.NoError(t, err)
	defer s.Close()
	if got := pragmaOf(t, s, "busy_timeout"); got != "1234" {
		t.Errorf("busy_timeout = %s; the URL set _timeout=1234", got)
	}
}

// TestReviewSQLitePathDoubleSlash: "sqlite:PATH" with a PATH that starts with
// "//" (the same file as "/..." on Linux) is turned into the URI
// "file://..." whose first segment SQLite reads as an authority.
func TestReviewSQLitePathDoubleSlash(t *testing.T) {
	ctx := context.Background()
	p := "/" + filepath.Join(t.TempDir(), "d.db") // "//tmp/.../d.db"
	s, err := sqlstore.Connect(ctx, "sqlite:"+p)
	if err != nil {
		t.Fatalf("Connect(%q) = %v", "sqlite:"+p, err)
	}
	s.Close()
	if _, err := os.Stat(p); err != nil {
		t.Errorf("file %s not created: %v", p, err)
	}
}

// TestReviewSQLitePathSpecialCharacters: file names with characters that
// mean something in URLs or SQL are opened as the file PATH.
func TestReviewSQLitePathSpecialCharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"a b.db", "é ü.db", "a&b=c;d.db", "a+b.db", "x'y.db", "a%2Fb.db", "a#b%c.db", "%00.db"} {
		p := filepath.Join(dir, name)
		s, err := sqlstore.Connect(ctx, "sqlite:"+p)
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		s.Close()
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%q: file not created: %v", name, err)
		}
	}
}

// schemaEnv returns a PostgreSQL URL whose connections use a schema of
// their own (dropped at the end), so that any prefix, the empty one
// included, is safe to use.
func schemaEnv(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CLM_POSTGRES_DSN")
	if dsn == "" {
		t.Skip(dsnHelp)
	}
	schema := fmt.Sprintf("zzs%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// TestReviewPrefixEdges: the empty prefix and a 32-byte prefix work on both
// dialects, side by side in one database.
func TestReviewPrefixEdges(t *testing.T) {
	ctx := context.Background()
	urls := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "p.db")}
	if os.Getenv("CLM_POSTGRES_DSN") != "" {
		urls["postgres"] = schemaEnv(t)
	}
	long := "a" + strings.Repeat("_", 30) + "z"
	for name, url := range urls {
		for _, p := range []string{"", long, "_", "x", "feed_", "customers_"} {
			t.Run(name+"/"+p, func(t *testing.T) {
				s, err := sqlstore.Connect(ctx, url, sqlstore.WithTablePrefix(p))
				require.NoError(t, err)
				defer s.Close()
				tr := newTracker(s)
				for i := range 70 {
					_, err := tr.Record(ctx, lifecycle.Event{ID: fmt.Sprint("e", i), CustomerID: fmt.Sprint("c", i%3), Type: lifecycle.SiteVisited, Time: now.Add(-time.Duration(i) * time.Hour)})
					require.NoError(t, err)
				}
				chs, err := s.Changes(ctx, 0, 100)
				require.NoError(t, err)
				require.NotEmpty(t, chs)
				_, held, err := s.ClaimCursor(ctx, "n", "o", now, now.Add(time.Hour))
				require.NoError(t, err)
				require.True(t, held)
				n, err := s.Count(ctx)
				require.NoError(t, err)
				require.Equal(t, int64(3), n, "customers under prefix %q", p)
			})
		}
	}
}

// TestReviewMemoryCancelKeepsDatabase: "sqlite::memory:" is one connection;
// calls cancelled at random moments must not drop it (and the database).
func TestReviewMemoryCancelKeepsDatabase(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Connect(ctx, "sqlite::memory:")
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "keep", Stage: "reach", Version: 1}, 0))
	for i := range 600 {
		cctx, cancel := context.WithTimeout(ctx, time.Duration(i%60)*10*time.Microsecond)
		id := fmt.Sprint("c", i)
		switch i % 4 {
		case 0:
			s.Put(cctx, &lifecycle.Customer{ID: id, Stage: "reach", Version: 1}, 0)
		case 1:
			s.Delete(cctx, id)
		case 2:
			applyOne(cctx, s, id, []string{"e"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Stage, c.Version = "reach", c.Version+1
				return true, nil
			})
		case 3:
			s.Changes(cctx, 0, 10)
		}
		cancel()
		if _, err := s.Get(ctx, "keep"); err != nil {
			t.Fatalf("after call %d (kind %d) cancelled: Get = %v", i, i%4, err)
		}
	}
}
