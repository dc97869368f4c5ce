package stream_test

// Tests from an audit of the Processor's record loop against its docs.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// auditStore refuses the rows in bad as undecodable (ErrInvalidCustomer)
// and, once a write of trigger has been seen, fails the next write of
// failOnce once.
type auditStore struct {
	*store.Memory
	bad             map[string]bool
	trigger, failOn string
	armed, fired    atomic.Bool
}

func (b *auditStore) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		id := ws[i].ID
		if id == b.trigger {
			b.armed.Store(true)
		}
		if b.bad[id] {
			ws[i].Err = fmt.Errorf("%w: customer %q: stored data does not decode", lifecycle.ErrInvalidCustomer, id)
			continue
		}
		if id == b.failOn && b.armed.Load() && !b.fired.Swap(true) {
			ws[i].Err = errors.New("connection reset")
			continue
		}
		b.Memory.Apply(ctx, ws[i:i+1])
	}
}

func (b *auditStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if b.bad[id] {
		return nil, fmt.Errorf("%w: customer %q: stored data does not decode", lifecycle.ErrInvalidCustomer, id)
	}
	return b.Memory.Get(ctx, id)
}

// A credit the store cannot write makes dead letters of the messages of
// the referred customer (the doc says which, and why), and of no other.
func TestAuditCreditDeadLetters(t *testing.T) {
	st := &auditStore{Memory: store.NewMemory(), bad: map[string]bool{"r1": true}}
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Process(ctx, reviewMsgs(
		`{"id":"v1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
		`{"id":"o1","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":100,"currency":"EUR","referrer_id":"r1"}`,
		`{"id":"v2","customer_id":"c2","type":"site_visited","time":"2025-03-01T10:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	var offsets []int64
	for _, l := range dl.got {
		offsets = append(offsets, l.Message.Offset)
		if !errors.Is(l.Err, lifecycle.ErrInvalidCustomer) {
			t.Errorf("dead letter %d: %v; want ErrInvalidCustomer", l.Message.Offset, l.Err)
		}
	}
	if fmt.Sprint(offsets) != "[100 101]" || res.DeadLetters != 2 || res.Events != 1 || res.Applied != 1 {
		t.Errorf("dead letters at %v, result %+v; want c1's two messages (100 and 101) and c2's event applied", offsets, res)
	}
	c1, err := st.Memory.Get(ctx, "c1")
	if err != nil || c1.Facts.Events() != 2 {
		t.Errorf("c1 = %v, %v; want its two events applied", c1, err)
	}
}

type auditWaits struct {
	mu  sync.Mutex
	ins []time.Duration
}

func (h *auditWaits) Enabled(context.Context, slog.Level) bool { return true }
func (h *auditWaits) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "in" {
			h.mu.Lock()
			h.ins = append(h.ins, a.Value.Duration())
			h.mu.Unlock()
		}
		return true
	})
	return nil
}
func (h *auditWaits) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *auditWaits) WithGroup(string) slog.Handler      { return h }

// Options.Backoff is the wait before the first retry: the passes the
// Processor makes again at once (one message at a time after a credit
// fault) do not grow it.
func TestAuditFirstBackoffAfterCreditFault(t *testing.T) {
	st := &auditStore{Memory: store.NewMemory(), bad: map[string]bool{"r1": true}, trigger: "r1", failOn: "c5"}
	h := &auditWaits{}
	const b = 20 * time.Millisecond
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &zzLetters{}, stream.Options{Backoff: b, Logger: slog.New(h)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vals := []string{`{"id":"o1","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":100,"currency":"EUR","referrer_id":"r1"}`}
	for i := 2; i <= 5; i++ {
		vals = append(vals, fmt.Sprintf(`{"id":"v%d","customer_id":"c%d","type":"site_visited","time":"2025-03-01T10:00:00Z"}`, i, i))
	}
	if _, err := p.Process(ctx, reviewMsgs(vals...)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(h.ins) != fmt.Sprint([]time.Duration{b}) {
		t.Errorf("waits %v; want one wait of Backoff (%s) for the one store failure", h.ins, b)
	}
}

// An event the Tracker refuses while recording (after the Processor's
// own check let it through: here a clock that steps back) is named in
// the dead letter's error as validating names it: "event N (id …): ".
func TestAuditRecordTimeRefusalNamesEvent(t *testing.T) {
	var calls atomic.Int64
	clock := func() time.Time {
		if calls.Add(1) <= 2 {
			return time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
		}
		return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(clock)), dl, stream.Options{Backoff: time.Millisecond})
	_, err := p.Process(context.Background(), reviewMsgs(
		`{"id":"e0","customer_id":"c1","type":"site_visited","time":"2025-01-01T10:00:00Z"}`,
		`{"id":"e1","customer_id":"c2","type":"site_visited","time":"2025-06-01T10:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(dl.got) != 1 {
		t.Fatalf("dead letters %+v; want one", dl.got)
	}
	h := stream.ErrorHeader(dl.got[0].Err)
	if !strings.HasPrefix(h, `event 0 (id "e1"): `) || !errors.Is(dl.got[0].Err, lifecycle.ErrInvalidEvent) {
		t.Errorf("error %q; want it to begin event 0 (id \"e1\"): and wrap ErrInvalidEvent", h)
	}
}
