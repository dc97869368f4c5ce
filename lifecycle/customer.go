package lifecycle

import (
	"time"

	"github.com/clmkit/clm/stage"
)

// Customer is everything the library keeps about one customer: the facts
// folded from their events, their current stage under the tracker's model,
// the history of stage changes, and the bookkeeping that makes recording
// idempotent and safe under concurrent writers.
type Customer struct {
	// ID is the customer's identifier, as in [Event.CustomerID].
	ID string `json:"id"`
	// Stage is the current stage; Since is when the customer entered it.
	// Both are empty for a pending referrer (see [Customer.PendingReferrer]).
	Stage stage.ID  `json:"stage"`
	Since time.Time `json:"since"`
	// AsOf is the latest of every event time and every sweep time applied
	// to this customer, [ReferralConverted] credits excepted. The stage is
	// computed at the classification time: the later of AsOf and
	// Facts.LastTime(ReferralConverted), the latest referral credit held.
	// (A credit's time can later be lowered, when an earlier order of the
	// referred customer arrives, so it is kept out of AsOf.)
	AsOf time.Time `json:"as_of"`
	// Facts are the customer's folded events.
	Facts Facts `json:"facts"`
	// History lists every stage change, oldest first: the Tracker appends
	// each one dated at or after the one before (see [Tracker]). The first
	// entry has an empty From: the customer entering the model.
	History []Transition `json:"history"`
	// Seen is the set of events applied (see [EventSet]);
	// [ReferralConverted] credits are not in it (their idempotency is
	// Facts.Referrals). Stores that persist whole customers persist it
	// as is; an [Applier] keeps it in its own layout.
	Seen EventSet `json:"seen"`
	// Due is when a [Tracker.Sweep] should next re-classify the customer,
	// because time alone may change their stage then (see [Scheduler]).
	// The zero time means "at any sweep" (the Tracker's model cannot tell,
	// or the customer was stored before this field existed); [Never]
	// means time alone will not move them (a change due at the instant
	// Never itself is stored one nanosecond before it, so that a sweep at
	// Never applies it; one a Scheduler announces after Never, which no
	// sweep can reach, is stored as Never). The Tracker sets it on every write; stores
	// persist it and may index it (see [DueLister]).
	Due time.Time `json:"due"`
	// Version counts successful writes; 0 means never stored. Stores use
	// it for compare-and-swap (see [Store.Put]).
	Version uint64 `json:"version"`
}

// Transition is one stage change in a customer's history.
type Transition struct {
	From stage.ID  `json:"from"`
	To   stage.ID  `json:"to"`
	At   time.Time `json:"at"`
	// Cause is the ID of the event whose recording made the change, or
	// empty when a [Tracker.Sweep] did (time passing).
	Cause string `json:"cause,omitempty"`
}

// Never is the [Customer.Due] of a customer whom time alone will not
// move: the last instant RFC 3339 and every store can hold.
var Never = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

// HasSeen reports whether an event with this ID has been applied, as far
// as c.Seen tells (a customer read from a store fills it). A
// [ReferralConverted] credit is not remembered by ID (see
// [Facts.Referrals]), so its ID ([ReferralEventID]) is seen only where an
// event of the customer's own carried the same ID.
func (c *Customer) HasSeen(eventID string) bool { return c.Seen.Has(eventID) }

// Clone returns a deep copy of c, except that an empty slice comes back
// nil (see [Customer.CopyTo]).
func (c *Customer) Clone() *Customer {
	out := new(Customer)
	c.CopyTo(out)
	return out
}

// CopyTo makes dst a deep copy of c, reusing dst's slices where they are
// large enough, so that copying into a recycled Customer allocates nothing.
// A nil slice of c is nil in dst; an empty one is empty in dst, or nil
// when dst's slice was nil.
func (c *Customer) CopyTo(dst *Customer) {
	tallies, sums, refs, hist, seen := dst.Facts.Tallies, dst.Facts.Sums, dst.Facts.Referrals, dst.History, dst.Seen
	*dst = *c
	dst.Facts.Tallies = copyInto(tallies, c.Facts.Tallies)
	dst.Facts.Sums = copyInto(sums, c.Facts.Sums)
	dst.Facts.Referrals = copyInto(refs, c.Facts.Referrals)
	dst.History = copyInto(hist, c.History)
	dst.Seen = seen
	c.Seen.copyTo(&dst.Seen)
}

func copyInto[T any](dst, src []T) []T {
	if src == nil {
		return nil
	}
	return append(dst[:0], src...)
}

// reset empties c for reuse, keeping its slices' capacity.
func (c *Customer) reset() {
	*c = Customer{
		Facts:   Facts{Tallies: c.Facts.Tallies[:0], Sums: c.Facts.Sums[:0], Referrals: c.Facts.Referrals[:0]},
		History: c.History[:0],
		Seen:    EventSet{keys: c.Seen.keys[:0]},
	}
}

// PendingReferrer reports whether c is a pending referrer: a record that
// holds referral credits ([Facts.Referrals]) but no event of its own
// ([Facts.First] is zero; credits do not set it). The Tracker creates one
// when it credits a referrer it has seen no event of (a customer naming
// it as referrer has converted, and the ID is mistyped, or the referrer's
// own events have not arrived yet), so that the credits are kept for when
// the referrer's first event arrives.
// Until then it is not a customer: the Tracker does not classify it (its
// Stage stays empty, its History empty, no hook is called, it is never due
// for a sweep), and analytics leave it out of stage counts, funnels and
// cohorts (see lifecycle/funnel, model.Classify, flywheel.Measure). A
// record written by an earlier version of the library may have a Stage;
// it is left out all the same.
func (c *Customer) PendingReferrer() bool {
	return c.Facts.First.IsZero() && len(c.Facts.Referrals) > 0
}

// ClassifiedAt returns the customer's classification time, at which the
// Tracker computes their stage: the later of AsOf and
// Facts.LastTime(ReferralConverted).
func (c *Customer) ClassifiedAt() time.Time {
	if at := c.Facts.LastTime(ReferralConverted); at.After(c.AsOf) {
		return at
	}
	return c.AsOf
}
