// Package sqlstore is a durable [lifecycle.Store] on database/sql, for
// PostgreSQL (through the pgx driver) and SQLite (through modernc.org/sqlite,
// pure Go, no cgo). It is the store for shop backends that run several
// instances against one database, and for single processes that must keep
// their customers across restarts.
//
// Two ways in:
//
//	s, err := sqlstore.Connect(ctx, "postgres://user:pw@db:5432/shop")   // or "sqlite:/var/lib/shop/clm.db"
//	s, err := sqlstore.Open(ctx, db, sqlstore.Postgres)                   // your own *sql.DB
//
// Both create or upgrade the store's tables (see [Open]) before returning,
// so the store is ready to hand to [lifecycle.NewTracker]; both ignore nil
// options.
//
// What the store guarantees, beyond the rules of [lifecycle.Store]:
//   - Each Put is one database transaction: the customer row and the rows
//     of its applied event keys (table "<prefix>events") change together or
//     not at all, so the events a customer has applied are a durable,
//     queryable record that always agrees with [lifecycle.Customer.Seen].
//   - Compare-and-swap is done by the database (UPDATE … WHERE version = prev;
//     INSERT … ON CONFLICT DO NOTHING for prev 0), so any number of
//     processes may write through their own connection pools.
//   - The store is a [lifecycle.Applier]: the [lifecycle.Tracker] records
//     through [Store.Apply], which looks up only the given events' keys and
//     writes only the customers' rows and the new keys, so its cost does
//     not grow with the number of events a customer has had (it does
//     rewrite the customer's row, history of stage changes included). On
//     PostgreSQL an Apply is one read and one write statement for all its
//     customers (the write run once more when it finds an event a held
//     customer had; see [Store.Apply]; from 64 customers on, the write is two statements sent
//     at once, one per half; from 1,000, the read is two when some of
//     them are stored, the first without event keys; a RecordBatch is two round trips, plus one
//     Apply for the referral credits it earns), and a customer this Store last
//     wrote needs only the write (see [Store.Apply]); on SQLite it is one
//     BEGIN IMMEDIATE transaction.
//   - The store is a [lifecycle.DueLister]: customers carry an indexed due
//     time, and [lifecycle.Tracker.Sweep] reads only the customers who are
//     due ([Store.ListDue]).
//   - Scan pages through the customers in ID order (keyset pagination), so
//     its memory does not grow with the number of customers, and it holds no
//     connection while the caller's loop body runs.
//   - Values the database could not store faithfully (IDs longer than
//     [MaxIDLen] bytes, invalid UTF-8, NUL bytes, times outside the years
//     0–9999 or whose UTC offset has seconds or is 24 hours or more, and a
//     zero Facts.ReferredAt or Facts.ScoreAt at an offset other than UTC's,
//     which would read back in UTC) are refused before anything is written,
//     with a [*ValueError].
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers driver "pgx"
	_ "modernc.org/sqlite"           // registers driver "sqlite"

	"github.com/clmkit/clm/lifecycle"
)

// Sentinel errors; test with [errors.Is].
var (
	// ErrInvalidOption is wrapped by errors about a bad option or URL given
	// to [Open] or [Connect].
	ErrInvalidOption = errors.New("sqlstore: invalid option")
	// ErrSchemaVersion means the database's schema was migrated by a newer
	// version of this package than the running one; the store refuses to
	// touch it.
	ErrSchemaVersion = errors.New("sqlstore: schema version is newer than this code")
	// ErrInvalidCursor is wrapped by the errors of [Store.ClaimCursor]
	// and [Store.AdvanceCursor] for a cursor name or owner the store
	// cannot hold.
	ErrInvalidCursor = errors.New("sqlstore: invalid cursor name or owner")
)

// MaxIDLen is the longest customer ID, in bytes, the store holds. It equals
// [lifecycle.MaxIDLen], the longest ID an event may carry.
const MaxIDLen = lifecycle.MaxIDLen

// MaxStageLen is the longest stage ID, event type, currency or referrer
// ID, in bytes, the store holds. A history cause may be up to
// [lifecycle.MaxCauseLen] bytes, so that every cause the Tracker writes
// (a referral credit's is "clm.referral:" and a customer ID of up to
// [MaxIDLen] bytes) fits, as it does in store.Memory.
const MaxStageLen = 256

// Dialect names the SQL database behind a [Store].
type Dialect int

// The supported dialects.
const (
	// Postgres is PostgreSQL 12 or later, through the driver registered as
	// "pgx" (github.com/jackc/pgx/v5/stdlib).
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.41 or later (for unhex), through the driver registered as
	// "sqlite" (modernc.org/sqlite).
	SQLite
)

// String returns "postgres" or "sqlite" (for another value, "Dialect(n)").
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Defaults of the options.
const (
	// DefaultTablePrefix is prepended to the names of the store's tables.
	DefaultTablePrefix = "clm_"
	// DefaultScanPageSize is how many customers Scan reads per query.
	DefaultScanPageSize = 256
	// DefaultRetries is how many times a Put (or an Apply, before its fn
	// runs) is re-run after a transient database failure before it gives
	// up.
	DefaultRetries = 4
)

// Option configures a [Store]; pass options to [Open] or [Connect].
type Option func(*config)

type config struct {
	prefix  string
	page    int
	retries int
	log     *slog.Logger
	errs    []error
}

// WithTablePrefix sets the prefix of the store's table names (default
// [DefaultTablePrefix], giving clm_customers, clm_events, clm_changes,
// clm_feed, clm_feed_cursors and clm_schema_migrations). Several stores may share one database under
// different prefixes. The prefix is at most 32 bytes of lower-case ASCII
// letters, digits and underscores, and does not start with a digit or
// with "sqlite_" (names SQLite keeps for itself; refused on PostgreSQL
// too, so that a prefix valid on one is valid on both); it may be empty.
func WithTablePrefix(p string) Option {
	return func(c *config) {
		if !validPrefix(p) {
			c.errs = append(c.errs, fmt.Errorf("%w: table prefix %q: want at most 32 bytes of [a-z0-9_], not starting with a digit or sqlite_", ErrInvalidOption, p))
			return
		}
		c.prefix = p
	}
}

// WithScanPageSize sets how many customers Scan, ListByStage and ListDue
// read per query (default [DefaultScanPageSize]; 1 to 100000). Scan keeps at most
// one page of customers in memory.
func WithScanPageSize(n int) Option {
	return func(c *config) {
		if n < 1 || n > 100_000 {
			c.errs = append(c.errs, fmt.Errorf("%w: scan page size %d: want 1 to 100000", ErrInvalidOption, n))
			return
		}
		c.page = n
	}
}

// WithRetries sets how many times Put (and Apply, before it calls its fn)
// is re-run, after a short pause
// (1 ms, doubling, at most 64 ms), when the database reports a transient
// failure: a PostgreSQL serialization failure (SQLSTATE 40001) or deadlock
// (40P01), or SQLite's "database is locked" (SQLITE_BUSY, SQLITE_LOCKED).
// Default [DefaultRetries]; 0 disables retrying; at most 100.
func WithRetries(n int) Option {
	return func(c *config) {
		if n < 0 || n > 100 {
			c.errs = append(c.errs, fmt.Errorf("%w: retries %d: want 0 to 100", ErrInvalidOption, n))
			return
		}
		c.retries = n
	}
}

// WithLogger sets the logger for migrations (Info) and retried transient
// failures (Debug). The default, and what a nil l means, is to discard, as
// with lifecycle.WithLogger.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.log = l
	}
}

func validPrefix(p string) bool {
	if len(p) > 32 || strings.HasPrefix(p, "sqlite_") {
		return false
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case b >= 'a' && b <= 'z', b == '_':
		case b >= '0' && b <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Store is a [lifecycle.Store], [lifecycle.Loader], [lifecycle.Applier],
// [lifecycle.DueLister], [lifecycle.ChangeLister] and
// [lifecycle.CursorKeeper] on a SQL database.
// It is safe for concurrent use; any number of Stores, in one process or
// many, may share one database. Create it with [Open] or [Connect].
type Store struct {
	db      *sql.DB
	own     bool
	dialect Dialect
	prefix  string
	page    int
	retries int
	log     *slog.Logger
	q       queries
	// rows holds the customers Apply last wrote (PostgreSQL).
	rows rowCache
	// pgx is what Apply's write statement reads of the connections'
	// config (PostgreSQL).
	pgx pgxConfig
	// wlock serialises this Store's SQLite write transactions: SQLite has
	// one writer at a time, and waiting here is cheaper than in SQLite's
	// busy handler. Nil for PostgreSQL.
	wlock chan struct{}
}

var (
	_ lifecycle.Store     = (*Store)(nil)
	_ lifecycle.Loader    = (*Store)(nil)
	_ lifecycle.Applier   = (*Store)(nil)
	_ lifecycle.DueLister = (*Store)(nil)
)

// Open returns a Store on db, which must have been opened with the driver
// of dialect d ("pgx" for [Postgres], "sqlite" for [SQLite]). Before
// returning, Open brings the store's tables to the current schema version,
// creating them in a fresh database; this is idempotent and safe when
// several processes open the same database at once (PostgreSQL: a
// transaction-scoped advisory lock; SQLite: BEGIN IMMEDIATE). Open fails
// with an error wrapping [ErrSchemaVersion] if a newer version of this
// package has migrated the database.
//
// On PostgreSQL, open db with plan_cache_mode=force_generic_plan and
// enable_seqscan=off (as connection parameters, e.g.
// "postgres://…?plan_cache_mode=force_generic_plan&enable_seqscan=off";
// [Connect] adds them): the store's statements take arrays, and planning
// them anew at every execution, which PostgreSQL otherwise does for their
// first executions on each connection and whenever it judges a custom plan
// cheaper, costs more than running them; and a connection keeps the
// generic plan it made first, so one made while a table was small (where
// a sequential scan looks cheaper than an index probe) would read the
// whole table on every write once it has grown, until the next ANALYZE.
// Every statement of the store reaches its rows through an index; other
// queries on these connections get no sequential scan where an index
// serves.
//
// The Store does not own db: [Store.Close] leaves it open. For SQLite,
// open db with a busy timeout (e.g. "file:clm.db?_pragma=busy_timeout(10000)")
// when other processes write to the same file; [Connect] does this for you.
func Open(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *sql.DB", ErrInvalidOption)
	}
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	if d != Postgres && d != SQLite {
		return nil, fmt.Errorf("%w: unknown dialect %v", ErrInvalidOption, d)
	}
	cfg := config{prefix: DefaultTablePrefix, page: DefaultScanPageSize, retries: DefaultRetries, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if len(cfg.errs) > 0 {
		return nil, errors.Join(cfg.errs...)
	}
	s := &Store{
		db:      db,
		dialect: d,
		prefix:  cfg.prefix,
		page:    cfg.page,
		retries: cfg.retries,
		log:     cfg.log,
		q:       buildQueries(d, cfg.prefix),
	}
	if d == SQLite {
		s.wlock = make(chan struct{}, 1)
	}
	if err := s.migrate(ctx, len(migrations)); err != nil {
		return nil, err
	}
	return s, nil
}

// Connect opens a database from a URL and returns a Store on it, as [Open]
// does. The Store owns the connection pool: [Store.Close] closes it.
//
// URL forms:
//   - "postgres://…" or "postgresql://…": PostgreSQL, any connection URL
//     the pgx driver accepts (e.g. postgres://clm:secret@db:5432/shop?sslmode=require).
//   - "sqlite:PATH": SQLite in the file PATH, created if missing (its
//     folder must exist: a PATH whose folder does not is refused with an
//     error naming both and wrapping the os.Stat error, so
//     errors.Is(err, fs.ErrNotExist) holds; one whose folder is a file,
//     with one wrapping syscall.ENOTDIR; a PATH that is a folder, with one
//     naming it and wrapping syscall.EISDIR). PATH may
//     carry modernc.org/sqlite query parameters after a "?"
//     ("sqlite:clm.db?_pragma=synchronous(NORMAL)"), so the file's name
//     cannot hold one ("#" and "%" it may), nor a NUL byte (refused
//     with an error wrapping [ErrInvalidOption]); a PATH that starts with
//     "file:" is an SQLite URI, not escaped (Connect still adds the
//     settings below that it does not set; "file::memory:" is ":memory:"),
//     and one that starts with several slashes is the absolute path with
//     one.
//     Connect adds busy_timeout(10000) (wait up to 10 s for another
//     writer), journal_mode(WAL) and _txlock=immediate unless the URL sets
//     them as the driver reads it: a _pragma naming the pragma (in any
//     letter case, "_pragma=BUSY_TIMEOUT(50)"), or the driver's own
//     _busy_timeout or _timeout, _journal_mode or _journal, and _txlock
//     (names the driver reads in lower case only: it ignores "_TIMEOUT=50",
//     so the default applies then). One of those five driver parameters
//     given empty ("_txlock="), which the driver would ignore, or with a
//     value the driver refuses ("_busy_timeout=abc", "_txlock=bogus"),
//     and a query that cannot be parsed ("?%zz"), are refused with an
//     error wrapping [ErrInvalidOption] that names it; other driver
//     parameters are the driver's to check, when the first connection
//     opens. "sqlite::memory:" (with or without
//     parameters) is a private in-memory database, limited to one
//     connection.
//
// For PostgreSQL, Connect parses the URL as pgx does (one it cannot parse
// is refused with an error wrapping [ErrInvalidOption]) and adds
// plan_cache_mode=force_generic_plan and enable_seqscan=off (settings of
// the store's own connections; PostgreSQL 12 or later) unless the URL
// sets them, in any letter case, as query parameters or in its options
// parameter ("options=-c enable_seqscan=on"): see [Open].
//
// The pool keeps up to 16 idle connections (database/sql's default is 2,
// too few for concurrent writers); change it with [Store.DB]'s
// SetMaxIdleConns and SetMaxOpenConns.
//
// Any other URL is refused with an error wrapping [ErrInvalidOption],
// which shows the URL with what may be a secret hidden: the password
// before its last "@" (all of what precedes it, after the scheme, when
// it has no ":"), and the value of a password=… pair.
func Connect(ctx context.Context, url string, opts ...Option) (*Store, error) {
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	var (
		driver, dsn string
		d           Dialect
		memory      bool
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		d = Postgres
	case strings.HasPrefix(url, "sqlite:"):
		driver, d = "sqlite", SQLite
		var err error
		dsn, memory, err = sqliteDSN(strings.TrimPrefix(url, "sqlite:"))
		if err != nil {
			return nil, err
		}
		if dsn == "" {
			return nil, fmt.Errorf("%w: URL %q names no file", ErrInvalidOption, url)
		}
	default:
		return nil, fmt.Errorf("%w: URL %q: want postgres://…, postgresql://… or sqlite:PATH", ErrInvalidOption, redact(url))
	}
	var db *sql.DB
	if d == Postgres {
		cfg, err := postgresConfig(url)
		if err != nil {
			// (pgx's parse errors hide the URL's password.)
			return nil, fmt.Errorf("%w: %v", ErrInvalidOption, err)
		}
		db = stdlib.OpenDB(*cfg)
	} else {
		var err error
		if db, err = sql.Open(driver, dsn); err != nil {
			return nil, fmt.Errorf("sqlstore: open %s: %w", d, err)
		}
	}
	if memory {
		db.SetMaxOpenConns(1)
	} else {
		// database/sql keeps only 2 idle connections by default; with more
		// concurrent writers every call would open a new one.
		db.SetMaxIdleConns(connectMaxIdle)
	}
	s, err := Open(ctx, db, d, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

const connectMaxIdle = 16

// sqliteDSN turns the part after "sqlite:" into a modernc.org/sqlite DSN.
func sqliteDSN(path string) (dsn string, memory bool, err error) {
	if path == "" {
		return "", false, nil
	}
	name, query, _ := strings.Cut(path, "?")
	if name == "" {
		return "", false, nil
	}
	if strings.IndexByte(path, 0) >= 0 {
		// The driver would cut the name at the NUL and open another file
		// (or, for a name that starts with it, a temporary database).
		return "", false, fmt.Errorf("%w: SQLite URL %q holds a NUL byte", ErrInvalidOption, path)
	}
	memory = name == ":memory:" || name == "file::memory:"
	if !memory && !strings.HasPrefix(name, "file:") {
		// A "file:" URI: the driver reads % as an escape and # as the
		// start of a fragment, so a path holding them is escaped to
		// name that very file. Leading slashes are one (the same file;
		// "file://x" would name a host x).
		if strings.HasPrefix(name, "//") {
			name = "/" + strings.TrimLeft(name, "/")
		}
		// The driver creates the file, not its folder, and would say
		// only "unable to open database file".
		if dir := filepath.Dir(name); dir != "." {
			fi, err := os.Stat(dir)
			if err == nil && !fi.IsDir() {
				err = &fs.PathError{Op: "stat", Path: dir, Err: syscall.ENOTDIR}
			}
			if err != nil {
				return "", false, fmt.Errorf("sqlstore: SQLite file %q: its folder %q cannot be used (Connect creates the file, not its folder): %w", name, dir, err)
			}
		}
		if fi, err := os.Stat(name); err == nil && fi.IsDir() {
			return "", false, fmt.Errorf("sqlstore: SQLite file %q is a folder: %w", name, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR})
		}
		name = "file:" + strings.NewReplacer("%", "%25", "#", "%23").Replace(name)
	}
	// What the driver will set, read as it reads the query: its parameter
	// names exactly (it ignores "_TIMEOUT"), the pragma a _pragma value
	// names in any letter case (as SQLite reads it).
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", false, fmt.Errorf("%w: SQLite URL query %q: %v", ErrInvalidOption, query, err)
	}
	// A setting given empty the driver ignores, and a default added
	// beside it would not apply either (the driver reads a parameter's
	// first value): refuse it rather than open a store without it. A
	// value the driver refuses is refused here, naming it, rather than
	// when the first connection opens.
	for _, k := range []string{"_busy_timeout", "_timeout", "_journal_mode", "_journal", "_txlock"} {
		if _, ok := params[k]; !ok {
			continue
		}
		v := params.Get(k)
		if v == "" {
			return "", false, fmt.Errorf("%w: SQLite URL parameter %s is empty (give it a value, or leave it out for the default)", ErrInvalidOption, k)
		}
		if alias := sqliteAlias[k]; alias != "" && params.Has(alias) {
			continue // the driver reads the alias's value instead
		}
		if want := sqliteParamValues[k]; want == nil {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return "", false, fmt.Errorf("%w: SQLite URL parameter %s=%q: want a whole number of milliseconds", ErrInvalidOption, k, v)
			}
		} else if !slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(v, w) }) {
			return "", false, fmt.Errorf("%w: SQLite URL parameter %s=%q: want one of %s", ErrInvalidOption, k, v, strings.Join(want, ", "))
		}
	}
	if memory {
		// Every connection to ":memory:" is a database of its own: the
		// caller limits the pool to one. Busy timeout and WAL do not apply.
		if query != "" {
			return name + "?" + query, true, nil
		}
		return name, true, nil
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := params[k]; ok {
				return true
			}
		}
		return false
	}
	var add []string
	if !has("_busy_timeout", "_timeout") && !setsPragma(params["_pragma"], "busy_timeout") {
		add = append(add, "_pragma=busy_timeout(10000)")
	}
	if !has("_journal_mode", "_journal") && !setsPragma(params["_pragma"], "journal_mode") {
		add = append(add, "_pragma=journal_mode(WAL)")
	}
	if !has("_txlock") {
		add = append(add, "_txlock=immediate")
	}
	if query != "" {
		add = append([]string{query}, add...)
	}
	return name + "?" + strings.Join(add, "&"), false, nil
}

// sqliteAlias maps a driver parameter to its alias, whose value the
// driver reads instead when both are given.
var sqliteAlias = map[string]string{"_busy_timeout": "_timeout", "_journal_mode": "_journal"}

// sqliteParamValues holds the values the driver accepts (in any letter
// case) for the URL parameters whose defaults Connect sets; a parameter
// not in it (_busy_timeout, _timeout) takes a whole number.
var sqliteParamValues = map[string][]string{
	"_journal_mode": sqliteJournalModes,
	"_journal":      sqliteJournalModes,
	"_txlock":       {"deferred", "immediate", "exclusive"},
}

var sqliteJournalModes = []string{"DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"}

// setsPragma reports whether one of the driver's _pragma values (each run
// as "PRAGMA value") sets the pragma name: "busy_timeout(50)",
// " Busy_Timeout = 50" and "main.journal_mode(WAL)" set busy_timeout and
// journal_mode.
func setsPragma(values []string, name string) bool {
	for _, v := range values {
		v, _, _ = strings.Cut(v, "(")
		v, _, _ = strings.Cut(v, "=")
		v = strings.TrimSpace(v)
		if i := strings.LastIndexByte(v, '.'); i >= 0 {
			v = strings.TrimSpace(v[i+1:])
		}
		if strings.EqualFold(v, name) {
			return true
		}
	}
	return false
}

// postgresConfig parses a PostgreSQL URL as pgx does and adds the
// settings of the store's connections that it does not set itself (see
// [Connect]): plan_cache_mode=force_generic_plan, because the store's
// statements are prepared once per connection, and with their array
// parameters a custom plan per execution costs more than the statement
// itself (measured: Record 2.5× faster); and enable_seqscan=off, because
// a generic plan made while a table was small (a sequential scan of a few
// pages looks cheaper than an index probe) is kept as the table grows, and
// every statement of the store reaches its rows through an index. A
// setting counts as set whatever the letter case of its name, and when
// the URL's options parameter names it.
func postgresConfig(url string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	for _, p := range [][2]string{{"plan_cache_mode", "force_generic_plan"}, {"enable_seqscan", "off"}} {
		if !setsParam(cfg.RuntimeParams, p[0]) {
			cfg.RuntimeParams[p[0]] = p[1]
		}
	}
	return cfg, nil
}

// setsParam reports whether a connection's run-time parameters set the
// server setting name (lower case), directly or in options, read as the
// server reads its command-line options: words split at white space (a
// backslash keeps the next character in the word), each "-c name=…",
// "-cname=…" or "--name=…" setting name, its dashes read as underscores.
// A word that only holds name ("-c zr.name=on", "-c x=name=on") sets
// another setting.
func setsParam(params map[string]string, name string) bool {
	for k, v := range params {
		if strings.EqualFold(k, name) {
			return true
		}
		if !strings.EqualFold(k, "options") {
			continue
		}
		words := optionWords(v)
		for i, w := range words {
			var set string
			switch {
			case w == "-c" && i+1 < len(words):
				set = words[i+1]
			case strings.HasPrefix(w, "--"):
				set = w[2:]
			case strings.HasPrefix(w, "-c"):
				set = w[2:]
			default:
				continue
			}
			key, _, _ := strings.Cut(set, "=")
			if strings.ReplaceAll(strings.ToLower(key), "-", "_") == name {
				return true
			}
		}
	}
	return false
}

// optionWords splits a connection's options into words as PostgreSQL
// does: at white space, a backslash taking the next character as it is.
func optionWords(s string) []string {
	var words []string
	var w strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if in {
				words, in = append(words, w.String()), false
				w.Reset()
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// redact hides what may be a secret in a URL Connect does not support,
// for its error message: what comes before the last "@" (a password may
// hold an unescaped "@") after the scheme's "//" (or the start: a
// misspelt scheme may lack it) and its first ":", or all of it when it
// has no ":" (a token), and the value of every key ending in "password"
// of a key=value connection string.
func redact(url string) string {
	url = secretValue.ReplaceAllString(url, "${1}=xxxxx") // first: a password may hold "@"
	if at := strings.LastIndex(url, "@"); at >= 0 {
		start := 0
		if i := strings.Index(url[:at], "://"); i >= 0 {
			start = i + len("://")
		}
		if i := strings.IndexByte(url[start:at], ':'); i >= 0 {
			start += i + 1
		}
		url = url[:start] + "xxxxx" + url[at:]
	}
	return url
}

// secretValue matches a password in a key=value connection string
// (password=…, sslpassword = '…'), quoted or not.
var secretValue = regexp.MustCompile(`(?i)(\w*password)\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)`)

// Close closes the connection pool if the Store was made by [Connect];
// a Store made by [Open] leaves its *sql.DB open for the caller to close.
func (s *Store) Close() error {
	if s.own {
		return s.db.Close()
	}
	return nil
}

// DB returns the connection pool the Store uses.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the Store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Table returns the full name of one of the store's tables: name is
// "customers", "events", "changes", "feed", "feed_cursors" or
// "schema_migrations".
func (s *Store) Table(name string) string { return s.prefix + name }
