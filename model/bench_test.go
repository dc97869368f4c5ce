package model_test

import (
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
)

// benchFacts is the realistic customer BenchmarkClassify classifies, as
// docs/models.md describes it: 13 event types seen, five orders, a refund,
// a resolved ticket, a survey, a referral, a renewal.
func benchFacts() *lifecycle.Facts {
	return facts(cat(
		[]ev{e(lifecycle.AdImpression, 0), e(V, 0), e(V, 1), e(lifecycle.SignedUp, 1), e(lifecycle.ProductViewed, 1), e(lifecycle.CartAdded, 2)},
		orders(5, 2, 20),
		[]ev{e(R, 30), e(TO, 40), e(TR, 41), survey(50, 9), e(RC, 60), e(SR, 90), e(lifecycle.NewsletterSubscribed, 95)},
	)...)
}

// TestBenchFacts checks that the benchmarked customer is the one
// docs/models.md describes.
func TestBenchFacts(t *testing.T) {
	f := benchFacts()
	if n := len(f.Tallies); n != 13 {
		t.Errorf("%d event types, docs/models.md says 13", n)
	}
	for typ, want := range map[lifecycle.EventType]int64{O: 5, R: 1, TO: 1, TR: 1, lifecycle.SurveyAnswered: 1, RC: 1, SR: 1} {
		if got := f.Count(typ); got != want {
			t.Errorf("%d %s, want %d", got, typ, want)
		}
	}
}

// BenchmarkClassify classifies one realistic customer (benchFacts: 13
// event types, a refund, a ticket, a survey, a renewal) with each
// built-in.
func BenchmarkClassify(b *testing.B) {
	f := benchFacts()
	now := day(100)
	custom, err := model.NewBuilder("custom").
		Start(st("new")).
		Stage(st("buyer"), model.Orders(1)).
		Stage(st("fan"), model.All(model.Orders(2), model.Any(model.Score(9), model.Referrals(1)))).
		Stage(st("big"), model.All(model.Spent("EUR", 100000), model.Within(90*24*60*60*1e9, O))).
		Build()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(), custom} {
		b.Run(m.Name(), func(b *testing.B) {
			b.ReportAllocs()
			var sink string
			for b.Loop() {
				sink = string(m.Stage(f, now))
			}
			_ = sink
		})
	}
}
