package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestListDue: ListDue pages through the due index in order of due time,
// ties in ID order, across page boundaries (two customers a page), and
// follows the due times Put, Apply and Delete write: the zero time (due
// at any sweep), times outside the years 1678–2261 (which the index holds
// as the nearest earlier code, so they may be listed early, never late),
// times at other UTC offsets, and Never, which is not listed.
func TestListDue(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t, sqlstore.WithScanPageSize(2))
		ctx := context.Background()
		t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		dues := map[string]time.Time{
			"zero":      {},
			"year-1":    time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			"past":      t0.Add(-time.Hour),
			"tie-c":     t0,
			"tie-a":     t0,
			"tie-b":     t0.In(time.FixedZone("X", 3600)), // the same instant
			"later":     t0.Add(time.Nanosecond),
			"year-2500": time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC),
			"never":     lifecycle.Never,
		}
		for id, due := range dues {
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: id, Stage: "reach", Version: 1, Due: due}, 0))
		}
		list := func(now time.Time) []string {
			t.Helper()
			var ids []string
			for id, err := range s.ListDue(ctx, now) {
				require.NoError(t, err)
				ids = append(ids, id)
			}
			return ids
		}
		// year-1 and zero share the smallest code: in ID order.
		require.Equal(t, []string{"year-1", "zero", "past", "tie-a", "tie-b", "tie-c"}, list(t0))
		require.Equal(t, []string{"year-1", "zero"}, list(t0.Add(-time.Hour-time.Nanosecond)))
		require.Equal(t, []string{"year-1", "zero", "past", "tie-a", "tie-b", "tie-c", "later"}, list(t0.Add(time.Nanosecond)))
		require.Equal(t, []string{"year-1", "zero"}, list(time.Time{}))
		far := list(time.Date(2600, 1, 1, 0, 0, 0, 0, time.UTC))
		require.Subset(t, far, []string{"year-1", "zero", "past", "tie-a", "tie-b", "tie-c", "later", "year-2500"})
		require.NotContains(t, far, "never")

		// Apply moves a customer in the index, Delete takes it out.
		setDue := func(id string, due time.Time) {
			t.Helper()
			require.NoError(t, applyOne(ctx, s, id, nil, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Due = due
				c.Version++
				return true, nil
			}))
		}
		setDue("later", t0.Add(-time.Minute))
		setDue("past", lifecycle.Never)
		setDue("never", time.Time{})
		require.NoError(t, s.Delete(ctx, "tie-b"))
		require.Equal(t, []string{"never", "year-1", "zero", "later", "tie-a", "tie-c"}, list(t0))
		got, err := s.Get(ctx, "past")
		require.NoError(t, err)
		require.True(t, got.Due.Equal(lifecycle.Never), "Due after Apply = %v", got.Due)

		// Stopping early.
		n := 0
		for range s.ListDue(ctx, t0) {
			if n++; n == 3 {
				break
			}
		}
		require.Equal(t, 3, n)
	})
}
