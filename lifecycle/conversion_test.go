package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// subscription_started is in the vocabulary, is validated like any
// standard type and counts as revenue.
func TestSubscriptionStartedVocabulary(t *testing.T) {
	require.Equal(t, lifecycle.EventType("subscription_started"), lifecycle.SubscriptionStarted)
	require.True(t, lifecycle.SubscriptionStarted.Standard())
	require.Contains(t, lifecycle.StandardTypes(), lifecycle.SubscriptionStarted)
	e := lifecycle.Event{ID: "s", CustomerID: "c", Type: lifecycle.SubscriptionStarted, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 1500, Currency: "EUR"}
	require.NoError(t, e.Validate())
	var f lifecycle.Facts
	f.Add(&e)
	f.Add(&lifecycle.Event{Type: lifecycle.SubscriptionRenewed, Time: e.Time.AddDate(0, 1, 0), Amount: 1500, Currency: "EUR"})
	require.EqualValues(t, 3000, f.Revenue("EUR"))
	dec, err := lifecycle.DecodeEvents([]byte(`{"id":"s","customer_id":"c","type":"subscription_started","time":"2026-01-01T00:00:00Z"}`))
	require.NoError(t, err)
	require.Equal(t, lifecycle.SubscriptionStarted, dec[0].Type)
}

// A referred customer converts with the model's conversion types: by
// default a first order or a subscription start; a builder model that
// declares Converts(subscription_renewed) also with a renewal; a renewal
// alone does not convert under the default.
func TestConversionTypes(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	box := func(convert ...lifecycle.EventType) lifecycle.Model {
		b := model.NewBuilder("box").
			Start(stage.Stage{ID: "prospect"}).
			Stage(stage.Stage{ID: "subscriber"}, model.Within(35*24*time.Hour, lifecycle.SubscriptionRenewed)).
			Stage(stage.Stage{ID: "advocate"}, model.Referrals(1))
		if len(convert) > 0 {
			b.Converts(convert...)
		}
		return b.MustBuild()
	}
	for _, tc := range []struct {
		name  string
		m     lifecycle.Model
		typ   lifecycle.EventType
		want  bool
		stage stage.ID
	}{
		{"built-in, order", model.SterneCutler(), lifecycle.OrderCompleted, true, model.Reach},
		{"built-in, subscription start", model.SterneCutler(), lifecycle.SubscriptionStarted, true, model.Reach},
		{"built-in, renewal", model.SterneCutler(), lifecycle.SubscriptionRenewed, false, model.Reach},
		{"builder default, subscription start", box(), lifecycle.SubscriptionStarted, true, "advocate"},
		{"builder default, renewal", box(), lifecycle.SubscriptionRenewed, false, "prospect"},
		{"builder Converts(renewal), renewal", box(lifecycle.SubscriptionRenewed), lifecycle.SubscriptionRenewed, true, "advocate"},
		{"builder Converts(renewal), order", box(lifecycle.SubscriptionRenewed), lifecycle.OrderCompleted, false, "prospect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := lifecycle.NewTracker(tc.m, store.NewMemory(), lifecycle.WithClock(func() time.Time { return at.Add(time.Hour) }))
			_, err := tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: "ref", Type: lifecycle.SiteVisited, Time: at})
			require.NoError(t, err)
			_, err = tr.Record(ctx, lifecycle.Event{ID: "p", CustomerID: "new", Type: tc.typ, Time: at, Amount: 900, Currency: "EUR", ReferrerID: "ref"})
			require.NoError(t, err)
			ref, err := tr.Customer(ctx, "ref")
			require.NoError(t, err)
			got := ref.Facts.Count(lifecycle.ReferralConverted)
			if tc.want {
				require.EqualValues(t, 1, got)
				require.True(t, ref.Facts.LastTime(lifecycle.ReferralConverted).Equal(at), "credit dated at the conversion")
			} else {
				require.Zero(t, got)
			}
			require.Equal(t, tc.stage, ref.Stage)
		})
	}
}

// A converting event arriving late moves the credit back to it; the
// earliest of several conversion types dates the credit.
func TestConversionEarliestType(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.FiveStage(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return at.Add(time.Hour) }))
	_, err := tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: "ref", Type: lifecycle.SiteVisited, Time: at.AddDate(0, -1, 0)})
	require.NoError(t, err)
	_, err = tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "new", Type: lifecycle.OrderCompleted, Time: at, Amount: 900, Currency: "EUR", ReferrerID: "ref"})
	require.NoError(t, err)
	_, err = tr.Record(ctx, lifecycle.Event{ID: "s", CustomerID: "new", Type: lifecycle.SubscriptionStarted, Time: at.AddDate(0, 0, -10), Amount: 900, Currency: "EUR"})
	require.NoError(t, err)
	ref, err := tr.Customer(ctx, "ref")
	require.NoError(t, err)
	require.EqualValues(t, 1, ref.Facts.Count(lifecycle.ReferralConverted))
	require.True(t, ref.Facts.FirstTime(lifecycle.ReferralConverted).Equal(at.AddDate(0, 0, -10)), "credit moved back to the earlier subscription start: %v", ref.Facts.FirstTime(lifecycle.ReferralConverted))
}

// badConverter answers a conversion type no event can have.
type badConverter struct{ lifecycle.Model }

func (badConverter) ConversionTypes() []lifecycle.EventType {
	return []lifecycle.EventType{lifecycle.ReferralConverted}
}

// A model whose ConversionTypes are invalid is refused by every method,
// and the builder refuses such a type at Build.
func TestConversionTypesInvalid(t *testing.T) {
	tr := lifecycle.NewTracker(badConverter{model.SterneCutler()}, store.NewMemory())
	_, err := tr.Record(context.Background(), lifecycle.Event{ID: "v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: time.Now().Add(-time.Hour)})
	require.ErrorIs(t, err, lifecycle.ErrInvalidModel)
	require.ErrorContains(t, err, `conversion type "referral_converted"`)

	_, err = model.NewBuilder("box").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Count(lifecycle.SignedUp, 1)).
		Converts("renewed").Build()
	require.ErrorIs(t, err, lifecycle.ErrInvalidModel)
	require.ErrorContains(t, err, `Converts: event type "renewed" is invalid`)
	_, err = model.NewBuilder("box").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Count(lifecycle.SignedUp, 1)).
		Converts().Build()
	require.ErrorContains(t, err, "Converts needs at least one event type")
}
