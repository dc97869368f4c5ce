package flywheel

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// Defaults of the agent-mode options.
const (
	// DefaultEvery is the length of a simulated rotation: 30 days.
	DefaultEvery = 30 * 24 * time.Hour
	// DefaultMaxEvents is the most events an agent run generates before it
	// stops with [ErrDiverged]: 10,000,000.
	DefaultMaxEvents = 10_000_000
)

// DefaultStart is the start of the first simulated rotation: 2026-01-01
// 00:00 UTC.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type agentSettings struct {
	model     lifecycle.Model
	store     lifecycle.Store
	start     time.Time
	every     time.Duration
	maxEvents int
}

func defaultAgentSettings() agentSettings {
	return agentSettings{start: DefaultStart, every: DefaultEvery, maxEvents: DefaultMaxEvents}
}

// WithModel sets the model the agent run's Tracker classifies with
// (default the flywheel [Model] with default thresholds). Any
// [lifecycle.Model] works, a researcher's own included. A nil m means
// the default; a nil pointer of a model type is an error wrapping
// [ErrInvalidParams].
func WithModel(m lifecycle.Model) AgentOption {
	return agentOpt{"WithModel", func(s *settings) { s.agent.model = m }}
}

// WithStore sets the store the agent run records into (default a new
// store.NewMemory()). Customers already in it stay and are measured too;
// the run's customers (named "c1", "c2", …) are numbered after the
// highest such name already there, so that they never take the events of
// an earlier run's customer or lose their own as duplicates (a store that
// holds a name too close to the largest int for the run's, such as
// "c9223372036854775807", is an error wrapping [ErrInvalidParams]). A
// nil st means the default; a nil pointer of a store type is an error
// wrapping ErrInvalidParams.
func WithStore(st lifecycle.Store) AgentOption {
	return agentOpt{"WithStore", func(s *settings) { s.agent.store = st }}
}

// StartAt sets the start of the first simulated rotation (default
// [DefaultStart]). The run's rotations must lie within the years 1900 to
// 9999 (the first starting in 1900 or later, the last ending by the start
// of the year 10000), or [Agent] returns an error wrapping
// [ErrInvalidParams].
func StartAt(t time.Time) AgentOption {
	return agentOpt{"StartAt", func(s *settings) { s.agent.start = t.UTC() }}
}

// Every sets the length of a simulated rotation (default [DefaultEvery];
// at least one minute; the rotations must lie within the years 1900 to
// 9999, see [StartAt]).
func Every(d time.Duration) AgentOption {
	return agentOpt{"Every", func(s *settings) { s.agent.every = d }}
}

// MaxEvents sets how many events an agent run may generate before it
// stops with [ErrDiverged] (default [DefaultMaxEvents]).
func MaxEvents(n int) AgentOption {
	return agentOpt{"MaxEvents", func(s *settings) { s.agent.maxEvents = n }}
}

// AgentRun is the outcome of [Agent].
type AgentRun struct {
	// Result holds the per-rotation metrics, comparable with the cohort
	// modes'. Prospects, new customers, new referrals and customers are
	// measured from the store (a store given with [WithStore] may hold
	// customers of its own, who count too); spend is the paid prospects
	// the run drew times SpendPerProspect, as Measurement's, and
	// acquisition cost that spend over the new customers measured;
	// acquired, retained, new advocates, advocates and referring
	// advocates are the agents' own counts of what they did.
	Result *Result
	// Measurement is [Measure] applied to the store with the model's
	// graph: what the model made of the events.
	Measurement *Measurement
	// Events is the number of events generated and recorded (the
	// Tracker's own referral credits not included).
	Events int
	// Tracker is the Tracker the events went through; its Store holds the
	// simulated customers.
	Tracker *lifecycle.Tracker
}

// Agent simulates one run of p customer by customer: it generates each
// prospect's events and records them through a real [lifecycle.Tracker]
// with the chosen model (see [WithModel]) into a store (see [WithStore]).
// Options read: [Seed], [PaidInflow], [WithModel], [WithStore], [StartAt],
// [Every], [MaxEvents].
//
// Rotation t (from 0) covers [start + t·every, start + (t+1)·every). In
// it, each advocate that has waited Lag rotations and still advocates
// refers Poisson(Referrals) prospects: a referral_made event on the
// advocate and, a moment later (a minute, or every/64 for a rotation
// shorter than 64 minutes; both within the rotation), a site_visited event
// of the new prospect carrying the advocate as ReferrerID. Poisson(PaidProspects) paid
// prospects (or as many as the [PaidInflow] option draws) arrive with a site_visited event. Each prospect then walks the
// funnel, with the step probabilities of p, a few days apart within the
// rotation: signed_up (a lead), order_completed (a first order, 20 to
// 100 EUR), a second order_completed, and review_posted (an advocate).
// When a referred prospect's first order is recorded, the Tracker credits
// the referrer with a referral_converted event, once. After referring, an
// advocate stops with probability AdvocateChurn. Event IDs are the
// customer ID and the step ("c17:visit", "c17:order1", …); customer IDs
// are "c1", "c2", … in the order the prospects are drawn (in each rotation
// the paid prospects first, then the referred ones, advocate by advocate),
// not in the order of their arrival times. No sweeps are run: time-only
// moves such as lapsing are not applied.
//
// The random draws come from rand.New(rand.NewPCG(seed, mix(0))), the
// stream of Monte Carlo run 0, so the same seed gives the same events.
// Errors wrap [ErrInvalidParams], [ErrDiverged] (more than MaxEvents
// events), the Tracker's errors, or the context's ([lifecycle.ErrNilContext]
// for a nil one).
func Agent(ctx context.Context, p Params, opts ...AgentOption) (*AgentRun, error) {
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s := newSettings(opts, AgentOption.agent)
	as := s.agent
	if as.every < time.Minute {
		return nil, fmt.Errorf("%w: Every = %s must be at least a minute", ErrInvalidParams, as.every)
	}
	if as.maxEvents < 1 {
		return nil, invalidf("MaxEvents", as.maxEvents, "must be at least 1")
	}
	// Rotation t covers [start + t·every, start + (t+1)·every): the last
	// ends at the start of the year 10000 at the latest.
	if as.start.Year() < 1900 || addRotations(as.start, p.Rotations, as.every).After(endOf9999) {
		return nil, fmt.Errorf("%w: the rotations from %s every %s leave the years 1900 to 9999", ErrInvalidParams, as.start.Format(time.RFC3339), as.every)
	}
	switch {
	case as.model == nil:
		as.model = Model()
	case nilness.Is(as.model): // a nil pointer of a model type
		return nil, fmt.Errorf("%w: WithModel: model is a nil %T", ErrInvalidParams, as.model)
	}
	first := 0 // the agents are numbered after the store's highest "c<N>"
	switch {
	case as.store == nil:
		as.store = store.NewMemory()
	case nilness.Is(as.store): // a nil pointer of a store type
		return nil, fmt.Errorf("%w: WithStore: store is a nil %T", ErrInvalidParams, as.store)
	default:
		for c, err := range lifecycle.Browse(ctx, as.store) {
			if err != nil {
				return nil, err
			}
			if n, ok := agentNumber(c.ID); ok {
				first = max(first, n)
			}
		}
	}
	// Every arrival records an event, so a run names at most MaxEvents.
	if first > math.MaxInt-as.maxEvents {
		return nil, fmt.Errorf("%w: the store holds customer \"c%d\": the run's customers, numbered after it, would pass the largest int", ErrInvalidParams, first)
	}
	end := addRotations(as.start, p.Rotations, as.every)
	tr := lifecycle.NewTracker(as.model, as.store, lifecycle.WithClock(func() time.Time { return end }))
	a := &agent{
		ctx: ctx, p: &p, tr: tr, every: as.every, max: as.maxEvents,
		r:      rand.New(rand.NewPCG(s.seed, mix(0))),
		inflow: s.inflow,
		ring:   make([][]string, p.Lag),
		nextID: first,
	}
	n := p.Rotations
	res := &Result{Mode: ModeAgent, Params: p, Runs: 1, Seed: s.seed, Rotations: make([]Rotation, n)}
	own := make([][NumMetrics]float64, n)
	paid := make([]float64, n)
	t0 := as.start
	for t := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		np, err := a.rotation(t, t0, &own[t])
		if err != nil {
			return nil, err
		}
		paid[t] = np
		t0 = t0.Add(as.every)
	}
	spend := make([]float64, n)
	for t := range n {
		spend[t] = paid[t] * p.SpendPerProspect
	}
	m, err := Measure(ctx, as.store, as.start, as.every, n, WithSpend(spend...), WithGraph(as.model.Stages()))
	if err != nil {
		return nil, err
	}
	var customers float64
	for t := range n {
		rm := &m.Rotations[t]
		v := own[t]
		v[PaidProspects] = float64(rm.Prospects - rm.ReferredProspects)
		v[ReferredProspects] = float64(rm.ReferredProspects)
		v[Engaged] = float64(rm.Prospects)
		v[NewCustomers] = float64(rm.NewCustomers)
		v[NewReferrals] = float64(rm.ReferredCustomers)
		v[ViralK] = ratio(v[NewReferrals], customers)
		customers += v[NewCustomers]
		v[Customers] = customers
		v[Spend] = rm.Spend // the paid prospects drawn, as Measure was given
		v[AcquisitionCost] = ratio(v[Spend], v[NewCustomers])
		res.Rotations[t].N = t + 1
		for k := range NumMetrics {
			res.Rotations[t].Stats[k] = Stat{Mean: v[k], N: 1}
		}
	}
	return &AgentRun{Result: res, Measurement: m, Events: a.events, Tracker: tr}, nil
}

type agent struct {
	ctx    context.Context
	p      *Params
	tr     *lifecycle.Tracker
	r      *rand.Rand
	inflow Inflow
	every  time.Duration
	max    int
	events int
	nextID int
	pool   []string   // referring advocates
	ring   [][]string // advocates waiting out the lag, by rotation mod Lag
	buf    []lifecycle.Event
	arr    []prospect // arrivals, reused
	refs   []string   // referring advocates, reused
}

// prospect is one arrival in a rotation.
type prospect struct {
	id, referrer string
	at           time.Time
}

// rotation simulates rotation t starting at t0, storing the agents' own
// counts in own and returning the number of paid prospects.
func (a *agent) rotation(t int, t0 time.Time, own *[NumMetrics]float64) (float64, error) {
	p := a.p
	slot := t % p.Lag
	referring := append(append(a.refs[:0], a.pool...), a.ring[slot]...)
	a.refs = referring
	a.ring[slot] = nil
	// Arrivals fall in the first half of the rotation; the funnel steps
	// follow every/16 apart, so everything stays within the rotation.
	// A referred prospect's visit comes lead after its advocate's
	// referral_made, which stays in the rotation (after the advocate's
	// own events, which are in earlier rotations).
	lead := min(time.Minute, a.every/64)
	arrival := func() time.Time {
		off := a.every/64 + time.Duration(a.r.Float64()*float64(a.every/2))
		at := t0.Add(off)
		if tr := at.Truncate(time.Second); !tr.Before(t0.Add(lead)) {
			at = tr
		}
		return at
	}
	// Every arrival records at least one event: too many arrivals stop the
	// run before any of them is generated.
	tooMany := func(arrivals, more int) error {
		if more > a.max-a.events-arrivals {
			return fmt.Errorf("%w: more than %d events (MaxEvents)", ErrDiverged, a.max)
		}
		return nil
	}
	arrivals := a.arr[:0]
	defer func() { a.arr = arrivals[:0] }()
	paidN, err := drawPaid(a.inflow, a.r, p.PaidProspects)
	if err != nil {
		return 0, err
	}
	paid := int(paidN)
	if err := tooMany(0, paid); err != nil {
		return 0, err
	}
	for range paid {
		arrivals = append(arrivals, prospect{id: a.newID(), at: arrival()})
	}
	for _, adv := range referring {
		k := int(poisson(a.r, p.Referrals))
		if err := tooMany(len(arrivals), 2*k); err != nil { // a referral_made and a visit each
			return 0, err
		}
		for range k {
			pr := prospect{id: a.newID(), referrer: adv, at: arrival()}
			arrivals = append(arrivals, pr)
			if err := a.record(lifecycle.Event{ID: adv + ":ref:" + pr.id, CustomerID: adv, Type: lifecycle.ReferralMade, Time: pr.at.Add(-lead)}); err != nil {
				return 0, err
			}
		}
	}
	step := a.every / 16
	var newAdv []string
	for _, pr := range arrivals {
		conv := p.Conversion[EngageToAcquire]
		if pr.referrer != "" {
			conv = p.ReferredConversion
		}
		evs := a.buf[:0]
		evs = append(evs, lifecycle.Event{ID: pr.id + ":visit", CustomerID: pr.id, Type: lifecycle.SiteVisited, Time: pr.at, ReferrerID: pr.referrer})
		reached := 0
		if a.r.Float64() < conv {
			reached++
			evs = append(evs, lifecycle.Event{ID: pr.id + ":signup", CustomerID: pr.id, Type: lifecycle.SignedUp, Time: pr.at.Add(step)})
			if a.r.Float64() < p.Conversion[AcquireToNurture] {
				reached++
				evs = append(evs, a.order(pr, ":order1", 2*step))
				if a.r.Float64() < p.Conversion[NurtureToRetain] {
					reached++
					evs = append(evs, a.order(pr, ":order2", 3*step))
					if a.r.Float64() < p.Conversion[RetainToAdvocate] {
						reached++
						evs = append(evs, lifecycle.Event{ID: pr.id + ":review", CustomerID: pr.id, Type: lifecycle.ReviewPosted, Time: pr.at.Add(4 * step)})
						newAdv = append(newAdv, pr.id)
					}
				}
			}
		}
		a.buf = evs
		if reached >= 1 {
			own[Acquired]++
		}
		if reached >= 3 {
			own[Retained]++
		}
		if reached >= 4 {
			own[NewAdvocates]++
		}
		for _, e := range evs {
			if err := a.record(e); err != nil {
				return 0, err
			}
		}
	}
	a.ring[slot] = newAdv
	a.pool = a.pool[:0]
	for _, adv := range referring {
		if a.r.Float64() >= p.AdvocateChurn {
			a.pool = append(a.pool, adv)
		}
	}
	own[ReferringAdvocates] = float64(len(referring))
	adv := len(a.pool)
	for _, c := range a.ring {
		adv += len(c)
	}
	own[Advocates] = float64(adv)
	return float64(paid), nil
}

// endOf9999 is the end of the years a run's rotations must lie within.
var endOf9999 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// addRotations returns t + n·every without overflowing time.Duration
// (about 292 years).
func addRotations(t time.Time, n int, every time.Duration) time.Time {
	for n > 0 {
		k := min(n, int(math.MaxInt64/int64(every)))
		t = t.Add(time.Duration(k) * every)
		n -= k
	}
	return t
}

// agentNumber returns N for an ID "c<N>" as newID makes them.
func agentNumber(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, "c")
	if !ok || digits == "" || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

func (a *agent) newID() string {
	a.nextID++
	return "c" + strconv.Itoa(a.nextID)
}

func (a *agent) order(pr prospect, suffix string, after time.Duration) lifecycle.Event {
	amount := 2000 + a.r.Int64N(8001)
	return lifecycle.Event{ID: pr.id + suffix, CustomerID: pr.id, Type: lifecycle.OrderCompleted, Time: pr.at.Add(after), Amount: amount, Currency: "EUR"}
}

func (a *agent) record(e lifecycle.Event) error {
	if a.events >= a.max {
		return fmt.Errorf("%w: more than %d events (MaxEvents)", ErrDiverged, a.max)
	}
	a.events++
	if _, err := a.tr.Record(a.ctx, e); err != nil {
		return fmt.Errorf("recording %s: %w", e.ID, err)
	}
	return nil
}
