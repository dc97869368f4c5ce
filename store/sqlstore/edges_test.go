package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/store/sqlstore"
)

// TestCursorLeaseFarTimes: leases hold for times outside the years
// 1678–2261 too (kept in microseconds: nanoseconds made every time past
// 2262 compare equal, and a lease could be taken from its holder).
func TestCursorLeaseFarTimes(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		for _, year := range []int{2300, 9000, 1600} {
			t.Run(fmt.Sprint(year), func(t *testing.T) {
				s := newEnv(t, d).open(t)
				ctx := context.Background()
				now := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
				_, held, err := s.ClaimCursor(ctx, "n", "A", now, now.Add(time.Hour))
				require.NoError(t, err)
				require.True(t, held)
				// B, ten minutes later, while A's lease runs: must not get it.
				_, held, err = s.ClaimCursor(ctx, "n", "B", now.Add(10*time.Minute), now.Add(2*time.Hour))
				require.NoError(t, err)
				if held {
					t.Errorf("year %d: B was granted the lease while A holds it until %s", year, now.Add(time.Hour))
				}
				// A advances while holding it.
				err = s.AdvanceCursor(ctx, "n", "A", 0, now.Add(20*time.Minute), now.Add(time.Hour))
				if err != nil {
					t.Errorf("year %d: A's advance within its lease refused: %v", year, err)
				}
			})
		}
	})
}

// TestSQLitePathEscaped: "sqlite:PATH" opens the file PATH, also when it
// holds '#' or '%', which an unescaped "file:" URI would cut or decode.
func TestSQLitePathEscaped(t *testing.T) {
	ctx := context.Background()
	for _, dir := range []string{"a#b", "a%41b"} {
		root := t.TempDir()
		full := filepath.Join(root, dir)
		require.NoError(t, os.MkdirAll(full, 0o755))
		require.NoError(t, os.MkdirAll(filepath.Join(root, "aAb"), 0o755))
		path := filepath.Join(full, "clm.db")
		s, err := sqlstore.Connect(ctx, "sqlite:"+path)
		if err != nil {
			t.Errorf("Connect(%q): %v", "sqlite:"+path, err)
			continue
		}
		var mode string
		require.NoError(t, s.DB().QueryRow(`PRAGMA journal_mode`).Scan(&mode))
		var file string
		rows, err := s.DB().Query(`PRAGMA database_list`)
		require.NoError(t, err)
		for rows.Next() {
			var seq int
			var name string
			var f string
			require.NoError(t, rows.Scan(&seq, &name, &f))
			if name == "main" {
				file = f
			}
		}
		rows.Close()
		s.Close()
		t.Logf("Connect(sqlite:%s): opened %q, journal_mode %s", path, file, mode)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Connect(%q) did not create the file PATH: opened %q instead (journal_mode %s)", "sqlite:"+path, file, mode)
		}
	}
}

// TestPrefixSQLiteRefused: SQLite keeps table names that start with
// "sqlite_" for itself, so WithTablePrefix refuses such a prefix (on both
// dialects) with ErrInvalidOption instead of a failure in the migration.
func TestPrefixSQLiteRefused(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		for _, p := range []string{"sqlite_", "sqlite_x_"} {
			s, err := sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(p))
			if !errors.Is(err, sqlstore.ErrInvalidOption) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("WithTablePrefix(%q): Connect = %v; want an error wrapping ErrInvalidOption", p, err)
			}
		}
		s, err := sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix("sqlitex_"))
		require.NoError(t, err)
		s.Close()
	})
}

// TestCursorNameRefused: a cursor name or owner the table cannot hold as
// it is gets an error naming it (cut short) and wrapping ErrInvalidCursor
// on both dialects, and stores nothing; good names still work after it.
func TestCursorNameRefused(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		long := strings.Repeat("n", sqlstore.MaxIDLen+1)
		for _, bad := range []string{"a\x00b", "\xff\xfe", long} {
			for _, call := range []struct {
				name        string
				cursor, own string
			}{{"name", bad, "A"}, {"owner", "ok", bad}} {
				_, held, err := s.ClaimCursor(ctx, call.cursor, call.own, now, now.Add(time.Hour))
				if !errors.Is(err, sqlstore.ErrInvalidCursor) || held || !strings.Contains(err.Error(), call.name) || len(err.Error()) > 300 {
					t.Errorf("ClaimCursor with %s %q: held %v, %v; want ErrInvalidCursor naming it, short", call.name, bad[:min(len(bad), 8)], held, err)
				}
				err = s.AdvanceCursor(ctx, call.cursor, call.own, 1, now, now.Add(time.Hour))
				if !errors.Is(err, sqlstore.ErrInvalidCursor) {
					t.Errorf("AdvanceCursor with %s %q: %v; want ErrInvalidCursor", call.name, bad[:min(len(bad), 8)], err)
				}
			}
		}
		if n := rowCount(t, s, "feed_cursors"); n != 0 {
			t.Errorf("%d cursor rows stored", n)
		}
		name := strings.Repeat("é", sqlstore.MaxIDLen/2) // the longest name held
		if _, held, err := s.ClaimCursor(ctx, name, "A", now, now.Add(time.Hour)); err != nil || !held {
			t.Fatalf("ClaimCursor with a %d-byte name: %v, %v", len(name), held, err)
		}
		if err := s.AdvanceCursor(ctx, name, "A", 3, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
}
