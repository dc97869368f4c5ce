package feed_test

import (
	"context"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

type unwrapPanics struct{}

func (unwrapPanics) Error() string { return "bad" }
func (unwrapPanics) Unwrap() error { panic("unwrap panics") }

// A handler's error whose Unwrap panics counts as a plain failure,
// retried (errors.As on it ended the process).
func TestHandlerErrorUnwrapPanics(t *testing.T) {
	st := store.NewMemory()
	ctx := context.Background()
	if err := st.Put(ctx, &lifecycle.Customer{ID: "c1", Version: 1, History: []lifecycle.Transition{{To: stage.ID("reach"), At: time.Unix(0, 0).UTC()}}}, 0); err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := func(ctx context.Context, ch lifecycle.Change) error {
		calls++
		if calls == 1 {
			return unwrapPanics{}
		}
		return nil
	}
	d, err := feed.New(st, st, "x", h, feed.WithBackoff(time.Millisecond, time.Millisecond), feed.WithPoll(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_ = d.Run(rctx)
	if s := d.Stats(); s.Delivered != 1 || s.Failures != 1 {
		t.Fatalf("stats %+v; want 1 delivered after 1 failure", s)
	}
}

// A dispatcher that stops gives the lease up: another takes over at its
// next look even when its clock is behind the first one's (here 8 s, well
// within the 30 s lease); it waited for its clock to pass the release.
func TestTakeoverAfterShutdownClockBehind(t *testing.T) {
	st := store.NewMemory()
	h := func(ctx context.Context, ch lifecycle.Change) error { return nil }
	ahead := func() time.Time { return time.Now().Add(8 * time.Second) }
	a, err := feed.New(st, st, "webhooks", h, feed.WithOwner("A"), feed.WithClock(ahead), feed.WithPoll(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	b, err := feed.New(st, st, "webhooks", h, feed.WithOwner("B"), feed.WithPoll(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan error)
	go func() { adone <- a.Run(actx) }()
	for !a.Stats().Holding {
		time.Sleep(5 * time.Millisecond)
	}
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	bdone := make(chan error)
	go func() { bdone <- b.Run(bctx) }()
	time.Sleep(100 * time.Millisecond)
	acancel()
	<-adone
	for deadline := time.Now().Add(4 * time.Second); !b.Stats().Holding; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B did not take over within 4 s of A giving the lease up (poll 20 ms; A's clock 8 s ahead: it waited for its clock to pass the release)")
		}
	}
	bcancel()
	<-bdone
}
