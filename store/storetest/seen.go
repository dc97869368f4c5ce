package storetest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/clmkit/clm/lifecycle"
)

// SeenCases returns rules about [lifecycle.Customer.Seen], the set of
// applied events, that a store keeping it apart from the rest of the
// customer (in rows of their own, as store/sqlstore does) can get wrong: a
// Put replaces Seen exactly, however it changed, and large sets and legacy
// keys come back intact. [Cases] (and so [Run] and [TestStore]) includes
// them; SeenCases returns just these two.
func SeenCases() []Case {
	return []Case{
		{"SeenReplaced", seenReplaced},
		{"SeenLarge", seenLarge},
	}
}

func seenReplaced(ctx context.Context, s lifecycle.Store, p string) error {
	id := p + "seen"
	legacy := seenOf("a")
	legacy.Add(lifecycle.LegacyKeyOf("old"))
	steps := []lifecycle.EventSet{
		seenOf("a", "b", "c"),
		seenOf("b", "d", "e", "f"), // some kept, some dropped, some new
		seenOf("a"),                // shrinks
		{},                         // emptied
		legacy,                     // an event remembered from older data
		seenOf("g"),
	}
	for i, seen := range steps {
		c := sample(id, i)
		c.Version = uint64(i + 1)
		c.Seen = seen
		if err := s.Put(ctx, c, uint64(i)); err != nil {
			return fmt.Errorf("Put(version %d, %d seen) = %v", i+1, seen.Len(), err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get after Put(version %d) = %v", i+1, err)
		}
		if !got.Seen.Equal(&c.Seen) {
			w, _ := c.Seen.MarshalJSON()
			g, _ := got.Seen.MarshalJSON()
			return fmt.Errorf("after Put(version %d, Seen %s), Get returned Seen %s", i+1, w, g)
		}
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !got.HasSeen("g") || got.HasSeen("old") || got.HasSeen("a") {
		return fmt.Errorf("after the last Put, HasSeen(g, old, a) = %v, %v, %v; want true, false, false", got.HasSeen("g"), got.HasSeen("old"), got.HasSeen("a"))
	}
	return nil
}

func seenLarge(ctx context.Context, s lifecycle.Store, p string) error {
	const n = 5000
	var seen lifecycle.EventSet
	keys := make([]lifecycle.EventKey, 0, n)
	for i := range n {
		keys = append(keys, lifecycle.KeyOf(p+"event-"+strconv.Itoa(i)))
	}
	seen.Set(keys)
	id := p + "large"
	c := sample(id, 0)
	c.Seen = seen
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put(customer with %d keys) = %v", seen.Len(), err)
	}
	next := c.Clone()
	next.Version = 2
	next.Seen.Add(lifecycle.KeyOf(p + "one more"))
	if err := s.Put(ctx, next, 1); err != nil {
		return fmt.Errorf("Put(one more key, prev 1) = %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	if !got.Seen.Equal(&next.Seen) {
		return fmt.Errorf("a customer with %d keys came back with %d (or other keys)", next.Seen.Len(), got.Seen.Len())
	}
	for _, ev := range []string{p + "event-0", p + "event-4999", p + "one more"} {
		if !got.HasSeen(ev) {
			return fmt.Errorf("a customer with %d keys came back without %q", next.Seen.Len(), ev)
		}
	}
	return nil
}
