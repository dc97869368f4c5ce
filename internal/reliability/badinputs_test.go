package reliability_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/bad-inputs.md from the current errors")

const badInputsFile = "../../docs/bad-inputs.md"

// badClock is the tracker clock of the bad-input cases.
var badClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// okEvent is a valid event; each case spoils one thing.
func okEvent() lifecycle.Event {
	return lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: badClock.Add(-time.Hour)}
}

type badInput struct {
	group, input string
	// accepted marks an input that is tolerated on purpose (the table
	// says how); every other case must fail.
	accepted bool
	run      func(ctx context.Context) error
}

// record records e with a fresh tracker and memory store and fails the
// case if a refused event left anything behind.
func record(e lifecycle.Event) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		m := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
		_, err := tr.Record(ctx, e)
		if err != nil && m.Len() != 0 {
			return fmt.Errorf("BUG: refused event was stored: %w", err)
		}
		return err
	}
}

func withEvent(edit func(e *lifecycle.Event)) func(ctx context.Context) error {
	e := okEvent()
	edit(&e)
	return record(e)
}

// decode decodes JSON into an Event as a service would, then records it.
func decode(js string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var e lifecycle.Event
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			return err
		}
		return record(e)(ctx)
	}
}

// decodeEvents decodes JSON with lifecycle.DecodeEvents, then records the
// events in one batch.
func decodeEvents(js string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		events, err := lifecycle.DecodeEvents([]byte(js))
		if err != nil {
			return err
		}
		m := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
		_, err = tr.RecordBatch(ctx, events)
		if err != nil && m.Len() != 0 {
			return fmt.Errorf("BUG: refused events were stored: %w", err)
		}
		return err
	}
}

// segment converts Segment calls with lifecycle.FromSegment, then records
// the events in one batch.
func segment(js string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		events, err := lifecycle.FromSegment([]byte(js))
		if err != nil {
			return err
		}
		m := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
		_, err = tr.RecordBatch(ctx, events)
		if err != nil && m.Len() != 0 {
			return fmt.Errorf("BUG: refused events were stored: %w", err)
		}
		return err
	}
}

func manyAttrs(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m["k"+strconv.Itoa(i)] = "v"
	}
	return m
}

// fixedModel answers one stage, or panics when s is empty.
type fixedModel struct{ s stage.ID }

func (fixedModel) Name() string         { return "fixed" }
func (fixedModel) Stages() *stage.Graph { return model.SterneCutler().Stages() }
func (m fixedModel) Stage(*lifecycle.Facts, time.Time) stage.ID {
	if m.s == "" {
		panic("model bug")
	}
	return m.s
}

func badInputs() []badInput {
	long := func(n int) string { return strings.Repeat("x", n) }
	ev := withEvent
	type E = lifecycle.Event
	cases := []badInput{
		// Every rule of Event.Validate and Tracker.Validate.
		{"event", "id empty", false, ev(func(e *E) { e.ID = "" })},
		{"event", "id of 257 bytes", false, ev(func(e *E) { e.ID = long(257) })},
		{"event", "id with a NUL byte", false, ev(func(e *E) { e.ID = "a\x00b" })},
		{"event", "id not valid UTF-8", false, ev(func(e *E) { e.ID = "a\xffb" })},
		{"event", "id with a leading space", false, ev(func(e *E) { e.ID = " e1" })},
		{"event", "id with a trailing newline", false, ev(func(e *E) { e.ID = "e1\n" })},
		{"event", "customer_id empty", false, ev(func(e *E) { e.CustomerID = "" })},
		{"event", "customer_id of 257 bytes", false, ev(func(e *E) { e.CustomerID = long(257) })},
		{"event", "customer_id with a NUL byte", false, ev(func(e *E) { e.CustomerID = "c\x00" })},
		{"event", "customer_id not valid UTF-8", false, ev(func(e *E) { e.CustomerID = "\xc3\x28" })},
		{"event", "customer_id with a trailing tab", false, ev(func(e *E) { e.CustomerID = "c1\t" })},
		{"event", "type empty", false, ev(func(e *E) { e.Type = "" })},
		{"event", "type not standard, no vendor prefix (typo)", false, ev(func(e *E) { e.Type = "order_complete" })},
		{"event", "type in upper case", false, ev(func(e *E) { e.Type = "Acme.Thing" })},
		{"event", "type with a trailing dot", false, ev(func(e *E) { e.Type = "acme." })},
		{"event", "type with a leading dot", false, ev(func(e *E) { e.Type = ".thing" })},
		{"event", "type with two dots in a row", false, ev(func(e *E) { e.Type = "acme..thing" })},
		{"event", "type with a hyphen", false, ev(func(e *E) { e.Type = "acme.wish-list" })},
		{"event", "type of 65 bytes", false, ev(func(e *E) { e.Type = lifecycle.EventType("acme." + long(60)) })},
		{"event", "time zero", false, ev(func(e *E) { e.Time = time.Time{} })},
		{"event", "time in year 1899", false, ev(func(e *E) { e.Time = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC) })},
		{"event", "time in year 10000", false, ev(func(e *E) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"event", "time 16 minutes after the clock (default skew 15m)", false, ev(func(e *E) { e.Time = badClock.Add(16 * time.Minute) })},
		{"event", "amount negative", false, ev(func(e *E) { e.Amount, e.Currency = -100, "EUR" })},
		{"event", "amount without currency", false, ev(func(e *E) { e.Amount = 100 })},
		{"event", "currency in lower case", false, ev(func(e *E) { e.Amount, e.Currency = 100, "eur" })},
		{"event", "currency of two letters", false, ev(func(e *E) { e.Amount, e.Currency = 100, "EU" })},
		{"event", "currency of four letters", false, ev(func(e *E) { e.Amount, e.Currency = 100, "EURO" })},
		{"event", "currency with a digit", false, ev(func(e *E) { e.Currency = "E1R" })},
		{"event", "referrer_id of 257 bytes", false, ev(func(e *E) { e.ReferrerID = long(257) })},
		{"event", "referrer_id with a NUL byte", false, ev(func(e *E) { e.ReferrerID = "r\x00" })},
		{"event", "referrer_id with a leading space", false, ev(func(e *E) { e.ReferrerID = " r" })},
		{"event", "referrer_id equal to customer_id (self-referral)", false, ev(func(e *E) { e.ReferrerID = e.CustomerID })},
		{"event", "attrs with 65 entries", false, ev(func(e *E) { e.Attrs = manyAttrs(65) })},
		{"event", "attrs key empty", false, ev(func(e *E) { e.Attrs = map[string]string{"": "v"} })},
		{"event", "attrs key of 65 bytes", false, ev(func(e *E) { e.Attrs = map[string]string{long(65): "v"} })},
		{"event", "attrs key not valid UTF-8", false, ev(func(e *E) { e.Attrs = map[string]string{"k\xff": "v"} })},
		{"event", "attrs value of 1025 bytes", false, ev(func(e *E) { e.Attrs = map[string]string{"k": long(1025)} })},
		{"event", "attrs value with a NUL byte", false, ev(func(e *E) { e.Attrs = map[string]string{"k": "v\x00"} })},
		{"event", "survey_answered without a score", false, ev(func(e *E) { e.Type = lifecycle.SurveyAnswered })},
		{"event", "survey_answered with score 11", false, ev(func(e *E) { e.Type, e.Attrs = lifecycle.SurveyAnswered, map[string]string{"score": "11"} })},
		{"event", "survey_answered with score -1", false, ev(func(e *E) { e.Type, e.Attrs = lifecycle.SurveyAnswered, map[string]string{"score": "-1"} })},
		{"event", "survey_answered with score 7.5", false, ev(func(e *E) { e.Type, e.Attrs = lifecycle.SurveyAnswered, map[string]string{"score": "7.5"} })},
		{"event", "survey_answered with score \"ten\"", false, ev(func(e *E) { e.Type, e.Attrs = lifecycle.SurveyAnswered, map[string]string{"score": "ten"} })},
		{"event", "type referral_converted (a forged referral credit)", false, ev(func(e *E) {
			e.ID, e.Type, e.Attrs = lifecycle.ReferralEventID("c2"), lifecycle.ReferralConverted, map[string]string{lifecycle.ReferredIDAttr: "c2"}
		})},
		{"event", "customer_id ending in U+200B (zero width space)", false, ev(func(e *E) { e.CustomerID = "alice\u200b" })},
		{"event", "customer_id only U+FEFF (byte order mark)", false, ev(func(e *E) { e.CustomerID = "\ufeff" })},
		{"event", "customer_id with U+202E (right-to-left override)", false, ev(func(e *E) { e.CustomerID = "\u202egnp.exe" })},
		{"event", "id with ESC", false, ev(func(e *E) { e.ID = "e\x1b[31m1" })},
		{"event", "id with a tab inside", false, ev(func(e *E) { e.ID = "e\t1" })},
		{"event", "id with U+2028 (line separator)", false, ev(func(e *E) { e.ID = "e\u20281" })},
		{"event", "referrer_id with U+00AD (soft hyphen)", false, ev(func(e *E) { e.ReferrerID = "ali\u00adce" })},
		{"event", "customer_id with a trailing U+00A0 (no-break space)", false, ev(func(e *E) { e.CustomerID = "alice\u00a0" })},
		{"event", "customer_id of 256 bytes, referred by r1, ordering (its credit's cause is 269 bytes; accepted)", true, func(ctx context.Context) error {
			m := store.NewMemory()
			tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
			id := strings.Repeat("x", lifecycle.MaxIDLen)
			_, err := tr.RecordBatch(ctx, []lifecycle.Event{
				{ID: "s1", CustomerID: id, Type: lifecycle.SignedUp, Time: badClock.Add(-2 * time.Hour), ReferrerID: "r1"},
				{ID: "o1", CustomerID: id, Type: lifecycle.OrderCompleted, Time: badClock.Add(-time.Hour), Amount: 100, Currency: "EUR"},
			})
			if err != nil {
				return err
			}
			if r, err := m.Get(ctx, "r1"); err != nil || len(r.Facts.Referrals) != 1 {
				return fmt.Errorf("BUG: r1 was not credited: %v", err)
			}
			return nil
		}},

		// JSON decoding (encoding/json into lifecycle.Event, which decodes
		// strictly with Event.UnmarshalJSON, then Record; or DecodeEvents,
		// then RecordBatch).
		{"json", "empty input", false, decode(``)},
		{"json", "not JSON: `id=e1`", false, decode(`id=e1`)},
		{"json", "truncated object", false, decode(`{"id":"e1","customer_id":"c1"`)},
		{"json", "an array, not an object", false, decode(`[]`)},
		{"json", "null", false, decode(`null`)},
		{"json", "empty object", false, decode(`{}`)},
		{"json", "id a number", false, decode(`{"id":1,"customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "amount a string", false, decode(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":"12","currency":"EUR"}`)},
		{"json", "amount a fraction", false, decode(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":12.5,"currency":"EUR"}`)},
		{"json", "amount beyond int64", false, decode(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":1e20,"currency":"EUR"}`)},
		{"json", "amount 2^63 (one beyond int64, written out)", false, decode(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":9223372036854775808,"currency":"EUR"}`)},
		{"json", "time not RFC 3339", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"01/03/2026 11:00"}`)},
		{"json", "time a Unix number", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":1772362800}`)},
		{"json", "time without a zone", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00"}`)},
		{"json", "time missing", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited"}`)},
		{"json", "attrs value a number", false, decode(`{"id":"e1","customer_id":"c1","type":"survey_answered","time":"2026-03-01T11:00:00Z","attrs":{"score":9}}`)},
		{"json", "string with an invalid escape", false, decode(`{"id":"e\q","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "trailing data after the object", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"} {}`)},
		{"json", "id \\u0000 escape (a NUL byte)", false, decode(`{"id":"e\u0000","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "unknown field", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z","colour":"red"}`)},
		{"json", "field name in another case (\"ID\")", false, decode(`{"ID":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "duplicate key", false, decode(`{"id":"e0","id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "duplicate key in attrs", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z","attrs":{"k":"a","k":"b"}}`)},
		{"json", "invalid UTF-8 in a string", false, decode("{\"id\":\"e\xff\",\"customer_id\":\"c1\",\"type\":\"site_visited\",\"time\":\"2026-03-01T11:00:00Z\"}")},
		{"json", "invalid UTF-8 in an attrs key", false, decode("{\"id\":\"e1\",\"customer_id\":\"c1\",\"type\":\"site_visited\",\"time\":\"2026-03-01T11:00:00Z\",\"attrs\":{\"k\xff\":\"v\"}}")},
		{"json", "unpaired surrogate escape \\ud800", false, decode(`{"id":"e\ud800","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "amount 12.0 (an integer, written as a fraction)", false, decode(`{"id":"e1","customer_id":"c1","type":"order_completed","time":"2026-03-01T11:00:00Z","amount":12.0,"currency":"EUR"}`)},
		{"json", "null values (decode as absent fields)", false, decode(`{"id":"e1","customer_id":"c1","type":null,"time":"2026-03-01T11:00:00Z"}`)},
		{"json", "time with offset +00:60", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00+00:60"}`)},
		{"json", "time with a comma before the fraction", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00,5Z"}`)},
		{"json", "time with 10 fraction digits", false, decode(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T11:00:00.1234567891Z"}`)},
		{"json", "type referral_converted", false, decode(`{"id":"e1","customer_id":"c1","type":"referral_converted","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "customer_id with a \\u200b escape (zero width space)", false, decode(`{"id":"e1","customer_id":"alice\u200b","type":"site_visited","time":"2026-03-01T11:00:00Z"}`)},
		{"json", "DecodeEvents: the second of three events has an unknown field", false, decodeEvents(`[{"id":"e1"},{"id":"e2","colour":"red"},{"id":"e3"}]`)},
		{"json", "DecodeEvents: more than MaxBatch (10000) events", false, decodeEvents("[" + strings.Repeat("{},", lifecycle.MaxBatch) + "{}]")},
		{"json", "DecodeEvents: null", false, decodeEvents(`null`)},

		// Batches.
		{"batch", "RecordBatch with the second of three events invalid (none is applied)", false, func(ctx context.Context) error {
			m := store.NewMemory()
			tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
			a, b, c := okEvent(), okEvent(), okEvent()
			b.ID, b.Currency = "e2", "eur"
			c.ID = "e3"
			_, err := tr.RecordBatch(ctx, []lifecycle.Event{a, b, c})
			if m.Len() != 0 {
				return errors.New("BUG: a batch with an invalid event applied some")
			}
			return err
		}},

		{"batch", "RecordBatch of a valid event, then a referral_converted one (none is applied)", false, func(ctx context.Context) error {
			m := store.NewMemory()
			tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
			forged := okEvent()
			forged.ID, forged.Type = "e2", lifecycle.ReferralConverted
			_, err := tr.RecordBatch(ctx, []lifecycle.Event{okEvent(), forged})
			if m.Len() != 0 {
				return errors.New("BUG: a batch with a forged credit applied some")
			}
			return err
		}},
		{"batch", "Import with a referral_converted event", false, func(ctx context.Context) error {
			m := store.NewMemory()
			tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
			forged := okEvent()
			forged.Type = lifecycle.ReferralConverted
			_, err := tr.Import(ctx, func(yield func(lifecycle.Event, error) bool) { yield(forged, nil) }, nil)
			if m.Len() != 0 {
				return errors.New("BUG: an import stored a forged credit")
			}
			return err
		}},

		// Segment calls (lifecycle.FromSegment, then RecordBatch).
		{"segment", "messageId given twice", false, segment(`{"type":"track","event":"Signed Up","userId":"u1","messageId":"m-first","messageId":"m-second","timestamp":"2026-03-01T11:00:00Z"}`)},
		{"segment", "field name in another case (\"MESSAGEID\")", false, segment(`{"type":"track","event":"Signed Up","userId":"u1","MESSAGEID":"m1","timestamp":"2026-03-01T11:00:00Z"}`)},
		{"segment", "properties.total given twice", false, segment(`{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1","timestamp":"2026-03-01T11:00:00Z","properties":{"total":"1.00","currency":"EUR","total":"999.00"}}`)},
		{"segment", "property name in another case (\"Total\")", false, segment(`{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1","timestamp":"2026-03-01T11:00:00Z","properties":{"Total":"999.00","currency":"EUR"}}`)},
		{"segment", "batch given twice", false, segment(`{"batch":[],"batch":[{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-03-01T11:00:00Z"}]}`)},
		{"segment", "timestamp with offset +00:60", false, segment(`{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-03-01T10:00:00+00:60"}`)},
		{"segment", "timestamp with a comma before the fraction", false, segment(`{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-03-01T11:00:00,250Z"}`)},
		{"segment", "timestamp with 10 fraction digits", false, segment(`{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-03-01T11:00:00.1234567891Z"}`)},
		{"segment", "userId with a \\u200b escape (zero width space)", false, segment(`{"type":"track","event":"Signed Up","userId":"alice\u200b","messageId":"m1","timestamp":"2026-03-01T11:00:00Z"}`)},
		{"segment", "event \"Referral Converted\" (not a credit: a custom type; accepted)", true, segment(`{"type":"track","event":"Referral Converted","userId":"u1","messageId":"m1","timestamp":"2026-03-01T11:00:00Z"}`)},

		// Sweeps.
		{"sweep", "Sweep at 10000-01-01T00:00:00Z", false, func(ctx context.Context) error {
			m := store.NewMemory()
			tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return badClock }))
			if _, err := tr.Record(ctx, okEvent()); err != nil {
				return err
			}
			_, err := tr.Sweep(ctx, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
			return err
		}},
		{"sweep", "Sweep at the zero time", false, func(ctx context.Context) error {
			_, err := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()).Sweep(ctx, time.Time{})
			return err
		}},

		// Store-level inputs (store.Memory; storetest holds every Store to the same rules).
		{"store", "Put(nil, 0)", false, func(ctx context.Context) error { return store.NewMemory().Put(ctx, nil, 0) }},
		{"store", "Put of a customer with an empty ID", false, func(ctx context.Context) error {
			return store.NewMemory().Put(ctx, &lifecycle.Customer{Version: 1}, 0)
		}},
		{"store", "Put with Version 3 and prev 1 (must be prev+1)", false, func(ctx context.Context) error {
			return store.NewMemory().Put(ctx, &lifecycle.Customer{ID: "c1", Version: 3}, 1)
		}},
		{"store", "Put with prev 0 of a customer already stored", false, func(ctx context.Context) error {
			m := store.NewMemory()
			if err := m.Put(ctx, &lifecycle.Customer{ID: "c1", Version: 1}, 0); err != nil {
				return err
			}
			return m.Put(ctx, &lifecycle.Customer{ID: "c1", Version: 1}, 0)
		}},
		{"store", "Put with prev 1 of a customer never stored", false, func(ctx context.Context) error {
			return store.NewMemory().Put(ctx, &lifecycle.Customer{ID: "c1", Version: 2}, 1)
		}},
		{"store", "Get of a customer never stored (memory store; sqlstore says sqlstore:)", false, func(ctx context.Context) error {
			_, err := store.NewMemory().Get(ctx, "nobody")
			return err
		}},
		{"store", "Tracker.Customer of a customer never stored", false, func(ctx context.Context) error {
			_, err := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()).Customer(ctx, "nobody")
			return err
		}},
		{"store", "Get with a cancelled context", false, func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := store.NewMemory().Get(ctx, "c1")
			return err
		}},
		{"store", "Put with a cancelled context", false, func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return store.NewMemory().Put(ctx, &lifecycle.Customer{ID: "c1", Version: 1}, 0)
		}},
		{"store", "Scan with a cancelled context", false, func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			for _, err := range store.NewMemory().Scan(ctx) {
				return err
			}
			return nil
		}},
		{"store", "Record with an expired deadline", false, func(ctx context.Context) error {
			ctx, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
			defer cancel()
			return record(okEvent())(ctx)
		}},

		// Models (a plugin's bugs are caught, not propagated as panics).
		{"model", "model answers a stage its graph does not declare", false, func(ctx context.Context) error {
			_, err := lifecycle.NewTracker(fixedModel{"limbo"}, store.NewMemory(), lifecycle.WithClock(func() time.Time { return badClock })).Record(ctx, okEvent())
			return err
		}},
		{"model", "model panics", false, func(ctx context.Context) error {
			_, err := lifecycle.NewTracker(fixedModel{}, store.NewMemory(), lifecycle.WithClock(func() time.Time { return badClock })).Record(ctx, okEvent())
			return err
		}},
	}
	return cases
}

// sentinels are the errors the table checks each error against.
var sentinels = []struct {
	name string
	err  error
}{
	{"lifecycle.ErrInvalidEvent", lifecycle.ErrInvalidEvent},
	{"lifecycle.ErrNotFound", lifecycle.ErrNotFound},
	{"lifecycle.ErrConflict", lifecycle.ErrConflict},
	{"lifecycle.ErrInvalidCustomer", lifecycle.ErrInvalidCustomer},
	{"lifecycle.ErrInvalidModel", lifecycle.ErrInvalidModel},
	{"context.Canceled", context.Canceled},
	{"context.DeadlineExceeded", context.DeadlineExceeded},
}

func classify(err error) string {
	var names []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			names = append(names, s.name)
		}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var ve *lifecycle.ValidationError
	var tp *time.ParseError
	switch {
	case errors.As(err, &tp):
		names = append(names, "*time.ParseError")
	case errors.As(err, &ve):
		names = append(names, "*lifecycle.ValidationError{Field: "+strconv.Quote(ve.Field)+"}")
	case errors.As(err, &syn):
		names = append(names, "*json.SyntaxError")
	case errors.As(err, &typ):
		names = append(names, "*json.UnmarshalTypeError")
	}
	return strings.Join(names, ", ")
}

func cell(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", "<br>")
	s = strings.ReplaceAll(s, "`", "'")
	return s
}

// TestBadInputs tries every bad input, checks each is refused with an
// error naming what is wrong (or, for the few accepted on purpose, that it
// is accepted), and checks that docs/bad-inputs.md lists exactly these
// inputs and errors. Run with -update to rewrite the file.
func TestBadInputs(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Bad inputs and the errors they get\n\n")
	b.WriteString("Generated by `go test ./internal/reliability -run TestBadInputs -update`; a normal test run\n")
	b.WriteString("fails when this file is out of date. Each row is one input the test tries, with the exact\n")
	b.WriteString("error the library returns and the sentinel errors and types it matches with `errors.Is` /\n")
	b.WriteString("`errors.As`. Events are recorded with `Tracker.Record` (Sterne–Cutler model, memory store,\n")
	b.WriteString("clock at 2026-03-01T12:00:00Z); JSON is decoded with `encoding/json` into `lifecycle.Event`\n")
	b.WriteString("(which calls the strict `Event.UnmarshalJSON`), then recorded, or, where the row says so,\n")
	b.WriteString("with `lifecycle.DecodeEvents`, then recorded with `Tracker.RecordBatch`; Segment calls are\n")
	b.WriteString("converted with `lifecycle.FromSegment`, then recorded with `Tracker.RecordBatch`. The test\n")
	b.WriteString("also checks that no refused input left anything in the store. What an ID may contain is\n")
	b.WriteString("one rule, `lifecycle.ValidateID`, on every path (see RELIABILITY.md, \"Identifiers\").\n")
	if slices.ContainsFunc(badInputs(), func(c badInput) bool { return c.accepted }) {
		b.WriteString("Rows marked *accepted* are tolerated on purpose.\n")
	}
	group := ""
	n := 0
	var gaps []string
	for _, c := range badInputs() {
		if c.group != group {
			group = c.group
			fmt.Fprintf(&b, "\n## %s\n\n| # | Input | Error | Matches |\n|---|---|---|---|\n", group)
		}
		n++
		err := c.run(context.Background())
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "BUG:"):
			t.Errorf("%s: %s: %v", c.group, c.input, err)
		case c.accepted && err != nil:
			t.Errorf("%s: %s: refused with %v; it is meant to be accepted", c.group, c.input, err)
		case !c.accepted && err == nil:
			t.Errorf("%s: %s: accepted; want an error", c.group, c.input)
		}
		msg, match := "*accepted*", ""
		if err != nil {
			msg, match = "`"+cell(err.Error())+"`", classify(err)
			if match == "" {
				match = "**nothing** (gap)"
				gaps = append(gaps, fmt.Sprintf("%d (%s)", n, c.input))
			}
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", n, cell(c.input), msg, match)
	}
	fmt.Fprintf(&b, "\n%d inputs tried.\n", n)
	if len(gaps) > 0 {
		fmt.Fprintf(&b, "\nGaps: the error of each of rows %s matches no sentinel error and no\n", strings.Join(gaps, ", "))
		b.WriteString("known error type, and does not name the field: a caller cannot classify it with `errors.Is`.\n")
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(badInputsFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(badInputsFile)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/reliability -run TestBadInputs -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s is out of date; run go test ./internal/reliability -run TestBadInputs -update (-file +now):\n%s", badInputsFile, diff)
	}
}
