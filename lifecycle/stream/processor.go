package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
)

// Headers the engines read and write.
const (
	// HeaderFormat, on a message, names its format ("json", "segment"
	// or "auto", which sniffs it; see [ParseFormat]) and overrides
	// [Options.Format].
	HeaderFormat = "clm-format"
	// HeaderError, on a dead letter, is the error that refused the
	// message ([DeadLetter].Err's text): for an invalid event, the
	// [lifecycle.ValidationError]'s text, after "event N (id "…"): ", N
	// the event's index among the message's events (from 0; a Segment
	// array's identify, group and alias calls make no event and are not
	// counted) and the ID the event's. A text longer than
	// [MaxErrorHeader] bytes (a Segment array of thousands of bad calls
	// has a line for each) is cut there (see [ErrorHeader]). On
	// JetStream, whose header values are one line, the NATS client writes
	// each line break as a space and trims white space at either end.
	HeaderError = "clm-error"
	// HeaderSource, on a dead letter, names where the message was read:
	// the topic or subject, the partition and the offset or stream
	// sequence, as "topic/partition/offset".
	HeaderSource = "clm-source"
	// HeaderDropped, on a dead letter that the dead-letter topic or
	// stream would refuse as too large (the message's value with the
	// headers above), is the size in bytes of the value it was published
	// without: the message itself is at [HeaderSource] in the log. One
	// still too large without its value (by the message's own headers or
	// key) goes without those too: with the three clm- headers only.
	HeaderDropped = "clm-dropped"
)

// Message is one message read from a partition of the log.
type Message struct {
	// Topic is the Kafka topic or the JetStream subject it was read from.
	Topic string
	// Partition and Offset say where it was read: the Kafka offset, or
	// the JetStream stream sequence number.
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	// Format is the message's format from its [HeaderFormat] header, or
	// FormatAuto when it has none (then [Options.Format] applies) or it
	// says "auto" (then the message is sniffed, whatever Options.Format
	// says). The engines set it with [Message.SetFormat].
	Format Format
	// Headers are the message's own headers (its HeaderFormat among
	// them), which its dead letter keeps beside the ones the engines add
	// (JetStream's leaves out NATS's own, Nats-…); the engines set them.
	Headers []Header

	badFormat string // a HeaderFormat value ParseFormat refused (SetFormat)
	sniff     bool   // the header said "auto": sniff, whatever Options.Format says
}

// Header is one header of a [Message].
type Header struct {
	Key   string
	Value []byte
}

// MaxErrorHeader is the most bytes of an error's text the engines put
// in a dead letter's [HeaderError] header.
const MaxErrorHeader = 4096

// ErrorHeader returns the value of a dead letter's [HeaderError] header
// for err: its text, or, past [MaxErrorHeader] bytes, its first
// MaxErrorHeader−40 bytes or fewer (cut between characters) with
// " … (N more bytes)" after them, never more than MaxErrorHeader bytes in
// all; "" for a nil err. (A
// header past the dead-letter topic's or stream's limit would fail the
// dead letter's publish for ever, and block the partition.)
func ErrorHeader(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	if len(text) <= MaxErrorHeader {
		return text
	}
	keep := MaxErrorHeader - 40 // room for the note
	for keep > 0 && !utf8.RuneStart(text[keep]) {
		keep--
	}
	return text[:keep] + " … (" + strconv.Itoa(len(text)-keep) + " more bytes)"
}

// DeadLetterHeader reports whether key names a header the engines write
// on a dead letter ([HeaderError], [HeaderSource], [HeaderDropped]): a
// message's header of that name is not copied to its dead letter.
func DeadLetterHeader(key string) bool {
	return key == HeaderError || key == HeaderSource || key == HeaderDropped
}

// SetFormat sets m.Format from the value of m's [HeaderFormat] header, as
// [ParseFormat] reads it. A value ParseFormat refuses ("xml", "JSON")
// is not guessed at: [Processor.Process] sends the message to the dead
// letters, with a [*lifecycle.ValidationError] whose Field is
// HeaderFormat and whose Value is the header's (cut to 64 bytes, as a
// ValidationError's values are).
func (m *Message) SetFormat(header string) {
	f, err := ParseFormat(header)
	m.Format, m.badFormat, m.sniff = f, "", f == FormatAuto && header != ""
	if err != nil {
		m.badFormat, m.sniff = header, false // not "": ParseFormat reads "" as FormatAuto
	}
}

// Source is the message's place in the log as [HeaderSource] gives it:
// "topic/partition/offset".
func (m *Message) Source() string {
	return fmt.Sprintf("%s/%d/%d", m.Topic, m.Partition, m.Offset)
}

// DeadLetter is a message refused as a whole, and why.
type DeadLetter struct {
	Message Message
	// Err is why: an error wrapping [lifecycle.ErrInvalidEvent] and
	// holding a [*lifecycle.ValidationError] for a message that does not
	// decode or holds an invalid event, or one wrapping
	// [lifecycle.ErrInvalidCustomer] for an event whose customer the
	// store cannot write (see the package documentation).
	Err error
}

// A DeadLetterer publishes dead letters durably: when DeadLetter returns
// nil, every one of them is stored (in a dead-letter topic or stream).
// It is called before the batch's offsets are committed, so a consumer
// that dies in between publishes them again: dead letters are delivered
// at least once, and [HeaderSource] tells copies apart.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, letters []DeadLetter) error
}

// Options adjust a [Processor]. The zero value is ready to use.
type Options struct {
	// Format is how values without a [HeaderFormat] header are decoded
	// (default FormatAuto).
	Format Format
	// Backoff is the wait before the first retry after a store or
	// dead-letter failure (default 100ms, for 0 or a negative value); it
	// doubles each time, up to 32 times Backoff.
	Backoff time.Duration
	// Logger gets a warning for every failure waited on (see
	// Stats.Retries; default: discard).
	Logger *slog.Logger
}

// Processor records batches of messages into a Tracker's store; see the
// package documentation. It is safe for concurrent use: the engines run
// one batch per partition at a time, partitions in parallel.
type Processor struct {
	t       *lifecycle.Tracker
	dl      DeadLetterer
	format  Format
	backoff time.Duration
	log     *slog.Logger

	batches, messages, events, applied, duplicates, dead, retries atomic.Int64

	mu  sync.Mutex
	lag map[int32]int64
}

// NewProcessor returns a Processor that records into t's store and sends
// dead letters to dl, which must not be nil ([Processor.Process] refuses
// to run without one).
func NewProcessor(t *lifecycle.Tracker, dl DeadLetterer, opts Options) *Processor {
	p := &Processor{t: t, dl: dl, format: opts.Format, backoff: opts.Backoff, log: opts.Logger, lag: map[int32]int64{}}
	if p.backoff <= 0 {
		p.backoff = 100 * time.Millisecond
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p
}

// BatchResult counts what one [Processor.Process] did.
type BatchResult struct {
	Messages    int // messages in the batch
	Events      int // events recorded (applied or duplicates)
	Applied     int // events that changed the store, of the messages not sent to the dead letters (Stats.Applied counts those too)
	Duplicates  int // events the store had applied already
	DeadLetters int // messages sent to the dead letters
}

// Process records the events of msgs, the messages of one partition in
// log order, and sends the messages that are refused to the
// DeadLetterer. It returns nil once every message is either recorded in
// the store or published as a dead letter: the caller may then commit
// them. It retries store and dead-letter failures until they succeed or
// ctx ends; it then returns an error wrapping ctx's cause
// ([context.Cause]: ctx.Err() when ctx was ended without one), and the
// caller must not commit. A Processor whose Options.Format is no [Format] (a
// configuration fault, which the engines refuse when made) records and
// sends nothing, and returns an error wrapping [ErrFormat]; so does a nil
// Processor, one not made by [NewProcessor] or one made with a nil
// DeadLetterer, with an error wrapping [ErrProcessor], and a nil ctx,
// with one wrapping [lifecycle.ErrNilContext].
func (p *Processor) Process(ctx context.Context, msgs []Message) (BatchResult, error) {
	res := BatchResult{Messages: len(msgs)}
	switch {
	case p == nil || p.log == nil:
		return res, fmt.Errorf("stream: Process: a Processor not made by NewProcessor: %w", ErrProcessor)
	case p.dl == nil:
		return res, fmt.Errorf("stream: Process: the Processor's DeadLetterer is nil: %w", ErrProcessor)
	case ctx == nil:
		return res, fmt.Errorf("stream: Process: %w", lifecycle.ErrNilContext)
	}
	if !p.format.Known() {
		return res, fmt.Errorf("stream: Options.Format %s: want FormatAuto, FormatJSON or FormatSegment: %w", p.format, ErrFormat)
	}
	if len(msgs) == 0 {
		return res, nil
	}
	var (
		events  []lifecycle.Event
		owner   []int // owner[i] is the index in msgs of events[i]
		nth     []int // nth[i] is events[i]'s index among its message's
		letters []DeadLetter
	)
	for i := range msgs {
		m := &msgs[i]
		f := m.Format
		if f == FormatAuto && !m.sniff {
			f = p.format
		}
		var evs []lifecycle.Event
		var err error
		if m.badFormat != "" {
			err = &lifecycle.ValidationError{Field: HeaderFormat, Value: clip.String(m.badFormat), Reason: "unknown format: want auto, json or segment"}
		} else {
			evs, err = Decode(f, m.Value)
		}
		if err == nil {
			for j := range evs {
				verr, werr := p.validate(ctx, &evs[j])
				if werr != nil {
					return res, werr
				}
				if verr != nil {
					err = eventErr(j, evs[j].ID, verr)
					break
				}
			}
		}
		if err != nil {
			letters = append(letters, DeadLetter{Message: *m, Err: err})
			continue
		}
		for j := range evs {
			owner, nth = append(owner, i), append(nth, j)
		}
		events = append(events, evs...)
	}

	// Record, retrying failures; an event the store refuses as invalid
	// (which Validate let through), or whose customer the store cannot
	// hold or read back (ErrInvalidCustomer: retrying cannot change
	// that), makes its message a dead letter.
	// Applied events are counted as the store reports them, so that a
	// batch abandoned half-way still counts what it wrote.
	applied := make([]bool, len(events))
	refused := map[int]bool{} // by index in msgs
	cur := make([]int, len(events))
	for i := range cur {
		cur[i] = i
	}
	batch := make([]lifecycle.Event, 0, len(events))
	// single: record one message's events at a time, after a referral
	// credit failed with ErrInvalidCustomer (a referrer the store cannot
	// write): no retry ends that, so the messages that owe it are found
	// one by one and made dead letters (their own events are applied).
	single := false
	waits := 0 // failures waited on: the passes made again at once do not count
	for len(cur) > 0 {
		part := cur
		if single {
			n := 1
			for n < len(cur) && owner[cur[n]] == owner[cur[0]] {
				n++
			}
			part = cur[:n]
		}
		batch = batch[:0]
		for _, i := range part {
			batch = append(batch, events[i])
		}
		results, err := p.t.RecordBatch(ctx, batch)
		invalidBatch := err != nil && errors.Is(err, lifecycle.ErrInvalidEvent)
		var next []int
		var failure error
		for k, i := range part {
			if k >= len(results) {
				next = append(next, i)
				continue
			}
			switch r := results[k]; {
			case r.Err != nil && (errors.Is(r.Err, lifecycle.ErrInvalidEvent) || errors.Is(r.Err, lifecycle.ErrInvalidCustomer)):
				if !refused[owner[i]] {
					refused[owner[i]] = true
					err := r.Err
					if errors.Is(err, lifecycle.ErrInvalidEvent) {
						err = eventErr(nth[i], events[i].ID, err)
					}
					letters = append(letters, DeadLetter{Message: msgs[owner[i]], Err: err})
				}
			case r.Err != nil:
				failure = r.Err
				next = append(next, i)
			case invalidBatch && r.Version == 0:
				// Refused before writing (RecordBatch's own validation):
				// nothing was applied. A result with a version was written
				// by the store, which refused another write of the call.
				next = append(next, i)
			default:
				if !r.Duplicate && !applied[i] {
					applied[i] = true
					p.applied.Add(1)
				}
				if err != nil {
					// The call failed after this write (a referral
					// credit): record it again, to settle what it owes.
					next = append(next, i)
				}
			}
		}
		if err != nil && !invalidBatch && failure == nil || len(results) != len(part) {
			failure = err
		}
		credit := failure != nil && failure == err && errors.Is(err, lifecycle.ErrInvalidCustomer)
		if credit && single && !refused[owner[part[0]]] {
			// This message's events are applied; the credit they owe
			// cannot be written.
			refused[owner[part[0]]] = true
			letters = append(letters, DeadLetter{Message: msgs[owner[part[0]]], Err: err})
		}
		next = append(next, cur[len(part):]...)
		cur = cur[:0]
		for _, i := range next {
			if !refused[owner[i]] {
				cur = append(cur, i)
			}
		}
		if len(cur) == 0 {
			break
		}
		if credit {
			single = true
			continue // one message at a time, at once
		}
		if failure == nil {
			continue // the batch mates of invalid events: again, at once
		}
		if err := p.wait(ctx, waits, "recording", failure); err != nil {
			return res, err
		}
		waits++
	}
	for i := range events {
		if !refused[owner[i]] {
			res.Events++
			if applied[i] {
				res.Applied++
			}
		}
	}
	res.Duplicates = res.Events - res.Applied

	for attempt := 0; len(letters) > 0; attempt++ {
		err := p.dl.DeadLetter(ctx, letters)
		if err == nil {
			break
		}
		if err := p.wait(ctx, attempt, "publishing dead letters", err); err != nil {
			return res, err
		}
	}
	res.DeadLetters = len(letters)

	p.batches.Add(1)
	p.messages.Add(int64(res.Messages))
	p.events.Add(int64(res.Events))
	p.duplicates.Add(int64(res.Duplicates))
	p.dead.Add(int64(res.DeadLetters))
	return res, nil
}

// eventErr names the message's event n (from 0), whose ID is id, in err,
// the form HeaderError documents for an invalid event.
func eventErr(n int, id string, err error) error {
	return fmt.Errorf("event %d (id %q): %w", n, clip.String(id), err)
}

// wait logs a failure and sleeps before the attempt+1st retry; it
// returns an error wrapping ctx's if ctx ends first.
func (p *Processor) wait(ctx context.Context, attempt int, what string, failure error) error {
	p.retries.Add(1)
	d := p.backoff << min(attempt, 5)
	p.log.Warn("stream: retrying", "what", what, "attempt", attempt+1, "in", d, "err", failure)
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("stream: %s abandoned after %d attempts (%v): %w", what, attempt+1, failure, context.Cause(ctx))
	case <-tm.C:
		return nil
	}
}

// validate validates e with the Tracker. A model the Tracker refuses
// (ErrInvalidModel) or a missing Tracker (ErrNoTracker) is no fault of the
// message: validate then waits, as for a store failure, and tries again
// until the Tracker accepts the model or ctx ends (werr, ctx's error).
// Otherwise verr is Validate's verdict on the event.
func (p *Processor) validate(ctx context.Context, e *lifecycle.Event) (verr, werr error) {
	for attempt := 0; ; attempt++ {
		verr = p.t.Validate(e)
		if !errors.Is(verr, lifecycle.ErrInvalidModel) && !errors.Is(verr, lifecycle.ErrNoTracker) {
			return verr, nil
		}
		if err := p.wait(ctx, attempt, "validating", verr); err != nil {
			return nil, err
		}
	}
}

// SetLag records how many messages of a partition are in the log past
// what has been processed; engines call it after each batch.
func (p *Processor) SetLag(partition int32, lag int64) {
	p.mu.Lock()
	p.lag[partition] = max(lag, 0)
	p.mu.Unlock()
}

// DropLag forgets the lag of partitions this consumer no longer owns;
// called with no partition, it forgets them all (when a consumer stops).
func (p *Processor) DropLag(partitions ...int32) {
	p.mu.Lock()
	if len(partitions) == 0 {
		clear(p.lag)
	}
	for _, q := range partitions {
		delete(p.lag, q)
	}
	p.mu.Unlock()
}

// Stats are a consumer's counts since it started.
type Stats struct {
	Batches  int64 // batches processed (committed or acknowledged after)
	Messages int64 // messages in them
	Events   int64 // events recorded (applied or duplicates)
	// Applied counts the events this consumer's writes applied, also
	// those of a batch abandoned afterwards (not in Events).
	Applied     int64
	Duplicates  int64 // events the store had applied already
	DeadLetters int64 // messages sent to the dead letters
	// Retries counts the failures waited on before another attempt: of
	// the store, of the dead letters' publish, and of a Tracker that
	// cannot validate (no model or store, an invalid model); also the
	// last one, when ctx ends during its wait.
	Retries int64
	// Lag is, per partition this consumer has processed a batch from
	// (and still owns), how many messages the log held past that batch
	// when it was processed; a partition owned but with no batch yet is
	// not in it. On Kafka it is counted in offsets, the high watermark
	// after the batch's last: a transactional topic's commit and abort
	// markers (and the aborted messages a read_committed consumer skips)
	// take offsets too, so there a lag of 1 or more can remain once every
	// message is recorded.
	Lag map[int32]int64
}

// Stats returns the processor's counts and the lag of the partitions.
func (p *Processor) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	p.mu.Lock()
	lag := maps.Clone(p.lag)
	p.mu.Unlock()
	return Stats{
		Batches: p.batches.Load(), Messages: p.messages.Load(), Events: p.events.Load(),
		Applied: p.applied.Load(), Duplicates: p.duplicates.Load(), DeadLetters: p.dead.Load(),
		Retries: p.retries.Load(), Lag: lag,
	}
}

// String gives the counts on one line, as the example command prints
// them: "batches=3 messages=10 events=12 applied=11 duplicates=1
// dead_letters=0 retries=0 lag=4".
func (s Stats) String() string {
	var lag int64
	for _, l := range s.Lag {
		lag += l
	}
	var b strings.Builder
	fmt.Fprintf(&b, "batches=%d messages=%d events=%d applied=%d duplicates=%d dead_letters=%d retries=%d lag=%d",
		s.Batches, s.Messages, s.Events, s.Applied, s.Duplicates, s.DeadLetters, s.Retries, lag)
	return b.String()
}
