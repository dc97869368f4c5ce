package funnel

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// Segment is a named set of customers, defined by a predicate over what
// the store keeps about each one: stage, history and facts. Facts hold
// counts, first/last times and money per event type, not event attributes,
// so a segment over an attribute ("bought beauty products") needs the shop
// to record it as a custom event type ("shop.beauty_purchased", recorded
// beside the order) and match it with [HasEvent], or a caller predicate.
//
// Conditions on facts are written in the rule language of the model
// builder ([model.Rule]: counts, windows, "last X after last Y", money,
// referrals, survey scores, composed with model.All, Any and Not): [Where]
// turns a rule into a segment, and the helpers [HasEvent], [SpentAtLeast],
// [ScoreBelow] and [OpenTicket] are rules, so a segment and a model stage
// that say the same thing mean the same thing. A rule is checked as
// [model.Builder.Build] checks it: a segment made from a malformed rule,
// or an [All] or [Any] of no segments, is an error wherever it is used.
type Segment struct {
	// Name labels the segment in reports and errors.
	Name string
	// Match reports whether a customer belongs to the segment. It must not
	// keep or modify the customer, nor read its Seen, which a store's
	// read-only pass may leave empty (see [lifecycle.Viewer]).
	Match func(c *lifecycle.Customer) bool

	err error // why the segment cannot be used (a malformed rule)
}

// check returns the error of a segment that cannot be used, wrapping
// [ErrInvalidInput], or nil.
func (seg Segment) check() error {
	switch {
	case seg.err != nil:
		return fmt.Errorf("%w: segment %q: %w", ErrInvalidInput, seg.Name, seg.err)
	case seg.Match == nil:
		return fmt.Errorf("%w: segment %q has no Match function", ErrInvalidInput, seg.Name)
	}
	return nil
}

// IDs streams the IDs of the customers in s.Scan(ctx) that match the
// segment (see [Segment.Filter]), in the store's scan order, for a
// campaign. It yields an error wrapping [ErrInvalidInput] if Match is nil,
// the segment's rule is malformed or s is nil, and passes on the scan's
// errors; either ends the sequence.
func (seg Segment) IDs(ctx context.Context, s lifecycle.Store) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if nilness.Is(s) {
			yield("", fmt.Errorf("%w: segment %q: IDs of a nil store", ErrInvalidInput, seg.Name))
			return
		}
		if ctx == nil {
			yield("", lifecycle.ErrNilContext)
			return
		}
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
// nil, the segment's rule is malformed or customers is nil.
func (seg Segment) Filter(customers iter.Seq2[*lifecycle.Customer, error]) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if err := seg.check(); err != nil {
			yield(nil, err)
			return
		}
		if customers == nil {
			yield(nil, fmt.Errorf("%w: segment %q: Filter of a nil sequence of customers", ErrInvalidInput, seg.Name))
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

// Where matches the customers for whom rule r holds at their
// classification time ([lifecycle.Customer.ClassifiedAt], as a Tracker
// classifies them; their last event's time when that is zero): the same
// rule, with the same meaning, as in a model built with [model.Builder].
// Its Name is the rule's description. A malformed rule ([model.Rule.Err])
// makes the segment an error wherever it is used.
//
//	lapsing := funnel.Where(model.All(model.Orders(2),
//		model.Not(model.Within(90*24*time.Hour, lifecycle.OrderCompleted))))
func Where(r model.Rule) Segment {
	return rule(r.String(), r)
}

// rule is [Where] with a name.
func rule(name string, r model.Rule) Segment {
	seg := Segment{Name: name}
	if seg.err = r.Err(); seg.err != nil {
		return seg
	}
	seg.Match = func(c *lifecycle.Customer) bool {
		at := c.ClassifiedAt()
		if at.IsZero() {
			at = c.Facts.Last
		}
		return r.Holds(&c.Facts, at)
	}
	return seg
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
// means at least one): the rule model.Count(t, min). A type
// [lifecycle.Event.Validate] would refuse makes the segment an error.
func HasEvent(t lifecycle.EventType, min int64) Segment {
	min = max(min, 1)
	return rule(string(t)+" ≥ "+strconv.FormatInt(min, 10), model.Count(t, min))
}

// SpentAtLeast matches customers whose net revenue in currency cur
// ([lifecycle.Facts.Revenue]: orders, subscription starts and renewals
// less refunds, in minor units) is at least amount: the rule
// model.Spent(cur, amount). A currency that is not three upper-case ASCII
// letters (the form of an ISO 4217 code; the code is not looked up), or an
// amount below 1, makes the segment an error.
func SpentAtLeast(cur string, amount int64) Segment {
	return rule("revenue "+cur+" ≥ "+strconv.FormatInt(amount, 10), model.Spent(cur, amount))
}

// ScoreBelow matches customers whose latest survey score
// ([lifecycle.Facts.LastScore]) is below n; customers who never answered
// do not match: the rule model.All(model.Score(0), model.Not(model.Score(n))).
// An n outside 1..10 makes the segment an error.
func ScoreBelow(n int) Segment {
	seg := rule("score < "+strconv.Itoa(n), model.All(model.Score(0), model.Not(model.Score(n))))
	if n < 1 && seg.err == nil { // Score(0) is a valid rule, but no score is below 0
		seg.Match, seg.err = nil, fmt.Errorf("ScoreBelow(%d): n must be in 1..10: %w", n, model.ErrInvalidModel)
	}
	return seg
}

// OpenTicket matches customers with a support ticket still open: their
// last ticket_opened is later than their last ticket_resolved (or they
// have no ticket_resolved), the rule model.After(ticket_opened,
// ticket_resolved), which is also what the six-stage model calls an open
// ticket. (Facts keep counts and last times, not tickets: a customer who
// opened two tickets and then resolved one has none open by this rule.)
func OpenTicket() Segment {
	return rule("open ticket", model.After(lifecycle.TicketOpened, lifecycle.TicketResolved))
}

// Not matches the customers s does not match. A nil Match in s makes the
// result's Match nil too, and a malformed s makes the result malformed, so
// that using it reports the error.
func Not(s Segment) Segment {
	out := Segment{Name: "not (" + s.Name + ")", err: s.err}
	if s.Match != nil && s.err == nil {
		out.Match = func(c *lifecycle.Customer) bool { return !s.Match(c) }
	}
	return out
}

// All matches customers every one of segs matches. As model.All, it needs
// at least one segment: All() is an error wherever it is used. A nil Match
// or a malformed segment among segs makes the result's Match nil (or the
// result malformed).
func All(segs ...Segment) Segment {
	return combine("All", " and ", segs, true)
}

// Any matches customers at least one of segs matches. As model.Any, it
// needs at least one segment: Any() is an error wherever it is used. A nil
// Match or a malformed segment among segs makes the result's Match nil (or
// the result malformed).
func Any(segs ...Segment) Segment {
	return combine("Any", " or ", segs, false)
}

func combine(fn, op string, segs []Segment, all bool) Segment {
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = "(" + s.Name + ")"
	}
	out := Segment{Name: strings.Join(names, op)}
	if len(segs) == 0 {
		out.Name = strings.ToLower(fn) + "()"
		out.err = fmt.Errorf("%s of no segments: give at least one, as model.%s requires", fn, fn)
		return out
	}
	for _, s := range segs {
		if s.err != nil {
			out.err = s.err
			return out
		}
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
