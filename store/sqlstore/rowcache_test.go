package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestRowCacheGuard checks the PostgreSQL store's one-round-trip path: a
// Store that wrote a customer applies the next event from the row it
// holds, and its write is refused (a lost race, nothing stored) whenever
// that row is no longer the stored one — another instance wrote it, or
// deleted it and created it again up to the same version — or an event
// was applied already; the retry then reads and gets it right.
func TestRowCacheGuard(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	a, b := e.open(t), e.open(t)
	ctx := context.Background()
	bump := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		for _, s := range seen {
			if s {
				return false, nil
			}
		}
		if c.Version == 0 {
			c.Stage = "reach"
		}
		c.Version++
		return true, nil
	}
	retry := func(s *sqlstore.Store, id string, events ...string) (conflicts int) {
		for {
			err := applyOne(ctx, s, id, events, bump)
			if !errors.Is(err, lifecycle.ErrConflict) {
				require.NoError(t, err)
				return conflicts
			}
			conflicts++
			require.Less(t, conflicts, 3)
		}
	}
	require.Zero(t, retry(a, "c", "e1")) // a reads (nothing) and writes: holds version 1
	require.Zero(t, retry(a, "c", "e2")) // from the row held: version 2
	require.Zero(t, retry(b, "c", "e3")) // another instance: version 3
	require.Equal(t, 1, retry(a, "c", "e4"), "a's held row is stale: its write must be refused once")
	got, err := a.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, uint64(4), got.Version)
	require.Equal(t, 4, got.Seen.Len())

	// An applied event, from the row held: refused, then seen.
	require.Equal(t, 1, retry(a, "c", "e4"))
	got, err = a.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, uint64(4), got.Version, "an applied event was applied again")

	// Deleted and created again up to the same version by another
	// instance: the held row has the same version but is not the stored
	// one.
	require.Zero(t, retry(a, "d", "x1")) // a holds d at version 1
	require.NoError(t, b.Delete(ctx, "d"))
	require.Zero(t, retry(b, "d", "y1")) // d is version 1 again, with y1
	require.Equal(t, 1, retry(a, "d", "x2"), "a's held row of the deleted customer must be refused")
	got, err = a.Get(ctx, "d")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version)
	require.True(t, got.HasSeen("y1") && got.HasSeen("x2") && !got.HasSeen("x1"), "d after delete and re-create: %d seen", got.Seen.Len())
}

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
