package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// The store fails at random on Get, Put or Apply (before or after
// committing), Scan or ListDue. The caller sees Record (or Sweep) return an error that
// wraps the store's error (errors.Is(err, errInjected)); it retries the
// same event, as Record's contract allows, until it succeeds. Nothing is
// lost or doubled: the final state equals a fault-free sequential replay.
// After an ambiguous failure (the write committed, the store said it did
// not), the retry comes back Duplicate.
func TestStoreFailsAtRandom(t *testing.T) {
	tests := []struct {
		name string
		// 1: the store offers Apply, through which the Tracker writes, and
		// is swept by Scan; 2: ListDue too, through which it is swept.
		applier int
		edit    func(*flaky)
	}{
		{"Get fails", 0, func(f *flaky) { f.get = 0.2 }},
		{"Put fails before writing", 0, func(f *flaky) { f.put = 0.2 }},
		{"Put commits then fails", 0, func(f *flaky) { f.putAfter = 0.2 }},
		{"Get and Put fail, both ways", 0, func(f *flaky) { f.get, f.put, f.putAfter = 0.1, 0.1, 0.1 }},
		{"Apply fails before writing", 1, func(f *flaky) { f.put = 0.2 }},
		{"Apply commits then fails", 1, func(f *flaky) { f.putAfter = 0.2 }},
		{"Apply fails before writing, swept by ListDue", 2, func(f *flaky) { f.put = 0.2 }},
		{"Apply commits then fails, swept by ListDue", 2, func(f *flaky) { f.putAfter = 0.2 }},
	}
	events, end := stream(3000, 11, true)
	want := reference(t, events, end, end.Add(200*24*time.Hour))
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFlaky(uint64(i))
			tc.edit(f)
			var s lifecycle.Store = f
			switch tc.applier {
			case 1:
				s = flakyApplier{f}
			case 2:
				s = flakyLister{flakyApplier{f}}
			}
			tr := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(func() time.Time { return end }))
			seenErrors, dupAfterErr := 0, 0
			for _, e := range events {
				failed := false
				for attempt := 1; ; attempt++ {
					res, err := tr.Record(ctx, e)
					if err == nil {
						if failed && res.Duplicate {
							dupAfterErr++
						}
						break
					}
					if !errors.Is(err, errInjected) {
						t.Fatalf("event %s: error %v does not wrap the store's error", e.ID, err)
					}
					seenErrors++
					failed = true
					require.Less(t, attempt, 50, "event %s still failing after 50 attempts", e.ID)
				}
			}
			// A sweep with a failing Scan or ListDue (and failing writes)
			// is retried until it completes; sweeping is idempotent.
			f.scan = 0.01
			failuresBefore := f.Failures()
			for attempt := 1; ; attempt++ {
				sr, err := tr.Sweep(ctx, end.Add(200*24*time.Hour))
				if err == nil {
					if attempt == 1 && f.Failures() == failuresBefore {
						t.Fatalf("the first sweep (%+v) met no fault: the sweep part proves nothing", sr)
					}
					break
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("Sweep: error %v does not wrap the store's error", err)
				}
				require.Less(t, attempt, 200, "Sweep still failing")
			}
			if seenErrors == 0 || f.Failures() == 0 {
				t.Fatal("no fault was injected: the test proves nothing")
			}
			if f.putAfter > 0 && dupAfterErr == 0 {
				t.Error("no retry after an ambiguous failure came back Duplicate")
			}
			*f = flaky{m: f.m} // no more faults while reading back
			sameState(t, want, f.m)
		})
	}
}

// cancelAfter is a Memory whose writes (Put, or each write of an Apply)
// cancel a context after n of them. Its Apply applies the writes one at a
// time, as Memory's does, so that the cancellation lands in the middle of
// one Apply: the writes after it get the context's error.
type cancelAfter struct {
	*store.Memory
	n       atomic.Int64
	applies atomic.Int64 // Apply calls
	cancel  context.CancelFunc
}

func (c *cancelAfter) count() {
	if c.n.Add(-1) == 0 {
		c.cancel()
	}
}

func (c *cancelAfter) Put(ctx context.Context, cu *lifecycle.Customer, prev uint64) error {
	err := c.Memory.Put(ctx, cu, prev)
	c.count()
	return err
}

func (c *cancelAfter) Apply(ctx context.Context, ws []lifecycle.Write) {
	c.applies.Add(1)
	for i := range ws {
		c.Memory.Apply(ctx, ws[i:i+1])
		c.count()
	}
}

// The context is cancelled in the middle of a RecordBatch. The caller sees
// an error wrapping context.Canceled; the results of the customers written
// before the cancellation have no Err, every other result has an Err
// wrapping context.Canceled. Retrying the whole batch with a live context
// applies the rest: the events applied the first time come back Duplicate,
// and the final state equals a sequential replay. Both write paths: the
// fallback (Put) and Apply.
func TestContextCancelledMidBatch(t *testing.T) {
	events, end := stream(2000, 12, true)
	want := reference(t, events, end, time.Time{})
	for _, path := range []string{"Put", "Apply"} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			s := &cancelAfter{Memory: store.NewMemory(), cancel: cancel}
			s.n.Store(40)
			// Hide Memory's Loader and DueLister, and for Put its Applier:
			// batches write through Put, or through Apply.
			var st lifecycle.Store = struct{ lifecycle.Store }{s}
			if path == "Apply" {
				st = struct {
					lifecycle.Store
					lifecycle.Applier
				}{s, s}
			}
			tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return end }))
			res, err := tr.RecordBatch(ctx, events)
			require.ErrorIs(t, err, context.Canceled)
			if path == "Apply" {
				// One Apply of every customer of the batch, then at most
				// one of the referral credits: the cancellation landed in
				// the middle of the first.
				require.LessOrEqual(t, s.applies.Load(), int64(2), "RecordBatch writes its customers in one Apply")
				require.GreaterOrEqual(t, s.applies.Load(), int64(1))
			}
			applied := map[string]bool{}
			okCount, cancelled := 0, 0
			for _, r := range res {
				switch {
				case r.Err == nil:
					okCount++
					applied[r.EventID] = true
				case errors.Is(r.Err, context.Canceled):
					cancelled++
				default:
					t.Fatalf("event %s: unexpected error %v", r.EventID, r.Err)
				}
			}
			if okCount == 0 || cancelled == 0 {
				t.Fatalf("%d applied, %d cancelled: the cancellation did not land mid-batch", okCount, cancelled)
			}
			// What the results say is what the store holds: an event whose result
			// has no Err is stored, one whose result wraps context.Canceled is not.
			for _, r := range res {
				c, err := s.Memory.Get(context.Background(), r.CustomerID)
				stored := err == nil && c.HasSeen(r.EventID)
				if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
					t.Fatal(err)
				}
				if stored != (r.Err == nil) {
					t.Fatalf("event %s of customer %s: result error %v, but stored is %v", r.EventID, r.CustomerID, r.Err, stored)
				}
			}
			res, err = tr.RecordBatch(context.Background(), events)
			require.NoError(t, err)
			for _, r := range res {
				if applied[r.EventID] && !r.Duplicate {
					t.Fatalf("event %s applied before the cancellation was applied again", r.EventID)
				}
			}
			sameState(t, want, s.Memory)

			// A context cancelled before Record: nothing is stored.
			done, stop := context.WithCancel(context.Background())
			stop()
			e := lifecycle.Event{ID: "late", CustomerID: "nobody", Type: lifecycle.SiteVisited, Time: end.Add(-time.Hour)}
			_, err = tr.Record(done, e)
			require.ErrorIs(t, err, context.Canceled)
			_, err = s.Get(context.Background(), "nobody")
			require.ErrorIs(t, err, lifecycle.ErrNotFound)
		})
	}
}

// Many writers record a stream; the context is cancelled part-way. Every
// Record either succeeded or returned an error wrapping context.Canceled.
// Replaying the whole stream with a live context then completes it: the
// final state equals a sequential replay, nothing lost, nothing doubled.
func TestContextCancelledUnderLoad(t *testing.T) {
	events, end := stream(4000, 13, false)
	want := reference(t, events, end, time.Time{})
	writePaths(t, func(t *testing.T, m *store.Memory, s lifecycle.Store) {
		tr := lifecycle.NewTracker(model.SterneCutler(), s, lifecycle.WithClock(func() time.Time { return end }))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var next, recorded atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(events) {
						return
					}
					if recorded.Add(1) == int64(len(events)/2) {
						cancel()
					}
					if _, err := tr.Record(ctx, events[i]); err != nil && !errors.Is(err, context.Canceled) {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, e := range events {
			_, err := tr.Record(context.Background(), e)
			require.NoError(t, err)
		}
		sameState(t, want, m)
	})
}

// logBuffer is a slog handler target safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) Count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Count(l.b.Bytes(), []byte(s))
}

// A hook that panics on every stage change. The caller sees Record succeed
// (nil error, Moved set) as if the hook had returned; the panic is logged
// at error level, once per change; hooks added after it still run; and the
// state equals a sequential replay without hooks.
func TestPanickingHook(t *testing.T) {
	events, end := stream(2000, 14, true)
	want := reference(t, events, end, time.Time{})
	writePaths(t, func(t *testing.T, m *store.Memory, s lifecycle.Store) {
		var logs logBuffer
		var after atomic.Int64
		tr := lifecycle.NewTracker(model.SterneCutler(), s,
			lifecycle.WithClock(func() time.Time { return end }),
			lifecycle.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
			lifecycle.WithHook(func(context.Context, lifecycle.Change) { panic("hook exploded") }),
			lifecycle.WithHook(func(context.Context, lifecycle.Change) { after.Add(1) }))
		moves := 0
		for _, e := range events {
			res, err := tr.Record(context.Background(), e)
			require.NoError(t, err, "event %s", e.ID)
			if res.Moved {
				moves++
			}
		}
		require.Positive(t, moves)
		if got := logs.Count("hook exploded"); got < moves {
			t.Errorf("%d panics logged for at least %d stage changes", got, moves)
		}
		// Each panic is logged at error level, with the customer and the move.
		if got := logs.Count("level=ERROR msg=\"lifecycle: transition hook panicked\" customer="); got < moves {
			t.Errorf("%d panics logged at error level with the customer for at least %d stage changes:\n%.500s", got, moves, logs.b.String())
		}
		if got := logs.Count(" from="); got < moves {
			t.Errorf("%d panic logs name the stage moved from, for at least %d stage changes", got, moves)
		}
		if got := logs.Count(" to="); got < moves {
			t.Errorf("%d panic logs name the stage moved to, for at least %d stage changes", got, moves)
		}
		if got := after.Load(); got < int64(moves) {
			t.Errorf("the hook after the panicking one ran %d times for at least %d changes", got, moves)
		}
		sameState(t, want, m)
	})
}

// A hook that blocks. Record waits for it: the call does not return while
// the hook blocks, although the event is already committed (visible to
// readers) and other Records of the same customer go through. When the hook
// returns, so does Record, with no error. A hook that waits on the context
// ends when the caller's deadline passes; Record then returns nil, because
// the event was stored before the hook ran.
func TestBlockingHook(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := lifecycle.WithClock(func() time.Time { return t0.Add(time.Hour) })
	writePaths(t, func(t *testing.T, m *store.Memory, s lifecycle.Store) {
		release := make(chan struct{})
		entered := make(chan lifecycle.Change, 1)
		var calls atomic.Int64
		tr := lifecycle.NewTracker(model.SterneCutler(), s, clock,
			lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) {
				if calls.Add(1) == 1 {
					entered <- ch
					<-release
				}
			}))
		ctx := context.Background()
		done := make(chan error, 1)
		go func() {
			_, err := tr.Record(ctx, lifecycle.Event{ID: "v1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0})
			done <- err
		}()
		select {
		case ch := <-entered:
			require.Equal(t, "c", ch.CustomerID)
		case <-time.After(10 * time.Second):
			t.Fatal("the hook was not called")
		}
		c, err := tr.Customer(ctx, "c")
		require.NoError(t, err)
		require.True(t, c.HasSeen("v1"), "the event is not committed while the hook runs")
		// Another event for the same customer is not held up.
		_, err = tr.Record(ctx, lifecycle.Event{ID: "v2", CustomerID: "c", Type: lifecycle.ProductViewed, Time: t0.Add(time.Minute)})
		require.NoError(t, err)
		select {
		case err := <-done:
			t.Fatalf("Record returned (%v) while its hook was still blocked", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Record did not return after the hook did")
		}
		sameState(t, reference(t, []lifecycle.Event{
			{ID: "v1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0},
			{ID: "v2", CustomerID: "c", Type: lifecycle.ProductViewed, Time: t0.Add(time.Minute)},
		}, t0.Add(time.Hour), time.Time{}), m)
	})
	t.Run("hook honours the deadline", func(t *testing.T) {
		m := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), m, clock,
			lifecycle.WithHook(func(ctx context.Context, _ lifecycle.Change) { <-ctx.Done() }))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		res, err := tr.Record(ctx, lifecycle.Event{ID: "v1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0})
		require.NoError(t, err, "the event was stored before the hook ran")
		require.True(t, res.Moved)
		require.Error(t, ctx.Err(), "Record returned before the deadline although the hook waits for it")
		c, err := m.Get(context.Background(), "c")
		require.NoError(t, err)
		require.True(t, c.HasSeen("v1"))
		sameState(t, reference(t, []lifecycle.Event{
			{ID: "v1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0},
		}, t0.Add(time.Hour), time.Time{}), m)
	})
}

// The clock goes backwards.
//   - Sweep with a time earlier than a previous sweep changes nothing:
//     SweepResult counts the customers due (with Sterne–Cutler, a
//     Scheduler, nobody is due any more after the first sweep lapsed
//     every buyer; with its Scheduler hidden, everyone is) and nothing
//     updated or moved, and every stored customer is byte-for-byte as
//     before.
//   - Record validates event times against the clock: when the clock falls
//     behind an event's time by more than the allowed skew, the caller sees
//     a *ValidationError on field "time" wrapping ErrInvalidEvent and
//     nothing is stored; once the clock is right again the same event is
//     accepted.
//   - An event older than the customer's AsOf (a late arrival) is applied
//     and AsOf does not move backwards.
func TestClockBackwards(t *testing.T) {
	ctx := context.Background()
	events, end := stream(1500, 15, true)
	sweepAt := end.Add(400 * 24 * time.Hour)
	for _, tc := range []struct {
		name     string
		model    lifecycle.Model
		everyone bool // every customer is due at every sweep
	}{
		{"scheduler", model.SterneCutler(), false},
		{"not a scheduler", noSchedule{model.SterneCutler()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := referenceWith(t, tc.model, events, end, sweepAt)
			m := store.NewMemory()
			var now atomic.Pointer[time.Time]
			now.Store(&end)
			tr := lifecycle.NewTracker(tc.model, m, lifecycle.WithClock(func() time.Time { return *now.Load() }))
			for _, e := range events {
				_, err := tr.Record(ctx, e)
				require.NoError(t, err)
			}
			first, err := tr.Sweep(ctx, sweepAt)
			require.NoError(t, err)
			require.Positive(t, first.Updated)
			require.Positive(t, first.Moved)
			before := all(t, m)
			for _, back := range []time.Duration{0, time.Nanosecond, time.Hour, 400 * 24 * time.Hour, 10 * 365 * 24 * time.Hour} {
				sr, err := tr.Sweep(ctx, sweepAt.Add(-back))
				require.NoError(t, err)
				wantSR := lifecycle.SweepResult{}
				if tc.everyone {
					wantSR.Scanned = len(before)
				}
				require.Equal(t, wantSR, sr, "sweep %v back", back)
			}
			if diff := cmp.Diff(before, all(t, m), cmpSeen); diff != "" {
				t.Fatalf("sweeps with an earlier time changed customers (-before +after):\n%s", diff)
			}
			sameState(t, want, m)
		})
	}
	m := store.NewMemory()
	var now atomic.Pointer[time.Time]
	now.Store(&end)
	tr := lifecycle.NewTracker(model.SterneCutler(), m, lifecycle.WithClock(func() time.Time { return *now.Load() }))

	// The clock jumps back an hour behind an event.
	back := end.Add(-2 * time.Hour)
	now.Store(&back)
	e := lifecycle.Event{ID: "fresh", CustomerID: "clock-victim", Type: lifecycle.SiteVisited, Time: end.Add(-time.Minute)}
	_, err := tr.Record(ctx, e)
	var ve *lifecycle.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
	require.Equal(t, "time", ve.Field)
	_, err = m.Get(ctx, "clock-victim")
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "a refused event was stored")
	now.Store(&end)
	_, err = tr.Record(ctx, e)
	require.NoError(t, err)

	// A late arrival: older than the customer's AsOf.
	c, err := m.Get(ctx, "clock-victim")
	require.NoError(t, err)
	asOf := c.AsOf
	_, err = tr.Record(ctx, lifecycle.Event{ID: "older", CustomerID: "clock-victim", Type: lifecycle.ProductViewed, Time: asOf.Add(-48 * time.Hour)})
	require.NoError(t, err)
	c, err = m.Get(ctx, "clock-victim")
	require.NoError(t, err)
	require.True(t, c.AsOf.Equal(asOf), "AsOf moved from %s to %s", asOf, c.AsOf)
	require.EqualValues(t, 2, c.Facts.Events())
}

// Sweeps run while writers record: the write (compare-and-swap Put, or
// Apply) of a sweep and of a Record on the same customer race. The final
// state, after one last sweep, equals a sequential replay swept at the
// same time: exactly, when every customer is due at every sweep (a model
// that is not a Scheduler); with Sterne–Cutler, a Scheduler, in everything
// but AsOf, which is either the replay's or the sweep time (a sweep during
// the writes may have caught a customer while they were due, before their
// later orders arrived; the final sweep leaves a customer who is not due
// alone, so it does not even AsOf out, while the stage is the same at both
// times, as the Scheduler promises).
func TestSweepDuringRecords(t *testing.T) {
	events, end := stream(4000, 16, false)
	sweepAt := end.Add(time.Minute)
	for _, tc := range []struct {
		name  string
		model lifecycle.Model
		exact bool
	}{
		{"not a scheduler", noSchedule{model.SterneCutler()}, true},
		{"scheduler", model.SterneCutler(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := referenceWith(t, tc.model, events, end.Add(time.Hour), sweepAt)
			writePaths(t, func(t *testing.T, m *store.Memory, s lifecycle.Store) {
				ctx := context.Background()
				tr := lifecycle.NewTracker(tc.model, s, lifecycle.WithClock(func() time.Time { return end.Add(time.Hour) }))
				var next atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, 8)
				stop := make(chan struct{})
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := int(next.Add(1)) - 1
							if i >= len(events) {
								return
							}
							if _, err := tr.Record(ctx, events[i]); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				sweeps, swept := 0, 0
				go func() {
					defer close(errs)
					var sw sync.WaitGroup
					sw.Add(1)
					go func() {
						defer sw.Done()
						for {
							select {
							case <-stop:
								return
							default:
							}
							sr, err := tr.Sweep(ctx, sweepAt)
							if err != nil {
								errs <- err
								return
							}
							sweeps++
							swept += sr.Updated
						}
					}()
					wg.Wait()
					close(stop)
					sw.Wait()
				}()
				for err := range errs {
					t.Fatal(err)
				}
				if sweeps == 0 || swept == 0 {
					t.Fatalf("%d sweeps wrote %d customers during the writes: no race was run", sweeps, swept)
				}
				_, err := tr.Sweep(ctx, sweepAt)
				require.NoError(t, err)
				if tc.exact {
					sameState(t, want, m)
					return
				}
				sameStateButAsOf(t, want, m, sweepAt)
			})
		})
	}
}

// writePaths runs fn as three subtests, on the Tracker's write paths: a
// Memory store seen only through the three Store methods (the fallback:
// Get and a compare-and-swap Put, swept by Scan), seen through those and
// Apply (swept by Scan), and Memory itself (Apply, swept by ListDue). m is
// the Memory behind s in each.
func writePaths(t *testing.T, fn func(t *testing.T, m *store.Memory, s lifecycle.Store)) {
	t.Helper()
	t.Run("Get and Put", func(t *testing.T) {
		m := store.NewMemory()
		fn(t, m, struct{ lifecycle.Store }{m})
	})
	t.Run("Apply only", func(t *testing.T) {
		m := store.NewMemory()
		fn(t, m, struct {
			lifecycle.Store
			lifecycle.Applier
		}{m, m})
	})
	t.Run("Apply and ListDue", func(t *testing.T) {
		m := store.NewMemory()
		fn(t, m, m)
	})
}
