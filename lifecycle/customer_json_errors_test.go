package lifecycle_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

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
			if strings.Contains(err.Error(), long[:100]) || strings.Contains(err.Error(), "customerJSON") || strings.Contains(err.Error(), "factsJSON") {
				t.Errorf("err = %q: quotes a long value whole, or names an internal type", err)
			}
			if !reflect.DeepEqual(before, &c) {
				t.Errorf("c changed on error: %+v, was %+v", c, *before)
			}
		})
	}
	var c lifecycle.Customer
	err := c.UnmarshalJSON([]byte(`{"id":`))
	var syn *json.SyntaxError
	if !errors.Is(err, lifecycle.ErrInvalidCustomer) || !errors.As(err, &syn) {
		t.Errorf("truncated JSON: err = %v, want ErrInvalidCustomer and a *json.SyntaxError", err)
	}
}
