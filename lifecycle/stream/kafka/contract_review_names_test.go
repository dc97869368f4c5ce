package kafka_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream/internal/streamtest"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/store"
)

// kafka.ErrConfig: "...for a configuration they cannot use; the error
// names the field." Values the consumer cannot use: an empty seed
// broker, topic names Kafka refuses (a space, a name over 249
// characters, "."), a dead-letter topic Kafka refuses. Each must be
// refused by NewConsumer naming the field and its value. (Kafka's topic
// names are [a-zA-Z0-9._-]{1,249}, not "." or "..": such a consumer can
// only log fetch errors for ever.)
func TestContractReviewConsumerNames(t *testing.T) {
	tr := lifecycle.NewTracker(streamtest.Model(), store.NewMemory())
	b := []string{"127.0.0.1:1"}
	long := strings.Repeat("t", 250)
	for _, tc := range []struct {
		name  string
		cfg   kafka.Config
		field string
		value string
	}{
		{"empty broker", kafka.Config{Brokers: []string{""}, Topic: "t", Group: "g"}, "Brokers", `""`},
		{"topic with space", kafka.Config{Brokers: b, Topic: "my events", Group: "g"}, "Topic", "my events"},
		{"topic too long", kafka.Config{Brokers: b, Topic: long, Group: "g"}, "Topic", long[:20]},
		{"topic dot", kafka.Config{Brokers: b, Topic: ".", Group: "g"}, "Topic", `"."`},
		{"dead-letter topic with slash", kafka.Config{Brokers: b, Topic: "t", Group: "g", DeadLetterTopic: "t/dead"}, "DeadLetterTopic", "t/dead"},
	} {
		_, err := kafka.NewConsumer(tr, tc.cfg)
		if !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), tc.value) {
			t.Errorf("%s: NewConsumer = %v; want ErrConfig naming %s and %s", tc.name, err, tc.field, tc.value)
		}
	}
}

// NewProducer and CreateTopic refuse the same names.
func TestContractReviewProducerNames(t *testing.T) {
	if _, err := kafka.NewProducer([]string{"127.0.0.1:1"}, "my events"); !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), "my events") {
		t.Errorf("NewProducer(topic with a space) = %v", err)
	}
	if _, err := kafka.NewProducer([]string{""}, "t"); !errors.Is(err, kafka.ErrConfig) {
		t.Errorf("NewProducer(an empty broker) = %v", err)
	}
	if err := kafka.CreateTopic(t.Context(), []string{"127.0.0.1:1"}, "..", 1, 1); !errors.Is(err, kafka.ErrConfig) {
		t.Errorf("CreateTopic(..) = %v", err)
	}
}
