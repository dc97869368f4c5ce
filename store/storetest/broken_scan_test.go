package storetest_test

import (
	"context"
	"iter"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// dupOutsider yields one customer that belongs to no rule (the caller's)
// twice from Scan.
type dupOutsider struct{ *store.Memory }

func (d dupOutsider) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		for c, err := range d.Memory.Scan(ctx) {
			if !yield(c, err) {
				return
			}
			if err == nil && c.ID == "outsider" && !yield(c.Clone(), nil) {
				return
			}
		}
	}
}

// TestScanDuplicateOutsideRule: TestStore runs on a store that holds the
// caller's customers too; a Scan that yields one of those twice breaks
// Scan's rule, whichever rule's scan sees it.
func TestScanDuplicateOutsideRule(t *testing.T) {
	m := store.NewMemory()
	if err := m.Put(context.Background(), &lifecycle.Customer{ID: "outsider", Stage: "reach", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	err := storetest.TestStore(dupOutsider{m})
	if err == nil || !strings.Contains(err.Error(), `Scan yielded customer "outsider" twice`) {
		t.Fatalf("TestStore = %v; want Scan's duplicate of the outsider reported", err)
	}
}
