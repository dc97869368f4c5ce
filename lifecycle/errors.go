package lifecycle

import (
	"errors"
	"strconv"

	"github.com/clmkit/clm/internal/clip"
)

// Sentinel errors. Errors of recording, storing and classifying — from a
// [Tracker]'s methods, [Event.Validate] and conforming [Store]
// implementations — wrap one of these or are the context's error, except
// a store's own failure (a lost connection, say), which [Tracker.Record]
// returns as the store gave it and the methods that write many customers
// ([Tracker.RecordBatch], [Tracker.Sweep], [Tracker.Reclassify],
// [Tracker.Import], and the referral credits an event earns) wrap with
// the customer it concerns, and an error of the iterator given to
// [Tracker.Import], which it wraps; test with [errors.Is], never ==. (The JSON
// decoders, [FromSegment] and [ParseMinor] return their own: see each.)
var (
	// ErrInvalidEvent is wrapped by every error about a malformed event.
	ErrInvalidEvent = errors.New("lifecycle: invalid event")
	// ErrNotFound means the store holds no customer with that ID.
	ErrNotFound = errors.New("lifecycle: customer not found")
	// ErrConflict means a compare-and-swap write lost: the stored version
	// was not the one the writer read.
	ErrConflict = errors.New("lifecycle: version conflict")
	// ErrInvalidCustomer is wrapped by errors about a customer record a
	// store refuses to write (an empty ID, a wrong version), and by
	// those of [Customer.UnmarshalJSON].
	ErrInvalidCustomer = errors.New("lifecycle: invalid customer")
	// ErrInvalidModel means a model answered a stage its graph does not
	// declare, panicked, has no graph (Stages returns nil), or, as a
	// [Converter], names conversion types [Event.Validate] would not
	// accept (none, an invalid one, or [ReferralConverted]).
	ErrInvalidModel = errors.New("lifecycle: invalid model")
	// ErrNoTracker is returned by the methods of a Tracker not made by
	// [NewTracker] (the zero Tracker), of one NewTracker made without a
	// model or a store (a nil one, or a nil pointer in the interface),
	// and of a nil *Tracker.
	ErrNoTracker = errors.New("lifecycle: the Tracker has no model or no store: make it with NewTracker(model, store)")
	// ErrNilContext is returned by the methods of a Tracker that take a
	// context (Record, RecordBatch, Import, Sweep, Reclassify, Customer),
	// and yielded by [Browse], when that context is nil; nothing is read
	// or written. So do the methods of store.Memory and of sqlstore's
	// Store that take one (and sqlstore's Open and Connect), funnel's
	// Analyze, AnalyzeStore, StoredRetention and Segment.IDs, clv's
	// SummarizeStore and SummarizeCustomers, model's Classify and
	// Correspond, flywheel's Agent, MonteCarlo, Sweep and Measure, and
	// the stream module's Processor.Process and Publish, its engines'
	// Run, Send, Publish, Setup and CreateTopic; feed's Dispatcher.Run and
	// webhook's Sender.Deliver return an error wrapping it too.
	ErrNilContext = errors.New("lifecycle: the context is nil: pass context.Background() or the request's context")
)

// ValidationError reports which field of an event is wrong and why. It
// unwraps to [ErrInvalidEvent].
type ValidationError struct {
	// Field is the JSON name of the field, e.g. "currency" or
	// "attrs.score"; "json" for a JSON document as a whole; "event" for a
	// nil *Event given to [Event.Validate] (and, from [FromSegment], a
	// track call's event name); "now" for a [Tracker.Sweep] or
	// [Tracker.Reclassify] time out of range; from [FromSegment], the
	// Segment field ("messageId", "properties.total"). A member whose
	// name is empty is named `""` (with its prefix: `properties.""`).
	Field  string
	Value  string // the offending value (for Field "attrs": the bad key, or "N entries" when there are too many); past 64 bytes, its first 64 or fewer (cut between characters) and "…"
	Reason string // what is wrong, in plain words
}

// Error returns "lifecycle: invalid event: ", the field, the quoted value
// and the reason.
func (e *ValidationError) Error() string {
	return "lifecycle: invalid event: " + e.Field + " " + strconv.Quote(e.Value) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidEvent].
func (e *ValidationError) Unwrap() error { return ErrInvalidEvent }

// invalid returns a *ValidationError; it truncates value (see truncate),
// so that every Value is short, whichever check refused it.
func invalid(field, value, reason string) error {
	return &ValidationError{Field: field, Value: clip.String(value), Reason: reason}
}
