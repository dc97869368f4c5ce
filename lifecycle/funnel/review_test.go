package funnel_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
)

// TestScoreBelowZeroIsError: an n outside 1..10 makes the segment an error
// (ScoreBelow(0) was accepted and matched nobody).
func TestScoreBelowZeroIsError(t *testing.T) {
	for _, n := range []int{0, -1, 11} {
		_, err := funnel.New(model.SterneCutler().Stages(), funnel.Only(funnel.ScoreBelow(n)))
		if !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("New(Only(ScoreBelow(%d))): err = %v, want an error wrapping ErrInvalidInput (n outside 1..10)", n, err)
		}
	}
}

// TestNilSourcesDoNotPanic: a nil store or sequence of customers is an
// error, as AnalyzeStore's nil store is (these panicked).
func TestNilSourcesDoNotPanic(t *testing.T) {
	ctx := context.Background()
	g := model.SterneCutler().Stages()
	cases := map[string]func() error{
		"Segment.IDs(nil store)": func() error {
			for _, err := range funnel.InStage(model.Reach).IDs(ctx, nil) {
				return err
			}
			return nil
		},
		"Analyze(nil sequence)": func() error { _, err := funnel.Analyze(ctx, g, nil); return err },
		"StoredRetention(nil sequence)": func() error {
			_, err := funnel.StoredRetention(ctx, g, model.Retention, nil, funnel.Month)
			return err
		},
		"Segment.Filter(nil sequence)": func() error {
			for _, err := range funnel.InStage(model.Reach).Filter(nil) {
				return err
			}
			return nil
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panicked: %v (want an error)", name, r)
				}
			}()
			if err := f(); err == nil {
				t.Errorf("%s: no error", name)
			}
		})
	}
}

// TestRetentionRevenueSaturates: revenue saturates at MaxInt64, as Facts
// sums do (it wrapped to a negative number).
func TestRetentionRevenueSaturates(t *testing.T) {
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	big := int64(math.MaxInt64/2 + 1)
	tab, err := funnel.Retention([]funnel.Order{
		{CustomerID: "a", Time: at, Amount: big, Currency: "EUR"},
		{CustomerID: "a", Time: at.Add(time.Hour), Amount: big, Currency: "EUR"},
	}, funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	c := tab.Cohorts[0]
	if c.Revenue[0] < 0 || c.TotalRevenue < 0 {
		t.Errorf("Retention: two orders of %d EUR give Revenue[0] = %d, TotalRevenue = %d (negative)", big, c.Revenue[0], c.TotalRevenue)
	}
}

// TestStoredRetentionRevenueSaturates: the sum of saturated Facts.Revenue
// saturates too (it wrapped to a negative number).
func TestStoredRetentionRevenueSaturates(t *testing.T) {
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	mk := func(id string) *lifecycle.Customer {
		return &lifecycle.Customer{ID: id, Stage: model.Conversion, Since: at, AsOf: at,
			History: []lifecycle.Transition{{To: model.Conversion, At: at}},
			Facts: lifecycle.Facts{First: at, Last: at,
				Tallies: []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: 1, First: at, Last: at}},
				Sums:    []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: math.MaxInt64}}}}
	}
	tab, err := funnel.StoredRetention(context.Background(), model.SterneCutler().Stages(), model.Retention,
		funnel.Customers([]*lifecycle.Customer{mk("a"), mk("b")}), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if r := tab.Cohorts[0].TotalRevenue; r < 0 {
		t.Errorf("StoredRetention: two customers with MaxInt64 EUR revenue give TotalRevenue = %d (negative)", r)
	}
}

// TestOpenAgeWithoutSince: a record (built outside the Tracker) whose
// History shows entry at t0 but whose Since is zero gets the age since
// that entry (it got ~292 years, AsOf − 0001-01-01 saturated, which the
// table printed unrounded).
func TestOpenAgeWithoutSince(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "a", Stage: model.Reach, AsOf: at.Add(48 * time.Hour),
		History: []lifecycle.Transition{{To: model.Reach, At: at}}}
	rep, err := funnel.Analyze(context.Background(), model.SterneCutler().Stages(), funnel.Customers([]*lifecycle.Customer{c}))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := rep.Stage(model.Reach)
	if s.Open.N > 0 && s.Open.Max != 48*time.Hour {
		t.Errorf("Open age = %v, want 48h (entered at %v per History, AsOf %v) or no age", s.Open.Max, at, c.AsOf)
	}
	for _, row := range rep.Funnel.TimeTable().Rows {
		for _, cell := range row[3:] {
			if cell == "" {
				continue
			}
			if d, err := time.ParseDuration(cell); err != nil || d%time.Second != 0 {
				t.Errorf("TimeTable cell %q (row %v) is not a duration rounded to the second", cell, row[:2])
			}
		}
	}
}
