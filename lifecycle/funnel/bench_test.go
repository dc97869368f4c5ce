package funnel_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// synthetic builds n customers with Sterne–Cutler histories of realistic
// shape, directly (without a Tracker): everyone is reached, half engage,
// 40% of those buy, half of the buyers buy again, a third of those become
// loyal, and a third of the buyers lapse back to acquisition.
func synthetic(n int, r *rand.Rand) []*lifecycle.Customer {
	out := make([]*lifecycle.Customer, n)
	hour := func(max int64) time.Duration { return time.Duration(r.Int64N(max)+1) * time.Hour }
	for i := range out {
		at := t0.Add(hour(365 * 24))
		id := "c" + strconv.Itoa(i)
		c := &lifecycle.Customer{ID: id, Version: 1}
		var seq int
		event := func(typ lifecycle.EventType, amt int64) {
			e := lifecycle.Event{ID: strconv.Itoa(seq), CustomerID: id, Type: typ, Time: at}
			if amt > 0 {
				e.Amount, e.Currency = amt, "EUR"
			}
			seq++
			c.Facts.Add(&e)
			c.Seen.Add(lifecycle.KeyOf(e.ID))
		}
		move := func(to stage.ID) {
			c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: to, At: at, Cause: strconv.Itoa(seq - 1)})
			c.Stage, c.Since = to, at
		}
		event(lifecycle.SiteVisited, 0)
		move(model.Reach)
		if r.Float64() < 0.5 {
			at = at.Add(hour(72))
			event(lifecycle.SignedUp, 0)
			move(model.Acquisition)
			if r.Float64() < 0.4 {
				at = at.Add(hour(30 * 24))
				event(lifecycle.OrderCompleted, 5000)
				move(model.Conversion)
				if r.Float64() < 0.5 {
					at = at.Add(hour(60 * 24))
					event(lifecycle.OrderCompleted, 5000)
					move(model.Retention)
					if r.Float64() < 0.33 {
						at = at.Add(hour(120 * 24))
						event(lifecycle.OrderCompleted, 5000)
						move(model.Loyalty)
					}
				}
				if r.Float64() < 0.33 {
					at = at.Add(181 * 24 * time.Hour)
					move(model.Acquisition)
				}
			}
		}
		c.AsOf = at
		out[i] = c
	}
	return out
}

// BenchmarkFunnel1M measures a full funnel (counts, conversion, every
// duration distribution) over one million customers: "memory" reads them
// from store.Memory through lifecycle.Browse (Memory's View, which decodes
// each customer from its compact form into one reused Customer); "slice"
// reads the same customers from a slice, to show what reading the store
// costs.
func BenchmarkFunnel1M(b *testing.B) {
	ctx := context.Background()
	g := model.SterneCutler().Stages()
	cs := synthetic(benchN, rand.New(rand.NewPCG(1, 2)))
	b.Run("slice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rep, err := funnel.Analyze(ctx, g, funnel.Customers(cs))
			if err != nil || rep.Customers != len(cs) {
				b.Fatal(err, rep.Customers)
			}
		}
	})
	s := store.NewMemory()
	for _, c := range cs {
		if err := s.Put(ctx, c, 0); err != nil {
			b.Fatal(err)
		}
	}
	n := len(cs)
	cs = nil
	runtime.GC()
	b.Run("memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rep, err := funnel.AnalyzeStore(ctx, g, s)
			if err != nil || rep.Customers != n {
				b.Fatal(err, rep.Customers)
			}
		}
	})
}

// benchN is the number of customers of BenchmarkFunnel1M.
var benchN = 1_000_000
