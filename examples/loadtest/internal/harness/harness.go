// Package harness is the engine of the load test in examples/loadtest: it
// generates a shop stream, replays it into a store from many goroutines with
// duplicates and out-of-order delivery, and compares the result with a
// sequential replay of the same stream into a fresh in-memory store.
//
// It lives in its own package, apart from the command, so that a program in
// a nested module (one that may import the SQL stores) can run the same
// load test: it passes its own store openers to [Main].
//
// # What is compared
//
// After the concurrent replay, every customer the reference (sequential)
// replay stored is compared with the customer the tested store holds under
// the same ID. Let n be the number of events a customer's facts count
// ([lifecycle.Facts.Events]) and s the number of event IDs it has seen
// (Seen.Len()):
//
//   - lost: the customer is missing, or n or s is below the reference's
//     (an event that was recorded was not kept);
//   - doubled: not lost, and n or s is above the reference's (an event was
//     applied twice);
//   - mismatched: neither, but something else differs or is not sane: the
//     facts (every tally, sum, first/last time, referrer, score, referral
//     credit), the stage, AsOf or the set of seen event IDs differ; or
//     Version is not between 1 and s+k, where k is, summed over the
//     referral credits the customer holds, the referred customer's number
//     of order_completed events in the reference (a write that applies no
//     event inserts a credit or moves it back to an earlier order, and
//     referral credits are not in Seen); or the history is not a chain from an empty stage to the
//     current stage along moves the model's graph allows, with Since the
//     time of its last entry (for a pending referrer, credits but no event
//     of its own, see [lifecycle.Customer.PendingReferrer]: no stage, no
//     history and no Since). A customer the tested store holds under the
//     run's ID prefix that the reference does not have is also mismatched.
//
// Since and History depend on arrival order (see [lifecycle.Tracker]), so
// they are checked for sanity, not compared.
//
// Independently, the results of the Record calls are counted, event by
// event: exactly one delivery of every event must come back applied
// (Duplicate false, no error). An event with none or several is a problem
// (the first 20 are named), counted on its own line, and fails the run.
package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clmkit/clm/examples/internal/cli"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// Config holds the load test's settings; [Config.Flags] binds them to
// command-line flags with the defaults documented there.
type Config struct {
	Store     string        // name of the store to test
	DSN       string        // data source name for a SQL store
	Events    int           // distinct events in the stream
	Customers int           // size of the customer population
	Writers   int           // goroutines replaying concurrently
	Dup       float64       // probability that an event is delivered a second time
	Shuffle   float64       // probability that an event is moved out of order
	Window    int           // how far (in deliveries) an event may move
	Batch     int           // events per call: 1 uses Record, more RecordBatch
	Seed      uint64        // seed of the stream and of the delivery order
	Referrals bool          // whether the stream has referred customers
	Timeout   time.Duration // bound on the whole run
	Progress  time.Duration // interval between progress lines; a bar on a terminal (0: neither)
}

// Defaults returns the default settings: memory store, 200000 events from
// 20000 customers, 8 writers, 5% duplicates, 10% out of order by up to 2000
// deliveries, Record one event at a time, seed 1, referrals on, a 5-minute
// bound and a progress line every second.
func Defaults() Config {
	return Config{
		Store: "memory", Events: 200_000, Customers: 20_000, Writers: 8,
		Dup: 0.05, Shuffle: 0.10, Window: 2000, Batch: 1, Seed: 1, Referrals: true,
		Timeout: 5 * time.Minute, Progress: time.Second,
	}
}

// Flags registers the settings on fs, with c's values as defaults.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Store, "store", c.Store, "store to test: memory, memory-plain (memory through Get and Put only); examples/loadtest/sql also takes sqlite and postgres")
	fs.StringVar(&c.DSN, "dsn", c.DSN, "data source name of a sqlite or postgres store (examples/loadtest/sql)")
	fs.IntVar(&c.Events, "events", c.Events, "distinct events in the generated stream")
	fs.IntVar(&c.Customers, "customers", c.Customers, "size of the customer population (activity is Zipf-distributed, so fewer appear)")
	fs.IntVar(&c.Writers, "writers", c.Writers, "goroutines replaying the stream concurrently")
	fs.Float64Var(&c.Dup, "dup", c.Dup, "probability that an event is delivered twice (0..1)")
	fs.Float64Var(&c.Shuffle, "shuffle", c.Shuffle, "probability that an event is delivered out of order (0..1)")
	fs.IntVar(&c.Window, "window", c.Window, "how many deliveries an out-of-order or duplicate event may move")
	fs.IntVar(&c.Batch, "batch", c.Batch, "events per call: 1 calls Record, more call RecordBatch (more than the stream holds: the whole stream)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the stream and the delivery order")
	fs.BoolVar(&c.Referrals, "referrals", c.Referrals, "let some customers arrive through referral links (false: none do, so no referral credits are derived)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "bound on the whole run; the run fails when it is reached")
	fs.DurationVar(&c.Progress, "progress", c.Progress, "interval between progress lines on stderr, or a progress bar when stderr is a terminal (0: neither)")
}

// MaxWriters is the most goroutines -writers may ask for.
const MaxWriters = 10_000

// Check reports the first invalid setting.
func (c *Config) Check() error {
	switch {
	case c.Events < 1 || c.Events > shopsim.MaxEvents:
		return fmt.Errorf("-events %d: must be from 1 to %d", c.Events, shopsim.MaxEvents)
	case c.Customers < 1 || c.Customers > shopsim.MaxCustomers:
		return fmt.Errorf("-customers %d: must be from 1 to %d", c.Customers, shopsim.MaxCustomers)
	case c.Writers < 1 || c.Writers > MaxWriters:
		return fmt.Errorf("-writers %d: must be from 1 to %d", c.Writers, MaxWriters)
	case !(c.Dup >= 0 && c.Dup <= 1):
		return fmt.Errorf("-dup %v: must be between 0 and 1", c.Dup)
	case !(c.Shuffle >= 0 && c.Shuffle <= 1):
		return fmt.Errorf("-shuffle %v: must be between 0 and 1", c.Shuffle)
	case c.Window < 1:
		return fmt.Errorf("-window %d: must be at least 1", c.Window)
	case c.Batch < 1:
		return fmt.Errorf("-batch %d: must be at least 1", c.Batch)
	case c.Timeout <= 0:
		return fmt.Errorf("-timeout %v: must be positive", c.Timeout)
	case c.Progress < 0:
		return fmt.Errorf("-progress %v: must not be negative", c.Progress)
	}
	return nil
}

// Summary is the outcome of a run.
type Summary struct {
	Events     int           // distinct events in the stream
	Deliveries int           // events handed to the tracker, duplicates included
	Customers  int           // customers the reference replay stored
	Writers    int           // concurrent goroutines
	Elapsed    time.Duration // wall time of the concurrent replay
	P99        time.Duration // 99th percentile latency of one Record (or RecordBatch) call
	Lost       int           // customers with fewer events than the reference
	Doubled    int           // customers with more events than the reference
	Mismatched int           // customers differing in any other way
	Applied    int           // deliveries whose result said applied
	Misapplied int           // events whose deliveries came back applied other than exactly once (0: Applied is Events)
	Failed     int           // deliveries that still failed after retries
	// Problems describes the first differences found (at most 20).
	Problems []string
}

// Throughput is deliveries per second of the concurrent replay.
func (s Summary) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Deliveries) / s.Elapsed.Seconds()
}

// OK reports whether nothing was lost, doubled or mismatched and every
// event came back applied exactly once.
func (s Summary) OK() bool {
	return s.Lost == 0 && s.Doubled == 0 && s.Mismatched == 0 && s.Misapplied == 0 && s.Failed == 0
}

// Line is the one-line summary the command ends with.
func (s Summary) Line() string {
	return fmt.Sprintf("events=%d customers=%d writers=%d throughput=%.0f/s p99=%.2fms lost=%d doubled=%d mismatched=%d",
		s.Events, s.Customers, s.Writers, s.Throughput(), float64(s.P99)/float64(time.Millisecond), s.Lost, s.Doubled, s.Mismatched)
}

// Opener opens the store a run tests, for a DSN (empty for memory). The
// returned close function is called when the run ends.
type Opener func(ctx context.Context, dsn string) (lifecycle.Store, func() error, error)

// Memory opens a fresh in-memory store.
func Memory(context.Context, string) (lifecycle.Store, func() error, error) {
	return store.NewMemory(), func() error { return nil }, nil
}

// MemoryPlain opens a fresh in-memory store that offers only the three
// [lifecycle.Store] methods, hiding Memory's optional Loader, Applier and
// DueLister capabilities, so that the Tracker reads with Get and writes
// with a compare-and-swap Put, as it does with a store that has only the
// three required methods (the SQL store is an Applier, a DueLister and a
// Loader).
func MemoryPlain(context.Context, string) (lifecycle.Store, func() error, error) {
	return &plain{store.NewMemory()}, func() error { return nil }, nil
}

type plain struct{ m *store.Memory }

func (p *plain) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return p.m.Get(ctx, id)
}

func (p *plain) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	return p.m.Put(ctx, c, prev)
}

func (p *plain) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return p.m.Scan(ctx)
}

// Exit codes of [Main].
const (
	ExitOK      = 0 // nothing lost, doubled or mismatched; or -h (usage printed)
	ExitFailed  = 1 // something was lost, doubled or mismatched, an event came back applied other than once, the run could not be completed (the tested store could not be scanned), or the result line could not be written
	ExitUsage   = 2 // bad flags or an unknown store
	ExitAborted = 3 // the store could not be opened, or the run hit -timeout
)

// Main parses args (without the program name), runs the load test against
// the store named by -store, writes progress and problems to stderr and the
// summary line to stdout, and returns the exit code. stores maps store
// names to openers; unavailable maps names this program knows of but cannot
// open to the explanation printed when one is asked for.
func Main(args []string, stdout, stderr io.Writer, stores map[string]Opener, unavailable map[string]string) int {
	cfg := Defaults()
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK // -h or -help: the usage was asked for
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments %q\n", fs.Args())
		return ExitUsage
	}
	if err := cfg.Check(); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return ExitUsage
	}
	open, ok := stores[cfg.Store]
	if !ok {
		if why, known := unavailable[cfg.Store]; known {
			fmt.Fprintf(stderr, "loadtest: -store %s: %s\n", cfg.Store, why)
		} else {
			names := make([]string, 0, len(stores))
			for n := range stores {
				names = append(names, n)
			}
			slices.Sort(names)
			fmt.Fprintf(stderr, "loadtest: -store %q: unknown store (this program has: %s)\n", cfg.Store, strings.Join(names, ", "))
		}
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	st, closeStore, err := open(ctx, cfg.DSN)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: opening the %s store: %v\n", cfg.Store, err)
		return ExitAborted
	}
	defer func() {
		if err := closeStore(); err != nil {
			fmt.Fprintf(stderr, "loadtest: closing the %s store: %v\n", cfg.Store, err)
		}
	}()
	sum, err := Run(ctx, cfg, st, stderr)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "loadtest: stopped by -timeout %s: %v\n", cfg.Timeout, err)
			return ExitAborted
		}
		// The run could not be completed (the tested store could not be
		// scanned, say): it failed.
		fmt.Fprintln(stderr, "loadtest:", err)
		return ExitFailed
	}
	for _, p := range sum.Problems {
		fmt.Fprintln(stderr, "loadtest: problem:", p)
	}
	if sum.Misapplied != 0 || sum.Failed != 0 {
		fmt.Fprintf(stderr, "loadtest: results: %d of %d deliveries failed; %d came back applied, want exactly %d (one per event); %d events came back applied other than once\n",
			sum.Failed, sum.Deliveries, sum.Applied, sum.Events, sum.Misapplied)
	}
	if _, err := fmt.Fprintln(stdout, sum.Line()); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return ExitFailed
	}
	if !sum.OK() {
		return ExitFailed
	}
	return ExitOK
}

// Run generates the stream, replays it sequentially into a fresh memory
// store (the reference), replays it concurrently into st with duplicates
// and shuffling, and compares. The progress of the concurrent replay goes to
// progress (see [cli.Progress]). It returns an
// error only when the run could not be completed (ctx ended, the reference
// replay failed, st could not be scanned); differences are in the Summary.
// Customer IDs carry a prefix unique to the run, so st may hold other
// customers: only those under the prefix are compared.
func Run(ctx context.Context, cfg Config, st lifecycle.Store, progress io.Writer) (Summary, error) {
	if err := cfg.Check(); err != nil {
		return Summary{}, err
	}
	prefix := "lt" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	stream := prefixed(shopsim.Stream(shopsim.StreamConfig{Events: cfg.Events, Customers: cfg.Customers, Seed: cfg.Seed, NoReferrals: !cfg.Referrals}), prefix)
	end := stream[len(stream)-1].Time.Add(time.Minute)
	clock := lifecycle.WithClock(func() time.Time { return end })
	m := model.SterneCutler()

	ref := store.NewMemory()
	rt := lifecycle.NewTracker(m, ref, clock)
	for i := range stream {
		if _, err := rt.Record(ctx, stream[i]); err != nil {
			return Summary{}, fmt.Errorf("reference replay, event %d: %w", i, err)
		}
	}

	order := deliveries(len(stream), cfg)
	sum := Summary{Events: len(stream), Deliveries: len(order), Writers: cfg.Writers}
	tr := lifecycle.NewTracker(m, st, clock)
	if err := replay(ctx, tr, stream, order, cfg, progress, &sum); err != nil {
		return sum, err
	}
	if err := compare(ctx, m.Stages(), ref, st, prefix, &sum); err != nil {
		return sum, err
	}
	return sum, nil
}

// prefixed gives every customer and referrer ID the prefix, sharing one
// string per customer.
func prefixed(stream []lifecycle.Event, prefix string) []lifecycle.Event {
	ids := make(map[string]string)
	p := func(id string) string {
		if id == "" {
			return ""
		}
		s, ok := ids[id]
		if !ok {
			s = prefix + id
			ids[id] = s
		}
		return s
	}
	for i := range stream {
		stream[i].CustomerID = p(stream[i].CustomerID)
		stream[i].ReferrerID = p(stream[i].ReferrerID)
	}
	return stream
}

// deliveries returns the order in which the stream's events are handed to
// the tracker: each event at its own position, except that with
// probability cfg.Shuffle it moves by up to cfg.Window positions either
// way, and with probability cfg.Dup it is delivered a second time up to
// cfg.Window positions later.
func deliveries(n int, cfg Config) []int32 {
	r := rand.New(rand.NewPCG(cfg.Seed, 0xde11e7))
	type slot struct {
		key float64
		ev  int32
	}
	slots := make([]slot, 0, n+int(float64(n)*cfg.Dup)+16)
	w := float64(cfg.Window)
	for i := range n {
		key := float64(i)
		if r.Float64() < cfg.Shuffle {
			key += (2*r.Float64() - 1) * w
		}
		slots = append(slots, slot{key, int32(i)})
		if r.Float64() < cfg.Dup {
			slots = append(slots, slot{key + r.Float64()*w, int32(i)})
		}
	}
	slices.SortStableFunc(slots, func(a, b slot) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := make([]int32, len(slots))
	for i, s := range slots {
		out[i] = s.ev
	}
	return out
}

// maxAttempts bounds how often a writer calls Record for one delivery that
// failed with a retryable error (a lost compare-and-swap race).
const maxAttempts = 5

func replay(ctx context.Context, tr *lifecycle.Tracker, stream []lifecycle.Event, order []int32, cfg Config, progress io.Writer, sum *Summary) error {
	var next, done atomic.Int64
	var failed atomic.Int64
	applied := make([]int32, len(stream)) // by event: deliveries that came back applied
	var firstErr error
	var errMu sync.Mutex
	noteErr := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	lat := make([][]time.Duration, cfg.Writers)
	start := time.Now()
	var bar *cli.Progress
	if cfg.Progress > 0 && progress != nil {
		bar = cli.StartProgress(progress, "loadtest", "deliveries", int64(len(order)), cfg.Progress)
	}
	// A batch larger than the stream is the whole stream (and a counter
	// that cannot overflow, nor a buffer larger than the stream).
	size := max(1, min(cfg.Batch, len(order)))
	var wg sync.WaitGroup
	for w := range cfg.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]lifecycle.Event, 0, size)
			for ctx.Err() == nil {
				lo := int(next.Add(int64(size))) - size
				if lo >= len(order) {
					return
				}
				hi := min(lo+size, len(order))
				batch = batch[:0]
				for _, ev := range order[lo:hi] {
					batch = append(batch, stream[ev])
				}
				for attempt := 1; ; attempt++ {
					t0 := time.Now()
					ok, retry, err := deliver(ctx, tr, batch, order[lo:hi], applied)
					lat[w] = append(lat[w], time.Since(t0))
					if ok {
						break
					}
					if ctx.Err() != nil {
						return
					}
					if !retry || attempt == maxAttempts {
						failed.Add(int64(len(batch)))
						noteErr(err)
						break
					}
				}
				done.Add(int64(hi - lo))
				if bar != nil {
					bar.Add(int64(hi - lo))
				}
			}
		}()
	}
	wg.Wait()
	sum.Elapsed = time.Since(start)
	if bar != nil {
		bar.Stop()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped after %d of %d deliveries (of %d events) in %s (-timeout %s): %w",
			done.Load(), len(order), len(stream), sum.Elapsed.Round(time.Millisecond), cfg.Timeout, err)
	}
	sum.Failed = int(failed.Load())
	for i, n := range applied {
		sum.Applied += int(n)
		if n != 1 {
			sum.Misapplied++
			if len(sum.Problems) < 20 {
				sum.Problems = append(sum.Problems, fmt.Sprintf("event %q: %d deliveries came back applied; want exactly 1", stream[i].ID, n))
			}
		}
	}
	if firstErr != nil {
		sum.Problems = append(sum.Problems, fmt.Sprintf("%d deliveries failed; the first error: %v", sum.Failed, firstErr))
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sum.P99 = percentile(all, 0.99)
	return nil
}

// deliver records a batch (of one event: Record; of more: RecordBatch) and
// counts, in applied (indexed by event, evs the batch's events' indexes),
// the deliveries that came back applied. ok is true when every event was recorded; retry is
// true when the only failures were lost compare-and-swap races, after
// which delivering the whole batch again is safe (applied events come back
// Duplicate).
func deliver(ctx context.Context, tr *lifecycle.Tracker, batch []lifecycle.Event, evs []int32, applied []int32) (ok, retry bool, err error) {
	if len(batch) == 1 {
		res, err := tr.Record(ctx, batch[0])
		if err != nil {
			return false, errors.Is(err, lifecycle.ErrConflict), err
		}
		if !res.Duplicate {
			atomic.AddInt32(&applied[evs[0]], 1)
		}
		return true, false, nil
	}
	results, err := tr.RecordBatch(ctx, batch)
	for k, r := range results {
		if r.Err == nil && !r.Duplicate {
			atomic.AddInt32(&applied[evs[k]], 1)
		}
	}
	if err != nil {
		return false, errors.Is(err, lifecycle.ErrConflict) && !errors.Is(err, lifecycle.ErrInvalidEvent), err
	}
	return true, false, nil
}

// percentile returns the p-quantile (nearest rank) of d; it sorts d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(float64(len(d))*p+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func scan(ctx context.Context, s lifecycle.Store, prefix string) (map[string]*lifecycle.Customer, error) {
	out := make(map[string]*lifecycle.Customer)
	for c, err := range s.Scan(ctx) {
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(c.ID, prefix) {
			out[c.ID] = c
		}
	}
	return out, nil
}

const maxProblems = 20

func compare(ctx context.Context, g *stage.Graph, ref, st lifecycle.Store, prefix string, sum *Summary) error {
	want, err := scan(ctx, ref, prefix)
	if err != nil {
		return fmt.Errorf("scanning the reference store: %w", err)
	}
	got, err := scan(ctx, st, prefix)
	if err != nil {
		return fmt.Errorf("scanning the tested store: %w", err)
	}
	sum.Customers = len(want)
	problem := func(format string, args ...any) {
		if len(sum.Problems) < maxProblems {
			sum.Problems = append(sum.Problems, fmt.Sprintf(format, args...))
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		w, g2 := want[id], got[id]
		k := 0
		for _, r := range w.Facts.Referrals {
			if rc, ok := want[r.Customer]; ok {
				k += int(rc.Facts.Count(lifecycle.OrderCompleted))
			} else {
				k++
			}
		}
		switch verdict, why := Diff(g, w, g2, k); verdict {
		case Lost:
			sum.Lost++
			problem("lost: customer %q: %s", id, why)
		case Doubled:
			sum.Doubled++
			problem("doubled: customer %q: %s", id, why)
		case Mismatched:
			sum.Mismatched++
			problem("mismatched: customer %q: %s", id, why)
		}
	}
	extra := make([]string, 0)
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		sum.Mismatched++
		problem("mismatched: customer %q is stored but the reference replay has no such customer", id)
	}
	return nil
}

// Verdict classifies one customer; see the package documentation.
type Verdict int

// Verdicts, from the worst.
const (
	Same Verdict = iota
	Lost
	Doubled
	Mismatched
)

// Diff compares the customer got (nil: missing) with the reference want,
// checking the tested customer's bookkeeping against graph g; creditWrites
// is how many of its writes may have applied no event, only a referral
// credit (k in the package documentation). It returns the verdict and,
// unless Same, a description of the first difference.
func Diff(g *stage.Graph, want, got *lifecycle.Customer, creditWrites int) (Verdict, string) {
	if got == nil {
		return Lost, fmt.Sprintf("missing; the reference has %d events", want.Facts.Events())
	}
	wn, gn := want.Facts.Events(), got.Facts.Events()
	ws, gs := want.Seen.Len(), got.Seen.Len()
	switch {
	case gn < wn || gs < ws:
		return Lost, fmt.Sprintf("%d events and %d seen IDs; the reference has %d and %d", gn, gs, wn, ws)
	case gn > wn || gs > ws:
		return Doubled, fmt.Sprintf("%d events and %d seen IDs; the reference has %d and %d", gn, gs, wn, ws)
	}
	if why := diffFacts(&want.Facts, &got.Facts); why != "" {
		return Mismatched, "facts: " + why
	}
	switch {
	case got.Stage != want.Stage:
		return Mismatched, fmt.Sprintf("stage %q, the reference %q", got.Stage, want.Stage)
	case !got.AsOf.Equal(want.AsOf):
		return Mismatched, fmt.Sprintf("as_of %s, the reference %s", got.AsOf, want.AsOf)
	case !got.Seen.Equal(&want.Seen):
		return Mismatched, "the seen event IDs differ from the reference's"
	case got.Version < 1 || got.Version > uint64(gs+creditWrites):
		return Mismatched, fmt.Sprintf("version %d with %d events seen and up to %d credit writes (want 1 to %d)", got.Version, gs, creditWrites, gs+creditWrites)
	}
	if why := checkHistory(g, got); why != "" {
		return Mismatched, "history: " + why
	}
	return Same, ""
}

func diffFacts(w, g *lifecycle.Facts) string {
	switch {
	case !g.First.Equal(w.First) || !g.Last.Equal(w.Last):
		return fmt.Sprintf("first/last %s/%s, the reference %s/%s", g.First, g.Last, w.First, w.Last)
	case len(g.Tallies) != len(w.Tallies):
		return fmt.Sprintf("%d event types, the reference %d", len(g.Tallies), len(w.Tallies))
	case len(g.Sums) != len(w.Sums):
		return fmt.Sprintf("%d sums, the reference %d", len(g.Sums), len(w.Sums))
	case g.ReferredBy != w.ReferredBy || !g.ReferredAt.Equal(w.ReferredAt):
		return fmt.Sprintf("referred by %q at %s, the reference %q at %s", g.ReferredBy, g.ReferredAt, w.ReferredBy, w.ReferredAt)
	case g.Score != w.Score || !g.ScoreAt.Equal(w.ScoreAt):
		return fmt.Sprintf("score %d at %s, the reference %d at %s", g.Score, g.ScoreAt, w.Score, w.ScoreAt)
	case len(g.Referrals) != len(w.Referrals):
		return fmt.Sprintf("%d referral credits, the reference %d", len(g.Referrals), len(w.Referrals))
	}
	for i := range w.Referrals {
		a, b := g.Referrals[i], w.Referrals[i]
		if a.Customer != b.Customer || !a.At.Equal(b.At) {
			return fmt.Sprintf("referral credit %+v, the reference %+v", a, b)
		}
	}
	for i := range w.Tallies {
		a, b := g.Tallies[i], w.Tallies[i]
		if a.Type != b.Type || a.Count != b.Count || !a.First.Equal(b.First) || !a.Last.Equal(b.Last) {
			return fmt.Sprintf("tally %+v, the reference %+v", a, b)
		}
	}
	for i := range w.Sums {
		if g.Sums[i] != w.Sums[i] {
			return fmt.Sprintf("sum %+v, the reference %+v", g.Sums[i], w.Sums[i])
		}
	}
	return ""
}

func checkHistory(g *stage.Graph, c *lifecycle.Customer) string {
	h := c.History
	if c.PendingReferrer() {
		if len(h) != 0 || c.Stage != "" || !c.Since.IsZero() {
			return fmt.Sprintf("a pending referrer (credits, no event of its own) has stage %q since %s and %d transitions; want none", c.Stage, c.Since, len(h))
		}
		return ""
	}
	if len(h) == 0 {
		return "empty"
	}
	if h[0].From != "" {
		return fmt.Sprintf("starts from %q, not from no stage", h[0].From)
	}
	for i, tr := range h {
		if i > 0 && tr.From != h[i-1].To {
			return fmt.Sprintf("entry %d moves from %q but the previous one ended in %q", i, tr.From, h[i-1].To)
		}
		if i > 0 && !g.Allows(tr.From, tr.To) {
			return fmt.Sprintf("entry %d moves %q → %q, which the model's graph does not allow", i, tr.From, tr.To)
		}
		if i == 0 && !g.Has(tr.To) {
			return fmt.Sprintf("entry 0 enters undeclared stage %q", tr.To)
		}
	}
	last := h[len(h)-1]
	if last.To != c.Stage {
		return fmt.Sprintf("ends in %q but the stage is %q", last.To, c.Stage)
	}
	if !c.Since.Equal(last.At) {
		return fmt.Sprintf("since %s but the last move was at %s", c.Since, last.At)
	}
	return ""
}
