package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// twoFaults drops its Put number drop (claims success, writes nothing)
// and commits its Put number lie but reports a lost race: each alone makes
// an event come back applied twice or never; together the totals agree.
type twoFaults struct {
	*plain
	n         atomic.Int64
	drop, lie int64
}

func (c *twoFaults) Put(ctx context.Context, cu *lifecycle.Customer, prev uint64) error {
	switch c.n.Add(1) {
	case c.drop:
		return nil
	case c.lie:
		if err := c.m.Put(ctx, cu, prev); err != nil {
			return err
		}
		return fmt.Errorf("committed, then: %w", lifecycle.ErrConflict)
	}
	return c.m.Put(ctx, cu, prev)
}

// The results are checked event by event: two faults whose surplus and
// shortfall cancel in the totals still fail the run (found by an audit:
// it passed).
func TestRunResultsPerEvent(t *testing.T) {
	cfg := small()
	cfg.Dup, cfg.Writers = 1, 1
	for _, f := range [][2]int64{{500, 0}, {0, 700}, {500, 700}} {
		sum, err := Run(context.Background(), cfg, &twoFaults{plain: &plain{store.NewMemory()}, drop: f[0], lie: f[1]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.OK() || sum.Misapplied == 0 {
			t.Errorf("faults %v: %s applied=%d misapplied=%d: passed", f, sum.Line(), sum.Applied, sum.Misapplied)
		}
	}
}

// scanFails is a store whose Scan fails.
type scanFails struct{ *plain }

func (scanFails) Scan(context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) { yield(nil, errors.New("disk on fire")) }
}

// A run that cannot be completed, the tested store's Scan failing, fails
// with exit status 1, as the docs say; 3 is for an unopened store or
// -timeout (found by an audit).
func TestMainScanFailsExit1(t *testing.T) {
	open := func(context.Context, string) (lifecycle.Store, func() error, error) {
		return scanFails{&plain{store.NewMemory()}}, func() error { return nil }, nil
	}
	var out, errOut bytes.Buffer
	code := Main([]string{"-store", "broken", "-events", "200", "-customers", "20", "-progress", "0"}, &out, &errOut, map[string]Opener{"broken": open}, nil)
	if code != ExitFailed || !strings.Contains(errOut.String(), "disk on fire") {
		t.Errorf("exit %d, stderr %q; want %d and the error", code, errOut.String(), ExitFailed)
	}
}
