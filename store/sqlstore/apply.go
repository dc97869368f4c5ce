package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// Apply is the [lifecycle.Tracker]'s write path, as [lifecycle.Applier]
// describes. Its cost does not depend on how many events the customer
// already has: it reads the customer's row and looks up only the keys of
// the given events (each event's [lifecycle.KeyOf] key and its
// [lifecycle.LegacyKeyOf] key, so that an event recorded before schema
// version 3 is still found), and writes the customer's row and the keys of
// the events not seen.
//
// PostgreSQL: two statements, each one round trip and its own
// transaction: the read, then one statement that updates the customer if
// its version is still the one read (or inserts it, if no other writer
// did first) and inserts the new keys with it. A writer that lost the race
// stores nothing, and Apply returns a [*store.ConflictError] (wrapping
// [lifecycle.ErrConflict]); the Tracker applies again. Any number of
// processes may apply to the same customer at once: an event is applied
// at most once, because every write of a customer checks its version and
// writes its keys in the same statement.
//
// SQLite: one write transaction (BEGIN IMMEDIATE, which takes the
// database's write lock before the read), so Apply never loses a race.
//
// fn is called at most once, and not at all when ctx is done or the
// customer cannot be read; failures before fn runs are retried as
// [WithRetries] says. fn is given the customer with its whole History;
// Seen is left empty. A change fn makes is checked as [Store.Put] checks
// its argument (a [*ValueError], or an error wrapping
// [lifecycle.ErrInvalidCustomer]); nothing is stored then. A PostgreSQL
// serialization failure or deadlock after fn ran is returned wrapping
// [lifecycle.ErrConflict], with nothing stored. Readers never wait for
// Apply.
//
// As for Put, a connection lost while the write is in flight leaves its
// outcome unknown; on PostgreSQL so does a ctx cancelled while the write
// statement runs (the server may finish and commit it). The events were
// then applied once or not at all: applying them again finds them seen.
func (s *Store) Apply(ctx context.Context, id string, events []string, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := new(lifecycle.Customer)
	seen := make([]bool, len(events))
	if !validID(id) {
		// Nothing can be stored under this ID: fn sees a new customer,
		// and runFn's checks refuse any change it makes, as Put would.
		_, _, _, err := runFn(id, c, false, seen, fn)
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
			called, err = s.applyPostgres(ctx, id, events, c, seen, fn)
		default:
			called, err = s.applySQLite(ctx, id, events, c, seen, fn)
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
				return fmt.Errorf("sqlstore: apply to customer %q: %w: %w", id, err, lifecycle.ErrConflict)
			}
			return fmt.Errorf("sqlstore: apply to customer %q: %w", id, err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("sqlstore: apply to customer %q: %w", id, cerr)
		}
		if !isTransient(err) || attempt >= s.retries {
			return fmt.Errorf("sqlstore: apply to customer %q: %w", id, err)
		}
		s.log.DebugContext(ctx, "sqlstore: transient failure before apply, retrying", "customer", id, "attempt", attempt+1, "err", err.Error())
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("sqlstore: apply to customer %q: %w", id, err)
		}
	}
}

// fnError carries the error of Apply's fn through the dialect's apply,
// so that Apply returns it unwrapped.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// lookupKeys returns the keys Apply looks up for events: each event's key
// and legacy key.
func lookupKeys(events []string) []lifecycle.EventKey {
	keys := make([]lifecycle.EventKey, 0, 2*len(events))
	for _, e := range events {
		keys = append(keys, lifecycle.KeyOf(e), lifecycle.LegacyKeyOf(e))
	}
	return keys
}

// read reads the customer id with the applyRead query, whose key argument
// is keyArg, into c, and sets seen from the keys it found; found is false
// when no customer is stored (seen is then all false).
func (s *Store) read(ctx context.Context, q execQuerier, id string, events []string, keyArg any, c *lifecycle.Customer, seen []bool) (found bool, err error) {
	var (
		version int64
		data    []byte
		have    sql.NullString
	)
	clear(seen)
	var row *sql.Row
	if s.dialect == Postgres {
		row = q.QueryRowContext(ctx, s.q.applyRead, id, keyArg)
	} else {
		row = q.QueryRowContext(ctx, s.q.applyRead, keyArg, id)
	}
	switch err := row.Scan(&version, &data, &have); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	if err := decode(c, id, version, data, ""); err != nil {
		return false, err
	}
	if have.String != "" {
		var got lifecycle.EventSet
		if err := parseKeys(&got, have.String); err != nil {
			return false, fmt.Errorf("sqlstore: customer %q: %w", id, err)
		}
		for i, e := range events {
			seen[i] = got.Has(e)
		}
	}
	return true, nil
}

// runFn calls fn on c (made a new customer with ID id when found is
// false, no row having been read) and, when fn reports a change, checks
// it and returns the encoded data; write is false when there is nothing
// to store. An error of fn comes back as a fnError.
func runFn(id string, c *lifecycle.Customer, found bool, seen []bool, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) (prev uint64, data []byte, write bool, err error) {
	if !found {
		*c = lifecycle.Customer{ID: id}
	}
	prev = c.Version
	changed, err := fn(c, seen)
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

// applyPostgres is one attempt of Apply on PostgreSQL. called reports
// whether fn ran.
func (s *Store) applyPostgres(ctx context.Context, id string, events []string, c *lifecycle.Customer, seen []bool, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) (called bool, err error) {
	look := lookupKeys(events)
	arg := make([][]byte, len(look))
	for i := range look {
		arg[i] = look[i][:]
	}
	found, err := s.read(ctx, s.db, id, events, arg, c, seen)
	if err != nil {
		return false, err
	}
	prev, data, write, err := runFn(id, c, found, seen, fn)
	if err != nil || !write {
		return true, err
	}
	add := make([][]byte, 0, len(events))
	for i := range events {
		if !seen[i] {
			add = append(add, look[2*i][:])
		}
	}
	var n int
	if prev == 0 {
		err = s.db.QueryRowContext(ctx, s.q.applyInsert, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, dueArg(c.Due), add).Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, s.q.applyUpdate, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, dueArg(c.Due), add, int64(prev)).Scan(&n)
	}
	if err != nil {
		return true, err
	}
	if n != 1 {
		return true, s.conflict(ctx, id, prev)
	}
	return true, nil
}

// applySQLite is one attempt of Apply on SQLite. called reports whether
// fn ran.
func (s *Store) applySQLite(ctx context.Context, id string, events []string, c *lifecycle.Customer, seen []bool, fn func(c *lifecycle.Customer, seen []bool) (bool, error)) (called bool, err error) {
	select {
	case s.wlock <- struct{}{}:
		defer func() { <-s.wlock }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	look := lookupKeys(events)
	// BEGIN IMMEDIATE takes the write lock before the read.
	tx, err := beginImmediate(ctx, s.db)
	if err != nil {
		return false, err
	}
	defer tx.end(ctx)
	conn := tx.conn
	found, err := s.read(ctx, conn, id, events, keyJSON(func(yield func(lifecycle.EventKey) bool) {
		for _, k := range look {
			if !yield(k) {
				return
			}
		}
	}), c, seen)
	if err != nil {
		return false, err
	}
	prev, data, write, err := runFn(id, c, found, seen, fn)
	if err != nil || !write {
		return true, err
	}
	add := keyJSON(func(yield func(lifecycle.EventKey) bool) {
		for i := range events {
			if !seen[i] && !yield(look[2*i]) {
				return
			}
		}
	})
	won, err := s.writeSQLite(ctx, conn, c, prev, data, &add)
	if err != nil {
		return true, err
	}
	if !won {
		// Not expected: the write lock is held. Report what is stored.
		var have int64
		if err := conn.QueryRowContext(ctx, s.q.version, id).Scan(&have); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return true, err
		}
		return true, &store.ConflictError{ID: id, Want: prev, Have: uint64(have)}
	}
	return true, tx.commit(ctx)
}

// ListDue yields the IDs of the customers whose Due is zero or at or
// before now, as [lifecycle.DueLister] describes, in order of due time,
// paging through the due index (see [WithScanPageSize]) without holding a
// connection while the loop body runs. A customer written during the
// listing with a new due time is yielded at most once.
func (s *Store) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		at := dueNanos(now)
		if !now.Before(lifecycle.Never) {
			at = math.MaxInt64
		}
		lastDue, lastID := int64(math.MinInt64), ""
		ids := make([]string, 0, s.page)
		dues := make([]int64, 0, s.page)
		for {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			var err error
			ids, dues, err = s.duePage(ctx, at, lastDue, lastID, ids[:0], dues[:0])
			if err != nil {
				yield("", err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if len(ids) < s.page {
				return
			}
			lastDue, lastID = dues[len(dues)-1], ids[len(ids)-1]
		}
	}
}

func (s *Store) duePage(ctx context.Context, at, lastDue int64, lastID string, ids []string, dues []int64) ([]string, []int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q.due, at, lastDue, lastID, s.page)
	if err != nil {
		return ids, dues, fmt.Errorf("sqlstore: list due customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var due int64
		if err := rows.Scan(&id, &due); err != nil {
			return ids, dues, fmt.Errorf("sqlstore: list due customers: %w", err)
		}
		ids, dues = append(ids, id), append(dues, due)
	}
	if err := rows.Err(); err != nil {
		return ids, dues, fmt.Errorf("sqlstore: list due customers: %w", err)
	}
	return ids, dues, nil
}
