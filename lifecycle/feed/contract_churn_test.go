package feed_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
)

// Churn: many customers (several per shard), deletes (which move other
// customers within a shard), re-creates, shortened histories, all while
// the dispatcher runs or between runs. For every customer that exists at
// the end, the changes delivered since its last (re)creation are exactly
// its history, Seq 1..n in order, with the stored transitions; a deleted
// customer's pending changes are never delivered as another customer's.
func TestContractChurnDeletesRecreatesShortens(t *testing.T) {
	env := rvNewEnv(t)
	const N = 300
	rng := rand.New(rand.NewPCG(3, 4))
	id := func(i int) string { return fmt.Sprintf("cust-%03d", i) }
	for i := range N {
		env.grow(t, id(i), 1, 1)
	}
	rec := &rvRec{}
	d, err := feed.New(env.st, env.st, "churn", rec.handler("A"), append(rvFast("A"), feed.WithBatch(7))...)
	if err != nil {
		t.Fatal(err)
	}
	run := rvStart(d)

	// epoch marks, per customer, the delivery index from which its
	// current incarnation's changes count.
	var mu sync.Mutex
	epoch := map[string]int{}
	level := map[string]int{}
	for i := range N {
		level[id(i)] = 1
	}
	deleted := map[string]bool{}
	shortened := map[string]bool{}
	for round := range 6 {
		for k := range 60 {
			i := rng.IntN(N)
			c := id(i)
			switch op := rng.IntN(10); {
			case op < 5: // grow
				if !deleted[c] && level[c] < 4 {
					env.step(t, c, level[c]+1)
					level[c]++
				}
			case op < 7: // delete
				if !deleted[c] {
					if err := env.st.Delete(context.Background(), c); err != nil {
						t.Fatal(err)
					}
					deleted[c] = true
				}
			case op < 9: // re-create
				if deleted[c] {
					// wait until the dispatcher is past everything listed now,
					// so that the old incarnation's deliveries are done
					want := env.all(t)
					rvWait(t, 10*time.Second, "caught up before re-create", func() bool { return rec.hasAllPos(want) })
					mu.Lock()
					epoch[c] = rec.n()
					mu.Unlock()
					delete(deleted, c)
					// fresh event IDs so the Tracker does not see duplicates (the store forgot them anyway)
					env.grow(t, c, 1, 2)
					level[c] = 2
					delete(shortened, c)
				}
			default: // shorten by Put
				if !deleted[c] && level[c] >= 2 && !shortened[c] {
					want := env.all(t)
					rvWait(t, 10*time.Second, "caught up before shortening", func() bool { return rec.hasAllPos(want) })
					cu, err := env.st.Get(context.Background(), c)
					if err != nil {
						t.Fatal(err)
					}
					prev := cu.Version
					cu.History = cu.History[:1]
					cu.Version = prev + 1
					if err := env.st.Put(context.Background(), cu, prev); err != nil {
						t.Fatal(err)
					}
					shortened[c] = true
				}
			}
			_ = k
		}
		if round%2 == 1 {
			// stop and restart the dispatcher between some rounds
			if err := run.stop(t); !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v", err)
			}
			run = rvStart(d)
		}
	}
	final := env.all(t)
	rvWait(t, 20*time.Second, "all delivered", func() bool { return rec.hasAllPos(final) })
	time.Sleep(30 * time.Millisecond)
	run.stop(t)
	got := rec.list()
	rvCheckOrder(t, got)
	for i := range N {
		c := id(i)
		cu, err := env.st.Get(context.Background(), c)
		if deleted[c] {
			if !errors.Is(err, lifecycle.ErrNotFound) {
				t.Errorf("%s: Get after delete = %v", c, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if shortened[c] {
			continue // its history no longer matches what was delivered before the Put
		}
		var seqs []uint64
		for _, ch := range got[epoch[c]:] {
			if ch.CustomerID != c {
				continue
			}
			if int(ch.Seq) > len(cu.History) || ch.Seq < 1 {
				t.Errorf("%s: delivered seq %d, history has %d", c, ch.Seq, len(cu.History))
				continue
			}
			if ch.Transition != cu.History[ch.Seq-1] {
				t.Errorf("%s #%d: delivered %+v, stored %+v", c, ch.Seq, ch.Transition, cu.History[ch.Seq-1])
			}
			seqs = append(seqs, ch.Seq)
		}
		ok := len(seqs) == len(cu.History)
		for j, s := range seqs {
			if s != uint64(j+1) {
				ok = false
			}
		}
		if !ok {
			t.Errorf("%s (history %d): delivered seqs %v since its creation", c, len(cu.History), seqs)
		}
	}
}

// hasAllPos: every change of want was delivered at its position (IDs repeat
// across a re-create, positions do not).
func (r *rvRec) hasAllPos(want []lifecycle.Change) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	pos := make(map[lifecycle.Cursor]bool, len(r.got))
	for _, ch := range r.got {
		pos[ch.Pos] = true
	}
	for _, ch := range want {
		if !pos[ch.Pos] {
			return false
		}
	}
	return true
}
