package lifecycle_test

// Behaviour review (from the docs) of the Tracker's central guarantee:
// nothing lost or double counted under retries, duplicates, out-of-order
// events, concurrent writers and store faults. Each test compares the
// final state with a sequential replay of the same distinct events.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// ---------------------------------------------------------------------------
// events and reference replay

var zqT0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func zqClock() time.Time { return zqT0 }

// zqEvents makes a stream of distinct events for nCust customers. Each
// customer has at most one referrer (so the documented two-referrer
// exception never applies); some referrers have no events (pending).
func zqEvents(seed int64, nCust, nEv int) []lifecycle.Event {
	r := rand.New(rand.NewSource(seed))
	types := []lifecycle.EventType{
		lifecycle.SiteVisited, lifecycle.ProductViewed, lifecycle.CartAdded,
		lifecycle.CheckoutStarted, lifecycle.OrderCompleted, lifecycle.OrderCompleted,
		lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SurveyAnswered,
		lifecycle.TicketOpened, lifecycle.SignedUp, lifecycle.ReviewPosted,
	}
	ref := make([]string, nCust)
	for i := range nCust {
		switch {
		case i%9 == 0:
			ref[i] = fmt.Sprintf("zzpend%02d", i) // never has events: pending referrer
		case i%3 == 0:
			ref[i] = fmt.Sprintf("zzc%02d", (i+1)%nCust)
		}
	}
	out := make([]lifecycle.Event, 0, nEv)
	for k := range nEv {
		i := r.Intn(nCust)
		if k < nCust {
			i = k
		}
		e := lifecycle.Event{
			ID:         fmt.Sprintf("zze%05d", k),
			CustomerID: fmt.Sprintf("zzc%02d", i),
			Type:       types[r.Intn(len(types))],
			Time:       zqT0.Add(-time.Duration(r.Intn(700*24)+1) * time.Hour).Add(time.Duration(r.Intn(3600)) * time.Second),
		}
		switch e.Type {
		case lifecycle.OrderCompleted, lifecycle.OrderRefunded:
			e.Amount = int64(100 + r.Intn(10000))
			e.Currency = "EUR"
		case lifecycle.SurveyAnswered:
			e.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(r.Intn(11))}
		}
		if ref[i] != "" && r.Intn(3) == 0 {
			e.ReferrerID = ref[i]
		}
		out = append(out, e)
	}
	return out
}

func zqShuffled(r *rand.Rand, evs []lifecycle.Event) []lifecycle.Event {
	c := append([]lifecycle.Event(nil), evs...)
	r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}

// zqNoSched hides the model's Scheduler (and Converter): every customer is
// due at every sweep, so a final sweep brings every customer to one AsOf.
type zqNoSched struct{ m lifecycle.Model }

func (w zqNoSched) Name() string         { return w.m.Name() }
func (w zqNoSched) Stages() *stage.Graph { return w.m.Stages() }
func (w zqNoSched) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	return w.m.Stage(f, now)
}

func zqReplay(t *testing.T, m lifecycle.Model, evs []lifecycle.Event, sweepAt time.Time) *store.Memory {
	t.Helper()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock))
	ctx := context.Background()
	for _, e := range evs {
		res, err := tr.Record(ctx, e)
		if err != nil || res.Duplicate {
			t.Fatalf("reference replay: %s: dup=%v err=%v", e.ID, res.Duplicate, err)
		}
	}
	if !sweepAt.IsZero() {
		if _, err := tr.Sweep(ctx, sweepAt); err != nil {
			t.Fatalf("reference sweep: %v", err)
		}
	}
	return st
}

func zqAll(t *testing.T, s lifecycle.Store) map[string]*lifecycle.Customer {
	t.Helper()
	out := map[string]*lifecycle.Customer{}
	for c, err := range s.Scan(context.Background()) {
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		if _, dup := out[c.ID]; dup {
			t.Errorf("scan yielded %s twice", c.ID)
		}
		out[c.ID] = c
	}
	return out
}

type zqCmp struct {
	noStage bool // stage depends on AsOf, which sweeps moved
	due     bool // compare Due too
	asOf    bool
}

// zqCompare checks got against the reference replay; returns the number of
// differences.
func zqCompare(t *testing.T, label string, got, want lifecycle.Store, evs []lifecycle.Event, o zqCmp) int {
	t.Helper()
	g, w := zqAll(t, got), zqAll(t, want)
	bad := 0
	report := func(format string, a ...any) {
		bad++
		if bad <= 12 {
			t.Errorf(label+": "+format, a...)
		}
	}
	for id := range g {
		if _, ok := w[id]; !ok {
			report("customer %s stored but not in the replay", id)
		}
	}
	byCust := map[string][]string{}
	for _, e := range evs {
		byCust[e.CustomerID] = append(byCust[e.CustomerID], e.ID)
	}
	for id, wc := range w {
		gc, ok := g[id]
		if !ok {
			report("customer %s lost (replay has it, %d seen)", id, wc.Seen.Len())
			continue
		}
		gf, _ := json.Marshal(gc.Facts)
		wf, _ := json.Marshal(wc.Facts)
		if string(gf) != string(wf) {
			report("customer %s facts differ:\n got  %s\n want %s", id, gf, wf)
		}
		if !o.noStage && gc.Stage != wc.Stage {
			report("customer %s stage %q, replay %q", id, gc.Stage, wc.Stage)
		}
		if o.asOf && !gc.AsOf.Equal(wc.AsOf) {
			report("customer %s AsOf %v, replay %v", id, gc.AsOf, wc.AsOf)
		}
		if o.due && !gc.Due.Equal(wc.Due) {
			report("customer %s Due %v, replay %v", id, gc.Due, wc.Due)
		}
		if !gc.Seen.Equal(&wc.Seen) || gc.Seen.Len() != wc.Seen.Len() {
			report("customer %s seen %d, replay %d", id, gc.Seen.Len(), wc.Seen.Len())
		}
		for _, eid := range byCust[id] {
			if !gc.HasSeen(eid) {
				report("customer %s: HasSeen(%s) false", id, eid)
			}
		}
		if gc.PendingReferrer() != wc.PendingReferrer() {
			report("customer %s pending=%v replay %v", id, gc.PendingReferrer(), wc.PendingReferrer())
		}
		if gc.Version < 1 {
			report("customer %s version %d", id, gc.Version)
		}
		zqCheckHistory(t, label, gc, report)
	}
	return bad
}

func zqCheckHistory(t *testing.T, label string, c *lifecycle.Customer, report func(string, ...any)) {
	if c.PendingReferrer() {
		if c.Stage != "" || len(c.History) != 0 {
			report("pending referrer %s has stage %q history %d", c.ID, c.Stage, len(c.History))
		}
		return
	}
	h := c.History
	if len(h) == 0 {
		report("customer %s has no history (stage %q)", c.ID, c.Stage)
		return
	}
	if h[0].From != "" {
		report("customer %s history starts From %q", c.ID, h[0].From)
	}
	causes := map[string]int{}
	for i, tr := range h {
		if i > 0 && tr.From != h[i-1].To {
			report("customer %s history broken at %d: %v after %v", c.ID, i, tr, h[i-1])
		}
		if tr.Cause != "" && !strings.HasPrefix(tr.Cause, "clm.referral:") {
			causes[tr.Cause]++
			if causes[tr.Cause] > 1 {
				report("customer %s: event %s caused %d transitions", c.ID, tr.Cause, causes[tr.Cause])
			}
		}
	}
	last := h[len(h)-1]
	if last.To != c.Stage || !last.At.Equal(c.Since) {
		report("customer %s: last transition %v, stage %q since %v", c.ID, last, c.Stage, c.Since)
	}
}

// ---------------------------------------------------------------------------
// hooks

func zqKey(id string, tr lifecycle.Transition) string {
	return fmt.Sprintf("%s|%s|%s|%s|%s", id, tr.From, tr.To, tr.At.UTC().Format(time.RFC3339Nano), tr.Cause)
}

type zqHooks struct {
	mu         sync.Mutex
	calls      map[string]int
	bad        []string
	graph      *stage.Graph
	second     map[string]int // calls of the second hook
	undeclared uint64
}

func zqNewHooks(m lifecycle.Model) *zqHooks {
	return &zqHooks{calls: map[string]int{}, second: map[string]int{}, graph: m.Stages()}
}

func (h *zqHooks) hook(ctx context.Context, ch lifecycle.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch.Seq != 0 || ch.Pos != 0 {
		h.bad = append(h.bad, fmt.Sprintf("hook got Seq=%d Pos=%d", ch.Seq, ch.Pos))
	}
	wantU := ch.From != "" && !h.graph.Allows(ch.From, ch.To)
	if ch.Undeclared != wantU {
		h.bad = append(h.bad, fmt.Sprintf("hook %s %s->%s Undeclared=%v want %v", ch.CustomerID, ch.From, ch.To, ch.Undeclared, wantU))
	}
	if ch.From == ch.To {
		h.bad = append(h.bad, fmt.Sprintf("hook %s: no move %s->%s", ch.CustomerID, ch.From, ch.To))
	}
	h.calls[zqKey(ch.CustomerID, ch.Transition)]++
	if ch.Undeclared {
		h.undeclared++
	}
}

// hook2 must run after hook for the same change ("in the order they were added").
func (h *zqHooks) hook2(ctx context.Context, ch lifecycle.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := zqKey(ch.CustomerID, ch.Transition)
	h.second[k]++
	if h.second[k] > h.calls[k] {
		h.bad = append(h.bad, "second hook ran before the first for "+k)
	}
}

// check: every committed transition (in the final histories) got exactly
// one hook call and no hook call is for a transition that is not stored.
// With exact=false, a stored transition may miss its hook (ambiguous commits).
func (h *zqHooks) check(t *testing.T, label string, s lifecycle.Store, exact bool) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range h.bad {
		if i < 5 {
			t.Errorf("%s: %s", label, b)
		}
	}
	stored := map[string]int{}
	for _, c := range zqAll(t, s) {
		for _, tr := range c.History {
			stored[zqKey(c.ID, tr)]++
		}
	}
	n := 0
	for k, v := range stored {
		if h.calls[k] != v && (exact || h.calls[k] > v) {
			n++
			if n <= 8 {
				t.Errorf("%s: transition %s stored %d times, hook called %d times", label, k, v, h.calls[k])
			}
		}
	}
	for k, v := range h.calls {
		if stored[k] == 0 {
			n++
			if n <= 8 {
				t.Errorf("%s: hook called %d times for %s, which is not stored", label, v, k)
			}
		}
	}
	for k, v := range h.second {
		if v != h.calls[k] {
			t.Errorf("%s: second hook %d calls, first %d for %s", label, v, h.calls[k], k)
		}
	}
}

// ---------------------------------------------------------------------------
// change feed

func zqListFeed(t *testing.T, cl lifecycle.ChangeLister, after lifecycle.Cursor) []lifecycle.Change {
	t.Helper()
	var out []lifecycle.Change
	for {
		page, err := cl.Changes(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		if len(page) == 0 {
			return out
		}
		for _, ch := range page {
			if ch.Pos <= after {
				t.Errorf("feed: Pos %d not after %d", ch.Pos, after)
			}
			after = ch.Pos
		}
		out = append(out, page...)
	}
}

// zqCheckFeed: the whole feed lists every transition of the stored
// histories exactly once, with its Seq, in Seq order per customer.
func zqCheckFeed(t *testing.T, label string, m *store.Memory) []lifecycle.Change {
	t.Helper()
	all := zqListFeed(t, m, 0)
	cs := zqAll(t, m)
	seen := map[string]int{}
	lastSeq := map[string]uint64{}
	bad := 0
	rep := func(f string, a ...any) {
		bad++
		if bad <= 8 {
			t.Errorf(label+": feed: "+f, a...)
		}
	}
	for _, ch := range all {
		k := fmt.Sprintf("%s#%d", ch.CustomerID, ch.Seq)
		seen[k]++
		if seen[k] > 1 {
			rep("%s listed %d times", k, seen[k])
		}
		if ch.Seq <= lastSeq[ch.CustomerID] {
			rep("%s listed after Seq %d", k, lastSeq[ch.CustomerID])
		}
		lastSeq[ch.CustomerID] = ch.Seq
		c := cs[ch.CustomerID]
		if c == nil || ch.Seq < 1 || int(ch.Seq) > len(c.History) {
			rep("%s listed but not in a stored history", k)
			continue
		}
		if h := c.History[ch.Seq-1]; zqKey(c.ID, h) != zqKey(c.ID, ch.Transition) {
			rep("%s is %v, history has %v", k, ch.Transition, h)
		}
	}
	total := 0
	for _, c := range cs {
		total += len(c.History)
		for i := range c.History {
			if seen[fmt.Sprintf("%s#%d", c.ID, i+1)] == 0 {
				rep("%s#%d (%v) never listed", c.ID, i+1, c.History[i])
			}
		}
	}
	if len(all) != total {
		rep("%d changes listed, %d transitions stored", len(all), total)
	}
	return all
}

// zqPager reads the feed while writers run and returns what it read.
func zqPager(cl lifecycle.ChangeLister, stop <-chan struct{}) <-chan []lifecycle.Change {
	out := make(chan []lifecycle.Change, 1)
	go func() {
		var got []lifecycle.Change
		var after lifecycle.Cursor
		drain := false
		for {
			page, err := cl.Changes(context.Background(), after, 7)
			if err != nil {
				break
			}
			if len(page) == 0 {
				if drain {
					break
				}
				select {
				case <-stop:
					drain = true
				default:
					time.Sleep(200 * time.Microsecond)
				}
				continue
			}
			got = append(got, page...)
			after = page[len(page)-1].Pos
		}
		out <- got
	}()
	return out
}

// ---------------------------------------------------------------------------
// a plain third-party store (Get, Put, Scan only), with faults

type zqAction int

const (
	zqOK zqAction = iota
	zqFailBefore
	zqCommitThenFail
	zqConflict
	zqTimeoutBefore
	zqTimeoutAfterCommit
)

var zqErrDown = errors.New("zz: store is down")

type zqPlain struct {
	mu    sync.Mutex
	m     map[string]*lifecycle.Customer
	fault func(ctx context.Context, op, id string) zqAction
	// counters
	ambiguous atomic.Int64
	failed    atomic.Int64
}

func zqNewPlain() *zqPlain { return &zqPlain{m: map[string]*lifecycle.Customer{}} }

func (s *zqPlain) act(ctx context.Context, op, id string) zqAction {
	if s.fault == nil {
		return zqOK
	}
	return s.fault(ctx, op, id)
}

func (s *zqPlain) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch s.act(ctx, "get", id) {
	case zqFailBefore, zqCommitThenFail:
		s.failed.Add(1)
		return nil, fmt.Errorf("get %s: %w", id, zqErrDown)
	case zqTimeoutBefore, zqTimeoutAfterCommit:
		s.failed.Add(1)
		time.Sleep(100 * time.Microsecond)
		return nil, fmt.Errorf("get %s: timeout: %w", id, zqErrDown)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("zz get %s: %w", id, lifecycle.ErrNotFound)
	}
	return c.Clone(), nil
}

func (s *zqPlain) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckPut(c, prev); err != nil {
		return err
	}
	a := s.act(ctx, "put", c.ID)
	switch a {
	case zqFailBefore:
		s.failed.Add(1)
		return fmt.Errorf("put %s: %w", c.ID, zqErrDown)
	case zqTimeoutBefore:
		s.failed.Add(1)
		time.Sleep(100 * time.Microsecond)
		return fmt.Errorf("put %s: timeout: %w", c.ID, zqErrDown)
	case zqConflict:
		return fmt.Errorf("put %s: spurious: %w", c.ID, lifecycle.ErrConflict)
	}
	s.mu.Lock()
	var have uint64
	if old, ok := s.m[c.ID]; ok {
		have = old.Version
	}
	if have != prev {
		s.mu.Unlock()
		return &store.ConflictError{ID: c.ID, Want: prev, Have: have}
	}
	s.m[c.ID] = c.Clone()
	s.mu.Unlock()
	switch a {
	case zqCommitThenFail:
		s.ambiguous.Add(1)
		return fmt.Errorf("put %s: connection lost during commit: %w", c.ID, zqErrDown)
	case zqTimeoutAfterCommit:
		s.ambiguous.Add(1)
		time.Sleep(100 * time.Microsecond)
		return fmt.Errorf("put %s: commit timed out: %w", c.ID, zqErrDown)
	}
	return nil
}

func (s *zqPlain) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		s.mu.Lock()
		cs := make([]*lifecycle.Customer, 0, len(s.m))
		for _, c := range s.m {
			cs = append(cs, c.Clone())
		}
		s.mu.Unlock()
		sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
		for _, c := range cs {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if s.act(ctx, "scan", c.ID) != zqOK {
				yield(nil, fmt.Errorf("scan at %s: %w", c.ID, zqErrDown))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// Delete is the store's own method (the Tracker does not know it).
func (s *zqPlain) Delete(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// zqRandomFaults fails each call with probability p, choosing the kind at random.
func zqRandomFaults(seed int64, p float64, kinds ...zqAction) func(ctx context.Context, op, id string) zqAction {
	var mu sync.Mutex
	r := rand.New(rand.NewSource(seed))
	return func(ctx context.Context, op, id string) zqAction {
		mu.Lock()
		defer mu.Unlock()
		if op == "scan" || r.Float64() >= p {
			return zqOK
		}
		return kinds[r.Intn(len(kinds))]
	}
}

// ---------------------------------------------------------------------------
// bookkeeping of results

type zqLedger struct {
	mu       sync.Mutex
	applied  map[string]int // non-duplicate successful results per event ID
	versions map[string]map[uint64]string
	moved    map[string]lifecycle.Result // Record results that moved, by event ID
	importN  int
	errs     []string
}

func zqNewLedger() *zqLedger {
	return &zqLedger{applied: map[string]int{}, versions: map[string]map[uint64]string{}, moved: map[string]lifecycle.Result{}}
}

// add records a successful result. single: from Record (one write per event).
func (l *zqLedger) add(r lifecycle.Result, single bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Duplicate {
		return
	}
	l.applied[r.EventID]++
	if single {
		vs := l.versions[r.CustomerID]
		if vs == nil {
			vs = map[uint64]string{}
			l.versions[r.CustomerID] = vs
		}
		if other, ok := vs[r.Version]; ok {
			l.errs = append(l.errs, fmt.Sprintf("events %s and %s of %s both applied by writes reporting version %d", other, r.EventID, r.CustomerID, r.Version))
		}
		vs[r.Version] = r.EventID
		if r.Moved {
			l.moved[r.EventID] = r
		}
	}
	if r.Moved != (r.From != r.To) {
		l.errs = append(l.errs, fmt.Sprintf("result %s: Moved=%v From=%q To=%q", r.EventID, r.Moved, r.From, r.To))
	}
}

// check: every distinct event applied exactly once overall (imports counted
// in total); results' versions and moves agree with the stored customers.
func (l *zqLedger) check(t *testing.T, label string, evs []lifecycle.Event, s lifecycle.Store, exact bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.errs {
		if i < 5 {
			t.Errorf("%s: %s", label, e)
		}
	}
	total, bad := 0, 0
	for _, e := range evs {
		n := l.applied[e.ID]
		total += n
		if n > 1 || (exact && l.importN == 0 && n != 1) {
			bad++
			if bad <= 8 {
				t.Errorf("%s: event %s reported applied %d times", label, e.ID, n)
			}
		}
	}
	if exact && total+l.importN != len(evs) {
		t.Errorf("%s: %d events reported applied (%d by Record/RecordBatch, %d by Import), %d distinct", label, total+l.importN, total, l.importN, len(evs))
	}
	if !exact && total+l.importN > len(evs) {
		t.Errorf("%s: %d events reported applied, only %d distinct", label, total+l.importN, len(evs))
	}
	cs := zqAll(t, s)
	for cid, vs := range l.versions {
		c := cs[cid]
		if c == nil {
			continue
		}
		for v, eid := range vs {
			if v == 0 || v > c.Version {
				t.Errorf("%s: result of %s has version %d, stored %d", label, eid, v, c.Version)
			}
		}
	}
	for eid, r := range l.moved {
		c := cs[r.CustomerID]
		found := false
		if c != nil {
			for _, tr := range c.History {
				if tr.Cause == eid && tr.From == r.From && tr.To == r.To {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: Record(%s) reported move %q->%q, not in the stored history", label, eid, r.From, r.To)
		}
	}
}

func zqSeq(evs []lifecycle.Event) iter.Seq2[lifecycle.Event, error] {
	return func(yield func(lifecycle.Event, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// zqRetry calls f until it returns nil, up to n times.
func zqRetry(t *testing.T, what string, n int, f func() error) {
	t.Helper()
	var err error
	for range n {
		if err = f(); err == nil {
			return
		}
	}
	t.Errorf("%s: still failing after %d attempts: %v", what, n, err)
}

// ---------------------------------------------------------------------------
// 1. many goroutines recording the same events

func zqConcurrentRecord(t *testing.T, st lifecycle.Store, mem *store.Memory) {
	m := model.SterneCutler()
	evs := zqEvents(1, 30, 300)
	ref := zqReplay(t, m, evs, time.Time{})
	hooks := zqNewHooks(m)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook), lifecycle.WithHook(hooks.hook2))
	led := zqNewLedger()
	var pager <-chan []lifecycle.Change
	stop := make(chan struct{})
	if mem != nil {
		pager = zqPager(mem, stop)
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(100 + g)))
			for _, e := range zqShuffled(r, evs) {
				res, err := tr.Record(context.Background(), e)
				if err != nil {
					t.Errorf("Record(%s): %v", e.ID, err)
					continue
				}
				if res.EventID != e.ID || res.CustomerID != e.CustomerID {
					t.Errorf("Record(%s): result names %s/%s", e.ID, res.EventID, res.CustomerID)
				}
				led.add(res, true)
			}
		}()
	}
	wg.Wait()
	if hooks.undeclared != tr.Undeclared() {
		t.Errorf("concurrent Record: Tracker.Undeclared() = %d, hooks saw %d undeclared moves", tr.Undeclared(), hooks.undeclared)
	}
	led.check(t, "concurrent Record", evs, st, true)
	zqCompare(t, "concurrent Record", st, ref, evs, zqCmp{due: true, asOf: true})
	hooks.check(t, "concurrent Record hooks", st, true)
	if mem != nil {
		close(stop)
		all := zqCheckFeed(t, "concurrent Record", mem)
		got := <-pager
		if len(got) != len(all) {
			t.Errorf("feed read while writing: %d changes, feed holds %d", len(got), len(all))
		}
		for i := range min(len(got), len(all)) {
			if got[i].Pos != all[i].Pos || got[i].CustomerID != all[i].CustomerID || got[i].Seq != all[i].Seq {
				t.Errorf("feed read while writing differs at %d: %+v vs %+v", i, got[i], all[i])
				break
			}
		}
	}
}

func TestContractReviewFaultConcurrentRecordMemory(t *testing.T) {
	m := store.NewMemory()
	zqConcurrentRecord(t, m, m)
}

func TestContractReviewFaultConcurrentRecordPlain(t *testing.T) {
	zqConcurrentRecord(t, zqNewPlain(), nil)
}

// ---------------------------------------------------------------------------
// 2. Record, RecordBatch and Import of overlapping sets at once

func zqMixed(t *testing.T, st lifecycle.Store, mem *store.Memory) {
	zqMixedN(t, st, mem, 30, 360)
}

func zqMixedN(t *testing.T, st lifecycle.Store, mem *store.Memory, nCust, nEv int) {
	m := model.SterneCutler()
	evs := zqEvents(2, nCust, nEv)
	ref := zqReplay(t, m, evs, time.Time{})
	hooks := zqNewHooks(m)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook), lifecycle.WithHook(hooks.hook2))
	led := zqNewLedger()
	var pager <-chan []lifecycle.Change
	stop := make(chan struct{})
	if mem != nil {
		pager = zqPager(mem, stop)
	}
	var wg sync.WaitGroup
	// importers: two overlapping halves and one whole, shuffled
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(200 + g)))
			part := zqShuffled(r, evs)
			switch g {
			case 0:
				part = part[:len(part)*2/3]
			case 1:
				part = part[len(part)/3:]
			}
			res, err := tr.Import(context.Background(), zqSeq(part), nil)
			if err != nil {
				t.Errorf("Import %d: %v", g, err)
			}
			if res.Events != res.Applied+res.Duplicates || res.Events != len(part) {
				t.Errorf("Import %d: %+v for %d events", g, res, len(part))
			}
			led.mu.Lock()
			led.importN += res.Applied
			led.mu.Unlock()
		}()
	}
	// batchers
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(300 + g)))
			sh := zqShuffled(r, evs)
			for i := 0; i < len(sh); i += 37 {
				b := sh[i:min(i+37, len(sh))]
				b = append(b, b[0]) // a duplicate within the batch
				rs, err := tr.RecordBatch(context.Background(), b)
				if err != nil {
					t.Errorf("RecordBatch: %v", err)
					continue
				}
				if len(rs) != len(b) {
					t.Errorf("RecordBatch: %d results for %d events", len(rs), len(b))
					continue
				}
				for k, res := range rs {
					if res.EventID != b[k].ID {
						t.Errorf("RecordBatch result %d is %s, event %s", k, res.EventID, b[k].ID)
					}
					if k < len(b)-1 {
						led.add(res, false)
					} else if !res.Duplicate {
						t.Errorf("RecordBatch: event %s given twice in a batch applied twice (Duplicate false on its second result)", res.EventID)
					}
				}
			}
		}()
	}
	// recorders
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(400 + g)))
			for _, e := range zqShuffled(r, evs) {
				res, err := tr.Record(context.Background(), e)
				if err != nil {
					t.Errorf("Record(%s): %v", e.ID, err)
					continue
				}
				led.add(res, true)
			}
		}()
	}
	wg.Wait()
	if hooks.undeclared != tr.Undeclared() {
		t.Errorf("mixed: Tracker.Undeclared() = %d, hooks saw %d undeclared moves", tr.Undeclared(), hooks.undeclared)
	}
	led.check(t, "mixed", evs, st, true)
	zqCompare(t, "mixed", st, ref, evs, zqCmp{due: true, asOf: true})
	hooks.check(t, "mixed hooks", st, true)
	if mem != nil {
		close(stop)
		all := zqCheckFeed(t, "mixed", mem)
		if got := <-pager; len(got) != len(all) {
			t.Errorf("mixed: feed read while writing: %d changes, feed holds %d", len(got), len(all))
		}
	}
	// importing again applies nothing
	res, err := tr.Import(context.Background(), zqSeq(evs), nil)
	if err != nil || res.Applied != 0 || res.Duplicates != len(evs) {
		t.Errorf("Import again: %+v, %v", res, err)
	}
}

func TestContractReviewFaultMixedWritersMemory(t *testing.T) {
	m := store.NewMemory()
	zqMixed(t, m, m)
}

func TestContractReviewFaultMixedWritersPlain(t *testing.T) {
	zqMixed(t, zqNewPlain(), nil)
}

// ---------------------------------------------------------------------------
// 3. Sweep and Reclassify during writes

func zqSweepDuring(t *testing.T, st lifecycle.Store, mem *store.Memory, reclassify bool) {
	m := zqNoSched{model.SterneCutler()}
	evs := zqEvents(3, 30, 300)
	final := zqT0
	ref := zqReplay(t, m, evs, final)
	hooks := zqNewHooks(m)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
	led := zqNewLedger()
	var wg sync.WaitGroup
	done := make(chan struct{})
	var sweeps atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewSource(9))
		for {
			select {
			case <-done:
				return
			default:
			}
			at := zqT0.Add(-time.Duration(r.Intn(400*24)) * time.Hour)
			var err error
			if reclassify {
				_, err = tr.Reclassify(context.Background(), at)
			} else {
				_, err = tr.Sweep(context.Background(), at)
			}
			if err != nil {
				t.Errorf("sweep at %v: %v", at, err)
			}
			sweeps.Add(1)
		}
	}()
	var ww sync.WaitGroup
	for g := range 4 {
		ww.Add(1)
		go func() {
			defer ww.Done()
			r := rand.New(rand.NewSource(int64(500 + g)))
			sh := zqShuffled(r, evs)
			for i, e := range sh {
				if g == 3 && i%10 == 0 {
					b := sh[i:min(i+10, len(sh))]
					rs, err := tr.RecordBatch(context.Background(), b)
					if err != nil {
						t.Errorf("RecordBatch: %v", err)
					}
					for _, res := range rs {
						led.add(res, false)
					}
					continue
				}
				if g == 3 {
					continue
				}
				res, err := tr.Record(context.Background(), e)
				if err != nil {
					t.Errorf("Record(%s): %v", e.ID, err)
					continue
				}
				led.add(res, true)
			}
		}()
	}
	ww.Wait()
	close(done)
	wg.Wait()
	if _, err := tr.Sweep(context.Background(), final); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sweeps ran during the writes", sweeps.Load())
	led.check(t, "sweep during writes", evs, st, true)
	zqCompare(t, "sweep during writes", st, ref, evs, zqCmp{due: true, asOf: true})
	hooks.check(t, "sweep during writes hooks", st, true)
	if mem != nil {
		zqCheckFeed(t, "sweep during writes", mem)
	}
}

func TestContractReviewFaultSweepDuringWritesMemory(t *testing.T) {
	m := store.NewMemory()
	zqSweepDuring(t, m, m, false)
}

func TestContractReviewFaultSweepDuringWritesPlain(t *testing.T) {
	zqSweepDuring(t, zqNewPlain(), nil, false)
}

func TestContractReviewFaultReclassifyDuringWritesMemory(t *testing.T) {
	m := store.NewMemory()
	zqSweepDuring(t, m, m, true)
}

func TestContractReviewFaultReclassifyDuringWritesPlain(t *testing.T) {
	zqSweepDuring(t, zqNewPlain(), nil, true)
}

// ---------------------------------------------------------------------------
// 4. Delete while others write

func TestContractReviewFaultDeleteDuringWritesMemory(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(4, 20, 240)
	ref := zqReplay(t, m, evs, time.Time{})
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock))
	stop := make(chan struct{})
	pager := zqPager(mem, stop)
	done := make(chan struct{})
	var wg, ww sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewSource(7))
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := mem.Delete(context.Background(), fmt.Sprintf("zzc%02d", r.Intn(20))); err != nil {
				t.Errorf("Delete: %v", err)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	for g := range 3 {
		ww.Add(1)
		go func() {
			defer ww.Done()
			r := rand.New(rand.NewSource(int64(600 + g)))
			for _, e := range zqShuffled(r, evs) {
				if _, err := tr.Record(context.Background(), e); err != nil {
					t.Errorf("Record(%s): %v", e.ID, err)
				}
			}
		}()
	}
	ww.Wait()
	close(done)
	wg.Wait()
	close(stop)
	got := <-pager
	all := zqListFeed(t, mem, 0)
	listed := map[lifecycle.Cursor]bool{}
	for i, ch := range got {
		if i > 0 && ch.Pos <= got[i-1].Pos {
			t.Errorf("delete during writes: pager got Pos %d after %d", ch.Pos, got[i-1].Pos)
		}
		listed[ch.Pos] = true
	}
	for _, ch := range all {
		if !listed[ch.Pos] {
			t.Errorf("delete during writes: change at Pos %d (%s#%d) skipped by the reader paging during the writes", ch.Pos, ch.CustomerID, ch.Seq)
			break
		}
	}
	// every stored customer is consistent; the feed lists exactly the
	// transitions of the current histories (deleted ones never listed)
	zqCheckFeed(t, "delete during writes", mem)
	for _, c := range zqAll(t, mem) {
		zqCheckHistory(t, "delete", c, func(f string, a ...any) { t.Errorf("after deletes: "+f, a...) })
		if c.Seen.Len() != int(c.Facts.Events()-int64(len(c.Facts.Referrals))) {
			t.Errorf("after deletes: %s holds %d seen events, facts count %d own events", c.ID, c.Seen.Len(), c.Facts.Events()-int64(len(c.Facts.Referrals)))
		}
	}
	// recording everything again restores the replay's facts
	for _, e := range evs {
		if _, err := tr.Record(context.Background(), e); err != nil {
			t.Errorf("Record again(%s): %v", e.ID, err)
		}
	}
	zqCompare(t, "after deletes and re-recording", mem, ref, evs, zqCmp{due: true, asOf: true})
	zqCheckFeed(t, "after deletes and re-recording", mem)
}

// A sweep (or reclassify) must not re-create a customer deleted after it
// was listed.
func zqSweepVsDelete(t *testing.T, reclassify bool, plain bool) {
	m := zqNoSched{model.SterneCutler()}
	evs := zqEvents(5, 40, 200)
	for round := range 12 {
		var st lifecycle.Store
		var del func(string)
		if plain {
			p := zqNewPlain()
			st, del = p, p.Delete
		} else {
			mm := store.NewMemory()
			st, del = mm, func(id string) { _ = mm.Delete(context.Background(), id) }
		}
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock))
		if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for c := range zqAll(t, st) {
			ids = append(ids, c)
		}
		sort.Strings(ids)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if reclassify {
				_, err = tr.Reclassify(context.Background(), zqT0)
			} else {
				_, err = tr.Sweep(context.Background(), zqT0)
			}
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
		}()
		deleted := map[string]bool{}
		for i, id := range ids {
			if (i+round)%2 == 0 {
				del(id)
				deleted[id] = true
				if i%4 == 0 {
					time.Sleep(20 * time.Microsecond)
				}
			}
		}
		wg.Wait()
		for id := range zqAll(t, st) {
			if deleted[id] {
				t.Errorf("round %d: customer %s deleted during the sweep is stored again", round, id)
				return
			}
		}
	}
}

func TestContractReviewFaultSweepDoesNotRecreateDeletedMemory(t *testing.T) {
	zqSweepVsDelete(t, false, false)
}
func TestContractReviewFaultSweepDoesNotRecreateDeletedPlain(t *testing.T) {
	zqSweepVsDelete(t, false, true)
}
func TestContractReviewFaultReclassifyDoesNotRecreateDeletedMemory(t *testing.T) {
	zqSweepVsDelete(t, true, false)
}
func TestContractReviewFaultReclassifyDoesNotRecreateDeletedPlain(t *testing.T) {
	zqSweepVsDelete(t, true, true)
}

// ---------------------------------------------------------------------------
// 5. context cancellation at random points

// cancelStore cancels the current call's context on a chosen call.
type zqCancelKey struct{}

func zqCancelRecord(t *testing.T, st lifecycle.Store, plain *zqPlain) {
	m := model.SterneCutler()
	evs := zqEvents(6, 25, 250)
	ref := zqReplay(t, m, evs, time.Time{})
	hooks := zqNewHooks(m)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
	r := rand.New(rand.NewSource(11))
	var calls atomic.Int64
	var target atomic.Int64
	if plain != nil {
		// cancel the context inside the n-th store call, before or after its work
		plain.fault = func(ctx context.Context, op, id string) zqAction {
			if calls.Add(1) == target.Load() {
				if c, ok := ctx.Value(zqCancelKey{}).(context.CancelFunc); ok {
					c()
				}
			}
			return zqOK
		}
	}
	canceled := 0
	for i, e := range evs {
		ctx, cancel := context.WithCancel(context.Background())
		ctx = context.WithValue(ctx, zqCancelKey{}, cancel)
		if plain != nil {
			calls.Store(0)
			target.Store(int64(1 + r.Intn(4)))
		} else {
			// cancel after a random short delay
			d := time.Duration(r.Intn(40)) * time.Microsecond
			go func() { time.Sleep(d); cancel() }()
		}
		if i%5 == 0 {
			cancel()
		}
		before, _ := st.Get(context.Background(), e.CustomerID)
		res, err := tr.Record(ctx, e)
		cancel()
		after, _ := st.Get(context.Background(), e.CustomerID)
		applied := after != nil && after.HasSeen(e.ID)
		if err != nil {
			canceled++
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Record(%s) with a cancelled context: %v (not context.Canceled)", e.ID, err)
			}
			credit := strings.Contains(err.Error(), "crediting referrer")
			if applied && !credit && plain == nil {
				t.Errorf("Record(%s) failed (%v) on Memory, yet the event was applied", e.ID, err)
			}
			if !applied && before != nil && after != nil && after.Version != before.Version {
				t.Errorf("Record(%s) failed and not applied, yet version moved %d -> %d", e.ID, before.Version, after.Version)
			}
			// retry once with a live context
			res2, err2 := tr.Record(context.Background(), e)
			if err2 != nil {
				t.Errorf("retry of %s: %v", e.ID, err2)
				continue
			}
			if res2.Duplicate != applied {
				t.Errorf("retry of %s: Duplicate=%v, but applied before the retry=%v", e.ID, res2.Duplicate, applied)
			}
		} else {
			if res.Duplicate || !applied {
				t.Errorf("Record(%s) succeeded (dup=%v) but applied=%v", e.ID, res.Duplicate, applied)
			}
		}
	}
	t.Logf("%d of %d Record calls failed", canceled, len(evs))
	zqCompare(t, "cancel Record", st, ref, evs, zqCmp{due: true, asOf: true})
	// no store here reports an error after committing, so every committed
	// transition must have had its hook call
	hooks.check(t, "cancel Record hooks", st, true)
	if mem, ok := st.(*store.Memory); ok {
		zqCheckFeed(t, "cancel Record", mem)
	}
}

func TestContractReviewFaultCancelRecordMemory(t *testing.T) {
	zqCancelRecord(t, store.NewMemory(), nil)
}
func TestContractReviewFaultCancelRecordPlain(t *testing.T) {
	p := zqNewPlain()
	zqCancelRecord(t, p, p)
}

// RecordBatch cancelled: applied customers' results Err nil, others wrap
// context.Canceled; retrying the batch applies the rest.
func zqCancelBatch(t *testing.T, st lifecycle.Store, plain *zqPlain) {
	m := model.SterneCutler()
	evs := zqEvents(7, 40, 400)
	ref := zqReplay(t, m, evs, time.Time{})
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock))
	r := rand.New(rand.NewSource(12))
	var calls, target atomic.Int64
	if plain != nil {
		plain.fault = func(ctx context.Context, op, id string) zqAction {
			if calls.Add(1) == target.Load() {
				if c, ok := ctx.Value(zqCancelKey{}).(context.CancelFunc); ok {
					c()
				}
			}
			return zqOK
		}
	}
	for i := 0; i < len(evs); i += 50 {
		b := evs[i : i+50]
		ctx, cancel := context.WithCancel(context.Background())
		ctx = context.WithValue(ctx, zqCancelKey{}, cancel)
		calls.Store(0)
		target.Store(int64(1 + r.Intn(40)))
		if plain == nil {
			d := time.Duration(r.Intn(200)) * time.Microsecond
			go func() { time.Sleep(d); cancel() }()
		}
		rs, err := tr.RecordBatch(ctx, b)
		cancel()
		cs := zqAll(t, st)
		for k, res := range rs {
			c := cs[b[k].CustomerID]
			applied := c != nil && c.HasSeen(b[k].ID)
			if res.Err == nil && !applied {
				t.Errorf("batch %d: %s has Err nil but is not applied (batch err %v)", i, b[k].ID, err)
			}
			if res.Err != nil && !errors.Is(res.Err, context.Canceled) {
				t.Errorf("batch %d: %s Err %v, not context.Canceled", i, b[k].ID, res.Err)
			}
			if res.Err != nil && applied && plain == nil {
				t.Errorf("batch %d: %s has Err %v but was applied (Memory)", i, b[k].ID, res.Err)
			}
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("batch %d: error %v does not wrap context.Canceled", i, err)
		}
		rs2, err2 := tr.RecordBatch(context.Background(), b)
		if err2 != nil {
			t.Errorf("batch %d retry: %v", i, err2)
		}
		for k := range rs2 {
			if rs[k].Err == nil && !rs2[k].Duplicate && rs[k].EventID == rs2[k].EventID {
				// first call applied it (or found it applied): must be Duplicate now
				t.Errorf("batch %d retry: %s applied again (first result %+v)", i, b[k].ID, rs[k])
			}
		}
	}
	zqCompare(t, "cancel RecordBatch", st, ref, evs, zqCmp{due: true, asOf: true})
}

func TestContractReviewFaultCancelBatchMemory(t *testing.T) { zqCancelBatch(t, store.NewMemory(), nil) }
func TestContractReviewFaultCancelBatchPlain(t *testing.T) {
	p := zqNewPlain()
	zqCancelBatch(t, p, p)
}

func TestContractReviewFaultCancelImportMemory(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(8, 60, 600)
	ref := zqReplay(t, m, evs, time.Time{})
	r := rand.New(rand.NewSource(13))
	for round := range 6 {
		mem := store.NewMemory()
		tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock))
		ctx, cancel := context.WithCancel(context.Background())
		d := time.Duration(r.Intn(3000)) * time.Microsecond
		go func() { time.Sleep(d); cancel() }()
		res1, err := tr.Import(ctx, zqSeq(evs), nil)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("round %d: Import error %v", round, err)
		}
		res2, err := tr.Import(context.Background(), zqSeq(evs), nil)
		if err != nil {
			t.Fatalf("round %d: Import retry: %v", round, err)
		}
		n := 0
		for _, c := range zqAll(t, mem) {
			n += c.Seen.Len()
		}
		if res2.Applied+res2.Duplicates != len(evs) || res2.Applied > len(evs) {
			t.Errorf("round %d: retry counts %+v", round, res2)
		}
		_ = res1
		if n != len(evs) {
			t.Errorf("round %d: %d events stored, %d distinct", round, n, len(evs))
		}
		if zqCompare(t, fmt.Sprintf("cancel Import round %d", round), mem, ref, evs, zqCmp{due: true, asOf: true}) > 0 {
			return
		}
	}
}

// ---------------------------------------------------------------------------
// 6. a faulty plain store: fails, times out, conflicts, commits then fails

func zqFaulty(t *testing.T, kinds []zqAction, exactHooks bool) {
	m := model.SterneCutler()
	evs := zqEvents(9, 30, 300)
	ref := zqReplay(t, m, evs, time.Time{})
	p := zqNewPlain()
	p.fault = zqRandomFaults(21, 0.15, kinds...)
	hooks := zqNewHooks(m)
	tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
	led := zqNewLedger()
	var credErrs, importErrs atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(700 + g)))
			sh := zqShuffled(r, evs)
			switch g {
			case 3: // batches
				for i := 0; i < len(sh); i += 25 {
					b := sh[i:min(i+25, len(sh))]
					zqRetry(t, "RecordBatch", 200, func() error {
						rs, err := tr.RecordBatch(context.Background(), b)
						for _, res := range rs {
							if res.Err == nil {
								led.add(res, false)
							}
						}
						if err != nil && !errors.Is(err, zqErrDown) && !errors.Is(err, lifecycle.ErrConflict) {
							t.Errorf("RecordBatch error %v wraps neither the store's error nor ErrConflict", err)
						}
						return err
					})
				}
			case 2: // import
				zqRetry(t, "Import", 500, func() error {
					res, err := tr.Import(context.Background(), zqSeq(sh), nil)
					if err != nil {
						importErrs.Add(1)
					}
					led.mu.Lock()
					led.importN += res.Applied
					led.mu.Unlock()
					return err
				})
			default:
				for _, e := range sh {
					zqRetry(t, "Record "+e.ID, 200, func() error {
						res, err := tr.Record(context.Background(), e)
						if err == nil {
							led.add(res, true)
						} else if strings.Contains(err.Error(), "crediting referrer") {
							// documented: the event was applied, the result is complete
							credErrs.Add(1)
							if res.Version == 0 {
								t.Errorf("Record(%s) failed crediting the referrer but its result is incomplete: %+v", e.ID, res)
							}
							led.add(res, true)
						}
						if err != nil && !strings.Contains(err.Error(), "crediting referrer") && !errors.Is(err, zqErrDown) && !errors.Is(err, lifecycle.ErrConflict) {
							t.Errorf("Record(%s) error %v wraps neither the store's error nor ErrConflict", e.ID, err)
						}
						return err
					})
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("failed calls %d, ambiguous commits %d, Record errors crediting a referrer %d, failed imports %d", p.failed.Load(), p.ambiguous.Load(), credErrs.Load(), importErrs.Load())
	p.fault = nil
	// a failed Import does not count the chunk it ended (documented), so
	// exact totals are only demanded without ambiguous commits and failed imports
	led.check(t, "faulty store", evs, p, p.ambiguous.Load() == 0 && importErrs.Load() == 0)
	zqCompare(t, "faulty store", p, ref, evs, zqCmp{due: true, asOf: true})
	hooks.check(t, "faulty store hooks", p, exactHooks)
}

func TestContractReviewFaultFaultyStoreFailBefore(t *testing.T) {
	zqFaulty(t, []zqAction{zqFailBefore, zqTimeoutBefore, zqConflict}, true)
}

func TestContractReviewFaultFaultyStoreAmbiguous(t *testing.T) {
	zqFaulty(t, []zqAction{zqFailBefore, zqCommitThenFail, zqTimeoutAfterCommit, zqConflict, zqTimeoutBefore}, false)
}

// Errors are classified as documented, and a failed write stores nothing.
func TestContractReviewFaultFaultErrors(t *testing.T) {
	m := model.SterneCutler()
	e := lifecycle.Event{ID: "zzx1", CustomerID: "zzx", Type: lifecycle.OrderCompleted, Time: zqT0.Add(-time.Hour), Amount: 100, Currency: "EUR"}
	for _, k := range []struct {
		name string
		act  zqAction
		op   string
		want error
	}{
		{"get fails", zqFailBefore, "get", zqErrDown},
		{"put fails", zqFailBefore, "put", zqErrDown},
		{"put always conflicts", zqConflict, "put", lifecycle.ErrConflict},
		{"put times out", zqTimeoutBefore, "put", zqErrDown},
	} {
		p := zqNewPlain()
		// seed the customer so Get has something to read
		tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock), lifecycle.WithMaxRetries(3))
		if _, err := tr.Record(context.Background(), lifecycle.Event{ID: "zzx0", CustomerID: "zzx", Type: lifecycle.SiteVisited, Time: zqT0.Add(-2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var hooked atomic.Int64
		tr = lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock), lifecycle.WithMaxRetries(3),
			lifecycle.WithHook(func(context.Context, lifecycle.Change) { hooked.Add(1) }))
		before, _ := p.Get(context.Background(), "zzx")
		var n atomic.Int64
		p.fault = func(ctx context.Context, op, id string) zqAction {
			if op == k.op {
				n.Add(1)
				return k.act
			}
			return zqOK
		}
		res, err := tr.Record(context.Background(), e)
		p.fault = nil
		if !errors.Is(err, k.want) {
			t.Errorf("%s: Record error %v, want one wrapping %v", k.name, err, k.want)
		}
		if k.act == zqConflict && n.Load() != 4 {
			t.Errorf("%s: %d Put attempts with WithMaxRetries(3), want 4", k.name, n.Load())
		}
		if res.EventID != e.ID || res.CustomerID != e.CustomerID || res.Duplicate || res.Moved || res.Version != 0 {
			t.Errorf("%s: result with an error %+v, want only EventID and CustomerID", k.name, res)
		}
		after, _ := p.Get(context.Background(), "zzx")
		if after.Version != before.Version || after.HasSeen(e.ID) {
			t.Errorf("%s: failed write changed the customer (version %d -> %d)", k.name, before.Version, after.Version)
		}
		if hooked.Load() != 0 {
			t.Errorf("%s: hook called %d times for a failed write", k.name, hooked.Load())
		}
		res, err = tr.Record(context.Background(), e)
		if err != nil || res.Duplicate || !res.Moved {
			t.Errorf("%s: retry %+v, %v", k.name, res, err)
		}
		if hooked.Load() != 1 {
			t.Errorf("%s: hook called %d times after the retry's move", k.name, hooked.Load())
		}
	}
}

// A batch in which some customers' writes fail: the others are applied,
// the failed ones carry Err; retrying the batch applies the rest once.
func TestContractReviewFaultPartialBatchPlain(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(10, 20, 200)
	ref := zqReplay(t, m, evs, time.Time{})
	p := zqNewPlain()
	tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock))
	failing := map[string]zqAction{"zzc03": zqFailBefore, "zzc07": zqCommitThenFail, "zzc11": zqTimeoutBefore, "zzc15": zqTimeoutAfterCommit}
	var mu sync.Mutex
	p.fault = func(ctx context.Context, op, id string) zqAction {
		mu.Lock()
		defer mu.Unlock()
		if op == "put" {
			return failing[id]
		}
		return zqOK
	}
	rs, err := tr.RecordBatch(context.Background(), evs)
	if err == nil || !errors.Is(err, zqErrDown) {
		t.Errorf("partial batch: error %v, want one wrapping the store's", err)
	}
	cs := zqAll(t, p)
	for k, res := range rs {
		c := cs[evs[k].CustomerID]
		_, f := failing[evs[k].CustomerID]
		if f && res.Err == nil {
			t.Errorf("%s of failing customer %s: Err nil", res.EventID, res.CustomerID)
		}
		if !f && (res.Err != nil || res.Duplicate || c == nil || !c.HasSeen(evs[k].ID)) {
			t.Errorf("%s of %s: %+v; stored=%v", res.EventID, res.CustomerID, res, c != nil && c.HasSeen(evs[k].ID))
		}
		if !f && c != nil && res.Version != c.Version {
			// nothing else writes this customer but credits
			_ = 0
		}
	}
	mu.Lock()
	failing = map[string]zqAction{}
	mu.Unlock()
	rs2, err := tr.RecordBatch(context.Background(), evs)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	for k, res := range rs2 {
		cid := evs[k].CustomerID
		want := cid != "zzc03" && cid != "zzc11" // those stored nothing
		if res.Duplicate != want {
			t.Errorf("retry: %s of %s Duplicate=%v, want %v", res.EventID, cid, res.Duplicate, want)
		}
	}
	zqCompare(t, "partial batch", p, ref, evs, zqCmp{due: true, asOf: true})
}

// Sweep over a store whose Scan fails half-way: the listed customers are
// written, the error returned; the next sweep at the same time finishes.
func TestContractReviewFaultSweepScanFailsPlain(t *testing.T) {
	m := zqNoSched{model.SterneCutler()}
	evs := zqEvents(11, 40, 300)
	ref := zqReplay(t, m, evs, zqT0)
	p := zqNewPlain()
	tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock))
	if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	p.fault = func(ctx context.Context, op, id string) zqAction {
		if op == "scan" && n.Add(1) == 20 {
			return zqFailBefore
		}
		if op == "put" && id == "zzc30" {
			return zqFailBefore
		}
		return zqOK
	}
	res, err := tr.Sweep(context.Background(), zqT0)
	if !errors.Is(err, zqErrDown) {
		t.Errorf("Sweep with failing Scan: %v", err)
	}
	t.Logf("first sweep %+v, %v", res, err)
	p.fault = nil
	res2, err := tr.Sweep(context.Background(), zqT0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second sweep %+v", res2)
	zqCompare(t, "sweep after failing scan", p, ref, evs, zqCmp{due: true, asOf: true})
}

// ---------------------------------------------------------------------------
// 7. hooks that panic or block

func TestContractReviewFaultPanickingHook(t *testing.T) {
	for _, plain := range []bool{false, true} {
		m := model.SterneCutler()
		evs := zqEvents(12, 20, 200)
		ref := zqReplay(t, m, evs, time.Time{})
		var st lifecycle.Store = store.NewMemory()
		if plain {
			st = zqNewPlain()
		}
		hooks := zqNewHooks(m)
		var panics atomic.Int64
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock),
			lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
				panics.Add(1)
				panic("zz hook panics")
			}),
			lifecycle.WithHook(hooks.hook))
		led := zqNewLedger()
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewSource(int64(800 + g)))
				for _, e := range zqShuffled(r, evs) {
					res, err := tr.Record(context.Background(), e)
					if err != nil {
						t.Errorf("Record(%s) with a panicking hook: %v", e.ID, err)
						continue
					}
					led.add(res, true)
				}
			}()
		}
		wg.Wait()
		led.check(t, "panicking hook", evs, st, true)
		zqCompare(t, "panicking hook", st, ref, evs, zqCmp{due: true, asOf: true})
		hooks.check(t, "panicking hook, later hook", st, true)
		hooks.mu.Lock()
		n := 0
		for _, v := range hooks.calls {
			n += v
		}
		hooks.mu.Unlock()
		if int64(n) != panics.Load() {
			t.Errorf("panicking hook called %d times, later hook %d", panics.Load(), n)
		}
	}
}

func TestContractReviewFaultBlockingHook(t *testing.T) {
	for _, plain := range []bool{false, true} {
		m := model.SterneCutler()
		var st lifecycle.Store = store.NewMemory()
		if plain {
			st = zqNewPlain()
		}
		release := make(chan struct{})
		entered := make(chan struct{}, 10)
		var blocked atomic.Bool
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock),
			lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
				if ch.Cause == "zzb1" && blocked.CompareAndSwap(false, true) {
					entered <- struct{}{}
					<-release
				}
			}))
		e1 := lifecycle.Event{ID: "zzb1", CustomerID: "zzb", Type: lifecycle.SiteVisited, Time: zqT0.Add(-3 * time.Hour)}
		done1 := make(chan error, 1)
		go func() {
			_, err := tr.Record(context.Background(), e1)
			done1 <- err
		}()
		<-entered
		// the event is committed and visible while the hook blocks
		c, err := st.Get(context.Background(), "zzb")
		if err != nil || !c.HasSeen("zzb1") {
			t.Errorf("plain=%v: event not visible while its hook blocks: %v", plain, err)
		}
		// another writer of the same customer proceeds
		done2 := make(chan error, 1)
		go func() {
			_, err := tr.Record(context.Background(), lifecycle.Event{ID: "zzb2", CustomerID: "zzb", Type: lifecycle.OrderCompleted, Time: zqT0.Add(-2 * time.Hour), Amount: 5, Currency: "EUR"})
			done2 <- err
		}()
		select {
		case err := <-done2:
			if err != nil {
				t.Errorf("plain=%v: second writer: %v", plain, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("plain=%v: a writer of the same customer is held up by another call's blocking hook", plain)
		}
		// a batch and a sweep touching the same customer proceed too
		done3 := make(chan error, 2)
		go func() {
			_, err := tr.RecordBatch(context.Background(), []lifecycle.Event{{ID: "zzb4", CustomerID: "zzb", Type: lifecycle.CartAdded, Time: zqT0.Add(-90 * time.Minute)}})
			done3 <- err
		}()
		go func() {
			_, err := tr.Sweep(context.Background(), zqT0.Add(-time.Minute))
			done3 <- err
		}()
		for range 2 {
			select {
			case err := <-done3:
				if err != nil {
					t.Errorf("plain=%v: batch or sweep while a hook blocks: %v", plain, err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("plain=%v: a RecordBatch or Sweep of the same customer is held up by another call's blocking hook", plain)
			}
		}
		select {
		case <-done1:
			t.Errorf("plain=%v: Record returned while its hook still blocks", plain)
		default:
		}
		close(release)
		if err := <-done1; err != nil {
			t.Errorf("plain=%v: first Record: %v", plain, err)
		}
		// A hook that honours ctx ends at the caller's deadline; Record returns nil.
		tr2 := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock),
			lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) { <-ctx.Done() }))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		res, err := tr2.Record(ctx, lifecycle.Event{ID: "zzb3", CustomerID: "zzb3c", Type: lifecycle.SiteVisited, Time: zqT0.Add(-time.Hour)})
		cancel()
		if err != nil || !res.Moved {
			t.Errorf("plain=%v: Record with a hook that waits on ctx: %+v, %v (want nil)", plain, res, err)
		}
	}
}

// Hooks get exactly the documented arguments for a move, in the
// documented order; sequential Record gives exactly the replay's history.
func TestContractReviewFaultHookArgsAndFeedOrder(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(13, 15, 150)
	mem := store.NewMemory()
	var mu sync.Mutex
	var got []lifecycle.Change
	var order []int
	tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock),
		lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
			mu.Lock()
			got = append(got, ch)
			order = append(order, 1)
			mu.Unlock()
		}),
		lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
			mu.Lock()
			order = append(order, 2)
			mu.Unlock()
		}))
	for _, e := range evs {
		res, err := tr.Record(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		_ = res
	}
	if _, err := tr.Sweep(context.Background(), zqT0.Add(time.Hour*24*365)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(order); i += 2 {
		if order[i] != 1 || order[i+1] != 2 {
			t.Fatalf("hooks not called in the order added: %v", order[:min(len(order), 20)])
		}
	}
	// hooks' calls are, per customer, exactly the history in order; and
	// the feed lists the same in the same order.
	feed := zqCheckFeed(t, "sequential", mem)
	if len(feed) != len(got) {
		t.Errorf("feed %d changes, hooks %d", len(feed), len(got))
	}
	for i := range min(len(feed), len(got)) {
		if feed[i].CustomerID != got[i].CustomerID || zqKey("", feed[i].Transition) != zqKey("", got[i].Transition) {
			t.Errorf("change %d: feed %+v, hook %+v", i, feed[i], got[i])
			break
		}
		if feed[i].ID() == "" {
			t.Errorf("change %d has no ID", i)
		}
	}
}

// Same distinct events, many orders and duplicates, one writer: state equal.
func TestContractReviewFaultOrderIndependence(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(14, 20, 250)
	ref := zqReplay(t, m, evs, time.Time{})
	r := rand.New(rand.NewSource(15))
	for round := range 4 {
		st := store.NewMemory()
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock))
		sh := zqShuffled(r, append(append([]lifecycle.Event(nil), evs...), evs[:80]...))
		for _, e := range sh {
			if _, err := tr.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		if zqCompare(t, fmt.Sprintf("order round %d", round), st, ref, evs, zqCmp{due: true, asOf: true}) > 0 {
			return
		}
	}
}

// ---------------------------------------------------------------------------
// 8. more attacks

func TestContractReviewFaultHotCustomersMemory(t *testing.T) {
	m := store.NewMemory()
	zqMixedN(t, m, m, 4, 240)
}

func TestContractReviewFaultHotCustomersPlain(t *testing.T) {
	zqMixedN(t, zqNewPlain(), nil, 4, 240)
}

// zqSelfConsistent: a stored customer's stage is the model's at their
// classification time, and Due is what the Tracker sets on a write.
func zqSelfConsistent(t *testing.T, label string, s lifecycle.Store, m lifecycle.Model) {
	t.Helper()
	sch, _ := m.(lifecycle.Scheduler)
	bad := 0
	for _, c := range zqAll(t, s) {
		if c.PendingReferrer() {
			if !c.Due.Equal(lifecycle.Never) && !c.Due.IsZero() {
				t.Errorf("%s: pending referrer %s due %v", label, c.ID, c.Due)
			}
			continue
		}
		at := c.ClassifiedAt()
		if c.AsOf.Before(c.Facts.Last) {
			bad++
			t.Errorf("%s: %s AsOf %v before its latest event %v", label, c.ID, c.AsOf, c.Facts.Last)
		}
		if st := m.Stage(&c.Facts, at); st != c.Stage {
			bad++
			if bad < 8 {
				t.Errorf("%s: %s stored stage %q, model says %q at its classification time %v", label, c.ID, c.Stage, st, at)
			}
		}
		if sch == nil {
			continue
		}
		next := sch.NextChange(&c.Facts, at)
		var want time.Time
		switch {
		case next.IsZero(), next.After(lifecycle.Never):
			want = lifecycle.Never
		case !next.After(at):
			want = time.Time{}
		case next.Equal(lifecycle.Never):
			want = lifecycle.Never.Add(-time.Nanosecond)
		default:
			want = next
		}
		if !c.Due.Equal(want) {
			bad++
			if bad < 8 {
				t.Errorf("%s: %s Due %v, NextChange at its classification time %v gives %v", label, c.ID, c.Due, at, want)
			}
		}
	}
}

// Sweeps with the built-in (Scheduler) model during writes, sweep times
// before and after the events: facts and Seen equal the replay, and every
// customer is consistent with its facts and AsOf.
func zqSchedSweep(t *testing.T, st lifecycle.Store, mem *store.Memory) {
	m := model.SterneCutler()
	evs := zqEvents(16, 25, 300)
	ref := zqReplay(t, m, evs, time.Time{})
	hooks := zqNewHooks(m)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
	led := zqNewLedger()
	var pager <-chan []lifecycle.Change
	stop := make(chan struct{})
	if mem != nil {
		pager = zqPager(mem, stop)
	}
	done := make(chan struct{})
	var wg, ww sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewSource(17))
		for {
			select {
			case <-done:
				return
			default:
			}
			at := zqT0.Add(-time.Duration(r.Intn(700*24)) * time.Hour)
			if r.Intn(4) == 0 {
				_, _ = tr.Reclassify(context.Background(), at)
			} else if _, err := tr.Sweep(context.Background(), at); err != nil {
				t.Errorf("sweep: %v", err)
			}
		}
	}()
	for g := range 4 {
		ww.Add(1)
		go func() {
			defer ww.Done()
			r := rand.New(rand.NewSource(int64(900 + g)))
			for _, e := range zqShuffled(r, evs) {
				res, err := tr.Record(context.Background(), e)
				if err != nil {
					t.Errorf("Record(%s): %v", e.ID, err)
					continue
				}
				led.add(res, true)
			}
		}()
	}
	ww.Wait()
	close(done)
	wg.Wait()
	led.check(t, "scheduler sweeps", evs, st, true)
	zqCompare(t, "scheduler sweeps", st, ref, evs, zqCmp{noStage: true})
	zqSelfConsistent(t, "scheduler sweeps", st, m)
	hooks.check(t, "scheduler sweeps hooks", st, true)
	if mem != nil {
		close(stop)
		all := zqCheckFeed(t, "scheduler sweeps", mem)
		if got := <-pager; len(got) != len(all) {
			t.Errorf("feed read while writing: %d changes, feed holds %d", len(got), len(all))
		}
	}
	// a final sweep far ahead on both: every customer then at the same time
	far := zqT0.Add(3 * 365 * 24 * time.Hour)
	for _, s := range []lifecycle.Store{st, ref} {
		tr2 := lifecycle.NewTracker(m, s, lifecycle.WithClock(zqClock))
		if _, err := tr2.Reclassify(context.Background(), far); err != nil {
			t.Fatal(err)
		}
	}
	zqCompare(t, "scheduler sweeps, reclassified far ahead", st, ref, evs, zqCmp{due: true, asOf: true})
}

func TestContractReviewFaultSchedulerSweepsMemory(t *testing.T) {
	m := store.NewMemory()
	zqSchedSweep(t, m, m)
}

func TestContractReviewFaultSchedulerSweepsPlain(t *testing.T) { zqSchedSweep(t, zqNewPlain(), nil) }

// A write fails during a Sweep: the page is finished, the error is the
// page's first, the counts include the page; the next Sweep finishes.
func TestContractReviewFaultSweepWriteFailsPlain(t *testing.T) {
	m := zqNoSched{model.SterneCutler()}
	evs := zqEvents(18, 60, 400)
	ref := zqReplay(t, m, evs, zqT0)
	p := zqNewPlain()
	tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock))
	if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	before := zqAll(t, p)
	p.fault = func(ctx context.Context, op, id string) zqAction {
		if op == "put" && (id == "zqc10" || id == "zzc10") {
			return zqFailBefore
		}
		return zqOK
	}
	res, err := tr.Sweep(context.Background(), zqT0)
	p.fault = nil
	if !errors.Is(err, zqErrDown) {
		t.Errorf("Sweep with a failing write: %v", err)
	}
	after := zqAll(t, p)
	written := 0
	for id, c := range after {
		if c.Version != before[id].Version {
			written++
		}
	}
	t.Logf("sweep %+v, %v; %d customers written", res, err, written)
	if res.Updated != written {
		t.Errorf("Sweep counted %d updated, %d customers were written", res.Updated, written)
	}
	if _, err := tr.Sweep(context.Background(), zqT0); err != nil {
		t.Fatal(err)
	}
	zqCompare(t, "sweep after failing write", p, ref, evs, zqCmp{due: true, asOf: true})
}

// zqBlocking: a store whose chosen call waits for the context to end,
// then returns its error before writing, or after committing.
func TestContractReviewFaultStoreTimeoutHonoursCtx(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(19, 10, 80)
	ref := zqReplay(t, m, evs, time.Time{})
	for _, commit := range []bool{false, true} {
		p := zqNewPlain()
		hooks := zqNewHooks(m)
		tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
		r := rand.New(rand.NewSource(20))
		for _, e := range evs {
			var n atomic.Int64
			target := int64(1 + r.Intn(3))
			p.fault = func(ctx context.Context, op, id string) zqAction {
				if n.Add(1) == target && op == "put" {
					<-ctx.Done()
					if commit {
						return zqTimeoutAfterCommit
					}
					return zqTimeoutBefore
				}
				return zqOK
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
			_, err := tr.Record(ctx, e)
			cancel()
			p.fault = nil
			if err != nil {
				res, err2 := tr.Record(context.Background(), e)
				if err2 != nil {
					t.Errorf("retry %s: %v", e.ID, err2)
				}
				c, _ := p.Get(context.Background(), e.CustomerID)
				if c == nil || !c.HasSeen(e.ID) {
					t.Errorf("retry %s: %+v not applied", e.ID, res)
				}
			}
		}
		zqCompare(t, fmt.Sprintf("timeouts commit=%v", commit), p, ref, evs, zqCmp{due: true, asOf: true})
		hooks.check(t, fmt.Sprintf("timeouts commit=%v hooks", commit), p, !commit)
	}
}

// After a delete, recording the same events again gives the same changes
// with the same IDs (Change.ID doc).
func TestContractReviewFaultChangeIDAfterDelete(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(21, 3, 60)
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock))
	for _, e := range evs {
		if _, err := tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(after lifecycle.Cursor) ([]string, lifecycle.Cursor) {
		var out []string
		for _, ch := range zqListFeed(t, mem, after) {
			out = append(out, ch.ID())
			after = ch.Pos
		}
		return out, after
	}
	first, cur := ids(0)
	for _, id := range []string{"zqc00", "zqc01", "zqc02", "zzc00", "zzc01", "zzc02"} {
		_ = mem.Delete(context.Background(), id)
	}
	if rest, _ := ids(0); len(rest) != 0 {
		t.Errorf("after deleting every customer the feed still lists %d changes", len(rest))
	}
	for _, e := range evs {
		res, err := tr.Record(context.Background(), e)
		if err != nil || res.Duplicate {
			t.Fatalf("re-record %s: %+v %v", e.ID, res, err)
		}
	}
	second, _ := ids(cur)
	if strings.Join(first, ",") != strings.Join(second, ",") {
		t.Errorf("change IDs after delete and re-record differ:\n %v\n %v", first, second)
	}
}

// Results of duplicates: Version is the stored one, From == To, not Moved.
func TestContractReviewFaultDuplicateResult(t *testing.T) {
	m := model.SterneCutler()
	for _, st := range []lifecycle.Store{store.NewMemory(), zqNewPlain()} {
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock))
		e := lifecycle.Event{ID: "zqd1", CustomerID: "zqd", Type: lifecycle.OrderCompleted, Time: zqT0.Add(-time.Hour), Amount: 10, Currency: "EUR"}
		r1, err := tr.Record(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Record(context.Background(), lifecycle.Event{ID: "zqd2", CustomerID: "zqd", Type: lifecycle.SiteVisited, Time: zqT0.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		r2, err := tr.Record(context.Background(), e)
		c, _ := st.Get(context.Background(), "zqd")
		if err != nil || !r2.Duplicate || r2.Moved || r2.From != r2.To || r2.To != c.Stage || r2.Version != c.Version {
			t.Errorf("%T: duplicate result %+v (first %+v), stored stage %q version %d", st, r2, r1, c.Stage, c.Version)
		}
		rs, err := tr.RecordBatch(context.Background(), []lifecycle.Event{e, e})
		if err != nil || !rs[0].Duplicate || !rs[1].Duplicate || rs[0].Version != c.Version {
			t.Errorf("%T: batch of a duplicate twice: %+v %v", st, rs, err)
		}
	}
}

// zqMemPlain shows a Memory through the plain Store interface only, with
// faults, so that the Tracker writes it with Get and compare-and-swap Put
// while the Memory's feed can still be checked.
type zqMemPlain struct {
	m         *store.Memory
	fault     func(ctx context.Context, op, id string) zqAction
	ambiguous atomic.Int64
}

func (s *zqMemPlain) act(ctx context.Context, op, id string) zqAction {
	if s.fault == nil {
		return zqOK
	}
	return s.fault(ctx, op, id)
}

func (s *zqMemPlain) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	switch s.act(ctx, "get", id) {
	case zqFailBefore, zqTimeoutBefore:
		return nil, fmt.Errorf("get %s: %w", id, zqErrDown)
	}
	return s.m.Get(ctx, id)
}

func (s *zqMemPlain) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	switch s.act(ctx, "put", c.ID) {
	case zqFailBefore, zqTimeoutBefore:
		return fmt.Errorf("put %s: %w", c.ID, zqErrDown)
	case zqConflict:
		return fmt.Errorf("put %s: %w", c.ID, lifecycle.ErrConflict)
	case zqCommitThenFail, zqTimeoutAfterCommit:
		if err := s.m.Put(ctx, c, prev); err != nil {
			return err
		}
		s.ambiguous.Add(1)
		return fmt.Errorf("put %s: lost after commit: %w", c.ID, zqErrDown)
	}
	return s.m.Put(ctx, c, prev)
}

func (s *zqMemPlain) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return s.m.Scan(ctx)
}

// Two Trackers share one Memory: one writes through Memory.Apply, the
// other through the plain interface (Get/Put) with faults, ambiguous
// commits included; a third sweeps. Nothing lost or doubled; the feed
// lists every stored transition once.
func TestContractReviewFaultApplyAndPutPathsShareMemory(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(22, 12, 240)
	ref := zqReplay(t, m, evs, time.Time{})
	mem := store.NewMemory()
	wrap := &zqMemPlain{m: mem, fault: zqRandomFaults(23, 0.25, zqFailBefore, zqCommitThenFail, zqConflict)}
	hooks := zqNewHooks(m)
	trA := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
	trB := lifecycle.NewTracker(m, wrap, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
	led := zqNewLedger()
	stop := make(chan struct{})
	pager := zqPager(mem, stop)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := trA
			if g%2 == 1 {
				tr = trB
			}
			r := rand.New(rand.NewSource(int64(1000 + g)))
			for _, e := range zqShuffled(r, evs) {
				zqRetry(t, "Record "+e.ID, 300, func() error {
					res, err := tr.Record(context.Background(), e)
					if err == nil || strings.Contains(err.Error(), "crediting referrer") {
						led.add(res, true)
					}
					return err
				})
			}
		}()
	}
	wg.Wait()
	wrap.fault = nil
	t.Logf("ambiguous commits %d", wrap.ambiguous.Load())
	led.check(t, "two paths", evs, mem, wrap.ambiguous.Load() == 0)
	zqCompare(t, "two paths", mem, ref, evs, zqCmp{due: true, asOf: true})
	hooks.check(t, "two paths hooks", mem, wrap.ambiguous.Load() == 0)
	close(stop)
	all := zqCheckFeed(t, "two paths", mem)
	if got := <-pager; len(got) != len(all) {
		t.Errorf("two paths: feed read while writing: %d changes, feed holds %d", len(got), len(all))
	}
}

// Ambiguous commits only, at a high rate, on a Memory seen as a plain
// store: every retry finds the event, state equals the replay, the feed
// lists each stored transition once.
func TestContractReviewFaultAmbiguousCommitsFeed(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(24, 20, 240)
	ref := zqReplay(t, m, evs, time.Time{})
	mem := store.NewMemory()
	wrap := &zqMemPlain{m: mem, fault: zqRandomFaults(25, 0.4, zqCommitThenFail)}
	tr := lifecycle.NewTracker(m, wrap, lifecycle.WithClock(zqClock))
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(1100 + g)))
			sh := zqShuffled(r, evs)
			if g == 2 {
				zqRetry(t, "Import", 500, func() error {
					_, err := tr.Import(context.Background(), zqSeq(sh), nil)
					return err
				})
				return
			}
			for i := 0; i < len(sh); i += 9 {
				b := sh[i:min(i+9, len(sh))]
				if g == 1 {
					zqRetry(t, "RecordBatch", 300, func() error {
						_, err := tr.RecordBatch(context.Background(), b)
						return err
					})
					continue
				}
				for _, e := range b {
					zqRetry(t, "Record", 300, func() error {
						_, err := tr.Record(context.Background(), e)
						return err
					})
				}
			}
		}()
	}
	wg.Wait()
	wrap.fault = nil
	t.Logf("ambiguous commits %d", wrap.ambiguous.Load())
	zqCompare(t, "ambiguous commits", mem, ref, evs, zqCmp{due: true, asOf: true})
	zqCheckFeed(t, "ambiguous commits", mem)
}

// Panicking hooks during RecordBatch, Import and Sweep: recovered and
// logged at error level with the customer; later hooks still run; the
// calls return nil.
func TestContractReviewFaultPanickingHookAllPaths(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(26, 15, 150)
	mem := store.NewMemory()
	h := &zqLogHandler{}
	hooks := zqNewHooks(m)
	var panics atomic.Int64
	tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock), lifecycle.WithLogger(slog.New(h)),
		lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
			panics.Add(1)
			panic(fmt.Sprintf("zq panic for %s", ch.CustomerID))
		}),
		lifecycle.WithHook(hooks.hook))
	if _, err := tr.RecordBatch(context.Background(), evs[:50]); err != nil {
		t.Errorf("RecordBatch with a panicking hook: %v", err)
	}
	if _, err := tr.Import(context.Background(), zqSeq(evs[50:]), nil); err != nil {
		t.Errorf("Import with a panicking hook: %v", err)
	}
	if _, err := tr.Sweep(context.Background(), zqT0.Add(400*24*time.Hour)); err != nil {
		t.Errorf("Sweep with a panicking hook: %v", err)
	}
	if _, err := tr.Reclassify(context.Background(), zqT0.Add(800*24*time.Hour)); err != nil {
		t.Errorf("Reclassify with a panicking hook: %v", err)
	}
	hooks.check(t, "panicking hook all paths", mem, true)
	n := 0
	for _, v := range hooks.calls {
		n += v
	}
	if int64(n) != panics.Load() {
		t.Errorf("panicking hook called %d times, later hook %d", panics.Load(), n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if int64(h.errors) != panics.Load() {
		t.Errorf("%d panics, %d error-level log records", panics.Load(), h.errors)
	}
	if h.errors > 0 && !h.withCustomer {
		t.Errorf("panic log records do not name the customer: %s", h.sample)
	}
}

type zqLogHandler struct {
	mu           sync.Mutex
	errors       int
	withCustomer bool
	sample       string
}

func (h *zqLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *zqLogHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelError {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errors++
	var sb strings.Builder
	sb.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		sb.WriteString(" " + a.String())
		return true
	})
	h.sample = sb.String()
	if strings.Contains(h.sample, "zzc") {
		h.withCustomer = true
	}
	return nil
}
func (h *zqLogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *zqLogHandler) WithGroup(string) slog.Handler      { return h }

// Version counts successful writes: sequential Records give one write per
// applied event (for customers who hold no referral credits), one Import
// one write per customer, duplicates none; every result of a customer in
// one RecordBatch has the version that write stored.
func TestContractReviewFaultVersionCounts(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(27, 20, 200)
	for _, mk := range []func() lifecycle.Store{func() lifecycle.Store { return store.NewMemory() }, func() lifecycle.Store { return zqNewPlain() }} {
		ref := mk()
		tr := lifecycle.NewTracker(m, ref, lifecycle.WithClock(zqClock))
		for _, e := range evs {
			if _, err := tr.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range zqAll(t, ref) {
			if len(c.Facts.Referrals) == 0 && c.Version != uint64(c.Seen.Len()) {
				t.Errorf("%T: %s after %d Records has Version %d", ref, c.ID, c.Seen.Len(), c.Version)
			}
		}
		// duplicates write nothing
		before := zqAll(t, ref)
		for _, e := range evs[:50] {
			if r, err := tr.Record(context.Background(), e); err != nil || !r.Duplicate {
				t.Errorf("duplicate %s: %+v %v", e.ID, r, err)
			}
		}
		for id, c := range zqAll(t, ref) {
			if c.Version != before[id].Version {
				t.Errorf("%T: duplicates moved %s's version %d -> %d", ref, id, before[id].Version, c.Version)
			}
		}
		// one Import into an empty store
		imp := mk()
		trI := lifecycle.NewTracker(m, imp, lifecycle.WithClock(zqClock))
		res, err := trI.Import(context.Background(), zqSeq(evs), nil)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0
		for _, c := range zqAll(t, imp) {
			if len(c.Facts.Referrals) == 0 && c.Version != 1 {
				t.Errorf("%T: %s after one Import chunk has Version %d", imp, c.ID, c.Version)
			}
			for _, h := range c.History {
				if !strings.HasPrefix(h.Cause, "clm.referral:") {
					moved++
				}
			}
		}
		if res.Moved != moved {
			t.Errorf("%T: Import reports Moved %d, %d stage changes stored for the imported customers' events", imp, res.Moved, moved)
		}
		if res.Applied != len(evs) || res.Duplicates != 0 || res.Events != len(evs) {
			t.Errorf("%T: Import %+v", imp, res)
		}
		// one RecordBatch, half of it already applied
		bs := mk()
		trB := lifecycle.NewTracker(m, bs, lifecycle.WithClock(zqClock))
		if _, err := trB.RecordBatch(context.Background(), evs[:100]); err != nil {
			t.Fatal(err)
		}
		rs, err := trB.RecordBatch(context.Background(), evs[50:150])
		if err != nil {
			t.Fatal(err)
		}
		cs := zqAll(t, bs)
		ver := map[string]uint64{}
		for _, r := range rs {
			if v, ok := ver[r.CustomerID]; ok && v != r.Version {
				t.Errorf("%T: results of %s in one batch have versions %d and %d", bs, r.CustomerID, v, r.Version)
			}
			ver[r.CustomerID] = r.Version
		}
		for id, v := range ver {
			if c := cs[id]; len(c.Facts.Referrals) == 0 && c.Version != v {
				t.Errorf("%T: batch results of %s have version %d, stored %d", bs, id, v, c.Version)
			}
		}
	}
}

// The same event ID for two different customers is two events: each
// customer gets it once (idempotency is per customer).
func TestContractReviewFaultSameIDTwoCustomers(t *testing.T) {
	m := model.SterneCutler()
	for _, st := range []lifecycle.Store{store.NewMemory(), zqNewPlain()} {
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock))
		a := lifecycle.Event{ID: "zqsame", CustomerID: "zqa", Type: lifecycle.SiteVisited, Time: zqT0.Add(-time.Hour)}
		b := a
		b.CustomerID = "zqb"
		c := a
		c.CustomerID = "zqc"
		d := a
		d.CustomerID = "zqd"
		r1, err1 := tr.Record(context.Background(), a)
		r2, err2 := tr.Record(context.Background(), b)
		rs, err3 := tr.RecordBatch(context.Background(), []lifecycle.Event{c, d, a})
		ir, err4 := tr.Import(context.Background(), zqSeq([]lifecycle.Event{func() lifecycle.Event { e := a; e.CustomerID = "zqe"; return e }(), func() lifecycle.Event { e := a; e.CustomerID = "zqf"; return e }()}), nil)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || r1.Duplicate || r2.Duplicate || rs[0].Duplicate || rs[1].Duplicate || !rs[2].Duplicate || ir.Applied != 2 {
			t.Errorf("%T: %+v %+v %+v %+v; %v %v %v %v", st, r1, r2, rs, ir, err1, err2, err3, err4)
		}
	}
}

// A cancelled Sweep leaves every customer consistent; the next Sweep at the
// same time finishes the rest.
func TestContractReviewFaultCancelSweep(t *testing.T) {
	m := zqNoSched{model.SterneCutler()}
	evs := zqEvents(28, 250, 500)
	ref := zqReplay(t, m, evs, zqT0)
	r := rand.New(rand.NewSource(29))
	for round := range 6 {
		var st lifecycle.Store = store.NewMemory()
		if round%2 == 1 {
			st = zqNewPlain()
		}
		hooks := zqNewHooks(m)
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
		if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		d := time.Duration(r.Intn(2000)) * time.Microsecond
		go func() { time.Sleep(d); cancel() }()
		res, err := tr.Sweep(ctx, zqT0)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled sweep: %v", err)
		}
		res2, err := tr.Sweep(context.Background(), zqT0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %+v then %+v", round, res, res2)
		zqCompare(t, fmt.Sprintf("cancel sweep round %d", round), st, ref, evs, zqCmp{due: true, asOf: true})
		hooks.check(t, "cancel sweep hooks", st, true)
	}
}

// Import cancelled inside the plain store's calls; importing again finishes.
func TestContractReviewFaultCancelImportPlain(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(30, 60, 400)
	ref := zqReplay(t, m, evs, time.Time{})
	r := rand.New(rand.NewSource(31))
	for round := range 8 {
		p := zqNewPlain()
		hooks := zqNewHooks(m)
		tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock), lifecycle.WithHook(hooks.hook))
		var n atomic.Int64
		target := int64(1 + r.Intn(120))
		p.fault = func(ctx context.Context, op, id string) zqAction {
			if n.Add(1) == target {
				ctx.Value(zqCancelKey{}).(context.CancelFunc)()
			}
			return zqOK
		}
		ctx, cancel := context.WithCancel(context.Background())
		ctx = context.WithValue(ctx, zqCancelKey{}, cancel)
		res1, err1 := tr.Import(ctx, zqSeq(evs), nil)
		cancel()
		p.fault = nil
		if err1 != nil && !errors.Is(err1, context.Canceled) {
			t.Errorf("round %d: Import error %v", round, err1)
		}
		res2, err := tr.Import(context.Background(), zqSeq(evs), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %+v (err %v) then %+v", round, res1, err1, res2)
		zqCompare(t, fmt.Sprintf("cancel import plain round %d", round), p, ref, evs, zqCmp{due: true, asOf: true})
		hooks.check(t, fmt.Sprintf("cancel import plain round %d hooks", round), p, true)
	}
}

// Retries turned off: the caller retries lost races itself; each event is
// still applied exactly once.
func TestContractReviewFaultNoRetriesPlain(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(32, 6, 150)
	ref := zqReplay(t, m, evs, time.Time{})
	p := zqNewPlain()
	tr := lifecycle.NewTracker(m, p, lifecycle.WithClock(zqClock), lifecycle.WithMaxRetries(0))
	led := zqNewLedger()
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for g := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(1200 + g)))
			for _, e := range zqShuffled(r, evs) {
				zqRetry(t, "Record", 1000, func() error {
					res, err := tr.Record(context.Background(), e)
					switch {
					case err == nil, strings.Contains(fmt.Sprint(err), "crediting referrer"):
						led.add(res, true)
					case errors.Is(err, lifecycle.ErrConflict):
						conflicts.Add(1)
					default:
						t.Errorf("Record: %v", err)
					}
					return err
				})
			}
		}()
	}
	wg.Wait()
	t.Logf("%d conflicts returned", conflicts.Load())
	led.check(t, "no retries", evs, p, true)
	zqCompare(t, "no retries", p, ref, evs, zqCmp{due: true, asOf: true})
}

// Sweeps and Reclassify at or before customers' AsOf leave them alone;
// pending referrers are left alone.
func TestContractReviewFaultSweepLeavesAlone(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(33, 20, 200)
	for _, st := range []lifecycle.Store{store.NewMemory(), zqNewPlain()} {
		var moves atomic.Int64
		tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(zqClock), lifecycle.WithHook(func(context.Context, lifecycle.Change) { moves.Add(1) }))
		if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		before := zqAll(t, st)
		earliest := zqT0
		for _, c := range before {
			if !c.PendingReferrer() && c.AsOf.Before(earliest) {
				earliest = c.AsOf
			}
		}
		moves.Store(0)
		for _, at := range []time.Time{earliest, earliest.Add(-time.Nanosecond), earliest.Add(-10 * 365 * 24 * time.Hour)} {
			r1, err1 := tr.Sweep(context.Background(), at)
			r2, err2 := tr.Reclassify(context.Background(), at)
			if err1 != nil || err2 != nil || r1.Updated != 0 || r1.Moved != 0 || r2.Updated != 0 || r2.Moved != 0 {
				t.Errorf("%T: sweep/reclassify at %v (at or before every AsOf): %+v %v, %+v %v", st, at, r1, err1, r2, err2)
			}
		}
		// a late sweep: pending referrers are still left alone
		if _, err := tr.Reclassify(context.Background(), zqT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Sweep(context.Background(), zqT0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		after := zqAll(t, st)
		for id, c := range before {
			a := after[id]
			if c.PendingReferrer() && (a.Version != c.Version || a.Stage != "" || len(a.History) != 0) {
				t.Errorf("%T: pending referrer %s touched by a sweep: version %d -> %d, stage %q", st, id, c.Version, a.Version, a.Stage)
			}
		}
		if len(after) != len(before) {
			t.Errorf("%T: sweeps changed the number of customers %d -> %d", st, len(before), len(after))
		}
	}
}

// Within one RecordBatch or Import, hooks for a customer come in the order
// of its history, one per transition; progress is called after the chunk.
func TestContractReviewFaultHookOrderBatchImport(t *testing.T) {
	m := model.SterneCutler()
	evs := zqEvents(34, 10, 200)
	for _, useImport := range []bool{false, true} {
		mem := store.NewMemory()
		var mu sync.Mutex
		per := map[string][]lifecycle.Transition{}
		tr := lifecycle.NewTracker(m, mem, lifecycle.WithClock(zqClock), lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
			mu.Lock()
			per[ch.CustomerID] = append(per[ch.CustomerID], ch.Transition)
			mu.Unlock()
		}))
		if useImport {
			var progress []lifecycle.ImportResult
			res, err := tr.Import(context.Background(), zqSeq(evs), func(r lifecycle.ImportResult) { progress = append(progress, r) })
			if err != nil {
				t.Fatal(err)
			}
			if len(progress) != 1 || progress[0] != res {
				t.Errorf("Import progress %+v, result %+v", progress, res)
			}
		} else if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		for id, c := range zqAll(t, mem) {
			got := per[id]
			if len(got) != len(c.History) {
				t.Errorf("import=%v: %s: %d hook calls, %d transitions stored", useImport, id, len(got), len(c.History))
				continue
			}
			for i := range got {
				if zqKey(id, got[i]) != zqKey(id, c.History[i]) {
					t.Errorf("import=%v: %s: hook %d is %v, history has %v", useImport, id, i, got[i], c.History[i])
					break
				}
			}
		}
	}
}
