package model_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/internal/typecheck"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
)

// typeCheck type-checks a file of package p that imports model, and
// returns the type errors.
func typeCheck(t *testing.T, body string) []string {
	t.Helper()
	src := "package p\n\nimport (\n\t\"time\"\n\n\t\"github.com/clmkit/clm/model\"\n)\n\nvar _ = time.Hour\n\n" + body
	c, err := checker()
	if err != nil {
		t.Fatal(err)
	}
	errs, err := c.Errors(src)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// checker finds the export data the snippets need once.
var checker = sync.OnceValues(func() (*typecheck.Checker, error) {
	return typecheck.New("github.com/clmkit/clm/model", "time")
})

// An option a built-in does not read is a compile error, never ignored;
// an option several read works with each of them.
func TestOptionsThatDoNotApply(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list -export")
	}
	ok := `
var lapse = model.LapseAfter(90 * 24 * time.Hour)
var _ = model.SterneCutler(lapse, model.LoyalOrders(3), model.RepeatPurchases(3), nil)
var _ = model.SixStage(lapse, model.EngageVisits(2), model.BondPurchases(4))
var _ = model.FiveStage(lapse, model.RepeatPurchases(3), model.NurtureAfter(time.Hour), model.AdvocateReferrals(2), model.PromoterScore(10))
`
	if errs := typeCheck(t, ok); len(errs) > 0 {
		t.Fatalf("options that apply do not compile: %v", errs)
	}
	for _, bad := range []string{
		"var _ = model.SixStage(model.LoyalOrders(3))",
		"var _ = model.SixStage(model.RepeatPurchases(3))",
		"var _ = model.FiveStage(model.EngageVisits(3))",
		"var _ = model.SterneCutler(model.NurtureAfter(time.Hour))",
		"var _ = model.SterneCutler(model.PromoterScore(9))",
		"var _ = model.FiveStage(model.BondPurchases(3))",
	} {
		errs := typeCheck(t, bad)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "does not implement") {
			t.Errorf("%s compiles (errors: %v); want a compile error", bad, errs)
		}
	}
}

// The shared option changes every built-in; a nil option is skipped.
func TestSharedOption(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var f lifecycle.Facts
	f.Add(&lifecycle.Event{Type: lifecycle.OrderCompleted, Time: at, Amount: 100, Currency: "EUR"})
	lapse := model.LapseAfter(30 * 24 * time.Hour)
	now := at.AddDate(0, 2, 0)
	if got := model.SterneCutler(lapse, nil).Stage(&f, now); got != model.Acquisition {
		t.Errorf("sterne-cutler: %s, want acquisition (lapsed after 30 days)", got)
	}
	if got := model.SixStage(lapse).Stage(&f, now); got != model.SixStageEvaluation {
		t.Errorf("six-stage: %s, want evaluation", got)
	}
	if got := model.FiveStage(lapse).Stage(&f, now); got != model.FiveStageNurturing {
		t.Errorf("five-stage: %s, want nurturing", got)
	}
}
