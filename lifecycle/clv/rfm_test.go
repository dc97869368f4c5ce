package clv

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSummarize(t *testing.T) {
	log := []Transaction{
		{"b", day("2024-01-03"), 10},
		{"a", day("2024-01-01"), 5},
		{"a", day("2024-01-01").Add(15 * time.Hour), 7}, // same day: collapses
		{"a", day("2024-01-08"), 20},
		{"a", day("2024-01-10"), 30},
		{"a", day("2024-01-20"), 1}, // holdout
		{"a", day("2024-01-21"), 2}, // holdout
		{"a", day("2024-03-01"), 9}, // after observation end: ignored
		{"c", day("2024-01-16"), 4}, // first purchase after calibration: omitted
	}
	calEnd, obsEnd := day("2024-01-14"), day("2024-01-28")
	tests := []struct {
		name string
		opts SummaryOptions
		want []Customer
	}{
		{
			name: "days",
			opts: SummaryOptions{CalibrationEnd: calEnd, ObservationEnd: obsEnd},
			want: []Customer{
				{ID: "a", Frequency: 2, Recency: 9, T: 13, MonetaryValue: 25, HoldoutFrequency: 2, HoldoutMonetaryValue: 1.5, HoldoutDuration: 14},
				{ID: "b", Frequency: 0, Recency: 0, T: 11, HoldoutDuration: 14},
			},
		},
		{
			name: "days measured in weeks",
			opts: SummaryOptions{Period: Day, Unit: Week, CalibrationEnd: calEnd, ObservationEnd: obsEnd},
			want: []Customer{
				{ID: "a", Frequency: 2, Recency: 9.0 / 7, T: 13.0 / 7, MonetaryValue: 25, HoldoutFrequency: 2, HoldoutMonetaryValue: 1.5, HoldoutDuration: 2},
				{ID: "b", Frequency: 0, Recency: 0, T: 11.0 / 7, HoldoutDuration: 2},
			},
		},
		{
			// ISO weeks: 2024-01-01 is a Monday. Week 1 = Jan 1–7, week 2 =
			// Jan 8–14 (holds Jan 8 and 10, summed), holdout weeks 3–4
			// (Jan 20 and 21 are both in week 3).
			name: "weeks",
			opts: SummaryOptions{Period: Week, CalibrationEnd: calEnd, ObservationEnd: obsEnd},
			want: []Customer{
				{ID: "a", Frequency: 1, Recency: 1, T: 1, MonetaryValue: 50, HoldoutFrequency: 1, HoldoutMonetaryValue: 3, HoldoutDuration: 2},
				{ID: "b", Frequency: 0, Recency: 0, T: 1, HoldoutDuration: 2},
			},
		},
		{
			name: "weekly periods in days",
			opts: SummaryOptions{Period: Week, Unit: Day, CalibrationEnd: calEnd, ObservationEnd: obsEnd},
			want: []Customer{
				{ID: "a", Frequency: 1, Recency: 7, T: 7, MonetaryValue: 50, HoldoutFrequency: 1, HoldoutMonetaryValue: 3, HoldoutDuration: 14},
				{ID: "b", Frequency: 0, Recency: 0, T: 7, HoldoutDuration: 14},
			},
		},
		{
			// ObservationEnd defaults to the later of CalibrationEnd and
			// the last transaction.
			name: "calibration end after the last purchase",
			opts: SummaryOptions{CalibrationEnd: day("2024-03-11")},
			want: []Customer{
				{ID: "a", Frequency: 5, Recency: 60, T: 70, MonetaryValue: (20 + 30 + 1 + 2 + 9) / 5.0},
				{ID: "b", Frequency: 0, Recency: 0, T: 68},
				{ID: "c", Frequency: 0, Recency: 0, T: 55},
			},
		},
		{
			name: "defaults: whole log is calibration",
			opts: SummaryOptions{},
			want: []Customer{
				{ID: "a", Frequency: 5, Recency: 60, T: 60, MonetaryValue: (20 + 30 + 1 + 2 + 9) / 5.0},
				{ID: "b", Frequency: 0, Recency: 0, T: 58},
				{ID: "c", Frequency: 0, Recency: 0, T: 45},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Summarize(log, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d customers %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.ID != w.ID || g.Frequency != w.Frequency || g.HoldoutFrequency != w.HoldoutFrequency ||
					!near(g.Recency, w.Recency) || !near(g.T, w.T) || !near(g.MonetaryValue, w.MonetaryValue) ||
					!near(g.HoldoutMonetaryValue, w.HoldoutMonetaryValue) || !near(g.HoldoutDuration, w.HoldoutDuration) {
					t.Errorf("customer %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// A purchase's period is its calendar date in its own location, so the
// same instant can fall on different days in different zones.
func TestSummarizeUsesLocalDates(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	log := []Transaction{
		{"a", time.Date(2024, 1, 1, 23, 0, 0, 0, time.UTC), 1},
		{"a", time.Date(2024, 1, 2, 7, 0, 0, 0, tokyo), 1}, // 2024-01-01 22:00 UTC, but Jan 2 locally
	}
	got, err := Summarize(log, SummaryOptions{ObservationEnd: day("2024-01-05")})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Frequency != 1 || got[0].Recency != 1 {
		t.Errorf("got %+v, want Frequency 1, Recency 1", got[0])
	}
}

func TestSummarizeInvalidInput(t *testing.T) {
	ok := Transaction{"a", day("2024-01-01"), 1}
	tests := []struct {
		name  string
		txs   []Transaction
		opts  SummaryOptions
		field string
	}{
		{"empty", nil, SummaryOptions{}, "transactions: empty"},
		{"empty id", []Transaction{ok, {"", day("2024-01-02"), 1}}, SummaryOptions{}, "transactions[1].CustomerID"},
		{"zero time", []Transaction{{"a", time.Time{}, 1}}, SummaryOptions{}, "transactions[0].Time"},
		{"NaN amount", []Transaction{ok, {"b", day("2024-01-02"), math.NaN()}}, SummaryOptions{}, `transactions[1].Amount = NaN (customer "b")`},
		{"negative amount", []Transaction{{"a", day("2024-01-02"), -5}}, SummaryOptions{}, "transactions[0].Amount = -5"},
		{"infinite amount", []Transaction{{"a", day("2024-01-02"), math.Inf(1)}}, SummaryOptions{}, "Amount = +Inf"},
		{"bad period", []Transaction{ok}, SummaryOptions{Period: 9}, "SummaryOptions.Period = TimeUnit(9)"},
		{"bad unit", []Transaction{ok}, SummaryOptions{Unit: -1}, "SummaryOptions.Unit"},
		{"calibration after observation", []Transaction{ok}, SummaryOptions{CalibrationEnd: day("2024-02-01"), ObservationEnd: day("2024-01-15")}, "CalibrationEnd = 2024-02-01 is after ObservationEnd = 2024-01-15"},
		{"nobody in calibration", []Transaction{ok}, SummaryOptions{CalibrationEnd: day("2023-12-01"), ObservationEnd: day("2024-01-15")}, "no customer purchased"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Summarize(tc.txs, tc.opts)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want ErrInvalidInput naming %q", err, tc.field)
			}
		})
	}
}

func TestReadCDNOW(t *testing.T) {
	master := " customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n\r\n 00002 19970112  2   12.00\r\n"
	got, err := ReadCDNOW(strings.NewReader(master))
	if err != nil {
		t.Fatal(err)
	}
	want := []Transaction{{"00001", day("1997-01-01"), 11.77}, {"00002", day("1997-01-12"), 12}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	sample := " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73"
	got, err = ReadCDNOW(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1] != (Transaction{"0001", day("1997-01-18"), 29.73}) {
		t.Errorf("sample layout: got %+v", got)
	}

	bad := []struct {
		name, in, field string
	}{
		{"empty", "", "no transactions"},
		{"header only", "customer_id date cds value\n", "no transactions"},
		{"field count", "00001 19970101 1\n", "line 1: 3 fields"},
		{"bad date", "00001 1997-01-01 1 11.77\n", `line 1: date = "1997-01-01"`},
		{"negative value", "00001 19970101 1 11.77\n00002 19970101 1 -3\n", `line 2: dollar value = "-3"`},
		{"NaN value", "00001 19970101 1 NaN\n", `dollar value = "NaN"`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCDNOW(strings.NewReader(tc.in))
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want ErrInvalidInput naming %q", err, tc.field)
			}
		})
	}
}
