package model

import (
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Stage IDs of the [SterneCutler] model. (They predate the other
// built-ins, whose constants carry the model's name as a prefix.)
const (
	Reach       stage.ID = "reach"
	Acquisition stage.ID = "acquisition"
	Conversion  stage.ID = "conversion"
	Retention   stage.ID = "retention"
	Loyalty     stage.ID = "loyalty"
)

// SterneCutlerName is the name of the [SterneCutler] model in the registry.
const SterneCutlerName = "sterne-cutler"

type sterneCutler struct{ t thresholds }

var sterneCutlerGraph = stage.MustNew([]stage.Stage{
	{ID: Reach, Name: "Reach", Summary: "The person has seen an ad, visited the site or read its content.", Action: "Make a good first impression: relevant ads, a clear landing page."},
	{ID: Acquisition, Name: "Acquisition", Summary: "The person engages (signs up, subscribes, views products, fills a cart), or bought before but not lately.", Action: "Turn interest into an order: product detail, reviews, cart reminders, win-back offers."},
	{ID: Conversion, Name: "Conversion", Summary: "The person has bought once.", Action: "Make the first purchase a good experience; follow up after delivery."},
	{ID: Retention, Name: "Retention", Summary: "The customer has bought again.", Action: "Reward repeat purchases; keep in touch with relevant offers."},
	{ID: Loyalty, Name: "Loyalty", Summary: "The customer buys regularly and is attached to the brand.", Action: "Treat them as insiders: loyalty perks, early access, ask for referrals."},
}, append(stage.Forward(Reach, Acquisition, Conversion, Retention, Loyalty),
	stage.Edge{From: Conversion, To: Acquisition, Kind: stage.Regress},
	stage.Edge{From: Retention, To: Acquisition, Kind: stage.Regress},
	stage.Edge{From: Retention, To: Conversion, Kind: stage.Regress},
	stage.Edge{From: Loyalty, To: Acquisition, Kind: stage.Regress},
	stage.Edge{From: Loyalty, To: Conversion, Kind: stage.Regress},
	stage.Edge{From: Loyalty, To: Retention, Kind: stage.Regress},
))

// SterneCutler returns the five-stage model of Sterne and Cutler
// ("E-Metrics", 2000): reach → acquisition → conversion → retention →
// loyalty. Its registry name is "sterne-cutler".
//
// Terms used by the rules (shared by every built-in):
//   - net purchases: completed orders less refunded ones (never below zero,
//     see [lifecycle.Facts.Orders]) plus subscription starts and renewals
//     (subscription_started, subscription_renewed);
//   - last purchase: the latest order_completed, subscription_started or
//     subscription_renewed;
//   - active: at least 1 net purchase, the last purchase no more than
//     LapseAfter before now (default 180 days; ≤ 0 never lapses), and no
//     subscription_cancelled later than the last purchase. A buyer who is
//     not active has lapsed.
//
// Entry rules, checked from the last stage down (the first that holds
// wins), at the classification time now:
//   - loyalty: active and at least LoyalOrders net purchases (default 5);
//   - retention: active and at least RepeatPurchases net purchases
//     (default 2);
//   - conversion: active;
//   - acquisition: any engagement (signed_up, newsletter_subscribed,
//     product_viewed, cart_added, checkout_started, inquiry_sent,
//     chat_started, content_downloaded, loyalty_joined), or any
//     order_completed, subscription_started or subscription_renewed ever
//     (a lapsed buyer, or one whose every order was refunded);
//   - reach: everyone else (for example a customer with only ad_impression,
//     site_visited, content_viewed, support, survey, review, share or
//     referral events, or custom events).
//
// Edge cases: a lapsed buyer falls back to acquisition and returns to the
// stage their net purchases earn with their next purchase (a lapsed loyal
// customer who buys again is loyal at once); a refund of the only order
// undoes the conversion (back to acquisition); a one-time buyer stays in
// conversion until they lapse and never reaches retention; a subscription
// cancellation after the last purchase lapses the customer at once; support
// tickets and surveys do not move anyone; a loyal customer who stops buying
// lapses like any other buyer, whatever their referrals or reviews.
//
// Only the lapse depends on time alone, so the model is a
// [lifecycle.Scheduler]: for an active buyer, NextChange returns the
// instant they lapse, last purchase + LapseAfter + 1ns; for everyone else,
// and when buyers never lapse, the zero time (never).
//
// Options read: [LapseAfter], [LoyalOrders], [RepeatPurchases].
func SterneCutler(opts ...SterneCutlerOption) lifecycle.Model {
	return &sterneCutler{t: apply(opts, SterneCutlerOption.sterneCutler)}
}

func (m *sterneCutler) Name() string { return SterneCutlerName }

func (m *sterneCutler) Stages() *stage.Graph { return sterneCutlerGraph }

const scEngaged = kEngagement | kConsideration

func (m *sterneCutler) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	f = orEmpty(f)
	var s summary
	summarize(f, &s)
	if s.active(now, m.t.lapse) {
		switch p := s.purchases(); {
		case p >= m.t.loyalPurchases:
			return Loyalty
		case p >= m.t.repeatPurch:
			return Retention
		default:
			return Conversion
		}
	}
	if s.has&scEngaged != 0 || s.everBought() {
		return Acquisition
	}
	return Reach
}

var _ lifecycle.Scheduler = (*sterneCutler)(nil)

// NextChange implements [lifecycle.Scheduler]: an active buyer lapses at
// last purchase + LapseAfter + 1ns; nothing else Stage reads depends on
// time alone.
func (m *sterneCutler) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	f = orEmpty(f)
	var s summary
	summarize(f, &s)
	if !s.active(now, m.t.lapse) {
		return time.Time{}
	}
	return s.activeUntil(now, m.t.lapse)
}
