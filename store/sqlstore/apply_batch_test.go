package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// The tests below apply several writes with one Apply call: each write
// gets its own seen flags and outcome; on PostgreSQL they are read with
// one statement and written with one, on SQLite in one transaction.

// stmtLog records the statements a Store runs: on PostgreSQL through a
// pgx tracer, on SQLite through a faultConnector.
type stmtLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *stmtLog) add(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stmts = append(l.stmts, q)
}

// take returns the statements recorded since the last take.
func (l *stmtLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stmts
	l.stmts = nil
	return out
}

func (l *stmtLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	l.add(data.SQL)
	return ctx
}

func (l *stmtLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// count returns how many of stmts contain sub.
func count(stmts []string, sub string) int {
	n := 0
	for _, q := range stmts {
		if strings.Contains(q, sub) {
			n++
		}
	}
	return n
}

// openLogged opens a Store on e's tables whose statements are recorded;
// on SQLite it also returns the connector, through which faults can be
// injected instead (which stops the recording).
func openLogged(t *testing.T, e env) (*sqlstore.Store, *stmtLog, *faultConnector) {
	t.Helper()
	log := &stmtLog{}
	var db *sql.DB
	var fc *faultConnector
	switch e.dialect {
	case sqlstore.Postgres:
		cfg, err := pgx.ParseConfig(e.url)
		require.NoError(t, err)
		cfg.Tracer = log
		db = stdlib.OpenDB(*cfg)
	default:
		rest := strings.TrimPrefix(e.url, "sqlite:")
		sep := "?"
		if strings.Contains(rest, "?") {
			sep = "&"
		}
		fc = &faultConnector{dsn: "file:" + rest + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"}
		f := func(_ context.Context, q string) error { log.add(q); return nil }
		fc.inject.Store(&f)
		db = sql.OpenDB(fc)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, e.dialect, sqlstore.WithTablePrefix(e.prefix))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	log.take()
	return s, log, fc
}

// requireStatements checks that one Apply ran as one read statement and
// one write statement (PostgreSQL; plus one for the versions when races
// were lost), or in one transaction (SQLite).
func requireStatements(t *testing.T, s *sqlstore.Store, stmts []string, lostRaces bool) {
	t.Helper()
	if s.Dialect() == sqlstore.Postgres {
		want := 2
		if lostRaces {
			want = 3
		}
		require.Len(t, stmts, want, "statements of one Apply: %q", stmts)
		require.Equal(t, want, count(stmts, s.Table("customers")), "statements of one Apply: %q", stmts)
		return
	}
	require.Equal(t, 1, count(stmts, "BEGIN IMMEDIATE"), "transactions of one Apply: %q", stmts)
	require.Equal(t, 1, count(stmts, "COMMIT"), "commits of one Apply: %q", stmts)
	require.Zero(t, count(stmts, "ROLLBACK"), "rollbacks of one Apply: %q", stmts)
}

// state is what a test expects stored for a customer.
type state struct {
	stage   string
	version uint64
	seen    []string
}

// requireStored checks the customers' rows and their event rows.
func requireStored(t *testing.T, s *sqlstore.Store, want map[string]*state) {
	t.Helper()
	ctx := context.Background()
	keys := 0
	for id, w := range want {
		got, err := s.Get(ctx, id)
		if w == nil {
			require.ErrorIs(t, err, lifecycle.ErrNotFound, "customer %q", id)
			require.Empty(t, keyRows(t, s, id), "event rows of customer %q", id)
			continue
		}
		require.NoError(t, err, "customer %q", id)
		require.Equal(t, w.stage, string(got.Stage), "customer %q: stage", id)
		require.Equal(t, w.version, got.Version, "customer %q: version", id)
		requireSeen(t, seenOf(w.seen...), got.Seen, "customer %q: Seen", id)
		require.Equal(t, hexKeys(&got.Seen), keyRows(t, s, id), "customer %q: event rows", id)
		keys += len(w.seen)
	}
	require.Equal(t, keys, rowCount(t, s, "events"), "rows in the events table")
}

// moveTo returns an Apply fn that moves the customer to stage, creating it
// at version 1 if it is new.
func moveTo(st string) func(*lifecycle.Customer, []bool) (bool, error) {
	return func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.Stage = stage.ID(st)
		c.Version++
		return true, nil
	}
}

func noChange(*lifecycle.Customer, []bool) (bool, error) { return false, nil }

// putReach stores customers at version 1, stage reach, having seen e1.
func putReach(t *testing.T, s *sqlstore.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		require.NoError(t, s.Put(context.Background(), &lifecycle.Customer{ID: id, Stage: "reach", Version: 1, Seen: seenOf("e1")}, 0))
	}
}

// TestApplyBatch: one Apply of writes with every outcome (fn's error, no
// change, a new customer, a stored customer with a seen and an unseen
// event, a change the store refuses, an ID it cannot hold): each fn is
// called once, with its own customer and the seen flags of its own
// events, each write gets its own outcome, and exactly the writes that
// changed their customer are stored, in one read and one write statement
// (PostgreSQL) or one transaction (SQLite).
func TestApplyBatch(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s, log, _ := openLogged(t, e)
		ctx := context.Background()
		putReach(t, s, "fails", "still", "old", "refused")
		log.take()

		boom := errors.New("boom")
		calls := map[string]int{}
		seen := map[string][]bool{}
		fn := func(id string, f func(*lifecycle.Customer, []bool) (bool, error)) func(*lifecycle.Customer, []bool) (bool, error) {
			return func(c *lifecycle.Customer, sn []bool) (bool, error) {
				calls[id]++
				seen[id] = slices.Clone(sn)
				require.Equal(t, id, c.ID, "fn of write %q was given customer %q", id, c.ID)
				if id == "fresh" || id == "" {
					require.Zero(t, c.Version, "fn of write %q", id)
				} else {
					require.Equal(t, uint64(1), c.Version, "fn of write %q", id)
					require.Equal(t, "reach", string(c.Stage), "fn of write %q", id)
				}
				return f(c, sn)
			}
		}
		stale := errors.New("stale outcome")
		ws := []lifecycle.Write{
			{ID: "fails", Events: []string{"e1", "e2"}, Fn: fn("fails", func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Stage = "conversion"
				c.Version++
				return true, boom
			})},
			{ID: "still", Events: []string{"e1"}, Fn: fn("still", noChange)},
			{ID: "fresh", Events: []string{"e1", "e2"}, Fn: fn("fresh", moveTo("reach"))},
			{ID: "old", Events: []string{"e2", "e1"}, Fn: fn("old", moveTo("conversion"))},
			{ID: "refused", Events: []string{"e3"}, Fn: fn("refused", moveTo("conv\x00ersion"))},
			{ID: "", Events: []string{"e4"}, Fn: fn("", moveTo("reach"))},
		}
		for i := range ws {
			ws[i].Err = stale
		}
		s.Apply(ctx, ws)
		requireStatements(t, s, log.take(), false)

		require.Same(t, boom, ws[0].Err, "fn's error")
		require.NoError(t, ws[1].Err, "no change")
		require.NoError(t, ws[2].Err, "new customer")
		require.NoError(t, ws[3].Err, "stored customer")
		var ve *sqlstore.ValueError
		require.ErrorAs(t, ws[4].Err, &ve, "refused change")
		require.ErrorIs(t, ws[4].Err, lifecycle.ErrInvalidCustomer, "refused change")
		require.Equal(t, "stage", ve.Field)
		require.ErrorIs(t, ws[5].Err, lifecycle.ErrInvalidCustomer, "empty ID")
		require.Equal(t, map[string]int{"fails": 1, "still": 1, "fresh": 1, "old": 1, "refused": 1, "": 1}, calls, "fn calls")
		require.Equal(t, map[string][]bool{
			"fails": {true, false}, "still": {true}, "fresh": {false, false}, "old": {false, true}, "refused": {false}, "": {false},
		}, seen, "seen flags: each write's own events, on its own customer")
		requireStored(t, s, map[string]*state{
			"fails":   {"reach", 1, []string{"e1"}},
			"still":   {"reach", 1, []string{"e1"}},
			"refused": {"reach", 1, []string{"e1"}},
			"fresh":   {"reach", 1, []string{"e1", "e2"}},
			"old":     {"conversion", 2, []string{"e1", "e2"}},
			"":        nil,
		})

		// Applied again, through a Store that holds no row (the one that
		// wrote may answer from its row cache, unseen, and let its guarded
		// write refuse), the stored events are seen.
		s = e.open(t)
		clear(calls)
		ws = []lifecycle.Write{
			{ID: "fresh", Events: []string{"e2", "e1"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
				calls[c.ID]++
				require.Equal(t, []bool{true, true}, seen)
				return false, nil
			}},
			{ID: "old", Events: []string{"e1", "e3", "e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
				calls[c.ID]++
				require.Equal(t, []bool{true, false, true}, seen)
				require.Equal(t, uint64(2), c.Version)
				return false, nil
			}},
		}
		s.Apply(ctx, ws)
		require.NoError(t, ws[0].Err)
		require.NoError(t, ws[1].Err)
		require.Equal(t, map[string]int{"fresh": 1, "old": 1}, calls)

		// No writes: nothing to do, no statement.
		log.take()
		s.Apply(ctx, nil)
		require.Empty(t, log.take(), "statements of an Apply of no writes")

		// ctx done before: every write gets ctx's error, no fn runs.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		called := false
		ws = []lifecycle.Write{
			{ID: "old", Events: []string{"e5"}, Fn: func(*lifecycle.Customer, []bool) (bool, error) { called = true; return false, nil }},
			{ID: "new2", Events: []string{"e5"}, Fn: func(*lifecycle.Customer, []bool) (bool, error) { called = true; return false, nil }},
		}
		s.Apply(cctx, ws)
		require.ErrorIs(t, ws[0].Err, context.Canceled)
		require.ErrorIs(t, ws[1].Err, context.Canceled)
		require.False(t, called, "fn called under a done ctx")
	})
}

// TestApplyBatchLostRace: while the fns of one Apply run, another Store
// Puts two of its customers (one stored, one that the Apply creates). On
// PostgreSQL those two writes lose the race: each gets a
// *store.ConflictError and stores nothing, while the third write of the
// same Apply is stored; applied again (in one Apply), they are given the
// Puts' versions. On SQLite the Apply holds the write lock for all its
// writes: the Puts wait, and then lose themselves.
func TestApplyBatchLostRace(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s, log, _ := openLogged(t, e)
		other := e.open(t)
		ctx := context.Background()
		putReach(t, s, "a", "b")
		log.take()

		puts := make(chan error, 2)
		// race Puts the customer from the other Store while c's fn runs:
		// on PostgreSQL the Put commits before fn returns; on SQLite it
		// must wait for the Apply.
		race := func(c *lifecycle.Customer) {
			put := &lifecycle.Customer{ID: c.ID, Stage: "loyalty", Version: c.Version + 1, Seen: seenOf("p1")}
			if c.Version > 0 {
				put.Seen = seenOf("e1", "p1")
			}
			prev := c.Version
			go func() { puts <- other.Put(ctx, put, prev) }()
			if d == sqlstore.Postgres {
				require.NoError(t, <-puts, "Put while Apply's fn runs")
				return
			}
			select {
			case err := <-puts:
				t.Fatalf("Put returned %v while Apply held the write lock", err)
			case <-time.After(100 * time.Millisecond):
			}
		}
		ws := []lifecycle.Write{
			{ID: "a", Events: []string{"e2"}, Fn: moveTo("conversion")},
			{ID: "b", Events: []string{"e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
				race(c)
				return moveTo("conversion")(c, seen)
			}},
			{ID: "n", Events: []string{"e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
				race(c)
				return moveTo("reach")(c, seen)
			}},
		}
		s.Apply(ctx, ws)
		requireStatements(t, s, log.take(), d == sqlstore.Postgres)
		require.NoError(t, ws[0].Err, "the write that did not race")

		if d == sqlstore.SQLite {
			require.NoError(t, ws[1].Err)
			require.NoError(t, ws[2].Err)
			for range 2 {
				var ce *store.ConflictError
				require.ErrorAs(t, <-puts, &ce, "the Put that waited for Apply")
			}
			requireStored(t, s, map[string]*state{
				"a": {"conversion", 2, []string{"e1", "e2"}},
				"b": {"conversion", 2, []string{"e1", "e2"}},
				"n": {"reach", 1, []string{"e2"}},
			})
			return
		}

		for i, want := range []store.ConflictError{{ID: "b", Want: 1, Have: 2}, {ID: "n", Want: 0, Have: 1}} {
			err := ws[i+1].Err
			require.ErrorIs(t, err, lifecycle.ErrConflict, "write %q", want.ID)
			var ce *store.ConflictError
			require.ErrorAs(t, err, &ce, "write %q", want.ID)
			require.Equal(t, want, *ce)
		}
		requireStored(t, s, map[string]*state{
			"a": {"conversion", 2, []string{"e1", "e2"}},
			"b": {"loyalty", 2, []string{"e1", "p1"}},
			"n": {"loyalty", 1, []string{"p1"}},
		})

		// Applied again, in one Apply, the losers are given what the Puts
		// stored, their event not seen.
		calls := 0
		again := func(c *lifecycle.Customer, seen []bool) (bool, error) {
			calls++
			require.Equal(t, "loyalty", string(c.Stage), "customer %q", c.ID)
			require.Equal(t, []bool{false}, seen, "customer %q: e2 seen after the write that applied it lost", c.ID)
			c.Stage = "advocacy"
			c.Version++
			return true, nil
		}
		ws = []lifecycle.Write{{ID: "b", Events: []string{"e2"}, Fn: again}, {ID: "n", Events: []string{"e2"}, Fn: again}}
		s.Apply(ctx, ws)
		require.NoError(t, ws[0].Err)
		require.NoError(t, ws[1].Err)
		require.Equal(t, 2, calls)
		requireStored(t, s, map[string]*state{
			"a": {"conversion", 2, []string{"e1", "e2"}},
			"b": {"advocacy", 3, []string{"e1", "p1", "e2"}},
			"n": {"advocacy", 2, []string{"p1", "e2"}},
		})
	})
}

// failingBatch returns the writes the write-failure tests apply: fn's
// error (f), no change (st), then changes to stored customers a and b and
// to new customer n. The fns record their calls in calls.
func failingBatch(boom error, calls map[string]int) []lifecycle.Write {
	count := func(f func(*lifecycle.Customer, []bool) (bool, error)) func(*lifecycle.Customer, []bool) (bool, error) {
		return func(c *lifecycle.Customer, seen []bool) (bool, error) {
			calls[c.ID]++
			return f(c, seen)
		}
	}
	return []lifecycle.Write{
		{ID: "f", Events: []string{"e2"}, Fn: count(func(c *lifecycle.Customer, _ []bool) (bool, error) { c.Version++; return true, boom })},
		{ID: "st", Events: []string{"e2"}, Fn: count(noChange)},
		{ID: "a", Events: []string{"e2", "e3"}, Fn: count(moveTo("conversion"))},
		{ID: "n", Events: []string{"e2"}, Fn: count(moveTo("reach"))},
		{ID: "b", Events: []string{"e2"}, Fn: count(moveTo("refused"))},
	}
}

// requireBatchFailed checks the outcome of failingBatch when its write
// failed with an error matching isCause: the writes that had something
// to write failed, and none of them is stored; fn's error and no change
// keep their outcomes (on SQLite, whose transaction rolled back, no
// change may fail too).
func requireBatchFailed(t *testing.T, s *sqlstore.Store, ws []lifecycle.Write, boom error, isCause func(error) bool) {
	t.Helper()
	require.Same(t, boom, ws[0].Err, "fn's error")
	if s.Dialect() == sqlstore.Postgres {
		require.NoError(t, ws[1].Err, "no change")
	} else if ws[1].Err != nil {
		require.True(t, isCause(ws[1].Err), "no change, in the transaction that failed: %v", ws[1].Err)
	}
	for _, w := range ws[2:] {
		require.Error(t, w.Err, "write %q", w.ID)
		require.True(t, isCause(w.Err), "write %q: %v", w.ID, w.Err)
		require.NotErrorIs(t, w.Err, lifecycle.ErrConflict, "write %q", w.ID)
		require.Contains(t, w.Err.Error(), w.ID, "write %q: the error names the customer", w.ID)
	}
	requireStored(t, s, map[string]*state{
		"f": {"reach", 1, []string{"e1"}}, "st": {"reach", 1, []string{"e1"}},
		"a": {"reach", 1, []string{"e1"}}, "b": {"reach", 1, []string{"e1"}}, "n": nil,
	})
}

// requireBatchRetried applies the writes of failingBatch that had
// something to write again, and checks that they are stored.
func requireBatchRetried(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	calls := map[string]int{}
	ws := failingBatch(nil, calls)[2:]
	s.Apply(context.Background(), ws)
	for _, w := range ws {
		require.NoError(t, w.Err, "retrying write %q", w.ID)
	}
	require.Equal(t, map[string]int{"a": 1, "n": 1, "b": 1}, calls)
	requireStored(t, s, map[string]*state{
		"f": {"reach", 1, []string{"e1"}}, "st": {"reach", 1, []string{"e1"}},
		"a": {"conversion", 2, []string{"e1", "e2", "e3"}}, "b": {"refused", 2, []string{"e1", "e2"}}, "n": {"reach", 1, []string{"e2"}},
	})
}

// TestApplyBatchRefusedByDatabase: the database refuses the last change of
// an Apply (a constraint the store's own checks know nothing of): the
// write statement (PostgreSQL) or transaction (SQLite) fails, and with it
// every write of the Apply that had something to write, the ones before
// the refused one included: none is stored.
func TestApplyBatchRefusedByDatabase(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		putReach(t, s, "f", "st", "a", "b")
		c := s.Table("customers")
		var refuse, allow []string
		if d == sqlstore.Postgres {
			refuse = []string{`ALTER TABLE ` + c + ` ADD CONSTRAINT ` + c + `_test_refused CHECK (stage <> 'refused')`}
			allow = []string{`ALTER TABLE ` + c + ` DROP CONSTRAINT ` + c + `_test_refused`}
		} else {
			for _, op := range []string{"INSERT", "UPDATE"} {
				name := c + "_test_refused_" + strings.ToLower(op)
				refuse = append(refuse, `CREATE TRIGGER `+name+` BEFORE `+op+` ON `+c+
					` WHEN NEW.stage = 'refused' BEGIN SELECT RAISE(ABORT, 'stage refused by test'); END`)
				allow = append(allow, `DROP TRIGGER `+name)
			}
		}
		for _, q := range refuse {
			_, err := s.DB().Exec(q)
			require.NoError(t, err)
		}
		boom := errors.New("boom")
		calls := map[string]int{}
		ws := failingBatch(boom, calls)
		s.Apply(ctx, ws)
		t.Logf("refused write: %v", ws[4].Err)
		require.Equal(t, map[string]int{"f": 1, "st": 1, "a": 1, "n": 1, "b": 1}, calls, "fn calls")
		requireBatchFailed(t, s, ws, boom, func(err error) bool {
			if d == sqlstore.Postgres {
				var pe *pgconn.PgError
				return errors.As(err, &pe) && pe.Code == "23514"
			}
			return strings.Contains(err.Error(), "stage refused by test")
		})
		for _, q := range allow {
			_, err := s.DB().Exec(q)
			require.NoError(t, err)
		}
		requireBatchRetried(t, s)
	})
}

// TestPostgresBatchConnectionKilled terminates the backend of an Apply's
// write statement while it waits for a lock on the event row of its last
// customer, having written the others' rows: no write of it is stored.
func TestPostgresBatchConnectionKilled(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s := e.open(t)
	ctx := context.Background()
	putReach(t, s, "f", "st", "a", "b")
	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	k := lifecycle.KeyOf("e2")
	_, err = tx.Exec(`INSERT INTO `+s.Table("events")+` (customer_id, key) VALUES ('b', $1)`, k[:])
	require.NoError(t, err)

	boom := errors.New("boom")
	calls := map[string]int{}
	ws := failingBatch(boom, calls)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Apply(ctx, ws)
	}()
	pid := waitingBackend(t, s, s.Table("events"))
	var ok bool
	require.NoError(t, s.DB().QueryRow(`SELECT pg_terminate_backend($1)`, pid).Scan(&ok))
	require.True(t, ok)
	<-done
	t.Logf("Apply on a terminated connection: %v", ws[2].Err)
	require.NoError(t, tx.Rollback())
	require.Equal(t, map[string]int{"f": 1, "st": 1, "a": 1, "n": 1, "b": 1}, calls, "fn calls")
	requireBatchFailed(t, s, ws, boom, func(err error) bool { return err != nil })
	requireBatchRetried(t, s)
}

// TestSQLiteBatchFaults makes a statement of an Apply's transaction fail
// after the first writes of the Apply were written in it.
func TestSQLiteBatchFaults(t *testing.T) {
	cases := []struct {
		name   string
		on     string // the nth statement containing this fails
		nth    int
		inject func(cancel context.CancelFunc) error
		want   error
	}{
		{"the second customer's key insert fails", "INSERT INTO clm_events", 2, func(context.CancelFunc) error { return errors.New("test: disk I/O error") }, nil},
		{"the last customer's update fails", "UPDATE clm_customers", 2, func(context.CancelFunc) error { return errors.New("test: disk I/O error") }, nil},
		{"connection dropped before the last customer's read", "SELECT c.version", 5, func(context.CancelFunc) error { return errDropped }, driver.ErrBadConn},
		{"context cancelled before the new customer's insert", "INSERT INTO clm_customers", 1, func(cancel context.CancelFunc) error { cancel(); return context.Canceled }, context.Canceled},
		{"connection dropped before the commit", "COMMIT", 1, func(context.CancelFunc) error { return errDropped }, driver.ErrBadConn},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _, fc := openLogged(t, newEnv(t, sqlstore.SQLite))
			putReach(t, s, "f", "st", "a", "b")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			seen, fired := 0, false
			f := func(_ context.Context, query string) error {
				mu.Lock()
				defer mu.Unlock()
				if strings.Contains(query, tc.on) {
					if seen++; seen == tc.nth {
						fired = true
						return tc.inject(cancel)
					}
				}
				return nil
			}
			fc.inject.Store(&f)
			boom := errors.New("boom")
			calls := map[string]int{}
			ws := failingBatch(boom, calls)
			s.Apply(ctx, ws)
			fc.inject.Store(nil)
			require.True(t, fired, "the fault was not injected")
			t.Logf("%v", ws[2].Err)
			// The fns of the writes after the fault may not have run:
			// their writes fail all the same.
			for id, n := range calls {
				require.Equal(t, 1, n, "fn calls of write %q", id)
			}
			for _, w := range ws[:2] {
				if calls[w.ID] == 0 {
					t.Fatalf("fn of write %q, before the fault, not called", w.ID)
				}
			}
			requireBatchFailed(t, s, ws, boom, func(err error) bool { return tc.want == nil || errors.Is(err, tc.want) })
			requireBatchRetried(t, s)
		})
	}
}

// TestPostgresBatchLockOrder: two Applies write the same three customers,
// listed in opposite orders, and both wait (inside their write
// statements) for a third transaction that holds the middle one. When it
// ends, one Apply stores its three writes and the other loses all three
// races (ConflictError); neither waits for the other while holding a row
// it needs, which PostgreSQL would break as a deadlock (after
// deadlock_timeout), failing a whole statement. For new customers (the
// statements insert them) and stored ones (they update them).
func TestPostgresBatchLockOrder(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "new customers", true: "stored customers"}[existing], func(t *testing.T) {
			e := newEnv(t, sqlstore.Postgres)
			stores := []*sqlstore.Store{e.open(t), e.open(t)}
			s := stores[0]
			ctx := context.Background()
			var prev uint64
			if existing {
				putReach(t, s, "x", "m", "y")
				prev = 1
			}
			tx, err := s.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			defer tx.Rollback()
			if existing {
				_, err = tx.Exec(`SELECT 1 FROM ` + s.Table("customers") + ` WHERE id = 'm' FOR UPDATE`)
			} else {
				_, err = tx.Exec(`INSERT INTO ` + s.Table("customers") + ` (id, stage, version, as_of, data, due) VALUES ('m', 'reach', 1, now(), '{}', NULL)`)
			}
			require.NoError(t, err)

			orders := [][]string{{"x", "m", "y"}, {"y", "m", "x"}}
			results := make([][]lifecycle.Write, len(orders))
			var wg sync.WaitGroup
			for i, order := range orders {
				ws := make([]lifecycle.Write, len(order))
				for k, id := range order {
					ws[k] = lifecycle.Write{ID: id, Events: []string{"e" + string(rune('a'+i))}, Fn: moveTo("conversion")}
				}
				results[i] = ws
				wg.Add(1)
				go func() {
					defer wg.Done()
					stores[i].Apply(ctx, ws)
				}()
			}
			waitingBackends(t, s, s.Table("customers"), 2)
			require.NoError(t, tx.Rollback())
			wg.Wait()

			winner := -1
			for i, ws := range results {
				if ws[0].Err == nil {
					winner = i
				}
				for _, w := range ws {
					var pe *pgconn.PgError
					if errors.As(w.Err, &pe) {
						t.Fatalf("Apply %d, write %q: %v: the statements took the rows in different orders", i, w.ID, w.Err)
					}
				}
			}
			require.NotEqual(t, -1, winner, "no Apply stored its writes: %v; %v", results[0][0].Err, results[1][0].Err)
			for i, ws := range results {
				for _, w := range ws {
					if i == winner {
						require.NoError(t, w.Err, "Apply %d, write %q", i, w.ID)
						continue
					}
					var ce *store.ConflictError
					require.ErrorAs(t, w.Err, &ce, "Apply %d, write %q", i, w.ID)
					require.Equal(t, store.ConflictError{ID: w.ID, Want: prev, Have: prev + 1}, *ce)
				}
			}
			ev := "e" + string(rune('a'+winner))
			want := map[string]*state{}
			for _, id := range []string{"x", "m", "y"} {
				want[id] = &state{"conversion", prev + 1, []string{ev}}
				if existing {
					want[id].seen = []string{"e1", ev}
				}
			}
			requireStored(t, s, want)
		})
	}
}

// waitingBackends waits until n backends wait for a lock while running a
// statement on table.
func waitingBackends(t *testing.T, s *sqlstore.Store, table string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var got int
		require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND position($1 in query) > 0`, table).Scan(&got))
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d backends wait for a lock", n)
}

// TestApplySplit: on PostgreSQL an Apply of splitMin (64) customers or
// more writes them with two statements at once, one per half in the
// order of ID. Every write still gets its own outcome: a lost race in
// each half fails that write only, and the customers held after the first
// Apply are written by the second without a read.
func TestApplySplit(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s, log, _ := openLogged(t, e)
	other := e.open(t)
	ctx := context.Background()
	var ids []string
	for i := range 70 {
		ids = append(ids, fmt.Sprintf("c%02d", i))
		if i%2 == 0 {
			putReach(t, s, ids[i])
		}
	}
	log.take()
	// c05 (new) and c60 (stored) are changed by another Store while their
	// fn runs: one lost race in each half.
	racing := map[string]bool{"c05": true, "c60": true}
	race := func(c *lifecycle.Customer) {
		put := &lifecycle.Customer{ID: c.ID, Stage: "loyalty", Version: c.Version + 1, Seen: seenOf("p1")}
		require.NoError(t, other.Put(ctx, put, c.Version), "Put while Apply's fn runs")
	}
	ws := make([]lifecycle.Write, len(ids))
	for i, id := range ids {
		ws[i] = lifecycle.Write{ID: id, Events: []string{"e1", "e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if racing[c.ID] {
				race(c)
			}
			return moveTo("conversion")(c, seen)
		}}
	}
	s.Apply(ctx, ws)
	stmts := log.take()
	require.Equal(t, 4, count(stmts, s.Table("customers")), "a read, two writes and the versions of the lost races: %q", stmts)
	want := map[string]*state{}
	for i, id := range ids {
		switch {
		case id == "c05":
			require.ErrorIs(t, ws[i].Err, lifecycle.ErrConflict, "write of %s", id)
			want[id] = &state{"loyalty", 1, []string{"p1"}}
		case id == "c60":
			require.ErrorIs(t, ws[i].Err, lifecycle.ErrConflict, "write of %s", id)
			want[id] = &state{"loyalty", 2, []string{"p1"}}
		case i%2 == 0:
			require.NoError(t, ws[i].Err, "write of %s", id)
			want[id] = &state{"conversion", 2, []string{"e1", "e2"}}
		default:
			require.NoError(t, ws[i].Err, "write of %s", id)
			want[id] = &state{"conversion", 1, []string{"e1", "e2"}}
		}
	}
	requireStored(t, s, want)
	log.take()

	// Again, with a new event: all but the two that lost are held.
	racing = map[string]bool{}
	for i := range ws {
		ws[i].Events = []string{"e3"}
	}
	s.Apply(ctx, ws)
	stmts = log.take()
	require.Equal(t, 3, count(stmts, s.Table("customers")), "a read of the two not held and two writes: %q", stmts)
	for i, id := range ids {
		require.NoError(t, ws[i].Err, "write of %s", id)
		w := want[id]
		w.stage, w.version, w.seen = "conversion", w.version+1, append(w.seen, "e3")
	}
	requireStored(t, s, want)
}

// TestApplyHeldDuplicate: an Apply of held customers, one of which is
// sent an event it had: its write statement goes first without the held
// rows' guards and fails on that event's key, then again with them, so
// that customer's write alone is a lost race and the others are written;
// an Apply with no event stored runs the one statement.
func TestApplyHeldDuplicate(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s, log, _ := openLogged(t, e)
	ctx := context.Background()
	ids := []string{"h0", "h1", "h2", "h3", "h4"}
	want := map[string]*state{}
	apply := func(events map[string][]string) []lifecycle.Write {
		ws := make([]lifecycle.Write, len(ids))
		for i, id := range ids {
			ws[i] = lifecycle.Write{ID: id, Events: events[id], Fn: moveTo("conversion")}
		}
		s.Apply(ctx, ws)
		return ws
	}
	// Created by one Apply, so all held after it.
	for _, w := range apply(map[string][]string{"h0": {"a0"}, "h1": {"a1"}, "h2": {"a2"}, "h3": {"a3"}, "h4": {"a4"}}) {
		require.NoError(t, w.Err, w.ID)
	}
	log.take()
	ws := apply(map[string][]string{"h0": {"b0"}, "h1": {"b1"}, "h2": {"b2"}, "h3": {"b3"}, "h4": {"b4"}})
	stmts := log.take()
	require.Equal(t, 1, count(stmts, "seen AS ("), "one write statement, no read: %q", stmts)
	require.Len(t, stmts, 1, "%q", stmts)
	for i, w := range ws {
		require.NoError(t, w.Err, w.ID)
		want[w.ID] = &state{"conversion", 2, []string{fmt.Sprint("a", i), fmt.Sprint("b", i)}}
	}
	// h2 is sent b2 again beside c2.
	ws = apply(map[string][]string{"h0": {"c0"}, "h1": {"c1"}, "h2": {"c2", "b2"}, "h3": {"c3"}, "h4": {"c4"}})
	stmts = log.take()
	require.Equal(t, 2, count(stmts, "seen AS ("), "the write without the guards, then with them: %q", stmts)
	for i, w := range ws {
		if w.ID == "h2" {
			require.ErrorIs(t, w.Err, lifecycle.ErrConflict, w.ID)
			continue
		}
		require.NoError(t, w.Err, w.ID)
		want[w.ID] = &state{"conversion", 3, append(want[w.ID].seen, fmt.Sprint("c", i))}
	}
	requireStored(t, s, want)
	// h2 is read now: b2 seen, c2 not.
	ws = []lifecycle.Write{{ID: "h2", Events: []string{"c2", "b2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{false, true}, seen)
		return moveTo("conversion")(c, seen)
	}}}
	s.Apply(ctx, ws)
	require.NoError(t, ws[0].Err)
	want["h2"] = &state{"conversion", 3, []string{"a2", "b2", "c2"}}
	requireStored(t, s, want)
}

// TestApplyHeldDuplicateOne: a held customer sent an event it had, alone,
// goes through the one-event statement, whose key's insert finds it: the
// write is a lost race that says so (an error wrapping ErrConflict that
// names the held row), the row is dropped, and the retry reads the
// customer and sees the event.
func TestApplyHeldDuplicateOne(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	s, log, _ := openLogged(t, e)
	ctx := context.Background()
	one := func(event string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
		ws := []lifecycle.Write{{ID: "d1", Events: []string{event}, Fn: fn}}
		s.Apply(ctx, ws)
		return ws[0].Err
	}
	require.NoError(t, one("a", moveTo("conversion")))
	require.NoError(t, one("b", moveTo("conversion"))) // held: no read
	log.take()
	err := one("a", moveTo("conversion"))
	stmts := log.take()
	require.Len(t, stmts, 2, "the one-event write, then the versions for the message: %q", stmts)
	require.Equal(t, 0, count(stmts, "seen AS ("), "not the many-customer statement: %q", stmts)
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	require.Contains(t, err.Error(), `customer "d1": the row this Store held (version 2) is no longer the stored one (stored version 2)`)
	require.Contains(t, err.Error(), "one of the events was applied before")
	// The row is dropped: the retry is not given it (fn is first called
	// on a new customer, the one-event create's attempt, and, reporting
	// no change, then on the customer read), and the read finds a.
	type call struct {
		version uint64
		seen    bool
	}
	var calls []call
	require.NoError(t, one("a", func(c *lifecycle.Customer, seen []bool) (bool, error) {
		calls = append(calls, call{c.Version, seen[0]})
		return false, nil
	}))
	require.Equal(t, []call{{0, false}, {2, true}}, calls)
	requireStored(t, s, map[string]*state{"d1": {"conversion", 2, []string{"a", "b"}}})
}
