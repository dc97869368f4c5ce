package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// richCustomer is a customer with the characters and numbers a JSON round trip
// through jsonb could disturb.
func richCustomer(id string) *lifecycle.Customer {
	east := time.FixedZone("E", 5*3600+45*60)
	at := time.Date(2024, 2, 29, 23, 59, 59, 999999999, east)
	c := &lifecycle.Customer{
		ID: id, Stage: "lo\u2028yal <&>", Since: at, AsOf: at.Add(time.Hour), Version: 7,
		Due: time.Date(2300, 1, 1, 0, 0, 0, 1, east),
	}
	c.Facts.First, c.Facts.Last = at.Add(-time.Hour), at
	c.Facts.Tallies = []lifecycle.Tally{{Type: "acme.\"q\"\\", Count: math.MaxInt64, First: at, Last: at}}
	c.Facts.Sums = []lifecycle.Sum{{Type: "order_completed", Currency: "€", Amount: math.MinInt64}}
	c.Facts.ReferredBy, c.Facts.ReferredAt = "r\u00e9f\U0001F600", at
	c.Facts.Score, c.Facts.ScoreAt = 10, at
	c.Facts.Referrals = []lifecycle.Referral{{Customer: "x\ty", At: at}}
	c.History = []lifecycle.Transition{{To: "reach", At: at, Cause: "e\u2029/1"}, {From: "reach", To: "lo\u2028yal <&>", At: at, Cause: ""}}
	c.Seen.Add(lifecycle.KeyOf("e1"))
	c.Seen.Add(lifecycle.KeyOf("e2"))
	return c
}

func rawDB(t *testing.T, d Dialect) (*sql.DB, string) {
	t.Helper()
	switch d {
	case SQLite:
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, "clm_"
	default:
		dsn := os.Getenv("CLM_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("CLM_POSTGRES_DSN is not set")
		}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		prefix := fmt.Sprintf("zzm%d_%d_", os.Getpid(), time.Now().UnixNano()%1e9)
		t.Cleanup(func() {
			for _, name := range []string{"customers", "events", "changes", "feed", "feed_cursors", "schema_migrations"} {
				db.Exec(`DROP TABLE IF EXISTS ` + prefix + name)
			}
			db.Close()
		})
		return db, prefix
	}
}

// TestReviewMigrateFromLaterVersions builds databases at schema versions 3, 4
// and 5 with rows written as those versions stored them, opens them with
// the current code, and checks that every customer, the feed and a cursor
// lease read back as they were.
func TestReviewMigrateFromLaterVersions(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		for _, from := range []int{3, 4, 5} {
			t.Run(fmt.Sprint(d, "/from ", from), func(t *testing.T) {
				ctx := context.Background()
				db, prefix := rawDB(t, d)
				old := &Store{db: db, dialect: d, prefix: prefix, log: slog.New(slog.DiscardHandler), q: buildQueries(d, prefix)}
				if d == SQLite {
					old.wlock = make(chan struct{}, 1)
				}
				if err := old.migrate(ctx, from); err != nil {
					t.Fatal(err)
				}
				ph := func(n int) string {
					if d == Postgres {
						return fmt.Sprintf("$%d", n)
					}
					return "?"
				}
				ids := []string{"ada", strings.Repeat("é", 128), "\U0001F600z"}
				var want []*lifecycle.Customer
				for _, id := range ids {
					c := richCustomer(id)
					want = append(want, c)
					data, err := encode(c)
					if err != nil {
						t.Fatal(err)
					}
					var dataArg any = data
					var asOf any = c.AsOf
					dataCast := ph(5)
					if d == SQLite {
						dataArg, asOf = string(data), c.AsOf.UTC().Format(sqliteTime)
					} else if from == 3 {
						dataArg, dataCast = string(data), ph(5)+"::text::jsonb"
					}
					if _, err := db.Exec(`INSERT INTO `+prefix+`customers (id, stage, version, as_of, data, due) VALUES (`+ph(1)+`, `+ph(2)+`, `+ph(3)+`, `+ph(4)+`, `+dataCast+`, `+ph(6)+`)`,
						c.ID, string(c.Stage), int64(c.Version), asOf, dataArg, dueArg(c.Due)); err != nil {
						t.Fatal(err)
					}
					for k := range c.Seen.All() {
						if _, err := db.Exec(`INSERT INTO `+prefix+`events (customer_id, key) VALUES (`+ph(1)+`, `+ph(2)+`)`, c.ID, k[:]); err != nil {
							t.Fatal(err)
						}
					}
					if from == 5 {
						for seq := 1; seq <= len(c.History); seq++ {
							if _, err := db.Exec(`INSERT INTO `+prefix+`changes (customer_id, seq) VALUES (`+ph(1)+`, `+ph(2)+`)`, c.ID, seq); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				// A cursor as schema 5 kept it: lease end in Unix nanoseconds.
				now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				if from == 5 {
					if _, err := db.Exec(`INSERT INTO `+prefix+`feed_cursors (name, pos, owner, until) VALUES (`+ph(1)+`, 2, `+ph(2)+`, `+ph(3)+`)`,
						"hooks", "A", now.Add(time.Hour).UnixNano()); err != nil {
						t.Fatal(err)
					}
				}
				s, err := Open(ctx, db, d, WithTablePrefix(prefix))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range want {
					got, err := s.Get(ctx, w.ID)
					if err != nil {
						t.Fatal(err)
					}
					if !sameCustomer(w, got) {
						t.Errorf("customer %q after migrating from %d:\n got %+v\nwant %+v", w.ID, from, got, w)
					}
				}
				if from == 5 {
					chs, err := s.Changes(ctx, 0, 100)
					if err != nil {
						t.Fatal(err)
					}
					if len(chs) != 2*len(ids) {
						t.Errorf("Changes after migrating from 5: %d changes, want %d", len(chs), 2*len(ids))
					}
					if _, held, err := s.ClaimCursor(ctx, "hooks", "B", now.Add(30*time.Minute), now.Add(2*time.Hour)); err != nil || held {
						t.Errorf("B claimed A's lease (ends %s) at +30m after migrating: held %v, %v", now.Add(time.Hour), held, err)
					}
					if err := s.AdvanceCursor(ctx, "hooks", "A", 3, now.Add(40*time.Minute), now.Add(time.Hour)); err != nil {
						t.Errorf("A's advance within its lease after migrating: %v", err)
					}
				}
				// And a write through Apply still works, keeping the history.
				ws := []lifecycle.Write{{ID: "ada", Events: []string{"e1", "e3"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
					if c.Version == 0 {
						c.Version = 1
						return true, nil
					}
					if !reflect.DeepEqual(seen, []bool{true, false}) {
						return false, fmt.Errorf("seen %v", seen)
					}
					c.Version++
					c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: "gone", At: now, Cause: "e3"})
					c.Stage = "gone"
					return true, nil
				}}}
				s.Apply(ctx, ws)
				if ws[0].Err != nil {
					t.Fatal(ws[0].Err)
				}
				got, err := s.Get(ctx, "ada")
				if err != nil {
					t.Fatal(err)
				}
				if len(got.History) != 3 || got.Stage != stage.ID("gone") || got.Seen.Len() != 3 {
					t.Errorf("after Apply: %d transitions, stage %q, %d seen", len(got.History), got.Stage, got.Seen.Len())
				}
			})
		}
	}
}

// sameCustomer compares customers exactly: times by instant and offset.
func sameCustomer(a, b *lifecycle.Customer) bool {
	ja, _ := encode(a)
	jb, _ := encode(b)
	return string(ja) == string(jb) && a.ID == b.ID && a.Version == b.Version && a.Seen.Equal(&b.Seen)
}

// TestMigration7KeepsUserChecks: migration 7 drops the store's own CHECK
// constraints only; one a user added to the same tables (a business rule)
// is still there after the upgrade.
func TestMigration7KeepsUserChecks(t *testing.T) {
	ctx := context.Background()
	db, prefix := rawDB(t, Postgres)
	old := &Store{db: db, dialect: Postgres, prefix: prefix, log: slog.New(slog.DiscardHandler), q: buildQueries(Postgres, prefix)}
	if err := old.migrate(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE ` + prefix + `customers ADD CONSTRAINT user_rule CHECK (stage <> 'banned')`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, db, Postgres, WithTablePrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_constraint WHERE conname = 'user_rule'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the user's CHECK constraint user_rule was dropped by migration 7")
	}
}
