package typecheck_test

import (
	"fmt"

	"github.com/clmkit/clm/internal/typecheck"
)

func Example() {
	errs, err := typecheck.Errors("package p\n\nimport \"strings\"\n\nvar _ int = strings.ToUpper(\"a\")\n", "strings")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(errs) == 1, errs[0] != "")
	// Output: true true
}
