package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// Get returns the customer with this ID, or an error wrapping
// [lifecycle.ErrNotFound]. An ID the store could never hold (empty, longer
// than [MaxIDLen], invalid UTF-8, a NUL byte) is not found.
func (s *Store) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	c := new(lifecycle.Customer)
	if err := s.Load(ctx, id, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Load copies the customer with this ID into dst, reusing dst's slices, as
// [lifecycle.Loader] describes; it fails as [Store.Get] does. After an
// error other than not-found, dst's contents are unspecified.
func (s *Store) Load(ctx context.Context, id string, dst *lifecycle.Customer) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !validID(id) {
		return notFound(id)
	}
	var (
		version int64
		data    []byte
		digests sql.NullString
	)
	err := s.db.QueryRowContext(ctx, s.q.get, id).Scan(&version, &data, &digests)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(id)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: get customer %q: %w", id, err)
	}
	return decode(dst, id, version, data, digests.String)
}

func notFound(id string) error {
	return fmt.Errorf("sqlstore: customer %q: %w", truncate(id), lifecycle.ErrNotFound)
}

// Put stores c if the stored version is prev (0: the customer must not
// exist yet) and c.Version is prev+1, as [lifecycle.Store] requires, in one
// transaction that also makes the events table hold exactly c.Seen's keys
// (so a Put costs time in proportion to the customer's Seen; the
// [lifecycle.Tracker] writes through [Store.Apply] instead).
//
// Errors: a [*store.ConflictError] (wrapping [lifecycle.ErrConflict]) when
// the stored version is not prev (an error wrapping ErrConflict, if
// reading the stored version then fails too); an error wrapping
// [lifecycle.ErrInvalidCustomer] for an empty ID or a wrong version, or a
// [*ValueError] for a value the database could not hold; the context's
// error; or the database's error. Transient failures are retried as
// [WithRetries] says; when PostgreSQL still reports a serialization failure
// or deadlock after the last retry, the error also wraps
// [lifecycle.ErrConflict], so that callers re-read and try again.
//
// With SQLite, a Put that waits for another process's write lock notices
// a cancelled ctx only when SQLite's busy timeout (10 s with [Connect])
// expires.
//
// After an error nothing was written, with one exception no client of a
// networked database can rule out: when the connection fails while the
// commit is in flight, the write may have been committed. Re-reading the
// customer tells; the [lifecycle.Tracker] does this on its next attempt,
// and finds the event already in Seen.
func (s *Store) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.CheckPut(c, prev); err != nil {
		return err
	}
	if err := check(c); err != nil {
		return err
	}
	data, err := encode(c)
	if err != nil {
		return err
	}
	s.rows.drop(c.ID)
	for attempt := 0; ; attempt++ {
		var won bool
		switch s.dialect {
		case Postgres:
			won, err = s.putPostgres(ctx, c, prev, data)
		default:
			won, err = s.putSQLite(ctx, c, prev, data)
		}
		if err == nil {
			if won {
				return nil
			}
			return s.conflict(ctx, c.ID, prev)
		}
		if cerr := ctxErr(ctx); cerr != nil {
			return fmt.Errorf("sqlstore: put customer %q: %w", c.ID, cerr)
		}
		if !isTransient(err) {
			return fmt.Errorf("sqlstore: put customer %q: %w", c.ID, err)
		}
		if attempt >= s.retries {
			if s.dialect == Postgres {
				return fmt.Errorf("sqlstore: put customer %q: %d attempts failed, the last with %w: %w", c.ID, attempt+1, err, lifecycle.ErrConflict)
			}
			return fmt.Errorf("sqlstore: put customer %q: %d attempts failed, the last with %w", c.ID, attempt+1, err)
		}
		s.log.DebugContext(ctx, "sqlstore: transient failure, retrying", "customer", c.ID, "attempt", attempt+1, "err", err.Error())
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("sqlstore: put customer %q: %w", c.ID, err)
		}
	}
}

func backoff(attempt int) time.Duration {
	return time.Millisecond << min(attempt, 6)
}

func (s *Store) putPostgres(ctx context.Context, c *lifecycle.Customer, prev uint64, data []byte) (bool, error) {
	// The statement runs in an explicit transaction although it is atomic
	// on its own: when ctx is cancelled, pgx closes the connection but the
	// server finishes a statement that waits for a lock, and would
	// autocommit it after Put has returned the error. In a transaction
	// that nobody commits, the server rolls it back instead. The
	// transaction itself is begun without ctx's cancellation (statements
	// still honour ctx): pgx commits under the transaction's context, and
	// a cancel landing while the COMMIT is in flight would report a
	// failure for a write that may have committed. ctx is checked before
	// the COMMIT instead (commitUnlessDone).
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if prev == 0 {
		err = tx.QueryRowContext(ctx, s.q.insert, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, dueArg(c.Due), keyArgs(&c.Seen), int64(len(c.History))).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, s.q.update, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, dueArg(c.Due), keyArgs(&c.Seen), int64(prev), int64(len(c.History))).Scan(&n)
	}
	if err != nil || n != 1 {
		return false, err
	}
	return true, commitUnlessDone(ctx, tx)
}

// commitUnlessDone commits tx, begun without ctx's cancellation, unless ctx
// is done: then it returns ctx's error and the deferred rollback undoes
// the transaction. Once the COMMIT is sent it runs to its end, so an error
// means nothing was committed, unless the connection itself fails.
func commitUnlessDone(ctx context.Context, tx *sql.Tx) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) putSQLite(ctx context.Context, c *lifecycle.Customer, prev uint64, data []byte) (won bool, err error) {
	select {
	case s.wlock <- struct{}{}:
		defer func() { <-s.wlock }()
	case <-ctx.Done():
		return false, ctxErr(ctx)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if !won || err != nil {
			tx.Rollback()
		}
	}()
	// Change rows only for the transitions past the stored history, as
	// Apply adds them: a history stored before the change feed has none.
	old := 0
	if prev > 0 {
		if err := tx.QueryRowContext(ctx, s.q.histLen, c.ID, int64(prev)).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	if won, err := s.writeSQLite(ctx, tx, c, prev, data, nil, old); !won || err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

// writeSQLite writes c, whose encoded data column is data, if the stored
// version is prev, in the transaction that ex runs in, and then, when
// keys is not nil, adds keys (a JSON array) to the events table, or, when
// it is nil, makes the table agree with c.Seen; it adds the change rows
// of c's transitions past the first old (those there stay); won is false
// when the stored version is not prev.
func (s *Store) writeSQLite(ctx context.Context, ex execQuerier, c *lifecycle.Customer, prev uint64, data []byte, keys *string, old int) (won bool, err error) {
	asOf := c.AsOf.UTC().Format(sqliteTime)
	var res sql.Result
	if prev == 0 {
		res, err = ex.ExecContext(ctx, s.q.insert, c.ID, string(c.Stage), int64(c.Version), asOf, data, dueArg(c.Due))
	} else {
		res, err = ex.ExecContext(ctx, s.q.update, string(c.Stage), int64(c.Version), asOf, data, dueArg(c.Due), c.ID, int64(prev))
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n != 1 {
		return false, err
	}
	if old < len(c.History) {
		if _, err := ex.ExecContext(ctx, s.q.addChanges, c.ID, seqJSON(old+1, len(c.History))); err != nil {
			return false, err
		}
	}
	if keys != nil {
		if *keys != "[]" {
			if _, err := ex.ExecContext(ctx, s.q.addKeys, c.ID, *keys); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	all := keyJSON(c.Seen.All())
	if _, err := ex.ExecContext(ctx, s.q.insKeys, c.ID, all); err != nil {
		return false, err
	}
	if _, err := ex.ExecContext(ctx, s.q.delKeys, c.ID, all); err != nil {
		return false, err
	}
	return true, nil
}

// conflict builds the error for a lost compare-and-swap.
func (s *Store) conflict(ctx context.Context, id string, prev uint64) error {
	var have int64
	err := s.db.QueryRowContext(ctx, s.q.version, id).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		have = 0
	case err != nil:
		return fmt.Errorf("sqlstore: customer %q: stored version is not %d: %w", id, prev, lifecycle.ErrConflict)
	}
	return &store.ConflictError{ID: id, Want: prev, Have: uint64(have)}
}

// isTransient reports a failure after which running the same transaction
// again may succeed.
func isTransient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

// Scan yields every stored customer, in ascending order of ID (byte-wise;
// [lifecycle.Store] allows any order). It reads one page of customers per query
// (see [WithScanPageSize]) and continues after the last ID of the previous
// page, so memory stays bounded by one page however many customers there
// are, and no connection is held while the loop body runs: the body may
// call Put. A customer written during the scan is yielded at most once,
// in the version its page saw (one created with an ID below the scan's
// position is not yielded).
func (s *Store) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return s.pages(ctx, s.q.scan)
}

// View is [Store.Scan] without Seen: it makes Store a [lifecycle.Viewer],
// for the read-only passes of [lifecycle.Browse] (funnel, clv, segments,
// the flywheel's measures), which read no event keys. Scan reads every
// key of every customer, a cost that grows with the events the customers
// have had; View reads the customers' rows only. Each customer yielded is
// the caller's, as Scan's are.
func (s *Store) View(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return s.pages(ctx, s.q.view)
}

// pages is Scan with the statement query, scan or view.
func (s *Store) pages(ctx context.Context, query string) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if err := ctxErr(ctx); err != nil {
			yield(nil, err)
			return
		}
		after := ""
		page := make([]*lifecycle.Customer, 0, s.page)
		for {
			var err error
			page, err = s.scanPage(ctx, query, after, page[:0])
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page) == 0 {
				return
			}
			full, last := len(page) == s.page, page[len(page)-1].ID
			for i, c := range page {
				page[i] = nil // the caller's reference is the only one
				if !yield(c, nil) {
					return
				}
			}
			if !full {
				return
			}
			after = last
		}
	}
}

func (s *Store) scanPage(ctx context.Context, query, after string, page []*lifecycle.Customer) ([]*lifecycle.Customer, error) {
	if err := ctxErr(ctx); err != nil {
		return page, err
	}
	rows, err := s.db.QueryContext(ctx, query, after, s.page)
	if err != nil {
		return page, fmt.Errorf("sqlstore: scan after %q: %w", after, err)
	}
	defer rows.Close()
	var (
		id      string
		version int64
		data    []byte
		digests sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&id, &version, &data, &digests); err != nil {
			return page, fmt.Errorf("sqlstore: scan after %q: %w", after, err)
		}
		c := new(lifecycle.Customer)
		if err := decode(c, id, version, data, digests.String); err != nil {
			return page, err
		}
		page = append(page, c)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("sqlstore: scan after %q: %w", after, err)
	}
	return page, nil
}

// Delete removes a customer and the record of their applied events, in one
// transaction; deleting a missing customer is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !validID(id) {
		return nil
	}
	s.rows.drop(id)
	if s.wlock != nil {
		select {
		case s.wlock <- struct{}{}:
			defer func() { <-s.wlock }()
		case <-ctx.Done():
			return ctxErr(ctx)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: delete customer %q: %w", id, err)
	}
	defer tx.Rollback()
	for _, q := range s.q.del {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("sqlstore: delete customer %q: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: delete customer %q: %w", id, err)
	}
	return nil
}

// Count returns the number of stored customer records, pending referrers
// ([lifecycle.Customer.PendingReferrer]) included, which [Store.CountByStage]
// leaves out.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, s.q.countAll).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count customers: %w", err)
	}
	return n, nil
}

// CountByStage returns how many customers are in each stage; stages with
// no customer are absent from the map. Pending referrers
// ([lifecycle.Customer.PendingReferrer], stored with an empty stage) are
// not customers yet and are not counted. (The count reads the stage
// column alone: a pending referrer that an earlier version of the library
// stored with a stage is counted in it until its first own event.)
func (s *Store) CountByStage(ctx context.Context) (map[stage.ID]int64, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.count)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: count by stage: %w", err)
	}
	defer rows.Close()
	out := make(map[stage.ID]int64)
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: count by stage: %w", err)
		}
		out[stage.ID(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: count by stage: %w", err)
	}
	return out, nil
}

// ListByStage yields the IDs of the customers in stage st, in ascending
// order, paging through the stage index as [Store.Scan] pages through the
// customers. ListByStage("") yields the pending referrers
// ([lifecycle.Customer.PendingReferrer], stored with an empty stage),
// which [Store.CountByStage] does not count. A failure is yielded as a non-nil error, after which it stops.
// A stage no stored customer can have (one the store refuses to write: a
// NUL byte, invalid UTF-8, longer than [MaxStageLen]) yields nothing, as
// [Store.Get] finds no customer with an ID it could never hold.
func (s *Store) ListByStage(ctx context.Context, st stage.ID) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := ctxErr(ctx); err != nil {
			yield("", err)
			return
		}
		if badText(string(st), MaxStageLen) != "" {
			return
		}
		after := ""
		ids := make([]string, 0, s.page)
		for {
			var err error
			ids, err = s.listPage(ctx, st, after, ids[:0])
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
			after = ids[len(ids)-1]
		}
	}
}

func (s *Store) listPage(ctx context.Context, st stage.ID, after string, ids []string) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return ids, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.listStage, string(st), after, s.page)
	if err != nil {
		return ids, fmt.Errorf("sqlstore: list stage %q: %w", st, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return ids, fmt.Errorf("sqlstore: list stage %q: %w", st, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return ids, fmt.Errorf("sqlstore: list stage %q: %w", st, err)
	}
	return ids, nil
}
