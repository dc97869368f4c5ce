package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// Times are equal, for every rule of the suite, when they are the same
// instant to the nanosecond (time.Time.Equal) and have the same UTC offset
// to the second. The zone's name, the *time.Location and a monotonic
// clock reading are not compared: a store gives times back "with their
// offset", not with their location.

// sameTime reports whether a and b are equal in that sense.
func sameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

// customerTimes returns every time of c, each with the field's name.
func customerTimes(c *lifecycle.Customer) []namedTime {
	ts := []namedTime{
		{"Since", c.Since}, {"AsOf", c.AsOf}, {"Due", c.Due},
		{"Facts.First", c.Facts.First}, {"Facts.Last", c.Facts.Last},
		{"Facts.ReferredAt", c.Facts.ReferredAt}, {"Facts.ScoreAt", c.Facts.ScoreAt},
	}
	for i, t := range c.Facts.Tallies {
		ts = append(ts, namedTime{fmt.Sprintf("Facts.Tallies[%d].First", i), t.First}, namedTime{fmt.Sprintf("Facts.Tallies[%d].Last", i), t.Last})
	}
	for i, r := range c.Facts.Referrals {
		ts = append(ts, namedTime{fmt.Sprintf("Facts.Referrals[%d].At", i), r.At})
	}
	for i, tr := range c.History {
		ts = append(ts, namedTime{fmt.Sprintf("History[%d].At", i), tr.At})
	}
	return ts
}

type namedTime struct {
	name string
	t    time.Time
}

// sameTimes returns an error naming the first time of got that is not
// equal to want's (see sameTime), or nil. Customers whose slices differ
// in length are left to the JSON comparison of same.
func sameTimes(want, got *lifecycle.Customer) error {
	w, g := customerTimes(want), customerTimes(got)
	if len(w) != len(g) {
		return nil
	}
	for i := range w {
		if sameTime(w[i].t, g[i].t) {
			continue
		}
		_, ow := w[i].t.Zone()
		_, og := g[i].t.Zone()
		if ow%60 == 0 && ow == og {
			// Not an encoding's loss: another value (a stale or lost write?).
			return fmt.Errorf("%s: put %s, got back %s (%v off, offset the same): another value came back",
				w[i].name, w[i].t.Format(exactLayout), g[i].t.Format(exactLayout), gap(w[i].t, g[i].t))
		}
		return fmt.Errorf("%s: put %s, got back %s (%v off, offset %s); a time must come back as the same instant with the same UTC offset, seconds of the offset included (lifecycle.Customer's MarshalJSON keeps them; encoding/json of a time.Time drops them)",
			w[i].name, w[i].t.Format(exactLayout), g[i].t.Format(exactLayout), gap(w[i].t, g[i].t), offsetDiff(w[i].t, g[i].t))
	}
	return nil
}

// gap returns got − want for a message: a duration, or in years where
// time.Time.Sub saturates (about 292 years).
func gap(want, got time.Time) string {
	if d := got.Sub(want); d > math.MinInt64 && d < math.MaxInt64 {
		return d.String()
	}
	return fmt.Sprintf("about %.0f years", float64(got.Unix()-want.Unix())/(365.2425*86400))
}

const exactLayout = "2006-01-02T15:04:05.999999999-07:00:00"

func offsetDiff(want, got time.Time) string {
	_, ow := want.Zone()
	_, og := got.Zone()
	if ow == og {
		return "the same"
	}
	return fmt.Sprintf("%+ds", og-ow)
}

// Zones for exactTimes: whole-minute offsets every store must keep, and
// local mean times (offsets with seconds, in use before about 1940) that
// a store may refuse but must not change.
var (
	minuteZones = []*time.Location{
		time.UTC,
		time.FixedZone("NPT", 5*3600+45*60),
		time.FixedZone("NST", -(3*3600 + 30*60)),
		time.FixedZone("LINT", 14*3600),
		time.FixedZone("BIT", -12*3600),
	}
	secondZones = []*time.Location{
		time.FixedZone("LMT", 19*60+32),               // Amsterdam, 1900
		time.FixedZone("DMT", -(25*60 + 21)),          // Dublin, 1900
		time.FixedZone("LMT", 4*3600+51*60+40),        // Kolkata
		time.FixedZone("LMT", -(7*3600 + 52*60 + 58)), // Los Angeles, before 1883
	}
)

// exactSample returns sample(id, 0) with every time moved to one of
// zones (in turn), given nanoseconds, and set in the years 1900 to 9999
// (the range the Tracker writes): the earliest, 1900-01-01, in the first
// zones, and Never, the latest, as AsOf.
func exactSample(id string, zones []*time.Location) *lifecycle.Customer {
	c := sample(id, 0)
	i := 0
	at := func(t time.Time) time.Time {
		i++
		return t.In(zones[i%len(zones)])
	}
	base := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	step := func(days int, ns int) time.Time {
		return at(base.AddDate(0, 0, days).Add(time.Duration(ns)))
	}
	c.Facts.First = step(0, 1)
	c.Since = step(400, 999_999_999)
	c.AsOf = lifecycle.Never.In(westmost(zones)) // year 9999 in the zone too
	c.Facts.Last = step(13_000, 123_456_789)     // 1935
	c.Facts.ReferredAt = step(1, 1_000)
	c.Facts.ScoreAt = step(2, 7)
	c.Due = step(13_001, 500_000_001)
	for j := range c.Facts.Tallies {
		c.Facts.Tallies[j].First = step(3+j, 11*j+1)
		c.Facts.Tallies[j].Last = step(3_000+j, 999_999_000+j)
	}
	for j := range c.Facts.Referrals {
		c.Facts.Referrals[j].At = step(5_000+j, 42)
	}
	for j := range c.History {
		c.History[j].At = step(j*1_000, 100*j+3)
	}
	return c
}

// westmost returns the zone of zones with the lowest offset.
func westmost(zones []*time.Location) *time.Location {
	w := zones[0]
	for _, z := range zones {
		if offsetOf(z) < offsetOf(w) {
			w = z
		}
	}
	return w
}

func offsetOf(z *time.Location) int {
	_, o := time.Unix(0, 0).In(z).Zone()
	return o
}

// exactTimes checks that times come back equal (see sameTime) from Get,
// Load and Scan: times with nanoseconds, in whole-minute offsets from
// −12:00 to +14:00, from 1900 to lifecycle.Never, must be stored; times
// whose offset has seconds (local mean time, such as Amsterdam's
// +00:19:32 in 1900) must come back equal too, or the Put must be refused
// with an error wrapping lifecycle.ErrInvalidCustomer and nothing stored
// (store/sqlstore refuses them) — never stored changed.
func exactTimes(ctx context.Context, s lifecycle.Store, p string) error {
	minutes := exactSample(p+"exact-minutes", minuteZones)
	if err := s.Put(ctx, minutes, 0); err != nil {
		return fmt.Errorf("Put(%q, times in whole-minute offsets, 1900 to 9999, with nanoseconds) = %v; want nil", minutes.ID, err)
	}
	if err := readsBack(ctx, s, p+"exact-minutes", minutes); err != nil {
		return err
	}
	lmt := exactSample(p+"exact-seconds", secondZones)
	err := s.Put(ctx, lmt, 0)
	if errors.Is(err, lifecycle.ErrInvalidCustomer) {
		if _, err := s.Get(ctx, lmt.ID); !errors.Is(err, lifecycle.ErrNotFound) {
			return fmt.Errorf("a Put refused with ErrInvalidCustomer (times whose offset has seconds) stored something: Get(%q) = %v", lmt.ID, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("Put(%q, times whose UTC offset has seconds) = %v; want nil, or an error wrapping ErrInvalidCustomer", lmt.ID, err)
	}
	return readsBack(ctx, s, p+"exact-seconds", lmt)
}

// readsBack checks that Get, Load (for a Loader) and Scan give want back
// exactly; prefix selects want among the customers Scan yields.
func readsBack(ctx context.Context, s lifecycle.Store, prefix string, want *lifecycle.Customer) error {
	got, err := s.Get(ctx, want.ID)
	if err != nil {
		return fmt.Errorf("Get(%q) after Put = %v", want.ID, err)
	}
	if err := same(want, got); err != nil {
		return fmt.Errorf("Get(%q): %w", want.ID, err)
	}
	if l, ok := s.(lifecycle.Loader); ok {
		dst := new(lifecycle.Customer)
		if err := l.Load(ctx, want.ID, dst); err != nil {
			return fmt.Errorf("Load(%q) after Put = %v", want.ID, err)
		}
		if err := same(want, dst); err != nil {
			return fmt.Errorf("Load(%q): %w", want.ID, err)
		}
	}
	all, err := scanMine(ctx, s, prefix)
	if err != nil {
		return err
	}
	if err := same(want, all[want.ID]); err != nil {
		return fmt.Errorf("Scan's copy of %q: %w", want.ID, err)
	}
	return nil
}
