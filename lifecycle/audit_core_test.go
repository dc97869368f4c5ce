package lifecycle_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

// ValidationError.Value is the offending value, truncated when long, from
// every check of Event.Validate (not only the length checks), and a value
// that was valid UTF-8 stays valid UTF-8 once truncated.
func TestValidationErrorValueTruncated(t *testing.T) {
	long := strings.Repeat("x", 200)
	accents := "a" + strings.Repeat("é", 100) // a 64-byte cut would split an é
	tests := []struct {
		name, field string
		e           lifecycle.Event
	}{
		{"id with trailing space", "id", lifecycle.Event{ID: long + " ", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0}},
		{"long malformed currency", "currency", lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, Currency: long}},
		{"long self-referral", "referrer_id", lifecycle.Event{ID: "e", CustomerID: long, ReferrerID: long, Type: lifecycle.SiteVisited, Time: t0}},
		{"long survey score", "attrs.score", lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SurveyAnswered, Time: t0, Attrs: map[string]string{"score": long}}},
		{"long non-ASCII id", "id", lifecycle.Event{ID: accents + strings.Repeat("x", 200), CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0}},
		{"non-ASCII attr value", "attrs.k", lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, Attrs: map[string]string{"k": strings.Repeat(accents, 11)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			require.True(t, errors.Is(err, lifecycle.ErrInvalidEvent), "%v", err)
			var ve *lifecycle.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
			require.True(t, strings.HasSuffix(ve.Value, "…"), "Value %q not marked as truncated", ve.Value)
			require.LessOrEqual(t, len(strings.TrimSuffix(ve.Value, "…")), 64, "Value %q", ve.Value)
			require.GreaterOrEqual(t, len(strings.TrimSuffix(ve.Value, "…")), 61, "Value %q", ve.Value)
			require.True(t, utf8.ValidString(ve.Value), "Value %q is not valid UTF-8", ve.Value)
		})
	}
}
