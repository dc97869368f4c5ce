package model

import (
	"math"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// kind is a bit per standard event type, for the built-ins' event sets.
type kind uint32

const (
	kAdImpression kind = 1 << iota
	kSiteVisited
	kContentViewed
	kContentDownloaded
	kSignedUp
	kNewsletterSubscribed
	kInquirySent
	kChatStarted
	kProductViewed
	kCartAdded
	kCheckoutStarted
	kOrderCompleted
	kOrderRefunded
	kSubscriptionRenewed
	kSubscriptionCancelled
	kTicketOpened
	kTicketResolved
	kSurveyAnswered
	kReviewPosted
	kSocialShared
	kReferralMade
	kLoyaltyJoined
	kReferralConverted
	kSubscriptionStarted
)

// summary is what the built-ins need from the facts, gathered in one pass
// over the tallies so that classification does not allocate.
type summary struct {
	has                      kind // standard types with at least one event
	completed, refunded      int64
	subs                     int64 // subscription starts and renewals, saturating
	visits, refs             int64
	firstOrder, lastOrder    time.Time
	firstSub, lastSub        time.Time // of subscription starts and renewals together
	lastCancel               time.Time
	lastTicket, lastResolved time.Time
}

// kinds maps a standard event type to its bit through a collision-free
// hash of its length, first byte and fourth byte from the end (checked at
// init and by TestKinds), so that summarize costs one string comparison
// per tally. Every type of lifecycle.StandardTypes must be here, in the
// order of the k constants (TestKinds checks that too): adding a standard
// type means a constant above and an entry here, and, if the hash then
// collides, new multipliers in slot and summarize (TestKinds names the
// colliding types).
var kinds [64]struct {
	t lifecycle.EventType
	k kind
}

// kindOrder lists the standard types in the order of their k constants.
var kindOrder = []lifecycle.EventType{
	lifecycle.AdImpression, lifecycle.SiteVisited, lifecycle.ContentViewed, lifecycle.ContentDownloaded,
	lifecycle.SignedUp, lifecycle.NewsletterSubscribed, lifecycle.InquirySent, lifecycle.ChatStarted,
	lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.CheckoutStarted, lifecycle.OrderCompleted,
	lifecycle.OrderRefunded, lifecycle.SubscriptionRenewed, lifecycle.SubscriptionCancelled,
	lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.SurveyAnswered, lifecycle.ReviewPosted,
	lifecycle.SocialShared, lifecycle.ReferralMade, lifecycle.LoyaltyJoined, lifecycle.ReferralConverted,
	lifecycle.SubscriptionStarted,
}

// slot hashes a type of at least 4 bytes (every standard type is longer;
// summarize skips shorter ones, which are custom). It is written out in
// summarize too, where the compiler then checks no bound.
func slot(t lifecycle.EventType) int {
	return (len(t) + int(t[0])*5 + int(t[len(t)-4])<<3) & 63
}

func init() {
	for i, t := range kindOrder {
		e := &kinds[slot(t)]
		if e.t != "" {
			panic("model: event types " + string(e.t) + " and " + string(t) + " share a slot: change the multipliers in slot and summarize")
		}
		e.t, e.k = t, kind(1)<<i
	}
}

func summarize(f *lifecycle.Facts) (s summary) {
	for i := range f.Tallies {
		t := &f.Tallies[i]
		ty := t.Type
		if t.Count <= 0 || len(ty) < 4 {
			continue
		}
		// slot(ty), written out so that the compiler sees len(ty) ≥ 4 and
		// checks no bound.
		e := &kinds[(len(ty)+int(ty[0])*5+int(ty[len(ty)-4])<<3)&63]
		if e.t != t.Type {
			continue // a custom type
		}
		s.has |= e.k
		switch e.k {
		case kSiteVisited:
			s.visits = t.Count
		case kOrderCompleted:
			s.completed, s.firstOrder, s.lastOrder = t.Count, t.First, t.Last
		case kOrderRefunded:
			s.refunded = t.Count
		case kSubscriptionRenewed, kSubscriptionStarted:
			if s.subs == 0 { // the first of the two
				s.subs, s.firstSub, s.lastSub = t.Count, t.First, t.Last
				break
			}
			s.subs = min(s.subs, math.MaxInt64-t.Count) + t.Count // saturating: both are positive
			if t.First.Before(s.firstSub) {
				s.firstSub = t.First
			}
			if t.Last.After(s.lastSub) {
				s.lastSub = t.Last
			}
		case kSubscriptionCancelled:
			s.lastCancel = t.Last
		case kTicketOpened:
			s.lastTicket = t.Last
		case kTicketResolved:
			s.lastResolved = t.Last
		case kReferralConverted:
			s.refs = t.Count
		}
	}
	return s
}

// purchases returns the net purchases: completed orders less refunded ones
// (never below zero) plus subscription starts and renewals, saturating at
// MaxInt64.
func (s *summary) purchases() int64 {
	n := max(s.completed-s.refunded, 0) // both are positive: no overflow
	if s.subs > math.MaxInt64-n {
		return math.MaxInt64
	}
	return n + s.subs
}

// purchased is every standard type that is a purchase.
const purchased = kOrderCompleted | kSubscriptionRenewed | kSubscriptionStarted

// everBought reports an order, a subscription start or a renewal,
// refunded or not.
func (s *summary) everBought() bool {
	return s.has&purchased != 0
}

// subscribed are the subscription types: starts and renewals.
const subscribed = kSubscriptionRenewed | kSubscriptionStarted

// firstPurchase is the earliest order, subscription start or renewal,
// refunded or not.
func (s *summary) firstPurchase() time.Time {
	switch {
	case s.has&kOrderCompleted == 0:
		return s.firstSub
	case s.has&subscribed == 0:
		return s.firstOrder
	case s.firstSub.Before(s.firstOrder):
		return s.firstSub
	}
	return s.firstOrder
}

// lastPurchase is the latest order, subscription start or renewal,
// refunded or not.
func (s *summary) lastPurchase() time.Time {
	if s.lastSub.After(s.lastOrder) {
		return s.lastSub
	}
	return s.lastOrder
}

// active reports a buyer in good standing at now: at least one net
// purchase, the last purchase no more than lapse before now (lapse 0:
// never lapses), and no subscription cancellation after it.
func (s *summary) active(now time.Time, lapse time.Duration) bool {
	if s.purchases() < 1 {
		return false
	}
	last := s.lastPurchase()
	if s.lastCancel.After(last) {
		return false
	}
	return lapse <= 0 || now.Sub(last) <= lapse
}

// ticketOpen reports a support ticket opened after the last resolution.
func (s *summary) ticketOpen() bool {
	return s.has&kTicketOpened != 0 && s.lastTicket.After(s.lastResolved)
}
