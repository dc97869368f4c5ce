package model_test

import (
	"math"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

type stageCase struct {
	name   string
	model  lifecycle.Model
	events []ev
	now    float64 // day of classification
	want   stage.ID
}

func runStageCases(t *testing.T, cases []stageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := facts(tc.events...)
			got := tc.model.Stage(f, day(tc.now))
			if got != tc.want {
				t.Errorf("%s.Stage(%v, day %v) = %q, want %q", tc.model.Name(), tc.events, tc.now, got, tc.want)
			}
			if !tc.model.Stages().Has(got) {
				t.Errorf("stage %q is not declared", got)
			}
		})
	}
}

const (
	O  = lifecycle.OrderCompleted
	R  = lifecycle.OrderRefunded
	SR = lifecycle.SubscriptionRenewed
	SC = lifecycle.SubscriptionCancelled
	TO = lifecycle.TicketOpened
	TR = lifecycle.TicketResolved
	RC = lifecycle.ReferralConverted
	V  = lifecycle.SiteVisited
)

func TestSterneCutlerRules(t *testing.T) {
	sc := model.SterneCutler()
	cases := []stageCase{
		{"zero facts are reach", sc, nil, 0, model.Reach},
		{"visits, ads and content are reach", sc, []ev{e(V, 0), e(lifecycle.AdImpression, 0), e(lifecycle.ContentViewed, 1), e(V, 2), e(V, 3)}, 3, model.Reach},
		{"social share is not engagement", sc, []ev{e(lifecycle.SocialShared, 0)}, 0, model.Reach},
		{"one order is conversion", sc, []ev{e(V, 0), e(O, 0)}, 0, model.Conversion},
		{"a renewal alone is a purchase", sc, []ev{e(SR, 0)}, 1, model.Conversion},
		{"two orders are retention", sc, orders(2, 0, 10), 10, model.Retention},
		{"an order and a renewal are retention", sc, []ev{e(O, 0), e(SR, 30)}, 30, model.Retention},
		{"four orders are still retention", sc, orders(4, 0, 10), 30, model.Retention},
		{"five orders are loyalty", sc, orders(5, 0, 10), 40, model.Loyalty},
		{"LoyalOrders(3)", model.SterneCutler(model.LoyalOrders(3)), orders(3, 0, 10), 20, model.Loyalty},
		{"LoyalOrders below repeat is raised", model.SterneCutler(model.LoyalOrders(1)), orders(2, 0, 10), 10, model.Retention},
		{"RepeatPurchases(3): two orders stay conversion", model.SterneCutler(model.RepeatPurchases(3)), orders(2, 0, 10), 10, model.Conversion},
		{"RepeatPurchases(1) is raised to 2", model.SterneCutler(model.RepeatPurchases(1)), orders(1, 0, 10), 0, model.Conversion},
		{"RepeatPurchases(MaxInt64): LoyalOrders is raised, not wrapped round", model.SterneCutler(model.RepeatPurchases(math.MaxInt64)), orders(6, 0, 1), 5, model.Conversion},
		// edge cases
		{"lapse: one-time buyer at 180 days is still conversion", sc, orders(1, 0, 0), 180, model.Conversion},
		{"lapse: one-time buyer after 180 days is back in acquisition", sc, orders(1, 0, 0), 180.01, model.Acquisition},
		{"lapse: loyal customer lapses to acquisition", sc, orders(6, 0, 10), 50 + 181, model.Acquisition},
		{"lapse: lapsed loyal customer who buys again is loyal at once", sc, cat(orders(6, 0, 10), orders(1, 300, 0)), 300, model.Loyalty},
		{"lapse: LapseAfter(30d)", model.SterneCutler(model.LapseAfter(30 * 24 * time.Hour)), orders(2, 0, 1), 32, model.Acquisition},
		{"lapse: LapseAfter(0) never lapses", model.SterneCutler(model.LapseAfter(0)), orders(2, 0, 1), 5000, model.Retention},
		{"refund of the only order undoes the conversion", sc, []ev{e(O, 0), e(R, 3)}, 3, model.Acquisition},
		{"refund of one of two orders: conversion", sc, []ev{e(O, 0), e(O, 5), e(R, 6)}, 6, model.Conversion},
		{"one-time buyer never reaches retention", sc, []ev{e(O, 0), e(V, 10), e(lifecycle.ReviewPosted, 20), e(RC, 30), survey(40, 10)}, 40, model.Conversion},
		{"cancelled subscription after the last purchase lapses", sc, []ev{e(O, 0), e(SR, 30), e(SR, 60), e(SC, 70)}, 70, model.Acquisition},
		{"purchase after a cancellation restores", sc, []ev{e(O, 0), e(SR, 30), e(SR, 60), e(SC, 70), e(O, 80)}, 80, model.Retention},
		{"cancellation before the last purchase does not lapse", sc, []ev{e(SR, 0), e(SC, 10), e(O, 20)}, 20, model.Retention},
		{"loyal customer with a support ticket stays loyal", sc, cat(orders(5, 0, 10), []ev{e(TO, 41)}), 41, model.Loyalty},
		{"advocate who stops buying lapses", sc, cat(orders(5, 0, 10), []ev{e(RC, 100), e(RC, 200), survey(210, 10)}), 221, model.Acquisition},
	}
	for _, typ := range []lifecycle.EventType{lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ProductViewed,
		lifecycle.CartAdded, lifecycle.CheckoutStarted, lifecycle.InquirySent, lifecycle.ChatStarted,
		lifecycle.ContentDownloaded, lifecycle.LoyaltyJoined} {
		cases = append(cases, stageCase{"engagement " + string(typ) + " is acquisition", sc, []ev{e(V, 0), e(typ, 1)}, 1, model.Acquisition})
	}
	runStageCases(t, cases)
}

func TestSixStageRules(t *testing.T) {
	six := model.SixStage()
	cases := []stageCase{
		{"zero facts are awareness", six, nil, 0, model.SixStageAwareness},
		{"ads, content and two visits are awareness", six, []ev{e(lifecycle.AdImpression, 0), e(lifecycle.ContentViewed, 0), e(V, 0), e(V, 1)}, 1, model.SixStageAwareness},
		{"three visits are engagement", six, []ev{e(V, 0), e(V, 1), e(V, 2)}, 2, model.SixStageEngagement},
		{"EngageVisits(1)", model.SixStage(model.EngageVisits(1)), []ev{e(V, 0)}, 0, model.SixStageEngagement},
		{"EngageVisits(0) is raised to 1", model.SixStage(model.EngageVisits(0)), []ev{e(lifecycle.AdImpression, 0)}, 0, model.SixStageAwareness},
		{"product view skips engagement", six, []ev{e(V, 0), e(lifecycle.ProductViewed, 0)}, 0, model.SixStageEvaluation},
		{"cart is evaluation", six, []ev{e(lifecycle.CartAdded, 0)}, 0, model.SixStageEvaluation},
		{"checkout is evaluation", six, []ev{e(lifecycle.SignedUp, 0), e(lifecycle.CheckoutStarted, 0)}, 0, model.SixStageEvaluation},
		{"an order straight from awareness is purchase", six, []ev{e(V, 0), e(O, 0)}, 0, model.SixStagePurchase},
		{"a renewal is a purchase", six, []ev{e(SR, 0)}, 0, model.SixStagePurchase},
		{"two orders are experience", six, orders(2, 0, 5), 5, model.SixStageExperience},
		{"a ticket after the first purchase is experience", six, []ev{e(O, 0), e(TO, 2)}, 2, model.SixStageExperience},
		{"a resolved ticket after the purchase is still experience", six, []ev{e(O, 0), e(TO, 2), e(TR, 3)}, 3, model.SixStageExperience},
		{"a ticket before the first purchase is not", six, []ev{e(TO, 0), e(O, 2)}, 2, model.SixStagePurchase},
		{"three orders are bonding", six, orders(3, 0, 5), 10, model.SixStageBonding},
		{"BondPurchases(5): three orders are experience", model.SixStage(model.BondPurchases(5)), orders(3, 0, 5), 10, model.SixStageExperience},
		{"BondPurchases(1) is raised to 2", model.SixStage(model.BondPurchases(1)), orders(1, 0, 5), 0, model.SixStagePurchase},
		// edge cases
		{"lapse: buyer after 180 days re-evaluates", six, orders(1, 0, 0), 181, model.SixStageEvaluation},
		{"lapse: bonded customer lapses to evaluation", six, orders(4, 0, 5), 15 + 181, model.SixStageEvaluation},
		{"lapse: lapsed bonded customer who buys again bonds again", six, cat(orders(4, 0, 5), orders(1, 400, 0)), 400, model.SixStageBonding},
		{"lapse: LapseAfter(60d)", model.SixStage(model.LapseAfter(60 * 24 * time.Hour)), orders(3, 0, 5), 71, model.SixStageEvaluation},
		{"refund of the only order undoes the purchase", six, []ev{e(O, 0), e(R, 1)}, 1, model.SixStageEvaluation},
		{"one-time buyer never bonds", six, []ev{e(O, 0), e(lifecycle.LoyaltyJoined, 1), e(RC, 2), survey(3, 10)}, 3, model.SixStagePurchase},
		{"cancelled subscription after the last purchase lapses", six, []ev{e(O, 0), e(SR, 30), e(SR, 60), e(SC, 61)}, 61, model.SixStageEvaluation},
		{"bonded customer with an open ticket is in experience", six, cat(orders(3, 0, 5), []ev{e(TO, 11)}), 11, model.SixStageExperience},
		{"bonded customer whose ticket is resolved bonds again", six, cat(orders(3, 0, 5), []ev{e(TO, 11), e(TR, 12)}), 12, model.SixStageBonding},
		{"bonded customer with a reopened ticket", six, cat(orders(3, 0, 5), []ev{e(TO, 11), e(TR, 12), e(TO, 13)}), 13, model.SixStageExperience},
		{"advocate who stops buying lapses", six, cat(orders(5, 0, 5), []ev{e(RC, 100), e(lifecycle.ReviewPosted, 150), survey(200, 10)}), 20 + 181, model.SixStageEvaluation},
	}
	for _, typ := range []lifecycle.EventType{lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ContentDownloaded,
		lifecycle.InquirySent, lifecycle.ChatStarted, lifecycle.LoyaltyJoined, lifecycle.SocialShared,
		lifecycle.ReviewPosted, lifecycle.SurveyAnswered, lifecycle.ReferralMade, lifecycle.TicketOpened} {
		cases = append(cases, stageCase{"engagement " + string(typ), six, []ev{e(V, 0), e(typ, 1)}, 1, model.SixStageEngagement})
	}
	runStageCases(t, cases)
}

func TestFiveStageRules(t *testing.T) {
	five := model.FiveStage()
	two := orders(2, 0, 20)
	cases := []stageCase{
		{"zero facts are awareness", five, nil, 0, model.FiveStageAwareness},
		{"engaged non-buyer is awareness", five, []ev{e(V, 0), e(lifecycle.SignedUp, 0), e(lifecycle.CartAdded, 1)}, 1, model.FiveStageAwareness},
		{"first order is conversion", five, orders(1, 0, 0), 0, model.FiveStageConversion},
		{"conversion until just before 14 days", five, orders(1, 0, 0), 13.99, model.FiveStageConversion},
		{"nurturing from 14 days after the first purchase", five, orders(1, 0, 0), 14, model.FiveStageNurturing},
		{"NurtureAfter(30d)", model.FiveStage(model.NurtureAfter(30 * 24 * time.Hour)), orders(1, 0, 0), 20, model.FiveStageConversion},
		{"NurtureAfter is kept when buyers never lapse", model.FiveStage(model.NurtureAfter(30*24*time.Hour), model.LapseAfter(0)), orders(1, 0, 0), 29, model.FiveStageConversion},
		{"NurtureAfter above LapseAfter is lowered", model.FiveStage(model.NurtureAfter(400*24*time.Hour), model.LapseAfter(100*24*time.Hour)), orders(1, 0, 0), 100, model.FiveStageNurturing},
		{"two orders are retention", five, two, 20, model.FiveStageRetention},
		{"second order within the conversion window is retention", five, orders(2, 0, 1), 1, model.FiveStageRetention},
		{"RepeatPurchases(3): two orders are nurturing", model.FiveStage(model.RepeatPurchases(3)), two, 20, model.FiveStageNurturing},
		{"repeat buyer with a converted referral is advocacy", five, cat(two, []ev{e(RC, 21)}), 21, model.FiveStageAdvocacy},
		{"repeat buyer with a promoter score is advocacy", five, cat(two, []ev{survey(21, 9)}), 21, model.FiveStageAdvocacy},
		{"repeat buyer with a passive score is retention", five, cat(two, []ev{survey(21, 8)}), 21, model.FiveStageRetention},
		{"a later low score ends advocacy", five, cat(two, []ev{survey(21, 10), survey(25, 4)}), 25, model.FiveStageRetention},
		{"AdvocateReferrals(2): one referral is retention", model.FiveStage(model.AdvocateReferrals(2)), cat(two, []ev{e(RC, 21)}), 21, model.FiveStageRetention},
		{"PromoterScore(7)", model.FiveStage(model.PromoterScore(7)), cat(two, []ev{survey(21, 7)}), 21, model.FiveStageAdvocacy},
		{"PromoterScore(11) turns surveys off", model.FiveStage(model.PromoterScore(11)), cat(two, []ev{survey(21, 10)}), 21, model.FiveStageRetention},
		// edge cases
		{"lapse: repeat buyer after 180 days is nurtured", five, two, 20 + 181, model.FiveStageNurturing},
		{"lapse: lapsed repeat buyer who buys again is retained", five, cat(two, orders(1, 300, 0)), 300, model.FiveStageRetention},
		{"refund of the only order undoes the conversion", five, []ev{e(O, 0), e(R, 2)}, 2, model.FiveStageAwareness},
		{"refund after a first order and a later repurchase", five, []ev{e(R, 0), e(SR, 0), e(SC, 5), e(O, 6)}, 6, model.FiveStageConversion},
		{"one-time buyer never reaches retention", five, []ev{e(O, 0), e(RC, 1), survey(2, 10), e(lifecycle.ReviewPosted, 3)}, 100, model.FiveStageNurturing},
		{"one-time buyer with a referral is not an advocate", five, []ev{e(O, 0), e(RC, 1)}, 1, model.FiveStageConversion},
		{"cancelled subscription after the last purchase is nurtured", five, []ev{e(O, 0), e(SR, 30), e(SC, 40)}, 40, model.FiveStageNurturing},
		{"loyal customer with a support ticket does not move", five, cat(two, []ev{e(TO, 21)}), 21, model.FiveStageRetention},
		{"advocate who stops buying is nurtured", five, cat(two, []ev{e(RC, 21), e(RC, 100), e(RC, 190)}), 20 + 181, model.FiveStageNurturing},
	}
	runStageCases(t, cases)
}

func TestEngagementIsOptional(t *testing.T) {
	g := model.SixStage().Stages()
	for _, to := range []stage.ID{model.SixStageEvaluation, model.SixStagePurchase} {
		if !g.Allows(model.SixStageAwareness, to) {
			t.Errorf("six-stage graph does not allow awareness → %s", to)
		}
	}
}

func TestBuiltinNames(t *testing.T) {
	for _, tc := range []struct {
		m    lifecycle.Model
		name string
		ids  []stage.ID
	}{
		{model.SterneCutler(), "sterne-cutler", []stage.ID{"reach", "acquisition", "conversion", "retention", "loyalty"}},
		{model.SixStage(), "six-stage", []stage.ID{"awareness", "engagement", "evaluation", "purchase", "experience", "bonding"}},
		{model.FiveStage(), "five-stage", []stage.ID{"awareness", "conversion", "nurturing", "retention", "advocacy"}},
	} {
		if tc.m.Name() != tc.name {
			t.Errorf("Name() = %q, want %q", tc.m.Name(), tc.name)
		}
		got := tc.m.Stages().IDs()
		if len(got) != len(tc.ids) {
			t.Fatalf("%s: IDs = %v, want %v", tc.name, got, tc.ids)
		}
		for i := range got {
			if got[i] != tc.ids[i] {
				t.Errorf("%s: IDs = %v, want %v", tc.name, got, tc.ids)
			}
		}
	}
}

func TestBuiltinsDoNotAllocate(t *testing.T) {
	f := facts(cat(orders(5, 0, 10), []ev{e(V, 0), e(lifecycle.ProductViewed, 1), e(TO, 30), e(TR, 31), e(RC, 32), survey(33, 9), e(SR, 40)})...)
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()} {
		if n := testing.AllocsPerRun(100, func() { m.Stage(f, day(50)) }); n != 0 {
			t.Errorf("%s: %v allocations per classification, want 0", m.Name(), n)
		}
	}
}

// subscription_started is a purchase in every built-in: a first
// subscription converts, lapses like an order, and a cancellation after it
// lapses the customer.
func TestSubscriptionStarted(t *testing.T) {
	const SS = lifecycle.SubscriptionStarted
	runStageCases(t, []stageCase{
		{"sterne-cutler: a start alone is conversion", model.SterneCutler(), []ev{e(SS, 0)}, 1, model.Conversion},
		{"sterne-cutler: a start and a renewal are retention", model.SterneCutler(), []ev{e(SS, 0), e(SR, 30)}, 31, model.Retention},
		{"sterne-cutler: a start lapses", model.SterneCutler(), []ev{e(SS, 0)}, 181, model.Acquisition},
		{"sterne-cutler: cancelled after the start", model.SterneCutler(), []ev{e(SS, 0), e(SC, 5)}, 6, model.Acquisition},
		{"six-stage: a start alone is purchase", model.SixStage(), []ev{e(SS, 0)}, 1, model.SixStagePurchase},
		{"six-stage: a lapsed start re-evaluates", model.SixStage(), []ev{e(SS, 0)}, 181, model.SixStageEvaluation},
		{"five-stage: a start alone is conversion", model.FiveStage(), []ev{e(SS, 0)}, 1, model.FiveStageConversion},
		{"five-stage: a start is nurtured after 14 days", model.FiveStage(), []ev{e(SS, 0)}, 15, model.FiveStageNurturing},
	})
	// NextChange announces the lapse of a subscription start.
	f := facts(e(SS, 0))
	s := model.SterneCutler().(lifecycle.Scheduler)
	if got, want := s.NextChange(f, day(1)), day(0).Add(model.DefaultLapseAfter+time.Nanosecond); !got.Equal(want) {
		t.Errorf("NextChange = %v, want %v", got, want)
	}
}
