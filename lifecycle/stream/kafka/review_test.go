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
	for _, tc := range []struct {
		cfg  kafka.Config
		want string
	}{
		{kafka.Config{Topic: "t", Group: "g"}, "Brokers"},
		{kafka.Config{Brokers: b, Group: "g"}, "Topic"},
		{kafka.Config{Brokers: b, Topic: "t"}, "Group"},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", Batch: -3}, "Batch -3"},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", Poll: -4}, "Poll -4"},
		{kafka.Config{Brokers: b, Topic: "t", Group: "g", DeadLetterTopic: "t"}, `DeadLetterTopic "t"`},
	} {
		_, err := kafka.NewConsumer(tr, tc.cfg)
		if !errors.Is(err, kafka.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewConsumer(%+v) = %v; want ErrConfig naming %q", tc.cfg, err, tc.want)
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
