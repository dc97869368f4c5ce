package lifecycle

import (
	"context"
	"fmt"
	"iter"

	"github.com/clmkit/clm/internal/nilness"
)

// Viewer is an optional Store capability for fast, read-only passes over
// every customer (analytics over millions of customers): View is like
// [Store.Scan] but yields the stored customers themselves instead of
// copies, and may leave their Seen empty (a store that keeps the event
// keys apart from the customer, as store/sqlstore does, need not read
// them for a pass that does not use them; store.Memory's View has them).
// A customer yielded by View is valid only until the loop body
// returns; the body must not modify or keep it (Clone it to keep it) and
// must not call the store, which may hold a lock while the body runs.
type Viewer interface {
	View(ctx context.Context) iter.Seq2[*Customer, error]
}

// Browse returns a read-only pass over every customer in s: s.View(ctx)
// when s is a [Viewer], otherwise s.Scan(ctx). The same rules as for
// [Viewer] apply to the loop body: do not modify or keep the customer, and
// do not call the store from inside the loop; and, as a Viewer may leave
// it empty, do not read Seen (use Scan for a pass that needs it). A nil s yields one error,
// wrapping [ErrNoTracker]; a nil ctx one, [ErrNilContext].
func Browse(ctx context.Context, s Store) iter.Seq2[*Customer, error] {
	if nilness.Is(s) {
		return func(yield func(*Customer, error) bool) {
			yield(nil, fmt.Errorf("%w: Browse of a nil store", ErrNoTracker))
		}
	}
	if ctx == nil {
		return func(yield func(*Customer, error) bool) { yield(nil, ErrNilContext) }
	}
	if v, ok := s.(Viewer); ok {
		return v.View(ctx)
	}
	return s.Scan(ctx)
}
