package harness

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/stretchr/testify/require"
)

func small() Config {
	c := Defaults()
	c.Events, c.Customers, c.Writers = 4000, 400, 4
	c.Dup, c.Shuffle, c.Window = 0.2, 0.3, 300
	c.Progress = 0
	c.Referrals = true // credits are a set whatever the order (RELIABILITY.md)
	return c
}

func TestRunClean(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"record", func(*Config) {}},
		{"record through Get and Put", func(c *Config) { c.Store = "memory-plain" }},
		{"batch through Get and Put", func(c *Config) { c.Store, c.Batch = "memory-plain", 16 }},
		{"batch", func(c *Config) { c.Batch = 16 }},
		{"one writer", func(c *Config) { c.Writers = 1 }},
		{"no duplicates, in order", func(c *Config) { c.Dup, c.Shuffle = 0, 0 }},
		{"all duplicated and shuffled", func(c *Config) { c.Dup, c.Shuffle = 1, 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := small()
			tc.edit(&cfg)
			var st lifecycle.Store = store.NewMemory()
			if cfg.Store == "memory-plain" {
				st, _, _ = MemoryPlain(context.Background(), "")
			}
			sum, err := Run(context.Background(), cfg, st, nil)
			require.NoError(t, err)
			if !sum.OK() {
				t.Fatalf("run not clean: %s\napplied %d failed %d\n%s", sum.Line(), sum.Applied, sum.Failed, strings.Join(sum.Problems, "\n"))
			}
			if sum.Events != cfg.Events || sum.Customers < 2 || sum.P99 <= 0 {
				t.Errorf("summary %+v: want %d events, several customers, a latency", sum, cfg.Events)
			}
			if cfg.Dup > 0 && sum.Deliveries <= sum.Events {
				t.Errorf("%d deliveries for %d events with -dup %v", sum.Deliveries, sum.Events, cfg.Dup)
			}
		})
	}
}

// With one writer and no shuffling the stream arrives in time order, so
// referral credits are exact too.
func TestRunReferralsInOrder(t *testing.T) {
	cfg := small()
	cfg.Referrals, cfg.Writers, cfg.Shuffle = true, 1, 0
	sum, err := Run(context.Background(), cfg, store.NewMemory(), nil)
	require.NoError(t, err)
	if !sum.OK() {
		t.Fatalf("%s\n%s", sum.Line(), strings.Join(sum.Problems, "\n"))
	}
}

// corrupting wraps Memory (without its optional capabilities,
// so every write goes through Put) and spoils every 97th write in one way.
type corrupting struct {
	*plain
	mode string
	n    atomic.Int64
}

func newCorrupting(mode string) *corrupting {
	return &corrupting{plain: &plain{store.NewMemory()}, mode: mode}
}

func (c *corrupting) Put(ctx context.Context, cu *lifecycle.Customer, prev uint64) error {
	if c.n.Add(1)%97 != 0 {
		return c.m.Put(ctx, cu, prev)
	}
	bad := cu.Clone()
	switch c.mode {
	case "drop":
		return nil // claims success, writes nothing
	case "count twice":
		bad.Facts.Tallies[0].Count++
	case "forget seen":
		keys := slices.Collect(bad.Seen.All())
		bad.Seen.Set(keys[min(1, len(keys)):])
	case "shift as_of":
		// Far enough that no later event of the customer moves AsOf past
		// it again, which would hide the corruption.
		bad.AsOf = bad.AsOf.AddDate(100, 0, 0)
	case "wrong stage":
		bad.Stage = "nowhere"
	case "stray customer":
		// A customer under the run's ID prefix that no event names.
		stray := &lifecycle.Customer{ID: cu.ID + "-stray-" + strconv.FormatInt(c.n.Load(), 10), Version: 1}
		if err := c.m.Put(ctx, stray, 0); err != nil {
			return err
		}
		return c.m.Put(ctx, cu, prev)
	}
	return c.m.Put(ctx, bad, prev)
}

func TestRunCorruptingStore(t *testing.T) {
	// For each counter: 1 means it must be above 0, 0 that it must be 0,
	// -1 that either is right (a forgotten seen ID makes the customer short
	// of one ID, and the duplicate it lets through doubles an event).
	tests := []struct {
		mode                  string
		lost, doubled, mismat int
	}{
		{"drop", 1, 0, -1},
		{"count twice", 0, 1, -1},
		{"forget seen", 1, -1, -1},
		{"shift as_of", 0, 0, 1},
		{"wrong stage", 0, 0, 1},
		{"stray customer", 0, 0, 1},
	}
	check := func(t *testing.T, name string, got, want int) {
		t.Helper()
		if want >= 0 && (got > 0) != (want > 0) {
			t.Errorf("%s=%d, want above 0: %v", name, got, want > 0)
		}
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			cfg := small()
			sum, err := Run(context.Background(), cfg, newCorrupting(tc.mode), nil)
			require.NoError(t, err)
			if sum.OK() {
				t.Fatalf("a corrupting store (%s) passed: %s", tc.mode, sum.Line())
			}
			check(t, "lost", sum.Lost, tc.lost)
			check(t, "doubled", sum.Doubled, tc.doubled)
			check(t, "mismatched", sum.Mismatched, tc.mismat)
			if len(sum.Problems) == 0 {
				t.Error("no problem described")
			}
		})
	}
}

func TestMain_(t *testing.T) {
	memory := map[string]Opener{"memory": Memory}
	corrupt := map[string]Opener{"memory": func(context.Context, string) (lifecycle.Store, func() error, error) {
		return newCorrupting("count twice"), func() error { return nil }, nil
	}}
	sql := map[string]string{"sqlite": "use the nested module"}
	args := []string{"-events", "3000", "-customers", "300", "-writers", "3", "-progress", "0"}
	line := regexp.MustCompile(`^events=3000 customers=\d+ writers=3 throughput=\d+/s p99=\d+\.\d\dms lost=(\d+) doubled=(\d+) mismatched=(\d+)\n$`)
	tests := []struct {
		name     string
		args     []string
		stores   map[string]Opener
		code     int
		stdout   *regexp.Regexp
		stderrIn string
	}{
		{"clean", args, memory, ExitOK, line, ""},
		{"corrupt", args, corrupt, ExitFailed, line, "doubled: customer"},
		{"sqlite unavailable", []string{"-store", "sqlite"}, memory, ExitUsage, nil, "use the nested module"},
		{"unknown store", []string{"-store", "mongo"}, memory, ExitUsage, nil, "unknown store"},
		{"bad flag", []string{"-events", "0"}, memory, ExitUsage, nil, "-events 0: must be from 1 to 10000000"},
		// Past what shopsim generates: refused, not cut silently; writers
		// past MaxWriters: refused, not a panic in make (found by an audit).
		{"huge events", []string{"-events", "10000001"}, memory, ExitUsage, nil, "-events 10000001: must be from 1 to 10000000"},
		{"huge customers", []string{"-customers", "1000001"}, memory, ExitUsage, nil, "-customers 1000001: must be from 1 to 1000000"},
		{"huge writers", []string{"-writers", "9223372036854775807"}, memory, ExitUsage, nil, "-writers 9223372036854775807: must be from 1 to 10000"},
		{"bad dup", []string{"-dup", "1.5"}, memory, ExitUsage, nil, "-dup 1.5"},
		{"extra args", []string{"now"}, memory, ExitUsage, nil, "unexpected arguments"},
		{"help", []string{"-h"}, memory, ExitOK, nil, "-events int"},
		{"undefined flag", []string{"-event", "10"}, memory, ExitUsage, nil, "flag provided but not defined: -event"},
		{"timeout", append(append([]string{}, args...), "-timeout", "1ns"), memory, ExitAborted, nil, "-timeout 1ns"},
		// A batch larger than the stream is the whole stream (a review
		// found it panicking in make).
		{"huge batch", append(append([]string{}, args...), "-batch", "9223372036854775807"), memory, ExitOK, line, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tc.args, &out, &errb, tc.stores, sql)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if tc.stdout != nil && !tc.stdout.MatchString(out.String()) {
				t.Errorf("stdout %q does not match %s", out.String(), tc.stdout)
			}
			if tc.stdout == nil && out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			if !strings.Contains(errb.String(), tc.stderrIn) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.stderrIn)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	g := model.SterneCutler().Stages()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	base := func() *lifecycle.Customer {
		return &lifecycle.Customer{
			ID: "c", Stage: model.Conversion, Since: t0.Add(time.Hour), AsOf: t0.Add(time.Hour),
			Facts: lifecycle.Facts{First: t0, Last: t0.Add(time.Hour), Tallies: []lifecycle.Tally{
				{Type: lifecycle.OrderCompleted, Count: 1, First: t0.Add(time.Hour), Last: t0.Add(time.Hour)},
				{Type: lifecycle.SiteVisited, Count: 1, First: t0, Last: t0},
			}, Sums: []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: 100}},
				Referrals: []lifecycle.Referral{{Customer: "f", At: t0}}},
			History: []lifecycle.Transition{{To: model.Reach, At: t0}, {From: model.Reach, To: model.Conversion, At: t0.Add(time.Hour)}},
			Seen:    seen("v1", "o1"),
			Version: 2,
		}
	}
	tests := []struct {
		name string
		edit func(c *lifecycle.Customer) *lifecycle.Customer
		want Verdict
	}{
		{"same", func(c *lifecycle.Customer) *lifecycle.Customer { return c }, Same},
		{"same, other location", func(c *lifecycle.Customer) *lifecycle.Customer {
			c.AsOf = c.AsOf.In(time.FixedZone("x", 3600))
			return c
		}, Same},
		{"same, one write per event at most", func(c *lifecycle.Customer) *lifecycle.Customer { c.Version = 1; return c }, Same},
		{"missing", func(*lifecycle.Customer) *lifecycle.Customer { return nil }, Lost},
		{"fewer events", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.Tallies[1].Count = 0; return c }, Lost},
		{"fewer seen", func(c *lifecycle.Customer) *lifecycle.Customer { c.Seen = seen("v1"); return c }, Lost},
		{"more events", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.Tallies[1].Count = 2; return c }, Doubled},
		{"more seen", func(c *lifecycle.Customer) *lifecycle.Customer { c.Seen.Add(lifecycle.KeyOf("o2")); return c }, Doubled},
		{"other seen", func(c *lifecycle.Customer) *lifecycle.Customer { c.Seen = seen("v1", "o2"); return c }, Mismatched},
		{"other seen, legacy key", func(c *lifecycle.Customer) *lifecycle.Customer {
			c.Seen.Set([]lifecycle.EventKey{lifecycle.KeyOf("v1"), lifecycle.LegacyKeyOf("o1")})
			return c
		}, Mismatched},
		{"other sum", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.Sums[0].Amount = 99; return c }, Mismatched},
		{"other tally time", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.Tallies[1].Last = t0.Add(1); return c }, Mismatched},
		{"other referrer", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.ReferredBy = "r"; return c }, Mismatched},
		{"other referral credit time", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.Referrals[0].At = t0.Add(1); return c }, Mismatched},
		{"other referral credit", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.Referrals[0].Customer = "g"; return c }, Mismatched},
		{"more referral credits", func(c *lifecycle.Customer) *lifecycle.Customer {
			c.Facts.Referrals = append(c.Facts.Referrals, lifecycle.Referral{Customer: "h", At: t0})
			return c
		}, Mismatched},
		{"credit writes within the bound", func(c *lifecycle.Customer) *lifecycle.Customer { c.Version = 3; return c }, Same},
		{"other score", func(c *lifecycle.Customer) *lifecycle.Customer { c.Facts.ScoreAt = t0; return c }, Mismatched},
		{"other stage", func(c *lifecycle.Customer) *lifecycle.Customer { c.Stage = model.Retention; return c }, Mismatched},
		{"other as_of", func(c *lifecycle.Customer) *lifecycle.Customer { c.AsOf = t0; return c }, Mismatched},
		{"version 0", func(c *lifecycle.Customer) *lifecycle.Customer { c.Version = 0; return c }, Mismatched},
		{"more writes than events and credit writes", func(c *lifecycle.Customer) *lifecycle.Customer { c.Version = 4; return c }, Mismatched},
		{"no history", func(c *lifecycle.Customer) *lifecycle.Customer { c.History = nil; return c }, Mismatched},
		{"history broken chain", func(c *lifecycle.Customer) *lifecycle.Customer { c.History[1].From = model.Acquisition; return c }, Mismatched},
		{"history not ending in stage", func(c *lifecycle.Customer) *lifecycle.Customer { c.History = c.History[:1]; return c }, Mismatched},
		{"history undeclared move", func(c *lifecycle.Customer) *lifecycle.Customer {
			c.History = append(c.History, lifecycle.Transition{From: model.Conversion, To: model.Reach, At: c.Since})
			c.Stage = model.Reach
			return c
		}, Mismatched},
		{"since not last move", func(c *lifecycle.Customer) *lifecycle.Customer { c.Since = t0; return c }, Mismatched},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := base()
			got, why := Diff(g, want, tc.edit(base()), 1)
			if got != tc.want {
				t.Fatalf("verdict %d (%s), want %d", got, why, tc.want)
			}
			if (got == Same) != (why == "") {
				t.Errorf("verdict %d with explanation %q", got, why)
			}
		})
	}
	// A pending referrer (credits, no event of its own) has no stage, no
	// history and no Since; one with any of them is mismatched.
	pending := func() *lifecycle.Customer {
		return &lifecycle.Customer{ID: "p", Facts: lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "f", At: t0}},
			Tallies: []lifecycle.Tally{{Type: lifecycle.ReferralConverted, Count: 1, First: t0, Last: t0}}}, Due: lifecycle.Never, Version: 1}
	}
	if v, why := Diff(g, pending(), pending(), 1); v != Same {
		t.Errorf("pending referrer: verdict %d (%s), want Same", v, why)
	}
	staged := pending()
	staged.Stage, staged.Since = model.Reach, t0
	staged.History = []lifecycle.Transition{{To: model.Reach, At: t0, Cause: lifecycle.ReferralEventID("f")}}
	if v, _ := Diff(g, pending(), staged, 1); v != Mismatched {
		t.Errorf("pending referrer with a stage and history: verdict %d, want Mismatched", v)
	}
}

// seen returns the set of the keys of ids.
func seen(ids ...string) lifecycle.EventSet {
	var s lifecycle.EventSet
	for _, id := range ids {
		s.Add(lifecycle.KeyOf(id))
	}
	return s
}

func TestDeliveries(t *testing.T) {
	cfg := small()
	cfg.Dup, cfg.Shuffle, cfg.Window = 0.25, 0.5, 50
	a := deliveries(10000, cfg)
	if b := deliveries(10000, cfg); !equal(a, b) {
		t.Fatal("same seed, different delivery orders")
	}
	seen := make([]int, 10000)
	moved := 0
	for pos, ev := range a {
		seen[ev]++
		if int(ev) != pos {
			moved++
		}
	}
	dups := 0
	for ev, n := range seen {
		if n < 1 || n > 2 {
			t.Fatalf("event %d delivered %d times", ev, n)
		}
		dups += n - 1
	}
	if dups < 2000 || dups > 3000 {
		t.Errorf("%d duplicates of 10000 events at rate 0.25", dups)
	}
	if moved == 0 {
		t.Error("nothing delivered out of order")
	}
	cfg.Dup, cfg.Shuffle = 0, 0
	for pos, ev := range deliveries(1000, cfg) {
		if int(ev) != pos {
			t.Fatalf("without -dup and -shuffle, delivery %d is event %d", pos, ev)
		}
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	if got := percentile(d, 0.99); got != 99 {
		t.Errorf("p99 of 1..100 = %d, want 99", got)
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("p99 of nothing = %d", got)
	}
}

// A review found loadtest exiting 0 when its result line could not be
// written (standard output on a full disk): the run's outcome is lost.
func TestMainStdoutFails(t *testing.T) {
	var errb bytes.Buffer
	memory := map[string]Opener{"memory": Memory}
	code := Main([]string{"-events", "300", "-customers", "30", "-progress", "0"}, failWriter{}, &errb, memory, nil)
	if code != ExitFailed || !strings.Contains(errb.String(), "no space left") {
		t.Fatalf("exit %d, stderr %q; want %d and the write's error", code, errb.String(), ExitFailed)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }
