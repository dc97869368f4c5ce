package jetstream_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// fakeJS is an in-process stand-in for a JetStream context: it records the
// streams Setup creates or updates, as a server would keep them (by name).
// No server is started.
type fakeJS struct {
	njs.JetStream // methods Setup does not call: nil, panic if called
	streams       map[string]njs.StreamConfig
}

func (f *fakeJS) Stream(context.Context, string) (njs.Stream, error) {
	return nil, njs.ErrStreamNotFound
}

func (f *fakeJS) CreateOrUpdateStream(_ context.Context, cfg njs.StreamConfig) (njs.Stream, error) {
	f.streams[cfg.Name] = cfg
	return nil, nil
}

func (f *fakeJS) CreateOrUpdateConsumer(context.Context, string, njs.ConsumerConfig) (njs.Consumer, error) {
	return nil, nil
}

// Doc (jetstream.ErrConfig): "wrapped by the errors of Setup, NewConsumer
// and NewProducer for a configuration they cannot use; the error names the
// field." (kafka refuses the same mistake: DeadLetterTopic == Topic.)
// A DeadLetterStream equal to Stream is accepted, and Setup then replaces
// the stream of events' subjects with the dead letters'.
func TestReviewDeadLetterStreamIsNotStream(t *testing.T) {
	cfg := jetstream.Config{Stream: "EV", DeadLetterStream: "EV", Partitions: 3}
	js := &fakeJS{streams: map[string]njs.StreamConfig{}}
	err := jetstream.Setup(context.Background(), js, cfg)
	if err == nil {
		got := js.streams["EV"]
		t.Errorf("Setup with DeadLetterStream == Stream = nil; stream EV ends with subjects %v and metadata %v (the events' subjects clm.events.* are gone)", got.Subjects, got.Metadata)
	} else if !errors.Is(err, jetstream.ErrConfig) {
		t.Errorf("Setup = %v; want ErrConfig", err)
	}
	if _, err := jetstream.NewConsumer(js, lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()), cfg); !errors.Is(err, jetstream.ErrConfig) {
		t.Errorf("NewConsumer with DeadLetterStream == Stream = %v; want ErrConfig naming the field", err)
	}
}

// Things that held: each field check names field and value and wraps ErrConfig.
func TestReviewConfigErrors(t *testing.T) {
	js := &fakeJS{streams: map[string]njs.StreamConfig{}}
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	for _, tc := range []struct {
		cfg  jetstream.Config
		want []string
	}{
		{jetstream.Config{}, []string{"Partitions", "0"}},
		{jetstream.Config{Partitions: 2, AckWait: -1}, []string{"AckWait", "-1ns"}},
		{jetstream.Config{Partitions: 2, Prefer: []int{2}}, []string{"Prefer", "2"}},
		{jetstream.Config{Partitions: 2, Batch: -5}, []string{"Batch", "-5"}},
		{jetstream.Config{Partitions: 2, DeadLetterSubject: "clm.events"}, []string{"DeadLetterSubject", "clm.events"}},
	} {
		_, err := jetstream.NewConsumer(js, tr, tc.cfg)
		if !errors.Is(err, jetstream.ErrConfig) {
			t.Errorf("NewConsumer(%+v) = %v", tc.cfg, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("NewConsumer(%+v) = %v; want it to name %q", tc.cfg, err, w)
			}
		}
	}
}

// Doc (jetstream.ErrConfig): refused "for a configuration they cannot
// use; the error names the field". Config.Processor.Format that is no
// format is accepted; the consumer would dead-letter every message
// without a clm-format header ("unknown format").
func TestReviewProcessorFormatValidated(t *testing.T) {
	js := &fakeJS{streams: map[string]njs.StreamConfig{}}
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	_, err := jetstream.NewConsumer(js, tr, jetstream.Config{Partitions: 1, Processor: stream.Options{Format: stream.Format(7)}})
	if !errors.Is(err, jetstream.ErrConfig) {
		t.Errorf("NewConsumer(Processor.Format: Format(7)) = %v; want ErrConfig naming Processor.Format", err)
	}
}
