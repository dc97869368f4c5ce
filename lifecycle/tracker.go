package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/clmkit/clm/stage"
)

// Tracker records events into customers' facts, classifies customers with
// its [Model] and keeps their stage history in a [Store]. A Tracker is safe
// for concurrent use by many goroutines, and several Trackers (in one
// process or many) may share one Store.
//
// Guarantees:
//   - Idempotent: an event ID is applied to a customer at most once, however
//     often it is recorded (retries, duplicates, concurrent writers).
//   - Order-independent: a customer's facts, stage and AsOf after a set of
//     events do not depend on the order the events arrive in. (The history
//     lists stage changes in the order the tracker saw them.) This includes
//     the referral credits the Tracker derives, with one exception below.
//   - Referral credit: when a customer with a referrer ([Facts.ReferredBy])
//     has at least one order_completed, the Tracker records a
//     [ReferralConverted] credit on the referrer, with the ID
//     [ReferralEventID] of the customer, Attrs[ReferredIDAttr] the
//     customer's ID and the time of their first order_completed. It does so
//     after recording an event of that customer that is an order_completed
//     at their first order's time, that carries a ReferrerID, or that is a
//     duplicate (a retry, whose earlier credit may have failed). Credits
//     fold into [Facts.Referrals], keeping the earliest time per referred
//     customer, so a credit given again counts once, and an earlier order
//     arriving late moves the credit back to it. Credits do not enter
//     [Customer.Seen], [Customer.AsOf] or [Facts.First] and [Facts.Last];
//     a credit that changes nothing is not written.
//   - The exception: a credit is never taken back. If a customer's events
//     name two different referrers and the event naming the earlier one
//     (which becomes [Facts.ReferredBy]) arrives after the customer's
//     credit was given to the other, both referrers keep a credit.
//   - Atomic: each write is a compare-and-swap on the customer's version,
//     retried on conflict a bounded number of times; a failed write leaves
//     the stored customer as it was, so a retry of the same event applies
//     it exactly once.
//   - Hooks run after the write has committed.
//
// A customer's stage is computed at their classification time, the later
// of their AsOf (the latest event or sweep time applied to them, referral
// credits excepted) and their latest referral credit
// (Facts.LastTime(ReferralConverted)), not at the wall clock: replaying
// last year's events gives last year's stages. Transitions are dated at the
// classification time. Moves caused by time passing alone (a
// buyer who lapses) are applied by [Tracker.Sweep].
type Tracker struct {
	model   Model
	graph   *stage.Graph
	ids     []stage.ID // graph.IDs(), searched faster than the graph's map
	store   Store
	loader  Loader
	updater Updater
	events  EventUpdater
	now     func() time.Time
	log     *slog.Logger
	skew    time.Duration
	retries int
	hooks   []Hook
	pool    sync.Pool // *Customer scratch space
	ops     sync.Pool // *inPlace
}

// Hook is called after a customer's stage change has been stored. Hooks
// run synchronously on the goroutine that recorded the event, in the order
// they were added; a slow hook delays the Record call that triggered it. A
// panicking hook is recovered and logged: the event stays recorded.
type Hook func(ctx context.Context, ch Change)

// Change describes one stage change, as passed to a [Hook].
type Change struct {
	CustomerID string
	Transition
}

// Option configures a [Tracker].
type Option func(*Tracker)

// WithClock sets the clock used to refuse events from the future
// (default, and when now is nil: [time.Now]).
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
// nil l means, is to discard.
func WithLogger(l *slog.Logger) Option {
	return func(t *Tracker) {
		if l == nil {
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

// WithMaxRetries sets how many times a write that lost a compare-and-swap
// race is retried before Record gives up with [ErrConflict] (default 32, so
// at most 33 attempts; n ≤ 0 means a single attempt, no retry). Writes
// through an [Updater] do not lose such races to each other; an Update that
// reports a conflict all the same (one that lost to a plain Put, see
// [Updater]) is retried under the same bound.
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

// NewTracker returns a Tracker that classifies with m and stores in s. Nil
// options are ignored.
func NewTracker(m Model, s Store, opts ...Option) *Tracker {
	t := &Tracker{
		model:   m,
		graph:   m.Stages(),
		ids:     m.Stages().IDs(),
		store:   s,
		now:     time.Now,
		log:     slog.New(slog.DiscardHandler),
		skew:    15 * time.Minute,
		retries: 32,
	}
	t.loader, _ = s.(Loader)
	t.updater, _ = s.(Updater)
	t.events, _ = s.(EventUpdater)
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	t.pool.New = func() any { return new(Customer) }
	return t
}

// Model returns the tracker's model.
func (t *Tracker) Model() Model { return t.model }

// Store returns the tracker's store.
func (t *Tracker) Store() Store { return t.store }

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
	// Version is the customer's stored version after the event.
	Version uint64
	// Err is set by [Tracker.RecordBatch] on the result of an event that
	// is invalid or whose customer's write failed; [Tracker.Record]
	// returns its error instead. Such a result has only EventID,
	// CustomerID and Err set. When a batch holds an invalid event, no
	// event is applied, and the results of its valid events have only
	// EventID and CustomerID set (Err nil): check the returned error.
	Err error
}

// Customer returns the stored customer with this ID, or an error wrapping
// [ErrNotFound].
func (t *Tracker) Customer(ctx context.Context, id string) (*Customer, error) {
	return t.store.Get(ctx, id)
}

// Validate checks an event as Record would: [Event.Validate] plus a time no
// further in the future of the tracker's clock than the allowed skew.
func (t *Tracker) Validate(e *Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if limit := t.now().Add(t.skew); e.Time.After(limit) {
		return invalid("time", e.Time.Format(time.RFC3339Nano), "is more than "+t.skew.String()+" in the future")
	}
	return nil
}

// Record validates an event and applies it to its customer: folds it into
// the facts, re-classifies, stores the result with compare-and-swap and
// then calls the hooks if the stage changed. Recording an event ID the
// customer already has is not an error: the result says Duplicate.
//
// Errors wrap [ErrInvalidEvent] (with a *[ValidationError]), [ErrConflict]
// (retries exhausted), [ErrInvalidModel], the context's error, or the
// store's error. After any error the stored customer is unchanged or has
// the event applied exactly once; retrying the same event is always safe.
// With an error the result holds only EventID and CustomerID, except when
// the event was applied and only the referrer's credit failed (the error
// says "crediting referrer"): then the result is complete.
func (t *Tracker) Record(ctx context.Context, e Event) (Result, error) {
	res := Result{EventID: e.ID, CustomerID: e.CustomerID}
	if err := t.Validate(&e); err != nil {
		return res, err
	}
	var cr credit
	var err error
	if t.events != nil && e.Type != ReferralConverted {
		err = t.recordInPlace(ctx, &e, &res, &cr)
	} else {
		err = t.recordCopy(ctx, e, &res, &cr)
	}
	if err != nil {
		return Result{EventID: e.ID, CustomerID: e.CustomerID}, err
	}
	if err := t.creditReferral(ctx, e.CustomerID, cr); err != nil {
		return res, err
	}
	return res, nil
}

// recordCopy is Record's path for a store that is not an [EventUpdater],
// and for referral credits: fold into a working copy of the customer and
// store it with [Updater.Update] when the store has it, or else with a
// compare-and-swap Put.
func (t *Tracker) recordCopy(ctx context.Context, e Event, res *Result, cr *credit) error {
	r := *res
	var c credit
	err := t.apply(ctx, e.CustomerID, func(cu *Customer) (bool, error) {
		c = credit{}
		applied, err := t.fold(cu, &e, &r)
		c.note(cu, &e, applied)
		return applied, err
	}, &r)
	*res, *cr = r, c
	return err
}

// inPlace is the state of one Record through an [EventUpdater]. It is
// pooled, with its fold method bound once to fn, so that passing fn to the
// store allocates nothing.
type inPlace struct {
	t   *Tracker
	e   Event
	res Result
	cr  credit
	tr  Transition
	fn  func(c *Customer, seen bool) (bool, error)
}

// recordInPlace is Record's path for a store that is an [EventUpdater]:
// the store checks the event's digest against the customer's Seen and
// keeps Seen and History itself, so neither is copied.
func (t *Tracker) recordInPlace(ctx context.Context, e *Event, res *Result, cr *credit) error {
	op, _ := t.ops.Get().(*inPlace)
	if op == nil {
		op = &inPlace{t: t}
		op.fn = op.fold
	}
	op.e = *e
	err := t.events.UpdateEvent(ctx, e.CustomerID, EventDigest(e.ID), op.fn)
	*res, *cr = op.res, op.cr
	tr := op.tr
	*op = inPlace{t: t, fn: op.fn}
	t.ops.Put(op)
	if err != nil {
		return err
	}
	if res.Moved && len(t.hooks) > 0 {
		t.runHooks(ctx, Change{CustomerID: e.CustomerID, Transition: tr})
	}
	return nil
}

// fold applies op.e, which is not a [ReferralConverted] credit, to c, a
// working copy of the stored customer without History and Seen (see
// [EventUpdater]); seen reports that the event was applied before.
func (op *inPlace) fold(c *Customer, seen bool) (bool, error) {
	e := &op.e
	res := &op.res
	*res = Result{EventID: e.ID, CustomerID: e.CustomerID, From: c.Stage, To: c.Stage, Version: c.Version}
	op.cr = credit{}
	if seen {
		res.Duplicate = true
		op.cr.note(c, e, false)
		return false, nil
	}
	c.Facts.add(e)
	if at := e.Time.UTC(); at.After(c.AsOf) {
		c.AsOf = at
	}
	when := c.ClassifiedAt()
	s, err := op.t.stageOf(&c.Facts, when)
	if err != nil {
		return false, err
	}
	res.To = s
	if s != c.Stage {
		op.tr = Transition{From: c.Stage, To: s, At: when, Cause: e.ID}
		c.History = append(c.History, op.tr)
		c.Stage, c.Since = s, when
		res.Moved = true
	}
	c.Version++
	res.Version = c.Version
	op.cr.note(c, e, true)
	return true, nil
}

// RecordBatch records many events and returns one result per event, in
// the order of events. It first validates all of them: if any is invalid,
// it applies none, sets Err on each invalid event's result and returns an
// error joining them (each names the event's index). Otherwise it applies
// the events customer by customer, in the order they come, with one store
// write per customer (plus any retries, and the referral credits the
// events owe); a customer whose write fails gets Err on its events'
// results, the others are still applied, and the returned error joins the
// failures. A referral credit owed by a customer's events that fails to
// be written is reported in the returned error only ("crediting
// referrer"): that customer's events were applied, and their results have
// no Err. The Version of every result of a customer is the one stored
// by that write. Retrying the whole batch is safe: applied events come
// back Duplicate.
func (t *Tracker) RecordBatch(ctx context.Context, events []Event) ([]Result, error) {
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
	order := make([]string, 0, len(events))
	groups := make(map[string][]int)
	for i := range events {
		id := events[i].CustomerID
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], i)
	}
	for _, id := range order {
		idx := groups[id]
		var last Result
		var cr credit
		err := t.apply(ctx, id, func(c *Customer) (bool, error) {
			cr = credit{}
			any := false
			for _, i := range idx {
				r := Result{EventID: events[i].ID, CustomerID: id}
				applied, err := t.fold(c, &events[i], &r)
				if err != nil {
					return false, err
				}
				cr.note(c, &events[i], applied)
				results[i] = r
				any = any || applied
			}
			return any, nil
		}, &last)
		for _, i := range idx {
			if err != nil {
				results[i] = Result{EventID: events[i].ID, CustomerID: id, Err: err}
			} else {
				results[i].Version = last.Version
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("customer %q: %w", id, err))
			continue
		}
		if err := t.creditReferral(ctx, id, cr); err != nil {
			errs = append(errs, fmt.Errorf("customer %q: %w", id, err))
		}
	}
	return results, errors.Join(errs...)
}

// SweepResult counts what a [Tracker.Sweep] did.
type SweepResult struct {
	Scanned int // customers read
	Updated int // customers whose AsOf advanced to the sweep time
	Moved   int // customers whose stage changed
}

// Sweep re-classifies every stored customer at now, applying the moves that
// time alone causes (lapsing, at-risk). A customer whose AsOf is already
// at or after now is left alone, so a sweep with a clock that went
// backwards changes nothing, and a customer deleted after Scan yielded it
// is not re-created. Hooks are called for every move. Sweep writes each
// customer it advances (their AsOf becomes now) and stops at the first
// error.
func (t *Tracker) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var sr SweepResult
	now = now.UTC()
	for c, err := range t.store.Scan(ctx) {
		if err != nil {
			return sr, err
		}
		sr.Scanned++
		if !now.After(c.AsOf) {
			continue
		}
		var res Result
		wrote := false
		err := t.apply(ctx, c.ID, func(c *Customer) (bool, error) {
			// Runs again after a write conflict: decide afresh each time.
			wrote = false
			if c.Version == 0 {
				return false, nil // deleted since Scan copied it: not re-created
			}
			if !now.After(c.AsOf) {
				return false, nil // advanced since Scan copied it
			}
			c.AsOf = now
			res.From = c.Stage
			err := t.classify(c, "", &res)
			wrote = err == nil
			return wrote, err
		}, &res)
		if err != nil {
			return sr, fmt.Errorf("sweep customer %q: %w", c.ID, err)
		}
		if wrote {
			sr.Updated++
		}
		if res.Moved {
			sr.Moved++
		}
	}
	return sr, nil
}

// fold applies one event to c and re-classifies. It reports false for a
// duplicate, or for a referral credit c already holds at that time or
// earlier.
func (t *Tracker) fold(c *Customer, e *Event, res *Result) (bool, error) {
	res.From, res.To = c.Stage, c.Stage
	if e.Type == ReferralConverted {
		if !c.Facts.add(e) {
			res.Duplicate = true
			return false, nil
		}
		return true, t.classify(c, e.ID, res)
	}
	if !c.markSeen(EventDigest(e.ID)) {
		res.Duplicate = true
		return false, nil
	}
	c.Facts.add(e)
	if at := e.Time.UTC(); at.After(c.AsOf) {
		c.AsOf = at
	}
	return true, t.classify(c, e.ID, res)
}

// classify sets c's stage at its classification time (see
// [Customer.AsOf]), appending a transition if it changed.
func (t *Tracker) classify(c *Customer, cause string, res *Result) error {
	when := c.ClassifiedAt()
	s, err := t.stageOf(&c.Facts, when)
	if err != nil {
		return err
	}
	res.To = s
	if s == c.Stage {
		return nil
	}
	c.History = append(c.History, Transition{From: c.Stage, To: s, At: when, Cause: cause})
	c.Stage, c.Since = s, when
	res.Moved = true
	return nil
}

func (t *Tracker) stageOf(f *Facts, now time.Time) (s stage.ID, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: model %q panicked: %v", ErrInvalidModel, t.model.Name(), r)
		}
	}()
	s = t.model.Stage(f, now)
	if !slices.Contains(t.ids, s) {
		return "", fmt.Errorf("%w: model %q returned undeclared stage %q", ErrInvalidModel, t.model.Name(), s)
	}
	return s, nil
}

// apply runs the read-modify-write loop for one customer: load (or start a
// new customer), let fn change it, and store it with compare-and-swap,
// retrying on conflict. fn reports whether there is anything to write. On
// success, res.Version is the stored version and the hooks have been called
// for every new transition.
func (t *Tracker) apply(ctx context.Context, id string, fn func(c *Customer) (bool, error), res *Result) error {
	c := t.pool.Get().(*Customer)
	defer t.pool.Put(c)
	if t.updater != nil {
		return t.applyUpdate(ctx, id, c, fn, res)
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := t.load(ctx, id, c); err != nil {
			if !errors.Is(err, ErrNotFound) {
				return err
			}
			c.reset()
			c.ID = id
		}
		prev := c.Version
		hist := len(c.History)
		write, err := fn(c)
		if err != nil {
			return err
		}
		if !write {
			res.Version = prev // 0 for a customer never stored
			return nil
		}
		c.Version = prev + 1
		err = t.store.Put(ctx, c, prev)
		if err == nil {
			res.Version = c.Version
			if len(t.hooks) > 0 {
				for _, tr := range c.History[hist:] {
					t.runHooks(ctx, Change{CustomerID: id, Transition: tr})
				}
			}
			return nil
		}
		if err := t.retryConflict(ctx, id, attempt, err, res); err != nil {
			return err
		}
	}
}

// retryConflict decides what follows a failed write attempt (attempt
// counts from 0): it returns nil when the write lost a race (ErrConflict)
// and may be tried again, having reset res, or else the error to return
// (the context's, when it is done).
func (t *Tracker) retryConflict(ctx context.Context, id string, attempt int, err error, res *Result) error {
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
	*res = Result{EventID: res.EventID, CustomerID: res.CustomerID}
	return nil
}

// applyUpdate is apply for an [Updater] store: fn works on scratch, a copy
// of the stored customer, which replaces the stored one only if fn
// succeeds, so a failing fn leaves the stored customer untouched. An
// Update that reports a conflict (which an Updater may, against a writer
// that does not go through Update: see [Updater]) stored nothing and is
// run again, as a lost compare-and-swap is.
func (t *Tracker) applyUpdate(ctx context.Context, id string, scratch *Customer, fn func(c *Customer) (bool, error), res *Result) error {
	var changes []Transition
	update := func(c *Customer) (bool, error) {
		changes = changes[:0]
		c.CopyTo(scratch)
		prev, hist := scratch.Version, len(scratch.History)
		res.Version = prev
		write, err := fn(scratch)
		if err != nil || !write {
			return false, err
		}
		scratch.Version = prev + 1
		changes = append(changes, scratch.History[hist:]...)
		scratch.CopyTo(c)
		res.Version = c.Version
		return true, nil
	}
	for attempt := 0; ; attempt++ {
		err := t.updater.Update(ctx, id, update)
		if err == nil {
			break
		}
		if err := t.retryConflict(ctx, id, attempt, err, res); err != nil {
			return err
		}
	}
	if len(t.hooks) > 0 {
		for _, tr := range changes {
			t.runHooks(ctx, Change{CustomerID: id, Transition: tr})
		}
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
// Tracker records on a referrer when the customer with this ID has ordered:
// "clm.referral:" followed by the ID.
func ReferralEventID(customerID string) string { return referralPrefix + customerID }

const referralPrefix = "clm.referral:"

// credit is what the write loop learned about a referral credit owed.
type credit struct {
	referrer   string
	firstOrder time.Time
}

// note records, after e was folded into c (or found a duplicate: applied
// false), that c's referrer is owed a credit at c's first order: when c was
// referred, has ordered, and e is an order at that first order's time, a
// referral claim (a ReferrerID), or a duplicate (a retry, whose earlier
// credit may have failed). Credits themselves owe nothing.
func (cr *credit) note(c *Customer, e *Event, applied bool) {
	if c.Facts.ReferredBy == "" || e.Type == ReferralConverted {
		return
	}
	orders, ok := c.Facts.Tally(OrderCompleted)
	if !ok || orders.Count < 1 {
		return
	}
	if applied && e.ReferrerID == "" && (e.Type != OrderCompleted || !e.Time.UTC().Equal(orders.First)) {
		return
	}
	cr.referrer, cr.firstOrder = c.Facts.ReferredBy, orders.First
}

// creditReferral records the [ReferralConverted] credit on the referrer of
// customer id. It is idempotent (credits fold into [Facts.Referrals],
// keeping the earliest time), so running it again after a retry is
// harmless, and a credit that changes nothing is not written.
func (t *Tracker) creditReferral(ctx context.Context, id string, cr credit) error {
	if cr.referrer == "" {
		return nil
	}
	e := Event{
		ID:         ReferralEventID(id),
		CustomerID: cr.referrer,
		Type:       ReferralConverted,
		Time:       cr.firstOrder,
		Attrs:      map[string]string{ReferredIDAttr: id},
	}
	var r Result
	err := t.apply(ctx, e.CustomerID, func(rc *Customer) (bool, error) {
		return t.fold(rc, &e, &r)
	}, &r)
	if err != nil {
		return fmt.Errorf("crediting referrer %q: %w", e.CustomerID, err)
	}
	return nil
}
