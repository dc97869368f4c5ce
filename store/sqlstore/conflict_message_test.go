package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestLostRaceToRecreatedRowMessage: a multi-customer Apply whose read
// row is deleted and created again at the same version before its write
// is refused (a lost race), with an error that says why: not "expected
// version 1, stored version is 1", which contradicts itself.
func TestLostRaceToRecreatedRowMessage(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s, other := e.open(t), e.open(t)
	ctx := context.Background()
	putReach(t, other, "a", "b") // version 1, not held by s
	recreate := func(c *lifecycle.Customer) {
		require.NoError(t, other.Delete(ctx, c.ID))
		require.NoError(t, other.Put(ctx, &lifecycle.Customer{ID: c.ID, Stage: "reach", Version: 1, Seen: seenOf("e1")}, 0))
	}
	ws := []lifecycle.Write{
		{ID: "a", Events: []string{"e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if c.Version == 1 && c.Stage == "reach" {
				recreate(c)
			}
			return moveTo("conversion")(c, seen)
		}},
		{ID: "b", Events: []string{"e2"}, Fn: moveTo("conversion")},
	}
	s.Apply(ctx, ws)
	require.NoError(t, ws[1].Err)
	require.ErrorIs(t, ws[0].Err, lifecycle.ErrConflict)
	var ce *store.ConflictError
	require.ErrorAs(t, ws[0].Err, &ce)
	require.Equal(t, ce.Want, ce.Have)
	msg := ws[0].Err.Error()
	require.NotContains(t, msg, "expected version 1, stored version is 1")
	require.Contains(t, msg, "replaced at the same version")
}
