package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// immediateTx is a SQLite transaction begun with BEGIN IMMEDIATE, which
// takes the database's write lock before the first read; database/sql's
// BeginTx cannot ask for it (unless the DSN sets _txlock), so the
// transaction is run by hand on one connection.
//
// The driver (modernc.org/sqlite) interrupts a statement when its ctx is
// done and then reports the context's error even when the statement
// completed; and SQLite itself rolls the whole transaction back when a
// write in it is interrupted. So after an error the connection may be
// inside the transaction or not, whatever the error says; end finds out
// rather than guessing.
type immediateTx struct {
	conn      *sql.Conn
	committed bool
}

// beginImmediate takes a connection from db and begins an immediate
// transaction on it. The caller must call end, after commit or not.
func beginImmediate(ctx context.Context, db *sql.DB) (*immediateTx, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx := &immediateTx{conn: conn}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		// BEGIN may have succeeded although ctx's error is reported: end
		// rolls it back, or keeps the connection when there is nothing
		// to roll back.
		tx.end(ctx)
		return nil, err
	}
	return tx, nil
}

// commit commits the transaction. Like database/sql's Tx.Commit, it
// honours ctx only before committing: COMMIT itself runs without ctx,
// because under a ctx cancelled meanwhile the driver would report the
// context's error for a COMMIT that took effect, and the caller would
// believe that nothing was stored.
func (tx *immediateTx) commit(ctx context.Context) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if _, err := tx.conn.ExecContext(context.WithoutCancel(ctx), `COMMIT`); err != nil {
		return err
	}
	tx.committed = true
	return nil
}

// end rolls the transaction back unless it was committed, and gives the
// connection back to the pool — or closes it when it may still be inside a
// transaction: a connection with an open transaction must never go back.
// A failed ROLLBACK alone does not tell: SQLite has already rolled back a
// transaction whose write was interrupted, and then ROLLBACK fails with
// "no transaction is active". Such a connection is clean, and must be
// kept: for a "sqlite::memory:" store it is the database, and closing it
// would lose every customer.
func (tx *immediateTx) end(ctx context.Context) {
	if !tx.committed {
		ctx := context.WithoutCancel(ctx)
		if _, err := tx.conn.ExecContext(ctx, `ROLLBACK`); err != nil && !outsideTx(ctx, tx.conn) {
			tx.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	tx.conn.Close()
}

// outsideTx reports whether no transaction is open on conn: only then can
// BEGIN (deferred, which takes no lock) start one, which it rolls back.
func outsideTx(ctx context.Context, conn *sql.Conn) bool {
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return false
	}
	_, err := conn.ExecContext(ctx, `ROLLBACK`)
	return err == nil
}
