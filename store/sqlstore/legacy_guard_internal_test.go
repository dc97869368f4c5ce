package sqlstore

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestLegacyFlagBounds: the held row's legacy flag, as applyRead
// (a write of two events) and applyCreate1's stored row (one event) find
// it, for keys at and around hasLegacy's bound (eight 0xff bytes; bytea
// compares bytes unsigned), and for neighbouring customer IDs in the
// index (one's legacy keys do not count for the other).
func TestLegacyFlagBounds(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "leglb")
	other, err := Connect(ctx, os.Getenv("CLM_POSTGRES_DSN"), WithTablePrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	key := func(b ...byte) lifecycle.EventKey {
		var k lifecycle.EventKey
		copy(k[:], b)
		return k
	}
	ff := func(n int, rest ...byte) lifecycle.EventKey {
		b := make([]byte, n)
		for i := range b {
			b[i] = 0xff
		}
		return key(append(b, rest...)...)
	}
	cases := []struct {
		id   string
		keys []lifecycle.EventKey
		want bool
	}{
		{"none", nil, false},
		{"modern", []lifecycle.EventKey{lifecycle.KeyOf("m1"), lifecycle.KeyOf("m2")}, false},
		{"lowest", []lifecycle.EventKey{ff(8)}, true}, // 0xff×8 0x00×8: the bound itself
		{"highest", []lifecycle.EventKey{ff(16)}, true},
		{"below", []lifecycle.EventKey{ff(7, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)}, false},
		{"ff7", []lifecycle.EventKey{ff(7)}, false},
		{"high bit", []lifecycle.EventKey{key(0x80), key(0xfe, 0xff)}, false},
		{"mixed", []lifecycle.EventKey{lifecycle.KeyOf("m1"), lifecycle.LegacyKeyOf("o1")}, true},
		// neighbours in the (customer_id, key) index
		{"a", []lifecycle.EventKey{lifecycle.KeyOf("m1")}, false},
		{"a ", []lifecycle.EventKey{lifecycle.LegacyKeyOf("o1")}, true},
		{"a0", []lifecycle.EventKey{lifecycle.KeyOf("m1")}, false},
		{"b", []lifecycle.EventKey{lifecycle.LegacyKeyOf("o1")}, true},
	}
	bump := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		for _, s := range seen {
			if s {
				return false, nil
			}
		}
		c.Version++
		return true, nil
	}
	for _, tc := range cases {
		var seen lifecycle.EventSet
		for _, k := range tc.keys {
			seen.Add(k)
		}
		if err := s.Put(ctx, &lifecycle.Customer{ID: tc.id, Stage: "reach", Version: 1, AsOf: time.Unix(1, 0).UTC(), Seen: seen}, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		// s: applyCreate1 returns the stored row (one event).
		if err := applyOne(ctx, s, tc.id, []string{"e1"}, bump); err != nil {
			t.Fatalf("%q: %v", tc.id, err)
		}
		// other: applyRead (two events).
		if err := applyOne(ctx, other, tc.id, []string{"e2", "e3"}, bump); err != nil {
			t.Fatalf("%q: %v", tc.id, err)
		}
		r, ok := other.rows.get(tc.id)
		if !ok {
			t.Fatalf("%q not held by other", tc.id)
		}
		if r.legacy != tc.want {
			t.Errorf("%q, read by applyRead: legacy %v, want %v", tc.id, r.legacy, tc.want)
		}
	}
	fresh, err := Connect(ctx, os.Getenv("CLM_POSTGRES_DSN"), WithTablePrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, tc := range cases {
		if err := applyOne(ctx, fresh, tc.id, []string{"e4"}, bump); err != nil {
			t.Fatalf("%q: %v", tc.id, err)
		}
		r, ok := fresh.rows.get(tc.id)
		if !ok {
			t.Fatalf("%q not held by fresh", tc.id)
		}
		if r.legacy != tc.want {
			t.Errorf("%q, returned by applyCreate1: legacy %v, want %v", tc.id, r.legacy, tc.want)
		}
	}
}

// TestLegacyFlagOfCreatedCustomer: a customer
// applyCreate1 creates where legacy key rows of its ID exist already (a
// Delete of a release before schema 5 left them; see
// TestLegacyOrphanKeysOfOldRelease) is held with the legacy flag that
// applyRead finds for the same row version: true. (It was once held with
// false, as if a customer created had no keys but its event's.)
func TestLegacyFlagOfCreatedCustomer(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "legorph")
	// What migration 3 makes of a digest row of a customer with no row
	// (see TestLegacyOrphanKeysOfOldRelease for the schema-2 route).
	old := lifecycle.LegacyKeyOf("old")
	if _, err := s.db.ExecContext(ctx, `INSERT INTO `+s.Table("events")+` (customer_id, key) VALUES ($1, $2)`, "x", old[:]); err != nil {
		t.Fatal(err)
	}
	bump := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		for _, s := range seen {
			if s {
				return false, nil
			}
		}
		if c.Stage == "" {
			c.Stage = "reach"
		}
		c.Version++
		return true, nil
	}
	if err := applyOne(ctx, s, "x", []string{"e1"}, bump); err != nil {
		t.Fatal(err)
	}
	r, ok := s.rows.get("x")
	if !ok {
		t.Fatal("x not held")
	}
	other, err := Connect(ctx, os.Getenv("CLM_POSTGRES_DSN"), WithTablePrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	found := map[string]*stored{}
	if err := other.readPostgres(ctx, []string{"x"}, nil, nil, found); err != nil {
		t.Fatal(err)
	}
	if found["x"] == nil || found["x"].xmin != r.xmin {
		t.Fatalf("read another row version than the one held")
	}
	if r.legacy != found["x"].legacy {
		t.Errorf("the row applyCreate1 created is held with legacy %v; applyRead of the same row version says %v", r.legacy, found["x"].legacy)
	}
}

// TestLegacyFlagOfBatchCreatedCustomer: a customer the many-customer
// statement (applyWrite) creates over legacy key rows an old release left
// for its ID is held with the legacy flag, as one applyCreate1 creates
// is, and a held write of the old event is refused.
func TestLegacyFlagOfBatchCreatedCustomer(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "legbatch")
	old := lifecycle.LegacyKeyOf("old")
	if _, err := s.db.ExecContext(ctx, `INSERT INTO `+s.Table("events")+` (customer_id, key) VALUES ($1, $2)`, "x", old[:]); err != nil {
		t.Fatal(err)
	}
	bump := func(c *lifecycle.Customer, seen []bool) (bool, error) {
		for _, s := range seen {
			if s {
				return false, nil
			}
		}
		if c.Stage == "" {
			c.Stage = "reach"
		}
		c.Version++
		return true, nil
	}
	ws := []lifecycle.Write{{ID: "x", Events: []string{"e1"}, Fn: bump}, {ID: "y", Events: []string{"e1"}, Fn: bump}}
	s.Apply(ctx, ws)
	for _, w := range ws {
		if w.Err != nil {
			t.Fatal(w.Err)
		}
	}
	for id, want := range map[string]bool{"x": true, "y": false} {
		r, ok := s.rows.get(id)
		if !ok || r.legacy != want {
			t.Errorf("%s: held %v, legacy %v, want %v", id, ok, ok && r.legacy, want)
		}
	}
	// From the held row: refused once, then seen.
	err := applyOne(ctx, s, "x", []string{"old"}, bump)
	if !errors.Is(err, lifecycle.ErrConflict) {
		t.Errorf("old from the held row: %v, want a lost race", err)
	}
	if err := applyOne(ctx, s, "x", []string{"old"}, bump); err != nil {
		t.Fatal(err)
	}
	c, err := s.Get(ctx, "x")
	if err != nil || c.Version != 1 {
		t.Errorf("x: version %v (%v): old applied again", c, err)
	}
}
