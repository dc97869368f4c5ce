package stream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// TestUnknownOptionsFormatRefused: a Processor whose Options.Format is no
// format (a configuration fault, which the engines refuse when made)
// records and dead-letters nothing: Process returns an error wrapping
// ErrFormat, instead of sending every message without a clm-format
// header to the dead letters.
func TestUnknownOptionsFormatRefused(t *testing.T) {
	dl := &zzLetters{}
	p := stream.NewProcessor(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory()), dl,
		stream.Options{Format: stream.Format(9), Backoff: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := p.Process(ctx, reviewMsgs(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2025-03-01T10:00:00Z"}`))
	for _, l := range dl.got {
		t.Errorf("valid message %s sent to the dead letters for a configuration fault: %v (Process = %+v, %v)", l.Message.Source(), l.Err, res, err)
	}
	if !errors.Is(err, stream.ErrFormat) {
		t.Errorf("Process with Options.Format 9 = %+v, %v; want an error wrapping ErrFormat", res, err)
	}
}
