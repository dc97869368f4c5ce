package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// More than one numbering's worth (10,000) of hidden changes ahead of a
// listable one: Changes numbers on and lists it, instead of an empty page,
// which means the end of the feed (found by an audit).
func TestChangesNumbersPastHiddenBatch(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		a := &lifecycle.Customer{ID: "a", Stage: "reach", Since: base, AsOf: base, Version: 1}
		for range 10_001 {
			a.History = append(a.History, lifecycle.Transition{From: "reach", To: "reach", At: base, Cause: "x"})
		}
		require.NoError(t, s.Put(ctx, a, 0))
		a.History, a.Version = nil, 2
		require.NoError(t, s.Put(ctx, a, 1)) // a's 10,001 changes are hidden
		b := &lifecycle.Customer{ID: "b", Stage: "reach", Since: base, AsOf: base, Version: 1,
			History: []lifecycle.Transition{{To: "reach", At: base, Cause: "e"}}}
		require.NoError(t, s.Put(ctx, b, 0))
		p, err := s.Changes(ctx, 0, 100)
		require.NoError(t, err)
		require.Len(t, p, 1, "b's change must be listed: an empty page means the end of the feed")
		require.Equal(t, "b", p[0].CustomerID)
		p, err = s.Changes(ctx, p[0].Pos, 100)
		require.NoError(t, err)
		require.Empty(t, p)
	})
}
