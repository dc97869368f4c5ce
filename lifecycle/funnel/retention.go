package funnel

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/clmkit/clm/internal/numeric"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// Order is one completed order in a transaction list, the input of
// [Retention].
type Order struct {
	CustomerID string
	Time       time.Time
	// Amount is the order's value in minor units (cents), ≥ 0.
	Amount int64
	// Currency is the ISO 4217 code of Amount; it may be empty when
	// Amount is 0.
	Currency string
}

// OrdersFrom returns the [lifecycle.OrderCompleted] events of events as
// orders, in the same order. Refunds are not subtracted: a retention
// table counts purchases.
func OrdersFrom(events []lifecycle.Event) []Order {
	var out []Order
	for i := range events {
		e := &events[i]
		if e.Type == lifecycle.OrderCompleted {
			out = append(out, Order{CustomerID: e.CustomerID, Time: e.Time, Amount: e.Amount, Currency: e.Currency})
		}
	}
	return out
}

// RetentionOption configures [Retention] and [StoredRetention].
type RetentionOption func(*retentionConfig)

type retentionConfig struct {
	until    time.Time
	currency string
}

// Until sets the end of observation: later orders (or, for
// [StoredRetention], later transitions) are ignored, and the last column
// of each cohort is the period holding t. The default is the latest order
// time ([Retention]) or the latest [lifecycle.Customer.AsOf]
// ([StoredRetention]); Until of the zero time is the default too.
func Until(t time.Time) RetentionOption {
	return func(c *retentionConfig) { c.until = t }
}

// InCurrency sets the currency whose money is summed as revenue; money in
// other currencies is left out of revenue (the orders still count as
// orders). Without it, every amount must be in one currency, which
// becomes the table's currency, or the call fails. cur must be an ISO
// 4217 code of three upper-case letters, as events hold it ("EUR", not
// "eur", which no stored money could match): another is an error
// wrapping [ErrInvalidInput]. InCurrency("") is the default.
func InCurrency(cur string) RetentionOption {
	return func(c *retentionConfig) { c.currency = cur }
}

// check returns an error for an option that cannot be right: a currency
// the model's rules refuse (the same rule as [SpentAtLeast]'s).
func (c *retentionConfig) check() error {
	if c.currency == "" {
		return nil
	}
	if err := model.Spent(c.currency, 1).Err(); err != nil {
		return fmt.Errorf("%w: InCurrency(%q): %w", ErrInvalidInput, c.currency, err)
	}
	return nil
}

// RetentionTable is a cohort retention table: customers grouped by the
// period of their first order (the cohort), and for each cohort one column
// per period since, k = 0 (the cohort's own period) up to the period that
// holds the end of observation; that last column may cover a period only
// partly observed. Which fields are filled, and what they mean, depends on
// the function that built the table: see [Retention] and
// [StoredRetention].
type RetentionTable struct {
	// Period is the cohort and column period.
	Period Period `json:"-"`
	// Until is the end of observation.
	Until time.Time `json:"until"`
	// Currency is the currency of the revenue figures: the one
	// [InCurrency] names, else the one the money carried ("" when there
	// was no money, or when the money carried no currency code). Money
	// without a code and money with one are two currencies.
	Currency string `json:"currency"`
	// Cohorts are sorted by start.
	Cohorts []RetentionCohort `json:"cohorts"`
}

// RetentionCohort is one row of a [RetentionTable]. Every per-period slice
// has one entry per column k (or is nil when the table does not have that
// measure).
type RetentionCohort struct {
	// Key is [Period.Key] of the cohort's period; Start its first instant.
	Key   string    `json:"key"`
	Start time.Time `json:"start"`
	// Customers is the cohort's size.
	Customers int `json:"customers"`
	// Active[k]: customers with at least one order in period k (so
	// Active[0] = Customers). [Retention] only.
	Active []int `json:"active,omitempty"`
	// Repeated[k]: customers who had repeated by the end of period k
	// (cumulative, never decreasing). [Retention]: placed an order other
	// than their first in periods 0..k. [StoredRetention]: their history
	// had reached the repeat stage by the end of period k.
	Repeated []int `json:"repeated"`
	// Retained[k]: customers whose last order (up to the end of
	// observation) is in period k or later, i.e. who ordered at least once
	// in period k or after it. Retained[0] = Customers.
	Retained []int `json:"retained"`
	// Revenue[k]: money of the cohort's orders placed in period k, in
	// minor units of the table's currency, saturating at math.MaxInt64 as
	// [lifecycle.Facts] sums do (so does TotalRevenue). [Retention] only.
	Revenue []int64 `json:"revenue,omitempty"`
	// TotalRevenue is the cohort's money: [Retention]: the sum of Revenue;
	// [StoredRetention]: the sum of [lifecycle.Facts.Revenue] (lifetime net
	// revenue, refunds subtracted, not limited to Until).
	TotalRevenue int64 `json:"total_revenue"`
}

// MaxPeriods is the most periods a retention table's row may span, from
// its cohort's period to the end of observation's: more (a period of a
// nanosecond over years, say) is refused with an error wrapping
// [ErrInvalidInput] rather than a table too large for memory.
const MaxPeriods = 100_000

// MaxCells is the most cells (periods, summed over the rows) a retention
// table may hold: a table past it (daily cohorts over decades, say) is
// refused with an error wrapping [ErrInvalidInput], as a row past
// [MaxPeriods] is, rather than taking gigabytes. 10⁷ cells hold daily
// cohorts over about 12 years.
const MaxCells = 10_000_000

// tableSize counts the cells of a table as its rows are made.
type tableSize struct{ cells int }

// columns is the package's columns for a new row, counted: past
// [MaxCells] in all, an error.
func (ts *tableSize) columns(p Period, first, last int64) (int, error) {
	n, err := columns(p, first, last)
	if err != nil {
		return 0, err
	}
	if ts.cells += n; ts.cells > MaxCells {
		return 0, fmt.Errorf("%w: period %s: the table would hold more than %d cells (MaxCells): choose a longer period or an earlier Until", ErrInvalidInput, p, MaxCells)
	}
	return n, nil
}

// cumulate turns the rows' Repeated and Retained, built as differences
// (a customer counted from period k on adds 1 at k, and one counted up to
// period k takes 1 away at k+1), into counts: each customer costs one or
// two additions, not one per period.
func cumulate(rows map[int64]*RetentionCohort) {
	for _, row := range rows {
		for k := 1; k < len(row.Repeated); k++ {
			row.Repeated[k] += row.Repeated[k-1]
			row.Retained[k] += row.Retained[k-1]
		}
	}
}

// columns returns the number of periods from index first to last (at
// least 1), or an error when they are more than MaxPeriods.
func columns(p Period, first, last int64) (int, error) {
	if last < first {
		return 1, nil
	}
	if d := last - first; d < 0 || d >= MaxPeriods { // d < 0: past the int64 range
		return 0, fmt.Errorf("%w: period %s: from the cohort starting %s to the end of observation is more than %d periods",
			ErrInvalidInput, p, p.Start(first).Format(time.RFC3339Nano), MaxPeriods)
	}
	return int(last-first) + 1, nil
}

// Retention builds the classic cohort table exactly from a transaction
// list: cohorts by the period of each customer's first order; for each
// period k since, Active (customers ordering in period k), Repeated
// (customers who had placed a second order by the end of period k; two
// orders at the same time count as a first and a repeat), Retained
// (customers ordering in period k or later) and Revenue (money of the
// orders in period k). Orders after the end of observation (see [Until])
// are ignored. orders is not modified.
//
// It returns an error wrapping [ErrInvalidInput] naming the order's index
// for an order without a customer ID or time or with a negative amount,
// or, without [InCurrency], with money in a second currency (with it,
// money in other currencies is only left out of revenue), for a row
// longer than [MaxPeriods] or a table of more than [MaxCells], and for
// [InCurrency] of a code that is not three upper-case letters; an empty
// list gives an empty table.
func Retention(orders []Order, p Period, opts ...RetentionOption) (*RetentionTable, error) {
	var cfg retentionConfig
	for _, o := range opts {
		if o != nil { // a nil option is skipped, as model's are
			o(&cfg)
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// seen: some money set cur (possibly to "", money without a code), so
	// money in any other currency, "" included, is a second currency.
	cur, fixed := cfg.currency, cfg.currency != ""
	seen := fixed
	until := cfg.until
	idx := make([]int, 0, len(orders))
	for i := range orders {
		o := &orders[i]
		switch {
		case o.CustomerID == "":
			return nil, fmt.Errorf("%w: order %d: customer ID is empty", ErrInvalidInput, i)
		case o.Time.IsZero():
			return nil, fmt.Errorf("%w: order %d: time is missing", ErrInvalidInput, i)
		case o.Amount < 0:
			return nil, fmt.Errorf("%w: order %d: amount %d is negative", ErrInvalidInput, i, o.Amount)
		}
		if !cfg.until.IsZero() && o.Time.After(cfg.until) {
			continue
		}
		if o.Amount != 0 && !fixed {
			if !seen {
				cur, seen = o.Currency, true
			} else if o.Currency != cur {
				return nil, fmt.Errorf("%w: order %d: currency %q differs from %q; choose one with InCurrency", ErrInvalidInput, i, o.Currency, cur)
			}
		}
		if cfg.until.IsZero() && (until.IsZero() || o.Time.After(until)) {
			until = o.Time // (an order before the year 1 is not After the zero time)
		}
		idx = append(idx, i)
	}
	t := &RetentionTable{Period: p, Until: until, Currency: cur}
	if len(idx) == 0 {
		return t, nil
	}
	slices.SortFunc(idx, func(a, b int) int {
		oa, ob := &orders[a], &orders[b]
		return cmp.Or(cmp.Compare(oa.CustomerID, ob.CustomerID), oa.Time.Compare(ob.Time), cmp.Compare(a, b))
	})
	last := p.Index(until)
	rows := map[int64]*RetentionCohort{}
	var size tableSize
	for lo := 0; lo < len(idx); {
		id := orders[idx[lo]].CustomerID
		hi := lo + 1
		for hi < len(idx) && orders[idx[hi]].CustomerID == id {
			hi++
		}
		first := p.Index(orders[idx[lo]].Time)
		row := rows[first]
		if row == nil {
			n, err := size.columns(p, first, last)
			if err != nil {
				return nil, err
			}
			row = &RetentionCohort{
				Key: p.Key(orders[idx[lo]].Time), Start: p.Start(first),
				Active: make([]int, n), Repeated: make([]int, n), Retained: make([]int, n), Revenue: make([]int64, n),
			}
			rows[first] = row
		}
		row.Customers++
		prevK := int64(-1)
		for j := lo; j < hi; j++ {
			o := &orders[idx[j]]
			k := p.Index(o.Time) - first
			if k != prevK {
				row.Active[k]++
				prevK = k
			}
			if j == lo+1 && k < int64(len(row.Repeated)) {
				row.Repeated[k]++ // from period k on (see cumulate)
			}
			if o.Currency == cur {
				row.Revenue[k] = numeric.AddSat(row.Revenue[k], o.Amount)
				row.TotalRevenue = numeric.AddSat(row.TotalRevenue, o.Amount)
			}
		}
		row.Retained[0]++ // up to period prevK (see cumulate)
		if prevK+1 < int64(len(row.Retained)) {
			row.Retained[prevK+1]--
		}
		lo = hi
	}
	cumulate(rows)
	t.Cohorts = sortedRows(rows)
	return t, nil
}

func sortedRows(rows map[int64]*RetentionCohort) []RetentionCohort {
	keys := make([]int64, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]RetentionCohort, len(keys))
	for i, k := range keys {
		out[i] = *rows[k]
	}
	return out
}

// StoredRetention builds the part of a cohort table that stored customers
// determine exactly. Facts keep only the first and last time and the count
// of each event type, not every order time, so "placed a second order by
// period k" and revenue per period cannot be known from them; what can:
//
//   - the cohort: the period of the first completed order
//     ([lifecycle.Facts.FirstTime]); customers who never ordered, or
//     whose first order is after [Until], are left out, as are pending
//     referrers ([lifecycle.Customer.PendingReferrer]), whose AsOf does
//     not count towards the default Until either;
//   - Retained[k]: the last completed order is in period k or later;
//   - Repeated[k]: the customer's History shows them reaching stage repeat
//     (entering it or, when it is a path stage, any later path stage of g:
//     see [StageStats]) at or before the end of period k — for
//     model.SterneCutler with repeat = "retention", when the customer's
//     orders were recorded in time order, the moment of the second net
//     order (a transition carries the customer's classification time,
//     [lifecycle.Customer.ClassifiedAt], or the start of the stage left
//     when that is later: when orders are recorded out of
//     time order, the move is at the latest time recorded by then, so the
//     repeat counts in the same period as the exact table's or a later
//     one);
//   - TotalRevenue: the sum of [lifecycle.Facts.Revenue] in the table's
//     currency.
//
// Active and Revenue are nil. Facts describe the stored state, so an order
// after [Until] still counts in Retained (of the last column) and
// TotalRevenue; transitions after Until are ignored for Repeated. It returns an error wrapping
// [ErrInvalidInput] for a nil graph or a repeat stage the graph does not
// have, a nil customers, money in two currencies without [InCurrency]
// (naming the two currencies that sort first, each with the customer
// whose ID sorts first among those holding it),
// [InCurrency] of a code that is not three upper-case letters, or a row
// longer than [MaxPeriods] or a table of more than [MaxCells], and passes
// on the sequence's errors.
func StoredRetention(ctx context.Context, g *stage.Graph, repeat stage.ID, customers iter.Seq2[*lifecycle.Customer, error], p Period, opts ...RetentionOption) (*RetentionTable, error) {
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	if g == nil {
		return nil, fmt.Errorf("%w: graph is nil", ErrInvalidInput)
	}
	if !g.Has(repeat) {
		return nil, fmt.Errorf("%w: repeat stage %q is not in the graph", ErrInvalidInput, repeat)
	}
	if customers == nil {
		return nil, fmt.Errorf("%w: StoredRetention of a nil sequence of customers", ErrInvalidInput)
	}
	var cfg retentionConfig
	for _, o := range opts {
		if o != nil { // a nil option is skipped, as model's are
			o(&cfg)
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// reaches[i]: entering stage i reaches repeat: repeat itself, and for
	// a path stage every later path stage.
	reaches := make([]bool, g.Len())
	ri := g.Index(repeat)
	for i, s := range g.Stages() {
		reaches[i] = i == ri || (i > ri && s.Kind == stage.Path && g.Kind(repeat) == stage.Path)
	}
	type cust struct {
		first, last int64
		repeatAt    time.Time
		revenue     int64
	}
	var all []cust
	cur, fixed := cfg.currency, cfg.currency != ""
	seen := fixed
	holder := map[string]string{} // without InCurrency: each currency's least customer ID
	until := cfg.until
	n := 0
	for c, err := range customers {
		if err != nil {
			return nil, err
		}
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if c == nil {
			return nil, fmt.Errorf("%w: nil customer", ErrInvalidInput)
		}
		if c.PendingReferrer() {
			continue // not a customer yet (and without orders)
		}
		if cfg.until.IsZero() && !c.AsOf.IsZero() && (until.IsZero() || c.AsOf.After(until)) {
			until = c.AsOf
		}
		tl, ok := c.Facts.Tally(lifecycle.OrderCompleted)
		if !ok || (!cfg.until.IsZero() && tl.First.After(cfg.until)) {
			continue
		}
		x := cust{first: p.Index(tl.First), last: p.Index(tl.Last)}
		for _, tr := range c.History {
			if !cfg.until.IsZero() && tr.At.After(cfg.until) {
				break
			}
			if i := g.Index(tr.To); i >= 0 && reaches[i] {
				x.repeatAt = tr.At
				break
			}
		}
		if !fixed {
			for _, cc := range c.Facts.Currencies() {
				if !seen {
					cur, seen = cc, true
				}
				if id, ok := holder[cc]; !ok || c.ID < id {
					holder[cc] = c.ID
				}
			}
		}
		x.revenue = c.Facts.Revenue(cur)
		all = append(all, x)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(holder) > 1 {
		// Named the same way whatever the order of customers: the two
		// currencies that sort first, each with its least customer ID.
		curs := slices.Sorted(maps.Keys(holder))
		return nil, fmt.Errorf("%w: customer %q: currency %q differs from %q (customer %q); choose one with InCurrency", ErrInvalidInput, holder[curs[1]], curs[1], curs[0], holder[curs[0]])
	}
	t := &RetentionTable{Period: p, Until: until, Currency: cur}
	last := p.Index(until)
	rows := map[int64]*RetentionCohort{}
	var size tableSize
	for _, x := range all {
		row := rows[x.first]
		if row == nil {
			n, err := size.columns(p, x.first, last)
			if err != nil {
				return nil, err
			}
			start := p.Start(x.first)
			row = &RetentionCohort{Key: p.Key(start), Start: start, Repeated: make([]int, n), Retained: make([]int, n)}
			rows[x.first] = row
		}
		row.Customers++
		row.TotalRevenue = numeric.AddSat(row.TotalRevenue, x.revenue)
		// Counted from or up to a period (see cumulate).
		n := int64(len(row.Retained))
		if d := x.last - x.first; d >= 0 {
			row.Retained[0]++
			if d+1 < n {
				row.Retained[d+1]--
			}
		}
		if !x.repeatAt.IsZero() {
			if k := max(p.Index(x.repeatAt)-x.first, 0); k < n {
				row.Repeated[k]++
			}
		}
	}
	cumulate(rows)
	t.Cohorts = sortedRows(rows)
	return t, nil
}
