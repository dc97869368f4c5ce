package cli_test

import (
	"fmt"
	"os"

	"github.com/clmkit/clm/examples/internal/cli"
)

// A command checks its flag values after cli.Parse and reports a bad one
// with cli.Usagef; cli.Status prints each error once, with the program's
// name, and gives the exit status.
func ExampleStatus() {
	fs := cli.NewFlagSet("quickstart", "Records generated shop events.", os.Stdout)
	customers := fs.Int("customers", 40, "number of customers (at least 1)")
	err := cli.Parse(fs, []string{"-customers", "-5"})
	if err == nil && *customers < 1 {
		err = cli.Usagef("-customers %d: must be at least 1", *customers)
	}
	fmt.Println("exit status", cli.Status("quickstart", err, os.Stdout))

	// An error that already starts with the program's name is not
	// prefixed again.
	fmt.Println("exit status", cli.Status("clv", fmt.Errorf("clv: invalid input"), os.Stdout))
	// Output:
	// quickstart: -customers -5: must be at least 1
	// exit status 2
	// clv: invalid input
	// exit status 1
}
