package model_test

// Review tests written from docs/models.md and go doc alone: an
// independent implementation of each built-in's published entry rules,
// compared with the model on random facts; and every built-in's NextChange
// against brute-force stepping of the clock.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

const rvD = 24 * time.Hour

var rvBase = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// rvTypes are the types the random facts draw from.
var rvTypes = []lifecycle.EventType{
	lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.OrderCompleted,
	lifecycle.OrderRefunded, lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed,
	lifecycle.SubscriptionCancelled, lifecycle.TicketOpened, lifecycle.TicketResolved,
	lifecycle.SiteVisited, lifecycle.SiteVisited, lifecycle.SignedUp, lifecycle.ProductViewed,
	lifecycle.SurveyAnswered, lifecycle.ReferralConverted, lifecycle.ReviewPosted,
	lifecycle.AdImpression, lifecycle.SocialShared, lifecycle.CartAdded, "acme.custom",
}

// rvRandomFacts folds 0..n random events into facts. Times are sometimes
// whole days, so that ties between types happen.
func rvRandomFacts(r *rand.Rand, n int) *lifecycle.Facts {
	f := new(lifecycle.Facts)
	k := r.IntN(n + 1)
	for i := 0; i < k; i++ {
		typ := rvTypes[r.IntN(len(rvTypes))]
		at := rvBase.Add(time.Duration(r.Int64N(int64(400 * rvD))))
		if r.IntN(3) == 0 {
			at = at.Truncate(rvD)
		}
		e := lifecycle.Event{ID: "e" + strconv.Itoa(i), CustomerID: "c", Type: typ, Time: at}
		switch typ {
		case lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionRenewed, lifecycle.SubscriptionStarted:
			e.Amount, e.Currency = 1+r.Int64N(40000), "EUR"
		case lifecycle.SurveyAnswered:
			e.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(r.IntN(11))}
		}
		f.Add(&e)
	}
	return f
}

// ---- the published definitions (docs/models.md, "Terms shared by every built-in")

type rvTerms struct {
	f                       *lifecycle.Facts
	net                     int64
	firstPurchase, lastPurc time.Time
	bought                  bool
}

func rvTermsOf(f *lifecycle.Facts) rvTerms {
	t := rvTerms{f: f}
	t.net = max(f.Count(lifecycle.OrderCompleted)-f.Count(lifecycle.OrderRefunded), 0) +
		f.Count(lifecycle.SubscriptionStarted) + f.Count(lifecycle.SubscriptionRenewed)
	for _, ty := range []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed} {
		if f.Count(ty) == 0 {
			continue
		}
		if !t.bought || f.FirstTime(ty).Before(t.firstPurchase) {
			t.firstPurchase = f.FirstTime(ty)
		}
		if !t.bought || f.LastTime(ty).After(t.lastPurc) {
			t.lastPurc = f.LastTime(ty)
		}
		t.bought = true
	}
	return t
}

// active: "at least 1 net purchase, the last purchase no more than
// LapseAfter before now (... d ≤ 0 means never lapse), and no
// subscription_cancelled later than the last purchase."
func (t rvTerms) active(now time.Time, lapse time.Duration) bool {
	if t.net < 1 {
		return false
	}
	if t.f.Count(lifecycle.SubscriptionCancelled) > 0 && t.f.LastTime(lifecycle.SubscriptionCancelled).After(t.lastPurc) {
		return false
	}
	return lapse <= 0 || now.Sub(t.lastPurc) <= lapse
}

func rvAny(f *lifecycle.Facts, types ...lifecycle.EventType) bool {
	for _, ty := range types {
		if f.Count(ty) > 0 {
			return true
		}
	}
	return false
}

var rvPurchaseTypes = []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed}

// Sterne–Cutler table of docs/models.md.
func rvSC(f *lifecycle.Facts, now time.Time, lapse time.Duration, repeat, loyal int64) stage.ID {
	t := rvTermsOf(f)
	repeat = max(repeat, 2)
	loyal = max(loyal, repeat+1)
	a := t.active(now, lapse)
	switch {
	case a && t.net >= loyal:
		return model.Loyalty
	case a && t.net >= repeat:
		return model.Retention
	case a:
		return model.Conversion
	case rvAny(f, lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ProductViewed, lifecycle.CartAdded,
		lifecycle.CheckoutStarted, lifecycle.InquirySent, lifecycle.ChatStarted, lifecycle.ContentDownloaded, lifecycle.LoyaltyJoined) || rvAny(f, rvPurchaseTypes...):
		return model.Acquisition
	}
	return model.Reach
}

// Six-stage table of docs/models.md.
func rvSix(f *lifecycle.Facts, now time.Time, lapse time.Duration, engage, bond int64) stage.ID {
	t := rvTermsOf(f)
	bond = max(bond, 2)
	engage = max(engage, 1)
	a := t.active(now, lapse)
	open := f.Count(lifecycle.TicketOpened) > 0 &&
		(f.Count(lifecycle.TicketResolved) == 0 || f.LastTime(lifecycle.TicketOpened).After(f.LastTime(lifecycle.TicketResolved)))
	ticketAfterFirst := f.Count(lifecycle.TicketOpened) > 0 && f.LastTime(lifecycle.TicketOpened).After(t.firstPurchase)
	switch {
	case a && t.net >= bond && !open:
		return model.SixStageBonding
	case a && (t.net >= 2 || ticketAfterFirst):
		return model.SixStageExperience
	case a:
		return model.SixStagePurchase
	case rvAny(f, lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.CheckoutStarted) || rvAny(f, rvPurchaseTypes...):
		return model.SixStageEvaluation
	case rvAny(f, lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.ContentDownloaded, lifecycle.InquirySent,
		lifecycle.ChatStarted, lifecycle.LoyaltyJoined, lifecycle.SocialShared, lifecycle.ReviewPosted, lifecycle.SurveyAnswered,
		lifecycle.ReferralMade, lifecycle.TicketOpened) || f.Count(lifecycle.SiteVisited) >= engage:
		return model.SixStageEngagement
	}
	return model.SixStageAwareness
}

// Five-stage table of docs/models.md.
func rvFive(f *lifecycle.Facts, now time.Time, lapse, nurture time.Duration, repeat, refs int64, promoter int) stage.ID {
	t := rvTermsOf(f)
	repeat = max(repeat, 2)
	refs = max(refs, 1)
	if lapse < 0 {
		lapse = 0
	}
	nurture = max(nurture, 0)
	if lapse > 0 && nurture > lapse {
		nurture = lapse
	}
	a := t.active(now, lapse)
	score, answered := f.LastScore()
	switch {
	case a && t.net >= repeat && (f.Count(lifecycle.ReferralConverted) >= refs || (answered && score >= promoter)):
		return model.FiveStageAdvocacy
	case a && t.net >= repeat:
		return model.FiveStageRetention
	case t.net >= 1 && (!a || now.Sub(t.firstPurchase) >= nurture):
		return model.FiveStageNurturing
	case a:
		return model.FiveStageConversion
	}
	return model.FiveStageAwareness
}

// Flywheel (go doc flywheel.Model).
func rvFly(f *lifecycle.Facts, now time.Time, lapse, window time.Duration, retain, refs int64) stage.ID {
	orders := f.Orders()
	active := orders > 0 && (lapse <= 0 || now.Sub(f.LastTime(lifecycle.OrderCompleted)) <= lapse)
	recent := false
	if window > 0 {
		for _, ty := range []lifecycle.EventType{lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.ReferralMade} {
			if f.Count(ty) > 0 && now.Sub(f.LastTime(ty)) <= window {
				recent = true
			}
		}
	}
	switch {
	case active && (f.Count(lifecycle.ReferralConverted) >= max(refs, 1) || recent):
		return flywheel.Advocate
	case active && orders >= max(retain, 2):
		return flywheel.Retain
	case active:
		return flywheel.Nurture
	case orders == 0 && (rvAny(f, lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.CartAdded, lifecycle.CheckoutStarted,
		lifecycle.InquirySent, lifecycle.ChatStarted, lifecycle.LoyaltyJoined) || f.Count(lifecycle.OrderCompleted) > 0):
		return flywheel.Acquire
	}
	return flywheel.Engage
}

type rvCase struct {
	name string
	m    lifecycle.Model
	ref  func(f *lifecycle.Facts, now time.Time) stage.ID
	// due is the documented NextChange (nil: only the contract is checked).
	due func(f *lifecycle.Facts, now time.Time) time.Time
	// thresholds whose crossings the brute force visits
	ds []time.Duration
}

// rvLapseDue: SterneCutler and six-stage, documented: "for an active
// buyer, NextChange returns the instant they lapse, last purchase +
// LapseAfter + 1ns; for everyone else, and when buyers never lapse, the
// zero time (never)."
func rvLapseDue(lapse time.Duration) func(f *lifecycle.Facts, now time.Time) time.Time {
	return func(f *lifecycle.Facts, now time.Time) time.Time {
		t := rvTermsOf(f)
		if lapse <= 0 || lapse == math.MaxInt64 || !t.active(now, lapse) {
			return time.Time{}
		}
		return t.lastPurc.Add(lapse + 1)
	}
}

func rvCases() []rvCase {
	lapses := []time.Duration{model.DefaultLapseAfter, 0, 30 * rvD, time.Hour, -5, math.MaxInt64}
	var cs []rvCase
	for _, l := range lapses {
		l := l
		sc := model.SterneCutler(model.LapseAfter(l))
		cs = append(cs, rvCase{fmt.Sprintf("sterne-cutler/lapse=%v", l), sc,
			func(f *lifecycle.Facts, now time.Time) stage.ID { return rvSC(f, now, l, 2, 5) }, rvLapseDue(l), []time.Duration{l}})
		six := model.SixStage(model.LapseAfter(l))
		cs = append(cs, rvCase{fmt.Sprintf("six-stage/lapse=%v", l), six,
			func(f *lifecycle.Facts, now time.Time) stage.ID { return rvSix(f, now, l, 3, 3) }, rvLapseDue(l), []time.Duration{l}})
	}
	cs = append(cs,
		rvCase{"sterne-cutler/repeat=3,loyal=3", model.SterneCutler(model.RepeatPurchases(3), model.LoyalOrders(3)),
			func(f *lifecycle.Facts, now time.Time) stage.ID { return rvSC(f, now, model.DefaultLapseAfter, 3, 3) }, rvLapseDue(model.DefaultLapseAfter), nil},
		rvCase{"sterne-cutler/repeat=1,loyal=-1", model.SterneCutler(model.RepeatPurchases(1), model.LoyalOrders(-1)),
			func(f *lifecycle.Facts, now time.Time) stage.ID { return rvSC(f, now, model.DefaultLapseAfter, 1, -1) }, rvLapseDue(model.DefaultLapseAfter), nil},
		rvCase{"six-stage/engage=1,bond=2", model.SixStage(model.EngageVisits(1), model.BondPurchases(2)),
			func(f *lifecycle.Facts, now time.Time) stage.ID { return rvSix(f, now, model.DefaultLapseAfter, 1, 2) }, rvLapseDue(model.DefaultLapseAfter), nil},
		rvCase{"six-stage/engage=0,bond=0", model.SixStage(model.EngageVisits(0), model.BondPurchases(0)),
			func(f *lifecycle.Facts, now time.Time) stage.ID { return rvSix(f, now, model.DefaultLapseAfter, 0, 0) }, rvLapseDue(model.DefaultLapseAfter), nil},
	)
	type five struct {
		lapse, nurture time.Duration
		repeat, refs   int64
		promoter       int
	}
	for _, v := range []five{
		{model.DefaultLapseAfter, model.DefaultNurtureAfter, 2, 1, 9},
		{model.DefaultLapseAfter, 0, 2, 1, 9},
		{model.DefaultLapseAfter, -rvD, 3, 2, 11},
		{model.DefaultLapseAfter, 400 * rvD, 2, 1, 0},
		{0, 10 * rvD, 2, 1, 9},
		{0, 400 * rvD, 2, 1, 9},
		{30 * rvD, 30 * rvD, 2, 0, 5},
		{time.Hour, rvD, 2, 1, 9},
		{math.MaxInt64, model.DefaultNurtureAfter, 2, 1, 9},
		{math.MaxInt64, math.MaxInt64, 2, 1, 9},
	} {
		v := v
		m := model.FiveStage(model.LapseAfter(v.lapse), model.NurtureAfter(v.nurture), model.RepeatPurchases(v.repeat),
			model.AdvocateReferrals(v.refs), model.PromoterScore(v.promoter))
		nurture := max(v.nurture, 0)
		if v.lapse > 0 && nurture > v.lapse {
			nurture = v.lapse
		}
		cs = append(cs, rvCase{fmt.Sprintf("five-stage/%+v", v), m,
			func(f *lifecycle.Facts, now time.Time) stage.ID {
				return rvFive(f, now, v.lapse, v.nurture, v.repeat, v.refs, v.promoter)
			},
			func(f *lifecycle.Facts, now time.Time) time.Time {
				t := rvTermsOf(f)
				var lapseAt time.Time
				if v.lapse > 0 && v.lapse != math.MaxInt64 {
					lapseAt = t.lastPurc.Add(v.lapse + 1)
				}
				switch m.Stage(f, now) {
				case model.FiveStageConversion:
					end := t.firstPurchase.Add(nurture)
					if !lapseAt.IsZero() && lapseAt.Before(end) {
						return lapseAt
					}
					return end
				case model.FiveStageRetention, model.FiveStageAdvocacy:
					return lapseAt
				}
				return time.Time{}
			}, []time.Duration{v.lapse, nurture}})
	}
	type fly struct {
		lapse, window time.Duration
		retain, refs  int64
	}
	for _, v := range []fly{
		{flywheel.DefaultLapseAfter, 90 * rvD, 2, 1},
		{0, 90 * rvD, 2, 1},
		{30 * rvD, 0, 3, 2},
		{90 * rvD, 200 * rvD, 2, 1},
		{rvD, 7 * rvD, 1, 0},
	} {
		v := v
		m := flywheel.Model(flywheel.LapseAfter(v.lapse), flywheel.AdvocateWindow(v.window), flywheel.RetainOrders(v.retain), flywheel.AdvocateReferrals(v.refs))
		cs = append(cs, rvCase{fmt.Sprintf("flywheel/%+v", v), m,
			func(f *lifecycle.Facts, now time.Time) stage.ID {
				return rvFly(f, now, v.lapse, v.window, v.retain, v.refs)
			},
			nil, []time.Duration{v.lapse, v.window}})
	}
	// Builder models from the docs.
	renewed := model.Count(lifecycle.SubscriptionRenewed, 1)
	paying := model.Within(35*rvD, lifecycle.SubscriptionRenewed)
	box := model.NewBuilder("subscription-box").
		Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "trial"}, model.Count("box.trial_started", 1)).
		Stage(stage.Stage{ID: "subscriber"}, model.All(renewed, paying)).
		Stage(stage.Stage{ID: "at-risk", Kind: stage.Decline}, model.All(renewed, model.Not(paying))).
		Stage(stage.Stage{ID: "churned", Kind: stage.Exit}, model.All(renewed, model.Not(model.Within(70*rvD, lifecycle.SubscriptionRenewed)))).
		Stage(stage.Stage{ID: "win-back", Kind: stage.WinBack}, model.All(paying, model.Within(60*rvD, lifecycle.SignedUp))).
		Stage(stage.Stage{ID: "veteran"}, model.All(paying, model.Tenure(300*rvD, lifecycle.SubscriptionRenewed))).
		Stage(stage.Stage{ID: "advocate"}, model.All(paying, model.Any(model.Referrals(1), model.Score(9)), model.Not(model.Tenure(380*rvD, lifecycle.OrderCompleted)))).
		MustBuild()
	cs = append(cs, rvCase{"builder/box", box, nil, nil, []time.Duration{35 * rvD, 70 * rvD, 60 * rvD, 300 * rvD, 380 * rvD}})
	return cs
}

// TestReviewBuiltinsMatchPublishedRules compares each built-in with an
// independent implementation of the tables of docs/models.md.
func TestContractBuiltinsMatchPublishedRules(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, c := range rvCases() {
		if c.ref == nil {
			continue
		}
		fails := 0
		for i := 0; i < 400 && fails < 3; i++ {
			f := rvRandomFacts(r, 14)
			nows := []time.Time{rvBase.Add(time.Duration(r.Int64N(int64(800 * rvD))))}
			if !f.Last.IsZero() {
				nows = append(nows, f.Last, f.First, f.Last.Add(time.Duration(r.Int64N(int64(200*rvD)))))
			}
			for _, now := range nows {
				if got, want := c.m.Stage(f, now), c.ref(f, now); got != want {
					fails++
					t.Errorf("%s: Stage = %q, docs say %q, at now=%s for facts %s", c.name, got, want, now.Format(time.RFC3339Nano), rvFmt(f))
				}
			}
		}
	}
}

// TestReviewNextChangeBruteForce: the stage never changes strictly before
// the announced time (brute-force stepping plus every threshold crossing),
// and, for the built-ins, NextChange is the value their docs state.
func TestContractNextChangeBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, c := range rvCases() {
		sch, ok := c.m.(lifecycle.Scheduler)
		if !ok {
			t.Errorf("%s is not a lifecycle.Scheduler", c.name)
			continue
		}
		fails := 0
		for i := 0; i < 150 && fails < 3; i++ {
			f := rvRandomFacts(r, 12)
			if r.IntN(3) == 0 { // the box's custom type
				e := lifecycle.Event{ID: "box", CustomerID: "c", Type: "box.trial_started", Time: rvBase.Add(time.Duration(r.Int64N(int64(300 * rvD))))}
				f.Add(&e)
			}
			now := rvBase.Add(time.Duration(r.Int64N(int64(600 * rvD))))
			if r.IntN(2) == 0 && !f.Last.IsZero() {
				now = f.Last
			}
			due := sch.NextChange(f, now)
			base := c.m.Stage(f, now)
			if c.due != nil {
				if want := c.due(f, now); !want.Equal(due) {
					fails++
					t.Errorf("%s: NextChange = %s, docs say %s (stage %s), at now=%s for facts %s", c.name, rvTs(due), rvTs(want), base, now.Format(time.RFC3339Nano), rvFmt(f))
				}
			}
			if !due.IsZero() && !due.After(now) {
				continue // due now: always right
			}
			// Candidate times: every step of 6 hours for 3 years, and each
			// event time + each threshold, ±1ns.
			var cand []time.Time
			for d := time.Duration(0); d < 3*365*rvD; d += 25 * time.Hour {
				cand = append(cand, now.Add(d))
			}
			for _, tl := range f.Tallies {
				for _, d := range c.ds {
					if d <= 0 || d == math.MaxInt64 {
						continue
					}
					for _, x := range []time.Time{tl.First, tl.Last} {
						cand = append(cand, x.Add(d-1), x.Add(d), x.Add(d+1), x.Add(d+2))
					}
				}
			}
			cand = append(cand, now.Add(time.Nanosecond), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
			for _, tt := range cand {
				if tt.Before(now) || (!due.IsZero() && !tt.Before(due)) {
					continue
				}
				if got := c.m.Stage(f, tt); got != base {
					fails++
					t.Errorf("%s: NextChange(now=%s) = %s, but the stage moves %s → %s at %s: facts %s",
						c.name, now.Format(time.RFC3339Nano), rvTs(due), base, got, tt.Format(time.RFC3339Nano), rvFmt(f))
					break
				}
			}
		}
	}
}

func rvTs(t time.Time) string {
	if t.IsZero() {
		return "zero (never)"
	}
	return t.Format(time.RFC3339Nano)
}

func rvFmt(f *lifecycle.Facts) string {
	s := "{"
	for _, t := range f.Tallies {
		s += fmt.Sprintf(" %s×%d[%s..%s]", t.Type, t.Count, t.First.Format(time.RFC3339Nano), t.Last.Format(time.RFC3339Nano))
	}
	if sc, ok := f.LastScore(); ok {
		s += fmt.Sprintf(" score=%d", sc)
	}
	return s + " }"
}
