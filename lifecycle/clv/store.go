package clv

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
)

// StoreSummaryOptions configure [SummarizeStore] and [SummarizeCustomers].
// Only Currency is required.
type StoreSummaryOptions struct {
	// Currency is the ISO 4217 code (three upper-case letters, such as
	// "EUR") in which MonetaryValue is expressed; required. Stored money
	// is in minor units and is converted to major units by dividing by
	// 10^d, d being the currency's [lifecycle.MinorUnits]: 10^0 for the
	// currencies without a minor unit (BIF, CLP, DJF, GNF, ISK, JPY, KMF,
	// KRW, PYG, RWF, UGX, UYI, VND, VUV, XAF, XOF, XPF), 10^3 for BHD,
	// IQD, JOD, KWD, LYD, OMR and TND, 10^4 for CLF and UYW, and 10^2 for
	// every other code. The same table applies to the Rates currencies.
	Currency string
	// Rates converts money in other currencies into Currency: Rates["GBP"]
	// = 1.17 means one GBP (major unit) is worth 1.17 of Currency. Keys
	// must be three upper-case letters other than Currency; values finite
	// and > 0. A customer with a net purchase whose purchase money (or
	// refund money, when refunds are netted) is in a currency that is
	// neither Currency nor a key of Rates makes the summary fail: their
	// value cannot be expressed in Currency, and the stored counts are not
	// split by currency, so those purchases cannot be left out either.
	// Customers the summary leaves out anyway (no net purchase, or a first
	// purchase after ObservationEnd) never make it fail, whatever their
	// currencies. Default: no rates.
	Rates map[string]float64
	// Unit is the unit of Recency and T: Day or Week. Default Day.
	Unit TimeUnit
	// Location is the time zone whose calendar dates measure Recency and
	// T. Default UTC (stored times are in UTC).
	Location *time.Location
	// ObservationEnd is the end of the observation: T is measured to its
	// calendar date (in Location), and that whole day is included.
	// Customers whose first purchase falls on a later date are left out
	// (not yet acquired). A customer with a net purchase, a purchase on a
	// later date and the first one on or before it makes the summary fail:
	// stored facts hold counts and first and last times, not single
	// purchases, so the later purchases cannot be separated. Default: the
	// latest purchase of any customer read, which never fails this way.
	// Refunds are netted whatever their date.
	ObservationEnd time.Time
	// PurchaseTypes are the event types that count as purchases, each
	// once. Allowed are [lifecycle.OrderCompleted],
	// [lifecycle.SubscriptionStarted], [lifecycle.SubscriptionRenewed]
	// and vendor-prefixed custom types
	// ("acme.invoice_paid"). Default: OrderCompleted only. When
	// OrderCompleted is among them, [lifecycle.OrderRefunded] events are
	// netted (see [SummarizeCustomers]); otherwise refunds are ignored.
	PurchaseTypes []lifecycle.EventType
}

// SummarizeStore builds one RFM row per customer from the aggregate facts
// held in a [lifecycle.Store], read with [lifecycle.Browse]. It is the
// counterpart of [Summarize] for when the individual orders are not kept;
// see [SummarizeCustomers] for the rules, which it follows exactly.
func SummarizeStore(ctx context.Context, s lifecycle.Store, opts StoreSummaryOptions) ([]Customer, error) {
	if nilness.Is(s) {
		return nil, invalidf("store is nil")
	}
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clv: summarising store: %w", err)
	}
	return SummarizeCustomers(ctx, lifecycle.Browse(ctx, s), opts)
}

// SummarizeCustomers builds one RFM row per customer from the customers
// yielded by seq (for example a [lifecycle.Store]'s Scan, filtered by the
// caller). It reads only ID and Facts, does not modify or keep the
// customers, and so may be given a [lifecycle.Viewer]'s View.
//
// For each customer, with n the net number of purchases:
//
//   - n is the sum of the PurchaseTypes' counts; when OrderCompleted is
//     among them, completed orders less refunded ones, never below 0, as
//     [lifecycle.Facts.Orders], are counted instead of completed orders.
//     Customers with n = 0 are left out, before any other check.
//   - Frequency = n − 1. It counts purchases, not distinct periods:
//     facts cannot tell two purchases on the same day apart from two on
//     different days, so a customer's same-day purchases are not collapsed
//     into one as [Summarize] does. Where customers often buy several
//     times a day, Summarize on the order log is the exact summary.
//   - Recency = last − first purchase date, T = ObservationEnd date −
//     first purchase date, in Unit, both from calendar dates in Location,
//     exactly as Summarize with Period Day computes them for transactions
//     whose times are in Location. The first and
//     last purchase are the earliest First and latest Last of the
//     PurchaseTypes' tallies; a refund does not move them (facts do not
//     say which order was refunded). When Frequency is 0, Recency is 0.
//   - MonetaryValue is the net money of the PurchaseTypes (less refunds
//     when OrderCompleted is among them, whatever their date; never below
//     0), converted into Currency, divided by n: the mean over ALL n
//     purchases, the first included, because the first purchase's amount
//     is not kept apart. [Summarize] instead averages the Frequency repeat
//     purchases only, so with distinct purchase days and no refunds
//     MonetaryValue here is (first amount + Frequency × Summarize's
//     MonetaryValue) / (Frequency + 1). It is 0 when Frequency is 0. For
//     [FitGammaGamma] this means each customer's mean has one more
//     purchase in it than the Frequency the model weights it by, and a
//     first order that differs systematically from repeats (a welcome
//     discount, a large first basket) shifts the estimated spend.
//   - The Holdout fields are 0: stored facts hold no calibration split.
//
// Rows are sorted by ID (byte-wise). Errors wrap [ErrInvalidInput] and
// name the option or customer and the value at fault (facts that give an
// invalid row, such as a last purchase before the first, are reported the
// same way; of several customers at fault, the one whose ID sorts first,
// whatever the order seq yields them in; of several bad Rates entries,
// the one whose currency sorts first), except that a failure yielded by seq, and ctx's error when
// ctx is done before the customers are all read, are returned wrapped so
// that errors.Is finds them. It is an error when no customer is left to
// summarise.
func SummarizeCustomers(ctx context.Context, seq iter.Seq2[*lifecycle.Customer, error], opts StoreSummaryOptions) ([]Customer, error) {
	cfg, err := opts.check()
	if err != nil {
		return nil, err
	}
	if seq == nil {
		return nil, invalidf("customers: nil sequence")
	}
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clv: summarising customers: %w", err)
	}
	type row struct {
		id          string
		first, last int64 // calendar days
		n           int64
		money       float64
	}
	var (
		rows   []row
		latest int64
		seen   bool
		bad    error // of the customers at fault, the least ID's
		badID  string
	)
	fault := func(id string, err error) {
		if bad == nil || id < badID {
			bad, badID = err, id
		}
	}
	for c, err := range seq {
		if err != nil {
			return nil, fmt.Errorf("clv: reading customers: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("clv: summarising customers: %w", err)
		}
		if c == nil {
			continue
		}
		p, ok := cfg.purchases(c)
		if !ok {
			continue
		}
		first, last := cfg.day(p.first), cfg.day(p.last)
		if !seen || last > latest {
			latest, seen = last, true
		}
		if p.n == 0 {
			continue
		}
		if cfg.hasEnd {
			if first > cfg.end {
				continue // acquired after the observation
			}
			if last > cfg.end {
				fault(c.ID, invalidf("customer %q: last purchase on %s is after StoreSummaryOptions.ObservationEnd = %s; purchases after the observation end cannot be separated from stored facts",
					c.ID, p.last.In(cfg.loc).Format(time.DateOnly), opts.ObservationEnd.In(cfg.loc).Format(time.DateOnly)))
				continue
			}
		}
		money, err := cfg.money(c)
		if err != nil {
			fault(c.ID, err)
			continue
		}
		rows = append(rows, row{c.ID, first, last, p.n, money})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clv: summarising customers: %w", err)
	}
	if bad != nil {
		return nil, bad
	}
	end := cfg.end
	if !cfg.hasEnd {
		end = latest
	}
	if len(rows) == 0 {
		if cfg.hasEnd {
			return nil, invalidf("no customer purchased on or before ObservationEnd = %s", opts.ObservationEnd.In(cfg.loc).Format(time.DateOnly))
		}
		return nil, invalidf("no customer has a purchase (PurchaseTypes %v)", cfg.types)
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.id, b.id) })
	scale := 1 / cfg.unit.Days() // units per day, as in Summarize
	out := make([]Customer, len(rows))
	for i, r := range rows {
		c := Customer{
			ID:        r.id,
			Frequency: int(r.n - 1),
			T:         float64(end-r.first) * scale,
		}
		if c.Frequency > 0 {
			c.Recency = float64(r.last-r.first) * scale
			c.MonetaryValue = r.money / float64(r.n)
		}
		if err := checkCustomer(c); err != nil {
			return nil, fmt.Errorf("stored facts: %w", err)
		}
		out[i] = c
	}
	return out, nil
}

// storeConfig is a checked StoreSummaryOptions.
type storeConfig struct {
	currency string
	rates    map[string]float64
	unit     TimeUnit
	loc      *time.Location
	end      int64 // calendar day of ObservationEnd, when hasEnd
	hasEnd   bool
	types    []lifecycle.EventType
	netting  bool // OrderCompleted is a purchase type: refunds are netted
}

// check validates the options and fills in the defaults.
func (o StoreSummaryOptions) check() (*storeConfig, error) {
	cfg := &storeConfig{currency: o.Currency, rates: o.Rates, unit: o.Unit, loc: o.Location, types: o.PurchaseTypes}
	if !isCurrencyCode(o.Currency) {
		return nil, invalidf("StoreSummaryOptions.Currency = %q, must be an ISO 4217 code of three upper-case letters", o.Currency)
	}
	for _, cur := range slices.Sorted(maps.Keys(o.Rates)) {
		r := o.Rates[cur]
		if !isCurrencyCode(cur) {
			return nil, invalidf("StoreSummaryOptions.Rates key %q, must be an ISO 4217 code of three upper-case letters", cur)
		}
		if cur == o.Currency {
			return nil, invalidf("StoreSummaryOptions.Rates[%q] = %v: a rate for Currency itself", cur, r)
		}
		if !(r > 0) || math.IsInf(r, 0) {
			return nil, invalidf("StoreSummaryOptions.Rates[%q] = %v, must be finite and > 0", cur, r)
		}
	}
	if cfg.unit == 0 {
		cfg.unit = Day
	}
	if cfg.unit.Days() == 0 {
		return nil, invalidf("StoreSummaryOptions.Unit = %v, must be Day or Week", o.Unit)
	}
	if cfg.loc == nil {
		cfg.loc = time.UTC
	}
	if !o.ObservationEnd.IsZero() {
		cfg.end, cfg.hasEnd = cfg.day(o.ObservationEnd), true
	}
	if len(cfg.types) == 0 {
		cfg.types = []lifecycle.EventType{lifecycle.OrderCompleted}
	}
	for i, t := range cfg.types {
		if !isPurchaseType(t) {
			return nil, invalidf("StoreSummaryOptions.PurchaseTypes[%d] = %q, must be order_completed, subscription_started, subscription_renewed or a vendor-prefixed custom type", i, t)
		}
		if slices.Contains(cfg.types[:i], t) {
			return nil, invalidf("StoreSummaryOptions.PurchaseTypes[%d] = %q is listed twice", i, t)
		}
		if t == lifecycle.OrderCompleted {
			cfg.netting = true
		}
	}
	return cfg, nil
}

// day returns the calendar day of t in the configured location.
func (cfg *storeConfig) day(t time.Time) int64 { return periodOf(t.In(cfg.loc), Day) }

// storePurchases is what a customer's facts say about their purchases.
type storePurchases struct {
	first, last time.Time
	n           int64 // net purchases
}

// purchases reads c's purchases; ok is false when c has no purchase event
// at all (not even a refunded one).
func (cfg *storeConfig) purchases(c *lifecycle.Customer) (p storePurchases, ok bool) {
	f := &c.Facts
	for _, t := range cfg.types {
		tl, found := f.Tally(t)
		if !found || tl.Count <= 0 {
			continue
		}
		if !ok || tl.First.Before(p.first) {
			p.first = tl.First
		}
		if !ok || tl.Last.After(p.last) {
			p.last = tl.Last
		}
		ok = true
		if t == lifecycle.OrderCompleted {
			p.n += f.Orders()
		} else {
			p.n += tl.Count
		}
	}
	return p, ok
}

// money returns c's net purchase money in Currency (never below 0), or an
// error when some of it is in a currency with no rate. It is asked only of
// customers who are kept.
func (cfg *storeConfig) money(c *lifecycle.Customer) (float64, error) {
	var money float64
	for _, s := range c.Facts.Sums {
		sign := 0.0
		switch {
		case s.Type == lifecycle.OrderRefunded && cfg.netting:
			sign = -1
		case slices.Contains(cfg.types, s.Type):
			sign = 1
		}
		if sign == 0 || s.Amount == 0 {
			continue
		}
		rate := 1.0
		if s.Currency != cfg.currency {
			r, found := cfg.rates[s.Currency]
			if !found {
				return 0, invalidf("customer %q: %s money in %s, which is not StoreSummaryOptions.Currency = %s and has no entry in StoreSummaryOptions.Rates",
					c.ID, s.Type, s.Currency, cfg.currency)
			}
			rate = r
		}
		money += sign * float64(s.Amount) / math.Pow10(lifecycle.MinorUnits(s.Currency)) * rate
		if math.IsInf(money, 0) {
			return 0, invalidf("customer %q: %s money in %s converted at the rate %v to %s exceeds the largest float64", c.ID, s.Type, s.Currency, rate, cfg.currency)
		}
	}
	return max(money, 0), nil
}

// isCurrencyCode reports whether s is three upper-case ASCII letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// isPurchaseType reports whether t may be a purchase type: a standard
// type of a purchase kind (OrderCompleted, SubscriptionStarted,
// SubscriptionRenewed: see [lifecycle.EventKind.Purchase]), or a
// non-standard name with a vendor prefix.
func isPurchaseType(t lifecycle.EventType) bool {
	switch {
	case t.Kind().Purchase():
		return true
	case t.Standard():
		return false
	}
	s := string(t)
	dot := strings.IndexByte(s, '.')
	return dot > 0 && dot < len(s)-1
}
