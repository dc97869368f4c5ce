package lifecycle_test

import (
	"math"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

func TestContractMinorUnits(t *testing.T) {
	for cur, want := range map[string]int{"JPY": 0, "KRW": 0, "CLP": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4, "EUR": 2, "USD": 2, "XXX": 2} {
		if got := lifecycle.MinorUnits(cur); got != want {
			t.Errorf("MinorUnits(%s) = %d, want %d", cur, got, want)
		}
	}
}

func TestContractParseMinor(t *testing.T) {
	ok := []struct {
		num, cur string
		want     int64
	}{
		{"49.99", "EUR", 4999}, {"1500", "JPY", 1500}, {"1.250", "KWD", 1250}, {"1e3", "EUR", 100000},
		{"0.5", "EUR", 50}, {"0", "EUR", 0}, {"0.0", "JPY", 0}, {"1.000", "EUR", 100}, {"1E2", "EUR", 10000},
		{"1e+2", "EUR", 10000}, {"1e-2", "EUR", 1}, {"100e-2", "EUR", 100}, {"0.0010", "KWD", 1},
		{"92233720368547758.07", "EUR", math.MaxInt64}, {"9223372036854775807", "JPY", math.MaxInt64},
		{"0.000e-5", "EUR", 0}, {"12.3456", "CLF", 123456},
	}
	for _, c := range ok {
		got, err := lifecycle.ParseMinor(c.num, c.cur)
		if err != nil || got != c.want {
			t.Errorf("ParseMinor(%q, %s) = %d, %v; want %d", c.num, c.cur, got, err, c.want)
		}
	}
	bad := []struct{ num, cur string }{
		{"0.001", "EUR"}, {"0.5", "JPY"}, {"5e-1", "JPY"}, {"92233720368547758.08", "EUR"}, {"9223372036854775808", "JPY"},
		{"-1", "EUR"}, {"+1", "EUR"}, {"1.", "EUR"}, {".5", "EUR"}, {"", "EUR"}, {"1e400", "EUR"},
		{"1e99999999999999999999", "EUR"}, {"NaN", "EUR"}, {"Inf", "EUR"}, {"0x10", "EUR"}, {"1_000", "EUR"},
		{" 1", "EUR"}, {"1 ", "EUR"}, {"1e", "EUR"}, {"1e-99999999999999999999", "EUR"}, {"1.0001", "KWD"},
	}
	for _, c := range bad {
		got, err := lifecycle.ParseMinor(c.num, c.cur)
		if err == nil {
			t.Errorf("ParseMinor(%q, %s) = %d, want an error", c.num, c.cur, got)
		}
	}
}

// "The text is a JSON number without a sign. It is an error for the amount
// to have non-zero digits below the currency's minor unit ... or to exceed
// the int64 range." 0e99999999999999999999 is a JSON number whose value is 0.
func TestContractParseMinorZeroHugeExponent(t *testing.T) {
	for _, num := range []string{"0e1001", "0e99999999999999999999", "0.0e-99999999999999999999"} {
		got, err := lifecycle.ParseMinor(num, "EUR")
		if err != nil || got != 0 {
			t.Errorf("ParseMinor(%q, EUR) = %d, %v; want 0, nil", num, got, err)
		}
	}
	evs, err := lifecycle.FromSegment([]byte(rvSeg("Order Completed", `,"properties":{"total":0e99999999999999999999,"currency":"EUR"}`)))
	if err != nil || len(evs) != 1 || evs[0].Amount != 0 {
		t.Errorf("FromSegment total 0e99999999999999999999: %v %v", evs, err)
	}
}

// Text that is not a JSON number ("01": JSON forbids leading zeros).
func TestContractParseMinorNotJSONNumber(t *testing.T) {
	for _, num := range []string{"01", "00.5", "007"} {
		if got, err := lifecycle.ParseMinor(num, "EUR"); err == nil {
			t.Errorf("ParseMinor(%q, EUR) = %d, nil; %q is not a JSON number", num, got, num)
		}
	}
}

// TestMinorUnitsAnyCase: a currency code in lower or mixed case has its
// ISO 4217 exponent (found by an audit: "jpy" took 2 decimals, so
// ParseMinor("1500", "jpy") was 150000).
func TestMinorUnitsAnyCase(t *testing.T) {
	for cur, want := range map[string]int{"jpy": 0, "Kwd": 3, "clf": 4, "eur": 2} {
		if got := lifecycle.MinorUnits(cur); got != want {
			t.Errorf("MinorUnits(%q) = %d, want %d", cur, got, want)
		}
	}
	if v, err := lifecycle.ParseMinor("1500", "jpy"); err != nil || v != 1500 {
		t.Errorf(`ParseMinor("1500", "jpy") = %d, %v; want 1500`, v, err)
	}
}
