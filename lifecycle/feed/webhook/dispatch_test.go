package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/stage"
)

// memFeed is a change feed with one named cursor and its lease, held in
// memory, obeying the contracts of lifecycle.ChangeLister and
// lifecycle.CursorKeeper (for one name, which is all these tests use).
type memFeed struct {
	mu      sync.Mutex
	changes []lifecycle.Change
	pos     lifecycle.Cursor
	owner   string
	until   time.Time
}

func (f *memFeed) Changes(ctx context.Context, after lifecycle.Cursor, limit int) ([]lifecycle.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []lifecycle.Change
	for _, ch := range f.changes {
		if ch.Pos > after && len(out) < limit {
			out = append(out, ch)
		}
	}
	return out, nil
}

func (f *memFeed) ClaimCursor(ctx context.Context, _, owner string, now, until time.Time) (lifecycle.Cursor, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owner != "" && f.owner != owner && f.until.After(now) {
		return f.pos, false, nil
	}
	f.owner, f.until = owner, until
	return f.pos, until.After(now), nil
}

func (f *memFeed) AdvanceCursor(ctx context.Context, _, owner string, c lifecycle.Cursor, now, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owner != owner || !f.until.After(now) || c < f.pos {
		return lifecycle.ErrConflict
	}
	f.pos, f.until = c, until
	return nil
}

// TestDispatcherDeliversEveryChangeToAFlakyReceiver runs a feed.Dispatcher
// with a Sender against a receiver that fails often, in every way a
// Sender retries, and checks what the receiver ends up with.
func TestDispatcherDeliversEveryChangeToAFlakyReceiver(t *testing.T) {
	secret := testSecret(t, 20)
	st := &memFeed{}
	// 60 changes over 6 customers, among them the case of issue 15: one
	// customer moving conversion → acquisition twice at the same time
	// (late events at one classification time), which must get two IDs.
	seq := map[string]uint64{}
	for i := range 60 {
		cust := "c" + strconv.Itoa(i%6)
		seq[cust]++
		from, to := stage.ID("conversion"), stage.ID("acquisition")
		if seq[cust]%2 == 0 {
			from, to = to, from
		}
		st.changes = append(st.changes, lifecycle.Change{
			CustomerID: cust, Seq: seq[cust], Pos: lifecycle.Cursor(3 * (i + 1)),
			Transition: lifecycle.Transition{From: from, To: to, At: at, Cause: "late-" + strconv.Itoa(i/12)},
		})
	}
	want := map[string]webhook.Data{}
	for _, ch := range st.changes {
		want[ch.ID()] = webhook.NewPayload(ch).Data
	}
	require.Len(t, want, len(st.changes), "every change has its own ID")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	requests, accepted, refused := 0, 0, 0
	got := map[string]webhook.Data{}
	var order []uint64 // data.seq of c0's first deliveries
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || !specAccepts(secret, r.Header, body) {
			t.Errorf("a delivery fails the spec's check: %v %v", err, r.Header)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		requests++
		switch requests % 7 { // a flaky receiver
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			refused++
			return
		case 3:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			refused++
			return
		case 5:
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
			refused++
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("body: %v", err)
			return
		}
		id := r.Header.Get("webhook-id")
		if id != p.Data.ID {
			t.Errorf("webhook-id %s, data.id %s", id, p.Data.ID)
		}
		if prev, ok := got[id]; ok {
			assert.Equal(t, prev, p.Data, "two different changes share the webhook-id %s", id)
		} else if p.Data.CustomerID == "c0" {
			order = append(order, p.Data.Seq)
		}
		got[id] = p.Data
		accepted++
		if len(got) == len(want) {
			cancel()
		}
	}))
	defer srv.Close()

	s, err := webhook.New(srv.URL+"/hooks", secret, webhook.WithTimeout(5*time.Second))
	require.NoError(t, err)
	d, err := feed.New(st, st, "webhooks", s.Deliver, feed.WithBatch(8),
		feed.WithBackoff(time.Millisecond, 4*time.Millisecond), feed.WithPoll(time.Millisecond))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(60 * time.Second):
		cancel()
		<-done
		t.Fatal("not every change was delivered within 60s")
	}

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, want, got, "every change delivered, each under its own webhook-id")
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, order, "a customer's changes arrive in order")
	assert.Greater(t, refused, 10)
	// The last answer may not reach the dispatcher: the receiver cancels
	// Run as it accepts the last change.
	stats := d.Stats()
	assert.Contains(t, []uint64{uint64(accepted) - 1, uint64(accepted)}, stats.Delivered)
	assert.Equal(t, uint64(refused), stats.Failures)
	n := len(st.changes)
	assert.Contains(t, []lifecycle.Cursor{st.changes[n-2].Pos, st.changes[n-1].Pos}, stats.Cursor)
}

// TestGoneStopsTheDispatcher checks that a 410 Gone ends Run with an
// error wrapping ErrGone, the cursor left before the refused change.
func TestGoneStopsTheDispatcher(t *testing.T) {
	secret := testSecret(t, 21)
	st := &memFeed{}
	for i := range 5 {
		st.changes = append(st.changes, change("c1", uint64(i+1), "reach", "acquisition", "e"+strconv.Itoa(i)))
	}
	var mu sync.Mutex
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("webhook-id"))
		if len(ids) == 3 {
			w.WriteHeader(http.StatusGone)
		}
	}))
	defer srv.Close()
	s, err := webhook.New(srv.URL, secret)
	require.NoError(t, err)
	d, err := feed.New(st, st, "webhooks", s.Deliver, feed.WithPoll(time.Millisecond))
	require.NoError(t, err)
	err = d.Run(context.Background())
	require.ErrorIs(t, err, webhook.ErrGone)
	assert.Contains(t, err.Error(), srv.URL)
	assert.Contains(t, err.Error(), st.changes[2].ID())
	mu.Lock()
	assert.Equal(t, []string{st.changes[0].ID(), st.changes[1].ID(), st.changes[2].ID()}, ids)
	mu.Unlock()
	assert.Equal(t, st.changes[1].Pos, d.Stats().Cursor)
	st.mu.Lock()
	assert.Equal(t, st.changes[1].Pos, st.pos, "the stored cursor stays before the refused change")
	assert.False(t, st.until.After(time.Now()), "the lease was given up")
	st.mu.Unlock()
}
