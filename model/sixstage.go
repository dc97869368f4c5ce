package model

import (
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Stage IDs of the [SixStage] model. Stage ID values are unique within a
// model, not across models: SixStageAwareness and FiveStageAwareness are
// both "awareness".
const (
	SixStageAwareness  stage.ID = "awareness"
	SixStageEngagement stage.ID = "engagement"
	SixStageEvaluation stage.ID = "evaluation"
	SixStagePurchase   stage.ID = "purchase"
	SixStageExperience stage.ID = "experience"
	SixStageBonding    stage.ID = "bonding"
)

// SixStageName is the name of the [SixStage] model in the registry.
const SixStageName = "six-stage"

type sixStage struct{ t thresholds }

var sixStageGraph = stage.MustNew([]stage.Stage{
	{ID: SixStageAwareness, Name: "Awareness", Summary: "The person knows the shop exists: saw an ad, visited, read content.", Action: "Be found and remembered: ads, SEO, useful content."},
	{ID: SixStageEngagement, Name: "Engagement", Summary: "The person interacts: signs up, subscribes, asks, chats, shares, or keeps coming back.", Action: "Start a conversation: welcome series, helpful answers, community."},
	{ID: SixStageEvaluation, Name: "Evaluation", Summary: "The person considers buying: views products, fills a cart, starts checkout; or bought before but not lately.", Action: "Help them decide: comparisons, reviews, cart and win-back reminders."},
	{ID: SixStagePurchase, Name: "Purchase", Summary: "The person has bought and is an active customer.", Action: "Make buying and delivery smooth; confirm the choice."},
	{ID: SixStageExperience, Name: "Support / experience", Summary: "The customer uses what they bought: bought again or needed support.", Action: "Support well and fast; onboarding, how-tos, solve tickets."},
	{ID: SixStageBonding, Name: "Loyalty / bonding", Summary: "The customer buys regularly and has no open problem.", Action: "Deepen the bond: loyalty programme, personal offers, ask for reviews and referrals."},
}, append(stage.Forward(SixStageAwareness, SixStageEngagement, SixStageEvaluation, SixStagePurchase, SixStageExperience, SixStageBonding),
	stage.Edge{From: SixStagePurchase, To: SixStageEvaluation, Kind: stage.Regress},
	stage.Edge{From: SixStageExperience, To: SixStageEvaluation, Kind: stage.Regress},
	stage.Edge{From: SixStageExperience, To: SixStagePurchase, Kind: stage.Regress},
	stage.Edge{From: SixStageBonding, To: SixStageEvaluation, Kind: stage.Regress},
	stage.Edge{From: SixStageBonding, To: SixStagePurchase, Kind: stage.Regress},
	stage.Edge{From: SixStageBonding, To: SixStageExperience, Kind: stage.Regress},
))

// SixStage returns the six-stage awareness-to-loyalty model: awareness →
// engagement → evaluation → purchase → support/experience →
// loyalty/bonding. Engagement is optional: a customer whose first events
// are product views or an order goes from awareness straight to evaluation
// or purchase. Its registry name is "six-stage".
//
// Net purchases, last purchase and active are defined as for
// [SterneCutler]; the first purchase is the earliest order_completed,
// subscription_started or subscription_renewed, refunded or not. Entry rules, checked from the last
// stage down (the first that holds wins), at now:
//   - bonding: active, at least BondPurchases net purchases (default 3),
//     and no open support ticket (an open ticket is a ticket_opened later
//     than the last ticket_resolved);
//   - experience: active, and at least 2 net purchases or a ticket_opened
//     later than the first purchase;
//   - purchase: active;
//   - evaluation: any product_viewed, cart_added or checkout_started, or
//     any order_completed, subscription_started or subscription_renewed ever (a lapsed or
//     refunded buyer re-evaluates);
//   - engagement: any signed_up, newsletter_subscribed,
//     content_downloaded, inquiry_sent, chat_started, loyalty_joined,
//     social_shared, review_posted, survey_answered, referral_made or
//     ticket_opened, or at least EngageVisits site_visited (default 3);
//   - awareness: everyone else.
//
// Edge cases: a lapsed buyer falls back to evaluation and returns with
// their next purchase to the stage their net purchases earn; a refund of
// the only order undoes the purchase (back to evaluation); a one-time
// buyer never reaches bonding (they reach experience only by opening a
// ticket); a subscription cancellation after the last purchase lapses the
// customer at once; a bonded customer who opens a support ticket moves to
// experience while it is open and returns to bonding when a
// ticket_resolved follows; a bonded customer who stops buying lapses to
// evaluation, whatever their referrals or reviews.
//
// Only the lapse depends on time alone (an open ticket and a ticket after
// the first purchase depend on the events only), so the model is a
// [lifecycle.Scheduler]: for an active buyer, NextChange returns the
// instant they lapse, last purchase + LapseAfter + 1ns; for everyone else,
// and when buyers never lapse, the zero time (never).
//
// Options read: [LapseAfter], [EngageVisits], [BondPurchases].
func SixStage(opts ...SixStageOption) lifecycle.Model {
	return &sixStage{t: apply(opts, SixStageOption.sixStage)}
}

func (m *sixStage) Name() string { return SixStageName }

func (m *sixStage) Stages() *stage.Graph { return sixStageGraph }

const (
	sixEngaged    = kEngagement | kAdvocacy | kTicketOpened
	sixEvaluating = kConsideration | purchased
)

func (m *sixStage) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	f = orEmpty(f)
	var s summary
	summarize(f, &s)
	if s.active(now, m.t.lapse) {
		p := s.purchases()
		switch {
		case p >= m.t.bondPurchases && !s.ticketOpen():
			return SixStageBonding
		case p >= 2 || (s.has&kTicketOpened != 0 && s.lastTicket.After(s.firstPurchase())):
			return SixStageExperience
		default:
			return SixStagePurchase
		}
	}
	switch {
	case s.has&sixEvaluating != 0:
		return SixStageEvaluation
	case s.has&sixEngaged != 0 || s.visits >= m.t.engageVisits:
		return SixStageEngagement
	}
	return SixStageAwareness
}

var _ lifecycle.Scheduler = (*sixStage)(nil)

// NextChange implements [lifecycle.Scheduler]: an active buyer lapses at
// last purchase + LapseAfter + 1ns; nothing else Stage reads depends on
// time alone.
func (m *sixStage) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	f = orEmpty(f)
	var s summary
	summarize(f, &s)
	if !s.active(now, m.t.lapse) {
		return time.Time{}
	}
	return s.activeUntil(now, m.t.lapse)
}
