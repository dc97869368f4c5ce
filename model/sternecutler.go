package model

import (
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Stage IDs of the Sterne–Cutler model.
const (
	Reach       stage.ID = "reach"
	Acquisition stage.ID = "acquisition"
	Conversion  stage.ID = "conversion"
	Retention   stage.ID = "retention"
	Loyalty     stage.ID = "loyalty"
)

// SterneCutlerOption sets a threshold of the [SterneCutler] model.
type SterneCutlerOption func(*sterneCutler)

// LapseAfter sets how long after their last purchase a buyer counts as
// lapsed and falls back to acquisition (default 180 days).
func LapseAfter(d time.Duration) SterneCutlerOption {
	return func(m *sterneCutler) { m.lapse = d }
}

// LoyalOrders sets how many net orders make a retained customer loyal
// (default 5).
func LoyalOrders(n int64) SterneCutlerOption {
	return func(m *sterneCutler) { m.loyalOrders = n }
}

type sterneCutler struct {
	lapse       time.Duration
	loyalOrders int64
}

var sterneCutlerGraph = stage.MustNew([]stage.Stage{
	{ID: Reach, Name: "Reach", Summary: "The person has seen an ad or visited the site.", Action: "Make a good first impression: relevant ads, a clear landing page."},
	{ID: Acquisition, Name: "Acquisition", Summary: "The person engages: signs up, subscribes, views products or fills a cart.", Action: "Turn interest into a first order: product detail, reviews, cart reminders."},
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

// SterneCutler returns the five-stage model of Sterne and Cutler: reach →
// acquisition → conversion → retention → loyalty.
//
// Entry rules, checked from the last stage down, at the classification time:
//   - loyalty: at least LoyalOrders net orders (default 5) and not lapsed;
//   - retention: at least 2 net orders and not lapsed;
//   - conversion: 1 net order and not lapsed;
//   - acquisition: any engagement (signed_up, newsletter_subscribed,
//     product_viewed, cart_added, checkout_started, inquiry_sent,
//     chat_started, content_downloaded, loyalty_joined), or a lapsed buyer,
//     or a buyer whose every order was refunded;
//   - reach: everyone else (ad impressions, visits, content views).
//
// Net orders are completed orders less refunds ([lifecycle.Facts.Orders]).
// A buyer is lapsed when their last order is more than LapseAfter (default
// 180 days) before the classification time; they return to the buying
// stages with their next order.
func SterneCutler(opts ...SterneCutlerOption) lifecycle.Model {
	m := &sterneCutler{lapse: 180 * 24 * time.Hour, loyalOrders: 5}
	for _, o := range opts {
		o(m)
	}
	return m
}

func (m *sterneCutler) Name() string { return "sterne-cutler" }

func (m *sterneCutler) Stages() *stage.Graph { return sterneCutlerGraph }

func (m *sterneCutler) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	orders := f.Orders()
	if orders > 0 && now.Sub(f.LastTime(lifecycle.OrderCompleted)) <= m.lapse {
		switch {
		case orders >= m.loyalOrders:
			return Loyalty
		case orders >= 2:
			return Retention
		default:
			return Conversion
		}
	}
	if f.Count(lifecycle.OrderCompleted) > 0 || engaged(f) {
		return Acquisition
	}
	return Reach
}

func engaged(f *lifecycle.Facts) bool {
	for i := range f.Tallies {
		switch f.Tallies[i].Type {
		case lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ProductViewed,
			lifecycle.CartAdded, lifecycle.CheckoutStarted, lifecycle.InquirySent,
			lifecycle.ChatStarted, lifecycle.ContentDownloaded, lifecycle.LoyaltyJoined:
			return true
		}
	}
	return false
}
