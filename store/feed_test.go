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
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// feedModel is what the change feed must list: every transition committed,
// in commit order, less those of deleted customers.
type feedModel struct {
	log     []lifecycle.Change
	deleted map[string]bool
}

// putFeedCustomer stores (or extends) id with n more transitions whose
// causes name id and their position in its history.
func putFeedCustomer(t *testing.T, m *store.Memory, fm *feedModel, id string, n int) {
	t.Helper()
	ctx := context.Background()
	c, err := m.Get(ctx, id)
	var prev uint64
	if err != nil {
		c = &lifecycle.Customer{ID: id}
	} else {
		prev = c.Version
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range n {
		seq := len(c.History) + 1
		tr := lifecycle.Transition{From: c.Stage, To: stage.ID("s" + fmt.Sprint(seq%3)), At: at.Add(time.Duration(seq) * time.Hour), Cause: fmt.Sprintf("%s/%d", id, seq)}
		c.History = append(c.History, tr)
		c.Stage, c.Since, c.AsOf = tr.To, tr.At, tr.At
		fm.log = append(fm.log, lifecycle.Change{CustomerID: id, Transition: tr, Seq: uint64(seq)})
	}
	c.Version = prev + 1
	if err := m.Put(ctx, c, prev); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryFeedAfterDeletes: deleting a customer moves another into its
// place in the shard; the feed must keep listing the moved customer's
// transitions under its own ID and never list the deleted one's.
func TestMemoryFeedAfterDeletes(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	fm := &feedModel{deleted: map[string]bool{}}
	rng := rand.New(rand.NewPCG(7, 8))
	var live []string
	for i := range 300 { // about 5 customers a shard
		id := fmt.Sprintf("c%03d", i)
		putFeedCustomer(t, m, fm, id, 1+rng.IntN(3))
		live = append(live, id)
	}
	for step := range 400 {
		switch i := rng.IntN(len(live)); {
		case step%3 == 0: // delete
			id := live[i]
			live = append(live[:i], live[i+1:]...)
			if err := m.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			fm.deleted[id] = true
		case step%3 == 1: // a new customer
			id := fmt.Sprintf("n%03d", step)
			putFeedCustomer(t, m, fm, id, 1+rng.IntN(2))
			live = append(live, id)
		default: // a longer history
			putFeedCustomer(t, m, fm, live[i], 1)
		}
		if step%50 != 49 {
			continue
		}
		var want []lifecycle.Change
		for i, ch := range fm.log {
			if !fm.deleted[ch.CustomerID] {
				ch.Pos = lifecycle.Cursor(i + 1)
				want = append(want, ch)
			}
		}
		var got []lifecycle.Change
		for after := lifecycle.Cursor(0); ; {
			page, err := m.Changes(ctx, after, 37)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Pos
		}
		if len(got) != len(want) {
			t.Fatalf("step %d: the feed lists %d changes; want %d", step, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.CustomerID != w.CustomerID || g.Seq != w.Seq || g.Pos != w.Pos || g.Cause != w.Cause || g.To != w.To || !g.At.Equal(w.At) {
				t.Fatalf("step %d: change %d is %+v; want %+v", step, i, g, w)
			}
		}
	}
}

// TestMemoryFeedConcurrentDeletes reads the feed while customers are
// deleted (moving others in their shards) and extended: every change
// listed must be its customer's, at its place in that customer's history.
func TestMemoryFeedConcurrentDeletes(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	const writers, perWriter = 2, 150
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			fm := &feedModel{deleted: map[string]bool{}}
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%03d", w, i)
				putFeedCustomer(t, m, fm, id, 2)
				if j := rng.IntN(i + 1); j%2 == 0 {
					if err := m.Delete(ctx, fmt.Sprintf("w%d-%03d", w, j)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := m.Changes(ctx, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range page {
			if want := fmt.Sprintf("%s/%d", ch.CustomerID, ch.Seq); ch.Cause != want {
				t.Fatalf("change %+v: cause %q; want %q", ch, ch.Cause, want)
			}
		}
	}
}

// TestMemoryFeedMatchesHistories records events through a Tracker (the
// Apply path) while deleting customers now and then (which moves others in
// their shards): the feed must list each stored customer's history exactly,
// once and in order, and nothing of a deleted customer.
func TestMemoryFeedMatchesHistories(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), m)
	rng := rand.New(rand.NewPCG(11, 12))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	types := []lifecycle.EventType{lifecycle.SiteVisited, lifecycle.SignedUp, lifecycle.OrderCompleted, lifecycle.OrderRefunded}
	for i := range 3000 {
		id := fmt.Sprintf("c%03d", rng.IntN(200))
		if rng.IntN(40) == 0 {
			if err := m.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			continue
		}
		e := lifecycle.Event{ID: fmt.Sprintf("e%d", i), CustomerID: id, Type: types[rng.IntN(len(types))], Time: t0.Add(time.Duration(i) * time.Hour)}
		if e.Type == lifecycle.OrderCompleted || e.Type == lifecycle.OrderRefunded {
			e.Amount, e.Currency = 100, "EUR"
		}
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%500 != 499 {
			continue
		}
		page, err := m.Changes(ctx, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string][]lifecycle.Change{}
		for _, ch := range page {
			listed[ch.CustomerID] = append(listed[ch.CustomerID], ch)
		}
		stored := 0
		for c, err := range m.Scan(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got := listed[c.ID]
			if len(got) != len(c.History) {
				t.Fatalf("event %d: the feed lists %d changes of %s; its history has %d", i, len(got), c.ID, len(c.History))
			}
			for j, ch := range got {
				if ch.Seq != uint64(j+1) || ch.Transition != c.History[j] {
					t.Fatalf("event %d: change %d of %s is %+v; want seq %d, %+v", i, j, c.ID, ch, j+1, c.History[j])
				}
			}
			stored += len(got)
		}
		if stored != len(page) {
			t.Fatalf("event %d: the feed lists %d changes; the stored customers' histories hold %d", i, len(page), stored)
		}
	}
}

// TestMemoryFeedShortenedHistory: a Put may shorten a customer's history
// and a later one lengthen it again. The feed lists each customer's Seq at
// most once (as sqlstore does: a change row per customer and Seq), with
// the transition the history holds when listed, in Seq order — also when
// deletes in between move the customer to another place in its shard.
func TestMemoryFeedShortenedHistory(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	hist := func(id string, n int, round int) []lifecycle.Transition {
		h := make([]lifecycle.Transition, n)
		for i := range h {
			h[i] = lifecycle.Transition{From: stage.ID(fmt.Sprint("s", i)), To: stage.ID(fmt.Sprint("s", i+1)), At: t0.Add(time.Duration(i) * time.Hour), Cause: fmt.Sprint(id, "-", round, "-", i)}
		}
		return h
	}
	put := func(id string, h []lifecycle.Transition) {
		t.Helper()
		var prev uint64
		if c, err := m.Get(ctx, id); err == nil {
			prev = c.Version
		}
		c := &lifecycle.Customer{ID: id, Stage: h[len(h)-1].To, Since: t0, AsOf: t0, Version: prev + 1, History: h}
		if err := m.Put(ctx, c, prev); err != nil {
			t.Fatalf("Put(%s) = %v", id, err)
		}
	}
	const n = 200
	id := func(i int) string { return fmt.Sprint("c", i) }
	for i := range n {
		put(id(i), hist(id(i), 3, 0))
	}
	for i := n / 2; i < n; i++ { // shorten the last stored: 3 → 1 or 2
		put(id(i), hist(id(i), 1+i%2, 1))
	}
	for i := range n / 4 { // deletes move the shards' last customers (shortened ones) into the places of the first
		if err := m.Delete(ctx, id(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := n / 2; i < n; i++ { // grow again: to 3, or past the old length, to 5
		put(id(i), hist(id(i), 3+2*(i%3/2), 2))
	}
	chs, err := m.Changes(ctx, 0, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		id  string
		seq uint64
	}
	listed := map[key]lifecycle.Transition{}
	last := map[string]uint64{}
	for _, ch := range chs {
		k := key{ch.CustomerID, ch.Seq}
		if _, dup := listed[k]; dup {
			t.Fatalf("customer %s's change %d listed twice", ch.CustomerID, ch.Seq)
		}
		if ch.Seq <= last[ch.CustomerID] {
			t.Fatalf("customer %s's change %d listed after its change %d", ch.CustomerID, ch.Seq, last[ch.CustomerID])
		}
		listed[k], last[ch.CustomerID] = ch.Transition, ch.Seq
	}
	want := 0
	for i := range n {
		c, err := m.Get(ctx, id(i))
		if i < n/4 {
			if err == nil {
				t.Fatalf("%s was deleted, Get = %v", id(i), err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for j, tr := range c.History {
			want++
			if got, ok := listed[key{id(i), uint64(j + 1)}]; !ok || got != tr {
				t.Fatalf("customer %s's change %d: listed %v (%+v); want %+v", id(i), j+1, ok, got, tr)
			}
		}
	}
	if len(chs) != want {
		t.Fatalf("the feed lists %d changes; the stored histories hold %d", len(chs), want)
	}
}
