// Command sql runs the load test of examples/loadtest against the SQL
// stores of github.com/clmkit/clm/store/sqlstore as well as memory. It is a
// nested module (the root module must not depend on the SQL drivers), with
// the same flags, output and exit status as examples/loadtest:
//
//	cd examples/loadtest/sql
//	go run . -store sqlite                                 # a new SQLite file in a temporary directory
//	go run . -store sqlite -dsn sqlite:/path/to/load.db    # a SQLite file of your choice
//	go run . -store postgres -dsn "$CLM_POSTGRES_DSN"      # a PostgreSQL server (-dsn defaults to $CLM_POSTGRES_DSN)
//
// A -dsn of the other dialect than -store (a postgres:// URL with -store
// sqlite, a sqlite: one with -store postgres) is refused, with exit status
// 3, before anything is opened.
//
// The SQL stores are much slower than memory (every write is a database
// transaction), so use smaller runs, e.g. -events 20000 -customers 2000.
// Customer IDs carry a prefix unique to the run, so a database that already
// holds customers can be used: only this run's customers are compared.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/clmkit/clm/examples/loadtest/internal/harness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

func main() {
	os.Exit(harness.Main(os.Args[1:], os.Stdout, os.Stderr, openers(), nil))
}

func openers() map[string]harness.Opener {
	return map[string]harness.Opener{
		"memory":       harness.Memory,
		"memory-plain": harness.MemoryPlain,
		"sqlite":       openSQLite,
		"postgres":     openPostgres,
	}
}

// openSQLite opens the SQLite file named by dsn ("sqlite:PATH"), or a new
// file in a temporary directory that is removed when the run ends.
func openSQLite(ctx context.Context, dsn string) (lifecycle.Store, func() error, error) {
	if dsn != "" && !strings.HasPrefix(dsn, "sqlite:") {
		// Connect would open what the URL names, a PostgreSQL server
		// say, and the run would test that instead.
		return nil, nil, fmt.Errorf("-dsn %q: -store sqlite wants a SQLite URL, sqlite:PATH", redact(dsn))
	}
	cleanup := func() error { return nil }
	if dsn == "" {
		dir, err := os.MkdirTemp("", "clm-loadtest-")
		if err != nil {
			return nil, nil, err
		}
		dsn = "sqlite:" + filepath.Join(dir, "load.db")
		cleanup = func() error { return os.RemoveAll(dir) }
	}
	s, err := sqlstore.Connect(ctx, dsn)
	if err != nil {
		_ = cleanup()
		return nil, nil, err
	}
	return s, func() error {
		err := s.Close()
		if cerr := cleanup(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

// openPostgres opens the PostgreSQL server named by dsn, or by
// $CLM_POSTGRES_DSN when dsn is empty.
func openPostgres(ctx context.Context, dsn string) (lifecycle.Store, func() error, error) {
	if dsn == "" {
		dsn = os.Getenv("CLM_POSTGRES_DSN")
	}
	if dsn == "" {
		return nil, nil, fmt.Errorf("-store postgres needs -dsn or $CLM_POSTGRES_DSN (bash .ci/postgres.sh starts a throwaway server)")
	}
	if strings.HasPrefix(dsn, "sqlite:") {
		return nil, nil, fmt.Errorf("-dsn (or $CLM_POSTGRES_DSN) %q: -store postgres wants a PostgreSQL URL, postgres://…, not a SQLite one", dsn)
	}
	s, err := sqlstore.Connect(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// redact returns dsn for a message, its password hidden (a URL that does
// not parse is not shown).
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a URL that does not parse, not shown)"
	}
	return u.Redacted()
}
