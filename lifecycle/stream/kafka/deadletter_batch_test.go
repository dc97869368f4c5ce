package kafka_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/store"
)

// Dead letters that each fit the dead-letter topic but not together (the
// broker refuses a whole record batch too large) keep their values: only a
// letter too large by itself goes without (found by an audit: all five
// lost theirs).
func TestDeadLettersFitAloneKeepValues(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The dead-letter topic holds messages of up to 50,000 bytes.
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = deadTopic, 1, 1
	limit := "50000"
	rc := kmsg.NewCreateTopicsRequestTopicConfig()
	rc.Name, rc.Value = "max.message.bytes", &limit
	rt.Configs = append(rt.Configs, rc)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil || kerr.ErrorForCode(resp.Topics[0].ErrorCode) != nil {
		t.Fatal(err, resp.Topics[0].ErrorCode)
	}
	// Five invalid messages of about 20 KB (not JSON), and one of 60 KB,
	// too large alone.
	// Random letters, which compression does not shrink much.
	sizes := []int{20_000, 20_001, 20_002, 20_003, 20_004, 60_000}
	rnd := rand.New(rand.NewPCG(1, 2))
	var recs []*kgo.Record
	for _, n := range sizes {
		v := make([]byte, n)
		for i := range v {
			v[i] = 'a' + byte(rnd.IntN(26))
		}
		recs = append(recs, &kgo.Record{Key: []byte("c1"), Value: v})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons := dlConsumer(t, brokers, store.NewMemory())
	streamtest.Start(t, cons)
	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(deadTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < len(sizes) && ctx.Err() == nil {
		got = append(got, rd.PollFetches(ctx).Records()...)
	}
	if len(got) != len(sizes) {
		t.Fatalf("%d dead letters, want %d: %s", len(got), len(sizes), cons.Stats())
	}
	for _, r := range got {
		dropped := ""
		for _, h := range r.Headers {
			if h.Key == stream.HeaderDropped {
				dropped = string(h.Value)
			}
		}
		switch {
		case dropped == "" && len(r.Value) >= 20_000 && len(r.Value) < 50_000:
		case dropped == "60000" && len(r.Value) == 0:
		default:
			t.Errorf("dead letter of %d bytes with %s %q; want the 20 KB ones whole, the 60 KB one without its value", len(r.Value), stream.HeaderDropped, dropped)
		}
	}
}
