package sqlstore_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestSQLSubMicrosecondLeaseTwoHolders: the store keeps lease times to
// the microsecond, and ClaimCursor answers held as it compares them: a
// lease of less than a microsecond (its end in the same microsecond as
// now) is not held, so another owner's claim at the same now does not
// make two owners that think they hold the name. (ClaimCursor answered
// until.After(now).) store.Memory refuses the second claim.
func TestSQLSubMicrosecondLeaseTwoHolders(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) // on a microsecond
	until := t0.Add(500 * time.Nanosecond)
	check := func(t *testing.T, k lifecycle.CursorKeeper) {
		_, heldA, err := k.ClaimCursor(ctx, "n", "a", t0, until)
		if err != nil {
			t.Fatal(err)
		}
		_, heldB, err := k.ClaimCursor(ctx, "n", "b", t0, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if heldA && heldB {
			t.Errorf("ClaimCursor(a, now, now+500ns) and then ClaimCursor(b, now, now+1m) both returned held = true")
		}
	}
	t.Run("memory", func(t *testing.T) { check(t, store.NewMemory()) })
	forEach(t, func(t *testing.T, d sqlstore.Dialect) { check(t, newEnv(t, d).open(t)) })
}

// TestSQLFarFutureLeaseTwoHolders: leaseTime saturates times past about
// the year 294,000 to MaxInt64, where every lease time compares equal: a
// claim there is never held, so no two owners are told they hold the
// name at once. store.Memory refuses the second claim.
func TestSQLFarFutureLeaseTwoHolders(t *testing.T) {
	ctx := context.Background()
	far := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(t *testing.T, k lifecycle.CursorKeeper) {
		_, heldO, err := k.ClaimCursor(ctx, "far", "o", far, far.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		_, heldP, err := k.ClaimCursor(ctx, "far", "p", far.Add(time.Minute), far.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if heldO && heldP {
			t.Errorf("o claimed for an hour from %v, and p's claim a minute later was granted too: both told they hold the name", far)
		}
	}
	t.Run("memory", func(t *testing.T) { check(t, store.NewMemory()) })
	forEach(t, func(t *testing.T, d sqlstore.Dialect) { check(t, newEnv(t, d).open(t)) })
}

// TestAdvanceErrorAfterOwnLeaseEnded: an owner whose own lease has ended
// is told that it ended (it was told "lease held by "o" ..., not by
// "o"", which contradicts itself).
func TestAdvanceErrorAfterOwnLeaseEnded(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	check := func(t *testing.T, k lifecycle.CursorKeeper) {
		if _, held, err := k.ClaimCursor(ctx, "h", "o", t0, t0.Add(time.Minute)); err != nil || !held {
			t.Fatalf("ClaimCursor = %v, %v", held, err)
		}
		err := k.AdvanceCursor(ctx, "h", "o", 1, t0.Add(2*time.Minute), t0.Add(3*time.Minute))
		if !errors.Is(err, lifecycle.ErrConflict) {
			t.Fatalf("AdvanceCursor after the lease ended = %v; want ErrConflict", err)
		}
		if msg := err.Error(); strings.Contains(msg, `not by "o"`) || strings.Contains(msg, `not "o"'s`) {
			t.Errorf("AdvanceCursor by o after o's own lease ended: %q", msg)
		}
	}
	t.Run("memory", func(t *testing.T) { check(t, store.NewMemory()) })
	forEach(t, func(t *testing.T, d sqlstore.Dialect) { check(t, newEnv(t, d).open(t)) })
}

// TestHostileFeedInputs: zero, negative and huge limits,
// huge positions, a cancelled context, empty name and owner, the zero
// time: no panic, no error where none is due.
func TestHostileFeedInputs(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	check := func(t *testing.T, s lifecycle.Store) {
		ctx := context.Background()
		f := s.(lifecycle.ChangeLister)
		k := s.(lifecycle.CursorKeeper)
		for _, lim := range []int{0, -1, math.MinInt, math.MaxInt} {
			if _, err := f.Changes(ctx, 0, lim); err != nil {
				t.Errorf("Changes(0, %d) = %v", lim, err)
			}
		}
		for _, after := range []lifecycle.Cursor{math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
			if page, err := f.Changes(ctx, after, 10); err != nil || len(page) != 0 {
				t.Errorf("Changes(%d) = %v, %v", after, page, err)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.Changes(cctx, 0, 10); !errors.Is(err, context.Canceled) {
			t.Errorf("Changes(cancelled) = %v", err)
		}
		if _, held, err := k.ClaimCursor(ctx, "", "", t0, t0.Add(time.Minute)); err != nil || !held {
			t.Errorf("ClaimCursor(\"\", \"\") = %v, %v", held, err)
		}
		if _, held, err := k.ClaimCursor(ctx, "z", "o", time.Time{}, time.Time{}.Add(time.Hour)); err != nil || !held {
			t.Errorf("ClaimCursor at the zero time = %v, %v", held, err)
		}
		if err := k.AdvanceCursor(ctx, "z", "o", 3, time.Time{}, time.Time{}.Add(time.Hour)); err != nil {
			t.Errorf("AdvanceCursor at the zero time = %v", err)
		}
		if err := k.AdvanceCursor(ctx, "z", "o", 2, time.Time{}, time.Time{}.Add(time.Hour)); !errors.Is(err, lifecycle.ErrConflict) {
			t.Errorf("AdvanceCursor backwards = %v", err)
		}
	}
	t.Run("memory", func(t *testing.T) { check(t, store.NewMemory()) })
	forEach(t, func(t *testing.T, d sqlstore.Dialect) { check(t, newEnv(t, d).open(t)) })
}

// endingCtx is a context that ends as the write begins: its Err is nil
// the first time it is asked (the store's check before the write), and
// its Done channel is nil the first time it is asked (the SQLite store's
// wait for its write lock) and closed after, so that a driver watching
// it interrupts the statement at once.
type endingCtx struct {
	context.Context
	errs, dones atomic.Int64
	done        chan struct{}
}

func newEndingCtx() *endingCtx {
	c := &endingCtx{Context: context.Background(), done: make(chan struct{})}
	close(c.done)
	return c
}

func (c *endingCtx) Done() <-chan struct{} {
	if c.dones.Add(1) == 1 {
		return nil
	}
	return c.done
}

func (c *endingCtx) Err() error {
	if c.errs.Add(1) == 1 {
		return nil
	}
	return context.Canceled
}

// TestCursorWriteUnderEndingContext: a claim or an advance whose ctx ends
// as its write begins is stored and reported so (ctx counts only until
// the write begins, as for database/sql's Tx.Commit): the
// driver reported the context's error for a claim it stored, and a
// dispatcher told it held no lease returned from Run without giving the
// lease up, so its successor waited the whole lease (found by an audit on
// SQLite, 25–46 cancelled Runs in 3,000).
func TestCursorWriteUnderEndingContext(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		_, held, err := s.ClaimCursor(newEndingCtx(), "n", "a", now, now.Add(time.Minute))
		_, heldB, errB := s.ClaimCursor(ctx, "n", "b", now, now.Add(time.Minute))
		if errB != nil {
			t.Fatal(errB)
		}
		// Past the check before the write, ctx no longer counts: the
		// write runs to its end and is reported as it went.
		if err != nil || !held || heldB {
			t.Errorf("claim under a ctx ending as the write begins = held %v, %v (another owner's claim then held %v); want the claim stored and reported held", held, err, heldB)
		}
		if _, held, err := s.ClaimCursor(ctx, "m", "a", now, now.Add(time.Minute)); err != nil || !held {
			t.Fatal(held, err)
		}
		err = s.AdvanceCursor(newEndingCtx(), "m", "a", 7, now, now.Add(time.Minute))
		pos, _, errC := s.ClaimCursor(ctx, "m", "a", now, now.Add(time.Minute))
		if errC != nil {
			t.Fatal(errC)
		}
		if err != nil || pos != 7 {
			t.Errorf("advance to 7 under a ctx ending as the write begins = %v, and the cursor is %d; want it stored and reported done", err, pos)
		}
	})
}
