// Package typecheck type-checks a Go source file against the export data
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

// Errors type-checks src, one file of any package name, whose imports
// must be among imports (import paths; their dependencies are found too),
// and returns the type errors, empty when it compiles. It runs
// `go list -export`, so the go command must be on the PATH. A failure to
// list or parse is returned as err.
func Errors(src string, imports ...string) (errs []string, err error) {
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, imports...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("typecheck: go list -export %s: %w", strings.Join(imports, " "), err)
	}
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if path, file, ok := strings.Cut(line, "="); ok {
			exports[path] = file
		}
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		return nil, fmt.Errorf("typecheck: %w", err)
	}
	lookup := func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) }
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup), Error: func(err error) { errs = append(errs, err.Error()) }}
	_, _ = conf.Check(f.Name.Name, fset, []*ast.File{f}, nil)
	return errs, nil
}
