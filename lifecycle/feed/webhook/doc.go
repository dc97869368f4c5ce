// Package webhook delivers stage changes over HTTP on the Standard
// Webhooks convention (https://www.standardwebhooks.com/), so that
// receivers can verify them with any Standard Webhooks library, or with
// [Verify].
//
// A [Sender] is a [feed.Handler]: run it under a [feed.Dispatcher], which
// reads the store's change feed and retries, and every change reaches the
// endpoint at least once:
//
//	s, err := webhook.New("https://shop.example/hooks/clm", secret)
//	...
//	d, err := feed.New(st, st, "webhooks", s.Deliver)
//	...
//	go d.Run(ctx)
//
// # Messages
//
// Each change is POSTed as JSON ([Payload]):
//
//	{"type":"customer.stage_changed","timestamp":"2026-03-01T10:00:00Z",
//	 "data":{"id":"chg_…","customer_id":"c42","seq":2,"from":"reach",
//	         "to":"acquisition","at":"2026-03-01T10:00:00Z","cause":"s-1"}}
//
// with these headers:
//
//	webhook-id:        chg_… (the change's identity, lifecycle.Change.ID)
//	webhook-timestamp: Unix seconds when the attempt was signed
//	webhook-signature: v1,<base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//	Content-Type:      application/json
//
// where key is the secret's bytes: a secret is written "whsec_" and the
// base64 of a 24- to 64-byte key ([NewSecret] makes one of 32 bytes).
//
// # Guarantees
//
// With a dispatcher, every change the store's feed lists is delivered at
// least once: a receiver may get one again (after a failure, a restart,
// or an instance taking over), always with the same webhook-id and body.
// Two different changes never share a webhook-id, so a receiver
// deduplicates by it. Changes arrive one at a time in feed order, each
// customer's in the order of its history (data.seq). What survives a
// crash depends on the store: see package feed.
//
// # Answers
//
// A 2xx answer means delivered. Redirects are not followed: a 3xx is a
// failure, tried again later (change the URL instead). 410 Gone stops
// the dispatcher ([feed.Stop]): it logs the error and leaves the change
// undelivered until it runs again. 429 and 503 with Retry-After make the
// next attempt wait at least that long ([feed.RetryAfter]); any other
// answer, a time-out or a network error is tried again with back-off.
//
// # Receiving
//
// A receiver reads the body as bytes, calls [Verify] with the headers,
// the body and its clock (it refuses a tampered message and one more
// than 5 minutes old or early), answers 2xx once it has acted on the
// change, or already had it (same webhook-id), and 4xx to a message
// Verify refuses.
//
// Hooks ([lifecycle.WithHook]) remain the tool for in-process, best-effort
// reactions: see package feed.
package webhook
