package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// The write statement of a large Apply on PostgreSQL is sent with
// parameters the store encodes, through the pgx connection under
// database/sql's. The tests below cover the other ways it must still
// work: a driver wrapped around pgx's (as tracing packages do), and pgx's
// other query modes (no statements prepared on the server).

// wrapConnector hands database/sql pgx's connections inside a type of its
// own, as a tracing wrapper does.
type wrapConnector struct{ driver.Connector }

type wrapConn struct{ *stdlib.Conn }

func (w wrapConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := w.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return wrapConn{c.(*stdlib.Conn)}, nil
}

// applyNew applies a write creating each of the customers (stage reach,
// having seen event ev) and checks every write took effect.
func applyNew(t *testing.T, s *sqlstore.Store, ids []string, ev string) {
	t.Helper()
	ws := make([]lifecycle.Write, len(ids))
	for i, id := range ids {
		ws[i] = lifecycle.Write{ID: id, Events: []string{ev}, Fn: moveTo("reach")}
	}
	s.Apply(context.Background(), ws)
	for i := range ws {
		require.NoError(t, ws[i].Err, "write of %s", ws[i].ID)
	}
}

func customers(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("w%04d", i)
	}
	return ids
}

// TestApplyWrappedDriver: through a database/sql driver wrapped around
// pgx's, an Apply of 70 customers (two write statements) and one of 1,200
// new customers (COPY through pgx, else the write statements) store every
// customer and key.
func TestApplyWrappedDriver(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	cfg, err := pgx.ParseConfig(e.url)
	require.NoError(t, err)
	db := sql.OpenDB(wrapConnector{stdlib.GetConnector(*cfg)})
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Postgres, sqlstore.WithTablePrefix(e.prefix))
	require.NoError(t, err)
	ids := customers(1200)
	applyNew(t, s, ids[:70], "e1")
	applyNew(t, s, ids[:70], "e2") // held rows
	applyNew(t, s, ids[70:], "e1") // 1,130 new customers
	want := map[string]*state{}
	for i, id := range ids {
		want[id] = &state{"reach", 1, []string{"e1"}}
		if i < 70 {
			want[id] = &state{"reach", 2, []string{"e1", "e2"}}
		}
	}
	requireStored(t, s, want)
}

// TestApplyQueryModes: with pgx's query mode exec (no statement prepared
// on the server, as behind a pooler), Apply prepares nothing, and with the
// default mode it prepares its write statement once on the connection.
func TestApplyQueryModes(t *testing.T) {
	ctx := context.Background()
	prepared := func(t *testing.T, s *sqlstore.Store, prefix string) int {
		var n int
		require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE name = $1`, prefix+"apply_write").Scan(&n))
		return n
	}
	t.Run("default", func(t *testing.T) {
		e := newEnv(t, sqlstore.Postgres)
		s := e.open(t)
		s.DB().SetMaxOpenConns(1)
		ids := customers(70)
		applyNew(t, s, ids, "e1")
		require.Equal(t, 1, prepared(t, s, e.prefix), "the write statement, prepared")
	})
	t.Run("exec", func(t *testing.T) {
		e := newEnv(t, sqlstore.Postgres).withQuery("default_query_exec_mode=exec")
		s := e.open(t)
		s.DB().SetMaxOpenConns(1) // one session, whose prepared statements are listed
		ids := customers(70)
		applyNew(t, s, ids, "e1")
		applyNew(t, s, ids, "e2")
		require.Zero(t, prepared(t, s, e.prefix), "statements prepared in query mode exec")
		want := map[string]*state{}
		for _, id := range ids {
			want[id] = &state{"reach", 2, []string{"e1", "e2"}}
		}
		requireStored(t, s, want)
	})
}

// TestApplyCopyHalves: an Apply of 1,200 new customers goes by COPY, each
// half of them (in the order of ID) in a transaction of its own. When
// another writer creates a customer of the first half after the read
// (here, from inside the fn of a customer of the second half), that
// half's COPY is refused: each of its writes is a lost race and stores
// nothing, and the other half is stored.
func TestApplyCopyHalves(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s, other := e.open(t), e.open(t)
	ids := customers(1200)
	ws := make([]lifecycle.Write, len(ids))
	for i, id := range ids {
		ws[i] = lifecycle.Write{ID: id, Events: []string{"e1"}, Fn: moveTo("reach")}
	}
	reach := moveTo("reach")
	ws[1100].Fn = func(c *lifecycle.Customer, seen []bool) (bool, error) {
		putReach(t, other, ids[10])
		return reach(c, seen)
	}
	s.Apply(context.Background(), ws)
	want := map[string]*state{}
	for i, w := range ws {
		if i < len(ws)/2 {
			require.ErrorIs(t, w.Err, lifecycle.ErrConflict, "write of %s, in the refused half", w.ID)
			want[w.ID] = nil
			continue
		}
		require.NoError(t, w.Err, "write of %s", w.ID)
		want[w.ID] = &state{"reach", 1, []string{"e1"}}
	}
	want[ids[10]] = &state{"reach", 1, []string{"e1"}} // the other writer's
	requireStored(t, s, want)
}
