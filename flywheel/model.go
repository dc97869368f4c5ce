package flywheel

import (
	"math"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// Importing the package registers the flywheel model, with default
// thresholds, in the model registry as "flywheel" (see [model.Register]),
// the way a database/sql driver registers itself.
func init() {
	if err := model.Register("flywheel", Model()); err != nil {
		panic(err)
	}
}

// Stage IDs of the flywheel model, in order.
const (
	Engage   stage.ID = "engage"
	Acquire  stage.ID = "acquire"
	Nurture  stage.ID = "nurture"
	Retain   stage.ID = "retain"
	Advocate stage.ID = "advocate"
)

// Defaults of the model's thresholds.
const (
	// DefaultLapseAfter is how long after their last order a buyer counts
	// as lapsed and goes back to engage: 180 days.
	DefaultLapseAfter = 180 * 24 * time.Hour
	// DefaultRetainOrders is the net orders that make a buyer retained: 2.
	DefaultRetainOrders = 2
	// DefaultAdvocateWindow is how recent a review, share or invitation
	// must be to make a buyer an advocate: 90 days.
	DefaultAdvocateWindow = 90 * 24 * time.Hour
	// DefaultAdvocateReferrals is the converted referrals (referral_converted
	// events) that make a buyer an advocate: 1.
	DefaultAdvocateReferrals = 1
)

// ModelOption sets a threshold of the flywheel [Model].
type ModelOption func(*wheel)

// LapseAfter sets how long after their last completed order a buyer counts
// as lapsed (default [DefaultLapseAfter]). A lapsed buyer goes back to
// engage. A duration of zero or less means buyers never lapse.
func LapseAfter(d time.Duration) ModelOption { return func(m *wheel) { m.lapse = d } }

// RetainOrders sets the net orders that make a buyer retained (default
// [DefaultRetainOrders]). Values below 2 are treated as 2: the first order
// makes a buyer nurtured, not retained.
func RetainOrders(n int64) ModelOption { return func(m *wheel) { m.retainOrders = max(n, 2) } }

// AdvocateWindow sets how recent a review_posted, social_shared or
// referral_made event must be, relative to the classification time, to make
// an active buyer an advocate (default [DefaultAdvocateWindow]). A duration
// of zero or less switches this path off: only converted referrals make
// advocates.
func AdvocateWindow(d time.Duration) ModelOption { return func(m *wheel) { m.window = d } }

// AdvocateReferrals sets how many converted referrals (referral_converted
// events, which the Tracker records) make an active buyer an advocate
// (default [DefaultAdvocateReferrals]). Values below 1 are treated as 1.
func AdvocateReferrals(n int64) ModelOption { return func(m *wheel) { m.referrals = max(n, 1) } }

type wheel struct {
	lapse        time.Duration
	retainOrders int64
	window       time.Duration
	referrals    int64
}

var graph = stage.MustNew([]stage.Stage{
	{ID: Engage, Name: "Engage", Summary: "A prospect has engaged with the shop (a visit, an ad, a product view), perhaps on an advocate's recommendation; or a lapsed buyer.", Action: "Attract: helpful content and a clear landing page; welcome referred visitors by name of their referrer."},
	{ID: Acquire, Name: "Acquire", Summary: "The prospect has become a known lead: signed up, subscribed, filled a cart or started checkout.", Action: "Turn the lead into a first order: reminders, reviews, a first-order incentive."},
	{ID: Nurture, Name: "Nurture", Summary: "The customer has ordered once.", Action: "Make the first purchase a good experience and earn the second order."},
	{ID: Retain, Name: "Retain", Summary: "The customer has ordered again and is still buying.", Action: "Reward repeat purchases; ask for a review or a referral."},
	{ID: Advocate, Name: "Advocate", Summary: "An active buyer who brings others: a referral converted, or a recent review, share or invitation.", Action: "Thank and reward advocates; make referring easy. Their referred prospects enter engage."},
}, append(stage.Forward(Engage, Acquire, Nurture, Retain, Advocate),
	stage.Edge{From: Nurture, To: Engage, Kind: stage.Regress},
	stage.Edge{From: Nurture, To: Acquire, Kind: stage.Regress},
	stage.Edge{From: Retain, To: Engage, Kind: stage.Regress},
	stage.Edge{From: Retain, To: Acquire, Kind: stage.Regress},
	stage.Edge{From: Retain, To: Nurture, Kind: stage.Regress},
	stage.Edge{From: Advocate, To: Engage, Kind: stage.Loop},
	stage.Edge{From: Advocate, To: Acquire, Kind: stage.Regress},
	stage.Edge{From: Advocate, To: Nurture, Kind: stage.Regress},
	stage.Edge{From: Advocate, To: Retain, Kind: stage.Regress},
))

// Graph returns the flywheel's stage graph: engage → acquire → nurture →
// retain → advocate (every forward skip allowed), the regressions that
// refunds, lapses and an expired advocacy window cause, and the loop edge
// advocate → engage.
func Graph() *stage.Graph { return graph }

// Model returns the flywheel model (name "flywheel"): engage → acquire →
// nurture → retain → advocate, with a [stage.Loop] edge advocate → engage.
// Advocates bring referred prospects, who enter engage with
// [lifecycle.Facts.ReferredBy] set (any event carrying a ReferrerID does
// that). When a referred customer places a first order (order_completed:
// the model is a [lifecycle.Converter] of that type alone, so a
// subscription_started converts nobody), the [lifecycle.Tracker]
// records a referral_converted event on the referrer with the ID
// "clm.referral:"+referredID. The referrer keeps one entry per referred
// customer in [lifecycle.Facts.Referrals], so retries and duplicates of any
// event never credit a referrer twice for the same referred customer.
//
// The stage is decided at the classification time now, checking from the
// last stage down. A buyer has at least one net order ([lifecycle.Facts.Orders]);
// an active buyer is a buyer whose last order_completed is at most
// LapseAfter (default 180 days) before now.
//   - advocate: an active buyer with at least AdvocateReferrals (default 1)
//     referral_converted events, or whose latest review_posted,
//     social_shared or referral_made event is at most AdvocateWindow
//     (default 90 days) before now;
//   - retain: an active buyer with at least RetainOrders (default 2) net
//     orders, the repeat order therefore within the lapse window;
//   - nurture: an active buyer (the first order);
//   - acquire: a customer with no net order who is a known lead
//     (signed_up, newsletter_subscribed, cart_added, checkout_started,
//     inquiry_sent, chat_started or loyalty_joined) or who ordered but had
//     every order refunded (a lapsed buyer is not a lead again);
//   - engage: everyone else, including prospects who only visited, viewed
//     or saw an ad, and lapsed buyers (a lapsed advocate takes the loop
//     edge back to engage).
//
// A lapsed buyer returns to nurture, retain or advocate with their next
// order. Moves caused by time alone (lapsing, an advocacy window running
// out) are applied by [lifecycle.Tracker.Sweep]. The model is a
// [lifecycle.Scheduler]: for an active buyer, NextChange returns the
// instant they lapse, last order_completed + LapseAfter + 1ns, or, for an
// advocate by a recent review, share or invitation alone, the instant the
// latest of them leaves the window (its time + AdvocateWindow + 1ns) when
// that is earlier; for everyone else, and for an active buyer when buyers
// never lapse and no window can close, the zero time (never).
func Model(opts ...ModelOption) lifecycle.Model {
	m := &wheel{
		lapse:        DefaultLapseAfter,
		retainOrders: DefaultRetainOrders,
		window:       DefaultAdvocateWindow,
		referrals:    DefaultAdvocateReferrals,
	}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m
}

func (m *wheel) Name() string { return "flywheel" }

// ConversionTypes makes the wheel a [lifecycle.Converter]: a referred
// customer converts with a first order_completed only, the purchase its
// rules count (a subscription alone leaves them in engage, and credits
// nobody).
func (m *wheel) ConversionTypes() []lifecycle.EventType {
	return []lifecycle.EventType{lifecycle.OrderCompleted}
}

func (m *wheel) Stages() *stage.Graph { return graph }

func (m *wheel) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	orders := f.Orders()
	if orders > 0 && (m.lapse <= 0 || now.Sub(f.LastTime(lifecycle.OrderCompleted)) <= m.lapse) {
		if f.Count(lifecycle.ReferralConverted) >= m.referrals || m.advocacy(f, now) {
			return Advocate
		}
		if orders >= m.retainOrders {
			return Retain
		}
		return Nurture
	}
	if orders == 0 && f.Count(lifecycle.OrderCompleted) > 0 {
		return Acquire
	}
	for i := range f.Tallies {
		switch f.Tallies[i].Type {
		case lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.CartAdded,
			lifecycle.CheckoutStarted, lifecycle.InquirySent, lifecycle.ChatStarted,
			lifecycle.LoyaltyJoined:
			if orders == 0 {
				return Acquire
			}
		}
	}
	return Engage
}

// advocacy reports a review, share or invitation within the window.
func (m *wheel) advocacy(f *lifecycle.Facts, now time.Time) bool {
	if m.window <= 0 {
		return false
	}
	for i := range f.Tallies {
		switch f.Tallies[i].Type {
		case lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.ReferralMade:
			if now.Sub(f.Tallies[i].Last) <= m.window {
				return true
			}
		}
	}
	return false
}

var _ lifecycle.Scheduler = (*wheel)(nil)

// NextChange implements [lifecycle.Scheduler]. Time alone moves only an
// active buyer: they lapse to engage at last order_completed + LapseAfter
// + 1ns (active holds while now − last ≤ LapseAfter), and an advocate by
// the advocacy window alone (too few converted referrals) leaves advocate
// when the last review_posted, social_shared or referral_made inside the
// window leaves it, at its time + AdvocateWindow + 1ns. Both conditions
// only turn false as time passes, so a customer who is not an active
// buyer, or not in the window, stays so until an event arrives.
func (m *wheel) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	orders := f.Orders()
	if orders <= 0 {
		return time.Time{}
	}
	var next time.Time
	if m.lapse > 0 {
		last := f.LastTime(lifecycle.OrderCompleted)
		if now.Sub(last) > m.lapse {
			return time.Time{} // lapsed, for good
		}
		next = exceeds(last, m.lapse, now)
	}
	if f.Count(lifecycle.ReferralConverted) >= m.referrals || m.window <= 0 {
		return next
	}
	// An advocate by the window alone stays one until the last event in
	// the window leaves it.
	var out time.Time
	for i := range f.Tallies {
		switch t := &f.Tallies[i]; t.Type {
		case lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.ReferralMade:
			if now.Sub(t.Last) <= m.window {
				end := exceeds(t.Last, m.window, now)
				if end.IsZero() {
					return next // the window never closes
				}
				if out.IsZero() || end.After(out) {
					out = end
				}
			}
		}
	}
	if out.IsZero() {
		return next // not an advocate: the window can only close
	}
	if next.IsZero() || out.Before(next) {
		return out
	}
	return next
}

// exceeds returns the first instant t at which t.Sub(from) > d, when a
// condition "now.Sub(from) <= d" turns false for good: from + d + 1ns; the
// zero time (never) when d is the largest Duration, which Sub saturates
// at; and an instant at or before now (due now) when from + d + 1ns is out
// of time.Time's range.
func exceeds(from time.Time, d time.Duration, now time.Time) time.Time {
	if d == math.MaxInt64 {
		return time.Time{}
	}
	t := from.Add(d + 1)
	if !t.After(from) || t.Sub(from) != d+1 {
		if now.IsZero() {
			return now.Add(-time.Nanosecond)
		}
		return now
	}
	if t.IsZero() { // the zero time means never: answer 1ns earlier
		return t.Add(-time.Nanosecond)
	}
	return t
}
