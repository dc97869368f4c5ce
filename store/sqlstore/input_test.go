package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestBadInput checks that values the database cannot hold faithfully are
// refused with a ValueError naming the field, and that nothing is written.
func TestBadInput(t *testing.T) {
	good := func() *lifecycle.Customer {
		return &lifecycle.Customer{
			ID: "good", Stage: "reach", Version: 1,
			Facts:   lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: lifecycle.SiteVisited, Count: 1}}, Sums: []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: 5}}},
			History: []lifecycle.Transition{{To: "reach", Cause: "e1"}},
			Seen:    seenOf("e1", "e2"),
		}
	}
	tests := []struct {
		name  string
		edit  func(c *lifecycle.Customer)
		field string
	}{
		{"ID longer than the column", func(c *lifecycle.Customer) { c.ID = strings.Repeat("x", sqlstore.MaxIDLen+1) }, "id"},
		{"ID of invalid UTF-8", func(c *lifecycle.Customer) { c.ID = "bad\xff\xfe" }, "id"},
		{"ID with a NUL byte", func(c *lifecycle.Customer) { c.ID = "a\x00b" }, "id"},
		{"stage of invalid UTF-8", func(c *lifecycle.Customer) { c.Stage = "re\xc3ach" }, "stage"},
		{"stage too long", func(c *lifecycle.Customer) { c.Stage = lifecycleID(strings.Repeat("s", sqlstore.MaxStageLen+1)) }, "stage"},
		{"tally type with NUL", func(c *lifecycle.Customer) { c.Facts.Tallies[0].Type = "site\x00visited" }, "facts.tallies[0].type"},
		{"currency of invalid UTF-8", func(c *lifecycle.Customer) { c.Facts.Sums[0].Currency = "\xffUR" }, "facts.sums[0].currency"},
		{"referrer with NUL", func(c *lifecycle.Customer) { c.Facts.ReferredBy = "\x00" }, "facts.referred_by"},
		{"history cause with NUL", func(c *lifecycle.Customer) { c.History[0].Cause = "e\x001" }, "history[0].cause"},
		{"sum type with NUL", func(c *lifecycle.Customer) { c.Facts.Sums[0].Type = "order\x00completed" }, "facts.sums[0].type"},
		{"tally type of invalid UTF-8", func(c *lifecycle.Customer) { c.Facts.Tallies[0].Type = "site\xffvisited" }, "facts.tallies[0].type"},
		{"referral customer with NUL", func(c *lifecycle.Customer) {
			c.Facts.Referrals = []lifecycle.Referral{{Customer: "r\x00", At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
		}, "facts.referrals[0].customer"},
		{"referral customer of invalid UTF-8", func(c *lifecycle.Customer) {
			c.Facts.Referrals = []lifecycle.Referral{{Customer: "r\xfe", At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
		}, "facts.referrals[0].customer"},
		{"history from with NUL", func(c *lifecycle.Customer) { c.History[0].From = "a\x00" }, "history[0].from"},
		{"history to of invalid UTF-8", func(c *lifecycle.Customer) { c.History[0].To = "re\xc3" }, "history[0].to"},
		{"history cause of invalid UTF-8", func(c *lifecycle.Customer) { c.History[0].Cause = "e\xff" }, "history[0].cause"},
		{"referrer of invalid UTF-8", func(c *lifecycle.Customer) { c.Facts.ReferredBy = "\xff" }, "facts.referred_by"},
		{"history cause longer than lifecycle.MaxCauseLen", func(c *lifecycle.Customer) {
			c.History[0].Cause = strings.Repeat("c", lifecycle.MaxCauseLen+1)
		}, "history[0].cause"},
		{"version beyond int64", func(c *lifecycle.Customer) { c.Version = 1 << 63 }, "version"},
		// encoding/json writes offsets to the minute: 1900 in Amsterdam
		// (+00:19:32) would come back 32 seconds off.
		{"time whose offset has seconds", func(c *lifecycle.Customer) { c.Since = lmt }, "since"},
		{"referral time whose offset has seconds", func(c *lifecycle.Customer) {
			c.Facts.Referrals = []lifecycle.Referral{{Customer: "r", At: lmt}}
		}, "facts.referrals[0].at"},
		{"time after year 9999", func(c *lifecycle.Customer) { c.Facts.Tallies[0].Last = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "facts.tallies[0].last"},
		{"time before year 0", func(c *lifecycle.Customer) { c.History[0].At = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }, "history[0].at"},
		{"time a nanosecond before year 0", func(c *lifecycle.Customer) { c.AsOf = time.Date(0, 1, 1, 0, 0, 0, -1, time.UTC) }, "as_of"},
		{"time in year 10000 in its zone", func(c *lifecycle.Customer) {
			c.Facts.First = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC).In(time.FixedZone("X", 2*3600))
		}, "facts.first"},
		{"time with an offset of 24 hours", func(c *lifecycle.Customer) {
			c.Facts.ScoreAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 24*3600))
		}, "facts.score_at"},
	}
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := good()
				tc.edit(c)
				prev := c.Version - 1
				err := s.Put(ctx, c, prev)
				if !errors.Is(err, lifecycle.ErrInvalidCustomer) {
					t.Fatalf("Put = %v; want an error wrapping ErrInvalidCustomer", err)
				}
				var ve *sqlstore.ValueError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.field, ve.Field, "error %q names the wrong field", err)
				require.Contains(t, err.Error(), tc.field)
				require.LessOrEqual(t, len(ve.Value), 64+len("…"), "the error's value is truncated")
				if _, err := s.Get(ctx, c.ID); !errors.Is(err, lifecycle.ErrNotFound) {
					t.Errorf("Get(%q) after the refused Put = %v; want ErrNotFound", c.ID, err)
				}
				require.Zero(t, rowCount(t, s, "customers"), "a refused Put wrote a customer row")
				require.Zero(t, rowCount(t, s, "events"), "a refused Put wrote event rows")

				// Apply refuses the same customer made by its fn.
				err = applyOne(ctx, s, c.ID, []string{"e9"}, func(w *lifecycle.Customer, _ []bool) (bool, error) {
					c.CopyTo(w)
					return true, nil
				})
				require.ErrorIs(t, err, lifecycle.ErrInvalidCustomer, "Apply")
				if tc.field != "version" { // a version other than prev+1 is refused before the values are looked at
					require.ErrorAs(t, err, &ve, "Apply")
					require.Equal(t, tc.field, ve.Field, "Apply's error %q names the wrong field", err)
				}
				require.Zero(t, rowCount(t, s, "customers"), "a refused Apply wrote a customer row")
				require.Zero(t, rowCount(t, s, "events"), "a refused Apply wrote event rows")
			})
		}
		t.Run("the good customer is stored", func(t *testing.T) {
			require.NoError(t, s.Put(ctx, good(), 0))
		})
		t.Run("a bad update leaves the stored customer alone", func(t *testing.T) {
			c := good()
			c.Version, c.Stage, c.Seen = 2, "conv\x00ersion", seenOf("e1", "e2", "e3")
			require.ErrorIs(t, s.Put(ctx, c, 1), lifecycle.ErrInvalidCustomer)
			got, err := s.Get(ctx, "good")
			require.NoError(t, err)
			require.Equal(t, uint64(1), got.Version)
			requireSeen(t, seenOf("e1", "e2"), got.Seen)
			require.Equal(t, 2, rowCount(t, s, "events"))

			err = applyOne(ctx, s, "good", []string{"e3"}, func(c *lifecycle.Customer, _ []bool) (bool, error) {
				c.Version, c.Stage = 2, "conv\x00ersion"
				return true, nil
			})
			var ve *sqlstore.ValueError
			require.ErrorAs(t, err, &ve, "Apply")
			require.Equal(t, "stage", ve.Field)
			got, err = s.Get(ctx, "good")
			require.NoError(t, err)
			require.Equal(t, uint64(1), got.Version)
			requireSeen(t, seenOf("e1", "e2"), got.Seen)
			require.Equal(t, 2, rowCount(t, s, "events"))
		})
		t.Run("IDs that cannot exist are not found", func(t *testing.T) {
			for _, id := range []string{"", strings.Repeat("x", 300), "a\x00b", "\xff"} {
				if _, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
					t.Errorf("Get(%q) = %v; want ErrNotFound", id, err)
				}
				require.NoError(t, s.Delete(ctx, id))
			}
		})
	})
}

func lifecycleID(s string) stage.ID { return stage.ID(s) }

// lmt is a time whose UTC offset has seconds, as local mean time has.
var lmt = time.Date(1900, 1, 1, 12, 0, 0, 5, time.FixedZone("LMT", 19*60+32))

// TestBadTimeNamesValue checks that a refused time is shown in the error
// with its full offset, and that times at whole-minute offsets (and the
// zero time) are stored exactly.
func TestBadTimeNamesValue(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newEnv(t, d).open(t)
		ctx := context.Background()
		err := s.Put(ctx, &lifecycle.Customer{ID: "c", Stage: "reach", Version: 1, AsOf: lmt}, 0)
		var ve *sqlstore.ValueError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "as_of", ve.Field)
		require.Equal(t, "1900-01-01T12:00:00.000000005+00:19:32", ve.Value)
		require.Contains(t, err.Error(), ve.Value)
		ok := &lifecycle.Customer{ID: "ok", Stage: "reach", Version: 1,
			AsOf:  time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), // also a column of its own
			Since: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -(23*3600+59*60)))}
		require.NoError(t, s.Put(ctx, ok, 0))
		got, err := s.Get(ctx, "ok")
		require.NoError(t, err)
		require.Equal(t, ok.Since.Format(time.RFC3339Nano), got.Since.Format(time.RFC3339Nano))
		require.Equal(t, ok.AsOf.Format(time.RFC3339Nano), got.AsOf.Format(time.RFC3339Nano))
	})
}
