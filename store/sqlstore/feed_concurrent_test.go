package sqlstore_test

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
	"github.com/clmkit/clm/store/sqlstore"
)

type changeKey struct {
	id  string
	seq uint64
}

// checkListedFeed compares what a reader listed with every stored history:
// each transition exactly once, as stored, each customer's in Seq order,
// positions strictly increasing.
func checkListedFeed(t *testing.T, s lifecycle.Store, listed []lifecycle.Change) {
	t.Helper()
	ctx := context.Background()
	got := map[changeKey]lifecycle.Change{}
	last := map[string]uint64{}
	var lastPos lifecycle.Cursor
	for _, ch := range listed {
		k := changeKey{ch.CustomerID, ch.Seq}
		if _, dup := got[k]; dup {
			t.Errorf("customer %s seq %d listed twice", ch.CustomerID, ch.Seq)
		}
		if ch.Seq <= last[ch.CustomerID] {
			t.Errorf("customer %s seq %d listed after seq %d", ch.CustomerID, ch.Seq, last[ch.CustomerID])
		}
		if ch.Pos <= lastPos {
			t.Errorf("pos %d listed after pos %d", ch.Pos, lastPos)
		}
		got[k], last[ch.CustomerID], lastPos = ch, ch.Seq, ch.Pos
	}
	n := 0
	for c, err := range s.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range c.History {
			n++
			ch, ok := got[changeKey{c.ID, uint64(i + 1)}]
			if !ok {
				t.Errorf("customer %s seq %d (%v) never listed", c.ID, i+1, tr)
				continue
			}
			if !ch.Transition.At.Equal(tr.At) || ch.From != tr.From || ch.To != tr.To || ch.Cause != tr.Cause {
				t.Errorf("customer %s seq %d listed as %v, stored %v", c.ID, i+1, ch.Transition, tr)
			}
		}
	}
	if n != len(got) {
		t.Errorf("listed %d changes, stored histories hold %d", len(got), n)
	}
}

// TestSQLTwoStoresRecordSweep: two Stores (two pools), four
// Record goroutines each, and a third Store sweeping at moving times,
// while a fourth Store pages the feed 7 at a time; what was listed must be
// exactly the stored histories.
func TestSQLTwoStoresRecordSweep(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		const customers, distinct = 30, 500
		events := stream(3, customers, distinct)
		e := newEnv(t, d)
		trackers := []*lifecycle.Tracker{newTracker(e.open(t)), newTracker(e.open(t))}
		reader := e.open(t)
		lanes := make([][]lifecycle.Event, 8)
		for i, ev := range duplicated(4, events) {
			lanes[i%len(lanes)] = append(lanes[i%len(lanes)], ev)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(lanes)+1)
		for i, lane := range lanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, ev := range lane {
					if _, err := trackers[i%2].Record(ctx, ev); err != nil {
						errs <- fmt.Errorf("lane %d: %w", i, err)
						return
					}
				}
			}()
		}
		stopSweep := make(chan struct{})
		swept := make(chan struct{})
		go func() {
			defer close(swept)
			sw := newTracker(e.open(t))
			at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			for {
				select {
				case <-stopSweep:
					return
				default:
				}
				at = at.Add(20 * 24 * time.Hour)
				if _, err := sw.Sweep(ctx, at); err != nil {
					errs <- fmt.Errorf("sweep: %w", err)
					return
				}
			}
		}()
		done := make(chan struct{})
		go func() { wg.Wait(); close(stopSweep); <-swept; close(done) }()
		var listed []lifecycle.Change
		var after lifecycle.Cursor
		for reading := true; ; {
			select {
			case <-done:
				reading = false
			default:
			}
			page, err := reader.Changes(ctx, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			listed = append(listed, page...)
			if len(page) > 0 {
				after = page[len(page)-1].Pos
			} else if !reading {
				break
			}
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		checkListedFeed(t, reader, listed)
		t.Logf("%d changes listed", len(listed))
	})
}

// TestSQLDispatchersTwoStores: two Dispatchers (one per
// Store, same name) deliver while two Trackers record; the first is
// cancelled midway and run again. Every stored change must be delivered,
// never two at once, each customer's in Seq order.
func TestSQLDispatchersTwoStores(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		events := stream(5, 20, 300)
		e := newEnv(t, d)
		s1, s2 := e.open(t), e.open(t)
		trackers := []*lifecycle.Tracker{newTracker(s1), newTracker(s2)}
		var (
			mu        sync.Mutex
			delivered []lifecycle.Change
			inFlight  atomic.Int32
			overlap   atomic.Int32
		)
		h := func(ctx context.Context, ch lifecycle.Change) error {
			if inFlight.Add(1) > 1 {
				overlap.Add(1)
			}
			defer inFlight.Add(-1)
			time.Sleep(200 * time.Microsecond)
			mu.Lock()
			delivered = append(delivered, ch)
			mu.Unlock()
			return nil
		}
		mk := func(s *sqlstore.Store, owner string) *feed.Dispatcher {
			// (A lease long enough that a busy machine, -race on two
			// cores, does not let it lapse mid-batch: then the other
			// dispatcher would deliver again, from the cursor, what this
			// one delivered, which at-least-once allows and the order
			// check below would report. A lease of 300 ms once did.)
			dd, err := feed.New(s, s, "review", h, feed.WithOwner(owner), feed.WithLease(5*time.Second),
				feed.WithPoll(10*time.Millisecond), feed.WithBatch(5), feed.WithBackoff(time.Millisecond, 10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			return dd
		}
		d1, d2 := mk(s1, "one"), mk(s2, "two")
		run := func(dd *feed.Dispatcher) func() {
			c, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := dd.Run(c); !errors.Is(err, context.Canceled) {
					t.Errorf("Run(%s) = %v", dd.Owner(), err)
				}
			}()
			return func() { cancel(); <-done }
		}
		stop1 := run(d1)
		stop2 := run(d2)
		lanes := make([][]lifecycle.Event, 4)
		for i, ev := range events {
			lanes[i%len(lanes)] = append(lanes[i%len(lanes)], ev)
		}
		var wg sync.WaitGroup
		for i, lane := range lanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j, ev := range lane {
					if _, err := trackers[i%2].Record(ctx, ev); err != nil {
						t.Errorf("lane %d: %v", i, err)
						return
					}
					if i == 0 && j == len(lane)/2 {
						stop1()
						stop1 = run(d1)
					}
				}
			}()
		}
		wg.Wait()
		want := 0
		for c, err := range s1.Scan(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			want += len(c.History)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := map[changeKey]bool{}
			for _, ch := range delivered {
				got[changeKey{ch.CustomerID, ch.Seq}] = true
			}
			mu.Unlock()
			if len(got) >= want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 60s %d of %d changes delivered; stats %+v %+v", len(got), want, d1.Stats(), d2.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop1()
		stop2()
		if n := overlap.Load(); n > 0 {
			t.Errorf("%d deliveries overlapped another", n)
		}
		last := map[string]uint64{}
		for _, ch := range delivered {
			if p := last[ch.CustomerID]; ch.Seq < p {
				t.Errorf("customer %s seq %d delivered after seq %d", ch.CustomerID, ch.Seq, p)
			}
			last[ch.CustomerID] = ch.Seq
		}
		t.Logf("%d deliveries of %d changes", len(delivered), want)
	})
}
