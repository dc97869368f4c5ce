package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// ValidationError.Value is the offending value, truncated when long, from
// every check of Event.Validate (not only the length checks), and a value
// that was valid UTF-8 stays valid UTF-8 once truncated.
func TestValidationErrorValueTruncated(t *testing.T) {
	long := strings.Repeat("x", 200)
	accents := "a" + strings.Repeat("é", 100) // a 64-byte cut would split an é
	tests := []struct {
		name, field string
		e           lifecycle.Event
	}{
		{"id with trailing space", "id", lifecycle.Event{ID: long + " ", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0}},
		{"long malformed currency", "currency", lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, Currency: long}},
		{"long self-referral", "referrer_id", lifecycle.Event{ID: "e", CustomerID: long, ReferrerID: long, Type: lifecycle.SiteVisited, Time: t0}},
		{"long survey score", "attrs.score", lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SurveyAnswered, Time: t0, Attrs: map[string]string{"score": long}}},
		{"long non-ASCII id", "id", lifecycle.Event{ID: accents + strings.Repeat("x", 200), CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0}},
		{"non-ASCII attr value", "attrs.k", lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, Attrs: map[string]string{"k": strings.Repeat(accents, 11)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			require.True(t, errors.Is(err, lifecycle.ErrInvalidEvent), "%v", err)
			var ve *lifecycle.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
			require.True(t, strings.HasSuffix(ve.Value, "…"), "Value %q not marked as truncated", ve.Value)
			require.LessOrEqual(t, len(strings.TrimSuffix(ve.Value, "…")), 64, "Value %q", ve.Value)
			require.GreaterOrEqual(t, len(strings.TrimSuffix(ve.Value, "…")), 61, "Value %q", ve.Value)
			require.True(t, utf8.ValidString(ve.Value), "Value %q is not valid UTF-8", ve.Value)
		})
	}
}

// Sums of huge amounts saturate instead of wrapping to a negative number,
// in any order, and Revenue does not overflow either.
func TestSumsSaturate(t *testing.T) {
	const max = math.MaxInt64
	money := func(id string, typ lifecycle.EventType, amt int64) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "c", Type: typ, Time: t0, Amount: amt, Currency: "EUR"}
	}
	events := []lifecycle.Event{
		money("o1", lifecycle.OrderCompleted, max-5),
		money("o2", lifecycle.OrderCompleted, 10),
		money("o3", lifecycle.OrderCompleted, max),
		money("s1", lifecycle.SubscriptionRenewed, max),
		money("r1", lifecycle.OrderRefunded, 7),
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {1, 3, 0, 4, 2}} {
		var f lifecycle.Facts
		for _, i := range order {
			f.Add(&events[i])
		}
		require.Equal(t, int64(max), f.Amount(lifecycle.OrderCompleted, "EUR"), "order %v", order)
		require.Equal(t, int64(max), f.Amount(lifecycle.SubscriptionRenewed, "EUR"))
		require.Equal(t, int64(max-7), f.Revenue("EUR"))
	}
}

// WithMaxSkew(0) and a negative skew refuse only times after the clock:
// a past event is never "in the future".
func TestMaxSkewZeroOrNegative(t *testing.T) {
	now := t0
	at := func(d time.Duration) *lifecycle.Event {
		return &lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited, Time: now.Add(d)}
	}
	for _, d := range []time.Duration{0, -time.Hour} {
		tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
			lifecycle.WithClock(func() time.Time { return now }), lifecycle.WithMaxSkew(d))
		require.NoError(t, tr.Validate(at(0)), "skew %v: an event at the clock's time", d)
		require.NoError(t, tr.Validate(at(-time.Minute)), "skew %v: a past event", d)
		checkField(t, tr.Validate(at(time.Nanosecond)), "time")
	}
}

// Clone and CopyTo: a deep copy, in which an empty slice comes back nil
// when the destination had none (as their doc says; store.Memory relies on
// it), and stays empty when the destination had one. Seen's layout is
// private, so only what it holds is checked: an empty set copies empty,
// and a copy into a destination that held keys holds exactly the source's.
func TestCloneEmptySlices(t *testing.T) {
	c := &lifecycle.Customer{ID: "c", History: []lifecycle.Transition{}, Facts: lifecycle.Facts{Tallies: []lifecycle.Tally{}}}
	d := c.Clone()
	require.Nil(t, d.History)
	require.Zero(t, d.Seen.Len())
	require.Nil(t, d.Facts.Tallies)
	dst := &lifecycle.Customer{History: make([]lifecycle.Transition, 0, 4)}
	for _, id := range []string{"x", "y", "z"} {
		dst.Seen.Add(lifecycle.KeyOf(id))
	}
	c.CopyTo(dst)
	require.NotNil(t, dst.History)
	require.Empty(t, dst.History)
	require.Zero(t, dst.Seen.Len(), "the destination's keys survived the copy")
	require.False(t, dst.HasSeen("x"))
	require.True(t, dst.Seen.Equal(&c.Seen))
	c.Seen.Add(lifecycle.KeyOf("a"))
	c.CopyTo(dst)
	require.Equal(t, 1, dst.Seen.Len())
	require.True(t, dst.HasSeen("a"))
	require.True(t, dst.Seen.Equal(&c.Seen))
	// The copy does not share the source's memory.
	dst.Seen.Add(lifecycle.KeyOf("b"))
	require.False(t, c.HasSeen("b"), "adding to the copy's Seen changed the source's")
	require.Equal(t, 1, c.Seen.Len())
}

// The year range of Validate is in UTC: a time written in a zone ahead of
// UTC is refused when its instant falls before 1900 (and one behind UTC
// when it falls in 10000).
func TestValidateYearsUTC(t *testing.T) {
	e := lifecycle.Event{ID: "e", CustomerID: "c", Type: lifecycle.SiteVisited}
	e.Time = time.Date(1900, 1, 1, 0, 30, 0, 0, time.FixedZone("+01", 3600))
	checkField(t, e.Validate(), "time")
	e.Time = time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("-01", -3600))
	checkField(t, e.Validate(), "time")
	e.Time = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	checkField(t, e.Validate(), "")
	e.Time = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	checkField(t, e.Validate(), "")
}

// ReferredBy ties in time go to the smaller referrer ID, whatever the
// event IDs and order; ReferredAt is that event's time.
func TestReferredByTies(t *testing.T) {
	a := lifecycle.Event{ID: "z", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, ReferrerID: "r1"}
	b := lifecycle.Event{ID: "a", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0, ReferrerID: "r2"}
	for _, order := range [][]*lifecycle.Event{{&a, &b}, {&b, &a}} {
		var f lifecycle.Facts
		for _, e := range order {
			f.Add(e)
		}
		require.Equal(t, "r1", f.ReferredBy)
		require.True(t, f.ReferredAt.Equal(t0))
	}
}

// A batch with an invalid event applies nothing: the invalid event's
// result has Err, the valid ones' only their IDs, as Result.Err says.
func TestRecordBatchInvalidResults(t *testing.T) {
	s := store.NewMemory()
	tr := newTrackerOn(s)
	bad := order("o2", "c", t0, 5)
	bad.Currency = "eur"
	results, err := tr.RecordBatch(context.Background(), []lifecycle.Event{order("o1", "c", t0, 5), bad})
	require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
	require.Equal(t, lifecycle.Result{EventID: "o1", CustomerID: "c"}, results[0])
	checkField(t, results[1].Err, "currency")
	results[1].Err = nil
	require.Equal(t, lifecycle.Result{EventID: "o2", CustomerID: "c"}, results[1])
	require.Equal(t, 0, s.Len())
}

// In a batch, a failed referral credit is reported in the returned error
// only: the referred customer's events were applied and their results are
// complete, with no Err.
func TestRecordBatchCreditFailureResults(t *testing.T) {
	ctx := context.Background()
	fs := &flakyStore{Memory: store.NewMemory(), id: "a"}
	tr := newTrackerOn(fs)
	signup := ev("s", "b", lifecycle.SignedUp, t0)
	signup.ReferrerID = "a"
	fs.failures.Store(1)
	results, err := tr.RecordBatch(ctx, []lifecycle.Event{signup, order("o1", "b", t0.Add(time.Hour), 1)})
	require.ErrorIs(t, err, errInjected)
	require.ErrorContains(t, err, "crediting referrer")
	for _, r := range results {
		require.NoError(t, r.Err)
		require.Equal(t, uint64(1), r.Version)
	}
	require.True(t, results[1].Moved)
	c, err := tr.Customer(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, int64(1), c.Facts.Count(lifecycle.OrderCompleted))
}

// WithLogger: each conflict retry is logged at Debug, giving up at Warn
// and a hook panic at Error, as its doc says.
func TestLoggerLevels(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &alwaysConflicts{plainStore: plainStore{store.NewMemory()}}
	tr := newTrackerOn(s, lifecycle.WithLogger(logger), lifecycle.WithMaxRetries(2))
	_, err := tr.Record(context.Background(), order("o1", "c", t0, 1))
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	require.Equal(t, 2, strings.Count(logs.String(), "level=DEBUG"), logs.String())
	require.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())

	logs.Reset()
	tr = newTrackerOn(store.NewMemory(), lifecycle.WithLogger(logger),
		lifecycle.WithHook(func(context.Context, lifecycle.Change) { panic("hook bug") }))
	res, err := tr.Record(context.Background(), order("o1", "c", t0, 1))
	require.NoError(t, err)
	require.True(t, res.Moved)
	require.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), logs.String())
	require.Contains(t, logs.String(), "hook bug")
}
