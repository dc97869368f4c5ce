package feed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

func historyOf(id string, n, round int) []lifecycle.Transition {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	h := make([]lifecycle.Transition, n)
	for i := range h {
		h[i] = lifecycle.Transition{From: stage.ID(fmt.Sprint("s", i)), To: stage.ID(fmt.Sprint("s", i+1)), At: t0.Add(time.Duration(i) * time.Hour), Cause: fmt.Sprint(id, "-", round, "-", i)}
	}
	return h
}

func putHistory(t *testing.T, st lifecycle.Store, id string, h []lifecycle.Transition) {
	t.Helper()
	ctx := context.Background()
	var prev uint64
	if c, err := st.Get(ctx, id); err == nil {
		prev = c.Version
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &lifecycle.Customer{ID: id, Stage: "s1", Since: t0, AsOf: t0, Version: prev + 1, History: h}
	if len(h) > 0 {
		c.Stage = h[len(h)-1].To
	}
	if err := st.Put(ctx, c, prev); err != nil {
		t.Fatalf("Put(%s) = %v", id, err)
	}
}

type changeRecorder struct {
	mu  sync.Mutex
	got []lifecycle.Change
}

func (r *changeRecorder) handle(_ context.Context, ch lifecycle.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ch)
	return nil
}

func (r *changeRecorder) snapshot() []lifecycle.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]lifecycle.Change(nil), r.got...)
}

// TestDispatcherPastShortenedHistory: with the default batch
// (100), a customer whose history was shortened by more than 100
// transitions hides a whole page of the feed; the Dispatcher still
// delivers every later change (here, customer "later"'s). (Memory's
// Changes returned an empty page after the cursor, which the Dispatcher
// took for the end of the feed, for good.)
func TestDispatcherPastShortenedHistory(t *testing.T) {
	m := store.NewMemory()
	putHistory(t, m, "long", historyOf("long", 150, 0))
	putHistory(t, m, "long", historyOf("long", 1, 1))
	putHistory(t, m, "later", historyOf("later", 1, 0))
	rec := &changeRecorder{}
	d, err := feed.New(m, m, "review", rec.handle, feed.WithPoll(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// Wait (rather than sleep a fixed time) until both changes are
	// delivered and the dispatcher has found the feed empty after them; on
	// time-out, go on to the check below, which says what was delivered.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		s := d.Stats()
		if len(rec.snapshot()) >= 2 && !s.CaughtUpAt.IsZero() && !s.CaughtUpAt.Before(s.LastDelivered) {
			break
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	got := rec.snapshot()
	all, _ := m.Changes(context.Background(), 0, 1000)
	if len(got) != 2 {
		t.Fatalf("delivered %d changes %v; the feed, listed in one call, holds %d: %v (stats %+v)", len(got), got, len(all), all, d.Stats())
	}
}

// TestDispatcherCrashMidPageRestarts: a consumer stopped in the
// middle of a page (its Run cancelled while the handler runs, the handler
// failing or succeeding), then restarted, over and over: every change is
// delivered, in order, a change repeated only right after a restart.
func TestDispatcherCrashMidPageRestarts(t *testing.T) {
	m := store.NewMemory()
	for i := range 40 {
		putHistory(t, m, fmt.Sprint("c", i%7, "-", i), historyOf(fmt.Sprint(i), 1+i%3, 0))
	}
	all, _ := m.Changes(context.Background(), 0, 1000)
	var mu sync.Mutex
	var got []lifecycle.Change
	restarts := 0
	for round := 0; round < 200 && len(got) < len(all)+restarts; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		h := func(hctx context.Context, ch lifecycle.Change) error {
			mu.Lock()
			defer mu.Unlock()
			n++
			if n == 3 {
				cancel()
				if round%2 == 0 {
					return hctx.Err() // fails because of the cancel
				}
			}
			got = append(got, ch)
			return nil
		}
		d, err := feed.New(m, m, "crash", h, feed.WithBatch(5), feed.WithPoll(time.Millisecond), feed.WithOwner(fmt.Sprint("o", round%3)))
		if err != nil {
			t.Fatal(err)
		}
		go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		if err := d.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
		restarts++
		if c, _, _ := m.ClaimCursor(context.Background(), "crash", "probe", time.Now(), time.Now()); c == all[len(all)-1].Pos {
			break
		}
	}
	seen := map[lifecycle.Cursor]bool{}
	var last lifecycle.Cursor
	repeats := 0
	for _, ch := range got {
		if ch.Pos < last {
			t.Errorf("pos %d delivered after %d", ch.Pos, last)
		}
		if seen[ch.Pos] {
			repeats++
		}
		seen[ch.Pos], last = true, ch.Pos
	}
	if len(seen) != len(all) {
		t.Errorf("delivered %d distinct changes of %d", len(seen), len(all))
	}
	t.Logf("%d restarts, %d deliveries, %d repeats", restarts, len(got), repeats)
}
