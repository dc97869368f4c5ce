package jetstream_test

// A review's tests of the JetStream engine, written from the
// documentation (go doc, docs/streams.md), against a nats-server embedded
// in the test process (as the package's own tests).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/store"
)

func zzConfig(name string) js.Config {
	lower := strings.ToLower(name)
	return js.Config{Stream: name, Subject: lower + ".events", DeadLetterSubject: lower + ".dead", Durable: lower, Partitions: 1,
		Batch: 10, FetchWait: 200 * time.Millisecond, AckWait: 30 * time.Second, PinnedTTL: 8 * time.Second,
		Processor: stream.Options{Backoff: 10 * time.Millisecond}}
}

func zzNew(t *testing.T, url string, st lifecycle.Store, cfg js.Config) *js.Consumer {
	t.Helper()
	_, jc := conn(t, url)
	c, err := js.NewConsumer(jc, lifecycle.NewTracker(streamtest.Model(), st), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func zzPublish(t *testing.T, url, subject string, data []byte, hdr map[string]string) {
	t.Helper()
	_, jsc := conn(t, url)
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	if _, err := jsc.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func zzEvent(id, cust, typ, day string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"customer_id":%q,"type":%q,"time":"2025-03-%sT10:00:00Z"}`, id, cust, typ, day)
}

func zzWait(d time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return false
}

// docs/streams.md, "Dead letters": a refused message "is published whole
// to the dead-letter ... subject (clm.dead.P in stream CLM_EVENTS_DEAD)
// with headers clm-error (the error's text ...) ... and never blocks the
// partition: one too large for the dead-letter topic or stream with these
// headers is published without its value, with clm-dropped giving the
// value's size". A 60 kB Segment array of 30,000 calls that are not
// objects: its error text is megabytes, too large even without the value.
func TestContractJetStreamLongErrorDoesNotBlockPartition(t *testing.T) {
	cfg := zzConfig("ZZLONG")
	url := startServer(t, cfg)
	poison := "[" + strings.TrimSuffix(strings.Repeat("1,", 30_000), ",") + "]"
	zzPublish(t, url, cfg.Subject+".0", []byte(poison), map[string]string{stream.HeaderFormat: "segment"})
	zzPublish(t, url, cfg.Subject+".0", zzEvent("e1", "c1", "site_visited", "01"), nil)
	logs := &streamtest.TailLog{}
	cfg.Processor.Logger = slog.New(slog.NewTextHandler(logs, nil))
	st := store.NewMemory()
	c := zzNew(t, url, st, cfg)
	streamtest.Start(t, c)
	if !zzWait(8*time.Second, func() bool { return c.Stats().Batches > 0 }) {
		t.Fatalf("after 8 s the batch holding a %d-byte Segment array is not done (%s): the partition is blocked retrying its dead letter; last log: %.400s",
			len(poison), c.Stats(), logs.Last())
	}
	if _, err := st.Get(context.Background(), "c1"); err != nil {
		t.Errorf("the message after the dead letter is not recorded: %v", err)
	}
}

type zzDown struct {
	*store.Memory
	tries atomic.Int64
}

func (d *zzDown) Apply(_ context.Context, ws []lifecycle.Write) {
	d.tries.Add(1)
	for i := range ws {
		ws[i].Err = errors.New("connection refused")
	}
}

// docs/streams.md: "a message acknowledged (JetStream) only after the
// store has committed its events"; "A consumer that stops (its context
// ends) abandons its batch in flight: ... JetStream negatively
// acknowledges it and unpins, so the next owner gets it at once." The
// store is down while consumer A runs; A stops; B gets the batch well
// before AckWait (30 s) or PinnedTTL (8 s).
func TestContractJetStreamStoreDownNakedToNextOwner(t *testing.T) {
	cfg := zzConfig("ZZDOWN")
	url := startServer(t, cfg)
	zzPublish(t, url, cfg.Subject+".0", zzEvent("e1", "c1", "site_visited", "01"), nil)
	zzPublish(t, url, cfg.Subject+".0", []byte("garbage"), nil)
	zzPublish(t, url, cfg.Subject+".0", zzEvent("e2", "c1", "signed_up", "02"), nil)
	down := &zzDown{Memory: store.NewMemory()}
	a := zzNew(t, url, down, cfg)
	ra := streamtest.Start(t, a)
	if !zzWait(10*time.Second, func() bool { return down.tries.Load() >= 3 }) {
		t.Fatalf("A never tried the store: %s", a.Stats())
	}
	ra.Halt(t)
	if s := a.Stats(); s.Batches != 0 {
		t.Errorf("A: %s; want no batch counted", s)
	}
	_, jsc := conn(t, url)
	cons, err := jsc.Consumer(context.Background(), cfg.Stream, cfg.Durable+"-0")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != 0 {
		t.Errorf("ack floor at stream sequence %d while the store was down; want nothing acknowledged", info.AckFloor.Stream)
	}
	st := store.NewMemory()
	b := zzNew(t, url, st, cfg)
	start := time.Now()
	streamtest.Start(t, b)
	if !zzWait(6*time.Second, func() bool { return b.Stats().Events >= 2 }) {
		t.Fatalf("B did not get A's abandoned batch within 6 s: %s", b.Stats())
	}
	t.Logf("B recorded the batch %s after it started", time.Since(start).Round(10*time.Millisecond))
	// A batch's events are counted before its dead letters.
	zzWait(5*time.Second, func() bool { return b.Stats().DeadLetters >= 1 })
	if s := b.Stats(); s.DeadLetters != 1 {
		t.Errorf("B: %s; want the garbage dead-lettered", s)
	}
}

type zzSizes struct {
	*store.Memory
	mu  sync.Mutex
	max int
}

func (s *zzSizes) Apply(ctx context.Context, ws []lifecycle.Write) {
	n := 0
	for _, w := range ws {
		n += len(w.Events)
	}
	s.mu.Lock()
	s.max = max(s.max, n)
	s.mu.Unlock()
	s.Memory.Apply(ctx, ws)
}

// Config.Batch: "the most messages of one partition recorded with one
// RecordBatch"; the history of one customer lists changes "in the order
// they were recorded" (log order). Stats.Lag ends at 0.
func TestContractJetStreamBatchSizeAndOrder(t *testing.T) {
	cfg := zzConfig("ZZBATCH")
	cfg.Batch = 3
	url := startServer(t, cfg)
	types := []string{"order_completed", "site_visited", "signed_up", "site_visited", "order_completed", "signed_up"}
	var evs []lifecycle.Event
	for i := range 12 {
		v := zzEvent(fmt.Sprintf("e%d", i), "c1", types[i%len(types)], fmt.Sprintf("%02d", 20-i))
		if strings.Contains(string(v), "order_completed") {
			v = []byte(strings.Replace(string(v), `}`, `,"amount":100,"currency":"EUR"}`, 1))
		}
		zzPublish(t, url, cfg.Subject+".0", v, nil)
		d, err := stream.Decode(stream.FormatJSON, v)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, d...)
	}
	st := &zzSizes{Memory: store.NewMemory()}
	c := zzNew(t, url, st, cfg)
	streamtest.Start(t, c)
	if !zzWait(10*time.Second, func() bool { return c.Stats().Events >= 12 }) {
		t.Fatalf("not all recorded: %s", c.Stats())
	}
	st.mu.Lock()
	if st.max > 3 {
		t.Errorf("one write carried %d events; Config.Batch is 3", st.max)
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
	// The lag is set after a batch's messages are acknowledged, which is
	// after its events are counted: wait for it.
	zzWait(10*time.Second, func() bool { l, ok := c.Stats().Lag[0]; return ok && l == 0 })
	if l, ok := c.Stats().Lag[0]; !ok || l != 0 {
		t.Errorf("Stats.Lag = %v; want partition 0 at 0", c.Stats().Lag)
	}
}

// docs/streams.md, "Dead letters": published "with headers clm-error ...
// and clm-source (topic/partition/offset) beside the message's own
// headers (its clm-format and any others; on JetStream not NATS's own,
// Nats-…)", "never blocks the partition"; DeadLetterHeader: "a message's
// header of that name is not copied to its dead letter".
func TestContractJetStreamPoisonMessages(t *testing.T) {
	cfg := zzConfig("ZZPOISON")
	cfg.Batch = 4
	url := startServer(t, cfg)
	subj := cfg.Subject + ".0"
	type msg struct {
		data []byte
		hdr  map[string]string
	}
	poison := []msg{
		{nil, nil},
		{[]byte("\xff\xfe{"), nil},
		{zzEvent("x1", "c1", "site_visited", "01"), map[string]string{stream.HeaderFormat: "xml"}},
		{zzEvent("x2", "c1", "site_visited", "01"), map[string]string{stream.HeaderFormat: "segment"}},
		{[]byte("nope"), map[string]string{"x-unknown": "1", stream.HeaderError: "forged", stream.HeaderSource: "forged/0/0", stream.HeaderDropped: "7"}},
		{[]byte(`{"id":"x3","customer_id":"c1","type":"site_visited","time":"2999-01-01T00:00:00Z"}`), map[string]string{"Nats-Msg-Id": "abc"}},
	}
	var seqs []uint64
	seq := uint64(0)
	for i, p := range poison {
		zzPublish(t, url, subj, zzEvent(fmt.Sprintf("g%d", i), "c1", "site_visited", "01"), nil)
		seq++
		zzPublish(t, url, subj, p.data, p.hdr)
		seq++
		seqs = append(seqs, seq)
	}
	zzPublish(t, url, subj, zzEvent("last", "c1", "site_visited", "02"), nil)
	st := store.NewMemory()
	c := zzNew(t, url, st, cfg)
	streamtest.Start(t, c)
	total := int64(2*len(poison) + 1)
	if !zzWait(10*time.Second, func() bool { return c.Stats().Messages >= total }) {
		t.Fatalf("not every message processed: %s", c.Stats())
	}
	// A batch's messages are counted before its events and dead letters.
	zzWait(10*time.Second, func() bool {
		s := c.Stats()
		return s.DeadLetters >= int64(len(poison)) && s.Events >= int64(len(poison)+1)
	})
	if s := c.Stats(); s.DeadLetters != int64(len(poison)) || s.Events != int64(len(poison)+1) {
		t.Errorf("Stats = %s", s)
	}
	_, jsc := conn(t, url)
	ds, err := jsc.Stream(context.Background(), cfg.Stream+"_DEAD")
	if err != nil {
		t.Fatal(err)
	}
	for i := range poison {
		m, err := ds.GetMsg(context.Background(), uint64(i+1))
		if err != nil {
			t.Fatalf("dead letter %d: %v", i, err)
		}
		want := fmt.Sprintf("%s/0/%d", subj, seqs[i])
		if v := m.Header.Values(stream.HeaderSource); len(v) != 1 || v[0] != want {
			t.Errorf("dead letter %d: %s %q; want exactly %q", i, stream.HeaderSource, v, want)
		}
		if v := m.Header.Values(stream.HeaderError); len(v) != 1 || v[0] == "forged" || !strings.Contains(v[0], "invalid event") {
			t.Errorf("dead letter %d: %s %q", i, stream.HeaderError, v)
		}
		if v := m.Header.Values(stream.HeaderDropped); len(v) != 0 {
			t.Errorf("dead letter %d: %s %q; it was not too large", i, stream.HeaderDropped, v)
		}
		if string(m.Data) != string(poison[i].data) {
			t.Errorf("dead letter %d: value %q; want %q", i, m.Data, poison[i].data)
		}
		for k, v := range poison[i].hdr {
			switch {
			case stream.DeadLetterHeader(k):
			case strings.HasPrefix(k, "Nats-"):
				if m.Header.Get(k) != "" {
					t.Errorf("dead letter %d kept NATS's header %s", i, k)
				}
			case m.Header.Get(k) != v:
				t.Errorf("dead letter %d lacks the message's header %s=%q: %v", i, k, v, m.Header)
			}
		}
		if m.Subject != cfg.DeadLetterSubject+".0" {
			t.Errorf("dead letter %d on %q", i, m.Subject)
		}
	}
	cu, err := st.Get(context.Background(), "c1")
	if err != nil || cu.Facts.Events() != int64(len(poison)+1) {
		t.Errorf("c1 = %v, %v", cu, err)
	}
}

// jetstream.ErrConfig: "wrapped by the errors of Setup, NewConsumer and
// NewProducer for a configuration they cannot use; the error names the
// field." Names JetStream cannot use (a stream or durable name with a
// dot or a space, a subject prefix with a wildcard).
func TestContractJetStreamUnusableNames(t *testing.T) {
	url := newServer(t)
	_, jsc := conn(t, url)
	tr := lifecycle.NewTracker(streamtest.Model(), store.NewMemory())
	for _, tc := range []struct {
		field string
		cfg   js.Config
	}{
		{"Stream", js.Config{Partitions: 1, Stream: "A.B", DeadLetterStream: "AB_DEAD", Subject: "zz1.events", DeadLetterSubject: "zz1.dead", Durable: "zz1"}},
		{"Subject", js.Config{Partitions: 1, Stream: "ZZ2", Subject: "zz2.>", DeadLetterSubject: "zz2dead", Durable: "zz2"}},
		{"Durable", js.Config{Partitions: 1, Stream: "ZZ3", Subject: "zz3.events", DeadLetterSubject: "zz3.dead", Durable: "a b"}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			errSetup := js.Setup(context.Background(), jsc, tc.cfg)
			_, errNew := js.NewConsumer(jsc, tr, tc.cfg)
			_, errProd := js.NewProducer(jsc, tc.cfg)
			if errSetup == nil {
				t.Fatalf("Setup(%s %+v) = nil", tc.field, tc.cfg)
			}
			if !errors.Is(errSetup, js.ErrConfig) {
				t.Errorf("Setup = %v (NewConsumer %v, NewProducer %v); want an error wrapping ErrConfig naming Config.%s", errSetup, errNew, errProd, tc.field)
			}
		})
	}
}
