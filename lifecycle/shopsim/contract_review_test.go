package shopsim_test

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func zzNoPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// zzCheck checks the promises shared by Generate and Stream: sorted by time
// (ties by ID), unique IDs, each event valid, within [start, start+days].
func zzCheck(t *testing.T, name string, evs []lifecycle.Event, start time.Time, days int, cur string) {
	t.Helper()
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	seen := map[string]bool{}
	bad := 0
	for i, e := range evs {
		if bad > 5 {
			return
		}
		if seen[e.ID] {
			t.Errorf("%s: duplicate event ID %s", name, e.ID)
			bad++
		}
		seen[e.ID] = true
		if err := e.Validate(); err != nil {
			t.Errorf("%s: event %d invalid: %v", name, i, err)
			bad++
		}
		if e.Time.Before(start) || e.Time.After(end) {
			t.Errorf("%s: event %s at %v outside [%v, %v]", name, e.ID, e.Time, start, end)
			bad++
		}
		if i > 0 {
			p := evs[i-1]
			if c := p.Time.Compare(e.Time); c > 0 || c == 0 && p.ID > e.ID {
				t.Errorf("%s: events %s and %s out of order", name, p.ID, e.ID)
				bad++
			}
		}
		if e.Amount > 0 && e.Currency != cur {
			t.Errorf("%s: currency %q, want %q", name, e.Currency, cur)
			bad++
		}
		if e.ReferrerID != "" && e.ReferrerID == e.CustomerID {
			t.Errorf("%s: self-referral %s", name, e.ID)
			bad++
		}
	}
}

func TestContractReviewGenerateDefaultsAndDeterminism(t *testing.T) {
	a := shopsim.Generate(shopsim.Config{Seed: 3})
	b := shopsim.Generate(shopsim.Config{Seed: 3})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same config, different events")
	}
	c := shopsim.Generate(shopsim.Config{Seed: 4})
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 3 and 4 give the same events")
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	zzCheck(t, "default", a, start, 180, "EUR")
	custs := map[string]bool{}
	for _, e := range a {
		custs[e.CustomerID] = true
		if !strings.HasPrefix(e.CustomerID, "cust-") {
			t.Errorf("customer ID %q not from CustomerID", e.CustomerID)
		}
	}
	if len(custs) > 40 {
		t.Errorf("%d customers, default is 40", len(custs))
	}
	if shopsim.CustomerID(7) != "cust-7" {
		t.Errorf("CustomerID(7) = %q", shopsim.CustomerID(7))
	}
	// Referrers have lower indexes.
	for _, e := range a {
		if e.ReferrerID != "" {
			var ri, ci int
			if _, err := fmtSscan(e.ReferrerID, &ri); err != nil {
				continue
			}
			_, _ = fmtSscan(e.CustomerID, &ci)
			if ri >= ci {
				t.Errorf("%s referred by %s (not lower)", e.CustomerID, e.ReferrerID)
			}
		}
	}
	// Every event records through a Tracker (the quickstart does this).
	now := start.Add(200 * 24 * time.Hour)
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return now }))
	for _, e := range a {
		if _, err := tr.Record(context.Background(), e); err != nil {
			t.Fatalf("Record %s: %v", e.ID, err)
		}
	}
}

func fmtSscan(id string, n *int) (int, error) {
	i := strings.LastIndexByte(id, '-')
	v := 0
	for _, r := range id[i+1:] {
		v = v*10 + int(r-'0')
	}
	*n = v
	return 1, nil
}

func TestContractReviewGenerateHostileConfig(t *testing.T) {
	cases := map[string]struct {
		cfg   shopsim.Config
		start time.Time
		days  int
		cur   string
	}{
		"negative everything": {shopsim.Config{Customers: -5, Days: -3, MaxSessions: -1, SessionsAlpha: -2, Currency: "eur"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 180, "EUR"},
		"NaN alpha":           {shopsim.Config{Customers: 10, SessionsAlpha: math.NaN()}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 180, "EUR"},
		"+Inf alpha":          {shopsim.Config{Customers: 10, SessionsAlpha: math.Inf(1)}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 180, "EUR"},
		"tiny alpha":          {shopsim.Config{Customers: 10, SessionsAlpha: 1e-300, MaxSessions: 5}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 180, "EUR"},
		"one day":             {shopsim.Config{Customers: 10, Days: 1, Currency: "JPY"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1, "JPY"},
		"start 1700":          {shopsim.Config{Customers: 10, Start: time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC), Days: 30}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 30, "EUR"},
		"start 9999-12-30":    {shopsim.Config{Customers: 10, Start: time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC), Days: 30}, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -30), 30, "EUR"},
		"huge days":           {shopsim.Config{Customers: 5, Days: math.MaxInt, Start: time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)}, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), shopsim.MaxDays, "EUR"},
		"currency with digit": {shopsim.Config{Customers: 5, Currency: "E1R"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 180, "EUR"},
		"currency unicode":    {shopsim.Config{Customers: 5, Currency: "ÉUR"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 180, "EUR"},
		"start in a zone":     {shopsim.Config{Customers: 10, Start: time.Date(1900, 1, 1, 2, 0, 0, 0, time.FixedZone("E", 5*3600)), Days: 10}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 10, "EUR"},
	}
	for name, c := range cases {
		var evs []lifecycle.Event
		zzNoPanic(t, name, func() { evs = shopsim.Generate(c.cfg) })
		zzCheck(t, "Generate "+name, evs, c.start, c.days, c.cur)
		if len(evs) == 0 {
			t.Errorf("Generate %s: no events", name)
		}
	}
}

func TestContractReviewStream(t *testing.T) {
	for _, n := range []int{1, 2, 7, 100, 5000} {
		cfg := shopsim.StreamConfig{Events: n, Seed: uint64(n)}
		evs := shopsim.Stream(cfg)
		if len(evs) != n {
			t.Errorf("Stream(%d) gave %d events", n, len(evs))
		}
		zzCheck(t, "Stream", evs, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 365, "EUR")
		for _, e := range evs {
			if !strings.HasPrefix(e.ID, "s") {
				t.Errorf("event ID %q", e.ID)
				break
			}
		}
		if !reflect.DeepEqual(evs, shopsim.Stream(cfg)) {
			t.Errorf("Stream(%d) not deterministic", n)
		}
	}
	// Default: 10000.
	if n := len(shopsim.Stream(shopsim.StreamConfig{Events: -1})); n != 10000 {
		t.Errorf("default events = %d", n)
	}
	// NoReferrals.
	for _, e := range shopsim.Stream(shopsim.StreamConfig{Events: 3000, NoReferrals: true}) {
		if e.ReferrerID != "" {
			t.Fatalf("NoReferrals: event %s names a referrer", e.ID)
		}
	}
	// Hostile configs.
	cases := map[string]shopsim.StreamConfig{
		"one customer":   {Events: 500, Customers: 1},
		"zipf NaN":       {Events: 500, ZipfS: math.NaN()},
		"zipf 1":         {Events: 500, ZipfS: 1},
		"zipf +Inf":      {Events: 500, ZipfS: math.Inf(1)},
		"zipf huge":      {Events: 500, ZipfS: 1e300},
		"zipf max float": {Events: 500, ZipfS: math.MaxFloat64},
		"max customers":  {Events: 50, Customers: math.MaxInt},
		"one day":        {Events: 500, Days: 1},
		"start late":     {Events: 500, Start: time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)},
		"start early":    {Events: 500, Start: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		"huge days":      {Events: 500, Days: math.MaxInt},
		"bad currency":   {Events: 500, Currency: "xx"},
	}
	for name, cfg := range cases {
		done := make(chan []lifecycle.Event, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Stream %s panicked: %v", name, r)
					done <- nil
				}
			}()
			done <- shopsim.Stream(cfg)
		}()
		select {
		case evs := <-done:
			if evs == nil {
				continue
			}
			if len(evs) != cfg.Events {
				t.Errorf("Stream %s: %d events, want %d", name, len(evs), cfg.Events)
			}
			start := cfg.Start
			days := cfg.Days
			if start.IsZero() {
				start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			if start.Year() < 1900 {
				start = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			if days <= 0 {
				days = 365
			}
			days = min(days, shopsim.MaxDays)
			if last := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days); start.After(last) {
				start = last
			}
			zzCheck(t, "Stream "+name, evs, start, days, "EUR")
		case <-time.After(10 * time.Second):
			t.Errorf("Stream %s did not return within 10 s", name)
		}
	}
}

// StreamConfig.ZipfS: "the exponent of the Zipf law over customers, > 1
// ... (default 1.2, also for a value not above 1, NaN or +Inf)". A value just
// above 1 is accepted, and must give a stream, not a panic.
func TestContractReviewStreamZipfJustAboveOne(t *testing.T) {
	for _, s := range []float64{math.Nextafter(1, 2), 1 + 1e-13, 1 + 1e-12} {
		for _, customers := range []int{10, 50, 1000} {
			for seed := uint64(0); seed < 20; seed++ {
				cfg := shopsim.StreamConfig{Events: 500, Customers: customers, ZipfS: s, Seed: seed}
				var evs []lifecycle.Event
				ok := true
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("Stream(ZipfS 1%+g, Customers %d, Seed %d) panicked: %v", s-1, customers, seed, r)
							ok = false
						}
					}()
					evs = shopsim.Stream(cfg)
				}()
				if !ok {
					break
				}
				if len(evs) != 500 {
					t.Errorf("Stream(ZipfS 1%+g): %d events", s-1, len(evs))
				}
			}
		}
	}
}
