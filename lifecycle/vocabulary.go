package lifecycle

import (
	"strconv"

	"github.com/clmkit/clm/internal/typeindex"
)

// EventKind says what a standard event type is to the facts and the
// built-in models: the built-ins read a customer's events by kind, never
// by name, so a standard type added to the vocabulary with a kind is read
// by every model as the other types of its kind are. A custom type has
// kind 0 ([EventType.Kind]).
type EventKind uint8

// The kinds of the standard event types (see [Vocabulary]).
const (
	KindExposure       EventKind = iota + 1 // the person was shown something or looked at it: ad_impression, content_viewed
	KindVisit                               // a visit to the shop: site_visited (the built-ins count visits)
	KindEngagement                          // the person engaged with the shop: signed_up, newsletter_subscribed, content_downloaded, inquiry_sent, chat_started, loyalty_joined
	KindConsideration                       // the person weighed a purchase: product_viewed, cart_added, checkout_started
	KindOrder                               // an order, a purchase: order_completed
	KindRefund                              // an order refunded, which undoes one: order_refunded
	KindSubscription                        // a subscription payment, a purchase: subscription_started, subscription_renewed
	KindCancellation                        // a subscription cancelled: subscription_cancelled
	KindTicketOpened                        // a support ticket opened: ticket_opened
	KindTicketResolved                      // a support ticket resolved: ticket_resolved
	KindAdvocacy                            // the customer spoke about or for the shop: survey_answered, review_posted, social_shared, referral_made
	KindReferralCredit                      // a referral credit, recorded by the Tracker: referral_converted
	numKinds                                // one past the last kind
)

var kindNames = [numKinds]string{
	"", "exposure", "visit", "engagement", "consideration", "order", "refund",
	"subscription", "cancellation", "ticket_opened", "ticket_resolved", "advocacy", "referral_credit",
}

// String returns the kind's snake_case name ("order", "ticket_opened"),
// "custom" for 0 and "EventKind(n)" for a value that is not a kind.
func (k EventKind) String() string {
	switch {
	case k == 0:
		return "custom"
	case k < numKinds:
		return kindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Purchase reports whether events of kind k are purchases: orders and
// subscription payments.
func (k EventKind) Purchase() bool { return k == KindOrder || k == KindSubscription }

// StandardType is a row of the standard vocabulary: a type and its kind.
type StandardType struct {
	Type EventType // the type's name
	Kind EventKind // what it is to the facts and the built-in models
}

// Vocabulary returns the standard event vocabulary, each type with its
// kind, in the order of [StandardTypes]: a copy of the one table that
// validation, [EventType.Kind] and the built-in models read.
func Vocabulary() []StandardType {
	out := make([]StandardType, len(vocabulary))
	copy(out, vocabulary[:])
	return out
}

// StandardTypes returns the standard event vocabulary in a fixed order.
func StandardTypes() []EventType {
	out := make([]EventType, len(vocabulary))
	for i, v := range vocabulary {
		out[i] = v.Type
	}
	return out
}

// Standard reports whether t is in the standard vocabulary.
func (t EventType) Standard() bool { return t.Kind() != 0 }

// Kind returns the kind of a standard type, or 0 for any other type.
func (t EventType) Kind() EventKind { return stdIndex.kind(t) }

// stdIndex looks the standard types up by name: a table laid out at init
// by [typeindex.Find] from vocabulary.
var stdIndex = newTypeIndex(vocabulary[:])

type typeIndex struct {
	slots [typeindex.Size]struct {
		t    EventType
		k    EventKind
		more bool // a type on the slow path has this slot
	}
	rest []StandardType // the types typeindex could not place
}

func newTypeIndex(vocab []StandardType) typeIndex {
	names := make([]string, len(vocab))
	for i, v := range vocab {
		names[i] = string(v.Type)
	}
	l := typeindex.Find(names)
	var x typeIndex
	for i, s := range l.Slots {
		if s < 0 {
			x.rest = append(x.rest, vocab[i])
			continue
		}
		x.slots[s].t, x.slots[s].k = vocab[i].Type, vocab[i].Kind
	}
	for s, m := range l.Marked {
		x.slots[s].more = m
	}
	return x
}

// kind returns the kind of t, 0 when t is not in the table.
func (x *typeIndex) kind(t EventType) EventKind {
	if len(t) >= 4 {
		// typeindex.Slot, written out so that the compiler sees len(t) ≥ 4
		// and checks no bound.
		e := &x.slots[(len(t)+int(t[0])*5+int(t[len(t)-4])<<3)&(typeindex.Size-1)]
		if e.t == t {
			return e.k
		}
		if !e.more {
			return 0
		}
	}
	return x.slow(t)
}

// slow finds t among the types typeindex could not place.
func (x *typeIndex) slow(t EventType) EventKind {
	for _, v := range x.rest {
		if v.Type == t {
			return v.Kind
		}
	}
	return 0
}
