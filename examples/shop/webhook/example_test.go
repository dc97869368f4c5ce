package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/clmkit/clm/examples/shop/webhook"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func Example() {
	secret := "whsec-example"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	// The receiver: a shop's e-mail service, verifying each delivery.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte(secret), r.Header, body, now, webhook.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		fmt.Printf("%s: %s %q → %q (cause %s)\n", p.Type, p.CustomerID, p.From, p.To, p.Cause)
	}))
	defer receiver.Close()

	s, err := webhook.New(receiver.URL, secret,
		webhook.WithWorkers(1), // one worker keeps this example's output in order
		webhook.WithClock(func() time.Time { return now }))
	if err != nil {
		fmt.Println(err)
		return
	}
	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return now }),
		lifecycle.WithHook(s.Hook))

	ctx := context.Background()
	_, _ = t.Record(ctx, lifecycle.Event{ID: "s-1", CustomerID: "c42", Type: lifecycle.SignedUp, Time: now.Add(-2 * time.Hour)})
	_, _ = t.Record(ctx, lifecycle.Event{ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: now.Add(-time.Hour), Amount: 4999, Currency: "EUR"})

	if err := s.Close(ctx); err != nil { // delivers what is queued
		fmt.Println(err)
	}
	st := s.Stats()
	fmt.Printf("delivered %d, failed %d, dropped %d\n", st.Delivered, st.Failed, st.Dropped)
	// Output:
	// customer.stage_changed: c42 "" → "acquisition" (cause s-1)
	// customer.stage_changed: c42 "acquisition" → "conversion" (cause ord-1001)
	// delivered 2, failed 0, dropped 0
}
