package streamtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/store"
)

// Runner is a consumer of either engine.
type Runner interface {
	Run(ctx context.Context) error
	Stats() stream.Stats
}

// Running is a consumer running in the test's process.
type Running struct {
	R    Runner
	stop context.CancelFunc
	done chan error
}

// Start runs r until [Running.Halt] or the end of the test.
func Start(t testing.TB, r Runner) *Running {
	ctx, cancel := context.WithCancel(context.Background())
	rn := &Running{R: r, stop: cancel, done: make(chan error, 1)}
	go func() { rn.done <- r.Run(ctx) }()
	t.Cleanup(func() { rn.Halt(t) })
	return rn
}

// Halt ends the consumer's context and waits for Run to return nil.
func (rn *Running) Halt(t testing.TB) {
	rn.stop()
	select {
	case err := <-rn.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		rn.done <- nil
	case <-time.After(30 * time.Second):
		t.Errorf("Run did not return within 30 s of its context ending")
	}
}

// Applied sums the events the consumers applied.
func Applied(rs ...*Running) int64 {
	var n int64
	for _, r := range rs {
		n += r.R.Stats().Applied
	}
	return n
}

// Load builds the plan of [Scale] and its sequential replay.
func Load(t testing.TB) (*Plan, *store.Memory) {
	t.Helper()
	p, err := NewPlan(Scale())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Reference(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return p, ref
}

// Check compares got with the reference and fails t on any difference.
func Check(t testing.TB, ref *store.Memory, got lifecycle.Store) {
	t.Helper()
	r, err := Compare(context.Background(), ref, got)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if !r.OK() {
		t.Errorf("%s\n%v", r, r.Problems)
	}
}

// CheckDead checks that the dead letters read back (count per source)
// are exactly the invalid messages sent (by source); with repeats, a
// message may have been dead-lettered more than once (after a kill).
func CheckDead(t testing.TB, got map[string]int, invalid map[string]bool, repeats bool) {
	t.Helper()
	for _, s := range slices.Sorted(maps.Keys(invalid)) { // in order, the same each run
		if got[s] == 0 {
			t.Errorf("invalid message %s is not in the dead letters", s)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(got)) {
		n := got[s]
		if !invalid[s] {
			t.Errorf("dead letter from %s, which was not an invalid message", s)
		}
		if n > 1 && !repeats {
			t.Errorf("dead letter from %s published %d times", s, n)
		}
	}
}

// Gated is a Memory store whose writes take Delay and announce
// themselves on Writing (without blocking), so that a test can act while
// a batch is in flight.
type Gated struct {
	*store.Memory
	Delay   time.Duration
	Writing chan struct{}
}

// NewGated returns a Gated store whose writes take delay.
func NewGated(delay time.Duration) *Gated {
	return &Gated{Memory: store.NewMemory(), Delay: delay, Writing: make(chan struct{})}
}

// Apply announces the write, waits Delay, and writes to the Memory store.
func (g *Gated) Apply(ctx context.Context, ws []lifecycle.Write) {
	select {
	case g.Writing <- struct{}{}:
	default:
	}
	select {
	case <-time.After(g.Delay):
	case <-ctx.Done():
	}
	g.Memory.Apply(ctx, ws)
}

// InFlight waits until a write starts.
func (g *Gated) InFlight(t testing.TB) {
	t.Helper()
	select {
	case <-g.Writing:
	case <-time.After(30 * time.Second):
		t.Fatal("no batch in flight within 30 s")
	}
}

// WaitBatches waits until r has recorded at least n batches.
func WaitBatches(t testing.TB, r Runner, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats().Batches < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches in 30 s; want %d", r.Stats().Batches, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Proc is a consumer in a child process: the test binary run again with
// an environment variable that makes its TestMain call [RunChild].
type Proc struct {
	cmd     *exec.Cmd
	batches chan int64
	exited  chan struct{}
}

var batchesRE = regexp.MustCompile(`^batches=(\d+) `)

// StartChild runs the test binary again with env set to the JSON of cfg.
func StartChild(t testing.TB, env string, cfg any) *Proc {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+string(raw))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, batches: make(chan int64, 1), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := batchesRE.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				select {
				case <-p.batches:
				default:
				}
				p.batches <- n
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Signal(syscall.SIGKILL) })
	return p
}

// Signal sends s to the child and waits for it to exit.
func (p *Proc) Signal(s syscall.Signal) {
	_ = p.cmd.Process.Signal(s)
	<-p.exited
}

// WaitBatches waits until the child has recorded at least n batches.
func (p *Proc) WaitBatches(t testing.TB, n int64) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case got := <-p.batches:
			if got >= n {
				return
			}
		case <-p.exited:
			t.Fatal("the child consumer exited")
		case <-timeout:
			t.Fatalf("the child consumer did not record %d batches within 60 s", n)
		}
	}
}

// RunChild is the child's side of [StartChild]: it decodes the JSON
// configuration raw into cfg, opens the consumer with open, runs it until
// SIGTERM (or SIGKILL), printing its counts every 50 ms, and returns the
// exit status.
func RunChild[C any](raw string, open func(ctx context.Context, cfg C) (Runner, func(), error)) int {
	var cfg C
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	r, closeAll, err := open(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer closeAll()
	go func() {
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				fmt.Println(r.Stats())
			}
		}
	}()
	if err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// Throughput formats a run's figures for the test log.
func Throughput(p *Plan, consumers int, elapsed time.Duration) string {
	return fmt.Sprintf("%d messages (%d invalid), %d events, %d consumers: %s (%.0f messages/s)",
		len(p.Messages), p.InvalidCount(), len(p.Events), consumers, elapsed.Round(time.Millisecond), float64(len(p.Messages))/elapsed.Seconds())
}

// Full reports whether CLM_STREAM_FULL=1 asks for the full scale.
func Full() bool { return os.Getenv("CLM_STREAM_FULL") == "1" }

// Timeout is how long a test waits for the consumers to finish: d at
// the default scale, 40 minutes at full scale.
func Timeout(d time.Duration) time.Duration {
	if Full() {
		return 40 * time.Minute
	}
	return d
}

// Baseline records the plan's valid messages straight into st with
// RecordBatch, as writers consumers would without a log: the messages
// of each of partitions partitions in the plan's order, cut into batches
// of batch, partition p written by writer p % writers, duplicates and
// all. It returns how long it took.
func Baseline(ctx context.Context, p *Plan, st lifecycle.Store, partitions, writers, batch int) (time.Duration, error) {
	per := make([][]lifecycle.Event, partitions)
	for i, m := range p.Messages {
		if p.Invalid[i] {
			continue
		}
		evs, err := stream.Decode(stream.FormatAuto, m.Value)
		if err != nil {
			return 0, err
		}
		q := stream.Partition(m.Key, partitions)
		per[q] = append(per[q], evs...)
	}
	t := lifecycle.NewTracker(Model(), st)
	began := time.Now()
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var err error
			for q := w; q < partitions && err == nil; q += writers {
				for i := 0; i < len(per[q]) && err == nil; i += batch {
					_, err = t.RecordBatch(ctx, per[q][i:min(i+batch, len(per[q]))])
				}
			}
			errs <- err
		}()
	}
	var first error
	for range writers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return time.Since(began), first
}

// KillAfter is how many batches of batch messages the child consumer of a
// SIGKILL test records before it is killed: about a tenth of its third
// of the plan's messages (at least 3), so that it dies mid-run with work
// done and work left.
func KillAfter(p *Plan, batch int) int64 {
	return max(3, int64(len(p.Messages)/batch/30))
}

// TailLog is an io.Writer for a test's logger that keeps the last line
// written, to show in a failure.
type TailLog struct {
	mu   sync.Mutex
	last string
}

// Write keeps b as the last line.
func (l *TailLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.last = string(b)
	l.mu.Unlock()
	return len(b), nil
}

// Last returns the last line written.
func (l *TailLog) Last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
