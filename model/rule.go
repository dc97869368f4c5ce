package model

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
)

// Rule is an entry rule over a customer's facts at a time now, for the
// [Builder]. Build rules with the constructors ([Count], [Orders],
// [Within], [Tenure], [After], [Spent], [Referrals], [Score], [Func]) and
// compose them with [All], [Any] and [Not]. A rule's parameters are checked
// by [Builder.Build], which reports a bad one (a negative count, a
// malformed currency) as an error naming the rule.
//
// A Rule is an immutable value, safe for concurrent use; [Rule.Holds]
// never allocates (a [Func] predicate aside). The zero Rule is "no rule".
type Rule struct{ n *node }

type op uint8

const (
	opCount op = iota + 1
	opOrders
	opWithin
	opTenure
	opAfter
	opSpent
	opReferrals
	opScore
	opFunc
	opAll
	opAny
	opNot
)

type node struct {
	op    op
	typ   lifecycle.EventType
	typ2  lifecycle.EventType
	n     int64
	d     time.Duration
	cur   string
	name  string
	fn    func(f *lifecycle.Facts, now time.Time) bool
	kids  []*node
	err   string // a parameter problem, reported by Build
	bad   bool   // err is set here or below: Holds is false
	canUp bool   // can turn from false to true as events arrive or time passes
	canDn bool   // can turn from true to false
}

func leaf(n *node) Rule {
	n.bad = n.err != ""
	for _, k := range n.kids {
		n.bad = n.bad || k.bad
	}
	return Rule{n: n}
}

// Count holds when the customer has at least n events of type t. It can
// only turn true over time (counts never decrease). n must be at least 1.
func Count(t lifecycle.EventType, n int64) Rule {
	r := &node{op: opCount, typ: t, n: n, canUp: true}
	r.err = checkType(t)
	if r.err == "" && n < 1 {
		r.err = "count threshold " + strconv.FormatInt(n, 10) + " must be at least 1"
	}
	return leaf(r)
}

// Orders holds when the customer has at least n net orders: completed
// orders less refunded ones ([lifecycle.Facts.Orders]). A refund can turn
// it false. n must be at least 1.
func Orders(n int64) Rule {
	r := &node{op: opOrders, n: n, canUp: true, canDn: true}
	if n < 1 {
		r.err = "orders threshold " + strconv.FormatInt(n, 10) + " must be at least 1"
	}
	return leaf(r)
}

// Within holds when the customer's last event of type t happened no more
// than d before now (now − last ≤ d; an event after now counts as within).
// It turns false as time passes. Facts keep counts and first and last
// times, not every event, so a window applies to the latest event of a
// type; combine with [Count] for "at least n, the latest within d". d must
// be positive; the largest Duration, math.MaxInt64 (about 292 years),
// never closes, as [time.Time.Sub] saturates there.
func Within(d time.Duration, t lifecycle.EventType) Rule {
	r := &node{op: opWithin, typ: t, d: d, canUp: true, canDn: true}
	r.err = checkType(t)
	if r.err == "" && d <= 0 {
		r.err = "window " + d.String() + " must be positive"
	}
	return leaf(r)
}

// Tenure holds when the customer's first event of type t happened at least
// d before now: "a customer for a year". It can only turn true over time.
// d must be positive.
func Tenure(d time.Duration, t lifecycle.EventType) Rule {
	r := &node{op: opTenure, typ: t, d: d, canUp: true}
	r.err = checkType(t)
	if r.err == "" && d <= 0 {
		r.err = "tenure " + d.String() + " must be positive"
	}
	return leaf(r)
}

// After holds when the customer's last event of type x is later than
// their last event of type y, or they have an x and no y: "the last
// ticket_opened after the last ticket_resolved" (an open ticket). x and y
// must differ.
func After(x, y lifecycle.EventType) Rule {
	r := &node{op: opAfter, typ: x, typ2: y, canUp: true, canDn: true}
	r.err = checkType(x)
	if r.err == "" {
		r.err = checkType(y)
	}
	if r.err == "" && x == y {
		r.err = "the two event types are the same"
	}
	return leaf(r)
}

// Spent holds when the customer's net revenue in currency cur
// ([lifecycle.Facts.Revenue]: orders, subscription starts and renewals
// less refunds) is at least amount, in minor units. A refund can turn it
// false. cur must have the form of an ISO 4217 code, three upper-case
// ASCII letters (it is not checked against ISO's list), and amount be at
// least 1.
func Spent(cur string, amount int64) Rule {
	r := &node{op: opSpent, cur: cur, n: amount, canUp: true, canDn: true}
	switch {
	case !validCurrency(cur):
		r.err = "currency " + strconv.Quote(cut(cur)) + " is not an ISO 4217 code of three upper-case letters"
	case amount < 1:
		r.err = "amount " + strconv.FormatInt(amount, 10) + " must be at least 1"
	}
	return leaf(r)
}

// Referrals holds when at least n customers the customer referred have
// placed an order: n [lifecycle.ReferralConverted] events, which the
// Tracker records. It can only turn true. n must be at least 1.
func Referrals(n int64) Rule {
	r := &node{op: opReferrals, n: n, canUp: true}
	if n < 1 {
		r.err = "referrals threshold " + strconv.FormatInt(n, 10) + " must be at least 1"
	}
	return leaf(r)
}

// Score holds when the customer's last survey score
// ([lifecycle.Facts.LastScore]) is at least min; never for a customer who
// never answered. A new answer can turn it false. min must be 0..10
// (Score(0): answered any survey).
func Score(min int) Rule {
	r := &node{op: opScore, n: int64(min), canUp: true, canDn: true}
	if min < 0 || min > 10 {
		r.err = "score " + strconv.Itoa(min) + " must be from 0 to 10"
	}
	return leaf(r)
}

// plainName reports whether a Func name goes into a description as it is:
// letters, digits, spaces, dots, hyphens and underscores, none of which a
// description uses to separate rules.
func plainName(name string) bool {
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '.' && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// Func is a custom predicate named name (the name appears in the rule's
// description, quoted as a Go string when it holds other than letters,
// digits, spaces, dots, hyphens and underscores, and in error messages, and tells rules apart: two Func rules
// with the same name are taken to be the same rule). fn must be a pure,
// deterministic function of the facts and now that never modifies the
// facts (see [lifecycle.Model]); the builder assumes it may turn true or
// false at any event or as time passes. name must not be empty or only
// white space, and fn must not be nil.
func Func(name string, fn func(f *lifecycle.Facts, now time.Time) bool) Rule {
	r := &node{op: opFunc, name: name, fn: fn, canUp: true, canDn: true}
	switch {
	case strings.TrimSpace(name) == "":
		r.err = "custom predicate has no name"
	case fn == nil:
		r.err = "custom predicate " + strconv.Quote(cut(name)) + " has a nil function"
	}
	return leaf(r)
}

// All holds when every one of rules holds (at least one rule is required).
func All(rules ...Rule) Rule { return group(opAll, rules) }

// Any holds when at least one of rules holds (at least one rule is
// required).
func Any(rules ...Rule) Rule { return group(opAny, rules) }

func group(o op, rules []Rule) Rule {
	r := &node{op: o}
	if len(rules) == 0 {
		r.err = "no rules to combine"
	}
	var zero []string
	for i, k := range rules {
		if k.n == nil {
			zero = append(zero, strconv.Itoa(i))
			continue
		}
		r.kids = append(r.kids, k.n)
		r.canUp = r.canUp || k.n.canUp
		r.canDn = r.canDn || k.n.canDn
	}
	switch len(zero) {
	case 0:
	case 1:
		r.err = "rule " + zero[0] + " is the zero Rule"
	default:
		r.err = "rules " + cut(strings.Join(zero, ", ")) + " are the zero Rule"
	}
	return leaf(r)
}

// Not holds when rule does not. Not(Count(t, 1)) holds for a customer
// with no t events; it can only turn false.
func Not(rule Rule) Rule {
	r := &node{op: opNot}
	if rule.n == nil {
		r.err = "not of the zero Rule"
		return leaf(r)
	}
	r.kids = []*node{rule.n}
	r.canUp, r.canDn = rule.n.canDn, rule.n.canUp
	return leaf(r)
}

// IsZero reports whether r is the zero Rule (no rule).
func (r Rule) IsZero() bool { return r.n == nil }

// Err reports what is wrong with the rule's parameters, the problems
// [Builder.Build] would report for it (a negative count, a malformed
// currency, an empty [All]), joined, each wrapping [ErrInvalidModel]; nil
// for a well-formed rule. The zero Rule is an error: it is no rule.
// Users of rules outside a builder (lifecycle/funnel's segments) check it
// once, before calling [Rule.Holds].
func (r Rule) Err() error {
	if r.n == nil {
		return fmt.Errorf("%w: the zero Rule is no rule", ErrInvalidModel)
	}
	var errs []error
	for _, p := range r.n.problems(nil) {
		errs = append(errs, fmt.Errorf("%w: rule %s", ErrInvalidModel, p))
	}
	return errors.Join(errs...)
}

// Holds reports whether the rule holds for a customer with facts f at now
// (a nil f reads as empty Facts). The zero Rule never holds, nor does a
// rule [Rule.Err] reports broken (a Not of the zero Rule, a Func with a
// nil function, a group holding one), whatever its parts.
func (r Rule) Holds(f *lifecycle.Facts, now time.Time) bool {
	if r.n == nil || r.n.bad {
		return false
	}
	return r.n.holds(orEmpty(f), now)
}

// noFacts is what a nil *lifecycle.Facts reads as: a customer with no
// events. Nothing writes to it.
var noFacts lifecycle.Facts

// orEmpty returns f, or for nil the empty Facts: every model's Stage and
// NextChange and every rule take a nil f as a customer with no events.
func orEmpty(f *lifecycle.Facts) *lifecycle.Facts {
	if f == nil {
		return &noFacts
	}
	return f
}

func (r *node) holds(f *lifecycle.Facts, now time.Time) bool {
	if r == nil {
		return false // a zero Rule inside another (Rule.Err reports it)
	}
	switch r.op {
	case opCount:
		return f.Count(r.typ) >= r.n
	case opOrders:
		return f.Orders() >= r.n
	case opWithin:
		t, ok := f.Tally(r.typ)
		return ok && t.Count > 0 && now.Sub(t.Last) <= r.d
	case opTenure:
		t, ok := f.Tally(r.typ)
		return ok && t.Count > 0 && now.Sub(t.First) >= r.d
	case opAfter:
		x, okx := f.Tally(r.typ)
		if !okx || x.Count <= 0 {
			return false
		}
		y, oky := f.Tally(r.typ2)
		return !oky || y.Count <= 0 || x.Last.After(y.Last)
	case opSpent:
		return f.Revenue(r.cur) >= r.n
	case opReferrals:
		return f.Count(lifecycle.ReferralConverted) >= r.n
	case opScore:
		s, ok := f.LastScore()
		return ok && int64(s) >= r.n
	case opFunc:
		return r.fn != nil && r.fn(f, now) // a nil func never holds (Rule.Err reports it)
	case opAll:
		for _, k := range r.kids {
			if !k.holds(f, now) {
				return false
			}
		}
		return true
	case opAny:
		for _, k := range r.kids {
			if k.holds(f, now) {
				return true
			}
		}
		return false
	case opNot:
		return len(r.kids) > 0 && !r.kids[0].holds(f, now)
	}
	return false
}

// next returns a time T such that the rule's truth for f stays what it
// is at now for every t with now ≤ t < T, or the zero time when time alone
// never changes it (see [lifecycle.Scheduler]; an answer at or before now
// means "due now"), and whether the rule holds at now: together, so that a
// group learns its children's truth from the same pass (asking holds at
// each level again made a deep nesting quadratic). Only [Within] and
// [Tenure] read now among the leaves, besides [Func], which cannot tell
// and answers "due now". [After] compares the times of two events, not
// now, so time alone does not change it.
func (r *node) next(f *lifecycle.Facts, now time.Time) (next time.Time, holds bool) {
	if r == nil {
		return time.Time{}, false // never holds, whatever the time
	}
	switch r.op {
	case opWithin:
		// Holds while now − last ≤ d, so it turns false, for good, at
		// last + d + 1ns; once false it stays false.
		if !r.holds(f, now) {
			return time.Time{}, false
		}
		t, _ := f.Tally(r.typ)
		return exceeds(t.Last, r.d, now), true
	case opTenure:
		// Holds from first + d on, for good.
		if r.holds(f, now) {
			return time.Time{}, true
		}
		t, ok := f.Tally(r.typ)
		if !ok || t.Count <= 0 {
			return time.Time{}, false
		}
		return reaches(t.First, r.d, now), false
	case opFunc:
		return dueNow(now), r.holds(f, now)
	case opAll, opAny:
		// The group changes only when a child does, so the earliest
		// child change is a safe answer. Better: a child that decides the
		// group (false for All, true for Any) and never changes fixes it.
		decides := r.op == opAny
		holds = !decides // All holds until a child does not; Any does not until one does
		for _, k := range r.kids {
			kn, kh := k.next(f, now)
			if kh == decides {
				if kn.IsZero() {
					return time.Time{}, decides
				}
				holds = decides
			}
			next = earliest(next, kn)
		}
		return next, holds
	case opNot:
		if len(r.kids) == 0 {
			return time.Time{}, false
		}
		kn, kh := r.kids[0].next(f, now)
		return kn, !kh
	}
	// Count, Orders, Spent, Referrals, Score and After depend on the
	// events only.
	return time.Time{}, r.holds(f, now)
}

// String describes the rule, e.g. "all(count(order_completed) >= 2,
// within(order_completed, 180d))". Two rules with the same description are
// the same rule.
func (r Rule) String() string {
	if r.n == nil {
		return "none"
	}
	var b strings.Builder
	r.n.describe(&b)
	return b.String()
}

func (r *node) describe(b *strings.Builder) { r.describeUpTo(b, math.MaxInt) }

// describeUpTo is describe that stops once b holds more than max bytes
// (the rest is left out: see problems).
func (r *node) describeUpTo(b *strings.Builder, max int) {
	if b.Len() > max {
		return
	}
	switch r.op {
	case opCount:
		fmt.Fprintf(b, "count(%s) >= %d", r.typ, r.n)
	case opOrders:
		fmt.Fprintf(b, "orders >= %d", r.n)
	case opWithin:
		fmt.Fprintf(b, "within(%s, %s)", r.typ, days(r.d))
	case opTenure:
		fmt.Fprintf(b, "tenure(%s, %s)", r.typ, days(r.d))
	case opAfter:
		fmt.Fprintf(b, "after(%s, %s)", r.typ, r.typ2)
	case opSpent:
		fmt.Fprintf(b, "spent(%s) >= %d", r.cur, r.n)
	case opReferrals:
		fmt.Fprintf(b, "referrals >= %d", r.n)
	case opScore:
		fmt.Fprintf(b, "score >= %d", r.n)
	case opFunc:
		if plainName(r.name) {
			fmt.Fprintf(b, "func(%s)", r.name)
		} else { // quoted, so that no name reads as the end of one and the start of another
			fmt.Fprintf(b, "func(%s)", strconv.Quote(r.name))
		}
	case opAll, opAny, opNot:
		b.WriteString(map[op]string{opAll: "all", opAny: "any", opNot: "not"}[r.op])
		b.WriteByte('(')
		for i, k := range r.kids {
			if i > 0 {
				b.WriteString(", ")
			}
			k.describeUpTo(b, max)
		}
		b.WriteByte(')')
	}
}

// problems appends the parameter errors in r and its children, each
// naming its rule by its description, cut as every value an error quotes
// is (see cut): a rule nested thousands deep would otherwise be described
// again for each broken rule around it (a message quadratic in the depth).
func (r *node) problems(out []string) []string {
	if r.err != "" {
		var b strings.Builder
		r.describeUpTo(&b, clip.Max)
		out = append(out, cut(b.String())+": "+r.err)
	}
	for _, k := range r.kids {
		out = k.problems(out)
	}
	return out
}

// days formats a duration in whole days when it is one ("30d"), otherwise
// as time.Duration does.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkType validates an event type the way [lifecycle.Event.Validate]
// does, returning "" or the reason.
func checkType(t lifecycle.EventType) string {
	e := lifecycle.Event{ID: "x", CustomerID: "x", Type: t, Time: time.Unix(0, 0), Attrs: map[string]string{lifecycle.ScoreAttr: "0"}}
	if err := e.Validate(); err != nil {
		return "event type " + strconv.Quote(cut(t)) + " is invalid: " + strings.TrimPrefix(err.Error(), "lifecycle: invalid event: ")
	}
	return ""
}
