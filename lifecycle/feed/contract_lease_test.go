package feed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
)

// A renewal refused while the handler runs cancels its context with cause
// ErrLeaseLost; the error it then returns is not a failure; nothing is
// delivered while another owner holds the name; afterwards the change is
// delivered again and the rest follow.
func TestContractLeaseLostCancelsHandler(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	started := make(chan struct{})
	causeCh := make(chan error, 1)
	var first atomic.Bool
	rec := &rvRec{}
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 1 && first.CompareAndSwap(false, true) {
			close(started)
			select {
			case <-ctx.Done():
				causeCh <- context.Cause(ctx)
				return ctx.Err()
			case <-time.After(10 * time.Second):
				causeCh <- nil
				return errors.New("not cancelled")
			}
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "ll", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	defer run.stop(t)
	<-started
	// An intruder, whose clock says A's lease has run out, takes the name.
	future := time.Now().Add(time.Hour)
	_, held, err := env.st.ClaimCursor(context.Background(), "ll", "intruder", future, future.Add(time.Hour))
	if err != nil || !held {
		t.Fatalf("intruder claim: held=%v err=%v", held, err)
	}
	select {
	case cause := <-causeCh:
		if !errors.Is(cause, feed.ErrLeaseLost) {
			t.Errorf("handler ctx cause = %v, want ErrLeaseLost", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler ctx never cancelled")
	}
	rvWait(t, 10*time.Second, "lease loss counted", func() bool { s := d.Stats(); return s.LeaseLosses >= 1 && !s.Holding })
	time.Sleep(400 * time.Millisecond) // time for a wrong delivery or count to show
	s := d.Stats()
	if s.Failures != 0 {
		t.Errorf("Failures = %d after a lease loss, want 0 (not counted)", s.Failures)
	}
	if s.Holding {
		t.Errorf("Holding = true while the intruder holds the name")
	}
	if n := rec.n(); n != 1 {
		t.Errorf("%d deliveries while the intruder held the name, want 1 (only the one in flight)", n)
	}
	// Intruder gives up.
	now := time.Now()
	c, _, _ := env.st.ClaimCursor(context.Background(), "ll", "intruder", future, future.Add(time.Hour))
	if err := env.st.AdvanceCursor(context.Background(), "ll", "intruder", c, now, now); err != nil {
		t.Fatalf("intruder give-up: %v", err)
	}
	rvWait(t, 10*time.Second, "rest delivered", func() bool { return rec.n() >= 4 && rec.hasAll(all) })
	got := rec.list()
	if got[1].Seq != 1 {
		t.Errorf("after the lease came back, first delivery is seq %d, want 1 again", got[1].Seq)
	}
	rvCheckOrder(t, got)
}

// A lease lost between a change's delivery and its advance (the keeper
// refuses with ErrConflict): Run stops delivering and claims again.
func TestContractAdvanceConflictStopsDelivery(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	var stolen atomic.Bool
	rec := &rvRec{}
	future := time.Now().Add(time.Hour)
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 1 && stolen.CompareAndSwap(false, true) {
			_, held, err := env.st.ClaimCursor(context.Background(), "ac", "intruder", future, future.Add(time.Hour))
			if err != nil || !held {
				t.Errorf("intruder claim: held=%v err=%v", held, err)
			}
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "ac", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	defer run.stop(t)
	rvWait(t, 10*time.Second, "first", func() bool { return rec.n() >= 1 })
	time.Sleep(500 * time.Millisecond)
	if n := rec.n(); n != 1 {
		t.Errorf("%d deliveries after the lease was lost, want 1: %v", n, rec.list())
	}
	rvWait(t, 5*time.Second, "lease loss seen", func() bool { return d.Stats().LeaseLosses >= 1 })
	if d.Stats().Holding {
		t.Errorf("Holding while the intruder holds the name")
	}
	now := time.Now()
	if err := env.st.AdvanceCursor(context.Background(), "ac", "intruder", 0, now, now); err != nil {
		t.Fatalf("intruder give-up: %v", err)
	}
	rvWait(t, 10*time.Second, "rest", func() bool { return rec.hasAll(all) && rec.n() >= 4 })
	rvCheckOrder(t, rec.list())
}

// Two (three) dispatchers on one name: never two handlers at once; the
// holder alone delivers; when it stops, another takes over at once
// (well before the lease would run out) without skipping.
func TestContractDispatchersTakeTurns(t *testing.T) {
	env := rvNewEnv(t)
	for i := range 10 {
		env.grow(t, fmt.Sprintf("c%d", i), 1, 3)
	}
	var inflight atomic.Int32
	var overlap atomic.Bool
	rec := &rvRec{}
	mk := func(owner string) feed.Handler {
		return func(ctx context.Context, ch lifecycle.Change) error {
			if inflight.Add(1) > 1 {
				overlap.Store(true)
			}
			defer inflight.Add(-1)
			rec.add(owner, ch)
			time.Sleep(2 * time.Millisecond)
			return nil
		}
	}
	opts := func(owner string) []feed.Option {
		return []feed.Option{feed.WithOwner(owner), feed.WithPoll(20 * time.Millisecond),
			feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(20 * time.Second)}
	}
	dA, _ := feed.New(env.st, env.st, "turns", mk("A"), opts("A")...)
	dB, _ := feed.New(env.st, env.st, "turns", mk("B"), opts("B")...)
	dC, _ := feed.New(env.st, env.st, "turns", mk("C"), opts("C")...)
	rA := rvStart(dA)
	rvWait(t, 5*time.Second, "A holds", func() bool { return dA.Stats().Holding })
	rB, rC := rvStart(dB), rvStart(dC)
	rvWait(t, 10*time.Second, "10 delivered", func() bool { return rec.n() >= 10 })
	if dB.Stats().Holding || dC.Stats().Holding {
		t.Errorf("B or C holds while A holds")
	}
	go func() {
		for i := range 5 {
			env.grow(t, fmt.Sprintf("live%d", i), 1, 2)
			time.Sleep(3 * time.Millisecond)
		}
	}()
	stoppedAt := time.Now()
	if err := rA.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("A's Run = %v", err)
	}
	nA := rec.n()
	// Another takes over at once: well within the 20s lease.
	rvWait(t, 5*time.Second, "B or C takes over", func() bool { return rec.n() > nA })
	t.Logf("takeover after %v", time.Since(stoppedAt))
	time.Sleep(50 * time.Millisecond)
	for range 20 {
		env.grow(t, "late", 1, 4)
	}
	rvWait(t, 10*time.Second, "all", func() bool { return rec.hasAll(env.all(t)) })
	holders := 0
	for _, d := range []*feed.Dispatcher{dB, dC} {
		if d.Stats().Holding {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("%d of B, C hold the name, want 1", holders)
	}
	rB.stop(t)
	rC.stop(t)
	if overlap.Load() {
		t.Errorf("two handlers ran at once")
	}
	got := rec.list()
	rvCheckOrder(t, got)
	owners := rec.owners()
	// after A stopped, A never delivers
	for i := nA; i < len(owners); i++ {
		if owners[i] == "A" {
			t.Errorf("A delivered after its Run returned")
		}
	}
	// interleaving: once B or C delivers, the owner sequence changes owner at most once or twice
	changes := 0
	for i := 1; i < len(owners); i++ {
		if owners[i] != owners[i-1] {
			changes++
		}
	}
	if changes > 2 {
		t.Errorf("owner changed %d times (%v): more than one deliverer at a time", changes, owners)
	}
}

// A holder that dies mid-change (its calls never arrive) keeps the name
// until its lease runs out by the injected clock, not by real time; then
// another takes over and delivers the change in flight again.
func TestContractDeadHolderTakenOverByClock(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	clk := &rvFakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	fA := &rvFaulty{m: env.st}
	rec := &rvRec{}
	inFlight := make(chan struct{})
	var once sync.Once
	hA := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 2 {
			fA.dead.Store(true) // A "dies" here: none of its calls arrive any more
			once.Do(func() { close(inFlight) })
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	lease := 300 * time.Millisecond
	dA, err := feed.New(fA, fA, "dead", hA, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(lease), feed.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	dB, err := feed.New(env.st, env.st, "dead", rec.handler("B"), feed.WithOwner("B"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(lease), feed.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	rA := rvStart(dA)
	defer rA.stop(t)
	<-inFlight
	rB := rvStart(dB)
	defer rB.stop(t)
	// Real time passes well beyond the lease; the clock does not.
	time.Sleep(4 * lease)
	if n := rec.n(); n != 2 {
		t.Errorf("B delivered while A's lease (by the injected clock) had not run out: %v", rec.owners())
	}
	if dB.Stats().Holding {
		t.Errorf("B holds while A's lease has not run out by the clock")
	}
	clk.Advance(lease + time.Millisecond)
	rvWait(t, 10*time.Second, "B takes over", func() bool { return rec.hasAll(all) && rec.n() >= 4 })
	got, owners := rec.list(), rec.owners()
	if owners[2] != "B" || got[2].Seq != 2 {
		t.Errorf("after take-over: first B delivery is %s seq %d, want B seq 2 (the change in flight)", owners[2], got[2].Seq)
	}
	if got[len(got)-1].Seq != 3 || owners[len(owners)-1] != "B" {
		t.Errorf("deliveries %v by %v", got, owners)
	}
}

// A handler slower than the lease keeps it (renewed every ttl/3).
func TestContractSlowHandlerKeepsLease(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	all := env.all(t)
	rec := &rvRec{}
	var inflight atomic.Int32
	var overlap atomic.Bool
	slow := func(owner string) feed.Handler {
		return func(ctx context.Context, ch lifecycle.Change) error {
			if inflight.Add(1) > 1 {
				overlap.Store(true)
			}
			defer inflight.Add(-1)
			rec.add(owner, ch)
			if ch.Seq == 1 {
				select {
				case <-time.After(2500 * time.Millisecond):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
	}
	o := func(owner string) []feed.Option {
		return []feed.Option{feed.WithOwner(owner), feed.WithPoll(20 * time.Millisecond),
			feed.WithBackoff(5*time.Millisecond, 20*time.Millisecond), feed.WithLease(time.Second)}
	}
	dA, _ := feed.New(env.st, env.st, "slow", slow("A"), o("A")...)
	dB, _ := feed.New(env.st, env.st, "slow", slow("B"), o("B")...)
	rA := rvStart(dA)
	rvWait(t, 5*time.Second, "A started", func() bool { return rec.n() >= 1 })
	rB := rvStart(dB)
	rvWait(t, 10*time.Second, "all", func() bool { return rec.hasAll(all) })
	time.Sleep(50 * time.Millisecond)
	rA.stop(t)
	rB.stop(t)
	if overlap.Load() {
		t.Errorf("B delivered while A's slow handler ran")
	}
	if s := dA.Stats(); s.LeaseLosses != 0 || s.Failures != 0 {
		t.Errorf("A: LeaseLosses=%d Failures=%d, want 0, 0", s.LeaseLosses, s.Failures)
	}
	for _, o := range rec.owners() {
		if o != "A" {
			t.Errorf("owners %v, want all A", rec.owners())
			break
		}
	}
}

// With a frozen injected clock, the lease stored is until clock+ttl: another
// owner's claim at clock+ttl-1ms is refused, and at clock+ttl granted.
func TestContractLeaseTimesFromClock(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	clk := &rvFakeClock{now: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}
	rec := &rvRec{}
	ttl := 7 * time.Second
	d, err := feed.New(env.st, env.st, "clk", rec.handler("A"), feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithLease(ttl), feed.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 5*time.Second, "delivered", func() bool { return rec.n() >= 2 })
	rvWait(t, 5*time.Second, "caught up", func() bool { return !d.Stats().CaughtUpAt.IsZero() })
	s := d.Stats()
	if !s.LastDelivered.Equal(clk.Now()) {
		t.Errorf("LastDelivered = %v, want the injected clock %v", s.LastDelivered, clk.Now())
	}
	if !s.CaughtUpAt.Equal(clk.Now()) {
		t.Errorf("CaughtUpAt = %v, want the injected clock %v", s.CaughtUpAt, clk.Now())
	}
	if !s.Holding || !s.Running || s.Current != "" || !s.PendingSince.IsZero() || s.Lag(clk.Now().Add(time.Hour)) != 0 {
		t.Errorf("caught-up stats: %+v", s)
	}
	if s.LastDeliveredID != rec.list()[1].ID() {
		t.Errorf("LastDeliveredID = %q, want %q", s.LastDeliveredID, rec.list()[1].ID())
	}
	now := clk.Now()
	if _, held, _ := env.st.ClaimCursor(context.Background(), "clk", "other", now.Add(ttl-time.Millisecond), now.Add(ttl+time.Hour)); held {
		t.Errorf("another owner got the lease before clock+ttl")
	}
	c, held, _ := env.st.ClaimCursor(context.Background(), "clk", "other", now.Add(ttl), now.Add(ttl+time.Hour))
	if !held {
		t.Errorf("another owner did not get the lease at clock+ttl: the lease is not timed by the injected clock + WithLease")
	}
	if c != env.all(t)[1].Pos {
		t.Errorf("stored cursor %d", c)
	}
	run.stop(t)
}

// Stats while a change fails: Current, Attempts, PendingSince (clock), LastErrorAt.
func TestContractStatsWhileFailing(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 1)
	all := env.all(t)
	clk := &rvFakeClock{now: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}
	h := func(ctx context.Context, ch lifecycle.Change) error { return errRvRecv }
	d, err := feed.New(env.st, env.st, "sf", h, feed.WithOwner("A"), feed.WithPoll(10*time.Millisecond),
		feed.WithBackoff(200*time.Millisecond, 400*time.Millisecond), feed.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	defer run.stop(t)
	rvWait(t, 5*time.Second, "first failure", func() bool { return d.Stats().Attempts >= 1 })
	s := d.Stats()
	if s.Current != all[0].ID() {
		t.Errorf("Current = %q, want %q", s.Current, all[0].ID())
	}
	if !s.PendingSince.Equal(clk.Now()) || !s.LastErrorAt.Equal(clk.Now()) {
		t.Errorf("PendingSince=%v LastErrorAt=%v, want the clock %v", s.PendingSince, s.LastErrorAt, clk.Now())
	}
	if l := s.Lag(clk.Now().Add(time.Minute)); l != time.Minute {
		t.Errorf("Lag = %v, want 1m", l)
	}
	if s.Delivered != 0 || s.Failures < 1 {
		t.Errorf("Delivered=%d Failures=%d", s.Delivered, s.Failures)
	}
}
