package modeltest_test

import (
	"strings"
	"testing"

	"github.com/clmkit/clm/internal/typecheck"
)

// EveryEdge and MaxReports do not apply to Unused, which reports no
// failures: passing one is a compile error, never ignored. The search
// options apply to all three functions.
func TestOptionsThatDoNotApply(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list -export")
	}
	c, err := typecheck.New("github.com/clmkit/clm/model/modeltest", "github.com/clmkit/clm/model", "time")
	if err != nil {
		t.Fatal(err)
	}
	check := func(body string) []string {
		src := "package p\n\nimport (\n\t\"time\"\n\n\t\"github.com/clmkit/clm/model\"\n\t\"github.com/clmkit/clm/model/modeltest\"\n)\n\nvar m = model.SterneCutler()\nvar _ = time.Hour\n\n" + body
		errs, err := c.Errors(src)
		if err != nil {
			t.Fatal(err)
		}
		return errs
	}
	ok := `
var search = []modeltest.SearchOption{modeltest.Seed(1, 2), modeltest.Walks(3), modeltest.Steps(4), modeltest.Types("a.b"), modeltest.Start(time.Time{}), modeltest.AllowUnreached("x"), modeltest.AllowUnused()}
var _, _ = modeltest.Unused(m, search...)
var _ = modeltest.TestModel(m, modeltest.Seed(1, 2), modeltest.EveryEdge(), modeltest.MaxReports(2), nil)
`
	if errs := check(ok); len(errs) > 0 {
		t.Fatalf("options that apply do not compile: %v", errs)
	}
	for _, bad := range []string{
		"var _, _ = modeltest.Unused(m, modeltest.EveryEdge())",
		"var _, _ = modeltest.Unused(m, modeltest.MaxReports(3))",
	} {
		errs := check(bad)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "does not implement") {
			t.Errorf("%s compiles (errors: %v); want a compile error", bad, errs)
		}
	}
}
