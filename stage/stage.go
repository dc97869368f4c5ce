// Package stage describes lifecycle stages and the graph of moves between
// them.
//
// A [Graph] is an ordered list of stages (the first one is where a new
// customer starts) and a set of directed edges. Each stage has a [Kind]:
// most are on the path, the sequence a funnel measures (prospect → trial →
// subscriber → advocate); a model that is not a funnel also has stages off
// the path: declines (at risk), exits (churned) and win-backs (a churned
// customer being won back). Each edge has an [EdgeKind] that follows from
// the kinds of its ends and, between path stages, from their order:
// advances (towards a later path stage), regressions (back, as when a loyal
// customer lapses), loops (back to an earlier stage closing a cycle, as in a
// flywheel where advocates bring in new prospects), falls (into a decline or
// an exit) and recoveries (out of a decline, an exit or a win-back, onto the
// path or into a win-back). Analytics (lifecycle/funnel) and diagrams
// (model.Mermaid, model.DOT) read the kinds, not the list position.
//
// [New] validates the graph and reports every problem it finds (more than
// [MaxStages] stages alone, checked first): no stages,
// duplicate or empty IDs, IDs with surrounding white space, IDs that are
// longer than [MaxIDLen] bytes, not valid UTF-8, or hold a control, format
// or separator character (Unicode Cc, Cf, Zl, Zp: every store, metric label
// and chart must hold an ID as it is), stages of an
// unknown kind, edges that name unknown stages, edges from a stage to
// itself, duplicate edges, edges of an unknown kind or whose kind does not
// match their ends (see [KindOf]), and stages that cannot be reached from
// the start. (Of a stage ID's own faults — empty, white space around it,
// too long, not UTF-8, a forbidden character — it reports the first in
// that order; a stage with an empty ID is checked no further.)
package stage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clmkit/clm/internal/clip"
)

// ID identifies a stage within a model, such as "conversion". IDs are
// stable names, stored with every customer: by convention short and
// lower-case (New does not insist; see the package doc for what it
// refuses).
type ID string

// MaxIDLen is the longest stage ID, in bytes, [New] accepts: 256, what
// every store holds.
const MaxIDLen = 256

// MaxStages is the most stages a graph may have, [New] refuses more: a
// graph keeps which moves it allows as one entry of a matrix per pair of
// stages (a lifecycle has a handful).
const MaxStages = 1000

// Stage is one stage of a customer lifecycle.
type Stage struct {
	// ID is the stable identifier stored with each customer.
	ID ID
	// Name is the human-readable name, e.g. "Conversion".
	Name string
	// Summary says in plain words what the customer is doing in this stage.
	Summary string
	// Action says what the shop should do for customers in this stage.
	Action string
	// Kind says what the stage is: on the path (the zero value, [Path]),
	// a [Decline], an [Exit] or a [WinBack].
	Kind Kind
}

// Kind says what a stage is. A funnel is its path stages in order; the
// other kinds are off the path: a funnel counts who is in them and who
// comes back from them, but never counts them as reaching a path stage.
type Kind uint8

const (
	// Path is a stage on the lifecycle's main sequence, the one a funnel
	// measures (prospect, trial, subscriber, advocate). It is the zero
	// Kind: every stage of a plain funnel is on the path.
	Path Kind = iota
	// Decline is a stage a customer slips into from the path and may
	// recover from: at risk, lapsing.
	Decline
	// Exit is a stage for customers who have left: churned, cancelled.
	Exit
	// WinBack is a stage for customers being won back after a decline or
	// an exit: a win-back offer accepted, a first renewal after churning.
	WinBack
)

// String returns "path", "decline", "exit" or "win-back", and "Kind(n)"
// for any other value n.
func (k Kind) String() string {
	switch k {
	case Path:
		return "path"
	case Decline:
		return "decline"
	case Exit:
		return "exit"
	case WinBack:
		return "win-back"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalText returns [Kind.String]'s text, so that JSON carries "decline"
// rather than a number. Only the four kinds have a text [Kind.UnmarshalText]
// reads back: any other value is an error wrapping [ErrInvalidGraph], as
// New refuses it.
func (k Kind) MarshalText() ([]byte, error) {
	if k > WinBack {
		return nil, fmt.Errorf("%w: unknown stage kind %d", ErrInvalidGraph, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads the text [Kind.MarshalText] writes.
func (k *Kind) UnmarshalText(b []byte) error {
	for c := Path; c <= WinBack; c++ {
		if string(b) == c.String() {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("%w: unknown stage kind %q", ErrInvalidGraph, b)
}

// OffPath reports whether a stage of kind k is off the path: a [Decline],
// an [Exit] or a [WinBack] (not an unknown kind).
func (k Kind) OffPath() bool { return k == Decline || k == Exit || k == WinBack }

// EdgeKind says what a move between two stages means.
type EdgeKind uint8

const (
	// Advance moves a customer to a later stage in the graph's order. An
	// advance may skip stages (a customer first seen at checkout).
	Advance EdgeKind = iota + 1
	// Regress moves a customer back to an earlier stage, as when a buyer
	// lapses or a refund undoes a purchase.
	Regress
	// Loop moves a customer back to an earlier stage, closing a cycle such
	// as the flywheel's advocate → engage (typically from the last stage to
	// the first, but [New] requires only that it goes back, as it does for
	// [Regress]). A loop and a regression differ in meaning only: a loop is
	// the cycle working as intended, a regression a customer slipping back.
	Loop
	// Fall moves a customer into a [Decline] or an [Exit] stage, from
	// anywhere: subscriber → at-risk, at-risk → churned. It goes forward or
	// back in the list alike.
	Fall
	// Recover moves a customer out of a [Decline], [Exit] or [WinBack]
	// stage onto the path or into a win-back: at-risk → subscriber,
	// churned → win-back, win-back → advocate. It goes forward or back in
	// the list alike.
	Recover
)

// String returns "advance", "regress", "loop", "fall" or "recover", and
// "EdgeKind(n)" for any other value n.
func (k EdgeKind) String() string {
	switch k {
	case Advance:
		return "advance"
	case Regress:
		return "regress"
	case Loop:
		return "loop"
	case Fall:
		return "fall"
	case Recover:
		return "recover"
	}
	return fmt.Sprintf("EdgeKind(%d)", uint8(k))
}

// KindOf returns the kind an edge from stage from to stage to has, where
// later says whether to comes after from in the graph's order:
//   - into a [Decline] or an [Exit] stage: [Fall];
//   - otherwise, out of a Decline, Exit or [WinBack] stage (onto the path
//     or into a win-back): [Recover];
//   - otherwise (from a path stage to a path or win-back stage):
//     [Advance] when later, else [Regress] ([Loop] is also allowed there,
//     for a cycle meant as such).
//
// Between path stages this is the rule of a plain funnel; [New] refuses an
// edge whose kind differs (a backward edge may be Regress or Loop).
func KindOf(from, to Stage, later bool) EdgeKind {
	switch {
	case to.Kind == Decline || to.Kind == Exit:
		return Fall
	case from.Kind.OffPath():
		return Recover
	case later:
		return Advance
	}
	return Regress
}

// Edge is an allowed move from one stage to another.
type Edge struct {
	From, To ID // the stages it links
	// Kind is what the move is (see [EdgeKind] and [KindOf]); [New]
	// refuses the zero Kind. [Forward] and package model's builder fill
	// it in; a graph written by hand sets it, usually to what KindOf
	// gives for the two stages.
	Kind EdgeKind
}

// ErrInvalidGraph is wrapped by every error [New] returns.
var ErrInvalidGraph = errors.New("stage: invalid graph")

// Graph is a validated, immutable stage graph. Its methods are safe for
// concurrent use. The zero Graph has no stages; build graphs with [New].
type Graph struct {
	stages []Stage
	index  map[ID]int
	edges  []Edge
	// allowed[i*n+j] reports whether stage i may move to stage j.
	allowed []bool
}

// New builds a graph from stages in order (the first is the start stage) and
// the allowed moves between them. It returns an error wrapping
// [ErrInvalidGraph] that lists every problem found (see the package doc):
// each problem is its own error, joined with [errors.Join], and each wraps
// ErrInvalidGraph. More than [MaxStages] stages is refused at once, with
// that one error.
func New(stages []Stage, edges []Edge) (*Graph, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidGraph}, args...)...))
	}
	if len(stages) == 0 {
		bad("no stages")
	}
	if len(stages) > MaxStages {
		return nil, fmt.Errorf("%w: %d stages, more than MaxStages (%d)", ErrInvalidGraph, len(stages), MaxStages)
	}
	g := &Graph{
		stages: append([]Stage(nil), stages...),
		index:  make(map[ID]int, len(stages)),
	}
	for i, s := range stages {
		switch {
		case s.ID == "":
			bad("stage %d has an empty ID", i)
			continue
		case strings.TrimSpace(string(s.ID)) != string(s.ID):
			bad("stage ID %s has surrounding spaces", quote(s.ID))
		case len(s.ID) > MaxIDLen:
			bad("stage ID %s is longer than %d bytes", quote(s.ID), MaxIDLen)
		case !utf8.ValidString(string(s.ID)):
			bad("stage ID %s is not valid UTF-8", quote(s.ID))
		default:
			for _, r := range string(s.ID) {
				if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
					bad("stage ID %s holds U+%04X, a control, format or separator character", quote(s.ID), r)
					break
				}
			}
		}
		if s.Kind > WinBack {
			bad("stage %s has an unknown kind %d", quote(s.ID), uint8(s.Kind))
		}
		if j, dup := g.index[s.ID]; dup {
			bad("duplicate stage ID %s (positions %d and %d)", quote(s.ID), j, i)
			continue
		}
		g.index[s.ID] = i
	}
	n := len(stages)
	g.allowed = make([]bool, n*n) // also what finds a duplicate edge
	g.edges = make([]Edge, 0, len(edges))
	for _, e := range edges {
		i, okFrom := g.index[e.From]
		j, okTo := g.index[e.To]
		if !okFrom {
			bad("edge %s→%s: unknown stage %s", show(e.From), show(e.To), quote(e.From))
		}
		if !okTo {
			bad("edge %s→%s: unknown stage %s", show(e.From), show(e.To), quote(e.To))
		}
		if !okFrom || !okTo {
			continue
		}
		want := KindOf(stages[i], stages[j], j > i)
		switch {
		case i == j:
			bad("edge %s→%s: a stage cannot move to itself", show(e.From), show(e.To))
			continue
		case e.Kind < Advance || e.Kind > Recover:
			bad("edge %s→%s: unknown edge kind %d", show(e.From), show(e.To), uint8(e.Kind))
			continue
		case e.Kind == want, e.Kind == Loop && want == Regress:
			// the kind its ends give it
		case want == Fall:
			bad("edge %s→%s: an edge into a stage of kind %s is a fall, not %s", show(e.From), show(e.To), stages[j].Kind, e.Kind)
			continue
		case want == Recover:
			bad("edge %s→%s: an edge out of a stage of kind %s is a recovery, not %s", show(e.From), show(e.To), stages[i].Kind, e.Kind)
			continue
		case e.Kind == Fall:
			bad("edge %s→%s: a fall must go into a decline or exit stage", show(e.From), show(e.To))
			continue
		case e.Kind == Recover:
			bad("edge %s→%s: a recovery must come out of a decline, exit or win-back stage", show(e.From), show(e.To))
			continue
		case e.Kind == Advance:
			bad("edge %s→%s: an advance must go to a later stage", show(e.From), show(e.To))
			continue
		case e.Kind == Regress:
			bad("edge %s→%s: a regression must go to an earlier stage", show(e.From), show(e.To))
			continue
		default:
			bad("edge %s→%s: a loop must go back to an earlier stage", show(e.From), show(e.To))
			continue
		}
		if g.allowed[i*n+j] {
			bad("duplicate edge %s→%s", show(e.From), show(e.To))
			continue
		}
		g.edges = append(g.edges, e)
		g.allowed[i*n+j] = true
	}
	start := -1 // the first stage's position, when its ID is valid and its own
	if n > 0 {
		if i, ok := g.index[stages[0].ID]; ok {
			start = i
		}
	}
	if start == 0 {
		// Reachability is checked even when edges or other stages had
		// problems: the valid edges decide what can be reached, and each
		// valid stage (at the position its ID first has) is reported.
		reached := make([]bool, n)
		reached[0] = true
		queue := []int{0}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for j := 0; j < n; j++ {
				if g.allowed[i*n+j] && !reached[j] {
					reached[j] = true
					queue = append(queue, j)
				}
			}
		}
		for j, ok := range reached {
			if at, valid := g.index[stages[j].ID]; !ok && valid && at == j {
				bad("stage %s cannot be reached from the start stage %s", quote(stages[j].ID), quote(stages[0].ID))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

// quote returns id quoted as Go would, its first 64 bytes or fewer (cut
// between characters, see clip.Prefix) and "…" past 64 bytes, for an
// error message.
func quote(id ID) string {
	if p := clip.Prefix(string(id)); len(p) < len(id) {
		return strconv.Quote(p) + "…"
	}
	return strconv.Quote(string(id))
}

// show returns id as an edge in an error message shows it: as it is when
// it is at most 64 bytes of printable characters without spaces, else
// quoted (see quote).
func show(id ID) string {
	if len(id) > 0 && len(id) <= 64 && utf8.ValidString(string(id)) &&
		strings.IndexFunc(string(id), func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == '"' }) < 0 {
		return string(id)
	}
	return quote(id)
}

// MustNew is like [New] but panics on an invalid graph. It is meant for
// package-level variables holding graphs fixed at compile time.
func MustNew(stages []Stage, edges []Edge) *Graph {
	g, err := New(stages, edges)
	if err != nil {
		panic(err)
	}
	return g
}

// Forward returns an [Advance] edge from every stage to every later stage in
// the order given: the usual shape of a funnel, where a customer may skip
// stages on the way forward.
func Forward(ids ...ID) []Edge {
	var edges []Edge
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			edges = append(edges, Edge{From: ids[i], To: ids[j], Kind: Advance})
		}
	}
	return edges
}

// Len returns the number of stages.
func (g *Graph) Len() int { return len(g.stages) }

// Stages returns the stages in order. The caller may modify the returned
// slice.
func (g *Graph) Stages() []Stage { return append([]Stage(nil), g.stages...) }

// Path returns the IDs of the path stages ([Path] kind) in order: the
// stages a funnel measures.
func (g *Graph) Path() []ID {
	var ids []ID
	for _, s := range g.stages {
		if s.Kind == Path {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Kind returns the kind of the stage with this ID ([Path] for an unknown
// ID; see [Graph.Has]).
func (g *Graph) Kind(id ID) Kind {
	if i, ok := g.index[id]; ok {
		return g.stages[i].Kind
	}
	return Path
}

// IDs returns the stage IDs in order.
func (g *Graph) IDs() []ID {
	ids := make([]ID, len(g.stages))
	for i, s := range g.stages {
		ids[i] = s.ID
	}
	return ids
}

// Start returns the first stage's ID, where new customers begin, or "" for
// an empty graph.
func (g *Graph) Start() ID {
	if len(g.stages) == 0 {
		return ""
	}
	return g.stages[0].ID
}

// Index returns the position of id in the order, or -1 if the graph has no
// such stage.
func (g *Graph) Index(id ID) int {
	if i, ok := g.index[id]; ok {
		return i
	}
	return -1
}

// Has reports whether the graph declares a stage with this ID.
func (g *Graph) Has(id ID) bool {
	_, ok := g.index[id]
	return ok
}

// Lookup returns the stage with this ID.
func (g *Graph) Lookup(id ID) (Stage, bool) {
	i, ok := g.index[id]
	if !ok {
		return Stage{}, false
	}
	return g.stages[i], true
}

// Edges returns the declared edges in the order given to [New].
func (g *Graph) Edges() []Edge { return append([]Edge(nil), g.edges...) }

// Allows reports whether a customer may move from one stage to another:
// true when from == to (no move) or when an edge from → to is declared.
// Entering the graph (from == "") is allowed into any declared stage.
// It is false whenever to is not a declared stage, even when from == to.
func (g *Graph) Allows(from, to ID) bool {
	j, ok := g.index[to]
	if !ok {
		return false
	}
	if from == "" || from == to {
		return true
	}
	i, ok := g.index[from]
	if !ok {
		return false
	}
	return g.allowed[i*len(g.stages)+j]
}
