package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// lateCtx is a context whose deadline has passed but whose Err does not
// say so yet, as a context looks in the moment between a dial's own
// timeout at the deadline and the context's timer.
type lateCtx struct{ context.Context }

func (lateCtx) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

// A write that fails once its context's deadline has passed wraps
// context.DeadlineExceeded, whatever the driver said ("i/o timeout" from
// a dial; an audit saw one that did not wrap it).
func TestFailAfterDeadline(t *testing.T) {
	w := &lifecycle.Write{ID: "c1"}
	fail(lateCtx{context.Background()}, []*lifecycle.Write{w}, errors.New("dial tcp: i/o timeout"), true)
	if !errors.Is(w.Err, context.DeadlineExceeded) || errors.Is(w.Err, lifecycle.ErrConflict) {
		t.Errorf("Err = %v; want it to wrap DeadlineExceeded, not ErrConflict", w.Err)
	}
	w = &lifecycle.Write{ID: "c1"}
	fail(context.Background(), []*lifecycle.Write{w}, errors.New("boom"), false)
	if errors.Is(w.Err, context.DeadlineExceeded) {
		t.Errorf("Err = %v without a deadline; want no DeadlineExceeded", w.Err)
	}
}
