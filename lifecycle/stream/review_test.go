package stream_test

// Tests from a review against the documentation: each states the
// documented behaviour it checks.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

func reviewMsgs(values ...string) []stream.Message {
	out := make([]stream.Message, len(values))
	for i, v := range values {
		out[i] = stream.Message{Topic: "events", Partition: 2, Offset: int64(100 + i), Value: []byte(v)}
	}
	return out
}

// noConv is a model whose ConversionTypes is empty: the Tracker refuses
// it with ErrInvalidModel.
type noConv struct{ lifecycle.Model }

func (noConv) ConversionTypes() []lifecycle.EventType { return nil }

// panicky is a model whose Stages panics: ErrInvalidModel too.
type panicky struct{ lifecycle.Model }

func (panicky) Stages() *stage.Graph { panic("broken model") }

// Doc (package stream, "Record"): "A model that fails
// (lifecycle.ErrInvalidModel) fails every customer alike, so it is retried
// like a store failure: the partition waits for a fixed model instead of
// sending the whole log to the dead letters." And DeadLetter.Err wraps
// ErrInvalidEvent or ErrInvalidCustomer.
func TestReviewInvalidModelIsRetriedNotDeadLettered(t *testing.T) {
	for name, m := range map[string]lifecycle.Model{
		"empty ConversionTypes": noConv{model.SterneCutler()},
		"Stages panics":         panicky{model.SterneCutler()},
	} {
		t.Run(name, func(t *testing.T) {
			dl := &zzLetters{}
			p := stream.NewProcessor(lifecycle.NewTracker(m, store.NewMemory()), dl, stream.Options{Backoff: time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			res, err := p.Process(ctx, reviewMsgs(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`))
			for _, l := range dl.got {
				t.Errorf("dead letter %s: %v (wraps ErrInvalidModel: %v)", l.Message.Source(), l.Err, errors.Is(l.Err, lifecycle.ErrInvalidModel))
			}
			if err == nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Process = %+v, %v; want the batch retried until ctx ends (an error wrapping ctx's), not committed", res, err)
			}
		})
	}
}

// Doc (package stream, "Record"): ErrInvalidCustomer "is not retried, as
// no retry can end" it; the message becomes a dead letter and "the rest of
// the batch goes on"; a dead letter "never blocks the partition". Here an
// order names a referrer whose stored row is corrupt: the referral credit
// fails with ErrInvalidCustomer, forever.
func TestReviewInvalidReferrerIsDeadLettered(t *testing.T) {
	dl := &zzLetters{}
	st := broken{store.NewMemory(), "r1"} // the referrer's stored row is corrupt
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	order := `{"id":"o1","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":4999,"currency":"EUR","referrer_id":"r1"}`
	visit := `{"id":"v1","customer_id":"c2","type":"site_visited","time":"2025-03-01T10:00:00Z"}`
	res, err := p.Process(ctx, reviewMsgs(order, visit))
	if err != nil {
		t.Fatalf("Process = %+v, %v after %d retries; want the partition to go on (ErrInvalidCustomer is not retried)", res, err, p.Stats().Retries)
	}
	if len(dl.got) != 1 || dl.got[0].Message.Offset != 100 || !errors.Is(dl.got[0].Err, lifecycle.ErrInvalidCustomer) {
		t.Fatalf("dead letters %+v; want the order's message, with an error wrapping ErrInvalidCustomer", dl.got)
	}
	for _, id := range []string{"c1", "c2"} { // the order itself is applied; so is the visit
		if _, err := st.Get(ctx, id); err != nil {
			t.Errorf("customer %s: %v", id, err)
		}
	}
	if res.Events != 1 || res.Applied != 1 || res.DeadLetters != 1 {
		t.Errorf("Process = %+v; want the visit counted and one dead letter", res)
	}
}

// HeaderError: for an invalid event, "event N (id …): " before the
// reason, N counting the message's events: a Segment array whose call 1
// is from the future (call 0 an identify call, which makes no event) is
// refused as event 0, with its ID.
func TestReviewDeadLetterNamesEvent(t *testing.T) {
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()), dl, stream.Options{})
	value := `[{"type":"identify","userId":"c9","messageId":"i1","timestamp":"2025-03-02T10:00:00Z"},` +
		`{"type":"track","event":"Signed Up","userId":"c9","messageId":"m2","timestamp":"2100-01-01T00:00:00Z"}]`
	if _, err := p.Process(context.Background(), reviewMsgs(value)); err != nil {
		t.Fatal(err)
	}
	if len(dl.got) != 1 {
		t.Fatalf("dead letters %+v; want 1", dl.got)
	}
	text := dl.got[0].Err.Error()
	if !strings.HasPrefix(text, `event 0 (id "m2"): `) {
		t.Errorf("dead letter error %q: want the refused event's index among the message's events (the identify call makes none) and its ID", text)
	}
}

// Doc (lifecycle.FromSegment, which stream.Decode uses): "The call, its
// properties and a batch object are decoded strictly ...: a key given
// twice is refused". A batch object with a key given twice is accepted.
func TestReviewSegmentBatchObjectDuplicateKeyRefused(t *testing.T) {
	call := `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m1","timestamp":"2025-03-02T10:00:00Z"}`
	for _, v := range []string{
		`{"batch":[` + call + `],"sentAt":"2025-03-02T10:00:00Z","sentAt":"2025-03-02T11:00:00Z"}`,
		`{"batch":[` + call + `],"context":{},"context":{"x":1}}`,
	} {
		for _, f := range []stream.Format{stream.FormatAuto, stream.FormatSegment} {
			evs, err := stream.Decode(f, []byte(v))
			if err == nil {
				t.Errorf("Decode(%v, %s) = %d events, nil; want a duplicate-key error", f, v, len(evs))
			}
		}
	}
	// The same duplicate in a call (not a batch object) is refused.
	dup := strings.Replace(call, `"type"`, `"context":{},"context":{},"type"`, 1)
	if _, err := stream.Decode(stream.FormatSegment, []byte(dup)); err == nil {
		t.Errorf("a call with a duplicate key is accepted too")
	}
}

// Doc (HeaderFormat): "names its format ... (see ParseFormat) and
// overrides Options.Format"; ParseFormat accepts "auto". A message whose
// header says "auto" is decoded with Options.Format (json) instead.
func TestReviewHeaderAutoOverridesOptions(t *testing.T) {
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()), dl, stream.Options{Format: stream.FormatJSON})
	ms := reviewMsgs(`{"type":"track","event":"Signed Up","userId":"c2","messageId":"m1","timestamp":"2025-03-02T10:00:00Z"}`)
	ms[0].SetFormat("auto")
	res, err := p.Process(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || len(dl.got) != 0 {
		for _, l := range dl.got {
			t.Logf("dead letter: %v", l.Err)
		}
		t.Errorf("Process = %+v; want the clm-format: auto header to sniff the Segment call, overriding Options.Format json", res)
	}
}

// Partition against published murmur2 reference values (Kafka's
// UtilsTest.testMurmur2, librdkafka, kafkajs's Java-compatible
// partitioner, Akka): the positive part is Partition(key, 2^31).
func TestReviewPartitionMurmur2Reference(t *testing.T) {
	ref := map[string]int32{
		// Kafka UtilsTest.testMurmur2
		"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536,
		"a-little-bit-longer-string": -1486304829, "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
		// librdkafka rdmurmur2.c unit test
		"kafka": -798503068, "giberish123456789": -1890243828, "234": -406844982, "34": -2026295078,
		"4": 1514888353, "PreAmbleWillBeRemoved,ThePrePartThatIs": 2017611548, "": 275646681,
		// kafkajs defaultJava (generated with Kafka's Java Utils.murmur2)
		"0": 971027396, "1": -1993445489, "128": -326012175, "2187": -1508407203, "16384": -325739742,
		"78125": -1654490814, "279936": 1462227128, "823543": -2014198330, "2097152": 607668903,
		"4782969": -1182699775, "10000000": -1830336757, "19487171": -1603849305, "35831808": -857013643,
		"62748517": -1167431028, "105413504": -381294639, "170859375": -1658323481, "100:48069": 1009543857,
		// Akka Murmur2Spec (from Kafka's implementation)
		"12": 126087238, "123": -267702483, "1234": -1614185708, "12345": -1188365604,
	}
	for k, h := range ref {
		pos := int64(h) & 0x7fffffff
		if got := stream.Partition(k, 1<<31); int64(got) != pos {
			t.Errorf("Partition(%q, 2^31) = %d; want %d (murmur2 %d)", k, got, pos, h)
		}
		for _, n := range []int{1, 3, 12, 100, 1000} {
			if got := stream.Partition(k, n); int64(got) != pos%int64(n) {
				t.Errorf("Partition(%q, %d) = %d; want %d", k, n, got, pos%int64(n))
			}
		}
	}
	for _, n := range []int{0, -1, -1 << 40} {
		if got := stream.Partition("x", n); got != 0 {
			t.Errorf("Partition(x, %d) = %d", n, got)
		}
	}
}

// Things that held: decoding of hostile values; each refusal wraps
// ErrInvalidEvent with a ValidationError; Process dead-letters them whole.
func TestReviewDecodeHostileHeld(t *testing.T) {
	good := `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`
	seg := `{"type":"track","event":"Signed Up","userId":"c2","messageId":"m1","timestamp":"2025-03-02T10:00:00Z"}`
	bad := map[string]string{
		"bom":              "\xef\xbb\xbf" + good,
		"invalid utf8 id":  strings.Replace(good, `"e1"`, "\"e\xff\"", 1),
		"surrogate":        strings.Replace(good, `"e1"`, `"e\ud800"`, 1),
		"dup key":          strings.Replace(good, `"id":"e1"`, `"id":"e1","id":"e2"`, 1),
		"case key":         strings.Replace(good, `"id"`, `"ID"`, 1),
		"wrong type":       strings.Replace(good, `"e1"`, `1`, 1),
		"amount string":    `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2025-03-01T10:00:00Z","amount":"12","currency":"EUR"}`,
		"amount float":     `{"id":"e1","customer_id":"c1","type":"order_completed","time":"2025-03-01T10:00:00Z","amount":12.5,"currency":"EUR"}`,
		"null":             "null",
		"null array elem":  "[" + good + ",null]",
		"trailing":         good + "x",
		"two values":       good + good,
		"seg dup key":      strings.Replace(seg, `"userId":"c2"`, `"userId":"c2","userId":"c3"`, 1),
		"seg case key":     strings.Replace(seg, `"userId"`, `"UserId"`, 1) + "",
		"seg bad utf8":     strings.Replace(seg, `"c2"`, "\"c\xfe\"", 1),
		"seg batch twice":  `{"batch":[` + seg + `],"batch":[]}`,
		"seg in json form": `[` + good + `,` + seg + `]`,
		"too many":         "[" + strings.Repeat(good+",", lifecycle.MaxBatch) + good + "]",
		"deep":             strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"nul byte":         "\x00",
	}
	for name, v := range bad {
		for _, f := range []stream.Format{stream.FormatAuto, stream.FormatJSON, stream.FormatSegment} {
			evs, err := stream.Decode(f, []byte(v))
			var ve *lifecycle.ValidationError
			if err == nil || evs != nil || !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) {
				t.Errorf("%s: Decode(%v) = %d events, %v; want a ValidationError", name, f, len(evs), err)
			}
		}
	}
	okv := map[string]string{
		"spaces":      " \t\r\n" + good + " \n",
		"null field":  strings.Replace(good, `"id":"e1"`, `"id":"e1","referrer_id":null`, 1),
		"escaped key": strings.Replace(seg, `"userId"`, `"\u0075serId"`, 1),
		"seg spaces":  "\n " + seg + " \t",
	}
	for name, v := range okv {
		if evs, err := stream.Decode(stream.FormatAuto, []byte(v)); err != nil || len(evs) != 1 {
			t.Errorf("%s: Decode = %d events, %v", name, len(evs), err)
		}
	}
}

// Things that held: a batch with invalid messages, duplicates and two
// customers gives the same state as a sequential Record; dead letters are
// whole and carry the source; Process is idempotent.
func TestReviewProcessMatchesSequential(t *testing.T) {
	vals := []string{
		`{"id":"a1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
		`[{"id":"a2","customer_id":"c1","type":"signed_up","time":"2025-03-02T10:00:00Z"},{"id":"b1","customer_id":"c2","type":"site_visited","time":"2025-03-02T10:00:00Z"}]`,
		`[{"id":"x1","customer_id":"c3","type":"site_visited","time":"2025-03-02T10:00:00Z"},{"id":"x2","customer_id":"c3","type":"site_visited","time":"2100-03-02T10:00:00Z"}]`,
		`{"id":"a3","customer_id":"c1","type":"order_completed","time":"2025-03-03T10:00:00Z","amount":100,"currency":"EUR"}`,
		`{"id":"a1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
	}
	dl := &zzLetters{}
	st := store.NewMemory()
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{})
	res, err := p.Process(context.Background(), reviewMsgs(vals...))
	if err != nil {
		t.Fatal(err)
	}
	if want := (stream.BatchResult{Messages: 5, Events: 5, Applied: 4, Duplicates: 1, DeadLetters: 1}); res != want {
		t.Errorf("Process = %+v; want %+v", res, want)
	}
	if len(dl.got) != 1 || dl.got[0].Message.Source() != "events/2/102" || !strings.HasPrefix(dl.got[0].Err.Error(), `event 1 (id "x2"): `) {
		t.Errorf("dead letters %+v", dl.got)
	}
	if _, err := st.Get(context.Background(), "c3"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("c3 stored from a dead letter: %v", err)
	}
	ref := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), ref)
	for _, v := range []string{vals[0], vals[1], vals[3]} {
		evs, _ := stream.Decode(stream.FormatJSON, []byte(v))
		for _, e := range evs {
			if _, err := tr.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range []string{"c1", "c2"} {
		a, _ := st.Get(context.Background(), id)
		b, _ := ref.Get(context.Background(), id)
		if a.Stage != b.Stage || len(a.History) != len(b.History) || a.Facts.Orders() != b.Facts.Orders() {
			t.Errorf("%s: %v %d vs %v %d", id, a.Stage, len(a.History), b.Stage, len(b.History))
		}
		for i := range a.History {
			if a.History[i].To != b.History[i].To {
				t.Errorf("%s history %d: %v vs %v", id, i, a.History[i], b.History[i])
			}
		}
	}
	res, err = p.Process(context.Background(), reviewMsgs(vals...))
	if err != nil || res.Applied != 0 || res.Duplicates != 5 {
		t.Errorf("again: %+v, %v", res, err)
	}
}

// failingDL always fails.
type failingDL struct{}

func (failingDL) DeadLetter(context.Context, []stream.DeadLetter) error {
	return errors.New("dead-letter topic down")
}

// flakyC2 fails the first n writes of customer c2 with a store error.
type flakyC2 struct {
	*store.Memory
	mu sync.Mutex
	n  int
}

func (f *flakyC2) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		f.mu.Lock()
		fail := ws[i].ID == "c2" && f.n > 0
		if fail {
			f.n--
		}
		f.mu.Unlock()
		if fail {
			ws[i].Err = errors.New("connection reset")
			continue
		}
		f.Memory.Apply(ctx, ws[i:i+1])
	}
}

// Things that held: a dead-letter failure until ctx ends gives an error
// wrapping ctx's and no batch counted; a store failing one customer for a
// while is retried, and the counts stay right (applied once, no
// duplicates).
func TestReviewProcessFailuresHeld(t *testing.T) {
	v1 := `{"id":"a1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`
	v2 := `{"id":"b1","customer_id":"c2","type":"site_visited","time":"2025-03-01T10:00:00Z"}`
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()), failingDL{}, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Process(ctx, reviewMsgs(v1, "garbage")); !errors.Is(err, context.DeadlineExceeded) || p.Stats().Batches != 0 {
		t.Errorf("Process = %v, %s", err, p.Stats())
	}
	st := &flakyC2{Memory: store.NewMemory(), n: 3}
	p = stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &zzLetters{}, stream.Options{Backoff: time.Millisecond})
	res, err := p.Process(context.Background(), reviewMsgs(v1, v2))
	if want := (stream.BatchResult{Messages: 2, Events: 2, Applied: 2}); err != nil || res != want {
		t.Errorf("Process = %+v, %v; want %+v", res, err, want)
	}
	if s := p.Stats(); s.Applied != 2 || s.Duplicates != 0 || s.Retries != 3 {
		t.Errorf("Stats = %s", s)
	}
}

// Things that held: Encode's value decodes (sniffed) to the same event.
func TestReviewEncodeRoundTripHeld(t *testing.T) {
	e := lifecycle.Event{ID: "o1", CustomerID: "userId", Type: lifecycle.OrderCompleted, Amount: 12,
		Currency: "EUR", Time: time.Date(2025, 3, 1, 10, 0, 0, 5, time.FixedZone("", 3600)),
		Attrs: map[string]string{"userId": "x", "messageId": "y"}}
	out, err := stream.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := stream.Decode(stream.FormatAuto, out[0].Value)
	if err != nil || len(evs) != 1 || !evs[0].Time.Equal(e.Time) || evs[0].ID != e.ID || evs[0].Attrs["messageId"] != "y" {
		t.Errorf("Decode(Encode) = %+v, %v", evs, err)
	}
}
