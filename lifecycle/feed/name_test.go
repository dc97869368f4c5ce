package feed_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/store"
)

// New refuses a name or owner that a store may not hold as a cursor's
// (sqlstore refuses one past MaxIDLen bytes, not UTF-8 or with a NUL, and
// Run retried such a claim until its context ended), and takes the
// longest one every store holds.
func TestNewCursorNameRule(t *testing.T) {
	m := store.NewMemory()
	h := func(context.Context, lifecycle.Change) error { return nil }
	for _, bad := range []string{"bad\x00name", "bad\xffname", strings.Repeat("n", lifecycle.MaxIDLen+1)} {
		if _, err := feed.New(m, m, bad, h); !errors.Is(err, feed.ErrInvalid) || !strings.Contains(err.Error(), "name") {
			t.Errorf("New(name %.12q…) = %v; want ErrInvalid naming the name", bad, err)
		}
		if _, err := feed.New(m, m, "ok", h, feed.WithOwner(bad)); !errors.Is(err, feed.ErrInvalid) || !strings.Contains(err.Error(), "WithOwner") {
			t.Errorf("WithOwner(%.12q…) = %v; want ErrInvalid naming WithOwner", bad, err)
		}
	}
	long := strings.Repeat("é", lifecycle.MaxIDLen/2)
	if _, err := feed.New(m, m, long, h, feed.WithOwner(long)); err != nil {
		t.Errorf("New with a name and owner of %d bytes: %v", len(long), err)
	}
}
