package funnel

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Segment is a named set of customers, defined by a predicate over what
// the store keeps about each one: stage, history and facts. Facts hold
// counts, first/last times and money per event type, not event attributes,
// so a segment over an attribute ("bought beauty products") needs the shop
// to record it as a custom event type ("shop.beauty_purchased", recorded
// beside the order) and match it with [HasEvent], or a caller predicate.
type Segment struct {
	// Name labels the segment in reports and errors.
	Name string
	// Match reports whether a customer belongs to the segment. It must not
	// keep or modify the customer.
	Match func(c *lifecycle.Customer) bool
}

// IDs streams the IDs of the customers in s.Scan(ctx) that match the
// segment (see [Segment.Filter]), in the store's scan order, for a
// campaign. It yields an error
// wrapping [ErrInvalidInput] if Match is nil, and passes on the scan's
// errors; either ends the sequence.
func (seg Segment) IDs(ctx context.Context, s lifecycle.Store) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for c, err := range seg.Filter(s.Scan(ctx)) {
			if err != nil {
				yield("", err)
				return
			}
			if !yield(c.ID, nil) {
				return
			}
		}
	}
}

// Filter yields the customers of customers that match the segment, and
// every error of customers (after which it stops). Pending referrers
// ([lifecycle.Customer.PendingReferrer]) are not customers yet and are
// never yielded. It yields an error wrapping [ErrInvalidInput] if Match is
// nil.
func (seg Segment) Filter(customers iter.Seq2[*lifecycle.Customer, error]) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if seg.Match == nil {
			yield(nil, fmt.Errorf("%w: segment %q has no Match function", ErrInvalidInput, seg.Name))
			return
		}
		for c, err := range customers {
			if err != nil {
				yield(nil, err)
				return
			}
			if c != nil && !c.PendingReferrer() && seg.Match(c) && !yield(c, nil) {
				return
			}
		}
	}
}

// InStage matches customers whose current stage is one of ids.
func InStage(ids ...stage.ID) Segment {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = string(id)
	}
	return Segment{
		Name: "stage in (" + strings.Join(names, ", ") + ")",
		Match: func(c *lifecycle.Customer) bool {
			for _, id := range ids {
				if c.Stage == id {
					return true
				}
			}
			return false
		},
	}
}

// HasEvent matches customers with at least min events of type t (min ≤ 1
// means at least one).
func HasEvent(t lifecycle.EventType, min int64) Segment {
	min = max(min, 1)
	return Segment{
		Name:  string(t) + " ≥ " + strconv.FormatInt(min, 10),
		Match: func(c *lifecycle.Customer) bool { return c.Facts.Count(t) >= min },
	}
}

// SpentAtLeast matches customers whose net revenue in currency cur
// ([lifecycle.Facts.Revenue]: orders, subscription starts and renewals less refunds, in minor
// units) is at least amount.
func SpentAtLeast(cur string, amount int64) Segment {
	return Segment{
		Name:  "revenue " + cur + " ≥ " + strconv.FormatInt(amount, 10),
		Match: func(c *lifecycle.Customer) bool { return c.Facts.Revenue(cur) >= amount },
	}
}

// ScoreBelow matches customers whose latest survey score
// ([lifecycle.Facts.LastScore]) is below n; customers who never answered
// do not match.
func ScoreBelow(n int) Segment {
	return Segment{
		Name: "score < " + strconv.Itoa(n),
		Match: func(c *lifecycle.Customer) bool {
			s, ok := c.Facts.LastScore()
			return ok && s < n
		},
	}
}

// OpenTicket matches customers with more ticket_opened than
// ticket_resolved events: at least one support ticket still open.
func OpenTicket() Segment {
	return Segment{
		Name: "open ticket",
		Match: func(c *lifecycle.Customer) bool {
			return c.Facts.Count(lifecycle.TicketOpened) > c.Facts.Count(lifecycle.TicketResolved)
		},
	}
}

// Not matches the customers s does not match. A nil Match in s makes the
// result's Match nil too, so that using it reports the error.
func Not(s Segment) Segment {
	out := Segment{Name: "not (" + s.Name + ")"}
	if s.Match != nil {
		out.Match = func(c *lifecycle.Customer) bool { return !s.Match(c) }
	}
	return out
}

// All matches customers every one of segs matches (all customers when segs
// is empty). A nil Match among segs makes the result's Match nil.
func All(segs ...Segment) Segment {
	return combine(" and ", segs, true)
}

// Any matches customers at least one of segs matches (no customer when
// segs is empty). A nil Match among segs makes the result's Match nil.
func Any(segs ...Segment) Segment {
	return combine(" or ", segs, false)
}

func combine(op string, segs []Segment, all bool) Segment {
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = "(" + s.Name + ")"
	}
	out := Segment{Name: strings.Join(names, op)}
	for _, s := range segs {
		if s.Match == nil {
			return out
		}
	}
	segs = append([]Segment(nil), segs...)
	out.Match = func(c *lifecycle.Customer) bool {
		for _, s := range segs {
			if s.Match(c) != all {
				return !all
			}
		}
		return all
	}
	return out
}
