package model_test

// Review tests: each built-in's published stage rules (docs/models.md
// tables and "The cases the articles gloss over") on hand-built facts,
// including the exact boundaries the wording fixes ("no more than",
// "at least", "later than").

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

var rvT0 = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)

type rvEv struct {
	typ   lifecycle.EventType
	at    time.Duration // after rvT0
	score int
}

func rvE(t lifecycle.EventType, at time.Duration) rvEv { return rvEv{typ: t, at: at} }

func rvF(evs ...rvEv) *lifecycle.Facts {
	f := new(lifecycle.Facts)
	for i, x := range evs {
		e := lifecycle.Event{ID: "e" + strconv.Itoa(i), CustomerID: "c", Type: x.typ, Time: rvT0.Add(x.at)}
		switch x.typ {
		case lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionRenewed, lifecycle.SubscriptionStarted:
			e.Amount, e.Currency = 1000, "EUR"
		case lifecycle.SurveyAnswered:
			e.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(x.score)}
		}
		f.Add(&e)
	}
	return f
}

func rvOrders(n int, start, gap time.Duration) []rvEv {
	var out []rvEv
	for i := 0; i < n; i++ {
		out = append(out, rvE(lifecycle.OrderCompleted, start+time.Duration(i)*gap))
	}
	return out
}

func rvCat(parts ...[]rvEv) []rvEv {
	var out []rvEv
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type rvDef struct {
	name string
	m    lifecycle.Model
	evs  []rvEv
	now  time.Duration // after rvT0
	want stage.ID
}

func rvRun(t *testing.T, cases []rvDef) {
	t.Helper()
	for _, c := range cases {
		if got := c.m.Stage(rvF(c.evs...), rvT0.Add(c.now)); got != c.want {
			t.Errorf("%s / %s: Stage = %q, docs say %q", c.m.Name(), c.name, got, c.want)
		}
	}
}

const lapse = model.DefaultLapseAfter

func TestContractSterneCutlerDefinitions(t *testing.T) {
	sc := model.SterneCutler()
	var cs []rvDef
	for _, ty := range []lifecycle.EventType{lifecycle.AdImpression, lifecycle.SiteVisited, lifecycle.ContentViewed, lifecycle.TicketOpened,
		lifecycle.TicketResolved, lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.ReferralMade, "acme.thing"} {
		cs = append(cs, rvDef{"only " + string(ty), sc, []rvEv{rvE(ty, 0)}, rvD, model.Reach})
	}
	cs = append(cs, rvDef{"only survey", sc, []rvEv{{lifecycle.SurveyAnswered, 0, 10}}, rvD, model.Reach})
	for _, ty := range []lifecycle.EventType{lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ProductViewed, lifecycle.CartAdded,
		lifecycle.CheckoutStarted, lifecycle.InquirySent, lifecycle.ChatStarted, lifecycle.ContentDownloaded, lifecycle.LoyaltyJoined} {
		cs = append(cs, rvDef{"engaged " + string(ty), sc, []rvEv{rvE(ty, 0)}, rvD, model.Acquisition})
	}
	cs = append(cs,
		rvDef{"one order", sc, rvOrders(1, 0, 0), 0, model.Conversion},
		rvDef{"one order, exactly LapseAfter later (no more than)", sc, rvOrders(1, 0, 0), lapse, model.Conversion},
		rvDef{"one order, LapseAfter+1ns later", sc, rvOrders(1, 0, 0), lapse + 1, model.Acquisition},
		rvDef{"subscription start counts", sc, []rvEv{rvE(lifecycle.SubscriptionStarted, 0)}, rvD, model.Conversion},
		rvDef{"renewal alone counts", sc, []rvEv{rvE(lifecycle.SubscriptionRenewed, 0)}, rvD, model.Conversion},
		rvDef{"two purchases: retention", sc, rvOrders(2, 0, rvD), 2 * rvD, model.Retention},
		rvDef{"five: loyalty", sc, rvOrders(5, 0, rvD), 5 * rvD, model.Loyalty},
		rvDef{"five less a refund: retention", sc, append(rvOrders(5, 0, rvD), rvE(lifecycle.OrderRefunded, 6*rvD)), 7 * rvD, model.Retention},
		rvDef{"4 orders + 1 renewal: loyalty", sc, append(rvOrders(4, 0, rvD), rvE(lifecycle.SubscriptionRenewed, 6*rvD)), 7 * rvD, model.Loyalty},
		rvDef{"refund of the only order", sc, []rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.OrderRefunded, rvD)}, 2 * rvD, model.Acquisition},
		rvDef{"refunds never below zero", sc, []rvEv{rvE(lifecycle.OrderRefunded, 0), rvE(lifecycle.OrderRefunded, 0), rvE(lifecycle.SubscriptionStarted, rvD)}, 2 * rvD, model.Conversion},
		rvDef{"cancel later than the last purchase", sc, []rvEv{rvE(lifecycle.SubscriptionStarted, 0), rvE(lifecycle.SubscriptionCancelled, rvD)}, 2 * rvD, model.Acquisition},
		rvDef{"cancel at the same instant (not later)", sc, []rvEv{rvE(lifecycle.SubscriptionStarted, rvD), rvE(lifecycle.SubscriptionCancelled, rvD)}, 2 * rvD, model.Conversion},
		rvDef{"cancel then buy again", sc, []rvEv{rvE(lifecycle.SubscriptionStarted, 0), rvE(lifecycle.SubscriptionCancelled, rvD), rvE(lifecycle.OrderCompleted, 2*rvD)}, 3 * rvD, model.Retention}, // 2 net purchases
		rvDef{"lapsed loyal buys again: loyal at once", sc, append(rvOrders(5, 0, rvD), rvE(lifecycle.OrderCompleted, 400*rvD)), 400 * rvD, model.Loyalty},
		rvDef{"loyal lapsed: acquisition", sc, rvOrders(5, 0, rvD), 400 * rvD, model.Acquisition},
		rvDef{"loyal with ticket stays", sc, append(rvOrders(5, 0, rvD), rvE(lifecycle.TicketOpened, 6*rvD)), 7 * rvD, model.Loyalty},
		rvDef{"loyal advocate who stops buying", sc, append(rvOrders(5, 0, rvD), rvE(lifecycle.ReferralConverted, 6*rvD), rvE(lifecycle.ReviewPosted, 300*rvD)), 300 * rvD, model.Acquisition},
		// options
		rvDef{"LoyalOrders(3)", model.SterneCutler(model.LoyalOrders(3)), rvOrders(3, 0, rvD), 3 * rvD, model.Loyalty},
		rvDef{"LoyalOrders(2) raised to 3", model.SterneCutler(model.LoyalOrders(2)), rvOrders(2, 0, rvD), 3 * rvD, model.Retention},
		rvDef{"RepeatPurchases(1) raised to 2", model.SterneCutler(model.RepeatPurchases(1)), rvOrders(1, 0, 0), rvD, model.Conversion},
		rvDef{"RepeatPurchases(6): LoyalOrders raised to 7", model.SterneCutler(model.RepeatPurchases(6)), rvOrders(6, 0, rvD), 6 * rvD, model.Retention},
		rvDef{"RepeatPurchases(MaxInt64) does not wrap", model.SterneCutler(model.RepeatPurchases(math.MaxInt64)), rvOrders(6, 0, rvD), 6 * rvD, model.Conversion},
		rvDef{"LapseAfter(0): never", model.SterneCutler(model.LapseAfter(0)), rvOrders(1, 0, 0), 50 * 365 * rvD, model.Conversion},
		rvDef{"LapseAfter(-1): never", model.SterneCutler(model.LapseAfter(-1)), rvOrders(1, 0, 0), 50 * 365 * rvD, model.Conversion},
		rvDef{"LapseAfter(MaxInt64): never", model.SterneCutler(model.LapseAfter(math.MaxInt64)), rvOrders(1, 0, 0), 0, model.Conversion},
		rvDef{"LapseAfter(90d)", model.SterneCutler(model.LapseAfter(90 * rvD)), rvOrders(1, 0, 0), 91 * rvD, model.Acquisition},
		rvDef{"nil option skipped", model.SterneCutler(nil, model.LapseAfter(90*rvD), nil), rvOrders(1, 0, 0), 91 * rvD, model.Acquisition},
	)
	rvRun(t, cs)
	// LapseAfter(MaxInt64) far ahead: "means buyers never lapse".
	f := rvF(rvOrders(1, 0, 0)...)
	if got := model.SterneCutler(model.LapseAfter(math.MaxInt64)).Stage(f, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); got != model.Conversion {
		t.Errorf("LapseAfter(MaxInt64) in year 9999: %s", got)
	}
}

func TestContractSixStageDefinitions(t *testing.T) {
	six := model.SixStage()
	var cs []rvDef
	for _, ty := range []lifecycle.EventType{lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ContentDownloaded, lifecycle.InquirySent,
		lifecycle.ChatStarted, lifecycle.LoyaltyJoined, lifecycle.SocialShared, lifecycle.ReviewPosted, lifecycle.ReferralMade, lifecycle.TicketOpened} {
		cs = append(cs, rvDef{"engaged " + string(ty), six, []rvEv{rvE(ty, 0)}, rvD, model.SixStageEngagement})
	}
	cs = append(cs, rvDef{"engaged survey", six, []rvEv{{lifecycle.SurveyAnswered, 0, 3}}, rvD, model.SixStageEngagement})
	for _, ty := range []lifecycle.EventType{lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.CheckoutStarted} {
		cs = append(cs, rvDef{"evaluating " + string(ty), six, []rvEv{rvE(ty, 0)}, rvD, model.SixStageEvaluation})
	}
	for _, ty := range []lifecycle.EventType{lifecycle.AdImpression, lifecycle.ContentViewed, lifecycle.TicketResolved, "acme.thing", lifecycle.SubscriptionCancelled} {
		cs = append(cs, rvDef{"aware " + string(ty), six, []rvEv{rvE(ty, 0)}, rvD, model.SixStageAwareness})
	}
	visits := func(n int) []rvEv {
		var out []rvEv
		for i := 0; i < n; i++ {
			out = append(out, rvE(lifecycle.SiteVisited, time.Duration(i)*time.Hour))
		}
		return out
	}
	cs = append(cs,
		rvDef{"2 visits", six, visits(2), rvD, model.SixStageAwareness},
		rvDef{"3 visits", six, visits(3), rvD, model.SixStageEngagement},
		rvDef{"EngageVisits(0) means 1", model.SixStage(model.EngageVisits(0)), visits(1), rvD, model.SixStageEngagement},
		rvDef{"one order", six, rvOrders(1, 0, 0), rvD, model.SixStagePurchase},
		rvDef{"one order + ticket after", six, []rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.TicketOpened, rvD)}, 2 * rvD, model.SixStageExperience},
		rvDef{"one order + ticket before", six, []rvEv{rvE(lifecycle.TicketOpened, 0), rvE(lifecycle.OrderCompleted, rvD)}, 2 * rvD, model.SixStagePurchase},
		rvDef{"one order + ticket same instant (not later)", six, []rvEv{rvE(lifecycle.TicketOpened, rvD), rvE(lifecycle.OrderCompleted, rvD)}, 2 * rvD, model.SixStagePurchase},
		rvDef{"two purchases: experience", six, rvOrders(2, 0, rvD), 2 * rvD, model.SixStageExperience},
		rvDef{"three: bonding", six, rvOrders(3, 0, rvD), 3 * rvD, model.SixStageBonding},
		rvDef{"bonded + open ticket: experience", six, append(rvOrders(3, 0, rvD), rvE(lifecycle.TicketOpened, 4*rvD)), 5 * rvD, model.SixStageExperience},
		rvDef{"bonded + resolved ticket: bonding", six, append(rvOrders(3, 0, rvD), rvE(lifecycle.TicketOpened, 4*rvD), rvE(lifecycle.TicketResolved, 5*rvD)), 6 * rvD, model.SixStageBonding},
		rvDef{"bonded + resolved same instant: not open", six, append(rvOrders(3, 0, rvD), rvE(lifecycle.TicketOpened, 4*rvD), rvE(lifecycle.TicketResolved, 4*rvD)), 6 * rvD, model.SixStageBonding},
		rvDef{"bonded + reopened: experience", six, append(rvOrders(3, 0, rvD), rvE(lifecycle.TicketOpened, 4*rvD), rvE(lifecycle.TicketResolved, 5*rvD), rvE(lifecycle.TicketOpened, 6*rvD)), 7 * rvD, model.SixStageExperience},
		rvDef{"lapsed: evaluation", six, rvOrders(3, 0, rvD), 400 * rvD, model.SixStageEvaluation},
		rvDef{"exactly LapseAfter: still bonded", six, rvOrders(3, 0, rvD), 2*rvD + lapse, model.SixStageBonding},
		rvDef{"refund of the only order", six, []rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.OrderRefunded, rvD)}, 2 * rvD, model.SixStageEvaluation},
		rvDef{"cancelled subscription", six, []rvEv{rvE(lifecycle.SubscriptionStarted, 0), rvE(lifecycle.SubscriptionCancelled, rvD)}, 2 * rvD, model.SixStageEvaluation},
		rvDef{"BondPurchases(1) means 2", model.SixStage(model.BondPurchases(1)), rvOrders(2, 0, rvD), 2 * rvD, model.SixStageBonding},
		rvDef{"BondPurchases(5)", model.SixStage(model.BondPurchases(5)), rvOrders(4, 0, rvD), 4 * rvD, model.SixStageExperience},
		rvDef{"bonded advocate who stops buying", six, append(rvOrders(3, 0, rvD), rvE(lifecycle.ReferralConverted, 5*rvD), rvE(lifecycle.ReviewPosted, 300*rvD)), 300 * rvD, model.SixStageEvaluation},
	)
	rvRun(t, cs)
}

func TestContractFiveStageDefinitions(t *testing.T) {
	five := model.FiveStage()
	two := rvOrders(2, 0, rvD)
	cs := []rvDef{
		{"nothing", five, nil, 0, model.FiveStageAwareness},
		{"visitor", five, []rvEv{rvE(lifecycle.SiteVisited, 0), rvE(lifecycle.SignedUp, 0)}, rvD, model.FiveStageAwareness},
		{"one order", five, rvOrders(1, 0, 0), 0, model.FiveStageConversion},
		{"one order, NurtureAfter-1ns", five, rvOrders(1, 0, 0), model.DefaultNurtureAfter - 1, model.FiveStageConversion},
		{"one order, exactly NurtureAfter (at least)", five, rvOrders(1, 0, 0), model.DefaultNurtureAfter, model.FiveStageNurturing},
		{"one order lapsed", five, rvOrders(1, 0, 0), 400 * rvD, model.FiveStageNurturing},
		{"refund of the only order", five, []rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.OrderRefunded, rvD)}, 2 * rvD, model.FiveStageAwareness},
		{"refund then buy: conversion within NurtureAfter of the FIRST purchase", five,
			[]rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.OrderRefunded, rvD), rvE(lifecycle.OrderCompleted, 5*rvD)}, 5 * rvD, model.FiveStageConversion},
		{"refund then buy: nurturing NurtureAfter after the first", five,
			[]rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.OrderRefunded, rvD), rvE(lifecycle.OrderCompleted, 5*rvD)}, 14 * rvD, model.FiveStageNurturing},
		{"repeat: retention", five, two, 2 * rvD, model.FiveStageRetention},
		{"repeat + referral: advocacy", five, append(two, rvE(lifecycle.ReferralConverted, 2*rvD)), 3 * rvD, model.FiveStageAdvocacy},
		{"repeat + promoter 9", five, append(two, rvEv{lifecycle.SurveyAnswered, 2 * rvD, 9}), 3 * rvD, model.FiveStageAdvocacy},
		{"repeat + score 8", five, append(two, rvEv{lifecycle.SurveyAnswered, 2 * rvD, 8}), 3 * rvD, model.FiveStageRetention},
		{"newer score below PromoterScore: back to retention", five, append(two, rvEv{lifecycle.SurveyAnswered, 2 * rvD, 10}, rvEv{lifecycle.SurveyAnswered, 3 * rvD, 4}), 4 * rvD, model.FiveStageRetention},
		{"one-time buyer with a referral: never advocacy", five, []rvEv{rvE(lifecycle.OrderCompleted, 0), rvE(lifecycle.ReferralConverted, rvD)}, 2 * rvD, model.FiveStageConversion},
		{"advocate who stops buying: nurturing", five, append(two, rvE(lifecycle.ReferralConverted, 2*rvD)), 400 * rvD, model.FiveStageNurturing},
		{"cancelled: nurturing", five, []rvEv{rvE(lifecycle.SubscriptionStarted, 0), rvE(lifecycle.SubscriptionCancelled, rvD)}, 2 * rvD, model.FiveStageNurturing},
		{"tickets ignored", five, append(two, rvE(lifecycle.TicketOpened, 2*rvD)), 3 * rvD, model.FiveStageRetention},
		{"PromoterScore(11) turns the survey off", model.FiveStage(model.PromoterScore(11)), append(two, rvEv{lifecycle.SurveyAnswered, 2 * rvD, 10}), 3 * rvD, model.FiveStageRetention},
		{"PromoterScore(-3) means 0", model.FiveStage(model.PromoterScore(-3)), append(two, rvEv{lifecycle.SurveyAnswered, 2 * rvD, 0}), 3 * rvD, model.FiveStageAdvocacy},
		{"AdvocateReferrals(0) means 1", model.FiveStage(model.AdvocateReferrals(0)), two, 3 * rvD, model.FiveStageRetention},
		{"AdvocateReferrals(2): one is not enough", model.FiveStage(model.AdvocateReferrals(2)), append(two, rvE(lifecycle.ReferralConverted, 2*rvD)), 3 * rvD, model.FiveStageRetention},
		{"NurtureAfter(400d) lowered to LapseAfter", model.FiveStage(model.NurtureAfter(400 * rvD)), rvOrders(1, 0, 0), lapse, model.FiveStageNurturing},
		{"NurtureAfter(400d) with LapseAfter(0) kept", model.FiveStage(model.LapseAfter(0), model.NurtureAfter(400*rvD)), rvOrders(1, 0, 0), 399 * rvD, model.FiveStageConversion},
		{"NurtureAfter(-1) means 0", model.FiveStage(model.NurtureAfter(-1)), rvOrders(1, 0, 0), 0, model.FiveStageNurturing},
		{"RepeatPurchases(1) means 2", model.FiveStage(model.RepeatPurchases(1)), rvOrders(1, 0, 0), 0, model.FiveStageConversion},
	}
	rvRun(t, cs)
}
