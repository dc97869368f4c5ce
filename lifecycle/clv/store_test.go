package clv_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/clv"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

var storeBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns storeBase plus d days and h hours.
func at(d, h int) time.Time {
	return storeBase.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

// record records events through a real Tracker into a new Memory store.
func record(t testing.TB, events []lifecycle.Event) *store.Memory {
	t.Helper()
	s := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), s,
		lifecycle.WithClock(func() time.Time { return at(10000, 0) }))
	_, err := tr.RecordBatch(context.Background(), events)
	require.NoError(t, err)
	return s
}

// order returns an order_completed event.
func order(id, customer string, when time.Time, minor int64, cur string) lifecycle.Event {
	return lifecycle.Event{ID: id, CustomerID: customer, Type: lifecycle.OrderCompleted, Time: when, Amount: minor, Currency: cur}
}

// orderLog draws n customers, each with 1 to 6 orders on distinct days in
// [lo, hi) at random hours, worth 1.00 to 200.00 EUR. It returns the log
// as transactions (amounts in euros, times in loc) and as events.
func orderLog(rng *rand.Rand, prefix string, n, lo, hi int, loc *time.Location) ([]clv.Transaction, []lifecycle.Event) {
	var txs []clv.Transaction
	var evs []lifecycle.Event
	for i := range n {
		id := fmt.Sprintf("%s%03d", prefix, i)
		k := 1 + rng.IntN(6)
		for j, d := range rng.Perm(hi - lo)[:k] {
			when := at(lo+d, 0).Add(time.Duration(rng.IntN(24*60)) * time.Minute)
			cents := int64(100 + rng.IntN(19901))
			txs = append(txs, clv.Transaction{CustomerID: id, Time: when.In(loc), Amount: float64(cents) / 100})
			evs = append(evs, order(fmt.Sprintf("%s-%d", id, j), id, when, cents, "EUR"))
		}
	}
	return txs, evs
}

// firstAmount returns each customer's earliest transaction amount.
func firstAmount(txs []clv.Transaction) map[string]float64 {
	first := map[string]clv.Transaction{}
	for _, tx := range txs {
		if f, ok := first[tx.CustomerID]; !ok || tx.Time.Before(f.Time) {
			first[tx.CustomerID] = tx
		}
	}
	out := map[string]float64{}
	for id, tx := range first {
		out[id] = tx.Amount
	}
	return out
}

// frt keeps the fields the two summaries must agree on exactly.
func frt(cs []clv.Customer) []clv.Customer {
	out := make([]clv.Customer, len(cs))
	for i, c := range cs {
		out[i] = clv.Customer{ID: c.ID, Frequency: c.Frequency, Recency: c.Recency, T: c.T}
	}
	return out
}

// TestSummarizeStoreMatchesSummarize checks that, on a log whose orders
// are on distinct days, the store summary equals the transaction summary
// in Frequency, Recency and T, and that MonetaryValue is (first amount +
// x·Summarize's MonetaryValue) / (x+1).
func TestSummarizeStoreMatchesSummarize(t *testing.T) {
	east := time.FixedZone("UTC+9", 9*3600)
	west := time.FixedZone("UTC-5", -5*3600)
	tests := []struct {
		name    string
		loc     *time.Location
		unit    clv.TimeUnit
		end     time.Time
		wantLen int // customers summarised
	}{
		{name: "days, default end", loc: time.UTC, unit: clv.Day, wantLen: 60},
		{name: "weeks, explicit end", loc: time.UTC, unit: clv.Week, end: at(250, 3), wantLen: 60},
		{name: "location east", loc: east, unit: clv.Day, wantLen: 60},
		{name: "location west, weeks", loc: west, unit: clv.Week, end: at(300, 0), wantLen: 60},
		// Cohort b starts on day 170, after the end: left out by both.
		{name: "acquired after end", loc: time.UTC, unit: clv.Day, end: at(160, 12), wantLen: 40},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			txA, evA := orderLog(rng, "a", 40, 0, 150, tc.loc)
			txB, evB := orderLog(rng, "b", 20, 170, 200, tc.loc)
			txs, evs := append(txA, txB...), append(evA, evB...)
			s := record(t, evs)

			var end time.Time
			if !tc.end.IsZero() {
				end = tc.end.In(tc.loc)
			}
			want, err := clv.Summarize(txs, clv.SummaryOptions{Period: clv.Day, Unit: tc.unit, ObservationEnd: end})
			require.NoError(t, err)
			got, err := clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{
				Currency: "EUR", Unit: tc.unit, Location: tc.loc, ObservationEnd: tc.end,
			})
			require.NoError(t, err)
			require.Len(t, got, tc.wantLen)
			if diff := cmp.Diff(frt(want), frt(got)); diff != "" {
				t.Fatalf("Frequency/Recency/T differ (-Summarize +SummarizeStore):\n%s", diff)
			}
			first := firstAmount(txs)
			repeat := 0
			for j, g := range got {
				w := want[j]
				x := float64(w.Frequency)
				wantM := 0.0
				if w.Frequency > 0 {
					wantM = (first[w.ID] + x*w.MonetaryValue) / (x + 1)
					repeat++
				}
				if math.Abs(g.MonetaryValue-wantM) > 1e-9*math.Max(1, wantM) {
					t.Errorf("%s: MonetaryValue = %v, want (%v + %v·%v)/%v = %v",
						g.ID, g.MonetaryValue, first[w.ID], x, w.MonetaryValue, x+1, wantM)
				}
			}
			require.Greater(t, repeat, 10, "too few repeat buyers to test MonetaryValue")
		})
	}
}

// TestSummarizeStoreSubscriptions counts renewals as purchases along with
// orders and checks the result against Summarize over both.
func TestSummarizeStoreSubscriptions(t *testing.T) {
	evs := []lifecycle.Event{
		order("o1", "ann", at(0, 10), 5000, "EUR"),
		{ID: "r1", CustomerID: "ann", Type: lifecycle.SubscriptionRenewed, Time: at(30, 1), Amount: 999, Currency: "EUR"},
		{ID: "r2", CustomerID: "ann", Type: lifecycle.SubscriptionRenewed, Time: at(60, 1), Amount: 999, Currency: "EUR"},
		order("o2", "ann", at(75, 9), 2500, "EUR"),
		{ID: "r3", CustomerID: "bob", Type: lifecycle.SubscriptionRenewed, Time: at(5, 1), Amount: 999, Currency: "EUR"},
		{ID: "v1", CustomerID: "cy", Type: lifecycle.SiteVisited, Time: at(90, 0)},
	}
	s := record(t, evs)
	ctx := context.Background()

	got, err := clv.SummarizeStore(ctx, s, clv.StoreSummaryOptions{
		Currency:      "EUR",
		PurchaseTypes: []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.SubscriptionRenewed},
	})
	require.NoError(t, err)
	txs := []clv.Transaction{
		{CustomerID: "ann", Time: at(0, 10), Amount: 50}, {CustomerID: "ann", Time: at(30, 1), Amount: 9.99},
		{CustomerID: "ann", Time: at(60, 1), Amount: 9.99}, {CustomerID: "ann", Time: at(75, 9), Amount: 25},
		{CustomerID: "bob", Time: at(5, 1), Amount: 9.99},
	}
	want, err := clv.Summarize(txs, clv.SummaryOptions{})
	require.NoError(t, err)
	if diff := cmp.Diff(frt(want), frt(got)); diff != "" {
		t.Fatalf("(-Summarize +SummarizeStore):\n%s", diff)
	}
	require.InDelta(t, (50+9.99+9.99+25)/4, got[0].MonetaryValue, 1e-12)

	// Orders only: bob has none, ann two; T runs to ann's last order.
	got, err = clv.SummarizeStore(ctx, s, clv.StoreSummaryOptions{Currency: "EUR"})
	require.NoError(t, err)
	want = []clv.Customer{{ID: "ann", Frequency: 1, Recency: 75, T: 75, MonetaryValue: 37.5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("orders only (-want +got):\n%s", diff)
	}
}

func TestSummarizeStoreRefunds(t *testing.T) {
	refund := func(id, customer string, when time.Time, minor int64, cur string) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: customer, Type: lifecycle.OrderRefunded, Time: when, Amount: minor, Currency: cur}
	}
	evs := []lifecycle.Event{
		// ann: 3 orders, the middle one refunded: 2 net purchases, but the
		// first and last order stay where they were.
		order("a1", "ann", at(0, 9), 1000, "EUR"),
		order("a2", "ann", at(5, 9), 2000, "EUR"),
		order("a3", "ann", at(9, 9), 3000, "EUR"),
		refund("a2r", "ann", at(6, 9), 2000, "EUR"),
		// bob: 2 orders, 1 refunded: a single net purchase, Recency 0.
		order("b1", "bob", at(1, 9), 1500, "EUR"),
		order("b2", "bob", at(8, 9), 1500, "EUR"),
		refund("b2r", "bob", at(8, 10), 1500, "EUR"),
		// cy: every order refunded: left out.
		order("c1", "cy", at(2, 9), 500, "EUR"),
		refund("c1r", "cy", at(3, 9), 500, "EUR"),
		// dee: refunds exceeding the orders' money: MonetaryValue 0.
		order("d1", "dee", at(0, 9), 100, "EUR"),
		order("d2", "dee", at(2, 9), 100, "EUR"),
		order("d3", "dee", at(4, 9), 100, "EUR"),
		refund("d1r", "dee", at(5, 9), 1000, "EUR"),
		// eve: a refund in a later, unrelated period still nets.
		order("e1", "eve", at(0, 9), 4000, "EUR"),
		order("e2", "eve", at(3, 9), 4000, "EUR"),
		order("e3", "eve", at(4, 9), 4000, "EUR"),
		refund("e3r", "eve", at(15, 9), 1000, "EUR"),
	}
	s := record(t, evs)
	got, err := clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: at(10, 0)})
	require.NoError(t, err)
	want := []clv.Customer{
		{ID: "ann", Frequency: 1, Recency: 9, T: 10, MonetaryValue: (10.0 + 20 + 30 - 20) / 2},
		{ID: "bob", Frequency: 0, Recency: 0, T: 9},
		{ID: "dee", Frequency: 1, Recency: 4, T: 10, MonetaryValue: 0},
		{ID: "eve", Frequency: 1, Recency: 4, T: 10, MonetaryValue: (40.0 + 40 + 40 - 10) / 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}

	// Without order_completed among the purchase types refunds are ignored.
	s2 := record(t, []lifecycle.Event{
		{ID: "r1", CustomerID: "ann", Type: lifecycle.SubscriptionRenewed, Time: at(0, 1), Amount: 1000, Currency: "EUR"},
		{ID: "r2", CustomerID: "ann", Type: lifecycle.SubscriptionRenewed, Time: at(30, 1), Amount: 1000, Currency: "EUR"},
		refund("x", "ann", at(31, 1), 1000, "EUR"),
	})
	got, err = clv.SummarizeStore(context.Background(), s2, clv.StoreSummaryOptions{
		Currency: "EUR", PurchaseTypes: []lifecycle.EventType{lifecycle.SubscriptionRenewed},
	})
	require.NoError(t, err)
	want = []clv.Customer{{ID: "ann", Frequency: 1, Recency: 30, T: 30, MonetaryValue: 10}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("renewals only (-want +got):\n%s", diff)
	}
}

func TestSummarizeStoreCurrencies(t *testing.T) {
	evs := []lifecycle.Event{
		order("a1", "ann", at(0, 9), 1000, "EUR"),
		order("a2", "ann", at(7, 9), 3000, "EUR"),
		order("b1", "bob", at(0, 9), 1000, "EUR"),
		order("b2", "bob", at(7, 9), 2000, "GBP"),
		order("c1", "cy", at(2, 9), 150000, "JPY"),
		order("c2", "cy", at(3, 9), 1250, "KWD"),
	}
	s := record(t, evs)
	ctx := context.Background()

	// Only ann and bob, so that bob is the one the error must name.
	_, err := clv.SummarizeStore(ctx, record(t, evs[:4]), clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	for _, part := range []string{`"bob"`, "GBP", "Rates"} {
		require.Contains(t, err.Error(), part)
	}

	got, err := clv.SummarizeStore(ctx, s, clv.StoreSummaryOptions{
		Currency: "EUR",
		Rates:    map[string]float64{"GBP": 1.25, "JPY": 0.0062, "KWD": 2.75},
	})
	require.NoError(t, err)
	want := []clv.Customer{
		{ID: "ann", Frequency: 1, Recency: 7, T: 7, MonetaryValue: (10 + 30) / 2.0},
		{ID: "bob", Frequency: 1, Recency: 7, T: 7, MonetaryValue: (10 + 20*1.25) / 2.0},
		{ID: "cy", Frequency: 1, Recency: 1, T: 5, MonetaryValue: (150000*0.0062 + 1.25*2.75) / 2},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestSummarizeStoreExponents checks the conversion from minor units: a
// customer with two orders of the same minor amount has that amount, in
// major units, as MonetaryValue.
func TestSummarizeStoreExponents(t *testing.T) {
	tests := []struct {
		currency string
		minor    int64
		want     float64
	}{
		{"JPY", 1500, 1500},
		{"KRW", 25000, 25000},
		{"EUR", 4999, 49.99},
		{"USD", 5, 0.05},
		{"BHD", 1250, 1.25},
		{"KWD", 1250, 1.25},
		{"OMR", 1, 0.001},
		{"JOD", 2000, 2},
		{"TND", 999, 0.999},
		{"LYD", 10500, 10.5},
		{"IQD", 7, 0.007},
		{"CLF", 12345, 1.2345},
	}
	for _, tc := range tests {
		t.Run(tc.currency, func(t *testing.T) {
			s := record(t, []lifecycle.Event{
				order("1", "ann", at(0, 9), tc.minor, tc.currency),
				order("2", "ann", at(1, 9), tc.minor, tc.currency),
			})
			got, err := clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{Currency: tc.currency})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.InDelta(t, tc.want, got[0].MonetaryValue, 1e-12*math.Max(1, tc.want))
		})
	}
}

func TestSummarizeStoreObservationEnd(t *testing.T) {
	s := record(t, []lifecycle.Event{
		order("a1", "ann", at(0, 9), 1000, "EUR"),
		order("a2", "ann", at(20, 9), 1000, "EUR"),
		order("b1", "bob", at(12, 9), 1000, "EUR"),
	})
	ctx := context.Background()
	// The whole day of the end is included: ann's order at 09:00 on day 20
	// is inside an end at 00:00 on day 20.
	got, err := clv.SummarizeStore(ctx, s, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: at(20, 0)})
	require.NoError(t, err)
	want := []clv.Customer{
		{ID: "ann", Frequency: 1, Recency: 20, T: 20, MonetaryValue: 10},
		{ID: "bob", Frequency: 0, Recency: 0, T: 8},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}

	// Ann's second order is after the end and cannot be separated.
	_, err = clv.SummarizeStore(ctx, s, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: at(15, 0)})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	for _, part := range []string{`"ann"`, "2024-01-21", "ObservationEnd = 2024-01-16"} {
		require.Contains(t, err.Error(), part)
	}

	// Everybody acquired after the end: nothing to summarise.
	_, err = clv.SummarizeStore(ctx, record(t, []lifecycle.Event{order("x", "x", at(5, 0), 1, "EUR")}),
		clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: at(1, 0)})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	require.Contains(t, err.Error(), "2024-01-02")

	// No purchase at all.
	_, err = clv.SummarizeStore(ctx, record(t, []lifecycle.Event{{ID: "v", CustomerID: "v", Type: lifecycle.SiteVisited, Time: at(1, 0)}}),
		clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	require.Contains(t, err.Error(), "no customer")
}

func TestSummarizeStoreCancel(t *testing.T) {
	_, evs := orderLog(rand.New(rand.NewPCG(5, 6)), "c", 50, 0, 100, time.UTC)
	s := record(t, evs)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := clv.SummarizeStore(ctx, s, clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, context.Canceled)

	// Cancelled in the middle of the pass, by a sequence that does not
	// itself look at ctx.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	yielded := 0
	seq := func(yield func(*lifecycle.Customer, error) bool) {
		for c, err := range s.Scan(context.Background()) {
			yielded++
			if yielded == 3 {
				cancel()
			}
			if !yield(c, err) {
				return
			}
		}
	}
	_, err = clv.SummarizeCustomers(ctx, seq, clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 3, yielded, "the pass went on after ctx was cancelled")
}

func TestSummarizeCustomersSeqError(t *testing.T) {
	boom := errors.New("disk on fire")
	c := &lifecycle.Customer{ID: "ann"}
	c.Facts.Add(&lifecycle.Event{ID: "1", CustomerID: "ann", Type: lifecycle.OrderCompleted, Time: at(0, 0), Amount: 100, Currency: "EUR"})
	seq := func(yield func(*lifecycle.Customer, error) bool) {
		if yield(c, nil) {
			yield(nil, boom)
		}
	}
	_, err := clv.SummarizeCustomers(context.Background(), seq, clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, boom)

	got, err := clv.SummarizeCustomers(context.Background(), seqOf(c), clv.StoreSummaryOptions{Currency: "EUR"})
	require.NoError(t, err)
	require.Equal(t, []clv.Customer{{ID: "ann"}}, got)
}

func seqOf(cs ...*lifecycle.Customer) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

func TestSummarizeStoreBadOptions(t *testing.T) {
	s := record(t, []lifecycle.Event{order("1", "ann", at(0, 0), 100, "EUR")})
	tests := []struct {
		name  string
		opts  clv.StoreSummaryOptions
		parts []string // the message names these
	}{
		{"no currency", clv.StoreSummaryOptions{}, []string{"Currency", `""`}},
		{"lower-case currency", clv.StoreSummaryOptions{Currency: "eur"}, []string{"Currency", `"eur"`}},
		{"long currency", clv.StoreSummaryOptions{Currency: "EURO"}, []string{"Currency", `"EURO"`}},
		{"unit", clv.StoreSummaryOptions{Currency: "EUR", Unit: 9}, []string{"Unit", "TimeUnit(9)"}},
		{"rate key", clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"gbp": 1}}, []string{"Rates", `"gbp"`}},
		{"rate zero", clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": 0}}, []string{`Rates["GBP"]`, "= 0"}},
		{"rate NaN", clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": math.NaN()}}, []string{`Rates["GBP"]`, "NaN"}},
		{"rate Inf", clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": math.Inf(1)}}, []string{`Rates["GBP"]`, "+Inf"}},
		{"rate for Currency", clv.StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"EUR": 1}}, []string{`Rates["EUR"]`}},
		{"refund type", clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{lifecycle.OrderRefunded}}, []string{"PurchaseTypes[0]", `"order_refunded"`}},
		{"visit type", clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.SiteVisited}}, []string{"PurchaseTypes[1]", `"site_visited"`}},
		{"credit type", clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{lifecycle.ReferralConverted}}, []string{"PurchaseTypes[0]", `"referral_converted"`}},
		{"empty type", clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{""}}, []string{"PurchaseTypes[0]", `""`}},
		{"unprefixed custom type", clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{"invoice_paid"}}, []string{"PurchaseTypes[0]", `"invoice_paid"`}},
		{"duplicate type", clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{"acme.paid", lifecycle.OrderCompleted, "acme.paid"}}, []string{"PurchaseTypes[2]", `"acme.paid"`, "twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := clv.SummarizeStore(context.Background(), s, tc.opts)
			require.ErrorIs(t, err, clv.ErrInvalidInput)
			for _, p := range tc.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name %s", err, p)
				}
			}
		})
	}
	_, err := clv.SummarizeStore(context.Background(), nil, clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	_, err = clv.SummarizeCustomers(context.Background(), nil, clv.StoreSummaryOptions{Currency: "EUR"})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	// A vendor-prefixed custom type is a valid purchase type.
	_, err = clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{Currency: "EUR", PurchaseTypes: []lifecycle.EventType{"acme.paid", lifecycle.OrderCompleted}})
	require.NoError(t, err)
}

// FuzzSummarizeCustomers feeds hand-made (possibly inconsistent) facts:
// the summary must not panic, and every row it returns must be a valid
// RFM row.
func FuzzSummarizeCustomers(f *testing.F) {
	f.Add(int64(3), int64(1), int64(0), int64(5), int64(9000), int64(100), int64(10))
	f.Add(int64(1), int64(4), int64(7), int64(2), int64(0), int64(900), int64(0))
	f.Fuzz(func(t *testing.T, orders, refunds, firstDay, lastDay, money, refunded, endDay int64) {
		c := &lifecycle.Customer{ID: "c"}
		c.Facts.Tallies = []lifecycle.Tally{
			{Type: lifecycle.OrderCompleted, Count: orders, First: at(int(firstDay%100000), 0), Last: at(int(lastDay%100000), 0)},
			{Type: lifecycle.OrderRefunded, Count: refunds, First: at(0, 0), Last: at(0, 0)},
		}
		c.Facts.Sums = []lifecycle.Sum{
			{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: money},
			{Type: lifecycle.OrderRefunded, Currency: "EUR", Amount: refunded},
		}
		for _, end := range []time.Time{{}, at(int(endDay%100000), 0)} {
			got, err := clv.SummarizeCustomers(context.Background(), seqOf(c), clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: end})
			if err != nil {
				if !errors.Is(err, clv.ErrInvalidInput) {
					t.Fatalf("error %v does not wrap ErrInvalidInput", err)
				}
				continue
			}
			for _, r := range got {
				if r.Frequency < 0 || r.Recency < 0 || r.Recency > r.T || r.MonetaryValue < 0 ||
					math.IsNaN(r.MonetaryValue) || math.IsInf(r.MonetaryValue, 0) || (r.Frequency == 0 && (r.Recency != 0 || r.MonetaryValue != 0)) {
					t.Fatalf("invalid row %+v", r)
				}
			}
		}
	})
}

// A customer the summary leaves out (first purchase after ObservationEnd)
// never makes it fail, whatever the currency of their money; a kept one
// with money in a currency without a rate does.
func TestSummarizeStoreLeftOutCurrency(t *testing.T) {
	s := record(t, []lifecycle.Event{
		order("a1", "a", at(1, 0), 1000, "EUR"),
		order("a2", "a", at(5, 0), 2000, "EUR"),
		order("late", "late", at(30, 0), 500, "GBP"),
	})
	got, err := clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: at(20, 0)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "a", got[0].ID)

	_, err = clv.SummarizeStore(context.Background(), s, clv.StoreSummaryOptions{Currency: "EUR", ObservationEnd: at(40, 0)})
	require.ErrorIs(t, err, clv.ErrInvalidInput)
	require.ErrorContains(t, err, `customer "late"`)
}
