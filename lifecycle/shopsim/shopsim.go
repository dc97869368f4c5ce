// Package shopsim generates realistic, reproducible streams of shop events
// for examples, tests, simulations and load tests: customers whose activity
// follows a power law, ad impressions, sessions of visits, product views,
// carts and orders, with refunds, support tickets, surveys, reviews,
// newsletter sign-ups and referrals, all in the standard vocabulary of
// package lifecycle.
//
// [Generate] gives a small stream that reads like a shop's half year (180
// days by default; the quickstart example records a year of it, with
// Days: 365); [Stream] gives a stream of an exact
// number of events from a Zipf-distributed population, for load tests.
// Both are seeded (math/rand/v2's PCG): the same configuration always gives
// the same events. The proportions (how often a visit ends in an order, a
// refund, a ticket) are plausible, not fitted to any shop's data.
package shopsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// Config describes the stream to generate.
type Config struct {
	Customers int       // number of customers (default 40; more than MaxCustomers counts as MaxCustomers)
	Start     time.Time // first possible event time (default 2026-01-01 UTC; see [MaxDays] for its range)
	Days      int       // length of the period in days (default 180; more than MaxDays counts as MaxDays)
	Seed      uint64    // seed of the random source
	// SessionsAlpha is the Pareto shape of sessions per customer; smaller
	// means a heavier tail (default 1.6, also for NaN).
	SessionsAlpha float64
	// MaxSessions caps the sessions of one customer (default 40).
	MaxSessions int
	// Currency of order amounts (default "EUR", also for a code that is
	// not three upper-case letters, which events could not carry).
	Currency string
}

// Limits of the generators' configurations: a larger value is cut to the
// limit. They bound a stream's times and counts, not the memory [Generate]
// takes: its stream grows with Customers × MaxSessions (up to about 130
// events a customer at the default 40 sessions and a long period, so at
// MaxCustomers over 10^8 events, tens of gigabytes); [Stream], whose
// Events bounds it, is the one for large runs.
const (
	// MaxDays is the longest period, in days, [Config.Days] and
	// [StreamConfig.Days] give (about 273 years). The period is also kept
	// within the years events may carry ([lifecycle.Event.Validate]: 1900
	// to 9999): a Start before 1900 counts as 1900-01-01, and one so late
	// that the period would pass 9999 is moved back until it ends there.
	MaxDays = 100_000
	// MaxCustomers is the most customers [Config.Customers] and
	// [StreamConfig.Customers] give.
	MaxCustomers = 1_000_000
	// MaxEvents is the most events [StreamConfig.Events] gives.
	MaxEvents = 10_000_000
)

var (
	firstStart = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	lastEnd    = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// period returns start and days kept within the limits (see [MaxDays]),
// and currency, or "EUR" for one events cannot carry.
func period(start time.Time, days int, currency string) (time.Time, int, string) {
	days = min(days, MaxDays)
	if start.Before(firstStart) {
		start = firstStart
	}
	if last := lastEnd.AddDate(0, 0, -days); start.After(last) {
		start = last
	}
	if len(currency) != 3 || currency[0] < 'A' || currency[0] > 'Z' || currency[1] < 'A' || currency[1] > 'Z' || currency[2] < 'A' || currency[2] > 'Z' {
		currency = "EUR"
	}
	return start, days, currency
}

func (c *Config) defaults() {
	if c.Customers <= 0 {
		c.Customers = 40
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Days <= 0 {
		c.Days = 180
	}
	c.Customers = min(c.Customers, MaxCustomers)
	if !(c.SessionsAlpha > 0) { // NaN too
		c.SessionsAlpha = 1.6
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 40
	}
	c.Start, c.Days, c.Currency = period(c.Start, c.Days, c.Currency)
}

// CustomerID returns the ID the generator gives to customer i.
func CustomerID(i int) string { return "cust-" + strconv.Itoa(i) }

// Generate returns the stream sorted by time (ties by event ID). Event IDs
// are unique. Customers with a higher index may have been referred by a
// customer with a lower one.
func Generate(cfg Config) []lifecycle.Event {
	cfg.defaults()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed5eed))
	var out []lifecycle.Event
	seq := 0
	add := func(cust string, typ lifecycle.EventType, at time.Time, amount int64, ref string, attrs map[string]string) {
		seq++
		e := lifecycle.Event{ID: fmt.Sprintf("e%07d", seq), CustomerID: cust, Type: typ, Time: at, ReferrerID: ref, Attrs: attrs}
		if amount > 0 {
			e.Amount, e.Currency = amount, cfg.Currency
		}
		out = append(out, e)
	}
	period := time.Duration(cfg.Days) * 24 * time.Hour
	categories := []string{"beauty", "books", "garden", "kitchen", "toys"}
	channels := []string{"search", "social", "email", "display", "referral"}
	for i := 0; i < cfg.Customers; i++ {
		cust := CustomerID(i)
		// Pareto-distributed number of sessions, at least 1.
		// (Capped as a float: a small alpha makes the draw too large for
		// an int, or +Inf.)
		sessions := cfg.MaxSessions
		if x := math.Floor(math.Pow(1-r.Float64(), -1/cfg.SessionsAlpha)); x < float64(cfg.MaxSessions) {
			sessions = max(int(x), 1)
		}
		first := cfg.Start.Add(time.Duration(r.Int64N(int64(period) / 4 * 3))) // (period*3 overflows past about 35,000 days)
		ref := ""
		ch := channels[r.IntN(len(channels)-1)]
		if i > 3 && r.Float64() < 0.15 {
			ref = CustomerID(r.IntN(i))
			ch = "referral"
		}
		if r.Float64() < 0.5 {
			add(cust, lifecycle.AdImpression, notBefore(first.Add(-time.Duration(r.IntN(72))*time.Hour), cfg.Start), 0, "", map[string]string{"channel": ch})
		}
		at := first
		orders := 0
		fav := categories[r.IntN(len(categories))]
		for s := 0; s < sessions; s++ {
			if s > 0 {
				gap := time.Duration(r.ExpFloat64()*float64(10*24*time.Hour)) + time.Hour
				at = at.Add(gap)
			}
			if at.After(cfg.Start.Add(period)) {
				break
			}
			refHere := ""
			if s == 0 {
				refHere = ref
			}
			add(cust, lifecycle.SiteVisited, at, 0, refHere, map[string]string{"channel": ch})
			t := at
			step := func() time.Time { t = t.Add(time.Duration(1+r.IntN(300)) * time.Second); return t }
			if s == 0 && r.Float64() < 0.35 {
				add(cust, lifecycle.SignedUp, step(), 0, "", nil)
				if r.Float64() < 0.5 {
					add(cust, lifecycle.NewsletterSubscribed, step(), 0, "", nil)
				}
			}
			cat := fav
			if r.Float64() < 0.3 {
				cat = categories[r.IntN(len(categories))]
			}
			if r.Float64() < 0.7 {
				add(cust, lifecycle.ProductViewed, step(), 0, "", map[string]string{"category": cat})
			}
			pBuy := 0.12 + 0.1*float64(min(orders, 4))
			if r.Float64() < 0.35 {
				add(cust, lifecycle.CartAdded, step(), 0, "", map[string]string{"category": cat})
				if r.Float64() < 0.8 {
					add(cust, lifecycle.CheckoutStarted, step(), 0, "", nil)
				}
				pBuy += 0.45
			}
			if r.Float64() < pBuy {
				orders++
				amount := int64(1000 + r.IntN(12000))
				orderAt := step()
				add(cust, lifecycle.OrderCompleted, orderAt, amount, "", map[string]string{"category": cat})
				if r.Float64() < 0.06 {
					add(cust, lifecycle.OrderRefunded, orderAt.Add(time.Duration(2+r.IntN(10))*24*time.Hour), amount, "", nil)
				}
				if r.Float64() < 0.1 {
					open := orderAt.Add(time.Duration(1+r.IntN(5)) * 24 * time.Hour)
					add(cust, lifecycle.TicketOpened, open, 0, "", nil)
					if r.Float64() < 0.85 {
						add(cust, lifecycle.TicketResolved, open.Add(time.Duration(1+r.IntN(48))*time.Hour), 0, "", nil)
					}
				}
				if r.Float64() < 0.15 {
					add(cust, lifecycle.SurveyAnswered, orderAt.Add(7*24*time.Hour), 0, "", map[string]string{lifecycle.ScoreAttr: strconv.Itoa(r.IntN(11))})
				}
				if orders >= 2 && r.Float64() < 0.2 {
					add(cust, lifecycle.ReviewPosted, orderAt.Add(5*24*time.Hour), 0, "", map[string]string{"category": cat})
				}
				if orders >= 3 && r.Float64() < 0.2 {
					add(cust, lifecycle.ReferralMade, orderAt.Add(24*time.Hour), 0, "", nil)
				}
			}
		}
	}
	end := cfg.Start.Add(period)
	out = slices.DeleteFunc(out, func(e lifecycle.Event) bool { return e.Time.After(end) })
	slices.SortStableFunc(out, func(a, b lifecycle.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	return out
}

// notBefore returns t, or start when t is earlier: an ad impression shown
// before a first visit close to Start is dated at Start, the first
// possible event time.
func notBefore(t, start time.Time) time.Time {
	if t.Before(start) {
		return start
	}
	return t
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
