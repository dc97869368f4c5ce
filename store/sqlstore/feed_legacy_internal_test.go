package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestLegacyHistoryStaysOutOfFeedOnPut: transitions stored before the
// change feed (schema < 5) are not in the feed, and a Put, like Apply,
// adds change rows only for the transitions past the stored history. (It
// added one for every Seq of the history: the first Put after the
// migration listed the legacy transitions after the customer's newer
// change, seq 3 before seq 1 and 2.)
func TestLegacyHistoryStaysOutOfFeedOnPut(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			ctx := context.Background()
			db, prefix := rawDB(t, d)
			old := &Store{db: db, dialect: d, prefix: prefix, log: slog.New(slog.DiscardHandler), q: buildQueries(d, prefix)}
			if d == SQLite {
				old.wlock = make(chan struct{}, 1)
			}
			if err := old.migrate(ctx, 4); err != nil {
				t.Fatal(err)
			}
			ph := func(n int) string {
				if d == Postgres {
					return fmt.Sprintf("$%d", n)
				}
				return "?"
			}
			c := richCustomer("ada")
			data, err := encode(c)
			if err != nil {
				t.Fatal(err)
			}
			var dataArg, asOf any = data, c.AsOf
			if d == SQLite {
				dataArg, asOf = string(data), c.AsOf.UTC().Format(sqliteTime)
			}
			if _, err := db.Exec(`INSERT INTO `+prefix+`customers (id, stage, version, as_of, data, due) VALUES (`+ph(1)+`, `+ph(2)+`, `+ph(3)+`, `+ph(4)+`, `+ph(5)+`, `+ph(6)+`)`,
				c.ID, string(c.Stage), int64(c.Version), asOf, dataArg, dueArg(c.Due)); err != nil {
				t.Fatal(err)
			}
			s, err := Open(ctx, db, d, WithTablePrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			ws := []lifecycle.Write{{ID: "ada", Events: []string{"e9"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
				c.Version++
				c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: "gone", At: now, Cause: "e9"})
				c.Stage = "gone"
				return true, nil
			}}}
			s.Apply(ctx, ws)
			if ws[0].Err != nil {
				t.Fatal(ws[0].Err)
			}
			first, err := s.Changes(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(first) != 1 || first[0].Seq != 3 {
				t.Fatalf("after Apply: %+v; want seq 3 only", first)
			}
			got, err := s.Get(ctx, "ada")
			if err != nil {
				t.Fatal(err)
			}
			prev := got.Version
			got.Version++
			got.Facts.Score = 3 // any change; the history is the same
			if err := s.Put(ctx, got, prev); err != nil {
				t.Fatal(err)
			}
			next, err := s.Changes(ctx, first[0].Pos, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(next) != 0 {
				t.Errorf("a Put that changed no transition made the feed list, after customer ada's seq 3, %d more changes of ada: %+v", len(next), next)
			}
		})
	}
}
