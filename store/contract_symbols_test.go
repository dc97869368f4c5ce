package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// More than 65,535 distinct stage IDs, event types and currencies in one
// store: customers are still returned exactly.
func TestContractMemoryManySymbols(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	mk := func(i int) *lifecycle.Customer {
		c := &lifecycle.Customer{ID: "sym" + strconv.Itoa(i), Version: 1, Stage: stage.ID("st" + strconv.Itoa(i)), AsOf: rvBase,
			Facts: lifecycle.Facts{
				Tallies: []lifecycle.Tally{{Type: lifecycle.EventType("acme.t" + strconv.Itoa(i)), Count: 1, First: rvBase, Last: rvBase}},
				Sums:    []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: fmt.Sprintf("C%d", i), Amount: 5}},
			},
			History: []lifecycle.Transition{{From: stage.ID("f" + strconv.Itoa(i)), To: stage.ID("st" + strconv.Itoa(i)), At: rvBase}},
		}
		return c
	}
	const n = 17000 // 4+ symbols each: past 65,535
	wants := make([]*lifecycle.Customer, n)
	for i := range n {
		c := mk(i)
		wants[i] = c.Clone()
		if err := m.Put(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Apply new symbols to an early customer after the table is full.
	ws := []lifecycle.Write{{ID: "sym0", Events: []string{"x"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.Stage = "brand-new-stage"
		c.Facts.Tallies = append(c.Facts.Tallies, lifecycle.Tally{Type: "acme.brandnew", Count: 2, First: rvBase, Last: rvBase})
		c.History = append(c.History, lifecycle.Transition{From: "st0", To: "brand-new-stage", At: rvBase, Cause: "x"})
		c.Version++
		return true, nil
	}}}
	m.Apply(ctx, ws)
	if ws[0].Err != nil {
		t.Fatal(ws[0].Err)
	}
	w0 := wants[0]
	w0.Stage = "brand-new-stage"
	w0.Facts.Tallies = append(w0.Facts.Tallies, lifecycle.Tally{Type: "acme.brandnew", Count: 2, First: rvBase, Last: rvBase})
	w0.History = append(w0.History, lifecycle.Transition{From: "st0", To: "brand-new-stage", At: rvBase, Cause: "x"})
	w0.Version = 2
	w0.Seen.Set([]lifecycle.EventKey{lifecycle.KeyOf("x")})
	bad := 0
	for i := range n {
		g, err := m.Get(ctx, wants[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := reviewDiff(wants[i], g); len(d) > 0 {
			bad++
			if bad < 5 {
				t.Errorf("%s: %s", wants[i].ID, strings.Join(d, "; "))
			}
		}
	}
	chs, err := m.Changes(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != n+1 {
		t.Errorf("changes %d", len(chs))
	}
	for _, ch := range chs {
		i, _ := strconv.Atoi(strings.TrimPrefix(ch.CustomerID, "sym"))
		want := wants[i].History[ch.Seq-1]
		if ch.To != want.To || ch.From != want.From {
			t.Errorf("change %+v, want %+v", ch, want)
			break
		}
	}
}

// Strings handed out earlier never change when the store rewrites the customer.
func TestContractMemoryReturnedStringsStable(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	c := &lifecycle.Customer{ID: "str", Version: 1, Stage: "a", History: rvHist(3, "p")}
	if err := m.Put(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	g1, _ := m.Get(ctx, "str")
	snap := g1.Clone()
	snapCauses := []string{}
	for _, h := range g1.History {
		snapCauses = append(snapCauses, strings.Clone(h.Cause))
	}
	id := strings.Clone(g1.ID)
	// Rewrite history (same length, different causes), append by Apply, delete, re-create.
	c2 := &lifecycle.Customer{ID: "str", Version: 2, Stage: "b", History: rvHist(3, "QQ")}
	if err := m.Put(ctx, c2, 1); err != nil {
		t.Fatal(err)
	}
	ws := []lifecycle.Write{{ID: "str", Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.History = append(c.History, lifecycle.Transition{To: "z", Cause: "zzzzzzzzzzzzzz"})
		c.Version++
		return true, nil
	}}}
	m.Apply(ctx, ws)
	_ = m.Delete(ctx, "str")
	_ = m.Put(ctx, &lifecycle.Customer{ID: "str", Version: 1, History: rvHist(3, "RR")}, 0)
	for i, h := range g1.History {
		if h.Cause != snapCauses[i] {
			t.Errorf("cause %d changed from %q to %q", i, snapCauses[i], h.Cause)
		}
	}
	if g1.ID != id {
		t.Errorf("ID changed")
	}
	if d := reviewDiff(snap, g1); len(d) > 0 {
		t.Errorf("earlier Get result changed: %v", d)
	}
	_ = time.Now
}
