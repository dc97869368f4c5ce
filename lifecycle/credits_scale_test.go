package lifecycle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// credit returns the credit for referred customer id at t.
func creditOf(id string, t time.Time) *lifecycle.Event {
	return &lifecycle.Event{ID: lifecycle.ReferralEventID(id), CustomerID: "r", Type: lifecycle.ReferralConverted, Time: t,
		Attrs: map[string]string{lifecycle.ReferredIDAttr: id}}
}

// The referral_converted tally, kept up to date credit by credit, is the
// one Referrals gives after every credit: new ones, repeats at later
// times, times lowered (also the latest's), in random order; and facts a
// caller built with a tally that does not match are put right.
func TestReferralTallyFollowsReferrals(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		var f lifecycle.Facts
		if round%10 == 0 { // a tally that does not match
			f.Tallies = []lifecycle.Tally{{Type: lifecycle.ReferralConverted, Count: 5, First: t0.Add(time.Hour), Last: t0.Add(time.Hour)}}
		}
		for range 1 + r.IntN(60) {
			f.Add(creditOf(fmt.Sprint("k", r.IntN(12)), t0.Add(time.Duration(r.IntN(50))*time.Hour)))
			want := lifecycle.Tally{Type: lifecycle.ReferralConverted, Count: int64(len(f.Referrals))}
			for i, rf := range f.Referrals {
				if i == 0 || rf.At.Before(want.First) {
					want.First = rf.At
				}
				if i == 0 || rf.At.After(want.Last) {
					want.Last = rf.At
				}
			}
			if got, ok := f.Tally(lifecycle.ReferralConverted); !ok || got != want {
				t.Fatalf("round %d: tally %+v, want %+v from %v", round, got, want, f.Referrals)
			}
		}
	}
}

// One RecordBatch of n first orders that all name one referrer: the
// referrer's n credits are folded in one write.
func BenchmarkCreditsOneReferrer(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprint("credits=", n), func(b *testing.B) {
			now := time.Now().Add(-time.Hour)
			evs := make([]lifecycle.Event, n)
			for i := range evs {
				evs[i] = lifecycle.Event{ID: "o", CustomerID: fmt.Sprintf("kid%x", rand.Uint64()), Type: lifecycle.OrderCompleted, Time: now, ReferrerID: "affiliate"}
			}
			for b.Loop() {
				tr := lifecycle.NewTracker(model.FiveStage(), store.NewMemory())
				if _, err := tr.RecordBatch(context.Background(), evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
