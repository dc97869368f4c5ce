package stream_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// Encode refuses a string JSON cannot carry: json.Marshal would write
// U+FFFD for the bad bytes, and the consumer would record another
// customer's event (here "c\ufffd") instead of dead-lettering this one.
func TestEncodeRefusesInvalidUTF8(t *testing.T) {
	base := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited,
		Time: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	long := strings.Repeat("\x80", 100)
	for _, tc := range []struct {
		field, value string
		edit         func(*lifecycle.Event)
	}{
		{"id", "e\xff", func(e *lifecycle.Event) { e.ID = "e\xff" }},
		{"customer_id", "c\xff", func(e *lifecycle.Event) { e.CustomerID = "c\xff" }},
		{"type", "x_\xff", func(e *lifecycle.Event) { e.Type = "x_\xff" }},
		{"currency", "EU\xff", func(e *lifecycle.Event) { e.Currency = "EU\xff" }},
		{"referrer_id", "r\xff", func(e *lifecycle.Event) { e.ReferrerID = "r\xff" }},
		{"attrs", "k\xff", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k\xff": "v"} }},
		{"attrs.k", "v\xff", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": "v\xff"} }},
		// (Cut as every quoted value is, Event.Validate's included: back
		// to a character's start, at most 3 bytes, and so 61 bytes of
		// bytes that start none.)
		{"attrs.k", long[:61] + "…", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": long} }},
	} {
		e := base
		tc.edit(&e)
		out, err := stream.Encode(base, e)
		var ve *lifecycle.ValidationError
		if out != nil || !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) {
			t.Errorf("%s: Encode = %v, %v; want an ErrInvalidEvent", tc.field, out, err)
			continue
		}
		if ve.Field != tc.field || ve.Value != tc.value || !strings.Contains(err.Error(), "event 1") {
			t.Errorf("%s: error %v (field %q, value %q); want field %q, value %q, event 1", tc.field, err, ve.Field, ve.Value, tc.field, tc.value)
		}
	}
	if _, err := stream.Encode(base); err != nil {
		t.Fatalf("Encode(valid) = %v", err)
	}
}

// invalidStore refuses the writes of customer "bad" as an invalid event
// and applies the others of the same call.
type invalidStore struct{ *store.Memory }

func (s invalidStore) Apply(ctx context.Context, ws []lifecycle.Write) {
	var rest []lifecycle.Write
	var idx []int
	for i := range ws {
		if ws[i].ID == "bad" {
			ws[i].Err = &lifecycle.ValidationError{Field: "customer_id", Value: "bad", Reason: "refused by the store"}
			continue
		}
		rest, idx = append(rest, ws[i]), append(idx, i)
	}
	s.Memory.Apply(ctx, rest)
	for k, i := range idx {
		ws[i] = rest[k]
	}
}

// When the store refuses one customer's write as an invalid event, the
// other customers' events of the call were applied: they count as
// applied, not as duplicates on the retry.
func TestProcessCountsWritesBesideAStoreRefusal(t *testing.T) {
	dl := &letters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), invalidStore{store.NewMemory()}), dl, stream.Options{})
	res, err := p.Process(context.Background(), msgs(
		`{"id":"e1","customer_id":"good","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
		`{"id":"e2","customer_id":"bad","type":"site_visited","time":"2025-03-01T10:00:00Z"}`))
	if err != nil || len(dl.got) != 1 || !errors.Is(dl.got[0].Err, lifecycle.ErrInvalidEvent) {
		t.Fatalf("Process = %+v, %v, letters %+v", res, err, dl.got)
	}
	if res.Applied != 1 || res.Duplicates != 0 || p.Stats().Applied != 1 {
		t.Errorf("Process = %+v, Stats %s; want Applied 1, Duplicates 0", res, p.Stats())
	}
}
