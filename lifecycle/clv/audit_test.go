package clv_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle/clv"
)

// FitInfo.DistinctRows counts the rows left after collapsing identical
// customers, for the spend model too.
func TestFitGammaGammaDistinctRows(t *testing.T) {
	var cs []clv.Customer
	for i := range 60 {
		cs = append(cs,
			clv.Customer{Frequency: 1 + i%4, Recency: 1, T: 10, MonetaryValue: 10 + float64(i%5)},
			clv.Customer{Frequency: 2, Recency: 2, T: 10, MonetaryValue: 25}, // 60 identical rows
			clv.Customer{T: 10}, // ignored: no repeat purchase
		)
	}
	m, info, err := clv.FitGammaGamma(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Customers != 120 {
		t.Errorf("Customers = %d, want 120 repeat customers", info.Customers)
	}
	// i%4 and i%5 give 20 distinct (Frequency, MonetaryValue) pairs, plus (2, 25).
	if info.DistinctRows != 21 {
		t.Errorf("DistinctRows = %d, want 21", info.DistinctRows)
	}
	// Collapsing must not change the likelihood.
	ll, err := m.LogLikelihood(cs)
	if err != nil {
		t.Fatal(err)
	}
	if d := ll - info.LogLikelihood; d > 1e-6 || d < -1e-6 {
		t.Errorf("LogLikelihood = %v, FitInfo.LogLikelihood = %v", ll, info.LogLikelihood)
	}
}

// Without ObservationEnd, no transaction is left out, even when the latest
// instant is not the latest calendar date (times in several locations).
func TestSummarizeDefaultEndKeepsEveryTransaction(t *testing.T) {
	ny := time.FixedZone("New York", -5*3600)
	tokyo := time.FixedZone("Tokyo", 9*3600)
	txs := []clv.Transaction{
		{CustomerID: "a", Time: time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC), Amount: 1},
		// 2 January in New York, the latest instant (3 January 04:00 UTC).
		{CustomerID: "a", Time: time.Date(2024, 1, 2, 23, 0, 0, 0, ny), Amount: 2},
		// 3 January in Tokyo, an earlier instant (2 January 16:00 UTC).
		{CustomerID: "b", Time: time.Date(2024, 1, 3, 1, 0, 0, 0, tokyo), Amount: 3},
	}
	got, err := clv.Summarize(txs, clv.SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []clv.Customer{
		{ID: "a", Frequency: 1, Recency: 1, T: 2, MonetaryValue: 2},
		{ID: "b", Frequency: 0, Recency: 0, T: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadCDNOWMalformed(t *testing.T) {
	// A line too long for the scanner is a malformed line.
	_, err := clv.ReadCDNOW(strings.NewReader("0001 19970101 1 2.50\n" + strings.Repeat("9", 70_000) + "\n"))
	if !errors.Is(err, clv.ErrInvalidInput) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("long line: err = %v, want ErrInvalidInput naming line 2", err)
	}
	// The header is the first non-blank line.
	txs, err := clv.ReadCDNOW(strings.NewReader("\r\n\nid date cds dollars\r\n0001 19970101 1 2.50\r\n"))
	if err != nil || len(txs) != 1 || txs[0].CustomerID != "0001" || txs[0].Amount != 2.5 {
		t.Errorf("header after blank lines: %+v, %v", txs, err)
	}
}
