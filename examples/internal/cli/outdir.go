package cli

import (
	"os"
	"path/filepath"
)

// OutDir checks, before a long run, that the directory dir given by flag
// (say "-out") can take the files named: it exists (or, with create, is
// made), a file can be created in it, and none of the files is a
// directory. It returns a [Usagef] error naming the flag and dir, so a run
// does not find out after its work that it cannot write the result.
func OutDir(flag, dir string, create bool, files ...string) error {
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Usagef("%s %q: %w", flag, dir, err)
		}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return Usagef("%s %q: not an existing directory", flag, dir)
	}
	probe, err := os.CreateTemp(dir, ".clm-write-check-*")
	if err != nil {
		return Usagef("%s %q: cannot write in it: %w", flag, dir, err)
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return Usagef("%s %q: %w", flag, dir, err)
	}
	for _, f := range files {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.IsDir() {
			return Usagef("%s %q: %s is a directory", flag, dir, f)
		}
	}
	return nil
}
