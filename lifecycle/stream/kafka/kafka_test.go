package kafka_test

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
// its value is the JSON of a childConfig.
const childEnv = "CLM_STREAM_KAFKA_CHILD"

type childConfig struct {
	Brokers     []string
	Group       string
	URL, Prefix string
	Batch       int
}

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(streamtest.RunChild(raw, func(ctx context.Context, cfg childConfig) (streamtest.Runner, func(), error) {
			st, err := streamtest.OpenSQL(ctx, cfg.URL, cfg.Prefix)
			if err != nil {
				return nil, nil, err
			}
			c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), consumerConfig(cfg.Brokers, cfg.Group, cfg.Batch))
			if err != nil {
				_ = st.Close()
				return nil, nil, err
			}
			return c, func() { _ = st.Close() }, nil
		}))
	}
	os.Exit(m.Run())
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

func start(t testing.TB, st lifecycle.Store, brokers []string, group string, batch int) *streamtest.Running {
	t.Helper()
	c, err := kafka.NewConsumer(lifecycle.NewTracker(streamtest.Model(), st), consumerConfig(brokers, group, batch))
	if err != nil {
		t.Fatal(err)
	}
	return streamtest.Start(t, c)
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
		if want := stream.Partition(p.Messages[i].Key, partitions); ps.Partition != want {
			t.Fatalf("message %d (key %q) went to partition %d; stream.Partition says %d", i, p.Messages[i].Key, ps.Partition, want)
		}
		if p.Invalid[i] {
			invalid[fmt.Sprintf("%s/%d/%d", topic, ps.Partition, ps.Offset)] = true
		}
	}
	return invalid
}

// admin returns an admin client of the cluster, closed when the test
// ends.
func admin(t testing.TB, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// waitShared waits until the group is stable with n members, each
// assigned at least one partition.
func waitShared(t testing.TB, brokers []string, group string, n int, timeout time.Duration) {
	t.Helper()
	adm := admin(t, brokers)
	state := "not described"
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		gs, err := adm.DescribeGroups(context.Background(), group)
		if err != nil {
			state = err.Error()
			continue
		}
		g := gs[group]
		state = fmt.Sprintf("%s with %d members", g.State, len(g.Members))
		if g.State != "Stable" || len(g.Members) != n {
			continue
		}
		shared := true
		for _, m := range g.Members {
			a, ok := m.Assigned.AsConsumer()
			shared = shared && ok && len(a.Topics) > 0 && len(a.Topics[0].Partitions) > 0
		}
		if shared {
			return
		}
	}
	t.Fatalf("the group %q did not share the partitions among %d members within %s: %s", group, n, timeout, state)
}

// waitCommitted waits until the group has committed every partition to
// its end.
func waitCommitted(t testing.TB, brokers []string, group string, timeout time.Duration, rs ...*streamtest.Running) {
	t.Helper()
	adm := admin(t, brokers)
	deadline := time.Now().Add(timeout)
	var last int64 = -1
	for time.Now().Before(deadline) {
		lags, err := adm.Lag(context.Background(), group)
		if err == nil {
			if l, ok := lags[group]; ok && l.Error() == nil && len(l.Lag[topic]) == partitions {
				if last = l.Lag.Total(); last == 0 {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	var stats []string
	for _, r := range rs {
		stats = append(stats, r.R.Stats().String())
	}
	t.Fatalf("the group's lag is %d after %s; consumers: %s", last, timeout, strings.Join(stats, "; "))
}

// deadLetters reads the dead-letter topic: the number of records per
// source. Every record must carry the error and source headers.
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
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
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
			if !strings.Contains(why, "invalid event") || source == "" {
				t.Errorf("dead letter %q: headers %s=%q, %s=%q", r.Value, stream.HeaderError, why, stream.HeaderSource, source)
			}
			got[source]++
		})
	}
	return got
}

// TestGroup: three consumers of one group record the plan (duplicates,
// shuffled, invalid messages) into one Memory store; the result equals
// the sequential replay, every event is applied exactly once over the
// three, and the dead letters are exactly the invalid messages.
func TestGroup(t *testing.T) {
	brokers := newCluster(t)
	p, ref := streamtest.Load(t)
	st := store.NewMemory()
	began := time.Now()
	rs := []*streamtest.Running{start(t, st, brokers, "g", 500), start(t, st, brokers, "g", 500), start(t, st, brokers, "g", 500)}
	// The messages go out once the three share the partitions: sent
	// before, they could all be read by the first member to join before
	// the others did (a loaded machine made this test fail so).
	waitShared(t, brokers, "g", len(rs), streamtest.Timeout(time.Minute))
	invalid := send(t, brokers, p)
	waitCommitted(t, brokers, "g", streamtest.Timeout(2*time.Minute), rs...)
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
			t.Errorf("consumer %d recorded no batch: the group did not share the partitions", i)
		}
	}
	streamtest.CheckDead(t, deadLetters(t, brokers, len(invalid)), invalid, false)
	t.Log("Memory: " + streamtest.Throughput(p, len(rs), elapsed))
}

// TestRebalance: a consumer joins while the only member is in the middle
// of a batch, then the first one leaves in the middle of another; nothing
// is lost or doubled, and every event is applied exactly once.
func TestRebalance(t *testing.T) {
	brokers := newCluster(t)
	p, ref := streamtest.Load(t)
	invalid := send(t, brokers, p)
	st := streamtest.NewGated(30 * time.Millisecond)
	a := start(t, st, brokers, "g", 200)
	for range 3 {
		st.InFlight(t)
	}
	aBefore := a.R.Stats().Batches
	b := start(t, st, brokers, "g", 200) // joins while a is writing
	streamtest.WaitBatches(t, b.R, 3)
	st.InFlight(t)
	a.Halt(t) // leaves, abandoning the batch it is writing
	waitCommitted(t, brokers, "g", streamtest.Timeout(2*time.Minute), a, b)
	b.Halt(t)
	streamtest.Check(t, ref, st.Memory)
	if n := streamtest.Applied(a, b); n != int64(len(p.Events)) {
		t.Errorf("the consumers applied %d events; the plan has %d distinct valid events", n, len(p.Events))
	}
	if a.R.Stats().Batches <= aBefore {
		t.Errorf("the first member recorded no batch after the second joined")
	}
	streamtest.CheckDead(t, deadLetters(t, brokers, len(invalid)), invalid, true)
	t.Logf("a: %s\nb: %s", a.R.Stats(), b.R.Stats())
}

// TestKill9: three consumers of one group (two here, one in a child
// process) record the plan into one SQL store (PostgreSQL when
// CLM_POSTGRES_DSN is set, else SQLite); the child is killed with
// SIGKILL mid-run and restarted. The final state equals the sequential
// replay and the dead letters are exactly the invalid messages (a
// message may be dead-lettered again after the kill).
func TestKill9(t *testing.T) {
	brokers := newCluster(t)
	p, ref := streamtest.Load(t)
	invalid := send(t, brokers, p)
	st, url, prefix := streamtest.SQL(t, "kafka")
	cfg := childConfig{Brokers: brokers, Group: "g", URL: url, Prefix: prefix, Batch: 200}
	began := time.Now()
	c1 := streamtest.StartChild(t, childEnv, cfg)
	c1.WaitBatches(t, 1) // the child is in the group; the others join it
	a := start(t, st, brokers, "g", cfg.Batch)
	b := start(t, st, brokers, "g", cfg.Batch)
	c1.WaitBatches(t, streamtest.KillAfter(p, 200))
	c1.Signal(syscall.SIGKILL)
	killed := time.Since(began)
	c2 := streamtest.StartChild(t, childEnv, cfg)
	waitCommitted(t, brokers, "g", streamtest.Timeout(4*time.Minute), a, b)
	elapsed := time.Since(began)
	c2.Signal(syscall.SIGTERM)
	a.Halt(t)
	b.Halt(t)
	streamtest.Check(t, ref, st)
	streamtest.CheckDead(t, deadLetters(t, brokers, len(invalid)), invalid, true)
	t.Logf("%s: %s; one killed after %s and restarted", streamtest.Engine(url), streamtest.Throughput(p, 3, elapsed), killed.Round(time.Millisecond))
}

// BenchmarkThroughput measures the plan recorded by one consumer and by
// three in one group into the SQL store of streamtest.SQL. An op sends
// the plan to a new cluster (outside the timer) and consumes all of it;
// run it with -benchtime 1x (CLM_STREAM_FULL=1: the scale).
func BenchmarkThroughput(b *testing.B) {
	p, ref := streamtest.Load(b)
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("consumers=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				brokers := newCluster(b)
				send(b, brokers, p)
				st, _, _ := streamtest.SQL(b, "kafkatp")
				b.StartTimer()
				var rs []*streamtest.Running
				for range n {
					rs = append(rs, start(b, st, brokers, "g", 500))
				}
				waitCommitted(b, brokers, "g", streamtest.Timeout(4*time.Minute), rs...)
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

// TestConfig: NewConsumer and NewProducer name the field they refuse.
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
		{kafka.Config{Brokers: []string{"x:1"}, Topic: "t", Group: "g", Poll: -2}, "Config.Poll -2"},
		{kafka.Config{Brokers: []string{"x:1"}, Topic: "t", Group: "g", DeadLetterTopic: "t"}, `Config.DeadLetterTopic "t"`},
	} {
		_, err := kafka.NewConsumer(tr, tc.cfg)
		if !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewConsumer(%+v) = %v; want an error wrapping ErrConfig naming %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := kafka.NewConsumer(nil, kafka.Config{Brokers: []string{"x:1"}, Topic: "t", Group: "g"}); !errors.Is(err, kafka.ErrConfig) {
		t.Errorf("NewConsumer(nil tracker) = %v", err)
	}
	if _, err := kafka.NewProducer(nil, "t"); !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), "brokers") {
		t.Errorf("NewProducer(no brokers) = %v", err)
	}
	if err := kafka.CreateTopic(context.Background(), []string{"x:1"}, "t", 0, 1); !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), "partitions 0") {
		t.Errorf("CreateTopic(0 partitions) = %v", err)
	}
}

// TestCreateTopic creates a topic on kfake, twice.
func TestCreateTopic(t *testing.T) {
	brokers := newCluster(t)
	for range 2 {
		if err := kafka.CreateTopic(context.Background(), brokers, "more", 5, 1); err != nil {
			t.Fatal(err)
		}
	}
}
