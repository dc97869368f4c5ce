package lifecycle_test

// Review tests (time): Tracker.Sweep, Customer.Due and the clock, held to
// README.md "Time", lifecycle.Scheduler / Customer.Due / Tracker.Sweep doc
// comments and RELIABILITY.md, at DST, leap-day, range and overflow edges.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

const zzDay = 24 * time.Hour

func zzLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	return l
}

func zzClock(at time.Time) lifecycle.Option {
	return lifecycle.WithClock(func() time.Time { return at })
}

// zzPlain is a store with only the three Store methods (no Applier, no
// DueLister, no Loader): the documented Scan fallback.
type zzPlain struct{ m *store.Memory }

func (p zzPlain) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return p.m.Get(ctx, id)
}
func (p zzPlain) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	return p.m.Put(ctx, c, prev)
}
func (p zzPlain) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return p.m.Scan(ctx)
}

func zzGet(t *testing.T, tr *lifecycle.Tracker, id string) *lifecycle.Customer {
	t.Helper()
	c, err := tr.Customer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestContractReviewDueAtNever: Customer.Due: "[Never] means time alone will not
// move them"; docs/models.md: NextChange "later than the real change is a
// bug: the sweep misses the move". A buyer whose last order is at
// Never − LapseAfter − 1ns lapses exactly at Never, and a Sweep at Never
// (accepted: "years 1900 to 9999") must move them, as a fresh
// classification at Never does.
func TestContractReviewDueAtNever(t *testing.T) {
	ctx := context.Background()
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(), flywheel.Model()} {
		t.Run(m.Name(), func(t *testing.T) {
			tr := lifecycle.NewTracker(m, store.NewMemory(), zzClock(lifecycle.Never))
			at := lifecycle.Never.Add(-180*zzDay - 1)
			evs := []lifecycle.Event{
				{ID: "o1", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at.Add(-time.Hour)},
				{ID: "o2", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at},
			}
			if _, err := tr.RecordBatch(ctx, evs); err != nil {
				t.Fatal(err)
			}
			c := zzGet(t, tr, "c")
			want := m.Stage(&c.Facts, lifecycle.Never)
			if want == c.Stage {
				t.Fatalf("setup: no lapse at Never (stage %s)", want)
			}
			if c.Due.Equal(lifecycle.Never) {
				t.Logf("Due stored as Never although %s's NextChange is %s (the lapse instant)", m.Name(),
					m.(lifecycle.Scheduler).NextChange(&c.Facts, c.ClassifiedAt()).Format(time.RFC3339Nano))
			}
			sr, err := tr.Sweep(ctx, lifecycle.Never)
			if err != nil {
				t.Fatal(err)
			}
			c = zzGet(t, tr, "c")
			if c.Stage != want {
				t.Errorf("after Sweep(Never) (%+v): stage %s, Due %s; a fresh classification at Never gives %s", sr, c.Stage, c.Due.Format(time.RFC3339Nano), want)
			}
		})
	}
}

// zzGen makes a random history for one customer: orders, refunds,
// subscriptions, cancellations, tickets, reviews, visits, in New York or
// Berlin local time, around DST changes and a leap day.
func zzGen(r *rand.Rand, id string, base time.Time, locs []*time.Location) []lifecycle.Event {
	types := []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.OrderRefunded,
		lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed, lifecycle.SubscriptionCancelled, lifecycle.TicketOpened,
		lifecycle.TicketResolved, lifecycle.ReviewPosted, lifecycle.SocialShared, lifecycle.SiteVisited, lifecycle.SignedUp, lifecycle.ProductViewed}
	n := 1 + r.IntN(7)
	var out []lifecycle.Event
	at := base.Add(time.Duration(r.Int64N(int64(60 * zzDay))))
	for i := 0; i < n; i++ {
		// steps: exact thresholds and near them
		steps := []time.Duration{1, time.Hour, zzDay, 13 * zzDay, 14 * zzDay, 14*zzDay - 1, 90 * zzDay, 90*zzDay + 1, 179 * zzDay, 180 * zzDay, 180*zzDay + 1, 200 * zzDay}
		at = at.Add(steps[r.IntN(len(steps))])
		e := lifecycle.Event{ID: fmt.Sprintf("%s-%d", id, i), CustomerID: id, Type: types[r.IntN(len(types))], Time: at.In(locs[r.IntN(len(locs))])}
		out = append(out, e)
	}
	return out
}

// TestContractReviewSweepEqualsFreshReplay: README "Time": "a customer's stage
// is computed at the latest event (or sweep) time"; Sweep doc: the due
// customers are re-classified at now; Scheduler: never late. After any
// sequence of sweeps at times T1 < T2 < ..., every customer's stage equals
// the model's Stage of their facts at the last sweep time (or their last
// event time, if later), as a fresh replay gives — for every built-in and
// a builder model, on Memory and on a store without DueLister/Applier, with
// events recorded out of order and in non-UTC zones across DST.
func TestContractReviewSweepEqualsFreshReplay(t *testing.T) {
	ctx := context.Background()
	locs := []*time.Location{time.UTC, zzLoc(t, "America/New_York"), zzLoc(t, "Europe/Berlin"), time.FixedZone("x", -(3*3600 + 1800))}
	builder := model.NewBuilder("zz").Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "lead"}, model.Count(lifecycle.SignedUp, 1)).
		Stage(stage.Stage{ID: "buyer"}, model.Within(30*zzDay, lifecycle.OrderCompleted)).
		Stage(stage.Stage{ID: "veteran"}, model.All(model.Tenure(90*zzDay, lifecycle.OrderCompleted), model.Within(180*zzDay, lifecycle.OrderCompleted))).
		Stage(stage.Stage{ID: "fan"}, model.All(model.Orders(1), model.Within(14*zzDay, lifecycle.ReviewPosted))).
		MustBuild()
	models := []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(), model.FiveStage(model.NurtureAfter(0)), flywheel.Model(), builder}
	bases := []time.Time{
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9997, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	clock := zzClock(lifecycle.Never)
	r := rand.New(rand.NewPCG(17, 3))
	for _, m := range models {
		for bi, base := range bases {
			for _, plain := range []bool{false, true} {
				mem := store.NewMemory()
				var st lifecycle.Store = mem
				if plain {
					st = zzPlain{mem}
				}
				tr := lifecycle.NewTracker(m, st, clock)
				var all []lifecycle.Event
				for c := 0; c < 25; c++ {
					all = append(all, zzGen(r, fmt.Sprintf("c%d", c), base, locs)...)
				}
				r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
				// record in shuffled order, interleaved with sweeps at increasing times
				sweeps := []time.Time{}
				for k := 1; k <= 8; k++ {
					sweeps = append(sweeps, base.Add(time.Duration(k)*70*zzDay+time.Duration(r.Int64N(int64(zzDay)))).In(locs[r.IntN(len(locs))]))
				}
				chunk := (len(all) + len(sweeps) - 1) / len(sweeps)
				var lastSweep time.Time
				moves := 0
				for k, sw := range sweeps {
					lo, hi := min(k*chunk, len(all)), min((k+1)*chunk, len(all))
					for _, e := range all[lo:hi] {
						if _, err := tr.Record(ctx, e); err != nil {
							t.Fatal(err)
						}
					}
					sr, err := tr.Sweep(ctx, sw)
					if err != nil {
						t.Fatalf("sweep %s: %v", sw, err)
					}
					moves += sr.Moved
					lastSweep = sw
					// after each sweep: every customer's stage is the model's at max(asOf), as a fresh classification gives
					for c, err := range mem.Scan(ctx) {
						if err != nil {
							t.Fatal(err)
						}
						at := c.ClassifiedAt()
						if at.Before(lastSweep) {
							at = lastSweep // not due: time alone has not moved them, so their stage is the one at the sweep time
						}
						if want := m.Stage(&c.Facts, at); c.Stage != want {
							t.Errorf("%s base %d plain=%v sweep %d: customer %s stage %s, Due %s, AsOf %s; fresh classification at that time gives %s (facts last %s)",
								m.Name(), bi, plain, k, c.ID, c.Stage, c.Due.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), want, c.Facts.Last.Format(time.RFC3339Nano))
							return
						}
					}
				}
				if moves == 0 {
					t.Errorf("%s base %d: no sweep moved anyone: the test exercises nothing", m.Name(), bi)
				}
				// a fresh replay of the same events, swept once at the last sweep time, agrees
				fresh := lifecycle.NewTracker(m, store.NewMemory(), clock)
				if _, err := fresh.RecordBatch(ctx, all); err != nil {
					t.Fatal(err)
				}
				if _, err := fresh.Sweep(ctx, lastSweep); err != nil {
					t.Fatal(err)
				}
				for c, err := range mem.Scan(ctx) {
					if err != nil {
						t.Fatal(err)
					}
					fc := zzGet(t, fresh, c.ID)
					if fc.Stage != c.Stage || (fc.ClassifiedAt().Equal(c.ClassifiedAt()) && !fc.Due.Equal(c.Due)) {
						t.Errorf("%s base %d plain=%v: %s incremental {stage %s asOf %s due %s} vs fresh replay {stage %s asOf %s due %s}",
							m.Name(), bi, plain, c.ID, c.Stage, c.AsOf, c.Due, fc.Stage, fc.AsOf, fc.Due)
						return
					}
				}
			}
		}
	}
}

// TestContractReviewSweepExactlyDue: a sweep at a customer's Due − 1ns writes
// nothing ("a sweep that finds nobody due writes nothing"); at Due (given
// in another zone, across a DST change) it moves them. Checks Version and
// the change feed.
func TestContractReviewSweepExactlyDue(t *testing.T) {
	ctx := context.Background()
	ny, ber := zzLoc(t, "America/New_York"), zzLoc(t, "Europe/Berlin")
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), mem, zzClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	// order on the night of the spring-forward change in New York
	at := time.Date(2024, 3, 10, 1, 59, 59, 999999999, ny)
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "a", Type: lifecycle.OrderCompleted, Time: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: "b", Type: lifecycle.SiteVisited, Time: at}); err != nil {
		t.Fatal(err)
	}
	c := zzGet(t, tr, "a")
	wantDue := at.Add(model.DefaultLapseAfter + 1)
	if !c.Due.Equal(wantDue) {
		t.Errorf("Due = %s, want last purchase + 180d + 1ns = %s", c.Due.Format(time.RFC3339Nano), wantDue.UTC().Format(time.RFC3339Nano))
	}
	b := zzGet(t, tr, "b")
	if !b.Due.Equal(lifecycle.Never) {
		t.Errorf("visitor Due = %s, want Never", b.Due)
	}
	feedLen := func() int {
		ch, err := mem.Changes(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(ch)
	}
	f0, v0, vb := feedLen(), c.Version, b.Version
	sr, err := tr.Sweep(ctx, c.Due.Add(-1).In(ber))
	if err != nil {
		t.Fatal(err)
	}
	c = zzGet(t, tr, "a")
	if sr != (lifecycle.SweepResult{}) || c.Version != v0 || feedLen() != f0 || c.Stage != model.Conversion {
		t.Errorf("sweep at Due-1ns: %+v, version %d→%d, stage %s: want nothing read or written", sr, v0, c.Version, c.Stage)
	}
	sr, err = tr.Sweep(ctx, c.Due.In(ber))
	if err != nil {
		t.Fatal(err)
	}
	c = zzGet(t, tr, "a")
	if sr.Moved != 1 || sr.Scanned != 1 || c.Stage != model.Acquisition || !c.Due.Equal(lifecycle.Never) {
		t.Errorf("sweep at Due: %+v, stage %s, due %s: want one move to acquisition, Due Never", sr, c.Stage, c.Due)
	}
	if last := c.History[len(c.History)-1]; last.Cause != "" || !last.At.Equal(wantDue) {
		t.Errorf("sweep transition %+v: want At = sweep time %s, empty cause", last, wantDue)
	}
	b = zzGet(t, tr, "b")
	if b.Version != vb {
		t.Errorf("visitor (never due) was written by sweeps: version %d→%d", vb, b.Version)
	}
	// sweeping again at the same time, and far ahead: nobody due, nothing written
	f1 := feedLen()
	for _, now := range []time.Time{wantDue.Add(time.Hour), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC), lifecycle.Never} {
		sr, err = tr.Sweep(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if sr != (lifecycle.SweepResult{}) || feedLen() != f1 {
			t.Errorf("sweep at %s with nobody due: %+v", now, sr)
		}
	}
}

// TestContractReviewSweepNowRange: Sweep doc: "A now outside the years 1900 to
// 9999 ... is refused with a *ValidationError whose Field is "now",
// wrapping ErrInvalidEvent"; inside, accepted, whatever zone now is given in.
func TestContractReviewSweepNowRange(t *testing.T) {
	ctx := context.Background()
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	plus1 := time.FixedZone("+01", 3600)
	bad := []time.Time{
		{},
		time.Date(1899, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1900, 1, 1, 0, 30, 0, 0, plus1), // 1899-12-31T23:30Z
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(math.MaxInt64/2, 0),
		time.Unix(math.MinInt64/2, 0),
	}
	for _, now := range bad {
		_, err := tr.Sweep(ctx, now)
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "now" {
			t.Errorf("Sweep(%s) = %v: want *ValidationError{Field: now} wrapping ErrInvalidEvent", now, err)
		}
	}
	good := []time.Time{
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 30, 0, 0, plus1), // 9999-12-31T23:30Z
		lifecycle.Never,
		time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(300, 0, 0),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC),
	}
	for _, now := range good {
		if _, err := tr.Sweep(ctx, now); err != nil {
			t.Errorf("Sweep(%s) = %v, want accepted", now, err)
		}
	}
}

// TestContractReviewClockExtremes: WithClock "sets the clock used to refuse
// events from the future"; README: "The clock only refuses events from the
// future". Clocks far ahead, far behind, at the zero time, at the ends of
// time.Time, with huge skews: no panic; future events refused naming the
// field "time" and the value; stages never read the clock.
func TestContractReviewClockExtremes(t *testing.T) {
	ctx := context.Background()
	ev := lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)}
	cases := []struct {
		name   string
		clock  time.Time
		skew   *time.Duration
		accept bool
	}{
		{"far ahead 9999", lifecycle.Never, nil, true},
		{"max time", time.Unix(1<<62, 0), nil, true},
		{"max time + max skew", time.Unix(1<<62, 0), ptr(time.Duration(math.MaxInt64)), true},
		{"min time", time.Unix(-1<<62, 0), nil, false},
		{"min time + max skew", time.Unix(-1<<62, 0), ptr(time.Duration(math.MaxInt64)), false},
		{"zero", time.Time{}, nil, false},
		{"far behind 1950", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), nil, false},
		{"skew negative", ev.Time.Add(-1), ptr(time.Duration(math.MinInt64)), false},
		{"skew 0, clock == event", ev.Time, ptr(time.Duration(0)), true},
		{"1ns behind, skew 1ns", ev.Time.Add(-1), ptr(time.Duration(1)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := []lifecycle.Option{zzClock(c.clock)}
			if c.skew != nil {
				opts = append(opts, lifecycle.WithMaxSkew(*c.skew))
			}
			tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), opts...)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				_, err = tr.Record(ctx, ev)
			}()
			if c.accept {
				if err != nil {
					t.Fatalf("Record = %v, want accepted", err)
				}
				cu := zzGet(t, tr, "c")
				if cu.Stage != model.Conversion || !cu.AsOf.Equal(ev.Time) {
					t.Errorf("stage %s asOf %s: the clock must not decide the stage", cu.Stage, cu.AsOf)
				}
				return
			}
			var ve *lifecycle.ValidationError
			if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "time" || !strings.Contains(err.Error(), "2024-02-29T12:00:00Z") {
				t.Errorf("Record = %v: want *ValidationError{Field: time} naming the value", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestContractReviewFutureEventsAndLateEvents: README "Time"/Sweep doc: "AsOf
// never goes back: a customer swept at a time later than their events still
// to come is classified at that time, also after those events". An event
// dated before the sweep time, recorded after the sweep, leaves the
// customer classified at the sweep time; the stage and Due then equal a
// fresh replay swept at that time.
func TestContractReviewFutureEventsAndLateEvents(t *testing.T) {
	ctx := context.Background()
	ber := zzLoc(t, "Europe/Berlin")
	t0 := time.Date(2024, 10, 27, 2, 30, 0, 0, ber)
	sweepAt := t0.Add(200 * zzDay)
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.FiveStage(), flywheel.Model()} {
		tr := lifecycle.NewTracker(m, store.NewMemory(), zzClock(t0.Add(400*zzDay)))
		evs := []lifecycle.Event{
			{ID: "o1", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: t0},
			{ID: "o2", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: t0.Add(190 * zzDay)}, // late: recorded after the sweep
			{ID: "o3", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: t0.Add(195 * zzDay)},
		}
		if _, err := tr.Record(ctx, evs[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Sweep(ctx, sweepAt); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs[1:] {
			if _, err := tr.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		c := zzGet(t, tr, "c")
		fresh := lifecycle.NewTracker(m, store.NewMemory(), zzClock(t0.Add(400*zzDay)))
		if _, err := fresh.RecordBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.Sweep(ctx, sweepAt); err != nil {
			t.Fatal(err)
		}
		fc := zzGet(t, fresh, "c")
		if !c.AsOf.Equal(sweepAt) || c.Stage != m.Stage(&c.Facts, sweepAt) || c.Stage != fc.Stage || !c.Due.Equal(fc.Due) {
			t.Errorf("%s: late events after sweep: {stage %s asOf %s due %s}, fresh replay {stage %s asOf %s due %s}, Stage at sweep %s",
				m.Name(), c.Stage, c.AsOf, c.Due, fc.Stage, fc.AsOf, fc.Due, m.Stage(&c.Facts, sweepAt))
		}
	}
}

// TestContractReviewReclassifyDue: Reclassify "gives every stored customer the
// new model's stage and due time at once".
func TestContractReviewReclassifyDue(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	clock := zzClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	old := lifecycle.NewTracker(model.SterneCutler(model.LapseAfter(0)), mem, clock)
	ny := zzLoc(t, "America/New_York")
	at := time.Date(2024, 11, 3, 1, 30, 0, 0, ny)
	if _, err := old.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at}); err != nil {
		t.Fatal(err)
	}
	m := model.FiveStage(model.NurtureAfter(time.Hour))
	nt := lifecycle.NewTracker(m, mem, clock)
	now := at.Add(time.Minute)
	if _, err := nt.Reclassify(ctx, now); err != nil {
		t.Fatal(err)
	}
	c := zzGet(t, nt, "c")
	if c.Stage != model.FiveStageConversion || !c.Due.Equal(at.Add(time.Hour)) {
		t.Errorf("after Reclassify: stage %s due %s, want conversion due %s", c.Stage, c.Due, at.Add(time.Hour).UTC())
	}
	if _, err := nt.Sweep(ctx, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c = zzGet(t, nt, "c"); c.Stage != model.FiveStageNurturing {
		t.Errorf("after sweep at window end: %s, want nurturing", c.Stage)
	}
}

// zzEarly lists customers up to a second early, as DueLister allows ("It
// may also yield a customer who is not due yet, where its index rounds due
// times down").
type zzEarly struct{ *store.Memory }

func (e zzEarly) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return e.Memory.ListDue(ctx, now.Add(time.Second-1))
}

// TestContractReviewEarlyListingWritesNothing: ARCHITECTURE.md: "a store whose
// index rounds due times down may list one a little early: the sweep reads
// it, finds it not due, and writes nothing".
func TestContractReviewEarlyListingWritesNothing(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(model.FiveStage(), zzEarly{mem}, zzClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	ny := zzLoc(t, "America/New_York")
	at := time.Date(2024, 2, 29, 23, 59, 59, 500000000, ny)
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at}); err != nil {
		t.Fatal(err)
	}
	c := zzGet(t, tr, "c")
	v := c.Version
	sr, err := tr.Sweep(ctx, c.Due.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c2 := zzGet(t, tr, "c")
	if c2.Version != v || sr.Updated != 0 || sr.Moved != 0 || c2.Stage != model.FiveStageConversion {
		t.Errorf("early-listed customer written: %+v version %d→%d stage %s", sr, v, c2.Version, c2.Stage)
	}
	sr, err = tr.Sweep(ctx, c.Due)
	if err != nil {
		t.Fatal(err)
	}
	if c2 = zzGet(t, tr, "c"); sr.Moved != 1 || c2.Stage != model.FiveStageNurturing {
		t.Errorf("at Due: %+v stage %s, want nurturing", sr, c2.Stage)
	}
}

// TestContractReviewEventTimeRangeZones: Event.Validate: "a time in the years
// 1900 to 9999 (UTC)", refused as a *ValidationError naming the field
// "time" and the value.
func TestContractReviewEventTimeRangeZones(t *testing.T) {
	ctx := context.Background()
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), zzClock(lifecycle.Never))
	for _, c := range []struct {
		at time.Time
		ok bool
	}{
		{time.Date(1900, 1, 1, 0, 30, 0, 0, time.FixedZone("+01", 3600)), false}, // 1899-12-31T23:30Z
		{time.Date(1899, 12, 31, 23, 30, 0, 0, time.FixedZone("-01", -3600)), true},
		{time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("-01", -3600)), false}, // 10000-01-01T00:30Z
		{time.Date(10000, 1, 1, 0, 30, 0, 0, time.FixedZone("+01", 3600)), true},
		{lifecycle.Never, true},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1), false},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
	} {
		_, err := tr.Record(ctx, lifecycle.Event{ID: c.at.String(), CustomerID: "c", Type: lifecycle.SiteVisited, Time: c.at})
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v, want accepted", c.at, err)
			}
			continue
		}
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || ve.Field != "time" {
			t.Errorf("%s: %v, want ValidationError{Field: time}", c.at, err)
		}
	}
}

// TestContractReviewDueAtNeverBuilder: the same boundary for a builder Tenure
// rule that turns true exactly at Never (docs/models.md "a Tenure rule that
// does not hold turns true at the first event of its type + the tenure").
func TestContractReviewDueAtNeverBuilder(t *testing.T) {
	ctx := context.Background()
	m := model.NewBuilder("tenure").Start(stage.Stage{ID: "new"}).
		Stage(stage.Stage{ID: "veteran"}, model.Tenure(365*zzDay, lifecycle.OrderCompleted)).MustBuild()
	tr := lifecycle.NewTracker(m, store.NewMemory(), zzClock(lifecycle.Never))
	at := lifecycle.Never.Add(-365 * zzDay)
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Sweep(ctx, lifecycle.Never); err != nil {
		t.Fatal(err)
	}
	c := zzGet(t, tr, "c")
	if want := m.Stage(&c.Facts, lifecycle.Never); c.Stage != want {
		t.Errorf("after Sweep(Never): stage %s (Due %s), NextChange said %s; fresh classification at Never gives %s",
			c.Stage, c.Due.Format(time.RFC3339Nano), m.NextChange(&c.Facts, at).Format(time.RFC3339Nano), want)
	}
}

// TestContractReviewImportDueAndPagedSweep: README "Importing history": Import
// stores customers as recording them one by one would ("the same facts,
// stages"), so their due times too; a sweep over more than one page
// (100) of due customers moves every one of them.
func TestContractReviewImportDueAndPagedSweep(t *testing.T) {
	ctx := context.Background()
	ny, ber := zzLoc(t, "America/New_York"), zzLoc(t, "Europe/Berlin")
	clock := zzClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var evs []lifecycle.Event
	base := time.Date(2024, 3, 10, 1, 0, 0, 0, ny)
	for i := 0; i < 250; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		loc := ny
		if i%2 == 0 {
			loc = ber
		}
		evs = append(evs,
			lifecycle.Event{ID: fmt.Sprintf("b%d", i), CustomerID: fmt.Sprintf("c%03d", i), Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour).In(loc)},
			lifecycle.Event{ID: fmt.Sprintf("a%d", i), CustomerID: fmt.Sprintf("c%03d", i), Type: lifecycle.OrderCompleted, Time: at.In(loc)},
		)
	}
	m := model.FiveStage()
	imp := lifecycle.NewTracker(m, store.NewMemory(), clock)
	seq := func(yield func(lifecycle.Event, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
	if _, err := imp.Import(ctx, seq, nil); err != nil {
		t.Fatal(err)
	}
	one := lifecycle.NewTracker(m, store.NewMemory(), clock)
	for _, e := range evs {
		if _, err := one.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 250; i++ {
		id := fmt.Sprintf("c%03d", i)
		a, b := zzGet(t, imp, id), zzGet(t, one, id)
		if a.Stage != b.Stage || !a.Due.Equal(b.Due) || !a.AsOf.Equal(b.AsOf) {
			t.Fatalf("%s: import {%s %s %s} vs record {%s %s %s}", id, a.Stage, a.Due, a.AsOf, b.Stage, b.Due, b.AsOf)
		}
	}
	last := base.Add(249*time.Minute + time.Hour)
	sr, err := imp.Sweep(ctx, last.Add(model.DefaultLapseAfter+1))
	if err != nil {
		t.Fatal(err)
	}
	if sr.Moved != 250 || sr.Scanned != 250 {
		t.Errorf("paged sweep: %+v, want 250 scanned and moved", sr)
	}
	for i := 0; i < 250; i++ {
		if c := zzGet(t, imp, fmt.Sprintf("c%03d", i)); c.Stage != model.FiveStageNurturing || !c.Due.Equal(lifecycle.Never) {
			t.Fatalf("c%03d after sweep: %s due %s", i, c.Stage, c.Due)
		}
	}
}

// TestContractReviewHugeLapseDue: LapseAfter of 100 years and MaxInt64−1 (about
// 292 years): the due time lies past 2262 (beyond int64 nanoseconds, where
// Memory keeps the customer whole); a sweep 1ns before it changes nothing
// and one at it moves the customer. LapseAfter(MaxInt64) never lapses: Due
// is Never.
func TestContractReviewHugeLapseDue(t *testing.T) {
	ctx := context.Background()
	ber := zzLoc(t, "Europe/Berlin")
	at := time.Date(2024, 3, 31, 2, 30, 0, 0, ber)
	for _, d := range []time.Duration{100 * 365 * zzDay, math.MaxInt64 - 1, math.MaxInt64} {
		tr := lifecycle.NewTracker(model.SterneCutler(model.LapseAfter(d)), store.NewMemory(), zzClock(lifecycle.Never))
		if _, err := tr.Record(ctx, lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at}); err != nil {
			t.Fatal(err)
		}
		c := zzGet(t, tr, "c")
		if d == math.MaxInt64 {
			if !c.Due.Equal(lifecycle.Never) {
				t.Errorf("LapseAfter(MaxInt64): Due %s, want Never", c.Due)
			}
			if _, err := tr.Sweep(ctx, lifecycle.Never); err != nil {
				t.Fatal(err)
			}
			if c = zzGet(t, tr, "c"); c.Stage != model.Conversion {
				t.Errorf("LapseAfter(MaxInt64): stage at Never %s, want conversion", c.Stage)
			}
			continue
		}
		want := at.Add(d + 1)
		if !c.Due.Equal(want) {
			t.Errorf("LapseAfter(%v): Due %s, want %s", d, c.Due, want.UTC())
		}
		if sr, err := tr.Sweep(ctx, want.Add(-1)); err != nil || sr != (lifecycle.SweepResult{}) {
			t.Errorf("LapseAfter(%v): sweep at Due-1ns: %+v %v, want nothing", d, sr, err)
		}
		if sr, err := tr.Sweep(ctx, want); err != nil || sr.Moved != 1 {
			t.Errorf("LapseAfter(%v): sweep at Due: %+v %v, want one move", d, sr, err)
		}
		if c = zzGet(t, tr, "c"); c.Stage != model.Acquisition {
			t.Errorf("LapseAfter(%v): stage %s, want acquisition", d, c.Stage)
		}
	}
}

// TestContractReviewCreditTimeAndSweep: Sweep doc: customers are re-classified
// "at now (or at a later referral credit of theirs)"; credits lowered by a
// late earlier conversion move the classification time back. After a
// sweep at T the referrer's stage equals a fresh replay swept at T.
func TestContractReviewCreditTimeAndSweep(t *testing.T) {
	ctx := context.Background()
	ny := zzLoc(t, "America/New_York")
	t0 := time.Date(2024, 3, 9, 22, 0, 0, 0, ny)
	clock := zzClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	evs := []lifecycle.Event{
		{ID: "r1", CustomerID: "R", Type: lifecycle.OrderCompleted, Time: t0},
		{ID: "r2", CustomerID: "R", Type: lifecycle.OrderCompleted, Time: t0.Add(time.Hour)},
		{ID: "x2", CustomerID: "X", Type: lifecycle.OrderCompleted, Time: t0.Add(200 * zzDay), ReferrerID: "R"},
		{ID: "x1", CustomerID: "X", Type: lifecycle.OrderCompleted, Time: t0.Add(10 * zzDay), ReferrerID: "R"}, // late, earlier
	}
	for _, m := range []lifecycle.Model{model.FiveStage(), flywheel.Model(), model.SterneCutler()} {
		for _, T := range []time.Time{t0.Add(5 * zzDay), t0.Add(150 * zzDay), t0.Add(190 * zzDay), t0.Add(300 * zzDay)} {
			tr := lifecycle.NewTracker(m, store.NewMemory(), clock)
			for i, e := range evs {
				if _, err := tr.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
				if i == 2 {
					if _, err := tr.Sweep(ctx, T); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := tr.Sweep(ctx, T); err != nil {
				t.Fatal(err)
			}
			fresh := lifecycle.NewTracker(m, store.NewMemory(), clock)
			for _, e := range []lifecycle.Event{evs[0], evs[1], evs[3], evs[2]} {
				if _, err := fresh.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := fresh.Sweep(ctx, T); err != nil {
				t.Fatal(err)
			}
			a, b := zzGet(t, tr, "R"), zzGet(t, fresh, "R")
			want := m.Stage(&a.Facts, a.ClassifiedAt())
			if a.ClassifiedAt().Before(T) {
				want = m.Stage(&a.Facts, T)
			}
			if a.Stage != b.Stage || a.Stage != want {
				t.Errorf("%s sweep at %s: referrer stage %s (classified %s, due %s), fresh replay %s (classified %s), Stage at max(T, credit) %s",
					m.Name(), T.UTC(), a.Stage, a.ClassifiedAt(), a.Due, b.Stage, b.ClassifiedAt(), want)
			}
		}
	}
}

// A review found Event.Score answering for any event with a "score"
// attribute, though it "returns the survey score carried by a
// SurveyAnswered event" (Facts ignores the others).
func TestContractReviewScoreOnlySurveys(t *testing.T) {
	visit := lifecycle.Event{Type: lifecycle.SiteVisited, Attrs: map[string]string{lifecycle.ScoreAttr: "5"}}
	if n, ok := visit.Score(); ok {
		t.Errorf("site_visited with score 5: Score() = %d, true; want false", n)
	}
	survey := lifecycle.Event{Type: lifecycle.SurveyAnswered, Attrs: map[string]string{lifecycle.ScoreAttr: "9"}}
	if n, ok := survey.Score(); !ok || n != 9 {
		t.Errorf("survey_answered with score 9: Score() = %d, %v", n, ok)
	}
}
