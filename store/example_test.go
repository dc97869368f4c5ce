package store_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// Memory's Put is a compare-and-swap on the customer's version: a writer
// that read an old version loses and must re-read.
func ExampleMemory() {
	ctx := context.Background()
	m := store.NewMemory()

	c := &lifecycle.Customer{ID: "c1", Stage: "reach", Version: 1}
	fmt.Println("create:", m.Put(ctx, c, 0)) // prev 0: must not exist yet

	stale := &lifecycle.Customer{ID: "c1", Stage: "conversion", Version: 1}
	err := m.Put(ctx, stale, 0)
	fmt.Println("stale write conflicts:", errors.Is(err, lifecycle.ErrConflict))

	got, _ := m.Get(ctx, "c1")
	got.Stage, got.Version = "acquisition", 2
	fmt.Println("update:", m.Put(ctx, got, 1))

	_, err = m.Get(ctx, "nobody")
	fmt.Println("missing:", errors.Is(err, lifecycle.ErrNotFound), "stored:", m.Len())
	// Output:
	// create: <nil>
	// stale write conflicts: true
	// update: <nil>
	// missing: true stored: 1
}

// Apply is how the Tracker writes: for each write, Memory says which of
// its events the customer has had, the write's Fn changes the customer,
// and Memory records the new events and sets the write's Err. One Apply
// may write many customers.
func ExampleMemory_Apply() {
	ctx := context.Background()
	m := store.NewMemory()

	write := func(id string, events ...string) lifecycle.Write {
		return lifecycle.Write{ID: id, Events: events, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			fmt.Println(c.ID, "seen:", seen)
			c.Version++
			return true, nil
		}}
	}
	ws := []lifecycle.Write{write("c1", "e1")}
	m.Apply(ctx, ws)
	fmt.Println("err:", ws[0].Err)

	ws = []lifecycle.Write{write("c1", "e1", "e2"), write("c2", "e1")}
	m.Apply(ctx, ws)
	fmt.Println("errs:", ws[0].Err, ws[1].Err)

	c, _ := m.Get(ctx, "c1")
	fmt.Println("c1 version:", c.Version, "events:", c.Seen.Len(), c.HasSeen("e2"))
	// Output:
	// c1 seen: [false]
	// err: <nil>
	// c1 seen: [true false]
	// c2 seen: [false]
	// errs: <nil> <nil>
	// c1 version: 2 events: 2 true
}
