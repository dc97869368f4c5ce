package store_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) lifecycle.Store { return store.NewMemory() })
}

func TestMemoryTestStore(t *testing.T) {
	s := store.NewMemory()
	if err := storetest.TestStore(s); err != nil {
		t.Fatal(err)
	}
	// Running it again on the same, now non-empty store must also pass.
	if err := storetest.TestStore(s); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryViewMatchesScan(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	for i := range 500 {
		c := &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Stage: "reach", Version: 1}
		if err := m.Put(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	scanned := map[string]string{}
	for c, err := range m.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		scanned[c.ID] = string(c.Stage)
	}
	viewed := map[string]string{}
	for c, err := range lifecycle.Browse(ctx, m) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := viewed[c.ID]; dup {
			t.Fatalf("View yielded %q twice", c.ID)
		}
		viewed[c.ID] = string(c.Stage)
	}
	if diff := cmp.Diff(scanned, viewed); diff != "" {
		t.Fatalf("View and Scan disagree (-scan +view):\n%s", diff)
	}
	// Stopping early releases the shard lock: a write afterwards succeeds.
	for range m.View(ctx) {
		break
	}
	if err := m.Put(ctx, &lifecycle.Customer{ID: "after", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	// A panicking loop body does not leave a shard locked.
	func() {
		defer func() { _ = recover() }()
		for range m.View(ctx) {
			panic("boom")
		}
	}()
	if err := m.Put(ctx, &lifecycle.Customer{ID: "after-panic", Version: 1}, 0); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range m.View(cancelled) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("View with a cancelled context yielded %v", err)
		}
	}
}

func TestMemoryDelete(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	const n = 300
	for i := range n {
		if err := m.Put(ctx, &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Version: 1}, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Delete every third customer, and one that does not exist.
	for i := 0; i < n; i += 3 {
		if err := m.Delete(ctx, "c"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Delete(ctx, "nobody"); err != nil {
		t.Fatalf("Delete(missing) = %v; want nil", err)
	}
	want := map[string]bool{}
	for i := range n {
		id := "c" + strconv.Itoa(i)
		_, err := m.Get(ctx, id)
		if i%3 == 0 {
			if !errors.Is(err, lifecycle.ErrNotFound) {
				t.Fatalf("Get(%s) after Delete = %v; want ErrNotFound", id, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Get(%s) = %v (a Delete lost a neighbour)", id, err)
		}
		want[id] = true
	}
	got := map[string]bool{}
	for c, err := range m.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got[c.ID] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Scan after Delete (-want +got):\n%s", diff)
	}
	if m.Len() != len(want) {
		t.Fatalf("Len = %d; want %d", m.Len(), len(want))
	}
	// A deleted ID can be created again, from version 0.
	if err := m.Put(ctx, &lifecycle.Customer{ID: "c0", Version: 1}, 0); err != nil {
		t.Fatalf("Put after Delete = %v", err)
	}
}

// roundTripCustomer is a customer with every field set, whose times are
// all of the given location (and so of the given form).
func roundTripCustomer(id string, at func(i int) time.Time) *lifecycle.Customer {
	return &lifecycle.Customer{
		ID: id, Stage: "retention", Since: at(1), AsOf: at(2), Version: 1,
		Facts: lifecycle.Facts{
			First: at(3), Last: at(4),
			Tallies: []lifecycle.Tally{
				{Type: lifecycle.OrderCompleted, Count: 3, First: at(5), Last: at(6)},
				{Type: "acme.custom", Count: -1, First: at(7), Last: at(8)},
			},
			Sums:       []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: -5}, {Type: "x", Currency: "", Amount: 1 << 62}},
			ReferredBy: "r\x00ü", ReferredAt: at(9), Score: -3, ScoreAt: at(10),
			Referrals: []lifecycle.Referral{{Customer: "b", At: at(11)}},
		},
		History: []lifecycle.Transition{{From: "", To: "reach", At: at(12), Cause: "e1"}, {From: "reach", To: "retention", At: at(13)}},
		Seen:    []uint64{1, 2, 1 << 63},
	}
}

// TestMemoryRoundTripsExactly checks that what Put stores, Get, Load, Scan
// and View return unchanged (reflect-equal, so with the same locations and
// monotonic readings), whether or not the compact form can hold it.
func TestMemoryRoundTripsExactly(t *testing.T) {
	ctx := t.Context()
	base := time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	now := time.Now() // has a monotonic reading
	for name, at := range map[string]func(int) time.Time{
		"utc":            func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) },
		"zero times":     func(int) time.Time { return time.Time{} },
		"not utc":        func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour).In(berlin) },
		"monotonic":      func(i int) time.Time { return now.Add(time.Duration(i)) },
		"year 1":         func(i int) time.Time { return time.Date(1, 1, 1, 0, 0, i, 0, time.UTC) },
		"year 9999":      func(i int) time.Time { return time.Date(9999, 12, 31, 0, 0, i, 0, time.UTC) },
		"one not utc":    func(i int) time.Time { return map[bool]time.Time{true: base.In(berlin), false: base}[i == 8] },
		"one far future": func(i int) time.Time { return base.AddDate(300*map[bool]int{true: 1}[i == 12], 0, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			m := store.NewMemory()
			want := roundTripCustomer("c", at)
			require.NoError(t, m.Put(ctx, want.Clone(), 0))
			check := func(stage string, got *lifecycle.Customer) {
				t.Helper()
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("%s: got\n%+v\nwant\n%+v", stage, got, want)
				}
			}
			got, err := m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get", got)
			var dst lifecycle.Customer
			require.NoError(t, m.Load(ctx, "c", &dst))
			check("Load", &dst)
			for c, err := range m.Scan(ctx) {
				require.NoError(t, err)
				check("Scan", c)
			}
			for c, err := range m.View(ctx) {
				require.NoError(t, err)
				check("View", c.Clone())
			}
			// Update and UpdateEvent keep every field they do not change.
			require.NoError(t, m.Update(ctx, "c", func(c *lifecycle.Customer) (bool, error) {
				check("Update's fn", c.Clone())
				c.Version++
				return true, nil
			}))
			want.Version = 2
			got, err = m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get after Update", got)
			tr := lifecycle.Transition{From: "retention", To: "loyalty", At: at(14), Cause: "e9"}
			require.NoError(t, m.UpdateEvent(ctx, "c", 5, func(c *lifecycle.Customer, seen bool) (bool, error) {
				c.Version++
				c.Stage = "loyalty"
				c.History = append(c.History, tr)
				return true, nil
			}))
			want.Version, want.Stage = 3, "loyalty"
			want.History = append(want.History, tr)
			want.Seen = []uint64{1, 2, 5, 1 << 63}
			got, err = m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get after UpdateEvent", got)
		})
	}
}

// TestMemoryHistoryStringsStayValid checks that a transition's Cause read
// from the store is not changed by later writes that rewrite the history
// (Memory decodes Causes without copying them).
func TestMemoryHistoryStringsStayValid(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "c", Version: 1, History: []lifecycle.Transition{{To: "a", At: at, Cause: "first-cause"}}}
	require.NoError(t, m.Put(ctx, c, 0))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	var viewed string
	for v := range m.View(ctx) {
		viewed = v.History[0].Cause
	}
	for i := range 50 {
		require.NoError(t, m.Update(ctx, "c", func(c *lifecycle.Customer) (bool, error) {
			c.History[0].Cause = strings.Repeat("x", len("first-cause"))
			c.History = append(c.History, lifecycle.Transition{To: "b", At: at, Cause: "later-" + strconv.Itoa(i)})
			c.Version++
			return true, nil
		}))
		require.NoError(t, m.UpdateEvent(ctx, "c", uint64(i), func(c *lifecycle.Customer, _ bool) (bool, error) {
			c.History = append(c.History, lifecycle.Transition{To: "c", At: at, Cause: "event-" + strconv.Itoa(i)})
			c.Version++
			return true, nil
		}))
	}
	require.Equal(t, "first-cause", got.History[0].Cause)
	require.Equal(t, "first-cause", viewed)
}

// TestMemoryManySymbols stores more distinct stage IDs than the compact
// form numbers; the customers beyond that are kept as they are, and every
// customer still reads back exactly.
func TestMemoryManySymbols(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 70,000 customers")
	}
	ctx := t.Context()
	m := store.NewMemory()
	const n = 70_000
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int) *lifecycle.Customer {
		return &lifecycle.Customer{ID: "c" + strconv.Itoa(i), Stage: stage.ID("s" + strconv.Itoa(i)), Since: at, Version: 1}
	}
	for i := range n {
		require.NoError(t, m.Put(ctx, mk(i), 0))
	}
	for i := 0; i < n; i += 997 {
		got, err := m.Get(ctx, "c"+strconv.Itoa(i))
		require.NoError(t, err)
		require.Equal(t, mk(i), got)
	}
	// The last customer, held as is, takes the event path like the others.
	last := "c" + strconv.Itoa(n-1)
	require.NoError(t, m.UpdateEvent(ctx, last, 9, func(c *lifecycle.Customer, _ bool) (bool, error) {
		c.Version++
		return true, nil
	}))
	got, err := m.Get(ctx, last)
	require.NoError(t, err)
	want := mk(n - 1)
	want.Version, want.Seen = 2, []uint64{9}
	require.Equal(t, want, got)
}

// TestMemoryUnsortedSeen checks that a Seen which breaks Customer.Seen's
// rule (ascending, no repeats) still reads back exactly as it was put.
func TestMemoryUnsortedSeen(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	c := &lifecycle.Customer{ID: "c", Version: 1, Seen: []uint64{9, 3, 3, 0}}
	require.NoError(t, m.Put(ctx, c.Clone(), 0))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, c, got)
}

// TestMemoryUpdateEventNewPlainCustomer covers a new customer that the
// compact form cannot hold, written through UpdateEvent (it used to panic).
func TestMemoryUpdateEventNewPlainCustomer(t *testing.T) {
	ctx := t.Context()
	for name, at := range map[string]time.Time{
		"not utc":    time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600)),
		"after 2261": time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(name, func(t *testing.T) {
			m := store.NewMemory()
			tr := lifecycle.Transition{To: "reach", At: at, Cause: "e1"}
			require.NoError(t, m.UpdateEvent(ctx, "new", 7, func(c *lifecycle.Customer, seen bool) (bool, error) {
				require.False(t, seen)
				c.Since, c.AsOf, c.Stage = at, at, "reach"
				c.History = append(c.History, tr)
				c.Version++
				return true, nil
			}))
			got, err := m.Get(ctx, "new")
			require.NoError(t, err)
			require.Equal(t, &lifecycle.Customer{ID: "new", Stage: "reach", Since: at, AsOf: at, Version: 1,
				History: []lifecycle.Transition{tr}, Seen: []uint64{7}}, got)
		})
	}
	// Through the Tracker: an event after 2261, with a clock far enough ahead.
	far := time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return far }))
	res, err := tr.Record(ctx, lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 1, Currency: "EUR"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Version)
}

// TestMemoryUnsortedSeenLookups checks that UpdateEvent reports every
// digest of a Seen that breaks the ascending rule as seen.
func TestMemoryUnsortedSeenLookups(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	require.NoError(t, m.Put(ctx, &lifecycle.Customer{ID: "c", Version: 1, Seen: []uint64{9, 3, 0}}, 0))
	for _, d := range []uint64{9, 3, 0} {
		require.NoError(t, m.UpdateEvent(ctx, "c", d, func(_ *lifecycle.Customer, seen bool) (bool, error) {
			if !seen {
				t.Errorf("digest %d is in Seen but UpdateEvent says it is not", d)
			}
			return false, nil
		}))
	}
}

// TestMemoryKeepsID checks that Update and UpdateEvent store the customer
// under id whatever fn does to c.ID.
func TestMemoryKeepsID(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	require.NoError(t, m.Update(ctx, "c", func(c *lifecycle.Customer) (bool, error) {
		c.ID, c.Version = "", 1
		return true, nil
	}))
	require.NoError(t, m.UpdateEvent(ctx, "c", 1, func(c *lifecycle.Customer, _ bool) (bool, error) {
		c.ID = "other"
		c.Version++
		return true, nil
	}))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, "c", got.ID)
	require.Equal(t, uint64(2), got.Version)
	_, err = m.Get(ctx, "other")
	require.ErrorIs(t, err, lifecycle.ErrNotFound)
}
