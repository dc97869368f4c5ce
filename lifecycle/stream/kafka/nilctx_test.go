package kafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// TestNilContextAndZeroValues: every method that takes a context refuses
// a nil one with an error wrapping lifecycle.ErrNilContext before it
// reaches a broker (Run and CreateTopic panicked, Send and Publish
// passed it on), and a Consumer or Producer not made by its constructor
// is an ErrConfig error, not a panic. No broker is needed: none is
// reached.
func TestNilContextAndZeroValues(t *testing.T) {
	var nilCtx context.Context
	brokers := []string{"127.0.0.1:1"}
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	c, err := kafka.NewConsumer(tr, kafka.Config{Brokers: brokers, Topic: "t", Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := kafka.NewProducer(brokers, "t")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ev := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Unix(1e9, 0)}
	_, sendErr := p.Send(nilCtx, nil)
	for name, err := range map[string]error{
		"Consumer.Run":     c.Run(nilCtx),
		"CreateTopic":      kafka.CreateTopic(nilCtx, brokers, "t", 1, 1),
		"Producer.Publish": p.Publish(nilCtx, ev),
		"Producer.Send":    sendErr,
	} {
		if !errors.Is(err, lifecycle.ErrNilContext) {
			t.Errorf("%s(nil ctx) = %v, want ErrNilContext", name, err)
		}
	}
	ctx := context.Background()
	var zero kafka.Consumer
	var nilProducer *kafka.Producer
	_, zeroSend := (&kafka.Producer{}).Send(ctx, nil)
	for name, err := range map[string]error{
		"zero Consumer.Run":    zero.Run(ctx),
		"nil Producer.Publish": nilProducer.Publish(ctx, ev),
		"zero Producer.Send":   zeroSend,
	} {
		if !errors.Is(err, kafka.ErrConfig) {
			t.Errorf("%s = %v, want ErrConfig", name, err)
		}
	}
	_ = zero.Stats()
	(&kafka.Producer{}).Close()
}

// TestBrokersHostPort: Config.Brokers must be host:port with a port from
// 1 to 65535, as documented; the error names the field and the value.
func TestBrokersHostPort(t *testing.T) {
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	for _, b := range []string{"a:b:c", "host:99999", "::1", "host:0", ":9092", "host", "host:abc"} {
		_, err := kafka.NewConsumer(tr, kafka.Config{Brokers: []string{b}, Topic: "t", Group: "g"})
		if !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), "Config.Brokers[0]") || !strings.Contains(err.Error(), b) {
			t.Errorf("Brokers %q: err = %v, want ErrConfig naming Config.Brokers[0] and the value", b, err)
		}
		if _, err := kafka.NewProducer([]string{b}, "t"); !errors.Is(err, kafka.ErrConfig) {
			t.Errorf("NewProducer(%q) = %v, want ErrConfig", b, err)
		}
	}
	for _, b := range []string{"[::1]:9092", "k1.example:9092", "127.0.0.1:65535"} {
		if _, err := kafka.NewConsumer(tr, kafka.Config{Brokers: []string{b}, Topic: "t", Group: "g"}); err != nil {
			t.Errorf("Brokers %q: %v", b, err)
		}
	}
}

// TestDefaultDeadLetterTopicNamesTopic: a Topic too long for its default
// dead-letter topic is refused naming Config.Topic, the field the caller
// set, not Config.DeadLetterTopic.
func TestDefaultDeadLetterTopicNamesTopic(t *testing.T) {
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	_, err := kafka.NewConsumer(tr, kafka.Config{Brokers: []string{"x:1"}, Topic: strings.Repeat("t", 245), Group: "g"})
	if !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), "Config.Topic") || strings.Contains(err.Error(), "Config.DeadLetterTopic") {
		t.Errorf("err = %v, want ErrConfig naming Config.Topic", err)
	}
}
