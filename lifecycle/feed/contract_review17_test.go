package feed_test

// Behaviour review 17b: the feed Dispatcher held to its documentation
// (package doc, doc comments, docs/feed.md). Every test is named
// TestContractReview...

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// z17Store returns a memory store holding the changes of n customers,
// each a visit then an order (two changes each), and the changes in feed
// order.
func z17Store(t *testing.T, n int) (*store.Memory, []lifecycle.Change) {
	t.Helper()
	st := store.NewMemory()
	z17Add(t, st, 0, n)
	return st, z17All(t, st)
}

func z17Add(t *testing.T, st *store.Memory, from, to int) {
	t.Helper()
	m, err := model.Lookup("sterne-cutler")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return base.Add(24 * time.Hour) }))
	for i := from; i < to; i++ {
		c := fmt.Sprintf("c%03d", i)
		for _, e := range []lifecycle.Event{
			{ID: "v" + c, CustomerID: c, Type: lifecycle.SiteVisited, Time: base},
			{ID: "o" + c, CustomerID: c, Type: lifecycle.OrderCompleted, Time: base.Add(time.Hour), Amount: 100, Currency: "EUR"},
		} {
			if _, err := tr.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func z17All(t *testing.T, st lifecycle.ChangeLister) []lifecycle.Change {
	t.Helper()
	var all []lifecycle.Change
	var after lifecycle.Cursor
	for {
		page, err := st.Changes(context.Background(), after, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Pos
	}
}

var z17Fast = []feed.Option{feed.WithBackoff(time.Millisecond, 4*time.Millisecond), feed.WithPoll(5 * time.Millisecond)}

// z17Wait waits until cond holds, at most d.
func z17Wait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// feed.New and feed.ErrInvalid: "values out of range are refused with an
// error wrapping feed.ErrInvalid that names the option and the value"
// (docs/feed.md:71-73; ErrInvalid: "The message names the argument or
// option and the value").
func TestContractReviewOptionErrors(t *testing.T) {
	st, _ := z17Store(t, 0)
	h := func(context.Context, lifecycle.Change) error { return nil }
	var nilMem *store.Memory
	cases := []struct {
		name  string
		src   lifecycle.ChangeLister
		cur   lifecycle.CursorKeeper
		fname string
		h     feed.Handler
		opt   feed.Option
		want  []string // substrings of the message
	}{
		{"nil src", nil, st, "w", h, nil, []string{"src"}},
		{"typed nil src", nilMem, st, "w", h, nil, []string{"src"}},
		{"nil cursors", st, nil, "w", h, nil, []string{"cursors"}},
		{"typed nil cursors", st, nilMem, "w", h, nil, []string{"cursors"}},
		{"nil handler", st, st, "w", nil, nil, []string{"handler"}},
		{"empty name", st, st, "", h, nil, []string{"name"}},
		{"empty owner", st, st, "w", h, feed.WithOwner(""), []string{"WithOwner"}},
		{"zero min backoff", st, st, "w", h, feed.WithBackoff(0, time.Second), []string{"WithBackoff", "0s"}},
		{"negative min backoff", st, st, "w", h, feed.WithBackoff(-time.Second, time.Second), []string{"WithBackoff", "-1s"}},
		{"max < min", st, st, "w", h, feed.WithBackoff(2*time.Second, time.Second), []string{"WithBackoff", "1s"}},
		{"lease 99ms", st, st, "w", h, feed.WithLease(99 * time.Millisecond), []string{"WithLease", "99ms"}},
		{"lease 0", st, st, "w", h, feed.WithLease(0), []string{"WithLease", "0s"}},
		{"lease negative", st, st, "w", h, feed.WithLease(-time.Minute), []string{"WithLease", "-1m0s"}},
		{"poll 0", st, st, "w", h, feed.WithPoll(0), []string{"WithPoll", "0s"}},
		{"poll negative", st, st, "w", h, feed.WithPoll(-time.Second), []string{"WithPoll", "-1s"}},
		{"batch 0", st, st, "w", h, feed.WithBatch(0), []string{"WithBatch", "0"}},
		{"batch negative", st, st, "w", h, feed.WithBatch(-5), []string{"WithBatch", "-5"}},
	}
	for _, tc := range cases {
		d, err := feed.New(tc.src, tc.cur, tc.fname, tc.h, tc.opt)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if d != nil {
			t.Errorf("%s: a Dispatcher with the error", tc.name)
		}
		if !errors.Is(err, feed.ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %q", tc.name, err, w)
			}
		}
	}
	// In range, and nil options: accepted.
	for _, opts := range [][]feed.Option{
		{nil},
		{feed.WithLease(100 * time.Millisecond), feed.WithBackoff(time.Second, time.Second), feed.WithBatch(1), feed.WithPoll(time.Nanosecond)},
		{feed.WithClock(nil), feed.WithRand(nil), feed.WithLogger(nil)},
	} {
		if _, err := feed.New(st, st, "w", h, opts...); err != nil {
			t.Errorf("refused in-range options: %v", err)
		}
	}
	d, _ := feed.New(st, st, "w", h)
	//nolint:staticcheck // a nil context on purpose
	if err := d.Run(nil); !errors.Is(err, feed.ErrInvalid) {
		t.Errorf("Run(nil): %v, want ErrInvalid", err)
	}
}

// The package doc's guarantees with a hostile handler: it fails at
// random (errors, panics, errors whose Error panics, nil *StopError,
// RetryAfter with tiny delays). Every change is accepted exactly once
// (one dispatcher, no crash), in feed order, and nothing after a failing
// change is handed to the handler meanwhile; Stats add up.
func TestContractReviewFlakyHandlerOrderAndCounts(t *testing.T) {
	st, all := z17Store(t, 40)
	rng := rand.New(rand.NewPCG(7, 7))
	var (
		mu       sync.Mutex
		accepted []string
		calls    []string
		fails    uint64
	)
	h := func(ctx context.Context, ch lifecycle.Change) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, ch.ID())
		switch rng.IntN(8) {
		case 0:
			fails++
			return errors.New("boom")
		case 1:
			fails++
			panic("handler panic")
		case 2:
			fails++
			return z17PanicErr{}
		case 3:
			fails++
			var s *feed.StopError
			return s
		case 4:
			fails++
			return feed.RetryAfter(-time.Second, errors.New("slow down"))
		}
		accepted = append(accepted, ch.ID())
		return nil
	}
	d, err := feed.New(st, st, "w", h, append(z17Fast, feed.WithBatch(7))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	z17Wait(t, 15*time.Second, "every change", func() bool { mu.Lock(); defer mu.Unlock(); return len(accepted) >= len(all) })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(accepted) != len(all) {
		t.Fatalf("accepted %d, want %d", len(accepted), len(all))
	}
	for i, ch := range all {
		if accepted[i] != ch.ID() {
			t.Fatalf("accepted #%d is %s, want %s (feed order)", i, accepted[i], ch.ID())
		}
	}
	// Calls: each change repeated until accepted, never a later one before.
	k := 0
	for _, id := range calls {
		if id != all[k].ID() {
			if k+1 < len(all) && id == all[k+1].ID() {
				k++
				continue
			}
			t.Fatalf("handler given %s while %s was not accepted", id, all[k].ID())
		}
	}
	s := d.Stats()
	if s.Delivered != uint64(len(all)) || s.Failures != fails {
		t.Errorf("Stats: delivered %d failures %d; want %d and %d", s.Delivered, s.Failures, len(all), fails)
	}
	if s.Cursor != all[len(all)-1].Pos {
		t.Errorf("Stats.Cursor %d, want %d", s.Cursor, all[len(all)-1].Pos)
	}
	if s.Running || s.Holding || s.Current != "" {
		t.Errorf("after Run: %+v", s)
	}
}

type z17PanicErr struct{}

func (z17PanicErr) Error() string { panic("Error panics") }

// "A handler that returns an error made by Stop ... stops Run, which
// returns that error and leaves the cursor before the refused change:
// nothing is lost, and a later Run starts with that change." and "it
// gives the lease up" (package doc; Stop's doc: errors.Is finds err;
// errors.As finds the *StopError; it wins over RetryAfter; it may be
// wrapped).
func TestContractReviewStop(t *testing.T) {
	gone := errors.New("410 gone")
	for name, mk := range map[string]func() error{
		"plain":               func() error { return feed.Stop(gone) },
		"wrapped":             func() error { return fmt.Errorf("ctx: %w", feed.Stop(gone)) },
		"inside RetryAfter":   func() error { return feed.RetryAfter(time.Hour, feed.Stop(gone)) },
		"RetryAfter inside":   func() error { return feed.Stop(feed.RetryAfter(time.Hour, gone)) },
		"joined with another": func() error { return errors.Join(errors.New("other"), feed.Stop(gone)) },
	} {
		t.Run(name, func(t *testing.T) {
			st, all := z17Store(t, 3)
			stopAt := all[3].ID()
			var got []string
			h := func(ctx context.Context, ch lifecycle.Change) error {
				got = append(got, ch.ID())
				if ch.ID() == stopAt {
					return mk()
				}
				return nil
			}
			d, _ := feed.New(st, st, "w", h, append(z17Fast, feed.WithOwner("A"))...)
			done := make(chan error, 1)
			go func() { done <- d.Run(context.Background()) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not stop")
			}
			var se *feed.StopError
			if !errors.Is(err, gone) || !errors.As(err, &se) {
				t.Errorf("Run: %v; want it to wrap the reason and a *StopError", err)
			}
			if len(got) != 4 {
				t.Errorf("handler calls %d, want 4 (no retry after a stop)", len(got))
			}
			// Lease given up, cursor before the refused change.
			c, held, err := st.ClaimCursor(context.Background(), "w", "B", time.Now(), time.Now().Add(time.Minute))
			if err != nil || !held {
				t.Errorf("another owner cannot claim at once: held %v err %v", held, err)
			}
			if c != all[2].Pos {
				t.Errorf("cursor %d, want %d (before the refused change)", c, all[2].Pos)
			}
			_ = st.AdvanceCursor(context.Background(), "w", "B", c, time.Now(), time.Now()) // give it back
			// A later Run starts with that change.
			got = nil
			d2, _ := feed.New(st, st, "w", func(ctx context.Context, ch lifecycle.Change) error {
				got = append(got, ch.ID())
				return nil
			}, z17Fast...)
			ctx, cancel := context.WithCancel(context.Background())
			go func() { done <- d2.Run(ctx) }()
			z17Wait(t, 5*time.Second, "the rest", func() bool { return d2.Stats().Delivered == uint64(len(all)-3) })
			cancel()
			<-done
			if len(got) == 0 || got[0] != stopAt {
				t.Errorf("later Run started with %v, want %s", got, stopAt)
			}
		})
	}
}

// Cancellation: "When ctx is done it gives the lease up, storing the
// cursor past the last change delivered, ... and returns ctx's error";
// "a failure because Run's ctx ended is not counted"; docs/feed.md: "the
// second taking over at once when the first is cancelled"; waits return
// promptly. A handler hanging on its ctx, and a dispatcher waiting out a
// RetryAfter of an hour, both return at once.
func TestContractReviewCancelPromptly(t *testing.T) {
	for _, mode := range []string{"hanging handler", "long RetryAfter", "long backoff"} {
		t.Run(mode, func(t *testing.T) {
			st, all := z17Store(t, 2)
			var calls atomic.Int32
			h := func(ctx context.Context, ch lifecycle.Change) error {
				if ch.ID() != all[1].ID() {
					return nil
				}
				calls.Add(1)
				switch mode {
				case "hanging handler":
					<-ctx.Done()
					return ctx.Err()
				case "long RetryAfter":
					return feed.RetryAfter(time.Hour, errors.New("busy"))
				}
				return errors.New("down")
			}
			opts := []feed.Option{feed.WithOwner("A"), feed.WithPoll(5 * time.Millisecond)}
			if mode == "long backoff" {
				opts = append(opts, feed.WithBackoff(time.Hour, time.Hour))
			}
			d, _ := feed.New(st, st, "w", h, opts...)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			z17Wait(t, 5*time.Second, "the stuck change", func() bool { return calls.Load() > 0 })
			if mode != "hanging handler" {
				// The handler has returned its error, or is about to: wait
				// until the dispatcher has counted the failure and waits, so
				// that the snapshot below holds it.
				z17Wait(t, 5*time.Second, "the failure counted", func() bool { s := d.Stats(); return s.Failures == 1 && !s.NextAttempt.IsZero() })
			}
			time.Sleep(20 * time.Millisecond)
			before := d.Stats()
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run: %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Run did not return within 10s of cancel (%v)", time.Since(start))
			}
			s := d.Stats()
			if mode == "hanging handler" && s.Failures != 0 {
				t.Errorf("a failure because ctx ended was counted: %d", s.Failures)
			}
			if s.Failures != before.Failures {
				t.Errorf("failures went from %d to %d on cancel", before.Failures, s.Failures)
			}
			if s.Delivered != 1 || s.Cursor != all[0].Pos {
				t.Errorf("stats after cancel: delivered %d cursor %d; want 1 and %d", s.Delivered, s.Cursor, all[0].Pos)
			}
			c, held, err := st.ClaimCursor(context.Background(), "w", "B", time.Now(), time.Now().Add(time.Minute))
			if err != nil || !held || c != all[0].Pos {
				t.Errorf("after cancel: another owner claims: held %v cursor %d err %v; want true, %d", held, c, err, all[0].Pos)
			}
		})
	}
}

// "It returns an error wrapping ErrRunning if the Dispatcher is already
// running"; "A Dispatcher may be run again after Run returns."
func TestContractReviewRunTwice(t *testing.T) {
	st, all := z17Store(t, 2)
	var n atomic.Int32
	d, _ := feed.New(st, st, "w", func(context.Context, lifecycle.Change) error { n.Add(1); return nil }, z17Fast...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	z17Wait(t, 5*time.Second, "running", func() bool { return d.Stats().Running })
	if err := d.Run(context.Background()); !errors.Is(err, feed.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	z17Wait(t, 5*time.Second, "delivery", func() bool { return n.Load() == int32(len(all)) })
	cancel()
	<-done
	z17Add(t, st, 2, 3)
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- d.Run(ctx2) }()
	z17Wait(t, 5*time.Second, "the new changes", func() bool { return n.Load() == int32(len(all)+2) })
	cancel2()
	<-done
	time.Sleep(20 * time.Millisecond)
	if n.Load() != int32(len(all)+2) {
		t.Errorf("handler calls %d, want %d (nothing redelivered)", n.Load(), len(all)+2)
	}
}

// "One deliverer at a time": three dispatchers on one store and name,
// with changes added while they run and a slow handler; the handler is
// never running in two at once, every change arrives, each customer's in
// Seq order (first arrivals).
func TestContractReviewOneDelivererAtATime(t *testing.T) {
	st, _ := z17Store(t, 10)
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	seen := map[string]int{}
	var order []lifecycle.Change
	h := func(ctx context.Context, ch lifecycle.Change) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if seen[ch.ID()] == 0 {
			order = append(order, ch)
		}
		seen[ch.ID()]++
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ds []*feed.Dispatcher
	var cancels []context.CancelFunc
	start := func() {
		d, err := feed.New(st, st, "w", h, append(z17Fast, feed.WithLease(150*time.Millisecond), feed.WithOwner(fmt.Sprintf("o%d", len(ds))), feed.WithBatch(3))...)
		if err != nil {
			t.Fatal(err)
		}
		dctx, dcancel := context.WithCancel(ctx)
		ds, cancels = append(ds, d), append(cancels, dcancel)
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(dctx) }()
	}
	for range 3 {
		start()
	}
	// Stop the holder a few times (another takes over at once), start a
	// replacement, and add changes meanwhile.
	for round := 0; round < 4; round++ {
		z17Add(t, st, 10+round*5, 15+round*5)
		time.Sleep(15 * time.Millisecond)
		for i, d := range ds {
			if d.Stats().Holding {
				cancels[i]()
				break
			}
		}
		start()
	}
	all := z17All(t, st)
	z17Wait(t, 10*time.Second, "every change", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == len(all) })
	cancel()
	wg.Wait()
	if m := maxInFlight.Load(); m > 1 {
		t.Errorf("handler ran in %d dispatchers at once", m)
	}
	last := map[string]uint64{}
	for _, ch := range order {
		if ch.Seq <= last[ch.CustomerID] {
			t.Errorf("customer %s: seq %d first arrived after seq %d", ch.CustomerID, ch.Seq, last[ch.CustomerID])
		}
		last[ch.CustomerID] = ch.Seq
	}
	total := uint64(0)
	var per []uint64
	for _, d := range ds {
		total += d.Stats().Delivered
		per = append(per, d.Stats().Delivered)
	}
	t.Logf("delivered per dispatcher %v", per)
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	if total != uint64(len(all)+dups) {
		t.Errorf("Delivered sums to %d; handler accepted %d", total, len(all)+dups)
	}
	if dups != 0 {
		t.Logf("%d redeliveries without a crash", dups)
	}
}

// RetryAfter: "the dispatcher waits for the later of d and its own
// back-off"; WithBackoff: after the n-th failure a wait in [c/2, c],
// c = min(max, min·2ⁿ), never less than min.
func TestContractReviewRetryWaits(t *testing.T) {
	st, all := z17Store(t, 1)
	var mu sync.Mutex
	var at []time.Time
	h := func(ctx context.Context, ch lifecycle.Change) error {
		if ch.ID() != all[0].ID() {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		at = append(at, time.Now())
		switch len(at) {
		case 1:
			return feed.RetryAfter(150*time.Millisecond, errors.New("429"))
		case 2, 3, 4:
			return errors.New("500")
		}
		return nil
	}
	min, max := 20*time.Millisecond, 60*time.Millisecond
	d, _ := feed.New(st, st, "w", h, feed.WithBackoff(min, max), feed.WithPoll(5*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	z17Wait(t, 5*time.Second, "the retries", func() bool { mu.Lock(); defer mu.Unlock(); return len(at) >= 5 })
	// The fifth call succeeds; the changes after it are delivered in the
	// background, so wait for them before cancelling.
	z17Wait(t, 5*time.Second, "every change delivered", func() bool { return d.Stats().Delivered == uint64(len(all)) })
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	waits := make([]time.Duration, len(at)-1)
	for i := range waits {
		waits[i] = at[i+1].Sub(at[i])
	}
	t.Logf("waits %v", waits)
	if waits[0] < 150*time.Millisecond {
		t.Errorf("wait after RetryAfter(150ms): %v", waits[0])
	}
	// failures 2, 3, 4: c = min(max, min·2ⁿ) = 60ms for n ≥ 2: at least 30ms.
	for i := 1; i < 4; i++ {
		lo := 30 * time.Millisecond
		if waits[i] < lo-time.Millisecond {
			t.Errorf("wait after failure %d: %v, want at least %v", i+1, waits[i], lo)
		}
		if waits[i] > max+250*time.Millisecond {
			t.Errorf("wait after failure %d: %v, want about at most %v", i+1, waits[i], max)
		}
	}
	if s := d.Stats(); s.Failures != 4 || s.Delivered != uint64(len(all)) {
		t.Errorf("stats: failures %d delivered %d", s.Failures, s.Delivered)
	}
}

// z17Flaky fails its first n calls of each kind.
type z17Flaky struct {
	*store.Memory
	listFails, claimFails, advanceFails atomic.Int32
}

func (f *z17Flaky) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if f.listFails.Add(-1) >= 0 {
		return nil, errors.New("list: connection reset")
	}
	return f.Memory.Changes(ctx, after, limit)
}

func (f *z17Flaky) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if f.claimFails.Add(-1) >= 0 {
		return 0, false, errors.New("claim: connection reset")
	}
	return f.Memory.ClaimCursor(ctx, name, owner, now, until)
}

func (f *z17Flaky) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if f.advanceFails.Add(-1) >= 0 {
		return errors.New("advance: connection reset")
	}
	return f.Memory.AdvanceCursor(ctx, name, owner, c, now, until)
}

// "Failing calls to the store are retried after a back-off too, so Run
// does not return because of them"; StoreErrors counts them; a failed
// advance must not lose or repeat a change beyond at-least-once.
func TestContractReviewStoreErrors(t *testing.T) {
	mem, all := z17Store(t, 5)
	f := &z17Flaky{Memory: mem}
	f.listFails.Store(3)
	f.claimFails.Store(2)
	f.advanceFails.Store(4)
	var mu sync.Mutex
	got := map[string]int{}
	d, _ := feed.New(f, f, "w", func(ctx context.Context, ch lifecycle.Change) error {
		mu.Lock()
		defer mu.Unlock()
		got[ch.ID()]++
		return nil
	}, z17Fast...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	z17Wait(t, 10*time.Second, "cursor at the end", func() bool { return d.Stats().Cursor == all[len(all)-1].Pos })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	for _, ch := range all {
		if got[ch.ID()] != 1 {
			t.Errorf("change %s delivered %d times", ch.ID(), got[ch.ID()])
		}
	}
	if s := d.Stats(); s.StoreErrors != 9 {
		t.Errorf("StoreErrors %d, want 9 (3 list, 2 claim, 4 advance)", s.StoreErrors)
	}
}

// Lease lost while the handler runs: "cancels the handler's context,
// whose context.Cause is feed.ErrLeaseLost, stops delivering and claims
// again; the error the handler then returns is not counted as a failure"
// (docs/feed.md:114-118).
func TestContractReviewLeaseLostCancelsHandler(t *testing.T) {
	st, all := z17Store(t, 1)
	var mu sync.Mutex
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	cause := make(chan error, 1)
	var calls atomic.Int32
	d, _ := feed.New(st, st, "w", func(ctx context.Context, ch lifecycle.Change) error {
		if calls.Add(1) == 1 {
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return ctx.Err()
		}
		return nil
	}, append(z17Fast, feed.WithOwner("A"), feed.WithLease(150*time.Millisecond), feed.WithClock(now))...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	z17Wait(t, 5*time.Second, "the handler", func() bool { return calls.Load() == 1 })
	// A's lease runs out (clock jumps), B takes the name and keeps it.
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	if _, held, err := st.ClaimCursor(context.Background(), "w", "B", now(), now().Add(10*time.Hour)); err != nil || !held {
		t.Fatalf("B cannot claim: %v %v", held, err)
	}
	select {
	case c := <-cause:
		if !errors.Is(c, feed.ErrLeaseLost) {
			t.Errorf("handler ctx cause %v, want ErrLeaseLost", c)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("handler's context not cancelled after the lease was lost")
	}
	z17Wait(t, 3*time.Second, "A to see the loss", func() bool { return d.Stats().LeaseLosses > 0 })
	time.Sleep(30 * time.Millisecond)
	s := d.Stats()
	if s.Failures != 0 {
		t.Errorf("the lost delivery counted as a failure: %d", s.Failures)
	}
	if s.Holding || s.Delivered != 0 {
		t.Errorf("A after losing: holding %v delivered %d", s.Holding, s.Delivered)
	}
	if calls.Load() != 1 {
		t.Errorf("A went on delivering without the lease: %d calls", calls.Load())
	}
	_ = all
}

// Stats.Lag: "how long the change being delivered has waited at least
// ... 0 when caught up"; NextAttempt set while waiting after a failure;
// Current and Attempts name the stuck change.
func TestContractReviewStatsWhileStuck(t *testing.T) {
	st, all := z17Store(t, 1)
	d, _ := feed.New(st, st, "w", func(ctx context.Context, ch lifecycle.Change) error {
		if ch.ID() == all[1].ID() {
			return feed.RetryAfter(time.Hour, errors.New("503"))
		}
		return nil
	}, z17Fast...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	z17Wait(t, 5*time.Second, "the stuck change", func() bool { return d.Stats().Attempts == 1 })
	s := d.Stats()
	if s.Current != all[1].ID() || s.Delivered != 1 || s.Failures != 1 || s.LastError == "" || s.LastErrorAt.IsZero() {
		t.Errorf("stats while stuck: %+v", s)
	}
	if w := time.Until(s.NextAttempt); w < 59*time.Minute {
		t.Errorf("NextAttempt in %v, want about an hour", w)
	}
	if lag := s.Lag(time.Now().Add(time.Minute)); lag < time.Minute {
		t.Errorf("Lag a minute on: %v", lag)
	}
	if !s.Holding || !s.Running {
		t.Errorf("holding %v running %v", s.Holding, s.Running)
	}
	cancel()
	<-done
	if s := d.Stats(); s.Lag(time.Now()) != 0 || s.Current != "" {
		t.Errorf("after Run: lag %v current %q", s.Lag(time.Now()), s.Current)
	}
}
