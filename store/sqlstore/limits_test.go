package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestDerivedValuesFit checks, through the Tracker, that every valid
// event is stored on SQLite and PostgreSQL as it is in Memory (issue 16):
// a referred customer's ID of MaxIDLen bytes makes its referrer's credit
// cause ("clm.referral:" and the ID) 269 bytes long, which the store used
// to refuse on every retry, so that the referrer was never credited.
func TestDerivedValuesFit(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newEnv(t, d).open(t)
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		tr := lifecycle.NewTracker(model.FiveStage(), s, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
		order := func(id, cust string, at time.Time) lifecycle.Event {
			return lifecycle.Event{ID: id, CustomerID: cust, Type: lifecycle.OrderCompleted, Time: at, Amount: 100, Currency: "EUR"}
		}
		long := strings.Repeat("ü", lifecycle.MaxIDLen/2) // 256 bytes
		_, err := tr.RecordBatch(ctx, []lifecycle.Event{
			// The referrer buys twice (retention); a credit then makes it
			// an advocate, a move whose cause is the credit's ID.
			order("r-o1", "r", t0), order("r-o2", "r", t0.Add(time.Hour)),
			{ID: "s1", CustomerID: long, Type: lifecycle.SignedUp, Time: t0.Add(2 * time.Hour), ReferrerID: "r"},
		})
		require.NoError(t, err)
		res, err := tr.Record(ctx, order("o1", long, t0.Add(3*time.Hour)))
		require.NoError(t, err, "recording the referred customer's order (and its referrer's credit)")
		require.False(t, res.Duplicate)
		r, err := s.Get(ctx, "r")
		require.NoError(t, err)
		require.Equal(t, []lifecycle.Referral{{Customer: long, At: t0.Add(3 * time.Hour)}}, r.Facts.Referrals)
		require.Equal(t, model.FiveStageAdvocacy, r.Stage)
		cause := r.History[len(r.History)-1].Cause
		require.Equal(t, lifecycle.ReferralEventID(long), cause)
		require.Len(t, cause, lifecycle.MaxCauseLen)
	})
}

// TestSweepTimeOutOfRange checks that a sweep at a time the stores cannot
// hold is refused by the Tracker, naming the time, as on every store
// (issue 16: the SQL store used to fail on the first due customer,
// blaming it, where Memory accepted the time).
func TestSweepTimeOutOfRange(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newEnv(t, d).open(t)
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		tr := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(func() time.Time { return t0 }))
		_, err := tr.Record(ctx, lifecycle.Event{ID: "o1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: t0, Amount: 100, Currency: "EUR"})
		require.NoError(t, err)
		_, err = tr.Sweep(ctx, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
		require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
		var ve *lifecycle.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "now", ve.Field)
		require.NotContains(t, err.Error(), "c1")
		c, err := s.Get(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, uint64(1), c.Version)
		sr, err := tr.Sweep(ctx, lifecycle.Never)
		require.NoError(t, err)
		require.Equal(t, 1, sr.Updated)
	})
}
