package shopsim_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// ---- helpers ----

func rvSorted(t *testing.T, evs []lifecycle.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		a, b := evs[i-1], evs[i]
		if a.Time.After(b.Time) || (a.Time.Equal(b.Time) && a.ID >= b.ID) {
			t.Fatalf("not sorted by (time, id) at %d: %s %v then %s %v", i, a.ID, a.Time, b.ID, b.Time)
		}
	}
}

func rvUniqueIDs(t *testing.T, evs []lifecycle.Event) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.ID] {
			t.Fatalf("duplicate event ID %q", e.ID)
		}
		seen[e.ID] = true
	}
}

// rvValidateAndRecord checks every event validates and is recorded, none a duplicate.
func rvValidateAndRecord(t *testing.T, evs []lifecycle.Event) {
	t.Helper()
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			t.Fatalf("event %d (%+v) does not validate: %v", i, evs[i], err)
		}
	}
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return lifecycle.Never }))
	ctx := context.Background()
	for i, e := range evs {
		res, err := tr.Record(ctx, e)
		if err != nil {
			t.Fatalf("event %d (%+v) not recorded: %v", i, e, err)
		}
		if res.Duplicate {
			t.Fatalf("event %d (%s) recorded as duplicate", i, e.ID)
		}
	}
}

func rvIndex(n int) map[string]int {
	m := make(map[string]int, n+1)
	for i := 0; i <= n; i++ {
		m[shopsim.CustomerID(i)] = i
	}
	return m
}

var rvStart = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// ---- determinism ----

func TestContractGenerateDeterministic(t *testing.T) {
	cfg := shopsim.Config{Customers: 60, Days: 200, Seed: 7}
	a, b := shopsim.Generate(cfg), shopsim.Generate(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same config gave different streams")
	}
	cfg.Seed = 8
	if c := shopsim.Generate(cfg); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical streams")
	}
}

func TestContractStreamDeterministic(t *testing.T) {
	cfg := shopsim.StreamConfig{Events: 3000, Seed: 7}
	a, b := shopsim.Stream(cfg), shopsim.Stream(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same config gave different streams")
	}
	cfg.Seed = 8
	if c := shopsim.Stream(cfg); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical streams")
	}
}

// ---- defaults: a documented default must behave exactly as if given ----

func TestContractGenerateDefaults(t *testing.T) {
	def := shopsim.Config{Customers: 40, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Days: 180, Seed: 3, SessionsAlpha: 1.6, MaxSessions: 40, Currency: "EUR"}
	want := shopsim.Generate(def)
	cases := map[string]shopsim.Config{
		"zero":     {Seed: 3},
		"NaNalpha": {Seed: 3, SessionsAlpha: math.NaN()},
	}
	for name, cfg := range cases {
		if got := shopsim.Generate(cfg); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: differs from the documented defaults (%d vs %d events)", name, len(got), len(want))
		}
	}
}

func TestContractStreamDefaults(t *testing.T) {
	def := shopsim.StreamConfig{Events: 10000, Customers: 1000, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Days: 365, Seed: 3, ZipfS: 1.2, Currency: "EUR"}
	want := shopsim.Stream(def)
	if len(want) != 10000 {
		t.Fatalf("len %d", len(want))
	}
	for _, s := range []float64{0, 1, 0.5, -3, math.NaN(), math.Inf(1), math.Inf(-1)} {
		cfg := shopsim.StreamConfig{Seed: 3, ZipfS: s}
		if got := shopsim.Stream(cfg); !reflect.DeepEqual(got, want) {
			t.Errorf("ZipfS=%v: differs from the documented defaults", s)
		}
	}
	// Customers default Events/10, at least 1.
	a := shopsim.Stream(shopsim.StreamConfig{Events: 5, Seed: 2})
	b := shopsim.Stream(shopsim.StreamConfig{Events: 5, Customers: 1, Seed: 2})
	if !reflect.DeepEqual(a, b) {
		t.Error("Events 5: default Customers is not 1")
	}
	a = shopsim.Stream(shopsim.StreamConfig{Events: 500, Seed: 2})
	b = shopsim.Stream(shopsim.StreamConfig{Events: 500, Customers: 50, Seed: 2})
	if !reflect.DeepEqual(a, b) {
		t.Error("Events 500: default Customers is not 50")
	}
}

// ---- MaxDays cut ----

func TestContractMaxDaysCut(t *testing.T) {
	a := shopsim.Generate(shopsim.Config{Customers: 10, Days: shopsim.MaxDays, Seed: 1})
	b := shopsim.Generate(shopsim.Config{Customers: 10, Days: shopsim.MaxDays + 5000, Seed: 1})
	c := shopsim.Generate(shopsim.Config{Customers: 10, Days: math.MaxInt, Seed: 1})
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
		t.Error("Generate: Days above MaxDays not cut to MaxDays")
	}
	rvValidateAndRecord(t, c)
	s1 := shopsim.Stream(shopsim.StreamConfig{Events: 2000, Days: shopsim.MaxDays, Seed: 1})
	s2 := shopsim.Stream(shopsim.StreamConfig{Events: 2000, Days: math.MaxInt, Seed: 1})
	if !reflect.DeepEqual(s1, s2) {
		t.Error("Stream: Days above MaxDays not cut to MaxDays")
	}
	end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, shopsim.MaxDays)
	for _, e := range s2 {
		if e.Time.After(end) {
			t.Fatalf("Stream event %s at %v after Start+MaxDays %v", e.ID, e.Time, end)
		}
	}
	rvValidateAndRecord(t, s2)
}

// ---- Generate properties ----

func TestContractGenerateProperties(t *testing.T) {
	for _, cfg := range []shopsim.Config{
		{Seed: 1},
		{Customers: 300, Days: 365, Seed: 2, Start: rvStart},
		{Customers: 1, Seed: 3},
		{Customers: 50, Days: 1, Seed: 4},
		{Customers: 50, Seed: 5, SessionsAlpha: 0.2, MaxSessions: 200},
		{Customers: 50, Seed: 6, Currency: "JPY"},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			evs := shopsim.Generate(cfg)
			if len(evs) == 0 {
				t.Fatal("no events")
			}
			rvSorted(t, evs)
			rvUniqueIDs(t, evs)
			rvValidateAndRecord(t, evs)
			n := cfg.Customers
			if n == 0 {
				n = 40
			}
			idx := rvIndex(n)
			start := cfg.Start
			if start.IsZero() {
				start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			cur := cfg.Currency
			if cur == "" {
				cur = "EUR"
			}
			for _, e := range evs {
				i, ok := idx[e.CustomerID]
				if !ok {
					t.Fatalf("event %s names unknown customer %q", e.ID, e.CustomerID)
				}
				if e.Time.Before(start) {
					t.Fatalf("event %s at %v before Start %v", e.ID, e.Time, start)
				}
				if e.Amount != 0 && e.Currency != cur {
					t.Fatalf("event %s currency %q, want %q", e.ID, e.Currency, cur)
				}
				if e.ReferrerID != "" {
					j, ok := idx[e.ReferrerID]
					if !ok || j >= i {
						t.Fatalf("event %s: customer %d referred by %q (index %d, known %v)", e.ID, i, e.ReferrerID, j, ok)
					}
				}
			}
		})
	}
}

// Generate's Days is "the length of the period": no event should fall after Start+Days.
func TestContractGenerateWithinPeriod(t *testing.T) {
	for _, days := range []int{1, 30, 180} {
		cfg := shopsim.Config{Customers: 200, Days: days, Seed: 9, Start: rvStart}
		end := rvStart.AddDate(0, 0, days)
		late := 0
		var worst time.Time
		for _, e := range shopsim.Generate(cfg) {
			if e.Time.After(end) {
				late++
				if e.Time.After(worst) {
					worst = e.Time
				}
			}
		}
		if late > 0 {
			t.Errorf("Days=%d: %d events after Start+Days (%v), latest %v", days, late, end, worst)
		}
	}
}

func TestContractGenerateMaxSessionsCap(t *testing.T) {
	for _, max := range []int{1, 3} {
		evs := shopsim.Generate(shopsim.Config{Customers: 300, Seed: 11, SessionsAlpha: 0.5, MaxSessions: max})
		visits := map[string]int{}
		for _, e := range evs {
			if e.Type == lifecycle.SiteVisited {
				visits[e.CustomerID]++
			}
		}
		for c, v := range visits {
			if v > max {
				t.Errorf("MaxSessions=%d: customer %s has %d visits", max, c, v)
				break
			}
		}
	}
}

func TestContractGenerateAlphaHeavierTail(t *testing.T) {
	total := func(alpha float64) (n int) {
		for seed := uint64(0); seed < 5; seed++ {
			n += len(shopsim.Generate(shopsim.Config{Customers: 400, Seed: seed, SessionsAlpha: alpha, MaxSessions: 1000}))
		}
		return n
	}
	heavy, light := total(1.1), total(3.0)
	if heavy <= light {
		t.Errorf("smaller alpha should mean more activity: alpha 1.1 gave %d events, 3.0 gave %d", heavy, light)
	}
}

// ---- odd inputs must not panic and still give valid events ----

func TestContractGenerateOddInputs(t *testing.T) {
	for _, cfg := range []shopsim.Config{
		{Customers: -5, Seed: 1},
		{Customers: math.MinInt, Seed: 1},
		{Days: -10, Seed: 1},
		{Days: math.MinInt, Seed: 1},
		{SessionsAlpha: -1, Seed: 1},
		{SessionsAlpha: math.Inf(1), Seed: 1},
		{SessionsAlpha: math.Inf(-1), Seed: 1},
		{SessionsAlpha: 1e-300, Seed: 1},
		{SessionsAlpha: math.SmallestNonzeroFloat64, Seed: 1},
		{MaxSessions: -3, Seed: 1},
		{MaxSessions: math.MinInt, Seed: 1},
		{Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 5*3600+1800)), Seed: 1},
		{Start: time.Now(), Seed: 1}, // monotonic reading
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			var evs []lifecycle.Event
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				evs = shopsim.Generate(cfg)
			}()
			rvSorted(t, evs)
			rvUniqueIDs(t, evs)
			rvValidateAndRecord(t, evs)
		})
	}
}

// Currency that is not an ISO code: no way to report an error, so events must still validate.
func TestContractBadCurrency(t *testing.T) {
	for _, cur := range []string{"eu", "EURO", "€", "\x00"} {
		t.Run(cur, func(t *testing.T) {
			var evs []lifecycle.Event
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Generate panic: %v", r)
					}
				}()
				evs = shopsim.Generate(shopsim.Config{Customers: 30, Seed: 1, Currency: cur})
				evs = append(evs, shopsim.Stream(shopsim.StreamConfig{Events: 500, Seed: 1, Currency: cur})...)
			}()
			for i := range evs {
				if err := evs[i].Validate(); err != nil {
					t.Fatalf("Currency %q: generated event does not validate: %v", cur, err)
				}
			}
		})
	}
}

// Start near the ends of the range Validate accepts.
func TestContractStartAtTimeLimits(t *testing.T) {
	for _, st := range []time.Time{
		time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(st.String(), func(t *testing.T) {
			var evs []lifecycle.Event
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				evs = shopsim.Generate(shopsim.Config{Customers: 20, Seed: 1, Start: st, Days: 365})
				evs = append(evs, shopsim.Stream(shopsim.StreamConfig{Events: 300, Seed: 1, Start: st, Days: 365})...)
			}()
			for i := range evs {
				if err := evs[i].Validate(); err != nil {
					t.Fatalf("Start %v: generated event does not validate: %v", st, err)
				}
			}
		})
	}
}

// ---- Stream properties ----

var rvSID = regexp.MustCompile(`^s(0|[1-9][0-9]*)$`)

func TestContractStreamProperties(t *testing.T) {
	for _, cfg := range []shopsim.StreamConfig{
		{Seed: 1},
		{Events: 1, Seed: 2},
		{Events: 2, Seed: 2},
		{Events: 777, Customers: 1, Seed: 3, Start: rvStart, Days: 1},
		{Events: 5000, Customers: 3, Seed: 4},
		{Events: 4000, Customers: 1_000_000, Seed: 5},
		{Events: 3000, Seed: 6, ZipfS: 5, Currency: "USD"},
		{Events: 3000, Seed: 7, Start: time.Date(2020, 1, 1, 12, 0, 0, 0, time.FixedZone("Y", -7*3600))},
		{Events: 3000, Seed: 8, NoReferrals: true},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			evs := shopsim.Stream(cfg)
			want := cfg.Events
			if want == 0 {
				want = 10000
			}
			if len(evs) != want {
				t.Fatalf("got %d events, want exactly %d", len(evs), want)
			}
			rvSorted(t, evs)
			rvUniqueIDs(t, evs)
			start := cfg.Start
			if start.IsZero() {
				start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			days := cfg.Days
			if days == 0 {
				days = 365
			}
			end := start.AddDate(0, 0, days)
			cur := cfg.Currency
			if cur == "" {
				cur = "EUR"
			}
			ncust := cfg.Customers
			if ncust == 0 {
				ncust = max(want/10, 1)
			}
			for _, e := range evs {
				if !rvSID.MatchString(e.ID) {
					t.Fatalf("event ID %q is not s + decimal", e.ID)
				}
				if e.Time.Before(start) || e.Time.After(end) {
					t.Fatalf("event %s at %v outside [%v, %v]", e.ID, e.Time, start, end)
				}
				if e.Amount != 0 && e.Currency != cur {
					t.Fatalf("event %s currency %q want %q", e.ID, e.Currency, cur)
				}
				if cfg.NoReferrals && e.ReferrerID != "" {
					t.Fatalf("NoReferrals but event %s names referrer %q", e.ID, e.ReferrerID)
				}
			}
			// customers within the population, referrers lower
			if ncust <= 100000 {
				idx := rvIndex(ncust - 1)
				for _, e := range evs {
					i, ok := idx[e.CustomerID]
					if !ok {
						t.Fatalf("event %s: customer %q not among the first %d", e.ID, e.CustomerID, ncust)
					}
					if e.ReferrerID != "" {
						j, ok := idx[e.ReferrerID]
						if !ok || j >= i || i <= 3 {
							t.Fatalf("event %s: customer %d referred by %q (%d %v)", e.ID, i, e.ReferrerID, j, ok)
						}
					}
				}
			}
			rvValidateAndRecord(t, evs)
		})
	}
}

// "a decimal sequence number": the IDs should be one run of consecutive numbers.
func TestContractStreamIDsAreASequence(t *testing.T) {
	evs := shopsim.Stream(shopsim.StreamConfig{Events: 3000, Seed: 5})
	nums := make([]int, len(evs))
	for i, e := range evs {
		n, err := strconv.Atoi(strings.TrimPrefix(e.ID, "s"))
		if err != nil {
			t.Fatalf("ID %q", e.ID)
		}
		nums[i] = n
	}
	sort.Ints(nums)
	for i := 1; i < len(nums); i++ {
		if nums[i] != nums[i-1]+1 {
			t.Fatalf("IDs are not consecutive: %d then %d", nums[i-1], nums[i])
		}
	}
}

// Zipf law: with the defaults the busiest customer has thousands of events and the stream names fewer customers than the population.
func TestContractStreamZipfSkew(t *testing.T) {
	top := func(s float64) (share float64, distinct int) {
		evs := shopsim.Stream(shopsim.StreamConfig{Events: 10000, Seed: 21, ZipfS: s})
		per := map[string]int{}
		for _, e := range evs {
			per[e.CustomerID]++
		}
		m := 0
		for _, n := range per {
			m = max(m, n)
		}
		return float64(m) / float64(len(evs)), len(per)
	}
	share12, d12 := top(0) // default 1.2
	if share12*10000 < 1000 {
		t.Errorf("busiest customer has %.0f events of 10000, doc says thousands", share12*10000)
	}
	if d12 >= 1000 {
		t.Errorf("stream names %d customers, doc says usually fewer than 1000", d12)
	}
	share3, d3 := top(3)
	if share3 <= share12 || d3 >= d12 {
		t.Errorf("larger ZipfS should be more skewed: s=1.2 top %.3f distinct %d; s=3 top %.3f distinct %d", share12, d12, share3, d3)
	}
}

// Per-customer funnel: first event (ad impressions aside) is a visit, at most one sign-up, refunds/reviews after an order.
func TestContractStreamPerCustomerFunnel(t *testing.T) {
	evs := shopsim.Stream(shopsim.StreamConfig{Events: 20000, Seed: 13})
	first := map[string]lifecycle.Event{}
	signups := map[string]int{}
	firstOrder := map[string]time.Time{}
	for _, e := range evs { // sorted by time
		if _, ok := first[e.CustomerID]; !ok && e.Type != lifecycle.AdImpression {
			first[e.CustomerID] = e
		}
		switch e.Type {
		case lifecycle.SignedUp:
			signups[e.CustomerID]++
		case lifecycle.OrderCompleted:
			if _, ok := firstOrder[e.CustomerID]; !ok {
				firstOrder[e.CustomerID] = e.Time
			}
		case lifecycle.OrderRefunded, lifecycle.ReviewPosted:
			if fo, ok := firstOrder[e.CustomerID]; !ok || e.Time.Before(fo) {
				t.Errorf("%s %s of %s before any order", e.Type, e.ID, e.CustomerID)
			}
		}
	}
	bad := 0
	for c, e := range first {
		if e.Type != lifecycle.SiteVisited {
			bad++
			if bad < 4 {
				t.Errorf("customer %s first event is %s (%s), not a visit", c, e.Type, e.ID)
			}
		}
	}
	for c, n := range signups {
		if n > 1 {
			t.Errorf("customer %s signed up %d times", c, n)
			break
		}
	}
}

// About one customer in seven (index above 3) arrives through a referral.
func TestContractStreamReferralRate(t *testing.T) {
	n := 20000
	evs := shopsim.Stream(shopsim.StreamConfig{Events: 60000, Customers: n, Seed: 17, ZipfS: 1.05})
	idx := rvIndex(n)
	seen := map[string]bool{}
	referred := map[string]bool{}
	for _, e := range evs {
		if idx[e.CustomerID] <= 3 {
			continue
		}
		seen[e.CustomerID] = true
		if e.ReferrerID != "" {
			referred[e.CustomerID] = true
		}
	}
	rate := float64(len(referred)) / float64(len(seen))
	t.Logf("%d of %d customers referred (%.3f)", len(referred), len(seen), rate)
	if len(seen) < 1000 {
		t.Fatalf("too few customers seen: %d", len(seen))
	}
	if rate < 1.0/7*0.6 || rate > 1.0/7*1.5 {
		t.Errorf("referred share %.3f, doc says about 1/7 = %.3f", rate, 1.0/7)
	}
}

// Generate's referrals should be resolvable: "referred by a customer with a lower one".
func TestContractGenerateHasReferrals(t *testing.T) {
	refs := 0
	for seed := uint64(0); seed < 5; seed++ {
		for _, e := range shopsim.Generate(shopsim.Config{Customers: 200, Seed: seed}) {
			if e.ReferrerID != "" {
				refs++
			}
		}
	}
	if refs == 0 {
		t.Error("no referred customer in 1000 generated customers")
	}
}

// ---- huge counts, in a child process with a memory cap and a time limit ----

const rvChildEnv = "SHOPSIM_REVIEW_CHILD"

func TestContractHugeChild(t *testing.T) {
	switch os.Getenv(rvChildEnv) {
	case "stream-events":
		shopsim.Stream(shopsim.StreamConfig{Events: math.MaxInt, Seed: 1})
	case "stream-events-1e9":
		shopsim.Stream(shopsim.StreamConfig{Events: 1e9, Seed: 1})
	case "generate-customers":
		shopsim.Generate(shopsim.Config{Customers: math.MaxInt, Seed: 1})
	case "generate-customers-1e9":
		shopsim.Generate(shopsim.Config{Customers: 1e9, Seed: 1})
	case "generate-maxsessions":
		shopsim.Generate(shopsim.Config{Customers: 40, Seed: 1, MaxSessions: math.MaxInt, SessionsAlpha: 1e-9})
	case "stream-customers-1e10":
		shopsim.Stream(shopsim.StreamConfig{Events: 1000, Customers: 1e10, Seed: 1})
	case "stream-customers":
		shopsim.Stream(shopsim.StreamConfig{Events: 1000, Customers: math.MaxInt, Seed: 1})
	default:
		t.Skip("child only")
	}
}

func TestContractHugeCounts(t *testing.T) {
	if os.Getenv(rvChildEnv) != "" {
		t.Skip()
	}
	// (Huge event counts are cut to MaxEvents, and Generate's customers to
	// MaxCustomers, which take seconds and gigabytes to generate: not run.)
	for _, name := range []string{"stream-customers", "stream-customers-1e10", "generate-maxsessions"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", "ulimit -v 3000000; exec \"$0\" -test.run '^TestContractHugeChild$' -test.count=1", os.Args[0])
			cmd.Env = append(os.Environ(), rvChildEnv+"="+name, "GOMAXPROCS=1")
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Errorf("still running after 20s (no limit on the count)")
				return
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				s := string(out)
				if len(s) > 600 {
					s = s[:600]
				}
				t.Errorf("child failed: %v\n%s", err, s)
			}
		})
	}
}

// The package doc lists the kinds of events generated; nothing outside that list should appear.
func TestContractOnlyDocumentedTypes(t *testing.T) {
	documented := map[lifecycle.EventType]bool{
		lifecycle.SiteVisited: true, lifecycle.SignedUp: true, lifecycle.NewsletterSubscribed: true,
		lifecycle.ProductViewed: true, lifecycle.CartAdded: true, lifecycle.CheckoutStarted: true,
		lifecycle.OrderCompleted: true, lifecycle.OrderRefunded: true, lifecycle.TicketOpened: true,
		lifecycle.TicketResolved: true, lifecycle.SurveyAnswered: true, lifecycle.ReviewPosted: true,
		lifecycle.ReferralMade: true, lifecycle.AdImpression: true,
	}
	count := func(evs []lifecycle.Event) map[lifecycle.EventType]int {
		m := map[lifecycle.EventType]int{}
		for _, e := range evs {
			if !documented[e.Type] {
				m[e.Type]++
			}
		}
		return m
	}
	if m := count(shopsim.Generate(shopsim.Config{Customers: 200, Seed: 1})); len(m) > 0 {
		t.Errorf("Generate: undocumented event types %v", m)
	}
	if m := count(shopsim.Stream(shopsim.StreamConfig{Events: 20000, Seed: 1})); len(m) > 0 {
		t.Errorf("Stream: undocumented event types %v", m)
	}
}

func TestContractStreamOddInputs(t *testing.T) {
	for _, cfg := range []shopsim.StreamConfig{
		{Events: -1, Seed: 1},
		{Events: math.MinInt, Seed: 1},
		{Events: 100, Customers: -4, Seed: 1},
		{Events: 100, Customers: math.MinInt, Seed: 1},
		{Events: 100, Days: -3, Seed: 1},
		{Events: 100, Days: math.MinInt, Seed: 1},
		{Events: 100, ZipfS: math.MaxFloat64, Seed: 1},
		{Events: 100, ZipfS: 1 + 1e-15, Seed: 1},
		{Events: 100, Customers: 2, Seed: 1},
		{Events: 100, Start: time.Now(), Seed: 1},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			var evs []lifecycle.Event
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				evs = shopsim.Stream(cfg)
			}()
			if cfg.Events > 0 && len(evs) != cfg.Events {
				t.Errorf("got %d events, want %d", len(evs), cfg.Events)
			}
			rvSorted(t, evs)
			rvUniqueIDs(t, evs)
			rvValidateAndRecord(t, evs)
		})
	}
}
