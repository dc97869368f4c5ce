package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

func zzBase(id string) *lifecycle.Customer {
	c := &lifecycle.Customer{
		ID: id, Stage: "reach", Since: zzT0, AsOf: zzT0, Due: lifecycle.Never, Version: 1,
		History: []lifecycle.Transition{{From: "", To: "reach", At: zzT0, Cause: "e1"}},
	}
	c.Facts.First, c.Facts.Last = zzT0, zzT0
	c.Facts.Tallies = []lifecycle.Tally{{Type: "site_visited", Count: 1, First: zzT0, Last: zzT0}}
	c.Facts.Sums = []lifecycle.Sum{{Type: "order_completed", Currency: "EUR", Amount: 5}}
	c.Facts.Referrals = []lifecycle.Referral{{Customer: "r1", At: zzT0}}
	c.Seen.Add(lifecycle.KeyOf("e1"))
	return c
}

type zzBad struct {
	name  string
	field string // expected ValueError.Field (exact)
	mut   func(c *lifecycle.Customer)
}

func zzBadCases() []zzBad {
	long := zzRepeat("a", 257)
	year10000 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	yearNeg := time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC)
	lmt := time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 19*60+32))
	off24 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 24*3600))
	return []zzBad{
		{"stage long", "stage", func(c *lifecycle.Customer) { c.Stage = stage.ID(long) }},
		{"stage NUL", "stage", func(c *lifecycle.Customer) { c.Stage = "re\x00ach" }},
		{"stage invalid UTF-8", "stage", func(c *lifecycle.Customer) { c.Stage = "re\xffach" }},
		{"cause 270 bytes", "history[0].cause", func(c *lifecycle.Customer) { c.History[0].Cause = zzRepeat("c", lifecycle.MaxCauseLen+1) }},
		{"cause NUL", "history[0].cause", func(c *lifecycle.Customer) { c.History[0].Cause = "e\x001" }},
		{"history to invalid", "history[0].to", func(c *lifecycle.Customer) { c.History[0].To = "\xc3" }},
		{"history at year 10000", "history[0].at", func(c *lifecycle.Customer) { c.History[0].At = year10000 }},
		{"tally type invalid", "facts.tallies[0].type", func(c *lifecycle.Customer) { c.Facts.Tallies[0].Type = "acme.\xfe" }},
		{"tally type long", "facts.tallies[0].type", func(c *lifecycle.Customer) { c.Facts.Tallies[0].Type = lifecycle.EventType(long) }},
		{"tally first LMT", "facts.tallies[0].first", func(c *lifecycle.Customer) { c.Facts.Tallies[0].First = lmt }},
		{"sum currency NUL", "facts.sums[0].currency", func(c *lifecycle.Customer) { c.Facts.Sums[0].Currency = "EU\x00" }},
		{"sum currency long", "facts.sums[0].currency", func(c *lifecycle.Customer) { c.Facts.Sums[0].Currency = long }},
		{"sum type invalid", "facts.sums[0].type", func(c *lifecycle.Customer) { c.Facts.Sums[0].Type = "\xff" }},
		{"referred_by long", "facts.referred_by", func(c *lifecycle.Customer) { c.Facts.ReferredBy = long }},
		{"referred_by NUL", "facts.referred_by", func(c *lifecycle.Customer) { c.Facts.ReferredBy = "x\x00" }},
		{"referral customer NUL", "facts.referrals[0].customer", func(c *lifecycle.Customer) { c.Facts.Referrals[0].Customer = "r\x00" }},
		{"referral customer long", "facts.referrals[0].customer", func(c *lifecycle.Customer) { c.Facts.Referrals[0].Customer = long }},
		{"referral at year 10000", "facts.referrals[0].at", func(c *lifecycle.Customer) { c.Facts.Referrals[0].At = year10000 }},
		{"since year -1", "since", func(c *lifecycle.Customer) { c.Since = yearNeg }},
		{"as_of year 10000", "as_of", func(c *lifecycle.Customer) { c.AsOf = year10000 }},
		{"due LMT", "due", func(c *lifecycle.Customer) { c.Due = lmt }},
		{"due offset 24h", "due", func(c *lifecycle.Customer) { c.Due = off24 }},
		{"first offset 24h", "facts.first", func(c *lifecycle.Customer) { c.Facts.First = off24 }},
		{"score_at LMT", "facts.score_at", func(c *lifecycle.Customer) { c.Facts.ScoreAt = lmt }},
		{"referred_at year 10000", "facts.referred_at", func(c *lifecycle.Customer) { c.Facts.ReferredAt = year10000 }},
	}
}

// TestContractPutRefusesHostileValues: docs/storage.md, "Bad values refused,
// not mangled": each bad value is refused before anything is written with a
// *sqlstore.ValueError{ID, Field, Value, Reason} wrapping
// lifecycle.ErrInvalidCustomer.
func TestContractPutRefusesHostileValues(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		// A stored customer, to check that a refused update leaves it as it was.
		old := zzBase("old")
		require.NoError(t, s.Put(ctx, old, 0))
		for _, bc := range zzBadCases() {
			t.Run(bc.name, func(t *testing.T) {
				c := zzBase("new")
				bc.mut(c)
				err := s.Put(ctx, c, 0)
				var ve *sqlstore.ValueError
				if assert.True(t, errors.As(err, &ve), "want *ValueError, got %T %v", err, err) {
					assert.Equal(t, bc.field, ve.Field, "Field")
					assert.Equal(t, "new", ve.ID)
					assert.NotEmpty(t, ve.Reason)
					assert.Contains(t, ve.Error(), bc.field)
				}
				assert.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
				_, gerr := s.Get(ctx, "new")
				assert.ErrorIs(t, gerr, lifecycle.ErrNotFound)

				u := zzBase("old")
				u.Version = 2
				u.Seen.Add(lifecycle.KeyOf("e2"))
				u.History = append(u.History, lifecycle.Transition{From: "reach", To: "acquisition", At: zzT0, Cause: "e2"})
				bc.mut(u)
				err = s.Put(ctx, u, 1)
				assert.True(t, errors.As(err, &ve), "update: want *ValueError, got %v", err)
				got, gerr := s.Get(ctx, "old")
				require.NoError(t, gerr)
				assert.Empty(t, cmp.Diff(old, got, zzExact), "refused update changed the customer")
			})
		}
		assert.Equal(t, 1, zzCount(t, s, "customers"))
		assert.Equal(t, 1, zzCount(t, s, "events"))
		assert.Equal(t, 1, zzCount(t, s, "changes"))
	})
}

// TestContractPutRefusesBadIDs: IDs longer than MaxIDLen, invalid UTF-8 and
// NUL bytes are refused with a *ValueError whose Field is "id" (sqlstore doc:
// Field e.g. "id"); the empty ID wraps ErrInvalidCustomer (Put doc).
func TestContractPutRefusesBadIDs(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		for _, id := range []string{zzRepeat("a", 257), zzRepeat("é", 128) + "a", "a\xffb", "a\x00b", "\xc3"} {
			c := zzBase(id)
			err := s.Put(ctx, c, 0)
			var ve *sqlstore.ValueError
			if assert.True(t, errors.As(err, &ve), "id %q: %v", id, err) {
				assert.Equal(t, "id", ve.Field)
				assert.NotEmpty(t, ve.Value)
			}
			assert.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
			_, err = s.Get(ctx, id)
			assert.ErrorIs(t, err, lifecycle.ErrNotFound, "Get(%q)", id)
			var dst lifecycle.Customer
			assert.ErrorIs(t, s.Load(ctx, id, &dst), lifecycle.ErrNotFound)
			assert.NoError(t, s.Delete(ctx, id), "Delete of an ID no customer has is deleting a missing customer")
		}
		err := s.Put(ctx, zzBase(""), 0)
		assert.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		_, err = s.Get(ctx, "")
		assert.ErrorIs(t, err, lifecycle.ErrNotFound)
		// version above 2^63-1
		c := zzBase("v")
		c.Version = 1 << 63
		err = s.Put(ctx, c, 1<<63-1)
		var ve *sqlstore.ValueError
		assert.True(t, errors.As(err, &ve), "version 2^63: %v", err)
		assert.ErrorIs(t, err, lifecycle.ErrInvalidCustomer)
		// wrong version
		c = zzBase("w")
		c.Version = 3
		assert.ErrorIs(t, s.Put(ctx, c, 0), lifecycle.ErrInvalidCustomer)
		assert.Equal(t, 0, zzCount(t, s, "customers"))
		assert.Equal(t, 0, zzCount(t, s, "events"))
		assert.Equal(t, 0, zzCount(t, s, "changes"))
	})
}

// TestContractValueErrorText: "Error names the customer, the field, the value
// and the reason"; ID and Value are "truncated when long".
func TestContractValueErrorText(t *testing.T) {
	s := zzNew(t, sqlstore.SQLite).open(t)
	c := zzBase(zzRepeat("x", 300))
	err := s.Put(context.Background(), c, 0)
	var ve *sqlstore.ValueError
	require.True(t, errors.As(err, &ve))
	assert.Less(t, len(ve.ID), 300, "ID truncated")
	assert.Less(t, len(ve.Value), 300, "Value truncated")
	msg := ve.Error()
	assert.Contains(t, msg, "id")
	assert.Contains(t, msg, ve.Reason)
	assert.Contains(t, msg, "xxxx")

	c = zzBase("cust-1")
	c.Stage = "bad\x00stage"
	err = s.Put(context.Background(), c, 0)
	require.True(t, errors.As(err, &ve))
	msg = ve.Error()
	assert.Contains(t, msg, "cust-1")
	assert.Contains(t, msg, "stage")
	assert.Contains(t, msg, ve.Reason)
	assert.Equal(t, lifecycle.ErrInvalidCustomer, ve.Unwrap())
}

// TestContractAcceptedValuesRoundTrip: what the store accepts comes back
// exactly (storage.md: "Every field of Customer comes back as it was put —
// times to the nanosecond with their offset"), and both dialects agree.
func TestContractAcceptedValuesRoundTrip(t *testing.T) {
	east := time.FixedZone("E", 23*3600+59*60)
	west := time.FixedZone("W", -(23*3600 + 59*60))
	mk := func() *lifecycle.Customer {
		id := zzRepeat("é", 128) // 256 bytes
		c := &lifecycle.Customer{
			ID:      id,
			Stage:   stage.ID(zzRepeat("\x01", 256)),
			Since:   time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
			AsOf:    time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			Due:     time.Date(9999, 12, 31, 23, 59, 59, 999999999, east),
			Version: 1,
		}
		c.Facts.First = time.Date(0, 1, 1, 0, 0, 0, 1, west)
		c.Facts.Last = time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("M", 20*60))
		c.Facts.ReferredBy = zzRepeat("\t\n\x1b\u200b", 256/6)
		c.Facts.ReferredAt = time.Date(1, 2, 3, 4, 5, 6, 7, east)
		c.Facts.Score = 10
		c.Facts.ScoreAt = time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC)
		for i := range 2000 {
			ty := lifecycle.EventType(fmt.Sprintf("acme.%04d\u2028", i))
			c.Facts.Tallies = append(c.Facts.Tallies, lifecycle.Tally{Type: ty, Count: math.MaxInt64, First: c.Since, Last: c.AsOf})
			c.Facts.Sums = append(c.Facts.Sums, lifecycle.Sum{Type: ty, Currency: zzRepeat("Z", 256), Amount: math.MaxInt64})
		}
		c.Facts.Referrals = []lifecycle.Referral{{Customer: zzRepeat("r", 256), At: c.AsOf}}
		c.History = []lifecycle.Transition{
			{From: "", To: c.Stage, At: c.Since, Cause: zzRepeat("ü", lifecycle.MaxCauseLen/2) + "x"}, // 269 bytes
			{From: c.Stage, To: "\x7f", At: c.AsOf, Cause: ""},
			{From: "\x7f", To: c.Stage, At: c.Due, Cause: "\r\n"},
		}
		for i := range 500 {
			c.Seen.Add(lifecycle.KeyOf(fmt.Sprint("ev", i)))
		}
		return c
	}
	got := map[sqlstore.Dialect]*lifecycle.Customer{}
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		c := mk()
		require.NoError(t, s.Put(ctx, c, 0))
		g, err := s.Get(ctx, c.ID)
		require.NoError(t, err)
		assert.Empty(t, cmp.Diff(mk(), g, zzExact))
		n := 0
		for sc, err := range s.Scan(ctx) {
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(mk(), sc, zzExact))
			n++
		}
		assert.Equal(t, 1, n)
		assert.Equal(t, 500, zzCount(t, s, "events"))
		got[d] = g
	})
	if len(got) == 2 {
		assert.Empty(t, cmp.Diff(got[sqlstore.SQLite], got[sqlstore.Postgres], zzExact), "dialects disagree")
	}
}

// TestContractPutDoesNotKeepArgument / Get copy: lifecycle.Store rules.
func TestContractGetCopyPutNoKeep(t *testing.T) {
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		ctx := context.Background()
		c := zzBase("k")
		require.NoError(t, s.Put(ctx, c, 0))
		c.Stage = "changed"
		c.History[0].Cause = "changed"
		g, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, stage.ID("reach"), g.Stage)
		g.Facts.Tallies[0].Count = 99
		g2, _ := s.Get(ctx, "k")
		assert.Equal(t, int64(1), g2.Facts.Tallies[0].Count)
		// conflict
		c2 := zzBase("k")
		err = s.Put(ctx, c2, 0)
		var ce *store.ConflictError
		assert.True(t, errors.As(err, &ce), "got %v", err)
		assert.ErrorIs(t, err, lifecycle.ErrConflict)
		// events table exactly c.Seen after Put
		c3 := zzBase("k")
		c3.Version = 2
		c3.Seen = lifecycle.EventSet{}
		c3.Seen.Add(lifecycle.KeyOf("x1"))
		c3.Seen.Add(lifecycle.KeyOf("x2"))
		require.NoError(t, s.Put(ctx, c3, 1))
		assert.Equal(t, 2, zzCount(t, s, "events"))
		g3, _ := s.Get(ctx, "k")
		assert.Equal(t, zzKeys(c3.Seen), zzKeys(g3.Seen))
	})
}

// TestContractRecordHostileEvents: events the Tracker refuses leave nothing
// in the SQL store; the longest accepted values are stored the same on both
// dialects and in store.Memory (RELIABILITY.md: "no valid event is accepted
// by one store and refused by another").
func TestContractRecordHostileEvents(t *testing.T) {
	long := zzRepeat("é", 128)
	bad := []lifecycle.Event{
		{ID: zzRepeat("a", 257), CustomerID: "c", Type: "site_visited", Time: zzT0},
		{ID: "e", CustomerID: zzRepeat("a", 257), Type: "site_visited", Time: zzT0},
		{ID: "e", CustomerID: "c\x00", Type: "site_visited", Time: zzT0},
		{ID: "e", CustomerID: "c\xff", Type: "site_visited", Time: zzT0},
		{ID: "e\x01", CustomerID: "c", Type: "site_visited", Time: zzT0},
		{ID: "e", CustomerID: "c\u200b", Type: "site_visited", Time: zzT0},
		{ID: "e", CustomerID: "c ", Type: "site_visited", Time: zzT0},
		{ID: "e", CustomerID: "c", Type: "site_visited", Time: time.Date(1899, 12, 31, 23, 59, 59, 0, time.UTC)},
		{ID: "e", CustomerID: "c", Type: "order_completed", Time: zzT0, Amount: -1, Currency: "EUR"},
		{ID: "e", CustomerID: "c", Type: "site_visited", Time: zzT0, ReferrerID: zzRepeat("r", 257)},
		{ID: "e", CustomerID: "c", Type: "referral_converted", Time: zzT0},
	}
	good := func() []lifecycle.Event {
		var evs []lifecycle.Event
		ref := "R" + long[:254] + "x" // 256 bytes
		// the referrer: two orders (a repeat buyer), so a credit makes them an advocate in five-stage
		evs = append(evs,
			lifecycle.Event{ID: zzRepeat("i", 256), CustomerID: ref, Type: "order_completed", Time: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), Amount: math.MaxInt64, Currency: "EUR"},
			lifecycle.Event{ID: "o2", CustomerID: ref, Type: "order_completed", Time: zzT0, Amount: math.MaxInt64, Currency: "EUR"},
			lifecycle.Event{ID: "o3", CustomerID: long, Type: "order_completed", Time: zzT0.Add(time.Hour), Amount: 1, Currency: "JPY", ReferrerID: ref},
			lifecycle.Event{ID: "late", CustomerID: long, Type: "site_visited", Time: lifecycle.Never},
		)
		for i := range 80 {
			evs = append(evs, lifecycle.Event{ID: fmt.Sprint("t", i), CustomerID: ref, Type: lifecycle.EventType(fmt.Sprintf("acme.t%03d", i)), Time: zzT0.Add(time.Duration(i) * time.Minute)})
		}
		// a pending referrer with the longest ID
		evs = append(evs, lifecycle.Event{ID: "p1", CustomerID: "buyer2", Type: "order_completed", Time: zzT0, ReferrerID: zzRepeat("ß", 128), Amount: 100, Currency: "EUR"})
		return evs
	}
	mem := store.NewMemory()
	mt := lifecycle.NewTracker(model.FiveStage(), mem, zzClock())
	for _, e := range good() {
		_, err := mt.Record(context.Background(), e)
		require.NoError(t, err)
	}
	want := zzAll(t, mem)
	zzEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := zzNew(t, d).open(t)
		tr := lifecycle.NewTracker(model.FiveStage(), s, zzClock())
		ctx := context.Background()
		for i, e := range bad {
			_, err := tr.Record(ctx, e)
			var ve *lifecycle.ValidationError
			assert.True(t, errors.As(err, &ve), "bad[%d]: %v", i, err)
			assert.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
		}
		n, err := s.Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Zero(t, zzCount(t, s, "events"))
		for _, e := range good() {
			_, err := tr.Record(ctx, e)
			require.NoError(t, err, "event %s", e.ID)
		}
		got := zzAll(t, s)
		assert.Empty(t, cmp.Diff(want, got, zzExact))
		// the referral credit's cause is 269 bytes long
		ref := "R" + long[:254] + "x"
		found := false
		for _, h := range got[ref].History {
			if h.Cause == lifecycle.ReferralEventID(long) {
				found = true
			}
		}
		assert.True(t, found, "history of the referrer has the credit's cause: %+v", got[ref].History)
		assert.Equal(t, int64(math.MaxInt64), got[ref].Facts.Revenue("EUR"))
		// retrying every event is a duplicate
		for _, e := range good() {
			r, err := tr.Record(ctx, e)
			require.NoError(t, err)
			assert.True(t, r.Duplicate, e.ID)
		}
		assert.Empty(t, cmp.Diff(want, zzAll(t, s), zzExact))
		_ = strings.ToLower
	})
}
