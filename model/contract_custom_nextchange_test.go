package model_test

// Review: Custom.NextChange ("returns a time before which time alone does
// not change the stage Custom.Stage returns for f, or the zero time when
// time alone never changes it") against brute force, on random builder
// models made of random rule trees.

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

var rvRuleTypes = []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.SiteVisited, "acme.x"}

var rvDurations = []time.Duration{time.Hour, rvD, 7 * rvD, 30 * rvD, 90 * rvD, 200 * rvD}

func rvRandomRule(r *rand.Rand, depth int, ds *[]time.Duration) model.Rule {
	ty := func() lifecycle.EventType { return rvRuleTypes[r.IntN(len(rvRuleTypes))] }
	dur := func() time.Duration {
		d := rvDurations[r.IntN(len(rvDurations))]
		*ds = append(*ds, d)
		return d
	}
	k := r.IntN(10)
	if depth <= 0 && k >= 7 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		return model.Count(ty(), 1+r.Int64N(3))
	case 1:
		return model.Orders(1 + r.Int64N(2))
	case 2, 3:
		return model.Within(dur(), ty())
	case 4, 5:
		return model.Tenure(dur(), ty())
	case 6:
		x, y := ty(), ty()
		for y == x {
			y = ty()
		}
		return model.After(x, y)
	case 7:
		return model.Not(rvRandomRule(r, depth-1, ds))
	case 8:
		return model.All(rvRandomRule(r, depth-1, ds), rvRandomRule(r, depth-1, ds))
	}
	return model.Any(rvRandomRule(r, depth-1, ds), rvRandomRule(r, depth-1, ds))
}

func rvRuleFacts(r *rand.Rand) *lifecycle.Facts {
	f := new(lifecycle.Facts)
	n := r.IntN(8)
	for i := 0; i < n; i++ {
		ty := rvRuleTypes[r.IntN(len(rvRuleTypes))]
		if r.IntN(5) == 0 {
			ty = lifecycle.OrderRefunded
		}
		at := rvBase.Add(time.Duration(r.Int64N(int64(300 * rvD))))
		if r.IntN(3) == 0 {
			at = at.Truncate(rvD)
		}
		e := lifecycle.Event{ID: "e" + strconv.Itoa(i), CustomerID: "c", Type: ty, Time: at}
		if ty == lifecycle.OrderCompleted || ty == lifecycle.OrderRefunded {
			e.Amount, e.Currency = 100, "EUR"
		}
		f.Add(&e)
	}
	return f
}

func TestContractCustomNextChangeRandomRules(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 42))
	models, fails := 0, 0
	for attempt := 0; attempt < 400 && fails < 5; attempt++ {
		var ds []time.Duration
		b := model.NewBuilder("random").Start(stage.Stage{ID: "s0"})
		n := 1 + r.IntN(4)
		for i := 1; i <= n; i++ {
			b.Stage(stage.Stage{ID: stage.ID("s" + strconv.Itoa(i))}, rvRandomRule(r, 2, &ds))
		}
		m, err := b.Build()
		if err != nil {
			continue // a duplicate rule or one that can only turn false
		}
		models++
		for k := 0; k < 25 && fails < 5; k++ {
			f := rvRuleFacts(r)
			now := rvBase.Add(time.Duration(r.Int64N(int64(500 * rvD))))
			if r.IntN(2) == 0 && !f.Last.IsZero() {
				now = f.Last
			}
			due := m.NextChange(f, now)
			if !due.IsZero() && !due.After(now) {
				continue
			}
			base := m.Stage(f, now)
			var cand []time.Time
			for d := time.Duration(0); d < 800*rvD; d += 2 * rvD {
				cand = append(cand, now.Add(d))
			}
			for _, tl := range f.Tallies {
				for _, d := range ds {
					for _, x := range []time.Time{tl.First, tl.Last} {
						cand = append(cand, x.Add(d-1), x.Add(d), x.Add(d+1))
					}
				}
			}
			for _, tt := range cand {
				if tt.Before(now) || (!due.IsZero() && !tt.Before(due)) {
					continue
				}
				if got := m.Stage(f, tt); got != base {
					fails++
					var rules string
					for _, id := range m.Stages().IDs()[1:] {
						rr, _ := m.Rule(id)
						rules += " " + string(id) + "=" + rr.String()
					}
					t.Errorf("NextChange(now=%s) = %s, but the stage moves %s → %s at %s;%s; facts %s",
						now.Format(time.RFC3339Nano), rvTs(due), base, got, tt.Format(time.RFC3339Nano), rules, rvFmt(f))
					break
				}
			}
		}
	}
	if models < 50 {
		t.Errorf("only %d random models built", models)
	}
}
