package storetest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// brokenFeed wraps Memory and breaks one rule of its change feed or its
// cursors.
type brokenFeed struct {
	*store.Memory
	mode string
	last *sync.Map // name → the owner the last granted claim went to (mode advance-expired)
}

func (b brokenFeed) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	switch b.mode {
	case "inclusive": // lists the change at the cursor again
		if after > 0 {
			after--
		}
	case "drops": // loses the customers' third changes
		page, err := b.Memory.Changes(ctx, after, limit)
		out := page[:0]
		for _, ch := range page {
			if ch.Seq != 3 {
				out = append(out, ch)
			}
		}
		if len(out) == 0 && len(page) > 0 { // keep paging past what it dropped
			out = append(out, page[len(page)-1])
			out[0].Seq = 99
		}
		return out, err
	case "seq-from-0":
		page, err := b.Memory.Changes(ctx, after, limit)
		for i := range page {
			page[i].Seq--
		}
		return page, err
	case "wrong-transition":
		page, err := b.Memory.Changes(ctx, after, limit)
		for i := range page {
			page[i].At = page[i].At.Add(time.Second)
		}
		return page, err
	case "over-limit":
		return b.Memory.Changes(ctx, after, limit+1)
	case "window": // lists only among the next limit positions, hidden ones counted
		if limit < 1 {
			limit = 100
		}
		page, err := b.Memory.Changes(ctx, after, limit)
		out := page[:0]
		for _, ch := range page {
			if ch.Pos <= after+lifecycle.Cursor(limit) {
				out = append(out, ch)
			}
		}
		return out, err
	}
	return b.Memory.Changes(ctx, after, limit)
}

func (b brokenFeed) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if b.mode == "steal" { // every claim wins
		c, _, err := b.Memory.ClaimCursor(ctx, name, owner, now, until)
		return c, true, err
	}
	if b.mode == "claim-keeps-release" && !until.After(now) { // a claim giving the lease up keeps it a nanosecond
		until = now.Add(time.Nanosecond)
	}
	c, held, err := b.Memory.ClaimCursor(ctx, name, owner, now, until)
	if held && b.last != nil {
		b.last.Store(name, owner)
	}
	return c, held, err
}

func (b brokenFeed) AdvanceCursor(ctx context.Context, name, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if b.mode == "advance-expired" { // an owner whose lease ended still advances while nobody else claimed
		err := b.Memory.AdvanceCursor(ctx, name, owner, c, now, until)
		if last, ok := b.last.Load(name); err != nil && ok && last == owner {
			if _, held, cerr := b.Memory.ClaimCursor(ctx, name, owner, now, now.Add(time.Hour)); cerr == nil && held {
				return b.Memory.AdvanceCursor(ctx, name, owner, c, now, until)
			}
		}
		return err
	}
	if b.mode == "advance-at-end" { // takes a lease ending exactly at now for held
		now = now.Add(-time.Nanosecond)
	}
	if b.mode == "backwards" { // moves back when asked: gives up and re-claims
		err := b.Memory.AdvanceCursor(ctx, name, owner, c, now, until)
		if err != nil && strings.Contains(err.Error(), "before the stored") {
			return nil
		}
		return err
	}
	return b.Memory.AdvanceCursor(ctx, name, owner, c, now, until)
}

// Delete leaves the customer, and so its changes, in place (mode
// delete-keeps-changes).
func (b brokenFeed) Delete(ctx context.Context, id string) error {
	if b.mode == "delete-keeps-changes" {
		return nil
	}
	return b.Memory.Delete(ctx, id)
}

// TestBrokenFeeds breaks the feed or the cursors in one way each and
// checks that a feed rule fails (the rule named, where given: the modes a
// review found the suite passing).
func TestBrokenFeeds(t *testing.T) {
	for mode, rule := range map[string]string{
		"inclusive": "", "drops": "", "seq-from-0": "", "wrong-transition": "", "over-limit": "", "window": "",
		"steal": "", "backwards": "", "advance-expired": "",
		"advance-at-end":       "CursorLease",       // an owner whose lease ends at now advances
		"delete-keeps-changes": "ChangesPastHidden", // a deleted customer's changes are listed
		"claim-keeps-release":  "CursorLease",       // a claim with until = now does not give the lease up
	} {
		t.Run(mode, func(t *testing.T) {
			err := storetest.TestStore(brokenFeed{store.NewMemory(), mode, new(sync.Map)})
			if err == nil {
				t.Fatalf("TestStore passed a store whose feed breaks a rule (%s)", mode)
			}
			if !strings.Contains(err.Error(), "Changes") && !strings.Contains(err.Error(), "Cursor") {
				t.Errorf("TestStore failed, but not in a feed rule:\n%v", err)
			}
			if rule != "" && !strings.Contains(err.Error(), "storetest: "+rule+":") {
				t.Errorf("the suite did not report rule %q for %s; it said:\n%v", rule, mode, err)
			}
			t.Log(err)
		})
	}
}

// refusesEmptyOwner is a sound store that refuses the owner "" (as
// lifecycle.CursorKeeper allows) instead of holding leases for it.
type refusesEmptyOwner struct{ *store.Memory }

func (r refusesEmptyOwner) ClaimCursor(ctx context.Context, name, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if owner == "" {
		return 0, false, errors.New("cursor owner is empty")
	}
	return r.Memory.ClaimCursor(ctx, name, owner, now, until)
}

// TestEmptyOwnerRefusedPasses: refusing the owner "" with an error passes
// the suite; only taking "" for nobody fails it.
func TestEmptyOwnerRefusedPasses(t *testing.T) {
	if err := storetest.TestStore(refusesEmptyOwner{store.NewMemory()}); err != nil {
		t.Fatalf("a store refusing the owner \"\" failed the suite: %v", err)
	}
}

// panicsInFeedWriters is Memory whose Apply panics for the customers of
// rule ChangesConcurrent (IDs ending "fc0" to "fc7"), which the rule's
// writer goroutines write.
type panicsInFeedWriters struct{ *store.Memory }

func (p panicsInFeedWriters) Apply(ctx context.Context, ws []lifecycle.Write) {
	for _, w := range ws {
		if i := strings.LastIndex(w.ID, "fc"); i >= 0 && len(w.ID) == i+3 {
			panic("Apply of " + w.ID)
		}
	}
	p.Memory.Apply(ctx, ws)
}

// TestPanicInFeedWriters: a store that panics in ChangesConcurrent's
// writer goroutines fails that rule instead of crashing the test binary.
func TestPanicInFeedWriters(t *testing.T) {
	err := storetest.TestStore(panicsInFeedWriters{store.NewMemory()})
	if err == nil {
		t.Fatal("a store whose Apply panics passed the suite")
	}
	if !strings.Contains(err.Error(), "storetest: ChangesConcurrent:") || !strings.Contains(err.Error(), "panicked: Apply of ") {
		t.Errorf("the suite did not report the panic in ChangesConcurrent; it said:\n%v", err)
	}
}
