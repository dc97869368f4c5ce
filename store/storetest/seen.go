package storetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/clmkit/clm/lifecycle"
)

// SeenCases returns rules about [lifecycle.Customer.Seen], the applied
// event digests, that a store keeping them apart from the rest of the
// customer (in rows of their own, as store/sqlstore does) can get wrong: a
// Put replaces Seen exactly, however it changed, and large digest sets and
// digests of 2⁶³ and above come back intact. An empty Seen may come back
// nil. [Cases] (and so [Run] and [TestStore]) includes them; SeenCases
// returns just these two.
func SeenCases() []Case {
	return []Case{
		{"SeenReplaced", seenReplaced},
		{"SeenLarge", seenLarge},
	}
}

func seenReplaced(ctx context.Context, s lifecycle.Store, p string) error {
	id := p + "seen"
	steps := [][]uint64{
		{1, 2, 3, 1 << 63},
		{2, 1 << 62, 1<<63 + 5, 1<<64 - 1}, // some kept, some dropped, some new
		{0, 2},                             // shrinks
		nil,                                // emptied
		{7},
	}
	for i, seen := range steps {
		c := sample(id, i)
		c.Version = uint64(i + 1)
		c.Seen = seen
		if err := s.Put(ctx, c, uint64(i)); err != nil {
			return fmt.Errorf("Put(version %d, Seen %v) = %v", i+1, seen, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get after Put(version %d) = %v", i+1, err)
		}
		if !slices.Equal(got.Seen, seen) {
			return fmt.Errorf("after Put(version %d, Seen %v), Get returned Seen %v", i+1, seen, got.Seen)
		}
	}
	return nil
}

func seenLarge(ctx context.Context, s lifecycle.Store, p string) error {
	const n = 5000
	seen := make([]uint64, 0, n)
	for i := range n {
		seen = append(seen, lifecycle.EventDigest(p+"event-"+strconv.Itoa(i)))
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)
	id := p + "large"
	c := sample(id, 0)
	c.Seen = seen
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put(customer with %d digests) = %v", len(seen), err)
	}
	next := c.Clone()
	next.Version = 2
	extra := lifecycle.EventDigest(p + "one more")
	i, _ := slices.BinarySearch(next.Seen, extra)
	next.Seen = slices.Insert(next.Seen, i, extra)
	if err := s.Put(ctx, next, 1); err != nil {
		return fmt.Errorf("Put(one more digest, prev 1) = %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	if !slices.Equal(got.Seen, next.Seen) {
		return fmt.Errorf("a customer with %d digests came back with %d (first difference at index %d)", len(next.Seen), len(got.Seen), firstDiff(next.Seen, got.Seen))
	}
	return nil
}

func firstDiff(a, b []uint64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
