package feed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
)

// tinyStore is a change feed and cursor keeper held in a slice and a
// map: just enough of a store for the example (a real one is
// store.Memory or the SQL store).
type tinyStore struct {
	mu      sync.Mutex
	changes []lifecycle.Change
	cursor  lifecycle.Cursor
	owner   string
	until   time.Time
}

func (s *tinyStore) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []lifecycle.Change
	for _, ch := range s.changes {
		if ch.Pos > after && len(out) < limit {
			out = append(out, ch)
		}
	}
	return out, ctx.Err()
}

func (s *tinyStore) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != "" && s.owner != owner && s.until.After(now) {
		return s.cursor, false, ctx.Err()
	}
	s.owner, s.until = owner, until
	return s.cursor, until.After(now), ctx.Err()
}

func (s *tinyStore) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != owner || !s.until.After(now) || c < s.cursor {
		return lifecycle.ErrConflict
	}
	s.cursor, s.until = c, until
	return ctx.Err()
}

// Example runs a Dispatcher over a feed of three changes until all are
// delivered. The handler fails the second change once; the dispatcher
// tries it again after a back-off, and moves the cursor past each change
// only once the handler has accepted it.
func Example() {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	st := &tinyStore{changes: []lifecycle.Change{
		{CustomerID: "c42", Seq: 1, Pos: 1, Transition: lifecycle.Transition{From: "", To: "reach", At: at, Cause: "v-1"}},
		{CustomerID: "c42", Seq: 2, Pos: 2, Transition: lifecycle.Transition{From: "reach", To: "acquisition", At: at, Cause: "s-1"}},
		{CustomerID: "c7", Seq: 1, Pos: 3, Transition: lifecycle.Transition{From: "", To: "reach", At: at, Cause: "v-9"}},
	}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failed := false
	deliver := func(ctx context.Context, ch lifecycle.Change) error {
		if ch.Seq == 2 && !failed {
			failed = true
			fmt.Printf("%s #%d: receiver unavailable\n", ch.CustomerID, ch.Seq)
			return errors.New("receiver unavailable")
		}
		fmt.Printf("%s #%d: %q → %q delivered\n", ch.CustomerID, ch.Seq, ch.From, ch.To)
		if ch.Pos == 3 {
			cancel() // the example stops here; a service runs until shutdown
		}
		return nil
	}

	d, err := feed.New(st, st, "example", deliver,
		feed.WithBackoff(time.Millisecond, 10*time.Millisecond), feed.WithPoll(time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = d.Run(ctx)
	fmt.Println("Run:", err)
	s := d.Stats()
	fmt.Printf("delivered %d, failed attempts %d, cursor %d\n", s.Delivered, s.Failures, s.Cursor)
	// Output:
	// c42 #1: "" → "reach" delivered
	// c42 #2: receiver unavailable
	// c42 #2: "reach" → "acquisition" delivered
	// c7 #1: "" → "reach" delivered
	// Run: context canceled
	// delivered 3, failed attempts 1, cursor 3
}
