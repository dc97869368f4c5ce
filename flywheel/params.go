package flywheel

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Sentinel errors. Every error this package returns about bad input wraps
// one of them; test with [errors.Is].
var (
	// ErrInvalidParams is wrapped by every error about a parameter or
	// option out of range, and by the Write methods' error for a nil
	// io.Writer; the message names the parameter and its value.
	ErrInvalidParams = errors.New("flywheel: invalid parameters")
	// ErrDiverged means a simulated population grew past [MaxPopulation]
	// (or, in agent mode, past the event limit): the parameters make the
	// flywheel explode within the simulated rotations.
	ErrDiverged = errors.New("flywheel: simulation diverged")
	// ErrNoFit means a Bass fit found no parameters that explain the series.
	ErrNoFit = errors.New("flywheel: no fit")
)

// Limits on simulator parameters.
const (
	// MaxRotations is the largest number of rotations a simulation runs.
	MaxRotations = 10_000
	// MaxLag is the largest referral lag in rotations.
	MaxLag = 1_000
	// MaxPopulation bounds the simulated population (2⁵⁰, about
	// 1.1·10¹⁵): in every rotation, customers, paid prospects, referred
	// prospects and referring advocates together. A simulation whose
	// population passes it stops with [ErrDiverged].
	MaxPopulation = 1 << 50
)

// Step names one stage-to-stage step of the funnel, an index into
// [Params.Conversion].
type Step int

// The four funnel steps.
const (
	EngageToAcquire  Step = iota // an engaged prospect becomes a known lead
	AcquireToNurture             // a lead places a first order
	NurtureToRetain              // a first-time buyer orders again
	RetainToAdvocate             // a repeat buyer becomes an advocate
)

// Params are the simulator's parameters. One rotation is whatever period
// the caller has in mind (a month, a quarter); every rate is per rotation.
//
// The simulated flywheel: in each rotation, PaidProspects prospects (on
// average) arrive through paid channels and ReferredProspects arrive on the
// recommendation of advocates. Every prospect passes through the funnel in
// the rotation it arrives: it becomes a lead with probability
// Conversion[EngageToAcquire] (ReferredConversion for a referred prospect),
// a lead places a first order with probability Conversion[AcquireToNurture],
// a first-time buyer orders again with Conversion[NurtureToRetain], and a
// repeat buyer becomes an advocate with Conversion[RetainToAdvocate]. A
// prospect who stops at a step stays a lead or a customer but does not move
// on later. An advocate first refers Lag rotations after becoming one, then
// refers in every rotation (Referrals prospects on average) until it stops
// advocating: after each referring rotation it stops with probability
// AdvocateChurn, so it refers for 1/AdvocateChurn rotations on average
// (for ever when AdvocateChurn is 0).
type Params struct {
	// Rotations is the number of rotations to simulate, 1 to MaxRotations.
	Rotations int
	// PaidProspects is the mean number of prospects bought per rotation
	// (0 to [MaxPopulation]). Monte Carlo and agent modes draw it from a Poisson
	// distribution by default; see [PaidInflow] for a constant or another
	// distribution.
	PaidProspects float64
	// Conversion holds the probability of each funnel step within a
	// rotation, indexed by [Step]; each in [0, 1].
	Conversion [4]float64
	// ReferredConversion is the probability that a referred prospect
	// becomes a lead, in [0, 1]; it replaces Conversion[EngageToAcquire]
	// for referred prospects (the later steps are the same for both).
	ReferredConversion float64
	// Referrals is the mean number of prospects each referring advocate
	// brings per rotation (0 to [MaxPopulation]; Poisson in Monte Carlo
	// and agent modes).
	Referrals float64
	// AdvocateChurn is the probability, in [0, 1], that an advocate stops
	// advocating after each rotation in which it referred.
	AdvocateChurn float64
	// Lag is the number of rotations from becoming an advocate to the first
	// referring rotation, 1 to MaxLag: a referred prospect arrives at the
	// earliest in the rotation after its referrer became an advocate.
	Lag int
	// SpendPerProspect is the paid spend per paid prospect, in the caller's
	// currency unit (0 to [MaxPopulation]).
	SpendPerProspect float64
}

// LiteratureExample returns the parameters that reproduce the literature's
// example: 100 engaged shoppers a rotation, every advocate bringing one
// prospect a rotation, and about 47 more engaged shoppers by the fifth
// rotation. A share f = 0.75 × 0.45 × 0.5 × 0.6 = 0.10125 of engaged
// shoppers become advocates; advocates never stop (AdvocateChurn 0) and
// refer from the rotation after they became advocates (Lag 1), so the
// expected advocates after rotation t are A(t) = 100·((1+f)ᵗ − 1) and the
// engaged shoppers in rotation t are 100 + A(t−1), so 100 + A(4) = 147.08
// in rotation 5. Spend is 20 per paid prospect; 12 rotations.
func LiteratureExample() Params {
	return Params{
		Rotations:          12,
		PaidProspects:      100,
		Conversion:         [4]float64{0.75, 0.45, 0.5, 0.6},
		ReferredConversion: 0.75,
		Referrals:          1,
		AdvocateChurn:      0,
		Lag:                1,
		SpendPerProspect:   20,
	}
}

// AdvocateShare returns the probability that a paid prospect (referred
// false) or a referred prospect (referred true) becomes an advocate: the
// product of the four step probabilities.
func (p Params) AdvocateShare(referred bool) float64 {
	f := p.Conversion[EngageToAcquire]
	if referred {
		f = p.ReferredConversion
	}
	return f * p.Conversion[AcquireToNurture] * p.Conversion[NurtureToRetain] * p.Conversion[RetainToAdvocate]
}

// ViralCoefficient returns the expected number of referred prospects who
// become advocates per referring advocate per rotation:
// Referrals × AdvocateShare(true). With AdvocateChurn 0 and Lag 1, the
// advocates that referrals bring grow by about this factor plus one each
// rotation; paid prospects who become advocates come on top (see
// the closed forms in docs/flywheel.md).
func (p Params) ViralCoefficient() float64 { return p.Referrals * p.AdvocateShare(true) }

// GenerationK returns the expected number of referred prospects who become
// advocates per advocate over its whole referring life,
// Referrals × AdvocateShare(true) / AdvocateChurn (+Inf when AdvocateChurn
// is 0 and the viral coefficient positive). Below 1 the flywheel needs paid
// prospects to keep turning; above 1 it grows on its own.
func (p Params) GenerationK() float64 {
	k := p.ViralCoefficient()
	if k == 0 {
		return 0
	}
	return k / p.AdvocateChurn
}

// Param names accepted by [Params.Set] and [Params.Get], also used by
// sweeps and by the example program's flags.
const (
	ParamRotations          = "rotations"
	ParamPaidProspects      = "paid"
	ParamEngageToAcquire    = "engage_acquire"
	ParamAcquireToNurture   = "acquire_nurture"
	ParamNurtureToRetain    = "nurture_retain"
	ParamRetainToAdvocate   = "retain_advocate"
	ParamReferredConversion = "referred_conversion"
	ParamReferrals          = "referrals"
	ParamAdvocateChurn      = "churn"
	ParamLag                = "lag"
	ParamSpend              = "spend"
)

// ParamNames returns the names [Params.Set] accepts, in a fixed order.
func ParamNames() []string {
	return []string{ParamRotations, ParamPaidProspects, ParamEngageToAcquire, ParamAcquireToNurture,
		ParamNurtureToRetain, ParamRetainToAdvocate, ParamReferredConversion, ParamReferrals,
		ParamAdvocateChurn, ParamLag, ParamSpend}
}

// Set sets the parameter with the given name (see [ParamNames]) to v.
// Integer parameters (rotations, lag) must be given whole numbers of at
// most 10⁹ in absolute value. Set does not otherwise check ranges (see
// [Params.Validate]); an unknown name, a fractional integer or one beyond
// ±10⁹ is an error wrapping [ErrInvalidParams] naming the parameter and
// the value (for one beyond ±10⁹, and ±Inf, saying the range Validate
// accepts: 1 to MaxRotations or MaxLag). It stores −0 as 0.
func (p *Params) Set(name string, v float64) error {
	if v == 0 {
		v = 0 // not −0, which tables and CSV would show with its sign
	}
	// whole returns v as an integer; hi is the top of its range, which
	// the error for a value past ±10⁹ names (Validate checks the range).
	whole := func(hi int) (int, error) {
		if v != math.Trunc(v) {
			return 0, invalidf(name, v, "must be a whole number")
		}
		if math.Abs(v) > 1e9 {
			return 0, invalidf(name, v, "must be a whole number from 1 to "+strconv.Itoa(hi))
		}
		return int(v), nil
	}
	switch name {
	case ParamRotations:
		n, err := whole(MaxRotations)
		if err != nil {
			return err
		}
		p.Rotations = n
	case ParamLag:
		n, err := whole(MaxLag)
		if err != nil {
			return err
		}
		p.Lag = n
	case ParamPaidProspects:
		p.PaidProspects = v
	case ParamEngageToAcquire:
		p.Conversion[EngageToAcquire] = v
	case ParamAcquireToNurture:
		p.Conversion[AcquireToNurture] = v
	case ParamNurtureToRetain:
		p.Conversion[NurtureToRetain] = v
	case ParamRetainToAdvocate:
		p.Conversion[RetainToAdvocate] = v
	case ParamReferredConversion:
		p.ReferredConversion = v
	case ParamReferrals:
		p.Referrals = v
	case ParamAdvocateChurn:
		p.AdvocateChurn = v
	case ParamSpend:
		p.SpendPerProspect = v
	default:
		return fmt.Errorf("%w: unknown parameter %q (known: %v)", ErrInvalidParams, name, ParamNames())
	}
	return nil
}

// Get returns the value of the parameter with the given name.
func (p Params) Get(name string) (float64, error) {
	switch name {
	case ParamRotations:
		return float64(p.Rotations), nil
	case ParamLag:
		return float64(p.Lag), nil
	case ParamPaidProspects:
		return p.PaidProspects, nil
	case ParamEngageToAcquire:
		return p.Conversion[EngageToAcquire], nil
	case ParamAcquireToNurture:
		return p.Conversion[AcquireToNurture], nil
	case ParamNurtureToRetain:
		return p.Conversion[NurtureToRetain], nil
	case ParamRetainToAdvocate:
		return p.Conversion[RetainToAdvocate], nil
	case ParamReferredConversion:
		return p.ReferredConversion, nil
	case ParamReferrals:
		return p.Referrals, nil
	case ParamAdvocateChurn:
		return p.AdvocateChurn, nil
	case ParamSpend:
		return p.SpendPerProspect, nil
	}
	return 0, fmt.Errorf("%w: unknown parameter %q (known: %v)", ErrInvalidParams, name, ParamNames())
}

// Validate reports every parameter out of range, joined, each error naming
// the parameter and its value and wrapping [ErrInvalidParams]:
// probabilities outside [0, 1], negative counts, NaN or infinite values,
// PaidProspects, Referrals or SpendPerProspect above [MaxPopulation]
// (2⁵⁰), Rotations outside 1..MaxRotations, Lag outside 1..MaxLag. The
// zero Params is invalid (Rotations and Lag 0): start from
// [LiteratureExample] or set every field.
func (p Params) Validate() error {
	var errs []error
	if p.Rotations < 1 || p.Rotations > MaxRotations {
		errs = append(errs, invalidf("Rotations", p.Rotations, "must be from 1 to "+strconv.Itoa(MaxRotations)))
	}
	if p.Lag < 1 || p.Lag > MaxLag {
		errs = append(errs, invalidf("Lag", p.Lag, "must be from 1 to "+strconv.Itoa(MaxLag)))
	}
	count := func(name string, v float64) {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			errs = append(errs, invalidf(name, v, "must be a finite number"))
		case v < 0:
			errs = append(errs, invalidf(name, v, "must not be negative"))
		case v > MaxPopulation:
			errs = append(errs, invalidf(name, v, "must be at most 2^50"))
		}
	}
	prob := func(name string, v float64) {
		if !(v >= 0 && v <= 1) {
			errs = append(errs, invalidf(name, v, "must be a probability in [0, 1]"))
		}
	}
	count("PaidProspects", p.PaidProspects)
	stepNames := [4]string{"Conversion[EngageToAcquire]", "Conversion[AcquireToNurture]", "Conversion[NurtureToRetain]", "Conversion[RetainToAdvocate]"}
	for i, v := range p.Conversion {
		prob(stepNames[i], v)
	}
	prob("ReferredConversion", p.ReferredConversion)
	count("Referrals", p.Referrals)
	prob("AdvocateChurn", p.AdvocateChurn)
	count("SpendPerProspect", p.SpendPerProspect)
	return errors.Join(errs...)
}

// invalidf returns an error wrapping ErrInvalidParams naming the parameter
// and its value.
func invalidf[T float64 | int](name string, v T, reason string) error {
	text := ""
	switch v := any(v).(type) {
	case float64:
		text = formatValue(v)
	case int:
		text = strconv.Itoa(v) // exactly: past 2^53 a float64 is not the value given
	}
	return fmt.Errorf("%w: %s = %s %s", ErrInvalidParams, name, text, reason)
}

// formatValue prints whole numbers without an exponent.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
