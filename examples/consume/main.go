// Command consume records events from a Kafka topic or a NATS JetStream
// stream, partitioned by customer ID, into a clm store, with
// lifecycle/stream: it is the consumer a shop runs beside its event log,
// as many times as it wants consumers. It is a nested module (the root
// module must not depend on the engines' clients or the SQL drivers).
//
//	cd examples/consume
//	go run . -engine kafka -brokers 127.0.0.1:9092 -topic events -group clm \
//	    -store postgres -dsn "$DATABASE_URL" -metrics 127.0.0.1:9464
//	go run . -engine jetstream -nats nats://127.0.0.1:4222 -partitions 12 \
//	    -member 0 -members 3 -store postgres -dsn "$DATABASE_URL"
//
// With -produce N it first publishes N generated shop events (from
// lifecycle/shopsim), keyed by customer ID, so that it can be tried on an
// empty topic or stream. With -create (the default) it creates the topic
// (-partitions, on Kafka) or the streams and their consumers (on
// JetStream) if they are missing.
//
// Every -progress interval it prints a line on standard error:
//
//	consume: batches=12 messages=6000 events=6000 applied=5800 duplicates=200 dead_letters=3 retries=0 lag=0 (1500 events/s)
//
// and with -metrics it serves Prometheus metrics at /metrics: batches,
// messages, events (by result: applied, duplicate), dead letters and
// retries (counters, clm_stream_*_total), and the lag of each partition
// this consumer reads (gauge clm_stream_lag_messages, by partition).
//
// It runs until interrupted (Ctrl-C or SIGTERM), then abandons the batch
// in flight (the next owner records it again) and leaves. Exit status: 0
// after an interrupt (also one during set-up, which it reports) or -h, 1
// on a failure, 2 for an unknown flag or a value parse refuses (-engine,
// -store, -model, -format and the numbers); a name the log refuses
// (-topic, -group, -dead-topic, -stream, -subject, -durable) and an
// unusable -brokers, -nats or -dsn (or a -dsn of the other dialect than
// -store's) are failures (1), whose message begins with the flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clmkit/clm/examples/internal/cli"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

const name = "consume"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && ctx.Err() != nil {
		// Interrupted before consuming began (run returns nil for an
		// interrupt while consuming): a stop asked for, not a failure.
		fmt.Fprintf(os.Stderr, "%s: interrupted: %v\n", name, err)
		err = nil
	}
	stop()
	os.Exit(cli.Status(name, err, os.Stderr))
}

// config holds the flags.
type config struct {
	engine, brokers, topic, group, deadTopic string
	natsURL, streamName, subject, durable    string
	partitions, replicas, member, members    int
	create                                   bool
	storeKind, dsn, modelName, format        string
	batch, produce                           int
	metrics                                  string
	progress                                 time.Duration
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := cli.NewFlagSet(name, `Consume events from a Kafka topic or a NATS JetStream stream partitioned by
customer ID, and record them into a clm store; commit (Kafka) or acknowledge
(JetStream) only after the store has committed them. Bad messages go to a
dead-letter topic or stream. Runs until interrupted.`, stderr)
	fs.StringVar(&c.engine, "engine", "kafka", "the log: kafka or jetstream")
	fs.StringVar(&c.brokers, "brokers", "127.0.0.1:9092", "Kafka: seed brokers, comma-separated")
	fs.StringVar(&c.topic, "topic", "events", "Kafka: the topic of events")
	fs.StringVar(&c.group, "group", "clm", "Kafka: the consumer group")
	fs.StringVar(&c.deadTopic, "dead-topic", "", "Kafka: the dead-letter topic (default the topic + \".dead\")")
	fs.StringVar(&c.natsURL, "nats", nats.DefaultURL, "JetStream: the NATS server URL")
	fs.StringVar(&c.streamName, "stream", "CLM_EVENTS", "JetStream: the stream of events (dead letters: the stream + \"_DEAD\")")
	fs.StringVar(&c.subject, "subject", "clm.events", "JetStream: the prefix of the partitions' subjects")
	fs.StringVar(&c.durable, "durable", "clm", "JetStream: the prefix of the partitions' durable consumers")
	fs.IntVar(&c.partitions, "partitions", 12, "partitions: JetStream's (required to agree with producers), Kafka's for -create")
	fs.IntVar(&c.replicas, "replicas", 1, "replicas of what -create creates (a production cluster wants 3)")
	fs.IntVar(&c.member, "member", 0, "JetStream: this consumer's number, from 0, among -members: it prefers the partitions p with p % members == member")
	fs.IntVar(&c.members, "members", 1, "JetStream: how many consumers share the partitions")
	fs.BoolVar(&c.create, "create", true, "create the topic, or the streams and consumers, if missing")
	fs.StringVar(&c.storeKind, "store", "memory", "the store: memory, sqlite or postgres")
	fs.StringVar(&c.dsn, "dsn", "", "the SQL store's URL (sqlite:PATH, postgres://...); default for postgres: $CLM_POSTGRES_DSN, for sqlite: sqlite:consume.db")
	fs.StringVar(&c.modelName, "model", "sterne-cutler", "the lifecycle model")
	fs.StringVar(&c.format, "format", "auto", "the messages' format: auto, json or segment")
	fs.IntVar(&c.batch, "batch", 500, "the most messages of one partition recorded at once")
	fs.IntVar(&c.produce, "produce", 0, "publish this many generated shop events first (at most 10,000,000)")
	fs.StringVar(&c.metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464)")
	fs.DurationVar(&c.progress, "progress", 10*time.Second, "print a progress line this often (0: never)")
	if err := cli.Parse(fs, args); err != nil {
		return c, err
	}
	switch {
	case c.engine != "kafka" && c.engine != "jetstream":
		return c, cli.Usagef("-engine %q: want kafka or jetstream", c.engine)
	case c.storeKind != "memory" && c.storeKind != "sqlite" && c.storeKind != "postgres":
		return c, cli.Usagef("-store %q: want memory, sqlite or postgres", c.storeKind)
	case c.partitions < 1 || c.partitions > math.MaxInt32:
		return c, cli.Usagef("-partitions %d: must be from 1 to %d", c.partitions, math.MaxInt32)
	case c.replicas < 1 || c.replicas > 32767:
		return c, cli.Usagef("-replicas %d: must be from 1 to 32767", c.replicas)
	case c.members < 1:
		return c, cli.Usagef("-members %d: must be at least 1", c.members)
	case c.member < 0 || c.member >= c.members:
		return c, cli.Usagef("-member %d: must be from 0 to -members - 1 (%d)", c.member, c.members-1)
	case c.batch < 1:
		return c, cli.Usagef("-batch %d: must be at least 1", c.batch)
	case c.produce < 0 || c.produce > shopsim.MaxEvents:
		return c, cli.Usagef("-produce %d: must be from 0 to %d (shopsim.MaxEvents)", c.produce, shopsim.MaxEvents)
	case c.progress < 0:
		return c, cli.Usagef("-progress %s: must not be negative", c.progress)
	}
	if _, err := stream.ParseFormat(c.format); err != nil {
		return c, cli.Usagef("-format %q: want auto, json or segment", c.format)
	}
	if _, err := model.Lookup(c.modelName); err != nil {
		return c, cli.Usagef("-model: %w", err)
	}
	if c.storeKind == "postgres" && c.dsn == "" {
		c.dsn = os.Getenv("CLM_POSTGRES_DSN")
		if c.dsn == "" {
			return c, cli.Usagef("-store postgres needs -dsn (or $CLM_POSTGRES_DSN)")
		}
	}
	if c.storeKind == "sqlite" && c.dsn == "" {
		c.dsn = "sqlite:consume.db"
	}
	// The dialect is read from the URL as Connect reads it, before Connect
	// creates or migrates anything in a database of the other one.
	sqlite := strings.HasPrefix(c.dsn, "sqlite:")
	pg := strings.HasPrefix(c.dsn, "postgres://") || strings.HasPrefix(c.dsn, "postgresql://")
	if c.storeKind == "sqlite" && pg || c.storeKind == "postgres" && sqlite {
		return c, fmt.Errorf("-dsn: names a database of the other dialect than -store %s (sqlite:PATH is SQLite, postgres://… PostgreSQL)", c.storeKind)
	}
	return c, nil
}

// consumer is either engine's consumer.
type consumer interface {
	Run(ctx context.Context) error
	Stats() stream.Stats
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, _ := model.Lookup(c.modelName)
	format, _ := stream.ParseFormat(c.format)
	var st lifecycle.Store = store.NewMemory()
	if c.storeKind != "memory" {
		s, err := sqlstore.Connect(ctx, c.dsn)
		if err != nil {
			return fmt.Errorf("-dsn: %w", err) // (Connect's errors hide passwords)
		}
		defer s.Close()
		st = s
	}
	tr := lifecycle.NewTracker(m, st, lifecycle.WithLogger(log))
	popts := stream.Options{Format: format, Logger: log}

	var cons consumer
	switch c.engine {
	case "kafka":
		brokers := strings.Split(c.brokers, ",")
		if c.create {
			for _, t := range []struct{ flag, name string }{{"-topic", c.topic}, {"-dead-topic", cmp(c.deadTopic, c.topic+".dead")}} {
				if err := kafka.CreateTopic(ctx, brokers, t.name, int32(c.partitions), int16(c.replicas)); err != nil {
					return unreachable(flagged(err, t.flag), c.brokers)
				}
			}
		}
		if c.produce > 0 {
			p, err := kafka.NewProducer(brokers, c.topic)
			if err != nil {
				return flagged(err, "-topic")
			}
			err = p.Publish(ctx, shopsim.Stream(shopsim.StreamConfig{Events: c.produce, Seed: 1})...)
			p.Close()
			if err != nil {
				return unreachable(err, c.brokers)
			}
		}
		cons, err = kafka.NewConsumer(tr, kafka.Config{Brokers: brokers, Topic: c.topic, Group: c.group,
			DeadLetterTopic: c.deadTopic, Batch: c.batch, Processor: popts})
		if err != nil {
			return flagged(err, "")
		}
	case "jetstream":
		nc, err := nats.Connect(c.natsURL)
		if err != nil {
			return fmt.Errorf("-nats: connecting to %s: %w", c.natsURL, err)
		}
		defer nc.Close()
		js, err := njs.New(nc)
		if err != nil {
			return err
		}
		var prefer []int
		for p := c.member; p < c.partitions; p += c.members {
			prefer = append(prefer, p)
		}
		cfg := jetstream.Config{Stream: c.streamName, Subject: c.subject, Durable: c.durable, Partitions: c.partitions,
			Replicas: c.replicas, Batch: c.batch, Processor: popts}
		if c.create {
			if err := jetstream.Setup(ctx, js, cfg); err != nil {
				return flagged(err, "")
			}
		}
		if c.produce > 0 {
			p, err := jetstream.NewProducer(js, cfg)
			if err != nil {
				return flagged(err, "")
			}
			if err := p.Publish(ctx, shopsim.Stream(shopsim.StreamConfig{Events: c.produce, Seed: 1})...); err != nil {
				return err
			}
		}
		if c.members > 1 {
			cfg.Prefer = prefer
		}
		cons, err = jetstream.NewConsumer(js, tr, cfg)
		if err != nil {
			return flagged(err, "")
		}
	}

	if c.metrics != "" {
		ln, err := net.Listen("tcp", c.metrics)
		if err != nil {
			return fmt.Errorf("-metrics %s: %w", c.metrics, err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(collector{cons})
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(stderr, "%s: metrics at http://%s/metrics\n", name, ln.Addr())
	}
	fmt.Fprintf(stderr, "%s: consuming from %s into %s\n", name, c.engine, c.storeKind)

	done := make(chan struct{})
	if c.progress > 0 {
		go func() {
			tk := time.NewTicker(c.progress)
			defer tk.Stop()
			var last int64
			for {
				select {
				case <-done:
					return
				case <-tk.C:
					s := cons.Stats()
					fmt.Fprintf(stderr, "%s: %s (%.0f events/s)\n", name, s, float64(s.Events-last)/c.progress.Seconds())
					last = s.Events
				}
			}
		}()
	}
	err = cons.Run(ctx)
	close(done)
	fmt.Fprintf(stdout, "%s: stopped: %s\n", name, cons.Stats())
	return err
}

// configFlags maps the engines' configuration fields, as their errors
// name them, to the flags that set them (longer names first).
var configFlags = []struct{ field, flag string }{
	{"Config.DeadLetterTopic", "-dead-topic"}, {"Config.DeadLetterStream", "-stream"}, {"Config.DeadLetterSubject", "-subject"},
	{"Config.Brokers", "-brokers"}, {"Config.Topic", "-topic"}, {"Config.Group", "-group"},
	{"Config.Stream", "-stream"}, {"Config.Subject", "-subject"}, {"Config.Durable", "-durable"},
	{"Config.Partitions", "-partitions"}, {"Config.Replicas", "-replicas"}, {"Config.Batch", "-batch"},
	{"brokers", "-brokers"},
}

// quoted matches a Go-quoted string (%q) in an error's text.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// flagged names the flag behind an engine's configuration error: the one
// whose field the error names, else topic (the flag of the topic a
// function given brokers and a topic was called with). An error of
// another kind, such as a failed connection, is returned as it is.
func flagged(err error, topic string) error {
	if !errors.Is(err, kafka.ErrConfig) && !errors.Is(err, jetstream.ErrConfig) {
		return err
	}
	flag := topic
	// Field names are looked for outside the quoted values the error
	// holds: a topic named "brokers events" is not about -brokers.
	text := quoted.ReplaceAllString(err.Error(), `""`)
	for _, f := range configFlags {
		if strings.Contains(text, f.field) {
			flag = f.flag
			break
		}
	}
	if flag == "" {
		return err
	}
	return fmt.Errorf("%s: %w", flag, err)
}

// unreachable names -brokers in an error about a failed connection to
// them; it returns other errors as they are.
func unreachable(err error, brokers string) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return fmt.Errorf("-brokers %s: %w", brokers, err)
	}
	return err
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// collector exports a consumer's counts on each scrape.
type collector struct{ c consumer }

var (
	descBatches  = prometheus.NewDesc("clm_stream_batches_total", "Batches recorded, and committed or acknowledged after.", nil, nil)
	descMessages = prometheus.NewDesc("clm_stream_messages_total", "Messages in the batches recorded, dead letters included.", nil, nil)
	descEvents   = prometheus.NewDesc("clm_stream_events_total", "Events recorded, by result: applied (changed the store) or duplicate (applied before).", []string{"result"}, nil)
	descDead     = prometheus.NewDesc("clm_stream_dead_letters_total", "Messages sent to the dead letters.", nil, nil)
	descRetries  = prometheus.NewDesc("clm_stream_retries_total", "Store or dead-letter failures retried.", nil, nil)
	descLag      = prometheus.NewDesc("clm_stream_lag_messages", "Messages in the log past the last batch recorded, by partition read by this consumer.", []string{"partition"}, nil)
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBatches, descMessages, descEvents, descDead, descRetries, descLag} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.c.Stats()
	ch <- prometheus.MustNewConstMetric(descBatches, prometheus.CounterValue, float64(s.Batches))
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(s.Messages))
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(s.Applied), "applied")
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(s.Duplicates), "duplicate")
	ch <- prometheus.MustNewConstMetric(descDead, prometheus.CounterValue, float64(s.DeadLetters))
	ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(s.Retries))
	for p, l := range s.Lag {
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(l), fmt.Sprint(p))
	}
}
