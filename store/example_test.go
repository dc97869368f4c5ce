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

// Apply is how the Tracker writes: Memory says which events the customer
// has had, fn changes the customer, and Memory records the new events.
func ExampleMemory_Apply() {
	ctx := context.Background()
	m := store.NewMemory()

	record := func(events ...string) {
		err := m.Apply(ctx, "c1", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
			fmt.Println("seen:", seen)
			c.Version++
			return true, nil
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	record("e1")
	record("e1", "e2")

	c, _ := m.Get(ctx, "c1")
	fmt.Println("version:", c.Version, "events:", c.Seen.Len(), c.HasSeen("e2"))
	// Output:
	// seen: [false]
	// seen: [true false]
	// version: 2 events: 2 true
}
