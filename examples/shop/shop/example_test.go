package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func Example() {
	clock := func() time.Time { return time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC) }
	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(clock))
	srv := httptest.NewServer(shop.New(t, shop.WithClock(clock)))
	defer srv.Close()

	// One library event and one Segment track call in a batch.
	body := `[
	  {"id": "v-1", "customer_id": "c42", "type": "site_visited", "time": "2026-03-01T10:00:00Z"},
	  {"type": "track", "event": "Order Completed", "userId": "c42", "messageId": "ord-1001",
	   "timestamp": "2026-03-02T10:00:00Z", "properties": {"total": 49.99, "currency": "EUR"}}
	]`
	resp, err := http.Post(srv.URL+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	var ans struct {
		Results []struct {
			ID, Status, From, To string
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	fmt.Println(resp.Status)
	for _, r := range ans.Results {
		fmt.Printf("%s %s: %q → %q\n", r.ID, r.Status, r.From, r.To)
	}

	resp, err = http.Get(srv.URL + "/v1/customers/c42")
	if err != nil {
		fmt.Println(err)
		return
	}
	var c struct {
		Stage   string
		Revenue map[string]int64
	}
	_ = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	fmt.Println("c42:", c.Stage, c.Revenue["EUR"], "cents")
	// Output:
	// 202 Accepted
	// v-1 applied: "" → "reach"
	// ord-1001 applied: "reach" → "conversion"
	// c42: conversion 4999 cents
}

// receiver handles the shop's stage-change webhooks: it verifies each
// delivery, then acts once per change.
type receiver struct {
	secret string // the shop's -webhook-secret, "whsec_…"
	act    func(p webhook.Payload) error

	mu   sync.Mutex
	done map[string]bool // webhook-ids acted on: keep them in your database
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	// Verify the bytes received, before decoding them.
	if err := webhook.Verify(rc.secret, r.Header, body, time.Now(), 0); err != nil {
		http.Error(w, "not verified", http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "not a stage change", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.done[p.Data.ID] { // delivered again: acted on already
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := rc.act(p); err != nil {
		http.Error(w, "try again later", http.StatusServiceUnavailable) // the shop retries
		return
	}
	rc.done[p.Data.ID] = true
	w.WriteHeader(http.StatusNoContent)
}

// exampleSecret is a Standard Webhooks secret; make yours with
// echo "whsec_$(openssl rand -base64 32)" and keep it out of the code.
const exampleSecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// Example_webhooks wires the shop as examples/shop does (a feed.Dispatcher
// delivering the store's change feed through a webhook.Sender) to a
// receiver that verifies each delivery and acts once per change.
func Example_webhooks() {
	rc := &receiver{secret: exampleSecret, done: map[string]bool{}, act: func(p webhook.Payload) error {
		fmt.Printf("act on %s #%d: %q → %q\n", p.Data.CustomerID, p.Data.Seq, p.Data.From, p.Data.To)
		return nil
	}}
	hooks := httptest.NewServer(rc)
	defer hooks.Close()

	st := store.NewMemory() // the shop: SQLite or PostgreSQL, whose feed survives a crash
	t := lifecycle.NewTracker(model.SterneCutler(), st)
	sender, err := webhook.New(hooks.URL, exampleSecret)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := feed.New(st, st, "webhooks", sender.Deliver)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- d.Run(ctx) }()
	srv := httptest.NewServer(shop.New(t, shop.WithWebhooks(d.Stats, hooks.URL)))
	defer srv.Close()

	body := `[
	  {"id": "v-1", "customer_id": "c42", "type": "site_visited", "time": "2026-03-01T10:00:00Z"},
	  {"id": "ord-1001", "customer_id": "c42", "type": "order_completed", "time": "2026-03-02T10:00:00Z",
	   "amount": 4999, "currency": "EUR"}
	]`
	resp, err := http.Post(srv.URL+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); d.Stats().Delivered < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	// A change delivered again (after a crash, say) is acted on once.
	changes, err := st.Changes(ctx, 0, 10)
	if err != nil || len(changes) == 0 {
		fmt.Println("no changes:", err)
		return
	}
	fmt.Println("delivered again:", sender.Deliver(ctx, changes[0]) == nil)

	resp, err = http.Get(srv.URL + "/v1/webhooks")
	if err != nil {
		fmt.Println(err)
		return
	}
	var v struct {
		State     string `json:"state"`
		Delivered int    `json:"delivered"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	fmt.Printf("GET /v1/webhooks: %s, %d delivered\n", v.State, v.Delivered)
	cancel() // at shutdown: Run gives the lease up and returns
	<-stopped
	// Output:
	// act on c42 #1: "" → "reach"
	// act on c42 #2: "reach" → "conversion"
	// delivered again: true
	// GET /v1/webhooks: delivering, 2 delivered
}
