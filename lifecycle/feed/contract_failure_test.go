package feed_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
)

var errRvRecv = errors.New("review: receiver unavailable")

// A failed change is tried again, only it, and the cursor stays before it.
func TestContractFailureRedeliversAndHoldsCursor(t *testing.T) {
	for _, batch := range []int{1, 100} {
		t.Run(fmt.Sprint("batch", batch), func(t *testing.T) {
			env := rvNewEnv(t)
			env.grow(t, "a", 1, 3)
			env.grow(t, "b", 1, 3)
			all := env.all(t)
			target := all[2]
			var fails atomic.Int32
			rec := &rvRec{}
			var d *feed.Dispatcher
			var bad atomic.Value
			h := func(ctx context.Context, ch lifecycle.Change) error {
				rec.add("A", ch)
				if ch.Pos == target.Pos && fails.Load() < 4 {
					fails.Add(1)
					// the stored cursor must be before the failing change
					if c := env.storedCursor(t, "fail"); c >= target.Pos {
						bad.Store(fmt.Sprintf("stored cursor %d at or past failing change %d", c, target.Pos))
					}
					if c := d.Stats().Cursor; c >= target.Pos {
						bad.Store(fmt.Sprintf("Stats.Cursor %d at or past failing change %d", c, target.Pos))
					}
					return errRvRecv
				}
				return nil
			}
			var err error
			d, err = feed.New(env.st, env.st, "fail", h, append(rvFast("A"), feed.WithBatch(batch))...)
			if err != nil {
				t.Fatal(err)
			}
			run := rvStart(d)
			rvWait(t, 10*time.Second, "all delivered", func() bool { return rec.hasAll(all) })
			time.Sleep(30 * time.Millisecond)
			run.stop(t)
			if v := bad.Load(); v != nil {
				t.Error(v)
			}
			var pos []lifecycle.Cursor
			for _, ch := range rec.list() {
				pos = append(pos, ch.Pos)
			}
			wantPos := []lifecycle.Cursor{all[0].Pos, all[1].Pos, target.Pos, target.Pos, target.Pos, target.Pos, target.Pos, all[3].Pos, all[4].Pos, all[5].Pos}
			if !slices.Equal(pos, wantPos) {
				t.Errorf("delivery positions %v, want %v", pos, wantPos)
			}
			s := d.Stats()
			if s.Failures != 4 || s.Delivered != 6 {
				t.Errorf("Stats Failures=%d Delivered=%d, want 4 and 6", s.Failures, s.Delivered)
			}
			if !strings.Contains(s.LastError, errRvRecv.Error()) {
				t.Errorf("Stats.LastError = %q, want it to hold the handler's error", s.LastError)
			}
		})
	}
}

// A panic in a Handler is recovered and counts as a failed attempt.
func TestContractPanicIsAFailedAttempt(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	var n atomic.Int32
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 2 {
			switch n.Add(1) {
			case 1:
				panic("boom")
			case 2:
				panic(errRvRecv)
			case 3:
				panic(nil)
			}
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "panic", h, rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "all delivered", func() bool { return rec.hasAll(all) })
	if err := run.stop(t); err != context.Canceled {
		t.Errorf("Run = %v", err)
	}
	var seqs []uint64
	for _, ch := range rec.list() {
		seqs = append(seqs, ch.Seq)
	}
	if !slices.Equal(seqs, []uint64{1, 2, 2, 2, 2, 3}) {
		t.Errorf("seqs %v, want [1 2 2 2 2 3]", seqs)
	}
	if s := d.Stats(); s.Failures != 3 || s.Delivered != 3 {
		t.Errorf("Failures=%d Delivered=%d, want 3, 3", s.Failures, s.Delivered)
	}
}

type rvPanicky struct{}

func (rvPanicky) Error() string { panic("Error panics") }

// docs/feed.md: "A handler's error whose Error method panics, and a nil
// *feed.RetryAfterError or *feed.StopError, count as a plain failure, retried."
func TestContractOddErrorsArePlainFailures(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	all := env.all(t)
	var n atomic.Int32
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 1 {
			switch n.Add(1) {
			case 1:
				return (*feed.StopError)(nil)
			case 2:
				return (*feed.RetryAfterError)(nil)
			case 3:
				return rvPanicky{}
			case 4:
				return fmt.Errorf("wrapped: %w", (*feed.StopError)(nil))
			}
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "odd", h, rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	var runErr error
	returned := false
	rvWait(t, 10*time.Second, "all delivered or Run returned", func() bool {
		select {
		case runErr = <-run.done:
			returned = true
			return true
		default:
		}
		return rec.hasAll(all)
	})
	if returned {
		t.Fatalf("Run returned %v before delivering everything (deliveries: %d)", runErr, rec.n())
	}
	run.stop(t)
	if s := d.Stats(); s.Failures != 4 {
		t.Errorf("Failures = %d, want 4", s.Failures)
	}
}

// Stop: Run returns an error wrapping it, cursor left before the change,
// lease given up, a later Run starts with that change.
func TestContractStop(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 4)
	all := env.all(t)
	errGone := errors.New("review: gone")
	var stopped atomic.Bool
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 3 && !stopped.Load() {
			stopped.Store(true)
			return fmt.Errorf("handler: %w", feed.Stop(errGone))
		}
		return nil
	}
	logs := &rvLogHandler{}
	d, err := feed.New(env.st, env.st, "stop", h, append(rvFast("A"), feed.WithLease(time.Minute), feed.WithLogger(slog.New(logs)))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = d.Run(ctx)
	if !errors.Is(err, errGone) {
		t.Errorf("Run = %v, want it to wrap the handler's error", err)
	}
	var se *feed.StopError
	if !errors.As(err, &se) {
		t.Errorf("Run = %v, errors.As does not find *StopError", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run did not stop")
	}
	s := d.Stats()
	if s.Holding || s.Running {
		t.Errorf("after Stop: Holding=%v Running=%v", s.Holding, s.Running)
	}
	// lease given up: another owner gets it at once.
	now := time.Now()
	c, held, err := env.st.ClaimCursor(context.Background(), "stop", "other", now, now.Add(time.Minute))
	if err != nil || !held {
		t.Errorf("another owner could not claim after Stop: held=%v err=%v", held, err)
	}
	if c != all[1].Pos {
		t.Errorf("stored cursor after Stop = %d, want %d (just before the refused change)", c, all[1].Pos)
	}
	// give it back
	if err := env.st.AdvanceCursor(context.Background(), "stop", "other", c, now, now); err != nil {
		t.Fatal(err)
	}
	if lv := logs.levels(); len(lv[slog.LevelError]) == 0 {
		t.Errorf("no Error-level log for a Stop; logs: %v", lv)
	}
	n := rec.n()
	run := rvStart(d)
	rvWait(t, 10*time.Second, "rest delivered", func() bool { return rec.n() >= n+2 })
	run.stop(t)
	got := rec.list()
	if got[n].Seq != 3 {
		t.Errorf("later Run started with seq %d, want 3 (the refused change)", got[n].Seq)
	}
}

// Stop wins over RetryAfter when an error holds both.
func TestContractStopWinsOverRetryAfter(t *testing.T) {
	errGone := errors.New("review: gone")
	for name, mk := range map[string]func() error{
		"RetryAfter(Stop)": func() error { return feed.RetryAfter(time.Hour, feed.Stop(errGone)) },
		"Stop(RetryAfter)": func() error { return feed.Stop(feed.RetryAfter(time.Hour, errGone)) },
	} {
		t.Run(name, func(t *testing.T) {
			env := rvNewEnv(t)
			env.grow(t, "a", 1, 1)
			h := func(ctx context.Context, ch lifecycle.Change) error { return mk() }
			d, err := feed.New(env.st, env.st, "stopra", h, rvFast("A")...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = d.Run(ctx)
			if !errors.Is(err, errGone) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Run = %v, want a stop wrapping the error", err)
			}
		})
	}
}

// RetryAfter: the next attempt waits at least d.
func TestContractRetryAfterHonoured(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	all := env.all(t)
	var mu sync.Mutex
	var times []time.Time
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 1 {
			mu.Lock()
			defer mu.Unlock()
			times = append(times, time.Now())
			if len(times) < 3 {
				return feed.RetryAfter(300*time.Millisecond, errRvRecv)
			}
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "ra", h, append(rvFast("A"), feed.WithBackoff(time.Millisecond, 2*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "all", func() bool { return rec.hasAll(all) })
	run.stop(t)
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 300*time.Millisecond {
			t.Errorf("attempt %d came %v after the previous, RetryAfter asked 300ms", i+1, gap)
		}
	}
}

func TestContractErrorValues(t *testing.T) {
	var ra *feed.RetryAfterError
	if !errors.As(fmt.Errorf("x: %w", feed.RetryAfter(-time.Second, errRvRecv)), &ra) {
		t.Fatal("errors.As does not find *RetryAfterError")
	}
	if ra.Delay != 0 {
		t.Errorf("RetryAfter(-1s).Delay = %v, want 0", ra.Delay)
	}
	if !errors.Is(ra, errRvRecv) {
		t.Errorf("RetryAfterError does not unwrap to err")
	}
	if msg := ra.Error(); !strings.HasPrefix(msg, errRvRecv.Error()) {
		t.Errorf("RetryAfterError.Error() = %q, want Err's message first", msg)
	}
	msg := feed.RetryAfter(2*time.Second, nil).Error()
	if !strings.HasPrefix(msg, "feed: retry requested") || !strings.Contains(msg, "2s") {
		t.Errorf("RetryAfter(2s, nil).Error() = %q", msg)
	}
	if msg := feed.Stop(errRvRecv).Error(); !strings.HasPrefix(msg, "feed: stop") || !strings.Contains(msg, errRvRecv.Error()) {
		t.Errorf("Stop(err).Error() = %q", msg)
	}
	if msg := feed.Stop(nil).Error(); !strings.HasPrefix(msg, "feed: stop") {
		t.Errorf("Stop(nil).Error() = %q", msg)
	}
	if !errors.Is(feed.Stop(errRvRecv), errRvRecv) {
		t.Errorf("Stop does not unwrap")
	}
	if (feed.Stats{}).Lag(time.Now()) != 0 {
		t.Errorf("Lag of empty stats is not 0")
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if l := (feed.Stats{PendingSince: t0}).Lag(t0.Add(5 * time.Second)); l != 5*time.Second {
		t.Errorf("Lag = %v, want 5s", l)
	}
}

// Back-off waits, read from Stats.NextAttempt under a frozen injected clock:
// after the n-th failure, a wait in [c/2, c], c = min(max, min·2ⁿ), ≥ min.
func TestContractBackoffBoundsViaClock(t *testing.T) {
	min, max := 60*time.Millisecond, 250*time.Millisecond
	waits := func(seed uint64) []time.Duration {
		env := rvNewEnv(t)
		env.grow(t, "a", 1, 1)
		clk := &rvFakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
		var n atomic.Int32
		h := func(ctx context.Context, ch lifecycle.Change) error {
			if n.Add(1) <= 6 {
				return errRvRecv
			}
			return nil
		}
		d, err := feed.New(env.st, env.st, "bo", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
			feed.WithBackoff(min, max), feed.WithClock(clk.Now), feed.WithRand(rand.New(rand.NewPCG(seed, seed))))
		if err != nil {
			t.Fatal(err)
		}
		run := rvStart(d)
		var out []time.Duration
		for i := 1; i <= 6; i++ {
			// Keep the snapshot that showed the wait: read again, Stats
			// may show the next attempt (NextAttempt zero) already.
			var s feed.Stats
			rvWait(t, 10*time.Second, fmt.Sprintf("attempt %d waiting", i), func() bool {
				s = d.Stats()
				return s.Attempts == i && !s.NextAttempt.IsZero()
			})
			out = append(out, s.NextAttempt.Sub(clk.Now()))
		}
		run.stop(t)
		return out
	}
	w1 := waits(42)
	for i, w := range w1 {
		n := i + 1
		c := min << n
		if c > max {
			c = max
		}
		lo := c / 2
		if lo < min {
			lo = min
		}
		if w < lo || w > c {
			t.Errorf("wait after failure %d = %v, want in [%v, %v]", n, w, lo, c)
		}
		if n > 1 && c < max && w < w1[i-1] {
			t.Errorf("wait %d (%v) shorter than the one before (%v) before the cap", n, w, w1[i-1])
		}
	}
	w2 := waits(42)
	if !slices.Equal(w1, w2) {
		t.Logf("note: same seed gave different waits: %v vs %v", w1, w2)
	}
	t.Logf("waits: %v", w1)
}

// Store errors are retried; Run does not return because of them.
func TestContractStoreErrorsRetried(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 4)
	all := env.all(t)
	f := &rvFaulty{m: env.st}
	f.failClaims.Store(2)
	f.failChanges.Store(2)
	f.failAdvances.Store(2)
	rec := &rvRec{}
	d, err := feed.New(f, f, "se", rec.handler("A"), rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "all", func() bool { return rec.hasAll(all) })
	select {
	case err := <-run.done:
		t.Fatalf("Run returned %v", err)
	default:
	}
	rvWait(t, 5*time.Second, "cursor at end", func() bool { return d.Stats().Cursor == all[len(all)-1].Pos })
	run.stop(t)
	rvCheckOrder(t, rec.list())
	if s := d.Stats(); s.StoreErrors < 6 {
		t.Errorf("StoreErrors = %d, want at least 6", s.StoreErrors)
	}
}

// Logs: failed attempts at Warn.
func TestContractLogsFailuresAtWarn(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	var n atomic.Int32
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if n.Add(1) == 1 {
			return errRvRecv
		}
		return nil
	}
	logs := &rvLogHandler{}
	d, err := feed.New(env.st, env.st, "log", h, append(rvFast("A"), feed.WithLogger(slog.New(logs)))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "delivered", func() bool { return d.Stats().Delivered == 1 })
	run.stop(t)
	lv := logs.levels()
	if len(lv[slog.LevelWarn]) == 0 {
		t.Errorf("no Warn log for a failed attempt: %v", lv)
	}
	if len(lv[slog.LevelInfo]) == 0 {
		t.Errorf("no Info log for the lease taken: %v", lv)
	}
}

// TestContractNextAttemptZeroWhileAttempting: Stats.NextAttempt is set
// while the dispatcher waits after a failure, and zero again once the
// next attempt is under way ("zero otherwise").
func TestContractNextAttemptZeroWhileAttempting(t *testing.T) {
	env := rvNewEnv(t)
	env.step(t, "na", 1)
	calls := atomic.Int32{}
	release := make(chan struct{})
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if calls.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		select { // the second blocks until the test has looked
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "na", h, rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	defer run.stop(t)
	rvWait(t, 10*time.Second, "second attempt", func() bool { return calls.Load() >= 2 })
	if s := d.Stats(); !s.NextAttempt.IsZero() || s.Attempts != 1 {
		t.Errorf("while the second attempt runs: NextAttempt %v, Attempts %d; want zero, 1", s.NextAttempt, s.Attempts)
	}
	close(release)
	rvWait(t, 10*time.Second, "delivered", func() bool { return d.Stats().Delivered >= 1 })
}
