package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

var (
	_ lifecycle.ChangeLister = (*Store)(nil)
	_ lifecycle.CursorKeeper = (*Store)(nil)
)

// Changes lists the transitions committed to the store, as
// [lifecycle.ChangeLister] describes; the feed is durable, and shared by
// every Store on the same tables. A page holds at most 10,000 changes,
// whatever limit asks for (100 for a limit below 1).
//
// Each write adds a row per new transition to the changes table, in its
// own transaction (a transactional outbox), without a position. Changes
// first numbers the rows not numbered yet, in one transaction that holds
// the feed row's lock (so readers number one at a time): a row is numbered
// only once it is committed, after every row already numbered, so a
// writer that commits late gets a later position instead of one a reader
// has already passed; a customer's rows are numbered in history order,
// since the later one commits after the earlier. Then it reads the page,
// each transition from its customer's history. Transitions stored before
// schema version 5 are not in the feed. Delete removes a customer's rows.
func (s *Store) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		limit = 100
	}
	limit = min(limit, 10_000)
	if after > math.MaxInt64 {
		return nil, nil
	}
	var out []lifecycle.Change
	err := s.inFeedTx(ctx, func(ex feedQuerier) error {
		var last int64
		if err := ex.QueryRowContext(ctx, s.q.lockFeed).Scan(&last); err != nil {
			return err
		}
		// A page's rows may all be hidden (past a history a Put
		// shortened): then read on, and number more when every row
		// numbered was read and the numbering stopped at its batch, so
		// that an empty page means there is nothing after after to list.
		number, more := true, false
		for from := int64(after); ; {
			if number {
				top, err := s.number(ctx, ex, last)
				if err != nil {
					return err
				}
				if top > last {
					if _, err := ex.ExecContext(ctx, s.q.setFeed, top); err != nil {
						return err
					}
				}
				number, more, last = false, top-last == numberBatch, top
			}
			page, next, n, err := s.changesPage(ctx, ex, from, limit)
			switch {
			case err != nil:
				return err
			case len(page) > 0:
				out = page
				return nil
			case n == limit: // a full page, all hidden: read on
			case more: // all that is numbered was read: number the next rows
				number = true
			default:
				return nil
			}
			from = next
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list changes after %d: %w", after, err)
	}
	return out, nil
}

// numberBatch is the most changes one numbering gives positions to (the
// LIMIT of the statements that number).
const numberBatch = 10_000

// feedQuerier is what the feed's statements run on: a transaction, or a
// connection inside one.
// number gives up to 10,000 changes not numbered yet positions after
// last, in the order of customer and seq, and returns the last position
// given (last if none).
func (s *Store) number(ctx context.Context, ex feedQuerier, last int64) (int64, error) {
	if s.dialect == SQLite {
		return s.numberSQLite(ctx, ex, last)
	}
	rows, err := ex.QueryContext(ctx, s.q.sequence, last)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	top := last
	for rows.Next() {
		var pos int64
		if err := rows.Scan(&pos); err != nil {
			return 0, err
		}
		top = max(top, pos)
	}
	return top, rows.Err()
}

// numberSQLite is number on SQLite: it lists the changes not numbered
// (an index scan) and numbers them one by one by primary key, each
// O(log n), in the feed's transaction.
func (s *Store) numberSQLite(ctx context.Context, ex feedQuerier, last int64) (int64, error) {
	rows, err := ex.QueryContext(ctx, s.q.unnumbered)
	if err != nil {
		return 0, err
	}
	type change struct {
		id  string
		seq int64
	}
	var todo []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.seq); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for i, c := range todo {
		if _, err := ex.ExecContext(ctx, s.q.number, last+int64(i)+1, c.id, c.seq); err != nil {
			return 0, err
		}
	}
	return last + int64(len(todo)), nil
}

type feedQuerier interface {
	execQuerier
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// changesPage reads up to limit numbered changes after after, and
// returns those it lists (not those hidden past a shortened history), the
// position of the last it read and how many it read.
func (s *Store) changesPage(ctx context.Context, ex feedQuerier, after int64, limit int) (out []lifecycle.Change, last int64, n int, err error) {
	rows, err := ex.QueryContext(ctx, s.q.changes, after, limit)
	if err != nil {
		return nil, after, 0, err
	}
	defer rows.Close()
	last = after
	hist := map[string][]lifecycle.Transition{} // each customer's, decoded once per page
	for rows.Next() {
		var (
			id       string
			seq, pos int64
			data     []byte
		)
		if err := rows.Scan(&id, &seq, &pos, &data); err != nil {
			return nil, after, 0, err
		}
		last, n = pos, n+1
		if data != nil {
			var c lifecycle.Customer
			if err := decode(&c, id, 1, data, ""); err != nil {
				return nil, after, 0, err
			}
			hist[id] = c.History
		}
		h := hist[id]
		if seq < 1 || seq > int64(len(h)) {
			// Hidden: a Put replaced the history with a shorter one.
			continue
		}
		out = append(out, lifecycle.Change{CustomerID: id, Transition: h[seq-1], Seq: uint64(seq), Pos: lifecycle.Cursor(pos)})
	}
	if err := rows.Err(); err != nil {
		return nil, after, 0, err
	}
	return out, last, n, nil
}

// sqliteWriteLock takes the Store's write lock on SQLite (a no-op on
// PostgreSQL) and returns its release.
func (s *Store) sqliteWriteLock(ctx context.Context) (func(), error) {
	if s.dialect != SQLite {
		return func() {}, nil
	}
	select {
	case s.wlock <- struct{}{}:
		return func() { <-s.wlock }, nil
	case <-ctx.Done():
		return nil, ctxErr(ctx)
	}
}

// inFeedTx runs f in a transaction: on SQLite an immediate one, under the
// Store's write lock, as every SQLite write is.
func (s *Store) inFeedTx(ctx context.Context, f func(ex feedQuerier) error) error {
	if s.dialect == SQLite {
		unlock, err := s.sqliteWriteLock(ctx)
		if err != nil {
			return err
		}
		defer unlock()
		tx, err := beginImmediate(ctx, s.db)
		if err != nil {
			return err
		}
		defer tx.end(ctx)
		if err := f(tx.conn); err != nil {
			return err
		}
		return tx.commit(ctx)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ClaimCursor keeps named cursors in the feed_cursors table, as
// [lifecycle.CursorKeeper] describes, so that dispatchers in several
// processes on one database take turns. Lease times are kept to the
// microsecond: a lease that ends less than a microsecond after now may
// count as ended. A name or owner the table cannot hold as it is (longer
// than [MaxIDLen] bytes, not valid UTF-8, or with a NUL byte) is refused,
// on both dialects, with an error naming it and wrapping
// [ErrInvalidCursor]. Like database/sql's Tx.Commit, ClaimCursor and
// AdvanceCursor honour ctx only until their write begins: the write runs
// to its end, so that a claim or a move they report failed has not been
// stored.
func (s *Store) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, false, err
	}
	if err := checkCursor("claim", name, owner); err != nil {
		return 0, false, err
	}
	if unlock, err := s.sqliteWriteLock(ctx); err != nil {
		return 0, false, err
	} else {
		defer unlock()
	}
	var pos int64
	// The write runs to its end whatever becomes of ctx (as database/sql's
	// Tx.Commit does): a driver interrupts a statement when its ctx ends
	// and may then report the context's error for a claim it stored, and
	// a dispatcher told it holds no lease would not give it up.
	err := s.db.QueryRowContext(context.WithoutCancel(ctx), s.q.claim, name, owner, leaseTime(now), leaseUntil(now, until)).Scan(&pos)
	switch {
	case err == nil:
		// (Held as stored: to the microsecond, and clamped to the years
		// leaseTime holds, as the claim compared them.)
		return lifecycle.Cursor(pos), leaseTime(until) > leaseTime(now), nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, false, fmt.Errorf("sqlstore: claim cursor %q: %w", truncate(name), err)
	}
	// Another owner holds it.
	var holder string
	var held int64
	if err := s.db.QueryRowContext(ctx, s.q.cursor, name).Scan(&pos, &holder, &held); err != nil {
		return 0, false, fmt.Errorf("sqlstore: claim cursor %q: %w", truncate(name), err)
	}
	return lifecycle.Cursor(pos), false, nil
}

// AdvanceCursor moves a named cursor, as [lifecycle.CursorKeeper]
// describes; it refuses a name or owner as ClaimCursor does. The store
// numbers its changes in a signed 64-bit column, so a cursor past
// 2^63−1, beyond any position it can list, is refused too, with an error
// wrapping [lifecycle.ErrConflict] (store.Memory, whose positions are
// 64-bit unsigned, takes it).
func (s *Store) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := checkCursor("advance", name, owner); err != nil {
		return err
	}
	if c > math.MaxInt64 {
		return fmt.Errorf("sqlstore: advance cursor %q to %d: beyond any position: %w", truncate(name), c, lifecycle.ErrConflict)
	}
	if unlock, err := s.sqliteWriteLock(ctx); err != nil {
		return err
	} else {
		defer unlock()
	}
	// The write runs to its end whatever becomes of ctx, as ClaimCursor's
	// does: a cursor stored while the driver reported the context's error
	// would make the caller's next advance, or its giving the lease up
	// with the cursor it believes stored, a move backwards, refused.
	res, err := s.db.ExecContext(context.WithoutCancel(ctx), s.q.advance, name, owner, int64(c), leaseTime(now), leaseUntil(now, until))
	if err != nil {
		return fmt.Errorf("sqlstore: advance cursor %q: %w", truncate(name), err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: advance cursor %q: %w", truncate(name), err)
	} else if n == 1 {
		return nil
	}
	var (
		pos    int64
		holder string
		held   int64
	)
	if err := s.db.QueryRowContext(ctx, s.q.cursor, name).Scan(&pos, &holder, &held); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: advance cursor %q: nobody holds it (claim it first): %w", truncate(name), lifecycle.ErrConflict)
	} else if err != nil {
		return fmt.Errorf("sqlstore: advance cursor %q: %w", truncate(name), err)
	}
	if holder == owner && leaseTime(now) < held && int64(c) < pos {
		return fmt.Errorf("sqlstore: advance cursor %q: %d is before the stored %d: %w", truncate(name), c, pos, lifecycle.ErrConflict)
	}
	if holder == owner && held == math.MinInt64 {
		return fmt.Errorf("sqlstore: advance cursor %q: %q gave the lease up: claim it again: %w", truncate(name), truncate(owner), lifecycle.ErrConflict)
	}
	if holder == owner {
		return fmt.Errorf("sqlstore: advance cursor %q: the lease of %q ended at %s, at or before now (%s): claim it again: %w", truncate(name), truncate(owner), time.UnixMicro(held).UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano), lifecycle.ErrConflict)
	}
	if held == math.MinInt64 {
		return fmt.Errorf("sqlstore: advance cursor %q: %q gave the lease up, and %q holds none: claim it first: %w", truncate(name), truncate(holder), truncate(owner), lifecycle.ErrConflict)
	}
	return fmt.Errorf("sqlstore: advance cursor %q: the lease is %q's until %s, not %q's: %w", truncate(name), truncate(holder), time.UnixMicro(held).UTC().Format(time.RFC3339Nano), truncate(owner), lifecycle.ErrConflict)
}

// checkCursor refuses a cursor name or owner the feed_cursors table could
// not hold as it is (PostgreSQL rejects NUL bytes and invalid UTF-8).
func checkCursor(op, name, owner string) error {
	if why := badText(name, MaxIDLen); why != "" {
		return fmt.Errorf("sqlstore: %s cursor: name %q %s: %w", op, truncate(name), why, ErrInvalidCursor)
	}
	if why := badText(owner, MaxIDLen); why != "" {
		return fmt.Errorf("sqlstore: %s cursor %q: owner %q %s: %w", op, name, truncate(owner), why, ErrInvalidCursor)
	}
	return nil
}
