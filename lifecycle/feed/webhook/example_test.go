package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// exampleSecret is the base64 of a 32-byte key; make yours with
// webhook.NewSecret(nil) and keep it out of the code.
const exampleSecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// ExampleVerify is a receiver: it reads the body as bytes, verifies the
// message, and only then decodes it.
func ExampleVerify() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // a real receiver uses time.Now

	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(exampleSecret, r.Header, body, clock(), 0); err != nil {
			http.Error(w, "not verified", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "not a stage change", http.StatusBadRequest)
			return
		}
		// Act once per p.Data.ID (it repeats when a change is delivered
		// again), then answer 2xx.
		fmt.Printf("%s: %s moved %q → %q (seq %d)\n", p.Type, p.Data.CustomerID, p.Data.From, p.Data.To, p.Data.Seq)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	s, err := webhook.New(srv.URL, exampleSecret, webhook.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	ch := lifecycle.Change{CustomerID: "c42", Seq: 2, Pos: 7, Transition: lifecycle.Transition{
		From: "reach", To: "acquisition", At: now.Add(-time.Hour), Cause: "s-1"}}
	fmt.Println("delivered:", s.Deliver(context.Background(), ch) == nil)

	// What Verify refuses: a body changed on the way, a message replayed
	// later.
	body := []byte(`{"type":"customer.stage_changed"}`)
	sig, _ := webhook.Sign(exampleSecret, "chg_1", now, body)
	h := http.Header{}
	h.Set(webhook.HeaderID, "chg_1")
	h.Set(webhook.HeaderTimestamp, fmt.Sprint(now.Unix()))
	h.Set(webhook.HeaderSignature, sig)
	err = webhook.Verify(exampleSecret, h, []byte(`{"type":"customer.deleted"}`), now, 0)
	fmt.Println("tampered:", errors.Is(err, webhook.ErrSignature))
	err = webhook.Verify(exampleSecret, h, body, now.Add(time.Hour), 0)
	fmt.Println("replayed an hour later:", errors.Is(err, webhook.ErrTimestamp))
	// Output:
	// customer.stage_changed: c42 moved "reach" → "acquisition" (seq 2)
	// delivered: true
	// tampered: true
	// replayed an hour later: true
}

// startWebhooks delivers st's stage changes to url as signed webhooks,
// until ctx is done. It is the set-up docs/feed.md shows.
func startWebhooks(ctx context.Context, st lifecycle.Store, url, secret string, log *slog.Logger) (*feed.Dispatcher, error) {
	changes, ok1 := st.(lifecycle.ChangeLister)
	cursors, ok2 := st.(lifecycle.CursorKeeper)
	if !ok1 || !ok2 {
		return nil, errors.New("this store has no change feed")
	}
	sender, err := webhook.New(url, secret)
	if err != nil {
		return nil, err
	}
	d, err := feed.New(changes, cursors, "webhooks", sender.Deliver, feed.WithLogger(log))
	if err != nil {
		return nil, err
	}
	go func() {
		if err := d.Run(ctx); !errors.Is(err, context.Canceled) {
			log.Error("webhooks stopped", "err", err) // a 410 Gone: fix the endpoint, restart
		}
	}()
	return d, nil
}

// Example_tracker delivers the stage changes a Tracker records as
// webhooks, to a receiver that verifies them.
func Example_tracker() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(exampleSecret, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, "not verified", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		fmt.Printf("%s #%d: %q → %q (cause %s)\n", p.Data.CustomerID, p.Data.Seq, p.Data.From, p.Data.To, p.Data.Cause)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := store.NewMemory()
	t := lifecycle.NewTracker(model.SterneCutler(), st)
	d, err := startWebhooks(ctx, st, srv.URL, exampleSecret, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, e := range []lifecycle.Event{
		{ID: "v-1", CustomerID: "c42", Type: lifecycle.SiteVisited, Time: at},
		{ID: "s-1", CustomerID: "c42", Type: lifecycle.SignedUp, Time: at.Add(time.Minute)},
		{ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 4999, Currency: "EUR"},
	} {
		if _, err := t.Record(ctx, e); err != nil {
			fmt.Println(err)
			return
		}
	}

	// The example ends once the three changes are delivered; a service
	// runs until shutdown.
	for d.Stats().Delivered < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	for d.Stats().Running { // Run gives its lease up and returns
		time.Sleep(time.Millisecond)
	}
	s := d.Stats()
	fmt.Printf("delivered %d, failed attempts %d, cursor %d\n", s.Delivered, s.Failures, s.Cursor)
	// Output:
	// c42 #1: "" → "reach" (cause v-1)
	// c42 #2: "reach" → "acquisition" (cause s-1)
	// c42 #3: "acquisition" → "conversion" (cause ord-1001)
	// delivered 3, failed attempts 0, cursor 3
}
