package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
)

// ImportResult counts what a [Tracker.Import] did.
type ImportResult struct {
	Events     int // events read and applied or found applied
	Applied    int // events applied now
	Duplicates int // events applied before (or earlier in the input)
	Customers  int // customers whose events were written (counted once per chunk; not the referrers referral credits write)
	Moved      int // stage changes stored for the imported customers (not those referral credits cause)
}

// ImportChunk is how many events [Tracker.Import] folds and writes at once.
const ImportChunk = 100_000

// Import records a large history of events, as a backfill when a shop
// adopts the library: it reads events in chunks of [ImportChunk], folds
// each chunk's events per customer in memory and writes every customer of
// the chunk with one [Applier.Apply] (sqlstore on PostgreSQL: a read of
// one statement, two from 1,000 customers when some are stored (the rows,
// then the keys of those found), and a write of one statement, two sent
// at once from 64 customers (one per half), or COPY in two halves for
// 1,000 or more customers none of which is stored; on SQLite one
// transaction), then the referral credits the chunk
// owes, with one more Apply. Every event is applied exactly once (events
// already applied, in the store or earlier in the input, count as
// Duplicates), and the customers end with the same facts, stages, AsOf,
// Seen and referral credits as recording the events one by one with
// [Tracker.Record]. Where a customer's events name two different
// referrers (the one exception to order independence that [Tracker]
// describes), Import folds a customer's events of a chunk together, so
// within a chunk only the referrer their earliest referring event names is
// credited, as recording them in the order of their times would; across
// chunks it is as recording the chunks in input order: a credit given in
// one chunk is kept when a later chunk names an earlier referrer (so a
// re-run after a failure may credit both). Where a customer's own events and the credits they
// earn from others interleave, History and Since may differ (the credits
// of a chunk come after its events). Version differs: it counts writes,
// and Import writes a customer once per chunk, not once per event. Hooks
// are called for
// every stored move. It is safe against customers that already exist and
// against writers recording at the same time.
//
// Each event is validated as Record does. Import stops at the first
// invalid event, at the first error the iterator yields, or at the first
// chunk whose write fails, and returns the counts so far with an error
// that names the event's position in the input (from 0) or the customer
// (or ctx's error, when ctx ends: while the chunk's events are read, that
// chunk is not counted; during its write, which then fails, the counts
// include the customers of it already written, each error naming a
// customer and wrapping ctx's); the chunks before were applied, and so,
// when it stops at an invalid event or at an iterator's error, were the
// valid events of the chunk read before it (they are written first; when
// that write fails, the error joins its error and the invalid event's or
// the iterator's, so errors.Is finds both).
// Importing the same input again is
// safe: what was applied comes back as Duplicates. progress, when not
// nil, is called after each chunk with the counts so far.
func (t *Tracker) Import(ctx context.Context, events iter.Seq2[Event, error], progress func(ImportResult)) (ImportResult, error) {
	var ir ImportResult
	if err := t.readyCtx(ctx); err != nil {
		return ir, err
	}
	if events == nil {
		return ir, fmt.Errorf("%w: import: the event iterator is nil", ErrInvalidEvent)
	}
	chunk := make([]Event, 0, ImportChunk)
	pos := 0 // position in the input of chunk[0]
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := t.importChunk(ctx, chunk, &ir)
		pos += len(chunk)
		chunk = chunk[:0]
		if progress != nil {
			progress(ir)
		}
		return err
	}
	for e, err := range events {
		if err != nil {
			ferr := flush()
			return ir, errors.Join(ferr, fmt.Errorf("import: reading event %d: %w", pos, err))
		}
		if err := t.Validate(&e); err != nil {
			ferr := flush()
			return ir, errors.Join(ferr, fmt.Errorf("import: event %d: %w", pos, err))
		}
		chunk = append(chunk, e)
		if len(chunk) == ImportChunk {
			if err := flush(); err != nil {
				return ir, err
			}
		}
		if err := ctx.Err(); err != nil {
			return ir, err
		}
	}
	return ir, flush()
}

// importChunk writes the valid events of one chunk, one write per
// customer, all in one writeAll, then their referral credits.
func (t *Tracker) importChunk(ctx context.Context, events []Event, ir *ImportResult) error {
	ops, _, credited := t.recordAll(ctx, events)
	defer t.freeOps(ops)
	var errs []error
	for k, op := range ops {
		if err := cmp.Or(op.err, credited[k]); err != nil {
			errs = append(errs, fmt.Errorf("import: customer %q: %w", op.id, err))
		}
		if op.err != nil {
			continue
		}
		for _, r := range op.results {
			ir.Events++
			if r.Duplicate {
				ir.Duplicates++
			} else {
				ir.Applied++
			}
		}
		if op.wrote {
			ir.Customers++
		}
		ir.Moved += len(op.moves)
	}
	return errors.Join(errs...)
}
