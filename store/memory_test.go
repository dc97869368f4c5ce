package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) lifecycle.Store { return store.NewMemory() })
}

func TestMemoryTestStore(t *testing.T) {
	s := store.NewMemory()
	if err := storetest.TestStore(s); err != nil {
		t.Fatal(err)
	}
	// Running it again on the same, now non-empty store must also pass.
	if err := storetest.TestStore(s); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryViewMatchesScan(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	for i := range 500 {
		c := &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Stage: "reach", Version: 1}
		if err := m.Put(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	scanned := map[string]string{}
	for c, err := range m.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		scanned[c.ID] = string(c.Stage)
	}
	viewed := map[string]string{}
	for c, err := range lifecycle.Browse(ctx, m) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := viewed[c.ID]; dup {
			t.Fatalf("View yielded %q twice", c.ID)
		}
		viewed[c.ID] = string(c.Stage)
	}
	if diff := cmp.Diff(scanned, viewed); diff != "" {
		t.Fatalf("View and Scan disagree (-scan +view):\n%s", diff)
	}
	// Stopping early releases the shard lock: a write afterwards succeeds.
	for range m.View(ctx) {
		break
	}
	if err := m.Put(ctx, &lifecycle.Customer{ID: "after", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	// A panicking loop body does not leave a shard locked.
	func() {
		defer func() { _ = recover() }()
		for range m.View(ctx) {
			panic("boom")
		}
	}()
	if err := m.Put(ctx, &lifecycle.Customer{ID: "after-panic", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range m.View(cancelled) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("View with a cancelled context yielded %v", err)
		}
	}
}

func TestMemoryDelete(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	const n = 300
	for i := range n {
		if err := m.Put(ctx, &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Version: 1}, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Delete every third customer, and one that does not exist.
	for i := 0; i < n; i += 3 {
		if err := m.Delete(ctx, "c"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Delete(ctx, "nobody"); err != nil {
		t.Fatalf("Delete(missing) = %v; want nil", err)
	}
	want := map[string]bool{}
	for i := range n {
		id := "c" + strconv.Itoa(i)
		_, err := m.Get(ctx, id)
		if i%3 == 0 {
			if !errors.Is(err, lifecycle.ErrNotFound) {
				t.Fatalf("Get(%s) after Delete = %v; want ErrNotFound", id, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Get(%s) = %v (a Delete lost a neighbour)", id, err)
		}
		want[id] = true
	}
	got := map[string]bool{}
	for c, err := range m.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got[c.ID] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Scan after Delete (-want +got):\n%s", diff)
	}
	if m.Len() != len(want) {
		t.Fatalf("Len = %d; want %d", m.Len(), len(want))
	}
	// A deleted ID can be created again, from version 0.
	if err := m.Put(ctx, &lifecycle.Customer{ID: "c0", Version: 1}, 0); err != nil {
		t.Fatalf("Put after Delete = %v", err)
	}
}
