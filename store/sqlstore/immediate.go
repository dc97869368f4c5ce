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
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		conn.Close()
		return nil, err
	}
	return &immediateTx{conn: conn}, nil
}

// commit commits the transaction.
func (tx *immediateTx) commit(ctx context.Context) error {
	if _, err := tx.conn.ExecContext(ctx, `COMMIT`); err != nil {
		return err
	}
	tx.committed = true
	return nil
}

// end rolls the transaction back unless it was committed, and gives the
// connection back to the pool — or closes it, when the rollback failed:
// a connection with an open transaction must never go back.
func (tx *immediateTx) end(ctx context.Context) {
	if !tx.committed {
		if _, err := tx.conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); err != nil {
			tx.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	tx.conn.Close()
}
