package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestSweepAfterAnotherStoreWrote (PostgreSQL): a customer that Store A
// last wrote (and so holds) and Store B then moved into a stage with a due
// time is swept by A once due: a write that A's held row says changes
// nothing is decided again on the stored row, since nothing guards it.
func TestSweepAfterAnotherStoreWrote(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	a, b := newTracker(e.open(t)), newTracker(e.open(t))
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	// A records a visit: X is in reach, due never; A holds the row.
	_, err := a.Record(ctx, lifecycle.Event{ID: "v1", CustomerID: "x", Type: lifecycle.SiteVisited, Time: at})
	require.NoError(t, err)
	// B records an order: X converts, due when the purchase lapses.
	_, err = b.Record(ctx, lifecycle.Event{ID: "o1", CustomerID: "x", Type: lifecycle.OrderCompleted, Amount: 100, Currency: "EUR", Time: at.Add(time.Hour)})
	require.NoError(t, err)
	c, err := b.Store().Get(ctx, "x")
	require.NoError(t, err)
	require.NotEqual(t, lifecycle.Never, c.Due, "an order sets a due time")
	stageBefore := c.Stage
	sweepAt := c.Due.Add(24 * time.Hour)
	// The due index lists X at sweepAt.
	var listed []string
	for id, err := range a.Store().(*sqlstore.Store).ListDue(ctx, sweepAt) {
		require.NoError(t, err)
		listed = append(listed, id)
	}
	require.Equal(t, []string{"x"}, listed)
	sr, err := a.Sweep(ctx, sweepAt)
	require.NoError(t, err)
	require.Equal(t, 1, sr.Moved, "A's sweep: %+v", sr)
	got, err := a.Store().Get(ctx, "x")
	require.NoError(t, err)
	if got.Stage == stageBefore || got.Version == c.Version {
		t.Errorf("after A's sweep past X's due time %s, X is still %q at version %d, due %s (the stored row was due)",
			c.Due.Format(time.RFC3339), got.Stage, got.Version, got.Due.Format(time.RFC3339))
	}
}

// TestApplyHeldRowNoChange (PostgreSQL): Apply calls fn with the stored
// customer (Applier's rule) when fn reports no change, even where the
// Store holds an older row of its own.
func TestApplyHeldRowNoChange(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	ctx := context.Background()
	a, b := e.open(t), e.open(t)
	set := func(st string) func(c *lifecycle.Customer, _ []bool) (bool, error) {
		return func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.Stage = lifecycleID(st)
			c.Version++
			return true, nil
		}
	}
	require.NoError(t, applyOne(ctx, a, "x", []string{"e1"}, set("one")))
	require.NoError(t, applyOne(ctx, b, "x", []string{"e2"}, set("two")))
	var sawVersion uint64
	var sawStage string
	err := applyOne(ctx, a, "x", nil, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		sawVersion, sawStage = c.Version, string(c.Stage)
		return false, nil
	})
	require.NoError(t, err)
	if sawVersion != 2 {
		t.Errorf("Apply (no events) called fn with version %d, stage %q; the stored customer is version 2, stage \"two\" (written before the Apply began)", sawVersion, sawStage)
	}
}

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
