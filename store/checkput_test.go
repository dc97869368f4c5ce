package store_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// TestCheckPut checks each refusal: it wraps ErrInvalidCustomer and names
// the customer and the versions. No version follows the largest: prev+1
// must not wrap round to 0.
func TestCheckPut(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *lifecycle.Customer
		prev uint64
		want []string // in the message; nil: no error
	}{
		{"nil", nil, 0, []string{"nil customer"}},
		{"empty ID", &lifecycle.Customer{Version: 1}, 0, []string{"ID is empty"}},
		{"version not prev+1", &lifecycle.Customer{ID: "c", Version: 5}, 1, []string{`"c"`, "version 5", "prev+1 = 2"}},
		{"prev+1 wraps", &lifecycle.Customer{ID: "c", Version: 0}, math.MaxUint64, []string{`"c"`, "18446744073709551615"}},
		{"largest version", &lifecycle.Customer{ID: "c", Version: math.MaxUint64}, math.MaxUint64 - 1, nil},
		{"new", &lifecycle.Customer{ID: "c", Version: 1}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := store.CheckPut(tc.c, tc.prev)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckPut = %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, lifecycle.ErrInvalidCustomer) {
				t.Fatalf("CheckPut = %v; want an error wrapping ErrInvalidCustomer", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckPut = %q; want it to name %s", err, w)
				}
			}
		})
	}
	// Memory refuses the wrapping Put of a customer at the largest version.
	ctx := context.Background()
	m := store.NewMemory()
	if err := applyOne(ctx, m, "c", nil, func(c *lifecycle.Customer, _ []bool) (bool, error) { c.Version = 1; return true, nil }); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, &lifecycle.Customer{ID: "c", Version: 0}, math.MaxUint64); !errors.Is(err, lifecycle.ErrInvalidCustomer) {
		t.Fatalf("Put(version 0, prev MaxUint64) = %v; want an error wrapping ErrInvalidCustomer", err)
	}
}
