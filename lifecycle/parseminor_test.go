package lifecycle_test

import (
	"errors"
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
