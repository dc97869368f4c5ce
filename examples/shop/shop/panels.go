package shop

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// overTimePoints is how many monthly points the "stages over time" panel
// shows, the last one now.
const overTimePoints = 12

// stagePanels are the dashboard's panels by stage that the funnel report
// does not give: customers and net revenue per stage now, and customers
// per stage at the end of each of the last months. They come from one
// pass over the store; pending referrers are left out, as everywhere.
type stagePanels struct {
	Currencies []string     // every currency with revenue, sorted
	Money      []stageMoney // per stage, in the model's order
	Times      []time.Time  // the points of OverTime, oldest first; the last is now
	OverTime   []stageSeries
	// customers are clones of the customers read (pending referrers left
	// out), for the panels that need more than counters.
	customers []*lifecycle.Customer
}

// stageMoney is one stage's row of the revenue panel.
type stageMoney struct {
	ID          stage.ID
	Name        string
	Customers   int
	Revenue     []int64 // net, minor units, per Currencies
	PerCustomer []int64 // Revenue ÷ Customers, rounded down; 0 without customers
}

// stageSeries is one stage's row of the over-time panel.
type stageSeries struct {
	ID     stage.ID
	Name   string
	Counts []int // customers in the stage at each of Times
}

// stagePanels reads every stored customer once, keeping a clone of each
// for the owner panels (see owner.go).
func (s *Server) stagePanels(ctx context.Context) (*stagePanels, error) {
	now := s.now().UTC()
	p := &stagePanels{Times: make([]time.Time, overTimePoints)}
	for k := range overTimePoints {
		// The same day of month k months back, clamped to that month's
		// last day (AddDate would roll Feb 31 over into March).
		first := time.Date(now.Year(), now.Month()-time.Month(k), 1, 0, 0, 0, 0, time.UTC)
		day := min(now.Day(), first.AddDate(0, 1, -1).Day())
		p.Times[overTimePoints-1-k] = time.Date(first.Year(), first.Month(), day, now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
	}
	ids := s.graph.IDs()
	index := make(map[stage.ID]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	counts := make([]int, len(ids))
	revenue := make([]map[string]int64, len(ids))
	series := make([][]int, len(ids))
	for i := range ids {
		revenue[i] = map[string]int64{}
		series[i] = make([]int, overTimePoints)
	}
	for c, err := range lifecycle.Browse(ctx, s.t.Store()) {
		if err != nil {
			return nil, err
		}
		if c.PendingReferrer() {
			continue
		}
		p.customers = append(p.customers, c.Clone())
		if i, ok := index[c.Stage]; ok {
			counts[i]++
			for _, cur := range c.Facts.Currencies() {
				revenue[i][cur] = addSat(revenue[i][cur], c.Facts.Revenue(cur))
				if !slices.Contains(p.Currencies, cur) {
					p.Currencies = append(p.Currencies, cur)
				}
			}
		}
		for k, at := range p.Times {
			if i, ok := index[stageAt(c.History, at)]; ok {
				series[i][k]++
			}
		}
	}
	slices.Sort(p.Currencies)
	for i, id := range ids {
		m := stageMoney{ID: id, Name: s.stageName(id), Customers: counts[i]}
		for _, cur := range p.Currencies {
			r := revenue[i][cur]
			per := int64(0)
			if counts[i] > 0 {
				per = r / int64(counts[i])
			}
			m.Revenue, m.PerCustomer = append(m.Revenue, r), append(m.PerCustomer, per)
		}
		p.Money = append(p.Money, m)
		p.OverTime = append(p.OverTime, stageSeries{ID: id, Name: s.stageName(id), Counts: series[i]})
	}
	return p, nil
}

// stageAt is the stage a history had at t: where its last transition at or
// before t led; "" before the first.
func stageAt(history []lifecycle.Transition, t time.Time) stage.ID {
	var st stage.ID
	for _, tr := range history {
		if tr.At.After(t) {
			continue
		}
		st = tr.To
	}
	return st
}

// addSat adds a and b, saturating at the int64 bounds.
func addSat(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}
