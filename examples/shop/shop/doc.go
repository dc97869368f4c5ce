// Package shop is the HTTP face of a shop's customer lifecycle: an
// [http.Handler] that ingests events, answers questions about customers
// and stages, and serves a dashboard. It is the handler of the
// examples/shop service, kept importable so that a shop can mount it in
// its own server (and so that it has a runnable example).
//
// # API
//
// All API answers are JSON. Errors have the shape
//
//	{"error": {"code": "not_found", "message": "no customer \"c42\""}}
//
// With [WithAPIKeys], every request must carry one of the keys (see
// there); others get 401 with the code "unauthorized".
//
// POST /v1/events records events and answers 202 Accepted with one result
// per event, in the order sent. The body (Content-Type application/json,
// or none) is one of:
//   - one event: a JSON object;
//   - a batch: a JSON array of events;
//   - a Segment batch: {"batch": [...]}.
//
// Each event is either in the library's JSON form ([lifecycle.Event]: id,
// customer_id, type, time, amount, currency, referrer_id, attrs) or a
// Segment call: any object whose "type" is "track", "page", "screen",
// "identify", "group" or "alias". Segment calls are converted by
// [lifecycle.FromSegment] (track calls by event name, "Order Completed"
// → order_completed; page and screen calls → site_visited; amounts in
// major units, "49.99" EUR → 4999); identify, group and alias calls record
// nothing and get the status "skipped". A Segment call may also carry
// the envelope fields Segment's servers and RudderStack add (projectId,
// rudderId, request_ip, channel, sentAt, receivedAt, originalTimestamp …:
// see docs/shop.md), which are ignored. Other fields, that neither form
// defines, are refused, and errors about a Segment call name its Segment
// fields ("messageId", "timestamp", "properties.total").
//
// A request is all or nothing as far as its content goes: if any event is
// malformed or invalid, none is applied, and the answer lists an error for
// every bad event, naming the field. Status codes:
//   - 202: every event was applied, or was a duplicate or skipped (see
//     "status");
//   - 400: the body is not JSON, has the wrong shape, holds no event, or
//     an event in clm's own form does not decode: an unknown field, a
//     value of the wrong JSON type, or one its decoding refuses (a "time"
//     that is not RFC 3339, an "amount" with a fraction or an exponent,
//     such as 5.0, or outside 64 bits, a string that is not valid UTF-8)
//     (for
//     a Segment call: a field Segment does not define, or a "type",
//     "event", "messageId" or "timestamp" that is not a JSON string), or
//     the body could not be read to its end;
//   - 413: the body is larger than [DefaultMaxBodyBytes] (1 MiB; see
//     [WithMaxBodyBytes]) or holds more than [DefaultMaxBatch] events
//     (1000; see [WithMaxBatch]);
//   - 415: a Content-Type other than application/json;
//   - 422: the events decode but one is invalid
//     ([lifecycle.Event.Validate], a Segment call FromSegment refuses, or
//     whose body is not valid UTF-8, with field "json", a
//     customer or referrer ID ".", ".." or "/", which not every client can
//     name in a URL path (see docs/shop.md), or a time more
//     than the tracker's skew in the future);
//   - 500 or 503: the store failed for some customers. Results say which
//     events were applied; retrying the whole request is safe, as applied
//     events come back as duplicates.
//
// Each result has "index" and a "status", and "id" and "customer_id" when
// the event was decoded (a Segment call: converted) and named them (a
// skipped call has neither, nor a call FromSegment refuses):
// "applied",
// "duplicate", "skipped" (a Segment call that records nothing),
// "rejected" (this event is bad: its "error" has "field", as sent, ""
// for an error about the whole event; "value", "" for a missing field;
// "reason" and "message"), "not_applied" (this event is good but another
// one in the request is bad) or "failed" (a store error). Applied and
// duplicate events also carry "from" (absent for a new customer), "to",
// "moved" (true or false) and "version".
//
// GET /v1/customers/{id} returns a customer's stage, facts and history,
// or 404. GET /v1/stages returns the number of customers in each stage, in
// the model's order. GET /v1/funnel returns, per stage, the customers who
// reached it, the conversion to the next stage, the drop-off, and the time
// spent in it (see [funnel.StageStats] for the definitions). GET
// /v1/webhooks returns the state of webhook deliveries when they are
// configured ([WithWebhooks]): whether this instance delivers, the
// cursor, changes delivered, failed attempts, the last error and the
// lag. Stages, funnel and dashboard read every
// stored customer on each request: fine for thousands of customers, not
// for millions.
//
// Routes are net/http method patterns ("POST /v1/events", "GET
// /v1/customers/{id}" …); GET routes answer HEAD too, and another method
// on a route's path gets 405 with the code "method_not_allowed" and an
// Allow header.
//
// # Metrics
//
// GET /metrics serves Prometheus metrics (see [Metrics]): events by
// result status, refused requests by error code, stage moves by from and
// to (and the moves the model's graph does not declare), customers per stage (read from the store on each scrape), sweeps
// and their duration ([Server.Sweep]), webhook deliveries, failures and
// lag (with [WithWebhooks]), and request latency by route pattern and
// status code.
//
// # Dashboard
//
// GET / serves an HTML page without scripts or external assets: the
// funnel as an SVG bar chart (customers in each stage now, and customers
// who ever reached it), the conversion between stages, the time in each
// stage, customers and net revenue by stage, the customers in each stage
// at monthly points over the last year, the state of webhook deliveries when they are configured, and a
// customer lookup (GET /?customer=ID).
package shop
