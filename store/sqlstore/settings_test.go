package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/clmkit/clm/store/sqlstore"
)

// TestConnectSessionSettings: Connect gives the store's PostgreSQL
// connections plan_cache_mode=force_generic_plan and enable_seqscan=off
// unless the URL sets them — in any letter case, percent-encoded, or in
// its options parameter — and a name that only appears in a value does
// not count as setting it. A URL pgx reads (one without a query, whose
// password holds a '?') works as it does with pgx.
func TestConnectSessionSettings(t *testing.T) {
	e := newEnv(t, sqlstore.Postgres)
	base, _, _ := strings.Cut(e.url, "?")
	for _, c := range []struct {
		name, add  string
		seq, plans string // the settings the store's connections must have
		times      int    // Connects (a map's order decided before: once is not enough)
	}{
		{"none", "", "off", "force_generic_plan", 1},
		{"value mentions the name", "application_name=enable_seqscan_plan_cache_mode", "off", "force_generic_plan", 1},
		{"set", "enable_seqscan=on&plan_cache_mode=auto", "on", "auto", 1},
		{"upper case", "ENABLE_SEQSCAN=on&Plan_Cache_Mode=auto", "on", "auto", 20},
		{"percent-encoded", "enable%5Fseqscan=on", "on", "force_generic_plan", 1},
		{"options", "options=" + strings.ReplaceAll(url.QueryEscape("-c enable_seqscan=on --plan-cache-mode=auto"), "+", "%20"), "on", "auto", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := e.url
			if c.add != "" {
				u += "&" + c.add
			}
			for range c.times {
				s, err := sqlstore.Connect(context.Background(), u, sqlstore.WithTablePrefix(e.prefix))
				if err != nil {
					t.Fatalf("Connect(%q): %v", u, err)
				}
				var seq, plans string
				err = s.DB().QueryRow(`SELECT current_setting('enable_seqscan'), current_setting('plan_cache_mode')`).Scan(&seq, &plans)
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				if seq != c.seq || plans != c.plans {
					t.Fatalf("with %q: enable_seqscan %s, plan_cache_mode %s; want %s, %s", c.add, seq, plans, c.seq, c.plans)
				}
			}
		})
	}
	t.Run("question mark in the password", func(t *testing.T) {
		u := strings.Replace(base, "@", ":pa?ss@", 1) // the test server trusts, ignoring passwords
		if !strings.Contains(base, "@") {
			t.Skip("the test server's URL has no user part")
		}
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ping(); err != nil {
			t.Skipf("pgx itself cannot use %q: %v", u, err)
		}
		s, err := sqlstore.Connect(context.Background(), u, sqlstore.WithTablePrefix(e.prefix))
		if err != nil {
			t.Fatalf("pgx connects with %q, Connect fails: %v", u, err)
		}
		s.Close()
	})
	t.Run("unparsable", func(t *testing.T) {
		_, err := sqlstore.Connect(context.Background(), "postgres://user:secret@host:notaport/db", sqlstore.WithTablePrefix(e.prefix))
		if !errors.Is(err, sqlstore.ErrInvalidOption) || strings.Contains(err.Error(), "secret") {
			t.Fatalf("Connect with a bad port = %v; want an error wrapping ErrInvalidOption, without the password", err)
		}
	})
}
