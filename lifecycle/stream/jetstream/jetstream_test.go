package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/store"
)

const partitions = 12

// childEnv, when set, makes the test binary a consumer (see TestKill9):
// its value is the JSON of a childConfig.
const childEnv = "CLM_STREAM_JETSTREAM_CHILD"

type childConfig struct {
	NATS        string
	URL, Prefix string
	Prefer      []int
}

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(streamtest.RunChild(raw, func(ctx context.Context, cfg childConfig) (streamtest.Runner, func(), error) {
			st, err := streamtest.OpenSQL(ctx, cfg.URL, cfg.Prefix)
			if err != nil {
				return nil, nil, err
			}
			nc, jsc, err := connect(cfg.NATS)
			if err != nil {
				_ = st.Close()
				return nil, nil, err
			}
			c, err := js.NewConsumer(jsc, lifecycle.NewTracker(streamtest.Model(), st), config(cfg.Prefer))
			if err != nil {
				nc.Close()
				_ = st.Close()
				return nil, nil, err
			}
			return c, func() { nc.Close(); _ = st.Close() }, nil
		}))
	}
	os.Exit(m.Run())
}

// newServer starts a NATS server with JetStream in this process and sets
// the streams and consumers up; it returns its URL.
func newServer(t testing.TB) string {
	t.Helper()
	return startServer(t, config(nil))
}

// startServer starts a NATS server with JetStream in this process and
// sets up cfg's streams and consumers; it returns its URL.
func startServer(t testing.TB, cfg js.Config) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server is not ready after 10 s")
	}
	_, jsc := conn(t, s.ClientURL())
	if err := js.Setup(context.Background(), jsc, cfg); err != nil {
		t.Fatal(err)
	}
	return s.ClientURL()
}

func connect(url string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, nil, err
	}
	jsc, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, jsc, nil
}

func conn(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, jsc, err := connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, jsc
}

func config(prefer []int) js.Config {
	return js.Config{
		Partitions: partitions, Batch: 200, Prefer: prefer,
		FetchWait: 200 * time.Millisecond, AckWait: 3 * time.Second, PinnedTTL: time.Second, StandbyDelay: 2 * time.Second,
	}
}

// share is the partitions member i of n prefers.
func share(i, n int) []int {
	var out []int
	for p := i; p < partitions; p += n {
		out = append(out, p)
	}
	return out
}

func start(t testing.TB, st lifecycle.Store, url string, prefer []int) *streamtest.Running {
	t.Helper()
	return startWith(t, st, url, config(prefer))
}

func startWith(t testing.TB, st lifecycle.Store, url string, cfg js.Config) *streamtest.Running {
	t.Helper()
	_, jsc := conn(t, url)
	c, err := js.NewConsumer(jsc, lifecycle.NewTracker(streamtest.Model(), st), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return streamtest.Start(t, c)
}

// send publishes the plan's messages and returns the sources
// ("subject/partition/sequence") of the invalid ones.
func send(t testing.TB, url string, p *streamtest.Plan) map[string]bool {
	t.Helper()
	_, jsc := conn(t, url)
	pr, err := js.NewProducer(jsc, config(nil))
	if err != nil {
		t.Fatal(err)
	}
	pos, err := pr.Send(context.Background(), p.Messages)
	if err != nil {
		t.Fatal(err)
	}
	invalid := map[string]bool{}
	for i, ps := range pos {
		if want := stream.Partition(p.Messages[i].Key, partitions); ps.Partition != want {
			t.Fatalf("message %d (key %q) went to partition %d; stream.Partition says %d", i, p.Messages[i].Key, ps.Partition, want)
		}
		if p.Invalid[i] {
			invalid[fmt.Sprintf("clm.events.%d/%d/%d", ps.Partition, ps.Partition, ps.Offset)] = true
		}
	}
	return invalid
}

// waitAcked waits until every partition's consumer has nothing pending
// and nothing waiting for an acknowledgement.
func waitAcked(t testing.TB, url string, timeout time.Duration, rs ...*streamtest.Running) {
	t.Helper()
	_, jsc := conn(t, url)
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	left := ""
	for time.Now().Before(deadline) {
		left = ""
		for p := range partitions {
			c, err := jsc.Consumer(ctx, "CLM_EVENTS", fmt.Sprintf("clm-%d", p))
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				left += fmt.Sprintf(" %d:%d+%d", p, info.NumPending, info.NumAckPending)
			}
		}
		if left == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var stats []string
	for _, r := range rs {
		stats = append(stats, r.R.Stats().String())
	}
	t.Fatalf("after %s, partitions with pending+unacknowledged messages:%s; consumers: %s", timeout, left, strings.Join(stats, "; "))
}

// deadLetters reads the dead-letter stream: the number of messages per
// source. Every message must carry the error and source headers.
func deadLetters(t testing.TB, url string) map[string]int {
	t.Helper()
	_, jsc := conn(t, url)
	ctx := context.Background()
	s, err := jsc.Stream(ctx, "CLM_EVENTS_DEAD")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		why, source := m.Header.Get(stream.HeaderError), m.Header.Get(stream.HeaderSource)
		if !strings.Contains(why, "invalid event") || source == "" {
			t.Errorf("dead letter %q: headers %s=%q, %s=%q", m.Data, stream.HeaderError, why, stream.HeaderSource, source)
		}
		if !strings.HasPrefix(m.Subject, "clm.dead.") {
			t.Errorf("dead letter on subject %q", m.Subject)
		}
		got[source]++
	}
	return got
}

// TestGroup: three consumers, each preferring a third of the partitions,
// record the plan (duplicates, shuffled, invalid messages) into one
// Memory store; the result equals the sequential replay, every event is
// applied exactly once over the three, and the dead letters are exactly
// the invalid messages (each at least once).
func TestGroup(t *testing.T) {
	url := newServer(t)
	p, ref := streamtest.Load(t)
	invalid := send(t, url, p)
	st := store.NewMemory()
	began := time.Now()
	rs := []*streamtest.Running{start(t, st, url, share(0, 3)), start(t, st, url, share(1, 3)), start(t, st, url, share(2, 3))}
	waitAcked(t, url, streamtest.Timeout(2*time.Minute), rs...)
	elapsed := time.Since(began)
	for _, r := range rs {
		r.Halt(t)
	}
	streamtest.Check(t, ref, st)
	if n := streamtest.Applied(rs...); n != int64(len(p.Events)) {
		t.Errorf("the consumers applied %d events; the plan has %d distinct valid events", n, len(p.Events))
	}
	for i, r := range rs {
		if r.R.Stats().Batches == 0 {
			t.Errorf("consumer %d recorded no batch: the partitions were not shared", i)
		}
	}
	// (Repeats allowed: on a loaded machine a batch can outlast the
	// tests' 3 s AckWait, and the server then delivers it again, dead
	// letters included; docs/streams.md says they are at least once.)
	streamtest.CheckDead(t, deadLetters(t, url), invalid, true)
	t.Log("Memory: " + streamtest.Throughput(p, len(rs), elapsed))
}

// TestRebalance: a second consumer starts while the first is in the
// middle of a batch, then the first stops in the middle of another; the
// second takes its partitions over. Nothing is lost or doubled, and every
// event is applied exactly once.
func TestRebalance(t *testing.T) {
	url := newServer(t)
	p, ref := streamtest.Load(t)
	invalid := send(t, url, p)
	st := streamtest.NewGated(30 * time.Millisecond)
	a := start(t, st, url, nil)
	for range 3 {
		st.InFlight(t)
	}
	b := start(t, st, url, nil) // joins while a is writing: on standby
	time.Sleep(500 * time.Millisecond)
	st.InFlight(t)
	a.Halt(t) // stops, abandoning the batch it is writing
	bBefore := b.R.Stats().Batches
	waitAcked(t, url, streamtest.Timeout(2*time.Minute), a, b)
	b.Halt(t)
	streamtest.Check(t, ref, st.Memory)
	if n := streamtest.Applied(a, b); n != int64(len(p.Events)) {
		t.Errorf("the consumers applied %d events; the plan has %d distinct valid events", n, len(p.Events))
	}
	if b.R.Stats().Batches <= bBefore {
		t.Errorf("the second consumer recorded no batch after the first stopped")
	}
	streamtest.CheckDead(t, deadLetters(t, url), invalid, true)
	t.Logf("a: %s\nb: %s", a.R.Stats(), b.R.Stats())
}

// TestKill9: three consumers (two here, one in a child process), each
// preferring a third of the partitions, record the plan into one SQL
// store (PostgreSQL when CLM_POSTGRES_DSN is set, else SQLite); the child
// is killed with SIGKILL mid-run and restarted. The final state equals
// the sequential replay and the dead letters are exactly the invalid
// messages (a message may be dead-lettered again after the kill).
func TestKill9(t *testing.T) {
	url := newServer(t)
	p, ref := streamtest.Load(t)
	invalid := send(t, url, p)
	st, dsn, prefix := streamtest.SQL(t, "jetstream")
	cfg := childConfig{NATS: url, URL: dsn, Prefix: prefix, Prefer: share(0, 3)}
	began := time.Now()
	c1 := streamtest.StartChild(t, childEnv, cfg)
	c1.WaitBatches(t, 1) // the child holds its partitions before the others' standby pulls begin
	a := start(t, st, url, share(1, 3))
	b := start(t, st, url, share(2, 3))
	c1.WaitBatches(t, streamtest.KillAfter(p, 200))
	c1.Signal(syscall.SIGKILL)
	killed := time.Since(began)
	c2 := streamtest.StartChild(t, childEnv, cfg)
	waitAcked(t, url, streamtest.Timeout(4*time.Minute), a, b)
	elapsed := time.Since(began)
	c2.Signal(syscall.SIGTERM)
	a.Halt(t)
	b.Halt(t)
	streamtest.Check(t, ref, st)
	streamtest.CheckDead(t, deadLetters(t, url), invalid, true)
	t.Logf("%s: %s; one killed after %s and restarted", streamtest.Engine(dsn), streamtest.Throughput(p, 3, elapsed), killed.Round(time.Millisecond))
}

// BenchmarkThroughput measures the plan recorded by one consumer and by
// three (each preferring a third of the partitions) into the SQL store of
// streamtest.SQL. An op sends the plan to a new server (outside the
// timer) and consumes all of it; run it with -benchtime 1x
// (CLM_STREAM_FULL=1: the scale).
func BenchmarkThroughput(b *testing.B) {
	p, ref := streamtest.Load(b)
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("consumers=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				url := newServer(b)
				send(b, url, p)
				st, _, _ := streamtest.SQL(b, "jstp")
				b.StartTimer()
				var rs []*streamtest.Running
				for i := range n {
					cfg := config(share(i, n))
					cfg.Batch = 500
					rs = append(rs, startWith(b, st, url, cfg))
				}
				waitAcked(b, url, streamtest.Timeout(4*time.Minute), rs...)
				b.StopTimer()
				for _, r := range rs {
					r.Halt(b)
				}
				streamtest.Check(b, ref, st)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*len(p.Messages))/b.Elapsed().Seconds(), "messages/s")
		})
	}
}

// TestConfig: the constructors name the field they refuse.
func TestConfig(t *testing.T) {
	url := newServer(t)
	_, jsc := conn(t, url)
	tr := lifecycle.NewTracker(streamtest.Model(), store.NewMemory())
	for _, tc := range []struct {
		cfg  js.Config
		want string
	}{
		{js.Config{}, "Config.Partitions 0"},
		{js.Config{Partitions: 2, AckWait: -time.Second}, "Config.AckWait -1s"},
		{js.Config{Partitions: 2, Batch: -1}, "Config.Batch -1"},
		// A pull that ends before the server answers read nothing, for
		// ever (found by an audit).
		{js.Config{Partitions: 2, FetchWait: time.Microsecond}, "Config.FetchWait 1µs"},
		{js.Config{Partitions: 2, FetchWait: js.MinFetchWait - 1}, "Config.FetchWait 9.999999ms"},
		{js.Config{Partitions: 2, Prefer: []int{2}}, "Config.Prefer holds partition 2"},
		{js.Config{Partitions: 2, Subject: "x", DeadLetterSubject: "x"}, `Config.DeadLetterSubject "x"`},
	} {
		_, err := js.NewConsumer(jsc, tr, tc.cfg)
		if !errors.Is(err, js.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewConsumer(%+v) = %v; want an error wrapping ErrConfig naming %s", tc.cfg, err, tc.want)
		}
		if err := js.Setup(context.Background(), jsc, tc.cfg); !errors.Is(err, js.ErrConfig) {
			t.Errorf("Setup(%+v) = %v; want ErrConfig", tc.cfg, err)
		}
	}
	if _, err := js.NewProducer(nil, config(nil)); !errors.Is(err, js.ErrConfig) {
		t.Errorf("NewProducer(nil) = %v", err)
	}
	c, err := js.NewConsumer(jsc, tr, js.Config{Partitions: 2, Stream: "MISSING"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Setup") {
		t.Errorf("Run without the stream = %v; want an error saying to run Setup", err)
	}
}

// TestPartitionsMismatch: a consumer or a Setup with another number of
// partitions than the stream was set up with is refused (a consumer told
// fewer never read the others, and said nothing), as is one with fewer
// than a stream set up before the number was recorded has consumers for.
func TestPartitionsMismatch(t *testing.T) {
	url := newServer(t)
	_, jsc := conn(t, url)
	ctx := context.Background()
	tr := lifecycle.NewTracker(streamtest.Model(), store.NewMemory())
	for _, n := range []int{partitions - 1, partitions + 1} {
		cfg := config(nil)
		cfg.Partitions = n
		if err := js.Setup(ctx, jsc, cfg); !errors.Is(err, js.ErrConfig) || !strings.Contains(err.Error(), "set up with") {
			t.Errorf("Setup with %d partitions of a stream of %d = %v; want ErrConfig", n, partitions, err)
		}
		c, err := js.NewConsumer(jsc, tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = c.Run(rctx)
		cancel()
		if !errors.Is(err, js.ErrConfig) {
			t.Errorf("Run with %d partitions of a stream of %d = %v; want ErrConfig", n, partitions, err)
		}
	}
	if err := js.Setup(ctx, jsc, config(nil)); err != nil {
		t.Errorf("Setup again with the stream's number: %v", err)
	}

	// A stream set up before the number was recorded: its consumers tell.
	legacy := js.Config{Stream: "OLD", Subject: "old.events", Durable: "old", DeadLetterStream: "OLD_DEAD", DeadLetterSubject: "old.dead", Partitions: 3}
	if _, err := jsc.CreateStream(ctx, jetstream.StreamConfig{Name: "OLD", Subjects: []string{"old.events.*"}}); err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		if _, err := jsc.CreateOrUpdateConsumer(ctx, "OLD", jetstream.ConsumerConfig{Durable: "old-" + strconv.Itoa(p), FilterSubject: "old.events." + strconv.Itoa(p), AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
	}
	fewer := legacy
	fewer.Partitions = 2
	if err := js.Setup(ctx, jsc, fewer); !errors.Is(err, js.ErrConfig) || !strings.Contains(err.Error(), `"old-2"`) {
		t.Errorf("Setup with 2 partitions of an old stream with 3 consumers = %v; want ErrConfig naming old-2", err)
	}
	if err := js.Setup(ctx, jsc, legacy); err != nil {
		t.Errorf("Setup of the old stream with its 3 partitions: %v", err)
	}
	if err := js.Setup(ctx, jsc, fewer); !errors.Is(err, js.ErrConfig) || !strings.Contains(err.Error(), "set up with 3") {
		t.Errorf("Setup with 2 after the number was recorded = %v; want ErrConfig", err)
	}
}
