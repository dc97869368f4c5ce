package shop_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
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
