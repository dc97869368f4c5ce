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
)

// summary is what the built-ins need from the facts, gathered in one pass
// over the tallies so that classification does not allocate.
type summary struct {
	has                      kind // standard types with at least one event
	completed, refunded      int64
	renewed, visits, refs    int64
	firstOrder, lastOrder    time.Time
	firstRenewal, lastRenew  time.Time
	lastCancel               time.Time
	lastTicket, lastResolved time.Time
}

func summarize(f *lifecycle.Facts) (s summary) {
	for i := range f.Tallies {
		t := &f.Tallies[i]
		if t.Count <= 0 {
			continue
		}
		switch t.Type {
		case lifecycle.AdImpression:
			s.has |= kAdImpression
		case lifecycle.SiteVisited:
			s.has |= kSiteVisited
			s.visits = t.Count
		case lifecycle.ContentViewed:
			s.has |= kContentViewed
		case lifecycle.ContentDownloaded:
			s.has |= kContentDownloaded
		case lifecycle.SignedUp:
			s.has |= kSignedUp
		case lifecycle.NewsletterSubscribed:
			s.has |= kNewsletterSubscribed
		case lifecycle.InquirySent:
			s.has |= kInquirySent
		case lifecycle.ChatStarted:
			s.has |= kChatStarted
		case lifecycle.ProductViewed:
			s.has |= kProductViewed
		case lifecycle.CartAdded:
			s.has |= kCartAdded
		case lifecycle.CheckoutStarted:
			s.has |= kCheckoutStarted
		case lifecycle.OrderCompleted:
			s.has |= kOrderCompleted
			s.completed, s.firstOrder, s.lastOrder = t.Count, t.First, t.Last
		case lifecycle.OrderRefunded:
			s.has |= kOrderRefunded
			s.refunded = t.Count
		case lifecycle.SubscriptionRenewed:
			s.has |= kSubscriptionRenewed
			s.renewed, s.firstRenewal, s.lastRenew = t.Count, t.First, t.Last
		case lifecycle.SubscriptionCancelled:
			s.has |= kSubscriptionCancelled
			s.lastCancel = t.Last
		case lifecycle.TicketOpened:
			s.has |= kTicketOpened
			s.lastTicket = t.Last
		case lifecycle.TicketResolved:
			s.has |= kTicketResolved
			s.lastResolved = t.Last
		case lifecycle.SurveyAnswered:
			s.has |= kSurveyAnswered
		case lifecycle.ReviewPosted:
			s.has |= kReviewPosted
		case lifecycle.SocialShared:
			s.has |= kSocialShared
		case lifecycle.ReferralMade:
			s.has |= kReferralMade
		case lifecycle.LoyaltyJoined:
			s.has |= kLoyaltyJoined
		case lifecycle.ReferralConverted:
			s.has |= kReferralConverted
			s.refs = t.Count
		}
	}
	return s
}

// purchases returns the net purchases: completed orders less refunded ones
// (never below zero) plus subscription renewals, saturating at MaxInt64.
func (s *summary) purchases() int64 {
	n := max(s.completed-s.refunded, 0) // both are positive: no overflow
	if s.renewed > math.MaxInt64-n {
		return math.MaxInt64
	}
	return n + s.renewed
}

// everBought reports an order or a renewal, refunded or not.
func (s *summary) everBought() bool {
	return s.has&(kOrderCompleted|kSubscriptionRenewed) != 0
}

// firstPurchase is the earliest order or renewal, refunded or not.
func (s *summary) firstPurchase() time.Time {
	switch {
	case s.has&kOrderCompleted == 0:
		return s.firstRenewal
	case s.has&kSubscriptionRenewed == 0:
		return s.firstOrder
	case s.firstRenewal.Before(s.firstOrder):
		return s.firstRenewal
	}
	return s.firstOrder
}

// lastPurchase is the latest order or renewal, refunded or not.
func (s *summary) lastPurchase() time.Time {
	if s.lastRenew.After(s.lastOrder) {
		return s.lastRenew
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
