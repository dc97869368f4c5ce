package stream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// countingLetters counts the dead letters it is given.
type countingLetters struct{ n int }

func (c *countingLetters) DeadLetter(_ context.Context, letters []stream.DeadLetter) error {
	c.n += len(letters)
	return nil
}

// countingSender counts the calls of Send.
type countingSender struct{ calls int }

func (c *countingSender) Send(context.Context, []stream.Outgoing) ([]stream.Position, error) {
	c.calls++
	return nil, nil
}

// TestNilContextAndBadProcessor: Process with a nil ctx, on any batch,
// returns an error wrapping lifecycle.ErrNilContext and records and sends
// nothing (it panicked on a valid message, and passed nil on to the
// DeadLetterer for an invalid one); a nil Processor, the zero Processor
// and one made with a nil DeadLetterer return ErrProcessor instead of
// panicking; Publish with a nil ctx sends nothing.
func TestNilContextAndBadProcessor(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), mem)
	valid := []byte(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-01-02T03:04:05Z"}`)
	for name, msgs := range map[string][]stream.Message{
		"valid":   {{Value: valid}},
		"invalid": {{Value: []byte("garbage")}},
		"empty":   nil,
	} {
		dl := &countingLetters{}
		p := stream.NewProcessor(tr, dl, stream.Options{Backoff: time.Millisecond})
		if _, err := p.Process(nilCtx, msgs); !errors.Is(err, lifecycle.ErrNilContext) {
			t.Errorf("Process(nil ctx, %s) = %v, want ErrNilContext", name, err)
		}
		if dl.n != 0 {
			t.Errorf("Process(nil ctx, %s) sent %d dead letters", name, dl.n)
		}
	}
	if n := mem.Len(); n != 0 {
		t.Errorf("Process with a nil ctx stored %d customers", n)
	}
	var nilP *stream.Processor
	for name, p := range map[string]*stream.Processor{
		"nil":               nilP,
		"zero":              {},
		"nil dead letterer": stream.NewProcessor(tr, nil, stream.Options{}),
	} {
		if _, err := p.Process(ctx, []stream.Message{{Value: []byte("garbage")}}); !errors.Is(err, stream.ErrProcessor) {
			t.Errorf("Process on a %s Processor = %v, want ErrProcessor", name, err)
		}
		_ = p.Stats() // no panic
	}
	s := &countingSender{}
	ev := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Unix(1e9, 0)}
	if err := stream.Publish(nilCtx, s, ev); !errors.Is(err, lifecycle.ErrNilContext) || s.calls != 0 {
		t.Errorf("Publish(nil ctx) = %v after %d sends, want ErrNilContext and none", err, s.calls)
	}
}

// TestDecodeUnknownFormat: Decode of a format that is no Format wraps
// ErrFormat as well as ErrInvalidEvent.
func TestDecodeUnknownFormat(t *testing.T) {
	_, err := stream.Decode(stream.Format(9), []byte(`{}`))
	var ve *lifecycle.ValidationError
	if !errors.Is(err, stream.ErrFormat) || !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) {
		t.Errorf("Decode(Format(9)) = %v, want ErrFormat, ErrInvalidEvent and a *ValidationError", err)
	}
}

// TestErrorsCutLongValues: Encode's and ParseFormat's errors quote a
// 1 MB ID or format name cut to 64 bytes.
func TestErrorsCutLongValues(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	_, encErr := stream.Encode(lifecycle.Event{ID: huge, Type: lifecycle.SiteVisited, Time: time.Unix(1e9, 0)})
	_, fmtErr := stream.ParseFormat(huge)
	for name, err := range map[string]error{"Encode": encErr, "ParseFormat": fmtErr} {
		if err == nil || len(err.Error()) > 1024 {
			t.Errorf("%s: error %.100v… of %d bytes; want the value cut", name, err, len(fmt.Sprint(err)))
		}
	}
}
