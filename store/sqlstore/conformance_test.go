package sqlstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
	"github.com/clmkit/clm/store/storetest"
)

// TestConformance runs store/storetest on each dialect, the rules of
// lifecycle.Applier (Apply*) and lifecycle.DueLister (ListDue) included.
// All rules share one set of tables that also holds other customers (the
// rules use IDs under their own prefixes; the others are due at any
// sweep), and the page is small, so that Scan and ListDue cross many page
// boundaries.
func TestConformance(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t, sqlstore.WithScanPageSize(7))
		for i := range 30 {
			c := &lifecycle.Customer{ID: "other-" + strconv.Itoa(i), Stage: "reach", Version: 1, Seen: seenOf("other-event-" + strconv.Itoa(i))}
			if err := s.Put(context.Background(), c, 0); err != nil {
				t.Fatal(err)
			}
		}
		storetest.Run(t, func(*testing.T) lifecycle.Store { return s })
	})
}

// TestReopen runs storetest's Reopen rule on each dialect: customers,
// the change feed and the cursors survive closing the Store and
// connecting again to the same SQLite file or PostgreSQL tables.
func TestReopen(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		storetest.RunReopen(t, func(t *testing.T) lifecycle.Store { return e.open(t) }, func(ctx context.Context, s lifecycle.Store) (lifecycle.Store, error) {
			if err := s.(*sqlstore.Store).Close(); err != nil {
				return nil, err
			}
			s2, err := sqlstore.Connect(ctx, e.url, sqlstore.WithTablePrefix(e.prefix))
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { s2.Close() })
			return s2, nil
		})
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
