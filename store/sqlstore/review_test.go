package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// exactTimes compares times as the store contract requires: the same instant
// and the same UTC offset.
var exactTimes = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob
	}),
	cmpopts.EquateEmpty(), cmpSeen,
}

func extremeCustomer(id string) *lifecycle.Customer {
	east := time.FixedZone("E", 23*3600+59*60)
	west := time.FixedZone("W", -(23*3600 + 59*60))
	y0 := time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC)
	y9999 := time.Date(9999, 12, 31, 23, 59, 59, 999999999, east)
	c := &lifecycle.Customer{
		ID:      id,
		Stage:   stage.ID(strings.Repeat("ß", sqlstore.MaxStageLen/2)),
		Since:   y0,
		AsOf:    y9999,
		Due:     time.Date(9999, 12, 31, 0, 0, 0, 0, west),
		Version: math.MaxInt64,
	}
	c.Facts.First = time.Date(1, 1, 1, 0, 0, 0, 0, west)
	c.Facts.Last = time.Date(9999, 1, 1, 0, 0, 0, 0, east)
	c.Facts.ReferredBy = strings.Repeat("\u2028<>&\"\\", 256/14)
	c.Facts.ReferredAt = time.Date(2000, 2, 29, 12, 0, 0, 123, east)
	c.Facts.Score = -7
	c.Facts.ScoreAt = time.Date(1970, 1, 1, 0, 0, 0, 0, west)
	for i := range 3000 {
		c.Facts.Tallies = append(c.Facts.Tallies, lifecycle.Tally{Type: lifecycle.EventType(fmt.Sprintf("acme.t%05d", i)), Count: math.MaxInt64 - int64(i), First: y0, Last: y9999})
		c.Facts.Sums = append(c.Facts.Sums, lifecycle.Sum{Type: lifecycle.EventType(fmt.Sprintf("acme.t%05d", i)), Currency: "€UR", Amount: math.MinInt64 + int64(i)})
	}
	for i := range 500 {
		c.Facts.Referrals = append(c.Facts.Referrals, lifecycle.Referral{Customer: fmt.Sprintf("r%03d\u00e9", i), At: y9999})
	}
	for i := range 20000 {
		c.History = append(c.History, lifecycle.Transition{From: stage.ID(fmt.Sprint("s", i)), To: stage.ID(fmt.Sprint("s", i+1)), At: time.Date(2000, 1, 1, 0, 0, i, 0, west),
			Cause: "clm.referral:" + strings.Repeat("x", lifecycle.MaxIDLen)})
	}
	for i := range 5000 {
		c.Seen.Add(lifecycle.KeyOf(fmt.Sprint("e", i)))
	}
	return c
}

// TestReviewExtremeRoundTrip puts a customer at every documented limit and
// reads it back.
func TestReviewExtremeRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		id := strings.Repeat("🙂", sqlstore.MaxIDLen/4) // 256 bytes
		want := extremeCustomer(id)
		prev := want.Version - 1
		first := &lifecycle.Customer{ID: id, Stage: "reach", Version: 1}
		require.NoError(t, s.Put(ctx, first, 0))
		_, err := s.DB().Exec(`UPDATE ` + s.Table("customers") + ` SET version = ` + fmt.Sprint(prev))
		require.NoError(t, err)
		require.NoError(t, s.Put(ctx, want, prev))
		got, err := s.Get(ctx, id)
		require.NoError(t, err)
		if diff := cmp.Diff(want, got, exactTimes); diff != "" {
			t.Errorf("Get after Put (-want +got):\n%.3000s", diff)
		}
		n := 0
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			n++
			if diff := cmp.Diff(want, c, exactTimes); diff != "" {
				t.Errorf("Scan after Put (-want +got):\n%.3000s", diff)
			}
		}
		require.Equal(t, 1, n)
	})
}

// TestReviewZeroInstantOffset: the store contract says every time comes back
// with its UTC offset; Facts.ReferredAt and Facts.ScoreAt at the zero
// instant (year 1, 01:00 at +01:00) come back in UTC (store.Memory keeps
// the offset).
func TestReviewZeroInstantOffset(t *testing.T) {
	stores := map[string]func(t *testing.T) lifecycle.Store{
		"memory":   func(*testing.T) lifecycle.Store { return store.NewMemory() },
		"sqlite":   func(t *testing.T) lifecycle.Store { return newEnv(t, sqlstore.SQLite).open(t) },
		"postgres": func(t *testing.T) lifecycle.Store { return newEnv(t, sqlstore.Postgres).open(t) },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			z := time.Time{}.In(time.FixedZone("E", 3600))
			want := &lifecycle.Customer{ID: "z", Stage: "reach", Version: 1, Since: z, AsOf: z, Due: z}
			want.Facts.ReferredAt = z
			want.Facts.ScoreAt = z
			want.Facts.First = z
			if err := s.Put(ctx, want, 0); err != nil {
				// A store that cannot hold the value refuses it, naming it.
				require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
				require.ErrorContains(t, err, "referred_at")
				return
			}
			got, err := s.Get(ctx, "z")
			require.NoError(t, err)
			if diff := cmp.Diff(want, got, exactTimes); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReviewHugeHistoryFeed: a customer applied with 25,000 transitions at once;
// the feed lists every one, once, in order.
func TestReviewHugeHistoryFeed(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		const n = 25000
		fn := func(c *lifecycle.Customer, seen []bool) (bool, error) {
			if c.Version != 0 {
				return false, nil
			}
			for i := range n {
				c.History = append(c.History, lifecycle.Transition{From: stage.ID(fmt.Sprint(i)), To: stage.ID(fmt.Sprint(i + 1)), At: time.Unix(int64(i), 0).UTC(), Cause: "ev"})
			}
			c.Stage = "x"
			c.Version = 1
			return true, nil
		}
		require.NoError(t, applyOne(ctx, s, "big", []string{"ev"}, fn))
		var after lifecycle.Cursor
		seq := uint64(0)
		for {
			page, err := s.Changes(ctx, after, 10000)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, ch := range page {
				seq++
				require.Equal(t, seq, ch.Seq)
				require.Equal(t, stage.ID(fmt.Sprint(seq)), ch.To)
				after = ch.Pos
			}
		}
		require.Equal(t, uint64(n), seq)
	})
}

// TestReviewApplyKeepsStoredHistory: lifecycle.Applier commits "every field of
// c but History and Seen" plus "the transitions w.Fn appended to c.History
// (those past its length when w.Fn was called), added to the end of the
// stored history". A fn that replaces the History it was given must not
// erase the stored history (store.Memory keeps it).
func TestReviewApplyKeepsStoredHistory(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(t *testing.T, s lifecycle.Applier, g lifecycle.Store) {
		ctx := context.Background()
		c := &lifecycle.Customer{ID: "h", Stage: "b", Version: 1,
			History: []lifecycle.Transition{{To: "a", At: at, Cause: "e1"}, {From: "a", To: "b", At: at, Cause: "e2"}}}
		require.NoError(t, g.Put(ctx, c, 0))
		ws := []lifecycle.Write{{ID: "h", Events: []string{"e3"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			if c.Version == 0 {
				c.Version = 1
				return true, nil
			}
			if len(c.History) > 0 { // the store chose to give the stored history
				c.History[0].Cause = "tampered" // a change to a stored transition
				c.History = c.History[:1]       // and fewer of them
			}
			c.Stage, c.Version = "c", c.Version+1
			return true, nil
		}}}
		s.Apply(ctx, ws)
		require.NoError(t, ws[0].Err)
		got, err := g.Get(ctx, "h")
		require.NoError(t, err)
		if len(got.History) != 2 || got.History[0].Cause != "e1" {
			t.Errorf("stored history after Apply = %+v; want the 2 stored transitions unchanged", got.History)
		}
	}
	t.Run("memory", func(t *testing.T) {
		m := store.NewMemory()
		check(t, m, m)
	})
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		check(t, s, s)
	})
}

// TestReviewListDueExtremes: every customer due at now is listed, exactly
// once, whatever its due time, with one customer per page.
func TestReviewListDueExtremes(t *testing.T) {
	west := time.FixedZone("W", -(23*3600 + 59*60))
	east := time.FixedZone("E", 23*3600+59*60)
	dues := []time.Time{
		{}, time.Date(0, 1, 1, 0, 0, 0, 0, east), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1677, 9, 21, 0, 12, 43, 145224191, time.UTC),
		time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC), time.Unix(0, math.MinInt64).UTC(), time.Unix(0, math.MaxInt64).UTC(),
		time.Unix(0, math.MaxInt64).Add(-1).UTC(), time.Unix(0, math.MaxInt64).Add(1).UTC(),
		time.Date(2262, 4, 12, 0, 0, 0, 0, west), time.Date(2026, 1, 1, 0, 0, 0, 0, west), time.Date(2026, 1, 1, 0, 0, 0, 0, east),
		time.Date(9999, 12, 31, 23, 59, 59, 999999998, time.UTC), lifecycle.Never, time.Date(9999, 12, 31, 0, 0, 0, 0, east),
	}
	nows := []time.Time{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, math.MaxInt64).UTC(), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999998, time.UTC), lifecycle.Never}
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t, sqlstore.WithScanPageSize(1))
		ctx := context.Background()
		for i, due := range dues {
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: fmt.Sprintf("c%02d", i), Stage: "reach", Version: 1, Due: due}, 0))
		}
		for _, now := range nows {
			got := map[string]int{}
			for id, err := range s.ListDue(ctx, now) {
				require.NoError(t, err)
				got[id]++
			}
			for i, due := range dues {
				id := fmt.Sprintf("c%02d", i)
				isDue := due.IsZero() || !due.After(now) && !due.Equal(lifecycle.Never)
				if isDue && got[id] != 1 || got[id] > 1 {
					t.Errorf("ListDue(%s): customer due %s yielded %d times", now, due, got[id])
				}
			}
		}
	})
}

// TestReviewScanOrderBytes: Scan and ListByStage yield IDs in byte order, one
// per page, whatever their characters.
func TestReviewScanOrderBytes(t *testing.T) {
	ids := []string{"a", "A", "a\u00e9", "ab", "\U0001F600", "\uFFFD", "Z", "~", "!", "a b", "\u00e9", "e\u0301", "ß", "SS", "ss", "İ", "i"}
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t, sqlstore.WithScanPageSize(1))
		ctx := context.Background()
		for _, id := range ids {
			require.NoError(t, s.Put(ctx, &lifecycle.Customer{ID: id, Stage: "reach", Version: 1}, 0))
		}
		want := append([]string(nil), ids...)
		slices.Sort(want)
		var got, byStage []string
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			got = append(got, c.ID)
		}
		for id, err := range s.ListByStage(ctx, "reach") {
			require.NoError(t, err)
			byStage = append(byStage, id)
		}
		require.Equal(t, want, got)
		require.Equal(t, want, byStage)
	})
}

// TestReviewBatchDuplicatesAndRetries: RecordBatch of overlapping batches
// (duplicates within and across batches, over 64 customers so that the
// PostgreSQL write splits, through two Stores so that held rows go stale)
// stores what one sequential replay into store.Memory stores.
func TestReviewBatchDuplicatesAndRetries(t *testing.T) {
	evs := stream(7, 150, 1500)
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		e := newEnv(t, d)
		s1, s2 := e.open(t), e.open(t)
		t1, t2 := newTracker(s1), newTracker(s2)
		ctx := context.Background()
		mem := store.NewMemory()
		tm := newTracker(mem)
		// Batches of 300 stepping by 200: every event twice or more.
		for lo := 0; lo < len(evs); lo += 200 {
			hi := min(lo+300, len(evs))
			tr := t1
			if (lo/200)%2 == 1 {
				tr = t2
			}
			batch := append(slices.Clone(evs[lo:hi]), evs[lo:min(lo+20, hi)]...) // and repeats within the batch
			_, err := tr.RecordBatch(ctx, batch)
			require.NoError(t, err)
			_, err = tm.RecordBatch(ctx, batch)
			require.NoError(t, err)
		}
		want, got := all(t, mem), all(t, s1)
		if diff := cmp.Diff(want, got, cmpOpts, cmpopts.IgnoreFields(lifecycle.Customer{}, "Version")); diff != "" {
			t.Errorf("(-memory +sql):\n%.4000s", diff)
		}
	})
}
