package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

func migrationRows(t *testing.T, s *sqlstore.Store) []int {
	t.Helper()
	rows, err := s.DB().Query(`SELECT version FROM ` + s.Table("schema_migrations") + ` ORDER BY version`)
	require.NoError(t, err)
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		vs = append(vs, v)
	}
	require.NoError(t, rows.Err())
	return vs
}

func allVersions() []int {
	var vs []int
	for v := 1; v <= sqlstore.SchemaVersion; v++ {
		vs = append(vs, v)
	}
	return vs
}

// TestMigrateConcurrentOpen starts eight instances, each with its own
// connection pool, on an empty database at once: all must come up, and
// every migration must have run exactly once.
func TestMigrateConcurrentOpen(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		const n = 8
		stores := make([]*sqlstore.Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stores[i], errs[i] = sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix))
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "instance %d", i)
			t.Cleanup(func() { stores[i].Close() })
		}
		if diff := cmp.Diff(allVersions(), migrationRows(t, stores[0])); diff != "" {
			t.Errorf("schema_migrations after %d concurrent opens (-want +got):\n%s", n, diff)
		}
		// Every instance works on the shared tables.
		ctx := context.Background()
		c := &lifecycle.Customer{ID: "shared", Stage: "reach", Version: 1}
		require.NoError(t, stores[3].Put(ctx, c, 0))
		got, err := stores[5].Get(ctx, "shared")
		require.NoError(t, err)
		require.Equal(t, uint64(1), got.Version)
		// Opening again is a no-op.
		again := e.open(t)
		if diff := cmp.Diff(allVersions(), migrationRows(t, again)); diff != "" {
			t.Errorf("schema_migrations after reopening (-want +got):\n%s", diff)
		}
	})
}

// oldSchema is the schema as releases before event keys created it, up
// to version 2: customers, and the events table holding each applied
// event as the 64-bit FNV-1a digest of its ID (a signed bigint with the
// same bits); version 2 added the stage index.
var oldSchema = map[sqlstore.Dialect][]string{
	sqlstore.Postgres: {
		`CREATE TABLE {p}schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE TABLE {p}customers (
	id      text COLLATE "C" PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 256),
	stage   text COLLATE "C" NOT NULL CHECK (octet_length(stage) <= 256),
	version bigint NOT NULL CHECK (version > 0),
	as_of   timestamptz NOT NULL,
	data    jsonb NOT NULL
)`,
		`CREATE TABLE {p}events (
	customer_id text COLLATE "C" NOT NULL,
	digest      bigint NOT NULL,
	PRIMARY KEY (customer_id, digest)
)`,
		`INSERT INTO {p}schema_migrations (version, name) VALUES (1, 'customers and applied events')`,
		`CREATE INDEX {p}customers_stage ON {p}customers (stage, id)`, // version 2
		`INSERT INTO {p}schema_migrations (version, name) VALUES (2, 'index customers by stage')`,
	},
	sqlstore.SQLite: {
		`CREATE TABLE {p}schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`,
		`CREATE TABLE {p}customers (
	id      TEXT NOT NULL PRIMARY KEY CHECK (length(CAST(id AS BLOB)) BETWEEN 1 AND 256),
	stage   TEXT NOT NULL CHECK (length(CAST(stage AS BLOB)) <= 256),
	version INTEGER NOT NULL CHECK (version > 0),
	as_of   TEXT NOT NULL,
	data    TEXT NOT NULL
) WITHOUT ROWID`,
		`CREATE TABLE {p}events (
	customer_id TEXT NOT NULL,
	digest      INTEGER NOT NULL,
	PRIMARY KEY (customer_id, digest)
) WITHOUT ROWID`,
		`INSERT INTO {p}schema_migrations (version, name) VALUES (1, 'customers and applied events')`,
		`CREATE INDEX {p}customers_stage ON {p}customers (stage, id)`, // version 2
		`INSERT INTO {p}schema_migrations (version, name) VALUES (2, 'index customers by stage')`,
	},
}

// oldRecord is the data column as releases before due times wrote it.
type oldRecord struct {
	Stage   stage.ID               `json:"stage"`
	Since   time.Time              `json:"since"`
	AsOf    time.Time              `json:"as_of"`
	Facts   lifecycle.Facts        `json:"facts"`
	History []lifecycle.Transition `json:"history"`
}

// fnv1a is the 64-bit FNV-1a hash: the digest older releases stored.
func fnv1a(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// oldDB creates the schema at version (1 or 2) in e's database, as an old
// release left it, and writes customers into it as that release did: the
// data column, and a digest row per applied event (digests lists extra
// raw digests per customer).
func oldDB(t *testing.T, e env, version int, customers []*lifecycle.Customer, applied map[string][]string, digests map[string][]int64) {
	t.Helper()
	db := openRaw(t, e)
	n := len(oldSchema[e.dialect])
	if version == 1 {
		n -= 2
	}
	for _, q := range oldSchema[e.dialect][:n] {
		_, err := db.Exec(strings.ReplaceAll(q, "{p}", e.prefix))
		require.NoError(t, err, "creating the version %d schema", version)
	}
	p1, p2, p3, p4, p5 := placeholder(e.dialect, 1), placeholder(e.dialect, 2), placeholder(e.dialect, 3), placeholder(e.dialect, 4), placeholder(e.dialect, 5)
	for _, c := range customers {
		data, err := json.Marshal(oldRecord{Stage: c.Stage, Since: c.Since, AsOf: c.AsOf, Facts: c.Facts, History: c.History})
		require.NoError(t, err)
		var asOf any = c.AsOf
		if e.dialect == sqlstore.SQLite {
			asOf = c.AsOf.UTC().Format("2006-01-02T15:04:05.000000000Z")
		}
		_, err = db.Exec(`INSERT INTO `+e.prefix+`customers (id, stage, version, as_of, data) VALUES (`+p1+`, `+p2+`, `+p3+`, `+p4+`, `+p5+`)`,
			c.ID, string(c.Stage), int64(c.Version), asOf, string(data))
		require.NoError(t, err)
		ds := digests[c.ID]
		for _, id := range applied[c.ID] {
			ds = append(ds, int64(fnv1a(id)))
		}
		for _, d := range ds {
			_, err := db.Exec(`INSERT INTO `+e.prefix+`events (customer_id, digest) VALUES (`+p1+`, `+p2+`)`, c.ID, d)
			require.NoError(t, err)
		}
	}
}

// openRaw opens e's database without a Store.
func openRaw(t *testing.T, e env) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", e.url
	if e.dialect == sqlstore.SQLite {
		driver, dsn = "sqlite", "file:"+strings.TrimPrefix(e.url, "sqlite:")
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrateUpgrade opens a database left at schema version 1 (no stage
// index) or 2 (64-bit digests in the events table), with customers in it
// written as those releases wrote them, and checks that Open upgrades it in
// place: every customer reads back as it was, its old digests now legacy
// keys (0xff×8 followed by the digest, big-endian), so that an event
// applied before the upgrade is still found when retried, through Get,
// Apply and the Tracker; a new event is not; the customers are due at the
// next sweep; and the stage index is there.
func TestMigrateUpgrade(t *testing.T) {
	day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	events := []lifecycle.Event{
		{ID: "old-1", CustomerID: "ada", Type: lifecycle.SiteVisited, Time: day},
		{ID: "ev-b", CustomerID: "ada", Type: lifecycle.SignedUp, Time: day.Add(time.Hour)},
		{ID: "old-3", CustomerID: "ada", Type: lifecycle.OrderCompleted, Time: day.Add(2 * time.Hour), Amount: 4200, Currency: "EUR"},
		{ID: "ev-d", CustomerID: "ada", Type: lifecycle.ProductViewed, Time: day.Add(3 * time.Hour)},
		{ID: "old-5", CustomerID: "bob", Type: lifecycle.SiteVisited, Time: day},
	}
	applied := map[string][]string{}
	var neg, pos bool
	for _, ev := range events {
		applied[ev.CustomerID] = append(applied[ev.CustomerID], ev.ID)
		neg, pos = neg || int64(fnv1a(ev.ID)) < 0, pos || int64(fnv1a(ev.ID)) >= 0
	}
	require.True(t, neg && pos, "the old events' digests should include negative and non-negative bigints")
	fresh := lifecycle.Event{ID: "new-1", CustomerID: "ada", Type: lifecycle.OrderCompleted, Time: day.Add(48 * time.Hour), Amount: 1000, Currency: "EUR"}

	// What the old release stored: the customers of these events.
	ctx := context.Background()
	record := func(events ...lifecycle.Event) (*store.Memory, lifecycle.Result) {
		mem := store.NewMemory()
		var res lifecycle.Result
		for _, ev := range events {
			var err error
			res, err = newTracker(mem).Record(ctx, ev)
			require.NoError(t, err)
		}
		return mem, res
	}
	mem, _ := record(events...)
	// What recording the new event would do on the old customer.
	_, wantRes := record(append(slices.Clone(events), fresh)...)
	var old []*lifecycle.Customer
	for _, id := range []string{"ada", "bob"} {
		c, err := mem.Get(ctx, id)
		require.NoError(t, err)
		old = append(old, c)
	}
	old = append(old, &lifecycle.Customer{ID: "raw", Stage: "reach", Version: 1})
	rawDigests := map[string][]int64{"raw": {7, -1, math.MinInt64}}

	// legacy returns the set of legacy keys of these event IDs.
	legacy := func(ids ...string) lifecycle.EventSet {
		var s lifecycle.EventSet
		for _, id := range ids {
			s.Add(lifecycle.LegacyKeyOf(id))
		}
		return s
	}

	for _, from := range []int{1, 2} {
		t.Run(fmt.Sprint("from version ", from), func(t *testing.T) {
			forEach(t, func(t *testing.T, d sqlstore.Dialect) {
				e := newEnv(t, d)
				oldDB(t, e, from, old, applied, rawDigests)

				s := e.open(t)
				if diff := cmp.Diff(allVersions(), migrationRows(t, s)); diff != "" {
					t.Errorf("schema_migrations after upgrade (-want +got):\n%s", diff)
				}

				// The event rows: each digest d is now the key 0xff×8 || d.
				for _, c := range old {
					var want []string
					for _, id := range applied[c.ID] {
						want = append(want, fmt.Sprintf("ffffffffffffffff%016x", fnv1a(id)))
						require.Equal(t, want[len(want)-1], lifecycle.LegacyKeyOf(id).String(), "LegacyKeyOf(%s)", id)
					}
					for _, d := range rawDigests[c.ID] {
						want = append(want, fmt.Sprintf("ffffffffffffffff%016x", uint64(d)))
					}
					slices.Sort(want)
					require.Equal(t, want, keyRows(t, s, c.ID), "key rows of %s after the upgrade", c.ID)
				}

				// Get: the customer as stored, old events seen.
				for _, c := range old {
					got, err := s.Get(ctx, c.ID)
					require.NoError(t, err)
					want := c.Clone()
					want.Seen, want.Due = legacy(applied[c.ID]...), time.Time{}
					if c.ID == "raw" {
						for _, d := range rawDigests["raw"] {
							var k lifecycle.EventKey
							binary.BigEndian.PutUint64(k[:8], math.MaxUint64)
							binary.BigEndian.PutUint64(k[8:], uint64(d))
							want.Seen.Add(k)
						}
					}
					if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
						t.Errorf("customer %s after the upgrade (-want +got):\n%s", c.ID, diff)
					}
					for _, id := range applied[c.ID] {
						require.True(t, got.HasSeen(id), "customer %s after the upgrade: HasSeen(%s)", c.ID, id)
					}
					require.False(t, got.HasSeen(fresh.ID), "customer %s after the upgrade: HasSeen(%s)", c.ID, fresh.ID)
				}

				// Every migrated customer is due at the next sweep.
				var due []string
				for id, err := range s.ListDue(ctx, day) {
					require.NoError(t, err)
					due = append(due, id)
				}
				slices.Sort(due)
				require.Equal(t, []string{"ada", "bob", "raw"}, due, "ListDue after the upgrade")

				// The stage index.
				var ids []string
				for id, err := range s.ListByStage(ctx, old[0].Stage) {
					require.NoError(t, err)
					ids = append(ids, id)
				}
				require.Equal(t, []string{"ada"}, ids)
				requireStageIndex(t, s)

				// Apply tells the old events from a new one.
				calls := 0
				require.NoError(t, applyOne(ctx, s, "ada", []string{"old-3", fresh.ID, "old-1"}, stored(func(c *lifecycle.Customer, seen []bool) (bool, error) {
					calls++
					require.Equal(t, []bool{true, false, true}, seen, "seen flags of old-3, new-1, old-1")
					return false, nil
				})))
				require.Equal(t, 1, calls)

				// The Tracker: a retried old event is a duplicate, a new
				// one is applied, as on the old release's store.
				tr := newTracker(s)
				for _, ev := range events {
					res, err := tr.Record(ctx, ev)
					require.NoError(t, err)
					require.True(t, res.Duplicate, "old event %s recorded again after the upgrade", ev.ID)
				}
				res, err := tr.Record(ctx, fresh)
				require.NoError(t, err)
				require.False(t, res.Duplicate, "new event %s", fresh.ID)
				require.Equal(t, wantRes, res, "recording a new event after the upgrade vs. on the old release's customer")
				res, err = tr.Record(ctx, fresh)
				require.NoError(t, err)
				require.True(t, res.Duplicate, "new event %s recorded twice", fresh.ID)
				got, err := s.Get(ctx, "ada")
				require.NoError(t, err)
				require.True(t, got.Seen.Contains(lifecycle.KeyOf(fresh.ID)), "the new event is stored under its key")
				for _, id := range applied["ada"] {
					require.True(t, got.HasSeen(id))
				}
			})
		})
	}
}

// requireStageIndex checks that the stage index exists.
func requireStageIndex(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`
	if s.Dialect() == sqlstore.Postgres {
		q = `SELECT count(*) FROM pg_indexes WHERE indexname = $1`
	}
	var n int
	require.NoError(t, s.DB().QueryRow(q, s.Table("customers_stage")).Scan(&n))
	require.Equal(t, 1, n, "index %s", s.Table("customers_stage"))
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s := e.open(t)
		_, err := s.DB().Exec(`INSERT INTO ` + s.Table("schema_migrations") + ` (version, name) VALUES (999, 'from the future')`)
		require.NoError(t, err)
		_, err = sqlstore.Connect(context.Background(), e.url, sqlstore.WithTablePrefix(e.prefix))
		if !errors.Is(err, sqlstore.ErrSchemaVersion) {
			t.Fatalf("Connect on a schema at version 999 = %v; want an error wrapping ErrSchemaVersion", err)
		}
	})
}

func TestOpenRefusesBadOptions(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		open func() (*sqlstore.Store, error)
		want string // in the message
	}{
		{"nil db", func() (*sqlstore.Store, error) { return sqlstore.Open(ctx, nil, sqlstore.SQLite) }, "nil *sql.DB"},
		{"unknown dialect", func() (*sqlstore.Store, error) { return sqlstore.Open(ctx, db, sqlstore.Dialect(7)) }, "Dialect(7)"},
		{"prefix with a dash", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("my-app_"))
		}, `"my-app_"`},
		{"prefix with SQL", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("x; DROP TABLE y; --"))
		}, "table prefix"},
		{"prefix starting with a digit", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithTablePrefix("1clm_"))
		}, `"1clm_"`},
		{"page size 0", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithScanPageSize(0))
		}, "page size 0"},
		{"negative retries", func() (*sqlstore.Store, error) {
			return sqlstore.Open(ctx, db, sqlstore.SQLite, sqlstore.WithRetries(-1))
		}, "retries -1"},
		{"mysql URL", func() (*sqlstore.Store, error) { return sqlstore.Connect(ctx, "mysql://u:secret@h/db") }, "mysql://u:xxxxx@h/db"},
		{"empty sqlite path", func() (*sqlstore.Store, error) { return sqlstore.Connect(ctx, "sqlite:") }, "names no file"},
	}
	// A nil option is ignored, and a nil logger discards, as in lifecycle.
	s, err := sqlstore.Open(ctx, db, sqlstore.SQLite, nil, sqlstore.WithScanPageSize(3), nil, sqlstore.WithLogger(nil))
	require.NoError(t, err, "Open with nil options and a nil logger")
	s.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.open()
			if !errors.Is(err, sqlstore.ErrInvalidOption) {
				t.Fatalf("got %v, %v; want an error wrapping ErrInvalidOption", s, err)
			}
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "secret")
		})
	}
}

// TestConnectMemory checks the one-connection in-memory SQLite database.
func TestConnectMemory(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Connect(ctx, "sqlite::memory:")
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "m", Stage: "reach", Version: 1}, 0))
	// Scan's body may write: Scan holds no connection while it runs.
	for c, err := range s.Scan(ctx) {
		require.NoError(t, err)
		c.Version++
		require.NoError(t, s.Put(ctx, c, c.Version-1))
	}
	got, err := s.Get(ctx, "m")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Version)
}

// TestConnectMemoryWithParameters checks that "sqlite::memory:" carrying
// query parameters is still the one private in-memory database, however
// many goroutines use the Store: every connection of a pool to
// ":memory:" would be a database of its own, without the tables.
func TestConnectMemoryWithParameters(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"sqlite::memory:?_pragma=synchronous(NORMAL)", "sqlite:file::memory:"} {
		t.Run(url, func(t *testing.T) {
			s, err := sqlstore.Connect(ctx, url)
			require.NoError(t, err)
			defer s.Close()
			for i := range 8 {
				require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Stage: "reach", Version: 1}, 0))
			}
			// Concurrent readers: the pool would open more connections.
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 8 {
						if _, err := s.Get(ctx, "c"+strconv.Itoa(i)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			n, err := s.Count(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(8), n)
		})
	}
}

// TestPostgresWrittenTablesHaveNoChecks: schema 7 drops the CHECK
// constraints of the tables every write touches (PostgreSQL prepares them
// anew for each statement; the store checks the same rules before it
// writes, which input_test.go holds it to), and leaves the feed row's.
func TestPostgresWrittenTablesHaveNoChecks(t *testing.T) {
	s := newEnv(t, sqlstore.Postgres).open(t)
	count := func(tables ...string) int {
		t.Helper()
		var n int
		require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid::regclass::text = ANY ($1)`, tables).Scan(&n))
		return n
	}
	require.Zero(t, count(s.Table("customers"), s.Table("events"), s.Table("changes")), "CHECK constraints on the written tables")
	require.Equal(t, 1, count(s.Table("feed")), "CHECK constraints on the feed row's table")
	// The rules hold without them: an ID too long is refused by the store.
	err := s.Put(context.Background(), &lifecycle.Customer{ID: strings.Repeat("x", sqlstore.MaxIDLen+1), Stage: "reach", Version: 1}, 0)
	require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
}
