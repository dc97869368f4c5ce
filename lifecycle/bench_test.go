package lifecycle_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// benchCustomers is how many existing customers the benchmarks cycle over,
// as the looplab/fsm peer in /work/shared/tools/fsmpeer does.
var benchCustomers = 10_000

var benchT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchTracker returns a tracker whose clock is far enough ahead that no
// benchmark event is refused as coming from the future.
func benchTracker() *lifecycle.Tracker {
	later := benchT0.AddDate(50, 0, 0)
	return lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return later }))
}

// seedCustomers gives every customer a sign-up and a first order, as the
// peer does, and returns their IDs.
func seedCustomers(b *testing.B, tr *lifecycle.Tracker, n int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "c" + strconv.Itoa(i)
		for _, e := range seedEvents(ids[i]) {
			if _, err := tr.Record(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ids
}

// seedEvents returns the events every benchmark customer starts with: a
// sign-up and a first order, as in the peer. It returns an array, not a
// slice, so that seeding leaves no garbage between the customers' records:
// garbage there spreads the live records over more memory, which made
// RecordExisting 10–18 % slower in A/B runs (median against median).
func seedEvents(id string) [2]lifecycle.Event {
	return [2]lifecycle.Event{
		{ID: id + "-s", CustomerID: id, Type: lifecycle.SignedUp, Time: benchT0},
		{ID: id + "-o", CustomerID: id, Type: lifecycle.OrderCompleted, Time: benchT0.Add(time.Hour), Amount: 4999, Currency: "EUR"},
	}
}

// timeRecords records events with the timer running (after a GC, so the
// set-up's garbage is not charged to it), fails on an error or a
// duplicate, and reports events/s.
func timeRecords(b *testing.B, tr *lifecycle.Tracker, events []lifecycle.Event) {
	b.Helper()
	ctx := context.Background()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range events {
		res, err := tr.Record(ctx, events[i])
		if err != nil || res.Duplicate {
			b.Fatalf("event %d: %+v, %v", i, res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// orderEvents builds n order events with unique IDs cycling over ids, each
// a minute after the previous one for its customer.
func orderEvents(ids []string, n int) []lifecycle.Event {
	events := make([]lifecycle.Event, n)
	for i := range events {
		c := ids[i%len(ids)]
		round := i / len(ids)
		events[i] = lifecycle.Event{
			ID:         "o" + strconv.Itoa(i),
			CustomerID: c,
			Type:       lifecycle.OrderCompleted,
			Time:       benchT0.Add(2*time.Hour + time.Duration(round)*time.Minute),
			Amount:     1999,
			Currency:   "EUR",
		}
	}
	return events
}

// BenchmarkRecordExisting records an order for an existing customer,
// cycling over 10,000 customers; every event has a new ID, so each one is
// applied (not a duplicate).
func BenchmarkRecordExisting(b *testing.B) {
	tr := benchTracker()
	ids := seedCustomers(b, tr, benchCustomers)
	timeRecords(b, tr, orderEvents(ids, b.N))
}

// BenchmarkRecordShop is a shop-sized state, the workload of the peer's
// BenchmarkFSMRecordShop: 100,000 customers, each sent 20 events (a
// sign-up, then 19 more of which every fourth is an order, the others
// visits) in one random order fixed by the same seed; every op is one
// event, and the store is rebuilt each time the 2M events run out (outside
// the timer). Event k of a customer happens k hours after their sign-up,
// and orders carry 19.99 EUR, so the facts are a shop's whatever the order
// of arrival.
func BenchmarkRecordShop(b *testing.B) {
	ctx := context.Background()
	var tr *lifecycle.Tracker
	newShopWorkload().run(b, func() { tr = benchTracker() }, func(e lifecycle.Event) error {
		res, err := tr.Record(ctx, e)
		if err == nil && res.Duplicate {
			err = errors.New("a duplicate")
		}
		return err
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// run times record on b.N events of the stream, calling reset for an
// empty state first and each time the stream runs out (outside the
// timer).
func (w *shopWorkload) run(b *testing.B, reset func(), record func(lifecycle.Event) error) {
	b.Helper()
	reset()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i, pos := 0, 0; i < b.N; i, pos = i+1, pos+1 {
		if pos == len(w.stream) {
			b.StopTimer()
			reset()
			pos = 0
			b.StartTimer()
		}
		if err := record(w.event(pos)); err != nil {
			b.Fatalf("event %d: %v", i, err)
		}
	}
	b.StopTimer()
}

// shopWorkload is BenchmarkRecordShop's workload (see its doc).
type shopWorkload struct {
	ids    []string // the customers'
	stream []shopEvent
}

// shopEvent is event k of customer c, as the stream holds it, with its
// ID (c<c>-<k>). The event IDs are laid out in stream order in one
// string, so that the harness reads each event's ID where the one before
// ended, as a service reads an event it has just decoded, instead of from
// a string of its own among 2M (a cache miss the peer's events, which
// have no IDs, never pay). The customers' IDs are read as the peer reads
// them, from ids.
type shopEvent struct {
	id string
	c  int32
	k  int8
}

const shopCustomers, shopEvents = 100_000, 20

func newShopWorkload() *shopWorkload {
	w := &shopWorkload{ids: make([]string, shopCustomers), stream: make([]shopEvent, 0, shopCustomers*shopEvents)}
	for c := range w.ids {
		w.ids[c] = "c" + strconv.Itoa(c)
	}
	for c := range shopCustomers {
		for k := range shopEvents {
			w.stream = append(w.stream, shopEvent{c: int32(c), k: int8(k)})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(w.stream), func(i, j int) { w.stream[i], w.stream[j] = w.stream[j], w.stream[i] })
	var all strings.Builder
	for _, e := range w.stream {
		all.WriteString(w.ids[e.c] + "-" + strconv.Itoa(int(e.k)))
	}
	ids, start := all.String(), 0
	for i := range w.stream {
		e := &w.stream[i]
		n := len(w.ids[e.c]) + 1 + len(strconv.Itoa(int(e.k)))
		e.id, start = ids[start:start+n], start+n
	}
	return w
}

// event returns the event at pos in the stream.
func (w *shopWorkload) event(pos int) lifecycle.Event {
	e := w.stream[pos]
	out := lifecycle.Event{ID: e.id, CustomerID: w.ids[e.c],
		Type: lifecycle.SiteVisited, Time: benchT0.Add(time.Duration(e.k) * time.Hour)}
	switch {
	case e.k == 0:
		out.Type = lifecycle.SignedUp
	case e.k%4 == 0:
		out.Type, out.Amount, out.Currency = lifecycle.OrderCompleted, 1999, "EUR"
	}
	return out
}

// heavyEvents is how many events the customer of BenchmarkRecordHeavy has
// before the timed loop starts.
const heavyEvents = 200_000

// BenchmarkRecordHeavy records an order for one customer who already has
// 200,000 events (a marketplace seller's account, a catch-all "guest"
// customer): the cost of remembering and checking event IDs must not grow
// with the customer's history.
func BenchmarkRecordHeavy(b *testing.B) {
	tr := benchTracker()
	ctx := context.Background()
	order := func(id string, i int) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "heavy", Type: lifecycle.OrderCompleted,
			Time: benchT0.Add(time.Duration(i) * time.Second), Amount: 1999, Currency: "EUR"}
	}
	for i := range heavyEvents {
		if _, err := tr.Record(ctx, order("h"+strconv.Itoa(i), i)); err != nil {
			b.Fatal(err)
		}
	}
	events := make([]lifecycle.Event, b.N)
	for i := range events {
		events[i] = order("o"+strconv.Itoa(i), heavyEvents+i)
	}
	timeRecords(b, tr, events)
}

// BenchmarkRecordNew records the first event of a new customer.
func BenchmarkRecordNew(b *testing.B) {
	tr := benchTracker()
	events := make([]lifecycle.Event, b.N)
	for i := range events {
		id := "n" + strconv.Itoa(i)
		events[i] = lifecycle.Event{ID: id + "-v", CustomerID: id, Type: lifecycle.SiteVisited, Time: benchT0}
	}
	ctx := context.Background()
	runtime.GC() // do not charge the set-up's garbage to the timed loop
	b.ReportAllocs()
	b.ResetTimer()
	for i := range events {
		if _, err := tr.Record(ctx, events[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordParallel records orders for existing customers from
// GOMAXPROCS goroutines at once.
func BenchmarkRecordParallel(b *testing.B) {
	tr := benchTracker()
	ids := seedCustomers(b, tr, benchCustomers)
	events := orderEvents(ids, b.N)
	var next atomic.Int64
	ctx := context.Background()
	runtime.GC() // do not charge the set-up's garbage to the timed loop
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if _, err := tr.Record(ctx, events[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// typicalCustomer returns the events of a typical customer: 12 events of
// 5 types (4 visits, 3 product views, a sign-up, 2 cart adds, 2 orders in
// EUR) over about two weeks, which move them reach → acquisition →
// conversion → retention (4 history entries).
func typicalCustomer(id string, start time.Time) []lifecycle.Event {
	types := []lifecycle.EventType{
		lifecycle.SiteVisited, lifecycle.ProductViewed, lifecycle.SiteVisited, lifecycle.SignedUp,
		lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.OrderCompleted, lifecycle.SiteVisited,
		lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.SiteVisited, lifecycle.OrderCompleted,
	}
	events := make([]lifecycle.Event, len(types))
	for i, typ := range types {
		events[i] = lifecycle.Event{ID: id + "-" + strconv.Itoa(i), CustomerID: id, Type: typ, Time: start.Add(time.Duration(i) * 29 * time.Hour)}
		if typ == lifecycle.OrderCompleted {
			events[i].Amount, events[i].Currency = 2999, "EUR"
		}
	}
	return events
}

// BenchmarkBytesPerCustomer measures the live heap per stored customer with
// typical facts (see typicalCustomer), recorded one event at a time into
// store.NewMemory(). It stores 1,000,000 customers (100,000 with -short)
// whatever b.N is; run it with -benchtime 1x.
func BenchmarkBytesPerCustomer(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	ctx := context.Background()
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), s,
			lifecycle.WithClock(func() time.Time { return benchT0.AddDate(50, 0, 0) }))
		for i := range n {
			for _, e := range typicalCustomer("c"+strconv.Itoa(i), benchT0.Add(time.Duration(i)*time.Second)) {
				if _, err := tr.Record(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		c, err := tr.Customer(ctx, "c0")
		if err != nil || c.Facts.Events() != 12 || len(c.Facts.Tallies) != 5 || len(c.History) != 4 {
			b.Fatalf("customer is not typical: %+v, %v", c, err)
		}
		if s.Len() != n {
			b.Fatalf("stored %d customers, want %d", s.Len(), n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/customer")
		runtime.KeepAlive(s)
	}
}

// TestShopWorkload checks BenchmarkRecordShop's workload: every customer's
// 20 events once each, each with the ID c<customer>-<k> cut from the
// stream-ordered string of IDs.
func TestShopWorkload(t *testing.T) {
	w := newShopWorkload()
	if len(w.stream) != shopCustomers*shopEvents {
		t.Fatalf("%d events, want %d", len(w.stream), shopCustomers*shopEvents)
	}
	seen := make([]uint32, shopCustomers) // bit k: event k of the customer
	for pos := range w.stream {
		e := w.event(pos)
		k := w.stream[pos].k
		c := w.stream[pos].c
		if e.CustomerID != "c"+strconv.Itoa(int(c)) || e.ID != e.CustomerID+"-"+strconv.Itoa(int(k)) {
			t.Fatalf("event %d: ID %q of customer %q, want event %d of c%d", pos, e.ID, e.CustomerID, k, c)
		}
		if seen[c]&(1<<k) != 0 {
			t.Fatalf("event %d of c%d twice", k, c)
		}
		seen[c] |= 1 << k
	}
}
