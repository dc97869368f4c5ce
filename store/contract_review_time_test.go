package store_test

// Review tests (time): Memory.ListDue held to its doc ("yields the IDs of
// the customers whose Due is zero or at or before now, and no others ...
// leaving out those whose Due is lifecycle.Never") and to DueLister's, for
// due times in other zones, across DST, past 2262, before 1678, at Never,
// and for extreme now values; and Put/Get keeping Due exactly.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

func TestContractReviewListDueExact(t *testing.T) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	ber, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	maxNs := time.Unix(0, math.MaxInt64).UTC()
	minNs := time.Unix(0, math.MinInt64).UTC()
	dues := map[string]time.Time{
		"zero":            {},
		"zero in NY":      time.Time{}.In(ny),
		"never":           lifecycle.Never,
		"never in Berlin": lifecycle.Never.In(ber),
		"never-1ns":       lifecycle.Never.Add(-1),
		"year 3000":       time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
		"year 1600":       time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
		"max ns":          maxNs,
		"max ns+1":        maxNs.Add(1),
		"min ns":          minNs,
		"min ns-1":        minNs.Add(-1),
		"NY fall-back":    time.Date(2024, 11, 3, 1, 30, 0, 0, ny).Add(time.Hour),
		"Berlin gap":      time.Date(2024, 3, 31, 2, 30, 0, 0, ber),
		"leap 1ns":        time.Date(2024, 2, 29, 0, 0, 0, 1, time.UTC),
		"1900":            time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		"fixed +05:30":    time.Date(2030, 6, 30, 23, 59, 59, 999999999, time.FixedZone("", 5*3600+1800)),
		"far future":      time.Unix(1<<40, 0),
		"far past":        time.Unix(-1<<40, 0),
	}
	m := store.NewMemory()
	for id, d := range dues {
		c := &lifecycle.Customer{ID: id, Stage: "s", Version: 1, Due: d, AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		if err := m.Put(ctx, c, 0); err != nil {
			t.Fatalf("Put %s: %v", id, err)
		}
		got, err := m.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Due.Equal(d) || got.Due.Location().String() != d.Location().String() && !(d.Location() == time.UTC) {
			t.Errorf("%s: Due put %s, got back %s", id, d, got.Due)
		}
	}
	var nows []time.Time
	for _, d := range dues {
		nows = append(nows, d, d.Add(-1), d.Add(1))
	}
	nows = append(nows, time.Unix(math.MaxInt64/2, 0), time.Unix(math.MinInt64/2, 0))
	for _, now := range nows {
		var want []string
		for id, d := range dues {
			if d.IsZero() || (!d.After(now) && !d.Equal(lifecycle.Never)) {
				want = append(want, id)
			}
		}
		var got []string
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("ListDue(%s) panicked: %v", now, r)
				}
			}()
			for id, err := range m.ListDue(ctx, now) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
		}()
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ListDue(%s): got %v, want %v", now.Format(time.RFC3339Nano), got, want)
		}
	}
	_ = fmt.Sprint
}
