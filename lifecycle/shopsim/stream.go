package shopsim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// StreamConfig describes a large stream for [Stream].
type StreamConfig struct {
	// Events is the exact number of events to return (default 10000;
	// more than [MaxEvents] counts as MaxEvents).
	Events int
	// Customers is the size of the customer population the sessions are
	// drawn from (default Events/10, at least 1; more than [MaxCustomers]
	// counts as MaxCustomers). Activity follows a Zipf
	// law, so the busiest customers have thousands of events and many have
	// none: the stream usually names fewer customers than this.
	Customers int
	// Start is the first possible event time (default 2025-01-01 UTC);
	// Days the length of the period (default 365; more than [MaxDays]
	// counts as MaxDays, and the period is kept within the years 1900 to
	// 9999: see MaxDays).
	Start time.Time
	Days  int
	// Seed seeds the random source; the same config always gives the same
	// stream.
	Seed uint64
	// ZipfS is the exponent of the Zipf law over customers, > 1; larger
	// means more skewed (default 1.2, also for a value not above 1, NaN
	// or +Inf). A value within 10^-9 of 1 draws as 1 + 10^-9 (closer to
	// 1, the Zipf generator of math/rand/v2 is not exact): the law then
	// differs from the one asked for by less than one part in 10^7.
	ZipfS float64
	// Currency of order amounts (default "EUR", also for a code that is
	// not three upper-case letters).
	Currency string
	// NoReferrals turns referral links off: no event names a referrer.
	NoReferrals bool
}

func (c *StreamConfig) defaults() {
	if c.Events <= 0 {
		c.Events = 10000
	}
	if c.Customers <= 0 {
		c.Customers = max(c.Events/10, 1)
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Days <= 0 {
		c.Days = 365
	}
	c.Events = min(c.Events, MaxEvents)
	c.Customers = min(c.Customers, MaxCustomers)
	if !(c.ZipfS > 1) || math.IsInf(c.ZipfS, 1) {
		c.ZipfS = 1.2
	}
	c.Start, c.Days, c.Currency = period(c.Start, c.Days, c.Currency)
}

// Shared, read-only attribute maps: events of a big stream share them
// instead of allocating one map per event. Nothing in the library writes to
// an event's Attrs.
var (
	streamCategories = []string{"beauty", "books", "garden", "kitchen", "toys"}
	streamChannels   = []string{"search", "social", "email", "display", "referral"}
	categoryAttrs    = attrMaps("category", streamCategories)
	channelAttrs     = attrMaps("channel", streamChannels)
	scoreAttrs       = attrMaps(lifecycle.ScoreAttr, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"})
)

func attrMaps(key string, values []string) []map[string]string {
	out := make([]map[string]string, len(values))
	for i, v := range values {
		out[i] = map[string]string{key: v}
	}
	return out
}

// streamCustomer is what the generator remembers about one customer.
type streamCustomer struct {
	sessions int
	fav      int // favourite category
	channel  int
	referrer int  // index of the referrer, or -1
	started  bool // had a session: the next is not its first
}

// Stream returns a stream of exactly cfg.Events events, sorted by time
// (ties by event ID), for load tests, every one of them in the period
// (from Start to Start plus Days, both included). Customers are drawn from
// a Zipf law. Sessions are handed out in rounds until the events reach
// the target; in each round a customer's sessions are spread over the
// period in time order and follow the same funnel as [Generate]: on the
// customer's first session (the first of the first round that draws the
// customer), often an ad impression shortly before, and sometimes a
// sign-up and newsletter subscription; on every session a visit and, by
// chance, product views, carts, checkouts and orders, with refunds,
// support tickets, surveys, reviews and referral invitations after
// orders. A later round
// may place sessions before that first one, so a customer's sign-up or
// ad impression can come after earlier visits. Unless NoReferrals is set,
// about one customer in seven (among those with an index above 3) has a
// referrer, a customer with a lower index, named by the visit of that
// first session. Event IDs are "s" followed by a decimal
// sequence number and are unique. The attribute maps of the events are
// shared between events and must not be modified.
func Stream(cfg StreamConfig) []lifecycle.Event {
	cfg.defaults()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x57a3a11))
	zipf := rand.NewZipf(r, max(cfg.ZipfS, 1+1e-9), 1, uint64(cfg.Customers-1))
	custs := make([]streamCustomer, cfg.Customers)
	// draw returns a customer's index by the Zipf law, drawn again should
	// the generator go past the last customer (it does for exponents
	// near 1; never seen at 1 + 10^-9), the last customer after 64 tries.
	draw := func() int {
		for range 64 {
			if k := zipf.Uint64(); k < uint64(len(custs)) {
				return int(k)
			}
		}
		return len(custs) - 1
	}
	for i := range custs {
		custs[i] = streamCustomer{fav: r.IntN(len(streamCategories)), channel: r.IntN(len(streamChannels) - 1), referrer: -1}
		if i > 3 && r.IntN(7) == 0 && !cfg.NoReferrals {
			custs[i].referrer = r.IntN(i)
			custs[i].channel = len(streamChannels) - 1
		}
	}
	period := time.Duration(cfg.Days) * 24 * time.Hour
	end := cfg.Start.Add(period)
	out := make([]lifecycle.Event, 0, cfg.Events+cfg.Events/8)
	seq := 0
	// add keeps an event that falls in the period.
	add := func(cust int, typ lifecycle.EventType, at time.Time, amount int64, ref int, attrs map[string]string) {
		if at.After(end) {
			return
		}
		seq++
		e := lifecycle.Event{ID: "s" + strconv.Itoa(seq), CustomerID: CustomerID(cust), Type: typ, Time: at, Attrs: attrs}
		if ref >= 0 {
			e.ReferrerID = CustomerID(ref)
		}
		if amount > 0 {
			e.Amount, e.Currency = amount, cfg.Currency
		}
		out = append(out, e)
	}
	// Sessions are handed out in rounds until the events reach the target,
	// each customer's over the whole period. A round draws fewer sessions
	// than the missing events need (a session averages more than three
	// events), so the rounds close in on the target and the last one
	// overshoots by a few events, the last generated, which go: what is
	// kept covers the period to its end.
	var times []time.Time
	for len(out) < cfg.Events {
		sessions := (cfg.Events-len(out))/4 + 1
		for k := range custs {
			custs[k].sessions = 0
		}
		for range sessions {
			custs[draw()].sessions++
		}
		for i := range custs {
			c := &custs[i]
			if c.sessions == 0 {
				continue
			}
			times = times[:0]
			for range c.sessions {
				times = append(times, cfg.Start.Add(time.Duration(r.Int64N(int64(period)))))
			}
			slices.SortFunc(times, time.Time.Compare)
			orders := 0
			for s, at := range times {
				first := s == 0 && !c.started
				c.started = true
				ref := -1
				if first {
					ref = c.referrer
					if r.IntN(2) == 0 {
						add(i, lifecycle.AdImpression, notBefore(at.Add(-time.Duration(1+r.IntN(72))*time.Hour), cfg.Start), 0, -1, channelAttrs[c.channel])
					}
				}
				add(i, lifecycle.SiteVisited, at, 0, ref, channelAttrs[c.channel])
				t := at
				step := func() time.Time { t = t.Add(time.Duration(1+r.IntN(300)) * time.Second); return t }
				if first && r.IntN(100) < 35 {
					add(i, lifecycle.SignedUp, step(), 0, -1, nil)
					if r.IntN(2) == 0 {
						add(i, lifecycle.NewsletterSubscribed, step(), 0, -1, nil)
					}
				}
				cat := c.fav
				if r.IntN(10) < 3 {
					cat = r.IntN(len(streamCategories))
				}
				if r.IntN(10) < 7 {
					add(i, lifecycle.ProductViewed, step(), 0, -1, categoryAttrs[cat])
				}
				pBuy := 0.12 + 0.1*float64(min(orders, 4))
				if r.IntN(100) < 35 {
					add(i, lifecycle.CartAdded, step(), 0, -1, categoryAttrs[cat])
					if r.IntN(10) < 8 {
						add(i, lifecycle.CheckoutStarted, step(), 0, -1, nil)
					}
					pBuy += 0.45
				}
				if r.Float64() >= pBuy {
					continue
				}
				orders++
				amount := int64(1000 + r.IntN(12000))
				orderAt := step()
				add(i, lifecycle.OrderCompleted, orderAt, amount, -1, categoryAttrs[cat])
				if r.IntN(100) < 6 {
					add(i, lifecycle.OrderRefunded, orderAt.Add(time.Duration(2+r.IntN(10))*24*time.Hour), amount, -1, nil)
				}
				if r.IntN(10) == 0 {
					open := orderAt.Add(time.Duration(1+r.IntN(5)) * 24 * time.Hour)
					add(i, lifecycle.TicketOpened, open, 0, -1, nil)
					if r.IntN(100) < 85 {
						add(i, lifecycle.TicketResolved, open.Add(time.Duration(1+r.IntN(48))*time.Hour), 0, -1, nil)
					}
				}
				if r.IntN(100) < 15 {
					add(i, lifecycle.SurveyAnswered, orderAt.Add(7*24*time.Hour), 0, -1, scoreAttrs[r.IntN(11)])
				}
				if orders >= 2 && r.IntN(5) == 0 {
					add(i, lifecycle.ReviewPosted, orderAt.Add(5*24*time.Hour), 0, -1, categoryAttrs[cat])
				}
				if orders >= 3 && r.IntN(5) == 0 {
					add(i, lifecycle.ReferralMade, orderAt.Add(24*time.Hour), 0, -1, nil)
				}
			}
		}
	}
	clear(out[cfg.Events:])
	out = out[:cfg.Events:cfg.Events]
	slices.SortFunc(out, func(a, b lifecycle.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	return out
}
