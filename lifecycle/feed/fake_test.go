package feed

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// fakeStore is a ChangeLister and CursorKeeper held in memory, obeying
// the contracts in lifecycle/change.go. Its positions are not contiguous
// (10, 20, 30, …), so that a dispatcher that assumed Pos+1 would fail.
// Owners marked dead get an error on every call, as a crashed process
// would (its calls never arrive).
type fakeStore struct {
	mu       sync.Mutex
	changes  []lifecycle.Change
	leases   map[string]fakeLease
	dead     map[string]bool
	failList int // the next failList calls to Changes fail
	claims   int // ClaimCursor calls
}

type fakeLease struct {
	pos   lifecycle.Cursor
	owner string
	until time.Time
}

var errDead = errors.New("fake: owner is dead")

func newFakeStore() *fakeStore {
	return &fakeStore{leases: map[string]fakeLease{}, dead: map[string]bool{}}
}

// add appends n changes, spread over a few customers, each customer's
// Seq counting up; it returns them.
func (f *fakeStore) add(n int) []lifecycle.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	seqs := map[string]uint64{}
	for _, ch := range f.changes {
		seqs[ch.CustomerID] = max(seqs[ch.CustomerID], ch.Seq)
	}
	var out []lifecycle.Change
	for range n {
		i := len(f.changes)
		cust := "c" + strconv.Itoa(i%7)
		seqs[cust]++
		ch := lifecycle.Change{
			CustomerID: cust,
			Transition: lifecycle.Transition{
				From:  stage.ID("s" + strconv.Itoa(int(seqs[cust]-1))),
				To:    stage.ID("s" + strconv.Itoa(int(seqs[cust]))),
				At:    at.Add(time.Duration(i) * time.Minute),
				Cause: "ev-" + strconv.Itoa(i),
			},
			Seq: seqs[cust],
			Pos: lifecycle.Cursor(10 * (i + 1)),
		}
		f.changes = append(f.changes, ch)
		out = append(out, ch)
	}
	return out
}

func (f *fakeStore) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failList > 0 {
		f.failList--
		return nil, errors.New("fake: feed unavailable")
	}
	if limit < 1 {
		limit = 100
	}
	var out []lifecycle.Change
	for _, ch := range f.changes {
		if ch.Pos > after && len(out) < limit {
			out = append(out, ch)
		}
	}
	return out, nil
}

func (f *fakeStore) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims++
	if f.dead[owner] {
		return 0, false, errDead
	}
	l := f.leases[name]
	if l.owner != "" && l.owner != owner && l.until.After(now) {
		return l.pos, false, nil
	}
	l.owner, l.until = owner, until
	f.leases[name] = l
	return l.pos, until.After(now), nil
}

func (f *fakeStore) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dead[owner] {
		return errDead
	}
	l := f.leases[name]
	if l.owner != owner || !l.until.After(now) {
		return fmt.Errorf("fake: %q does not hold %q: %w", owner, name, lifecycle.ErrConflict)
	}
	if c < l.pos {
		return fmt.Errorf("fake: %d before %d: %w", c, l.pos, lifecycle.ErrConflict)
	}
	l.pos, l.until = c, until
	f.leases[name] = l
	return nil
}

func (f *fakeStore) lease(name string) fakeLease {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leases[name]
}

func (f *fakeStore) setLease(name string, l fakeLease) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases[name] = l
}

func (f *fakeStore) kill(owner string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead[owner] = true
}

func (f *fakeStore) failNextLists(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failList = n
}

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recordingSleep replaces a dispatcher's waits: it records each wait,
// moves the fake clock by it and returns at once (or with ctx's error).
type recordingSleep struct {
	mu    sync.Mutex
	clock *fakeClock
	waits []time.Duration
}

func (r *recordingSleep) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	r.clock.Advance(d)
	return nil
}

func (r *recordingSleep) recorded() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}
