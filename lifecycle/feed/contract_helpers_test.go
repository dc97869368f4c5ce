package feed_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// rvEnv is a store.Memory with a Tracker that makes stage changes.
type rvEnv struct {
	st   *store.Memory
	tr   *lifecycle.Tracker
	seq  atomic.Int64
	base time.Time
}

func rvNewEnv(t *testing.T) *rvEnv {
	t.Helper()
	st := store.NewMemory()
	return &rvEnv{st: st, tr: lifecycle.NewTracker(model.SterneCutler(), st),
		base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// step records the k-th event (k from 1) of the staged path of a customer:
// 1 site_visited (→ reach), 2 signed_up (→ acquisition), 3 order (→
// conversion), 4 order (→ retention). Each makes one stage change.
func (e *rvEnv) step(t *testing.T, id string, k int) {
	t.Helper()
	n := e.seq.Add(1)
	ev := lifecycle.Event{
		ID:         fmt.Sprintf("%s-ev%d", id, k),
		CustomerID: id,
		Time:       e.base.Add(time.Duration(n) * time.Minute),
	}
	switch k {
	case 1:
		ev.Type = lifecycle.SiteVisited
	case 2:
		ev.Type = lifecycle.SignedUp
	default:
		ev.Type = lifecycle.OrderCompleted
		ev.Amount, ev.Currency = 1000, "EUR"
	}
	res, err := e.tr.Record(context.Background(), ev)
	if err != nil {
		t.Errorf("record %s step %d: %v", id, k, err)
		return
	}
	if !res.Moved && k <= 4 && !res.Duplicate {
		t.Errorf("record %s step %d: expected a stage change, got %+v", id, k, res)
	}
}

// grow takes customer id through steps from..to.
func (e *rvEnv) grow(t *testing.T, id string, from, to int) {
	t.Helper()
	for k := from; k <= to; k++ {
		e.step(t, id, k)
	}
}

// all lists every change the feed lists now.
func (e *rvEnv) all(t *testing.T) []lifecycle.Change {
	t.Helper()
	var out []lifecycle.Change
	var after lifecycle.Cursor
	for {
		page, err := e.st.Changes(context.Background(), after, 50)
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Pos
	}
}

// storedCursor reads the cursor stored under name without taking the
// lease (a claim by an observer that is refused changes nothing). When
// the lease is free, the observer would get it, so until = now (given up).
func (e *rvEnv) storedCursor(t *testing.T, name string) lifecycle.Cursor {
	t.Helper()
	now := time.Now()
	c, _, err := e.st.ClaimCursor(context.Background(), name, "zz-observer", now, now)
	if err != nil {
		t.Fatalf("ClaimCursor: %v", err)
	}
	return c
}

// rvRec records deliveries.
type rvRec struct {
	mu   sync.Mutex
	got  []lifecycle.Change
	who  []string
	seen map[string]int
}

func (r *rvRec) add(owner string, ch lifecycle.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]int{}
	}
	r.got = append(r.got, ch)
	r.who = append(r.who, owner)
	r.seen[ch.ID()]++
}

func (r *rvRec) list() []lifecycle.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]lifecycle.Change(nil), r.got...)
}

func (r *rvRec) owners() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.who...)
}

func (r *rvRec) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *rvRec) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id] > 0
}

// hasAll reports whether every change of want was delivered.
func (r *rvRec) hasAll(want []lifecycle.Change) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range want {
		if r.seen[ch.ID()] == 0 {
			return false
		}
	}
	return true
}

func (r *rvRec) handler(owner string) feed.Handler {
	return func(ctx context.Context, ch lifecycle.Change) error {
		r.add(owner, ch)
		return nil
	}
}

func rvWait(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// rvRun runs d in a goroutine; the returned function cancels it and
// returns Run's error (failing if it does not return within 5s).
type rvRunning struct {
	cancel context.CancelFunc
	done   chan error
}

func rvStart(d *feed.Dispatcher) *rvRunning {
	ctx, cancel := context.WithCancel(context.Background())
	r := &rvRunning{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	return r
}

func (r *rvRunning) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("Run did not return within 5s of cancel")
		return nil
	}
}

// checkOrder checks that the first deliveries of changes come in strictly
// increasing feed position, and each customer's in Seq order from 1 with no gaps.
func rvCheckOrder(t *testing.T, got []lifecycle.Change) {
	t.Helper()
	var last lifecycle.Cursor
	first := map[string]bool{}
	for i, ch := range got {
		if first[ch.ID()] {
			continue
		}
		first[ch.ID()] = true
		if ch.Pos <= last {
			t.Errorf("delivery %d: %s #%d at pos %d came after pos %d (feed order broken)", i, ch.CustomerID, ch.Seq, ch.Pos, last)
		}
		last = ch.Pos
	}
}

// fast options for tests.
func rvFast(owner string) []feed.Option {
	return []feed.Option{
		feed.WithOwner(owner),
		feed.WithPoll(10 * time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond),
		feed.WithLease(5 * time.Second),
	}
}

// rvFakeClock is a settable clock.
type rvFakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *rvFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *rvFakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rvFaulty wraps a Memory, failing calls on demand, recording limits, or
// "killing" the caller (every call fails, as for a dead process).
type rvFaulty struct {
	m             *store.Memory
	failChanges   atomic.Int32
	failClaims    atomic.Int32
	failAdvances  atomic.Int32
	dead          atomic.Bool
	mu            sync.Mutex
	limits        []int
	advanceCalled atomic.Int32
}

var errRvStore = errors.New("review: store unavailable")

func (f *rvFaulty) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if f.dead.Load() {
		return nil, errRvStore
	}
	f.mu.Lock()
	f.limits = append(f.limits, limit)
	f.mu.Unlock()
	if f.failChanges.Add(-1) >= 0 {
		return nil, errRvStore
	}
	return f.m.Changes(ctx, after, limit)
}

func (f *rvFaulty) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if f.dead.Load() {
		return 0, false, errRvStore
	}
	if f.failClaims.Add(-1) >= 0 {
		return 0, false, errRvStore
	}
	return f.m.ClaimCursor(ctx, name, owner, now, until)
}

func (f *rvFaulty) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if f.dead.Load() {
		return errRvStore
	}
	f.advanceCalled.Add(1)
	if f.failAdvances.Add(-1) >= 0 {
		return errRvStore
	}
	return f.m.AdvanceCursor(ctx, name, owner, c, now, until)
}

// rvLogHandler captures log records.
type rvLogHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *rvLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *rvLogHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *rvLogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *rvLogHandler) WithGroup(string) slog.Handler      { return h }

func (h *rvLogHandler) levels() map[slog.Level][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[slog.Level][]string{}
	for _, r := range h.recs {
		out[r.Level] = append(out[r.Level], r.Message)
	}
	return out
}
