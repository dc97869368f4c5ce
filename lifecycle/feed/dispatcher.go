package feed

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
)

// Defaults of the options.
const (
	DefaultMinBackoff = time.Second      // shortest wait after a failure (WithBackoff)
	DefaultMaxBackoff = 5 * time.Minute  // longest wait after a failure (WithBackoff)
	DefaultLease      = 30 * time.Second // how long a claim holds the name (WithLease)
	DefaultPoll       = time.Second      // wait when there is nothing to do (WithPoll)
	DefaultBatch      = 100              // changes per call to the feed (WithBatch)
)

// releaseTimeout bounds the call that gives the lease up when Run ends
// (its ctx is done by then, so the call gets a context of its own).
const releaseTimeout = 5 * time.Second

// config holds what the options set.
type config struct {
	owner    string
	ownerSet bool
	now      func() time.Time
	rng      *rand.Rand
	minBack  time.Duration
	maxBack  time.Duration
	lease    time.Duration
	poll     time.Duration
	batch    int
	log      *slog.Logger
}

// Option configures a [Dispatcher]; [New] ignores a nil Option and
// refuses a value out of range.
type Option func(*config)

// WithOwner sets the name this dispatcher holds leases under. Owners must
// differ between the instances sharing a name (and a store); the default
// is the host name, the process ID and a random suffix, which does. New
// refuses an empty owner, one of only white space, or one a store may not
// hold (see New).
func WithOwner(owner string) Option {
	return func(c *config) { c.owner, c.ownerSet = owner, true }
}

// WithClock sets the clock that times leases (default, and when now is
// nil: [time.Now]); it must be safe for concurrent use. It also seeds
// the default jitter source. Waits use real timers whatever the clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithRand sets the source of the back-off jitter. It is used by Run
// only, never concurrently. The default, and what a nil r means, is a
// PCG generator seeded from the clock when New is called.
func WithRand(r *rand.Rand) Option {
	return func(c *config) { c.rng = r }
}

// WithBackoff sets the shortest and the longest wait after a failed
// attempt (defaults 1s and 5m). After the n-th failure in a row of the
// same change the dispatcher waits a time drawn uniformly from
// [c/2, c], where c = min(max, min·2ⁿ), and never less than min ("equal
// jitter"): the waits about double, from between min and 2·min up to
// between max/2 and max, and until they get there each is at least as
// long as the one before.
// A longer wait asked for with [RetryAfter] wins. The same waits separate
// the attempts to reach a store that fails. New refuses min ≤ 0 and
// max < min.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minBack, c.maxBack = min, max }
}

// minLease is the shortest lease New accepts (see WithLease).
const minLease = 100 * time.Millisecond

// WithLease sets how long a claim or a renewal holds the name (default
// 30s). The holder renews it before every page, after every delivered
// change, and whenever ttl/3 has passed since it last did while it
// waits, retries a change (however short the back-offs) or a handler
// runs; a holder
// that dies keeps the name at most ttl, then another instance takes
// over. New refuses ttl below 100ms: a lease that runs out between the
// claim and the advance of its first change would deliver that change
// again and again.
func WithLease(ttl time.Duration) Option {
	return func(c *config) { c.lease = ttl }
}

// WithPoll sets how long the dispatcher waits when the feed has nothing
// after its cursor, or when another instance holds the name, before it
// looks again (default 1s). New refuses d ≤ 0.
func WithPoll(d time.Duration) Option {
	return func(c *config) { c.poll = d }
}

// WithBatch sets how many changes one call to the feed lists (default
// 100). New refuses n < 1.
func WithBatch(n int) Option {
	return func(c *config) { c.batch = n }
}

// WithLogger sets the logger: lease taken and lost (Info), failed
// attempts and store errors (Warn), a [Stop] (Error), skipped changes
// and the lease given up (Debug). The default, and what a nil l means,
// is to discard.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

// Dispatcher delivers a store's change feed to a [Handler] at least once,
// in feed order, one change at a time; see the package documentation.
// Make one with [New]; its methods are safe for concurrent use, but a
// Dispatcher runs in one goroutine at a time.
type Dispatcher struct {
	src     lifecycle.ChangeLister
	cursors lifecycle.CursorKeeper
	name    string
	handler Handler
	cfg     config

	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	running atomic.Bool

	// Run's state, touched only by the goroutine running Run (and read
	// by the lease heartbeat while Run waits for it).
	holding bool
	stored  lifecycle.Cursor // the cursor the store holds, as far as Run knows
	pos     lifecycle.Cursor // delivered through: stored, or ahead while an advance is pending
	renewed time.Time        // when the lease was last claimed, renewed or extended by an advance (the clock's time)

	mu    sync.Mutex
	stats Stats
}

// Stats is a snapshot of a dispatcher's progress, for logs and
// dashboards. Times are the dispatcher's clock.
type Stats struct {
	// Name is the feed name the dispatcher delivers under, and Owner the
	// name it holds leases under.
	Name, Owner string
	// Running is true while Run runs.
	Running bool
	// Holding is true while this dispatcher holds the name's lease: it
	// is the instance delivering. Of the instances sharing a name, at
	// most one should show true for long.
	Holding bool
	// Cursor is the name's stored cursor as this dispatcher last read or
	// stored it: every change at or before it has been delivered.
	Cursor lifecycle.Cursor
	// Delivered counts the changes the handler accepted (the same change
	// delivered twice counts twice), and Failures the attempts that
	// failed, each retry included (a failure because Run's ctx ended is
	// not counted).
	Delivered, Failures uint64
	// StoreErrors counts failed calls to the feed or the cursor keeper
	// (other than a lost lease): a failed lease renewal is tried again at
	// the next renewal (every third of the lease), the others after a
	// back-off. (Giving the lease up when Run ends is neither counted nor
	// tried again.)
	StoreErrors uint64
	// LeaseLosses counts the times this dispatcher found that it no
	// longer held the name it believed it held (another owner took it,
	// or its lease ran out and was renewed after another owner moved
	// the cursor).
	LeaseLosses uint64
	// Current is the ID ([lifecycle.Change.ID]) of the change being
	// delivered, empty when none is.
	Current string
	// Attempts is how many attempts at Current have failed so far.
	Attempts int
	// NextAttempt is when the next attempt at Current is due, while the
	// dispatcher waits after a failure; zero otherwise.
	NextAttempt time.Time
	// PendingSince is when the page holding Current was listed: Current
	// was committed before then, so it has waited at least since then
	// (see [Stats.Lag]). Zero when no listed change waits for delivery.
	PendingSince time.Time
	// CaughtUpAt is the last time the feed had nothing after the cursor.
	CaughtUpAt time.Time
	// LastDelivered is when the handler last accepted a change, and
	// LastDeliveredID that change's ID.
	LastDelivered   time.Time
	LastDeliveredID string
	// LastError is the last failure (a handler's or a store's) and
	// LastErrorAt when it happened; they are not cleared by a success.
	LastError   string
	LastErrorAt time.Time
}

// Lag returns how long the change being delivered has waited at least,
// as of now: now − PendingSince, or 0 when nothing waits. It grows while
// a receiver fails; a dispatcher that keeps up shows a lag of about the
// time one page takes.
func (s Stats) Lag(now time.Time) time.Duration {
	if s.PendingSince.IsZero() || now.Before(s.PendingSince) {
		return 0
	}
	return now.Sub(s.PendingSince)
}

// New returns a Dispatcher that delivers src's changes to h, keeping its
// cursor under name in cursors (usually both are the same store, which
// implements [lifecycle.ChangeLister] and [lifecycle.CursorKeeper]).
// Instances in several processes that use the same name and store share
// one cursor and take turns (see the package documentation); dispatchers
// with different names deliver the feed independently, each all of it.
// Nil options are ignored. It returns an error wrapping [ErrInvalid] for a
// nil src, cursors or h, an empty name (or one of only white space), a
// name or owner a store may not hold (more than [lifecycle.MaxIDLen]
// bytes, not valid UTF-8, or with a NUL byte: sqlstore refuses such a
// cursor, and Run would retry for ever), or an option out of range.
func New(src lifecycle.ChangeLister, cursors lifecycle.CursorKeeper, name string, h Handler, opts ...Option) (*Dispatcher, error) {
	switch {
	case nilness.Is(src):
		return nil, invalid("src", "<nil>", "a change feed (lifecycle.ChangeLister) is needed")
	case nilness.Is(cursors):
		return nil, invalid("cursors", "<nil>", "a cursor keeper (lifecycle.CursorKeeper) is needed")
	case strings.TrimSpace(name) == "":
		return nil, invalid("name", strconv.Quote(name), "must not be empty")
	case !holdable(name):
		return nil, invalid("name", strconv.Quote(clip.String(name)), holdableRule)
	case h == nil:
		return nil, invalid("handler", "<nil>", "a handler is needed")
	}
	cfg := config{
		minBack: DefaultMinBackoff,
		maxBack: DefaultMaxBackoff,
		lease:   DefaultLease,
		poll:    DefaultPoll,
		batch:   DefaultBatch,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch {
	case cfg.ownerSet && strings.TrimSpace(cfg.owner) == "":
		return nil, invalid("WithOwner", strconv.Quote(cfg.owner), "must not be empty")
	case cfg.ownerSet && !holdable(cfg.owner):
		return nil, invalid("WithOwner", strconv.Quote(clip.String(cfg.owner)), holdableRule)
	case cfg.minBack <= 0:
		return nil, invalid("WithBackoff min", cfg.minBack, "must be positive")
	case cfg.maxBack < cfg.minBack:
		return nil, invalid("WithBackoff max", cfg.maxBack, "must not be shorter than min "+cfg.minBack.String())
	case cfg.lease < minLease:
		return nil, invalid("WithLease", cfg.lease, "must be at least "+minLease.String())
	case cfg.poll <= 0:
		return nil, invalid("WithPoll", cfg.poll, "must be positive")
	case cfg.batch < 1:
		return nil, invalid("WithBatch", cfg.batch, "must be at least 1")
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.rng == nil {
		seed := uint64(cfg.now().UnixNano())
		cfg.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	if !cfg.ownerSet {
		cfg.owner = defaultOwner()
	}
	d := &Dispatcher{
		src:     src,
		cursors: cursors,
		name:    name,
		handler: h,
		cfg:     cfg,
		sleep:   sleep,
	}
	d.stats.Name, d.stats.Owner = name, cfg.owner
	return d, nil
}

// defaultOwner returns "host/pid/suffix", the suffix random (from
// crypto/rand: an owner must not repeat between processes, and a seeded
// generator could).
func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "/" + strconv.Itoa(os.Getpid()) + "/" + crand.Text()[:10]
}

// sleep waits d, or until ctx is done (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Name returns the feed name the dispatcher delivers under.
func (d *Dispatcher) Name() string { return d.name }

// Owner returns the name the dispatcher holds leases under.
func (d *Dispatcher) Owner() string { return d.cfg.owner }

// Stats returns a snapshot of the dispatcher's progress. It is safe to
// call at any time, from any goroutine.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// update changes the stats under the lock.
func (d *Dispatcher) update(f func(s *Stats)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.stats)
}

// Run delivers the feed until ctx is done or the handler asks to [Stop].
//
// It claims the name's lease (and, while another owner holds it, looks
// again every poll interval); holding it, it lists the changes after the
// stored cursor, a page at a time, and gives each to the handler in turn.
// A change the handler accepts moves the cursor past it (and renews the
// lease). A change the handler fails is tried again, and only it, after
// a back-off (see [WithBackoff] and [RetryAfter]), the lease being renewed
// while it waits, for as long as it takes. When the feed is empty it
// waits poll and lists again. Failing calls to the store are retried
// after a back-off too, so Run does not return because of them. If the
// lease turns out to be lost (the cursor keeper refuses to move the
// cursor with [lifecycle.ErrConflict], or a renewal is refused), Run
// stops delivering and claims again; a renewal refused while the handler
// runs cancels the handler's context, with cause [ErrLeaseLost].
//
// When ctx is done it gives the lease up, storing the cursor past the
// last change delivered (that call has a 5-second time-out of its own,
// ctx being done), so that another instance may go on at once, and
// returns ctx's error. When the handler returns a [Stop] error, it logs
// it, gives the lease up without moving the cursor past that change and
// returns an error wrapping it. It returns an error wrapping [ErrRunning]
// if the Dispatcher is already running, and one wrapping [ErrInvalid]
// and [lifecycle.ErrNilContext] for a nil ctx. A Dispatcher may be run again after Run returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("%w: %w", invalid("Run ctx", "<nil>", "a context is needed"), lifecycle.ErrNilContext)
	}
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: name %q, owner %q", ErrRunning, d.name, d.cfg.owner)
	}
	defer d.running.Store(false)
	d.holding = false
	d.update(func(s *Stats) { s.Running = true })
	err := d.loop(ctx)
	d.release(ctx)
	d.update(func(s *Stats) {
		s.Running, s.Holding = false, false
		s.Current, s.Attempts, s.NextAttempt, s.PendingSince = "", 0, time.Time{}, time.Time{}
	})
	return err
}

// loop is Run until it must return.
func (d *Dispatcher) loop(ctx context.Context) error {
	storeFails := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := d.cfg.now()
		c, held, err := d.cursors.ClaimCursor(ctx, d.name, d.cfg.owner, now, now.Add(d.cfg.lease))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			storeFails++
			d.storeError("claim the cursor", err)
			if err := d.sleep(ctx, d.backoff(storeFails)); err != nil {
				return err
			}
			continue
		}
		if !held {
			if d.holding {
				d.lost("claim refused")
			}
			d.update(func(s *Stats) { s.Cursor, s.Holding = c, false })
			if err := d.sleep(ctx, d.cfg.poll); err != nil {
				return err
			}
			continue
		}
		if !d.holding {
			d.cfg.log.Info("feed: lease taken", "name", d.name, "owner", d.cfg.owner, "cursor", uint64(c))
		}
		d.holding, d.stored, d.pos, d.renewed = true, c, c, now
		d.update(func(s *Stats) { s.Cursor, s.Holding = c, true })

		page, err := d.src.Changes(ctx, c, d.cfg.batch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			storeFails++
			d.storeError("list changes", err)
			if err := d.whileHolding(d.hold(ctx, d.backoff(storeFails))); err != nil {
				return err
			}
			continue
		}
		storeFails = 0
		now = d.cfg.now()
		if len(page) == 0 {
			d.update(func(s *Stats) { s.CaughtUpAt, s.PendingSince = now, time.Time{} })
			if err := d.whileHolding(d.hold(ctx, d.cfg.poll)); err != nil {
				return err
			}
			continue
		}
		d.update(func(s *Stats) { s.PendingSince = now })
		if err := d.whileHolding(d.deliverPage(ctx, page)); err != nil {
			return err
		}
	}
}

// whileHolding passes on err from a step taken while holding the lease,
// except ErrLeaseLost, which it records (the loop then claims again).
func (d *Dispatcher) whileHolding(err error) error {
	if errors.Is(err, ErrLeaseLost) {
		d.lost("another owner took the name, or the lease ran out")
		return nil
	}
	return err
}

// deliverPage delivers a page's changes in order; it returns nil when all
// are delivered, ErrLeaseLost, ctx's error or a Stop.
func (d *Dispatcher) deliverPage(ctx context.Context, page []lifecycle.Change) error {
	for _, ch := range page {
		if ch.Pos <= d.pos {
			// A feed lists only changes after the cursor; one that is not
			// has been delivered already, and moving the cursor back to it
			// would be refused.
			d.cfg.log.Debug("feed: change at or before the cursor skipped", "name", d.name, "pos", uint64(ch.Pos), "cursor", uint64(d.pos))
			continue
		}
		if err := d.deliver(ctx, ch); err != nil {
			return err
		}
	}
	d.update(func(s *Stats) { s.PendingSince, s.Current = time.Time{}, "" })
	return nil
}

// deliver gives ch to the handler until it accepts it, then moves the
// cursor past it. It returns nil, ErrLeaseLost, ctx's error or a Stop.
func (d *Dispatcher) deliver(ctx context.Context, ch lifecycle.Change) error {
	id := ch.ID()
	d.update(func(s *Stats) { s.Current, s.Attempts, s.NextAttempt = id, 0, time.Time{} })
	for failures := 1; ; failures++ {
		// A renewal due now is made before the attempt: a handler that
		// fails at once, again and again, would otherwise never be
		// running when one falls due.
		if err := d.keep(ctx); err != nil {
			return err
		}
		err, lost := d.call(ctx, ch)
		if err == nil {
			now := d.cfg.now()
			d.update(func(s *Stats) {
				s.Delivered++
				s.LastDelivered, s.LastDeliveredID = now, id
				s.Attempts, s.NextAttempt = 0, time.Time{}
			})
			if lost {
				return ErrLeaseLost
			}
			return d.advance(ctx, ch.Pos)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if lost {
			// The handler's context was cancelled for it (ErrLeaseLost):
			// not a failure of the change; the new owner delivers it.
			d.cfg.log.Debug("feed: delivery given up, lease lost", "name", d.name, "change", id, "err", err)
			return ErrLeaseLost
		}
		now := d.cfg.now()
		var stop *StopError
		if errors.As(err, &stop) && stop != nil { // a nil *StopError is a plain failure
			d.update(func(s *Stats) {
				s.Failures++
				s.Attempts = failures
				s.LastError, s.LastErrorAt = err.Error(), now
			})
			d.cfg.log.Error("feed: handler asked to stop", "name", d.name, "owner", d.cfg.owner,
				"change", id, "customer", ch.CustomerID, "seq", ch.Seq, "pos", uint64(ch.Pos), "err", err)
			return fmt.Errorf("feed: %q stopped at change %s (customer %q, seq %d, pos %d): %w",
				d.name, id, ch.CustomerID, ch.Seq, uint64(ch.Pos), err)
		}
		wait := d.backoff(failures)
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra != nil && ra.Delay > wait {
			wait = ra.Delay
		}
		d.update(func(s *Stats) {
			s.Failures++
			s.Attempts = failures
			s.NextAttempt = now.Add(wait)
			s.LastError, s.LastErrorAt = err.Error(), now
		})
		d.cfg.log.Warn("feed: delivery failed", "name", d.name, "change", id, "customer", ch.CustomerID,
			"seq", ch.Seq, "pos", uint64(ch.Pos), "attempt", failures, "retry_in", wait, "err", err)
		if err := d.hold(ctx, wait); err != nil {
			return err
		}
		d.update(func(s *Stats) { s.NextAttempt = time.Time{} }) // the attempt is under way
	}
}

// call runs the handler for ch, renewing the lease every ttl/3 while it
// runs. lost reports that a renewal found the lease lost meanwhile; the
// handler's context is then cancelled (its cause ErrLeaseLost), since
// another owner may be delivering the same change.
func (d *Dispatcher) call(ctx context.Context, ch lifecycle.Change) (err error, lost bool) {
	done := make(chan struct{})
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var lostFlag atomic.Bool
	every := d.renewEvery()
	first := every - d.cfg.now().Sub(d.renewed) // the next renewal falls due then, counted from the last
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTimer(max(first, 0))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := d.renew(ctx); err != nil {
					if errors.Is(err, ErrLeaseLost) {
						lostFlag.Store(true)
						cancel(ErrLeaseLost)
					}
					return
				}
				t.Reset(every)
			}
		}
	}()
	err = d.safeCall(hctx, ch)
	close(done)
	wg.Wait()
	return err, lostFlag.Load()
}

// safeCall calls the handler and turns a panic into an error (the change
// is then retried like any failure), as it does an error whose Error
// method panics.
func (d *Dispatcher) safeCall(ctx context.Context, ch lifecycle.Change) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("feed: handler panicked: %v", r)
		}
	}()
	if err = d.handler(ctx, ch); err != nil {
		err = sound(err)
	}
	return err
}

// sound returns err, or, when its Error method or the chain errors.As
// walks for a *StopError or a *RetryAfterError (an Unwrap, As or Is
// method) panics, an error that says so (the dispatcher logs and keeps
// err's message, and looks for those two in it).
func sound(err error) (out error) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Errorf("feed: handler failed with an error of type %T whose Error, Unwrap, As or Is method panicked: %v", err, r)
		}
	}()
	_ = err.Error()
	var stop *StopError
	var ra *RetryAfterError
	errors.As(err, &stop)
	errors.As(err, &ra)
	return err
}

// advance stores the cursor at pos, renewing the lease; a store error is
// retried after a back-off (not renewing: the store is failing). It
// returns nil, ErrLeaseLost or ctx's error; in the last case pos is kept
// for release to store.
func (d *Dispatcher) advance(ctx context.Context, pos lifecycle.Cursor) error {
	d.pos = pos
	for fails := 1; ; fails++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := d.cfg.now()
		err := d.cursors.AdvanceCursor(ctx, d.name, d.cfg.owner, pos, now, now.Add(d.cfg.lease))
		if err == nil {
			d.stored, d.renewed = pos, now
			d.update(func(s *Stats) { s.Cursor = pos })
			return nil
		}
		if errors.Is(err, lifecycle.ErrConflict) {
			return ErrLeaseLost
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.storeError("advance the cursor", err)
		if err := d.sleep(ctx, d.backoff(fails)); err != nil {
			return err
		}
	}
}

// renewEvery is how often a holder renews its lease while it waits.
func (d *Dispatcher) renewEvery() time.Duration {
	return max(d.cfg.lease/3, time.Millisecond)
}

// hold waits dur while holding the lease, renewing it each time a third
// of the lease has passed since it was last renewed (so that short waits
// one after the other renew it too). It returns nil, ErrLeaseLost or
// ctx's error.
func (d *Dispatcher) hold(ctx context.Context, dur time.Duration) error {
	every := d.renewEvery()
	for {
		if err := d.keep(ctx); err != nil {
			return err
		}
		if dur <= 0 {
			return nil
		}
		step := min(dur, max(every-d.cfg.now().Sub(d.renewed), time.Nanosecond))
		if err := d.sleep(ctx, step); err != nil {
			return err
		}
		dur -= step
	}
}

// keep renews the lease when a third of it has passed since it was last
// renewed; it returns what renew does, or nil.
func (d *Dispatcher) keep(ctx context.Context) error {
	if d.cfg.now().Sub(d.renewed) < d.renewEvery() {
		return nil
	}
	return d.renew(ctx)
}

// renew extends the lease. It returns ErrLeaseLost when another owner
// holds the name or the stored cursor is not the one this dispatcher
// stored (another owner held it meanwhile), ctx's error, or nil (also
// when the store failed: the next renewal or advance will tell).
func (d *Dispatcher) renew(ctx context.Context) error {
	now := d.cfg.now()
	d.renewed = now // (a renewal the store failed is tried again a third of the lease later)
	c, held, err := d.cursors.ClaimCursor(ctx, d.name, d.cfg.owner, now, now.Add(d.cfg.lease))
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.storeError("renew the lease", err)
		return nil
	case !held || c != d.stored:
		return ErrLeaseLost
	}
	return nil
}

// lost records that the lease was lost.
func (d *Dispatcher) lost(why string) {
	d.holding = false
	d.update(func(s *Stats) {
		s.LeaseLosses++
		s.Holding = false
		s.Current, s.Attempts, s.NextAttempt, s.PendingSince = "", 0, time.Time{}, time.Time{}
	})
	d.cfg.log.Info("feed: lease lost", "name", d.name, "owner", d.cfg.owner, "why", why)
}

// storeError records and logs a failed call to the store.
func (d *Dispatcher) storeError(what string, err error) {
	now := d.cfg.now()
	d.update(func(s *Stats) {
		s.StoreErrors++
		s.LastError, s.LastErrorAt = "feed: "+what+": "+err.Error(), now
	})
	d.cfg.log.Warn("feed: store call failed", "name", d.name, "owner", d.cfg.owner, "call", what, "err", err)
}

// release gives the lease up, storing the cursor past the last change
// delivered, with a context of its own (ctx is done, or Run is stopping).
func (d *Dispatcher) release(ctx context.Context) {
	if !d.holding {
		return
	}
	d.holding = false
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	now := d.cfg.now()
	if err := d.cursors.AdvanceCursor(rctx, d.name, d.cfg.owner, d.pos, now, now); err != nil {
		d.cfg.log.Debug("feed: lease not given up", "name", d.name, "owner", d.cfg.owner, "err", err)
		return
	}
	d.stored = d.pos
	d.update(func(s *Stats) { s.Cursor = d.pos })
	d.cfg.log.Debug("feed: lease given up", "name", d.name, "owner", d.cfg.owner, "cursor", uint64(d.pos))
}

// backoff returns the wait after the n-th failure in a row (n ≥ 1): see
// WithBackoff.
func (d *Dispatcher) backoff(n int) time.Duration {
	lo, hi := d.cfg.minBack, d.cfg.maxBack
	c := lo
	for i := 0; i < n && c < hi; i++ {
		if c > hi/2 {
			c = hi
			break
		}
		c *= 2
	}
	c = min(c, hi)
	w := c/2 + time.Duration(d.cfg.rng.Int64N(int64(c-c/2)+1))
	return max(w, lo)
}

// holdableRule is what [holdable] checks, for New's errors.
const holdableRule = "must be at most 256 bytes of valid UTF-8 without a NUL byte (lifecycle.MaxIDLen), as every store can hold"

// holdable reports whether every cursor keeper can hold s as a cursor's
// name or owner.
func holdable(s string) bool {
	return len(s) <= lifecycle.MaxIDLen && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
