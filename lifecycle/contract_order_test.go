package lifecycle_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// rvGen makes a random history for n customers, each with at most one
// referrer (so the two-referrer exception never applies).
func rvGen(seed uint64, n, events int) []lifecycle.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	refOf := make([]string, n)
	for i := range refOf {
		switch r.IntN(4) {
		case 0:
			refOf[i] = fmt.Sprintf("c%d", (i+1+r.IntN(n-1))%n)
		case 1:
			refOf[i] = fmt.Sprintf("ghost%d", r.IntN(3))
		}
	}
	types := []lifecycle.EventType{lifecycle.SiteVisited, lifecycle.OrderCompleted, lifecycle.OrderCompleted,
		lifecycle.OrderRefunded, lifecycle.SubscriptionStarted, lifecycle.SurveyAnswered, lifecycle.SignedUp,
		"acme.thing", lifecycle.SubscriptionCancelled, lifecycle.ProductViewed}
	var out []lifecycle.Event
	base := rvT0.Add(-2 * 365 * 24 * time.Hour)
	for k := 0; k < events; k++ {
		i := r.IntN(n)
		// Coarse times so that ties happen.
		at := base.Add(time.Duration(r.IntN(730*4)) * 6 * time.Hour)
		if r.IntN(3) == 0 {
			at = at.In(time.FixedZone("", (r.IntN(27)-13)*3600))
		}
		e := lifecycle.Event{ID: "e" + strconv.Itoa(k), CustomerID: fmt.Sprintf("c%d", i), Type: types[r.IntN(len(types))], Time: at}
		switch e.Type {
		case lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionStarted:
			e.Amount, e.Currency = int64(1+r.IntN(10000)), []string{"EUR", "USD"}[r.IntN(2)]
		case lifecycle.SurveyAnswered:
			e.Attrs = map[string]string{"score": strconv.Itoa(r.IntN(11))}
		}
		if refOf[i] != "" && r.IntN(3) == 0 {
			e.ReferrerID = refOf[i]
		}
		out = append(out, e)
	}
	return out
}

func rvTimeOrder(evs []lifecycle.Event) []lifecycle.Event {
	s := slices.Clone(evs)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Time.Before(s[j].Time) })
	return s
}

func rvSnapshot(t testing.TB, st lifecycle.Store) map[string]*lifecycle.Customer {
	t.Helper()
	out := map[string]*lifecycle.Customer{}
	for c, err := range st.Scan(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out[c.ID] = c
	}
	return out
}

// rvCompare compares what order independence promises: facts, stage,
// AsOf, Seen (and Due, which follows from them).
func rvCompare(t *testing.T, label string, want, got map[string]*lifecycle.Customer, withDue bool) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d customers, want %d", label, len(got), len(want))
	}
	n := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("%s: customer %s missing", label, id)
			continue
		}
		if d := cmp.Diff(w.Facts, g.Facts, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: %s facts differ (-want +got):\n%s", label, id, d)
			n++
		}
		if w.Stage != g.Stage || !w.AsOf.Equal(g.AsOf) {
			t.Errorf("%s: %s stage/asof %s %v, want %s %v", label, id, g.Stage, g.AsOf, w.Stage, w.AsOf)
			n++
		}
		if !w.Seen.Equal(&g.Seen) {
			t.Errorf("%s: %s Seen differ: %d vs %d", label, id, g.Seen.Len(), w.Seen.Len())
			n++
		}
		if withDue && !w.Due.Equal(g.Due) {
			t.Errorf("%s: %s Due %v, want %v", label, id, g.Due, w.Due)
			n++
		}
		if w.PendingReferrer() != g.PendingReferrer() {
			t.Errorf("%s: %s pending %v want %v", label, id, g.PendingReferrer(), w.PendingReferrer())
		}
		if n > 10 {
			t.Fatalf("%s: too many differences", label)
		}
	}
}

func rvSequential(t *testing.T, evs []lifecycle.Event) map[string]*lifecycle.Customer {
	t.Helper()
	tr, st := rvTracker(t)
	for _, e := range rvTimeOrder(evs) {
		if _, err := tr.Record(context.Background(), e); err != nil {
			t.Fatalf("sequential %s: %v", e.ID, err)
		}
	}
	return rvSnapshot(t, st)
}

func rvWithDups(r *rand.Rand, evs []lifecycle.Event) []lifecycle.Event {
	out := slices.Clone(evs)
	for _, e := range evs {
		if r.IntN(4) == 0 {
			out = append(out, e)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestContractOrderIndependentRecord(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		evs := rvGen(seed, 12, 300)
		want := rvSequential(t, evs)
		r := rand.New(rand.NewPCG(seed, 99))
		tr, st := rvTracker(t)
		applied := map[string]int{}
		for _, e := range rvWithDups(r, evs) {
			res, err := tr.Record(ctx, e)
			if err != nil {
				t.Fatalf("record %s: %v", e.ID, err)
			}
			if !res.Duplicate {
				applied[e.ID]++
			}
		}
		for _, e := range evs {
			if applied[e.ID] != 1 {
				t.Errorf("seed %d: event %s applied %d times", seed, e.ID, applied[e.ID])
			}
		}
		rvCompare(t, fmt.Sprintf("shuffled seed %d", seed), want, rvSnapshot(t, st), true)
	}
}

func TestContractOrderIndependentBatch(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		evs := rvGen(seed, 12, 300)
		want := rvSequential(t, evs)
		r := rand.New(rand.NewPCG(seed, 98))
		tr, st := rvTracker(t)
		all := rvWithDups(r, evs)
		applied := map[string]int{}
		for len(all) > 0 {
			k := min(len(all), 1+r.IntN(40))
			batch := all[:k]
			all = all[k:]
			res, err := tr.RecordBatch(ctx, batch)
			if err != nil {
				t.Fatalf("batch: %v", err)
			}
			if len(res) != len(batch) {
				t.Fatalf("results %d, events %d", len(res), len(batch))
			}
			for i, rr := range res {
				if rr.EventID != batch[i].ID || rr.CustomerID != batch[i].CustomerID {
					t.Fatalf("result %d is for %s/%s, want %s/%s", i, rr.EventID, rr.CustomerID, batch[i].ID, batch[i].CustomerID)
				}
				if !rr.Duplicate {
					applied[rr.EventID]++
				}
			}
		}
		for _, e := range evs {
			if applied[e.ID] != 1 {
				t.Errorf("seed %d: event %s applied %d times", seed, e.ID, applied[e.ID])
			}
		}
		rvCompare(t, fmt.Sprintf("batch seed %d", seed), want, rvSnapshot(t, st), true)
	}
}

func rvSeq(evs []lifecycle.Event) iter.Seq2[lifecycle.Event, error] {
	return func(yield func(lifecycle.Event, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func TestContractImportMatchesSequential(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		evs := rvGen(seed, 12, 300)
		want := rvSequential(t, evs)
		r := rand.New(rand.NewPCG(seed, 97))
		input := rvWithDups(r, evs)
		tr, st := rvTracker(t)
		// Some events already stored.
		for _, e := range evs[:30] {
			if _, err := tr.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		calls := 0
		ir, err := tr.Import(ctx, rvSeq(input), func(lifecycle.ImportResult) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if ir.Events != len(input) || ir.Applied != len(evs)-30 || ir.Duplicates != len(input)-(len(evs)-30) {
			t.Errorf("seed %d: ImportResult %+v; input %d, distinct %d, pre-stored 30", seed, ir, len(input), len(evs))
		}
		if calls != 1 {
			t.Errorf("progress called %d times, want 1", calls)
		}
		rvCompare(t, fmt.Sprintf("import seed %d", seed), want, rvSnapshot(t, st), true)
		// Again: all duplicates.
		ir, err = tr.Import(ctx, rvSeq(input), nil)
		if err != nil || ir.Applied != 0 || ir.Duplicates != len(input) || ir.Customers != 0 {
			t.Errorf("re-import: %+v %v", ir, err)
		}
	}
}

func TestContractConcurrentRecord(t *testing.T) {
	ctx := context.Background()
	evs := rvGen(5, 6, 600)
	want := rvSequential(t, evs)
	for _, plain := range []bool{false, true} {
		mem := store.NewMemory()
		var st lifecycle.Store = mem
		if plain {
			st = rvPlain{mem}
		}
		tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(rvClock))
		r := rand.New(rand.NewPCG(5, 1))
		all := rvWithDups(r, append(slices.Clone(evs), evs...))
		var mu sync.Mutex
		applied := map[string]int{}
		ch := make(chan lifecycle.Event)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := range ch {
					res, err := tr.Record(ctx, e)
					if err != nil {
						t.Errorf("record %s: %v", e.ID, err)
						continue
					}
					if !res.Duplicate {
						mu.Lock()
						applied[e.ID]++
						mu.Unlock()
					}
				}
			}()
		}
		for _, e := range all {
			ch <- e
		}
		close(ch)
		wg.Wait()
		for _, e := range evs {
			if applied[e.ID] != 1 {
				t.Errorf("plain=%v: %s applied %d times", plain, e.ID, applied[e.ID])
			}
		}
		rvCompare(t, fmt.Sprintf("concurrent plain=%v", plain), want, rvSnapshot(t, mem), true)
	}
}

// rvPlain hides every optional capability of a store.
type rvPlain struct{ s lifecycle.Store }

func (p rvPlain) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	return p.s.Get(ctx, id)
}
func (p rvPlain) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	return p.s.Put(ctx, c, prev)
}
func (p rvPlain) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return p.s.Scan(ctx)
}

func TestContractPlainStoreMatches(t *testing.T) {
	ctx := context.Background()
	evs := rvGen(11, 10, 300)
	want := rvSequential(t, evs)
	mem := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), rvPlain{mem}, lifecycle.WithClock(rvClock))
	r := rand.New(rand.NewPCG(11, 1))
	all := rvWithDups(r, evs)
	if _, err := tr.RecordBatch(ctx, all[:100]); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Import(ctx, rvSeq(all[100:200]), nil); err != nil {
		t.Fatal(err)
	}
	for _, e := range all[200:] {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rvCompare(t, "plain store", want, rvSnapshot(t, mem), true)
}
