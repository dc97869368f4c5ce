package kafka_test

// A review's tests of the Kafka engine, written from the documentation
// (go doc, docs/streams.md), against franz-go's in-process kfake cluster
// (as the package's own tests).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/store"
)

// zzCluster is a kfake cluster with topic "events" of n partitions and
// "events.dead".
func zzCluster(t *testing.T, n int32) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(n, topic), kfake.SeedTopics(1, deadTopic),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func zzConsumer(t *testing.T, brokers []string, group string, batch int, st lifecycle.Store) *kafka.Consumer {
	t.Helper()
	cfg := consumerConfig(brokers, group, batch)
	cfg.Processor.Backoff = 10 * time.Millisecond
	c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func zzProduce(t *testing.T, brokers []string, recs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs := cl.ProduceSync(context.Background(), recs...)
	if err := rs.FirstErr(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func zzEvent(id, cust, typ, day string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"customer_id":%q,"type":%q,"time":"2025-03-%sT10:00:00Z"}`, id, cust, typ, day)
}

// zzDeadLetters reads every record of the dead-letter topic, waiting up
// to wait for at least want of them.
func zzDeadLetters(t *testing.T, brokers []string, want int, wait time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(deadTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for deadline := time.Now().Add(wait); time.Now().Before(deadline) && len(out) < want; {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		out = append(out, fs.Records()...)
	}
	return out
}

func zzWait(t *testing.T, what string, d time.Duration, ok func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return false
}

// docs/streams.md, "Dead letters": a refused message "is published whole
// to the dead-letter topic (TOPIC.dead) ... with headers clm-error (the
// error's text ...) ... and never blocks the partition: one too large for
// the dead-letter topic or stream with these headers is published
// without its value, with clm-dropped giving the value's size". A 60 kB
// Segment array of 30,000 calls that are not objects: its error text
// (one line per call) is megabytes, so the dead letter is too large even
// without its value. The valid message after it must still be recorded.
func TestContractKafkaLongErrorDoesNotBlockPartition(t *testing.T) {
	brokers := zzCluster(t, 1)
	poison := "[" + strings.TrimSuffix(strings.Repeat("1,", 30_000), ",") + "]"
	zzProduce(t, brokers,
		&kgo.Record{Key: []byte("c1"), Value: []byte(poison), Headers: []kgo.RecordHeader{{Key: stream.HeaderFormat, Value: []byte("segment")}}},
		&kgo.Record{Key: []byte("c1"), Value: zzEvent("e1", "c1", "site_visited", "01")})
	st := store.NewMemory()
	logs := &streamtest.TailLog{}
	cfg := consumerConfig(brokers, "zz-long", 10)
	cfg.Processor.Backoff = 10 * time.Millisecond
	cfg.Processor.Logger = slog.New(slog.NewTextHandler(logs, nil))
	c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), cfg)
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Start(t, c)
	if !zzWait(t, "c1", 10*time.Second, func() bool { return c.Stats().Batches > 0 }) {
		_, err := st.Get(context.Background(), "c1")
		t.Fatalf("after 10 s the batch holding a %d-byte Segment array (its error is %d bytes) is not done (%s; c1 stored: %v): the partition is blocked retrying a dead letter that is too large even without its value; last log: %.400s",
			len(poison), zzErrLen(poison), c.Stats(), err == nil, logs.Last())
	}
	recs := zzDeadLetters(t, brokers, 1, 5*time.Second)
	if len(recs) != 1 {
		t.Fatalf("%d dead letters; want 1", len(recs))
	}
	if _, err := st.Get(context.Background(), "c1"); err != nil {
		t.Errorf("the message after the dead letter is not recorded: %v", err)
	}
}

func zzErrLen(v string) int {
	_, err := stream.Decode(stream.FormatSegment, []byte(v))
	if err == nil {
		return 0
	}
	return len(err.Error())
}

// zzDown is a store that is down (every write fails) until up is set.
type zzDown struct {
	*store.Memory
	up    atomic.Bool
	tries atomic.Int64
}

func (d *zzDown) Apply(ctx context.Context, ws []lifecycle.Write) {
	d.tries.Add(1)
	if !d.up.Load() {
		for i := range ws {
			ws[i].Err = errors.New("connection refused")
		}
		return
	}
	d.Memory.Apply(ctx, ws)
}

// docs/streams.md: "An offset is committed (Kafka) ... only after the
// store has committed its events", and "A consumer that stops (its
// context ends) abandons its batch in flight: Kafka commits nothing for
// it and leaves the group". The store is down while a consumer runs; it
// stops; nothing is committed, and the next owner records the messages.
func TestContractKafkaStoreDownCommitsNothing(t *testing.T) {
	brokers := zzCluster(t, 1)
	zzProduce(t, brokers,
		&kgo.Record{Key: []byte("c1"), Value: zzEvent("e1", "c1", "site_visited", "01")},
		&kgo.Record{Key: []byte("c1"), Value: []byte("garbage")},
		&kgo.Record{Key: []byte("c1"), Value: zzEvent("e2", "c1", "signed_up", "02")})
	down := &zzDown{Memory: store.NewMemory()}
	c := zzConsumer(t, brokers, "zz-down", 10, down)
	r := streamtest.Start(t, c)
	if !zzWait(t, "tries", 10*time.Second, func() bool { return down.tries.Load() >= 3 }) {
		t.Fatalf("the store was not tried: %s", c.Stats())
	}
	r.Halt(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(context.Background(), "zz-down")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); ok && o.At >= 0 {
		t.Errorf("offset %d committed while the store was down", o.At)
	}
	if s := c.Stats(); s.Batches != 0 || s.Events != 0 {
		t.Errorf("Stats = %s; want no batch counted", s)
	}
	// The dead letter of the batch is not required yet; the next owner
	// records everything.
	st := store.NewMemory()
	c2 := zzConsumer(t, brokers, "zz-down", 10, st)
	streamtest.Start(t, c2)
	if !zzWait(t, "c2", 10*time.Second, func() bool { return c2.Stats().Events >= 2 }) {
		t.Fatalf("the next owner did not record the batch: %s", c2.Stats())
	}
	cu, err := st.Get(context.Background(), "c1")
	if err != nil || cu.Facts.Events() != 2 {
		t.Errorf("c1 = %+v, %v", cu, err)
	}
}

// zzSizes records the largest number of events one Apply carried.
type zzSizes struct {
	*store.Memory
	mu   sync.Mutex
	max  int
	hits int
}

func (s *zzSizes) Apply(ctx context.Context, ws []lifecycle.Write) {
	n := 0
	for _, w := range ws {
		n += len(w.Events)
	}
	s.mu.Lock()
	s.max = max(s.max, n)
	s.hits++
	s.mu.Unlock()
	s.Memory.Apply(ctx, ws)
}

// Config.Batch: "the most messages of one partition recorded with one
// RecordBatch"; docs/streams.md: a customer's history "lists them in the
// order they were recorded", and the engines give "each partition's
// messages, in order, to a Processor". One customer's 12 events, out of
// time order, in batches of 3: no write carries more than 3 events, and
// the history equals recording them one by one in log order. Stats.Lag
// ends at 0.
func TestContractKafkaBatchSizeAndOrder(t *testing.T) {
	brokers := zzCluster(t, 1)
	types := []string{"order_completed", "site_visited", "signed_up", "site_visited", "order_completed", "signed_up"}
	var recs []*kgo.Record
	var evs []lifecycle.Event
	for i := range 12 {
		day := fmt.Sprintf("%02d", 20-i) // later events first
		v := zzEvent(fmt.Sprintf("e%d", i), "c1", types[i%len(types)], day)
		if strings.Contains(string(v), "order_completed") {
			v = []byte(strings.Replace(string(v), `}`, `,"amount":100,"currency":"EUR"}`, 1))
		}
		recs = append(recs, &kgo.Record{Key: []byte("c1"), Value: v})
		d, err := stream.Decode(stream.FormatJSON, v)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, d...)
	}
	zzProduce(t, brokers, recs...)
	st := &zzSizes{Memory: store.NewMemory()}
	c := zzConsumer(t, brokers, "zz-batch", 3, st)
	streamtest.Start(t, c)
	if !zzWait(t, "all", 10*time.Second, func() bool { return c.Stats().Events >= 12 }) {
		t.Fatalf("not all recorded: %s", c.Stats())
	}
	st.mu.Lock()
	if st.max > 3 {
		t.Errorf("one write carried %d events; Config.Batch is 3 messages of one event each", st.max)
	}
	st.mu.Unlock()
	ref := store.NewMemory()
	tr := lifecycle.NewTracker(streamtest.Model(), ref)
	for _, e := range evs {
		if _, err := tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := st.Get(context.Background(), "c1")
	want, _ := ref.Get(context.Background(), "c1")
	if len(got.History) != len(want.History) {
		t.Fatalf("history %+v; want %+v", got.History, want.History)
	}
	for i := range got.History {
		if got.History[i].To != want.History[i].To || got.History[i].Cause != want.History[i].Cause {
			t.Errorf("history %d: %+v; want %+v", i, got.History[i], want.History[i])
		}
	}
	zzWait(t, "lag", 3*time.Second, func() bool { return c.Stats().Lag[0] == 0 })
	if l, ok := c.Stats().Lag[0]; !ok || l != 0 {
		t.Errorf("Stats.Lag = %v; want partition 0 at 0", c.Stats().Lag)
	}
}

// docs/streams.md, "Dead letters": published "with headers clm-error (the
// error's text ...) and clm-source (topic/partition/offset) beside the
// message's own headers (its clm-format and any others ...)", "never
// blocks the partition"; DeadLetterHeader: "a message's header of that
// name is not copied to its dead letter"; Message.SetFormat: a header
// value ParseFormat refuses is "not guessed at". Poison messages of many
// kinds, with forged dead-letter headers, between valid ones.
func TestContractKafkaPoisonMessages(t *testing.T) {
	brokers := zzCluster(t, 1)
	forged := []kgo.RecordHeader{{Key: stream.HeaderError, Value: []byte("forged")}, {Key: stream.HeaderSource, Value: []byte("forged/0/0")}, {Key: stream.HeaderDropped, Value: []byte("7")}}
	poison := []*kgo.Record{
		{Key: []byte("c1"), Value: nil},                 // tombstone: no value
		{Key: []byte("c1"), Value: []byte{}},            // empty value
		{Key: []byte("c1"), Value: []byte("\xff\xfe{")}, // not UTF-8
		{Key: []byte("c1"), Value: zzEvent("x1", "c1", "site_visited", "01"), Headers: []kgo.RecordHeader{{Key: stream.HeaderFormat, Value: []byte("JSON")}}}, // wrong format header
		{Key: []byte("c1"), Value: zzEvent("x2", "c1", "site_visited", "01"), Headers: []kgo.RecordHeader{{Key: stream.HeaderFormat, Value: []byte("segment")}}},
		{Key: []byte("c1"), Value: []byte("nope"), Headers: append([]kgo.RecordHeader{{Key: "x-unknown", Value: []byte("\x00\xff")}}, forged...)},
		{Key: nil, Value: []byte(`{"id":"x3","customer_id":"c1","type":"site_visited","time":"2999-01-01T00:00:00Z"}`)},
	}
	var recs []*kgo.Record
	for i, p := range poison {
		recs = append(recs, &kgo.Record{Key: []byte("c1"), Value: zzEvent(fmt.Sprintf("g%d", i), "c1", "site_visited", "01"),
			Headers: []kgo.RecordHeader{{Key: "x-unknown", Value: []byte("1")}}})
		recs = append(recs, p)
	}
	recs = append(recs, &kgo.Record{Key: []byte("c1"), Value: zzEvent("last", "c1", "site_visited", "02")})
	zzProduce(t, brokers, recs...)
	st := store.NewMemory()
	c := zzConsumer(t, brokers, "zz-poison", 5, st)
	streamtest.Start(t, c)
	if !zzWait(t, "all", 15*time.Second, func() bool { return c.Stats().Messages >= int64(len(recs)) }) {
		t.Fatalf("not every message processed: %s", c.Stats())
	}
	// A batch's messages are counted before its events and dead letters.
	zzWait(t, "counts", 10*time.Second, func() bool {
		s := c.Stats()
		return s.DeadLetters >= int64(len(poison)) && s.Events >= int64(len(poison)+1)
	})
	if s := c.Stats(); s.DeadLetters != int64(len(poison)) || s.Events != int64(len(poison)+1) {
		t.Errorf("Stats = %s; want %d dead letters and %d events", s, len(poison), len(poison)+1)
	}
	got := zzDeadLetters(t, brokers, len(poison), 10*time.Second)
	if len(got) != len(poison) {
		t.Fatalf("%d dead letters; want %d", len(got), len(poison))
	}
	for i, r := range got {
		want := recs[2*i+1]
		var errs, srcs []string
		other := map[string]string{}
		for _, h := range r.Headers {
			switch h.Key {
			case stream.HeaderError:
				errs = append(errs, string(h.Value))
			case stream.HeaderSource:
				srcs = append(srcs, string(h.Value))
			case stream.HeaderDropped:
				t.Errorf("dead letter %d has %s %q: the message was not too large", i, h.Key, h.Value)
			default:
				other[h.Key] = string(h.Value)
			}
		}
		wantSrc := fmt.Sprintf("%s/0/%d", topic, want.Offset)
		if len(srcs) != 1 || srcs[0] != wantSrc {
			t.Errorf("dead letter %d: %s %q; want exactly %q", i, stream.HeaderSource, srcs, wantSrc)
		}
		if len(errs) != 1 || errs[0] == "forged" || !strings.Contains(errs[0], "invalid event") {
			t.Errorf("dead letter %d: %s %q; want exactly the refusing error", i, stream.HeaderError, errs)
		}
		if string(r.Value) != string(want.Value) || string(r.Key) != string(want.Key) {
			t.Errorf("dead letter %d: key %q value %q; want the message whole (%q, %q)", i, r.Key, r.Value, want.Key, want.Value)
		}
		for _, h := range want.Headers {
			if !stream.DeadLetterHeader(h.Key) && other[h.Key] != string(h.Value) {
				t.Errorf("dead letter %d lacks the message's header %s=%q (has %q)", i, h.Key, h.Value, other)
			}
		}
	}
	cu, err := st.Get(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if cu.Facts.Events() != int64(len(poison)+1) {
		t.Errorf("c1 holds %d events; want %d", cu.Facts.Events(), len(poison)+1)
	}
}

// Consumer.Run: "It returns nil when ctx ended it, and an error when
// called twice".
func TestContractKafkaRunTwice(t *testing.T) {
	brokers := zzCluster(t, 1)
	c := zzConsumer(t, brokers, "zz-twice", 10, store.NewMemory())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	// Wait until the first Run runs (it records a batch), instead of a
	// fixed sleep that a loaded machine may outlast before the goroutine
	// starts, making the "second" Run the first.
	zzProduce(t, brokers, &kgo.Record{Key: []byte("c1"), Value: zzEvent("e1", "c1", "site_visited", "01")})
	if !zzWait(t, "the first Run", 15*time.Second, func() bool { return c.Stats().Batches > 0 }) {
		cancel()
		t.Fatalf("the first Run recorded nothing in 15 s: %s", c.Stats())
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	if err := c.Run(ctx2); err == nil {
		t.Errorf("a second Run returned nil; want an error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v after its ctx ended; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its ctx ended")
	}
}

// docs/streams.md: "a message delivered again (after a crash, a
// rebalance, a lost acknowledgement) is recorded again, and the store's
// identity check makes it a duplicate". A second group reading the whole
// topic again into the same store (every message redelivered) applies
// nothing; the state is unchanged.
func TestContractKafkaReplayAllDuplicates(t *testing.T) {
	brokers := zzCluster(t, 3)
	plan, err := streamtest.NewPlan(streamtest.Config{Events: 600, Customers: 60, Dup: 0.2, Invalid: 6, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := streamtest.Reference(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := kafka.NewProducer(brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := pr.Send(context.Background(), plan.Messages)
	pr.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pos {
		if want := stream.Partition(plan.Messages[i].Key, 3); p.Partition != want {
			t.Fatalf("message %d on partition %d; stream.Partition says %d", i, p.Partition, want)
		}
	}
	st := store.NewMemory()
	a := zzConsumer(t, brokers, "zz-a", 50, st)
	ra := streamtest.Start(t, a)
	n := int64(len(plan.Messages))
	if !zzWait(t, "a", 20*time.Second, func() bool { return a.Stats().Messages >= n }) {
		t.Fatalf("a: %s", a.Stats())
	}
	ra.Halt(t)
	b := zzConsumer(t, brokers, "zz-b", 50, st)
	streamtest.Start(t, b)
	if !zzWait(t, "b", 20*time.Second, func() bool { return b.Stats().Messages >= n }) {
		t.Fatalf("b: %s", b.Stats())
	}
	// A batch's messages are counted before its events, and its events
	// before its duplicates: wait, on one snapshot, until every event of
	// the first pass is counted a duplicate, and check that snapshot.
	total := a.Stats().Events
	var sb stream.Stats
	zzWait(t, "b's counts", 10*time.Second, func() bool { sb = b.Stats(); return sb.Duplicates >= total })
	if sb.Applied != 0 || sb.Duplicates != sb.Events || sb.Events != total {
		t.Errorf("replay: %s; want every one of the first pass's %d events a duplicate", sb, total)
	}
	if s := a.Stats(); s.Applied != int64(len(plan.Events)) {
		t.Errorf("first pass applied %d; want %d", s.Applied, len(plan.Events))
	}
	streamtest.Check(t, ref, st)
	_ = strconv.Itoa
}
