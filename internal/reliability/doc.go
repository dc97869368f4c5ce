// Package reliability holds no code, only tests: fault-injection tests that
// drive the lifecycle.Tracker through its public API with a store that
// fails (on Get, Put, Scan, the Applier's Apply or the DueLister's
// ListDue, at random from a seeded source, before writing or after
// committing), contexts cancelled in the middle of a batch, hooks that
// panic or block, and a clock that goes backwards; and the table of every
// bad input tried with the error each gets (docs/bad-inputs.md, kept
// current by TestBadInputs; regenerate it with
// go test ./internal/reliability -run TestBadInputs -update).
//
// Every fault test states what the caller sees and proves that nothing is
// lost or doubled by comparing the final state with a sequential replay of
// the same events into a fault-free store. RELIABILITY.md lists the
// tests and the promises they check.
package reliability
