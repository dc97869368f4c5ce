package lifecycle_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestCustomerUnmarshalJSONNamesField: an error of Customer.UnmarshalJSON
// wraps ErrInvalidCustomer and names the field by its JSON path and the
// value, cut when long; one about Seen also wraps ErrEventSet, one about
// JSON that is not well formed a *json.SyntaxError; and c is unchanged.
func TestCustomerUnmarshalJSONNamesField(t *testing.T) {
	long := strings.Repeat("x", 500)
	cases := []struct {
		name, data string
		want       []string // in the message
		also       error    // wrapped besides ErrInvalidCustomer, or nil
	}{
		{"time", `{"facts":{"first":"garbage"}}`, []string{"field facts.first", `"garbage"`}, nil},
		{"time in an array", `{"history":[{"at":"2020-01-01T00:00:00+24:00"}]}`, []string{"field history.at", "offset of 24 hours"}, nil},
		{"time not a string", `{"due":5}`, []string{"field due", "time 5"}, nil},
		{"tally time", `{"facts":{"tallies":[{"type":"order","last":"x"}]}}`, []string{"field facts.tallies.last", `"x"`}, nil},
		{"number", `{"version":-1}`, []string{"field version", "number -1", "uint64"}, nil},
		{"long time", `{"as_of":"` + long + `"}`, []string{"field as_of", "…"}, nil},
		{"seen", `{"seen":["nothex"]}`, []string{"field seen", "element 0"}, lifecycle.ErrEventSet},
		{"not an object", `[1]`, []string{"want a JSON object", "array"}, nil},
		{"object field of the wrong kind", `{"facts":5}`, []string{"field facts", "number", "JSON object"}, nil},
		{"array field of the wrong kind", `{"history":5}`, []string{"field history", "JSON array"}, nil},
		{"array element of the wrong kind", `{"history":[5]}`, []string{"field history", "JSON object"}, nil},
		{"nested array of the wrong kind", `{"facts":{"tallies":5}}`, []string{"field facts.tallies", "JSON array"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := lifecycle.Customer{ID: "c1", Version: 3}
			before := c.Clone()
			err := c.UnmarshalJSON([]byte(tc.data))
			if !errors.Is(err, lifecycle.ErrInvalidCustomer) {
				t.Fatalf("err = %v, want it to wrap ErrInvalidCustomer", err)
			}
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Errorf("err = %v, want it to wrap %v too", err, tc.also)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), long[:100]) || regexp.MustCompile(`(customer|facts|tally|referral|transition)JSON`).MatchString(err.Error()) {
				t.Errorf("err = %q: quotes a long value whole, or names an internal type", err)
			}
			if !reflect.DeepEqual(before, &c) {
				t.Errorf("c changed on error: %+v, was %+v", c, *before)
			}
		})
	}
	// A time time.Parse refuses: its reason kept, and its error wrapped.
	var c lifecycle.Customer
	err := c.UnmarshalJSON([]byte(`{"facts":{"first":"2020-13-01T00:00:00Z"}}`))
	var pe *time.ParseError
	if !errors.Is(err, lifecycle.ErrInvalidCustomer) || !errors.As(err, &pe) || !strings.Contains(err.Error(), "month out of range") || !strings.Contains(err.Error(), "field facts.first") {
		t.Errorf("month 13: err = %v, want ErrInvalidCustomer naming facts.first, wrapping a *time.ParseError and saying why", err)
	}
	err = c.UnmarshalJSON([]byte(`{"id":`))
	var syn *json.SyntaxError
	if !errors.Is(err, lifecycle.ErrInvalidCustomer) || !errors.As(err, &syn) {
		t.Errorf("truncated JSON: err = %v, want ErrInvalidCustomer and a *json.SyntaxError", err)
	}
}
