package store

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// applyOne applies one write through m.Apply and returns its outcome.
func applyOne(ctx context.Context, m *Memory, id string, events []string, fn func(*lifecycle.Customer, []bool) (bool, error)) error {
	ws := []lifecycle.Write{{ID: id, Events: events, Fn: fn}}
	m.Apply(ctx, ws)
	return ws[0].Err
}

func randKey(r *rand.Rand) lifecycle.EventKey {
	var k lifecycle.EventKey
	binary.BigEndian.PutUint64(k[:8], r.Uint64())
	binary.BigEndian.PutUint64(k[8:], r.Uint64())
	return k
}

// smallKey is a key whose first half is 0, so that keys cluster.
func smallKey(n uint64) lifecycle.EventKey {
	var k lifecycle.EventKey
	binary.BigEndian.PutUint64(k[8:], n)
	return k
}

// TestMemoryForms checks which customers Memory keeps compactly: every
// customer it can hold exactly, and no other (a Seen with legacy keys, a
// Due the due code cannot restore exactly), also when Apply changes what
// it can hold; and that the due code kept beside the record is the one
// ListDue needs.
func TestMemoryForms(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	var legacy lifecycle.EventSet
	legacy.Add(lifecycle.KeyOf("new"))
	legacy.Add(lifecycle.LegacyKeyOf("old"))
	var modern lifecycle.EventSet
	modern.Add(lifecycle.KeyOf("new"))
	for _, tc := range []struct {
		name  string
		seen  lifecycle.EventSet
		due   time.Time
		plain bool
	}{
		{"no seen, due zero", lifecycle.EventSet{}, time.Time{}, false},
		{"keys, due never", modern, lifecycle.Never, false},
		{"keys, due utc", modern, t0, false},
		{"legacy keys", legacy, t0, true},
		{"legacy keys, due never", legacy, lifecycle.Never, true},
		{"due not utc", modern, t0.In(berlin), true},
		{"due never not utc", modern, lifecycle.Never.In(berlin), true},
		{"due year 1500", modern, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"due year 2300", modern, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"due monotonic", modern, time.Now(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory()
			c := &lifecycle.Customer{ID: "c", Stage: "reach", Since: t0, AsOf: t0, Version: 1, Seen: tc.seen, Due: tc.due}
			require.NoError(t, m.Put(ctx, c, 0))
			form := func(what string, plain bool, due time.Time) {
				t.Helper()
				s, h := m.shard("c")
				r, ok := s.get(h, "c")
				require.True(t, ok)
				require.Equal(t, plain, r.full != nil, "%s: kept as is", what)
				require.Equal(t, dueCode(due), r.due, "%s: due code", what)
			}
			form("Put", tc.plain, tc.due)
			// Recording events keeps the form.
			require.NoError(t, applyOne(ctx, m, "c", []string{"e1", "old"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
				require.Equal(t, []bool{false, tc.seen.Contains(lifecycle.LegacyKeyOf("old"))}, seen)
				c.Version++
				return true, nil
			}))
			form("Apply", tc.plain, tc.due)
			// A Due the compact form cannot hold moves the customer out
			// of it; one it can, written whole, back unless Seen has
			// legacy keys.
			require.NoError(t, applyOne(ctx, m, "c", nil, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Due = t0.In(berlin)
				c.Version++
				return true, nil
			}))
			form("Apply sets a Due not in UTC", true, t0.In(berlin))
			got, err := m.Get(ctx, "c")
			require.NoError(t, err)
			got.Due = t0
			got.Version++
			require.NoError(t, m.Put(ctx, got, got.Version-1))
			form("Put with a Due in UTC", tc.seen.Contains(lifecycle.LegacyKeyOf("old")), t0)
		})
	}
}

func TestDueCodes(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	// Exactly held: packDue and unpackDue round-trip.
	for _, due := range []time.Time{{}, lifecycle.Never, t0, t0.Add(time.Nanosecond), time.Date(1700, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(2261, 12, 31, 0, 0, 0, 0, time.UTC)} {
		d, ok := packDue(due)
		require.True(t, ok, "packDue(%v)", due)
		require.Equal(t, due, unpackDue(d))
		require.Equal(t, d, dueCode(due))
	}
	// Not held exactly.
	for _, due := range []time.Time{t0.In(berlin), lifecycle.Never.In(berlin), time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), lifecycle.Never.Add(-1)} {
		_, ok := packDue(due)
		require.False(t, ok, "packDue(%v)", due)
	}
	// Codes keep the order of the times (ties allowed only outside the
	// compact range), so ListDue can compare codes.
	times := []time.Time{
		time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC),
		t0.Add(-time.Nanosecond).In(berlin), t0, t0.Add(time.Nanosecond),
		time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		lifecycle.Never.Add(-1), lifecycle.Never.In(berlin),
	}
	for i := 1; i < len(times); i++ {
		require.LessOrEqual(t, dueCode(times[i-1]), dueCode(times[i]), "%v then %v", times[i-1], times[i])
	}
	require.Equal(t, dueCode(t0), dueCode(t0.In(berlin)))
	require.Equal(t, int64(dueNever), dueCode(lifecycle.Never.In(berlin)))
	require.Less(t, dueCode(lifecycle.Never.Add(-1)), int64(dueNever))
}

// TestMemoryWideNumbers: the body keeps a version and each count in 32
// bits; a customer whose version or count does not fit is kept whole and
// round-trips exactly, and one whose version outgrows 32 bits by a write
// leaves the compact form without losing a unit.
func TestMemoryWideNumbers(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tally := func(n int64) []lifecycle.Tally {
		return []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: n, First: t0, Last: t0}}
	}
	for _, tc := range []struct {
		count int64
		plain bool
	}{{1, false}, {math.MaxUint32, false}, {math.MaxUint32 + 1, true}, {-1, true}, {math.MaxInt64, true}} {
		m := NewMemory()
		c := &lifecycle.Customer{ID: "c", Stage: "reach", Since: t0, AsOf: t0, Version: 1, Facts: lifecycle.Facts{Tallies: tally(tc.count)}}
		require.NoError(t, m.Put(ctx, c, 0))
		s, h := m.shard("c")
		r, _ := s.get(h, "c")
		require.Equal(t, tc.plain, r.full != nil, "count %d: kept whole", tc.count)
		got, err := m.Get(ctx, "c")
		require.NoError(t, err)
		require.Equal(t, c, got, "count %d", tc.count)
	}
	// The numbers of tallies and of sums take a byte each.
	for _, n := range []int{255, 256} {
		m := NewMemory()
		c := &lifecycle.Customer{ID: "c", Stage: "reach", Since: t0, AsOf: t0, Version: 1}
		for i := range n {
			typ := lifecycle.EventType("t" + strconv.Itoa(i))
			c.Facts.Tallies = append(c.Facts.Tallies, lifecycle.Tally{Type: typ, Count: 1, First: t0, Last: t0})
			c.Facts.Sums = append(c.Facts.Sums, lifecycle.Sum{Type: typ, Currency: "EUR", Amount: int64(i)})
		}
		require.NoError(t, m.Put(ctx, c, 0))
		s, h := m.shard("c")
		r, _ := s.get(h, "c")
		require.Equal(t, n > 255, r.full != nil, "%d tallies and sums: kept whole", n)
		got, err := m.Get(ctx, "c")
		require.NoError(t, err)
		require.Equal(t, c, got, "%d tallies and sums", n)
	}
	// A version at 2^32−1 (set in place: no test writes 4 billion times)
	// becomes 2^32 on the next write.
	m := NewMemory()
	require.NoError(t, m.Put(ctx, &lifecycle.Customer{ID: "v", Stage: "reach", Since: t0, AsOf: t0, Version: 1}, 0))
	s, h := m.shard("v")
	r, _ := s.get(h, "v")
	require.Nil(t, r.full)
	le.PutUint32(r.body()[offVersion:], math.MaxUint32)
	require.NoError(t, applyOne(ctx, m, "v", []string{"e1"}, func(c *lifecycle.Customer, seen []bool) (bool, error) {
		require.Equal(t, uint64(math.MaxUint32), c.Version)
		c.Version++
		c.Facts.Tallies = tally(1)
		return true, nil
	}))
	require.NotNil(t, r.full, "a version past 2^32−1 is kept whole")
	got, err := m.Get(ctx, "v")
	require.NoError(t, err)
	require.Equal(t, uint64(math.MaxUint32)+1, got.Version)
	require.Equal(t, tally(1), got.Facts.Tallies)
	require.True(t, got.Seen.Has("e1"))
}

// TestMemoryLongCause: the history keeps a cause's length in 16 bits; a
// customer with a longer cause is kept whole and round-trips exactly.
func TestMemoryLongCause(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, math.MaxUint16, math.MaxUint16 + 1} {
		m := NewMemory()
		c := &lifecycle.Customer{ID: "c", Stage: "reach", Since: t0, AsOf: t0, Version: 1,
			History: []lifecycle.Transition{{To: "reach", At: t0, Cause: strings.Repeat("x", n)}, {From: "reach", To: "loyalty", At: t0, Cause: "next"}}}
		require.NoError(t, m.Put(ctx, c, 0))
		s, h := m.shard("c")
		r, _ := s.get(h, "c")
		require.Equal(t, n > math.MaxUint16, r.full != nil, "cause of %d bytes: kept whole", n)
		got, err := m.Get(ctx, "c")
		require.NoError(t, err)
		require.Equal(t, c, got, "cause of %d bytes", n)
	}
}

// TestMemoryIDs: a compact record keeps its customer's ID at the head of
// its data (IDs of 1 to 256 bytes; a longer one keeps the customer whole),
// so it never holds on to the caller's string, and the IDs it hands out
// stay as they were when the record's data moves to a larger array.
func TestMemoryIDs(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 7, maxIDLen, maxIDLen + 1} {
		m := NewMemory()
		id := strings.Repeat("i", n)
		c := &lifecycle.Customer{ID: id, Stage: "reach", Since: t0, AsOf: t0, Version: 1}
		require.NoError(t, m.Put(ctx, c, 0))
		s, h := m.shard(id)
		r, ok := s.get(h, id)
		require.True(t, ok, "ID of %d bytes: found", n)
		require.Equal(t, n > maxIDLen, r.full != nil, "ID of %d bytes: kept whole", n)
		require.Equal(t, id, r.id())
		got, err := m.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, c, got)
	}

	// The caller's string is not kept: a customer ID sliced from a large
	// buffer (as encoding/csv slices a record's fields from one string)
	// must not keep the buffer alive, on Put's path or Apply's.
	m := NewMemory()
	for i, how := range []string{"put", "apply", "whole", "referrer"} {
		name := "cust" + strconv.Itoa(i)
		if how == "whole" {
			name = strings.Repeat("w", maxIDLen+1) // kept whole
		}
		buf := []byte(strings.Repeat("x", 1<<16) + name)
		id := unsafe.String(&buf[1<<16], len(buf)-1<<16)
		gone := weak.Make(&buf[0])
		switch how {
		case "put", "whole":
			require.NoError(t, m.Put(ctx, &lifecycle.Customer{ID: id, Stage: "reach", Since: t0, AsOf: t0, Version: 1}, 0))
		case "referrer":
			c := &lifecycle.Customer{ID: name, Stage: "reach", Since: t0, AsOf: t0, Version: 1,
				Facts: lifecycle.Facts{ReferredBy: id, ReferredAt: t0, Referrals: []lifecycle.Referral{{Customer: id, At: t0}}}}
			require.NoError(t, m.Put(ctx, c, 0))
		case "apply":
			require.NoError(t, applyOne(ctx, m, id, []string{"e1"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Version++
				return true, nil
			}))
		}
		buf, id = nil, ""
		runtime.GC()
		runtime.GC()
		require.Nil(t, gone.Value(), "%s: the store keeps the caller's buffer alive", how)
		_, err := m.Get(ctx, name)
		require.NoError(t, err, how)
	}

	// IDs handed out stay valid when the data grows into a new array.
	m = NewMemory()
	require.NoError(t, m.Put(ctx, &lifecycle.Customer{ID: "grow", Stage: "reach", Since: t0, AsOf: t0, Version: 1}, 0))
	var held []string
	for i := range 50 {
		for id, err := range m.ListDue(ctx, t0) {
			require.NoError(t, err)
			held = append(held, id)
		}
		require.NoError(t, applyOne(ctx, m, "grow", []string{"e" + strconv.Itoa(i)}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
			c.Version++
			c.History = append(c.History, lifecycle.Transition{From: c.Stage, To: "reach", At: t0, Cause: strings.Repeat("c", 40)})
			c.Facts.Tallies = append(c.Facts.Tallies, lifecycle.Tally{Type: lifecycle.EventType("t" + strconv.Itoa(i)), Count: 1, First: t0, Last: t0})
			return true, nil
		}))
	}
	require.Len(t, held, 50)
	for _, id := range held {
		require.Equal(t, "grow", id)
	}
	got, err := m.Get(ctx, "grow")
	require.NoError(t, err)
	require.Len(t, got.History, 50)
	require.Len(t, got.Facts.Tallies, 50)
}

// TestHistAt: the change feed decodes one transition of a history by its
// place; it must be the one decodeHist puts there, and none past the end.
func TestHistAt(t *testing.T) {
	y := newSymbols()
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for n := range 20 {
		var h []lifecycle.Transition
		for i := range n {
			h = append(h, lifecycle.Transition{From: stage.ID("s" + strconv.Itoa(i)), To: stage.ID("s" + strconv.Itoa(i+1)),
				At: t0.Add(time.Duration(rng.IntN(1e6)) * time.Second), Cause: strings.Repeat("c", rng.IntN(40))})
		}
		b, ok := appendHist(nil, h, y)
		require.True(t, ok)
		names := *y.names.Load()
		all := decodeHist(nil, b, names)
		require.Len(t, all, n)
		for seq := 0; seq <= n+1; seq++ {
			tr, ok := histAt(b, seq, names)
			require.Equal(t, seq >= 1 && seq <= n, ok, "history of %d, seq %d", n, seq)
			if ok {
				require.Equal(t, all[seq-1], tr, "history of %d, seq %d", n, seq)
				require.Equal(t, h[seq-1].Cause, tr.Cause)
			}
		}
	}
}
