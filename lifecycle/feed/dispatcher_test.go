package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// virtual returns a dispatcher whose waits are recorded and take no real
// time, on a fake clock; the handler is h.
func virtual(t *testing.T, st *fakeStore, h Handler, opts ...Option) (*Dispatcher, *recordingSleep) {
	t.Helper()
	clock := newFakeClock()
	rec := &recordingSleep{clock: clock}
	base := []Option{WithClock(clock.Now), WithRand(rand.New(rand.NewPCG(1, 2))), WithOwner("solo"),
		WithLease(time.Hour), WithPoll(time.Hour)}
	d, err := New(st, st, "hooks", h, append(base, opts...)...)
	require.NoError(t, err)
	d.sleep = rec.sleep
	return d, rec
}

func TestNewRefusesBadArguments(t *testing.T) {
	st := newFakeStore()
	h := func(context.Context, lifecycle.Change) error { return nil }
	var nilStore *fakeStore
	cases := []struct {
		name  string
		src   lifecycle.ChangeLister
		keep  lifecycle.CursorKeeper
		feed  string
		h     Handler
		opts  []Option
		field string
	}{
		{"nil src", nil, st, "n", h, nil, "src"},
		{"typed nil src", nilStore, st, "n", h, nil, "src"},
		{"nil cursors", st, nil, "n", h, nil, "cursors"},
		{"empty name", st, st, "", h, nil, "name"},
		{"blank name", st, st, "  ", h, nil, "name"},
		{"nil handler", st, st, "n", nil, nil, "handler"},
		{"empty owner", st, st, "n", h, []Option{WithOwner("")}, "WithOwner"},
		{"negative min", st, st, "n", h, []Option{WithBackoff(-time.Second, time.Second)}, "WithBackoff min -1s"},
		{"zero min", st, st, "n", h, []Option{WithBackoff(0, time.Second)}, "WithBackoff min 0s"},
		{"min > max", st, st, "n", h, []Option{WithBackoff(2*time.Second, time.Second)}, "WithBackoff max 1s"},
		{"zero lease", st, st, "n", h, []Option{WithLease(0)}, "WithLease 0s"},
		{"lease too short to hold", st, st, "n", h, []Option{WithLease(time.Microsecond)}, "WithLease 1µs"},
		{"negative poll", st, st, "n", h, []Option{WithPoll(-time.Millisecond)}, "WithPoll -1ms"},
		{"zero batch", st, st, "n", h, []Option{WithBatch(0)}, "WithBatch 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := New(c.src, c.keep, c.feed, c.h, c.opts...)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Nil(t, d)
			assert.Contains(t, err.Error(), c.field)
		})
	}

	d, err := New(st, st, "n", h, nil, WithLogger(nil), WithRand(nil), WithClock(nil))
	require.NoError(t, err, "nil options and nil values mean the defaults")
	assert.NotEmpty(t, d.Owner())
	assert.Equal(t, "n", d.Name())
	d2, err := New(st, st, "n", h)
	require.NoError(t, err)
	assert.NotEqual(t, d.Owner(), d2.Owner(), "default owners differ")
	assert.Equal(t, Stats{Name: "n", Owner: d.Owner()}, d.Stats())
}

func TestRunRefusesNilContextAndASecondRun(t *testing.T) {
	st := newFakeStore()
	d, err := New(st, st, "n", func(context.Context, lifecycle.Change) error { return nil },
		WithPoll(time.Millisecond))
	require.NoError(t, err)
	var nilCtx context.Context
	require.ErrorIs(t, d.Run(nilCtx), ErrInvalid)
	require.ErrorIs(t, d.Run(nilCtx), lifecycle.ErrNilContext)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, 5*time.Second, "Running", func() bool { return d.Stats().Running })
	require.ErrorIs(t, d.Run(context.Background()), ErrRunning)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.False(t, d.Stats().Running)
}

func TestDeliversEveryChangeOnceInOrder(t *testing.T) {
	st := newFakeStore()
	want := st.add(120)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []lifecycle.Change
	h := func(_ context.Context, ch lifecycle.Change) error {
		got = append(got, ch)
		if len(got) == 60 { // changes committed while the dispatcher runs
			want = append(want, st.add(30)...)
		}
		if len(got) == len(want) {
			cancel()
		}
		return nil
	}
	d, err := New(st, st, "hooks", h, WithBatch(7), WithPoll(time.Millisecond), WithOwner("a"),
		WithBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	require.ErrorIs(t, d.Run(ctx), context.Canceled)

	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i], got[i], "change %d", i)
	}
	last := want[len(want)-1].Pos
	l := st.lease("hooks")
	assert.Equal(t, last, l.pos, "the cursor is stored past the last change delivered")
	assert.False(t, l.until.After(time.Now()), "the lease was given up")
	s := d.Stats()
	assert.Equal(t, uint64(150), s.Delivered)
	assert.Zero(t, s.Failures)
	assert.Equal(t, last, s.Cursor)
	assert.False(t, s.Holding)
	assert.False(t, s.Running)
	assert.Equal(t, want[len(want)-1].ID(), s.LastDeliveredID)
	assert.False(t, s.LastDelivered.IsZero())

	// Another Run goes on from the stored cursor: nothing is delivered
	// again, the new changes are.
	more := st.add(3)
	got = got[:0]
	want = more
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	require.ErrorIs(t, d.Run(ctx), context.Canceled)
	assert.Equal(t, more, got)
}

// backoffBounds returns the range WithBackoff documents for the n-th wait.
func backoffBounds(lo, hi time.Duration, n int) (time.Duration, time.Duration) {
	c := float64(lo) * math.Pow(2, float64(n))
	if c >= float64(hi) {
		return max(lo, hi/2), hi
	}
	return max(lo, time.Duration(c/2)), time.Duration(c)
}

func TestFailingChangeIsRetriedWithGrowingWaits(t *testing.T) {
	run := func(t *testing.T) []time.Duration {
		st := newFakeStore()
		all := st.add(8)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var calls []lifecycle.Cursor
		var d *Dispatcher
		failures := 0
		h := func(_ context.Context, ch lifecycle.Change) error {
			calls = append(calls, ch.Pos)
			if ch.Pos == all[3].Pos && failures < 5 {
				failures++
				if failures == 3 {
					s := d.Stats()
					assert.Equal(t, all[3].ID(), s.Current)
					assert.Equal(t, 2, s.Attempts)
					assert.True(t, s.Holding)
					assert.Equal(t, all[2].Pos, s.Cursor)
					assert.Contains(t, s.LastError, "receiver down #2")
				}
				return fmt.Errorf("receiver down #%d", failures)
			}
			if ch.Pos == all[len(all)-1].Pos {
				cancel()
			}
			return nil
		}
		d, rec := virtual(t, st, h, WithBackoff(10*time.Millisecond, 80*time.Millisecond))
		require.ErrorIs(t, d.Run(ctx), context.Canceled)

		p := all[3].Pos
		wantCalls := []lifecycle.Cursor{all[0].Pos, all[1].Pos, all[2].Pos, p, p, p, p, p, p, all[4].Pos, all[5].Pos, all[6].Pos, all[7].Pos}
		require.Equal(t, wantCalls, calls, "the same change is retried, nothing after it is delivered meanwhile")
		waits := rec.recorded()
		require.Len(t, waits, 5)
		for i, w := range waits {
			lo, hi := backoffBounds(10*time.Millisecond, 80*time.Millisecond, i+1)
			assert.True(t, w >= lo && w <= hi, "wait %d = %s, want in [%s, %s]", i+1, w, lo, hi)
		}
		for i := 1; i < 3; i++ { // before the cap, each wait is at least the one before
			assert.GreaterOrEqual(t, waits[i], waits[i-1])
		}
		s := d.Stats()
		assert.Equal(t, uint64(5), s.Failures)
		assert.Equal(t, uint64(8), s.Delivered)
		assert.Zero(t, s.Attempts)
		assert.True(t, s.NextAttempt.IsZero())
		assert.Contains(t, s.LastError, "receiver down #5")
		return waits
	}
	first := run(t)
	assert.Equal(t, first, run(t), "the same seed gives the same waits")
	jittered := 0
	for i, w := range first {
		if _, hi := backoffBounds(10*time.Millisecond, 80*time.Millisecond, i+1); w != hi {
			jittered++
		}
	}
	assert.Greater(t, jittered, 2, "the waits are jittered: %v", first)
}

func TestBackoffStaysInBounds(t *testing.T) {
	st := newFakeStore()
	h := func(context.Context, lifecycle.Change) error { return nil }
	for _, b := range [][2]time.Duration{{time.Second, 5 * time.Minute}, {time.Second, time.Second}, {1, math.MaxInt64}, {3 * time.Millisecond, 7 * time.Millisecond}} {
		d, err := New(st, st, "n", h, WithBackoff(b[0], b[1]), WithRand(rand.New(rand.NewPCG(7, 7))))
		require.NoError(t, err)
		for n := 1; n < 200; n++ {
			w := d.backoff(n)
			lo, hi := backoffBounds(b[0], b[1], n)
			require.True(t, w >= lo && w <= hi && w <= b[1] && w >= b[0], "backoff(%s, %s) n=%d: %s not in [%s, %s]", b[0], b[1], n, w, lo, hi)
		}
	}

	// The jitter spreads the waits over the whole range [c/2, c].
	d, err := New(st, st, "n", h, WithRand(rand.New(rand.NewPCG(3, 4))))
	require.NoError(t, err)
	lo, hi := backoffBounds(time.Second, 5*time.Minute, 3) // [4s, 8s]
	least, most := hi, lo
	for range 1000 {
		w := d.backoff(3)
		least, most = min(least, w), max(most, w)
	}
	assert.Less(t, least, lo+(hi-lo)/20)
	assert.Greater(t, most, hi-(hi-lo)/20)
}

// waitRuns waits for n Runs to return on errs and checks that each
// returned context.Canceled; after timeout it cancels them all (cancel)
// and fails, so that a livelock fails the test instead of hanging it.
func waitRuns(t *testing.T, errs <-chan error, n int, timeout time.Duration, cancel ...context.CancelFunc) {
	t.Helper()
	deadline := time.After(timeout)
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			require.ErrorIs(t, err, context.Canceled)
		case <-deadline:
			for _, c := range cancel {
				c()
			}
			for ; i < n; i++ {
				<-errs
			}
			t.Fatalf("the dispatchers did not finish within %s", timeout)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	st := newFakeStore()
	all := st.add(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errBusy := errors.New("busy")
	calls := 0
	h := func(_ context.Context, ch lifecycle.Change) error {
		if ch.Pos == all[1].Pos {
			calls++
			switch calls {
			case 1:
				return fmt.Errorf("wrapped: %w", RetryAfter(3*time.Second, errBusy))
			case 2:
				return RetryAfter(time.Nanosecond, errBusy) // shorter than the back-off: the back-off wins
			}
		}
		if ch.Pos == all[2].Pos {
			cancel()
		}
		return nil
	}
	d, rec := virtual(t, st, h, WithBackoff(10*time.Millisecond, time.Second))
	require.ErrorIs(t, d.Run(ctx), context.Canceled)
	waits := rec.recorded()
	require.Len(t, waits, 2)
	assert.Equal(t, 3*time.Second, waits[0])
	lo, hi := backoffBounds(10*time.Millisecond, time.Second, 2)
	assert.True(t, waits[1] >= lo && waits[1] <= hi, "second wait %s", waits[1])
	assert.Contains(t, d.Stats().LastError, "busy (retry after 1ns)")
}

func TestStopLeavesTheCursorBeforeTheChange(t *testing.T) {
	st := newFakeStore()
	all := st.add(10)
	errGone := errors.New("receiver answered 410 Gone")
	var delivered []lifecycle.Cursor
	h := func(_ context.Context, ch lifecycle.Change) error {
		if ch.Pos == all[4].Pos {
			return fmt.Errorf("deliver: %w", Stop(errGone))
		}
		delivered = append(delivered, ch.Pos)
		return nil
	}
	logs := &syncBuffer{}
	d, rec := virtual(t, st, h, WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	err := d.Run(context.Background())
	require.ErrorIs(t, err, errGone)
	var stop *StopError
	require.ErrorAs(t, err, &stop)
	assert.Contains(t, err.Error(), all[4].ID())
	assert.Equal(t, []lifecycle.Cursor{all[0].Pos, all[1].Pos, all[2].Pos, all[3].Pos}, delivered)
	assert.Empty(t, rec.recorded(), "a stop is not retried")

	l := st.lease("hooks")
	assert.Equal(t, all[3].Pos, l.pos, "the cursor stays before the refused change")
	assert.False(t, l.until.After(d.cfg.now()), "the lease was given up")
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "feed: handler asked to stop")
	s := d.Stats()
	assert.Equal(t, uint64(1), s.Failures)
	assert.Contains(t, s.LastError, "410 Gone")

	// A later Run starts with the refused change.
	delivered = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d2, _ := virtual(t, st, func(_ context.Context, ch lifecycle.Change) error {
		delivered = append(delivered, ch.Pos)
		if ch.Pos == all[9].Pos {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, d2.Run(ctx), context.Canceled)
	assert.Equal(t, all[4].Pos, delivered[0])
	assert.Len(t, delivered, 6)
}

func TestStoreErrorsAreRetried(t *testing.T) {
	st := newFakeStore()
	all := st.add(4)
	st.failNextLists(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []lifecycle.Cursor
	h := func(_ context.Context, ch lifecycle.Change) error {
		got = append(got, ch.Pos)
		if len(got) == len(all) {
			cancel()
		}
		return nil
	}
	d, rec := virtual(t, st, h, WithBackoff(time.Millisecond, 4*time.Millisecond))
	require.ErrorIs(t, d.Run(ctx), context.Canceled)
	assert.Equal(t, []lifecycle.Cursor{all[0].Pos, all[1].Pos, all[2].Pos, all[3].Pos}, got)
	s := d.Stats()
	assert.Equal(t, uint64(3), s.StoreErrors)
	assert.Contains(t, s.LastError, "fake: feed unavailable")
	assert.Len(t, rec.recorded(), 3)
}

func TestLeaseTakenByAnotherOwnerStopsDelivery(t *testing.T) {
	st := newFakeStore()
	all := st.add(10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []lifecycle.Cursor
	stolen := false
	h := func(_ context.Context, ch lifecycle.Change) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ch.Pos)
		if ch.Pos == all[5].Pos && !stolen {
			stolen = true
			// Another owner takes the name while this change is in flight.
			st.setLease("hooks", fakeLease{pos: all[4].Pos, owner: "thief", until: time.Now().Add(time.Hour)})
		}
		if ch.Pos == all[9].Pos {
			cancel()
		}
		return nil
	}
	d, err := New(st, st, "hooks", h, WithOwner("a"), WithPoll(time.Millisecond), WithLease(time.Minute),
		WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	waitFor(t, 5*time.Second, "the lease loss", func() bool { s := d.Stats(); return s.LeaseLosses == 1 && !s.Holding })
	mu.Lock()
	assert.Equal(t, all[5].Pos, got[len(got)-1], "nothing is delivered while another owner holds the name")
	mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	assert.Len(t, got, 6, "nothing is delivered while another owner holds the name")
	mu.Unlock()
	st.setLease("hooks", fakeLease{pos: all[4].Pos, owner: "thief", until: time.Now().Add(-time.Second)}) // the thief's lease ran out

	require.ErrorIs(t, <-done, context.Canceled)
	want := []lifecycle.Cursor{}
	for i, ch := range all {
		want = append(want, ch.Pos)
		if i == 5 {
			want = append(want, ch.Pos) // delivered again: its cursor move was refused
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, uint64(1), d.Stats().LeaseLosses)
}

// turnTaker records deliveries from several dispatchers on one store.
type turnTaker struct {
	mu          sync.Mutex
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
	log         []delivery
	firsts      map[lifecycle.Cursor]bool
}

type delivery struct {
	owner string
	pos   lifecycle.Cursor
	at    time.Time
}

func (tt *turnTaker) handler(owner string, work time.Duration, after func(distinct int)) Handler {
	return func(ctx context.Context, ch lifecycle.Change) error {
		n := tt.inFlight.Add(1)
		defer tt.inFlight.Add(-1)
		for {
			m := tt.maxInFlight.Load()
			if n <= m || tt.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(work)
		tt.mu.Lock()
		tt.log = append(tt.log, delivery{owner, ch.Pos, time.Now()})
		if tt.firsts == nil {
			tt.firsts = map[lifecycle.Cursor]bool{}
		}
		tt.firsts[ch.Pos] = true
		distinct := len(tt.firsts)
		tt.mu.Unlock()
		if after != nil {
			after(distinct)
		}
		return nil
	}
}

// check asserts that every change was delivered, first deliveries in feed
// order, and returns the positions delivered more than once.
func (tt *turnTaker) check(t *testing.T, all []lifecycle.Change) (dups []lifecycle.Cursor) {
	t.Helper()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	seen := map[lifecycle.Cursor]int{}
	var firstOrder []lifecycle.Cursor
	for _, d := range tt.log {
		if seen[d.pos]++; seen[d.pos] == 1 {
			firstOrder = append(firstOrder, d.pos)
		} else {
			dups = append(dups, d.pos)
		}
	}
	want := make([]lifecycle.Cursor, len(all))
	for i, ch := range all {
		want[i] = ch.Pos
	}
	assert.Equal(t, want, firstOrder, "every change delivered, first deliveries in feed order")
	return dups
}

func TestTwoDispatchersTakeTurns(t *testing.T) {
	const ttl = time.Second
	st := newFakeStore()
	all := st.add(200)
	tt := &turnTaker{}
	ctxs := map[string]context.CancelFunc{}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelA()
	defer cancelB()
	ctxs["a"], ctxs["b"] = cancelA, cancelB
	var stopped atomic.Value // the owner cancelled mid-stream
	after := func(owner string) func(int) {
		return func(distinct int) {
			switch distinct {
			case 60:
				stopped.CompareAndSwap(nil, owner)
				ctxs[owner]()
			case len(all):
				cancelA()
				cancelB()
			}
		}
	}
	opts := []Option{WithPoll(2 * time.Millisecond), WithLease(ttl), WithBackoff(time.Millisecond, 5*time.Millisecond)}
	a, err := New(st, st, "hooks", tt.handler("a", 200*time.Microsecond, after("a")), append(opts, WithOwner("a"))...)
	require.NoError(t, err)
	b, err := New(st, st, "hooks", tt.handler("b", 200*time.Microsecond, after("b")), append(opts, WithOwner("b"))...)
	require.NoError(t, err)
	errs := make(chan error, 2)
	go func() { errs <- a.Run(ctxA) }()
	go func() { errs <- b.Run(ctxB) }()
	waitRuns(t, errs, 2, 30*time.Second, cancelA, cancelB)

	assert.Equal(t, int32(1), tt.maxInFlight.Load(), "one dispatcher delivers at a time")
	dups := tt.check(t, all)
	assert.LessOrEqual(t, len(dups), 1, "duplicates are bounded by what was in flight: %v", dups)
	first := stopped.Load().(string)
	var survivor *Dispatcher
	if first == "a" {
		survivor = b
	} else {
		survivor = a
	}
	tt.mu.Lock()
	last := tt.log[len(tt.log)-1]
	var gap time.Duration
	for i := 1; i < len(tt.log); i++ {
		if tt.log[i-1].owner == first && tt.log[i].owner != first {
			gap = tt.log[i].at.Sub(tt.log[i-1].at)
		}
	}
	tt.mu.Unlock()
	assert.Equal(t, survivor.Owner(), last.owner, "the other instance took over")
	assert.Less(t, gap, ttl/2, "a cancelled holder gives the lease up: the other does not wait for it to run out")
	assert.Equal(t, uint64(len(all)+len(dups)), a.Stats().Delivered+b.Stats().Delivered)
}

func TestCrashedHolderIsTakenOverWhenItsLeaseRunsOut(t *testing.T) {
	const ttl = 300 * time.Millisecond
	st := newFakeStore()
	all := st.add(60)
	tt := &turnTaker{}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelA()
	defer cancelB()
	var leaseAtCrash atomic.Value
	crashed := make(chan struct{})
	opts := []Option{WithPoll(2 * time.Millisecond), WithLease(ttl), WithBackoff(time.Millisecond, 5*time.Millisecond)}

	recordA := tt.handler("a", 0, nil)
	ha := func(ctx context.Context, ch lifecycle.Change) error {
		if err := recordA(ctx, ch); err != nil {
			return err
		}
		if ch.Pos == all[30].Pos {
			// The process freezes for good after sending this change: its
			// store calls fail from now on and the handler never returns.
			st.kill("a")
			leaseAtCrash.Store(st.lease("hooks"))
			close(crashed)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	a, err := New(st, st, "hooks", ha, append(opts, WithOwner("a"))...)
	require.NoError(t, err)
	b, err := New(st, st, "hooks", tt.handler("b", 0, func(distinct int) {
		if distinct == len(all) {
			cancelB()
		}
	}), append(opts, WithOwner("b"))...)
	require.NoError(t, err)

	errs := make(chan error, 2)
	go func() { errs <- a.Run(ctxA) }()
	waitFor(t, 5*time.Second, "a to deliver", func() bool { return a.Stats().Delivered >= 5 })
	go func() { errs <- b.Run(ctxB) }()
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		cancelA()
		cancelB()
		t.Fatal("a never reached the change it crashes on")
	}
	waitRuns(t, errs, 1, 30*time.Second, cancelA, cancelB) // b, once every change is delivered
	cancelA()
	waitRuns(t, errs, 1, 30*time.Second)

	dups := tt.check(t, all)
	assert.Equal(t, []lifecycle.Cursor{all[30].Pos}, dups, "only the change in flight is delivered twice")
	lease := leaseAtCrash.Load().(fakeLease)
	assert.Equal(t, "a", lease.owner)
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for _, d := range tt.log {
		if d.owner == "b" {
			assert.False(t, d.at.Before(lease.until), "b delivered at %s, before a's lease ran out at %s", d.at, lease.until)
			break
		}
	}
	assert.Equal(t, uint64(30), a.Stats().Delivered, "a's handler never returned for the change in flight")
}

func TestLeaseIsRenewedWhileASlowHandlerRuns(t *testing.T) {
	// The margin (a renewal every ttl/3, so 2/3 of a lease to spare) is
	// wide, so that a loaded machine does not starve the renewals.
	const ttl = time.Second
	st := newFakeStore()
	all := st.add(5)
	tt := &turnTaker{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := []Option{WithPoll(2 * time.Millisecond), WithLease(ttl), WithBackoff(time.Millisecond, 5*time.Millisecond)}
	record := tt.handler("a", 0, func(distinct int) {
		if distinct == len(all) {
			cancel()
		}
	})
	slow := func(ctx context.Context, ch lifecycle.Change) error {
		if ch.Pos == all[1].Pos {
			time.Sleep(ttl * 9 / 4) // longer than two leases
		}
		return record(ctx, ch)
	}
	a, err := New(st, st, "hooks", slow, append(opts, WithOwner("a"))...)
	require.NoError(t, err)
	b, err := New(st, st, "hooks", slow, append(opts, WithOwner("b"))...)
	require.NoError(t, err)
	errs := make(chan error, 2)
	go func() { errs <- a.Run(ctx) }()
	waitFor(t, 5*time.Second, "a to hold the lease", func() bool { return a.Stats().Holding })
	go func() { errs <- b.Run(ctx) }()
	waitRuns(t, errs, 2, 30*time.Second, cancel)
	assert.Equal(t, int32(1), tt.maxInFlight.Load())
	assert.Empty(t, tt.check(t, all), "no duplicates: the holder kept its lease")
	assert.Zero(t, b.Stats().Delivered)
	assert.Zero(t, a.Stats().LeaseLosses)
}

func TestCancelReturnsPromptly(t *testing.T) {
	cases := []struct {
		name  string
		setup func(st *fakeStore)
		h     Handler
		opts  []Option
		ready func(d *Dispatcher, st *fakeStore) bool
		// released: Run held the lease, and gives it up
		released bool
	}{
		{
			name:     "handler in flight",
			setup:    func(st *fakeStore) { st.add(3) },
			h:        func(ctx context.Context, _ lifecycle.Change) error { <-ctx.Done(); return ctx.Err() },
			ready:    func(d *Dispatcher, _ *fakeStore) bool { return d.Stats().Current != "" },
			released: true,
		},
		{
			name:     "waiting after a failure",
			setup:    func(st *fakeStore) { st.add(3) },
			h:        func(context.Context, lifecycle.Change) error { return errors.New("down") },
			opts:     []Option{WithBackoff(time.Hour, time.Hour)},
			ready:    func(d *Dispatcher, _ *fakeStore) bool { return !d.Stats().NextAttempt.IsZero() },
			released: true,
		},
		{
			name:     "empty feed",
			setup:    func(*fakeStore) {},
			h:        func(context.Context, lifecycle.Change) error { return nil },
			opts:     []Option{WithPoll(time.Hour)},
			ready:    func(d *Dispatcher, _ *fakeStore) bool { return !d.Stats().CaughtUpAt.IsZero() },
			released: true,
		},
		{
			name: "another owner holds the name",
			setup: func(st *fakeStore) {
				st.add(3)
				st.setLease("hooks", fakeLease{owner: "other", until: time.Now().Add(time.Hour)})
			},
			h:    func(context.Context, lifecycle.Change) error { return nil },
			opts: []Option{WithPoll(time.Hour)},
			ready: func(d *Dispatcher, st *fakeStore) bool {
				st.mu.Lock()
				defer st.mu.Unlock()
				return st.claims > 0
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newFakeStore()
			c.setup(st)
			d, err := New(st, st, "hooks", c.h, append([]Option{WithOwner("a")}, c.opts...)...)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			waitFor(t, 5*time.Second, "the state to test", func() bool { return c.ready(d, st) })
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				require.ErrorIs(t, err, context.Canceled)
			case <-time.After(2 * time.Second):
				t.Fatal("Run did not return within 2s of the cancel")
			}
			assert.Less(t, time.Since(start), time.Second)
			l := st.lease("hooks")
			if c.released {
				assert.Equal(t, "a", l.owner)
				assert.False(t, l.until.After(time.Now()), "the lease was given up")
				assert.Zero(t, l.pos, "nothing was delivered, the cursor did not move")
			} else {
				assert.Equal(t, "other", l.owner, "the other owner's lease is untouched")
			}
			assert.Zero(t, d.Stats().Delivered)
		})
	}
}

func TestErrors(t *testing.T) {
	inner := errors.New("inner")
	ra := RetryAfter(-time.Second, inner)
	var rae *RetryAfterError
	require.ErrorAs(t, ra, &rae)
	assert.Zero(t, rae.Delay, "a negative delay counts as 0")
	assert.ErrorIs(t, ra, inner)
	assert.Equal(t, "inner (retry after 0s)", ra.Error())
	assert.Equal(t, "feed: retry requested (retry after 2s)", RetryAfter(2*time.Second, nil).Error())

	st := Stop(inner)
	assert.ErrorIs(t, st, inner)
	assert.Equal(t, "feed: stop: inner", st.Error())
	assert.Equal(t, "feed: stop", Stop(nil).Error())
	assert.Nil(t, errors.Unwrap(Stop(nil)))

	var s Stats
	now := time.Now()
	assert.Zero(t, s.Lag(now))
	s.PendingSince = now.Add(-3 * time.Second)
	assert.Equal(t, 3*time.Second, s.Lag(now))
	assert.Zero(t, s.Lag(now.Add(-time.Hour)), "a clock behind PendingSince gives 0, not a negative lag")
}

func TestLogsNameTheDispatcher(t *testing.T) {
	st := newFakeStore()
	st.add(1)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	d, _ := virtual(t, st, func(context.Context, lifecycle.Change) error {
		if calls++; calls == 1 {
			return errors.New("refused")
		}
		cancel()
		return nil
	}, WithLogger(slog.New(slog.NewTextHandler(logs, nil))), WithBackoff(time.Millisecond, time.Millisecond))
	require.ErrorIs(t, d.Run(ctx), context.Canceled)
	out := logs.String()
	assert.Contains(t, out, `msg="feed: lease taken" name=hooks owner=solo`)
	assert.Contains(t, out, `level=WARN msg="feed: delivery failed" name=hooks`)
	assert.True(t, strings.Contains(out, "attempt=1") && strings.Contains(out, "err=refused"), out)
}

// panicky is an error whose Error method panics.
type panicky struct{ p *int }

func (e panicky) Error() string { return strconv.Itoa(*e.p) }

// TestHandlerErrorsThatPanic: a handler that panics, an error whose Error
// method panics, and nil *RetryAfterError and *StopError values are plain
// failures, retried (the last three crashed Run).
func TestHandlerErrorsThatPanic(t *testing.T) {
	for name, first := range map[string]func() error{
		"handler panics": func() error {
			var m map[string]int
			m["boom"]++ // panics: assignment to a nil map
			return nil
		},
		"Error panics":         func() error { return panicky{} },
		"nil *RetryAfterError": func() error { return (*RetryAfterError)(nil) },
		"nil *StopError":       func() error { return (*StopError)(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			st := newFakeStore()
			all := st.add(2)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			h := func(_ context.Context, ch lifecycle.Change) error {
				calls++
				if calls == 1 {
					return first()
				}
				if ch.Pos == all[1].Pos {
					cancel()
				}
				return nil
			}
			d, _ := virtual(t, st, h, WithBackoff(time.Millisecond, time.Millisecond))
			require.ErrorIs(t, d.Run(ctx), context.Canceled)
			assert.Equal(t, 3, calls)
			s := d.Stats()
			assert.Equal(t, uint64(1), s.Failures)
			assert.Equal(t, uint64(2), s.Delivered)
			if name == "handler panics" {
				assert.Contains(t, s.LastError, "handler panicked")
			}
		})
	}
}

func TestLeaseLostWhileHandlerRunsCancelsItsContext(t *testing.T) {
	// A renewal while the handler runs finds another owner: the handler's
	// context is cancelled with cause ErrLeaseLost, its error is not a
	// failure, and nothing more is delivered until the name is free.
	const ttl = 300 * time.Millisecond
	st := newFakeStore()
	all := st.add(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	causes := make(chan error, 4)
	h := func(hctx context.Context, ch lifecycle.Change) error {
		if ch.Pos != all[1].Pos {
			return nil
		}
		// Another owner takes the name while this change is in flight;
		// the handler waits for its context.
		st.setLease("hooks", fakeLease{pos: all[0].Pos, owner: "thief", until: time.Now().Add(time.Hour)})
		select {
		case <-hctx.Done():
			causes <- context.Cause(hctx)
			return hctx.Err()
		case <-time.After(10 * ttl):
			causes <- nil
			return errors.New("not cancelled")
		}
	}
	d, err := New(st, st, "hooks", h, WithOwner("a"), WithPoll(time.Millisecond), WithLease(ttl),
		WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	select {
	case cause := <-causes:
		require.ErrorIs(t, cause, ErrLeaseLost, "the handler's context is cancelled when the lease is lost")
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was never cancelled")
	}
	waitFor(t, 5*time.Second, "the lease loss", func() bool { s := d.Stats(); return s.LeaseLosses == 1 && !s.Holding })
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	s := d.Stats()
	assert.Equal(t, uint64(1), s.Delivered, "only the change before the loss")
	assert.Zero(t, s.Failures, "a handler cancelled for a lost lease did not fail")
	assert.Empty(t, s.LastError)
}

// TestLeaseKeptWhileRetryingQuickly: a handler that fails at once, retried
// after back-offs shorter than a third of the lease, keeps the lease
// renewed: it never lapses while the holder retries, and the change is
// delivered once, without a lease loss (found by an audit: only waits
// longer than a third of the lease renewed it, so it ran out and a
// second instance delivered the same change).
func TestLeaseKeptWhileRetryingQuickly(t *testing.T) {
	st := newFakeStore()
	all := st.add(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var clock *fakeClock
	attempts := 0
	h := func(_ context.Context, ch lifecycle.Change) error {
		attempts++
		if l := st.lease("hooks"); l.owner != "solo" || !l.until.After(clock.Now()) {
			t.Errorf("attempt %d: the lease lapsed (owner %q, until %s, now %s)", attempts, l.owner, l.until, clock.Now())
		}
		if attempts < 40 {
			return errors.New("receiver down")
		}
		cancel()
		return nil
	}
	d, rec := virtual(t, st, h, WithLease(300*time.Millisecond), WithBackoff(20*time.Millisecond, 50*time.Millisecond))
	clock = rec.clock
	require.ErrorIs(t, d.Run(ctx), context.Canceled)
	s := d.Stats()
	assert.Equal(t, uint64(1), s.Delivered)
	assert.Zero(t, s.LeaseLosses)
	assert.Equal(t, all[0].Pos, st.lease("hooks").pos)
	var waited time.Duration
	for _, w := range rec.recorded() {
		waited += w
	}
	assert.Greater(t, waited, time.Second, "the retries outlast the lease several times over")
}
