// Package typecheck type-checks Go source files against the export data
// of packages from the build cache, so that a test can show that some code
// does not compile (an option passed to a function it does not apply to,
// say) without running the compiler on files of its own.
package typecheck

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
)

// A Checker type-checks files that import some packages, whose export
// data it found once.
type Checker struct {
	exports map[string]string // import path: export data file
}

// New returns a Checker for files whose imports are among imports
// (import paths; their dependencies are found too). It runs
// `go list -export` once, so the go command must be on the PATH.
func New(imports ...string) (*Checker, error) {
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, imports...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("typecheck: go list -export %s: %w", strings.Join(imports, " "), err)
	}
	c := &Checker{exports: map[string]string{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if path, file, ok := strings.Cut(line, "="); ok {
			c.exports[path] = file
		}
	}
	return c, nil
}

// Errors type-checks src, one file of any package name, and returns the
// type errors, empty when it compiles. A file that does not parse is
// returned as err.
func (c *Checker) Errors(src string) (errs []string, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		return nil, fmt.Errorf("typecheck: %w", err)
	}
	lookup := func(path string) (io.ReadCloser, error) { return os.Open(c.exports[path]) }
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup), Error: func(err error) { errs = append(errs, err.Error()) }}
	_, _ = conf.Check(f.Name.Name, fset, []*ast.File{f}, nil)
	return errs, nil
}
