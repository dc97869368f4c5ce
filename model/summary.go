package model

import (
	"math"
	"strconv"
	"time"

	"github.com/clmkit/clm/internal/numeric"
	"github.com/clmkit/clm/internal/typeindex"
	"github.com/clmkit/clm/lifecycle"
)

// kind is a bit per kind of standard event type ([lifecycle.EventKind]),
// for the built-ins' event sets: model reads a customer's events by kind,
// never by name, so a type added to lifecycle's vocabulary is read here
// with the others of its kind, with no edit in this package.
type kind uint32

// The bits of the kinds.
const (
	kExposure       kind = 1 << lifecycle.KindExposure
	kVisit          kind = 1 << lifecycle.KindVisit
	kEngagement     kind = 1 << lifecycle.KindEngagement
	kConsideration  kind = 1 << lifecycle.KindConsideration
	kOrder          kind = 1 << lifecycle.KindOrder
	kRefund         kind = 1 << lifecycle.KindRefund
	kSubscription   kind = 1 << lifecycle.KindSubscription
	kCancellation   kind = 1 << lifecycle.KindCancellation
	kTicketOpened   kind = 1 << lifecycle.KindTicketOpened
	kTicketResolved kind = 1 << lifecycle.KindTicketResolved
	kAdvocacy       kind = 1 << lifecycle.KindAdvocacy
	kReferralCredit kind = 1 << lifecycle.KindReferralCredit
)

// summary is what the built-ins need from the facts, gathered in one pass
// over the tallies so that classification does not allocate. Several
// standard types of one kind add up: counts saturate, firsts take the
// earliest, lasts the latest.
type summary struct {
	has                      kind // kinds with at least one event
	completed, refunded      int64
	subs                     int64 // subscription payments (starts and renewals), saturating
	visits, refs             int64
	firstOrder, lastOrder    time.Time
	firstSub, lastSub        time.Time // of subscription payments
	lastCancel               time.Time
	lastTicket, lastResolved time.Time
}

// kinds looks a standard event type up by name, so that summarize costs
// one string comparison per tally: a table laid out at init by
// typeindex.Find from lifecycle's vocabulary (lifecycle.Vocabulary), the
// one list of standard types and their kinds. This package has no list
// of its own: TestKindsFromVocabulary adds types to a copy of the
// vocabulary and checks they are read by their kind.
var kinds = newKindIndex(lifecycle.Vocabulary())

// kindIndex is the layout of kinds.
type kindIndex struct {
	slots [typeindex.Size]kindEntry
	// rest holds the types typeindex could not place, each with the
	// alias it is read as: a name in a free slot, of the same kind.
	rest []alias
}

type kindEntry struct {
	t lifecycle.EventType
	k kind
}

type alias struct{ t, as lifecycle.EventType }

func newKindIndex(vocab []lifecycle.StandardType) kindIndex {
	names := make([]string, len(vocab))
	for i, v := range vocab {
		names[i] = string(v.Type)
	}
	l := typeindex.Find(names)
	var x kindIndex
	for i, s := range l.Slots {
		if s >= 0 {
			x.slots[s] = kindEntry{t: vocab[i].Type, k: kind(1) << vocab[i].Kind}
		}
	}
	as := map[lifecycle.EventKind]lifecycle.EventType{}
	for i, s := range l.Slots {
		if s >= 0 {
			continue
		}
		k := vocab[i].Kind
		if _, ok := as[k]; !ok {
			free := typeindex.Free(l)
			if free < 0 {
				panic("model: more than " + strconv.Itoa(typeindex.Size-len(as)-1) + " standard event types: raise typeindex.Size")
			}
			name := lifecycle.EventType(typeindex.Alias(free))
			x.slots[free] = kindEntry{t: name, k: kind(1) << k}
			l.Slots = append(l.Slots, free) // taken
			as[k] = name
		}
		x.rest = append(x.rest, alias{vocab[i].Type, as[k]})
	}
	return x
}

// aliased returns a copy of ts with each standard type that has no slot
// of its own replaced by its alias. It allocates, but only for a
// vocabulary with such types (TestVocabularyPlaced in lifecycle keeps the
// standard one free of them).
func aliased(ts []lifecycle.Tally) []lifecycle.Tally {
	c := make([]lifecycle.Tally, len(ts))
	copy(c, ts)
	for i := range c {
		for _, a := range kinds.rest {
			if c[i].Type == a.t {
				c[i].Type = a.as
			}
		}
	}
	return c
}

// summarize gathers the summary of f into *s, which must be zero, in one
// pass over its tallies. (It fills the caller's summary rather than
// returning one: the summary is over 200 bytes.)
func summarize(f *lifecycle.Facts, s *summary) {
	ts := f.Tallies
	if kinds.rest != nil {
		ts = aliased(ts)
	}
	for i := range ts {
		t := &ts[i]
		ty := t.Type
		if t.Count <= 0 || len(ty) < 4 {
			continue
		}
		// typeindex.Slot, written out so that the compiler sees len(ty) ≥ 4
		// and checks no bound.
		e := &kinds.slots[(len(ty)+int(ty[0])*5+int(ty[len(ty)-4])<<3)&(typeindex.Size-1)]
		if e.t != ty {
			continue // a custom type
		}
		k := e.k
		switch k {
		case kVisit:
			s.visits = numeric.AddSat(s.visits, t.Count)
		case kOrder:
			if s.has&kOrder == 0 {
				s.completed, s.firstOrder, s.lastOrder = t.Count, t.First, t.Last
				break
			}
			s.completed = numeric.AddSat(s.completed, t.Count)
			span(&s.firstOrder, &s.lastOrder, t)
		case kRefund:
			s.refunded = numeric.AddSat(s.refunded, t.Count)
		case kSubscription:
			if s.has&kSubscription == 0 {
				s.subs, s.firstSub, s.lastSub = t.Count, t.First, t.Last
				break
			}
			s.subs = numeric.AddSat(s.subs, t.Count)
			span(&s.firstSub, &s.lastSub, t)
		case kCancellation:
			later(&s.lastCancel, s.has&kCancellation != 0, t.Last)
		case kTicketOpened:
			later(&s.lastTicket, s.has&kTicketOpened != 0, t.Last)
		case kTicketResolved:
			later(&s.lastResolved, s.has&kTicketResolved != 0, t.Last)
		case kReferralCredit:
			s.refs = numeric.AddSat(s.refs, t.Count)
		}
		s.has |= k
	}
}

// span widens first..last to take in the tally's first and last times.
func span(first, last *time.Time, t *lifecycle.Tally) {
	if t.First.Before(*first) {
		*first = t.First
	}
	if t.Last.After(*last) {
		*last = t.Last
	}
}

// later sets *last to at when nothing was there yet (seen is false) or at
// is later.
func later(last *time.Time, seen bool, at time.Time) {
	if !seen || at.After(*last) {
		*last = at
	}
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

// purchased is every kind that is a purchase (lifecycle.EventKind.Purchase).
const purchased = kOrder | kSubscription

// everBought reports an order, a subscription start or a renewal,
// refunded or not.
func (s *summary) everBought() bool {
	return s.has&purchased != 0
}

// subscribed is the kind of subscription payments: starts and renewals.
const subscribed = kSubscription

// firstPurchase is the earliest order, subscription start or renewal,
// refunded or not.
func (s *summary) firstPurchase() time.Time {
	switch {
	case s.has&kOrder == 0:
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
	switch {
	case s.has&kOrder == 0:
		return s.lastSub
	case s.has&subscribed == 0:
		return s.lastOrder
	case s.lastSub.After(s.lastOrder):
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
	if s.has&kCancellation != 0 && s.lastCancel.After(last) {
		return false
	}
	return lapse <= 0 || within(now, last, lapse)
}

// within reports now.Sub(last) <= d for d > 0, without Sub's own check
// for overflow (Sub saturates past about 292 years, and only the largest
// d is reached by a saturated difference).
func within(now, last time.Time, d time.Duration) bool {
	if d == math.MaxInt64 || !exact(last) {
		return now.Sub(last) <= d
	}
	return !now.After(last.Add(d))
}

// ticketOpen reports a support ticket opened after the last resolution.
func (s *summary) ticketOpen() bool {
	return s.has&kTicketOpened != 0 && (s.has&kTicketResolved == 0 || s.lastTicket.After(s.lastResolved))
}
