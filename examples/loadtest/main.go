// Command loadtest proves under load that the Tracker neither loses nor
// doubles events: it generates a realistic shop stream (power-law
// customers; sessions of visits, carts and orders; refunds, tickets,
// surveys, reviews, referrals), replays it into a store from many
// goroutines with duplicates and out-of-order delivery, and checks the
// final state against a sequential replay of the same stream.
//
//	go run ./examples/loadtest                       # defaults: memory, 200000 events, 8 writers
//	go run ./examples/loadtest -events 1000000 -customers 100000 -writers 32 -dup 0.2 -shuffle 0.3
//
// Flags (defaults in brackets): -store [memory] (memory-plain: the memory
// store without its optional Loader, Applier and DueLister capabilities, so
// that the Tracker reads with Get and writes with compare-and-swap Put, as
// with a store that has only the three required methods), -dsn, -events [200000]
// (at most 10,000,000), -customers [20000] (at most 1,000,000), -writers [8]
// (at most 10,000), -dup [0.05] (probability an event is
// delivered twice), -shuffle [0.1] (probability an event is delivered out of
// order), -window [2000] (how many deliveries such an event may move),
// -batch [1] (events per call; above 1 uses RecordBatch), -seed [1],
// -referrals [true] (false: no customer arrives through a referral link),
// -timeout [5m] (bound on the whole run), -progress [1s] (interval of the
// progress lines on stderr; 0 turns progress off).
//
// While it replays, it shows its progress on stderr: a line every
// -progress, or a progress bar when stderr is a terminal. It ends by
// printing exactly one line to stdout:
//
//	events=N customers=M writers=W throughput=X/s p99=Yms lost=0 doubled=0 mismatched=0
//
// events counts distinct events; customers the customers the sequential
// replay stored; throughput is deliveries (duplicates included) per second
// of the concurrent replay; p99 is the 99th percentile latency of one Record
// call (RecordBatch call with -batch). lost, doubled and mismatched count
// customers: lost when an event the reference kept is missing, doubled when
// one was applied twice, mismatched when anything else differs (facts,
// stage, AsOf, seen event IDs) or the version or history is not sane; the
// exact rules are in the package documentation of
// examples/loadtest/internal/harness. Any difference is described on
// stderr before the summary line.
//
// Exit status: 0 when nothing is lost, doubled or mismatched and every
// event came back applied exactly once (and for -h, which prints the
// flags); 1 otherwise; 2 for bad flags or an unknown or unavailable store; 3 when the store cannot be opened or the run reaches
// -timeout (then no summary line is printed).
//
// This program is in the root module, which must not depend on the SQL
// stores (they live in the nested module github.com/clmkit/clm/store/sqlstore
// with their drivers), so it tests the memory store only: -store sqlite and
// -store postgres stop with an explanation. The same load test against
// SQLite and PostgreSQL is the nested module examples/loadtest/sql
// (cd examples/loadtest/sql && go run . -store sqlite), which passes the SQL
// store openers to the shared engine, examples/loadtest/internal/harness.
package main

import (
	"os"

	"github.com/clmkit/clm/examples/loadtest/internal/harness"
)

const sqlNote = "the SQL stores are in the nested module github.com/clmkit/clm/store/sqlstore, " +
	"which this program (root module) does not import; it tests -store memory only. " +
	"Run the same load test against SQL with: cd examples/loadtest/sql && go run . -store sqlite " +
	"(or -store postgres -dsn DSN)"

func main() {
	os.Exit(harness.Main(os.Args[1:], os.Stdout, os.Stderr,
		map[string]harness.Opener{"memory": harness.Memory, "memory-plain": harness.MemoryPlain},
		map[string]string{"sqlite": sqlNote, "postgres": sqlNote}))
}
