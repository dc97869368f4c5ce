package model

import (
	"math"
	"time"
)

// SterneCutlerOption is an option [SterneCutler] reads: [LapseAfter],
// [LoyalOrders] and [RepeatPurchases].
//
// Each built-in takes its own option type, so that an option a
// constructor does not read is a compile error, never ignored:
// SixStage(LoyalOrders(3)) does not compile. An option several built-ins
// read satisfies each of their types: LapseAfter's [Option] works with
// every built-in, so a shop can configure "lapsed after 90 days" once:
//
//	lapse := model.LapseAfter(90 * 24 * time.Hour)
//	sc, six := model.SterneCutler(lapse), model.SixStage(lapse)
//
// A nil option is skipped.
type SterneCutlerOption interface{ sterneCutler(*thresholds) }

// SixStageOption is an option [SixStage] reads: [LapseAfter],
// [EngageVisits] and [BondPurchases].
type SixStageOption interface{ sixStage(*thresholds) }

// FiveStageOption is an option [FiveStage] reads: [LapseAfter],
// [RepeatPurchases], [NurtureAfter], [AdvocateReferrals] and
// [PromoterScore].
type FiveStageOption interface{ fiveStage(*thresholds) }

// Option is an option every built-in reads ([LapseAfter]): it is a
// [SterneCutlerOption], a [SixStageOption] and a [FiveStageOption].
type Option interface {
	SterneCutlerOption
	SixStageOption
	FiveStageOption
}

// RepeatOption is an option [SterneCutler] and [FiveStage] read
// ([RepeatPurchases]): a [SterneCutlerOption] and a [FiveStageOption].
type RepeatOption interface {
	SterneCutlerOption
	FiveStageOption
}

// The concrete option types, one per set of readers.
type (
	scOpt     func(*thresholds)
	sixOpt    func(*thresholds)
	fiveOpt   func(*thresholds)
	everyOpt  func(*thresholds)
	repeatOpt func(*thresholds)
)

func (o scOpt) sterneCutler(t *thresholds)     { o(t) }
func (o sixOpt) sixStage(t *thresholds)        { o(t) }
func (o fiveOpt) fiveStage(t *thresholds)      { o(t) }
func (o everyOpt) sterneCutler(t *thresholds)  { o(t) }
func (o everyOpt) sixStage(t *thresholds)      { o(t) }
func (o everyOpt) fiveStage(t *thresholds)     { o(t) }
func (o repeatOpt) sterneCutler(t *thresholds) { o(t) }
func (o repeatOpt) fiveStage(t *thresholds)    { o(t) }

// thresholds holds every built-in threshold; each constructor starts from
// its own defaults.
type thresholds struct {
	lapse          time.Duration // 0: never lapse
	loyalPurchases int64
	repeatPurch    int64
	engageVisits   int64
	bondPurchases  int64
	nurtureAfter   time.Duration
	advocateRefs   int64
	promoterScore  int
}

// Defaults of the built-in thresholds.
const (
	// DefaultLapseAfter is how long after their last purchase a buyer
	// counts as lapsed in every built-in: 180 days.
	DefaultLapseAfter = 180 * 24 * time.Hour
	// DefaultLoyalOrders is the net purchases that make a Sterne–Cutler
	// customer loyal: 5.
	DefaultLoyalOrders = 5
	// DefaultRepeatPurchases is the net purchases that make a repeat
	// customer (Sterne–Cutler retention, five-stage retention): 2.
	DefaultRepeatPurchases = 2
	// DefaultEngageVisits is the number of site visits that count as
	// engagement in the six-stage model: 3.
	DefaultEngageVisits = 3
	// DefaultBondPurchases is the net purchases that make a six-stage
	// customer bonded (loyal): 3.
	DefaultBondPurchases = 3
	// DefaultNurtureAfter is how long after the first purchase a five-stage
	// customer leaves conversion for nurturing: 14 days.
	DefaultNurtureAfter = 14 * 24 * time.Hour
	// DefaultAdvocateReferrals is the converted referrals that make a
	// five-stage repeat customer an advocate: 1.
	DefaultAdvocateReferrals = 1
	// DefaultPromoterScore is the lowest last survey score that makes a
	// five-stage repeat customer an advocate: 9 (an NPS promoter).
	DefaultPromoterScore = 9
)

func defaults() thresholds {
	return thresholds{
		lapse:          DefaultLapseAfter,
		loyalPurchases: DefaultLoyalOrders,
		repeatPurch:    DefaultRepeatPurchases,
		engageVisits:   DefaultEngageVisits,
		bondPurchases:  DefaultBondPurchases,
		nurtureAfter:   DefaultNurtureAfter,
		advocateRefs:   DefaultAdvocateReferrals,
		promoterScore:  DefaultPromoterScore,
	}
}

// apply returns the thresholds after opts, each applied by set (nil
// options skipped), clamped as each option documents.
func apply[O any](opts []O, set func(O, *thresholds)) thresholds {
	t := defaults()
	for _, o := range opts {
		if any(o) != nil {
			set(o, &t)
		}
	}
	if t.lapse < 0 {
		t.lapse = 0
	}
	t.repeatPurch = max(t.repeatPurch, 2)
	// One more than the repeat threshold, saturating: RepeatPurchases(MaxInt64)
	// must not wrap LoyalOrders round to a negative floor.
	t.loyalPurchases = max(t.loyalPurchases, t.repeatPurch+min(1, math.MaxInt64-t.repeatPurch))
	t.bondPurchases = max(t.bondPurchases, 2)
	t.engageVisits = max(t.engageVisits, 1)
	t.advocateRefs = max(t.advocateRefs, 1)
	t.promoterScore = min(max(t.promoterScore, 0), 11)
	if t.nurtureAfter < 0 {
		t.nurtureAfter = 0
	}
	if t.lapse > 0 && t.nurtureAfter > t.lapse {
		t.nurtureAfter = t.lapse
	}
	return t
}

// LapseAfter sets how long after their last purchase a buyer counts as
// lapsed (default [DefaultLapseAfter], 180 days). A lapsed buyer leaves the
// buying stages and comes back with their next purchase. d ≤ 0, or the
// largest Duration (math.MaxInt64, about 292 years, where
// [time.Time.Sub] saturates), means buyers never lapse. Read by every
// built-in.
func LapseAfter(d time.Duration) Option {
	return everyOpt(func(t *thresholds) { t.lapse = d })
}

// LoyalOrders sets how many net purchases make a Sterne–Cutler customer
// loyal (default [DefaultLoyalOrders], 5). Values not above the repeat
// threshold are raised to one more than it (to math.MaxInt64 when the
// repeat threshold is math.MaxInt64, which leaves retention unreachable).
// Read by [SterneCutler].
func LoyalOrders(n int64) SterneCutlerOption {
	return scOpt(func(t *thresholds) { t.loyalPurchases = n })
}

// RepeatPurchases sets how many net purchases make a repeat customer:
// Sterne–Cutler retention and five-stage retention (default
// [DefaultRepeatPurchases], 2; values below 2 are raised to 2, so that a
// one-time buyer is never retained). Read by [SterneCutler] and
// [FiveStage].
func RepeatPurchases(n int64) RepeatOption {
	return repeatOpt(func(t *thresholds) { t.repeatPurch = n })
}

// EngageVisits sets how many site visits alone count as engagement in the
// six-stage model (default [DefaultEngageVisits], 3; at least 1). Read by
// [SixStage].
func EngageVisits(n int64) SixStageOption {
	return sixOpt(func(t *thresholds) { t.engageVisits = n })
}

// BondPurchases sets how many net purchases make a six-stage customer
// bonded (default [DefaultBondPurchases], 3; at least 2). Read by
// [SixStage].
func BondPurchases(n int64) SixStageOption {
	return sixOpt(func(t *thresholds) { t.bondPurchases = n })
}

// NurtureAfter sets how long after their first purchase a five-stage buyer
// stays in conversion before moving to nurturing (default
// [DefaultNurtureAfter], 14 days; negative values mean 0, and a value above
// a positive LapseAfter is lowered to it; with LapseAfter ≤ 0, buyers never
// lapse and NurtureAfter is kept). Read by [FiveStage].
func NurtureAfter(d time.Duration) FiveStageOption {
	return fiveOpt(func(t *thresholds) { t.nurtureAfter = d })
}

// AdvocateReferrals sets how many converted referrals
// ([lifecycle.ReferralConverted] events) make a five-stage repeat customer
// an advocate (default [DefaultAdvocateReferrals], 1; at least 1). Read by
// [FiveStage].
func AdvocateReferrals(n int64) FiveStageOption {
	return fiveOpt(func(t *thresholds) { t.advocateRefs = n })
}

// PromoterScore sets the lowest last survey score that makes a five-stage
// repeat customer an advocate (default [DefaultPromoterScore], 9; values
// are clamped to 0..11, and 11 turns the survey path off). Read by
// [FiveStage].
func PromoterScore(s int) FiveStageOption {
	return fiveOpt(func(t *thresholds) { t.promoterScore = s })
}
