package lifecycle

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/internal/numeric"
)

// Tally is what the facts hold about one event type: how many events of it
// (saturating at math.MaxInt64 instead of overflowing), and the first and
// last time one happened.
type Tally struct {
	Type  EventType `json:"type"`
	Count int64     `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Sum is the money carried by one event type in one currency, in minor
// units. Amount saturates at math.MaxInt64 instead of overflowing, so it
// is never negative and, like every aggregate, does not depend on the
// order events arrive in.
type Sum struct {
	Type     EventType `json:"type"`
	Currency string    `json:"currency"`
	Amount   int64     `json:"amount"`
}

// Referral is one referral credit a customer holds: a customer they
// referred who converted (see [ReferralConverted]).
type Referral struct {
	// Customer is the referred customer: the credit's
	// Attrs[ReferredIDAttr]; when that is absent or empty, the ID that the event's
	// ID is the [ReferralEventID] of, or else the event ID itself.
	Customer string `json:"customer"`
	// At is the earliest time among the credits received for Customer.
	At time.Time `json:"at"`
}

// Facts are a customer's events folded into commutative aggregates: counts,
// first and last times and money sums per event type, who referred them,
// their last survey score and the referral credits they hold. Because every
// aggregate is commutative, the facts do not depend on the order events
// arrive in. Times are held in UTC.
//
// Models read facts through the methods; the fields are exported so that
// stores can persist them (the JSON form is stable).
type Facts struct {
	// First and Last are the times of the earliest and latest event other
	// than [ReferralConverted] credits, which are held in Referrals (a
	// customer who only holds credits has zero First and Last).
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Tallies holds one entry per event type seen, sorted by type. The
	// [ReferralConverted] tally is derived from Referrals: Count is
	// len(Referrals), First and Last are the earliest and latest At.
	Tallies []Tally `json:"tallies,omitempty"`
	// Sums holds money per event type and currency, sorted by both.
	Sums []Sum `json:"sums,omitempty"`
	// ReferredBy is the customer who referred this one: the referrer named
	// by the earliest event that names one (ties in time: the smaller
	// referrer ID); ReferredAt is that event's time.
	ReferredBy string    `json:"referred_by,omitempty"`
	ReferredAt time.Time `json:"referred_at,omitzero"`
	// Score is the latest survey score (ties in time: the higher score);
	// ScoreAt is zero when the customer never answered a survey.
	Score   int       `json:"score,omitempty"`
	ScoreAt time.Time `json:"score_at,omitzero"`
	// Referrals holds the customer's referral credits ([ReferralConverted]
	// events), sorted by Customer: one entry per referred customer
	// credited, whose At is the earliest credit time received for that
	// customer. Folding a credit inserts its entry or lowers its At, so
	// credits may be folded any number of times, in any order.
	Referrals []Referral `json:"referrals,omitempty"`
}

// Tally returns the tally for an event type; ok is false when the customer
// has no event of that type.
func (f *Facts) Tally(t EventType) (tally Tally, ok bool) {
	if i := f.find(t); i >= 0 {
		return f.Tallies[i], true
	}
	return Tally{}, false
}

// Count returns how many events of type t were recorded.
func (f *Facts) Count(t EventType) int64 {
	if i := f.find(t); i >= 0 {
		return f.Tallies[i].Count
	}
	return 0
}

// FirstTime returns the time of the first event of type t, or the zero time.
func (f *Facts) FirstTime(t EventType) time.Time {
	if i := f.find(t); i >= 0 {
		return f.Tallies[i].First
	}
	return time.Time{}
}

// LastTime returns the time of the last event of type t, or the zero time.
func (f *Facts) LastTime(t EventType) time.Time {
	if i := f.find(t); i >= 0 {
		return f.Tallies[i].Last
	}
	return time.Time{}
}

// find returns the index of t's tally, or -1.
func (f *Facts) find(t EventType) int {
	for i := range f.Tallies {
		if f.Tallies[i].Type == t {
			return i
		}
	}
	return -1
}

// Events returns the number of events recorded, of every type, summing the
// counts of Tallies: [ReferralConverted] credits count once per referred
// customer (len(Referrals)). The sum saturates at math.MaxInt64, as each
// count does.
func (f *Facts) Events() int64 {
	var n int64
	for i := range f.Tallies {
		c := f.Tallies[i].Count
		if c > 0 && n > math.MaxInt64-c {
			return math.MaxInt64 // saturate, as the counts do
		}
		n += c
	}
	return n
}

// Amount returns the money carried by events of type t in currency cur.
func (f *Facts) Amount(t EventType, cur string) int64 {
	for i := range f.Sums {
		if f.Sums[i].Type == t && f.Sums[i].Currency == cur {
			return f.Sums[i].Amount
		}
	}
	return 0
}

// Orders returns the net number of orders: completed orders less refunded
// ones, never below zero. Each [OrderRefunded] event undoes one order.
func (f *Facts) Orders() int64 {
	n := f.Count(OrderCompleted) - f.Count(OrderRefunded)
	if n < 0 {
		return 0
	}
	return n
}

// Revenue returns the net money received in currency cur: purchases
// (the types of kind [KindOrder] and [KindSubscription]: completed
// orders, subscription starts and subscription renewals) less refunds
// ([KindRefund]). The money received and the money refunded each saturate
// at math.MaxInt64 (each amount is at most that, see [Sum]), so the
// result never overflows.
func (f *Facts) Revenue(cur string) int64 {
	var in, out int64
	for i := range f.Sums {
		s := &f.Sums[i]
		if s.Currency != cur {
			continue
		}
		switch k := s.Type.Kind(); {
		case k.Purchase():
			in = numeric.AddSat(in, s.Amount)
		case k == KindRefund:
			out = numeric.AddSat(out, s.Amount)
		}
	}
	return in - out
}

// Currencies returns the currencies of every amount recorded for the
// customer (payments and refunds, and amounts on any other event type),
// sorted, each once.
func (f *Facts) Currencies() []string {
	var out []string
	for _, s := range f.Sums {
		i := sort.SearchStrings(out, s.Currency)
		if i == len(out) || out[i] != s.Currency {
			out = append(out, "")
			copy(out[i+1:], out[i:])
			out[i] = s.Currency
		}
	}
	return out
}

// LastScore returns the latest survey score; ok is false when the customer
// never answered a survey.
func (f *Facts) LastScore() (score int, ok bool) {
	return f.Score, !f.ScoreAt.IsZero()
}

// Add folds one event into the facts. It assumes e is valid (see
// [Event.Validate]). Every event but a [ReferralConverted] credit must be
// added once only (the Tracker adds each event ID once). A credit is
// idempotent: it inserts the referred customer (see [Referral.Customer])
// into Referrals or lowers their At to
// the credit's time, and re-derives the ReferralConverted tally; it moves
// neither First nor Last, and its Amount, Currency and ReferrerID are
// ignored. A nil e adds nothing.
func (f *Facts) Add(e *Event) {
	if e != nil {
		f.add(e)
	}
}

// add folds e into f. It reports false only for a [ReferralConverted]
// credit f already held at e's time or earlier, which changes nothing.
func (f *Facts) add(e *Event) bool {
	if e.Type == ReferralConverted {
		return f.addReferral(e)
	}
	t := e.Time.UTC()
	if f.First.IsZero() || t.Before(f.First) {
		f.First = t
	}
	if t.After(f.Last) {
		f.Last = t
	}
	f.addTally(e.Type, t)
	if e.Amount != 0 {
		f.addSum(e.Type, e.Currency, e.Amount)
	}
	if e.ReferrerID != "" {
		if f.ReferredBy == "" || t.Before(f.ReferredAt) || (t.Equal(f.ReferredAt) && e.ReferrerID < f.ReferredBy) {
			f.ReferredBy, f.ReferredAt = e.ReferrerID, t
		}
	}
	if e.Type == SurveyAnswered {
		if s, ok := e.Score(); ok {
			if f.ScoreAt.IsZero() || t.After(f.ScoreAt) || (t.Equal(f.ScoreAt) && s > f.Score) {
				f.Score, f.ScoreAt = s, t
			}
		}
	}
	return true
}

// addReferral folds the [ReferralConverted] credit e: it inserts the
// referred customer or lowers their time, then updates the tally. It
// reports false when the credit was already held at e's time or earlier.
//
// A referrer may hold many credits, and one write may fold thousands (a
// batch or an import naming one affiliate): the insert grows a long
// Referrals as append does (see insertTight), and the tally is updated from its old value, not derived
// again from every credit, unless it does not match Referrals (facts a
// caller built) or the latest credit moved earlier.
func (f *Facts) addReferral(e *Event) bool {
	key := e.Attrs[ReferredIDAttr]
	if key == "" {
		key = e.ID
		if id, ok := strings.CutPrefix(key, referralPrefix); ok && id != "" {
			key = id
		}
	}
	t := e.Time.UTC()
	i, found := slices.BinarySearchFunc(f.Referrals, key, func(r Referral, k string) int { return strings.Compare(r.Customer, k) })
	if found && !t.Before(f.Referrals[i].At) {
		return false
	}
	ti := f.tallyIndex(ReferralConverted)
	var tl Tally
	held := ti < len(f.Tallies) && f.Tallies[ti].Type == ReferralConverted
	if held {
		tl = f.Tallies[ti]
	}
	// matches: the tally is the one Referrals gives (before this credit).
	matches := held && tl.Count == int64(len(f.Referrals)) && !tl.First.IsZero() || !held && len(f.Referrals) == 0
	if found {
		was := f.Referrals[i].At
		f.Referrals[i].At = t
		matches = matches && !was.Equal(tl.Last) // else the latest may be another
	} else {
		f.Referrals = insertTight(f.Referrals, i, Referral{Customer: key, At: t})
		if !held {
			tl = Tally{Type: ReferralConverted, First: t, Last: t}
		}
		tl.Count++
	}
	if matches {
		if t.Before(tl.First) {
			tl.First = t
		}
		if t.After(tl.Last) {
			tl.Last = t
		}
	} else {
		tl = Tally{Type: ReferralConverted, Count: int64(len(f.Referrals)), First: t, Last: t}
		for _, r := range f.Referrals {
			if r.At.Before(tl.First) {
				tl.First = r.At
			}
			if r.At.After(tl.Last) {
				tl.Last = r.At
			}
		}
	}
	f.setTally(tl)
	return true
}

// setTally replaces the tally of tl.Type with tl, or inserts it.
func (f *Facts) setTally(tl Tally) {
	i := f.tallyIndex(tl.Type)
	if i < len(f.Tallies) && f.Tallies[i].Type == tl.Type {
		f.Tallies[i] = tl
		return
	}
	f.Tallies = insertTight(f.Tallies, i, tl)
}

// tallyIndex returns where the tally of typ is or would be inserted.
func (f *Facts) tallyIndex(typ EventType) int {
	lo, hi := 0, len(f.Tallies)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.Tallies[m].Type < typ {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// addTally counts one event of type typ at t.
func (f *Facts) addTally(typ EventType, t time.Time) {
	i := f.tallyIndex(typ)
	if i < len(f.Tallies) && f.Tallies[i].Type == typ {
		tl := &f.Tallies[i]
		if tl.Count < math.MaxInt64 { // saturate, as Sum's Amount does
			tl.Count++
		}
		if t.Before(tl.First) {
			tl.First = t
		}
		if t.After(tl.Last) {
			tl.Last = t
		}
		return
	}
	f.Tallies = insertTight(f.Tallies, i, Tally{Type: typ, Count: 1, First: t, Last: t})
}

// sumIndex returns the index of the sum for typ and cur in the sorted
// Sums, or where it would be inserted.
func (f *Facts) sumIndex(typ EventType, cur string) int {
	lo, hi := 0, len(f.Sums)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		s := &f.Sums[m]
		if s.Type < typ || (s.Type == typ && s.Currency < cur) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// hasSum reports whether f holds a sum for typ and cur.
func (f *Facts) hasSum(typ EventType, cur string) bool {
	i := f.sumIndex(typ, cur)
	return i < len(f.Sums) && f.Sums[i].Type == typ && f.Sums[i].Currency == cur
}

// addSum adds amt to the sum for typ and cur.
func (f *Facts) addSum(typ EventType, cur string, amt int64) {
	i := f.sumIndex(typ, cur)
	if i < len(f.Sums) && f.Sums[i].Type == typ && f.Sums[i].Currency == cur {
		if s := &f.Sums[i]; amt > 0 && s.Amount > math.MaxInt64-amt {
			s.Amount = math.MaxInt64 // saturate: amounts are never negative
		} else {
			s.Amount += amt
		}
		return
	}
	f.Sums = insertTight(f.Sums, i, Sum{Type: typ, Currency: cur, Amount: amt})
}

// room returns the error that refuses e, an event of customer, when
// folding it into f would pass [MaxTallies] or [MaxSums] (see there), or
// nil.
func (f *Facts) room(e *Event, customer string) error {
	if e.Type == ReferralConverted {
		return nil
	}
	if len(f.Tallies) >= MaxTallies {
		if i := f.tallyIndex(e.Type); i == len(f.Tallies) || f.Tallies[i].Type != e.Type {
			return invalid("type", string(e.Type), "customer "+strconv.Quote(clip.String(customer))+" already has "+strconv.Itoa(len(f.Tallies))+" event types, the most one customer holds (MaxTallies)")
		}
	}
	if e.Amount != 0 && len(f.Sums) >= MaxSums && !f.hasSum(e.Type, e.Currency) {
		return invalid("currency", e.Currency, "customer "+strconv.Quote(clip.String(customer))+" already has "+strconv.Itoa(len(f.Sums))+" sums of a type and currency, the most one customer holds (MaxSums)")
	}
	return nil
}

// insertTight inserts v at i. While s is short, when full it grows by one
// element only: tallies, sums and transitions are few per customer and
// kept for long, so tight slices matter more than amortised growth. Past
// 16 elements it grows as append does, so that a long list (a referrer's
// credits, facts a caller built) is not copied whole on every insert.
func insertTight[T any](s []T, i int, v T) []T {
	if len(s) < cap(s) {
		s = s[:len(s)+1]
		copy(s[i+1:], s[i:])
		s[i] = v
		return s
	}
	if len(s) >= 16 {
		return slices.Insert(s, i, v)
	}
	out := make([]T, len(s)+1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}
