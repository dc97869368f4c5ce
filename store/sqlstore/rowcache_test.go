package sqlstore_test

import (
	"context"
	"errors"
	"testing"

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
