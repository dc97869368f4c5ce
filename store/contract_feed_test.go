package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

func rvHist(n int, tag string) []lifecycle.Transition {
	var h []lifecycle.Transition
	for i := range n {
		h = append(h, lifecycle.Transition{From: stage.ID(tag + strconv.Itoa(i)), To: stage.ID(tag + strconv.Itoa(i+1)), At: rvBase.Add(time.Duration(i) * time.Second), Cause: tag + "-c" + strconv.Itoa(i)})
	}
	return h
}

func rvAll(t *testing.T, m *store.Memory, after lifecycle.Cursor, limit int) []lifecycle.Change {
	t.Helper()
	var out []lifecycle.Change
	for {
		page, err := m.Changes(context.Background(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		if limit > 0 && len(page) > limit {
			t.Fatalf("page of %d > limit %d", len(page), limit)
		}
		for _, ch := range page {
			if ch.Pos <= after {
				t.Fatalf("Pos %d not after %d", ch.Pos, after)
			}
			after = ch.Pos
		}
		out = append(out, page...)
	}
}

func TestContractMemoryChanges(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	if chs, err := m.Changes(ctx, 0, 10); err != nil || len(chs) != 0 {
		t.Fatalf("empty store: %v %v", chs, err)
	}
	c := rvCustomer("a", 1)
	c.History = rvHist(3, "a")
	c.History[1].At = c.History[1].At.In(time.FixedZone("", 3600))
	if err := m.Put(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	all := rvAll(t, m, 0, 0)
	if len(all) != 3 {
		t.Fatalf("listed %d, want 3", len(all))
	}
	for i, ch := range all {
		if ch.CustomerID != "a" || ch.Seq != uint64(i+1) || ch.Pos != lifecycle.Cursor(i+1) || ch.Undeclared {
			t.Errorf("change %d: %+v", i, ch)
		}
		want := c.History[i]
		_, o1 := ch.At.Zone()
		_, o2 := want.At.Zone()
		if ch.From != want.From || ch.To != want.To || !ch.At.Equal(want.At) || o1 != o2 || ch.Cause != want.Cause {
			t.Errorf("change %d transition %+v, want %+v", i, ch.Transition, want)
		}
	}
	// limit 1 and limit < 1
	if p, _ := m.Changes(ctx, 0, 1); len(p) != 1 || p[0].Seq != 1 {
		t.Errorf("limit 1: %+v", p)
	}
	if p, _ := m.Changes(ctx, 1, 1); len(p) != 1 || p[0].Seq != 2 {
		t.Errorf("after 1 limit 1: %+v", p)
	}
	// Apply appends: Seq continues, Pos continues.
	ws := []lifecycle.Write{{ID: "a", Events: []string{"x"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if len(c.History) != 0 && len(c.History) != 3 {
			return false, fmt.Errorf("working copy history %d", len(c.History))
		}
		c.History = append(c.History, lifecycle.Transition{From: "a3", To: "a4", At: rvBase, Cause: "x"})
		c.History = append(c.History, lifecycle.Transition{From: "a4", To: "a5", At: rvBase, Cause: "x"})
		c.Version++
		return true, nil
	}}}
	m.Apply(ctx, ws)
	if ws[0].Err != nil {
		t.Fatal(ws[0].Err)
	}
	all = rvAll(t, m, 3, 2)
	if len(all) != 2 || all[0].Seq != 4 || all[1].Seq != 5 || all[0].Pos != 4 || all[1].Pos != 5 || all[1].To != "a5" {
		t.Errorf("after Apply: %+v", all)
	}
	g, _ := m.Get(ctx, "a")
	if len(g.History) != 5 || g.History[4].To != "a5" || g.History[0].To != "a1" {
		t.Errorf("history after Apply: %+v", g.History)
	}
	// 150 more changes of another customer: limit < 1 means 100.
	b := &lifecycle.Customer{ID: "b", Version: 1, History: rvHist(150, "b")}
	if err := m.Put(ctx, b, 0); err != nil {
		t.Fatal(err)
	}
	for _, lim := range []int{0, -1, -1000} {
		p, err := m.Changes(ctx, 5, lim)
		if err != nil || len(p) != 100 {
			t.Errorf("limit %d: %d changes, err %v", lim, len(p), err)
		}
	}
	if p, _ := m.Changes(ctx, 5, 1000); len(p) != 150 {
		t.Errorf("limit 1000: %d", len(p))
	}
	// Shorten a's history to 1: Seq 2..5 hidden, not listed.
	s := &lifecycle.Customer{ID: "a", Version: 3, History: rvHist(1, "a")}
	if err := m.Put(ctx, s, 2); err != nil {
		t.Fatal(err)
	}
	all = rvAll(t, m, 0, 0)
	na := 0
	for _, ch := range all {
		if ch.CustomerID == "a" {
			na++
			if ch.Seq != 1 {
				t.Errorf("hidden seq listed: %+v", ch)
			}
		}
	}
	if na != 1 || len(all) != 151 {
		t.Errorf("after shortening: a %d, total %d", na, len(all))
	}
	// An empty page only at the end: after pos 1, with hidden 2..5, b's follow.
	for _, lim := range []int{1, 2, 4} {
		p, err := m.Changes(ctx, 1, lim)
		if err != nil || len(p) == 0 || p[0].CustomerID != "b" || p[0].Seq != 1 {
			t.Errorf("after 1 limit %d past hidden: %+v %v", lim, p, err)
		}
	}
	// Fill it again to 6: Seq 2..5 listed at their old places with new transitions; 6 new.
	f := &lifecycle.Customer{ID: "a", Version: 4, History: rvHist(6, "z")}
	if err := m.Put(ctx, f, 3); err != nil {
		t.Fatal(err)
	}
	all = rvAll(t, m, 0, 7)
	var aPos []lifecycle.Change
	for _, ch := range all {
		if ch.CustomerID == "a" {
			aPos = append(aPos, ch)
		}
	}
	if len(aPos) != 6 {
		t.Fatalf("a's changes after refill: %+v", aPos)
	}
	for i, ch := range aPos {
		if ch.Seq != uint64(i+1) || ch.To != f.History[i].To {
			t.Errorf("refill change %d: %+v, want seq %d to %s", i, ch, i+1, f.History[i].To)
		}
		if i < 5 && ch.Pos != lifecycle.Cursor(i+1) {
			t.Errorf("refill seq %d at pos %d, want its old place %d", ch.Seq, ch.Pos, i+1)
		}
	}
	if aPos[5].Pos != 156 {
		t.Errorf("seq 6 at pos %d, want 156 (after b's 150)", aPos[5].Pos)
	}
	// A Put that changes the earlier transitions without lengthening: listed as history holds then, no new change.
	f2 := &lifecycle.Customer{ID: "a", Version: 5, History: rvHist(6, "y")}
	if err := m.Put(ctx, f2, 4); err != nil {
		t.Fatal(err)
	}
	if p, _ := m.Changes(ctx, 156, 10); len(p) != 0 {
		t.Errorf("rewrite added changes: %+v", p)
	}
	if p, _ := m.Changes(ctx, 0, 1); len(p) != 1 || p[0].To != "y1" {
		t.Errorf("rewritten seq 1 listed as %+v", p)
	}
	// Delete b: its changes are gone, and a's remain.
	if err := m.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	all = rvAll(t, m, 0, 3)
	if len(all) != 6 {
		t.Errorf("after deleting b: %d changes", len(all))
	}
	for _, ch := range all {
		if ch.CustomerID != "a" {
			t.Errorf("deleted customer listed: %+v", ch)
		}
	}
	// Re-create b: new positions, after everything.
	if err := m.Put(ctx, &lifecycle.Customer{ID: "b", Version: 1, History: rvHist(2, "n")}, 0); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Changes(ctx, 156, 10)
	if len(p) != 2 || p[0].Pos <= 156 || p[0].Seq != 1 || p[1].Seq != 2 {
		t.Errorf("re-created b: %+v", p)
	}
	// ID.
	if all[0].ID() == "" || all[0].ID() == all[1].ID() {
		t.Errorf("IDs %q %q", all[0].ID(), all[1].ID())
	}
	// ctx.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Changes(cctx, 0, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Changes with cancelled ctx: %v", err)
	}
}

// Changes of a customer whose history is shortened and then deleted while
// hidden, then re-created with a long history.
func TestContractMemoryChangesHiddenThenDeleted(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	if err := m.Put(ctx, &lifecycle.Customer{ID: "h", Version: 1, History: rvHist(4, "h")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, &lifecycle.Customer{ID: "h", Version: 2, History: rvHist(1, "h")}, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, &lifecycle.Customer{ID: "h", Version: 1, History: rvHist(5, "k")}, 0); err != nil {
		t.Fatal(err)
	}
	all := rvAll(t, m, 0, 0)
	if len(all) != 5 {
		t.Fatalf("listed %d, want 5: %+v", len(all), all)
	}
	for i, ch := range all {
		if ch.Seq != uint64(i+1) || ch.To != stage.ID("k"+strconv.Itoa(i+1)) || ch.Pos <= 4 {
			t.Errorf("change %d: %+v", i, ch)
		}
	}
	// Other customers moved by delete (shard's last moves into freed place) keep their changes.
	m2 := store.NewMemory()
	for i := range 200 {
		if err := m2.Put(ctx, &lifecycle.Customer{ID: "u" + strconv.Itoa(i), Version: 1, History: rvHist(2, "u"+strconv.Itoa(i)+"-")}, 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i += 3 {
		if err := m2.Delete(ctx, "u"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	all = rvAll(t, m2, 0, 37)
	got := map[string]int{}
	for _, ch := range all {
		got[ch.CustomerID]++
		want := stage.ID(ch.CustomerID[1:] + "-" + strconv.Itoa(int(ch.Seq)))
		want = stage.ID("u") + want
		if ch.To != want {
			t.Errorf("change %+v has transition To %q, want %q", ch, ch.To, want)
		}
	}
	for i := range 200 {
		id := "u" + strconv.Itoa(i)
		if i%3 == 0 && got[id] != 0 || i%3 != 0 && got[id] != 2 {
			t.Errorf("%s listed %d times", id, got[id])
		}
	}
}

func TestContractMemoryCursors(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	t0 := rvBase
	c, held, err := m.ClaimCursor(ctx, "n", "A", t0, t0.Add(time.Minute))
	if err != nil || !held || c != 0 {
		t.Fatalf("first claim: %d %v %v", c, held, err)
	}
	if c, held, err = m.ClaimCursor(ctx, "n", "B", t0.Add(30*time.Second), t0.Add(2*time.Minute)); err != nil || held || c != 0 {
		t.Errorf("claim of held name: %d %v %v", c, held, err)
	}
	if err := m.AdvanceCursor(ctx, "n", "A", 5, t0.Add(10*time.Second), t0.Add(time.Minute)); err != nil {
		t.Errorf("holder advance: %v", err)
	}
	if err := m.AdvanceCursor(ctx, "n", "B", 6, t0.Add(10*time.Second), t0.Add(time.Minute)); !errors.Is(err, lifecycle.ErrConflict) {
		t.Errorf("non-holder advance: %v", err)
	}
	if err := m.AdvanceCursor(ctx, "n", "A", 4, t0.Add(10*time.Second), t0.Add(time.Minute)); !errors.Is(err, lifecycle.ErrConflict) {
		t.Errorf("backwards advance: %v", err)
	}
	if err := m.AdvanceCursor(ctx, "n", "A", 5, t0.Add(11*time.Second), t0.Add(time.Minute)); err != nil {
		t.Errorf("advance to same cursor: %v", err)
	}
	// renewal by the holder
	if c, held, err = m.ClaimCursor(ctx, "n", "A", t0.Add(50*time.Second), t0.Add(3*time.Minute)); err != nil || !held || c != 5 {
		t.Errorf("renewal: %d %v %v", c, held, err)
	}
	// B at 2 min: lease (3 min) still held.
	if _, held, _ = m.ClaimCursor(ctx, "n", "B", t0.Add(2*time.Minute), t0.Add(5*time.Minute)); held {
		t.Errorf("B got a renewed lease")
	}
	// Lease ended exactly at now: B gets it.
	if c, held, err = m.ClaimCursor(ctx, "n", "B", t0.Add(3*time.Minute), t0.Add(4*time.Minute)); err != nil || !held || c != 5 {
		t.Errorf("claim at end of lease: %d %v %v", c, held, err)
	}
	// A's advance now fails, B's works.
	if err := m.AdvanceCursor(ctx, "n", "A", 9, t0.Add(3*time.Minute), t0.Add(5*time.Minute)); !errors.Is(err, lifecycle.ErrConflict) {
		t.Errorf("old holder advance: %v", err)
	}
	// A holder whose lease ended (now == until) does not hold it at now.
	if err := m.AdvanceCursor(ctx, "n", "B", 7, t0.Add(4*time.Minute), t0.Add(5*time.Minute)); !errors.Is(err, lifecycle.ErrConflict) {
		t.Errorf("advance by holder at the end of its lease: %v", err)
	}
	if err := m.AdvanceCursor(ctx, "n", "B", 7, t0.Add(3*time.Minute+time.Second), t0.Add(3*time.Minute+time.Second)); err != nil {
		t.Errorf("advance giving up: %v", err)
	}
	// Given up: A can claim at the same now.
	if c, held, err = m.ClaimCursor(ctx, "n", "A", t0.Add(3*time.Minute+time.Second), t0.Add(10*time.Minute)); err != nil || !held || c != 7 {
		t.Errorf("claim after give-up: %d %v %v", c, held, err)
	}
	// Empty owner: an owner like any other, or refused.
	c, held, err = m.ClaimCursor(ctx, "e", "", t0, t0.Add(time.Minute))
	if err == nil {
		if !held {
			t.Errorf("empty owner not granted a free lease")
		}
		if _, h2, _ := m.ClaimCursor(ctx, "e", "X", t0, t0.Add(time.Minute)); h2 {
			t.Errorf("\"\" treated as nobody")
		}
		if err := m.AdvanceCursor(ctx, "e", "", 3, t0, t0.Add(time.Minute)); err != nil {
			t.Errorf("empty owner advance: %v", err)
		}
	}
	// Advance of an unknown name by an owner that never claimed.
	if err := m.AdvanceCursor(ctx, "unknown", "A", 3, t0, t0.Add(time.Minute)); !errors.Is(err, lifecycle.ErrConflict) {
		t.Errorf("advance unclaimed: %v", err)
	}
	// Non-UTC times and times far apart.
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, held, err = m.ClaimCursor(ctx, "f", "A", t0.In(time.FixedZone("", 3600)), far); err != nil || !held {
		t.Errorf("far claim: %v %v", held, err)
	}
	if _, held, _ = m.ClaimCursor(ctx, "f", "B", time.Date(2900, 1, 1, 0, 0, 0, 0, time.UTC), far); held {
		t.Errorf("B took a lease that runs to year 3000 at 2900")
	}
	if _, held, _ = m.ClaimCursor(ctx, "f", "B", time.Date(2270, 1, 1, 0, 0, 0, 0, time.UTC), far); held {
		t.Errorf("B took a lease that runs to year 3000 at 2270")
	}
	if _, held, _ = m.ClaimCursor(ctx, "g", "A", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1650, 1, 1, 0, 0, 0, 0, time.UTC)); !held {
		t.Errorf("claim in 1600")
	}
	if _, held, _ = m.ClaimCursor(ctx, "g", "B", time.Date(1640, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)); held {
		t.Errorf("B took A's lease in 1640 that runs to 1650")
	}
	// Sub-nanosecond-different instants in different zones.
	n2 := t0.Add(time.Hour)
	if _, held, _ = m.ClaimCursor(ctx, "z", "A", t0, n2.In(time.FixedZone("", -7200))); !held {
		t.Error("z claim")
	}
	if _, held, _ = m.ClaimCursor(ctx, "z", "B", n2.Add(-1).In(time.FixedZone("", 7200)), n2.Add(time.Hour)); held {
		t.Errorf("B took the lease 1ns before it ends")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := m.ClaimCursor(cctx, "c", "A", t0, t0.Add(time.Minute)); !errors.Is(err, context.Canceled) {
		t.Errorf("ClaimCursor cancelled: %v", err)
	}
	if err := m.AdvanceCursor(cctx, "n", "A", 8, t0.Add(4*time.Minute), t0.Add(5*time.Minute)); !errors.Is(err, context.Canceled) {
		t.Errorf("AdvanceCursor cancelled: %v", err)
	}
	// Concurrent claims: one holder.
	var wg sync.WaitGroup
	var mu sync.Mutex
	holders := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, h, err := m.ClaimCursor(ctx, "conc", "o"+strconv.Itoa(i), t0, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if h {
				mu.Lock()
				holders++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if holders != 1 {
		t.Errorf("%d holders", holders)
	}
}

func TestContractMemoryApply(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	// New customer: fn gets ID, Version 0, other fields zero.
	ws := []lifecycle.Write{{ID: "n", Events: []string{"e1", "e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if c.ID != "n" || c.Version != 0 || c.Stage != "" || len(c.History) != 0 || !c.Due.IsZero() || len(seen) != 2 || seen[0] || seen[1] {
			return false, fmt.Errorf("new working copy: %+v seen %v", c, seen)
		}
		c.Stage = "reach"
		c.Version = 1
		c.ID = "renamed"
		c.History = append(c.History, lifecycle.Transition{To: "reach", At: rvBase, Cause: "e1"})
		return true, nil
	}}}
	m.Apply(ctx, ws)
	if ws[0].Err != nil {
		t.Fatal(ws[0].Err)
	}
	if _, err := m.Get(ctx, "renamed"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("renamed stored: %v", err)
	}
	g, err := m.Get(ctx, "n")
	if err != nil || g.ID != "n" || !g.Seen.Has("e1") || !g.Seen.Has("e2") || g.Seen.Len() != 2 || len(g.History) != 1 {
		t.Fatalf("after Apply: %+v %v", g, err)
	}
	// seen flags; fn returns false → nothing stored; fn error as is; wrong version → ErrInvalidCustomer.
	sentinel := errors.New("boom")
	ws = []lifecycle.Write{
		{ID: "n", Events: []string{"e2", "e3"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if !seen[0] || seen[1] {
				return false, fmt.Errorf("seen %v", seen)
			}
			c.Stage = "changed"
			return false, nil
		}},
		{ID: "x", Events: []string{"e"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			c.Version = 1
			return true, sentinel
		}},
		{ID: "y", Events: []string{"e"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			c.Version = 2
			return true, nil
		}},
		{ID: "z", Events: nil, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if len(seen) != 0 {
				return false, fmt.Errorf("seen %v", seen)
			}
			c.Version = 1
			c.Stage = "s"
			return true, nil
		}},
	}
	m.Apply(ctx, ws)
	if ws[0].Err != nil {
		t.Errorf("w0: %v", ws[0].Err)
	}
	if ws[1].Err != sentinel {
		t.Errorf("w1 err %v, want the fn's error as is", ws[1].Err)
	}
	if !errors.Is(ws[2].Err, lifecycle.ErrInvalidCustomer) {
		t.Errorf("w2 err %v", ws[2].Err)
	}
	if ws[3].Err != nil {
		t.Errorf("w3: %v", ws[3].Err)
	}
	if g2, _ := m.Get(ctx, "n"); g2.Stage != "reach" || g2.Seen.Has("e3") || g2.Version != 1 {
		t.Errorf("fn false stored something: %+v", g2)
	}
	for _, id := range []string{"x", "y"} {
		if _, err := m.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
			t.Errorf("%s stored: %v", id, err)
		}
	}
	if g3, err := m.Get(ctx, "z"); err != nil || g3.Seen.Len() != 0 {
		t.Errorf("z: %+v %v", g3, err)
	}
	// Legacy keys: Seen with LegacyKeyOf("old") makes event "old" seen.
	lc := &lifecycle.Customer{ID: "leg", Version: 1}
	lc.Seen.Set([]lifecycle.EventKey{lifecycle.LegacyKeyOf("old")})
	if err := m.Put(ctx, lc, 0); err != nil {
		t.Fatal(err)
	}
	ws = []lifecycle.Write{{ID: "leg", Events: []string{"old", "new"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if !seen[0] || seen[1] {
			return false, fmt.Errorf("legacy seen %v", seen)
		}
		c.Version++
		return true, nil
	}}}
	m.Apply(ctx, ws)
	if ws[0].Err != nil {
		t.Error(ws[0].Err)
	}
	if g, _ := m.Get(ctx, "leg"); !g.Seen.Has("old") || !g.Seen.Has("new") || g.Seen.Len() != 2 {
		t.Errorf("leg seen %d", g.Seen.Len())
	}
	// ctx done: Err = ctx error, fn not called.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	ws = []lifecycle.Write{{ID: "n", Events: []string{"q"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
		called = true
		c.Version++
		return true, nil
	}}}
	m.Apply(cctx, ws)
	if called || !errors.Is(ws[0].Err, context.Canceled) {
		t.Errorf("cancelled Apply: called %v err %v", called, ws[0].Err)
	}
	// Many events on a customer: seen stays exact past 128 keys.
	var evs []string
	for i := range 1000 {
		evs = append(evs, "ev"+strconv.Itoa(i))
	}
	for i := 0; i < 1000; i += 100 {
		batch := evs[i : i+100]
		ws = []lifecycle.Write{{ID: "many", Events: batch, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			for _, s := range seen {
				if s {
					return false, errors.New("fresh event seen")
				}
			}
			c.Version++
			return true, nil
		}}}
		m.Apply(ctx, ws)
		if ws[0].Err != nil {
			t.Fatal(ws[0].Err)
		}
	}
	ws = []lifecycle.Write{{ID: "many", Events: append([]string{"fresh"}, evs...), Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
		if seen[0] {
			return false, errors.New("fresh seen")
		}
		for i, s := range seen[1:] {
			if !s {
				return false, fmt.Errorf("%s not seen", evs[i])
			}
		}
		return false, nil
	}}}
	m.Apply(ctx, ws)
	if ws[0].Err != nil {
		t.Error(ws[0].Err)
	}
	if g, _ := m.Get(ctx, "many"); g.Seen.Len() != 1000 || g.Version != 10 {
		t.Errorf("many: seen %d version %d", g.Seen.Len(), g.Version)
	}
}

func TestContractMemoryContext(t *testing.T) {
	m := store.NewMemory()
	ctx := context.Background()
	if err := m.Put(ctx, rvCustomer("k", 1), 0); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Get(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
	var d lifecycle.Customer
	if err := m.Load(cctx, "k", &d); !errors.Is(err, context.Canceled) {
		t.Errorf("Load: %v", err)
	}
	if err := m.Put(cctx, rvCustomer("k2", 1), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
	if _, err := m.Get(ctx, "k2"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("cancelled Put stored: %v", err)
	}
	if err := m.Delete(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: %v", err)
	}
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Errorf("cancelled Delete deleted: %v", err)
	}
	for name, seq := range map[string]func() error{
		"Scan": func() error {
			for _, err := range m.Scan(cctx) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"View": func() error {
			for _, err := range m.View(cctx) {
				if err != nil {
					return err
				}
			}
			return nil
		},
	} {
		if err := seq(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Cancelled mid-scan: error yielded, then stop.
	for i := range 500 {
		_ = m.Put(ctx, &lifecycle.Customer{ID: "s" + strconv.Itoa(i), Version: 1}, 0)
	}
	sctx, scancel := context.WithCancel(ctx)
	n, errs, after := 0, 0, 0
	for _, err := range m.Scan(sctx) {
		if err != nil {
			errs++
			continue
		}
		if errs > 0 {
			after++
		}
		n++
		if n == 10 {
			scancel()
		}
	}
	scancel()
	if errs != 1 || after != 0 || n >= 501 {
		t.Errorf("scan cancelled midway: %d yielded, %d errors, %d after error", n, errs, after)
	}
}

func TestContractMemoryScanView(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	for i := range 1000 {
		c := rvCustomer("v"+strconv.Itoa(i), 1)
		if i%5 == 0 {
			c.AsOf = c.AsOf.In(time.FixedZone("", 3600)) // kept whole
		}
		if err := m.Put(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for c, err := range m.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		seen[c.ID]++
		// The body writes: add new customers and update this one.
		c.Version++
		if err := m.Put(ctx, c, c.Version-1); err != nil {
			t.Fatal(err)
		}
		if c.ID[0] == 'v' {
			_ = m.Put(ctx, &lifecycle.Customer{ID: "new-" + c.ID, Version: 1}, 0)
		}
	}
	for i := range 1000 {
		if seen["v"+strconv.Itoa(i)] != 1 {
			t.Errorf("v%d yielded %d times", i, seen["v"+strconv.Itoa(i)])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s yielded %d", id, n)
		}
	}
	if m.Len() != 2000 {
		t.Errorf("Len %d", m.Len())
	}
	vs := map[string]int{}
	var kept []*lifecycle.Customer
	for c, err := range m.View(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		vs[c.ID]++
		kept = append(kept, c.Clone())
	}
	if len(vs) != 2000 {
		t.Errorf("View yielded %d distinct", len(vs))
	}
	for _, c := range kept {
		g, err := m.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := reviewDiff(g, c); len(d) > 0 {
			t.Errorf("View of %s differs from Get: %v", c.ID, d)
			break
		}
	}
	n := 0
	for range m.View(ctx) {
		n++
		if n == 3 {
			break
		}
	}
	for range m.Scan(ctx) {
		break
	}
	if err := m.Put(ctx, &lifecycle.Customer{ID: "after-break", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
}

func TestContractMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	const ids = 40
	var wg sync.WaitGroup
	var applied sync.Map // event → count
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() { // Apply writers: each event once per customer.
			defer wg.Done()
			for i := range 300 {
				id := "c" + strconv.Itoa(i%ids)
				ev := "e" + strconv.Itoa(i)
				ws := []lifecycle.Write{{ID: id, Events: []string{ev}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
					if seen[0] {
						return false, nil
					}
					c.History = append(c.History, lifecycle.Transition{To: stage.ID(ev), At: rvBase})
					c.Due = rvBase.Add(time.Duration(i) * time.Second)
					c.Version++
					return true, nil
				}}}
				m.Apply(ctx, ws)
				if ws[0].Err == nil {
					v, _ := applied.LoadOrStore(id+"/"+ev, new(int64))
					_ = v
				}
				_ = w
			}
		}()
	}
	wg.Add(1)
	go func() { // Put writer with CAS retries.
		defer wg.Done()
		for i := range 200 {
			id := "c" + strconv.Itoa(i%ids)
			for {
				c, err := m.Get(ctx, id)
				if errors.Is(err, lifecycle.ErrNotFound) {
					c = &lifecycle.Customer{ID: id}
				} else if err != nil {
					t.Error(err)
					return
				}
				prev := c.Version
				c.Version++
				c.Stage = "put"
				err = m.Put(ctx, c, prev)
				if err == nil {
					break
				}
				if !errors.Is(err, lifecycle.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Add(1)
	go func() { // deleter of a separate range
		defer wg.Done()
		for i := range 200 {
			id := "d" + strconv.Itoa(i%10)
			_ = m.Put(ctx, &lifecycle.Customer{ID: id, Version: 1, History: rvHist(2, id)}, 0)
			_ = m.Delete(ctx, id)
		}
	}()
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // readers
		defer readers.Done()
		var after lifecycle.Cursor
		for {
			select {
			case <-stop:
				return
			default:
			}
			for c, err := range m.Scan(ctx) {
				if err != nil {
					t.Error(err)
					return
				}
				_ = c.Seen.Len()
			}
			for c, err := range m.View(ctx) {
				if err != nil {
					t.Error(err)
					return
				}
				_ = len(c.History)
			}
			for _, err := range m.ListDue(ctx, rvBase.Add(100*time.Second)) {
				if err != nil {
					t.Error(err)
					return
				}
			}
			p, err := m.Changes(ctx, after, 50)
			if err != nil {
				t.Error(err)
				return
			}
			for _, ch := range p {
				if ch.Pos <= after {
					t.Errorf("pos went back")
				}
				after = ch.Pos
			}
			_ = m.Len()
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	// Every customer c<i> holds each of its events exactly once in history.
	total := 0
	for i := range ids {
		g, err := m.Get(ctx, "c"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		cnt := map[stage.ID]int{}
		for _, tr := range g.History {
			cnt[tr.To]++
		}
		for k, v := range cnt {
			if v != 1 {
				t.Errorf("c%d: %s in history %d times", i, k, v)
			}
		}
		total += len(g.History)
		if g.Seen.Len() != len(g.History) {
			t.Errorf("c%d: seen %d history %d", i, g.Seen.Len(), len(g.History))
		}
	}
	if total != 300 {
		t.Errorf("total history %d, want 300", total)
	}
	// The feed lists every transition of the c customers once.
	all := rvAll(t, m, 0, 0)
	per := map[string]int{}
	for _, ch := range all {
		per[ch.CustomerID]++
	}
	sum := 0
	for i := range ids {
		sum += per["c"+strconv.Itoa(i)]
	}
	if sum != 300 {
		t.Errorf("feed lists %d c-changes, want 300", sum)
	}
	for i := range 10 {
		if per["d"+strconv.Itoa(i)] != 0 {
			t.Errorf("deleted d%d listed", i)
		}
	}
}

// A reader paging through the feed while writers commit misses nothing and
// sees nothing twice (ChangeLister: "Never skips").
func TestContractMemoryChangesNeverSkip(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	const writers, per = 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i%17)
				ws := []lifecycle.Write{{ID: id, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
					c.History = append(c.History, lifecycle.Transition{To: stage.ID("s" + strconv.Itoa(i)), At: rvBase})
					c.Version++
					return true, nil
				}}}
				m.Apply(ctx, ws)
				if ws[0].Err != nil {
					t.Error(ws[0].Err)
				}
				if i%50 == 0 { // a Put with two transitions too
					c, err := m.Get(ctx, id)
					if err == nil {
						c.History = append(c.History, lifecycle.Transition{To: "p1"}, lifecycle.Transition{To: "p2"})
						c.Version++
						_ = m.Put(ctx, c, c.Version-1)
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	type key struct {
		id  string
		seq uint64
	}
	got := map[key]int{}
	var after lifecycle.Cursor
	finished := false
	for {
		p, err := m.Changes(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range p {
			if ch.Pos <= after {
				t.Fatalf("pos %d after %d", ch.Pos, after)
			}
			after = ch.Pos
			got[key{ch.CustomerID, ch.Seq}]++
		}
		if len(p) == 0 {
			if finished {
				break
			}
			select {
			case <-done:
				finished = true
			default:
			}
		}
	}
	total := 0
	for w := range writers {
		for i := range 17 {
			id := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
			c, err := m.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for s := range c.History {
				if got[key{id, uint64(s + 1)}] != 1 {
					t.Errorf("%s seq %d listed %d times", id, s+1, got[key{id, uint64(s + 1)}])
				}
			}
			total += len(c.History)
		}
	}
	if total != len(got) {
		t.Errorf("listed %d distinct, histories hold %d", len(got), total)
	}
}

// TestAdvanceUnclaimedCursorRefused: a name never claimed is held by
// nobody, so advancing it is a conflict for every owner, the empty one
// too, at any time (found by an audit: owner "" at a now before the zero
// time was taken for its holder).
func TestAdvanceUnclaimedCursorRefused(t *testing.T) {
	m := store.NewMemory()
	ctx := context.Background()
	for _, owner := range []string{"", "a"} {
		for _, now := range []time.Time{time.Time{}.Add(-time.Hour), {}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} {
			if err := m.AdvanceCursor(ctx, "never", owner, 3, now, now.Add(time.Hour)); !errors.Is(err, lifecycle.ErrConflict) {
				t.Errorf("AdvanceCursor(never claimed, owner %q, now %s) = %v; want an error wrapping ErrConflict", owner, now, err)
			}
		}
	}
	if c, held, err := m.ClaimCursor(ctx, "never", "a", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)); err != nil || !held || c != 0 {
		t.Errorf("ClaimCursor after the refused advances = %d, %v, %v; want 0, true, nil", c, held, err)
	}
}
