package feed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/store"
)

// "A change the handler accepts moves the cursor past it": when the handler
// is given change k, the stored cursor is exactly past change k-1.
func TestContractCursorMovesAfterEachChange(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 4)
	env.grow(t, "b", 1, 2)
	all := env.all(t)
	var bad atomic.Value
	rec := &rvRec{}
	idx := map[lifecycle.Cursor]int{}
	for i, ch := range all {
		idx[ch.Pos] = i
	}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		want := lifecycle.Cursor(0)
		if i := idx[ch.Pos]; i > 0 {
			want = all[i-1].Pos
		}
		if c := env.storedCursor(t, "mv"); c != want {
			bad.Store(fmt.Sprintf("handler given pos %d: stored cursor %d, want %d", ch.Pos, c, want))
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "mv", h, rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "all", func() bool { return rec.hasAll(all) })
	run.stop(t)
	if v := bad.Load(); v != nil {
		t.Error(v)
	}
}

// A handler that accepts the change (returns nil) just as Run's ctx ends:
// the change was delivered, so the cursor stored on the way out is past it.
func TestContractAcceptedAtCancelIsStored(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	var blocked atomic.Bool
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 2 {
			blocked.Store(true)
			<-ctx.Done()
			return nil // accepted anyway (say the receiver answered 2xx)
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "acc", h, append(rvFast("A"), feed.WithLease(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 5*time.Second, "blocked", blocked.Load)
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	s := d.Stats()
	c := env.storedCursor(t, "acc")
	t.Logf("after cancel: Delivered=%d Stats.Cursor=%d stored=%d (change 2 at %d)", s.Delivered, s.Cursor, c, all[1].Pos)
	if s.Delivered == 2 && c != all[1].Pos {
		t.Errorf("Delivered counts change 2 as accepted, but the stored cursor is %d, not past it (%d)", c, all[1].Pos)
	}
}

// When the dispatcher claims the name again, it lists after the stored
// cursor (which another owner may have moved), not after its own.
func TestContractReclaimUsesStoredCursor(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 4)
	all := env.all(t)
	started := make(chan struct{})
	var first atomic.Bool
	rec := &rvRec{}
	future := time.Now().Add(time.Hour)
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 2 && first.CompareAndSwap(false, true) {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "rc", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	defer run.stop(t)
	<-started
	if _, held, err := env.st.ClaimCursor(context.Background(), "rc", "intruder", future, future.Add(time.Hour)); err != nil || !held {
		t.Fatalf("intruder: %v %v", held, err)
	}
	// the intruder delivers changes 2 and 3 and moves the cursor past 3, then gives up
	if err := env.st.AdvanceCursor(context.Background(), "rc", "intruder", all[2].Pos, future, future.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rvWait(t, 5*time.Second, "A sees the loss", func() bool { return d.Stats().LeaseLosses >= 1 })
	now := time.Now()
	if err := env.st.AdvanceCursor(context.Background(), "rc", "intruder", all[2].Pos, now, now); err != nil {
		t.Fatal(err)
	}
	rvWait(t, 5*time.Second, "A goes on", func() bool { return rec.has(all[3].ID()) })
	got := rec.list()
	var seqs []uint64
	for _, ch := range got {
		seqs = append(seqs, ch.Seq)
	}
	if !slices.Equal(seqs, []uint64{1, 2, 4}) {
		t.Errorf("A delivered seqs %v, want [1 2 4] (going on after the stored cursor, past 3)", seqs)
	}
	rvWait(t, 2*time.Second, "Stats.Cursor", func() bool { return d.Stats().Cursor == all[3].Pos })
}

// The holder renews every ttl/3 while it waits: a poll longer than the
// lease, or a back-off longer than the lease, keeps the name.
func TestContractLeaseRenewedWhileWaiting(t *testing.T) {
	for _, mode := range []string{"poll", "backoff", "retry-after"} {
		t.Run(mode, func(t *testing.T) {
			env := rvNewEnv(t)
			rec := &rvRec{}
			var fails atomic.Int32
			hA := func(ctx context.Context, ch lifecycle.Change) error {
				rec.add("A", ch)
				if mode != "poll" && fails.Add(1) == 1 {
					if mode == "retry-after" {
						return feed.RetryAfter(1500*time.Millisecond, errRvRecv)
					}
					return errRvRecv
				}
				return nil
			}
			lease := 600 * time.Millisecond
			optsA := []feed.Option{feed.WithOwner("A"), feed.WithLease(lease)}
			switch mode {
			case "poll":
				optsA = append(optsA, feed.WithPoll(1500*time.Millisecond))
			case "backoff":
				optsA = append(optsA, feed.WithPoll(10*time.Millisecond), feed.WithBackoff(1500*time.Millisecond, 1500*time.Millisecond))
			default:
				optsA = append(optsA, feed.WithPoll(10*time.Millisecond), feed.WithBackoff(time.Millisecond, time.Millisecond))
			}
			if mode != "poll" {
				env.grow(t, "a", 1, 1)
			}
			dA, _ := feed.New(env.st, env.st, "rw", hA, optsA...)
			dB, _ := feed.New(env.st, env.st, "rw", rec.handler("B"), feed.WithOwner("B"), feed.WithPoll(20*time.Millisecond), feed.WithLease(lease))
			rA := rvStart(dA)
			rvWait(t, 5*time.Second, "A holds", func() bool {
				s := dA.Stats()
				return s.Holding && (mode == "poll" && !s.CaughtUpAt.IsZero() || mode != "poll" && s.Attempts == 1)
			})
			rB := rvStart(dB)
			var bHeld atomic.Bool
			deadline := time.Now().Add(1200 * time.Millisecond)
			for time.Now().Before(deadline) {
				if dB.Stats().Holding {
					bHeld.Store(true)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if mode == "poll" {
				env.grow(t, "a", 1, 2)
			}
			rvWait(t, 10*time.Second, "delivered", func() bool { return rec.hasAll(env.all(t)) })
			rA.stop(t)
			rB.stop(t)
			if bHeld.Load() {
				t.Errorf("B took the name while A waited (%s longer than the lease)", mode)
			}
			if s := dA.Stats(); s.LeaseLosses != 0 {
				t.Errorf("A lost its lease %d times while waiting", s.LeaseLosses)
			}
			for _, o := range rec.owners() {
				if o != "A" {
					t.Errorf("deliveries by %v, want all A", rec.owners())
					break
				}
			}
		})
	}
}

// The back-off counts failures in a row of the same change: the next
// change's first failure waits as a first failure again.
func TestContractBackoffResetsForNextChange(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	clk := &rvFakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	var n1, n2 atomic.Int32
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if ch.Seq == 1 && n1.Add(1) <= 4 {
			return errRvRecv
		}
		if ch.Seq == 2 && n2.Add(1) <= 1 {
			return errRvRecv
		}
		return nil
	}
	min := 20 * time.Millisecond
	d, err := feed.New(env.st, env.st, "br", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(min, 10*time.Second), feed.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	defer run.stop(t)
	var s feed.Stats // the snapshot that showed the wait (read again, it may show the next attempt)
	rvWait(t, 10*time.Second, "second change failing", func() bool {
		s = d.Stats()
		return n2.Load() >= 1 && s.Attempts == 1 && !s.NextAttempt.IsZero()
	})
	w := s.NextAttempt.Sub(clk.Now())
	if w < min || w > 2*min {
		t.Errorf("first failure of the next change waits %v, want in [%v, %v] (n=1)", w, min, 2*min)
	}
}

// RetryAfter shorter than the back-off: the later of the two wins.
func TestContractShortRetryAfterDoesNotShortenBackoff(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	clk := &rvFakeClock{now: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		return feed.RetryAfter(time.Millisecond, errRvRecv)
	}
	min := 300 * time.Millisecond
	d, _ := feed.New(env.st, env.st, "sr", h, feed.WithOwner("A"), feed.WithBackoff(min, time.Second), feed.WithClock(clk.Now))
	run := rvStart(d)
	defer run.stop(t)
	var s feed.Stats // the snapshot that showed the wait (read again, it may show the next attempt)
	rvWait(t, 5*time.Second, "waiting", func() bool { s = d.Stats(); return s.Attempts == 1 && !s.NextAttempt.IsZero() })
	if w := s.NextAttempt.Sub(clk.Now()); w < min {
		t.Errorf("RetryAfter(1ms) made the wait %v, shorter than the back-off min %v", w, min)
	}
}

// WithClock "also seeds the default jitter source": with the same frozen
// clock and no WithRand, two dispatchers draw the same waits.
func TestContractClockSeedsJitter(t *testing.T) {
	waits := func() []time.Duration {
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
		d, _ := feed.New(env.st, env.st, "js", h, feed.WithOwner("A"), feed.WithBackoff(40*time.Millisecond, 80*time.Millisecond), feed.WithClock(clk.Now))
		run := rvStart(d)
		var out []time.Duration
		for i := 1; i <= 3; i++ {
			var s feed.Stats // the snapshot that showed the wait (read again, it may show the next attempt)
			rvWait(t, 5*time.Second, "waiting", func() bool { s = d.Stats(); return s.Attempts == i && !s.NextAttempt.IsZero() })
			out = append(out, s.NextAttempt.Sub(clk.Now()))
		}
		run.stop(t)
		return out
	}
	a, b := waits(), waits()
	if !slices.Equal(a, b) {
		t.Errorf("same frozen clock, default jitter: waits %v vs %v", a, b)
	}
}

// After recovering, Stats shows no change pending.
func TestContractStatsAfterRecovery(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	var n atomic.Int32
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if n.Add(1) <= 2 {
			return errRvRecv
		}
		return nil
	}
	d, _ := feed.New(env.st, env.st, "ar", h, rvFast("A")...)
	run := rvStart(d)
	defer run.stop(t)
	rvWait(t, 5*time.Second, "delivered and caught up", func() bool {
		s := d.Stats()
		return s.Delivered == 1 && !s.CaughtUpAt.IsZero() && s.CaughtUpAt.After(s.LastDelivered.Add(-time.Nanosecond))
	})
	time.Sleep(30 * time.Millisecond)
	s := d.Stats()
	if s.Current != "" || s.Attempts != 0 || !s.NextAttempt.IsZero() || !s.PendingSince.IsZero() || s.Lag(time.Now()) != 0 {
		t.Errorf("after recovery: Current=%q Attempts=%d NextAttempt=%v PendingSince=%v", s.Current, s.Attempts, s.NextAttempt, s.PendingSince)
	}
	if s.Failures != 2 || s.LastError == "" {
		t.Errorf("Failures=%d LastError=%q (not cleared by a success)", s.Failures, s.LastError)
	}
}

// A nil pointer of a store type is a nil src/cursors.
func TestContractTypedNilStore(t *testing.T) {
	var m *store.Memory
	_, err := feed.New(m, m, "n", rvNop)
	t.Logf("New(nil *Memory) = %v", err)
	if err == nil {
		t.Logf("note: a typed nil *store.Memory is accepted by New")
	} else if !errors.Is(err, feed.ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
}
