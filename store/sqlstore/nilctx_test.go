package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// Every method of Store that takes a context, and Connect, answer a nil
// one with lifecycle.ErrNilContext (each panicked in database/sql).
func TestNilContext(t *testing.T) {
	s, err := sqlstore.Connect(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ctx context.Context
	try := func(n string, f func() error) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s PANIC %v", n, r)
			}
		}()
		if err := f(); !errors.Is(err, lifecycle.ErrNilContext) {
			t.Errorf("%s: %v", n, err)
		}
	}
	try("Get", func() error { _, err := s.Get(ctx, "x"); return err })
	try("Put", func() error { return s.Put(ctx, &lifecycle.Customer{ID: "x", Version: 1}, 0) })
	try("Scan", func() error {
		for _, err := range s.Scan(ctx) {
			return err
		}
		return nil
	})
	try("Count", func() error { _, err := s.Count(ctx); return err })
	try("CountByStage", func() error { _, err := s.CountByStage(ctx); return err })
	try("ListByStage", func() error {
		for _, err := range s.ListByStage(ctx, "x") {
			return err
		}
		return nil
	})
	try("ListDue", func() error {
		for _, err := range s.ListDue(ctx, time.Now()) {
			return err
		}
		return nil
	})
	try("Delete", func() error { return s.Delete(ctx, "x") })
	try("Changes", func() error { _, err := s.Changes(ctx, 0, 10); return err })
	try("Claim", func() error {
		_, _, err := s.ClaimCursor(ctx, "n", "o", time.Now(), time.Now().Add(time.Minute))
		return err
	})
	try("Advance", func() error { return s.AdvanceCursor(ctx, "n", "o", 0, time.Now(), time.Now().Add(time.Minute)) })
	try("Connect", func() error { _, err := sqlstore.Connect(ctx, "sqlite::memory:"); return err })
	try("Apply", func() error {
		ws := []lifecycle.Write{{ID: "x", Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) { return false, nil }}}
		s.Apply(ctx, ws)
		return ws[0].Err
	})
}

// A SQLite path with a NUL byte is refused: the driver cut the name at
// the NUL and opened another file (or, for "\x00", a temporary database
// whose data was gone after Close).
func TestConnectNULPath(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "shop\x00.db"), "\x00", "x.db?_pragma=\x00"} {
		s, err := sqlstore.Connect(context.Background(), "sqlite:"+path)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, sqlstore.ErrInvalidOption) {
			t.Errorf("Connect(sqlite:%q) = %v; want ErrInvalidOption", path, err)
		}
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, "*")); len(ents) != 0 {
		t.Errorf("files created: %q", ents)
	}
}
