package kafka_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"syscall"
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

const (
	topic      = "events"
	deadTopic  = "events.dead"
	partitions = 12
)

// childEnv, when set, makes the test binary a consumer (see TestKill9):
// its value is the JSON of childConfig.
const childEnv = "CLM_STREAM_KAFKA_CHILD"

type childConfig struct {
	Brokers     []string
	Group       string
	URL, Prefix string
	Batch       int
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(child(cfg))
	}
	os.Exit(m.Run())
}

// child runs one consumer into the SQL store the parent names until it is
// killed or sent SIGTERM, printing its counts every 50 ms.
func child(raw string) int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	st, err := streamtest.OpenSQL(ctx, cfg.URL, cfg.Prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer st.Close()
	c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), consumerConfig(cfg.Brokers, cfg.Group, cfg.Batch))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
				fmt.Println(c.Stats())
			}
		}
	}()
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// newCluster starts a kfake cluster with the topic of events and the
// dead-letter topic.
func newCluster(t testing.TB) []string {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(partitions, topic),
		kfake.SeedTopics(1, deadTopic),
		kfake.GroupMinSessionTimeout(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func consumerConfig(brokers []string, group string, batch int) kafka.Config {
	return kafka.Config{
		Brokers: brokers, Topic: topic, Group: group, DeadLetterTopic: deadTopic, Batch: batch,
		ClientOptions: []kgo.Opt{
			kgo.SessionTimeout(2 * time.Second),
			kgo.HeartbeatInterval(200 * time.Millisecond),
			kgo.RebalanceTimeout(20 * time.Second),
			kgo.FetchMaxWait(200 * time.Millisecond),
		},
	}
}

// send publishes the plan's messages and returns the sources
// ("topic/partition/offset") of the invalid ones.
func send(t testing.TB, brokers []string, p *streamtest.Plan) map[string]bool {
	t.Helper()
	pr, err := kafka.NewProducer(brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	pos, err := pr.Send(context.Background(), p.Messages)
	if err != nil {
		t.Fatal(err)
	}
	invalid := map[string]bool{}
	for i, ps := range pos {
		if stream.Partition(p.Messages[i].Key, partitions) != ps.Partition {
			t.Fatalf("message %d (key %q) went to partition %d; stream.Partition says %d", i, p.Messages[i].Key, ps.Partition, stream.Partition(p.Messages[i].Key, partitions))
		}
		if p.Invalid[i] {
			invalid[fmt.Sprintf("%s/%d/%d", topic, ps.Partition, ps.Offset)] = true
		}
	}
	return invalid
}

// waitCommitted waits until the group has committed every partition to
// its end.
func waitCommitted(t testing.TB, brokers []string, group string, timeout time.Duration, status func() string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(timeout)
	var last int64 = -1
	for time.Now().Before(deadline) {
		lags, err := adm.Lag(context.Background(), group)
		if err == nil {
			if l, ok := lags[group]; ok && l.Error() == nil && len(l.Lag[topic]) == partitions {
				last = l.Lag.Total()
				if last == 0 {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the group's lag is %d after %s: %s", last, timeout, status())
}

// deadLetters reads the dead-letter topic: the number of records per
// source, and whether every record carries an error header.
func deadLetters(t testing.TB, brokers []string, want int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(deadTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]int{}
	n := 0
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 && n >= want {
			break // all expected, and nothing more within 500 ms
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			var source, why string
			for _, h := range r.Headers {
				switch h.Key {
				case stream.HeaderSource:
					source = string(h.Value)
				case stream.HeaderError:
					why = string(h.Value)
				}
			}
			if why == "" || source == "" {
				t.Errorf("dead letter %q lacks the %s or %s header", r.Value, stream.HeaderError, stream.HeaderSource)
			}
			got[source]++
		})
	}
	return got
}

// checkDead checks that the dead letters are exactly the invalid
// messages sent (a message may be dead-lettered more than once only
// when allowed, after a kill).
func checkDead(t testing.TB, got map[string]int, invalid map[string]bool, repeatsAllowed bool) {
	t.Helper()
	for s := range invalid {
		if got[s] == 0 {
			t.Errorf("invalid message %s is not in the dead letters", s)
		}
	}
	for s, n := range got {
		if !invalid[s] {
			t.Errorf("dead letter from %s, which was not an invalid message", s)
		}
		if n > 1 && !repeatsAllowed {
			t.Errorf("dead letter from %s published %d times", s, n)
		}
	}
}

func plan(t testing.TB) (*streamtest.Plan, *store.Memory) {
	t.Helper()
	p, err := streamtest.NewPlan(streamtest.Scale())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := streamtest.Reference(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return p, ref
}

func compare(t testing.TB, ref *store.Memory, got lifecycle.Store) {
	t.Helper()
	r, err := streamtest.Compare(context.Background(), ref, got)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if !r.OK() {
		t.Errorf("%s\n%v", r, r.Problems)
	}
}

// running is a consumer running in this process.
type running struct {
	c    *kafka.Consumer
	stop context.CancelFunc
	done chan error
}

func start(t testing.TB, st lifecycle.Store, brokers []string, group string, batch int) *running {
	t.Helper()
	c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), consumerConfig(brokers, group, batch))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	t.Cleanup(func() { r.halt(t) })
	return r
}

// halt stops the consumer and waits for Run to return.
func (r *running) halt(t testing.TB) {
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- nil
	case <-time.After(30 * time.Second):
		t.Errorf("Run did not return within 30 s of its context ending")
	}
}

func sum(rs []*running, f func(stream.Stats) int64) int64 {
	var n int64
	for _, r := range rs {
		n += f(r.c.Stats())
	}
	return n
}

// TestGroup: three consumers of one group record the plan (duplicates,
// shuffled, invalid messages) into one Memory store; the result equals
// the sequential replay, every event is applied exactly once over the
// three, and the dead letters are exactly the invalid messages.
func TestGroup(t *testing.T) {
	brokers := newCluster(t)
	p, ref := plan(t)
	invalid := send(t, brokers, p)
	st := store.NewMemory()
	began := time.Now()
	rs := []*running{start(t, st, brokers, "g", 500), start(t, st, brokers, "g", 500), start(t, st, brokers, "g", 500)}
	waitCommitted(t, brokers, "g", 2*time.Minute, func() string { return fmt.Sprint(rs[0].c.Stats(), rs[1].c.Stats(), rs[2].c.Stats()) })
	elapsed := time.Since(began)
	for _, r := range rs {
		r.halt(t)
	}
	compare(t, ref, st)
	if n := sum(rs, func(s stream.Stats) int64 { return s.Applied }); n != int64(len(p.Events)) {
		t.Errorf("the consumers applied %d events; the plan has %d distinct valid events", n, len(p.Events))
	}
	for i, r := range rs {
		if r.c.Stats().Batches == 0 {
			t.Errorf("consumer %d recorded no batch: the group did not share the partitions", i)
		}
	}
	checkDead(t, deadLetters(t, brokers, len(invalid)), invalid, false)
	t.Logf("%d messages (%d invalid), %d events, 3 consumers into Memory: %s (%.0f messages/s)",
		len(p.Messages), len(invalid), len(p.Events), elapsed.Round(time.Millisecond), float64(len(p.Messages))/elapsed.Seconds())
}

// gated is a Memory store whose writes take a while and announce
// themselves, so that a test can act while a batch is in flight.
type gated struct {
	*store.Memory
	delay   time.Duration
	writing chan struct{} // receives (without blocking) when a write starts
}

func (g *gated) Apply(ctx context.Context, ws []lifecycle.Write) {
	select {
	case g.writing <- struct{}{}:
	default:
	}
	select {
	case <-time.After(g.delay):
	case <-ctx.Done():
	}
	g.Memory.Apply(ctx, ws)
}

// TestRebalance: a consumer joins while the only member is in the middle
// of a batch, then the first one leaves in the middle of another; nothing
// is lost or doubled, and every event is applied exactly once.
func TestRebalance(t *testing.T) {
	brokers := newCluster(t)
	p, ref := plan(t)
	invalid := send(t, brokers, p)
	st := &gated{Memory: store.NewMemory(), delay: 30 * time.Millisecond, writing: make(chan struct{})}
	inFlight := func() {
		t.Helper()
		select {
		case <-st.writing:
		case <-time.After(30 * time.Second):
			t.Fatal("no batch in flight within 30 s")
		}
	}
	a := start(t, st, brokers, "g", 200)
	for range 3 {
		inFlight()
	}
	aBefore := a.c.Stats().Batches
	b := start(t, st, brokers, "g", 200) // joins while a is writing
	deadline := time.Now().Add(30 * time.Second)
	for b.c.Stats().Batches < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b.c.Stats().Batches < 3 {
		t.Fatalf("the new member recorded %d batches in 30 s", b.c.Stats().Batches)
	}
	inFlight()
	a.halt(t) // leaves, abandoning the batch it is writing
	waitCommitted(t, brokers, "g", 2*time.Minute, func() string { return fmt.Sprint(a.c.Stats(), b.c.Stats()) })
	b.halt(t)
	compare(t, ref, st.Memory)
	rs := []*running{a, b}
	if n := sum(rs, func(s stream.Stats) int64 { return s.Applied }); n != int64(len(p.Events)) {
		t.Errorf("the consumers applied %d events; the plan has %d distinct valid events", n, len(p.Events))
	}
	if a.c.Stats().Batches <= aBefore {
		t.Errorf("the first member recorded no batch after the second joined")
	}
	checkDead(t, deadLetters(t, brokers, len(invalid)), invalid, true)
	t.Logf("a: %s\nb: %s", a.c.Stats(), b.c.Stats())
}

// proc is a consumer in a child process.
type proc struct {
	cmd     *exec.Cmd
	batches chan int64 // the child's batch count, as it prints it
	exited  chan struct{}
}

var batchesRE = regexp.MustCompile(`^batches=(\d+) `)

func startChild(t testing.TB, cfg childConfig) *proc {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, batches: make(chan int64, 1), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := batchesRE.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				select {
				case <-p.batches:
				default:
				}
				p.batches <- n
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.signal(syscall.SIGKILL) })
	return p
}

func (p *proc) signal(s syscall.Signal) {
	_ = p.cmd.Process.Signal(s)
	<-p.exited
}

// waitBatches waits until the child has recorded at least n batches.
func (p *proc) waitBatches(t testing.TB, n int64) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case got := <-p.batches:
			if got >= n {
				return
			}
		case <-p.exited:
			t.Fatal("the child consumer exited")
		case <-timeout:
			t.Fatalf("the child consumer did not record %d batches within 60 s", n)
		}
	}
}

// TestKill9: three consumers of one group (two here, one in a child
// process) record the plan into one SQL store (PostgreSQL when
// CLM_POSTGRES_DSN is set, else SQLite); the child is killed with
// SIGKILL mid-run and restarted. The final state equals the sequential
// replay and the dead letters are exactly the invalid messages (a
// message may be dead-lettered again after the kill).
func TestKill9(t *testing.T) {
	brokers := newCluster(t)
	p, ref := plan(t)
	invalid := send(t, brokers, p)
	st, url, prefix := streamtest.SQL(t, "kafka")
	cfg := childConfig{Brokers: brokers, Group: "g", URL: url, Prefix: prefix, Batch: 200}
	began := time.Now()
	c1 := startChild(t, cfg)
	a := start(t, st, brokers, "g", cfg.Batch)
	b := start(t, st, brokers, "g", cfg.Batch)
	c1.waitBatches(t, 3)
	c1.signal(syscall.SIGKILL)
	killed := time.Now()
	c2 := startChild(t, cfg)
	waitCommitted(t, brokers, "g", 4*time.Minute, func() string { return fmt.Sprint(a.c.Stats(), b.c.Stats()) })
	elapsed := time.Since(began)
	c2.signal(syscall.SIGTERM)
	a.halt(t)
	b.halt(t)
	compare(t, ref, st)
	checkDead(t, deadLetters(t, brokers, len(invalid)), invalid, true)
	t.Logf("%s: %d messages (%d invalid), %d events, 3 consumers, one killed after %s and restarted: %s (%.0f messages/s)",
		streamtest.Engine(url), len(p.Messages), len(invalid), len(p.Events), killed.Sub(began).Round(time.Millisecond),
		elapsed.Round(time.Millisecond), float64(len(p.Messages))/elapsed.Seconds())
}

// TestPartition: stream.Partition chooses the partition franz-go's
// default partitioner (Kafka's) chooses for the same key.
func TestPartition(t *testing.T) {
	part := kgo.StickyKeyPartitioner(nil).ForTopic(topic)
	for i := range 2000 {
		key := strconv.Itoa(i*7919) + "-cust"
		n := 1 + i%50
		want := part.Partition(&kgo.Record{Key: []byte(key)}, n)
		if got := stream.Partition(key, n); int(got) != want {
			t.Fatalf("Partition(%q, %d) = %d; franz-go says %d", key, n, got, want)
		}
	}
}

// TestConfig: NewConsumer names the field it refuses.
func TestConfig(t *testing.T) {
	tr := lifecycle.NewTracker(streamtest.Model(), store.NewMemory())
	for _, tc := range []struct {
		cfg  kafka.Config
		want string
	}{
		{kafka.Config{Topic: "t", Group: "g"}, "Config.Brokers is empty"},
		{kafka.Config{Brokers: []string{"x:1"}, Group: "g"}, "Config.Topic is empty"},
		{kafka.Config{Brokers: []string{"x:1"}, Topic: "t"}, "Config.Group is empty"},
		{kafka.Config{Brokers: []string{"x:1"}, Topic: "t", Group: "g", Batch: -1}, "Config.Batch -1"},
		{kafka.Config{Brokers: []string{"x:1"}, Topic: "t", Group: "g", DeadLetterTopic: "t"}, `Config.DeadLetterTopic "t"`},
	} {
		_, err := kafka.NewConsumer(tr, tc.cfg)
		if !errors.Is(err, kafka.ErrConfig) || !regexp.MustCompile(regexp.QuoteMeta(tc.want)).MatchString(err.Error()) {
			t.Errorf("NewConsumer(%+v) = %v; want an error wrapping ErrConfig naming %s", tc.cfg, err, tc.want)
		}
	}
}
