// Package jetstream consumes events from a NATS JetStream stream
// partitioned by customer ID, with nats.go: the stream's subjects are
// one per partition (Subject.0, Subject.1, ...), each read by a durable
// pull consumer of its own with explicit acknowledgements. A [Consumer]
// records each partition's messages in batches into a
// [lifecycle.Store] and acknowledges them only after the store has
// committed them; a [Producer] publishes events to the subject of their
// customer's partition.
//
// # Who reads a partition
//
// Every Consumer process pulls from every partition's durable consumer,
// in the priority group [Group] with the pinned-client policy: the server
// gives a partition's messages to one process at a time (the pinned
// one), and the others wait on standby. When the pinned process stops
// (Run unpins what it held) or dies (it stops pulling, and the server
// unpins it after [Config.PinnedTTL]), a waiting process is pinned and
// receives what the old one had not acknowledged: at once for a process
// that stopped (Run negatively acknowledges the batch it abandons), after
// [Config.AckWait] for one that died. Unlike a Kafka group, JetStream does
// not balance the partitions over the processes: a partition stays with
// the process it was first pinned to until that process stops. Processes
// started one after the other would hold unequal shares, so each may be
// told which partitions it prefers ([Config.Prefer]): it pulls from those
// at once and from the others, as a standby, only after a delay.
//
// A batch is acknowledged message by message once the store has committed
// it; an acknowledgement lost on the way gets the message delivered
// again, which the store's identity check makes a duplicate.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
)

// Group is the priority group the partitions' consumers pin clients in.
const Group = "clm"

// ErrConfig is wrapped by the errors of [Setup], [NewConsumer] and
// [NewProducer] for a configuration they cannot use; the error names the
// field.
var ErrConfig = errors.New("jetstream: invalid configuration")

// Config configures the stream, its consumers and producers. Consumers
// and producers of one stream must agree on Subject and Partitions.
type Config struct {
	// Stream is the stream of events (default "CLM_EVENTS"), holding the
	// subjects Subject.0 to Subject.(Partitions-1). Stream,
	// DeadLetterStream and Durable are NATS names (no spaces, controls,
	// '.', '*', '>', '/' or '\'); Subject and DeadLetterSubject are
	// subjects of non-empty tokens without wildcards: other values are
	// ErrConfig errors.
	Stream string
	// Subject is the prefix of the partitions' subjects (default
	// "clm.events").
	Subject string
	// Partitions is the number of partitions (required, from 1 to
	// MaxPartitions).
	Partitions int
	// Durable is the prefix of the partitions' durable consumers
	// (default "clm"): partition p is read by Durable-p.
	Durable string
	// DeadLetterStream (default Stream + "_DEAD") holds the refused
	// messages, published to DeadLetterSubject.p (default "clm.dead").
	DeadLetterStream, DeadLetterSubject string
	// Replicas of both streams (default 1); a production cluster wants 3.
	Replicas int
	// Batch is the most messages of one partition recorded with one
	// RecordBatch (default 500).
	Batch int
	// FetchWait is how long a pull waits for messages (default 1s; 0
	// means the default, and a FetchWait below MinFetchWait is refused:
	// a pull that ends before the server answers it reads nothing).
	FetchWait time.Duration
	// AckWait is how long the server waits for a message's
	// acknowledgement before delivering it again (default 30s); it must
	// exceed the time a batch takes to record.
	AckWait time.Duration
	// PinnedTTL is how long a process that has stopped pulling keeps its
	// partitions (default 10s). A process does not pull while a batch
	// records, so a batch that takes longer lets a standby be pinned,
	// which records the partition's next messages meanwhile (the store
	// keeps the result right, but the partition then has two owners for
	// a while): keep batches well within it.
	PinnedTTL time.Duration
	// Prefer lists the partitions a consumer pulls from as soon as it
	// runs (default: all); it pulls from the others only after
	// StandbyDelay (default 2 × PinnedTTL), as a standby, so that
	// processes started together, each preferring its share (such as the
	// partitions p with p % members == member), split the partitions
	// between them, and a partition whose preferring process is not
	// running is still read.
	Prefer       []int
	StandbyDelay time.Duration
	// Processor adjusts decoding, retries and logging.
	Processor stream.Options
}

// badName says why a stream or durable consumer name cannot be used
// (NATS names hold no spaces, controls, '.', '*', '>', '/' or '\\'), or
// returns "".
func badName(v string) string {
	if i := strings.IndexFunc(v, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(".*>/\\", r) || r == utf8.RuneError
	}); i >= 0 {
		return "a NATS name holds no spaces, controls, '.', '*', '>', '/' or '\\'"
	}
	return ""
}

// badSubject says why a subject prefix cannot be used (NATS subjects are
// tokens separated by '.', none empty, with no spaces or controls; a
// prefix holds no wildcard '*' or '>', since the partition's number
// follows it), or returns "".
func badSubject(v string) string {
	for _, tok := range strings.Split(v, ".") {
		switch {
		case tok == "":
			return "a NATS subject has no empty token (a leading, trailing or doubled '.')"
		case strings.ContainsAny(tok, "*>"):
			return "a subject prefix holds no wildcard ('*', '>'): the partition's number follows it"
		case strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError }) >= 0:
			return "a NATS subject holds no spaces or controls"
		}
	}
	return ""
}

// MinFetchWait is the shortest Config.FetchWait: a pull that expires
// sooner can end before the server answers it, so that the consumer reads
// nothing, for ever (1µs did, in a test on one machine).
const MinFetchWait = 10 * time.Millisecond

// MaxPartitions is the most partitions a Config may have: each is a
// durable consumer on the server, and a goroutine of every Consumer.
const MaxPartitions = 10_000

// withDefaults fills in the defaults and checks the fields.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Partitions < 1 || cfg.Partitions > MaxPartitions {
		return cfg, fmt.Errorf("jetstream: Config.Partitions %d: must be from 1 to %d: %w", cfg.Partitions, MaxPartitions, ErrConfig)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"FetchWait", cfg.FetchWait}, {"AckWait", cfg.AckWait}, {"PinnedTTL", cfg.PinnedTTL}, {"StandbyDelay", cfg.StandbyDelay}} {
		if d.v < 0 {
			return cfg, fmt.Errorf("jetstream: Config.%s %s: must not be negative: %w", d.name, d.v, ErrConfig)
		}
	}
	if cfg.FetchWait > 0 && cfg.FetchWait < MinFetchWait {
		return cfg, fmt.Errorf("jetstream: Config.FetchWait %s: must be 0 (the default) or at least %s: %w", cfg.FetchWait, MinFetchWait, ErrConfig)
	}
	for _, p := range cfg.Prefer {
		if p < 0 || p >= cfg.Partitions {
			return cfg, fmt.Errorf("jetstream: Config.Prefer holds partition %d: want 0 to %d: %w", p, cfg.Partitions-1, ErrConfig)
		}
	}
	if cfg.Batch < 0 || cfg.Replicas < 0 {
		return cfg, fmt.Errorf("jetstream: Config.Batch %d, Config.Replicas %d: must not be negative: %w", cfg.Batch, cfg.Replicas, ErrConfig)
	}
	if f := cfg.Processor.Format; !f.Known() {
		return cfg, fmt.Errorf("jetstream: Config.Processor.Format %d: want stream.FormatAuto, FormatJSON or FormatSegment: %w", f, ErrConfig)
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.Stream, "CLM_EVENTS")
	def(&cfg.Subject, "clm.events")
	def(&cfg.Durable, "clm")
	def(&cfg.DeadLetterStream, cfg.Stream+"_DEAD")
	def(&cfg.DeadLetterSubject, "clm.dead")
	for _, n := range []struct{ field, v string }{{"Stream", cfg.Stream}, {"DeadLetterStream", cfg.DeadLetterStream}, {"Durable", cfg.Durable}} {
		if why := badName(n.v); why != "" {
			return cfg, fmt.Errorf("jetstream: Config.%s %q: %s: %w", n.field, clip.String(n.v), why, ErrConfig)
		}
	}
	for _, n := range []struct{ field, v string }{{"Subject", cfg.Subject}, {"DeadLetterSubject", cfg.DeadLetterSubject}} {
		if why := badSubject(n.v); why != "" {
			return cfg, fmt.Errorf("jetstream: Config.%s %q: %s: %w", n.field, clip.String(n.v), why, ErrConfig)
		}
	}
	if cfg.DeadLetterSubject == cfg.Subject {
		return cfg, fmt.Errorf("jetstream: Config.DeadLetterSubject %q is the subject of events: %w", clip.String(cfg.DeadLetterSubject), ErrConfig)
	}
	if cfg.DeadLetterStream == cfg.Stream {
		return cfg, fmt.Errorf("jetstream: Config.DeadLetterStream %q is the stream of events: %w", clip.String(cfg.DeadLetterStream), ErrConfig)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Batch == 0 {
		cfg.Batch = 500
	}
	if cfg.FetchWait == 0 {
		cfg.FetchWait = time.Second
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = 10 * time.Second
	}
	if cfg.StandbyDelay == 0 {
		cfg.StandbyDelay = math.MaxInt64 // 2 × PinnedTTL, saturated: never negative
		if cfg.PinnedTTL <= math.MaxInt64/2 {
			cfg.StandbyDelay = 2 * cfg.PinnedTTL
		}
	}
	return cfg, nil
}

// subject is partition p's subject under prefix.
func subject(prefix string, p int) string { return prefix + "." + strconv.Itoa(p) }

// partitionsKey is the stream metadata key under which Setup records the
// number of partitions.
const partitionsKey = "clm.partitions"

// checkPartitions refuses a Config whose Partitions is not the number the
// stream was set up with: a consumer told fewer would never read the
// others, and a producer told another number would send customers to
// other partitions. It reads the number Setup recorded in the stream's
// metadata; for a stream set up before that, it looks for the durable
// consumer of one partition more than cfg has. A stream that does not
// exist passes.
func checkPartitions(ctx context.Context, js jetstream.JetStream, cfg Config) error {
	st, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("jetstream: stream %q: %w", cfg.Stream, err)
	}
	want := strconv.Itoa(cfg.Partitions)
	if n, ok := st.CachedInfo().Config.Metadata[partitionsKey]; ok {
		if n != want {
			return fmt.Errorf("jetstream: Config.Partitions %d: stream %q was set up with %s partitions (its metadata %s); every consumer and producer of a stream must use its number: %w", cfg.Partitions, cfg.Stream, n, partitionsKey, ErrConfig)
		}
		return nil
	}
	extra := cfg.Durable + "-" + want
	if _, err := js.Consumer(ctx, cfg.Stream, extra); err == nil {
		return fmt.Errorf("jetstream: Config.Partitions %d: stream %q has a consumer %q for a partition beyond that: every consumer and producer of a stream must use its number of partitions: %w", cfg.Partitions, cfg.Stream, extra, ErrConfig)
	}
	return nil
}

// Setup creates or updates the stream of events, the dead-letter stream
// and every partition's durable consumer. It records the number of
// partitions in the stream's metadata ("clm.partitions"), and refuses,
// with an error wrapping [ErrConfig], to set up an existing stream with
// another number: the customers' partitions would change, and messages
// in the partitions left out would never be read. A nil js is an error
// wrapping ErrConfig, a nil ctx one wrapping [lifecycle.ErrNilContext].
func Setup(ctx context.Context, js jetstream.JetStream, cfg Config) error {
	switch {
	case ctx == nil:
		return fmt.Errorf("jetstream: Setup: %w", lifecycle.ErrNilContext)
	case js == nil:
		return fmt.Errorf("jetstream: Setup: JetStream is nil: %w", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if err := checkPartitions(ctx, js, cfg); err != nil {
		return err
	}
	for _, s := range []jetstream.StreamConfig{
		{Name: cfg.Stream, Subjects: []string{cfg.Subject + ".*"}, Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
			Metadata: map[string]string{partitionsKey: strconv.Itoa(cfg.Partitions)}},
		{Name: cfg.DeadLetterStream, Subjects: []string{cfg.DeadLetterSubject + ".*"}, Storage: jetstream.FileStorage, Replicas: cfg.Replicas},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, s); err != nil {
			return fmt.Errorf("jetstream: stream %q: %w", s.Name, err)
		}
	}
	for p := range cfg.Partitions {
		cc := jetstream.ConsumerConfig{
			Durable:        cfg.Durable + "-" + strconv.Itoa(p),
			FilterSubject:  subject(cfg.Subject, p),
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        cfg.AckWait,
			MaxAckPending:  max(1000, 2*cfg.Batch),
			DeliverPolicy:  jetstream.DeliverAllPolicy,
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PinnedTTL:      cfg.PinnedTTL,
			PriorityGroups: []string{Group},
		}
		if _, err := js.CreateOrUpdateConsumer(ctx, cfg.Stream, cc); err != nil {
			return fmt.Errorf("jetstream: consumer %q: %w", cc.Durable, err)
		}
	}
	return nil
}

// Consumer reads every partition of a stream (see the package
// documentation).
type Consumer struct {
	cfg   Config
	js    jetstream.JetStream
	p     *stream.Processor
	log   *slog.Logger
	ranMu sync.Mutex
	ran   bool
}

// NewConsumer returns a consumer that records into t's store. The
// stream and its consumers must exist ([Setup]).
func NewConsumer(js jetstream.JetStream, t *lifecycle.Tracker, cfg Config) (*Consumer, error) {
	if js == nil || t == nil {
		return nil, fmt.Errorf("jetstream: JetStream or tracker is nil: %w", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Consumer{cfg: cfg, js: js, log: cfg.Processor.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.p = stream.NewProcessor(t, deadLetterer{c}, cfg.Processor)
	return c, nil
}

// Stats returns the consumer's counts and the lag of the partitions it
// has recorded from.
// A Consumer not made by [NewConsumer] has none.
func (c *Consumer) Stats() stream.Stats {
	if c == nil {
		return stream.Stats{}
	}
	return c.p.Stats()
}

// Run pulls from every partition until ctx ends, then abandons the
// batches in flight (negatively acknowledged, so that the next pinned
// process gets them at once) and unpins the partitions it was reading. It
// returns nil when ctx ended it, and an error when a partition's
// consumer cannot be found, when the stream was set up with another
// number of partitions than Config.Partitions (wrapping [ErrConfig]: the
// partitions beyond it would never be read), or when Run is called twice
// or on a Consumer not made by [NewConsumer] (wrapping ErrConfig); for a
// nil ctx, one wrapping [lifecycle.ErrNilContext].
func (c *Consumer) Run(ctx context.Context) error {
	switch {
	case c == nil || c.p == nil:
		return fmt.Errorf("jetstream: Run: a Consumer not made by NewConsumer: %w", ErrConfig)
	case ctx == nil:
		return fmt.Errorf("jetstream: Run: %w", lifecycle.ErrNilContext)
	}
	c.ranMu.Lock()
	if c.ran {
		c.ranMu.Unlock()
		return fmt.Errorf("jetstream: Run called twice: %w", ErrConfig)
	}
	c.ran = true
	c.ranMu.Unlock()
	if err := checkPartitions(ctx, c.js, c.cfg); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	cons := make([]jetstream.Consumer, c.cfg.Partitions)
	for p := range cons {
		name := c.cfg.Durable + "-" + strconv.Itoa(p)
		var err error
		if cons[p], err = c.js.Consumer(ctx, c.cfg.Stream, name); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("jetstream: consumer %q of stream %q (run Setup first): %w", name, c.cfg.Stream, err)
		}
	}
	preferred := make([]bool, len(cons))
	for _, p := range c.cfg.Prefer {
		preferred[p] = true
	}
	var wg sync.WaitGroup
	held := make([]bool, len(cons))
	for p, cn := range cons {
		wg.Go(func() {
			if len(c.cfg.Prefer) > 0 && !preferred[p] {
				sleep(ctx, c.cfg.StandbyDelay)
			}
			held[p] = c.partition(ctx, int32(p), cn)
		})
	}
	wg.Wait()
	c.p.DropLag()
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if s, err := c.js.Stream(uctx, c.cfg.Stream); err == nil {
		for p, h := range held {
			if h {
				_ = s.UnpinConsumer(uctx, c.cfg.Durable+"-"+strconv.Itoa(p), Group)
			}
		}
	}
	return nil
}

// partition reads one partition until ctx ends; it reports whether this
// process held the partition's pin when it stopped: it has had messages,
// and no pull since was refused for another process's pin.
func (c *Consumer) partition(ctx context.Context, p int32, cn jetstream.Consumer) (held bool) {
	for ctx.Err() == nil {
		batch, err := cn.Fetch(c.cfg.Batch, jetstream.FetchMaxWait(c.cfg.FetchWait), jetstream.FetchPriorityGroup(Group))
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("jetstream: pull failed", "partition", p, "err", err)
				sleep(ctx, c.cfg.FetchWait)
			}
			continue
		}
		var got []jetstream.Msg
		for m := range batch.Messages() {
			got = append(got, m)
		}
		err = batch.Error()
		if err != nil && ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrPinIDMismatch) {
			c.log.Warn("jetstream: pull ended", "partition", p, "err", err)
		}
		switch {
		case len(got) > 0:
			held = true // pinned to this process
		case errors.Is(err, jetstream.ErrPinIDMismatch):
			held = false // pinned to another, whose lag this one no longer knows
			c.p.DropLag(p)
		}
		// An empty pull leaves held as it was: a process that pulls more
		// often than the pin's TTL keeps its pin while its partition is idle.
		if len(got) == 0 {
			continue
		}
		msgs := make([]stream.Message, len(got))
		var pending uint64
		for i, m := range got {
			msgs[i] = stream.Message{Topic: m.Subject(), Partition: p, Value: m.Data()}
			if md, err := m.Metadata(); err == nil {
				msgs[i].Offset = int64(md.Sequence.Stream)
				pending = md.NumPending
			}
			if f := m.Headers().Get(stream.HeaderFormat); f != "" {
				msgs[i].SetFormat(f)
			}
			for k, vs := range m.Headers() {
				for _, v := range vs {
					msgs[i].Headers = append(msgs[i].Headers, stream.Header{Key: k, Value: []byte(v)})
				}
			}
			if ks := m.Headers().Get(keyHeader); ks != "" {
				msgs[i].Key = []byte(ks)
			}
		}
		if _, err := c.p.Process(ctx, msgs); err != nil {
			c.log.Info("jetstream: batch abandoned", "partition", p, "from", msgs[0].Offset, "err", err)
			for _, m := range got {
				_ = m.Nak()
			}
			return held
		}
		for _, m := range got {
			if err := m.Ack(); err != nil {
				c.log.Warn("jetstream: ack failed; the message will be delivered again", "partition", p, "err", err)
			}
		}
		c.p.SetLag(p, int64(pending))
	}
	return held
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// keyHeader carries a message's key (the customer ID) on JetStream,
// where subjects, not keys, choose the partition.
const keyHeader = "clm-key"

// deadLetterer publishes a consumer's dead letters to the dead-letter
// subject of their partition and waits for the stream to store them.
type deadLetterer struct{ c *Consumer }

func (d deadLetterer) DeadLetter(ctx context.Context, letters []stream.DeadLetter) error {
	futures := make([]jetstream.PubAckFuture, 0, len(letters))
	for _, l := range letters {
		m := nats.NewMsg(subject(d.c.cfg.DeadLetterSubject, int(l.Message.Partition)))
		m.Data = l.Message.Value
		for _, h := range l.Message.Headers {
			// (Not NATS's own, Nats-…: a publisher's condition, such as
			// Nats-Expected-Stream, holds for the message, and would fail
			// its dead letter's publish in another stream.)
			// Nor one whose name nats.go refuses to publish (another
			// client may have sent it): the publish would fail for ever.
			if !stream.DeadLetterHeader(h.Key) && h.Key != keyHeader && !strings.HasPrefix(strings.ToLower(h.Key), "nats-") && publishableKey(h.Key) {
				m.Header.Add(h.Key, string(h.Value))
			}
		}
		m.Header.Set(stream.HeaderError, stream.ErrorHeader(l.Err))
		m.Header.Set(stream.HeaderSource, l.Message.Source())
		if len(l.Message.Key) > 0 {
			m.Header.Set(keyHeader, string(l.Message.Key))
		}
		f, err := d.publish(m)
		if err != nil {
			return fmt.Errorf("jetstream: publishing a dead letter to %q: %w", m.Subject, err)
		}
		futures = append(futures, f)
	}
	// A dead letter too large for the dead-letter stream (its MaxMsgSize
	// or the server's 64 KiB of headers, which the server checks) goes
	// again, shrunk.
	for len(futures) > 0 {
		var again []jetstream.PubAckFuture
		err := wait(ctx, futures, nil, func(f jetstream.PubAckFuture, err error) error {
			m := f.Msg()
			if !tooLarge(err) || !shrink(m) {
				return err
			}
			g, err := d.publish(m)
			if err != nil {
				return err
			}
			again = append(again, g)
			return nil
		})
		if err != nil {
			return err
		}
		futures = again
	}
	return nil
}

// publish publishes m, shrinking it while it is too large for the
// connection (which the client checks), so that it cannot block the
// partition.
func (d deadLetterer) publish(m *nats.Msg) (jetstream.PubAckFuture, error) {
	for {
		f, err := d.c.js.PublishMsgAsync(m)
		if !tooLarge(err) || !shrink(m) {
			return f, err
		}
	}
}

// publishableKey reports whether nats.go publishes a header named k: a
// name of printable ASCII without any of "(),/:;<=>?@[\]{}.
func publishableKey(k string) bool {
	if k == "" {
		return false
	}
	for i := range len(k) {
		if c := k[i]; c < 33 || c > 126 || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// errHeaderTooLarge is the server's error code for a message whose
// headers pass its 64 KiB (nats.go names no constant for it).
const errHeaderTooLarge jetstream.ErrorCode = 10097

// tooLarge reports whether a publish failed for the message's size: the
// connection's maximum payload (checked by the client), the stream's
// maximum message size or the server's maximum of headers (by the
// server).
func tooLarge(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, nats.ErrMaxPayload) ||
		errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum || api.ErrorCode == errHeaderTooLarge)
}

// shrink makes m, a dead letter too large to publish, smaller, and
// reports whether it could: first without its value (whose size the
// clm-dropped header gives), then also without the message's own headers
// and its key, keeping clm-error, clm-source and clm-dropped only.
func shrink(m *nats.Msg) bool {
	if m.Header.Get(stream.HeaderDropped) == "" {
		m.Header.Set(stream.HeaderDropped, strconv.Itoa(len(m.Data)))
		m.Data = nil
		return true
	}
	shrunk := false
	for k := range m.Header {
		if k != stream.HeaderError && k != stream.HeaderSource && k != stream.HeaderDropped {
			delete(m.Header, k)
			shrunk = true
		}
	}
	return shrunk
}

// wait waits for every publish of futures to be acknowledged, calling
// ok (if not nil) with each acknowledgement in order. A failed publish
// ends the wait with its error, unless failed (if not nil) returns nil
// for it (having published the message again, say).
func wait(ctx context.Context, futures []jetstream.PubAckFuture, ok func(i int, a *jetstream.PubAck),
	failed func(f jetstream.PubAckFuture, err error) error) error {
	for i, f := range futures {
		select {
		case a := <-f.Ok():
			if ok != nil {
				ok(i, a)
			}
		case err := <-f.Err():
			if failed != nil {
				err = failed(f, err)
			}
			if err != nil {
				return fmt.Errorf("jetstream: publishing to %q: %w", f.Msg().Subject, err)
			}
		case <-ctx.Done():
			return fmt.Errorf("jetstream: waiting for the stream to store %d messages: %w", len(futures)-i, context.Cause(ctx))
		}
	}
	return nil
}

// Producer publishes events to the subjects of their customers'
// partitions.
type Producer struct {
	js  jetstream.JetStream
	cfg Config
}

// NewProducer returns a producer to the stream cfg describes (Subject
// and Partitions).
func NewProducer(js jetstream.JetStream, cfg Config) (*Producer, error) {
	if js == nil {
		return nil, fmt.Errorf("jetstream: JetStream is nil: %w", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Producer{js: js, cfg: cfg}, nil
}

// Publish publishes each event as its own message to the subject of its
// customer's partition (see [stream.Encode] and [stream.Partition]) and
// waits until the stream has stored them. Its errors are as for
// [Producer.Send].
func (p *Producer) Publish(ctx context.Context, events ...lifecycle.Event) error {
	return stream.Publish(ctx, p, events...)
}

// Send publishes messages as they are to the subjects of their keys'
// partitions, the key in a header, and returns where each was stored
// (the partition and the stream sequence). It waits until the stream has
// stored all of them; on an error some may have been stored. A Producer
// not made by [NewProducer] is an error wrapping [ErrConfig], a nil ctx
// one wrapping [lifecycle.ErrNilContext]; nothing is sent.
func (p *Producer) Send(ctx context.Context, msgs []stream.Outgoing) ([]stream.Position, error) {
	switch {
	case p == nil || p.js == nil:
		return nil, fmt.Errorf("jetstream: Send: a Producer not made by NewProducer: %w", ErrConfig)
	case ctx == nil:
		return nil, fmt.Errorf("jetstream: Send: %w", lifecycle.ErrNilContext)
	}
	pos := make([]stream.Position, len(msgs))
	const window = 2000
	for start := 0; start < len(msgs); start += window {
		end := min(start+window, len(msgs))
		futures := make([]jetstream.PubAckFuture, 0, end-start)
		for i := start; i < end; i++ {
			part := stream.Partition(msgs[i].Key, p.cfg.Partitions)
			pos[i].Partition = part
			m := nats.NewMsg(subject(p.cfg.Subject, int(part)))
			m.Data = msgs[i].Value
			m.Header.Set(keyHeader, msgs[i].Key)
			f, err := p.js.PublishMsgAsync(m)
			if err != nil {
				return pos[:start], fmt.Errorf("jetstream: publishing to %q: %w", m.Subject, err)
			}
			futures = append(futures, f)
		}
		if err := wait(ctx, futures, func(i int, a *jetstream.PubAck) { pos[start+i].Offset = int64(a.Sequence) }, nil); err != nil {
			return pos[:start], err
		}
	}
	return pos, nil
}
