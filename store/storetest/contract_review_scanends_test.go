package storetest_test

import (
	"context"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// skipEnd is a store kept in ID order whose Scan leaves out its first
// (or, with last set, its last) customer: an off-by-one page cursor.
type skipEnd struct {
	*store.Memory
	last bool
}

func (s skipEnd) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		var all []*lifecycle.Customer
		for c, err := range s.Memory.Scan(ctx) {
			if err != nil {
				yield(nil, err)
				return
			}
			all = append(all, c)
		}
		slices.SortFunc(all, func(a, b *lifecycle.Customer) int { return strings.Compare(a.ID, b.ID) })
		if len(all) > 1 {
			if s.last {
				all = all[:len(all)-1]
			} else {
				all = all[1:]
			}
		}
		for _, c := range all {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// A review found that TestStore, which runs every rule on one store,
// passed a fresh store whose Scan never yields its first customer (the
// customer of an earlier rule, which no Scan rule looked at), while Run
// failed it. The store package doc says TestStore returns every failure.
func TestContractReviewTestStoreScanEnds(t *testing.T) {
	for _, last := range []bool{false, true} {
		err := storetest.TestStore(skipEnd{Memory: store.NewMemory(), last: last})
		if err == nil || !strings.Contains(err.Error(), "storetest: Scan (on the suite's") {
			t.Errorf("last=%v: TestStore = %v; want the Scan rule on the suite's first or last IDs failed", last, err)
		}
	}
}
