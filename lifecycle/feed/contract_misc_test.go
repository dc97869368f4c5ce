package feed_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
)

func rvGoID() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	s := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	s = s[:strings.IndexByte(s, ' ')]
	id, _ := strconv.ParseUint(s, 10, 64)
	return id
}

// "A Handler is called for one change at a time, from the goroutine running
// Dispatcher.Run".
func TestContractHandlerOnRunGoroutine(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	var runG atomic.Uint64
	var bad atomic.Int32
	var n atomic.Int32
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if rvGoID() != runG.Load() {
			bad.Add(1)
		}
		if n.Add(1) == 2 {
			return errRvRecv
		}
		return nil
	}
	d, _ := feed.New(env.st, env.st, "g", h, rvFast("A")...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		runG.Store(rvGoID())
		done <- d.Run(ctx)
	}()
	rvWait(t, 5*time.Second, "3 delivered", func() bool { return d.Stats().Delivered == 3 })
	cancel()
	<-done
	if b := bad.Load(); b != 0 {
		t.Errorf("%d of %d handler calls ran on a goroutine other than Run's", b, n.Load())
	}
}

// Lag grows while a receiver fails: PendingSince stays when the page was
// listed, not re-set at each retry.
func TestContractLagGrowsWhileFailing(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	clk := &rvFakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	t0 := clk.Now()
	var n atomic.Int32
	h := func(ctx context.Context, ch lifecycle.Change) error {
		n.Add(1)
		clk.Advance(time.Minute)
		return errRvRecv
	}
	d, _ := feed.New(env.st, env.st, "lag", h, feed.WithOwner("A"), feed.WithPoll(5*time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 10*time.Millisecond), feed.WithClock(clk.Now))
	run := rvStart(d)
	rvWait(t, 5*time.Second, "5 attempts", func() bool { return d.Stats().Attempts >= 5 })
	s := d.Stats()
	run.stop(t)
	if s.PendingSince.After(t0) {
		t.Errorf("PendingSince = %v, later than when the page was listed (%v): the lag restarts at each retry", s.PendingSince, t0)
	}
	if lag := s.Lag(clk.Now()); lag < 5*time.Minute {
		t.Errorf("Lag after 5 failed attempts a minute apart = %v, want ≥ 5m", lag)
	}
}

// Equal jitter corner cases, read under a frozen clock: min = max gives
// exactly min; max < 2·min gives waits in [min, max].
func TestContractBackoffCorners(t *testing.T) {
	for _, c := range []struct{ min, max time.Duration }{
		{100 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 150 * time.Millisecond},
	} {
		env := rvNewEnv(t)
		env.grow(t, "a", 1, 1)
		clk := &rvFakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
		var n atomic.Int32
		h := func(ctx context.Context, ch lifecycle.Change) error {
			if n.Add(1) <= 3 {
				return errRvRecv
			}
			return nil
		}
		d, _ := feed.New(env.st, env.st, "bc", h, feed.WithOwner("A"), feed.WithBackoff(c.min, c.max), feed.WithClock(clk.Now))
		run := rvStart(d)
		for i := 1; i <= 3; i++ {
			var s feed.Stats // the snapshot that showed the wait (read again, it may show the next attempt)
			rvWait(t, 5*time.Second, "waiting", func() bool { s = d.Stats(); return s.Attempts == i && !s.NextAttempt.IsZero() })
			w := s.NextAttempt.Sub(clk.Now())
			if w < c.min || w > c.max {
				t.Errorf("WithBackoff(%v, %v): wait %d = %v, want in [%v, %v]", c.min, c.max, i, w, c.min, c.max)
			}
		}
		run.stop(t)
	}
}

// Many failures in a row: min·2ⁿ must not overflow into a wait shorter
// than min (or an endless one).
func TestContractBackoffManyFailures(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	const fails = 80
	var last time.Time
	var short atomic.Int32
	var n atomic.Int32
	min := 500 * time.Microsecond
	h := func(ctx context.Context, ch lifecycle.Change) error {
		now := time.Now()
		if !last.IsZero() && now.Sub(last) < min {
			short.Add(1)
		}
		last = now
		if n.Add(1) <= fails {
			return errRvRecv
		}
		return nil
	}
	d, _ := feed.New(env.st, env.st, "many", h, feed.WithOwner("A"), feed.WithBackoff(min, 2*time.Millisecond))
	run := rvStart(d)
	rvWait(t, 20*time.Second, "delivered after 80 failures", func() bool { return d.Stats().Delivered == 1 })
	run.stop(t)
	if s := short.Load(); s != 0 {
		t.Errorf("%d waits shorter than min", s)
	}
}

// Lease taken (Info) and lost (Info) are logged.
func TestContractLeaseLostLogged(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	logs := &rvLogHandler{}
	var stolen atomic.Bool
	future := time.Now().Add(time.Hour)
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if stolen.CompareAndSwap(false, true) {
			env.st.ClaimCursor(context.Background(), "lg", "intruder", future, future.Add(time.Hour))
		}
		return nil
	}
	d, _ := feed.New(env.st, env.st, "lg", h, append(rvFast("A"), feed.WithLogger(slog.New(logs)))...)
	run := rvStart(d)
	rvWait(t, 5*time.Second, "loss", func() bool { return d.Stats().LeaseLosses >= 1 })
	time.Sleep(50 * time.Millisecond)
	run.stop(t)
	lv := logs.levels()
	if len(lv[slog.LevelInfo]) < 2 {
		t.Errorf("want Info logs for lease taken and lost, got %v", lv)
	}
}

// The default owner holds the host name and the process ID; Run(nil)'s
// error names the argument.
func TestContractDefaultOwnerAndNilCtxMessage(t *testing.T) {
	env := rvNewEnv(t)
	d, _ := feed.New(env.st, env.st, "o", rvNop)
	host, _ := os.Hostname()
	if !strings.Contains(d.Owner(), host) || !strings.Contains(d.Owner(), strconv.Itoa(os.Getpid())) {
		t.Errorf("default owner %q lacks host %q or pid %d", d.Owner(), host, os.Getpid())
	}
	//lint:ignore SA1012 testing the refusal
	var nilCtx context.Context
	err := d.Run(nilCtx)
	if !errors.Is(err, feed.ErrInvalid) || !strings.Contains(strings.ToLower(err.Error()), "ctx") && !strings.Contains(strings.ToLower(err.Error()), "context") {
		t.Errorf("Run(nil) = %v", err)
	}
}

// A handler error that merely wraps context.Canceled / DeadlineExceeded /
// ErrLeaseLost while Run's ctx is alive and the lease is held is a plain
// failure: counted and retried; Run goes on.
func TestContractCtxLookingErrorsArePlainFailures(t *testing.T) {
	for name, e := range map[string]error{
		"canceled":   context.Canceled,
		"deadline":   errors.Join(errors.New("POST: timeout"), context.DeadlineExceeded),
		"lease lost": feed.ErrLeaseLost,
	} {
		t.Run(name, func(t *testing.T) {
			env := rvNewEnv(t)
			env.grow(t, "a", 1, 2)
			all := env.all(t)
			var n atomic.Int32
			rec := &rvRec{}
			h := func(ctx context.Context, ch lifecycle.Change) error {
				rec.add("A", ch)
				if ch.Seq == 1 && n.Add(1) <= 2 {
					return e
				}
				return nil
			}
			d, _ := feed.New(env.st, env.st, "cl", h, rvFast("A")...)
			run := rvStart(d)
			var runErr error
			returned := false
			rvWait(t, 10*time.Second, "delivered or returned", func() bool {
				select {
				case runErr = <-run.done:
					returned = true
					return true
				default:
				}
				return rec.hasAll(all)
			})
			if returned {
				t.Fatalf("Run returned %v on a handler error %v", runErr, e)
			}
			run.stop(t)
			if s := d.Stats(); s.Failures != 2 {
				t.Errorf("Failures = %d, want 2 (the handler's errors while ctx alive)", s.Failures)
			}
		})
	}
}

// "returns ctx's error": with a cancel cause, Run's error is context.Canceled.
func TestContractRunReturnsCtxErrWithCause(t *testing.T) {
	env := rvNewEnv(t)
	d, _ := feed.New(env.st, env.st, "cc", rvNop, rvFast("A")...)
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	rvWait(t, 5*time.Second, "running", func() bool { return d.Stats().Holding })
	cause := errors.New("review: shutting down")
	cancel(cause)
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want ctx.Err() (context.Canceled)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := d.Run(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run with deadline = %v, want DeadlineExceeded", err)
	}
}

// While the holder waits after a failure, another owner takes the name (the
// holder's lease having run out by its clock), delivers and moves the cursor,
// and gives the name up; the holder's next renewal succeeds but finds the
// cursor moved: LeaseLosses counts it, and the holder goes on after the
// stored cursor, never delivering what the other owner delivered past its
// own in-flight change.
func TestContractRenewedAfterCursorMoved(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 4)
	all := env.all(t)
	var n atomic.Int32
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 2 && n.Add(1) == 1 {
			return errRvRecv
		}
		return nil
	}
	d, _ := feed.New(env.st, env.st, "mvd", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(1500*time.Millisecond, 1500*time.Millisecond), feed.WithLease(300*time.Millisecond))
	run := rvStart(d)
	defer run.stop(t)
	rvWait(t, 5*time.Second, "A waiting after failing change 2", func() bool { return d.Stats().Attempts == 1 })
	future := time.Now().Add(time.Hour)
	if _, held, err := env.st.ClaimCursor(context.Background(), "mvd", "other", future, future.Add(time.Minute)); err != nil || !held {
		t.Fatalf("other claim: %v %v", held, err)
	}
	now := time.Now()
	if err := env.st.AdvanceCursor(context.Background(), "mvd", "other", all[2].Pos, future, now); err != nil {
		t.Fatalf("other advance+give up: %v", err)
	}
	rvWait(t, 10*time.Second, "change 4 delivered", func() bool { return rec.has(all[3].ID()) })
	var seqs []uint64
	for _, ch := range rec.list() {
		seqs = append(seqs, ch.Seq)
	}
	t.Logf("A delivered seqs %v; LeaseLosses=%d", seqs, d.Stats().LeaseLosses)
	if rec.has(all[2].ID()) {
		t.Errorf("A delivered change 3, which the other owner had delivered (cursor moved past it): %v", seqs)
	}
	if d.Stats().LeaseLosses < 1 {
		t.Errorf("LeaseLosses = 0 after renewing a lease whose cursor another owner moved")
	}
}

// rvStrict refuses calls whose ctx is done (as a networked store would), and
// can make AdvanceCursor hang until its ctx is done.
type rvStrict struct {
	*rvFaulty
	hangAdvance atomic.Bool
}

func (s *rvStrict) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.hangAdvance.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.rvFaulty.AdvanceCursor(ctx, name, owner, c, now, until)
}

func (s *rvStrict) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	return s.rvFaulty.ClaimCursor(ctx, name, owner, now, until)
}

// On cancel, the give-up call has a time-out of its own: with a store that
// honours ctx, the cursor is stored and the lease given up.
func TestContractGiveUpUsesOwnContext(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	s := &rvStrict{rvFaulty: &rvFaulty{m: env.st}}
	rec := &rvRec{}
	d, _ := feed.New(s, s, "gu", rec.handler("A"), append(rvFast("A"), feed.WithLease(time.Hour))...)
	run := rvStart(d)
	rvWait(t, 5*time.Second, "all", func() bool { return rec.hasAll(all) })
	rvWait(t, 5*time.Second, "caught up", func() bool { return !d.Stats().CaughtUpAt.IsZero() })
	run.stop(t)
	now := time.Now()
	c, held, err := env.st.ClaimCursor(context.Background(), "gu", "other", now, now.Add(time.Minute))
	if err != nil || !held {
		t.Errorf("lease not given up on cancel with a ctx-honouring store: held=%v err=%v", held, err)
	}
	if c != all[2].Pos {
		t.Errorf("stored cursor %d, want %d", c, all[2].Pos)
	}
}

// A give-up call that hangs is bounded by its 5-second time-out.
func TestContractGiveUpTimeout(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	s := &rvStrict{rvFaulty: &rvFaulty{m: env.st}}
	rec := &rvRec{}
	d, _ := feed.New(s, s, "gt", rec.handler("A"), rvFast("A")...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	rvWait(t, 5*time.Second, "delivered", func() bool { return d.Stats().Delivered == 1 })
	s.hangAdvance.Store(true)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		el := time.Since(start)
		t.Logf("Run returned %v after %v", err, el)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(12 * time.Second):
		t.Fatal("Run did not return within 12s of cancel with a hanging give-up call")
	}
}

// A renewal refused while waiting after a failure: the holder stops (no
// retry while another owner holds the name) and claims again.
func TestContractLeaseLostDuringBackoff(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	all := env.all(t)
	var n atomic.Int32
	rec := &rvRec{}
	future := time.Now().Add(time.Hour)
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 1 && n.Add(1) == 1 {
			// The intruder takes the name as this attempt fails, before the
			// back-off after it starts: claimed once the test had seen the
			// wait, it could come after the wait's last renewal (200ms in),
			// and A would try the change again before any renewal was refused.
			if _, held, _ := env.st.ClaimCursor(context.Background(), "lb", "intruder", future, future.Add(time.Hour)); !held {
				t.Error("intruder")
			}
			return errRvRecv
		}
		return nil
	}
	d, _ := feed.New(env.st, env.st, "lb", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(300*time.Millisecond, 300*time.Millisecond), feed.WithLease(300*time.Millisecond))
	run := rvStart(d)
	defer run.stop(t)
	rvWait(t, 5*time.Second, "the failed attempt", func() bool { return n.Load() == 1 })
	time.Sleep(800 * time.Millisecond)
	rvWait(t, 5*time.Second, "the refused renewal", func() bool { s := d.Stats(); return s.LeaseLosses >= 1 && !s.Holding })
	if k := rec.n(); k != 1 {
		t.Errorf("%d deliveries while the intruder held the name, want 1", k)
	}
	s := d.Stats()
	if s.Holding || s.LeaseLosses < 1 {
		t.Errorf("Holding=%v LeaseLosses=%d after a refused renewal during the wait", s.Holding, s.LeaseLosses)
	}
	now := time.Now()
	if err := env.st.AdvanceCursor(context.Background(), "lb", "intruder", 0, now, now); err != nil {
		t.Fatal(err)
	}
	rvWait(t, 10*time.Second, "all", func() bool { return rec.hasAll(all) })
	rvCheckOrder(t, rec.list())
}
