package reliability_test

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/internal/shopsim"
	"github.com/clmkit/clm/lifecycle"
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
// memory store, sweeps at sweep unless it is zero, and returns the store.
func reference(t *testing.T, events []lifecycle.Event, end, sweep time.Time) *store.Memory {
	t.Helper()
	ctx := context.Background()
	m := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return end }))
	for _, e := range events {
		_, err := tr.Record(ctx, e)
		require.NoError(t, err)
	}
	if !sweep.IsZero() {
		_, err := tr.Sweep(ctx, sweep)
		require.NoError(t, err)
	}
	return m
}

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
// that does not depend on arrival order or write count: facts, stage, AsOf
// and the seen event IDs. (Since, History and Version legitimately differ
// when events arrive in another order or in other writes.)
func sameState(t *testing.T, want, got lifecycle.Store) {
	t.Helper()
	ignore := cmpopts.IgnoreFields(lifecycle.Customer{}, "Since", "History", "Version")
	w, g := all(t, want), all(t, got)
	if diff := cmp.Diff(w, g, ignore, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("state differs from the sequential replay (-want +got):\n%s", diff)
	}
	if len(w) == 0 {
		t.Fatal("the reference holds no customers: the test checks nothing")
	}
}

// flaky is a Store (Get, Put and Scan only: the Tracker reads with Get and
// writes with compare-and-swap Put) that fails at random, from a seeded
// source, with errInjected.
type flaky struct {
	m *store.Memory
	// Probabilities of each failure.
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

// flakyUpdater adds the optional Updater capability, failing before
// calling fn (with probability put) or after committing (putAfter).
type flakyUpdater struct{ *flaky }

func (f flakyUpdater) Update(ctx context.Context, id string, fn func(*lifecycle.Customer) (bool, error)) error {
	if f.roll(f.put) {
		return errInjected
	}
	if err := f.m.Update(ctx, id, fn); err != nil {
		return err
	}
	if f.roll(f.putAfter) {
		return errInjected
	}
	return nil
}

var _ lifecycle.Updater = flakyUpdater{}

// flakyEventUpdater adds the EventUpdater capability too, with the same
// faults.
type flakyEventUpdater struct{ flakyUpdater }

func (f flakyEventUpdater) UpdateEvent(ctx context.Context, id string, d uint64, fn func(*lifecycle.Customer, bool) (bool, error)) error {
	if f.roll(f.put) {
		return errInjected
	}
	if err := f.m.UpdateEvent(ctx, id, d, fn); err != nil {
		return err
	}
	if f.roll(f.putAfter) {
		return errInjected
	}
	return nil
}

var _ lifecycle.EventUpdater = flakyEventUpdater{}
