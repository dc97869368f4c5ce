package model

import (
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Stage IDs of the [FiveStage] model.
const (
	FiveStageAwareness  stage.ID = "awareness"
	FiveStageConversion stage.ID = "conversion"
	FiveStageNurturing  stage.ID = "nurturing"
	FiveStageRetention  stage.ID = "retention"
	FiveStageAdvocacy   stage.ID = "advocacy"
)

// FiveStageName is the name of the [FiveStage] model in the registry.
const FiveStageName = "five-stage"

type fiveStage struct{ t thresholds }

var fiveStageGraph = stage.MustNew([]stage.Stage{
	{ID: FiveStageAwareness, Name: "Awareness", Summary: "The person knows the shop but has not bought (or every purchase was refunded).", Action: "Attract and inform: content, ads, sign-up incentives."},
	{ID: FiveStageConversion, Name: "Conversion", Summary: "The person has just bought for the first time.", Action: "Deliver well; confirm the choice; onboarding."},
	{ID: FiveStageNurturing, Name: "Nurturing", Summary: "A buyer past their first weeks who has not bought again, or a buyer who lapsed.", Action: "Build the relationship: tips, personal offers, win-back campaigns."},
	{ID: FiveStageRetention, Name: "Retention", Summary: "An active customer who has bought again.", Action: "Keep them: loyalty rewards, subscriptions, excellent service."},
	{ID: FiveStageAdvocacy, Name: "Advocacy", Summary: "An active repeat customer who recommends the shop: referrals that bought, or a promoter score.", Action: "Give them a voice: referral rewards, reviews, ambassador programmes."},
}, append(stage.Forward(FiveStageAwareness, FiveStageConversion, FiveStageNurturing, FiveStageRetention, FiveStageAdvocacy),
	stage.Edge{From: FiveStageConversion, To: FiveStageAwareness, Kind: stage.Regress},
	stage.Edge{From: FiveStageNurturing, To: FiveStageAwareness, Kind: stage.Regress},
	stage.Edge{From: FiveStageNurturing, To: FiveStageConversion, Kind: stage.Regress},
	stage.Edge{From: FiveStageRetention, To: FiveStageConversion, Kind: stage.Regress},
	stage.Edge{From: FiveStageRetention, To: FiveStageNurturing, Kind: stage.Regress},
	stage.Edge{From: FiveStageAdvocacy, To: FiveStageConversion, Kind: stage.Regress},
	stage.Edge{From: FiveStageAdvocacy, To: FiveStageNurturing, Kind: stage.Regress},
	stage.Edge{From: FiveStageAdvocacy, To: FiveStageRetention, Kind: stage.Regress},
))

// FiveStage returns the five-stage customer lifecycle management model:
// awareness → conversion → nurturing → retention → advocacy. Its registry
// name is "five-stage".
//
// Net purchases, last purchase and active are defined as for
// [SterneCutler]; the first purchase is the earliest order_completed,
// subscription_started or subscription_renewed, refunded or not. Entry rules, checked from the last
// stage down (the first that holds wins), at now:
//   - advocacy: active, at least RepeatPurchases net purchases (default 2),
//     and at least AdvocateReferrals referral_converted events (default 1)
//     or a last survey score of at least PromoterScore (default 9);
//   - retention: active and at least RepeatPurchases net purchases;
//   - nurturing: at least 1 net purchase, and either not active (lapsed or
//     cancelled) or the first purchase at least NurtureAfter before now
//     (default 14 days);
//   - conversion: active (so: within NurtureAfter of the first purchase);
//   - awareness: everyone else, including buyers whose every purchase was
//     refunded.
//
// Edge cases: a lapsed buyer, whatever their stage, falls back to
// nurturing (the shop nurtures them back) and returns with their next
// purchase to the stage their net purchases earn (back to conversion when,
// because of an earlier refund, that purchase leaves them with one net
// purchase within NurtureAfter of their first); a refund of the only
// order undoes the conversion (back to awareness); a one-time buyer moves
// from conversion to nurturing after NurtureAfter and never reaches
// retention; a subscription cancellation after the last purchase counts as
// lapsing (nurturing); support tickets do not move anyone; an advocate who
// stops buying lapses to nurturing (referrals alone do not keep them in
// advocacy), and an advocate whose new survey score falls below
// PromoterScore, with no converted referral, returns to retention.
//
// Two conditions depend on time alone, the lapse and the end of the
// conversion window, so the model is a [lifecycle.Scheduler]: NextChange
// returns, for a buyer in conversion, the end of the window, first
// purchase + NurtureAfter (or the lapse, when that comes first); for one
// in retention or advocacy, the instant they lapse, last purchase +
// LapseAfter + 1ns; for everyone else the zero time (never), a nurtured
// buyer included, since lapsing leaves them in nurturing.
//
// Options read: [LapseAfter], [RepeatPurchases], [NurtureAfter],
// [AdvocateReferrals], [PromoterScore].
func FiveStage(opts ...FiveStageOption) lifecycle.Model {
	return &fiveStage{t: apply(opts, FiveStageOption.fiveStage)}
}

func (m *fiveStage) Name() string { return FiveStageName }

func (m *fiveStage) Stages() *stage.Graph { return fiveStageGraph }

func (m *fiveStage) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	f = orEmpty(f)
	var s summary
	summarize(f, &s)
	p := s.purchases()
	if p < 1 {
		return FiveStageAwareness
	}
	if !s.active(now, m.t.lapse) {
		return FiveStageNurturing
	}
	if p >= m.t.repeatPurch {
		score, answered := f.LastScore()
		if s.refs >= m.t.advocateRefs || (answered && score >= m.t.promoterScore) {
			return FiveStageAdvocacy
		}
		return FiveStageRetention
	}
	if now.Sub(s.firstPurchase()) >= m.t.nurtureAfter {
		return FiveStageNurturing
	}
	return FiveStageConversion
}

var _ lifecycle.Scheduler = (*fiveStage)(nil)

// NextChange implements [lifecycle.Scheduler]. Time alone moves an active
// buyer in two ways: they lapse (to nurturing) at last purchase +
// LapseAfter + 1ns (active holds while now − last ≤ LapseAfter), and a
// buyer in conversion moves to nurturing at first purchase + NurtureAfter
// (conversion holds while now − first < NurtureAfter). Lapsing does not
// move a buyer who is already nurtured, and a buyer who is not active, or
// has no net purchase, stays where they are until an event arrives.
func (m *fiveStage) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	f = orEmpty(f)
	var s summary
	summarize(f, &s)
	p := s.purchases()
	if p < 1 || !s.active(now, m.t.lapse) {
		return time.Time{}
	}
	lapse := s.activeUntil(now, m.t.lapse)
	if p >= m.t.repeatPurch {
		return lapse // retention or advocacy, until the lapse
	}
	first := s.firstPurchase()
	if now.Sub(first) >= m.t.nurtureAfter {
		return time.Time{} // nurturing, active or lapsed
	}
	// Conversion, until the window ends or the buyer lapses (the window
	// ends first unless the facts are odd: NurtureAfter ≤ LapseAfter and
	// the first purchase is no later than the last).
	return earliest(lapse, reaches(first, m.t.nurtureAfter, now))
}
