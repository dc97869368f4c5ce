package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// migration is one step of the schema. Steps are applied in order, each
// at most once per database and table prefix; a step is never changed
// once released, only new steps are appended.
type migration struct {
	name     string
	postgres []string
	sqlite   []string
	// only names the one dialect a step is for ("postgres" or "sqlite");
	// the other dialect records the step with no statements.
	only string
}

// migrations is the schema history; the schema version is its length.
// {c}, {e} and {p} stand for the customers table, the events table and the
// table prefix.
var migrations = []migration{
	{
		name: "customers and applied events",
		postgres: []string{
			`CREATE TABLE {c} (
	id      text COLLATE "C" PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 256),
	stage   text COLLATE "C" NOT NULL CHECK (octet_length(stage) <= 256),
	version bigint NOT NULL CHECK (version > 0),
	as_of   timestamptz NOT NULL,
	data    jsonb NOT NULL
)`,
			`CREATE TABLE {e} (
	customer_id text COLLATE "C" NOT NULL,
	digest      bigint NOT NULL,
	PRIMARY KEY (customer_id, digest)
)`,
		},
		sqlite: []string{
			`CREATE TABLE {c} (
	id      TEXT NOT NULL PRIMARY KEY CHECK (length(CAST(id AS BLOB)) BETWEEN 1 AND 256),
	stage   TEXT NOT NULL CHECK (length(CAST(stage AS BLOB)) <= 256),
	version INTEGER NOT NULL CHECK (version > 0),
	as_of   TEXT NOT NULL,
	data    TEXT NOT NULL
) WITHOUT ROWID`,
			`CREATE TABLE {e} (
	customer_id TEXT NOT NULL,
	digest      INTEGER NOT NULL,
	PRIMARY KEY (customer_id, digest)
) WITHOUT ROWID`,
		},
	},
	{
		name:     "index customers by stage",
		postgres: []string{`CREATE INDEX {p}customers_stage ON {c} (stage, id)`},
		sqlite:   []string{`CREATE INDEX {p}customers_stage ON {c} (stage, id)`},
	},
	{
		// Seen becomes 128-bit event keys (lifecycle.EventKey); the old
		// 64-bit digests stay as legacy keys (lifecycle.LegacyKeyOf), so
		// a retry of an event recorded before the upgrade is still found.
		// Customers get an indexed due time (NULL: never); those stored
		// before it are due at the next sweep, which computes theirs.
		name: "event keys and due times",
		postgres: []string{
			`ALTER TABLE {e} RENAME TO {p}events_v2`,
			`CREATE TABLE {e} (
	customer_id text COLLATE "C" NOT NULL,
	key         bytea NOT NULL CHECK (octet_length(key) = 16),
	CONSTRAINT {p}event_keys_pkey PRIMARY KEY (customer_id, key)
)`,
			`INSERT INTO {e} (customer_id, key) SELECT customer_id, '\xffffffffffffffff'::bytea || int8send(digest) FROM {p}events_v2`,
			`DROP TABLE {p}events_v2`,
			`ALTER TABLE {c} ADD COLUMN due bigint`,
			`UPDATE {c} SET due = -9223372036854775808`,
			`CREATE INDEX {p}customers_due ON {c} (due, id) WHERE due IS NOT NULL`,
		},
		sqlite: []string{
			`ALTER TABLE {e} RENAME TO {p}events_v2`,
			`CREATE TABLE {e} (
	customer_id TEXT NOT NULL,
	key         BLOB NOT NULL CHECK (length(key) = 16),
	PRIMARY KEY (customer_id, key)
) WITHOUT ROWID`,
			`INSERT INTO {e} (customer_id, key) SELECT customer_id, unhex('FFFFFFFFFFFFFFFF' || printf('%016X', digest)) FROM {p}events_v2`,
			`DROP TABLE {p}events_v2`,
			`ALTER TABLE {c} ADD COLUMN due INTEGER`,
			`UPDATE {c} SET due = -9223372036854775808`,
			`CREATE INDEX {p}customers_due ON {c} (due, id) WHERE due IS NOT NULL`,
		},
	},
	{
		// The data column holds the JSON form as bytes: PostgreSQL no
		// longer parses it into jsonb on every write, which only Go reads.
		// (SQLite's TEXT column is stored as given already.)
		name: "data column as bytes",
		only: "postgres",
		postgres: []string{
			`ALTER TABLE {c} ALTER COLUMN data TYPE bytea USING convert_to(data::text, 'UTF8')`,
		},
	},
	{
		// The change feed: a row per transition written from now on
		// (those stored before are not listed), numbered (pos) only
		// when a reader lists the feed, under the lock of the feed row,
		// in an order writers cannot overtake; and the dispatchers'
		// named cursors with their leases.
		name: "change feed",
		postgres: []string{
			`CREATE TABLE {p}changes (
	customer_id text COLLATE "C" NOT NULL,
	seq         bigint NOT NULL CHECK (seq > 0),
	pos         bigint,
	CONSTRAINT {p}changes_pkey PRIMARY KEY (customer_id, seq)
)`,
			`CREATE UNIQUE INDEX {p}changes_pos ON {p}changes (pos)`,
			`CREATE INDEX {p}changes_new ON {p}changes (customer_id, seq) WHERE pos IS NULL`,
			`CREATE TABLE {p}feed (one integer PRIMARY KEY CHECK (one = 1), last bigint NOT NULL)`,
			`INSERT INTO {p}feed (one, last) VALUES (1, 0)`,
			`CREATE TABLE {p}feed_cursors (
	name  text COLLATE "C" PRIMARY KEY,
	pos   bigint NOT NULL,
	owner text NOT NULL,
	until bigint NOT NULL
)`,
		},
		sqlite: []string{
			`CREATE TABLE {p}changes (
	customer_id TEXT NOT NULL,
	seq         INTEGER NOT NULL CHECK (seq > 0),
	pos         INTEGER,
	PRIMARY KEY (customer_id, seq)
) WITHOUT ROWID`,
			`CREATE UNIQUE INDEX {p}changes_pos ON {p}changes (pos)`,
			`CREATE INDEX {p}changes_new ON {p}changes (customer_id, seq) WHERE pos IS NULL`,
			`CREATE TABLE {p}feed (one INTEGER PRIMARY KEY CHECK (one = 1), last INTEGER NOT NULL)`,
			`INSERT INTO {p}feed (one, last) VALUES (1, 0)`,
			`CREATE TABLE {p}feed_cursors (
	name  TEXT PRIMARY KEY,
	pos   INTEGER NOT NULL,
	owner TEXT NOT NULL,
	until INTEGER NOT NULL
) WITHOUT ROWID`,
		},
	},
	{
		// Cursors' lease times in Unix microseconds instead of
		// nanoseconds, which held only the years 1678–2261: beyond them
		// every time compared equal, and a lease could be taken from its
		// holder.
		name:     "lease times in microseconds",
		postgres: []string{`UPDATE {p}feed_cursors SET until = until / 1000`},
		sqlite:   []string{`UPDATE {p}feed_cursors SET until = until / 1000`},
	},
	{
		// PostgreSQL prepares a table's CHECK constraints anew for every
		// statement that writes it (it reads each from the catalog's text
		// form and plans it as an expression): on the write of an event
		// that was about 30 µs of a 45–75 µs statement. The store checks
		// the same rules before it writes (IDs, stages, keys, versions,
		// sequence numbers), so the writes' tables drop them (the
		// store's own, by the names PostgreSQL gave them; constraints a
		// user added stay). SQLite
		// compiles its checks into the prepared statement: they stay.
		name: "no CHECK constraints on the written tables",
		only: "postgres",
		postgres: []string{
			`ALTER TABLE {c} DROP CONSTRAINT IF EXISTS {p}customers_id_check,
	DROP CONSTRAINT IF EXISTS {p}customers_stage_check,
	DROP CONSTRAINT IF EXISTS {p}customers_version_check`,
			`ALTER TABLE {e} DROP CONSTRAINT IF EXISTS {p}events_key_check`,
			`ALTER TABLE {p}changes DROP CONSTRAINT IF EXISTS {p}changes_seq_check`,
		},
	},
}

// SchemaVersion is the schema version this package creates and expects:
// the number of migrations it knows (1: customers and events tables; 2: the
// stage index; 3: 128-bit event keys, with the old digests kept as legacy
// keys, and the indexed due time; 4: PostgreSQL's data column as bytea;
// 5: the change feed and its cursors; 6: the cursors' lease times in
// microseconds; 7: PostgreSQL's written tables without CHECK constraints,
// which the store checks itself).
const SchemaVersion = 7

// migrate brings the schema to version target (tests use targets below
// len(migrations) to check upgrades).
func (s *Store) migrate(ctx context.Context, target int) error {
	r := strings.NewReplacer("{c}", s.prefix+"customers", "{e}", s.prefix+"events", "{p}", s.prefix)
	table := s.prefix + "schema_migrations"
	var err error
	for attempt := 0; ; attempt++ {
		switch s.dialect {
		case Postgres:
			err = s.migratePostgres(ctx, r, table, target)
		case SQLite:
			err = s.migrateSQLite(ctx, r, table, target)
		}
		// SQLite without a busy timeout answers "database is locked" at
		// once when another process migrates: wait and try again.
		if err == nil || !isTransient(err) || attempt >= 50 {
			break
		}
		if serr := sleep(ctx, 20*time.Millisecond); serr != nil {
			return serr
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate %s tables %q: %w", s.dialect, s.prefix+"*", err)
	}
	return nil
}

func (s *Store) migratePostgres(ctx context.Context, r *strings.Replacer, table string, target int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Instances starting at once queue here; the lock is released at
	// commit or rollback. The key is derived from the prefix, so stores
	// under other prefixes do not wait.
	lockKey := lockKey("clm.sqlstore.migrate:" + s.prefix)
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return err
	}
	applied, err := s.apply(ctx, tx, r, table, target, func(m migration) []string { return m.postgres }, `INSERT INTO `+table+` (version, name) VALUES ($1, $2)`)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.logApplied(ctx, applied, target)
	return nil
}

func (s *Store) migrateSQLite(ctx context.Context, r *strings.Replacer, table string, target int) (err error) {
	// BEGIN IMMEDIATE takes the write lock before the first read, so that
	// two processes cannot both read "version 0" and then both create the
	// tables.
	tx, err := beginImmediate(ctx, s.db)
	if err != nil {
		return err
	}
	defer tx.end(ctx)
	conn := tx.conn
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`); err != nil {
		return err
	}
	applied, err := s.apply(ctx, conn, r, table, target, func(m migration) []string { return m.sqlite }, `INSERT INTO `+table+` (version, name) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return err
	}
	s.logApplied(ctx, applied, target)
	return nil
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// apply runs the migrations after the stored version up to target, inside
// the caller's transaction, and returns how many it ran.
func (s *Store) apply(ctx context.Context, tx execQuerier, r *strings.Replacer, table string, target int, stmts func(migration) []string, record string) (int, error) {
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&have); err != nil {
		return 0, err
	}
	if have > len(migrations) {
		return 0, fmt.Errorf("%w: the database is at version %d, this code knows %d", ErrSchemaVersion, have, len(migrations))
	}
	n := 0
	for v := have + 1; v <= target; v++ {
		m := migrations[v-1]
		for _, q := range stmts(m) {
			if _, err := tx.ExecContext(ctx, r.Replace(q)); err != nil {
				return 0, fmt.Errorf("migration %d (%s): %w", v, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, record, v, m.name); err != nil {
			return 0, fmt.Errorf("migration %d (%s): recording it: %w", v, m.name, err)
		}
		n++
	}
	return n, nil
}

func (s *Store) logApplied(ctx context.Context, n, target int) {
	if n > 0 {
		s.log.InfoContext(ctx, "sqlstore: migrated schema", "dialect", s.dialect.String(), "prefix", s.prefix, "applied", n, "version", target)
	}
}

// lockKey returns a PostgreSQL advisory lock key for name: its 64-bit
// FNV-1a hash, the same in every process.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}
