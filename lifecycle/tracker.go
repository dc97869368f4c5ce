package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/stage"
)

// Tracker records events into customers' facts, classifies customers with
// its [Model] and keeps their stage history in a [Store]. A Tracker is safe
// for concurrent use by many goroutines, and several Trackers (in one
// process or many) may share one Store.
//
// Guarantees:
//   - Idempotent: an event ID is applied to a customer at most once, however
//     often it is recorded (retries, duplicates, concurrent writers). An
//     event's identity is its ID: an event whose ID the customer has is a
//     Duplicate whatever its other fields, so of two different events sent
//     under one ID, the one that arrives first is applied.
//   - Order-independent: a customer's facts, stage and AsOf after a set of
//     events do not depend on the order the events arrive in. (The history
//     lists stage changes in the order the tracker saw them.) This includes
//     the referral credits the Tracker derives, with one exception below.
//   - Referral credit: when a customer with a referrer ([Facts.ReferredBy])
//     has converted, that is, has at least one event of a type that
//     converts (the model's [Converter] types, or else
//     [DefaultConversionTypes]: order_completed and subscription_started),
//     the Tracker records a [ReferralConverted] credit on the referrer, with
//     the ID [ReferralEventID] of the customer, Attrs[ReferredIDAttr] the
//     customer's ID and the time of their first conversion (the earliest
//     event of those types). It does so after recording an event of that
//     customer that is a converting event at their first conversion's time,
//     that carries a ReferrerID, or that is a duplicate (a retry, whose
//     earlier credit may have failed). Credits fold into [Facts.Referrals],
//     keeping the earliest time per referred customer, so a credit given
//     again counts once, and an earlier conversion arriving late moves the
//     credit back to it. Credits do not enter
//     [Customer.Seen], [Customer.AsOf] or [Facts.First] and [Facts.Last];
//     a credit that changes nothing is not written.
//   - A referrer the Tracker has seen no event of (a mistyped referrer
//     ID, or a customer whose own events have not arrived yet) is stored
//     as a pending referrer ([Customer.PendingReferrer]): a record that
//     holds its credits but is not classified (empty Stage, no History,
//     no hook called, never due for a sweep) and that analytics leave
//     out. Its first own event classifies it, credits included.
//   - The exception: a credit is never taken back. If a customer's events
//     name two different referrers and the event naming the earlier one
//     (which becomes [Facts.ReferredBy]) arrives after the customer's
//     credit was given to the other, both referrers keep a credit.
//   - Atomic: each write goes through the store's [Applier] (which checks
//     the events' identity and applies the fold under its own lock or
//     transaction), or, for a store without it, is a compare-and-swap Put
//     on the customer's version; a lost race is retried a bounded number
//     of times. A failed write leaves the stored customer as it was (or,
//     where a networked store cannot know whether a commit in flight took
//     effect, with the event applied once), so a retry of the same event
//     applies it exactly once.
//   - Hooks run after the write has committed.
//
// A customer's stage is computed at their classification time, the later
// of their AsOf (the latest event or sweep time applied to them, referral
// credits excepted) and their latest referral credit
// (Facts.LastTime(ReferralConverted)), not at the wall clock: replaying
// last year's events gives last year's stages. Transitions are dated at the
// classification time, or at the Since of the stage left when that is
// later (a referral credit's time can move earlier: see [Customer.AsOf]),
// so a History is in time order. Moves caused by time passing alone (a
// buyer who lapses) are applied by [Tracker.Sweep].
type Tracker struct {
	model   Model
	graph   *stage.Graph
	ids     []stage.ID // graph.IDs(), searched faster than the graph's map
	store   Store
	loader  Loader
	applier Applier
	lister  DueLister
	sched   Scheduler
	now     func() time.Time
	log     *slog.Logger
	skew    time.Duration
	retries int
	hooks   []Hook
	pool    sync.Pool // *Customer scratch space (the fallback write path)
	ops     sync.Pool // *writeOp

	// edges holds the declared edges as a bitset: bit j of row i (words
	// uint64s from i*words) is set for an edge ids[i] → ids[j].
	edges   []uint64
	words   int
	warnUnd bool          // WarnUndeclared
	nUnd    atomic.Uint64 // undeclared moves stored (Tracker.Undeclared)
	convert []EventType   // the types that convert a referred customer
	name    string        // the model's Name, asked once (see modelName), cut for the errors that quote it
	badConv error         // why the model is refused (its graph or ConversionTypes)
}

// Hook is called after a customer's stage change has been stored, with
// the change's Seq and Pos zero (see [Change]); a new customer's first
// stage is a change too (From is ""), as its History's first transition
// is. Hooks
// run synchronously on the goroutine that recorded the event, in the order
// they were added; a slow hook delays the Record call that triggered it. A
// panicking hook is recovered and logged: the event stays recorded. A
// hook may call the Tracker and its store (no lock is held while it
// runs). A referral credit the event earned is written after its hooks
// ran, with the same ctx: a hook that waits on ctx until the deadline
// makes that write, and so Record, fail with ctx's error (the event
// stays recorded; recording it again gives the credit).
type Hook func(ctx context.Context, ch Change)

// Option configures a [Tracker].
type Option func(*Tracker)

// WithClock sets the clock used to refuse events from the future
// (default, and when now is nil: [time.Now]). now must not panic: a panic
// reaches the caller of Record, RecordBatch, Import or Validate.
func WithClock(now func() time.Time) Option {
	return func(t *Tracker) {
		if now == nil {
			now = time.Now
		}
		t.now = now
	}
}

// WithLogger sets the logger for write conflicts (each retry, at Debug;
// giving up, at Warn) and hook panics (at Error). The default, and what a
// nil l or one without a handler (the zero slog.Logger) means, is to
// discard.
func WithLogger(l *slog.Logger) Option {
	return func(t *Tracker) {
		if l == nil || nilness.Is(l.Handler()) {
			l = slog.New(slog.DiscardHandler)
		}
		t.log = l
	}
}

// WithMaxSkew sets how far in the future of the clock an event's time may
// be before it is refused (default 15 minutes). A d of 0, or a negative d,
// refuses every time after the clock's and accepts every other.
func WithMaxSkew(d time.Duration) Option {
	return func(t *Tracker) { t.skew = max(d, 0) }
}

// WithMaxRetries sets how many times a write that lost a race to another
// writer of the same customer ([ErrConflict]: a compare-and-swap Put, or an
// [Applier] that checks the version at commit) is retried before Record
// gives up with [ErrConflict] (default 32, so at most 33 attempts; n ≤ 0
// means a single attempt, no retry). An Applier that checks at commit may
// also refuse a write it prepared from a row it held that was stale, or
// that would apply an event again (sqlstore on PostgreSQL does: see its
// Store.Apply); with n ≤ 0 such a write, a retried event among them, fails
// with [ErrConflict] instead of being reported Duplicate.
func WithMaxRetries(n int) Option { return func(t *Tracker) { t.retries = n } }

// WithHook adds a hook called after every stored stage change; a nil h
// adds nothing.
func WithHook(h Hook) Option {
	return func(t *Tracker) {
		if h != nil {
			t.hooks = append(t.hooks, h)
		}
	}
}

// WarnUndeclared logs, at Warn through the logger of [WithLogger], every
// stored move the model's graph does not declare (see
// [Result.Undeclared]). Without it such moves are only counted
// ([Tracker.Undeclared]) and marked on [Result] and on the [Change] a
// [Hook] gets.
func WarnUndeclared() Option { return func(t *Tracker) { t.warnUnd = true } }

// NewTracker returns a Tracker that classifies with m and stores in s. Nil
// options are ignored. Without a model or a store (a nil pointer of a
// model or store type, such as a nil *store.Memory, counts as none), and
// for a Tracker not made by NewTracker, every method that records, sweeps
// or reads returns an error wrapping [ErrNoTracker].
func NewTracker(m Model, s Store, opts ...Option) *Tracker {
	if nilness.Is(m) {
		m = nil
	}
	if nilness.Is(s) {
		s = nil
	}
	t := &Tracker{
		model:   m,
		store:   s,
		now:     time.Now,
		log:     slog.New(slog.DiscardHandler),
		skew:    15 * time.Minute,
		retries: 32,
	}
	if m != nil {
		t.name = clip.String(modelName(m))
		t.badConv = t.inspect(m)
	}
	t.loader, _ = s.(Loader)
	t.applier, _ = s.(Applier)
	t.lister, _ = s.(DueLister)
	t.sched, _ = m.(Scheduler)
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	t.pool.New = func() any { return new(Customer) }
	return t
}

// Model returns the tracker's model (nil for a nil Tracker).
func (t *Tracker) Model() Model {
	if t == nil {
		return nil
	}
	return t.model
}

// Store returns the tracker's store (nil for a nil Tracker).
func (t *Tracker) Store() Store {
	if t == nil {
		return nil
	}
	return t.store
}

// Result says what recording one event did.
type Result struct {
	EventID    string
	CustomerID string
	// Duplicate is true when the event had been applied before: nothing
	// changed. For a [ReferralConverted] credit it is true when the
	// customer already held the credit at the event's time or earlier.
	Duplicate bool
	// From and To are the customer's stage before and after the event
	// (equal unless Moved). From is empty for a new customer.
	From, To stage.ID
	// Moved reports a stage change.
	Moved bool
	// Undeclared reports a move (Moved true) that the model's graph does
	// not declare: no edge From → To. A stage is a pure function of the
	// facts and the time, so such a move can happen by design, typically
	// when an event arrives late (an order dated before a lapse the
	// customer has already been swept into) and the facts jump between
	// two stages the graph does not link; the Tracker stores it like any
	// other move. [Tracker.Undeclared] counts them, [WarnUndeclared] logs
	// them, and model/modeltest's Graph rule finds the moves a model makes
	// in time order that its graph lacks. Entering the model (From empty)
	// is never undeclared.
	Undeclared bool
	// Version is the customer's stored version after the event.
	Version uint64
	// Err is set by [Tracker.RecordBatch] on the result of an event that
	// is invalid or whose customer's write failed, and on every result
	// when the Tracker cannot record ([ErrNoTracker], [ErrInvalidModel]);
	// [Tracker.Record] returns its error instead. Such a result has only EventID,
	// CustomerID and Err set. When a batch holds an invalid event, no
	// event is applied, and the results of its valid events have only
	// EventID and CustomerID set (Err nil): check the returned error.
	Err error
}

// Customer returns the stored customer with this ID, or an error wrapping
// [ErrNotFound].
func (t *Tracker) Customer(ctx context.Context, id string) (*Customer, error) {
	if err := t.readyCtx(ctx); err != nil {
		return nil, err
	}
	return t.store.Get(ctx, id)
}

// readyCtx is ready, and [ErrNilContext] for a nil ctx.
func (t *Tracker) readyCtx(ctx context.Context) error {
	if ctx == nil {
		return ErrNilContext
	}
	return t.ready()
}

// ready returns [ErrNoTracker] for a Tracker that cannot work: nil, made
// without NewTracker, or without a model or a store.
func (t *Tracker) ready() error {
	if t == nil || t.model == nil || t.store == nil || t.now == nil {
		return ErrNoTracker
	}
	return t.badConv
}

// modelName returns m.Name(), or what it panicked with: the Tracker names
// the model in its errors, also those about a model that panics.
func modelName(m Model) (name string) {
	defer func() {
		if r := recover(); r != nil {
			name = "(Name panicked: " + clip.Value(r) + ")"
		}
	}()
	return m.Name()
}

// inspect reads m's graph and conversion types into t, or returns why m
// is refused (a panic included), which every call of the Tracker then
// returns.
func (t *Tracker) inspect(m Model) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: model %q panicked: %s", ErrInvalidModel, t.name, clip.Value(r))
		}
	}()
	g := m.Stages()
	if g == nil {
		return fmt.Errorf("%w: model %q: Stages returned nil", ErrInvalidModel, t.name)
	}
	ids := g.IDs()
	words := (len(ids) + 63) / 64
	edges := make([]uint64, len(ids)*words)
	for _, e := range g.Edges() {
		i, j := g.Index(e.From), g.Index(e.To)
		edges[i*words+j/64] |= 1 << (j % 64)
	}
	t.graph, t.ids, t.words, t.edges = g, ids, words, edges
	t.convert, err = t.conversionTypes(m)
	return err
}

// conversionTypes returns the types that convert a referred customer
// under m (see [Converter]), or why m's are refused.
func (t *Tracker) conversionTypes(m Model) ([]EventType, error) {
	cv, ok := m.(Converter)
	if !ok {
		return DefaultConversionTypes(), nil
	}
	ts := slices.Clone(cv.ConversionTypes())
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: model %q: ConversionTypes is empty", ErrInvalidModel, t.name)
	}
	for _, ty := range ts {
		if err := checkType(ty); err != nil || ty == ReferralConverted {
			return nil, fmt.Errorf("%w: model %q: conversion type %q is not a type Event.Validate accepts", ErrInvalidModel, t.name, clip.String(string(ty)))
		}
	}
	return ts, nil
}

// Validate checks an event as Record would: [Event.Validate] plus a time no
// further in the future of the tracker's clock than the allowed skew.
func (t *Tracker) Validate(e *Event) error {
	if err := t.ready(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if limit := t.now().Add(t.skew); e.Time.After(limit) {
		return invalid("time", e.Time.Format(time.RFC3339Nano), "is more than "+t.skew.String()+" in the future")
	}
	return nil
}

// Record validates an event and applies it to its customer: folds it into
// the facts, re-classifies, stores the result (through the store's
// [Applier], or else with a compare-and-swap Put) and then calls the hooks
// if the stage changed. Recording an event ID the customer already has is
// not an error: the result says Duplicate (with one exception, when
// retries are turned off: see [WithMaxRetries]).
//
// Errors wrap [ErrInvalidEvent] (with a *[ValidationError]), [ErrConflict]
// (retries exhausted), [ErrInvalidModel], [ErrNoTracker] or [ErrNilContext], or are the
// context's error or the store's error. After any error the stored customer is unchanged or has
// the event applied exactly once; retrying the same event is always safe.
// With an error the result holds only EventID and CustomerID, except when
// the event was applied and only the referrer's credit failed (the error
// says "crediting referrer"): then the result is complete.
func (t *Tracker) Record(ctx context.Context, e Event) (Result, error) {
	res := Result{EventID: e.ID, CustomerID: e.CustomerID}
	if ctx == nil {
		return res, ErrNilContext
	}
	if err := t.Validate(&e); err != nil {
		return res, err
	}
	op := t.newOp()
	op.id = e.CustomerID
	op.one[0] = e
	op.setEvents(op.one[:1], op.oneRes[:1])
	err := t.write(ctx, op)
	res, cr := op.oneRes[0], op.cr
	t.freeOp(op)
	if err != nil {
		return Result{EventID: e.ID, CustomerID: e.CustomerID}, err
	}
	if cr.referrer != "" {
		if err := t.credit(ctx, []owed{{customer: e.CustomerID, credit: cr}})[0]; err != nil {
			return res, err
		}
	}
	return res, nil
}

// RecordBatch records many events and returns one result per event, in
// the order of events. It first validates all of them: if any is invalid,
// it applies none, sets Err on each invalid event's result and returns an
// error joining them (each names the event's index). Otherwise it applies
// the events customer by customer, in the order they come, with one store
// write per customer (plus any retries, and the referral credits the
// events owe: a customer's events are folded together, so where they name
// two different referrers only the one their earliest referring event
// names is credited, as recording them one by one in time order would); a customer whose write fails gets Err on its events'
// results, the others are still applied, and the returned error joins the
// failures. A referral credit owed by a customer's events that fails to
// be written is reported in the returned error only ("crediting
// referrer"): that customer's events were applied, and their results have
// no Err. The Version of every result of a customer is the one stored
// by that write. Retrying the whole batch is safe: applied events come
// back Duplicate.
func (t *Tracker) RecordBatch(ctx context.Context, events []Event) ([]Result, error) {
	if err := t.readyCtx(ctx); err != nil {
		results := make([]Result, len(events))
		for i := range events {
			results[i] = Result{EventID: events[i].ID, CustomerID: events[i].CustomerID, Err: err}
		}
		return results, err
	}
	results := make([]Result, len(events))
	var errs []error
	for i := range events {
		results[i] = Result{EventID: events[i].ID, CustomerID: events[i].CustomerID}
		if err := t.Validate(&events[i]); err != nil {
			results[i].Err = err
			errs = append(errs, fmt.Errorf("event %d: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return results, errors.Join(errs...)
	}
	ops, pos, credited := t.recordAll(ctx, events)
	defer t.freeOps(ops)
	from := 0
	for k, op := range ops {
		for j := range op.results {
			i := pos[from+j]
			if op.err != nil {
				results[i] = Result{EventID: events[i].ID, CustomerID: op.id, Err: op.err}
			} else {
				results[i] = op.results[j]
			}
		}
		from += len(op.results)
		if err := cmp.Or(op.err, credited[k]); err != nil {
			errs = append(errs, fmt.Errorf("customer %q: %w", op.id, err))
		}
	}
	return results, errors.Join(errs...)
}

// recordAll writes valid events with one write per customer, all in one
// writeAll, and then the referral credits they earn. The writes come in
// the order their customers first appear in events, each folding that
// customer's events in the order they come; pos[j] is the index in events
// of the j-th of the ops' events, taken one op after the other (op k's
// results are pos's next len(ops[k].results)), and credited[k] is the
// error of the credit ops[k] owes (nil when none failed). The caller frees
// ops with freeOps.
func (t *Tracker) recordAll(ctx context.Context, events []Event) (ops []*writeOp, pos []int, credited []error) {
	ops, pos = t.opsFor(events)
	t.writeAll(ctx, ops, nil, nil)
	var debts []owed
	var owers []int
	for k, op := range ops {
		if op.err == nil && op.cr.referrer != "" {
			debts, owers = append(debts, owed{customer: op.id, credit: op.cr}), append(owers, k)
		}
	}
	credited = make([]error, len(ops))
	for i, err := range t.credit(ctx, debts) {
		credited[owers[i]] = err
	}
	return ops, pos, credited
}

// freeOps gives ops back to the pool.
func (t *Tracker) freeOps(ops []*writeOp) {
	for _, op := range ops {
		t.freeOp(op)
	}
}

// opsFor returns one write per customer of events (see recordAll), and
// pos: the ops' events are laid out one op after the other, and pos[j] is
// the index in events of the j-th of them.
func (t *Tracker) opsFor(events []Event) (ops []*writeOp, pos []int) {
	// Number the customers in the order they first come, count their
	// events, then place each event after the ones of its customer before
	// it (a counting sort, stable: a customer's events keep their order).
	number := make(map[string]int)
	which := make([]int, len(events))
	var order []string
	var next []int // customer k's events counted, then where its next one goes (in the end, where its part ends)
	for i := range events {
		id := events[i].CustomerID
		k, ok := number[id]
		if !ok {
			k = len(order)
			number[id] = k
			order, next = append(order, id), append(next, 0)
		}
		which[i] = k
		next[k]++
	}
	start := 0
	for k, n := range next {
		next[k], start = start, start+n
	}
	evs, pos := make([]Event, len(events)), make([]int, len(events))
	for i := range events {
		j := next[which[i]]
		next[which[i]]++
		evs[j], pos[j] = events[i], i
	}
	res := make([]Result, len(events))
	ops = make([]*writeOp, 0, len(order))
	from := 0
	for k, id := range order {
		op := t.newOp()
		op.id = id
		op.setEvents(evs[from:next[k]], res[from:next[k]])
		ops = append(ops, op)
		from = next[k]
	}
	return ops, pos
}

// SweepResult counts what a [Tracker.Sweep] did.
type SweepResult struct {
	Scanned int // customers due, read and re-classified (or found not due any more)
	Updated int // customers whose AsOf advanced to the sweep time
	Moved   int // customers whose stage changed
}

// Sweep re-classifies, at now (or at a later referral credit of theirs:
// see [Customer.ClassifiedAt]), every stored customer who is due (see
// [Customer.Due]: those whose Due is zero or at or before now; a Due of
// [Never] is never due, also at a sweep at Never), applying
// the moves that time alone causes (lapsing, at-risk), and writes each of
// them with AsOf now and their next due time. Customers who are not due
// are neither read through the store's index ([DueLister]) nor written,
// so a sweep that finds nobody due writes nothing; a store without the
// index is read whole with Scan. A customer whose AsOf is already at or
// after now is left alone, so a sweep with a clock that went backwards
// changes nothing, and a customer deleted after being listed is not
// re-created. Hooks are called for every move. Sweep writes the due
// customers in pages of up to 100 (one [Applier.Apply] each) and stops
// after the first page with an error, returning the first error of that
// page; the counts include that page.
//
// With a model that is a [Scheduler], a customer is due only when time
// alone may change their stage; with any other model every customer is
// due at every sweep. A pending referrer ([Customer.PendingReferrer]) is
// never due.
//
// A now outside the years 1900 to 9999 UTC (the range of event times) is
// refused with a *[ValidationError] whose Field is "now", wrapping
// [ErrInvalidEvent], before anything is read or written. Within it, now is
// not checked against the Tracker's clock (a what-if sweep ahead is
// allowed), but AsOf never goes back: a customer swept at a time later
// than their events still to come is classified at that time, also after
// those events, until a later one.
func (t *Tracker) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	return t.sweep(ctx, now, false)
}

// Reclassify re-classifies every stored customer at now, due or not, as
// Sweep does the due ones: each is written with the stage the Tracker's
// model gives at now (or at a later referral credit of theirs: see
// [Customer.ClassifiedAt]), AsOf now and the model's next due time, and a move
// appends a transition and calls the hooks. It is what switching a
// store's customers to another model takes: the facts need no migration
// (any model classifies them), but the stored stages, histories and due
// times are the old model's until each customer's next event, and a
// Sweep, which trusts the stored due times, may not visit a customer the
// new model would move. Pending referrers, and customers whose AsOf is
// at or after now, are left alone. It reads the store whole with Scan
// and writes in pages as Sweep does, with the same counts (Scanned: the
// customers read) and errors.
func (t *Tracker) Reclassify(ctx context.Context, now time.Time) (SweepResult, error) {
	return t.sweep(ctx, now, true)
}

// sweep is Sweep, or with all Reclassify.
func (t *Tracker) sweep(ctx context.Context, now time.Time, all bool) (SweepResult, error) {
	var sr SweepResult
	if err := t.readyCtx(ctx); err != nil {
		return sr, err
	}
	if now.Before(minTime) || !now.Before(maxTime) {
		// The range of event times: every store holds it, so no store
		// refuses (and blames a customer for) a time another accepts.
		what := "Sweep"
		if all {
			what = "Reclassify"
		}
		return sr, invalid("now", now.Format(time.RFC3339Nano), "is out of range (years 1900 to 9999): "+what+" refuses it before reading any customer")
	}
	now = now.UTC()
	page := make([]*writeOp, 0, sweepPage)
	todo := make([]*writeOp, 0, sweepPage)
	ws := make([]Write, 0, sweepPage)
	flush := func() error {
		t.writeAll(ctx, page, todo, ws)
		var first error
		for _, op := range page {
			sr.Scanned++
			if op.err != nil {
				if first == nil {
					first = fmt.Errorf("sweep customer %q: %w", op.id, op.err)
				}
			} else {
				if op.wrote {
					sr.Updated++
				}
				if op.oneRes[0].Moved {
					sr.Moved++
				}
			}
			t.freeOp(op)
		}
		page = page[:0]
		return first
	}
	for id, err := range t.due(ctx, now, all) {
		if err != nil {
			if ferr := flush(); ferr != nil {
				return sr, ferr
			}
			return sr, err
		}
		if slices.ContainsFunc(page, func(op *writeOp) bool { return op.id == id }) {
			continue // listed again (its Due moved during the listing): once per page
		}
		op := t.newOp()
		op.id = id
		op.setSweep(now, all)
		page = append(page, op)
		if len(page) == sweepPage {
			if err := flush(); err != nil {
				return sr, err
			}
		}
	}
	return sr, flush()
}

// sweepPage is how many customers a sweep writes in one [Applier.Apply].
const sweepPage = 100

// due yields the IDs of the customers due at now: from the store's index,
// or from a Scan.
func (t *Tracker) due(ctx context.Context, now time.Time, all bool) iter.Seq2[string, error] {
	if t.lister != nil && !all {
		return t.lister.ListDue(ctx, now)
	}
	return func(yield func(string, error) bool) {
		for c, err := range t.store.Scan(ctx) {
			if err != nil {
				yield("", err)
				return
			}
			if c == nil {
				yield("", fmt.Errorf("%w: the store's Scan yielded a nil customer", ErrInvalidCustomer))
				return
			}
			if (all || dueBy(c, now)) && !yield(c.ID, nil) {
				return
			}
		}
	}
}

// dueBy reports whether c's Due is zero or at or before now; Never is
// never due, also at a sweep at Never.
func dueBy(c *Customer, now time.Time) bool {
	return c.Due.IsZero() || !c.Due.After(now) && !c.Due.Equal(Never)
}

// writeOp is one write of one customer: the events to fold (a Record, a
// customer's share of a batch, a referral credit) or a sweep. It is
// pooled, with its run method bound once to fn, so that passing fn to the
// store allocates nothing.
type writeOp struct {
	t       *Tracker
	id      string // the customer
	err     error  // the outcome of the last writeAll
	attempt int    // lost races so far in this writeAll
	sweep   bool
	all     bool      // a sweep of every customer (Reclassify), due or not
	now     time.Time // the sweep time
	events  []Event   // folded in order
	results []Result  // one per event (for a sweep, oneRes[0])
	ids     []string  // distinct IDs to check: the events' but credits'
	slot    []int     // per event: its index in ids, or -1 (a credit)
	applied []bool    // per ids entry: applied earlier in this fn call
	cr      credit
	moves   []Transition // the transitions the last fn call appended
	version uint64       // the customer's version after the last fn call
	wrote   bool         // the last fn call reported a change
	seen    []bool       // the fallback's seen flags
	fn      func(c *Customer, seen []bool) (bool, error)
	one     [1]Event
	oneRes  [1]Result
	self    [1]*writeOp // write's arrays, so that one op allocates nothing
	todo    [1]*writeOp
	w       [1]Write
	index   map[string]int
}

func (t *Tracker) newOp() *writeOp {
	op, _ := t.ops.Get().(*writeOp)
	if op == nil {
		op = &writeOp{t: t}
		op.fn = op.run
	}
	return op
}

func (t *Tracker) freeOp(op *writeOp) {
	clear(op.one[:])
	clear(op.ids)
	op.events, op.results, op.cr, op.err = nil, nil, credit{}, nil
	op.self[0], op.todo[0], op.w[0] = nil, nil, Write{}
	t.ops.Put(op)
}

// setEvents prepares op to fold events, writing their results into
// results (of the same length).
func (op *writeOp) setEvents(events []Event, results []Result) {
	op.sweep, op.all = false, false
	op.events, op.results = events, results
	op.ids, op.slot = slices.Grow(op.ids[:0], len(events)), slices.Grow(op.slot[:0], len(events))
	// An ID may repeat: a few events' IDs are compared with the ones
	// before, more go through a map.
	const few = 16
	byMap := len(events) > few
	if byMap {
		if op.index == nil {
			op.index = make(map[string]int)
		}
		clear(op.index)
	}
	for i := range events {
		e := &events[i]
		if e.Type == ReferralConverted {
			op.slot = append(op.slot, -1)
			continue
		}
		var j int
		var ok bool
		if byMap {
			j, ok = op.index[e.ID]
		} else {
			j = slices.Index(op.ids, e.ID)
			ok = j >= 0
		}
		if !ok {
			j = len(op.ids)
			op.ids = append(op.ids, e.ID)
			if byMap {
				op.index[e.ID] = j
			}
		}
		op.slot = append(op.slot, j)
	}
	op.applied = slices.Grow(op.applied[:0], len(op.ids))[:len(op.ids)]
}

// setSweep prepares op to re-classify a customer at now.
func (op *writeOp) setSweep(now time.Time, all bool) {
	op.sweep, op.all, op.now = true, all, now
	op.events, op.results = nil, op.oneRes[:1]
	op.ids = op.ids[:0]
}

// run is the one fold of the write path, passed to the store as fn: it
// applies op's events (or the sweep) to c and re-classifies. It may run
// more than once for one write (after a lost race), and starts afresh
// each time.
func (op *writeOp) run(c *Customer, seen []bool) (bool, error) {
	t := op.t
	hist, prev := len(c.History), c.Version
	op.moves, op.cr, op.wrote, op.version = op.moves[:0], credit{}, false, prev
	changed := false
	if op.sweep {
		r := &op.results[0]
		*r = Result{CustomerID: c.ID, From: c.Stage, To: c.Stage, Version: prev}
		if prev == 0 || !op.now.After(c.AsOf) || !op.all && !dueBy(c, op.now) || c.PendingReferrer() {
			return false, nil // deleted, advanced or rescheduled since listed; or not a customer yet
		}
		c.AsOf = op.now
		if err := t.classify(c, "", r); err != nil {
			return false, err
		}
		changed = true
	} else {
		clear(op.applied)
		for i := range op.events {
			e, r := &op.events[i], &op.results[i]
			*r = Result{EventID: e.ID, CustomerID: e.CustomerID}
			dup := false
			if j := op.slot[i]; j >= 0 {
				dup = seen[j] || op.applied[j]
				op.applied[j] = true
			}
			applied, err := t.fold(c, e, dup, r)
			if err != nil {
				return false, err
			}
			op.cr.note(c, e, applied, t.convert)
			changed = changed || applied
		}
	}
	if !changed {
		return false, nil
	}
	due, err := t.dueOf(c)
	if err != nil {
		return false, err
	}
	c.Due = due
	c.Version = prev + 1
	op.version, op.wrote = c.Version, true
	if len(c.History) > hist {
		op.moves = append(op.moves, c.History[hist:]...)
	}
	return true, nil
}

// write applies one op (see writeAll) and returns its error.
func (t *Tracker) write(ctx context.Context, op *writeOp) error {
	op.self[0] = op
	t.writeAll(ctx, op.self[:1], op.todo[:0], op.w[:0])
	return op.err
}

// writeAll is the one write path: it applies ops (one per customer, their
// IDs distinct) through the store's [Applier], in one call, or else each
// through the fallback (load, fold, Put with compare-and-swap), applies
// again the ones that lost a race, a bounded number of times, and then,
// in the order of ops, calls the hooks for the transitions stored. Each
// op's err says how it ended. todo and ws are scratch space (nil will do).
func (t *Tracker) writeAll(ctx context.Context, ops, todo []*writeOp, ws []Write) {
	todo = append(todo[:0], ops...)
	for _, op := range ops {
		op.err, op.attempt = nil, 0
	}
	for len(todo) > 0 {
		if t.applier != nil {
			ws = ws[:0]
			for _, op := range todo {
				ws = append(ws, Write{ID: op.id, Events: op.ids, Fn: op.fn})
			}
			t.applier.Apply(ctx, ws)
		}
		next := todo[:0]
		for i, op := range todo {
			var err error
			if t.applier != nil {
				err = ws[i].Err
			} else {
				err = t.writeCAS(ctx, op)
			}
			if err == nil {
				continue
			}
			if rerr := t.retryConflict(ctx, op.id, op.attempt, err); rerr != nil {
				op.err = rerr
				continue
			}
			op.attempt++
			next = append(next, op)
		}
		todo = next
	}
	clear(ws[:cap(ws)])
	for _, op := range ops {
		if op.err != nil {
			continue
		}
		for i := range op.results {
			r := &op.results[i]
			r.Version = op.version
			if r.Undeclared {
				t.nUnd.Add(1)
				if t.warnUnd {
					t.log.WarnContext(ctx, "lifecycle: move the model's graph does not declare", "customer", op.id, "event", r.EventID, "from", r.From, "to", r.To)
				}
			}
		}
		if len(t.hooks) > 0 {
			for _, tr := range op.moves {
				t.runHooks(ctx, Change{CustomerID: op.id, Transition: tr, Undeclared: t.undeclared(tr.From, tr.To)})
			}
		}
	}
}

// writeCAS is one attempt of the fallback for a store that is not an
// [Applier]: load the whole customer (Seen and History included), fold,
// mark the events in Seen, and Put with compare-and-swap.
func (t *Tracker) writeCAS(ctx context.Context, op *writeOp) error {
	id := op.id
	if err := ctx.Err(); err != nil {
		return err
	}
	c := t.pool.Get().(*Customer)
	defer t.pool.Put(c)
	if err := t.load(ctx, id, c); err != nil {
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		c.reset()
		c.ID = id
	}
	op.seen = op.seen[:0]
	for _, eid := range op.ids {
		op.seen = append(op.seen, c.Seen.Has(eid))
	}
	prev := c.Version
	write, err := op.fn(c, op.seen)
	if err != nil || !write {
		return err
	}
	for i, eid := range op.ids {
		if !op.seen[i] {
			c.Seen.Add(KeyOf(eid))
		}
	}
	return t.store.Put(ctx, c, prev)
}

// fold applies one event to c and re-classifies; dup reports that the
// event (other than a referral credit) was applied before. It reports
// false for a duplicate, or for a referral credit c already holds at that
// time or earlier.
func (t *Tracker) fold(c *Customer, e *Event, dup bool, res *Result) (bool, error) {
	res.From, res.To = c.Stage, c.Stage
	if e.Type == ReferralConverted {
		if !c.Facts.add(e) {
			res.Duplicate = true
			return false, nil
		}
		return true, t.classify(c, e.ID, res)
	}
	if dup {
		res.Duplicate = true
		return false, nil
	}
	if err := c.Facts.room(e, c.ID); err != nil {
		return false, err
	}
	c.Facts.add(e)
	if at := e.Time.UTC(); at.After(c.AsOf) {
		c.AsOf = at
	}
	return true, t.classify(c, e.ID, res)
}

// classify sets c's stage at its classification time (see
// [Customer.AsOf]), appending a transition if it changed. A pending
// referrer is not classified: it enters the model with its first event.
func (t *Tracker) classify(c *Customer, cause string, res *Result) error {
	if c.PendingReferrer() {
		res.To = c.Stage
		return nil
	}
	when := c.ClassifiedAt()
	s, err := t.stageOf(&c.Facts, when)
	if err != nil {
		return err
	}
	res.To = s
	if s == c.Stage {
		return nil
	}
	res.Undeclared = t.undeclared(c.Stage, s)
	// The move is dated at the classification time, but never before the
	// stage it leaves began: a referral credit whose time moved earlier
	// lowers the classification time, and a History stays in time order.
	if c.Since.After(when) {
		when = c.Since
	}
	c.History = append(c.History, Transition{From: c.Stage, To: s, At: when, Cause: cause})
	c.Stage, c.Since = s, when
	res.Moved = true
	return nil
}

// undeclared reports that the graph has no edge from → to (from not
// empty), from the bitset of declared edges: no map look-up, no
// allocation. A from the graph does not declare is undeclared.
func (t *Tracker) undeclared(from, to stage.ID) bool {
	if from == "" {
		return false
	}
	i, j := t.index(from), t.index(to)
	return i < 0 || j < 0 || t.edges[i*t.words+j/64]&(1<<(j%64)) == 0
}

// index returns the position of id among the graph's stages, or -1.
func (t *Tracker) index(id stage.ID) int {
	if len(t.ids) > 16 {
		return t.graph.Index(id)
	}
	return slices.Index(t.ids, id)
}

// Undeclared returns how many moves the graph does not declare (see
// [Result.Undeclared]) this Tracker has stored since it was made.
func (t *Tracker) Undeclared() uint64 {
	if t == nil {
		return 0
	}
	return t.nUnd.Load()
}

func (t *Tracker) stageOf(f *Facts, now time.Time) (s stage.ID, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: model %q panicked: %s", ErrInvalidModel, t.name, clip.Value(r))
		}
	}()
	s = t.model.Stage(f, now)
	if !slices.Contains(t.ids, s) {
		return "", fmt.Errorf("%w: model %q returned undeclared stage %q", ErrInvalidModel, t.name, clip.String(string(s)))
	}
	return s, nil
}

// dueOf returns c's next due time (see [Customer.Due]): [Never] for a
// pending referrer; zero when the
// model is not a [Scheduler] or announces a change at or before c's
// classification time, [Never] when it announces none (or one after
// Never), else the announced time in UTC.
func (t *Tracker) dueOf(c *Customer) (due time.Time, err error) {
	if c.PendingReferrer() {
		return Never, nil // not classified until its first event
	}
	if t.sched == nil {
		return time.Time{}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: model %q panicked in NextChange: %s", ErrInvalidModel, t.name, clip.Value(r))
		}
	}()
	at := c.ClassifiedAt()
	next := t.sched.NextChange(&c.Facts, at)
	switch {
	case next.IsZero(), next.After(Never):
		return Never, nil
	case !next.After(at):
		return time.Time{}, nil
	case next.Equal(Never):
		// A change at the last instant itself: Never would say none.
		// One nanosecond early, so that a sweep at Never applies it.
		return Never.Add(-time.Nanosecond), nil
	}
	return next.UTC(), nil
}

// retryConflict decides what follows a failed write attempt (attempt
// counts from 0): it returns nil when the write lost a race (ErrConflict)
// and may be tried again, or else the error to return (the context's,
// when it is done).
func (t *Tracker) retryConflict(ctx context.Context, id string, attempt int, err error) error {
	if !errors.Is(err, ErrConflict) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if attempt >= t.retries {
		t.log.WarnContext(ctx, "lifecycle: write conflict, giving up", "customer", id, "attempts", attempt+1)
		return fmt.Errorf("customer %q: gave up after %d attempts: %w", id, attempt+1, err)
	}
	if t.log.Enabled(ctx, slog.LevelDebug) {
		t.log.DebugContext(ctx, "lifecycle: write conflict, retrying", "customer", id, "attempt", attempt+1)
	}
	return nil
}

func (t *Tracker) load(ctx context.Context, id string, dst *Customer) error {
	if t.loader != nil {
		return t.loader.Load(ctx, id, dst)
	}
	c, err := t.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("%w: the store's Get returned a nil customer for %q", ErrInvalidCustomer, id)
	}
	c.CopyTo(dst)
	return nil
}

func (t *Tracker) runHooks(ctx context.Context, ch Change) {
	for _, h := range t.hooks {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.log.ErrorContext(ctx, "lifecycle: transition hook panicked", "customer", ch.CustomerID, "from", ch.From, "to", ch.To, "panic", fmt.Sprint(r))
				}
			}()
			h(ctx, ch)
		}()
	}
}

// ReferralEventID returns the ID of the [ReferralConverted] credit the
// Tracker records on a referrer when the customer with this ID has
// converted: "clm.referral:" followed by the ID.
func ReferralEventID(customerID string) string { return referralPrefix + customerID }

const referralPrefix = "clm.referral:"

// credit is what the write loop learned about a referral credit owed.
type credit struct {
	referrer   string
	firstOrder time.Time // the first conversion
}

// note records, after e was folded into c (or found a duplicate: applied
// false), that c's referrer is owed a credit at c's first conversion (the
// earliest event of one of the types that convert, see [Converter]): when
// c was referred, has converted, and e is a converting event at that
// time, a referral claim (a ReferrerID), or a duplicate (a retry, whose
// earlier credit may have failed). Credits themselves owe nothing.
func (cr *credit) note(c *Customer, e *Event, applied bool, convert []EventType) {
	if c.Facts.ReferredBy == "" || e.Type == ReferralConverted {
		return
	}
	var first time.Time
	for _, ty := range convert {
		if tl, ok := c.Facts.Tally(ty); ok && tl.Count > 0 && (first.IsZero() || tl.First.Before(first)) {
			first = tl.First
		}
	}
	if first.IsZero() {
		return
	}
	if applied && e.ReferrerID == "" && (!slices.Contains(convert, e.Type) || !e.Time.UTC().Equal(first)) {
		return
	}
	cr.referrer, cr.firstOrder = c.Facts.ReferredBy, first
}

// owed is a referral credit that customer's events earned their referrer.
type owed struct {
	customer string
	credit
}

// credit records the [ReferralConverted] credits debts owe, one write per
// referrer, and returns one error per debt (nil when its credit was
// written, or changed nothing). Credits are idempotent (they fold into
// [Facts.Referrals], keeping the earliest time), so running one again
// after a retry is harmless, and a credit that changes nothing is not
// written.
func (t *Tracker) credit(ctx context.Context, debts []owed) []error {
	errs := make([]error, len(debts))
	if len(debts) == 0 {
		return errs
	}
	byReferrer := make(map[string][]int)
	var order []string
	for i, d := range debts {
		if _, ok := byReferrer[d.referrer]; !ok {
			order = append(order, d.referrer)
		}
		byReferrer[d.referrer] = append(byReferrer[d.referrer], i)
	}
	ops := make([]*writeOp, 0, len(order))
	for _, ref := range order {
		idx := byReferrer[ref]
		// In the order Facts.Referrals keeps, so that a referrer's many
		// new credits (an affiliate's, in a batch or an import chunk) go
		// in after each other rather than each into the middle.
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(debts[a].customer, debts[b].customer) })
		evs := make([]Event, 0, len(idx))
		for _, i := range idx {
			d := debts[i]
			evs = append(evs, Event{
				ID:         ReferralEventID(d.customer),
				CustomerID: ref,
				Type:       ReferralConverted,
				Time:       d.firstOrder,
				Attrs:      map[string]string{ReferredIDAttr: d.customer},
			})
		}
		op := t.newOp()
		op.id = ref
		op.setEvents(evs, make([]Result, len(evs)))
		ops = append(ops, op)
	}
	t.writeAll(ctx, ops, nil, nil)
	for _, op := range ops {
		if op.err != nil {
			for _, i := range byReferrer[op.id] {
				errs[i] = fmt.Errorf("crediting referrer %q: %w", op.id, op.err)
			}
		}
		t.freeOp(op)
	}
	return errs
}
