package feed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// Handler delivers one change: it returns nil when the change has been
// delivered (the dispatcher then moves its cursor past it) and an error
// otherwise (the dispatcher tries the same change again later). It may
// return an error made by [RetryAfter] to ask for a longer wait, or by
// [Stop] to stop the dispatcher. It should return soon after ctx is done:
// when Run's context is done, or when the dispatcher finds its lease lost
// while the handler runs ([context.Cause] of ctx is then [ErrLeaseLost]).
//
// A Handler is called for one change at a time, from the goroutine
// running [Dispatcher.Run]; the same change may be given to it again
// (after a failure, or by another instance after a lease is lost), so it
// should be idempotent, or let its receiver deduplicate by
// [lifecycle.Change.ID]. A panic in a Handler is recovered and counts as
// a failed attempt.
type Handler func(ctx context.Context, ch lifecycle.Change) error

// Sentinel errors; test with [errors.Is].
var (
	// ErrInvalid is wrapped by every error [New] returns (a nil source,
	// cursor keeper or handler, an empty or all-white-space name or
	// owner, or an option out of range) and by [Dispatcher.Run]'s for a
	// nil context (which also wraps [lifecycle.ErrNilContext]). The message names the argument or option and the
	// value.
	ErrInvalid = errors.New("feed: invalid argument")
	// ErrRunning is wrapped by the error [Dispatcher.Run] returns when
	// the same Dispatcher is already running (in another goroutine).
	ErrRunning = errors.New("feed: dispatcher already running")
	// ErrLeaseLost is the cause ([context.Cause]) of a [Handler]'s
	// context that the dispatcher cancelled because, while the handler
	// ran, it found its lease lost: another owner holds the name now and
	// may deliver the same change. The handler should give up; the
	// dispatcher stops delivering and claims the name again, and an
	// error the handler then returns is not counted as a failure.
	ErrLeaseLost = errors.New("feed: lease lost")
)

// RetryAfterError is a handler's failure that asks the dispatcher to wait
// at least Delay before trying the same change again. Make one with
// [RetryAfter].
type RetryAfterError struct {
	// Delay is the shortest wait asked for (never negative).
	Delay time.Duration
	// Err is the failure, or nil.
	Err error
}

// Error returns Err's message (or "feed: retry requested") followed by
// the delay.
func (e *RetryAfterError) Error() string {
	if e == nil {
		return "feed: retry requested"
	}
	msg := "feed: retry requested"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return msg + " (retry after " + e.Delay.String() + ")"
}

// Unwrap returns Err.
func (e *RetryAfterError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// RetryAfter returns an error (a [*RetryAfterError]) telling the
// dispatcher that the delivery failed with err and that the next attempt
// should wait at least d: the dispatcher waits for the later of d and its
// own back-off (see [WithBackoff]). A negative d counts as 0. It is read
// with [errors.As], so it may be wrapped. A handler uses it for an HTTP
// answer with Retry-After (429, 503).
func RetryAfter(d time.Duration, err error) error {
	return &RetryAfterError{Delay: max(d, 0), Err: err}
}

// StopError is a handler's failure that stops the dispatcher. Make one
// with [Stop].
type StopError struct {
	// Err is the reason, or nil.
	Err error
}

// Error returns "feed: stop" and Err's message.
func (e *StopError) Error() string {
	if e == nil || e.Err == nil {
		return "feed: stop"
	}
	return "feed: stop: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *StopError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Stop returns an error (a [*StopError]) telling the dispatcher to stop
// delivering: [Dispatcher.Run] logs it at error level, gives up its
// lease, leaves the cursor before the change that failed (so that a later
// Run starts with it) and returns an error that wraps it ([errors.Is]
// finds err; [errors.As] finds the *StopError). It is read with
// [errors.As], so it may be wrapped; it wins over [RetryAfter] when an
// error holds both. A handler uses it when the receiver will never accept
// deliveries again, such as an HTTP 410 Gone.
func Stop(err error) error {
	return &StopError{Err: err}
}

// invalid returns an error wrapping ErrInvalid that names what is wrong.
func invalid(what string, value any, reason string) error {
	return fmt.Errorf("%w: %s %v: %s", ErrInvalid, what, value, reason)
}
