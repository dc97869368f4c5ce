package feed_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/store"
)

func rvNop(context.Context, lifecycle.Change) error { return nil }

func TestContractNewRefusesBadArguments(t *testing.T) {
	st := store.NewMemory()
	type tc struct {
		name    string
		src     lifecycle.ChangeLister
		cursors lifecycle.CursorKeeper
		feed    string
		h       feed.Handler
		opts    []feed.Option
		want    []string // substrings (case-insensitive): the argument/option and the value
	}
	cases := []tc{
		{"nil src", nil, st, "n", rvNop, nil, []string{"src"}},
		{"nil cursors", st, nil, "n", rvNop, nil, []string{"cursor"}},
		{"nil handler", st, st, "n", nil, nil, []string{"h"}},
		{"empty name", st, st, "", rvNop, nil, []string{"name", `""`}},
		{"backoff min 0", st, st, "n", rvNop, []feed.Option{feed.WithBackoff(0, time.Second)}, []string{"backoff", "0s"}},
		{"backoff min <0", st, st, "n", rvNop, []feed.Option{feed.WithBackoff(-time.Second, time.Second)}, []string{"backoff", "-1s"}},
		{"backoff max<min", st, st, "n", rvNop, []feed.Option{feed.WithBackoff(2*time.Second, time.Second)}, []string{"backoff", "1s"}},
		{"lease 0", st, st, "n", rvNop, []feed.Option{feed.WithLease(0)}, []string{"lease", "0s"}},
		{"lease 99ms", st, st, "n", rvNop, []feed.Option{feed.WithLease(99 * time.Millisecond)}, []string{"lease", "99ms"}},
		{"lease <0", st, st, "n", rvNop, []feed.Option{feed.WithLease(-time.Minute)}, []string{"lease", "-1m0s"}},
		{"poll 0", st, st, "n", rvNop, []feed.Option{feed.WithPoll(0)}, []string{"poll", "0s"}},
		{"poll <0", st, st, "n", rvNop, []feed.Option{feed.WithPoll(-5 * time.Millisecond)}, []string{"poll", "-5ms"}},
		{"batch 0", st, st, "n", rvNop, []feed.Option{feed.WithBatch(0)}, []string{"batch", "0"}},
		{"batch <0", st, st, "n", rvNop, []feed.Option{feed.WithBatch(-3)}, []string{"batch", "-3"}},
		{"owner empty", st, st, "n", rvNop, []feed.Option{feed.WithOwner("")}, []string{"owner", `""`}},
		{"bad after good", st, st, "n", rvNop, []feed.Option{feed.WithPoll(time.Second), nil, feed.WithBatch(0)}, []string{"batch", "0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := feed.New(c.src, c.cursors, c.feed, c.h, c.opts...)
			if err == nil {
				t.Fatalf("New accepted it (dispatcher %v)", d)
			}
			if d != nil {
				t.Errorf("New returned a dispatcher with the error")
			}
			if !errors.Is(err, feed.ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			msg := strings.ToLower(err.Error())
			for _, w := range c.want {
				if !strings.Contains(msg, strings.ToLower(w)) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			t.Logf("%s: %v", c.name, err)
		})
	}
}

func TestContractNewAcceptsBoundaries(t *testing.T) {
	st := store.NewMemory()
	for name, opts := range map[string][]feed.Option{
		"nil options":           {nil, nil},
		"lease 100ms":           {feed.WithLease(100 * time.Millisecond)},
		"backoff min=max":       {feed.WithBackoff(time.Millisecond, time.Millisecond)},
		"poll 1ns":              {feed.WithPoll(1)},
		"batch 1":               {feed.WithBatch(1)},
		"nil clock/rand/logger": {feed.WithClock(nil), feed.WithRand(nil), feed.WithLogger(nil)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := feed.New(st, st, "n", rvNop, opts...); err != nil {
				t.Errorf("New refused: %v", err)
			}
		})
	}
	d1, _ := feed.New(st, st, "x", rvNop)
	d2, _ := feed.New(st, st, "x", rvNop)
	if d1.Owner() == "" || d1.Owner() == d2.Owner() {
		t.Errorf("default owners %q, %q: want non-empty and different", d1.Owner(), d2.Owner())
	}
	d3, _ := feed.New(st, st, "feedname", rvNop, feed.WithOwner("me"))
	if d3.Name() != "feedname" || d3.Owner() != "me" {
		t.Errorf("Name=%q Owner=%q", d3.Name(), d3.Owner())
	}
	if s := d3.Stats(); s.Name != "feedname" || s.Owner != "me" || s.Running || s.Holding {
		t.Errorf("Stats before Run: %+v", s)
	}
}

func TestContractRunNilCtxAndRunning(t *testing.T) {
	env := rvNewEnv(t)
	d, err := feed.New(env.st, env.st, "rn", rvNop, rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1012 testing the nil-ctx refusal
	var nilCtx context.Context
	if err := d.Run(nilCtx); !errors.Is(err, feed.ErrInvalid) {
		t.Errorf("Run(nil) = %v, want ErrInvalid", err)
	}
	run := rvStart(d)
	rvWait(t, 5*time.Second, "running", func() bool { return d.Stats().Running })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := d.Run(ctx); !errors.Is(err, feed.ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	// the first goes on
	env.grow(t, "a", 1, 1)
	rvWait(t, 5*time.Second, "first run still delivers", func() bool { return d.Stats().Delivered == 1 })
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}

// Cancel: Run returns ctx's error promptly, stores the cursor past the last
// change delivered and gives the lease up (another owner claims at once).
func TestContractCancelReleasesLeaseAndCursor(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	rec := &rvRec{}
	d, err := feed.New(env.st, env.st, "cx", rec.handler("A"), append(rvFast("A"), feed.WithLease(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if err := d.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run(expired ctx) = %v, want DeadlineExceeded", err)
	}
	run := rvStart(d)
	rvWait(t, 5*time.Second, "all", func() bool { return rec.hasAll(all) })
	start := time.Now()
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Run took %v to return after cancel", el)
	}
	now := time.Now()
	c, held, err := env.st.ClaimCursor(context.Background(), "cx", "other", now, now.Add(time.Minute))
	if err != nil || !held {
		t.Errorf("another owner could not claim at once after Run returned: held=%v err=%v", held, err)
	}
	if c != all[len(all)-1].Pos {
		t.Errorf("stored cursor %d, want %d (past the last change delivered)", c, all[len(all)-1].Pos)
	}
}

// Cancel while the handler blocks: the handler's ctx is done; Run returns
// ctx's error; the failure is not counted; cursor stays before the change;
// another instance goes on at once with it.
func TestContractCancelDuringBlockedHandler(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 3)
	all := env.all(t)
	rec := &rvRec{}
	var blocked atomic.Bool
	h := func(ctx context.Context, ch lifecycle.Change) error {
		rec.add("A", ch)
		if ch.Seq == 2 {
			blocked.Store(true)
			select {
			case <-ctx.Done():
				return errors.New("gave up: " + ctx.Err().Error())
			case <-time.After(20 * time.Second):
				return nil
			}
		}
		return nil
	}
	d, err := feed.New(env.st, env.st, "cb", h, append(rvFast("A"), feed.WithLease(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 5*time.Second, "blocked", blocked.Load)
	start := time.Now()
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Run took %v after cancel", el)
	}
	if s := d.Stats(); s.Failures != 0 || s.Delivered != 1 {
		t.Errorf("Failures=%d Delivered=%d, want 0, 1", s.Failures, s.Delivered)
	}
	rec2 := &rvRec{}
	d2, _ := feed.New(env.st, env.st, "cb", rec2.handler("B"), append(rvFast("B"), feed.WithLease(time.Hour))...)
	run2 := rvStart(d2)
	rvWait(t, 3*time.Second, "B goes on at once", func() bool { return rec2.hasAll(all[1:]) })
	run2.stop(t)
	if got := rec2.list(); got[0].Seq != 2 {
		t.Errorf("B started with seq %d, want 2", got[0].Seq)
	}
}

// Cancel returns promptly from every wait: a long back-off, a long poll on an
// empty feed, and a long poll while another owner holds the name.
func TestContractCancelPromptFromWaits(t *testing.T) {
	t.Run("backoff", func(t *testing.T) {
		env := rvNewEnv(t)
		env.grow(t, "a", 1, 1)
		h := func(context.Context, lifecycle.Change) error { return errRvRecv }
		d, _ := feed.New(env.st, env.st, "w", h, feed.WithOwner("A"), feed.WithBackoff(time.Minute, time.Hour))
		run := rvStart(d)
		rvWait(t, 5*time.Second, "waiting", func() bool { return d.Stats().Attempts == 1 })
		if s := d.Stats(); s.NextAttempt.Sub(s.LastErrorAt) < time.Minute {
			t.Errorf("NextAttempt %v is less than min back-off after the failure at %v", s.NextAttempt, s.LastErrorAt)
		}
		start := time.Now()
		run.stop(t)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("took %v", el)
		}
	})
	t.Run("retry-after", func(t *testing.T) {
		env := rvNewEnv(t)
		env.grow(t, "a", 1, 1)
		h := func(context.Context, lifecycle.Change) error { return feed.RetryAfter(time.Hour, errRvRecv) }
		d, _ := feed.New(env.st, env.st, "w", h, feed.WithOwner("A"))
		run := rvStart(d)
		rvWait(t, 5*time.Second, "waiting", func() bool { return d.Stats().Attempts == 1 })
		if s := d.Stats(); s.NextAttempt.Sub(s.LastErrorAt) < time.Hour {
			t.Errorf("NextAttempt %v earlier than RetryAfter(1h) after %v", s.NextAttempt, s.LastErrorAt)
		}
		start := time.Now()
		run.stop(t)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("took %v", el)
		}
	})
	t.Run("empty poll", func(t *testing.T) {
		env := rvNewEnv(t)
		d, _ := feed.New(env.st, env.st, "w", rvNop, feed.WithOwner("A"), feed.WithPoll(time.Hour))
		run := rvStart(d)
		rvWait(t, 5*time.Second, "caught up", func() bool { return !d.Stats().CaughtUpAt.IsZero() })
		start := time.Now()
		run.stop(t)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("took %v", el)
		}
	})
	t.Run("other holds", func(t *testing.T) {
		env := rvNewEnv(t)
		now := time.Now()
		if _, held, _ := env.st.ClaimCursor(context.Background(), "w", "other", now, now.Add(time.Hour)); !held {
			t.Fatal("claim")
		}
		d, _ := feed.New(env.st, env.st, "w", rvNop, feed.WithOwner("A"), feed.WithPoll(time.Hour))
		run := rvStart(d)
		rvWait(t, 5*time.Second, "running", func() bool { return d.Stats().Running })
		time.Sleep(50 * time.Millisecond)
		if d.Stats().Holding {
			t.Errorf("Holding while another owner holds the name")
		}
		start := time.Now()
		run.stop(t)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("took %v", el)
		}
	})
}
