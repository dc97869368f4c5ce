package funnel

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Option configures an [Analyzer] (and [Analyze]).
type Option func(*config)

type config struct {
	asOf    time.Time
	hasAsOf bool
	cohort  func(*lifecycle.Customer) string
	nilKey  bool // CohortBy(nil)
	only    *Segment
	ps      []float64
	psSet   bool
}

// AsOf reconstructs every customer as they stood at t, from their History
// alone: only transitions with At ≤ t count, the current stage is the To of
// the last of them, and customers with no transition at or before t (not
// yet entered) are left out. Without AsOf the report describes the stored
// state: the current stage is [lifecycle.Customer.Stage] and every
// transition counts.
//
// Moves caused by time alone (a buyer lapsing) are in a History only once
// [lifecycle.Tracker.Sweep] has applied them, so an AsOf later than a
// customer's last sweep shows the stage the store knew then. AsOf the zero
// time is an error ([New]).
func AsOf(t time.Time) Option {
	return func(c *config) { c.asOf, c.hasAsOf = t, true }
}

// CohortBy splits the report by a key computed for each customer: the
// report's Cohorts hold one funnel per distinct key, sorted by key, beside
// the total. [FirstSeen] and [FirstOrder] build keys from time periods; any
// function of the customer works (an acquisition channel recorded as a
// custom event type, a segment name). key must not keep or modify the
// customer, nor read its Seen, which a store's read-only pass may leave
// empty (see [lifecycle.Viewer]). A nil key is an error ([New] returns
// it).
func CohortBy(key func(*lifecycle.Customer) string) Option {
	return func(c *config) { c.cohort, c.nilKey = key, key == nil }
}

// Only restricts the analysis to the customers that match s: the others
// are not counted anywhere. s.Match sees the customer as stored (with
// [AsOf], facts and stage are not rolled back to that time).
func Only(s Segment) Option {
	return func(c *config) { c.only = &s }
}

// Percentiles sets the percentiles (each in (0, 100], any order, kept as
// given) every [Dist] of the report carries. The default is
// [DefaultPercentiles]: 25, 50, 75 and 90. Percentiles() with no argument
// reports none (the Dist still has Min, Median, Max and Mean).
func Percentiles(ps ...float64) Option {
	ps = slices.Clone(ps) // as given now, whatever the caller does to its slice
	return func(c *config) { c.ps, c.psSet = slices.Clone(ps), true }
}

// Report is the funnel of a set of customers over one stage graph.
type Report struct {
	// AsOf is the time the customers were reconstructed at; zero for the
	// stored state (see [AsOf]).
	AsOf time.Time `json:"as_of,omitzero"`
	// Funnel is the total over every customer analysed.
	Funnel
	// Cohorts holds one funnel per cohort key, sorted by key; nil without
	// [CohortBy].
	Cohorts []Cohort `json:"cohorts,omitempty"`
}

// Cohort is the funnel of the customers that share a cohort key.
type Cohort struct {
	Key string `json:"key"`
	Funnel
}

// Funnel is the stage-by-stage summary of a set of customers.
type Funnel struct {
	// Customers is the number of customers analysed: those that had
	// entered the model (at the AsOf time, if set) and matched [Only];
	// pending referrers are not customers (see [Analyzer.Add]).
	// It equals the sum of Current over the stages.
	Customers int `json:"customers"`
	// Stages has one entry per stage of the graph, in graph order.
	Stages []StageStats `json:"stages"`
}

// Stage returns the statistics of the stage with this ID; ok is false when
// the graph has no such stage.
func (f *Funnel) Stage(id stage.ID) (s StageStats, ok bool) {
	for _, s := range f.Stages {
		if s.Stage == id {
			return s, true
		}
	}
	return StageStats{}, false
}

// StageStats describes one stage. The funnel is the graph's path stages
// ([stage.Path], every stage of a plain funnel) in graph order; stages
// off the path (a [stage.Decline] such as at-risk, a [stage.Exit] such as
// churned, a [stage.WinBack]) are counted beside it and never count as
// reaching a path stage, wherever they sit in the list.
//
// "Reaching" a path stage means being, for the first time, in this stage
// or any later path stage: a customer who skips a stage (enters the model
// at checkout, say) reaches every stage they skipped at the moment they
// pass it, and a customer who later regresses (a buyer who lapses) or
// falls into a decline keeps having reached the stages they left. So
// Reached never grows along the path, and every conversion is at most 1.
// "Reaching" an off-path stage means being in it at least once.
type StageStats struct {
	// Stage is the stage's ID.
	Stage stage.ID `json:"stage"`
	// Kind is the stage's kind (omitted from JSON for a path stage).
	Kind stage.Kind `json:"kind,omitempty"`
	// Current counts customers in this stage now (or at the AsOf time).
	Current int `json:"current"`
	// Entered counts customers whose history has at least one transition
	// into this very stage.
	Entered int `json:"entered"`
	// Reached counts customers who reached this stage (see above).
	Reached int `json:"reached"`
	// Stopped, for a path stage, counts customers whose furthest path
	// stage is this one: they reached it but not the next path stage. It
	// is Reached minus the next path stage's Reached (all of Reached for
	// the last path stage). For an off-path stage it counts customers who
	// did not return to the path after their last stay in it.
	Stopped int `json:"stopped"`
	// Conversion, for a path stage, is the next path stage's Reached ÷
	// this stage's Reached; 0 for the last path stage (there is no next
	// one). For an off-path stage it is the share that returned to the
	// path, (Reached − Stopped) ÷ Reached. It is 0 when Reached is 0.
	Conversion float64 `json:"conversion"`
	// StopRate is Stopped ÷ Reached (0 when Reached is 0): the drop-off.
	// When Reached > 0 it is 1 − Conversion for every stage but the last
	// path stage, where it is 1; a stage nobody reached has both at 0.
	StopRate float64 `json:"stop_rate"`
	// ToNext, for a path stage, is the time from reaching this stage to
	// reaching the next path stage, over customers who reached both and
	// who reached this stage by a transition into it (those who skipped it
	// have no time in it and are left out, even if they fall back into it
	// later). It is empty for an off-path stage.
	ToNext Dist `json:"to_next"`
	// FromStart is the time from entering the model (the first transition)
	// to reaching this stage, over the customers who reached it. It is
	// empty for the first path stage, where it would always be zero.
	FromStart Dist `json:"from_start"`
	// Stay is the time spent in this stage per completed stay: from a
	// transition into it to the next transition out of it. A customer may
	// contribute several stays (after a regression). Stays still open are
	// censored: they are not in Stay but in Open.
	Stay Dist `json:"stay"`
	// Open is the age of the stays still open: for each customer currently
	// in this stage, the time since they entered it, measured to the AsOf
	// time, or without [AsOf] to the customer's own
	// [lifecycle.Customer.AsOf] (their latest event or sweep). Open ages
	// are lower bounds of the stays they will become. A customer whose
	// reference time is before they entered the stage (a record built
	// without AsOf) adds no age, so Open.N may be below Current. Entry is
	// [lifecycle.Customer.Since]; for a record without it, the time of its
	// last transition if that led into the stage, or else no age.
	Open Dist `json:"open"`
}

// Analyzer builds a [Report] from customers added one at a time, keeping
// only counts and durations, never the customers. It is not safe for
// concurrent use; run one Analyzer per goroutine. Use [Analyze] to feed it
// from a store scan.
type Analyzer struct {
	g       *stage.Graph
	ids     []stage.ID
	pos     []int // per stage: its position on the path, or -1 off the path
	path    []int // the path stages' indexes, in order
	cfg     config
	total   *acc
	cohorts map[string]*acc
	// scratch, per customer
	reachedAt []time.Time
	direct    []bool
	entered   []bool
	lastIn    []int // off the path: the position in the history of the last entry
	accs      [2]*acc
}

type acc struct {
	customers int
	st        []stageAcc
}

type stageAcc struct {
	current, entered, reached, stopped int
	toNext, fromStart, stay, open      durs
}

func newAcc(n int) *acc { return &acc{st: make([]stageAcc, n)} }

// New returns an Analyzer for graph g (usually a model's Stages()). It
// returns an error wrapping [ErrInvalidInput] for a nil or empty graph, a
// percentile outside (0, 100], [AsOf] the zero time, [CohortBy] of a nil
// key, or a segment ([Only]) without a predicate or with a malformed rule.
func New(g *stage.Graph, opts ...Option) (*Analyzer, error) {
	if g == nil || g.Len() == 0 {
		return nil, fmt.Errorf("%w: graph is nil or has no stages", ErrInvalidInput)
	}
	cfg := config{}
	for _, o := range opts {
		if o != nil { // a nil option is skipped, as model's are
			o(&cfg)
		}
	}
	if cfg.hasAsOf && cfg.asOf.IsZero() {
		// (Report.AsOf zero means the stored state: leave AsOf out.)
		return nil, fmt.Errorf("%w: AsOf the zero time (leave AsOf out for the stored state)", ErrInvalidInput)
	}
	if cfg.nilKey {
		return nil, fmt.Errorf("%w: CohortBy of a nil key function", ErrInvalidInput)
	}
	if !cfg.psSet {
		cfg.ps = slices.Clone(DefaultPercentiles)
	}
	for _, p := range cfg.ps {
		if !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("%w: percentile %v is outside (0, 100]", ErrInvalidInput, p)
		}
	}
	if cfg.only != nil {
		if err := cfg.only.check(); err != nil {
			return nil, err
		}
	}
	n := g.Len()
	a := &Analyzer{
		g:         g,
		ids:       g.IDs(),
		pos:       make([]int, n),
		cfg:       cfg,
		total:     newAcc(n),
		reachedAt: make([]time.Time, n),
		direct:    make([]bool, n),
		entered:   make([]bool, n),
		lastIn:    make([]int, n),
	}
	for i, s := range g.Stages() {
		a.pos[i] = -1
		if s.Kind == stage.Path {
			a.pos[i] = len(a.path)
			a.path = append(a.path, i)
		}
	}
	if cfg.cohort != nil {
		a.cohorts = make(map[string]*acc)
	}
	return a, nil
}

// Add counts one customer. It does not keep c. It returns an error
// wrapping [ErrInvalidInput] for a nil customer, one whose History is not
// oldest first (a transition dated before the one before it: the Tracker
// never writes one) or, without [AsOf], one with a History but no Stage,
// and [ErrUnknownStage] when
// the stage or history of a customer it would count names a stage the
// graph does not have (with [AsOf] too, even in transitions after its
// time); the customer is then not counted. A customer it leaves out (a
// pending referrer, below, or one the [Only] segment does not match) is
// not checked.
//
// A customer with an empty History but a Stage (a record built outside the
// Tracker) is treated as having one transition into Stage at Since.
//
// A pending referrer ([lifecycle.Customer.PendingReferrer]: a record that
// holds referral credits but no event of its own) is not a customer yet
// and is not counted anywhere: not in Customers, stage counts, durations
// or cohorts, whatever stage an earlier version of the library stored for
// it.
func (a *Analyzer) Add(c *lifecycle.Customer) error {
	if c == nil {
		return fmt.Errorf("%w: nil customer", ErrInvalidInput)
	}
	if c.PendingReferrer() {
		return nil
	}
	if a.cfg.only != nil && !a.cfg.only.Match(c) {
		return nil
	}
	hist := c.History
	var one [1]lifecycle.Transition
	if len(hist) == 0 && c.Stage != "" {
		one[0] = lifecycle.Transition{To: c.Stage, At: c.Since}
		hist = one[:]
	}
	// Check every stage the customer names, whatever AsOf cuts off, and
	// before touching any accumulator, so that a bad customer counts
	// nowhere; then find the transitions that count.
	for i := range hist {
		if a.index(hist[i].To) < 0 {
			return fmt.Errorf("%w: customer %q: history names stage %q", ErrUnknownStage, c.ID, hist[i].To)
		}
		if from := hist[i].From; from != "" && a.index(from) < 0 {
			return fmt.Errorf("%w: customer %q: history names stage %q", ErrUnknownStage, c.ID, from)
		}
		if i > 0 && hist[i].At.Before(hist[i-1].At) {
			return fmt.Errorf("%w: customer %q: history[%d] at %v is before history[%d] at %v: a history is oldest first", ErrInvalidInput, c.ID, i, hist[i].At.Format(time.RFC3339Nano), i-1, hist[i-1].At.Format(time.RFC3339Nano))
		}
	}
	if c.Stage != "" && a.index(c.Stage) < 0 {
		return fmt.Errorf("%w: customer %q: stage %q", ErrUnknownStage, c.ID, c.Stage)
	}
	end := len(hist)
	if a.cfg.hasAsOf {
		end = 0
		for end < len(hist) && !hist[end].At.After(a.cfg.asOf) {
			end++
		}
	}
	if end == 0 {
		return nil // not entered (yet)
	}
	hist = hist[:end]
	var cur int
	var curAt, ref time.Time
	if a.cfg.hasAsOf {
		cur, curAt, ref = a.index(hist[end-1].To), hist[end-1].At, a.cfg.asOf
	} else {
		cur = a.index(c.Stage)
		if c.Stage == "" {
			// (A stage the graph lacks was refused above.)
			return fmt.Errorf("%w: customer %q has a history of %d transitions but no stage", ErrInvalidInput, c.ID, len(c.History))
		}
		curAt, ref = c.Since, c.AsOf
		if curAt.IsZero() && hist[end-1].To == c.Stage {
			curAt = hist[end-1].At // a record without Since: it entered with its last move
		}
	}

	accs := a.accs[:1]
	accs[0] = a.total
	if a.cohorts != nil {
		key := a.cfg.cohort(c)
		ca := a.cohorts[key]
		if ca == nil {
			ca = newAcc(len(a.ids))
			a.cohorts[key] = ca
		}
		accs = append(accs, ca)
	}

	clear(a.entered)
	// maxPos is the furthest path position reached; lastPath the position
	// in hist of the last transition onto the path.
	maxPos, prev, lastPath := -1, -1, -1
	var prevAt time.Time
	start := hist[0].At
	for i := range hist {
		tr := &hist[i]
		j := a.index(tr.To)
		if prev >= 0 {
			if d := tr.At.Sub(prevAt); d >= 0 {
				for _, x := range accs {
					x.st[prev].stay.add(d)
				}
			}
		}
		if p := a.pos[j]; p < 0 {
			if !a.entered[j] {
				a.reachedAt[j] = tr.At
			}
			a.lastIn[j] = i
		} else {
			lastPath = i
			for ; maxPos < p; maxPos++ {
				k := a.path[maxPos+1]
				a.reachedAt[k] = tr.At
				a.direct[k] = maxPos+1 == p
			}
		}
		a.entered[j] = true
		prev, prevAt = j, tr.At
	}

	open := time.Duration(-1) // no open age without an entry time
	if !curAt.IsZero() {
		open = ref.Sub(curAt)
	}
	for _, x := range accs {
		x.customers++
		s := &x.st[cur]
		s.current++
		if open >= 0 {
			s.open.add(open)
		}
		if maxPos >= 0 {
			x.st[a.path[maxPos]].stopped++
		}
		for p := 0; p <= maxPos; p++ {
			k := a.path[p]
			s := &x.st[k]
			s.reached++
			if a.entered[k] {
				s.entered++
			}
			if p > 0 { // not the first path stage, where it is always zero
				s.fromStart.add(a.reachedAt[k].Sub(start))
			}
			if p < maxPos && a.direct[k] {
				s.toNext.add(a.reachedAt[a.path[p+1]].Sub(a.reachedAt[k]))
			}
		}
		for k, p := range a.pos {
			if p >= 0 || !a.entered[k] {
				continue
			}
			s := &x.st[k]
			s.reached++
			s.entered++
			s.fromStart.add(a.reachedAt[k].Sub(start))
			if lastPath < a.lastIn[k] {
				s.stopped++
			}
		}
	}
	return nil
}

// index returns the position of id in the graph, or -1. A linear scan
// beats a map lookup for the handful of stages a model has.
func (a *Analyzer) index(id stage.ID) int {
	if len(a.ids) > 16 {
		return a.g.Index(id)
	}
	for i, x := range a.ids {
		if x == id {
			return i
		}
	}
	return -1
}

// Report summarises the customers added so far. It may be called more
// than once; later calls include customers added since.
func (a *Analyzer) Report() *Report {
	r := &Report{Funnel: a.funnel(a.total)}
	if a.cfg.hasAsOf {
		r.AsOf = a.cfg.asOf
	}
	if a.cohorts != nil {
		keys := make([]string, 0, len(a.cohorts))
		for k := range a.cohorts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		r.Cohorts = make([]Cohort, len(keys))
		for i, k := range keys {
			r.Cohorts[i] = Cohort{Key: k, Funnel: a.funnel(a.cohorts[k])}
		}
	}
	return r
}

func (a *Analyzer) funnel(x *acc) Funnel {
	f := Funnel{Customers: x.customers, Stages: make([]StageStats, len(a.ids))}
	for i, id := range a.ids {
		s := &x.st[i]
		st := StageStats{
			Stage:     id,
			Kind:      a.g.Kind(id),
			Current:   s.current,
			Entered:   s.entered,
			Reached:   s.reached,
			Stopped:   s.stopped,
			ToNext:    s.toNext.dist(a.cfg.ps),
			FromStart: s.fromStart.dist(a.cfg.ps),
			Stay:      s.stay.dist(a.cfg.ps),
			Open:      s.open.dist(a.cfg.ps),
		}
		if s.reached > 0 {
			switch p := a.pos[i]; {
			case p < 0:
				st.Conversion = float64(s.reached-s.stopped) / float64(s.reached)
			case p+1 < len(a.path):
				st.Conversion = float64(x.st[a.path[p+1]].reached) / float64(s.reached)
			}
			st.StopRate = float64(s.stopped) / float64(s.reached)
		}
		f.Stages[i] = st
	}
	return f
}

// Analyze feeds every customer of customers to a new [Analyzer] and
// returns its report. customers is usually a store's Scan (see
// [AnalyzeStore]) or [Customers] over a slice. It stops at the first error
// the sequence yields, the first error of [Analyzer.Add], or when ctx is
// done, and returns that error; a nil customers is an error wrapping
// [ErrInvalidInput].
func Analyze(ctx context.Context, g *stage.Graph, customers iter.Seq2[*lifecycle.Customer, error], opts ...Option) (*Report, error) {
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	a, err := New(g, opts...)
	if err != nil {
		return nil, err
	}
	if customers == nil {
		return nil, fmt.Errorf("%w: Analyze of a nil sequence of customers", ErrInvalidInput)
	}
	n := 0
	for c, err := range customers {
		if err != nil {
			return nil, err
		}
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := a.Add(c); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.Report(), nil
}

// AnalyzeStore is [Analyze] over every stored customer, for any
// [lifecycle.Store]. It reads through [lifecycle.Browse]: with the store's
// View when it is a [lifecycle.Viewer] (as store.Memory is), whose
// customer is valid only until the next one, so cohort keys and segment
// predicates passed in opts must not call the store or keep the customer
// they are given.
func AnalyzeStore(ctx context.Context, g *stage.Graph, s lifecycle.Store, opts ...Option) (*Report, error) {
	if nilness.Is(s) {
		return nil, fmt.Errorf("%w: AnalyzeStore of a nil store", ErrInvalidInput)
	}
	return Analyze(ctx, g, lifecycle.Browse(ctx, s), opts...)
}

// Customers adapts a slice to the sequence [Analyze] reads.
func Customers(cs []*lifecycle.Customer) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// FirstSeen returns a cohort key (for [CohortBy]) naming the period p that
// holds the customer's first event ([lifecycle.Facts.First]), or their
// first transition when the facts have no time; "" when neither exists.
func FirstSeen(p Period) func(*lifecycle.Customer) string {
	return func(c *lifecycle.Customer) string {
		t := c.Facts.First
		if t.IsZero() && len(c.History) > 0 {
			t = c.History[0].At
		}
		if t.IsZero() {
			return ""
		}
		return p.Key(t)
	}
}

// FirstOrder returns a cohort key (for [CohortBy]) naming the period p
// that holds the customer's first completed order; "" for customers who
// never ordered.
func FirstOrder(p Period) func(*lifecycle.Customer) string {
	return func(c *lifecycle.Customer) string {
		t := c.Facts.FirstTime(lifecycle.OrderCompleted)
		if t.IsZero() {
			return ""
		}
		return p.Key(t)
	}
}
