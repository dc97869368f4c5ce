package feed_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
)

// Every change delivered, in feed order, each customer's in Seq order,
// including changes written while the dispatcher runs; Stats.Cursor never
// claims more than was delivered.
func TestContractDeliversAllInOrderWhileWriting(t *testing.T) {
	for _, batch := range []int{1, 3, 100} {
		t.Run(fmt.Sprint("batch", batch), func(t *testing.T) {
			env := rvNewEnv(t)
			for i := range 10 {
				env.grow(t, fmt.Sprintf("pre%d", i), 1, 1+i%4)
			}
			rec := &rvRec{}
			d, err := feed.New(env.st, env.st, "all", rec.handler("A"), append(rvFast("A"), feed.WithBatch(batch))...)
			if err != nil {
				t.Fatal(err)
			}
			run := rvStart(d)

			// Invariant checker on Stats.Cursor.
			stopCheck := make(chan struct{})
			var checkWG sync.WaitGroup
			checkWG.Add(1)
			go func() {
				defer checkWG.Done()
				for {
					select {
					case <-stopCheck:
						return
					default:
					}
					c := d.Stats().Cursor
					got := rec.list()
					delivered := map[lifecycle.Cursor]bool{}
					for _, ch := range got {
						delivered[ch.Pos] = true
					}
					// every listed change at or before c must have been delivered
					for _, ch := range env.all(t) {
						if ch.Pos <= c && !delivered[ch.Pos] {
							// re-check: the change may have been delivered between the reads
							if !rec.has(ch.ID()) {
								t.Errorf("Stats.Cursor=%d but change at pos %d (%s #%d) was never delivered", c, ch.Pos, ch.CustomerID, ch.Seq)
								return
							}
						}
					}
					time.Sleep(3 * time.Millisecond)
				}
			}()

			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 5 {
						id := fmt.Sprintf("live%d-%d", w, i)
						env.grow(t, id, 1, 2)
						env.grow(t, fmt.Sprintf("pre%d", (w*5+i)%10), 1, 4) // extends existing ones (dups are no-ops)
						env.grow(t, id, 3, 4)
						time.Sleep(time.Millisecond)
					}
				}()
			}
			wg.Wait()
			want := env.all(t)
			rvWait(t, 20*time.Second, "every change delivered", func() bool { return rec.hasAll(want) })
			close(stopCheck)
			checkWG.Wait()
			if err := run.stop(t); err != context.Canceled {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
			got := rec.list()
			rvCheckOrder(t, got)
			// compare with histories.
			byCust := map[string][]lifecycle.Change{}
			for _, ch := range got {
				byCust[ch.CustomerID] = append(byCust[ch.CustomerID], ch)
			}
			for id, chs := range byCust {
				c, err := env.st.Get(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				var seqs []uint64
				for _, ch := range chs {
					if len(seqs) == 0 || seqs[len(seqs)-1] != ch.Seq {
						seqs = append(seqs, ch.Seq)
					}
					if ch.Seq < 1 || int(ch.Seq) > len(c.History) {
						t.Errorf("%s: delivered seq %d, history has %d", id, ch.Seq, len(c.History))
						continue
					}
					if ch.Transition != c.History[ch.Seq-1] {
						t.Errorf("%s #%d: delivered %+v, history holds %+v", id, ch.Seq, ch.Transition, c.History[ch.Seq-1])
					}
				}
				for i, s := range seqs {
					if s != uint64(i+1) {
						t.Errorf("%s: seqs delivered %v, want 1..%d in order", id, seqs, len(c.History))
						break
					}
				}
				if len(seqs) != len(c.History) {
					t.Errorf("%s: %d distinct seqs delivered, history has %d", id, len(seqs), len(c.History))
				}
			}
			if dups := len(got) - len(want); dups != 0 {
				t.Logf("note: %d duplicate deliveries without any failure", dups)
			}
			s := d.Stats()
			if s.Delivered != uint64(len(got)) {
				t.Errorf("Stats.Delivered = %d, handler accepted %d", s.Delivered, len(got))
			}
			if s.Cursor != want[len(want)-1].Pos {
				t.Errorf("Stats.Cursor = %d, want last pos %d", s.Cursor, want[len(want)-1].Pos)
			}
			if s.Running || s.Holding {
				t.Errorf("after Run returned: Running=%v Holding=%v, want both false", s.Running, s.Holding)
			}
		})
	}
}

// WithBatch sets how many changes one call to the feed lists.
func TestContractBatchIsTheLimit(t *testing.T) {
	env := rvNewEnv(t)
	for i := range 7 {
		env.grow(t, fmt.Sprintf("c%d", i), 1, 1)
	}
	f := &rvFaulty{m: env.st}
	rec := &rvRec{}
	d, err := feed.New(f, f, "batch", rec.handler("A"), append(rvFast("A"), feed.WithBatch(3))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "7 deliveries", func() bool { return rec.n() >= 7 })
	run.stop(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.limits {
		if l != 3 {
			t.Errorf("Changes called with limit %d, want 3 (WithBatch(3)); all: %v", l, f.limits)
			break
		}
	}
}

// Changes of a deleted and re-created customer are delivered again: they
// are new transitions committed to the history.
func TestContractDeleteAndRecreate(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	rec := &rvRec{}
	d, err := feed.New(env.st, env.st, "del", rec.handler("A"), rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "first 2", func() bool { return rec.n() >= 2 })
	first := rec.list()

	if err := env.st.Delete(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	env.grow(t, "b", 1, 1)
	env.grow(t, "a", 1, 3) // re-created: same events again, then one more
	env.grow(t, "b", 2, 2)
	want := env.all(t)
	rvWait(t, 10*time.Second, "re-created changes", func() bool {
		// by position: a's new changes share IDs with the old ones
		got := rec.list()
		pos := map[lifecycle.Cursor]bool{}
		for _, ch := range got {
			pos[ch.Pos] = true
		}
		for _, ch := range want {
			if !pos[ch.Pos] {
				return false
			}
		}
		return true
	})
	run.stop(t)
	got := rec.list()
	rvCheckOrder(t, got)
	var aSeqs []uint64
	for _, ch := range got[len(first):] {
		if ch.CustomerID == "a" {
			aSeqs = append(aSeqs, ch.Seq)
		}
	}
	if !slices.Equal(aSeqs, []uint64{1, 2, 3}) {
		t.Errorf("re-created customer a: seqs delivered after delete %v, want [1 2 3]", aSeqs)
	}
	if len(got) >= 3 && got[len(first)].CustomerID == "a" && got[len(first)].ID() != first[0].ID() {
		t.Errorf("re-created a #1 has ID %s, the first delivery had %s (docs: same ID)", got[len(first)].ID(), first[0].ID())
	}
}

// A customer deleted before its changes were delivered: those changes are
// not listed, and the dispatcher goes on with the rest.
func TestContractDeletedBeforeDelivery(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "x", 1, 1)
	env.grow(t, "gone", 1, 3)
	env.grow(t, "y", 1, 2)
	if err := env.st.Delete(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	env.grow(t, "z", 1, 2)
	rec := &rvRec{}
	d, err := feed.New(env.st, env.st, "del2", rec.handler("A"), append(rvFast("A"), feed.WithBatch(1))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "5 deliveries", func() bool { return rec.n() >= 5 })
	time.Sleep(50 * time.Millisecond)
	run.stop(t)
	for _, ch := range rec.list() {
		if ch.CustomerID == "gone" {
			t.Errorf("delivered a change of a customer deleted before it was listed: %+v", ch)
		}
	}
	rvCheckOrder(t, rec.list())
}

// A Put that shortens a history: the dispatcher delivers what the feed
// lists and does not stall at the places past the shortened history.
func TestContractShortenedHistory(t *testing.T) {
	for _, batch := range []int{1, 100} {
		t.Run(fmt.Sprint("batch", batch), func(t *testing.T) {
			env := rvNewEnv(t)
			env.grow(t, "a", 1, 4)
			env.grow(t, "b", 1, 1)
			c, err := env.st.Get(context.Background(), "a")
			if err != nil {
				t.Fatal(err)
			}
			prev := c.Version
			c.History = c.History[:1]
			c.Version = prev + 1
			if err := env.st.Put(context.Background(), c, prev); err != nil {
				t.Fatal(err)
			}
			env.grow(t, "b", 2, 3)
			want := env.all(t)
			if len(want) != 4 {
				t.Fatalf("feed lists %d changes, want 4 (a#1, b#1..3): %+v", len(want), want)
			}
			rec := &rvRec{}
			d, err := feed.New(env.st, env.st, "short", rec.handler("A"), append(rvFast("A"), feed.WithBatch(batch))...)
			if err != nil {
				t.Fatal(err)
			}
			run := rvStart(d)
			rvWait(t, 10*time.Second, "all 4", func() bool { return rec.hasAll(want) })
			// A later change of a (Seq 2 again, after the shortened history) is delivered.
			env.grow(t, "c", 1, 1)
			want = env.all(t)
			rvWait(t, 10*time.Second, "the later change", func() bool { return rec.hasAll(want) })
			run.stop(t)
			rvCheckOrder(t, rec.list())
		})
	}
}

// Dispatchers with different names deliver the feed independently, each all of it.
func TestContractDifferentNamesIndependent(t *testing.T) {
	env := rvNewEnv(t)
	for i := range 5 {
		env.grow(t, fmt.Sprintf("c%d", i), 1, 2)
	}
	want := env.all(t)
	r1, r2 := &rvRec{}, &rvRec{}
	d1, err := feed.New(env.st, env.st, "one", r1.handler("A"), rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := feed.New(env.st, env.st, "two", r2.handler("A"), rvFast("A")...) // same owner, different name
	if err != nil {
		t.Fatal(err)
	}
	a, b := rvStart(d1), rvStart(d2)
	rvWait(t, 10*time.Second, "both names deliver all", func() bool { return r1.hasAll(want) && r2.hasAll(want) })
	a.stop(t)
	b.stop(t)
}

// A Dispatcher may be run again after Run returns; it goes on from the cursor.
func TestContractRunAgainGoesOn(t *testing.T) {
	env := rvNewEnv(t)
	env.grow(t, "a", 1, 2)
	rec := &rvRec{}
	d, err := feed.New(env.st, env.st, "again", rec.handler("A"), rvFast("A")...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)
	rvWait(t, 10*time.Second, "2", func() bool { return rec.n() >= 2 })
	if err := run.stop(t); err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	env.grow(t, "a", 3, 4)
	run = rvStart(d)
	rvWait(t, 10*time.Second, "4", func() bool { return rec.n() >= 4 })
	time.Sleep(50 * time.Millisecond)
	run.stop(t)
	var seqs []uint64
	for _, ch := range rec.list() {
		seqs = append(seqs, ch.Seq)
	}
	if !slices.Equal(seqs, []uint64{1, 2, 3, 4}) {
		t.Errorf("seqs delivered over two runs: %v, want [1 2 3 4]", seqs)
	}
}
