package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestLoadReusedCustomer: Load into a Customer that held another customer
// returns exactly what Get returns, also for a field the data column omits
// when empty (a transition's Cause: a Sweep's moves have none) and for an
// empty Seen, which must not keep the other customer's values.
func TestLoadReusedCustomer(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		caused := &lifecycle.Customer{ID: "caused", Stage: "reach", Version: 1, Seen: seenOf("ev-1", "ev-2"), History: []lifecycle.Transition{
			{From: "", To: "reach", At: at, Cause: "ev-1"},
			{From: "reach", To: "act", At: at, Cause: "ev-2"},
		}}
		swept := &lifecycle.Customer{ID: "swept", Stage: "lapsed", Version: 1, History: []lifecycle.Transition{
			{From: "act", To: "lapsed", At: at},
		}}
		require.NoError(t, s.Put(ctx, caused, 0))
		require.NoError(t, s.Put(ctx, swept, 0))
		dst := new(lifecycle.Customer)
		require.NoError(t, s.Load(ctx, "caused", dst))
		require.NoError(t, s.Load(ctx, "swept", dst))
		want, err := s.Get(ctx, "swept")
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(want, dst, cmpSeen), "Load into a used Customer (-Get +Load)")
		require.Zero(t, dst.Seen.Len(), "Load kept the other customer's Seen")
	})
}
