package lifecycle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// ParseMinor's errors are ValidationErrors on "amount" that name the text
// and wrap ErrInvalidEvent (they were bare phrases, "is too large").
func TestParseMinorErrors(t *testing.T) {
	for _, tc := range []struct{ num, reason string }{
		{"-5", "must be a non-negative decimal number"},
		{"1.234", "has more decimal places than EUR's 2"},
		{"99999999999999999999", "is too large"},
		{"", "must be a non-negative decimal number"},
	} {
		_, err := lifecycle.ParseMinor(tc.num, "EUR")
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "amount" || ve.Value != tc.num || ve.Reason != tc.reason {
			t.Errorf("ParseMinor(%q, EUR) = %#v; want a ValidationError on amount naming it, %q", tc.num, err, tc.reason)
		}
	}
	if n, err := lifecycle.ParseMinor("49.99", "EUR"); n != 4999 || err != nil {
		t.Errorf("ParseMinor(49.99, EUR) = %d, %v", n, err)
	}
}

// TestParseMinorLongDigitsHugeExponent: an amount written with more
// digits than its exponent's size beyond ±1000 is read exactly, as the
// same amount with a small exponent is; one the digits cannot bring back
// into range is still refused.
func TestParseMinorLongDigitsHugeExponent(t *testing.T) {
	zeros := strings.Repeat("0", 1001)
	for _, num := range []string{
		"1" + zeros + "e-1001",         // 1
		"0." + zeros[:1000] + "1e1001", // 1
		"1" + zeros + "0e-1002",        // 1
		"0." + zeros + "1e+1002",       // 1
		"1" + zeros[:999] + "e-999",    // 1, the exponent within ±1000
	} {
		if n, err := lifecycle.ParseMinor(num, "EUR"); err != nil || n != 100 {
			t.Errorf("ParseMinor(%.12s…%s) = %d, %v; want 100", num, num[len(num)-6:], n, err)
		}
	}
	for _, num := range []string{"1e1" + zeros, "1e-1" + zeros, "1" + zeros + "e-3000", "1.5e-1002"} {
		if _, err := lifecycle.ParseMinor(num, "EUR"); !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("ParseMinor(%.12s…%s) = %v; want an error", num, num[len(num)-6:], err)
		}
	}
}
