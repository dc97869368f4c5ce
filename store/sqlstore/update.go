package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// Update runs fn on the stored customer (or, when none is stored, on a new
// Customer with ID id and Version 0) inside one database transaction that
// holds the customer locked, and commits the change when fn reports one,
// as [lifecycle.Updater] describes. With it, writers of one customer —
// in this process or in any other using the same tables — wait for each
// other instead of losing compare-and-swap races and retrying, and the
// [lifecycle.Tracker] needs one transaction per event instead of a read
// and a write.
//
// How the customer is held: on PostgreSQL, SELECT … FOR UPDATE on its row,
// and for a customer not yet stored a transaction-scoped advisory lock on
// its ID, so that two Updates creating one customer run one after the
// other; on SQLite, BEGIN IMMEDIATE, which takes the database's write lock
// before the read. Readers do not wait for the lock (on SQLite, in WAL
// mode, which [Connect] sets): a Get or Scan during Update sees the
// customer as it was before.
//
// fn is called exactly once, or not at all when ctx is done or the
// customer cannot be read; failures to start the transaction or to take
// the lock are retried first, as [WithRetries] says. fn's error is
// returned as is, and nothing is stored when fn returns an error or false.
// A change fn makes is checked as [Store.Put] checks its argument (an ID
// longer than [MaxIDLen], of invalid UTF-8 or with a NUL byte gives a
// [*ValueError]; an empty ID, or a version other than the previous plus
// one, an error wrapping [lifecycle.ErrInvalidCustomer]).
// An Update can lose only to a Put that creates the same customer between
// its read and its write (PostgreSQL): it then returns a
// [*store.ConflictError] and stores nothing. A PostgreSQL serialization
// failure or deadlock after fn ran is returned wrapping
// [lifecycle.ErrConflict] (the Tracker runs the Update again), with
// nothing stored. The transaction runs at READ COMMITTED whatever the
// server's default isolation. Any other failure after fn ran is
// returned, with nothing stored, except that, as for Put, a connection
// lost while the commit is in flight leaves the outcome unknown. ctx is
// honoured until the commit starts, which then runs to its end.
func (s *Store) Update(ctx context.Context, id string, fn func(c *lifecycle.Customer) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := new(lifecycle.Customer)
	if !validID(id) {
		// Nothing can be stored under this ID: fn sees a new customer,
		// and runFn's checks refuse any change it makes, as Put would.
		_, _, _, err := runFn(id, c, false, fn)
		if fnErr, ok := err.(fnError); ok {
			return fnErr.err
		}
		return err
	}
	for attempt := 0; ; attempt++ {
		var called bool
		var err error
		switch s.dialect {
		case Postgres:
			called, err = s.updatePostgres(ctx, id, c, fn)
		default:
			called, err = s.updateSQLite(ctx, id, c, fn)
		}
		var fnErr fnError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &fnErr):
			return fnErr.err
		case called:
			// A lost race (*store.ConflictError) or a refused change
			// (*ValueError, a wrong version) comes back as is.
			if errors.Is(err, lifecycle.ErrConflict) || errors.Is(err, lifecycle.ErrInvalidCustomer) {
				return err
			}
			if isTransient(err) && s.dialect == Postgres {
				return fmt.Errorf("sqlstore: update customer %q: %w: %w", id, err, lifecycle.ErrConflict)
			}
			return fmt.Errorf("sqlstore: update customer %q: %w", id, err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("sqlstore: update customer %q: %w", id, cerr)
		}
		if !isTransient(err) || attempt >= s.retries {
			return fmt.Errorf("sqlstore: update customer %q: %w", id, err)
		}
		s.log.DebugContext(ctx, "sqlstore: transient failure before update, retrying", "customer", id, "attempt", attempt+1, "err", err.Error())
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("sqlstore: update customer %q: %w", id, err)
		}
	}
}

// fnError carries the error of Update's fn through the dialect's update,
// so that Update returns it unwrapped.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// load reads the customer id into c with query; found is false when no
// row exists.
func load(ctx context.Context, q execQuerier, query, id string, c *lifecycle.Customer) (found bool, err error) {
	var (
		version int64
		raw     []byte
		digests sql.NullString
	)
	switch err := q.QueryRowContext(ctx, query, id).Scan(&version, &raw, &digests); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, decode(c, id, version, raw, digests.String)
}

// loadLocked reads the customer id into c with the getLocked query,
// which also locks its row. Under READ COMMITTED, a locking read that had
// to wait returns the locked row as it is now, but reads everything else
// (the events table) as it was when the statement began, before the
// writer it waited for committed. The query therefore also returns the
// row's version as of that moment: fresh reports that both agree, so that
// c, Seen included, is the customer as committed; when it is false, the
// row is locked but c must be read again.
func loadLocked(ctx context.Context, q execQuerier, query, id string, c *lifecycle.Customer) (found, fresh bool, err error) {
	var (
		version int64
		snap    sql.NullInt64
		raw     []byte
		digests sql.NullString
	)
	switch err := q.QueryRowContext(ctx, query, id).Scan(&version, &raw, &digests, &snap); {
	case errors.Is(err, sql.ErrNoRows):
		return false, false, nil
	case err != nil:
		return false, false, err
	}
	if !snap.Valid || snap.Int64 != version {
		return true, false, nil
	}
	return true, true, decode(c, id, version, raw, digests.String)
}

// runFn calls fn on c (made a new customer with ID id when found is
// false, no row having been read) and, when fn reports a change, checks
// it and returns the encoded data; write is false when there is nothing to store. An
// error of fn comes back as a fnError.
func runFn(id string, c *lifecycle.Customer, found bool, fn func(c *lifecycle.Customer) (bool, error)) (prev uint64, data []byte, write bool, err error) {
	if !found {
		*c = lifecycle.Customer{ID: id}
	}
	prev = c.Version
	changed, err := fn(c)
	if err != nil {
		return 0, nil, false, fnError{err}
	}
	if !changed {
		return 0, nil, false, nil
	}
	c.ID = id
	if err := store.CheckPut(c, prev); err != nil {
		return 0, nil, false, err
	}
	if err := check(c); err != nil {
		return 0, nil, false, err
	}
	data, err = encode(c)
	if err != nil {
		return 0, nil, false, err
	}
	return prev, data, true, nil
}

// updatePostgres is one attempt of Update on PostgreSQL. called reports
// whether fn ran.
func (s *Store) updatePostgres(ctx context.Context, id string, c *lifecycle.Customer, fn func(c *lifecycle.Customer) (bool, error)) (called bool, err error) {
	// READ COMMITTED, whatever the server's default: the locking read then
	// waits for a concurrent writer instead of failing the transaction.
	// Begun without ctx's cancellation, as in putPostgres: statements
	// honour ctx, the COMMIT runs to its end once sent.
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	found, fresh, err := loadLocked(ctx, tx, s.q.getLocked, id, c)
	if err != nil {
		return false, err
	}
	if !found {
		// No row to lock: serialise the Updates that may create it, then
		// look again, in case one committed while this one waited.
		key := int64(lifecycle.EventDigest(s.prefix + "customers\x00" + id))
		if _, err := tx.ExecContext(ctx, s.q.lockNew, key); err != nil {
			return false, err
		}
		if found, fresh, err = loadLocked(ctx, tx, s.q.getLocked, id, c); err != nil {
			return false, err
		}
	}
	if found && !fresh {
		// The row changed while the read waited for its lock: read it
		// all again, in a statement that starts after the lock is held.
		if found, err = load(ctx, tx, s.q.get, id, c); err != nil {
			return false, err
		}
	}
	prev, data, write, err := runFn(id, c, found, fn)
	called = true
	if err != nil || !write {
		return called, err
	}
	var n int
	if prev == 0 {
		err = tx.QueryRowContext(ctx, s.q.insert, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, digestArgs(c.Seen)).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, s.q.update, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, digestArgs(c.Seen), int64(prev)).Scan(&n)
	}
	if err != nil {
		return called, err
	}
	if n != 1 {
		tx.Rollback()
		return called, s.conflict(ctx, id, prev)
	}
	return called, commitUnlessDone(ctx, tx)
}

// updateSQLite is one attempt of Update on SQLite. called reports whether
// fn ran.
func (s *Store) updateSQLite(ctx context.Context, id string, c *lifecycle.Customer, fn func(c *lifecycle.Customer) (bool, error)) (called bool, err error) {
	select {
	case s.wlock <- struct{}{}:
		defer func() { <-s.wlock }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	// BEGIN IMMEDIATE takes the write lock before the read.
	tx, err := beginImmediate(ctx, s.db)
	if err != nil {
		return false, err
	}
	defer tx.end(ctx)
	conn := tx.conn
	found, err := load(ctx, conn, s.q.get, id, c)
	if err != nil {
		return false, err
	}
	prev, data, write, err := runFn(id, c, found, fn)
	called = true
	if err != nil || !write {
		return called, err
	}
	won, err := s.writeSQLite(ctx, conn, c, prev, data)
	if err != nil {
		return called, err
	}
	if !won {
		// Not expected: the write lock is held. Report what is stored.
		var have int64
		if err := conn.QueryRowContext(ctx, s.q.version, id).Scan(&have); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return called, err
		}
		return called, &store.ConflictError{ID: id, Want: prev, Have: uint64(have)}
	}
	return called, tx.commit(ctx)
}
