// Package cli gives the example commands the manners of Go commands, in one
// place: a flag set that prints its usage on -h and -help (exit status 0),
// refuses unknown flags, bad flag values and stray arguments (exit status
// 2), errors printed once to standard error with the program's name (exit
// status 1), and progress on standard error for long runs ([Progress]).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
)

// Exit statuses of the example commands.
const (
	ExitOK    = 0 // success, or the usage was asked for with -h or -help
	ExitError = 1 // the command failed
	ExitUsage = 2 // an unknown flag, a bad flag value or a stray argument
)

// usageError is an error in the command line. printed is set when the flag
// package has already printed it, with the usage, to the flag set's output.
type usageError struct {
	err     error
	printed bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// Usagef returns an error in the command line, such as a flag value out of
// range: [Status] gives [ExitUsage] for it. The message should name the
// flag and the value, as in "-customers -5: must be at least 1". Like
// [fmt.Errorf], it wraps the operand of a %w verb.
func Usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// NewFlagSet returns a flag set for the command name that returns its
// errors ([flag.ContinueOnError]) and writes them to stderr. Its usage
// message is "usage: NAME [flags]", then about (a sentence or two on what
// the command does), then the flags.
func NewFlagSet(name, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [flags]\n\n%s\n\nflags:\n", name, strings.TrimSpace(about))
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args (without the program name) with fs, which must return
// its errors ([flag.ContinueOnError], as from [NewFlagSet]). It returns
// [flag.ErrHelp] for -h and -help (the usage is printed), an error in the
// command line for an unknown flag or a value the flag cannot hold (printed
// with the usage by the flag package), and an error in the command line for
// any argument that is not a flag: the example commands take none.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, printed: true}
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments %q (this command takes flags only; -h lists them)", fs.Args())
	}
	return nil
}

// Status reports err on stderr and returns the exit status for it:
// [ExitOK] for nil and for [flag.ErrHelp], [ExitUsage] for an error in the
// command line (from [Parse] or [Usagef]), [ExitError] for any other error.
// An error is printed once, on one line beginning with the program's name
// and a colon; an error whose message already begins so (the errors of
// package clv in the command clv, say) is not prefixed again. Errors the
// flag package has printed already are not printed again.
func Status(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code := ExitError
	var ue *usageError
	if errors.As(err, &ue) {
		code = ExitUsage
		if ue.printed {
			return code
		}
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, name+": ") {
		msg = name + ": " + msg
	}
	fmt.Fprintln(stderr, msg)
	return code
}

// Main runs a command: it calls run with the command-line arguments
// (without the program name), standard output, standard error and a
// context cancelled by an interrupt (Ctrl-C), and exits with the status
// [Status] gives for run's error, or, when run succeeded but a write to
// standard output failed (a full disk, a closed pipe), for that write's
// error: a command whose output is lost has failed.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	out := &firstError{w: os.Stdout}
	err := run(ctx, os.Args[1:], out, os.Stderr)
	stop()
	os.Exit(Status(name, out.join(err), os.Stderr))
}

// firstError is a writer that passes every write on to w and keeps the
// first error one returned.
type firstError struct {
	w   io.Writer
	mu  sync.Mutex
	err error
}

func (f *firstError) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		f.mu.Lock()
		if f.err == nil {
			f.err = err
		}
		f.mu.Unlock()
	}
	return n, err
}

// join returns err, or when it is nil the first write's error, if any.
func (f *firstError) join(err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.err != nil {
		return fmt.Errorf("writing standard output: %w", f.err)
	}
	return err
}
