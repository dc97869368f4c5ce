package funnel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
)

func date(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }

// orders: c1 and c2 form the January cohort, c3 and c4 the February one.
func orders() []funnel.Order {
	return []funnel.Order{
		{CustomerID: "c1", Time: date(3, 2), Amount: 70, Currency: "EUR"},
		{CustomerID: "c1", Time: date(1, 5), Amount: 100, Currency: "EUR"},
		{CustomerID: "c2", Time: date(1, 31), Amount: 200, Currency: "EUR"},
		{CustomerID: "c1", Time: date(1, 20), Amount: 50, Currency: "EUR"},
		{CustomerID: "c2", Time: date(2, 1), Amount: 10, Currency: "EUR"},
		{CustomerID: "c3", Time: date(2, 10), Amount: 30, Currency: "EUR"},
		{CustomerID: "c4", Time: date(2, 15), Amount: 40, Currency: "EUR"},
		{CustomerID: "c4", Time: date(2, 15), Amount: 40, Currency: "EUR"}, // same instant: a repeat
	}
}

func TestRetention(t *testing.T) {
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		orders []funnel.Order
		opts   []funnel.RetentionOption
		want   *funnel.RetentionTable
	}{{
		name:   "by month",
		orders: orders(),
		want: &funnel.RetentionTable{Period: funnel.Month, Until: date(3, 2), Currency: "EUR", Cohorts: []funnel.RetentionCohort{{
			Key: "2026-01", Start: jan, Customers: 2,
			Active:       []int{2, 1, 1},       // both; c2 in Feb; c1 in Mar
			Repeated:     []int{1, 2, 2},       // c1 repeats in Jan, c2 in Feb
			Retained:     []int{2, 2, 1},       // c1 last in Mar, c2 last in Feb
			Revenue:      []int64{350, 10, 70}, // 100+50+200, 10, 70
			TotalRevenue: 430,
		}, {
			Key: "2026-02", Start: feb, Customers: 2,
			Active: []int{2, 0}, Repeated: []int{1, 1}, Retained: []int{2, 0}, Revenue: []int64{110, 0}, TotalRevenue: 110,
		}}},
	}, {
		name:   "until cuts orders and columns",
		orders: orders(),
		opts:   []funnel.RetentionOption{funnel.Until(date(2, 1))},
		want: &funnel.RetentionTable{Period: funnel.Month, Until: date(2, 1), Currency: "EUR", Cohorts: []funnel.RetentionCohort{{
			Key: "2026-01", Start: jan, Customers: 2,
			Active: []int{2, 1}, Repeated: []int{1, 2}, Retained: []int{2, 1}, Revenue: []int64{350, 10}, TotalRevenue: 360,
		}}},
	}, {
		name: "other currencies count as orders, not revenue",
		orders: append(orders()[:2:2],
			funnel.Order{CustomerID: "c1", Time: date(1, 6), Amount: 999, Currency: "USD"}),
		opts: []funnel.RetentionOption{funnel.InCurrency("EUR")},
		want: &funnel.RetentionTable{Period: funnel.Month, Until: date(3, 2), Currency: "EUR", Cohorts: []funnel.RetentionCohort{{
			Key: "2026-01", Start: jan, Customers: 1,
			Active: []int{1, 0, 1}, Repeated: []int{1, 1, 1}, Retained: []int{1, 1, 1}, Revenue: []int64{100, 0, 70}, TotalRevenue: 170,
		}}},
	}, {
		name: "empty",
		want: &funnel.RetentionTable{Period: funnel.Month},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := funnel.Retention(tc.orders, funnel.Month, tc.opts...)
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(funnel.Period{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetentionErrors(t *testing.T) {
	tests := []struct {
		name   string
		orders []funnel.Order
	}{
		{"no customer", []funnel.Order{{Time: t0}}},
		{"no time", []funnel.Order{{CustomerID: "a"}}},
		{"negative amount", []funnel.Order{{CustomerID: "a", Time: t0, Amount: -1, Currency: "EUR"}}},
		{"two currencies", []funnel.Order{{CustomerID: "a", Time: t0, Amount: 1, Currency: "EUR"}, {CustomerID: "a", Time: t0, Amount: 1, Currency: "USD"}}},
		// Money without a currency code and money in EUR are two
		// currencies, whichever comes first.
		{"no currency then EUR", []funnel.Order{{CustomerID: "a", Time: t0, Amount: 1}, {CustomerID: "b", Time: t0, Amount: 2, Currency: "EUR"}}},
		{"EUR then no currency", []funnel.Order{{CustomerID: "b", Time: t0, Amount: 2, Currency: "EUR"}, {CustomerID: "a", Time: t0, Amount: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := funnel.Retention(tc.orders, funnel.Week); !errors.Is(err, funnel.ErrInvalidInput) {
				t.Fatalf("error = %v, want ErrInvalidInput", err)
			}
		})
	}
}

// stored builds customers holding the same orders as orders() (c1..c3),
// with the SterneCutler history a time-ordered recording would give.
func stored() []*lifecycle.Customer {
	mk := func(id string, hist []lifecycle.Transition, os ...funnel.Order) *lifecycle.Customer {
		c := &lifecycle.Customer{ID: id, History: hist, Version: 1}
		for i, o := range os {
			c.Facts.Add(&lifecycle.Event{ID: id + string(rune('a'+i)), CustomerID: id, Type: lifecycle.OrderCompleted, Time: o.Time, Amount: o.Amount, Currency: o.Currency})
			if o.Time.After(c.AsOf) {
				c.AsOf = o.Time
			}
		}
		last := hist[len(hist)-1]
		c.Stage, c.Since = last.To, last.At
		return c
	}
	o := orders()
	return []*lifecycle.Customer{
		mk("c1", []lifecycle.Transition{{To: model.Conversion, At: date(1, 5)}, {From: model.Conversion, To: model.Retention, At: date(1, 20)}}, o[0], o[1], o[3]),
		mk("c2", []lifecycle.Transition{{To: model.Conversion, At: date(1, 31)}, {From: model.Conversion, To: model.Retention, At: date(2, 1)}}, o[2], o[4]),
		mk("c3", []lifecycle.Transition{{To: model.Conversion, At: date(2, 10)}}, o[5]),
		{ID: "never-ordered", Stage: model.Reach, History: []lifecycle.Transition{{To: model.Reach, At: date(1, 1)}}},
	}
}

func TestStoredRetention(t *testing.T) {
	g := model.SterneCutler().Stages()
	got, err := funnel.StoredRetention(context.Background(), g, model.Retention, funnel.Customers(stored()), funnel.Month)
	require.NoError(t, err)
	want := &funnel.RetentionTable{Period: funnel.Month, Until: date(3, 2), Currency: "EUR", Cohorts: []funnel.RetentionCohort{{
		Key: "2026-01", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Customers: 2,
		Repeated: []int{1, 2, 2}, Retained: []int{2, 2, 1}, TotalRevenue: 430,
	}, {
		Key: "2026-02", Start: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Customers: 1,
		Repeated: []int{0, 0}, Retained: []int{1, 0}, TotalRevenue: 30,
	}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(funnel.Period{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := funnel.StoredRetention(context.Background(), g, "nope", funnel.Customers(stored()), funnel.Month); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("unknown repeat stage: error = %v, want ErrInvalidInput", err)
	}
}

// Money without a currency code beside money in EUR is two currencies for
// StoredRetention too, not EUR with the uncoded money dropped.
func TestStoredRetentionUncodedMoney(t *testing.T) {
	g := model.SterneCutler().Stages()
	c := stored()[0]
	c.Facts.Sums = append([]lifecycle.Sum{{Type: lifecycle.OrderCompleted, Amount: 5}}, c.Facts.Sums...)
	_, err := funnel.StoredRetention(context.Background(), g, model.Retention, funnel.Customers([]*lifecycle.Customer{c}), funnel.Month)
	if !errors.Is(err, funnel.ErrInvalidInput) {
		t.Fatalf("error = %v, want ErrInvalidInput", err)
	}
}

// A nil graph is reported as such, not as a repeat stage missing from it.
func TestStoredRetentionNilGraph(t *testing.T) {
	_, err := funnel.StoredRetention(context.Background(), nil, model.Retention, funnel.Customers(stored()), funnel.Month)
	if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), "graph is nil") {
		t.Fatalf("error = %v, want ErrInvalidInput saying the graph is nil", err)
	}
}
