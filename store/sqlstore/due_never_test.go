package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// A Due after lifecycle.Never (its clock in 9999 in a zone west of UTC,
// which Put accepts) is listed by a sweep at or after it, as Memory lists
// it; only Never itself is never due (it was stored as NULL, never
// listed).
func TestDueAfterNeverListed(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Connect(ctx, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	require.NoError(t, err)
	defer s.Close()
	west := time.FixedZone("", -2*3600)
	due := lifecycle.Never.Add(time.Hour).In(west)
	for _, st := range []lifecycle.Store{store.NewMemory(), s} {
		require.NoError(t, st.Put(ctx, &lifecycle.Customer{ID: "late", Stage: "reach", Version: 1, Due: due}, 0))
		require.NoError(t, st.Put(ctx, &lifecycle.Customer{ID: "never", Stage: "reach", Version: 1, Due: lifecycle.Never.In(west)}, 0))
		for _, tc := range []struct {
			at   time.Time
			want []string
		}{{due.Add(time.Minute), []string{"late"}}, {due, []string{"late"}}, {due.Add(-2 * time.Hour), nil}} {
			var ids []string
			for id, err := range st.(lifecycle.DueLister).ListDue(ctx, tc.at) {
				require.NoError(t, err)
				ids = append(ids, id)
			}
			if tc.want == nil && len(ids) == 1 && ids[0] == "late" {
				continue // listing early is allowed (the code is clamped)
			}
			require.Equal(t, tc.want, ids, "%T.ListDue(%v) with Due %v", st, tc.at, due)
		}
		got, err := st.Get(ctx, "late")
		require.NoError(t, err)
		require.True(t, got.Due.Equal(due), "Due %v read back, want %v", got.Due, due)
	}
}
