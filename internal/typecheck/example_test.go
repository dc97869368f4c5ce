package typecheck_test

import (
	"fmt"

	"github.com/clmkit/clm/internal/typecheck"
)

func Example() {
	c, err := typecheck.New("strings")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, src := range []string{
		"package p\n\nimport \"strings\"\n\nvar _ string = strings.ToUpper(\"a\")\n",
		"package p\n\nimport \"strings\"\n\nvar _ int = strings.ToUpper(\"a\")\n",
	} {
		errs, err := c.Errors(src)
		fmt.Println(len(errs), err)
	}
	// Output:
	// 0 <nil>
	// 1 <nil>
}
