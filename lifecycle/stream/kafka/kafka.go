// Package kafka consumes events from a Kafka topic partitioned by
// customer ID, with franz-go: a [Consumer] in a consumer group records
// each partition's messages in batches into a [lifecycle.Store] and
// commits their offsets only after the store has committed them; a
// [Producer] publishes events keyed by customer ID.
//
// # Rebalancing
//
// Consumers of one group share the topic's partitions, rebalanced
// cooperatively (the cooperative-sticky balancer: a rebalance moves only
// the partitions that must move, and the others go on being consumed).
// A consumer blocks rebalances while it holds a poll's records
// (franz-go's BlockRebalanceOnPoll): a partition is revoked only after
// the batch in flight has been recorded and its offset committed, so its
// next owner starts where this one stopped. A batch that outlives the
// group's rebalance timeout (a store that is down) gets its consumer
// thrown out of the group: its commit then fails, the next owner records
// the batch again, and the store's identity check makes that second
// recording a duplicate. A consumer that stops (its context ends)
// abandons the batch in flight, commits nothing for it, and leaves the
// group; one that dies is thrown out after the session timeout. Either
// way the batch is recorded again by the next owner, with the same
// result.
//
// Tests run against franz-go's in-process kfake cluster, never a real
// broker; docs/streams.md lists the settings a production cluster needs.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
)

// ErrConfig is wrapped by the errors of [NewConsumer] and [NewProducer]
// for a configuration they cannot use; the error names the field.
var ErrConfig = errors.New("kafka: invalid configuration")

// Config configures a [Consumer].
type Config struct {
	// Brokers are the seed brokers, "host:port" ("[host]:port" for an IPv6
	// address; required, each with a port from 1 to 65535: other values
	// are ErrConfig errors).
	Brokers []string
	// Topic is the topic of events (required); Group the consumer
	// group (required). A topic's name is one Kafka allows: at most 249
	// letters, digits, ".", "_" and "-", and neither "." nor "..". With
	// the default DeadLetterTopic, Topic is at most 244 bytes, so that
	// Topic + ".dead" is such a name too.
	Topic, Group string
	// DeadLetterTopic receives the refused messages (default Topic +
	// ".dead"; a name as Topic's). It must exist, or the cluster must
	// create topics.
	DeadLetterTopic string
	// Batch is the most messages of one partition recorded with one
	// RecordBatch (default 500); Poll the most records read at once, over
	// all partitions (default 8 × Batch).
	Batch, Poll int
	// Processor adjusts decoding, retries and logging.
	Processor stream.Options
	// ClientOptions are passed on to franz-go after the consumer's own
	// (TLS, SASL, timeouts, a client ID...).
	ClientOptions []kgo.Opt
}

// Consumer is one member of a consumer group; see the package
// documentation.
type Consumer struct {
	cfg   Config
	opts  []kgo.Opt   // the client's, checked by NewConsumer
	cl    *kgo.Client // made by Run
	p     *stream.Processor
	log   *slog.Logger
	ranMu sync.Mutex
	ran   bool
}

// NewConsumer returns a consumer that records into t's store, having
// checked cfg and the client's options; it makes its client, and so joins
// the group, only when [Consumer.Run] is called (a Consumer that never
// runs holds no partition).
func NewConsumer(t *lifecycle.Tracker, cfg Config) (*Consumer, error) {
	switch {
	case t == nil:
		return nil, fmt.Errorf("kafka: tracker is nil: %w", ErrConfig)
	}
	if err := checkTarget("Config.Brokers", cfg.Brokers, "Config.Topic", cfg.Topic); err != nil {
		return nil, err
	}
	switch {
	case cfg.Group == "":
		return nil, fmt.Errorf("kafka: Config.Group is empty: %w", ErrConfig)
	case cfg.Batch < 0:
		return nil, fmt.Errorf("kafka: Config.Batch %d: must not be negative: %w", cfg.Batch, ErrConfig)
	case cfg.Poll < 0:
		return nil, fmt.Errorf("kafka: Config.Poll %d: must not be negative: %w", cfg.Poll, ErrConfig)
	case !cfg.Processor.Format.Known():
		return nil, fmt.Errorf("kafka: Config.Processor.Format %d: want stream.FormatAuto, FormatJSON or FormatSegment: %w", cfg.Processor.Format, ErrConfig)
	}
	field := fmt.Sprintf("Config.DeadLetterTopic %q", clip.String(cfg.DeadLetterTopic))
	if cfg.DeadLetterTopic == "" {
		cfg.DeadLetterTopic = cfg.Topic + ".dead"
		field = fmt.Sprintf("Config.Topic %q: its default dead-letter topic %q", clip.String(cfg.Topic), clip.String(cfg.DeadLetterTopic))
	}
	if cfg.DeadLetterTopic == cfg.Topic {
		return nil, fmt.Errorf("kafka: %s is the topic of events: %w", field, ErrConfig)
	}
	if why := badTopic(cfg.DeadLetterTopic); why != "" {
		return nil, fmt.Errorf("kafka: %s: %s: %w", field, why, ErrConfig)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 500
	}
	if cfg.Poll == 0 {
		cfg.Poll = 8 * min(cfg.Batch, math.MaxInt/8) // saturated: never negative
	}
	c := &Consumer{cfg: cfg, log: cfg.Processor.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.p = stream.NewProcessor(t, deadLetterer{c}, cfg.Processor)
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.OnPartitionsRevoked(c.drop),
		kgo.OnPartitionsLost(c.drop),
	}
	c.opts = append(opts, cfg.ClientOptions...)
	if err := kgo.ValidateOpts(c.opts...); err != nil {
		return nil, fmt.Errorf("kafka: Config.ClientOptions: %w: %w", err, ErrConfig)
	}
	return c, nil
}

// checkTarget refuses, with an error wrapping [ErrConfig] that names the
// field and the value, no seed brokers or an empty one, and a topic name
// Kafka does not allow.
func checkTarget(brokersField string, brokers []string, topicField, topic string) error {
	if len(brokers) == 0 {
		return fmt.Errorf("kafka: %s is empty: %w", brokersField, ErrConfig)
	}
	for i, b := range brokers {
		if strings.TrimSpace(b) == "" {
			return fmt.Errorf("kafka: %s[%d] %q: is empty: %w", brokersField, i, clip.String(b), ErrConfig)
		}
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.ParseUint(port, 10, 16); err != nil || host == "" || perr != nil || n == 0 {
			return fmt.Errorf("kafka: %s[%d] %q: want host:port, a port from 1 to 65535 ([host]:port for an IPv6 address): %w", brokersField, i, clip.String(b), ErrConfig)
		}
	}
	if why := badTopic(topic); why != "" {
		if topic == "" {
			return fmt.Errorf("kafka: %s is empty: %w", topicField, ErrConfig)
		}
		return fmt.Errorf("kafka: %s %q: %s: %w", topicField, clip.String(topic), why, ErrConfig)
	}
	return nil
}

// badTopic says why Kafka cannot name a topic so (at most 249 of the
// characters a–z, A–Z, 0–9, ".", "_" and "-", and neither "." nor ".."),
// or returns "".
func badTopic(t string) string {
	switch {
	case t == "":
		return "is empty"
	case t == "." || t == "..":
		return "is not a topic name Kafka allows"
	case len(t) > 249:
		return fmt.Sprintf("is %d bytes long, more than Kafka's 249", len(t))
	}
	for _, c := range []byte(t) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Sprintf("holds %q: Kafka allows only letters, digits, \".\", \"_\" and \"-\"", c)
		}
	}
	return ""
}

// drop forgets the lag of partitions revoked or lost.
func (c *Consumer) drop(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	if ps := lost[c.cfg.Topic]; len(ps) > 0 {
		c.p.DropLag(ps...)
	}
}

// Stats returns the consumer's counts and the lag of its partitions.
// A Consumer not made by [NewConsumer] has none.
func (c *Consumer) Stats() stream.Stats {
	if c == nil {
		return stream.Stats{}
	}
	return c.p.Stats()
}

// Run makes the client, joins the group and records batches until ctx
// ends, then abandons the batch in flight (its offsets are not
// committed), leaves the group and closes the client. It returns nil when
// ctx ended it, and an error when called twice or when the client cannot
// be made (wrapping [ErrConfig], as for a Consumer not made by
// [NewConsumer]; for a nil ctx, one wrapping [lifecycle.ErrNilContext]). A fetch that fails (a broker unreachable, a topic that does not
// exist) is logged and tried again every 500 ms until ctx ends.
func (c *Consumer) Run(ctx context.Context) error {
	switch {
	case c == nil || c.p == nil:
		return fmt.Errorf("kafka: Run: a Consumer not made by NewConsumer: %w", ErrConfig)
	case ctx == nil:
		return fmt.Errorf("kafka: Run: %w", lifecycle.ErrNilContext)
	}
	c.ranMu.Lock()
	if c.ran {
		c.ranMu.Unlock()
		return fmt.Errorf("kafka: Run called twice: %w", ErrConfig)
	}
	c.ran = true
	c.ranMu.Unlock()
	cl, err := kgo.NewClient(c.opts...)
	if err != nil {
		return fmt.Errorf("kafka: Config.ClientOptions: %w: %w", err, ErrConfig)
	}
	c.cl = cl
	defer c.p.DropLag()
	defer c.cl.CloseAllowingRebalance()
	for {
		fetches := c.cl.PollRecords(ctx, c.cfg.Poll)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				c.log.Warn("kafka: fetch failed", "topic", topic, "partition", partition, "err", err)
			}
		})
		var parts []kgo.FetchTopicPartition
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) > 0 {
				parts = append(parts, p)
			}
		})
		if len(parts) == 0 && len(fetches.Errors()) > 0 {
			// Nothing but errors (a broker unreachable): do not spin.
			c.cl.AllowRebalance()
			t := time.NewTimer(500 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		done := make([]*kgo.Record, len(parts))
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Go(func() { done[i] = c.partition(ctx, p) })
		}
		wg.Wait()
		var commit []*kgo.Record
		for _, r := range done {
			if r != nil {
				commit = append(commit, r)
			}
		}
		if len(commit) > 0 {
			// Commit what was recorded even when ctx has ended meanwhile.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := c.cl.CommitRecords(cctx, commit...); err != nil {
				c.log.Warn("kafka: commit failed; the next owner records these batches again", "err", err)
			}
			cancel()
		}
		c.cl.AllowRebalance()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// partition records one partition's records in batches, and returns the
// last record recorded (nil if none).
func (c *Consumer) partition(ctx context.Context, p kgo.FetchTopicPartition) *kgo.Record {
	var last *kgo.Record
	for recs := range chunks(p.Records, c.cfg.Batch) {
		msgs := make([]stream.Message, len(recs))
		for i, r := range recs {
			msgs[i] = stream.Message{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}
			format := false
			for _, h := range r.Headers {
				if h.Key == stream.HeaderFormat && !format { // the first, as JetStream's
					msgs[i].SetFormat(string(h.Value))
					format = true
				}
				msgs[i].Headers = append(msgs[i].Headers, stream.Header{Key: h.Key, Value: h.Value})
			}
		}
		if _, err := c.p.Process(ctx, msgs); err != nil {
			c.log.Info("kafka: batch abandoned", "partition", p.Partition, "from", recs[0].Offset, "err", err)
			break
		}
		last = recs[len(recs)-1]
		c.p.SetLag(p.Partition, p.HighWatermark-last.Offset-1)
	}
	return last
}

// chunks yields s in pieces of at most n.
func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// deadLetterer publishes a consumer's dead letters to its dead-letter
// topic, synchronously.
type deadLetterer struct{ c *Consumer }

func (d deadLetterer) DeadLetter(ctx context.Context, letters []stream.DeadLetter) error {
	recs := make([]*kgo.Record, len(letters))
	for i, l := range letters {
		hs := make([]kgo.RecordHeader, 0, len(l.Message.Headers)+3)
		for _, h := range l.Message.Headers {
			if !stream.DeadLetterHeader(h.Key) {
				hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
		}
		hs = append(hs,
			kgo.RecordHeader{Key: stream.HeaderError, Value: []byte(stream.ErrorHeader(l.Err))},
			kgo.RecordHeader{Key: stream.HeaderSource, Value: []byte(l.Message.Source())})
		recs[i] = &kgo.Record{Topic: d.c.cfg.DeadLetterTopic, Key: l.Message.Key, Value: l.Message.Value, Headers: hs}
	}
	// A dead letter too large for the topic (its value with the headers)
	// goes without its value, and if still too large without the
	// message's own headers and key, so that it cannot block the
	// partition. The
	// broker refuses a whole record batch that is too large, so a letter
	// refused with others is first tried again alone: only one too large
	// by itself loses its value.
	results := d.c.cl.ProduceSync(ctx, recs...)
	for _, r := range results {
		switch {
		case r.Err == nil:
		case errors.Is(r.Err, kerr.MessageTooLarge):
			err := r.Err
			if len(recs) > 1 {
				err = d.c.cl.ProduceSync(ctx, r.Record).FirstErr()
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, kerr.MessageTooLarge) {
				return fmt.Errorf("kafka: publishing a dead letter to %q: %w", d.c.cfg.DeadLetterTopic, err)
			}
			r.Record.Headers = append(r.Record.Headers, kgo.RecordHeader{Key: stream.HeaderDropped, Value: []byte(strconv.Itoa(len(r.Record.Value)))})
			r.Record.Value = nil
			err = d.c.cl.ProduceSync(ctx, r.Record).FirstErr()
			if errors.Is(err, kerr.MessageTooLarge) {
				// Too large by the message's own headers or key: without
				// them too, the letter's three headers only.
				n := len(r.Record.Headers)
				r.Record.Headers, r.Record.Key = r.Record.Headers[n-3:], nil
				err = d.c.cl.ProduceSync(ctx, r.Record).FirstErr()
			}
			if err != nil {
				return fmt.Errorf("kafka: publishing a dead letter to %q without its value: %w", d.c.cfg.DeadLetterTopic, err)
			}
		default:
			return fmt.Errorf("kafka: publishing %d dead letters to %q: %w", len(recs), d.c.cfg.DeadLetterTopic, r.Err)
		}
	}
	return nil
}

// Producer publishes events to a topic, keyed by customer ID.
type Producer struct {
	cl    *kgo.Client
	topic string
}

// NewProducer returns a producer to topic through the seed brokers;
// opts are passed on to franz-go after the producer's own. Records are
// partitioned by key as [stream.Partition] does (franz-go's sticky key
// partitioner, which hashes a key as Kafka's Java client does, set
// explicitly).
func NewProducer(brokers []string, topic string, opts ...kgo.Opt) (*Producer, error) {
	if err := checkTarget("brokers", brokers, "topic", topic); err != nil {
		return nil, err
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka: opts: %w: %w", err, ErrConfig)
	}
	return &Producer{cl: cl, topic: topic}, nil
}

// Publish publishes each event as its own message keyed by its customer
// ID (see [stream.Encode]) and waits until the cluster has stored them.
// Its errors are as for [Producer.Send].
func (p *Producer) Publish(ctx context.Context, events ...lifecycle.Event) error {
	return stream.Publish(ctx, p, events...)
}

// Send publishes messages as they are, in order, and returns where each
// was stored. It waits until the cluster has stored all of them; on an
// error some may have been stored. A Producer not made by [NewProducer]
// is an error wrapping [ErrConfig], a nil ctx one wrapping
// [lifecycle.ErrNilContext]; nothing is sent.
func (p *Producer) Send(ctx context.Context, msgs []stream.Outgoing) ([]stream.Position, error) {
	switch {
	case p == nil || p.cl == nil:
		return nil, fmt.Errorf("kafka: Send: a Producer not made by NewProducer: %w", ErrConfig)
	case ctx == nil:
		return nil, fmt.Errorf("kafka: Send: %w", lifecycle.ErrNilContext)
	}
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Key: []byte(m.Key), Value: m.Value}
	}
	pos := make([]stream.Position, 0, len(msgs))
	for rs := range chunks(recs, 10_000) {
		if err := p.cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			return pos, fmt.Errorf("kafka: publishing to %q: %w", p.topic, err)
		}
		for _, r := range rs {
			pos = append(pos, stream.Position{Partition: r.Partition, Offset: r.Offset})
		}
	}
	return pos, nil
}

// Close flushes nothing more and closes the producer's client.
// (A Producer not made by NewProducer has nothing to close.)
func (p *Producer) Close() {
	if p != nil && p.cl != nil {
		p.cl.Close()
	}
}

// CreateTopic creates topic with the given number of partitions and
// replication factor through the seed brokers, and returns nil if it
// exists already. A nil ctx is an error wrapping [lifecycle.ErrNilContext].
func CreateTopic(ctx context.Context, brokers []string, topic string, partitions int32, replicas int16, opts ...kgo.Opt) error {
	if ctx == nil {
		return fmt.Errorf("kafka: CreateTopic: %w", lifecycle.ErrNilContext)
	}
	if partitions < 1 {
		return fmt.Errorf("kafka: partitions %d: must be at least 1: %w", partitions, ErrConfig)
	}
	if replicas < 1 {
		return fmt.Errorf("kafka: replicas %d: must be at least 1: %w", replicas, ErrConfig)
	}
	if err := checkTarget("brokers", brokers, "topic", topic); err != nil {
		return err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return fmt.Errorf("kafka: opts: %w: %w", err, ErrConfig)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, replicas
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30_000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("kafka: creating topic %q: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka: creating topic %q: %w", topic, err)
		}
	}
	return nil
}
