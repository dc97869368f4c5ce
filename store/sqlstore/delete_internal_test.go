package sqlstore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestDeleteRacingCreate runs Delete's statements one by one on
// PostgreSQL (READ COMMITTED: each statement sees what committed before
// it) with a Put or an Apply that creates the customer committing between
// them. The Delete comes first or last, but in no case half: the customer
// is gone with all its event rows, or is there with all of them.
func TestDeleteRacingCreate(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "tdel")
	creates := map[string]func(id string) error{
		"Put": func(id string) error {
			return s.Put(ctx, &lifecycle.Customer{ID: id, Stage: "reach", Version: 1, Seen: seenKeys(7)}, 0)
		},
		"Apply": func(id string) error {
			return applyOne(ctx, s, id, []string{"e7"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Stage, c.Version = "reach", 1
				return true, nil
			})
		},
	}
	for name, create := range creates {
		for gap := 0; gap <= len(s.q.del); gap++ {
			id := fmt.Sprint(name, gap)
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range s.q.del {
				if i == gap {
					if err := create(id); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if gap == len(s.q.del) {
				if err := create(id); err != nil {
					t.Fatal(err)
				}
			}
			var rows, events int
			if err := s.db.QueryRow(`SELECT count(*) FROM `+s.Table("customers")+` WHERE id = $1`, id).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if err := s.db.QueryRow(`SELECT count(*) FROM `+s.Table("events")+` WHERE customer_id = $1`, id).Scan(&events); err != nil {
				t.Fatal(err)
			}
			if rows != events {
				t.Errorf("%s committed before Delete's statement %d: %d customer rows, %d event rows; want 0 and 0, or 1 and 1", name, gap+1, rows, events)
			}
		}
	}
}

// applyOne applies one write with s.Apply and returns its outcome.
func applyOne(ctx context.Context, s *Store, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	ws := []lifecycle.Write{{ID: id, Events: events, Fn: fn}}
	s.Apply(ctx, ws)
	return ws[0].Err
}

// postgresStore connects to the test PostgreSQL server (CLM_POSTGRES_DSN;
// the test skips without it) under a table prefix of its own, which the
// test's cleanup drops.
func postgresStore(t *testing.T, name string) *Store {
	t.Helper()
	dsn := os.Getenv("CLM_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("CLM_POSTGRES_DSN is not set")
	}
	prefix := fmt.Sprintf("%s%d_%d_", name, os.Getpid(), time.Now().UnixNano()%1e9)
	s, err := Connect(context.Background(), dsn, WithTablePrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, name := range []string{"customers", "events", "changes", "feed", "feed_cursors", "schema_migrations"} {
			s.db.Exec(`DROP TABLE IF EXISTS ` + s.Table(name))
		}
		s.Close()
	})
	return s
}
