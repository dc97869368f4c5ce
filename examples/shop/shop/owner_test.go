package shop_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// ownerShop is a generated history the owner panels are checked against:
// every customer's visit and order times, kept by the test so that the
// expected figures never come from the store.
type ownerShop struct {
	visits map[string]time.Time
	orders map[string][]time.Time // sorted
}

// genOwnerShop posts n customers: a visit between 2025-04-20 and
// 2026-03-25, and for two in three of them orders after it, all before
// now (2026-04-01 12:00 UTC), each of 1000 EUR minor units.
func genOwnerShop(t testing.TB, srv http.Handler, n int, seed uint64) ownerShop {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	g := ownerShop{visits: map[string]time.Time{}, orders: map[string][]time.Time{}}
	first := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC)
	span := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC).Sub(first)
	var evs []string
	flush := func() {
		if len(evs) == 0 {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader("["+strings.Join(evs, ",")+"]"))
		req.Header.Set("Content-Type", jsonCT)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		require.Equal(t, http.StatusAccepted, rec.Code, "body: %s", rec.Body)
		evs = evs[:0]
	}
	ts := func(tm time.Time) string { return tm.Format(time.RFC3339) }
	for i := range n {
		c := fmt.Sprintf("k%04d", i)
		v := first.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Minute)
		g.visits[c] = v
		evs = append(evs, `{"id":"v-`+c+`","customer_id":"`+c+`","type":"site_visited","time":"`+ts(v)+`"}`)
		if rng.IntN(3) > 0 {
			// Orders at exponential gaps (mean rate per customer between
			// one a week and one in 3 months) until the customer drops out
			// (after each order, with probability 1 in 3) or now.
			at := v.Add(time.Hour)
			mean := float64(7*24 + rng.IntN(83*24))
			for k := 0; at.Before(now); k++ {
				g.orders[c] = append(g.orders[c], at)
				evs = append(evs, `{"id":"o-`+c+`-`+strconv.Itoa(k)+`","customer_id":"`+c+`","type":"order_completed","time":"`+ts(at)+`","amount":1000,"currency":"EUR"}`)
				if rng.IntN(3) == 0 {
					break
				}
				at = at.Add(time.Duration(1+int64(rng.ExpFloat64()*mean)) * time.Hour)
			}
		}
		if len(evs) > 800 {
			flush()
		}
	}
	flush()
	return g
}

func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// TestOwnerPanels checks the cohort retention heatmap, the customers most
// at risk and the flywheel table against figures computed here from the
// generated events.
func TestOwnerPanels(t *testing.T) {
	st := store.NewMemory()
	srv, _ := newServer(t, st)
	g := genOwnerShop(t, srv, 400, 3)
	rec := do(t, srv, http.MethodGet, "/", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()

	t.Run("retention", func(t *testing.T) {
		// want[cohort][k]: customers whose first order is in the cohort
		// month and whose last order is k or more months later.
		type key struct {
			cohort string
			k      int
		}
		size := map[string]int{}
		for _, os := range g.orders {
			size[os[0].Format("2006-01")]++
		}
		// Only the last 12 cohorts are shown.
		cohorts := make([]string, 0, len(size))
		for c := range size {
			cohorts = append(cohorts, c)
		}
		slices.Sort(cohorts)
		if len(cohorts) > 12 {
			cohorts = cohorts[len(cohorts)-12:]
		}
		want := map[key]int{}
		nowM := monthIndex(now)
		for _, os := range g.orders {
			ck := os[0].Format("2006-01")
			if !slices.Contains(cohorts, ck) {
				continue
			}
			c0, last := monthIndex(os[0]), monthIndex(os[len(os)-1])
			for k := 0; c0+k <= nowM; k++ {
				want[key{ck, k}] += 0 // every column up to now is shown
				if last >= c0+k {
					want[key{ck, k}]++
				}
			}
		}
		cellRE := regexp.MustCompile(`<rect class="cell" data-cohort="(\d{4}-\d\d)" data-k="(\d+)" data-retained="(\d+)" data-customers="(\d+)"`)
		got := map[key]int{}
		for _, m := range cellRE.FindAllStringSubmatch(page, -1) {
			k, _ := strconv.Atoi(m[2])
			n, _ := strconv.Atoi(m[3])
			cs, _ := strconv.Atoi(m[4])
			require.Equal(t, size[m[1]], cs, "cohort %s size", m[1])
			got[key{m[1], k}] = n
		}
		require.NotEmpty(t, got, "no heatmap cells")
		require.Equal(t, want, got)
		require.Contains(t, page, "whose last completed order is in that month or later")
	})

	t.Run("risk", func(t *testing.T) {
		// RFM in days from the generated orders, fitted here, and P(alive)
		// by Fader, Hardie & Lee (2005), eq. (13).
		day := func(tm time.Time) float64 {
			return float64(time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC).Unix()) / 86400
		}
		var rows []clv.Customer
		for id, os := range g.orders {
			c := clv.Customer{ID: id, Frequency: len(os) - 1, T: day(now) - day(os[0])}
			if c.Frequency > 0 {
				c.Recency = day(os[len(os)-1]) - day(os[0])
			}
			rows = append(rows, c)
		}
		// In ID order, as the server summarises them: the optimiser's
		// path depends on the order of the rows.
		slices.SortFunc(rows, func(a, b clv.Customer) int { return strings.Compare(a.ID, b.ID) })
		m, _, err := clv.FitBGNBD(rows, &clv.FitOptions{MaxIterations: 1000, Tolerance: 1e-5})
		require.NoError(t, err)
		type risk struct {
			id string
			p  float64
		}
		var want []risk
		for _, c := range rows {
			if c.Frequency == 0 {
				continue
			}
			x := float64(c.Frequency)
			odds := m.A / (m.B + x - 1) * math.Pow((m.Alpha+c.T)/(m.Alpha+c.Recency), m.R+x)
			want = append(want, risk{c.ID, 1 / (1 + odds)})
		}
		slices.SortFunc(want, func(a, b risk) int {
			if a.p != b.p {
				if a.p < b.p {
					return -1
				}
				return 1
			}
			return strings.Compare(a.id, b.id)
		})
		want = want[:10]
		rowRE := regexp.MustCompile(`<tr data-customer="([^"]+)" data-palive="([0-9.]+)">`)
		var got []risk
		for _, mm := range rowRE.FindAllStringSubmatch(page, -1) {
			p, _ := strconv.ParseFloat(mm[2], 64)
			got = append(got, risk{mm[1], p})
		}
		require.Len(t, got, 10, "risk rows")
		for i := range want {
			require.InDelta(t, want[i].p, got[i].p, 1e-4, "row %d: %s", i, want[i].id)
			// Customers with the same P(alive) (the same RFM row) may be
			// listed in either order; otherwise the IDs agree.
			tied := (i > 0 && math.Abs(want[i].p-want[i-1].p) < 1e-9) || (i+1 < len(want) && math.Abs(want[i+1].p-want[i].p) < 1e-9)
			if !tied {
				require.Equal(t, want[i].id, got[i].id, "row %d", i)
			}
		}
	})

	t.Run("flywheel", func(t *testing.T) {
		// Prospects: first event in [start+30d·i, start+30d·(i+1)); new
		// customers: first order in it.
		start := now.Add(-12 * 30 * 24 * time.Hour)
		period := func(tm time.Time) int {
			if tm.Before(start) || !tm.Before(now) {
				return -1
			}
			return int(tm.Sub(start) / (30 * 24 * time.Hour))
		}
		wantP, wantN := make([]int, 12), make([]int, 12)
		for id, v := range g.visits {
			if i := period(v); i >= 0 {
				wantP[i]++
			}
			if os := g.orders[id]; len(os) > 0 {
				if i := period(os[0]); i >= 0 {
					wantN[i]++
				}
			}
		}
		rowRE := regexp.MustCompile(`<tr data-period="(\d{4}-\d\d-\d\d)" data-prospects="(\d+)" data-referred="(\d+)" data-new="(\d+)">`)
		ms := rowRE.FindAllStringSubmatch(page, -1)
		require.Len(t, ms, 12, "a row per period")
		for i, m := range ms {
			require.Equal(t, start.Add(time.Duration(i)*30*24*time.Hour).Format("2006-01-02"), m[1])
			p, _ := strconv.Atoi(m[2])
			r, _ := strconv.Atoi(m[3])
			n, _ := strconv.Atoi(m[4])
			require.Equal(t, wantP[i], p, "period %d prospects", i)
			require.Equal(t, 0, r, "period %d referred", i)
			require.Equal(t, wantN[i], n, "period %d new customers", i)
		}
	})
}

// TestOwnerPanelsFewCustomers: with a dozen customers the risk panel says
// why it cannot fit instead of failing the page.
func TestOwnerPanelsFewCustomers(t *testing.T) {
	st := store.NewMemory()
	srv, _ := newServer(t, st)
	stream(t, srv, st)
	rec := do(t, srv, http.MethodGet, "/", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, `<p class="missing" id="risk-msg">Too few customers to fit BG/NBD: 9 with an order, 6 of them repeat customers; at least 20 and 5 are needed.</p>`)
	require.Contains(t, page, `id="retention-heatmap"`)
	require.Contains(t, page, `id="flywheel-table"`)
}

// BenchmarkDashboard renders the dashboard over 3000 generated customers
// (the BG/NBD fit cached after the first request), and fits BG/NBD alone
// to show what the cache saves.
func BenchmarkDashboard(b *testing.B) {
	st := store.NewMemory()
	clock := lifecycle.WithClock(func() time.Time { return now })
	srv := shop.New(lifecycle.NewTracker(model.SterneCutler(), st, clock), shop.WithClock(func() time.Time { return now }))
	genOwnerShop(b, srv, 3000, 5)
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="risk-table"`) {
				b.Fatalf("status %d or no risk table", rec.Code)
			}
		}
	})
	b.Run("fit", func(b *testing.B) {
		sum, err := clv.SummarizeStore(b.Context(), st, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: now})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, _, err := clv.FitBGNBD(sum, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
