package clv

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Transaction is one purchase in a transaction log.
type Transaction struct {
	// CustomerID identifies the customer; it must be non-empty.
	CustomerID string
	// Time is when the purchase happened. Only its calendar date (in the
	// Time's own location) matters: purchases are grouped into day or week
	// periods.
	Time time.Time
	// Amount is the purchase value in currency units (for example dollars,
	// not cents), as a float64. It must be finite and ≥ 0; refunds are not
	// supported.
	Amount float64
}

// TimeUnit is a calendar period used to group purchases and to measure
// Recency and T.
type TimeUnit int

const (
	// Day is a calendar day.
	Day TimeUnit = iota + 1
	// Week is 7 days. As a grouping period, weeks run Monday to Sunday
	// (ISO weeks).
	Week
)

// Days returns the length of the unit in days (1 or 7), or 0 for an unknown
// unit.
func (u TimeUnit) Days() float64 {
	switch u {
	case Day:
		return 1
	case Week:
		return 7
	}
	return 0
}

// String returns "day" or "week".
func (u TimeUnit) String() string {
	switch u {
	case Day:
		return "day"
	case Week:
		return "week"
	}
	return fmt.Sprintf("TimeUnit(%d)", int(u))
}

// SummaryOptions configure [Summarize]. The zero value groups purchases by
// day, measures time in days, and uses the whole log as calibration data.
type SummaryOptions struct {
	// Period groups purchases: all purchases of a customer in the same
	// period collapse into one purchase whose value is their sum.
	// Default Day.
	Period TimeUnit
	// Unit is the unit in which Recency, T and HoldoutDuration are
	// expressed. Default: the same as Period. Period Day with Unit Week
	// gives the standard CDNOW summary (day-collapsed, weeks as unit).
	Unit TimeUnit
	// CalibrationEnd is the last moment of the calibration period; the
	// whole period (day or week) containing it belongs to calibration.
	// Default: ObservationEnd (no holdout).
	CalibrationEnd time.Time
	// ObservationEnd is the last moment of the observation (calibration +
	// holdout); the whole period containing it is included, transactions
	// in later periods are ignored. Default: the latest period of any
	// transaction or of CalibrationEnd, so that none is left out (periods
	// are compared by calendar date, each time in its own location).
	ObservationEnd time.Time
}

// Customer is the RFM summary of one customer: the input to the models'
// fits and predictions. For hand-built rows only Frequency, Recency and T
// (and MonetaryValue for spend models) matter.
type Customer struct {
	// ID is the customer identifier.
	ID string
	// Frequency is the number of repeat purchase periods in calibration:
	// distinct purchase periods − 1.
	Frequency int
	// Recency is the age of the customer at the last calibration purchase
	// (last − first purchase period), in the summary's Unit. It is 0 when
	// Frequency is 0.
	Recency float64
	// T is the age of the customer at the end of calibration (calibration
	// end period − first purchase period), in the summary's Unit.
	T float64
	// MonetaryValue is the mean value of the repeat purchase periods (the
	// first period excluded); 0 when Frequency is 0.
	MonetaryValue float64
	// HoldoutFrequency is the number of distinct purchase periods after the
	// calibration period and up to the observation end.
	HoldoutFrequency int
	// HoldoutMonetaryValue is the mean value per holdout purchase period;
	// 0 when HoldoutFrequency is 0.
	HoldoutMonetaryValue float64
	// HoldoutDuration is the length of the holdout period (observation end
	// period − calibration end period) in the summary's Unit; the same for
	// every customer.
	HoldoutDuration float64
}

// Summarize builds one RFM row per customer from a transaction log,
// following the conventions of Fader, Hardie & Lee and of the lifetimes
// package: purchases in the same period are summed into one, Frequency is
// the number of distinct purchase periods minus one, Recency is last minus
// first period, T is calibration end minus first period, MonetaryValue is the
// mean value of the repeat periods. Customers whose first purchase falls
// after the calibration period are omitted (they were not yet acquired).
//
// Rows are returned sorted by CustomerID (byte-wise). The input slice is not
// modified. Errors wrap [ErrInvalidInput] and name the offending transaction
// (by index), option, or customer (one whose amounts add up past the
// largest float64).
func Summarize(txs []Transaction, opts SummaryOptions) ([]Customer, error) {
	if len(txs) == 0 {
		return nil, invalidf("transactions: empty")
	}
	period, unit := opts.Period, opts.Unit
	if period == 0 {
		period = Day
	}
	if unit == 0 {
		unit = period
	}
	if period.Days() == 0 {
		return nil, invalidf("SummaryOptions.Period = %v, must be Day or Week", period)
	}
	if unit.Days() == 0 {
		return nil, invalidf("SummaryOptions.Unit = %v, must be Day or Week", unit)
	}
	var (
		latest  time.Time // a transaction in the latest period
		latestP int64
	)
	for i, tx := range txs {
		if tx.CustomerID == "" {
			return nil, invalidf("transactions[%d].CustomerID is empty", i)
		}
		if tx.Time.IsZero() {
			return nil, invalidf("transactions[%d].Time is the zero time (customer %q)", i, tx.CustomerID)
		}
		if !(tx.Amount >= 0) || math.IsInf(tx.Amount, 0) {
			return nil, invalidf("transactions[%d].Amount = %v (customer %q), must be finite and ≥ 0", i, tx.Amount, tx.CustomerID)
		}
		// Compare periods, not instants: with times in several locations
		// the latest instant need not have the latest calendar date.
		if p := periodOf(tx.Time, period); i == 0 || p > latestP {
			latest, latestP = tx.Time, p
		}
	}
	obsEnd := opts.ObservationEnd
	if obsEnd.IsZero() {
		obsEnd = latest
		if !opts.CalibrationEnd.IsZero() && periodOf(opts.CalibrationEnd, period) > latestP {
			obsEnd = opts.CalibrationEnd
		}
	}
	calEnd := opts.CalibrationEnd
	if calEnd.IsZero() {
		calEnd = obsEnd
	}
	calP, obsP := periodOf(calEnd, period), periodOf(obsEnd, period)
	if calP > obsP {
		return nil, invalidf("SummaryOptions.CalibrationEnd = %v is after ObservationEnd = %v",
			calEnd.Format(time.DateOnly), obsEnd.Format(time.DateOnly))
	}

	type purchase struct {
		id     string
		period int64
		amount float64
	}
	ps := make([]purchase, 0, len(txs))
	for _, tx := range txs {
		if p := periodOf(tx.Time, period); p <= obsP {
			ps = append(ps, purchase{tx.CustomerID, p, tx.Amount})
		}
	}
	slices.SortFunc(ps, func(a, b purchase) int {
		if c := cmp.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(a.period, b.period)
	})

	scale := period.Days() / unit.Days() // units per period
	holdout := float64(obsP-calP) * scale
	var out []Customer
	for i := 0; i < len(ps); {
		id := ps[i].id
		first := ps[i].period
		c := Customer{ID: id, HoldoutDuration: holdout}
		last := first
		var calValue, holdValue, firstValue float64
		calPeriods, holdPeriods := 0, 0
		for i < len(ps) && ps[i].id == id {
			p := ps[i].period
			var v float64
			for i < len(ps) && ps[i].id == id && ps[i].period == p {
				v += ps[i].amount
				i++
			}
			if p <= calP {
				if calPeriods > 0 {
					calValue += v
				} else {
					firstValue = v // not in MonetaryValue, but checked
				}
				calPeriods++
				last = p
			} else {
				holdPeriods++
				holdValue += v
			}
		}
		if first > calP {
			continue // acquired after calibration
		}
		c.Frequency = calPeriods - 1
		c.Recency = float64(last-first) * scale
		c.T = float64(calP-first) * scale
		if c.Frequency > 0 {
			c.MonetaryValue = calValue / float64(c.Frequency)
		}
		c.HoldoutFrequency = holdPeriods
		if holdPeriods > 0 {
			c.HoldoutMonetaryValue = holdValue / float64(holdPeriods)
		}
		if math.IsInf(calValue, 0) || math.IsInf(holdValue, 0) || math.IsInf(firstValue, 0) {
			return nil, invalidf("customer %q: the sum of its amounts exceeds the largest float64", id)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		end := "CalibrationEnd"
		if opts.CalibrationEnd.IsZero() {
			end = "ObservationEnd" // (CalibrationEnd's default)
		}
		return nil, invalidf("no customer purchased on or before %s = %v", end, calEnd.Format(time.DateOnly))
	}
	return out, nil
}

// periodOf returns the index of the period containing t's calendar date:
// days since 1970-01-01, or Monday-based weeks since the week of 1969-12-29.
func periodOf(t time.Time, u TimeUnit) int64 {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	if u == Week {
		// 1970-01-01 was a Thursday; shift so weeks start on Monday.
		return floorDiv(day+3, 7)
	}
	return day
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
