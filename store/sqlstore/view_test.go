package sqlstore_test

import (
	"context"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/sqlstore"
)

// TestViewSkipsKeys: Store is a lifecycle.Viewer whose View yields every
// customer as Scan does, in the same order, but with an empty Seen (it
// reads no event keys), so lifecycle.Browse does not read them.
func TestViewSkipsKeys(t *testing.T) {
	forEach(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newEnv(t, d).open(t)
		defer s.Close()
		for i := range 300 { // more than a page (256)
			c := &lifecycle.Customer{ID: fmt.Sprintf("c%04d", i), Stage: "reach", Version: 1,
				Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), AsOf: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
				History: []lifecycle.Transition{{To: "reach", At: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Cause: "e1"}},
				Seen:    seenOf("e1", "e2", fmt.Sprint("e", i))}
			require.NoError(t, s.Put(ctx, c, 0))
		}
		var v lifecycle.Viewer = s
		var scanned []*lifecycle.Customer
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			scanned = append(scanned, c)
		}
		i := 0
		for c, err := range v.View(ctx) {
			require.NoError(t, err)
			require.Less(t, i, len(scanned))
			want := scanned[i].Clone()
			require.Positive(t, want.Seen.Len(), "Scan's customer %q has its keys", want.ID)
			require.Zero(t, c.Seen.Len(), "View's customer %q has keys", c.ID)
			want.Seen = lifecycle.EventSet{}
			require.Equal(t, want, c)
			i++
		}
		require.Equal(t, len(scanned), i)
		n := 0
		for c, err := range lifecycle.Browse(ctx, s) {
			require.NoError(t, err)
			require.Zero(t, c.Seen.Len())
			n++
		}
		require.Equal(t, len(scanned), n)
	})
}

// BenchmarkBrowseManyKeys times one pass over 300 customers of 2,000
// events each, by Scan (every customer with its keys) and by View (the
// rows only, what lifecycle.Browse reads):
//
//	go test -run '^$' -bench BrowseManyKeys .
//
// (PostgreSQL with CLM_POSTGRES_DSN set.)
func BenchmarkBrowseManyKeys(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			ctx := context.Background()
			s := newEnv(b, d).open(b)
			defer s.Close()
			ids := make([]string, 2000)
			for i := range 300 {
				for j := range ids {
					ids[j] = fmt.Sprintf("c%04d-e%d", i, j)
				}
				c := &lifecycle.Customer{ID: fmt.Sprintf("c%04d", i), Stage: "reach", Version: 1, Seen: seenOf(ids...)}
				require.NoError(b, s.Put(ctx, c, 0))
			}
			for name, pass := range map[string]func(context.Context) iter.Seq2[*lifecycle.Customer, error]{"scan": s.Scan, "view": s.View} {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						n := 0
						for _, err := range pass(ctx) {
							require.NoError(b, err)
							n++
						}
						require.Equal(b, 300, n)
					}
				})
			}
		})
	}
}
