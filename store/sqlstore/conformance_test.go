package sqlstore_test

import (
	"context"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
	"github.com/clmkit/clm/store/storetest"
)

func TestConformance(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		storetest.Run(t, func(t *testing.T) lifecycle.Store { return newEnv(t, d).open(t) })
	})
}

// TestConformanceSharedTables runs the suite through TestStore on one set
// of tables that already holds other customers, with a small scan page so
// that Scan crosses many page boundaries.
func TestConformanceSharedTables(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t, sqlstore.WithScanPageSize(7))
		if err := storetest.TestStore(s); err != nil {
			t.Fatal(err)
		}
		if err := storetest.TestStore(s); err != nil {
			t.Fatalf("second run on the same tables: %v", err)
		}
	})
}

// TestSeenCases runs storetest's rules about Customer.Seen, which this
// store keeps in the events table.
func TestSeenCases(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		for _, c := range storetest.SeenCases() {
			t.Run(c.Name, func(t *testing.T) {
				if err := c.Check(context.Background(), s, c.Name+"-"); err != nil {
					t.Error(err)
				}
			})
		}
	})
}
