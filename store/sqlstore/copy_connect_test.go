package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// goid returns the calling goroutine's number, from its stack's header.
func goid() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	return string(bytes.Fields(b)[1])
}

// armedConnector fails the first Connect made by goroutine g once armed.
type armedConnector struct {
	wrapConnector
	g     string
	armed atomic.Bool
}

func (a *armedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if goid() == a.g && a.armed.CompareAndSwap(true, false) {
		return nil, errors.New("connect refused (test)")
	}
	return a.wrapConnector.Connect(ctx)
}

func (a *armedConnector) Driver() driver.Driver { return a.wrapConnector.Driver() }

// TestApplyCopyHalfConnectFails: through a database/sql driver wrapped
// around pgx's (where an Apply of new customers cannot COPY and takes the
// write statements), an Apply of 1,200 new customers whose first half
// fails to get a connection, while the second half learns that the
// connections are not pgx's, goes on by the write statements: no write
// fails with the store's internal fall-back error.
func TestApplyCopyHalfConnectFails(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	cfg, err := pgx.ParseConfig(e.url)
	require.NoError(t, err)
	ac := &armedConnector{wrapConnector: wrapConnector{stdlib.GetConnector(*cfg)}, g: goid()}
	db := sql.OpenDB(ac)
	db.SetMaxIdleConns(0) // every Conn connects anew
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Postgres, sqlstore.WithTablePrefix(e.prefix))
	require.NoError(t, err)
	ids := customers(1200)
	ws := make([]lifecycle.Write, len(ids))
	reach := moveTo("reach")
	for i, id := range ids {
		ws[i] = lifecycle.Write{ID: id, Events: []string{"e1"}, Fn: reach}
	}
	ws[len(ws)-1].Fn = func(c *lifecycle.Customer, seen []bool) (bool, error) {
		ac.armed.Store(true) // after the read: the next connect of this goroutine is half 0's
		return reach(c, seen)
	}
	s.Apply(context.Background(), ws)
	notPgx := 0
	for _, w := range ws {
		if w.Err != nil && strings.Contains(w.Err.Error(), "not pgx's") {
			notPgx++
		}
	}
	require.Zero(t, notPgx, "writes failed with the not-pgx fall-back signal; first: %v", ws[len(ws)-1].Err)
}
