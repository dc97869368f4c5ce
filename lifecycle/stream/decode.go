package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
)

// Format is how a message's value encodes events.
type Format int

// Formats of a message's value.
const (
	// FormatAuto decodes a value whose first object has a "messageId",
	// "batch", "userId" or "anonymousId" member as Segment calls, and any
	// other value as the JSON event form.
	FormatAuto Format = iota
	// FormatJSON is the library's JSON event form: one event object or
	// an array of them ([lifecycle.DecodeEvents]).
	FormatJSON
	// FormatSegment is Segment calls: one call, an array of calls or a
	// batch object ([lifecycle.FromSegment]).
	FormatSegment
)

// String returns the format's name: "auto", "json" or "segment".
func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "auto"
	case FormatJSON:
		return "json"
	case FormatSegment:
		return "segment"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Known reports whether f is one of the formats a [Processor] decodes:
// FormatAuto, FormatJSON or FormatSegment.
func (f Format) Known() bool {
	return f == FormatAuto || f == FormatJSON || f == FormatSegment
}

// ErrFormat is wrapped by the error [ParseFormat] returns for a name that
// is no format.
var ErrFormat = errors.New("stream: unknown format")

// ErrProcessor is wrapped by the error [Processor.Process] returns for a
// nil Processor, one not made by [NewProcessor], or one made with a nil
// DeadLetterer: a fault of the program, for which nothing is recorded.
var ErrProcessor = errors.New("stream: invalid processor")

// ParseFormat returns the format named name ("auto", "json" or
// "segment"; "" is "auto"), or an error naming the value and wrapping
// [ErrFormat].
func ParseFormat(name string) (Format, error) {
	switch name {
	case "", "auto":
		return FormatAuto, nil
	case "json":
		return FormatJSON, nil
	case "segment":
		return FormatSegment, nil
	}
	return FormatAuto, fmt.Errorf("format %q: want auto, json or segment: %w", clip.String(name), ErrFormat)
}

// Decode decodes a message's value into events in format f. Its error
// wraps [lifecycle.ErrInvalidEvent] and holds a
// [*lifecycle.ValidationError] (see [lifecycle.DecodeEvents] and
// [lifecycle.FromSegment]); for an f that is no [Format], it wraps
// [ErrFormat] too. A Segment value with some calls that convert and some
// that do not is refused as a whole: Decode returns no events.
func Decode(f Format, value []byte) ([]lifecycle.Event, error) {
	if f == FormatAuto {
		f = sniff(value)
	}
	switch f {
	case FormatSegment:
		events, err := lifecycle.FromSegment(value)
		if err != nil {
			return nil, err
		}
		return events, nil
	case FormatJSON:
		events, err := lifecycle.DecodeEvents(value)
		if err != nil {
			return nil, err
		}
		return events, nil
	}
	return nil, fmt.Errorf("stream: Decode: %w: %w", &lifecycle.ValidationError{Field: "format", Value: f.String(), Reason: "unknown format"}, ErrFormat)
}

// sniff tells Segment calls from the JSON event form by the members of
// the value's first object; anything it cannot read is left to the JSON
// form's decoder, which says what is wrong.
func sniff(value []byte) Format {
	d := json.NewDecoder(bytes.NewReader(value))
	tok, err := d.Token()
	if err != nil {
		return FormatJSON
	}
	if tok == json.Delim('[') {
		if tok, err = d.Token(); err != nil {
			return FormatJSON
		}
	}
	if tok != json.Delim('{') {
		return FormatJSON
	}
	for d.More() {
		key, err := d.Token()
		if err != nil {
			return FormatJSON
		}
		switch key {
		case "messageId", "batch", "userId", "anonymousId":
			return FormatSegment
		}
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return FormatJSON
		}
	}
	return FormatJSON
}

// Outgoing is a message to publish: its key (the customer ID, which
// chooses the partition) and its value.
type Outgoing struct {
	Key   string
	Value []byte
}

// Encode gives each event its own message, keyed by its customer ID,
// with the event's JSON form as the value. It refuses (with an error
// naming the event's index and holding a [*lifecycle.ValidationError]
// that wraps [lifecycle.ErrInvalidEvent]) an event with no customer ID,
// which no partition could be chosen for, and one whose time JSON cannot
// hold (RFC 3339 has the years 0 to 9999 only; [lifecycle.Event.Validate]
// accepts 1900 to 9999), and one with a string that is not valid UTF-8
// (ID, CustomerID, Type, Currency, ReferrerID, an attribute's key or
// value), which JSON cannot carry: encoding/json would write U+FFFD for
// the bad bytes, and the consumer would record another event than the one
// given. It checks nothing else: an event Validate refuses for any other
// reason is published, and the consumer sends it to the dead letters.
func Encode(events ...lifecycle.Event) ([]Outgoing, error) {
	out := make([]Outgoing, 0, len(events))
	for i := range events {
		e := &events[i]
		if e.CustomerID == "" {
			return nil, fmt.Errorf("stream: event %d (id %q): %w", i, clip.String(e.ID),
				&lifecycle.ValidationError{Field: "customer_id", Value: "", Reason: "required to choose a partition"})
		}
		if err := validUTF8(e); err != nil {
			return nil, fmt.Errorf("stream: event %d (id %q): %w", i, clip.String(e.ID), err)
		}
		b, err := json.Marshal(e)
		if err != nil {
			if y := e.Time.UTC().Year(); y < 0 || y > 9999 { // the one field that can fail
				err = &lifecycle.ValidationError{Field: "time", Value: e.Time.UTC().String(), Reason: "is outside the years 0 to 9999 that JSON's RFC 3339 form holds"}
			}
			return nil, fmt.Errorf("stream: event %d (id %q): %w", i, clip.String(e.ID), err)
		}
		out = append(out, Outgoing{Key: e.CustomerID, Value: b})
	}
	return out, nil
}

// Position is where a published message was stored: its partition and
// its offset (Kafka) or stream sequence number (JetStream).
type Position struct {
	Partition int32
	Offset    int64
}

// Sender publishes messages as they are and returns where each was
// stored, waiting until all are; on an error some may have been stored.
// Each engine's Producer is one.
type Sender interface {
	Send(ctx context.Context, msgs []Outgoing) ([]Position, error)
}

// Publish publishes each event as its own message keyed by its customer
// ID (see [Encode]) through s, and waits until all are stored. A nil s
// is an error, and a nil ctx one wrapping [lifecycle.ErrNilContext],
// returned before anything is encoded or sent.
func Publish(ctx context.Context, s Sender, events ...lifecycle.Event) error {
	if s == nil {
		return errors.New("stream: Publish: nil Sender")
	}
	if ctx == nil {
		return fmt.Errorf("stream: Publish: %w", lifecycle.ErrNilContext)
	}
	msgs, err := Encode(events...)
	if err != nil {
		return err
	}
	_, err = s.Send(ctx, msgs)
	return err
}

// validUTF8 refuses an event with a string JSON cannot carry as it is
// (see [Encode]).
func validUTF8(e *lifecycle.Event) error {
	const reason = "must be valid UTF-8: JSON cannot carry it as it is"
	for _, f := range [...]struct{ name, v string }{
		{"id", e.ID}, {"customer_id", e.CustomerID}, {"type", string(e.Type)},
		{"currency", e.Currency}, {"referrer_id", e.ReferrerID},
	} {
		if !utf8.ValidString(f.v) {
			return &lifecycle.ValidationError{Field: f.name, Value: clip.String(f.v), Reason: reason}
		}
	}
	// Of several bad attributes, the one with the least key, whatever the
	// map's order (as Event.Validate).
	var bad error
	badKey := ""
	for k, v := range e.Attrs {
		var err error
		switch {
		case !utf8.ValidString(k):
			err = &lifecycle.ValidationError{Field: "attrs", Value: clip.String(k), Reason: "keys " + reason}
		case !utf8.ValidString(v):
			err = &lifecycle.ValidationError{Field: "attrs." + clip.String(k), Value: clip.String(v), Reason: reason}
		}
		if err != nil && (bad == nil || k < badKey) {
			bad, badKey = err, k
		}
	}
	return bad
}
