package lifecycle

import (
	"context"
	"iter"
	"time"
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
//     The loop body may call the store, writes included (a sweep without
//     [DueLister] writes each page of due customers from inside it), so
//     Scan must not hold, while it yields, a lock its writes take.
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

// Applier is the Store capability through which the [Tracker] writes:
// the store itself checks which of an event's (or a batch's) IDs it has
// applied to each customer before, and applies the Tracker's fold under
// its own lock or transaction, keeping the applied IDs and the history in
// a layout of its own. A store with it does the work of recording an
// event in time that does not grow with the number of events the customer
// has had (a referral credit's write grows with the referrer's credits,
// which [Facts].Referrals holds whole), and may
// write many customers at once (one statement or transaction for a whole
// [Tracker.RecordBatch], [Tracker.Import] chunk or [Tracker.Sweep] page); a
// Store without it works the same through the Tracker's one fallback
// (load, fold, compare-and-swap Put, with Seen and History copied whole),
// only slower. store/storetest checks the rules below for any store that
// has it.
//
// Apply applies every write of ws and sets each write's Err to its
// outcome. Rules every implementation obeys, for each write w:
//   - The customer IDs of ws are distinct. w.Events holds distinct event
//     IDs (the Tracker never passes a [ReferralConverted] credit's ID); it
//     may be empty (a sweep, a referral credit): then nothing is checked or
//     recorded but the customer.
//   - When ctx is done before Apply calls w.Fn, it sets w.Err to the
//     context's error without calling it. Otherwise it calls w.Fn with a
//     working copy of the stored customer (or, when none is
//     stored, a new Customer whose ID is w.ID and whose other fields are
//     zero or empty, Version 0), in which every field but History and Seen
//     is as stored; History is empty or holds the stored history (the
//     store chooses), Seen is unspecified. seen[i] reports whether
//     w.Events[i] was applied to the customer before, with one latitude:
//     a store that checks at commit (below) may call w.Fn without having
//     looked the events up, with seen all false (a guess, as on a
//     customer it holds from its own last write), provided that when that
//     call reports no change it looks the events up and calls w.Fn again
//     (so the last call has the true seen), and when it reports a change
//     its commit also checks that none of w.Events was applied and, when
//     one was, refuses the write as a lost race and looks the events up
//     in its next Apply of that customer (else the Tracker's retries
//     would be refused for ever). An error w.Fn returns becomes w.Err as is.
//     Apply may call w.Fn more than once (for example on a new Customer
//     first, guessing that none is stored, then on the stored one), each
//     time with a fresh working copy and seen; its last call is the one
//     described above, and only what that call returned and did to its
//     copy counts. w.Fn must allow for that: the Tracker's fold starts
//     afresh on every call.
//   - w.Fn reports whether it changed c. When it returns true and a nil
//     error, it has set c.Version to the previous version plus one, and
//     the store commits atomically, with respect to every other method:
//     every field of c but ID, History and Seen (the customer written
//     is w.ID's, whatever w.Fn did to c.ID); the transitions w.Fn appended
//     to c.History (those past its length when w.Fn was called), added to
//     the end of the stored history; and every event of w.Events not
//     seen, which from then on counts as seen. When w.Fn returns false or
//     an error, nothing is stored for w, whatever w.Fn did to c. w.Err is
//     nil when the change (or no change) took effect.
//   - Against concurrent writers of the same customer, Apply either holds
//     the customer exclusively while w.Fn runs, or checks at commit that
//     the customer is still at the version w.Fn read; a write that loses
//     such a race stores nothing and gets an Err wrapping [ErrConflict]
//     (the Tracker applies it again, with a new call of its fn). No event
//     is ever applied twice: seen must be true for an event committed by
//     another writer before w.Fn's changes are committed.
//   - Any other failure sets w.Err, with nothing stored for w, except
//     where a networked store cannot know whether a commit in flight took
//     effect (as for [Store.Put]): a retry then finds the events seen.
//     Writes may succeed or fail separately, or together.
//   - Readers (Get, Load, Scan) see a customer as it was before an Apply
//     or as it is after, never in between. A fn must not call the store,
//     and must not keep c, or any slice of it, after it returns.
type Applier interface {
	Apply(ctx context.Context, ws []Write)
}

// Write is one customer's part of an [Applier.Apply]: the events to check
// and record, the Tracker's fold, and the outcome the store sets. Fn must
// not be nil.
type Write struct {
	ID     string   // the customer
	Events []string // distinct IDs of the events to check and record; may be empty
	// Fn is the Tracker's fold (see [Applier]).
	Fn func(c *Customer, seen []bool) (bool, error)
	// Err is the write's outcome, set by Apply: nil when it took effect.
	Err error
}

// DueLister is an optional Store capability for [Tracker.Sweep]: ListDue
// yields the ID of every customer whose [Customer.Due] is zero or at or
// before now (one whose Due is [Never] may be left out), from an index, so that a sweep reads only the customers
// who are due instead of every stored one. It may also yield a customer
// who is not due yet, where its index rounds due times down by less than
// a second (to whole seconds, say) or holds a due time after the last
// Unix nanosecond an int64 holds (in 2262) as that nanosecond: the sweep
// reads that customer and finds nothing to do, which costs a read;
// leaving out a customer who is due would miss a move (one due in 2300,
// say, at a now in 2301). store/storetest accepts these two and no other
// early listing. A customer written during the
// listing may be yielded or not. A failure is yielded as a non-nil error,
// after which ListDue stops. It honours ctx, and the loop body may call
// the store (to write the customer yielded, in particular).
//
// A Store without it is swept by [Store.Scan], skipping the customers who
// are not due.
type DueLister interface {
	ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error]
}
