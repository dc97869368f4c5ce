package lifecycle

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Cursor is a position in a store's change feed (see [ChangeLister]): the
// zero Cursor is before the first change, and each [Change] carries the
// Cursor just after it.
type Cursor uint64

// Change is one stored stage transition: the Seq-th entry of the
// customer's [Customer.History]. A store's change feed lists changes
// with Seq and Pos set (see [ChangeLister]); a [Hook], called in process
// after the write, gets them zero, and is best effort (a crash between
// the commit and the call loses it, as does a write that committed but
// returned an error, which the Store contract allows: the retry finds the
// events applied and stores no move). Use the feed for what must not be
// lost, such as webhooks (package lifecycle/feed).
type Change struct {
	CustomerID string
	Transition
	// Seq is the transition's position in the customer's history,
	// counting from 1 (zero in a Hook).
	Seq uint64
	// Pos is where the change sits in the feed; listing after Pos gives
	// the changes that follow it (zero in a Hook).
	Pos Cursor
	// Undeclared, in a Hook, reports a move the model's graph does not
	// declare (see [Result.Undeclared]). Stores do not know the model and
	// do not keep it: a change listed by a feed has it false, and a reader
	// that wants it computes !m.Stages().Allows(ch.From, ch.To). It is not
	// part of [Change.ID].
	Undeclared bool
}

// ID returns the identity of a change listed by a feed: "chg_" and 32 hexadecimal digits of
// the SHA-256 of the customer ID, Seq and the transition. Two different
// changes never share it (the customer ID and Seq alone tell them apart,
// as long as SHA-256 does not collide), so a receiver may deduplicate by
// it; the same change listed or delivered again has the same ID. (After a
// customer is deleted, recording the same events again gives the same
// transitions at the same positions, hence the same IDs: a receiver sees
// them as the changes it already has.) It does not depend on Pos, which
// differs between stores.
func (c Change) ID() string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(c.CustomerID)
	binary.BigEndian.PutUint64(n[:], c.Seq)
	h.Write(n[:])
	field(string(c.From))
	field(string(c.To))
	field(c.At.UTC().Format(time.RFC3339Nano))
	field(c.Cause)
	var sum [sha256.Size]byte
	return "chg_" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// ChangeLister is an optional [Store] capability: a change feed, listing
// every transition the store commits in one order that never skips.
//
// Changes returns, oldest first, up to limit changes whose Pos is after
// after (limit < 1 means 100); it returns none only when no change after
// after can be listed now (readers take an empty page for the end of the
// feed), reading past changes it does not list (see the shortened history
// below). Rules every implementation obeys:
//   - Every transition a write commits to a customer's history (through
//     [Applier.Apply] or [Store.Put]) is listed exactly once, with the
//     customer ID and its position in the history (Seq), after the write
//     committed and not before (a Seq once: see the shortened history
//     below).
//   - Never skips: once a call has returned a change at Pos p, no later
//     call lists a change at or before p that was not already listed.
//     (A feed that numbered changes as writers began them would break
//     this when writers commit out of order.)
//   - A customer's changes are listed in Seq order, each Seq at most
//     once while the customer exists. A Put may shorten a history: a Seq
//     past its new length keeps its place in the feed but is not listed
//     while the history is shorter, and a later write that fills it again
//     adds no new change; the change at that place is listed as the
//     history holds it then (a reader that passed the place before does
//     not see the new transition).
//   - Deleting a customer removes its changes from the feed: those not
//     yet listed are never listed.
//
// It honours ctx. See [Change.ID] for the identity receivers deduplicate
// by.
type ChangeLister interface {
	Changes(ctx context.Context, after Cursor, limit int) ([]Change, error)
}

// CursorKeeper is an optional [Store] capability for dispatchers that
// read a [ChangeLister] (see package lifecycle/feed): it keeps named
// cursors, each with a lease, so that of several processes reading one
// feed under one name, one at a time holds the name and moves its cursor.
// Times are the caller's clock; leases between machines need clocks that
// agree to well within a lease.
//
// Rules every implementation obeys:
//   - ClaimCursor returns the cursor stored under name (0 when none is)
//     and whether owner holds the name's lease after the call: it grants
//     the lease to owner until until when nobody holds it, when its
//     holder's lease ended at or before now, or when owner holds it (a
//     renewal). Otherwise it changes nothing and held is false.
//   - AdvanceCursor stores c under name and the lease until until, when
//     owner holds the lease at now; otherwise, or when c is before the
//     stored cursor, it stores nothing and returns an error wrapping
//     [ErrConflict]. An until at or before now (in either call) gives
//     the lease up: nobody holds it then, whatever the now of the next
//     claimant, whose clock may be a little behind.
//   - An owner is any string the store can hold; the empty owner "" is
//     an owner like any other (never "nobody"), or refused with an
//     error. (Package lifecycle/feed never uses "".)
//   - Both are atomic, safe for concurrent use (from other processes, for
//     a networked store) and honour ctx.
type CursorKeeper interface {
	ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (c Cursor, held bool, err error)
	AdvanceCursor(ctx context.Context, name, owner string, c Cursor, now, until time.Time) error
}
