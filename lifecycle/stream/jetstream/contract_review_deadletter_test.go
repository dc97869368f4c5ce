package jetstream_test

// A review's test of dead letters and its helpers, written from the
// documentation only.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clmkit/clm/lifecycle/stream"
	js "github.com/clmkit/clm/lifecycle/stream/jetstream"
	"github.com/clmkit/clm/store"
)

func rvRun(c *js.Consumer) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = errors.New("Run did not return within 30 s of its ctx ending")
			}
		})
		return err
	}
}

// rvDead returns the messages of the dead-letter stream.
func rvDead(t *testing.T, url, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	_, jsc := conn(t, url)
	ctx := context.Background()
	s, err := jsc.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

// rvAckFloor is partition p's durable consumer's ack floor (stream
// sequence) and its pending+unacknowledged count.
func rvAckFloor(t *testing.T, url string, cfg js.Config, p int) (uint64, uint64) {
	t.Helper()
	_, jsc := conn(t, url)
	c, err := jsc.Consumer(context.Background(), cfg.Stream, fmt.Sprintf("%s-%d", cfg.Durable, p))
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.AckFloor.Stream, info.NumPending + uint64(info.NumAckPending)
}

type rvSafe struct {
	mu sync.Mutex
	b  *strings.Builder
}

var rvSafeMu sync.Mutex

func (s *rvSafe) Write(p []byte) (int, error) {
	rvSafeMu.Lock()
	defer rvSafeMu.Unlock()
	return s.b.Write(p)
}

func rvSafeString(b *strings.Builder) string {
	rvSafeMu.Lock()
	defer rvSafeMu.Unlock()
	return b.String()
}

// docs/streams.md: a refused message "never blocks the partition: one too
// large for the dead-letter topic or stream with these headers is
// published without its value, with clm-dropped giving the value's
// size". The dead-letter stream's MaxMsgSize (1,000) is below the events
// stream's: a 900-byte invalid message fits the log, not the dead-letter
// stream with its headers. A review found such a dead letter retried for
// ever (only the connection's own limit fell back to no value), blocking
// its partition.
func TestContractReviewOversizeForDeadStreamLimit(t *testing.T) {
	cfg := zzConfig("RVBIGDL")
	url := startServer(t, cfg)
	_, jsc := conn(t, url)
	ctx := context.Background()
	ds, err := jsc.Stream(ctx, cfg.Stream+"_DEAD")
	if err != nil {
		t.Fatal(err)
	}
	dc := ds.CachedInfo().Config
	dc.MaxMsgSize = 1000
	if _, err := jsc.UpdateStream(ctx, dc); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 900)
	for i := range big {
		big[i] = 'a' + byte(rand.IntN(26))
	}
	zzPublish(t, url, cfg.Subject+".0", big, nil)
	zzPublish(t, url, cfg.Subject+".0", zzEvent("e1", "c1", "site_visited", "01"), nil)
	var logs strings.Builder
	cfg.Processor.Logger = slog.New(slog.NewTextHandler(&rvSafe{b: &logs}, nil))
	st := store.NewMemory()
	c := zzNew(t, url, st, cfg)
	stop := rvRun(c)
	defer stop()
	if !zzWait(8*time.Second, func() bool { f, left := rvAckFloor(t, url, cfg, 0); return f == 2 && left == 0 }) {
		l := rvSafeString(&logs)
		if i := strings.LastIndex(strings.TrimSpace(l), "\n"); i >= 0 {
			l = l[i+1:]
		}
		t.Fatalf("the partition is blocked by a dead letter too large for the dead-letter stream: %s; last log: %.300s", c.Stats(), l)
	}
	dead := rvDead(t, url, cfg.Stream+"_DEAD")
	if len(dead) != 1 || len(dead[0].Data) != 0 || dead[0].Header.Get(stream.HeaderDropped) != "900" {
		t.Errorf("dead letters %d; want one without value and %s 900 (%s)", len(dead), stream.HeaderDropped, c.Stats())
		for _, d := range dead {
			t.Logf("dead letter: %d bytes, headers %v", len(d.Data), d.Header)
		}
	}
}
