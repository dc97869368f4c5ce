package shop

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/lifecycle/funnel"
)

// The owner panels: cohort retention, the customers most at risk and the
// flywheel's rules per period. Retention and risk work on the customers
// stagePanels already read (no further pass over the store); the flywheel
// panel is one pass of [flywheel.Measure].
const (
	retentionCohorts = 12                  // the last cohorts the heatmap shows
	riskListed       = 10                  // customers listed as most at risk
	riskMinCustomers = 20                  // summarised customers a fit needs
	riskMinRepeaters = 5                   // of them, repeat customers
	riskHorizonDays  = 90                  // horizon of the expected orders
	riskFitTTL       = 5 * time.Minute     // how long a BG/NBD fit is reused
	flywheelPeriod   = 30 * 24 * time.Hour // the flywheel panel's period
	flywheelPeriods  = 12
)

// Geometry of the retention heatmap, in SVG user units.
const (
	heatLabelW = 150 // cohort label and size
	heatCellW  = 52
	heatCellH  = 26
	heatTop    = 24 // column headings
)

// retentionPanel is the cohort retention heatmap.
type retentionPanel struct {
	Msg           string // shown instead of the heatmap
	Width, Height int
	Columns       []heatColumn
	Rows          []heatRow
}

type heatColumn struct {
	K, X int
}

type heatRow struct {
	Key       string // cohort month, "2026-03"
	Customers int
	Y, TextY  int
	Cells     []heatCell
}

type heatCell struct {
	K        int
	X, TextX int
	Retained int
	Share    float64
	Opacity  string // fill opacity, formatted
	Dark     bool   // the fill is dark enough for white text
}

// riskPanel lists the repeat customers with the lowest probability alive.
type riskPanel struct {
	Msg       string // shown instead of the list
	Model     string // the fitted parameters
	Fitted    int    // customers the fit used
	FitAt     time.Time
	Currency  string
	Horizon   int
	Rows      []riskRow
	Repeaters int
}

type riskRow struct {
	ID           string
	Orders       int
	DaysSince    float64 // days since the last order
	PAlive       float64
	Expected     float64 // expected orders in the next Horizon days
	Spent        string  // net money so far, in Currency
	ExpectedSpnd string  // Expected × mean order value, in Currency
}

// flywheelPanel is the flywheel's three rules per period.
type flywheelPanel struct {
	Msg        string
	Stages     []string // names, in the model's order
	Rows       []flywheelRow
	ShareTrend float64 // referred share per period; NaN when undefined
	CostTrend  float64
}

type flywheelRow struct {
	Start, End        time.Time
	Prospects         int
	Referred          int
	ReferredShare     float64 // NaN without prospects
	NewCustomers      int
	Connected         []float64 // per stage; NaN when nobody was exposed
	AcquisitionCost   float64   // NaN: the shop records no spend
	ReferredCustomers int
}

// riskFitOptions loosen the library's default convergence test (gradient
// 1e-7 per customer, 200 iterations), which small shops' data often miss
// by a little: a ranking of customers does not need more than 1e-5.
var riskFitOptions = clv.FitOptions{MaxIterations: 1000, Tolerance: 1e-5}

// fitCache keeps the last BG/NBD fit for riskFitTTL.
type fitCache struct {
	mu   sync.Mutex
	at   time.Time
	cur  string
	m    clv.BGNBD
	info clv.FitInfo
}

// mainCurrency is the currency with the largest net revenue in p
// ("" without revenue), ties broken by code.
func mainCurrency(p *stagePanels) string {
	best, bestSum := "", int64(math.MinInt64)
	for i, cur := range p.Currencies {
		var sum int64
		for _, m := range p.Money {
			sum = addSat(sum, m.Revenue[i])
		}
		if best == "" || sum > bestSum {
			best, bestSum = cur, sum
		}
	}
	return best
}

func seqOf(cs []*lifecycle.Customer) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// retentionPanel builds the heatmap from [funnel.StoredRetention]: cohorts
// by the month of the first completed order, and a cell's share is
// Retained[k] ÷ cohort size, the customers whose last order is in month k
// or later (who ordered in month k or after it). Stored facts keep the
// first and last order, not every order, so "ordered in month k itself"
// cannot be known; this is its honest upper bound.
func (s *Server) retentionPanel(ctx context.Context, p *stagePanels) *retentionPanel {
	ids := s.graph.IDs()
	if len(ids) == 0 {
		return &retentionPanel{Msg: "The model has no stages."}
	}
	var opts []funnel.RetentionOption
	opts = append(opts, funnel.Until(s.now().UTC()))
	if cur := mainCurrency(p); cur != "" {
		opts = append(opts, funnel.InCurrency(cur)) // revenue is not shown; this only keeps several currencies from failing
	}
	// The repeat stage only feeds Repeated, which the heatmap does not show.
	tb, err := funnel.StoredRetention(ctx, s.graph, ids[len(ids)-1], seqOf(p.customers), funnel.Month, opts...)
	if err != nil {
		s.log.ErrorContext(ctx, "shop: dashboard: cohort retention", "err", err)
		return &retentionPanel{Msg: "Cohort retention could not be computed: " + err.Error()}
	}
	cohorts := tb.Cohorts
	if len(cohorts) > retentionCohorts {
		cohorts = cohorts[len(cohorts)-retentionCohorts:]
	}
	if len(cohorts) == 0 {
		return &retentionPanel{Msg: "No customer has completed an order yet."}
	}
	cols := 0
	for _, c := range cohorts {
		cols = max(cols, len(c.Retained))
	}
	rp := &retentionPanel{Width: heatLabelW + cols*heatCellW, Height: heatTop + len(cohorts)*heatCellH + 4}
	for k := range cols {
		rp.Columns = append(rp.Columns, heatColumn{K: k, X: heatLabelW + k*heatCellW + heatCellW/2})
	}
	for i, c := range cohorts {
		y := heatTop + i*heatCellH
		row := heatRow{Key: c.Key, Customers: c.Customers, Y: y, TextY: y + 17}
		for k, n := range c.Retained {
			share := 0.0
			if c.Customers > 0 {
				share = float64(n) / float64(c.Customers)
			}
			x := heatLabelW + k*heatCellW
			row.Cells = append(row.Cells, heatCell{
				K: k, X: x + 1, TextX: x + heatCellW/2, Retained: n, Share: share,
				Opacity: strconv.FormatFloat(0.08+0.92*share, 'f', 3, 64), Dark: share >= 0.5,
			})
		}
		rp.Rows = append(rp.Rows, row)
	}
	return rp
}

// riskPanel fits BG/NBD (days) on the customers' stored facts, reusing a
// fit younger than riskFitTTL, and lists the repeat customers with the
// lowest probability alive.
func (s *Server) riskPanel(ctx context.Context, p *stagePanels) *riskPanel {
	now := s.now().UTC()
	cur := mainCurrency(p)
	rp := &riskPanel{Currency: cur, Horizon: riskHorizonDays}
	if cur == "" {
		rp.Msg = "No customer has paid yet: there is nothing to fit."
		return rp
	}
	sum, err := clv.SummarizeCustomers(ctx, seqOf(p.customers), clv.StoreSummaryOptions{Currency: cur, ObservationEnd: now})
	if err != nil {
		rp.Msg = "The customers could not be summarised for BG/NBD: " + err.Error()
		return rp
	}
	for _, c := range sum {
		if c.Frequency > 0 {
			rp.Repeaters++
		}
	}
	if len(sum) < riskMinCustomers || rp.Repeaters < riskMinRepeaters {
		rp.Msg = fmt.Sprintf("Too few customers to fit BG/NBD: %d with an order, %d of them repeat customers; at least %d and %d are needed.",
			len(sum), rp.Repeaters, riskMinCustomers, riskMinRepeaters)
		return rp
	}
	m, info, at, err := s.fitBGNBD(sum, cur, now)
	if err != nil {
		rp.Msg = "The BG/NBD fit failed: " + err.Error()
		return rp
	}
	rp.Model, rp.Fitted, rp.FitAt = m.String(), info.Customers, at
	for _, c := range sum {
		if c.Frequency == 0 {
			continue // P(alive) is 1 by the model's assumption
		}
		pa, err := m.ProbabilityAlive(c)
		if err != nil {
			continue
		}
		exp, err := m.ConditionalExpectedPurchases(riskHorizonDays, c)
		if err != nil {
			exp = math.NaN()
		}
		orders := c.Frequency + 1
		row := riskRow{
			ID: c.ID, Orders: orders, DaysSince: c.T - c.Recency, PAlive: pa, Expected: exp,
			Spent:        strconv.FormatFloat(c.MonetaryValue*float64(orders), 'f', 2, 64) + " " + cur,
			ExpectedSpnd: "—",
		}
		if !math.IsNaN(exp) {
			row.ExpectedSpnd = strconv.FormatFloat(exp*c.MonetaryValue, 'f', 2, 64) + " " + cur
		}
		rp.Rows = append(rp.Rows, row)
	}
	slices.SortFunc(rp.Rows, func(a, b riskRow) int {
		return cmp.Or(cmp.Compare(a.PAlive, b.PAlive), cmp.Compare(a.ID, b.ID))
	})
	if len(rp.Rows) > riskListed {
		rp.Rows = rp.Rows[:riskListed]
	}
	return rp
}

// fitBGNBD returns the cached fit when it is younger than riskFitTTL and
// for the same currency, otherwise fits anew and caches the result.
func (s *Server) fitBGNBD(sum []clv.Customer, cur string, now time.Time) (clv.BGNBD, clv.FitInfo, time.Time, error) {
	fc := &s.fit
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if !fc.at.IsZero() && fc.cur == cur && now.Sub(fc.at) < riskFitTTL && !now.Before(fc.at) {
		return fc.m, fc.info, fc.at, nil
	}
	m, info, err := clv.FitBGNBD(sum, &riskFitOptions)
	if err != nil {
		return clv.BGNBD{}, clv.FitInfo{}, time.Time{}, err
	}
	fc.at, fc.cur, fc.m, fc.info = now, cur, m, info
	return m, info, now, nil
}

// flywheelPanel measures the flywheel over the last flywheelPeriods periods
// of 30 days, the last ending now (one pass over the store). The shop
// records no paid spend, so the acquisition cost is unknown.
func (s *Server) flywheelPanel(ctx context.Context) (*flywheelPanel, error) {
	now := s.now().UTC()
	start := now.Add(-flywheelPeriods * flywheelPeriod)
	m, err := flywheel.Measure(ctx, s.t.Store(), start, flywheelPeriod, flywheelPeriods, flywheel.WithGraph(s.graph))
	if err != nil {
		return nil, err
	}
	fp := &flywheelPanel{ShareTrend: m.ReferredShareTrend, CostTrend: m.AcquisitionCostTrend}
	for _, id := range m.Stages {
		fp.Stages = append(fp.Stages, s.stageName(id))
	}
	for _, r := range m.Rotations {
		fp.Rows = append(fp.Rows, flywheelRow{
			Start: r.Start, End: r.End, Prospects: r.Prospects, Referred: r.ReferredProspects,
			ReferredShare: r.ReferredShare, NewCustomers: r.NewCustomers, ReferredCustomers: r.ReferredCustomers,
			Connected: r.Connected, AcquisitionCost: r.AcquisitionCost,
		})
	}
	return fp, nil
}
