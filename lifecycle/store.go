package lifecycle

import (
	"context"
	"iter"
)

// Store persists customers. Callers may implement it for their own
// database; store/storetest checks an implementation against these rules,
// and store.Memory is the zero-set-up default.
//
// Rules every implementation obeys:
//   - Get returns a copy the caller may modify, or an error wrapping
//     [ErrNotFound] when no customer has that ID.
//   - Put writes c if and only if the stored version equals prev (prev 0
//     means the customer must not exist yet) and c.Version is prev+1;
//     otherwise it writes nothing and returns an error wrapping
//     [ErrConflict] (version mismatch) or [ErrInvalidCustomer] (empty ID,
//     c.Version != prev+1). A Put is atomic: after an error the stored
//     customer is exactly as before — except when a networked store
//     cannot know whether its commit happened (the connection died while
//     the commit was in flight); it then returns an error and the write
//     may have committed. The Tracker is safe either way: the retry finds
//     the event in Seen and reports it as a duplicate. Put does not keep
//     c: the caller may reuse it.
//   - Scan yields a copy of every customer stored before Scan was called
//     and not deleted since, each exactly once, in any order; a customer
//     written during the scan is yielded at most once, in either version.
//     A failure is yielded as a non-nil error, after which Scan stops.
//   - Every method is safe for concurrent use and honours ctx.
type Store interface {
	Get(ctx context.Context, id string) (*Customer, error)
	Put(ctx context.Context, c *Customer, prev uint64) error
	Scan(ctx context.Context) iter.Seq2[*Customer, error]
}

// Loader is an optional Store capability: Load copies the customer into
// dst, reusing dst's memory (see [Customer.CopyTo]), so that the Tracker's
// hot path allocates nothing. It follows the same rules as Get.
type Loader interface {
	Load(ctx context.Context, id string, dst *Customer) error
}

// Updater is an optional Store capability: a read-modify-write of one
// customer done inside the store, under its own lock, so that writers never
// lose a compare-and-swap race and retry. When a store has it (and is not
// an [EventUpdater]), the Tracker records events through Update instead of
// Get (or Load) and Put, and it writes batches, referral credits and
// sweeps through it; a Store without it works the same, only slower.
//
// Rules every implementation obeys:
//   - Update calls fn exactly once, with the stored customer (or a copy of
//     it) or, when none is stored, with a new Customer whose ID is id and
//     whose other fields are zero or empty (Version 0). It returns fn's
//     error, or the context's error (without calling fn) when ctx is done.
//   - While fn runs, Update holds the customer exclusively against other
//     writers: no other Update of the same customer runs meanwhile, and a
//     Put of it waits (or fails: a store may document a Put racing an
//     Update that creates the customer as a conflict for one of the two).
//     Readers (Get, Load, Scan) see the customer as it was before the
//     Update or as it is after, never in between; an in-memory store may
//     simply make them wait. fn must not call the store.
//   - fn reports whether it changed c. When it returns true and a nil
//     error, it has set c.Version to the previous version plus one and the
//     change is committed (a new customer is inserted), atomically with
//     respect to every other method. When it returns false or an error,
//     fn must have left c exactly as it found it, and nothing is stored.
//   - fn must not keep c, or any slice of it, after it returns.
type Updater interface {
	Update(ctx context.Context, id string, fn func(c *Customer) (bool, error)) error
}

// EventUpdater is an optional Store capability for the Tracker's hot path:
// a read-modify-write of one customer for one event, in which the store
// keeps the customer's idempotency set ([Customer.Seen]) and history
// itself, so that neither has to be copied out and back in for every
// event. When a store has it, the Tracker records single events (other
// than [ReferralConverted] credits) through UpdateEvent.
//
// Rules every implementation obeys:
//   - UpdateEvent calls fn exactly once, or returns the context's error
//     without calling it when ctx is done. It returns fn's error.
//   - fn receives a working copy of the stored customer (or, when none is
//     stored, a new Customer whose ID is id and whose other fields are
//     zero or empty) in which every field but History and Seen is as stored;
//     History and Seen are empty. seen reports whether digest is in the
//     stored Seen.
//   - While fn runs, UpdateEvent holds the customer exclusively, as
//     [Updater.Update] does; fn must not call the store.
//   - When fn returns true and a nil error, it has set c.Version to the
//     previous version plus one, and the store commits, atomically: every
//     field of c but History and Seen, the transitions fn appended to
//     c.History (added to the end of the stored history), and digest
//     (added to Seen unless seen). When fn returns false or an error,
//     nothing is stored, whatever fn did to c.
//   - fn must not keep c, or any slice of it, after it returns.
type EventUpdater interface {
	UpdateEvent(ctx context.Context, id string, digest uint64, fn func(c *Customer, seen bool) (bool, error)) error
}
