package flywheel_test

// Tests of flywheel.Model, written from its doc comment,
// README.md and docs/flywheel.md only.

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

const zrfDay = 24 * time.Hour

var zrfNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

type zrfEv struct {
	typ   lifecycle.EventType
	at    time.Time
	score int
	ref   string
}

func zrfE(t lifecycle.EventType, at time.Time) zrfEv { return zrfEv{typ: t, at: at} }
func zrfCredit(at time.Time, who string) zrfEv {
	return zrfEv{typ: lifecycle.ReferralConverted, at: at, ref: who}
}

func zrfFacts(evs ...zrfEv) *lifecycle.Facts {
	f := &lifecycle.Facts{}
	for i, e := range evs {
		ev := lifecycle.Event{ID: fmt.Sprintf("e%d", i), CustomerID: "c", Type: e.typ, Time: e.at}
		switch e.typ {
		case lifecycle.SurveyAnswered:
			ev.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(e.score)}
		case lifecycle.ReferralConverted:
			ev.ID = lifecycle.ReferralEventID(e.ref)
			ev.Attrs = map[string]string{lifecycle.ReferredIDAttr: e.ref}
		}
		f.Add(&ev)
	}
	return f
}

func TestContractFlywheelStages(t *testing.T) {
	n := zrfNow
	o := lifecycle.OrderCompleted
	fw := flywheel.Model()
	cases := []struct {
		name string
		m    lifecycle.Model
		evs  []zrfEv
		want stage.ID
	}{
		{"no facts", fw, nil, flywheel.Engage},
		{"visit, view, ad", fw, []zrfEv{zrfE(lifecycle.SiteVisited, n), zrfE(lifecycle.ProductViewed, n), zrfE(lifecycle.AdImpression, n)}, flywheel.Engage},
		{"signed up", fw, []zrfEv{zrfE(lifecycle.SignedUp, n)}, flywheel.Acquire},
		{"newsletter", fw, []zrfEv{zrfE(lifecycle.NewsletterSubscribed, n)}, flywheel.Acquire},
		{"cart", fw, []zrfEv{zrfE(lifecycle.CartAdded, n)}, flywheel.Acquire},
		{"checkout", fw, []zrfEv{zrfE(lifecycle.CheckoutStarted, n)}, flywheel.Acquire},
		{"inquiry", fw, []zrfEv{zrfE(lifecycle.InquirySent, n)}, flywheel.Acquire},
		{"chat", fw, []zrfEv{zrfE(lifecycle.ChatStarted, n)}, flywheel.Acquire},
		{"loyalty", fw, []zrfEv{zrfE(lifecycle.LoyaltyJoined, n)}, flywheel.Acquire},
		{"every order refunded", fw, []zrfEv{zrfE(o, n), zrfE(lifecycle.OrderRefunded, n)}, flywheel.Acquire},
		{"one order", fw, []zrfEv{zrfE(o, n)}, flywheel.Nurture},
		{"one order at exactly LapseAfter", fw, []zrfEv{zrfE(o, n.Add(-flywheel.DefaultLapseAfter))}, flywheel.Nurture},
		{"one order 1ns past LapseAfter, signed up", fw, []zrfEv{zrfE(lifecycle.SignedUp, n), zrfE(o, n.Add(-flywheel.DefaultLapseAfter-1))}, flywheel.Engage},
		{"two orders", fw, []zrfEv{zrfE(o, n.Add(-zrfDay)), zrfE(o, n)}, flywheel.Retain},
		{"one order + review 90d ago", fw, []zrfEv{zrfE(o, n), zrfE(lifecycle.ReviewPosted, n.Add(-90*zrfDay))}, flywheel.Advocate},
		{"one order + review 90d+1ns ago", fw, []zrfEv{zrfE(o, n), zrfE(lifecycle.ReviewPosted, n.Add(-90*zrfDay-1))}, flywheel.Nurture},
		{"one order + share", fw, []zrfEv{zrfE(o, n), zrfE(lifecycle.SocialShared, n)}, flywheel.Advocate},
		{"one order + invitation", fw, []zrfEv{zrfE(o, n), zrfE(lifecycle.ReferralMade, n)}, flywheel.Advocate},
		{"one order + credit", fw, []zrfEv{zrfE(o, n), zrfCredit(n, "x")}, flywheel.Advocate},
		{"review, no order", fw, []zrfEv{zrfE(lifecycle.ReviewPosted, n), zrfCredit(n, "x")}, flywheel.Engage},
		{"lapsed advocate", fw, []zrfEv{zrfE(o, n.Add(-200*zrfDay)), zrfCredit(n, "x"), zrfE(lifecycle.ReviewPosted, n)}, flywheel.Engage},
		{"subscription only", fw, []zrfEv{zrfE(lifecycle.SubscriptionStarted, n), zrfE(lifecycle.SubscriptionRenewed, n)}, flywheel.Engage},
		{"old order + recent renewal (renewals do not keep active)", fw, []zrfEv{zrfE(o, n.Add(-200*zrfDay)), zrfE(lifecycle.SubscriptionRenewed, n)}, flywheel.Engage},
		{"AdvocateWindow(0): review now", flywheel.Model(flywheel.AdvocateWindow(0)), []zrfEv{zrfE(o, n), zrfE(lifecycle.ReviewPosted, n)}, flywheel.Nurture},
		{"AdvocateWindow(-1): review now", flywheel.Model(flywheel.AdvocateWindow(-1)), []zrfEv{zrfE(o, n), zrfE(lifecycle.ReviewPosted, n)}, flywheel.Nurture},
		{"AdvocateReferrals(0) → 1: no credit", flywheel.Model(flywheel.AdvocateReferrals(0), flywheel.AdvocateWindow(0)), []zrfEv{zrfE(o, n)}, flywheel.Nurture},
		{"AdvocateReferrals(MinInt64): no credit", flywheel.Model(flywheel.AdvocateReferrals(math.MinInt64), flywheel.AdvocateWindow(0)), []zrfEv{zrfE(o, n)}, flywheel.Nurture},
		{"AdvocateReferrals(2): one credit", flywheel.Model(flywheel.AdvocateReferrals(2)), []zrfEv{zrfE(o, n), zrfCredit(n, "x")}, flywheel.Nurture},
		{"RetainOrders(1) → 2: one order", flywheel.Model(flywheel.RetainOrders(1)), []zrfEv{zrfE(o, n)}, flywheel.Nurture},
		{"RetainOrders(MinInt64): one order", flywheel.Model(flywheel.RetainOrders(math.MinInt64)), []zrfEv{zrfE(o, n)}, flywheel.Nurture},
		{"LapseAfter(0): ancient order", flywheel.Model(flywheel.LapseAfter(0)), []zrfEv{zrfE(o, n.Add(-9000*zrfDay))}, flywheel.Nurture},
		{"LapseAfter(MaxInt64): order in 1900", flywheel.Model(flywheel.LapseAfter(math.MaxInt64)), []zrfEv{zrfE(o, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))}, flywheel.Nurture},
	}
	for _, c := range cases {
		f := zrfFacts(c.evs...)
		var got stage.ID
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", c.name, r)
				}
			}()
			got = c.m.Stage(f, n)
		}()
		if got != c.want {
			t.Errorf("%s: Stage = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestContractFlywheelRegistryAndGraph(t *testing.T) {
	m, err := model.Lookup("flywheel")
	if err != nil || m.Name() != "flywheel" {
		t.Fatalf("Lookup(flywheel) = %v, %v", m, err)
	}
	g := flywheel.Graph()
	if !g.Allows(flywheel.Advocate, flywheel.Engage) {
		t.Error("graph lacks advocate → engage")
	}
	for _, e := range g.Edges() {
		if e.From == flywheel.Advocate && e.To == flywheel.Engage && e.Kind != stage.Loop {
			t.Errorf("advocate → engage is %v, want loop", e.Kind)
		}
	}
	if got := g.IDs(); len(got) != 5 || got[0] != flywheel.Engage || got[4] != flywheel.Advocate {
		t.Errorf("IDs = %v", got)
	}
}

func TestContractFlywheelNextChangeDocumented(t *testing.T) {
	o := lifecycle.OrderCompleted
	last := zrfNow.Add(-10 * zrfDay)
	fw := flywheel.Model()
	s := fw.(lifecycle.Scheduler)
	one := zrfFacts(zrfE(o, last))
	if got, want := s.NextChange(one, zrfNow), last.Add(flywheel.DefaultLapseAfter+1); !got.Equal(want) {
		t.Errorf("active buyer: NextChange = %v, want %v", got, want)
	}
	rev := last.Add(zrfDay)
	adv := zrfFacts(zrfE(o, last), zrfE(lifecycle.ReviewPosted, rev))
	if got, want := s.NextChange(adv, zrfNow), rev.Add(flywheel.DefaultAdvocateWindow+1); !got.Equal(want) {
		t.Errorf("advocate by review: NextChange = %v, want %v", got, want)
	}
	if got := s.NextChange(zrfFacts(zrfE(lifecycle.SignedUp, last)), zrfNow); !got.IsZero() {
		t.Errorf("lead: NextChange = %v, want never", got)
	}
	never := flywheel.Model(flywheel.LapseAfter(0), flywheel.AdvocateWindow(0)).(lifecycle.Scheduler)
	if got := never.NextChange(adv, zrfNow); !got.IsZero() {
		t.Errorf("never lapsing, no window: NextChange = %v, want never", got)
	}
}

// NextChange versus brute-force stepping of the clock.
func TestContractFlywheelNextChangeBruteForce(t *testing.T) {
	models := []lifecycle.Model{
		flywheel.Model(),
		flywheel.Model(flywheel.LapseAfter(3*zrfDay), flywheel.AdvocateWindow(5*zrfDay)),
		flywheel.Model(flywheel.LapseAfter(5*zrfDay), flywheel.AdvocateWindow(2*zrfDay)),
		flywheel.Model(flywheel.LapseAfter(0), flywheel.AdvocateWindow(2*zrfDay)),
		flywheel.Model(flywheel.AdvocateWindow(math.MaxInt64)),
	}
	types := []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.OrderRefunded,
		lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.ReferralMade, lifecycle.ReferralConverted, lifecycle.SignedUp}
	ds := []time.Duration{2 * zrfDay, 3 * zrfDay, 5 * zrfDay, flywheel.DefaultLapseAfter, flywheel.DefaultAdvocateWindow}
	r := rand.New(rand.NewPCG(5, 8))
	for _, m := range models {
		s := m.(lifecycle.Scheduler)
		fails := 0
		for i := 0; i < 3000 && fails < 3; i++ {
			var evs []zrfEv
			for k := range r.IntN(6) {
				e := zrfE(types[r.IntN(len(types))], zrfNow.Add(time.Duration(r.Int64N(int64(20*zrfDay)))))
				e.ref = fmt.Sprintf("r%d", k)
				evs = append(evs, e)
			}
			f := zrfFacts(evs...)
			now := zrfNow.Add(20 * zrfDay)
			if !f.Last.IsZero() {
				now = f.Last.Add(time.Duration(r.Int64N(int64(10 * zrfDay))))
			}
			T := s.NextChange(f, now)
			if !T.IsZero() && !T.After(now) {
				continue
			}
			at := m.Stage(f, now)
			probes := []time.Time{now.Add(1), now.Add(1000 * zrfDay), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
			for _, tl := range f.Tallies {
				for _, b := range []time.Time{tl.First, tl.Last} {
					for _, d := range ds {
						probes = append(probes, b.Add(d-1), b.Add(d), b.Add(d+1))
					}
				}
			}
			for _, p := range probes {
				if p.Before(now) || (!T.IsZero() && !p.Before(T)) {
					continue
				}
				if got := m.Stage(f, p); got != at {
					fails++
					t.Errorf("%s at %v, NextChange %v, but %s at %v; facts %+v", at, now, T, got, p, f.Tallies)
					break
				}
			}
		}
	}
}
