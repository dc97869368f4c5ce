package sqlstore

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestOneEventWritesHoldStoredXmin: the xmin the one-event statements
// return (applyCreate1's, and applyUpdate1's and applyUpdate1Changes'
// txid_current() % 2^32) is the stored row version's xmin, for held and
// read rows, and the named statements are prepared (the parameter types
// the server infers match the OIDs, so execPgx does not fall back to
// unnamed ones).
func TestOneEventWritesHoldStoredXmin(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "oexmin")
	s.db.SetMaxOpenConns(1) // one session, whose prepared statements are listed
	other, err := Connect(ctx, os.Getenv("CLM_POSTGRES_DSN"), WithTablePrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	dbXmin := func(id string) string {
		var x string
		if err := s.db.QueryRowContext(ctx, `SELECT xmin::text FROM `+s.Table("customers")+` WHERE id = $1`, id).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	heldXmin := func(st *Store, id string) string {
		r, ok := st.rows.get(id)
		if !ok {
			t.Fatalf("%s not held", id)
		}
		return r.xmin
	}
	bump := func(hist bool) func(c *lifecycle.Customer, seen []bool) (bool, error) {
		return func(c *lifecycle.Customer, seen []bool) (bool, error) {
			for _, s := range seen {
				if s {
					return false, nil
				}
			}
			if hist {
				c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: "reach", At: time.Unix(1, 0).UTC(), Cause: "x"})
				c.Stage = "reach"
			}
			if c.Stage == "" {
				c.Stage = "reach"
			}
			c.Version++
			return true, nil
		}
	}
	steps := []struct {
		st    *Store
		ev    string
		hist  bool
		what  string
		prior bool // a conflict is expected once (stale held row)
	}{
		{s, "e1", true, "applyCreate1", false},
		{s, "e2", false, "applyUpdate1, held", false},
		{s, "e3", true, "applyUpdate1Changes, held", false},
		{other, "e4", false, "applyCreate1 returning the row, then applyUpdate1 read", false},
		{other, "e5", true, "applyUpdate1Changes, held", false},
		{s, "e6", false, "s's held row is stale", true},
	}
	for _, st := range steps {
		err := applyOne(ctx, st.st, "x", []string{st.ev}, bump(st.hist))
		if st.prior {
			if !errors.Is(err, lifecycle.ErrConflict) {
				t.Fatalf("%s: %v, want a conflict", st.what, err)
			}
			err = applyOne(ctx, st.st, "x", []string{st.ev}, bump(st.hist))
		}
		if err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		if got, want := heldXmin(st.st, "x"), dbXmin("x"); got != want {
			t.Errorf("%s: held xmin %s, stored row's xmin %s", st.what, got, want)
		}
	}
	for _, name := range []string{"apply_create1", "apply_update1", "apply_update1c"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE name = $1`, s.prefix+name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s: %d prepared on the session, want 1", name, n)
		}
	}
}

// TestHeldGuardChecksEveryEvent: a held row's write of several events of
// which fn reports all but one seen (fn may write to seen; the store
// reads it back to pick the keys to insert) is guarded by every event's
// keys: an event stored under its legacy key only (data from before
// schema 3) is not applied again. (The one-event statement, whose guard
// is one event's two keys, once took such writes.)
func TestHeldGuardChecksEveryEvent(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "oeguard")
	// Pre-schema-3 data: e2 remembered under its legacy key only.
	var seen lifecycle.EventSet
	seen.Add(lifecycle.LegacyKeyOf("e2"))
	if err := s.Put(ctx, &lifecycle.Customer{ID: "g", Stage: "reach", Version: 1, Seen: seen}, 0); err != nil {
		t.Fatal(err)
	}
	// s reads g and writes e0: it holds g's row from now on.
	if err := applyOne(ctx, s, "g", []string{"e0"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		c.Version++
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.rows.get("g"); !ok {
		t.Fatal("g not held")
	}
	var gotSeen []bool
	err := applyOne(ctx, s, "g", []string{"e1", "e2"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		gotSeen = append([]bool(nil), seen...)
		seen[0] = true // fn treats e1 as a duplicate (it is not stored: its key is not inserted)
		c.Stage = "conversion"
		c.Version++
		return true, nil
	})
	if err == nil && !gotSeen[1] {
		t.Errorf("e2 (stored under its legacy key) was applied again from the held row: fn got seen %v and its write was stored", gotSeen)
	}
}
