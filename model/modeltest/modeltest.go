// Package modeltest checks that a [lifecycle.Model] obeys the rules
// documented on that interface, in the manner of testing/slogtest and
// testing/fstest. A plugin author calls it from one test:
//
//	func TestConformance(t *testing.T) {
//		modeltest.Run(t, mymodel.New())
//	}
//
// [Run] runs each rule as a subtest; [TestModel] runs them all and returns
// every failure joined (nil when the model conforms), for use outside
// tests. The rules ([Rules] lists them):
//   - Declared: Name is not empty, has no spaces around it and is valid
//     UTF-8 without control, format or separator characters (as
//     model.Register requires), Stages declares at least one stage and
//     returns the same graph (stages and edges) every call, and a
//     [lifecycle.Tracker] accepts the model (a [lifecycle.Converter]'s
//     types are ones [lifecycle.Event.Validate] accepts).
//   - Total: every facts value, at every time, maps to a stage the graph
//     declares.
//   - NoPanic: Stage never panics, on zero facts, extreme facts (counts and
//     amounts of MaxInt64, the referral_converted count excepted, which
//     Facts keeps equal to len(Referrals), times in year 1 and year 9999 (its last
//     nanosecond too), thousands of
//     custom event types, more refunds than orders) or random ones (random
//     customers whose histories start within a year after [Start], or at
//     a random time from 1900 to Start, or in the four centuries after it,
//     or with a sign-up or an order on a leap day,
//     classified at their last event, a random step or an exact threshold
//     after it, decades after it and a day before their first).
//     Total and NoPanic also classify every state of the Graph rule's
//     random histories, so whatever the suite meets is reported.
//   - Deterministic: a deep copy of the facts gets the same answer, and so
//     do the same facts in one *Facts that held other facts when it was
//     last classified at the same now (a Tracker reuses its working copy:
//     a model must answer from the facts, not their address), the same
//     facts classified again in the reverse order, and every state of the
//     Graph rule's random histories classified again after all of them
//     (against the Total rule's answer, the first: a model that remembers
//     a customer's answers fails, where its memory gives another answer
//     for facts the suite classifies again; one that keys its memory on
//     part of the facts only, say their first and last times, may answer
//     the same wrong way every time and pass, as may a model that reads
//     the wall clock: the suite has no other answers to compare with).
//     Every rule that walks the histories after Total (Graph, Reached,
//     Pure, the Scheduler rule …) compares its answers with Total's too,
//     so a model whose answers change after many calls is caught by the
//     rule that meets the change.
//     Declared
//     also checks that Name gives the same name every call, and every
//     rule that Name gives the same name after it as before it, and before
//     it as before the first rule run.
//   - Pure: Stage never modifies the facts (compared with a deep copy),
//     for the corpus and every state of the Graph rule's random histories.
//   - Stable: classifying the same facts at the same time again gives the
//     same answer.
//   - Graph: along random histories — one random event at a time (orders,
//     refunds and renewals with money, as are two subscription starts in
//     three and one event in six of any other type), never
//     before now (some at the same instant as the one before), classified
//     at its time, or now moving later by a random step from about a
//     second to just over two years (rarely, decades) — every change of
//     stage from A to B is an edge A → B the graph declares. As in a
//     [lifecycle.Tracker], now is never before the customer's last event
//     on these walks. Half of the histories start on a whole second, and
//     some steps are exact (a minute, an hour, or 1, 3, 7, 14, 31, 61, 95,
//     181, 366 or 731 days), so that thresholds counted from an event fall
//     on instants.
//   - Reached: the Graph rule's random histories reach every declared
//     stage, and leave every stage they reach that the graph declares a
//     way out of. A stage never reached escapes every other rule; a stage
//     never left although the graph declares edges out of it is likely a
//     dead end the model did not mean. With [EveryEdge], every declared
//     edge must be taken. [AllowUnreached] and [AllowUnused] accept named
//     stages and edges (say why in a comment); [Unused] lists what the
//     histories missed, and [Run] logs the edges never taken. A model that
//     implements [TypeReader] (every model.Builder model does) has the
//     event types it reads drawn more often, so that its stages are
//     reached without a [Types] option.
//   - NextChange: for a model that implements [lifecycle.Scheduler],
//     NextChange never panics and never modifies the facts, gives the
//     same T when asked again (also in one *Facts that held other facts
//     when last asked at the same now), and the stage does not change
//     before the time T it announces: for the facts and times the other
//     rules classify, and every state of the Graph rule's random
//     histories, Stage at probe times t with now ≤ t < T (just after now,
//     just before T, the usual thresholds after now, the facts' own times
//     plus a day, 7, 14, 28, 30, 31, 60, 90, 180, 365, 366 and 730 days
//     exactly and 1ns less, random times between) equals Stage at now;
//     when T is the zero time (never), the probes reach centuries ahead
//     and the year 9999. A T at or before now (due now) is always right.
//     At a now outside the years 1900 to 9999, which the Tracker never
//     passes (at the zero time, "due now" reads as never), only the
//     panic, the facts and the second answer are checked. Its failures
//     print times to the nanosecond. A model without the capability
//     passes (Run skips the subtest).
//
// The facts are generated from a seeded math/rand/v2 source ([Seed]), so a
// failure is reproducible; every failure message names the rule, the model,
// the time and the facts (in the compact form of [FormatFacts]) that break
// it, and wraps [lifecycle.ErrInvalidModel]. The suite finds violations by
// searching, so passing it is evidence, not proof: raise [Walks] and
// [Steps] to search harder. A rule still running after [RuleTimeout] (a
// call that never returns, such as a loop bounded by a count of MaxInt64)
// fails, naming the call and its facts, instead of hanging the test.
package modeltest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Option configures [Run] and [TestModel]. Options that tune the random
// search and the gaps it accepts are also [SearchOption]s, which [Unused]
// reads too; the others ([EveryEdge], [MaxReports]) do not apply to
// Unused, and passing one to it is a compile error, never ignored. A nil
// option is skipped.
type Option interface{ run(*config) }

// SearchOption tunes the random histories ([Seed], [Walks], [Steps],
// [Types], [Start]) or accepts gaps ([AllowUnreached], [AllowUnused]): it
// is read by [Run], [TestModel] and [Unused].
type SearchOption interface {
	Option
	unused(*config)
}

type (
	runOpt    func(*config) // read by Run and TestModel
	searchOpt func(*config) // read by Run, TestModel and Unused
)

func (o runOpt) run(c *config)       { o(c) }
func (o searchOpt) run(c *config)    { o(c) }
func (o searchOpt) unused(c *config) { o(c) }

type config struct {
	seed1, seed2 uint64
	walks, steps int
	types        []lifecycle.EventType
	start        time.Time
	maxReports   int
	samples      []sample // the corpus, built on first use (samplesOnce)
	samplesOnce  sync.Once
	// firstIDs holds, per random history and step, the stage the Total
	// rule got: the first time the suite classified that state, before
	// the model had seen the states after it (see checkDeterministic).
	firstIDs map[[2]int]stage.ID
	firstMu  sync.Mutex
	// firstName is the name the first rule run saw, which every later
	// rule must see too (under firstMu).
	firstName *string
	// reads are the event types the model says it reads ([TypeReader]),
	// drawn more often than the others.
	reads       []lifecycle.EventType
	allowStages map[stage.ID]bool
	allowEdges  map[[2]stage.ID]bool
	everyEdge   bool
}

// Seed sets the seeds of the PCG source the random facts are drawn from
// (default 1, 2).
func Seed(a, b uint64) SearchOption { return searchOpt(func(c *config) { c.seed1, c.seed2 = a, b }) }

// Walks sets how many random customers are generated (default 300): each
// is one random history (for the Graph rule, and also classified by Total
// and NoPanic) and one facts value, classified at several times, for the
// rules other than Graph. Values below 1 mean 1.
func Walks(n int) SearchOption { return searchOpt(func(c *config) { c.walks = max(n, 1) }) }

// Steps sets the number of steps (events or clock moves) in each random
// history (default 40; values below 1 mean 1).
func Steps(n int) SearchOption { return searchOpt(func(c *config) { c.steps = max(n, 1) }) }

// Types adds event types to those the random histories draw from (by
// default every standard type, one custom type, "modeltest.custom", and
// the types a [TypeReader] model lists). Pass the custom types the model
// reads and does not list.
func Types(types ...lifecycle.EventType) SearchOption {
	return searchOpt(func(c *config) { c.types = append(c.types, types...) })
}

// AllowUnreached accepts that the random histories never reach the stages
// ids: the Reached rule does not report them (nor, since a stage never
// reached is never left, the declared edges into and out of them). Use it
// for a stage the model declares but cannot enter, or one the histories
// cannot find; say why in a comment. Options add up.
func AllowUnreached(ids ...stage.ID) SearchOption {
	return searchOpt(func(c *config) {
		if c.allowStages == nil {
			c.allowStages = make(map[stage.ID]bool)
		}
		for _, id := range ids {
			c.allowStages[id] = true
		}
	})
}

// AllowUnused accepts that the random histories never take the declared
// edges: the Reached rule does not report them. Only From and To are read
// (Kind is ignored). Use it for an edge the graph declares but the model
// cannot take (for example, an over-approximate graph derived by
// model.Builder), and say why in a comment. Options add up.
func AllowUnused(edges ...stage.Edge) SearchOption {
	return searchOpt(func(c *config) {
		if c.allowEdges == nil {
			c.allowEdges = make(map[[2]stage.ID]bool)
		}
		for _, e := range edges {
			c.allowEdges[[2]stage.ID{e.From, e.To}] = true
		}
	})
}

// EveryEdge makes the Reached rule fail for every declared edge the random
// histories never take (except those accepted with [AllowUnused]). By
// default it fails only for a stage never reached and for a stage reached
// but never left although the graph declares a way out; the other unused
// edges are listed by [Unused] and logged by [Run]. Use it for a graph
// meant to be exact, such as edges declared with model.Builder.Edges.
func EveryEdge() Option { return runOpt(func(c *config) { c.everyEdge = true }) }

// TypeReader is implemented by a model that can list the event types its
// stages read, such as a model built with model.Builder. The suite draws
// those types more often than the others in its random facts and
// histories, so that the stages they lead to are reached without a
// [Types] option. A model that reads types through opaque code (a
// model.Func rule, a hand-written Stage) lists what it knows; [Types] adds
// the rest.
type TypeReader interface {
	// EventTypes returns the event types the model's stages read. The
	// suite does not modify the slice.
	EventTypes() []lifecycle.EventType
}

// Start sets the time the random histories start around (default
// 2024-01-01 UTC): the Graph rule's histories start within a year after
// it, and the customers the other rules classify within a year after it,
// at a random time from 1900 to it, or in the four centuries after it
// (see the package doc).
func Start(t time.Time) SearchOption { return searchOpt(func(c *config) { c.start = t.UTC() }) }

// MaxReports sets how many failures are reported per rule (default 5); the
// rest are counted in a last message. Values below 1 mean 1.
func MaxReports(n int) Option { return runOpt(func(c *config) { c.maxReports = max(n, 1) }) }

// newConfig returns the configuration after opts, each applied by set
// (nil options skipped).
func newConfig[O any](opts []O, set func(O, *config)) *config {
	c := &config{
		seed1: 1, seed2: 2, walks: 300, steps: 40,
		start:      time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		maxReports: 5,
	}
	for _, o := range opts {
		if any(o) != nil {
			set(o, c)
		}
	}
	return c
}

// Rule is one rule of the suite.
type Rule struct {
	// Name identifies the rule, e.g. "Graph".
	Name string
	// Doc says what the rule checks.
	Doc string
	// check returns one error per failure found.
	check func(s *suite) []error
	// skip, when set and non-empty for a model, says why the rule does
	// not apply to it: the rule passes, and Run skips its subtest.
	skip func(m lifecycle.Model) string
}

// Rules returns the suite's rules in the order they run.
func Rules() []Rule {
	return []Rule{
		{"Declared", "Name is not empty and has no spaces around it, Stages declares at least one stage, and a Tracker accepts the model", checkDeclared, nil},
		{"Total", "every facts value at every time maps to a declared stage", checkTotal, nil},
		{"NoPanic", "Stage never panics, on zero, extreme or random facts", checkNoPanic, nil},
		{"Deterministic", "a deep copy of the facts gets the same answer, and so do the facts in memory that held other facts, the facts classified again in another order, and each random history's states classified again", checkDeterministic, nil},
		{"Pure", "Stage never modifies the facts", checkPure, nil},
		{"Stable", "classifying again at the same time gives the same answer", checkStable, nil},
		{"Graph", "every change of stage along a random history is a declared edge", checkGraph, nil},
		{"Reached", "the random histories reach every declared stage and leave every stage the graph declares a way out of (with EveryEdge: take every declared edge), unless accepted with AllowUnreached or AllowUnused", checkReached, nil},
		{"NextChange", "for a lifecycle.Scheduler: NextChange never panics or modifies the facts, gives the same time when asked again, and the stage does not change before the time it announces", checkNextChange, notScheduler},
	}
}

// Run runs every rule as a subtest of t, reporting each failure with
// t.Error.
func Run(t *testing.T, m lifecycle.Model, opts ...Option) {
	t.Helper()
	cfg := newConfig(opts, Option.run)
	cfg.reads = readTypes(m)
	for _, r := range Rules() {
		t.Run(r.Name, func(t *testing.T) {
			if r.skip != nil && m != nil {
				if why := r.skip(m); why != "" {
					t.Skip(why)
				}
			}
			errs, notes := runRule(r, m, cfg)
			for _, n := range notes {
				t.Log(n)
			}
			for _, err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestModel runs every rule on m and returns every failure joined with
// [errors.Join], or nil when the model conforms.
func TestModel(m lifecycle.Model, opts ...Option) error {
	cfg := newConfig(opts, Option.run)
	cfg.reads = readTypes(m)
	var errs []error
	for _, r := range Rules() {
		e, _ := runRule(r, m, cfg)
		errs = append(errs, e...)
	}
	return errors.Join(errs...)
}

// runRule returns the failures of r on m, and notes for Run to log.
func runRule(r Rule, m lifecycle.Model, cfg *config) (errs []error, notes []string) {
	if m == nil {
		return []error{fmt.Errorf("%w: modeltest: rule %s: the model is nil", lifecycle.ErrInvalidModel, r.Name)}, nil
	}
	if r.skip != nil && r.skip(m) != "" {
		return nil, nil
	}
	s := &suite{m: m, cfg: cfg, rule: r.Name}
	if r.Name != "Declared" {
		if g := safeGraph(m); g == nil || g.Len() == 0 {
			return []error{s.errorf("skipped: the model declares no stages (see rule Declared)")}, nil
		}
	}
	s.graph = safeGraph(m)
	before := s.name()
	cfg.firstMu.Lock()
	if cfg.firstName == nil {
		cfg.firstName = &before
	} else if first := *cfg.firstName; before != first {
		errs = append(errs, s.errorf("Name() returned %q before this rule and %q before the first rule run; a model needs a stable name (stores and logs name the model by it)", before, first))
	}
	cfg.firstMu.Unlock()
	done := make(chan []error, 1)
	go func() { done <- r.check(s) }()
	timer := time.NewTimer(RuleTimeout)
	defer timer.Stop()
	select {
	case e := <-done:
		errs = append(errs, e...)
	case <-timer.C:
		what := "a model call has not returned"
		if p := s.cur.Load(); p != nil {
			if desc, ok := p.describe(); ok {
				what = desc
			}
		}
		return []error{s.errorf("did not finish within RuleTimeout (%v): %s (a loop bounded by a count? NoPanic gives counts of MaxInt64)", RuleTimeout, what)}, nil
	}
	if s.dropped > 0 {
		errs = append(errs, s.errorf("%d more failures not shown (see MaxReports)", s.dropped))
	}
	if after := s.name(); after != before {
		errs = append(errs, s.errorf("Name() returned %q before this rule and %q after it; a model needs a stable name (stores and logs name the model by it)", before, after))
	}
	return errs, s.notes
}

// readTypes returns the valid event types m lists as a [TypeReader], or
// nil; a panic in EventTypes counts as no list.
func readTypes(m lifecycle.Model) (out []lifecycle.EventType) {
	tr, ok := m.(TypeReader)
	if !ok {
		return nil
	}
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	for _, t := range tr.EventTypes() {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// sameGraph reports whether a and b declare the same stages and edges,
// in the same order.
func sameGraph(a, b *stage.Graph) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	return slices.Equal(a.Stages(), b.Stages()) && slices.Equal(a.Edges(), b.Edges())
}

func safeGraph(m lifecycle.Model) (g *stage.Graph) {
	defer func() {
		if recover() != nil {
			g = nil
		}
	}()
	return m.Stages()
}

// RuleTimeout bounds how long one rule may run on a model. A rule still
// running then fails with an error naming the call that has not returned
// (Stage or NextChange, its facts and its time); that call's goroutine is
// left running, so a model that never returns keeps a core busy until the
// test binary exits.
var RuleTimeout = 60 * time.Second

// suite is the state of one rule's run.
type suite struct {
	m       lifecycle.Model
	graph   *stage.Graph
	cfg     *config
	rule    string
	errs    []error
	dropped int
	notes   []string // what Run logs: findings that are not failures
	cur     atomic.Pointer[pending]
	// reused is one Customer whose Facts hold, in turn, the facts the
	// NextChange rule asks about, and reusedPrev the facts asked before.
	reused     lifecycle.Customer
	reusedPrev *lifecycle.Facts
}

// pending is the model call a rule is making, for the report of a rule
// that times out. The rule's goroutine marks it done when the call
// returns, under mu, before it changes the facts again; the report reads
// the facts under mu only while the call has not returned.
type pending struct {
	what string // "Stage" or "NextChange"
	f    *lifecycle.Facts
	now  time.Time
	mu   sync.Mutex
	done bool
}

// newPending starts the report of a call.
func newPending(what string, f *lifecycle.Facts, now time.Time) *pending {
	return &pending{what: what, f: f, now: now}
}

// finish marks the call returned.
func (p *pending) finish() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
}

// describe reports the call, if it has not returned.
func (p *pending) describe() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return "", false
	}
	return fmt.Sprintf("%s has not returned for facts %s at now=%s", p.what, FormatFacts(p.f), ts(p.now)), true
}

func (s *suite) name() (n string) {
	defer func() {
		if r := recover(); r != nil {
			n = fmt.Sprintf("<Name panicked: %v>", r)
		}
	}()
	return s.m.Name()
}

func (s *suite) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: modeltest: model %q: rule %s: %s", lifecycle.ErrInvalidModel, s.name(), s.rule, fmt.Sprintf(format, args...))
}

// fail records one failure, keeping at most MaxReports; msg is called
// only for the failures kept, since formatting facts is costly.
func (s *suite) fail(msg func() string) {
	if len(s.errs) >= s.cfg.maxReports {
		s.dropped++
		return
	}
	s.errs = append(s.errs, s.errorf("%s", msg()))
}

// call classifies, recovering a panic.
func (s *suite) call(f *lifecycle.Facts, now time.Time) (id stage.ID, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
			if panicked == "" {
				panicked = "panic"
			}
		}
	}()
	p := newPending("Stage", f, now)
	s.cur.Store(p)
	defer p.finish()
	return s.m.Stage(f, now), nil
}

func checkDeclared(s *suite) []error {
	n := s.name()
	switch {
	case strings.TrimSpace(n) == "" || strings.HasPrefix(n, "<Name panicked"):
		s.fail(func() string { return fmt.Sprintf("Name() returned %q; a model needs a stable, non-empty name", n) })
	case strings.TrimSpace(n) != n:
		s.fail(func() string {
			return fmt.Sprintf("Name() returned %q, with spaces around it; a model's name is an identifier (model.Register refuses it)", n)
		})
	case !utf8.ValidString(n) || strings.IndexFunc(n, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) }) >= 0:
		s.fail(func() string {
			return fmt.Sprintf("Name() returned %q, not valid UTF-8 or holding a control, format or separator character; a model's name is an identifier (model.Register refuses it)", n)
		})
	}
	for i := 2; i <= 4; i++ {
		if again := s.name(); again != n {
			s.fail(func() string {
				return fmt.Sprintf("Name() returned %q, then %q on call %d; a model needs a stable name (stores and logs name the model by it)", n, again, i)
			})
			break
		}
	}
	if s.graph == nil || s.graph.Len() == 0 {
		s.fail(func() string { return "Stages() declares no stages" })
		return s.errs
	}
	for i := 2; i <= 4; i++ {
		if again := safeGraph(s.m); !sameGraph(s.graph, again) {
			s.fail(func() string {
				return fmt.Sprintf("Stages() returned another graph on call %d; a model needs one graph (a Tracker reads it once, when it is made, and checks every move against it)", i)
			})
			break
		}
	}
	if err := trackerAccepts(s.m); err != nil {
		s.fail(func() string { return fmt.Sprintf("a Tracker refuses the model: %v", err) })
	}
	return s.errs
}

// trackerAccepts reports why a [lifecycle.Tracker] would refuse m (its
// [lifecycle.Converter] types, say), or nil: it asks one to validate an
// event, which a Tracker refuses for a model it cannot use.
func trackerAccepts(m lifecycle.Model) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("NewTracker panicked: %v", r)
		}
	}()
	tr := lifecycle.NewTracker(m, noStore{})
	e := lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited, Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := tr.Validate(&e); errors.Is(err, lifecycle.ErrInvalidModel) {
		return err
	}
	return nil
}

// noStore is a store that holds nothing, for trackerAccepts.
type noStore struct{}

func (noStore) Get(context.Context, string) (*lifecycle.Customer, error) {
	return nil, lifecycle.ErrNotFound
}
func (noStore) Put(context.Context, *lifecycle.Customer, uint64) error { return nil }
func (noStore) Scan(context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(func(*lifecycle.Customer, error) bool) {}
}

// sample is one facts value and a time to classify it at.
type sample struct {
	what string
	f    *lifecycle.Facts
	now  time.Time
}

// each calls fn for every sample of the corpus. The corpus is shared by
// the rules, so fn must hand the model copies of x.f (see [clone]), never
// x.f itself: a model that modifies its facts would otherwise change what
// the later rules see, and Pure could miss a change made the same way on
// every call.
func (s *suite) each(fn func(x sample)) {
	// (Once: a rule that timed out may still be running, in its own
	// goroutine, when the next one starts.)
	s.cfg.samplesOnce.Do(func() { s.cfg.samples = corpus(s.cfg) })
	for _, x := range s.cfg.samples {
		fn(x)
	}
}

// checkTotal classifies the corpus, then the states of the Graph rule's
// random histories, so that an undeclared stage the Graph rule meets is
// reported too.
func checkTotal(s *suite) []error {
	s.each(func(x sample) {
		id, p := s.call(clone(x.f), x.now)
		if p == nil && !s.graph.Has(id) {
			s.fail(func() string {
				return fmt.Sprintf("returned %q, which the graph does not declare (declared: %s), for %s at now=%s: facts %s",
					id, ids(s.graph), x.what, ts(x.now), FormatFacts(x.f))
			})
		}
	})
	first := make(map[[2]int]stage.ID)
	s.walks(func(x step) bool {
		if x.panicked == nil {
			first[[2]int{x.walk, x.step}] = x.id
		}
		if x.panicked == nil && !s.graph.Has(x.id) {
			s.fail(func() string {
				return fmt.Sprintf("returned %q, which the graph does not declare (declared: %s), on %s", x.id, ids(s.graph), x.where(s))
			})
			return false
		}
		return x.panicked == nil
	})
	s.cfg.firstMu.Lock()
	if s.cfg.firstIDs == nil {
		s.cfg.firstIDs = first
	}
	s.cfg.firstMu.Unlock()
	return s.errs
}

// checkNoPanic classifies the corpus, then the states of the Graph rule's
// random histories.
func checkNoPanic(s *suite) []error {
	s.each(func(x sample) {
		if _, p := s.call(clone(x.f), x.now); p != nil {
			s.fail(func() string {
				return fmt.Sprintf("panicked (%v) for %s at now=%s: facts %s", p, x.what, tsn(x.now), FormatFacts(x.f))
			})
		}
	})
	s.walks(func(x step) bool {
		if x.panicked != nil {
			s.fail(func() string { return fmt.Sprintf("panicked (%v) on %s", x.panicked, x.where(s)) })
			return false
		}
		return s.graph.Has(x.id)
	})
	return s.errs
}

func checkDeterministic(s *suite) []error {
	// reused is one Facts value whose memory holds each sample in turn, as
	// a Tracker reuses its working copy: a model must answer from the
	// facts' contents, never from their address (a cache keyed by the
	// pointer and now answers for the facts it saw before).
	reused := new(lifecycle.Customer) // its Facts, refilled in place by CopyTo
	var prev *lifecycle.Facts
	var first []stage.ID // each sample's first answer, for the reverse pass below
	var ok []bool
	s.each(func(x sample) {
		a, pa := s.call(clone(x.f), x.now)
		first, ok = append(first, a), append(ok, pa == nil)
		b, pb := s.call(clone(x.f), x.now)
		if pa == nil && pb == nil && a != b {
			s.fail(func() string {
				return fmt.Sprintf("two deep copies of the same facts got %q and %q for %s at now=%s: facts %s", a, b, x.what, ts(x.now), FormatFacts(x.f))
			})
		}
		if prev != nil && pa == nil {
			(&lifecycle.Customer{Facts: *prev}).CopyTo(reused)
			s.call(&reused.Facts, x.now) // the previous sample's facts, at this now, in the same memory
			(&lifecycle.Customer{Facts: *x.f}).CopyTo(reused)
			if c, pc := s.call(&reused.Facts, x.now); pc == nil && c != a {
				s.fail(func() string {
					return fmt.Sprintf("got %q for facts in memory that held other facts when last classified at the same now (one *Facts reused, as a Tracker reuses it), where a fresh copy got %q: answer from the facts, not their address; for %s at now=%s: facts %s; the facts before: %s",
						c, a, x.what, ts(x.now), FormatFacts(x.f), FormatFacts(prev))
				})
			}
		}
		prev = x.f
	})
	// The samples again, in reverse order: an answer kept from an earlier
	// call (state that depends on which facts were classified before, not
	// on these) differs from the first pass's.
	samples := s.cfg.samples
	for i := len(samples) - 1; i >= 0; i-- {
		x := samples[i]
		if !ok[i] {
			continue
		}
		if id, p := s.call(clone(x.f), x.now); p == nil && id != first[i] {
			s.fail(func() string {
				return fmt.Sprintf("got %q, then %q for the same facts at the same now once other facts had been classified in another order (an answer must depend on the facts and now only, not on earlier calls), for %s at now=%s: facts %s",
					first[i], id, x.what, ts(x.now), FormatFacts(x.f))
			})
		}
	}
	// The random histories' states, against what the Total rule got the
	// first time it classified them, before the model had seen the
	// states after them (a model that remembers a customer's answers
	// would answer an earlier state from a later one's).
	s.cfg.firstMu.Lock()
	seen := s.cfg.firstIDs
	s.cfg.firstMu.Unlock()
	if seen != nil {
		s.walks(func(x step) bool {
			want, ok := seen[[2]int{x.walk, x.step}]
			if !ok || x.panicked != nil {
				return false
			}
			if x.id != want {
				s.fail(func() string {
					return fmt.Sprintf("got %q where the first classification of the same state got %q (the model has seen other states since: an answer must depend on the facts and now only), on %s", x.id, want, x.where(s))
				})
				return false
			}
			return true
		})
	}
	return s.errs
}

func checkPure(s *suite) []error {
	s.each(func(x sample) {
		work := clone(x.f)
		if _, p := s.call(work, x.now); p != nil {
			return
		}
		if !reflect.DeepEqual(work, x.f) {
			s.fail(func() string {
				return fmt.Sprintf("modified the facts (%s) for %s at now=%s: before %s, after %s", changes(x.f, work), x.what, ts(x.now), FormatFacts(x.f), FormatFacts(work))
			})
		}
	})
	// Along the random histories too, at the times they reach (years
	// after the last event, say), each call on a copy.
	s.walks(func(x step) bool {
		if x.panicked != nil {
			return false // reported by NoPanic
		}
		work := clone(x.after)
		if _, p := s.call(work, x.now); p != nil {
			return false
		}
		if !reflect.DeepEqual(work, x.after) {
			s.fail(func() string {
				return fmt.Sprintf("modified the facts (%s) for random history %d, step %d (seed %d,%d), after %s, at now=%s: before %s, after %s",
					changes(x.after, work), x.walk, x.step, s.cfg.seed1, s.cfg.seed2, x.what, ts(x.now), FormatFacts(x.after), FormatFacts(work))
			})
			return false
		}
		return true
	})
	return s.errs
}

func checkStable(s *suite) []error {
	s.each(func(x sample) {
		f := clone(x.f)
		first, p := s.call(f, x.now)
		if p != nil {
			return
		}
		for i := 0; i < 3; i++ {
			if again, p := s.call(f, x.now); p == nil && again != first {
				s.fail(func() string {
					return fmt.Sprintf("classified the same facts as %q, then %q on call %d, for %s at now=%s: facts %s", first, again, i+2, x.what, ts(x.now), FormatFacts(x.f))
				})
				return
			}
		}
	})
	return s.errs
}

func checkGraph(s *suite) []error {
	var prev stage.ID
	s.walks(func(x step) bool {
		if x.panicked != nil || !s.graph.Has(x.id) {
			return false // reported by NoPanic and Total
		}
		if x.before != nil && !s.graph.Allows(prev, x.id) {
			s.fail(func() string {
				return fmt.Sprintf("moved %s → %s, an edge the graph does not declare, after %s (history %d, step %d, seed %d,%d); facts before: %s; facts after: %s",
					prev, x.id, x.what, x.walk, x.step, s.cfg.seed1, s.cfg.seed2, FormatFacts(x.before), FormatFacts(x.after))
			})
		}
		prev = x.id
		return true
	})
	return s.errs
}

// coverage follows the Graph rule's random histories and returns the
// declared stages no history visits and the declared edges no history
// takes, in the graph's order, leaving out those accepted with
// AllowUnreached and AllowUnused (and the edges into and out of an
// accepted stage).
func (s *suite) coverage() (stages []stage.ID, edges []stage.Edge, left map[stage.ID]bool) {
	visited := make(map[stage.ID]bool)
	left = make(map[stage.ID]bool)
	used := make(map[[2]stage.ID]bool)
	var prev stage.ID
	s.walks(func(x step) bool {
		if x.panicked != nil || !s.graph.Has(x.id) {
			return false // reported by NoPanic and Total
		}
		visited[x.id] = true
		if x.before != nil && x.id != prev {
			used[[2]stage.ID{prev, x.id}] = true
			left[prev] = true
		}
		prev = x.id
		return true
	})
	for _, id := range s.graph.IDs() {
		if !visited[id] && !s.cfg.allowStages[id] {
			stages = append(stages, id)
		}
	}
	for _, e := range s.graph.Edges() {
		k := [2]stage.ID{e.From, e.To}
		if !used[k] && !s.cfg.allowEdges[k] && !s.cfg.allowStages[e.From] && !s.cfg.allowStages[e.To] {
			edges = append(edges, e)
		}
	}
	return stages, edges, left
}

// Unused runs the random histories of the Graph and Reached rules on m
// and returns the declared stages they never reach and the declared edges
// they never take, in the graph's order, leaving out those accepted with
// [AllowUnreached] and [AllowUnused]. An edge the histories never take is
// one the model cannot make (the graph, and the diagrams drawn from it,
// promise a move that never happens) or one they did not find. Both are
// nil for a model that declares no stages.
func Unused(m lifecycle.Model, opts ...SearchOption) (stages []stage.ID, edges []stage.Edge) {
	if m == nil {
		return nil, nil
	}
	cfg := newConfig(opts, SearchOption.unused)
	cfg.reads = readTypes(m)
	g := safeGraph(m)
	if g == nil || g.Len() == 0 {
		return nil, nil
	}
	s := &suite{m: m, graph: g, cfg: cfg, rule: "Reached"}
	stages, edges, _ = s.coverage()
	return stages, edges
}

// checkReached reports, from [suite.coverage], every stage never reached
// (a stage never reached hides its rule from every other rule), every
// stage reached but never left although the graph declares edges out of
// it that are not accepted (a dead end the graph says is not one) and,
// with EveryEdge, every other edge never taken. Without EveryEdge, the other unused edges are
// notes: Run logs them.
func checkReached(s *suite) []error {
	stages, edges, left := s.coverage()
	search := fmt.Sprintf("%d random histories of %d steps (seed %d,%d)", s.cfg.walks, s.cfg.steps, s.cfg.seed1, s.cfg.seed2)
	unreached := make(map[stage.ID]bool)
	for _, id := range stages {
		unreached[id] = true
		s.fail(func() string {
			return fmt.Sprintf("stage %q was never reached in %s, so no other rule checked it; if the model can enter it, make the histories find it (pass the event types its rule reads with Types, or raise Walks and Steps); if it cannot, remove the stage or accept it with modeltest.AllowUnreached(%q)",
				id, search, id)
		})
	}
	// Edges out of and into a stage never reached are part of that
	// failure; group the rest by the stage they leave.
	out := make(map[stage.ID][]stage.Edge)
	var rest []stage.Edge
	for _, e := range edges {
		if !unreached[e.From] && !unreached[e.To] {
			out[e.From] = append(out[e.From], e)
			rest = append(rest, e)
		}
	}
	stuck := make(map[stage.ID]bool)
	for _, id := range s.graph.IDs() {
		if unreached[id] || left[id] || len(out[id]) == 0 {
			continue
		}
		stuck[id] = true
		s.fail(func() string {
			return fmt.Sprintf("stage %q was reached but never left in %s, although the graph declares %s: the model may have no way out of it; if it has one, make the histories find it (Types, Walks, Steps); if it has none, remove the edges or accept them with modeltest.AllowUnused(%s)",
				id, search, edgeList(out[id]), edgeCode(out[id]))
		})
	}
	var others []stage.Edge
	for _, e := range rest {
		if !stuck[e.From] {
			others = append(others, e)
		}
	}
	if len(others) > 0 {
		msg := fmt.Sprintf("%d declared edges were never taken in %s: %s; if the model can make these moves, make the histories find them (Types, Walks, Steps); if it cannot, remove them from the graph (a graph model.Builder derives over-approximates: declare the edges with Builder.Edges) or accept them with modeltest.AllowUnused(%s)",
			len(others), search, edgeList(others), edgeCode(others))
		if s.cfg.everyEdge {
			s.fail(func() string { return msg })
		} else {
			s.notes = append(s.notes, msg+" (not a failure without modeltest.EveryEdge)")
		}
	}
	return s.errs
}

func edgeList(edges []stage.Edge) string {
	var list []string
	for _, e := range edges {
		list = append(list, fmt.Sprintf("%s → %s (%s)", e.From, e.To, e.Kind))
	}
	return strings.Join(list, ", ")
}

func edgeCode(edges []stage.Edge) string {
	var code []string
	for _, e := range edges {
		code = append(code, fmt.Sprintf("stage.Edge{From: %q, To: %q}", e.From, e.To))
	}
	return strings.Join(code, ", ")
}

// notScheduler is the skip of the NextChange rule.
func notScheduler(m lifecycle.Model) string {
	if _, ok := m.(lifecycle.Scheduler); ok {
		return ""
	}
	return fmt.Sprintf("the model (%T) does not implement lifecycle.Scheduler", m)
}

// checkNextChange checks the [lifecycle.Scheduler] contract on the corpus
// and along the random histories of the Graph rule.
func checkNextChange(s *suite) []error {
	sch, ok := s.m.(lifecycle.Scheduler)
	if !ok {
		return nil
	}
	r := rand.New(rand.NewPCG(s.cfg.seed1^0x6a09e667f3bcc908, s.cfg.seed2))
	s.each(func(x sample) {
		s.schedule(sch, r, x.f, x.now, func() string { return x.what })
	})
	s.walks(func(x step) bool {
		if x.panicked != nil || !s.graph.Has(x.id) {
			return false // reported by NoPanic and Total
		}
		return s.schedule(sch, r, x.after, x.now, func() string {
			return fmt.Sprintf("random history %d, step %d (seed %d,%d), after %s", x.walk, x.step, s.cfg.seed1, s.cfg.seed2, x.what)
		})
	})
	return s.errs
}

// schedule checks NextChange(f, now) and the stage at probe times before
// the time it announces; it reports false after a failure. f is never
// handed to the model: each call gets a deep copy.
func (s *suite) schedule(sch lifecycle.Scheduler, r *rand.Rand, f *lifecycle.Facts, now time.Time, what func() string) bool {
	work := clone(f)
	due, p := s.nextChange(sch, work, now)
	if p != nil {
		s.fail(func() string {
			return fmt.Sprintf("NextChange panicked (%v) for %s at now=%s: facts %s", p, what(), tsn(now), formatFacts(f, tsn))
		})
		return false
	}
	if !reflect.DeepEqual(work, f) {
		s.fail(func() string {
			return fmt.Sprintf("NextChange modified the facts (%s) for %s at now=%s: before %s, after %s", changes(f, work), what(), tsn(now), formatFacts(f, tsn), formatFacts(work, tsn))
		})
		return false
	}
	if again, p := s.nextChange(sch, clone(f), now); p == nil && !again.Equal(due) {
		s.fail(func() string {
			return fmt.Sprintf("NextChange answered %s, then %s for the same facts at the same now (it must be pure: the answer depends on the facts and now only), for %s: facts %s",
				announced(due), announced(again), what(), formatFacts(f, tsn))
		})
		return false
	}
	// The facts in one *Facts that held the facts asked before, at this
	// now, as a Tracker reuses its working copy: the answer must come from
	// the facts, not their address.
	if s.reusedPrev != nil {
		(&lifecycle.Customer{Facts: *s.reusedPrev}).CopyTo(&s.reused)
		s.nextChange(sch, &s.reused.Facts, now)
		(&lifecycle.Customer{Facts: *f}).CopyTo(&s.reused)
		if again, p := s.nextChange(sch, &s.reused.Facts, now); p == nil && !again.Equal(due) {
			prev := s.reusedPrev
			s.fail(func() string {
				return fmt.Sprintf("NextChange answered %s for facts in memory that held other facts when last asked at the same now (one *Facts reused, as a Tracker reuses it), where a fresh copy got %s: answer from the facts, not their address; for %s at now=%s: facts %s; the facts before: %s",
					announced(again), announced(due), what(), tsn(now), formatFacts(f, tsn), formatFacts(prev, tsn))
			})
			return false
		}
	}
	s.reusedPrev = clone(f)
	if now.Before(firstTracked) || now.After(lastYear) {
		// The Tracker asks only within the years 1900 to 9999 (at the
		// zero time, "due now" would read as never; before the year 1,
		// the first instant after now may be the zero time).
		return true
	}
	base, p := s.call(work, now)
	if p != nil {
		return false // reported by NoPanic
	}
	for _, t := range probes(r, now, due, f) {
		// The probes share one copy, to spare a copy per probe; a
		// difference found is confirmed on fresh copies, so that a model
		// that modifies its facts (which Pure reports) is not blamed here.
		if id, p := s.call(work, t); p == nil && id == base {
			continue
		}
		if b, p := s.call(clone(f), now); p != nil || b != base {
			return false // reported by Pure, Deterministic or Stable
		}
		id, p := s.call(clone(f), t)
		switch {
		case p != nil:
			s.fail(func() string {
				return fmt.Sprintf("Stage panicked (%v) at t=%s, a time this rule probes after NextChange(facts, now=%s) = %s, for %s: facts %s",
					p, tsn(t), tsn(now), announced(due), what(), formatFacts(f, tsn))
			})
			return false
		case id != base:
			s.fail(func() string {
				before := "announced never (zero time)"
				if !due.IsZero() {
					before = due.Sub(t).String() + " before the time announced"
				}
				return fmt.Sprintf("the stage changed before the time NextChange announced: for %s, NextChange(facts, now=%s) = %s, but Stage is %q at now and %q at t=%s (%s after now, %s); NextChange must return a time no later than the first instant at which the stage changes (here at most t): facts %s",
					what(), tsn(now), announced(due), base, id, tsn(t), t.Sub(now), before, formatFacts(f, tsn))
			})
			return false
		}
	}
	return true
}

// nextChange calls NextChange, recovering a panic.
func (s *suite) nextChange(sch lifecycle.Scheduler, f *lifecycle.Facts, now time.Time) (t time.Time, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
			if panicked == "" {
				panicked = "panic"
			}
		}
	}()
	p := newPending("NextChange", f, now)
	s.cur.Store(p)
	defer p.finish()
	return sch.NextChange(f, now), nil
}

// announced formats a NextChange answer.
func announced(t time.Time) string {
	if t.IsZero() {
		return "zero (never)"
	}
	return tsn(t)
}

// lastYear is the last instant of year 9999, the far future probed when
// NextChange answers never; firstTracked the first instant of 1900. The
// NextChange rule checks the stage against the time announced at times
// between the two, which a Tracker passes.
var (
	lastYear     = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	firstTracked = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
)

// thresholds are the durations the NextChange rule adds to the facts'
// times, exactly, to probe the instants at which rules counted from an
// event (a lapse 90 days after the last order, say) change a stage.
var thresholds = []time.Duration{day, 7 * day, 14 * day, 28 * day, 30 * day, 31 * day, 60 * day, 90 * day, 180 * day, 365 * day, 366 * day, 730 * day}

// probes returns the times the NextChange rule classifies facts at, in
// order, given now and the time due that NextChange announced: times t
// with now < t < due (every t > now when due is zero, never). They are
// just after now, just before due (1ns to a day before), now plus each of
// the gaps the random histories take (which straddle the usual
// thresholds), the facts' times (the first and last event, the last of
// each type, up to four in all) plus each of the thresholds exactly and 1ns
// less, the midpoint, a few random times in between and, for never,
// times centuries ahead and the last instant of the year 9999. It
// returns none when due is at or before now (due now), which is always
// right.
func probes(r *rand.Rand, now, due time.Time, f *lifecycle.Facts) []time.Time {
	never := due.IsZero()
	if !never && !due.After(now) {
		return nil
	}
	var out []time.Time
	add := func(t time.Time) {
		if t.After(now) && (never || t.Before(due)) {
			out = append(out, t)
		}
	}
	after := func(d time.Duration) {
		if t := now.Add(d); t.Sub(now) == d {
			add(t)
		}
	}
	after(time.Nanosecond)
	after(time.Second)
	for _, g := range gaps[1:] {
		after(g)
	}
	anchors := []time.Time{f.First, f.Last}
	for i := len(f.Tallies) - 1; i >= 0 && len(anchors) < 4; i-- {
		anchors = append(anchors, f.Tallies[i].Last)
	}
	for _, a := range anchors {
		if a.IsZero() {
			continue
		}
		for _, g := range thresholds {
			if t := a.Add(g); t.Sub(a) == g {
				add(t)
				add(t.Add(-time.Nanosecond))
			}
		}
	}
	span := time.Duration(math.MaxInt64) // (now, due) or, for never, ~292 years
	if never {
		for _, y := range []int{10, 100, 290} {
			after(time.Duration(y) * 365 * day)
		}
		after(span)
		add(lastYear)
	} else {
		span = due.Sub(now) // saturates: then the random times stay below due all the same
		for _, d := range []time.Duration{time.Nanosecond, time.Microsecond, time.Millisecond, time.Second, time.Minute, time.Hour, day} {
			add(due.Add(-d))
		}
		after(span / 2)
	}
	for i := 0; i < 3 && span > 0; i++ {
		after(time.Duration(r.Int64N(int64(span))))
	}
	// In time order, so that the failure reported is the earliest probe
	// found in another stage: the closest to the real change.
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// step is one classification along a random history of [suite.walks].
type step struct {
	walk, step int
	// before is the facts before the step (nil for the history's start,
	// the zero facts), after the facts classified.
	before, after *lifecycle.Facts
	now           time.Time
	what          string // the step: an event added or the clock moved
	id            stage.ID
	panicked      any
}

// where describes x for failure messages.
func (x step) where(s *suite) string {
	return fmt.Sprintf("random history %d, step %d (seed %d,%d), after %s, at now=%s: facts %s",
		x.walk, x.step, s.cfg.seed1, s.cfg.seed2, x.what, ts(x.now), FormatFacts(x.after))
}

// walks generates the random histories of the Graph rule, the same for
// every rule, and calls fn with each classification along them; a history
// ends early when fn returns false.
//
// A history that fn ends early is still drawn to its end (without
// classifying), so that the histories after it are the same for every
// rule: each rule sees the same state at the same history and step. The
// model classifies a copy of the facts, so that one that modifies them
// cannot change the history (and Pure, which classifies another copy,
// sees the modification however often it is made).
func (s *suite) walks(fn func(x step) bool) {
	// Every rule that walks the histories after Total also compares each
	// answer with Total's first one (Deterministic compares them once;
	// a model whose answers change later, after many calls, say, is
	// caught by the rule that meets the change).
	s.cfg.firstMu.Lock()
	first := s.cfg.firstIDs
	s.cfg.firstMu.Unlock()
	differs := false
	check := func(x step) {
		if first == nil || differs || x.panicked != nil || s.rule == "Deterministic" {
			return
		}
		if want, ok := first[[2]int{x.walk, x.step}]; ok && x.id != want {
			differs = true
			s.fail(func() string {
				return fmt.Sprintf("got %q where the first classification of the same state (by the Total rule) got %q: an answer must depend on the facts and now only, not on how often or in which order the model was called, on %s", x.id, want, x.where(s))
			})
		}
	}
	r := rand.New(rand.NewPCG(s.cfg.seed1, s.cfg.seed2^0x9e3779b97f4a7c15))
	types := eventTypes(s.cfg)
	reads := s.cfg.reads
	for w := 0; w < s.cfg.walks; w++ {
		f := new(lifecycle.Facts)
		now := s.cfg.start.Add(time.Duration(r.Int64N(int64(365 * day))))
		if w%2 == 1 {
			now = now.Truncate(time.Second) // whole seconds, as most shops' times are
		}
		x := step{walk: w, step: -1, after: f, now: now, what: "nothing (zero facts)"}
		x.id, x.panicked = s.call(clone(f), now)
		check(x)
		live := fn(x) // false: draw the rest of the history, classify nothing
		for i := 0; i < s.cfg.steps; i++ {
			var before *lifecycle.Facts
			if live {
				before = clone(f)
			}
			var what string
			if r.IntN(4) == 0 {
				if r.IntN(40) == 0 {
					now = now.Add(time.Duration(10+r.IntN(50)) * 365 * day) // rarely, decades
				} else {
					now = now.Add(gap(r, true))
				}
				what = "moving now to " + ts(now)
			} else {
				e := randomEvent(r, types, reads, now.Add(gap(r, false)), w)
				f.Add(&e)
				now = e.Time.UTC()
				what = "adding " + formatEvent(&e)
			}
			if !live {
				continue
			}
			x := step{walk: w, step: i, before: before, after: f, now: now, what: what}
			x.id, x.panicked = s.call(clone(f), now)
			check(x)
			live = fn(x)
		}
	}
}

const day = 24 * time.Hour

// gaps are the steps a random history takes between events and clock
// moves; they straddle the usual thresholds (a week, a month, 90 and 180
// days, a year).
var gaps = []time.Duration{0, time.Minute, time.Hour, day, 3 * day, 7 * day, 14 * day, 31 * day, 61 * day, 95 * day, 181 * day, 366 * day, 731 * day}

func gap(r *rand.Rand, clock bool) time.Duration {
	switch k := r.IntN(12); {
	case !clock && k == 0:
		return 0 // an event at the same instant as the one before
	case !clock && k < 8:
		return time.Duration(r.Int64N(int64(2 * day)))
	}
	g := gaps[r.IntN(len(gaps))]
	if clock && g == 0 {
		g = time.Second
	}
	if r.IntN(3) == 0 {
		return g // exactly: a threshold counted from an earlier time lands on an instant
	}
	return g + time.Duration(r.Int64N(int64(time.Hour)))
}

func eventTypes(c *config) []lifecycle.EventType {
	types := append(lifecycle.StandardTypes(), "modeltest.custom")
	types = append(types, c.types...)
	return append(types, c.reads...)
}

var currencies = []string{"EUR", "EUR", "EUR", "USD", "JPY", "GBP"}

// referrers are the stems of the referrer IDs the random events name: IDs
// are case-sensitive and need not be ASCII.
var referrers = []string{"r", "r", "R", "Ref-", "ré"}

// randomEvent draws an event; purchases and visits are drawn more often
// than the rest, as in a real shop, and so are the types the model reads
// (reads, from [TypeReader]; none for a model that does not list them).
func randomEvent(r *rand.Rand, types, reads []lifecycle.EventType, at time.Time, walk int) lifecycle.Event {
	var t lifecycle.EventType
	switch k := r.IntN(10); {
	case k < 2:
		t = lifecycle.OrderCompleted
	case k == 2:
		t = lifecycle.SiteVisited
	case k == 3:
		t = []lifecycle.EventType{lifecycle.OrderRefunded, lifecycle.SubscriptionRenewed, lifecycle.SubscriptionCancelled, lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.SurveyAnswered, lifecycle.ReferralConverted}[r.IntN(7)]
	case k < 7 && len(reads) > 0:
		t = reads[r.IntN(len(reads))]
	default:
		t = types[r.IntN(len(types))]
	}
	n := r.IntN(1 << 30)
	e := lifecycle.Event{ID: "e" + strconv.Itoa(n), CustomerID: "c" + strconv.Itoa(walk), Type: t, Time: at}
	// Money on the types that usually carry it, on two subscription starts
	// in three, and on one event in six of any other type (Event.Validate
	// allows an amount on every type, and Facts.Revenue counts
	// subscription starts). Those others take their amount and currency
	// from n, drawn already, so the draws that follow (and the histories
	// of models that read no money) are as they were.
	switch t {
	case lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionRenewed:
		e.Amount = 100 + r.Int64N(50000)
		e.Currency = currencies[r.IntN(len(currencies))]
	case lifecycle.ReferralConverted:
	case lifecycle.SubscriptionStarted:
		if n%3 != 0 {
			e.Amount, e.Currency = 100+int64(n>>2)%50000, currencies[(n>>1)%len(currencies)]
		}
	default:
		if n%6 == 0 {
			e.Amount, e.Currency = 100+int64(n>>3)%50000, currencies[(n>>1)%len(currencies)]
		}
	}
	switch t {
	case lifecycle.SurveyAnswered:
		e.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(r.IntN(11))}
	}
	if r.IntN(20) == 0 {
		e.ReferrerID = referrers[r.IntN(len(referrers))] + strconv.Itoa(r.IntN(10))
	}
	return e
}

// corpus returns the facts every rule but Graph classifies: zero facts,
// extreme facts and random customers, each at several times.
func corpus(c *config) []sample {
	var out []sample
	farPast := time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)
	farFuture := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	nows := []time.Time{{}, farPast, c.start, farFuture, lastYear} // lastYear: its last nanosecond
	for _, now := range nows {
		out = append(out, sample{"zero facts", new(lifecycle.Facts), now})
	}
	for _, x := range extremes(farPast, farFuture) {
		for _, now := range append(nows, x.now) {
			out = append(out, sample{x.what, x.f, now})
		}
	}
	r := rand.New(rand.NewPCG(c.seed1, c.seed2))
	types := eventTypes(c)
	for w := 0; w < c.walks; w++ {
		f := new(lifecycle.Facts)
		n := r.IntN(c.steps + 1)
		var at time.Time
		switch era := w % 4; {
		case w%16 == 7: // a history that starts on a leap day, 1904 to 2400, with a sign-up or an order
			y := 1904 + 4*r.IntN(125)
			for y%100 == 0 && y%400 != 0 {
				y += 4
			}
			at = time.Date(y, 2, 29, r.IntN(24), r.IntN(60), 0, 0, time.UTC)
		case era == 2 && c.start.Sub(firstTracked) > time.Second: // a history from 1900 to the start, as an import of old data
			at = firstTracked.Add(time.Duration(r.Int64N(int64(c.start.Sub(firstTracked)/time.Second))) * time.Second)
		case era == 3: // a history in the next four centuries
			at = c.start.AddDate(r.IntN(400), 0, 0).Add(time.Duration(r.Int64N(365*86400)) * time.Second)
		default:
			at = c.start.Add(time.Duration(r.Int64N(int64(365 * day))))
		}
		for i := 0; i < n; i++ {
			leap := i == 0 && w%16 == 7
			if !leap {
				at = at.Add(gap(r, false))
			}
			e := randomEvent(r, types, c.reads, at, w)
			if leap { // the leap day's event is the customer's start: a sign-up, or an order
				e.Type, e.Amount, e.Currency = lifecycle.SignedUp, 0, ""
				if w%32 == 23 {
					e.Type, e.Amount, e.Currency = lifecycle.OrderCompleted, 1999, "EUR"
				}
			}
			f.Add(&e)
		}
		what := "random customer " + strconv.Itoa(w)
		if n == 0 {
			at = c.start // no events: no first or last time to count from
			out = append(out, sample{what, f, at}, sample{what, f, at.Add(gap(r, true))})
			continue
		}
		out = append(out,
			sample{what, f, f.Last},
			sample{what, f, f.Last.Add(gap(r, true))},
			sample{what, f, f.First.Add(-day)},
			sample{what, f, f.Last.Add(time.Duration(10+r.IntN(120)) * 365 * day)}, // decades later
			sample{what, f, f.Last.Add(thresholds[r.IntN(len(thresholds))])},       // a threshold, exactly
		)
	}
	// Smallest facts first, so that the failures reported are the
	// simplest found.
	slices.SortStableFunc(out, func(a, b sample) int {
		return cmp.Compare(len(a.f.Tallies)+len(a.f.Sums), len(b.f.Tallies)+len(b.f.Sums))
	})
	return out
}

// extremes returns facts at the edges of what the types allow.
func extremes(farPast, farFuture time.Time) []sample {
	all := lifecycle.StandardTypes()
	huge := new(lifecycle.Facts)
	huge.First, huge.Last = farPast, farFuture
	for _, t := range all {
		n := int64(math.MaxInt64)
		if t == lifecycle.ReferralConverted {
			n = 2 // derived from Referrals, as Facts keeps it
		}
		huge.Tallies = append(huge.Tallies, lifecycle.Tally{Type: t, Count: n, First: farPast, Last: farFuture})
	}
	huge.Referrals = []lifecycle.Referral{{Customer: "r1", At: farPast}, {Customer: "r2", At: farFuture}}
	sortTallies(huge.Tallies)
	huge.Sums = []lifecycle.Sum{
		{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: math.MaxInt64},
		{Type: lifecycle.OrderRefunded, Currency: "EUR", Amount: math.MaxInt64},
		{Type: lifecycle.SubscriptionRenewed, Currency: "EUR", Amount: math.MaxInt64},
	}
	huge.Score, huge.ScoreAt = 10, farFuture

	refunds := new(lifecycle.Facts) // more refunds than orders
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	refunds.First, refunds.Last = at, at
	refunds.Tallies = []lifecycle.Tally{
		{Type: lifecycle.OrderCompleted, Count: 1, First: at, Last: at},
		{Type: lifecycle.OrderRefunded, Count: math.MaxInt64, First: at, Last: at},
	}
	refunds.Sums = []lifecycle.Sum{{Type: lifecycle.OrderRefunded, Currency: "EUR", Amount: math.MaxInt64}}

	custom := new(lifecycle.Facts) // thousands of custom types
	custom.First, custom.Last = at, at
	for i := 0; i < 5000; i++ {
		custom.Tallies = append(custom.Tallies, lifecycle.Tally{Type: lifecycle.EventType(fmt.Sprintf("vendor.t%05d", i)), Count: int64(i + 1), First: at, Last: at})
	}
	custom.Tallies = append(custom.Tallies, lifecycle.Tally{Type: lifecycle.OrderCompleted, Count: 3, First: at, Last: at})
	sortTallies(custom.Tallies)

	past := new(lifecycle.Facts) // every type once, in year 1
	future := new(lifecycle.Facts)
	for _, t := range all {
		past.Add(&lifecycle.Event{Type: t, Time: farPast, Amount: 1, Currency: "EUR", Attrs: map[string]string{lifecycle.ScoreAttr: "0"}})
		future.Add(&lifecycle.Event{Type: t, Time: farFuture, Amount: math.MaxInt64, Currency: "USD", ReferrerID: "r", Attrs: map[string]string{lifecycle.ScoreAttr: "10"}})
	}
	return []sample{
		{"huge counts and amounts", huge, farFuture},
		{"more refunds than orders", refunds, at},
		{"5000 custom event types", custom, at},
		{"every type once in year 1", past, farPast},
		{"every type once in year 9999", future, farFuture},
	}
}

func sortTallies(ts []lifecycle.Tally) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Type < ts[j-1].Type; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// clone returns a deep copy of f (nil slices stay nil).
func clone(f *lifecycle.Facts) *lifecycle.Facts {
	c := *f
	if f.Tallies != nil {
		c.Tallies = append(make([]lifecycle.Tally, 0, len(f.Tallies)), f.Tallies...)
	}
	if f.Sums != nil {
		c.Sums = append(make([]lifecycle.Sum, 0, len(f.Sums)), f.Sums...)
	}
	if f.Referrals != nil {
		c.Referrals = append(make([]lifecycle.Referral, 0, len(f.Referrals)), f.Referrals...)
	}
	return &c
}

func ids(g *stage.Graph) string {
	var b strings.Builder
	for i, id := range g.IDs() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(id))
	}
	return b.String()
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339)
}

// tsn formats t to the nanosecond, for the NextChange rule: thresholds
// such as "no more than 180 days" flip a nanosecond apart. A whole second
// prints as [ts] prints it.
func tsn(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func formatEvent(e *lifecycle.Event) string {
	s := string(e.Type) + "@" + ts(e.Time)
	if e.Amount != 0 {
		s += " " + strconv.FormatInt(e.Amount, 10) + e.Currency
	}
	if sc, ok := e.Score(); ok {
		s += " score=" + strconv.Itoa(sc)
	}
	return s
}

// FormatFacts prints facts compactly, for failure messages: the first and
// last times, each tally as type×count[first..last], each sum as
// type:amount+currency, the referrer and the last score. Long lists are
// cut after 12 entries.
func FormatFacts(f *lifecycle.Facts) string { return formatFacts(f, ts) }

// formatFacts is [FormatFacts] with the times formatted by ts.
func formatFacts(f *lifecycle.Facts, ts func(time.Time) string) string {
	if f == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString("{")
	if f.First.IsZero() && f.Last.IsZero() && len(f.Tallies) == 0 && len(f.Sums) == 0 && f.ReferredBy == "" && f.ScoreAt.IsZero() {
		return "{zero}"
	}
	fmt.Fprintf(&b, "first=%s last=%s", ts(f.First), ts(f.Last))
	const limit = 12
	for i, t := range f.Tallies {
		if i == limit {
			fmt.Fprintf(&b, " …(+%d tallies)", len(f.Tallies)-limit)
			break
		}
		if t.First.Equal(t.Last) {
			fmt.Fprintf(&b, " %s×%d[%s]", t.Type, t.Count, ts(t.First))
		} else {
			fmt.Fprintf(&b, " %s×%d[%s..%s]", t.Type, t.Count, ts(t.First), ts(t.Last))
		}
	}
	for i, s := range f.Sums {
		if i == limit {
			fmt.Fprintf(&b, " …(+%d sums)", len(f.Sums)-limit)
			break
		}
		fmt.Fprintf(&b, " %s:%d%s", s.Type, s.Amount, s.Currency)
	}
	if f.ReferredBy != "" {
		fmt.Fprintf(&b, " referred_by=%s@%s", f.ReferredBy, ts(f.ReferredAt))
	}
	if !f.ScoreAt.IsZero() {
		fmt.Fprintf(&b, " score=%d@%s", f.Score, ts(f.ScoreAt))
	}
	b.WriteString("}")
	return b.String()
}

// changes lists the first few differences between two facts values, times
// to the nanosecond (a change below the second is one too).
func changes(a, b *lifecycle.Facts) string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < 4 {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	if a.First != b.First || a.Last != b.Last {
		add("first/last %s/%s → %s/%s", tsn(a.First), tsn(a.Last), tsn(b.First), tsn(b.Last))
	}
	diffSlice(add, "tallies", "Tallies", a.Tallies, b.Tallies)
	diffSlice(add, "sums", "Sums", a.Sums, b.Sums)
	diffSlice(add, "referrals", "Referrals", a.Referrals, b.Referrals)
	if a.ReferredBy != b.ReferredBy || a.ReferredAt != b.ReferredAt {
		add("referred_by %s@%s → %s@%s", a.ReferredBy, tsn(a.ReferredAt), b.ReferredBy, tsn(b.ReferredAt))
	}
	if a.Score != b.Score || a.ScoreAt != b.ScoreAt {
		add("score %d@%s → %d@%s", a.Score, tsn(a.ScoreAt), b.Score, tsn(b.ScoreAt))
	}
	if len(out) == 0 {
		return "a change only reflect.DeepEqual sees, such as a time's location"
	}
	return strings.Join(out, "; ")
}

// diffSlice reports, through add, how slice a became b: a change of length,
// or each element that differs.
func diffSlice[T comparable](add func(string, ...any), plural, field string, a, b []T) {
	if len(a) != len(b) {
		add("%d %s → %d", len(a), plural, len(b))
		return
	}
	for i := range a {
		if a[i] != b[i] {
			add("%s[%d] %+v → %+v", field, i, a[i], b[i])
		}
	}
}
