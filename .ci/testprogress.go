//go:build ignore

// Command testprogress reads the output of `go test -json` on standard
// input and prints one line per package as soon as the package finishes
// ("ok", "FAIL" or "?", with its elapsed time), so that a long run shows
// its progress in the order packages finish, where plain `go test` prints
// them in package order, holding back every package behind a slow one.
// A failed package's whole output (its failing tests, a panic, a race
// report) is printed right before its FAIL line; build errors are printed
// as they come. It exits with status 1 when a package or a build failed.
//
// .ci/test builds it once and pipes each module's tests through it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	out := map[string]*strings.Builder{} // each package's output so far
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Println(string(line)) // not an event: a message of the go command
			continue
		}
		switch e.Action {
		case "build-output":
			fmt.Print(e.Output)
		case "build-fail":
			failed = true
		case "output":
			b := out[e.Package]
			if b == nil {
				b = new(strings.Builder)
				out[e.Package] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test != "" {
				continue
			}
			switch e.Action {
			case "pass":
				fmt.Printf("ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
			case "skip":
				fmt.Printf("?   \t%s\t[no test files]\n", e.Package)
			case "fail":
				failed = true
				var text string
				if b := out[e.Package]; b != nil {
					text = b.String()
				}
				fmt.Print(text)
				if !strings.Contains(text, "FAIL\t"+e.Package) { // the go command's own summary line
					fmt.Printf("FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
				}
			}
			delete(out, e.Package)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testprogress:", err)
		failed = true
	}
	if failed {
		os.Exit(1)
	}
}
