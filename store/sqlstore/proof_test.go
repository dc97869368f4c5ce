package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// now is the trackers' clock in these tests: after every event.
var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTracker(s lifecycle.Store, opts ...lifecycle.Option) *lifecycle.Tracker {
	return lifecycle.NewTracker(model.SterneCutler(), s, append([]lifecycle.Option{
		lifecycle.WithClock(func() time.Time { return now }),
		lifecycle.WithMaxRetries(500),
	}, opts...)...)
}

// stream returns n distinct events for the given number of customers,
// reproducibly from seed: visits, sign-ups (some naming a referrer), views,
// carts, orders, refunds and survey answers over 2025. A referred customer
// orders at most once, so that the referral credit (whose time is the
// referred customer's first order) does not depend on arrival order.
func stream(seed uint64, customers, n int) []lifecycle.Event {
	r := rand.New(rand.NewPCG(seed, 42))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	referrer := make([]int, customers)
	orders := make([]int, customers)
	for i := range referrer {
		referrer[i] = -1
		if i > 0 && r.IntN(4) == 0 {
			referrer[i] = r.IntN(i)
		}
	}
	events := make([]lifecycle.Event, 0, n)
	for i := 0; len(events) < n; i++ {
		c := r.IntN(customers)
		e := lifecycle.Event{
			ID:         fmt.Sprintf("ev-%d-%d", seed, i),
			CustomerID: fmt.Sprintf("cust-%03d", c),
			Time:       start.Add(time.Duration(r.IntN(365*24*60)) * time.Minute),
		}
		switch k := r.IntN(20); {
		case k < 6:
			e.Type = lifecycle.SiteVisited
		case k < 8:
			e.Type = lifecycle.SignedUp
			if referrer[c] >= 0 {
				e.ReferrerID = fmt.Sprintf("cust-%03d", referrer[c])
			}
		case k < 11:
			e.Type = lifecycle.ProductViewed
		case k < 13:
			e.Type = lifecycle.CartAdded
		case k < 17:
			if referrer[c] >= 0 && orders[c] > 0 {
				e.Type = lifecycle.SiteVisited
				break
			}
			orders[c]++
			e.Type, e.Amount, e.Currency = lifecycle.OrderCompleted, int64(1000+r.IntN(20000)), "EUR"
		case k < 18:
			e.Type, e.Amount, e.Currency = lifecycle.OrderRefunded, int64(500+r.IntN(1000)), "EUR"
		default:
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(r.IntN(11))}
		}
		events = append(events, e)
	}
	return events
}

// duplicated returns every event one to three times, shuffled.
func duplicated(seed uint64, events []lifecycle.Event) []lifecycle.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []lifecycle.Event
	for _, e := range events {
		for range 1 + r.IntN(3) {
			out = append(out, e)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// sequential records events one by one, in order, into a Memory store and
// returns every customer.
func sequential(t *testing.T, events []lifecycle.Event, batch bool) map[string]*lifecycle.Customer {
	t.Helper()
	mem := store.NewMemory()
	tr := newTracker(mem)
	ctx := context.Background()
	if batch {
		_, err := tr.RecordBatch(ctx, events)
		require.NoError(t, err)
	} else {
		for _, e := range events {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err)
		}
	}
	return all(t, mem)
}

func all(t *testing.T, s lifecycle.Store) map[string]*lifecycle.Customer {
	t.Helper()
	out := map[string]*lifecycle.Customer{}
	for c, err := range s.Scan(context.Background()) {
		require.NoError(t, err)
		out[c.ID] = c
	}
	return out
}

// orderFree keeps what must not depend on arrival order or on how many
// writers there were: facts, stage, AsOf, applied events and the number of
// writes (Version: one per write that applied something).
func orderFree(m map[string]*lifecycle.Customer) map[string]*lifecycle.Customer {
	out := map[string]*lifecycle.Customer{}
	for id, c := range m {
		out[id] = &lifecycle.Customer{ID: c.ID, Stage: c.Stage, AsOf: c.AsOf, Facts: c.Facts, Seen: c.Seen, Version: c.Version}
	}
	return out
}

// cmpOpts compares customers as stores return them: an empty slice as
// nil, Seen by its keys.
var cmpOpts = cmp.Options{cmpopts.EquateEmpty(), cmpSeen}

// checkEventRows checks that the events table holds as many keys as the
// customers' Seen (which Get and Scan read from it), and no row of a
// customer that is not stored.
func checkEventRows(t *testing.T, s *sqlstore.Store, m map[string]*lifecycle.Customer) {
	t.Helper()
	want := 0
	for _, c := range m {
		want += c.Seen.Len()
	}
	require.Equal(t, want, rowCount(t, s, "events"), "rows in the events table vs. keys in the customers' Seen")
	require.Equal(t, len(m), rowCount(t, s, "customers"))
}

// TestMultiInstance: two Trackers, each on its own Store with its own
// connection pool, record an interleaved stream with duplicates for the
// same customers at once, four goroutines each. The result must equal a
// sequential replay of the distinct events: no lost update, no double count.
func TestMultiInstance(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		const customers, distinct = 24, 600
		events := stream(1, customers, distinct)
		want := sequential(t, events, false)
		e := newEnv(t, d)
		trackers := []*lifecycle.Tracker{newTracker(e.open(t)), newTracker(e.open(t))}
		lanes := make([][]lifecycle.Event, 8)
		for i, ev := range duplicated(2, events) {
			lanes[i%len(lanes)] = append(lanes[i%len(lanes)], ev)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(lanes))
		var dups sync.Map
		for i, lane := range lanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := trackers[i%2]
				for _, ev := range lane {
					res, err := tr.Record(context.Background(), ev)
					if err != nil {
						errs <- fmt.Errorf("lane %d: Record(%s): %w", i, ev.ID, err)
						return
					}
					if res.Duplicate {
						dups.Store(ev.ID, true)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		s := e.open(t)
		got := all(t, s)
		if diff := cmp.Diff(orderFree(want), orderFree(got), cmpOpts); diff != "" {
			t.Fatalf("two instances × four writers vs. a sequential replay (-want +got):\n%s", diff)
		}
		checkEventRows(t, s, got)
		n := 0
		dups.Range(func(any, any) bool { n++; return true })
		t.Logf("%d distinct events, %d recorded as duplicates at least once", distinct, n)
		require.Positive(t, n, "the stream had duplicates, but none was reported Duplicate")
	})
}

// The crash test re-runs this test binary as a writer process.
func TestMain(m *testing.M) {
	if os.Getenv("CLM_SQLSTORE_CHILD") == "crash" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// crashChunk is how many events of the crash test's batch the writer
// records per RecordBatch call. The Tracker writes all the customers of a
// RecordBatch with one Apply (one statement or transaction) before it
// calls any hook, so a kill timed by the hooks lands between RecordBatch
// calls (or between a call's write and its referral credits): the batch
// is recorded in many calls for the kill to land mid-stream.
const crashCustomers, crashEvents, crashChunk = 60, 600, 10

// recordChunks records events with tr, crashChunk events per RecordBatch
// call.
func recordChunks(ctx context.Context, tr *lifecycle.Tracker, events []lifecycle.Event) error {
	for chunk := range slices.Chunk(events, crashChunk) {
		if _, err := tr.RecordBatch(ctx, chunk); err != nil {
			return err
		}
	}
	return nil
}

// crashChild records the crash test's batch with recordChunks, printing a
// line per stage change (and pausing 2 ms, so the parent's kill lands
// mid-stream), then "done".
func crashChild() int {
	ctx := context.Background()
	s, err := sqlstore.Connect(ctx, os.Getenv("CLM_SQLSTORE_URL"), sqlstore.WithTablePrefix(os.Getenv("CLM_SQLSTORE_PREFIX")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := bufio.NewWriter(os.Stdout)
	tr := newTracker(s, lifecycle.WithHook(func(_ context.Context, ch lifecycle.Change) {
		fmt.Fprintf(out, "moved %s %s\n", ch.CustomerID, ch.To)
		out.Flush()
		time.Sleep(2 * time.Millisecond)
	}))
	if err := recordChunks(ctx, tr, stream(3, crashCustomers, crashEvents)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Fprintln(out, "done")
	out.Flush()
	return 0
}

// runChild runs the writer; with killAfter > 0 it kills it with SIGKILL
// after that many stage-change lines. It reports whether the child
// finished the batch.
func runChild(t *testing.T, e env, killAfter int) (finished bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLM_SQLSTORE_CHILD=crash", "CLM_SQLSTORE_URL="+e.url, "CLM_SQLSTORE_PREFIX="+e.prefix)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	lines := 0
	for sc.Scan() {
		if sc.Text() == "done" {
			finished = true
			continue
		}
		lines++
		if killAfter > 0 && lines == killAfter {
			require.NoError(t, cmd.Process.Kill())
			break
		}
	}
	err = cmd.Wait()
	if killAfter > 0 {
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "child stderr: %s", stderr.String())
		ws, ok := ee.Sys().(syscall.WaitStatus)
		require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "child was not killed by SIGKILL: %v; stderr: %s", err, stderr.String())
		return false
	}
	require.NoError(t, err, "child stderr: %s", stderr.String())
	return finished
}

// TestCrash kills a writer process with SIGKILL in the middle of a
// stream of RecordBatch calls, twice, then lets a new process replay the
// same calls to the end: the result must equal one clean run of them,
// every field included, and one more replay (one RecordBatch of the whole
// stream) must change nothing.
func TestCrash(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s := e.open(t) // creates the tables
		batch := stream(3, crashCustomers, crashEvents)
		mem := store.NewMemory()
		require.NoError(t, recordChunks(context.Background(), newTracker(mem), batch))
		want := all(t, mem)

		for _, killAfter := range []int{10, 40} {
			runChild(t, e, killAfter)
			n := rowCount(t, s, "customers")
			t.Logf("killed after %d stage changes: %d of %d customers stored", killAfter, n, len(want))
			require.Positive(t, n)
			require.Less(t, n, len(want), "the kill did not land mid-stream")
			checkEventRows(t, s, all(t, s))
		}
		require.True(t, runChild(t, e, 0), "the replay did not finish the batch")

		got := all(t, s)
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Fatalf("after two crashes and a replay vs. one clean RecordBatch (-want +got):\n%s", diff)
		}
		checkEventRows(t, s, got)

		res, err := newTracker(s).RecordBatch(context.Background(), batch)
		require.NoError(t, err)
		for i, r := range res {
			require.True(t, r.Duplicate, "event %d (%s) applied again on a second replay", i, r.EventID)
		}
		if diff := cmp.Diff(want, all(t, s), cmpOpts); diff != "" {
			t.Fatalf("a second replay changed the store (-want +got):\n%s", diff)
		}
	})
}
