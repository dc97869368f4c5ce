package kafka_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/lifecycle/stream/kafka"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// Things that held: NewConsumer's field checks name field and value and
// wrap ErrConfig (no broker is contacted: the configs are refused first).
func TestReviewConfigErrors(t *testing.T) {
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	b := []string{"127.0.0.1:1"}
	// Values the consumer cannot use include topic names Kafka refuses
	// ([a-zA-Z0-9._-]{1,249}, not "." or ".."): such a consumer could
	// only log fetch errors for ever.
	long := strings.Repeat("t", 250)
	for _, tc := range []struct {
		cfg  kafka.Config
		want []string // the field, and the value where there is one
	}{
		{kafka.Config{Topic: "t", Group: "g"}, []string{"Brokers"}},
		{kafka.Config{Brokers: b, Group: "g"}, []string{"Topic"}},
		{kafka.Config{Brokers: b, Topic: "t"}, []string{"Group"}},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", Batch: -3}, []string{"Batch -3"}},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", Poll: -4}, []string{"Poll -4"}},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", DeadLetterTopic: "t"}, []string{`DeadLetterTopic "t"`}},
		{kafka.Config{Brokers: []string{""}, Topic: "t", Group: "g"}, []string{"Brokers", `""`}},
		{kafka.Config{Brokers: b, Topic: "my events", Group: "g"}, []string{"Topic", "my events"}},
		{kafka.Config{Brokers: b, Topic: long, Group: "g"}, []string{"Topic", long[:20]}},
		{kafka.Config{Brokers: b, Topic: ".", Group: "g"}, []string{"Topic", `"."`}},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", DeadLetterTopic: "t/dead"}, []string{"DeadLetterTopic", "t/dead"}},
	} {
		_, err := kafka.NewConsumer(tr, tc.cfg)
		if !errors.Is(err, kafka.ErrConfig) {
			t.Errorf("NewConsumer(%+v) = %v; want ErrConfig naming %q", tc.cfg, err, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("NewConsumer(%+v) = %v; want ErrConfig naming %q", tc.cfg, err, tc.want)
			}
		}
	}
	if _, err := kafka.NewConsumer(nil, kafka.Config{Brokers: b, Topic: "t", Group: "g"}); !errors.Is(err, kafka.ErrConfig) {
		t.Errorf("nil tracker: %v", err)
	}
	if _, err := kafka.NewProducer(nil, "t"); !errors.Is(err, kafka.ErrConfig) {
		t.Errorf("NewProducer(nil brokers) = %v", err)
	}
	_ = stream.FormatAuto
}

// NewProducer and CreateTopic refuse the topic names and brokers
// NewConsumer refuses (TestReviewConfigErrors).
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

// Doc (kafka.ErrConfig): "wrapped by the errors of NewConsumer and
// NewProducer for a configuration they cannot use; the error names the
// field." Config.Processor.Format that is no format is accepted; every
// message without a clm-format header would be dead-lettered.
func TestReviewProcessorFormatValidated(t *testing.T) {
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	_, err := kafka.NewConsumer(tr, kafka.Config{Brokers: []string{"127.0.0.1:1"}, Topic: "t", Group: "g",
		Processor: stream.Options{Format: stream.Format(7)}})
	if !errors.Is(err, kafka.ErrConfig) {
		t.Errorf("NewConsumer(Processor.Format: Format(7)) = %v; want ErrConfig naming Processor.Format", err)
	}
}
