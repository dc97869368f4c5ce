package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
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

// applyOne applies one write through a.Apply and returns its outcome.
func applyOne(ctx context.Context, a lifecycle.Applier, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	ws := []lifecycle.Write{{ID: id, Events: events, Fn: fn}}
	a.Apply(ctx, ws)
	return ws[0].Err
}

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

// seenOf returns the set of the keys of these event IDs.
func seenOf(ids ...string) lifecycle.EventSet {
	var s lifecycle.EventSet
	for _, id := range ids {
		s.Add(lifecycle.KeyOf(id))
	}
	return s
}

// withoutLogs returns a copy of c (empty slices nil) without History and
// Seen: what an Applier's fn is promised of the stored customer.
func withoutLogs(c *lifecycle.Customer) *lifecycle.Customer {
	out := c.Clone()
	out.History, out.Seen = nil, lifecycle.EventSet{}
	return out
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
				{Type: "acme.custom", Count: 2, First: at(7), Last: at(8)}, // (a count below 0 is kept whole: TestMemoryWideNumbers)
			},
			Sums:       []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: -5}, {Type: "x", Currency: "", Amount: 1 << 62}},
			ReferredBy: "r\x00ü", ReferredAt: at(9), Score: -3, ScoreAt: at(10),
			Referrals: []lifecycle.Referral{{Customer: "b", At: at(11)}},
		},
		History: []lifecycle.Transition{{From: "", To: "reach", At: at(12), Cause: "e1"}, {From: "reach", To: "retention", At: at(13)}},
		Seen:    seenOf("e1", "e2", "e3"),
		Due:     at(14),
	}
}

// TestMemoryApplyDueZeroInZone: a Due that an Apply's fn sets to the zero
// instant in another zone (IsZero, but not time.Time{}) comes back as set.
func TestMemoryApplyDueZeroInZone(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	base := time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC)
	want := roundTripCustomer("c", func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) })
	require.NoError(t, m.Put(ctx, want.Clone(), 0))
	due := time.Time{}.In(time.FixedZone("CET", 3600))
	require.NoError(t, applyOne(ctx, m, "c", []string{"e9"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.Due = due
		c.Version++
		return true, nil
	}))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	if !reflect.DeepEqual(got.Due, due) {
		t.Fatalf("Due = %#v; want %#v", got.Due, due)
	}
}

// TestMemoryRoundTripsExactly checks that what Put stores, Get, Load, Scan
// and View return unchanged (reflect-equal, so with the same locations and
// monotonic readings), whether or not the compact form can hold it, and
// that Apply gives fn the stored customer (but History and Seen) exactly
// and keeps every field fn does not change.
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
		"due not utc":    func(i int) time.Time { return map[bool]time.Time{true: base.In(berlin), false: base}[i == 14] },
		"due never":      func(i int) time.Time { return map[bool]time.Time{true: lifecycle.Never, false: base}[i == 14] },
		"zero not utc":   func(int) time.Time { return time.Time{}.In(berlin) },
		"due zero not utc": func(i int) time.Time {
			return map[bool]time.Time{true: time.Time{}.In(berlin), false: base}[i == 14]
		},
		"due far future": func(i int) time.Time { return base.AddDate(300*map[bool]int{true: 1}[i == 14], 0, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			m := store.NewMemory()
			want := roundTripCustomer("c", at)
			require.NoError(t, m.Put(ctx, want.Clone(), 0))
			check := func(stage string, want, got *lifecycle.Customer) {
				t.Helper()
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("%s: got\n%+v\nwant\n%+v", stage, got, want)
				}
			}
			got, err := m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get", want, got)
			var dst lifecycle.Customer
			require.NoError(t, m.Load(ctx, "c", &dst))
			check("Load", want, &dst)
			n := 0
			for c, err := range m.Scan(ctx) {
				require.NoError(t, err)
				check("Scan", want, c)
				n++
			}
			require.Equal(t, 1, n)
			for c, err := range m.View(ctx) {
				require.NoError(t, err)
				check("View", want, c.Clone())
			}
			// Apply gives fn every field but History and Seen as stored
			// (History empty: Memory appends what fn appends), and keeps
			// every field fn does not change.
			calls := 0
			require.NoError(t, applyOne(ctx, m, "c", nil, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				calls++
				require.Empty(t, seen)
				require.Empty(t, c.History)
				check("Apply's fn", withoutLogs(want), withoutLogs(c))
				c.Version++
				return true, nil
			}))
			require.Equal(t, 1, calls)
			want.Version = 2
			got, err = m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get after Apply", want, got)
			tr := lifecycle.Transition{From: "retention", To: "loyalty", At: at(15), Cause: "e9"}
			require.NoError(t, applyOne(ctx, m, "c", []string{"e9", "e2"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				require.Equal(t, []bool{false, true}, seen)
				c.Version++
				c.Stage = "loyalty"
				c.Due = at(16)
				c.History = append(c.History, tr)
				return true, nil
			}))
			want.Version, want.Stage, want.Due = 3, "loyalty", at(16)
			want.History = append(want.History, tr)
			want.Seen.Add(lifecycle.KeyOf("e9"))
			got, err = m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get after Apply(e9, e2)", want, got)
			// A fn that changes c but reports no change stores nothing.
			require.NoError(t, applyOne(ctx, m, "c", []string{"e9", "e10"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				require.Equal(t, []bool{true, false}, seen)
				c.Version++
				c.Stage = "lapsed"
				c.History = append(c.History, tr)
				return false, nil
			}))
			got, err = m.Get(ctx, "c")
			require.NoError(t, err)
			check("Get after a no-change Apply", want, got)
		})
	}
}

// TestMemoryHistoryStringsStayValid checks that a transition's Cause read
// from the store is not changed by later writes that rewrite or extend the
// history (Memory decodes Causes without copying them).
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
	const rewritten = "xxxxxxxxxxx" // as long as "first-cause"
	for i := range 50 {
		// A Put whose history differs from the stored one other than by
		// appending.
		w, err := m.Get(ctx, "c")
		require.NoError(t, err)
		w.History[0].Cause = rewritten
		w.History = append(w.History, lifecycle.Transition{To: "b", At: at, Cause: "later-" + strconv.Itoa(i)})
		w.Version++
		require.NoError(t, m.Put(ctx, w, w.Version-1))
		// An Apply that appends.
		require.NoError(t, applyOne(ctx, m, "c", []string{"e" + strconv.Itoa(i)}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.History = append(c.History, lifecycle.Transition{To: "c", At: at, Cause: "event-" + strconv.Itoa(i)})
			c.Version++
			return true, nil
		}))
	}
	require.Equal(t, "first-cause", got.History[0].Cause)
	require.Equal(t, "first-cause", viewed)
	// The writes did happen.
	last, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, rewritten, last.History[0].Cause)
	require.Len(t, last.History, 101)
	require.Equal(t, "event-49", last.History[100].Cause)
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
	// The last customer, held as is, takes the Apply path like the others.
	last := "c" + strconv.Itoa(n-1)
	require.NoError(t, applyOne(ctx, m, last, []string{"e9"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{false}, seen)
		c.Version++
		return true, nil
	}))
	got, err := m.Get(ctx, last)
	require.NoError(t, err)
	want := mk(n - 1)
	want.Version, want.Seen = 2, seenOf("e9")
	require.Equal(t, want, got)
	require.NoError(t, applyOne(ctx, m, last, []string{"e9", "e10"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{true, false}, seen)
		return false, nil
	}))
}

// legacyCustomer is a customer whose Seen holds legacy keys (as read from
// data written before event keys existed) for old1 and old2, and the key
// of new1.
func legacyCustomer(id string) *lifecycle.Customer {
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	var seen lifecycle.EventSet
	seen.Set([]lifecycle.EventKey{lifecycle.LegacyKeyOf("old2"), lifecycle.KeyOf("new1"), lifecycle.LegacyKeyOf("old1")})
	return &lifecycle.Customer{
		ID: id, Stage: "reach", Since: at, AsOf: at, Version: 1,
		Facts:   lifecycle.Facts{First: at, Last: at, Tallies: []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: 2, First: at, Last: at}}},
		History: []lifecycle.Transition{{To: "reach", At: at, Cause: "old1"}},
		Seen:    seen,
		Due:     at.Add(24 * time.Hour),
	}
}

// TestMemoryLegacySeen checks that a Seen holding legacy keys reads back
// exactly, that Apply reports an event remembered by its legacy key as
// seen (and one whose legacy key is not there as not seen), and that the
// keys Apply records are added to the legacy ones.
func TestMemoryLegacySeen(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	want := legacyCustomer("c")
	require.NoError(t, m.Put(ctx, want.Clone(), 0))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.True(t, reflect.DeepEqual(want, got), "Get = %+v\nwant %+v", got, want)
	var dst lifecycle.Customer
	require.NoError(t, m.Load(ctx, "c", &dst))
	require.True(t, reflect.DeepEqual(want, &dst), "Load = %+v\nwant %+v", &dst, want)
	for _, id := range []string{"old1", "old2", "new1"} {
		require.True(t, got.HasSeen(id), id)
	}
	require.False(t, got.HasSeen("old3"))

	events := []string{"old1", "new1", "fresh", "old2", "old3"}
	tr := lifecycle.Transition{From: "reach", To: "acquisition", At: want.AsOf, Cause: "fresh"}
	require.NoError(t, applyOne(ctx, m, "c", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{true, true, false, true, false}, seen)
		require.Empty(t, c.History)
		require.Equal(t, withoutLogs(want), withoutLogs(c))
		c.Stage = "acquisition"
		c.History = append(c.History, tr)
		c.Version++
		return true, nil
	}))
	want.Stage, want.Version = "acquisition", 2
	want.History = append(want.History, tr)
	want.Seen.Add(lifecycle.KeyOf("fresh"))
	want.Seen.Add(lifecycle.KeyOf("old3"))
	got, err = m.Get(ctx, "c")
	require.NoError(t, err)
	require.True(t, reflect.DeepEqual(want, got), "Get after Apply = %+v\nwant %+v", got, want)
	require.NoError(t, applyOne(ctx, m, "c", append(events, "other"), func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{true, true, true, true, true, false}, seen)
		return false, nil
	}))

	// A customer as older versions wrote it in JSON (Seen an array of
	// 64-bit digests) is read with legacy keys, and its old events are
	// still found.
	d := lifecycle.LegacyKeyOf("e-old")
	digest := uint64(0)
	for _, b := range d[8:] {
		digest = digest<<8 | uint64(b)
	}
	var old lifecycle.Customer
	require.NoError(t, json.Unmarshal([]byte(`{"id":"j","stage":"reach","version":1,"seen":[`+strconv.FormatUint(digest, 10)+`]}`), &old))
	require.NoError(t, m.Put(ctx, &old, 0))
	require.NoError(t, applyOne(ctx, m, "j", []string{"e-old", "e-new"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{true, false}, seen)
		c.Version++
		return true, nil
	}))
	got, err = m.Get(ctx, "j")
	require.NoError(t, err)
	require.True(t, got.HasSeen("e-old"))
	require.True(t, got.HasSeen("e-new"))
	require.Equal(t, 2, got.Seen.Len())
	require.True(t, got.Seen.Contains(d))

	// Without legacy keys, an event's legacy key does not count as it.
	var only lifecycle.EventSet
	only.Add(lifecycle.KeyOf("x"))
	require.NoError(t, m.Put(ctx, &lifecycle.Customer{ID: "k", Version: 1, Seen: only}, 0))
	require.NoError(t, applyOne(ctx, m, "k", []string{"x", "y"}, func(_ *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, []bool{true, false}, seen)
		return false, nil
	}))
}

// TestMemoryDueRoundTrip checks that Due reads back exactly (reflect-equal)
// through Put and Get, Load, Scan, View and an Apply's fn, for due times
// the compact form holds and for those it does not, and that Apply stores
// the Due fn sets exactly too.
func TestMemoryDueRoundTrip(t *testing.T) {
	ctx := t.Context()
	base := time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	for name, due := range map[string]time.Time{
		"zero":            {},
		"never":           lifecycle.Never,
		"utc":             base,
		"not utc":         base.In(berlin),
		"never not utc":   lifecycle.Never.In(berlin),
		"monotonic":       time.Now().Add(time.Hour),
		"year 1500":       time.Date(1500, 1, 2, 3, 4, 5, 6, time.UTC),
		"year 2300":       time.Date(2300, 1, 2, 3, 4, 5, 6, time.UTC),
		"year 9999":       time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC),
		"just before end": lifecycle.Never.Add(-time.Nanosecond),
		"year 1 plus 1ns": time.Time{}.Add(time.Nanosecond),
	} {
		t.Run(name, func(t *testing.T) {
			m := store.NewMemory()
			for _, plain := range []bool{false, true} { // plain: a customer the compact form cannot hold anyway
				id := map[bool]string{false: "compact", true: "plain"}[plain]
				want := &lifecycle.Customer{ID: id, Stage: "reach", Since: base, AsOf: base, Version: 1, Seen: seenOf("e1"), Due: due}
				if plain {
					want.Since = base.In(berlin)
				}
				require.NoError(t, m.Put(ctx, want.Clone(), 0))
				check := func(stage string, got *lifecycle.Customer) {
					t.Helper()
					if !reflect.DeepEqual(want, got) {
						t.Fatalf("%s %s: Due = %#v; want %#v (customer %+v)", id, stage, got.Due, want.Due, got)
					}
				}
				got, err := m.Get(ctx, id)
				require.NoError(t, err)
				check("Get", got)
				var dst lifecycle.Customer
				require.NoError(t, m.Load(ctx, id, &dst))
				check("Load", &dst)
				for c, err := range m.Scan(ctx) {
					require.NoError(t, err)
					if c.ID == id {
						check("Scan", c)
					}
				}
				for c, err := range m.View(ctx) {
					require.NoError(t, err)
					if c.ID == id {
						check("View", c.Clone())
					}
				}
				// fn sees it; an Apply that leaves it keeps it.
				require.NoError(t, applyOne(ctx, m, id, []string{"e2"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
					if !reflect.DeepEqual(due, c.Due) {
						t.Errorf("%s: fn got Due %#v; want %#v", id, c.Due, due)
					}
					c.Version++
					return true, nil
				}))
				want.Version = 2
				want.Seen.Add(lifecycle.KeyOf("e2"))
				got, err = m.Get(ctx, id)
				require.NoError(t, err)
				check("Get after Apply", got)
				// An Apply that sets it, from another Due, stores it.
				for _, from := range []time.Time{{}, base.Add(time.Hour), lifecycle.Never, base.In(berlin)} {
					for _, to := range []time.Time{from, due} {
						require.NoError(t, applyOne(ctx, m, id, nil, func(c *lifecycle.Customer, _ []bool) (bool, error) {
							c.Due = to
							c.Version++
							return true, nil
						}))
						want.Version++
						want.Due = to
						got, err = m.Get(ctx, id)
						require.NoError(t, err)
						check("Get after Apply sets Due", got)
					}
				}
			}
		})
	}
}

// TestMemoryListDue checks that ListDue yields exactly the customers whose
// Due is zero or at or before now, each once, whichever form a customer
// is kept in, and follows the writes that change Due.
func TestMemoryListDue(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	dues := map[string]time.Time{
		"zero":         {},
		"past":         t0.Add(-time.Hour),
		"now":          t0,
		"later":        t0.Add(time.Nanosecond),
		"never":        lifecycle.Never,
		"berlin-now":   t0.In(berlin),
		"berlin-later": t0.Add(time.Nanosecond).In(berlin),
		"never-berlin": lifecycle.Never.In(berlin),
		"year-1500":    time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC),
		"year-2300":    time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		"year-9999":    time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := range 200 {
		dues["n"+strconv.Itoa(i)] = t0.Add(time.Duration(i-100) * time.Minute)
	}
	// Customers the compact form cannot hold, whatever their Due.
	plain := map[string]bool{}
	for _, id := range []string{"zero", "past", "now", "later", "never"} {
		dues["plain-"+id] = dues[id]
		plain["plain-"+id] = true
		dues["legacy-"+id] = dues[id]
	}
	for id, due := range dues {
		c := &lifecycle.Customer{ID: id, Stage: "reach", Since: t0, Version: 1, Due: due}
		switch {
		case plain[id]:
			c.Since = t0.In(berlin)
		case strings.HasPrefix(id, "legacy-"):
			c.Seen = legacyCustomer(id).Seen
		}
		require.NoError(t, m.Put(ctx, c, 0))
	}
	list := func(now time.Time) map[string]bool {
		t.Helper()
		got := map[string]bool{}
		for id, err := range m.ListDue(ctx, now) {
			require.NoError(t, err)
			if got[id] {
				t.Fatalf("ListDue(%v) yielded %q twice", now, id)
			}
			got[id] = true
		}
		return got
	}
	check := func(now time.Time) {
		t.Helper()
		want := map[string]bool{}
		for id, due := range dues {
			if due.IsZero() || !due.After(now) && !due.Equal(lifecycle.Never) { // Never is never due
				want[id] = true
			}
		}
		if diff := cmp.Diff(want, list(now)); diff != "" {
			t.Fatalf("ListDue(%v) (-want +got):\n%s", now, diff)
		}
	}
	for _, now := range []time.Time{
		t0, t0.Add(-time.Nanosecond), t0.Add(time.Nanosecond), t0.Add(time.Hour), t0.Add(-2 * time.Hour),
		t0.In(berlin), time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC),
		lifecycle.Never.Add(-time.Nanosecond), lifecycle.Never,
	} {
		check(now)
	}
	// Writes move customers in and out of the list.
	setDue := func(id string, due time.Time) {
		t.Helper()
		require.NoError(t, applyOne(ctx, m, id, nil, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.Due = due
			c.Version++
			return true, nil
		}))
		dues[id] = due
	}
	setDue("later", t0.Add(-time.Hour))
	setDue("past", lifecycle.Never)
	setDue("plain-later", t0)
	setDue("plain-zero", t0.Add(time.Hour))
	setDue("legacy-never", time.Time{})
	setDue("legacy-past", t0.Add(time.Second).In(berlin))
	c, err := m.Get(ctx, "n0")
	require.NoError(t, err)
	c.Due, c.Version = lifecycle.Never, 2
	require.NoError(t, m.Put(ctx, c, 1))
	dues["n0"] = lifecycle.Never
	require.NoError(t, m.Delete(ctx, "zero"))
	delete(dues, "zero")
	check(t0)
	check(t0.Add(time.Second))

	// The loop body may write the customer it is given.
	n := 0
	for id, err := range m.ListDue(ctx, t0) {
		require.NoError(t, err)
		setDue(id, lifecycle.Never)
		n++
	}
	require.Positive(t, n)
	require.Empty(t, list(t0))
	check(t0)
	// Stopping early leaves the store usable; a cancelled context is
	// yielded as an error.
	for range m.ListDue(ctx, lifecycle.Never) {
		break
	}
	setDue("now", time.Time{})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	errs := 0
	for id, err := range m.ListDue(cancelled, lifecycle.Never) {
		require.ErrorIs(t, err, context.Canceled, "ListDue with a cancelled context yielded %q", id)
		errs++
	}
	require.Equal(t, 1, errs)
	check(time.Time{}.Add(time.Hour)) // only the customer with Due zero
}

// TestMemoryApply checks Apply against the rules of lifecycle.Applier, with
// no events and with several (some seen), for a customer kept compactly,
// one kept as is, and one whose Seen holds legacy keys.
func TestMemoryApply(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, form := range []string{"compact", "plain", "legacy"} {
		t.Run(form, func(t *testing.T) {
			m := store.NewMemory()
			stored := &lifecycle.Customer{
				ID: "c", Stage: "reach", Since: t0, AsOf: t0, Version: 1,
				Facts:   lifecycle.Facts{First: t0, Last: t0, Score: 1, Tallies: []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: 1, First: t0, Last: t0}}},
				History: []lifecycle.Transition{{To: "reach", At: t0, Cause: "a"}},
				Seen:    seenOf("a", "b"),
				Due:     t0.Add(time.Hour),
			}
			switch form {
			case "plain":
				stored.Since = t0.In(time.FixedZone("X", -3600))
			case "legacy":
				stored.Seen.Add(lifecycle.LegacyKeyOf("old"))
			}
			require.NoError(t, m.Put(ctx, stored.Clone(), 0))
			same := func(what string) {
				t.Helper()
				got, err := m.Get(ctx, "c")
				require.NoError(t, err)
				if !reflect.DeepEqual(stored, got) {
					t.Fatalf("%s: Get = %+v\nwant %+v", what, got, stored)
				}
			}
			calls := 0
			// fn is given the stored customer but History and Seen; History is empty.
			fnSees := func(c *lifecycle.Customer) {
				t.Helper()
				calls++
				require.Empty(t, c.History)
				if !reflect.DeepEqual(withoutLogs(stored), withoutLogs(c)) {
					t.Fatalf("fn got %+v\nwant %+v", withoutLogs(c), withoutLogs(stored))
				}
			}

			// A done context: its error, without calling fn.
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			err := applyOne(cancelled, m, "c", []string{"x"}, func(*lifecycle.Customer, []bool) (bool, error) {
				calls++
				return true, nil
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Zero(t, calls)

			// No events, no change: nothing stored, whatever fn did.
			require.NoError(t, applyOne(ctx, m, "c", nil, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				require.Empty(t, seen)
				c.Stage, c.Version, c.Due = "x", 2, time.Time{}
				c.History = append(c.History, lifecycle.Transition{To: "x", At: t0})
				return false, nil
			}))
			require.Equal(t, 1, calls)
			same("after a no-change Apply")

			// fn's error comes back as is, and nothing is stored: not
			// the fields, the transitions, nor the events.
			boom := errors.New("boom")
			err = applyOne(ctx, m, "c", []string{"e1", "a"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				require.Equal(t, []bool{false, true}, seen)
				c.Stage, c.Version = "x", 2
				c.History = append(c.History, lifecycle.Transition{To: "x", At: t0})
				return true, boom
			})
			if err != boom { //nolint:errorlint // as is, not wrapped
				t.Fatalf("Apply = %v; want fn's error as is", err)
			}
			require.Equal(t, 2, calls)
			same("after a failed Apply")

			// No events, a change: every field but History and Seen, and
			// the transitions appended; no event recorded.
			tr1 := lifecycle.Transition{From: "reach", To: "acquisition", At: t0.Add(time.Minute)}
			require.NoError(t, applyOne(ctx, m, "c", []string{}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				require.Empty(t, seen)
				c.Stage, c.AsOf, c.Due = "acquisition", t0.Add(time.Minute), lifecycle.Never
				c.Facts.Score = 7
				c.History = append(c.History, tr1)
				c.Version++
				return true, nil
			}))
			stored.Stage, stored.AsOf, stored.Due, stored.Facts.Score, stored.Version = "acquisition", t0.Add(time.Minute), lifecycle.Never, 7, 2
			stored.History = append(stored.History, tr1)
			same("after an Apply with no events")

			// Several events, some seen: seen[i] answers for events[i];
			// the unseen ones are recorded, the transitions appended in
			// order.
			events := []string{"c", "a", "old", "d", "b"}
			wantSeen := []bool{false, true, form == "legacy", false, true}
			tr2 := lifecycle.Transition{From: "acquisition", To: "conversion", At: t0.Add(2 * time.Minute), Cause: "c"}
			tr3 := lifecycle.Transition{From: "conversion", To: "retention", At: t0.Add(3 * time.Minute), Cause: "d"}
			require.NoError(t, applyOne(ctx, m, "c", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				require.Equal(t, wantSeen, seen)
				c.Stage = "retention"
				c.History = append(c.History, tr2, tr3)
				c.Version++
				return true, nil
			}))
			stored.Stage, stored.Version = "retention", 3
			stored.History = append(stored.History, tr2, tr3)
			for i, e := range events {
				if !wantSeen[i] {
					stored.Seen.Add(lifecycle.KeyOf(e))
				}
			}
			same("after an Apply of several events")
			require.NoError(t, applyOne(ctx, m, "c", append([]string{"new"}, events...), func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				require.Equal(t, []bool{false, true, true, true, true, true}, seen)
				return false, nil
			}))

			// A version that is not the previous plus one: an error
			// wrapping ErrInvalidCustomer, nothing stored.
			err = applyOne(ctx, m, "c", []string{"e2"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Version += 2
				c.History = append(c.History, tr1)
				return true, nil
			})
			require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
			same("after an Apply with a bad version")

			// Many events at once (more than the compact form's unsorted
			// tail holds), then all of them seen.
			many := make([]string, 200)
			for i := range many {
				many[i] = "m" + strconv.Itoa(i)
			}
			require.NoError(t, applyOne(ctx, m, "c", many, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				require.Equal(t, make([]bool, len(many)), seen)
				c.Version++
				return true, nil
			}))
			stored.Version = 4
			for _, e := range many {
				stored.Seen.Add(lifecycle.KeyOf(e))
			}
			same("after an Apply of 200 events")
			all := append(append([]string{"e2"}, many...), events...)
			require.NoError(t, applyOne(ctx, m, "c", all, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				fnSees(c)
				for i, s := range seen {
					if s != (i > 0) {
						t.Fatalf("seen[%d] (%s) = %v; want %v", i, all[i], s, i > 0)
					}
				}
				return false, nil
			}))
		})
	}
}

// TestMemoryApplyNew checks Apply on a customer that is not stored: fn
// gets a zero Customer with the ID, and the customer is stored only when
// fn reports a change.
func TestMemoryApplyNew(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	// Leave customers with every field set in the working copies of
	// (almost surely) every shard.
	for i := range 300 {
		id := "o" + strconv.Itoa(i)
		require.NoError(t, m.Put(ctx, roundTripCustomer(id, func(i int) time.Time { return time.Date(2025, 1, i, 0, 0, 0, 0, time.UTC) }), 0))
		require.NoError(t, applyOne(ctx, m, id, []string{"e1"}, func(*lifecycle.Customer, []bool) (bool, error) { return false, nil }))
	}
	fresh := func(c *lifecycle.Customer, seen []bool, n int) {
		t.Helper()
		// (nil or empty for no events: which one depends on whether the
		// customer's shard has held a write of events before)
		require.Equal(t, make([]bool, n), append(make([]bool, 0, n), seen...))
		require.Empty(t, c.History)
		require.Equal(t, &lifecycle.Customer{ID: "c"}, withoutLogs(c))
	}
	for _, events := range [][]string{nil, {"x", "y"}} {
		require.NoError(t, applyOne(ctx, m, "c", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
			fresh(c, seen, len(events))
			c.Stage, c.Version = "reach", 1
			return false, nil
		}))
		boom := errors.New("boom")
		err := applyOne(ctx, m, "c", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
			fresh(c, seen, len(events))
			c.Stage, c.Version = "reach", 1
			return true, boom
		})
		if err != boom { //nolint:errorlint // as is, not wrapped
			t.Fatalf("Apply = %v; want fn's error as is", err)
		}
		_, err = m.Get(ctx, "c")
		require.ErrorIs(t, err, lifecycle.ErrNotFound)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.Transition{To: "reach", At: at, Cause: "x"}
	require.NoError(t, applyOne(ctx, m, "c", []string{"x", "y"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		fresh(c, seen, 2)
		c.Stage, c.Since, c.AsOf, c.Due, c.Version = "reach", at, at, lifecycle.Never, 1
		c.History = append(c.History, tr)
		return true, nil
	}))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, &lifecycle.Customer{ID: "c", Stage: "reach", Since: at, AsOf: at, Due: lifecycle.Never, Version: 1,
		History: []lifecycle.Transition{tr}, Seen: seenOf("x", "y")}, got)
	// A new customer with no events has an empty Seen.
	require.NoError(t, applyOne(ctx, m, "d", nil, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		c.Version = 1
		return true, nil
	}))
	got, err = m.Get(ctx, "d")
	require.NoError(t, err)
	require.Equal(t, &lifecycle.Customer{ID: "d", Version: 1}, got)
}

// TestMemoryApplyBatch checks an Apply of several writes: each write gets
// its own outcome, a failed one stores nothing while the others are
// stored, and a done context fails every write without calling any fn.
func TestMemoryApplyBatch(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	require.NoError(t, m.Put(ctx, &lifecycle.Customer{ID: "a", Stage: "reach", Version: 1}, 0))
	m.Apply(ctx, nil) // no writes: nothing to do

	calls := 0
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	ws := []lifecycle.Write{
		{ID: "a", Events: []string{"e1"}, Fn: func(*lifecycle.Customer, []bool) (bool, error) { calls++; return false, nil }},
		{ID: "b", Fn: func(*lifecycle.Customer, []bool) (bool, error) { calls++; return false, nil }},
	}
	m.Apply(cancelled, ws)
	require.ErrorIs(t, ws[0].Err, context.Canceled)
	require.ErrorIs(t, ws[1].Err, context.Canceled)
	require.Zero(t, calls)

	ws = []lifecycle.Write{
		{ID: "a", Events: []string{"e1"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			calls++
			require.Equal(t, []bool{false}, seen)
			c.Stage, c.Version = "x", c.Version+2 // not the previous plus one
			return true, nil
		}},
		{ID: "b", Events: []string{"e1", "e2"}, Fn: func(c *lifecycle.Customer, seen []bool) (bool, error) {
			calls++
			require.Equal(t, []bool{false, false}, seen)
			c.Stage, c.Version = "reach", 1
			return true, nil
		}},
		{ID: "c", Events: []string{"e1"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			calls++
			c.Version = 1
			return false, nil
		}},
	}
	m.Apply(ctx, ws)
	require.Equal(t, 3, calls)
	require.ErrorIs(t, ws[0].Err, lifecycle.ErrInvalidCustomer)
	require.NoError(t, ws[1].Err)
	require.NoError(t, ws[2].Err)
	got, err := m.Get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, &lifecycle.Customer{ID: "a", Stage: "reach", Version: 1}, got, "the failed write stored something")
	got, err = m.Get(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, &lifecycle.Customer{ID: "b", Stage: "reach", Version: 1, Seen: seenOf("e1", "e2")}, got)
	_, err = m.Get(ctx, "c")
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "a write whose fn reported no change was stored")
}

// TestMemoryApplyConcurrent runs Applies of overlapping events to one
// customer from several goroutines while others read it: every event is
// applied exactly once, and readers never see a write half done.
func TestMemoryApplyConcurrent(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	const writers, each, shared = 4, 100, 10
	done := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			c, err := m.Get(ctx, "c")
			if errors.Is(err, lifecycle.ErrNotFound) {
				continue
			}
			if err == nil && (c.Facts.Score != c.Seen.Len() || len(c.History) != int(c.Version)) {
				err = errors.New("Get saw a write half done: score " + strconv.Itoa(c.Facts.Score) + ", " + strconv.Itoa(c.Seen.Len()) + " seen")
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for j := range each {
				events := []string{"shared-" + strconv.Itoa(j%shared), "g" + strconv.Itoa(g) + "-" + strconv.Itoa(j)}
				err := applyOne(ctx, m, "c", events, func(c *lifecycle.Customer, seen []bool) (bool, error) {
					for _, s := range seen {
						if !s {
							c.Facts.Score++
						}
					}
					c.History = append(c.History, lifecycle.Transition{To: "reach", Cause: events[1]})
					c.Version++
					return true, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	require.NoError(t, <-readErr)
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, writers*each+shared, got.Facts.Score)
	require.Equal(t, writers*each+shared, got.Seen.Len())
	require.Equal(t, uint64(writers*each), got.Version)
	require.Len(t, got.History, writers*each)
}

// TestMemoryApplyNewPlainCustomer covers a new customer that the compact
// form cannot hold, written through Apply.
func TestMemoryApplyNewPlainCustomer(t *testing.T) {
	ctx := t.Context()
	for name, at := range map[string]time.Time{
		"not utc":    time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600)),
		"after 2261": time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(name, func(t *testing.T) {
			m := store.NewMemory()
			tr := lifecycle.Transition{To: "reach", At: at, Cause: "e1"}
			require.NoError(t, applyOne(ctx, m, "new", []string{"e7"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				require.Equal(t, []bool{false}, seen)
				c.Since, c.AsOf, c.Stage, c.Due = at, at, "reach", at
				c.History = append(c.History, tr)
				c.Version++
				return true, nil
			}))
			got, err := m.Get(ctx, "new")
			require.NoError(t, err)
			require.Equal(t, &lifecycle.Customer{ID: "new", Stage: "reach", Since: at, AsOf: at, Due: at, Version: 1,
				History: []lifecycle.Transition{tr}, Seen: seenOf("e7")}, got)
			require.NoError(t, applyOne(ctx, m, "new", []string{"e7"}, func(_ *lifecycle.Customer, seen []bool) (bool, error) {
				require.Equal(t, []bool{true}, seen)
				return false, nil
			}))
		})
	}
	// Through the Tracker: an event after 2261, with a clock far enough ahead.
	far := time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return far }))
	ev := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 1, Currency: "EUR"}
	res, err := tr.Record(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Version)
	res, err = tr.Record(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Version, "the retried event must be a duplicate")
}

// TestMemoryKeepsID checks that Apply stores the customer under id
// whatever fn does to c.ID.
func TestMemoryKeepsID(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	require.NoError(t, applyOne(ctx, m, "c", nil, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.ID, c.Version = "", 1
		return true, nil
	}))
	require.NoError(t, applyOne(ctx, m, "c", []string{"e1"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
		c.ID = "other"
		c.Version++
		return true, nil
	}))
	got, err := m.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, "c", got.ID)
	require.Equal(t, uint64(2), got.Version)
	require.True(t, got.HasSeen("e1"))
	_, err = m.Get(ctx, "other")
	require.ErrorIs(t, err, lifecycle.ErrNotFound)
}

// TestZeroMemory: the zero Memory is an empty store that works, as
// NewMemory's does.
func TestZeroMemory(t *testing.T) {
	var m store.Memory
	ctx := context.Background()
	if n := m.Len(); n != 0 {
		t.Fatalf("Len of the zero Memory = %d", n)
	}
	for c, err := range m.Scan(ctx) {
		t.Fatalf("Scan of the zero Memory yielded %v, %v", c, err)
	}
	if _, err := m.Get(ctx, "a"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Fatalf("Get on the zero Memory = %v; want ErrNotFound", err)
	}
	if err := storetest.TestStore(&m); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryChangesKeepHistories: listing the feed reads a customer kept
// whole (a time not in UTC) and then one kept compact; the second's
// decoding must not be written into the first's stored history.
func TestMemoryChangesKeepHistories(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	lmt := time.FixedZone("LMT", 19*60+32)
	t0 := time.Date(1900, 1, 1, 12, 0, 0, 0, lmt)
	whole := &lifecycle.Customer{ID: "whole", Stage: "reach", Since: t0, AsOf: t0, Version: 1,
		History: []lifecycle.Transition{{To: "reach", At: t0, Cause: "w1"}, {From: "reach", To: "conversion", At: t0, Cause: "w2"}}}
	if err := m.Put(ctx, whole, 0); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	compact := &lifecycle.Customer{ID: "compact", Stage: "reach", Since: t1, AsOf: t1, Version: 1,
		History: []lifecycle.Transition{{To: "reach", At: t1, Cause: "c1"}}}
	if err := m.Put(ctx, compact, 0); err != nil {
		t.Fatal(err)
	}
	page, err := m.Changes(ctx, 0, 10)
	if err != nil || len(page) != 3 {
		t.Fatalf("Changes = %v, %v; want 3 changes", page, err)
	}
	got, err := m.Get(ctx, "whole")
	if err != nil {
		t.Fatal(err)
	}
	if got.History[0].Cause != "w1" || !got.History[0].At.Equal(t0) {
		t.Fatalf("after Changes, the whole customer's history is %+v; want it as put", got.History)
	}
	for _, ch := range page {
		if ch.CustomerID == "whole" && ch.Seq == 1 && (ch.Cause != "w1" || !ch.At.Equal(t0)) {
			t.Fatalf("change %+v; want the whole customer's first transition", ch)
		}
	}
}

// TestMemoryReopen runs the Reopen rule with a "reopen" that keeps the
// same Memory (nothing outlives the process): what the rule writes,
// including the change feed and a cursor, reads back as written.
func TestMemoryReopen(t *testing.T) {
	storetest.RunReopen(t, func(*testing.T) lifecycle.Store { return store.NewMemory() },
		func(_ context.Context, s lifecycle.Store) (lifecycle.Store, error) { return s, nil })
}
