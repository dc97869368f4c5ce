package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Builder declares a custom model: stages in order, each (but the first)
// with an entry [Rule]. [Builder.Build] checks the declaration and returns
// the model.
//
// Classification: a customer is in the last stage (in the declared order)
// whose rule holds for their facts at now; when none holds they are in the
// first stage, the fallback, which has no rule. So later stages take
// precedence, and a rule need not repeat the rules of the stages before it.
//
// Graph: unless [Builder.Edges] declares the edges, Build derives them from
// what the rules can do: an edge i → j (j later) when the rule of j can
// turn from false to true as events arrive or time passes, and edges from
// i to every earlier stage when the rule of i can turn from true to false.
// (Counts, [Tenure] and [Referrals] only turn true; [Orders], [Spent],
// [Within], [After], [Score] and [Func] can turn either way; [Not] swaps
// the two, [All] and [Any] combine them.) Each edge gets the kind
// [stage.KindOf] gives for its ends: between path stages an advance or a
// regression, into a decline or an exit stage a fall, out of one a
// recovery. So declare what each stage is with [stage.Stage.Kind] (a
// subscription's at-risk is a [stage.Decline], churned an [stage.Exit],
// win-back a [stage.WinBack]), and the diagrams and the funnel follow.
//
// The derived graph is an over-approximation: it declares every move the
// model can make, and often many it cannot, because each rule is judged
// alone, not against the rules of the stages around it: the seven-stage
// subscription model of model/modeltest's tests (prospect → trial →
// subscriber → at-risk → churned → win-back → advocate) gets 41 edges, 18
// of which none of 3,000 random histories of 60 steps takes (modeltest's
// Walks(3000) and Steps(60); as many with its default search), advocate →
// prospect among them (an
// advocate has renewed, and renewals never go away), and diagrams drawn
// from the graph show them all. To list the edges
// a model never takes, run model/modeltest: its Unused function returns
// them and its Run logs them. To get an exact graph, declare the edges
// with [Builder.Edges] and run modeltest with its EveryEdge option, which
// then fails for a declared edge no random history takes, as its Graph
// rule fails for a move the graph does not declare. Declared edges are
// checked for well-formedness only by Build.
//
// A Builder is not safe for concurrent use; the built model is.
type Builder struct {
	name     string
	stages   []stage.Stage
	rules    []Rule
	edges    []stage.Edge
	declared bool
	convert  []lifecycle.EventType
	errs     []error
}

// NewBuilder starts a model named name (its [lifecycle.Model.Name]).
func NewBuilder(name string) *Builder { return &Builder{name: name} }

// Start declares the first stage: where new customers begin, and the
// fallback for customers no other rule places. It must be called once,
// before [Builder.Stage].
func (b *Builder) Start(s stage.Stage) *Builder {
	if len(b.stages) > 0 {
		b.errs = append(b.errs, fmt.Errorf("%w: %q: Start(%q) must be called once, before any Stage", ErrInvalidModel, cut(b.name), cut(s.ID)))
		return b
	}
	b.stages = append(b.stages, s)
	b.rules = append(b.rules, Rule{})
	return b
}

// Stage declares the next stage and its entry rule.
func (b *Builder) Stage(s stage.Stage, rule Rule) *Builder {
	if len(b.stages) == 0 {
		b.errs = append(b.errs, fmt.Errorf("%w: %q: Stage(%q) before Start: the first stage is the fallback and is declared with Start", ErrInvalidModel, cut(b.name), cut(s.ID)))
		return b
	}
	b.stages = append(b.stages, s)
	b.rules = append(b.rules, rule)
	return b
}

// Edges declares the model's edges instead of deriving them from the
// rules. It may be called more than once; the edges add up. An edge whose
// Kind is zero gets the kind [stage.KindOf] gives for its ends.
func (b *Builder) Edges(edges ...stage.Edge) *Builder {
	b.declared = true
	b.edges = append(b.edges, edges...)
	return b
}

// Converts declares the event types that convert a referred customer,
// earning their referrer a [lifecycle.ReferralConverted] credit (the
// built model is a [lifecycle.Converter]): a subscription business whose
// customers pay by renewal declares lifecycle.SubscriptionRenewed, say.
// Without it the model converts with
// [lifecycle.DefaultConversionTypes] (order_completed and
// subscription_started). It may be called more than once; the types add
// up. Build refuses a type [lifecycle.Event.Validate] would refuse
// (referral_converted among them).
func (b *Builder) Converts(types ...lifecycle.EventType) *Builder {
	if len(types) == 0 {
		b.errs = append(b.errs, fmt.Errorf("%w: %q: Converts needs at least one event type", ErrInvalidModel, cut(b.name)))
	}
	for _, t := range types {
		if !slices.Contains(b.convert, t) {
			b.convert = append(b.convert, t)
		}
	}
	return b
}

// Build checks the declaration and returns the model. It reports every
// problem found, joined, each wrapping [ErrInvalidModel]: an empty name (or
// one of only white space), no stages, Start missing or repeated, a stage without a rule, a rule with a
// bad parameter, two stages with the same rule (they can never be told
// apart: the earlier would never be chosen), when the edges are derived
// (no [Builder.Edges] call) a stage whose rule can only turn false (no
// move can ever enter it), a [Builder.Converts] type that
// [lifecycle.Event.Validate] would refuse (or a Converts call with none),
// more than [stage.MaxStages] stages, and, once none of those is found,
// any graph problem [stage.New] finds (duplicate or empty IDs, a stage of
// an unknown kind, edges naming unknown stages, an edge declared twice (in
// one Edges call or two), a declared edge whose kind contradicts its ends,
// unreachable stages), each on its own, wrapping
// [stage.ErrInvalidGraph] too.
func (b *Builder) Build() (*Custom, error) {
	errs := append([]error(nil), b.errs...)
	bad := func(format string, args ...any) {
		for i, a := range args {
			if id, ok := a.(stage.ID); ok {
				args[i] = cut(id) // (a rule's description is cut where it is read)
			}
		}
		errs = append(errs, fmt.Errorf("%w: %q: "+format, append([]any{ErrInvalidModel, cut(b.name)}, args...)...))
	}
	if strings.TrimSpace(b.name) == "" {
		bad("the model has no name")
	}
	if len(b.stages) == 0 {
		bad("no stages (declare the first with Start)")
	}
	seen := make(map[string]stage.ID)
	for i := 1; i < len(b.stages); i++ {
		id, r := b.stages[i].ID, b.rules[i]
		if r.IsZero() {
			bad("stage %q has no entry rule (only the first stage, the fallback, has none)", id)
			continue
		}
		problems := r.n.problems(nil)
		for _, p := range problems {
			bad("stage %q: rule %s", id, p)
		}
		desc := r.String()
		if prev, dup := seen[desc]; dup {
			bad("stages %q and %q have the same rule %s: they can never be told apart (%q would never be chosen)", prev, id, cut(desc), prev)
		}
		seen[desc] = id
		if !b.declared && !r.n.canUp && len(problems) == 0 { // (a broken rule says nothing of what it can do)
			bad("stage %q can never be entered: its rule %s can only turn false as events arrive or time passes", id, cut(desc))
		}
	}
	for _, t := range b.convert {
		if why := checkType(t); why != "" {
			bad("Converts: %s", why)
		}
	}
	if len(b.stages) > stage.MaxStages {
		// (Before deriving edges, which takes every pair of stages.)
		bad("%d stages, more than %d", len(b.stages), stage.MaxStages)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	edges := slices.Clone(b.edges)
	if !b.declared {
		edges = derive(b.stages, b.rules)
	} else {
		fillKinds(b.stages, edges)
	}
	g, err := stage.New(b.stages, edges)
	if err != nil {
		// Each of the graph's problems on its own, as the rules' are.
		problems := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			problems = j.Unwrap()
		}
		for i, p := range problems {
			problems[i] = fmt.Errorf("%w: %q: %w", ErrInvalidModel, cut(b.name), p)
		}
		return nil, errors.Join(problems...)
	}
	m := &Custom{name: b.name, graph: g, ids: g.IDs(), rules: make([]*node, len(b.rules)), convert: slices.Clone(b.convert)}
	for i, r := range b.rules {
		m.rules[i] = r.n
	}
	return m, nil
}

// MustBuild is like [Builder.Build] but panics on an error. It is meant
// for package-level variables holding models fixed at compile time.
func (b *Builder) MustBuild() *Custom {
	m, err := b.Build()
	if err != nil {
		panic(err)
	}
	return m
}

// derive returns the edges the rules allow. A stage with an empty ID, or
// repeating an earlier stage's ID, gets no edges: [stage.New] reports the
// ID itself, and edges derived for it would only add confusing problems
// (a stage moving to itself, an advance going back).
func derive(stages []stage.Stage, rules []Rule) []stage.Edge {
	ok := make([]bool, len(stages))
	seen := make(map[stage.ID]bool, len(stages))
	for i, s := range stages {
		ok[i] = s.ID != "" && !seen[s.ID]
		seen[s.ID] = true
	}
	edge := func(i, j int) bool {
		return ok[i] && ok[j] && (j > i && rules[j].n.canUp || j < i && rules[i].n.canDn)
	}
	count := 0 // first, so that a graph of a million edges is not copied as it grows
	for i := range stages {
		for j := range stages {
			if edge(i, j) {
				count++
			}
		}
	}
	edges := make([]stage.Edge, 0, count)
	for i := range stages {
		for j := range stages {
			if edge(i, j) {
				edges = append(edges, stage.Edge{From: stages[i].ID, To: stages[j].ID, Kind: stage.KindOf(stages[i], stages[j], j > i)})
			}
		}
	}
	return edges
}

// fillKinds gives every edge without a kind the kind [stage.KindOf] gives
// for its ends (an edge naming an unknown stage keeps it: stage.New
// reports the stage).
func fillKinds(stages []stage.Stage, edges []stage.Edge) {
	at := make(map[stage.ID]int, len(stages))
	for i, s := range stages {
		if _, dup := at[s.ID]; !dup {
			at[s.ID] = i
		}
	}
	for k := range edges {
		e := &edges[k]
		i, okFrom := at[e.From]
		j, okTo := at[e.To]
		if e.Kind == 0 && okFrom && okTo {
			e.Kind = stage.KindOf(stages[i], stages[j], j > i)
		}
	}
}

// Custom is a model declared with a [Builder]. It is immutable and safe
// for concurrent use; [Custom.Stage] does not allocate unless a [Func]
// predicate does.
type Custom struct {
	name    string
	graph   *stage.Graph
	ids     []stage.ID
	rules   []*node               // rules[0] is nil: the fallback
	convert []lifecycle.EventType // Converts; nil: the default
}

var (
	_ lifecycle.Model     = (*Custom)(nil)
	_ lifecycle.Converter = (*Custom)(nil)
)

// Name returns the name given to [NewBuilder].
func (m *Custom) Name() string { return m.name }

// ConversionTypes implements [lifecycle.Converter]: the types declared
// with [Builder.Converts], or [lifecycle.DefaultConversionTypes]. The
// slice is new on every call.
func (m *Custom) ConversionTypes() []lifecycle.EventType {
	if len(m.convert) == 0 {
		return lifecycle.DefaultConversionTypes()
	}
	return slices.Clone(m.convert)
}

// Stages returns the stage graph, derived or declared.
func (m *Custom) Stages() *stage.Graph { return m.graph }

// Stage returns the last stage whose rule holds for f at now, or the first
// stage when none does.
func (m *Custom) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	f = orEmpty(f)
	for i := len(m.rules) - 1; i > 0; i-- {
		if m.rules[i].holds(f, now) {
			return m.ids[i]
		}
	}
	return m.ids[0]
}

var _ lifecycle.Scheduler = (*Custom)(nil)

// NextChange implements [lifecycle.Scheduler]: it returns a time before
// which time alone does not change the stage [Custom.Stage] returns for f,
// or the zero time when time alone never changes it. The stage is the
// last one whose rule holds, so it changes only when that rule or a rule
// of a later stage changes; NextChange returns the earliest time at which
// one of them may. A [Within] rule that holds turns false at the last
// event of its type + the window + 1ns; a [Tenure] rule that does not
// hold turns true at the first event of its type + the tenure; the other
// rules but [Func] do not change with time alone ([After] compares two
// event times, not now); [All], [Any] and [Not] change only when their
// rules do, and not at all when a rule that decides them (one false rule
// of an All, one true rule of an Any) never changes. A [Func] rule cannot
// tell, so a model whose stage may depend on one answers now: due now
// (1ns before now when now is the zero time, which means never).
func (m *Custom) NextChange(f *lifecycle.Facts, now time.Time) time.Time {
	f = orEmpty(f)
	var next time.Time
	for i := len(m.rules) - 1; i > 0; i-- {
		kn, holds := m.rules[i].next(f, now)
		next = earliest(next, kn)
		if holds {
			break
		}
	}
	return next
}

// Rule returns the entry rule of stage id: the zero Rule for the first
// stage, and ok false for an unknown stage.
func (m *Custom) Rule(id stage.ID) (r Rule, ok bool) {
	i := m.graph.Index(id)
	if i < 0 {
		return Rule{}, false
	}
	return Rule{n: m.rules[i]}, true
}

// EventTypes returns the event types the model's rules read, in the order
// the stages and rules first name them, each once: the types of [Count],
// [Within], [Tenure] and [After]; order_completed and order_refunded for
// [Orders]; the standard types of a purchase or refund kind (what
// [lifecycle.Facts.Revenue] reads: order_completed, order_refunded,
// subscription_started, subscription_renewed) for [Spent]; referral_converted
// for [Referrals]; survey_answered for [Score]. A [Func] predicate is
// opaque and adds nothing. model/modeltest reads this list (its
// TypeReader interface) to draw these types more often in its random
// histories, so that every stage is reached without naming custom types.
// The slice is new on every call.
func (m *Custom) EventTypes() []lifecycle.EventType {
	var out []lifecycle.EventType
	add := func(ts ...lifecycle.EventType) {
		for _, t := range ts {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	var walk func(r *node)
	walk = func(r *node) {
		switch r.op {
		case opCount, opWithin, opTenure:
			add(r.typ)
		case opAfter:
			add(r.typ, r.typ2)
		case opOrders:
			add(lifecycle.OrderCompleted, lifecycle.OrderRefunded)
		case opSpent:
			for _, v := range lifecycle.Vocabulary() { // what Facts.Revenue reads
				if v.Kind.Purchase() || v.Kind == lifecycle.KindRefund {
					add(v.Type)
				}
			}
		case opReferrals:
			add(lifecycle.ReferralConverted)
		case opScore:
			add(lifecycle.SurveyAnswered)
		}
		for _, k := range r.kids {
			walk(k)
		}
	}
	for _, r := range m.rules[1:] {
		walk(r)
	}
	return out
}
