package model_test

import (
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
)

// BenchmarkClassify classifies one realistic customer (12 event types, a
// refund, a ticket, a survey, a renewal) with each built-in.
func BenchmarkClassify(b *testing.B) {
	f := facts(cat(
		[]ev{e(lifecycle.AdImpression, 0), e(V, 0), e(V, 1), e(lifecycle.SignedUp, 1), e(lifecycle.ProductViewed, 1), e(lifecycle.CartAdded, 2)},
		orders(5, 2, 20),
		[]ev{e(R, 30), e(TO, 40), e(TR, 41), survey(50, 9), e(RC, 60), e(SR, 90), e(lifecycle.NewsletterSubscribed, 95)},
	)...)
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
