package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

type changeKey struct {
	id  string
	seq uint64
}

// feedEvents returns n events of the given customers, each customer's in
// increasing time, so that they move through several stages.
func feedEvents(seed uint64, prefix string, customers, n int) []lifecycle.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []lifecycle.Event
	for i := range n {
		c := r.IntN(customers)
		e := lifecycle.Event{ID: fmt.Sprintf("%s-ev-%d", prefix, i), CustomerID: fmt.Sprintf("%s%03d", prefix, c), Time: start.Add(time.Duration(i) * 37 * time.Hour)}
		switch k := r.IntN(10); {
		case k < 3:
			e.Type = lifecycle.SiteVisited
		case k < 5:
			e.Type = lifecycle.SignedUp
		case k < 6:
			e.Type = lifecycle.CartAdded
		default:
			e.Type, e.Amount, e.Currency = lifecycle.OrderCompleted, int64(1000+r.IntN(20000)), "EUR"
		}
		out = append(out, e)
	}
	return out
}

// TestMemoryFeedConcurrentRecordSweepDelete: writers Record, a
// sweeper sweeps at moving times, a deleter deletes (and writers re-create)
// the "doomed" customers, while a reader pages the feed 5 at a time. For
// the customers never deleted, what the reader listed must be exactly
// their stored histories; a final listing must hold nothing of a customer
// that no longer exists.
func TestMemoryFeedConcurrentRecordSweepDelete(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	clock := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return clock }))
	keep := feedEvents(1, "k", 40, 3000)
	doomed := feedEvents(2, "d", 10, 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keep); i += 4 {
				if _, err := tr.Record(ctx, keep[i]); err != nil {
					errs <- err
					return
				}
				if i%4 == 0 && i/4 < len(doomed) {
					if _, err := tr.Record(ctx, doomed[i/4]); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // sweeper
		defer bg.Done()
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		for {
			select {
			case <-stop:
				return
			default:
			}
			at = at.Add(30 * 24 * time.Hour)
			if _, err := tr.Sweep(ctx, at); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // deleter
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = m.Delete(ctx, fmt.Sprintf("d%03d", i%10))
			time.Sleep(50 * time.Microsecond)
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(stop); bg.Wait(); close(done) }()
	var listed []lifecycle.Change
	var after lifecycle.Cursor
	for reading := true; ; {
		select {
		case <-done:
			reading = false
		default:
		}
		page, err := m.Changes(ctx, after, 5)
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
	got := map[changeKey]lifecycle.Change{}
	last := map[string]uint64{}
	var lastPos lifecycle.Cursor
	for _, ch := range listed {
		if ch.Pos <= lastPos {
			t.Errorf("pos %d listed after %d", ch.Pos, lastPos)
		}
		lastPos = ch.Pos
		if ch.CustomerID[0] != 'k' {
			continue
		}
		k := changeKey{ch.CustomerID, ch.Seq}
		if _, dup := got[k]; dup {
			t.Errorf("%s seq %d listed twice", ch.CustomerID, ch.Seq)
		}
		if ch.Seq <= last[ch.CustomerID] {
			t.Errorf("%s seq %d listed after %d", ch.CustomerID, ch.Seq, last[ch.CustomerID])
		}
		got[k], last[ch.CustomerID] = ch, ch.Seq
	}
	n := 0
	for c, err := range m.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID[0] != 'k' {
			continue
		}
		for i, h := range c.History {
			n++
			ch, ok := got[changeKey{c.ID, uint64(i + 1)}]
			if !ok {
				t.Errorf("%s seq %d never listed", c.ID, i+1)
			} else if ch.Transition != h {
				t.Errorf("%s seq %d listed %v, stored %v", c.ID, i+1, ch.Transition, h)
			}
		}
	}
	if n != len(got) {
		t.Errorf("listed %d changes of kept customers, stored %d", len(got), n)
	}
	final, _ := m.Changes(ctx, 0, 1<<30)
	exists := map[string]int{}
	for c, _ := range m.Scan(ctx) {
		exists[c.ID] = len(c.History)
	}
	for _, ch := range final {
		if h, ok := exists[ch.CustomerID]; !ok || int(ch.Seq) > h {
			t.Errorf("final listing holds %s seq %d; stored history length %d (exists %v)", ch.CustomerID, ch.Seq, h, ok)
		}
	}
	t.Logf("%d listed, %d kept-customer changes", len(listed), n)
}
