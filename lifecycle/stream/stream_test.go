package stream_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

const (
	visit   = `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`
	order   = `{"id":"e2","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":4999,"currency":"EUR"}`
	segment = `{"type":"track","event":"Order Completed","userId":"c2","messageId":"m1","timestamp":"2025-03-02T10:00:00Z","properties":{"total":"12.50","currency":"eur"}}`
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format stream.Format
		value  string
		ids    []string
		field  string // the ValidationError's field, when refused
	}{
		{"json object", stream.FormatAuto, visit, []string{"e1"}, ""},
		{"json array", stream.FormatAuto, "[" + visit + "," + order + "]", []string{"e1", "e2"}, ""},
		{"segment call", stream.FormatAuto, segment, []string{"m1"}, ""},
		{"segment array", stream.FormatAuto, "[" + segment + "]", []string{"m1"}, ""},
		{"segment batch", stream.FormatAuto, `{"batch":[` + segment + `]}`, []string{"m1"}, ""},
		{"segment, told", stream.FormatSegment, segment, []string{"m1"}, ""},
		{"segment read as json", stream.FormatJSON, segment, nil, "event"},
		{"not json", stream.FormatAuto, "hello", nil, "json"},
		{"empty", stream.FormatAuto, "", nil, "json"},
		{"segment, bad timestamp", stream.FormatAuto, strings.Replace(segment, "2025-03-02T10:00:00Z", "yesterday", 1), nil, "timestamp"},
		{"segment, one of two bad", stream.FormatAuto, "[" + segment + `,{"type":"track","event":"x","userId":"c3","messageId":"","timestamp":"2025-03-02T10:00:00Z"}]`, nil, "messageId"},
		{"unknown format", stream.Format(9), visit, nil, "format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := stream.Decode(tc.format, []byte(tc.value))
			if tc.field != "" {
				var ve *lifecycle.ValidationError
				if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("Decode = %v, %v; want a ValidationError on %q", evs, err, tc.field)
				}
				if evs != nil {
					t.Errorf("Decode returned %d events with its error", len(evs))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range evs {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
				t.Errorf("IDs %v; want %v", ids, tc.ids)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for name, want := range map[string]stream.Format{"": stream.FormatAuto, "auto": stream.FormatAuto, "json": stream.FormatJSON, "segment": stream.FormatSegment} {
		if f, err := stream.ParseFormat(name); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", name, f, err, want)
		}
		if want != stream.FormatAuto || name == "auto" {
			if f, _ := stream.ParseFormat(want.String()); f != want {
				t.Errorf("ParseFormat(%v.String()) = %v", want, f)
			}
		}
	}
	if _, err := stream.ParseFormat("xml"); !errors.Is(err, stream.ErrFormat) || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseFormat(xml) = %v; want ErrFormat naming the value", err)
	}
}

func TestEncode(t *testing.T) {
	out, err := stream.Encode(lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)})
	if err != nil || len(out) != 1 || out[0].Key != "c1" || string(out[0].Value) != visit {
		t.Fatalf("Encode = %+v, %v", out, err)
	}
	_, err = stream.Encode(lifecycle.Event{ID: "e1"})
	if !errors.Is(err, lifecycle.ErrInvalidEvent) || !strings.Contains(err.Error(), "customer_id") {
		t.Errorf("Encode without a customer = %v; want an invalid-event error naming customer_id", err)
	}
	// A time RFC 3339 cannot write (found by an audit: a bare encoding/json
	// error, without the sentinel).
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err = stream.Encode(lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at})
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "time" {
			t.Errorf("Encode at %v = %v; want a ValidationError for time wrapping ErrInvalidEvent", at, err)
		}
	}
	// The last minutes of 9999 in a zone west of Greenwich are written
	// with their offset: no error.
	west := time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("", -3600))
	if _, err := stream.Encode(lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: west}); err != nil {
		t.Errorf("Encode at %v: %v", west, err)
	}
	if err := stream.Publish(context.Background(), nil, lifecycle.Event{ID: "e1", CustomerID: "c1"}); err == nil || !strings.Contains(err.Error(), "nil Sender") {
		t.Errorf("Publish to a nil Sender = %v; want an error naming it", err)
	}
	if h := stream.ErrorHeader(nil); h != "" {
		t.Errorf("ErrorHeader(nil) = %q, want \"\"", h)
	}
}

func TestPartitionSpread(t *testing.T) {
	if got := stream.Partition("c1", 0); got != 0 {
		t.Errorf("Partition(c1, 0) = %d", got)
	}
	counts := make([]int, 8)
	for i := range 8000 {
		p := stream.Partition("cust-"+string(rune('a'+i%26))+strings.Repeat("x", i%7)+string(rune(i)), 8)
		counts[p]++
	}
	for p, n := range counts {
		if n < 600 {
			t.Errorf("partition %d got %d of 8000 keys: %v", p, n, counts)
		}
	}
}

// letters collects dead letters; it fails the first fail calls.
type letters struct {
	mu   sync.Mutex
	got  []stream.DeadLetter
	fail int
}

func (l *letters) DeadLetter(_ context.Context, ls []stream.DeadLetter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail > 0 {
		l.fail--
		return errors.New("dead-letter topic unavailable")
	}
	l.got = append(l.got, ls...)
	return nil
}

// requireLetters checks that dl got dead letters from exactly these
// sources, in order, each with an error wrapping want.
func requireLetters(t *testing.T, dl *letters, want error, sources ...string) {
	t.Helper()
	if len(dl.got) != len(sources) {
		t.Fatalf("dead letters %+v; want %d, from %v", dl.got, len(sources), sources)
	}
	for i, l := range dl.got {
		if l.Message.Source() != sources[i] {
			t.Errorf("dead letter %d from %s; want %s", i, l.Message.Source(), sources[i])
		}
		if !errors.Is(l.Err, want) {
			t.Errorf("dead letter %d's error %v does not wrap %v", i, l.Err, want)
		}
	}
}

func msgs(values ...string) []stream.Message {
	out := make([]stream.Message, len(values))
	for i, v := range values {
		out[i] = stream.Message{Topic: "events", Partition: 3, Offset: int64(10 + i), Value: []byte(v)}
	}
	return out
}

func TestProcess(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	dl := &letters{fail: 1}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Backoff: time.Millisecond})
	future := `{"id":"f","customer_id":"c3","type":"site_visited","time":"2100-01-01T00:00:00Z"}`
	res, err := p.Process(ctx, msgs(visit, "garbage", order, segment, future, visit))
	if err != nil {
		t.Fatal(err)
	}
	want := stream.BatchResult{Messages: 6, Events: 4, Applied: 3, Duplicates: 1, DeadLetters: 2}
	if res != want {
		t.Errorf("Process = %+v; want %+v", res, want)
	}
	requireLetters(t, dl, lifecycle.ErrInvalidEvent, "events/3/11", "events/3/14")
	if _, err := st.Get(ctx, "c3"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("the dead letter's customer was stored: %v", err)
	}
	s := p.Stats()
	if s.Batches != 1 || s.Applied != 3 || s.DeadLetters != 2 || s.Retries != 1 {
		t.Errorf("Stats = %s", s)
	}
	p.SetLag(3, 7)
	p.SetLag(4, -1)
	if s := p.Stats(); s.Lag[3] != 7 || s.Lag[4] != 0 || !strings.HasSuffix(s.String(), "lag=7") {
		t.Errorf("Stats = %s, lag %v", s, s.Lag)
	}
	p.DropLag(3)
	if s := p.Stats(); len(s.Lag) != 1 {
		t.Errorf("lag after DropLag(3): %v", s.Lag)
	}
	p.DropLag()
	if s := p.Stats(); len(s.Lag) != 0 {
		t.Errorf("lag after DropLag(): %v", s.Lag)
	}
}

// flaky is a store whose first writes fail.
type flaky struct {
	*store.Memory
	fail atomic.Int64
}

func (f *flaky) Apply(ctx context.Context, ws []lifecycle.Write) {
	if f.fail.Add(-1) >= 0 {
		for i := range ws {
			ws[i].Err = errors.New("connection reset")
		}
		return
	}
	f.Memory.Apply(ctx, ws)
}

func TestProcessRetriesTheStore(t *testing.T) {
	st := &flaky{Memory: store.NewMemory()}
	st.fail.Store(2)
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &letters{}, stream.Options{Backoff: time.Millisecond})
	res, err := p.Process(context.Background(), msgs(visit, order))
	if err != nil || res.Applied != 2 {
		t.Fatalf("Process = %+v, %v; want both applied after the retries", res, err)
	}
	if r := p.Stats().Retries; r < 2 {
		t.Errorf("Retries = %d; want at least 2", r)
	}
}

func TestProcessAbandons(t *testing.T) {
	st := &flaky{Memory: store.NewMemory()}
	st.fail.Store(1 << 40)
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &letters{}, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Process(ctx, msgs(visit))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("Process = %v; want the deadline, naming the store's failure", err)
	}
	if s := p.Stats(); s.Batches != 0 {
		t.Errorf("an abandoned batch was counted: %s", s)
	}
}

// TestDecodeHostile: Decode and Process never panic on mangled input,
// and whatever Decode refuses comes with an invalid-event error.
func TestDecodeHostile(t *testing.T) {
	seeds := []string{visit, order, segment, "[" + visit + "," + segment + "]", `{"batch":[` + segment + `]}`, "", "[", "{", "null", `"x"`}
	rng := rand.New(rand.NewPCG(21, 1))
	st := store.NewMemory()
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &letters{}, stream.Options{})
	var batch []stream.Message
	for i := range 20_000 {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for range rng.IntN(4) {
			if len(b) == 0 {
				b = append(b, byte(rng.IntN(256)))
				continue
			}
			switch j := rng.IntN(len(b)); rng.IntN(3) {
			case 0:
				b[j] = byte(rng.IntN(256))
			case 1:
				b = append(b[:j], b[j+1:]...)
			default:
				const punct = "{}[]\",:\\"
				b = append(b[:j], append([]byte{punct[rng.IntN(len(punct))]}, b[j:]...)...)
			}
		}
		for _, f := range []stream.Format{stream.FormatAuto, stream.FormatJSON, stream.FormatSegment} {
			evs, err := stream.Decode(f, b)
			if err != nil && (evs != nil || !errors.Is(err, lifecycle.ErrInvalidEvent)) {
				t.Fatalf("Decode(%v, %q) = %d events, %v", f, b, len(evs), err)
			}
		}
		batch = append(batch, stream.Message{Topic: "t", Offset: int64(i), Value: b})
	}
	if _, err := p.Process(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// broken is a store that cannot write one customer, id: its row is
// corrupt, so every write of it fails with ErrInvalidCustomer.
type broken struct {
	*store.Memory
	id string
}

func (b broken) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		if ws[i].ID == b.id {
			ws[i].Err = fmt.Errorf("%w: customer %q: stored data does not decode", lifecycle.ErrInvalidCustomer, ws[i].ID)
			continue
		}
		b.Memory.Apply(ctx, ws[i:i+1])
	}
}

// TestProcessDeadLettersInvalidCustomer: a customer the store cannot
// write makes its messages dead letters instead of blocking the
// partition, and the others' events are recorded.
func TestProcessDeadLettersInvalidCustomer(t *testing.T) {
	st := broken{store.NewMemory(), "c1"}
	dl := &letters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.Process(ctx, msgs(visit, segment, order))
	if err != nil {
		t.Fatalf("Process = %v; want the partition to go on", err)
	}
	want := stream.BatchResult{Messages: 3, Events: 1, Applied: 1, DeadLetters: 2}
	if res != want {
		t.Errorf("Process = %+v; want %+v", res, want)
	}
	requireLetters(t, dl, lifecycle.ErrInvalidCustomer, "events/3/10", "events/3/12")
	if _, err := st.Get(ctx, "c2"); err != nil {
		t.Errorf("the other customer was not recorded: %v", err)
	}
	if r := p.Stats().Retries; r > 1 {
		t.Errorf("Retries = %d; want one at most (the batch's error names c1, so the others are recorded again, once)", r)
	}
}

// TestProcessUnknownFormatHeader: a format header no format has is not
// guessed at; its message is a dead letter naming the header's value.
func TestProcessUnknownFormatHeader(t *testing.T) {
	st := store.NewMemory()
	dl := &letters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{})
	ms := msgs(visit, segment, order)
	ms[0].SetFormat("xml")
	ms[1].SetFormat("segment")
	ms[2].SetFormat("")
	res, err := p.Process(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stream.BatchResult{Messages: 3, Events: 2, Applied: 2, DeadLetters: 1}); res != want {
		t.Errorf("Process = %+v; want %+v", res, want)
	}
	var ve *lifecycle.ValidationError
	if len(dl.got) != 1 || !errors.As(dl.got[0].Err, &ve) || ve.Field != stream.HeaderFormat || ve.Value != "xml" {
		t.Fatalf("dead letters %+v; want message 10, refused on its %s header \"xml\"", dl.got, stream.HeaderFormat)
	}
	if ms[1].Format != stream.FormatSegment || ms[2].Format != stream.FormatAuto {
		t.Errorf("SetFormat: %v, %v", ms[1].Format, ms[2].Format)
	}
	ms[0].SetFormat("json") // set again: no longer refused
	if _, err := p.Process(context.Background(), ms[:1]); err != nil || len(dl.got) != 1 {
		t.Errorf("after SetFormat(\"json\"): %v, %d dead letters", err, len(dl.got))
	}
}
