package lifecycle

import (
	"time"

	"github.com/clmkit/clm/stage"
)

// Model classifies a customer into a lifecycle stage.
//
// A model must obey these rules (model/modeltest checks them):
//   - Stage is total: for every Facts value and time it returns a stage
//     that Stages declares, and it never panics, for zero facts included.
//   - Stage is pure and deterministic: the answer depends only on the facts
//     and now, the same arguments always give the same answer, and it never
//     modifies the facts.
//   - Moves follow the graph: if folding one more event into the facts (at
//     a time no earlier than now) or moving now later changes the answer
//     from stage A to stage B, the graph declares an edge A → B.
//
// The graph rule is about events in time order. An event that arrives
// late (dated before the customer's classification time) may make the
// facts jump between two stages the graph does not link: a prospect whose
// renewal from three months ago arrives now may be churned at once. That
// happens by design, because a stage is a pure function of the facts and
// the time, not of the path taken; the [Tracker] stores such a move and
// marks it ([Result.Undeclared], [Change.Undeclared] in a [Hook], counted
// by [Tracker.Undeclared], logged with [WarnUndeclared]).
//   - Name is a stable, non-empty identifier such as "sterne-cutler".
//
// Stage is called on every recorded event, so it should not allocate.
type Model interface {
	// Name returns the model's stable name.
	Name() string
	// Stages returns the model's stage graph.
	Stages() *stage.Graph
	// Stage returns the stage a customer with these facts is in at now.
	Stage(f *Facts, now time.Time) stage.ID
}

// Scheduler is an optional [Model] capability: it tells when time alone
// would next change a customer's stage, so that [Tracker.Sweep] visits
// only the customers who are due instead of every stored one.
//
// NextChange returns a time T such that, for the same facts f, Stage(f, t)
// equals Stage(f, now) for every t with now ≤ t < T. The zero time means
// never: with these facts the stage stays the same at every later time.
// Announcing a T earlier than the real change is allowed (a sweep then
// re-classifies a customer who does not move, and asks again); announcing
// one later than the real change is a bug, because the sweep would miss
// the move (model/modeltest checks this on random histories). A T at or
// before now means "due now". The Tracker asks at the time it has just
// classified the customer at (an event's or a sweep's, which it accepts
// only in the years 1900 to 9999), never at the zero time, where such a T
// would read as never. Like Stage, NextChange is pure, must not modify f,
// and must not panic.
//
// A model without this capability is treated as always due: every sweep
// re-classifies every customer whose AsOf is before the sweep time.
type Scheduler interface {
	NextChange(f *Facts, now time.Time) time.Time
}

// Converter is an optional [Model] capability: it says which event types
// convert a referred customer, that is, earn their referrer a
// [ReferralConverted] credit (see [Tracker]). A model without it converts
// with [DefaultConversionTypes]: order_completed and subscription_started.
// A subscription business whose customers pay by renewal alone, say,
// answers [SubscriptionRenewed] too (model.Builder.Converts declares them
// for a builder model).
//
// ConversionTypes is called once, by [NewTracker]. Each type must be one
// [Event.Validate] accepts (standard, or custom with a vendor prefix); a
// model answering another, or none, makes every Tracker method that
// records, sweeps or reads return an error wrapping [ErrInvalidModel].
type Converter interface {
	ConversionTypes() []EventType
}

// DefaultConversionTypes returns the event types that convert a referred
// customer for a model that is not a [Converter]: [OrderCompleted] and
// [SubscriptionStarted], a first order or a first subscription.
func DefaultConversionTypes() []EventType {
	return []EventType{OrderCompleted, SubscriptionStarted}
}
