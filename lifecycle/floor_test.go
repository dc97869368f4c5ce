package lifecycle_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// The benchmarks in this file do not measure the library. They measure the
// floor under BenchmarkRecordExisting on the machine at hand: the same
// workload (an order for one of 10,000 existing customers, every event
// with a new ID) fed to the least code that still remembers each
// customer's event IDs, as exactly-once recording must. BENCHMARKS.md
// compares the three ("Recording events").

// floorCustomer is all the floor keeps of a customer: an order count, a
// stage number and, with dedupe, an open-addressing set of the 64-bit
// digests of the event IDs it was given (0 marks an empty slot).
type floorCustomer struct {
	orders  int64
	last    int64
	stage   uint8
	version uint64
	set     []uint64
	n       int
}

// add puts d in the set; it reports false when d was there already.
func (c *floorCustomer) add(d uint64) bool {
	if (c.n+1)*4 > len(c.set)*3 { // keep the load at most 3/4
		old := c.set
		c.set, c.n = make([]uint64, max(8, 2*len(old))), 0
		for _, x := range old {
			if x != 0 {
				c.add(x)
			}
		}
	}
	mask := uint64(len(c.set) - 1)
	for i := d & mask; ; i = (i + 1) & mask {
		switch c.set[i] {
		case 0:
			c.set[i] = d
			c.n++
			return true
		case d:
			return false
		}
	}
}

type floorTracker struct {
	index     map[string]int
	customers []floorCustomer
	dedupe    bool
}

// record applies an order; it reports false for a repeated event ID.
func (t *floorTracker) record(e *lifecycle.Event) bool {
	i, ok := t.index[e.CustomerID]
	if !ok {
		i = len(t.customers)
		t.customers = append(t.customers, floorCustomer{})
		t.index[e.CustomerID] = i
	}
	c := &t.customers[i]
	if t.dedupe && !c.add(lifecycle.EventDigest(e.ID)) {
		return false
	}
	c.orders++
	c.last = max(c.last, e.Time.UnixNano())
	c.stage = uint8(min(c.orders, 3))
	c.version++
	return true
}

func benchmarkFloor(b *testing.B, dedupe bool) {
	t := &floorTracker{index: map[string]int{}, dedupe: dedupe}
	ids := make([]string, benchCustomers)
	for i := range ids {
		ids[i] = "c" + strconv.Itoa(i)
		for _, e := range []lifecycle.Event{{ID: ids[i] + "-s", CustomerID: ids[i]}, {ID: ids[i] + "-o", CustomerID: ids[i]}} {
			t.record(&e)
		}
	}
	events := orderEvents(ids, b.N)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range events {
		if !t.record(&events[i]) {
			b.Fatalf("event %d taken for a duplicate", i)
		}
	}
}

// BenchmarkFloorDedupe is the floor of an exactly-once tracker: a map
// look-up, a fixed-size customer record and a per-customer set of event
// digests.
func BenchmarkFloorDedupe(b *testing.B) { benchmarkFloor(b, true) }

// BenchmarkFloorNoDedupe is BenchmarkFloorDedupe without the digest set:
// what remembering event IDs costs is the difference.
func BenchmarkFloorNoDedupe(b *testing.B) { benchmarkFloor(b, false) }
