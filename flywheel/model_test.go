package flywheel_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func ev(id string, typ lifecycle.EventType, at time.Duration) lifecycle.Event {
	e := lifecycle.Event{ID: id, CustomerID: "c", Type: typ, Time: t0.Add(at)}
	if typ == lifecycle.OrderCompleted || typ == lifecycle.OrderRefunded {
		e.Amount, e.Currency = 1000, "EUR"
	}
	return e
}

func facts(events ...lifecycle.Event) *lifecycle.Facts {
	var f lifecycle.Facts
	for i := range events {
		f.Add(&events[i])
	}
	return &f
}

func TestModelStages(t *testing.T) {
	m := flywheel.Model()
	tests := []struct {
		name   string
		events []lifecycle.Event
		at     time.Duration
		want   stage.ID
	}{
		{"no facts", nil, 0, flywheel.Engage},
		{"visit", []lifecycle.Event{ev("v", lifecycle.SiteVisited, 0)}, 0, flywheel.Engage},
		{"product view is still engage", []lifecycle.Event{ev("v", lifecycle.ProductViewed, 0)}, 0, flywheel.Engage},
		{"sign-up is acquire", []lifecycle.Event{ev("v", lifecycle.SiteVisited, 0), ev("s", lifecycle.SignedUp, time.Hour)}, time.Hour, flywheel.Acquire},
		{"cart is acquire", []lifecycle.Event{ev("c", lifecycle.CartAdded, 0)}, 0, flywheel.Acquire},
		{"first order is nurture", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0)}, 0, flywheel.Nurture},
		{"refunded order is acquire", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("r1", lifecycle.OrderRefunded, day)}, day, flywheel.Acquire},
		{"repeat order is retain", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, 20*day)}, 20 * day, flywheel.Retain},
		{"repeat order, one refunded", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, 20*day), ev("r", lifecycle.OrderRefunded, 21*day)}, 21 * day, flywheel.Nurture},
		{"lapsed buyer is engage", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, day)}, day + flywheel.DefaultLapseAfter + time.Second, flywheel.Engage},
		{"at the lapse limit still retained", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, day)}, day + flywheel.DefaultLapseAfter, flywheel.Retain},
		{"review while buying is advocate", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("rv", lifecycle.ReviewPosted, day)}, day, flywheel.Advocate},
		{"share at the window edge", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("sh", lifecycle.SocialShared, day)}, day + flywheel.DefaultAdvocateWindow, flywheel.Advocate},
		{"share after the window", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("sh", lifecycle.SocialShared, day)}, day + flywheel.DefaultAdvocateWindow + time.Second, flywheel.Nurture},
		{"invitation is advocacy", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, day), ev("rm", lifecycle.ReferralMade, 2*day)}, 2 * day, flywheel.Advocate},
		{"review without buying is not", []lifecycle.Event{ev("s", lifecycle.SignedUp, 0), ev("rv", lifecycle.ReviewPosted, day)}, day, flywheel.Acquire},
		{"converted referral stays advocate", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("cr", lifecycle.ReferralConverted, day)}, 170 * day, flywheel.Advocate},
		{"lapsed advocate loops to engage", []lifecycle.Event{ev("o1", lifecycle.OrderCompleted, 0), ev("cr", lifecycle.ReferralConverted, day)}, 181 * day, flywheel.Engage},
		{"lapsed buyer with sign-up is engage", []lifecycle.Event{ev("s", lifecycle.SignedUp, 0), ev("o1", lifecycle.OrderCompleted, day)}, 200 * day, flywheel.Engage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Stage(facts(tc.events...), t0.Add(tc.at))
			if got != tc.want {
				t.Errorf("Stage = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModelOptions(t *testing.T) {
	buyer := facts(ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, day), ev("o3", lifecycle.OrderCompleted, 2*day),
		ev("cr", lifecycle.ReferralConverted, 2*day), ev("sh", lifecycle.SocialShared, 3*day))
	tests := []struct {
		name string
		opts []flywheel.ModelOption
		at   time.Duration
		want stage.ID
	}{
		{"defaults", nil, 10 * day, flywheel.Advocate},
		{"two referrals needed, window off", []flywheel.ModelOption{flywheel.AdvocateReferrals(2), flywheel.AdvocateWindow(0)}, 10 * day, flywheel.Retain},
		{"two referrals needed, share in window", []flywheel.ModelOption{flywheel.AdvocateReferrals(2)}, 10 * day, flywheel.Advocate},
		{"four orders to retain", []flywheel.ModelOption{flywheel.AdvocateReferrals(2), flywheel.AdvocateWindow(0), flywheel.RetainOrders(4)}, 10 * day, flywheel.Nurture},
		{"short lapse", []flywheel.ModelOption{flywheel.LapseAfter(7 * day)}, 10 * day, flywheel.Engage},
		{"never lapse", []flywheel.ModelOption{flywheel.LapseAfter(0)}, 5000 * day, flywheel.Advocate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := flywheel.Model(tc.opts...).Stage(buyer, t0.Add(tc.at)); got != tc.want {
				t.Errorf("Stage = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModelGraph(t *testing.T) {
	g := flywheel.Model().Stages()
	require.Equal(t, []stage.ID{flywheel.Engage, flywheel.Acquire, flywheel.Nurture, flywheel.Retain, flywheel.Advocate}, g.IDs())
	var loops []stage.Edge
	for _, e := range g.Edges() {
		if e.Kind == stage.Loop {
			loops = append(loops, e)
		}
	}
	if diff := cmp.Diff([]stage.Edge{{From: flywheel.Advocate, To: flywheel.Engage, Kind: stage.Loop}}, loops); diff != "" {
		t.Errorf("loop edges (-want +got):\n%s", diff)
	}
	if got := flywheel.Model().Name(); got != "flywheel" {
		t.Errorf("Name = %q", got)
	}
}

func TestModelConformance(t *testing.T) {
	modeltest.Run(t, flywheel.Model())
	modeltest.Run(t, flywheel.Model(flywheel.LapseAfter(30*day), flywheel.AdvocateWindow(7*day), flywheel.RetainOrders(3), flywheel.AdvocateReferrals(2)))
	if err := modeltest.TestModel(flywheel.Model(flywheel.LapseAfter(0))); err != nil {
		t.Error(err)
	}
}

func TestModelRegistered(t *testing.T) {
	m, err := model.Lookup("flywheel")
	require.NoError(t, err)
	require.Equal(t, "flywheel", m.Name())
}

// TestReferralCreditedOnce drives a Tracker: a referred prospect enters
// engage with ReferredBy set, and however often its events (and the
// Tracker's credit) are retried or duplicated, the referrer gets exactly
// one referral_converted event, "clm.referral:"+referred ID.
func TestReferralCreditedOnce(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return t0.Add(365 * day) }))
	rec := func(e lifecycle.Event) lifecycle.Result {
		t.Helper()
		res, err := tr.Record(ctx, e)
		require.NoError(t, err)
		return res
	}
	order := func(id, cust string, at time.Duration) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: cust, Type: lifecycle.OrderCompleted, Time: t0.Add(at), Amount: 3000, Currency: "EUR"}
	}
	// The advocate-to-be buys twice.
	rec(order("a-o1", "alice", 0))
	rec(order("a-o2", "alice", day))
	// Bob arrives on Alice's recommendation.
	res := rec(lifecycle.Event{ID: "b-v", CustomerID: "bob", Type: lifecycle.SiteVisited, Time: t0.Add(2 * day), ReferrerID: "alice"})
	require.Equal(t, flywheel.Engage, res.To)
	bob, err := tr.Customer(ctx, "bob")
	require.NoError(t, err)
	require.Equal(t, "alice", bob.Facts.ReferredBy)
	// Bob orders; the order is retried, duplicated, and later orders follow.
	events := []lifecycle.Event{
		order("b-o1", "bob", 3*day),
		order("b-o1", "bob", 3*day),
		{ID: "b-v", CustomerID: "bob", Type: lifecycle.SiteVisited, Time: t0.Add(2 * day), ReferrerID: "alice"},
		order("b-o2", "bob", 4*day),
		order("b-o1", "bob", 3*day),
	}
	for _, e := range events {
		rec(e)
	}
	_, err = tr.RecordBatch(ctx, events)
	require.NoError(t, err)
	// The credit itself cannot be recorded from outside, not even as a
	// replay of the Tracker's derived event: only the Tracker records it.
	_, err = tr.Record(ctx, lifecycle.Event{ID: lifecycle.ReferralEventID("bob"), CustomerID: "alice", Type: lifecycle.ReferralConverted, Time: t0.Add(3 * day)})
	require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)

	alice, err := tr.Customer(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, int64(1), alice.Facts.Count(lifecycle.ReferralConverted), "referral credits")
	require.Equal(t, []lifecycle.Referral{{Customer: "bob", At: t0.Add(3 * day)}}, alice.Facts.Referrals)
	require.Equal(t, flywheel.Advocate, alice.Stage)
	want := []lifecycle.Transition{
		{From: "", To: flywheel.Nurture, At: t0, Cause: "a-o1"},
		{From: flywheel.Nurture, To: flywheel.Retain, At: t0.Add(day), Cause: "a-o2"},
		{From: flywheel.Retain, To: flywheel.Advocate, At: t0.Add(3 * day), Cause: "clm.referral:bob"},
	}
	if diff := cmp.Diff(want, alice.History); diff != "" {
		t.Errorf("alice's history (-want +got):\n%s", diff)
	}
	// A second referred customer gives a second, separate credit.
	rec(lifecycle.Event{ID: "c-v", CustomerID: "carol", Type: lifecycle.SiteVisited, Time: t0.Add(5 * day), ReferrerID: "alice"})
	rec(order("c-o1", "carol", 6*day))
	rec(order("c-o1", "carol", 6*day))
	alice, err = tr.Customer(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, int64(2), alice.Facts.Count(lifecycle.ReferralConverted), "referral credits after carol")
}

func TestModelStageAllocatesNothing(t *testing.T) {
	m := flywheel.Model()
	f := facts(ev("o1", lifecycle.OrderCompleted, 0), ev("o2", lifecycle.OrderCompleted, day), ev("s", lifecycle.SocialShared, 2*day), ev("v", lifecycle.SiteVisited, 0))
	now := t0.Add(200 * day)
	if n := testing.AllocsPerRun(100, func() { m.Stage(f, now) }); n != 0 {
		t.Errorf("Stage allocates %v times per call", n)
	}
}

func TestModelNilOption(t *testing.T) {
	m := flywheel.Model(nil, flywheel.LapseAfter(0), nil)
	if m.Name() != "flywheel" {
		t.Fatalf("Name = %q", m.Name())
	}
}
