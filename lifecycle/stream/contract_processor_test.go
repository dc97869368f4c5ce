package stream_test

// A review's tests of the Processor, written from the package
// documentation (go doc), docs/streams.md and README.md. Each test quotes
// the sentence it relies on.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// zzLetters collects dead letters.
type zzLetters struct {
	mu  sync.Mutex
	got []stream.DeadLetter
}

func (l *zzLetters) DeadLetter(_ context.Context, ls []stream.DeadLetter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, ls...)
	return nil
}

func (l *zzLetters) list() []stream.DeadLetter {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]stream.DeadLetter(nil), l.got...)
}

func zzMsgs(partition int32, values ...string) []stream.Message {
	out := make([]stream.Message, len(values))
	for i, v := range values {
		out[i] = stream.Message{Topic: "events", Partition: partition, Offset: int64(i), Value: []byte(v)}
	}
	return out
}

// zzFailing fails every write of its first n Apply calls (a store down).
type zzFailing struct {
	*store.Memory
	n atomic.Int64
}

func (f *zzFailing) Apply(ctx context.Context, ws []lifecycle.Write) {
	if f.n.Add(-1) >= 0 {
		for i := range ws {
			ws[i].Err = errors.New("connection refused")
		}
		return
	}
	f.Memory.Apply(ctx, ws)
}

// zzCountHandler counts the log records at warning level.
type zzCountHandler struct{ n atomic.Int64 }

func (h *zzCountHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *zzCountHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	return nil
}
func (h *zzCountHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *zzCountHandler) WithGroup(string) slog.Handler      { return h }

// Options.Backoff: "the wait before the first retry after a store or
// dead-letter failure (default 100ms); it doubles each time, up to 32
// times Backoff." Options.Logger: "gets a warning for every failure
// retried". Stats.Retries: "store or dead-letter failures retried".
func TestContractBackoffDoublesUpTo32(t *testing.T) {
	st := &zzFailing{Memory: store.NewMemory()}
	st.n.Store(8)
	h := &zzCountHandler{}
	const b = 10 * time.Millisecond
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &zzLetters{}, stream.Options{Backoff: b, Logger: slog.New(h)})
	start := time.Now()
	res, err := p.Process(context.Background(), zzMsgs(0, visit))
	took := time.Since(start)
	if err != nil || res.Applied != 1 {
		t.Fatalf("Process = %+v, %v", res, err)
	}
	// 1+2+4+8+16+32+32+32 = 127 Backoffs; without the cap, 255.
	if min := 127 * b; took < min {
		t.Errorf("8 retries took %s; want at least %s (doubling from Backoff)", took, min)
	}
	if max := 230 * b; took > max {
		t.Errorf("8 retries took %s; want well under %s (the wait is capped at 32 × Backoff)", took, max)
	}
	if r := p.Stats().Retries; r != 8 {
		t.Errorf("Stats.Retries = %d; want 8", r)
	}
	if n := h.n.Load(); n != 8 {
		t.Errorf("Logger got %d warnings; want one per failure retried (8)", n)
	}
}

// Package doc: "retrying is safe, as applied events come back as
// duplicates"; BatchResult: Applied "events that changed the store",
// Duplicates "events the store had applied already". A message delivered
// twice within one batch and the whole batch delivered again.
func TestContractRedeliveryIsDuplicate(t *testing.T) {
	st := store.NewMemory()
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{})
	ctx := context.Background()
	batch := zzMsgs(1, visit, order, visit, segment)
	res, err := p.Process(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stream.BatchResult{Messages: 4, Events: 4, Applied: 3, Duplicates: 1}); res != want {
		t.Errorf("first delivery: Process = %+v; want %+v", res, want)
	}
	res, err = p.Process(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stream.BatchResult{Messages: 4, Events: 4, Applied: 0, Duplicates: 4}); res != want {
		t.Errorf("redelivery: Process = %+v; want %+v", res, want)
	}
	c, err := st.Get(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Facts.Events() != 2 || c.Facts.Orders() != 1 {
		t.Errorf("c1 holds %d events, %d orders; want 2 and 1 (each once)", c.Facts.Events(), c.Facts.Orders())
	}
	s := p.Stats()
	if s.Batches != 2 || s.Messages != 8 || s.Events != 8 || s.Applied != 3 || s.Duplicates != 5 || s.DeadLetters != 0 {
		t.Errorf("Stats = %s", s)
	}
	if len(dl.list()) != 0 {
		t.Errorf("dead letters: %+v", dl.list())
	}
}

// Process: "It retries store and dead-letter failures until they succeed
// or ctx ends; it then returns an error wrapping ctx's, and the caller
// must not commit." A store down for the whole batch: no dead letter, no
// nil; the batch redelivered to a working store is recorded in full.
func TestContractStoreDownNotCommitted(t *testing.T) {
	st := &zzFailing{Memory: store.NewMemory()}
	st.n.Store(1 << 40)
	dl := &zzLetters{}
	tr := lifecycle.NewTracker(model.SterneCutler(), st)
	p := stream.NewProcessor(tr, dl, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	batch := zzMsgs(0, visit, "garbage", order)
	_, err := p.Process(ctx, batch)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Process with the store down = %v; want an error wrapping ctx's", err)
	}
	if s := p.Stats(); s.Batches != 0 || s.Events != 0 {
		t.Errorf("Stats = %s; want the abandoned batch not counted", s)
	}
	// Redelivered once the store is back.
	st.n.Store(0)
	res, err := p.Process(context.Background(), batch)
	if err != nil || res.Applied != 2 || res.DeadLetters != 1 {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
}

// Package doc: "A model that fails (lifecycle.ErrInvalidModel, in
// validating or in recording), or a Processor without a Tracker
// (lifecycle.ErrNoTracker), fails every customer alike, so it is retried
// like a store failure: the partition waits for a fixed model instead of
// sending the whole log to the dead letters." NewTracker's doc: "Without
// a model or a store ... every method that records ... returns an error
// wrapping ErrNoTracker."
func TestContractNoTrackerAndModelFailingInRecordingRetried(t *testing.T) {
	for name, tr := range map[string]*lifecycle.Tracker{
		"nil Tracker":                  nil,
		"Tracker without a store":      lifecycle.NewTracker(model.SterneCutler(), nil),
		"Tracker without a model":      lifecycle.NewTracker(nil, store.NewMemory()),
		"model panics on an order":     lifecycle.NewTracker(zzOrderPanics{model.SterneCutler()}, store.NewMemory()),
		"model answers no stage":       lifecycle.NewTracker(zzUndeclared{model.SterneCutler()}, store.NewMemory()),
		"zero Tracker (no NewTracker)": &lifecycle.Tracker{},
	} {
		t.Run(name, func(t *testing.T) {
			dl := &zzLetters{}
			p := stream.NewProcessor(tr, dl, stream.Options{Backoff: time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			res, err := p.Process(ctx, zzMsgs(0, order))
			for _, l := range dl.list() {
				t.Errorf("dead letter %s: %v", l.Message.Source(), l.Err)
			}
			if err == nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Process = %+v, %v; want the batch retried until ctx ends", res, err)
			}
		})
	}
}

// zzOrderPanics panics when classifying a customer with an order: a model
// that fails in recording only.
type zzOrderPanics struct{ lifecycle.Model }

func (m zzOrderPanics) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	if f.Orders() > 0 {
		panic("model bug")
	}
	return m.Model.Stage(f, now)
}

// zzUndeclared answers a stage its graph does not declare for a customer
// with an order.
type zzUndeclared struct{ lifecycle.Model }

func (m zzUndeclared) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	if f.Orders() > 0 {
		return "no-such-stage"
	}
	return m.Model.Stage(f, now)
}

// zzBrokenRow is a store in which the rows of some customers do not
// decode: every write of them fails with ErrInvalidCustomer.
type zzBrokenRow struct {
	*store.Memory
	bad map[string]bool
}

func (b zzBrokenRow) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		if b.bad[ws[i].ID] {
			ws[i].Err = fmt.Errorf("%w: customer %q: stored data does not decode", lifecycle.ErrInvalidCustomer, ws[i].ID)
			continue
		}
		b.Memory.Apply(ctx, ws[i:i+1])
	}
}

func (b zzBrokenRow) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if b.bad[id] {
		return nil, fmt.Errorf("%w: customer %q: stored data does not decode", lifecycle.ErrInvalidCustomer, id)
	}
	return b.Memory.Get(ctx, id)
}

// Package doc: "A referral credit the store cannot write (the referrer's
// stored row does not decode: lifecycle.ErrInvalidCustomer from the
// credit) makes the message whose events owe it a dead letter the same
// way (found by recording the rest of the batch one message at a time;
// its events stay applied)." Two messages owe credits to a broken
// referrer, one to a sound one: only the two are dead letters, the sound
// credit is given, every order stays applied once.
func TestContractReferralCreditsOfBrokenReferrer(t *testing.T) {
	mem := store.NewMemory()
	st := zzBrokenRow{mem, map[string]bool{"r1": true}}
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ord := func(id, cust, ref string) string {
		return fmt.Sprintf(`{"id":%q,"customer_id":%q,"type":"order_completed","time":"2025-03-02T10:00:00Z","amount":100,"currency":"EUR","referrer_id":%q}`, id, cust, ref)
	}
	vals := []string{
		`{"id":"v0","customer_id":"r2","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
		ord("o1", "c1", "r1"),
		ord("o2", "c2", "r2"),
		ord("o3", "c3", "r1"),
		`{"id":"v4","customer_id":"c4","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
	}
	res, err := p.Process(ctx, zzMsgs(0, vals...))
	if err != nil {
		t.Fatalf("Process = %+v, %v; want the partition to go on", res, err)
	}
	var srcs []string
	for _, l := range dl.list() {
		srcs = append(srcs, l.Message.Source())
		if !errors.Is(l.Err, lifecycle.ErrInvalidCustomer) {
			t.Errorf("dead letter %s: %v; want ErrInvalidCustomer", l.Message.Source(), l.Err)
		}
	}
	if strings.Join(srcs, ",") != "events/0/1,events/0/3" {
		t.Errorf("dead letters from %v; want the two messages owing r1 a credit (events/0/1, events/0/3)", srcs)
	}
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		c, err := mem.Get(ctx, id)
		if err != nil {
			t.Errorf("%s: %v (its events stay applied)", id, err)
			continue
		}
		if id != "c4" && c.Facts.Orders() != 1 {
			t.Errorf("%s has %d orders; want 1", id, c.Facts.Orders())
		}
	}
	r2, err := mem.Get(ctx, "r2")
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Facts.Referrals) != 1 || r2.Facts.Referrals[0].Customer != "c2" {
		t.Errorf("r2's credits %+v; want c2's", r2.Facts.Referrals)
	}
	if res.DeadLetters != 2 || res.Events != 3 {
		t.Errorf("Process = %+v; want 2 dead letters and the other 3 messages' events counted", res)
	}
}

// zzFlakyCredit fails the first write of the referrer with a store
// error (a dropped connection), then works.
type zzFlakyCredit struct {
	*store.Memory
	id   string
	left atomic.Int64
}

func (f *zzFlakyCredit) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		if ws[i].ID == f.id && f.left.Add(-1) >= 0 {
			ws[i].Err = errors.New("connection reset")
			continue
		}
		f.Memory.Apply(ctx, ws[i:i+1])
	}
}

// Package doc: "A store failure is retried, with a growing back-off,
// until it succeeds or ctx ends; retrying is safe, as applied events come
// back as duplicates." RELIABILITY.md: "a referral credit left undone by
// the failure is given by the retry." A credit that failed once (not
// ErrInvalidCustomer) must be in the store when Process returns nil.
func TestContractReferralCreditRetried(t *testing.T) {
	st := &zzFlakyCredit{Memory: store.NewMemory(), id: "r1"}
	st.left.Store(2)
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vals := []string{
		`{"id":"v0","customer_id":"r1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
		`{"id":"o1","customer_id":"c1","type":"order_completed","time":"2025-03-02T10:00:00Z","amount":100,"currency":"EUR","referrer_id":"r1"}`,
	}
	res, err := p.Process(ctx, zzMsgs(0, vals...))
	if err != nil {
		t.Fatalf("Process = %+v, %v", res, err)
	}
	r1, err := st.Memory.Get(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Facts.Referrals) != 1 || r1.Facts.Referrals[0].Customer != "c1" || r1.Facts.Count(lifecycle.SiteVisited) != 1 {
		t.Errorf("r1: %d events, credits %+v; want its visit and c1's credit", r1.Facts.Events(), r1.Facts.Referrals)
	}
	if want := (stream.BatchResult{Messages: 2, Events: 2, Applied: 2}); res != want {
		t.Errorf("Process = %+v; want %+v", res, want)
	}
	if len(dl.list()) != 0 {
		t.Errorf("dead letters %+v", dl.list())
	}
}

// docs/streams.md: "a customer's history of stage changes lists them in
// the order they were recorded"; the package doc: msgs are "the messages
// of one partition in log order". One customer's events in one batch,
// out of time order: the stored history equals recording them one by one
// in log order.
func TestContractOneBatchKeepsLogOrder(t *testing.T) {
	vals := []string{
		`{"id":"a3","customer_id":"c1","type":"order_completed","time":"2025-03-05T10:00:00Z","amount":100,"currency":"EUR"}`,
		`{"id":"a1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`,
		`{"id":"a2","customer_id":"c1","type":"signed_up","time":"2025-03-02T10:00:00Z"}`,
		`{"id":"a4","customer_id":"c1","type":"order_completed","time":"2025-03-09T10:00:00Z","amount":100,"currency":"EUR"}`,
	}
	ctx := context.Background()
	st := store.NewMemory()
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &zzLetters{}, stream.Options{})
	if _, err := p.Process(ctx, zzMsgs(0, vals...)); err != nil {
		t.Fatal(err)
	}
	ref := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), ref)
	for _, v := range vals {
		evs, err := stream.Decode(stream.FormatJSON, []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Record(ctx, evs[0]); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := st.Get(ctx, "c1")
	want, _ := ref.Get(ctx, "c1")
	if got.Stage != want.Stage || len(got.History) != len(want.History) {
		t.Fatalf("stage %s, history %+v; want %s, %+v", got.Stage, got.History, want.Stage, want.History)
	}
	for i := range got.History {
		if got.History[i].From != want.History[i].From || got.History[i].To != want.History[i].To {
			t.Errorf("history %d: %+v; want %+v", i, got.History[i], want.History[i])
		}
	}
}

// Processor: "It is safe for concurrent use: the engines run one batch
// per partition at a time, partitions in parallel." Package doc: "the
// log delivers at least once, and the library's identity ... makes a
// delivery seen twice harmless." Four partitions recorded in parallel,
// each batch delivered again half the time (a lost commit), into one
// store: the state equals the sequential replay, each event applied once.
func TestContractParallelPartitionsMatchReplay(t *testing.T) {
	plan, err := streamtest.NewPlan(streamtest.Config{Events: 3000, Customers: 300, Dup: 0.2, Invalid: 12, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := streamtest.Reference(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	const parts = 4
	byPart := make([][]stream.Message, parts)
	for i, m := range plan.Messages {
		q := stream.Partition(m.Key, parts)
		byPart[q] = append(byPart[q], stream.Message{Topic: "events", Partition: q, Offset: int64(len(byPart[q])), Key: []byte(m.Key), Value: m.Value})
		_ = i
	}
	st := store.NewMemory()
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(streamtest.Model(), st), dl, stream.Options{})
	var wg sync.WaitGroup
	for q := range parts {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(q), 1))
			ms := byPart[q]
			for len(ms) > 0 {
				n := min(1+rng.IntN(60), len(ms))
				for again := true; again; again = rng.IntN(2) == 0 {
					if _, err := p.Process(context.Background(), ms[:n]); err != nil {
						t.Error(err)
						return
					}
				}
				ms = ms[n:]
			}
		})
	}
	wg.Wait()
	r, err := streamtest.Compare(context.Background(), ref, st)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("%s\n%v", r, r.Problems)
	}
	if s := p.Stats(); s.Applied != int64(len(plan.Events)) {
		t.Errorf("Stats.Applied = %d; want each of the %d events applied once", s.Applied, len(plan.Events))
	}
	dead := map[string]bool{}
	for _, l := range dl.list() {
		dead[string(l.Message.Value)] = true
	}
	if len(dead) != plan.InvalidCount() {
		t.Errorf("%d distinct dead letters; want the %d invalid messages", len(dead), plan.InvalidCount())
	}
}

// Poison messages: "A message that does not decode, or holds an event
// that is invalid, is a dead letter as a whole (none of its events is
// recorded) ... It never blocks the partition"; DeadLetter.Err: "an error
// wrapping lifecycle.ErrInvalidEvent and holding a
// *lifecycle.ValidationError for a message that does not decode or holds
// an invalid event". The messages around them are recorded.
func TestContractPoisonMessagesDeadLettered(t *testing.T) {
	good := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`, id)
	}
	poison := map[string]string{
		"empty":           "",
		"whitespace":      "  \n",
		"invalid utf8":    "\xff\xfe\xfd",
		"utf8 in id":      strings.Replace(good("g"), `"g"`, "\"g\xc3\x28\"", 1),
		"not json":        "hello",
		"json number":     "42",
		"empty object":    "{}",
		"future":          strings.Replace(good("f"), "2025", "2200", 1),
		"half future":     "[" + good("h1") + "," + strings.Replace(good("h2"), "2025", "2200", 1) + "]",
		"segment no id":   `{"type":"track","event":"Signed Up","userId":"c1","timestamp":"2025-03-02T10:00:00Z"}`,
		"huge":            `{"id":"x","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z","attrs":{"k":"` + strings.Repeat("v", 1<<20) + `"}}`,
		"referral credit": `{"id":"rc","customer_id":"c1","type":"referral_converted","time":"2025-03-01T10:00:00Z"}`,
	}
	st := store.NewMemory()
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{})
	var vals []string
	names := map[int64]string{}
	for name, v := range poison {
		vals = append(vals, good("ok-"+name))
		names[int64(len(vals))] = name
		vals = append(vals, v)
	}
	res, err := p.Process(context.Background(), zzMsgs(0, vals...))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range dl.list() {
		name := names[l.Message.Offset]
		got[name] = true
		var ve *lifecycle.ValidationError
		if !errors.Is(l.Err, lifecycle.ErrInvalidEvent) || !errors.As(l.Err, &ve) {
			t.Errorf("%s: dead letter error %v; want ErrInvalidEvent with a ValidationError", name, l.Err)
		}
	}
	for name := range poison {
		if !got[name] {
			t.Errorf("%s: not a dead letter", name)
		}
	}
	c, err := st.Get(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Facts.Events() != int64(len(poison)) {
		t.Errorf("c1 holds %d events; want the %d good ones only", c.Facts.Events(), len(poison))
	}
	if c.Seen.Has("h1") {
		t.Errorf("h1 recorded: a dead letter's events must not be")
	}
	if res.DeadLetters != len(poison) || res.Events != len(poison) {
		t.Errorf("Process = %+v", res)
	}
}

// Options.Format: "how values without a HeaderFormat header are decoded";
// HeaderFormat "overrides Options.Format".
func TestContractFormatHeaderOverridesOptions(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), dl, stream.Options{Format: stream.FormatSegment})
	ms := zzMsgs(0, visit, segment, visit)
	ms[0].SetFormat("json") // told json: recorded
	ms[1].SetFormat("")     // no header: Options (segment)
	ms[2].Offset, ms[2].Value = 2, []byte(strings.Replace(visit, `"e1"`, `"e9"`, 1))
	// ms[2] has no header: Options says segment, so the JSON event form is refused.
	res, err := p.Process(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 2 || res.DeadLetters != 1 || len(dl.list()) != 1 || dl.list()[0].Message.Offset != 2 {
		t.Errorf("Process = %+v, dead letters %+v; want message 2 refused (JSON form read as Segment)", res, dl.list())
	}
}

// zzFailOne fails every write of one customer (a transient store error).
type zzFailOne struct {
	*store.Memory
	id string
}

func (f zzFailOne) Apply(ctx context.Context, ws []lifecycle.Write) {
	for i := range ws {
		if ws[i].ID == f.id {
			ws[i].Err = errors.New("connection reset")
			continue
		}
		f.Memory.Apply(ctx, ws[i:i+1])
	}
}

// Stats.Applied: "counts the events this consumer's writes applied, also
// those of a batch abandoned afterwards (not in Events)". A batch whose
// c1 is written while c2's writes fail until ctx ends.
func TestContractAbandonedBatchCountsApplied(t *testing.T) {
	st := zzFailOne{store.NewMemory(), "c2"}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), st), &zzLetters{}, stream.Options{Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := p.Process(ctx, zzMsgs(0, visit, segment)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Process = %v; want ctx's error", err)
	}
	if s := p.Stats(); s.Applied != 1 || s.Events != 0 || s.Batches != 0 || s.Retries == 0 {
		t.Errorf("Stats = %s; want applied=1 (c1's visit), events=0, batches=0, retries>0", s)
	}
}
