package flywheel

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// MaxMeasureRotations is the largest number of rotations [Measure] reports.
const MaxMeasureRotations = 100_000

// MeasureOption configures [Measure].
type MeasureOption func(*measureSettings)

type measureSettings struct {
	spend []float64
	graph *stage.Graph
}

// WithSpend gives the paid acquisition spend of each rotation, in order
// from the first (any currency unit; each ≥ 0 and finite). Rotations
// beyond the values given have unknown spend: their acquisition cost is
// NaN.
func WithSpend(perRotation ...float64) MeasureOption {
	return func(s *measureSettings) { s.spend = slices.Clone(perRotation) }
}

// WithGraph sets the stage graph of the model the customers were recorded
// with (default [Graph], the flywheel's). The per-stage figures follow its
// order; transitions to stages it does not declare are ignored.
func WithGraph(g *stage.Graph) MeasureOption { return func(s *measureSettings) { s.graph = g } }

// RotationMeasure holds what [Measure] found in one rotation, the period
// [Start, End). Per-stage slices are indexed like the graph's stages.
type RotationMeasure struct {
	// N is the rotation number, from 1.
	N          int
	Start, End time.Time
	// Prospects are customers whose first event falls in the rotation;
	// ReferredProspects are those of them with a referrer
	// ([lifecycle.Facts.ReferredBy]).
	Prospects, ReferredProspects int
	// NewCustomers are customers whose first order_completed falls in the
	// rotation; ReferredCustomers are those of them with a referrer (each
	// is one referral credit the Tracker gave).
	NewCustomers, ReferredCustomers int
	// Reached counts, per stage, the customers whose history first reached
	// that stage or a later one in the rotation (a skip from engage to
	// nurture reaches acquire too). Reaching follows the graph's path
	// stages ([stage.Path]) as the funnel does: being in a stage off the
	// path (a [stage.Decline], [stage.Exit] or [stage.WinBack]) reaches
	// that stage only, never a path stage.
	Reached []int
	// InStage counts the customers in each stage at the end of the rotation.
	InStage []int
	// Exposed counts, per stage, the customers who were in it at some time
	// in the rotation (at its start, or by entering it).
	Exposed []int
	// HandedOn counts, per stage, the customers of Exposed who moved from
	// it to a later stage during the rotation: from a path stage, to a
	// later path stage; from a stage off the path, back to a path stage.
	HandedOn []int
	// Connected is HandedOn ÷ Exposed per stage (NaN when Exposed is 0),
	// the share handed on from each stage to the next or beyond. For the
	// last path stage, which hands on through referrals, it is
	// ReferredProspects ÷ Exposed of that stage instead: the referred
	// prospects per advocate.
	Connected []float64
	// ReferredShare is ReferredProspects ÷ Prospects (NaN without
	// prospects): the flywheel's "easier" rule wants it rising.
	ReferredShare float64
	// Spend is the rotation's paid spend (NaN when not given).
	Spend float64
	// AcquisitionCost is the blended acquisition cost, Spend ÷ NewCustomers
	// (NaN when either is unknown or zero customers): the "more efficient"
	// rule wants it falling.
	AcquisitionCost float64
}

// Measurement is the flywheel's three rules measured from recorded
// customers, rotation by rotation.
type Measurement struct {
	Start  time.Time
	Every  time.Duration
	Stages []stage.ID
	// Rotations holds one entry per rotation.
	Rotations []RotationMeasure
	// ReferredShareTrend is the least-squares slope of ReferredShare
	// against the rotation number (share per rotation), over rotations
	// where it is defined; positive means the flywheel gets easier. NaN
	// with fewer than two such rotations.
	ReferredShareTrend float64
	// AcquisitionCostTrend is the least-squares slope of AcquisitionCost
	// per rotation; negative means it gets more efficient. NaN with fewer
	// than two defined rotations.
	AcquisitionCostTrend float64
	// Customers is the number of customers scanned, pending referrers
	// ([lifecycle.Customer.PendingReferrer]) left out.
	Customers int
}

// Measure reads every customer of s (one pass of [lifecycle.Browse]: the
// store's View when it is a [lifecycle.Viewer], else its Scan, keeping
// only per-rotation counters) and measures the flywheel's three
// rules in rotations of length every, the first starting at start:
// connected (the share handed on from each stage to the next, from each
// customer's History), easier (the referred share of new prospects, and
// its trend) and more efficient (the blended acquisition cost, paid spend ÷
// all new customers, and its trend). Customers and transitions outside the
// rotations only set the state at the first rotation's start. Pending
// referrers (referral credits but no event of their own) are not
// customers yet and are left out.
//
// It returns an error wrapping [ErrInvalidParams] when s is nil (or a nil pointer of a store type), every is
// not positive, rotations is outside 1..[MaxMeasureRotations], the graph
// ([WithGraph]) is nil or empty or a spend is negative or not finite, and
// the store's error (or the context's) if the scan fails.
func Measure(ctx context.Context, s lifecycle.Store, start time.Time, every time.Duration, rotations int, opts ...MeasureOption) (*Measurement, error) {
	ms := measureSettings{graph: graph}
	for _, o := range opts {
		if o != nil { // a nil option is skipped, as model's are
			o(&ms)
		}
	}
	switch {
	case nilness.Is(s): // nil, or a nil pointer of a store type
		return nil, fmt.Errorf("%w: store is nil", ErrInvalidParams)
	case every <= 0:
		return nil, fmt.Errorf("%w: every = %s must be positive", ErrInvalidParams, every)
	case rotations < 1 || rotations > MaxMeasureRotations:
		return nil, invalidf("rotations", rotations, fmt.Sprintf("must be from 1 to %d", MaxMeasureRotations))
	case ms.graph == nil || ms.graph.Len() == 0:
		return nil, fmt.Errorf("%w: graph is empty", ErrInvalidParams)
	}
	for i, v := range ms.spend {
		if !(v >= 0 && v <= math.MaxFloat64) {
			return nil, invalidf(fmt.Sprintf("spend[%d]", i), v, "must be finite and not negative")
		}
	}
	g := ms.graph
	ns := g.Len()
	// pos[i] is stage i's position on the path, -1 off it; path[k] the
	// stage at path position k.
	pos, path := make([]int, ns), []int{}
	for i, st := range g.Stages() {
		pos[i] = -1
		if st.Kind == stage.Path {
			pos[i] = len(path)
			path = append(path, i)
		}
	}
	m := &Measurement{Start: start.UTC(), Every: every, Stages: g.IDs(), Rotations: make([]RotationMeasure, rotations)}
	for r := range m.Rotations {
		rm := &m.Rotations[r]
		rm.N = r + 1
		// Added one rotation at a time: r·every may pass the ±292 years
		// a time.Duration holds.
		rm.Start = m.Start
		if r > 0 {
			rm.Start = m.Rotations[r-1].End
		}
		rm.End = rm.Start.Add(every)
		rm.Reached = make([]int, ns)
		rm.InStage = make([]int, ns)
		rm.Exposed = make([]int, ns)
		rm.HandedOn = make([]int, ns)
	}
	end := m.Rotations[rotations-1].End
	rotationOf := func(t time.Time) int {
		if t.IsZero() || t.Before(m.Start) || !t.Before(end) {
			return -1
		}
		if d := t.Sub(m.Start); d < math.MaxInt64 {
			return min(int(d/every), rotations-1)
		}
		// More than 292 years after the start: t.Sub saturated.
		r, _ := slices.BinarySearchFunc(m.Rotations, t, func(rm RotationMeasure, t time.Time) int {
			if !rm.End.After(t) {
				return -1
			}
			return 1
		})
		return r
	}
	exposed := make([]bool, ns)
	handed := make([]bool, ns)
	offSeen := make([]bool, ns)
	// A read-only pass: no copies when the store is a lifecycle.Viewer.
	for c, err := range lifecycle.Browse(ctx, s) {
		if err != nil {
			return nil, err
		}
		if c.PendingReferrer() {
			continue
		}
		m.Customers++
		referred := c.Facts.ReferredBy != ""
		if r := rotationOf(c.Facts.First); r >= 0 {
			m.Rotations[r].Prospects++
			if referred {
				m.Rotations[r].ReferredProspects++
			}
		}
		if r := rotationOf(c.Facts.FirstTime(lifecycle.OrderCompleted)); r >= 0 {
			m.Rotations[r].NewCustomers++
			if referred {
				m.Rotations[r].ReferredCustomers++
			}
		}
		hist := c.History
		// maxReached is the furthest path position reached; offSeen the
		// stages off the path entered.
		cur, maxReached, i := -1, -1, 0
		clear(offSeen)
		for i < len(hist) && hist[i].At.Before(m.Start) {
			if to := g.Index(hist[i].To); to >= 0 {
				cur = to
				if pos[to] >= 0 {
					maxReached = max(maxReached, pos[to])
				} else {
					offSeen[to] = true
				}
			}
			i++
		}
		for r := range m.Rotations {
			if cur < 0 && i == len(hist) {
				break
			}
			rm := &m.Rotations[r]
			clear(exposed)
			clear(handed)
			if cur >= 0 {
				exposed[cur] = true
			}
			for i < len(hist) && hist[i].At.Before(rm.End) {
				tr := hist[i]
				i++
				to := g.Index(tr.To)
				if to < 0 {
					continue
				}
				if from := g.Index(tr.From); from >= 0 && pos[to] >= 0 && (pos[from] < 0 || pos[to] > pos[from]) {
					handed[from] = true
				}
				exposed[to] = true
				if p := pos[to]; p >= 0 {
					for k := maxReached + 1; k <= p; k++ {
						rm.Reached[path[k]]++
					}
					maxReached = max(maxReached, p)
				} else if !offSeen[to] {
					offSeen[to] = true
					rm.Reached[to]++
				}
				cur = to
			}
			if cur >= 0 {
				rm.InStage[cur]++
			}
			for st := range ns {
				if exposed[st] {
					rm.Exposed[st]++
				}
				if handed[st] {
					rm.HandedOn[st]++
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	shares := make([]float64, rotations)
	costs := make([]float64, rotations)
	for r := range m.Rotations {
		rm := &m.Rotations[r]
		rm.Connected = make([]float64, ns)
		for st := range ns {
			rm.Connected[st] = ratio(float64(rm.HandedOn[st]), float64(rm.Exposed[st]))
		}
		last := ns - 1
		if len(path) > 0 {
			last = path[len(path)-1]
		}
		rm.Connected[last] = ratio(float64(rm.ReferredProspects), float64(rm.Exposed[last]))
		rm.ReferredShare = ratio(float64(rm.ReferredProspects), float64(rm.Prospects))
		rm.Spend = math.NaN()
		if r < len(ms.spend) {
			rm.Spend = ms.spend[r]
		}
		rm.AcquisitionCost = ratio(rm.Spend, float64(rm.NewCustomers))
		shares[r] = rm.ReferredShare
		costs[r] = rm.AcquisitionCost
	}
	m.ReferredShareTrend = slope(shares)
	m.AcquisitionCostTrend = slope(costs)
	return m, nil
}

// ratio returns a/b, or NaN when b is 0 or either is NaN.
func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// slope returns the least-squares slope of ys[i] against i+1, skipping NaN;
// NaN with fewer than two points.
func slope(ys []float64) float64 {
	// Around the means, with y scaled by its largest size: sums of raw
	// values near the float64 limit would overflow (Inf − Inf is NaN).
	var n, sx, scale float64
	for i, y := range ys {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		n++
		sx += float64(i + 1)
		scale = max(scale, math.Abs(y))
	}
	if n < 2 {
		return math.NaN()
	}
	if scale == 0 {
		return 0
	}
	mx := sx / n
	var my float64
	for _, y := range ys {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			my += y / scale / n
		}
	}
	var sxy, sxx float64
	for i, y := range ys {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		dx := float64(i+1) - mx
		sxy += dx * (y/scale - my)
		sxx += dx * dx
	}
	return sxy / sxx * scale
}
