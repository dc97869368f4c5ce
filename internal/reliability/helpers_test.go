package reliability_test

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
)

// errInjected is the failure the fault-injecting stores return.
var errInjected = errors.New("injected store failure")

// stream returns a shop stream and a clock just after its last event.
func stream(n int, seed uint64, referrals bool) ([]lifecycle.Event, time.Time) {
	ev := shopsim.Stream(shopsim.StreamConfig{Events: n, Customers: n / 8, Seed: seed, NoReferrals: !referrals})
	return ev, ev[len(ev)-1].Time.Add(time.Minute)
}

// reference records the events one by one, in order, into a fault-free
// memory store with Sterne–Cutler, sweeps at sweep unless it is zero, and
// returns the store.
func reference(t *testing.T, events []lifecycle.Event, end, sweep time.Time) *store.Memory {
	t.Helper()
	return referenceWith(t, model.SterneCutler(), events, end, sweep)
}

// referenceWith is reference with the model m.
func referenceWith(t *testing.T, m lifecycle.Model, events []lifecycle.Event, end, sweep time.Time) *store.Memory {
	t.Helper()
	ctx := context.Background()
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(func() time.Time { return end }))
	for _, e := range events {
		_, err := tr.Record(ctx, e)
		require.NoError(t, err)
	}
	if !sweep.IsZero() {
		_, err := tr.Sweep(ctx, sweep)
		require.NoError(t, err)
	}
	return mem
}

// noSchedule hides the Scheduler capability of a model: every customer
// is due at every sweep.
type noSchedule struct{ lifecycle.Model }

// cmpSeen lets cmp compare EventSets, whose layout is private, as their
// keys.
var cmpSeen = cmp.Transformer("Keys", func(s lifecycle.EventSet) []string {
	var out []string
	for k := range s.All() {
		out = append(out, k.String())
	}
	return out
})

func all(t *testing.T, s lifecycle.Store) map[string]*lifecycle.Customer {
	t.Helper()
	out := map[string]*lifecycle.Customer{}
	for c, err := range s.Scan(context.Background()) {
		require.NoError(t, err)
		out[c.ID] = c
	}
	return out
}

// sameState fails unless every customer in got matches want in everything
// that does not depend on arrival order or write count: facts, stage, AsOf,
// Due and the seen event IDs. (Since, History and Version legitimately
// differ when events arrive in another order or in other writes.)
func sameState(t *testing.T, want, got lifecycle.Store) {
	t.Helper()
	ignore := cmpopts.IgnoreFields(lifecycle.Customer{}, "Since", "History", "Version")
	w, g := all(t, want), all(t, got)
	if diff := cmp.Diff(w, g, ignore, cmpSeen, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("state differs from the sequential replay (-want +got):\n%s", diff)
	}
	if len(w) == 0 {
		t.Fatal("the reference holds no customers: the test checks nothing")
	}
}

// sameStateButAsOf is sameState, except that a customer's AsOf may be
// sweep instead of want's, when sweep is after want's.
func sameStateButAsOf(t *testing.T, want, got lifecycle.Store, sweep time.Time) {
	t.Helper()
	w, g := all(t, want), all(t, got)
	for id, gc := range g {
		if wc, ok := w[id]; ok && !gc.AsOf.Equal(wc.AsOf) {
			if !gc.AsOf.Equal(sweep) || !sweep.After(wc.AsOf) {
				t.Fatalf("customer %s: AsOf %v; want the replay's %v or the sweep time %v", id, gc.AsOf, wc.AsOf, sweep)
			}
			gc.AsOf = wc.AsOf
		}
	}
	ignore := cmpopts.IgnoreFields(lifecycle.Customer{}, "Since", "History", "Version")
	if diff := cmp.Diff(w, g, ignore, cmpSeen, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("state differs from the sequential replay (-want +got):\n%s", diff)
	}
	if len(w) == 0 {
		t.Fatal("the reference holds no customers: the test checks nothing")
	}
}

// flaky is a Store (Get, Put and Scan only: the Tracker reads with Get,
// writes with compare-and-swap Put and sweeps with Scan) that fails at
// random, from a seeded source, with errInjected.
type flaky struct {
	m *store.Memory
	// Probabilities of each failure (scan: per customer Scan or ListDue
	// yields).
	get, put, putAfter, scan float64
	mu                       sync.Mutex
	r                        *rand.Rand
	failures                 int
}

func newFlaky(seed uint64) *flaky {
	return &flaky{m: store.NewMemory(), r: rand.New(rand.NewPCG(seed, 77))}
}

func (f *flaky) roll(p float64) bool {
	if p == 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r.Float64() < p {
		f.failures++
		return true
	}
	return false
}

func (f *flaky) Failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures
}

func (f *flaky) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if f.roll(f.get) {
		return nil, errInjected
	}
	return f.m.Get(ctx, id)
}

// Put fails before writing with probability put, and after committing
// (an ambiguous failure: the write happened, the caller is told it did
// not) with probability putAfter.
func (f *flaky) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if f.roll(f.put) {
		return errInjected
	}
	if err := f.m.Put(ctx, c, prev); err != nil {
		return err
	}
	if f.roll(f.putAfter) {
		return errInjected
	}
	return nil
}

// Scan fails, with probability scan per customer, instead of yielding it.
func (f *flaky) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for c, err := range f.m.Scan(ctx) {
			if err == nil && f.roll(f.scan) {
				yield(nil, errInjected)
				return
			}
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// flakyApplier adds the Applier capability, Memory's Apply, failing each
// write on its own: before calling its fn (with probability put) or after
// committing it (putAfter). The writes that do not fail before are applied
// by one call of Memory's Apply. It has no ListDue: Sweep goes through the
// flaky Scan.
type flakyApplier struct{ *flaky }

func (f flakyApplier) Apply(ctx context.Context, ws []lifecycle.Write) {
	live := make([]lifecycle.Write, 0, len(ws))
	idx := make([]int, 0, len(ws))
	for i := range ws {
		if f.roll(f.put) {
			ws[i].Err = errInjected
			continue
		}
		live = append(live, ws[i])
		idx = append(idx, i)
	}
	f.m.Apply(ctx, live)
	for k, i := range idx {
		ws[i].Err = live[k].Err
		if ws[i].Err == nil && f.roll(f.putAfter) {
			ws[i].Err = errInjected
		}
	}
}

var _ lifecycle.Applier = flakyApplier{}

// flakyLister adds the DueLister capability too, Memory's ListDue,
// failing with probability scan per ID instead of yielding it.
type flakyLister struct{ flakyApplier }

func (f flakyLister) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for id, err := range f.m.ListDue(ctx, now) {
			if err == nil && f.roll(f.scan) {
				yield("", errInjected)
				return
			}
			if !yield(id, err) || err != nil {
				return
			}
		}
	}
}

var _ lifecycle.DueLister = flakyLister{}
