package funnel_test

// Tests from an audit of the package against its docs.

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// CohortBy of a nil key is an error (the cohort split disappeared).
func TestAuditCohortByNil(t *testing.T) {
	_, err := funnel.New(model.SterneCutler().Stages(), funnel.CohortBy(nil))
	if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), "CohortBy") {
		t.Errorf("New(CohortBy(nil)) = %v; want ErrInvalidInput naming CohortBy", err)
	}
}

// InCurrency of a code no stored money can hold is refused (it summed
// nothing, silently); "" is the default.
func TestAuditInCurrencyForm(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	orders := []funnel.Order{{CustomerID: "a", Time: t0, Amount: 500, Currency: "EUR"}}
	for _, cur := range []string{"eur", "EURO", " EUR", "€", "EU"} {
		if _, err := funnel.Retention(orders, funnel.Month, funnel.InCurrency(cur)); !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), cur) {
			t.Errorf("Retention(InCurrency(%q)) = %v; want ErrInvalidInput naming it", cur, err)
		}
		_, err := funnel.StoredRetention(context.Background(), model.SterneCutler().Stages(), "retention", store.NewMemory().Scan(context.Background()), funnel.Month, funnel.InCurrency(cur))
		if !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("StoredRetention(InCurrency(%q)) = %v; want ErrInvalidInput", cur, err)
		}
	}
	for _, cur := range []string{"", "EUR"} {
		tab, err := funnel.Retention(orders, funnel.Month, funnel.InCurrency(cur))
		if err != nil || tab.Cohorts[0].TotalRevenue != 500 {
			t.Errorf("Retention(InCurrency(%q)) = %+v, %v; want revenue 500", cur, tab, err)
		}
	}
}

// Without Until, the end of observation is the latest order, also for
// orders before the year 1 (it was the zero time, and the rows ran to it).
func TestAuditRetentionUntilBeforeYear1(t *testing.T) {
	orders := []funnel.Order{
		{CustomerID: "a", Time: time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)},
		{CustomerID: "a", Time: time.Date(0, 6, 1, 0, 0, 0, 0, time.UTC)},
	}
	tab, err := funnel.Retention(orders, funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Until.Equal(orders[1].Time) || len(tab.Cohorts[0].Active) != 13 {
		t.Errorf("Until = %v, %d columns; want %v and 13", tab.Until, len(tab.Cohorts[0].Active), orders[1].Time)
	}
}

// A duration past what time.Duration holds is its largest value, as Dist
// documents.
func TestAuditDurationPastDuration(t *testing.T) {
	t1 := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "a", Stage: "retention", Since: t2, AsOf: t2, History: []lifecycle.Transition{
		{To: "conversion", At: t1}, {From: "conversion", To: "retention", At: t2}}}
	rep, err := funnel.Analyze(context.Background(), model.SterneCutler().Stages(), funnel.Customers([]*lifecycle.Customer{c}))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range rep.Stages {
		if st.Stage == "conversion" && st.Stay.Max != math.MaxInt64 {
			t.Errorf("conversion's stay of 8,099 years = %v; want the largest Duration", st.Stay.Max)
		}
	}
}

// A customer with a history but no stage is refused as bad input, not as
// a stage of another model.
func TestAuditHistoryWithoutStage(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "b", History: []lifecycle.Transition{{To: "reach", At: t0}}}
	_, err := funnel.Analyze(context.Background(), model.SterneCutler().Stages(), funnel.Customers([]*lifecycle.Customer{c}))
	if !errors.Is(err, funnel.ErrInvalidInput) || errors.Is(err, funnel.ErrUnknownStage) {
		t.Errorf("Analyze(history, no stage) = %v; want ErrInvalidInput", err)
	}
}
