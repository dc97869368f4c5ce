// Package storetest checks that a [lifecycle.Store] implementation obeys the
// rules documented on that interface, in the manner of testing/fstest.
//
// Typical use, from the implementation's own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) lifecycle.Store { return mystore.New(t) })
//	}
//
// [Run] runs each rule as a subtest on a fresh store; [TestStore] runs all
// rules on one store (using customer IDs under a unique prefix) and returns
// every failure joined, for use outside the testing package (a rule checks
// the customers it wrote itself, so Run, with a fresh store for each rule,
// is the stricter: see TestStore). Rules for the
// optional capabilities ([lifecycle.Loader], [lifecycle.Viewer],
// [lifecycle.Applier], [lifecycle.DueLister], [lifecycle.ChangeLister]
// and [lifecycle.CursorKeeper]: LoadMatchesGet, View, the Apply rules,
// ListDue, ChangesListed, ChangesPastHidden (Changes reads past the
// changes a shortened history hides: an empty page only at the end; and,
// for a store with a Delete(ctx, id) error method, as Memory and sqlstore
// have, lists no change of a customer deleted before it was listed, and
// lists the changes of a customer created again after Delete, each once,
// and none of the deleted one's),
// ChangesConcurrent and CursorLease) pass
// trivially for stores without them. View yields a customer written
// through Apply as Get returns it (its Seen aside, which a View may leave
// empty). ListDue lists every due customer and
// no other but one due less than a second after now (an index in whole
// seconds, which the DueLister contract allows), and never one late, also
// at a now and due times between whole microseconds (a due time rounded
// up lists its customer late); for a store that is also an
// Applier, it checks the due times Apply writes too (the Tracker writes
// through Apply only), due times before 1970, in the year 5000 (also
// listed at a now past them: due in 2300 or 5000, listed in 9000) and at other UTC offsets
// (the instant counts, not the wall clock) and 600 due customers (more
// than a store's page of them: two and more of sqlstore's default 256);
// ApplyExisting checks that an event whose legacy key
// ([lifecycle.LegacyKeyOf]) is in Seen is seen, and that an error fn
// returns comes back as is; LongestValues holds stage IDs and event types
// at their limits, counts past 32 bits, amounts up to math.MaxInt64 and
// 300 tallies; ContextCancelled
// covers View; ChangesListed and CursorLease check that ctx is honoured, a limit
// below 1, that AdvanceCursor renews the lease, refuses an owner whose
// lease ends at now, stores the cursor it is given when it gives the
// lease up, and that concurrent claims leave one holder. GetMissing also
// gets IDs that differ from a stored one only in letter case, trailing
// spaces, Unicode normalization or the last byte of a
// [lifecycle.MaxIDLen]-byte ID: IDs are compared byte for byte. A store
// without [lifecycle.Applier] is written by the Tracker's fallback (load,
// fold, compare-and-swap Put of the whole customer, Seen and History
// included), which costs more per event the more events a customer has;
// [Run] logs when a store lacks it. Every failure
// names the rule broken and the input that broke it; a rule that hangs for
// longer than [CaseTimeout] (plus a 5-second grace) fails instead of
// hanging the test binary. Under [TestStore], whose rules share one
// store, a rule that hangs while the store holds a lock (a loop body
// still running, say) can make the rules after it time out too: fix the
// first one reported ([Run], with a fresh store per rule, does not
// cascade).
//
// Customers must come back as they were put, every time equal: the same
// instant to the nanosecond with the same UTC offset to the second (the
// zone's name and *time.Location are not compared). The rule ExactTimes
// requires times from 1900 to [lifecycle.Never] with nanoseconds and
// whole-minute offsets whose wall clock stays within the year 9999 (it
// puts Never in the westernmost zone it uses), and lets a store refuse (with
// [lifecycle.ErrInvalidCustomer], storing nothing) but never change a time
// whose offset has seconds. [RunReopen] and [ReopenCase] add the optional
// rule Reopen for durable stores: what was written survives closing the
// store and opening it again.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// CaseTimeout bounds how long one rule may run.
var CaseTimeout = 60 * time.Second

// Case is one rule of the suite.
type Case struct {
	// Name identifies the rule, e.g. "PutConflict".
	Name string
	// Check runs the rule on s, using only customer IDs that start with
	// prefix, and returns an error describing any violation. It runs until
	// ctx ends or the rule is decided: Run and TestStore bound each rule
	// by CaseTimeout; a caller of Check gives a ctx with a deadline for
	// the same bound (a rule whose writes the store refuses for ever, as
	// lost races, otherwise never ends).
	Check func(ctx context.Context, s lifecycle.Store, prefix string) error
}

// Cases returns the suite's rules.
func Cases() []Case {
	return []Case{
		{"GetMissing", getMissing},
		{"PutNewGet", putNewGet},
		{"PutUpdate", putUpdate},
		{"PutConflict", putConflict},
		{"PutInvalid", putInvalid},
		{"CopyOnGet", copyOnGet},
		{"CopyOnPut", copyOnPut},
		{"CopyOnScan", copyOnScan},
		{"LoadMatchesGet", loadMatchesGet},
		{"Scan", scanAll},
		{"View", viewAll},
		{"ScanStopEarly", scanStopEarly},
		{"ScanDuringWrites", scanDuringWrites},
		{"ScanBodyWrites", scanBodyWrites},
		{"ContextCancelled", contextCancelled},
		{"RaceOneWinner", raceOneWinner},
		{"ConcurrentIncrements", concurrentIncrements},
		{"StressManyCustomers", stressManyCustomers},
		{"ApplyNew", applyNew},
		{"ApplyExisting", applyExisting},
		{"ApplyExclusive", applyExclusive},
		{"ApplyOnce", applyOnce},
		{"ApplyMany", applyMany},
		{"ApplyManyOnce", applyManyOnce},
		{"ListDue", listDue},
		{"SeenReplaced", seenReplaced},
		{"SeenLarge", seenLarge},
		{"LongestValues", longestValues},
		{"ExactTimes", exactTimes},
		{"ChangesListed", changesListed},
		{"ChangesPastHidden", changesPastHidden},
		{"ChangesConcurrent", changesConcurrent},
		{"CursorLease", cursorLease},
	}
}

// Run runs every rule as a subtest, each on a store from newStore.
//
// It logs (t.Log) when the store has no [lifecycle.Applier]: the Tracker
// then writes it through the fallback, which loads and stores the whole
// customer (Seen and History included) for every event.
func Run(t *testing.T, newStore func(t *testing.T) lifecycle.Store) {
	t.Helper()
	logged := false
	for i, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			s := newStore(t)
			if _, ok := s.(lifecycle.Applier); !ok && !logged {
				logged = true
				t.Log("storetest: the store is not a lifecycle.Applier: the Tracker writes it through the slow fallback (load, fold, Put of the whole customer with Seen and History), whose cost per event grows with the customer's history")
			}
			if err := runCase(c, s, fmt.Sprintf("st%d-%d-", time.Now().UnixNano(), i)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestStore runs every rule on s and returns the failures joined, or nil.
// The store may hold other customers; the suite only reads and writes IDs
// under a prefix unique to this call, each rule under a prefix of its own,
// and a rule checks the customers it wrote. Since every rule but the first
// finds the store holding others' customers, TestStore runs the Scan rule
// twice more, on IDs that sort before and after those of every other rule:
// a store kept in ID order whose Scan leaves out its first or its last
// customer (an off-by-one page cursor) fails here as under [Run], where
// each rule has a fresh store. A defect that loses only customers a rule
// did not write itself, in some other order, may still pass TestStore:
// prefer Run when the store can be made fresh for each rule.
func TestStore(s lifecycle.Store) error {
	var errs []error
	base := fmt.Sprintf("st%d-", time.Now().UnixNano())
	for i, c := range Cases() {
		if err := runCase(c, s, base+strconv.Itoa(i)+"-"); err != nil {
			errs = append(errs, err)
		}
		if c.Name != "Scan" {
			continue
		}
		// ("!" and "~" sort before and after the rules' decimal numbers.)
		for _, at := range [...]struct{ name, prefix string }{{"first", "!-"}, {"last", "~-"}} {
			again := Case{Name: c.Name + " (on the suite's " + at.name + " IDs)", Check: c.Check}
			if err := runCase(again, s, base+at.prefix); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func runCase(c Case, s lifecycle.Store, prefix string) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), CaseTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- recovered(func() error { return c.Check(ctx, s, prefix) })
	}()
	select {
	case err = <-done:
	case <-time.After(CaseTimeout + 5*time.Second):
		err = fmt.Errorf("did not finish within %v (often a lock held while the loop body of Scan, View or ListDue runs, so that a body that calls the store waits forever; or a method that ignores ctx)", CaseTimeout)
	}
	if err != nil {
		return fmt.Errorf("storetest: %s: %w", c.Name, err)
	}
	return nil
}

// recovered runs fn and returns its error, or a panic in it as an error:
// every goroutine of the suite runs the store's methods through it, so that
// a store that panics fails the rule instead of crashing the test binary.
func recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked: %v", r)
		}
	}()
	return fn()
}

// sample returns a customer with every field set, version 1. Its times
// are in UTC, to the nanosecond (see withOffsets for other offsets).
func sample(id string, n int) *lifecycle.Customer {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 600_000_789, time.UTC)
	c := &lifecycle.Customer{
		ID:      id,
		Stage:   "retention",
		Since:   t0.Add(48 * time.Hour),
		AsOf:    t0.Add(72 * time.Hour),
		Version: 1,
		Facts: lifecycle.Facts{
			First: t0, Last: t0.Add(72 * time.Hour),
			Tallies: []lifecycle.Tally{
				{Type: lifecycle.OrderCompleted, Count: int64(2 + n), First: t0.Add(time.Hour), Last: t0.Add(48 * time.Hour)},
				{Type: lifecycle.SiteVisited, Count: 7, First: t0, Last: t0.Add(72 * time.Hour)},
			},
			Sums:       []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: 12_345 + int64(n)}},
			ReferredBy: "ref-ü",
			ReferredAt: t0,
			Score:      9,
			ScoreAt:    t0.Add(50 * time.Hour),
			Referrals:  []lifecycle.Referral{{Customer: "friend-" + strconv.Itoa(n), At: t0.Add(60 * time.Hour)}},
		},
		History: []lifecycle.Transition{
			{From: "", To: "reach", At: t0, Cause: "e1"},
			{From: "reach", To: "conversion", At: t0.Add(time.Hour), Cause: "e2"},
			{From: "conversion", To: "retention", At: t0.Add(48 * time.Hour), Cause: "e3"},
		},
		Seen: seenOf("e1", "e2", "e3"),
		Due:  t0.Add(30 * 24 * time.Hour),
	}
	return c
}

// withOffsets returns c with some of its times moved to other UTC offsets
// (the same instants): a store must give them back with their offsets.
func withOffsets(c *lifecycle.Customer) *lifecycle.Customer {
	c.Since = c.Since.In(time.FixedZone("CET", 3600))
	c.Facts.First = c.Facts.First.In(time.FixedZone("PST", -8*3600))
	c.Facts.Tallies[0].Last = c.Facts.Tallies[0].Last.In(time.FixedZone("IST", 5*3600+1800))
	c.History[1].At = c.History[1].At.In(time.FixedZone("NPT", 5*3600+2700))
	return c
}

// scribble changes c in every slice and in some scalars, as a caller may
// change a customer it got from, or gave to, the store.
func scribble(c *lifecycle.Customer) {
	c.Stage = "changed"
	c.Facts.Tallies[0].Count = 1000
	c.Facts.Sums[0].Amount = -1
	c.Facts.Referrals[0].Customer = "changed"
	c.History[1].To = "changed"
	c.Seen.Add(lifecycle.KeyOf("scribbled"))
	c.Due = c.Due.Add(time.Hour)
}

// differ returns c changed in every part, for writes that must be refused.
func differ(c *lifecycle.Customer) *lifecycle.Customer {
	c.Stage = "refused"
	c.Facts.Tallies = c.Facts.Tallies[:1]
	c.Facts.Sums[0].Currency = "USD"
	c.Facts.Referrals = append(c.Facts.Referrals, lifecycle.Referral{Customer: "refused", At: c.AsOf})
	c.Facts.ReferredBy = "refused"
	c.History = c.History[:1]
	c.Seen = seenOf("refused-1", "refused-2")
	c.Due = lifecycle.Never
	return c
}

// nilEmpty returns a copy of c whose History is nil when empty: same
// compares customers so, since the contract does not tell an empty History
// from none (a View may yield an empty slice where Get has none, as it
// reuses one Customer; a store may read an empty list back for nil).
// (Customer's JSON leaves out empty tallies, sums and referrals, nil or
// not.)
func nilEmpty(c *lifecycle.Customer) *lifecycle.Customer {
	x := c.Clone()
	if len(x.History) == 0 {
		x.History = nil
	}
	return x
}

// sameViewed is same for a customer a View yielded, which may have an
// empty Seen (see [lifecycle.Viewer]) where want has keys.
func sameViewed(want, got *lifecycle.Customer) error {
	if got != nil && got.Seen.Len() == 0 && want.Seen.Len() > 0 {
		want = want.Clone()
		want.Seen = lifecycle.EventSet{}
	}
	return same(want, got)
}

func same(want, got *lifecycle.Customer) error {
	if got == nil {
		return errors.New("got a nil customer")
	}
	if err := sameTimes(want, got); err != nil {
		return fmt.Errorf("stored customer differs: %w", err)
	}
	// Customer's JSON keeps every field, each time with its offset.
	w, err := json.Marshal(nilEmpty(want))
	if err != nil {
		return fmt.Errorf("cannot compare: json.Marshal(put customer) = %v", err)
	}
	g, err := json.Marshal(nilEmpty(got))
	if err != nil {
		return fmt.Errorf("json.Marshal(customer got back) = %v", err)
	}
	if string(w) != string(g) {
		return fmt.Errorf("stored customer differs\nwant %s\n got %s", w, g)
	}
	return nil
}

// getMissing checks that Get of a customer not stored wraps ErrNotFound,
// also for an ID that differs from a stored one only in letter case,
// trailing spaces, Unicode normalization or its last byte (IDs are
// compared byte for byte: a store whose key collates, as SQL's
// case-insensitive collations do, would merge two customers).
func getMissing(ctx context.Context, s lifecycle.Store, p string) error {
	c, err := s.Get(ctx, p+"missing")
	if !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("Get(%q) of a missing customer = %v, %v; want an error wrapping ErrNotFound", p+"missing", c, err)
	}
	long := p + strings.Repeat("x", max(lifecycle.MaxIDLen-len(p)-1, 0))
	for _, tc := range []struct {
		stored string
		others []string
	}{
		{p + "Bob-é", []string{p + "bob-é", p + "BOB-é", p + "Bob-é ", p + "Bob-e\u0301", p + "Bob-É"}},
		{long + "a", []string{long + "b", long}},
	} {
		stored, others := tc.stored, tc.others
		if err := s.Put(ctx, sample(stored, 0), 0); err != nil {
			return fmt.Errorf("Put(new %q, prev 0) = %v; want nil", stored, err)
		}
		for _, id := range others {
			if c, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
				return fmt.Errorf("Get(%q) with only %q stored = %v, %v; want an error wrapping ErrNotFound (IDs are compared byte for byte)", id, stored, c, err)
			}
		}
	}
	return nil
}

func putNewGet(ctx context.Context, s lifecycle.Store, p string) error {
	for i, id := range []string{p + "a", p + "ünïcödé-客户", p + "with space and 'quote\""} {
		want := sample(id, 0)
		if i == 2 {
			want = withOffsets(want) // times come back with their offsets
		}
		if err := s.Put(ctx, want, 0); err != nil {
			return fmt.Errorf("Put(new %q, prev 0) = %v; want nil", id, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) after Put = %v", id, err)
		}
		if err := same(want, got); err != nil {
			return fmt.Errorf("Get(%q) after Put: %w", id, err)
		}
	}
	return nil
}

// longestValues checks that the store holds every value a valid event can
// make the Tracker write, so that no store refuses a write another
// accepts: IDs of [lifecycle.MaxIDLen] bytes (customer, referrer,
// referred customer), a history cause of [lifecycle.MaxCauseLen] bytes (a
// referral credit's ID), stage IDs of [stage.MaxIDLen] bytes, event types
// of [lifecycle.MaxTypeLen], counts and amounts past 32 bits (up to
// math.MaxInt64), 300 tallies and sums (one per custom event type), times
// from the year 1900 to [lifecycle.Never], and a pending referrer
// (credits, no stage, no history).
func longestValues(ctx context.Context, s lifecycle.Store, p string) error {
	pad := func(prefix string) string {
		return prefix + strings.Repeat("x", max(lifecycle.MaxIDLen-len(prefix), 0))
	}
	friend := strings.Repeat("é", lifecycle.MaxIDLen/2)
	long := sample(pad(p+"long-"), 0)
	long.Facts.ReferredBy = strings.Repeat("r", lifecycle.MaxIDLen)
	long.Facts.Referrals[0].Customer = friend
	long.History[2].Cause = lifecycle.ReferralEventID(friend)
	long.Facts.First = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	long.AsOf, long.Due = lifecycle.Never, lifecycle.Never
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	pending := &lifecycle.Customer{ID: pad(p + "pending-"), Due: lifecycle.Never, Version: 1, Facts: lifecycle.Facts{
		Tallies:   []lifecycle.Tally{{Type: lifecycle.ReferralConverted, Count: 1, First: at, Last: at}},
		Referrals: []lifecycle.Referral{{Customer: friend, At: at}},
	}}
	// Stage IDs of stage.MaxIDLen bytes, event types of
	// lifecycle.MaxTypeLen, counts and amounts past 32 bits.
	longStage := stage.ID(strings.Repeat("s", stage.MaxIDLen))
	long.Stage, long.History[2].To = longStage, longStage
	long.History = append(long.History, lifecycle.Transition{From: longStage, To: "reach", At: at, Cause: "e4"})
	longType := lifecycle.EventType("acme." + strings.Repeat("t", lifecycle.MaxTypeLen-len("acme.")))
	long.Facts.Tallies = append(long.Facts.Tallies, lifecycle.Tally{Type: longType, Count: 5_000_000_000, First: at, Last: at})
	long.Facts.Sums = append(long.Facts.Sums,
		lifecycle.Sum{Type: longType, Currency: "JPY", Amount: 3_000_000_000},
		lifecycle.Sum{Type: lifecycle.OrderCompleted, Currency: "USD", Amount: math.MaxInt64})
	// More tallies and sums than a byte counts: one per custom type.
	many := sample(p+"many-tallies", 0)
	for i := range 300 {
		typ := lifecycle.EventType("acme.t" + strconv.Itoa(i))
		many.Facts.Tallies = append(many.Facts.Tallies, lifecycle.Tally{Type: typ, Count: int64(i + 1), First: at, Last: at.Add(time.Duration(i) * time.Second)})
		many.Facts.Sums = append(many.Facts.Sums, lifecycle.Sum{Type: typ, Currency: "EUR", Amount: int64(i)})
	}
	for _, want := range []*lifecycle.Customer{long, pending, many} {
		if err := s.Put(ctx, want, 0); err != nil {
			return fmt.Errorf("Put(new %q, prev 0) with the longest values = %v; want nil", want.ID, err)
		}
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			return fmt.Errorf("Get(%q) after Put = %v", want.ID, err)
		}
		if err := same(want, got); err != nil {
			return fmt.Errorf("Get(%q) after Put: %w", want.ID, err)
		}
	}
	return nil
}

func putUpdate(ctx context.Context, s lifecycle.Store, p string) error {
	id := p + "u"
	c := sample(id, 0)
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put(new, 0) = %v", err)
	}
	for v := uint64(1); v < 5; v++ {
		next := sample(id, int(v))
		next.Version = v + 1
		next.History = append(next.History, lifecycle.Transition{From: "retention", To: "loyalty", At: next.AsOf, Cause: "e" + strconv.Itoa(int(v))})
		if err := s.Put(ctx, next, v); err != nil {
			return fmt.Errorf("Put(version %d, prev %d) = %v; want nil", v+1, v, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get after update to version %d = %v", v+1, err)
		}
		if err := same(next, got); err != nil {
			return fmt.Errorf("after update to version %d: %w", v+1, err)
		}
	}
	return nil
}

func putConflict(ctx context.Context, s lifecycle.Store, p string) error {
	id := p + "c"
	c := sample(id, 0)
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put(new, 0) = %v", err)
	}
	// The refused writes differ in every part, Seen and History included,
	// so that a store that writes any part before the compare-and-swap
	// fails is caught.
	again := differ(sample(id, 1))
	if err := s.Put(ctx, again, 0); !errors.Is(err, lifecycle.ErrConflict) {
		return fmt.Errorf("Put(existing customer, prev 0) = %v; want an error wrapping ErrConflict", err)
	}
	stale := differ(sample(id, 2))
	stale.Version = 3
	if err := s.Put(ctx, stale, 2); !errors.Is(err, lifecycle.ErrConflict) {
		return fmt.Errorf("Put(prev 2) when version 1 is stored = %v; want an error wrapping ErrConflict", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get after refused Puts = %v", err)
	}
	if err := same(c, got); err != nil {
		return fmt.Errorf("a refused Put changed the stored customer: %w", err)
	}
	// A prev other than 0 says the customer exists at that version: for a
	// customer not stored, the Put is refused, and creates nothing.
	gone := sample(p+"c-missing", 0)
	gone.Version = 2
	if err := s.Put(ctx, gone, 1); !errors.Is(err, lifecycle.ErrConflict) {
		return fmt.Errorf("Put(customer not stored, prev 1) = %v; want an error wrapping ErrConflict", err)
	}
	if _, err := s.Get(ctx, gone.ID); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("a refused Put(customer not stored, prev 1) stored it: Get = %v; want ErrNotFound", err)
	}
	return nil
}

func putInvalid(ctx context.Context, s lifecycle.Store, p string) error {
	empty := sample("", 0)
	if err := s.Put(ctx, empty, 0); !errors.Is(err, lifecycle.ErrInvalidCustomer) {
		return fmt.Errorf("Put(customer with empty ID) = %v; want an error wrapping ErrInvalidCustomer", err)
	}
	id := p + "v"
	bad := sample(id, 0)
	bad.Version = 7
	if err := s.Put(ctx, bad, 0); !errors.Is(err, lifecycle.ErrInvalidCustomer) {
		return fmt.Errorf("Put(version 7, prev 0) = %v; want an error wrapping ErrInvalidCustomer", err)
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("a refused Put(version 7, prev 0) stored something: Get = %v", err)
	}
	// A stored customer, and Puts with the right prev but a wrong version.
	id = p + "v-stored"
	if err := s.Put(ctx, sample(id, 0), 0); err != nil {
		return fmt.Errorf("Put(new, 0) = %v", err)
	}
	for _, v := range []uint64{1, 3} {
		bad := differ(sample(id, 1))
		bad.Version = v
		if err := s.Put(ctx, bad, 1); !errors.Is(err, lifecycle.ErrInvalidCustomer) {
			return fmt.Errorf("Put(version %d, prev 1) of a stored customer = %v; want an error wrapping ErrInvalidCustomer", v, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get after a refused Put(version %d, prev 1) = %v", v, err)
		}
		if err := same(sample(id, 0), got); err != nil {
			return fmt.Errorf("a refused Put(version %d, prev 1) changed the stored customer: %w", v, err)
		}
	}
	return nil
}

func copyOnGet(ctx context.Context, s lifecycle.Store, p string) error {
	// Seen of 3 and of 17 keys: adding to a full slice reallocates, adding
	// to one with room (the larger set, once grown) writes in place.
	for _, n := range []int{3, 17} {
		id := p + "g" + strconv.Itoa(n)
		mk := func() *lifecycle.Customer {
			c := sample(id, 0)
			for i := 4; i <= n; i++ {
				c.Seen.Add(lifecycle.KeyOf("e" + strconv.Itoa(i)))
			}
			return c
		}
		want := mk()
		if err := s.Put(ctx, mk(), 0); err != nil {
			return fmt.Errorf("Put(%q) = %v", id, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) = %v", id, err)
		}
		scribble(got)
		again, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("second Get(%q) = %v", id, err)
		}
		if err := same(want, again); err != nil {
			return fmt.Errorf("changing a customer returned by Get (Seen of %d keys) changed the store: %w", n, err)
		}
	}
	return nil
}

func copyOnPut(ctx context.Context, s lifecycle.Store, p string) error {
	id := p + "p"
	want := sample(id, 0)
	c := sample(id, 0)
	if err := s.Put(ctx, c, 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	scribble(c)
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	if err := same(want, got); err != nil {
		return fmt.Errorf("changing a customer after Put changed the store: %w", err)
	}
	return nil
}

func copyOnScan(ctx context.Context, s lifecycle.Store, p string) error {
	const n = 3
	if err := putSamples(ctx, s, p, n); err != nil {
		return err
	}
	got, err := scanMine(ctx, s, p)
	if err != nil {
		return err
	}
	for _, c := range got {
		scribble(c)
	}
	for i := range n {
		id := p + strconv.Itoa(i)
		c, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) = %v", id, err)
		}
		if err := same(sample(id, i), c); err != nil {
			return fmt.Errorf("changing a customer yielded by Scan changed the store: %w", err)
		}
	}
	return nil
}

func loadMatchesGet(ctx context.Context, s lifecycle.Store, p string) error {
	l, ok := s.(lifecycle.Loader)
	if !ok {
		return nil
	}
	id := p + "l"
	want := sample(id, 0)
	if err := s.Put(ctx, sample(id, 0), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	dst := sample("stale", 9)
	dst.History = append(dst.History, dst.History...)
	if err := l.Load(ctx, id, dst); err != nil {
		return fmt.Errorf("Load = %v", err)
	}
	if err := same(want, dst); err != nil {
		return fmt.Errorf("Load into a used Customer: %w", err)
	}
	// dst is a copy: changing it does not change the store.
	scribble(dst)
	if got, err := s.Get(ctx, id); err != nil || same(want, got) != nil {
		return fmt.Errorf("changing a customer filled by Load changed the store (Get = %s, %v)", brief(got), err)
	}
	// A customer whose fields are empty where dst's are not: a sweep's
	// transition (no Cause), no referrer, no survey. Nothing of the
	// customer dst held may survive.
	id2 := p + "l2"
	sparse := func() *lifecycle.Customer {
		c := sample(id2, 1)
		c.History[1].Cause = ""
		c.Facts.ReferredBy, c.Facts.ReferredAt = "", time.Time{}
		c.Facts.Score, c.Facts.ScoreAt = 0, time.Time{}
		return c
	}
	if err := s.Put(ctx, sparse(), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	if err := l.Load(ctx, id2, dst); err != nil {
		return fmt.Errorf("Load = %v", err)
	}
	if err := same(sparse(), dst); err != nil {
		return fmt.Errorf("Load of a customer with empty fields into a used Customer: %w", err)
	}
	// A customer with no history, no Seen, no tallies, sums or credits:
	// Load leaves nothing of dst's.
	id3 := p + "l3"
	bare := func() *lifecycle.Customer {
		return &lifecycle.Customer{ID: id3, Stage: "reach", Version: 1, AsOf: time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)}
	}
	if err := s.Put(ctx, bare(), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	used := sample("stale", 9)
	if err := l.Load(ctx, id3, used); err != nil {
		return fmt.Errorf("Load = %v", err)
	}
	if err := same(bare(), used); err != nil {
		return fmt.Errorf("Load of a customer with no history, Seen, tallies, sums or credits into a used Customer: %w", err)
	}
	if err := l.Load(ctx, p+"missing", dst); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("Load(missing) = %v; want an error wrapping ErrNotFound", err)
	}
	return nil
}

// putSamples stores sample(p+i, i) for i in 0..n-1, each new.
func putSamples(ctx context.Context, s lifecycle.Store, p string, n int) error {
	for i := range n {
		if err := s.Put(ctx, sample(p+strconv.Itoa(i), i), 0); err != nil {
			return fmt.Errorf("Put(%d) = %v", i, err)
		}
	}
	return nil
}

func scanMine(ctx context.Context, s lifecycle.Store, p string) (map[string]*lifecycle.Customer, error) {
	out := map[string]*lifecycle.Customer{}
	err := eachOnce(s.Scan(ctx), "Scan", p, func(c *lifecycle.Customer) error {
		out[c.ID] = c
		return nil
	})
	return out, err
}

// eachOnce reads a pass over the store (what names it: Scan or View),
// checking that it yields no error, no nil customer and no ID twice, and
// calls fn, inside the loop, for each customer whose ID starts with p.
// Every ID is checked, not only this rule's: a customer of another rule
// (or of the caller, for TestStore) yielded twice breaks the rule too.
func eachOnce(seq iter.Seq2[*lifecycle.Customer, error], what, p string, fn func(c *lifecycle.Customer) error) error {
	all := map[string]bool{}
	for c, err := range seq {
		if err != nil {
			return fmt.Errorf("%s yielded error %w", what, err)
		}
		if c == nil {
			return fmt.Errorf("%s yielded a nil customer without an error", what)
		}
		if all[c.ID] {
			return fmt.Errorf("%s yielded customer %q twice", what, c.ID)
		}
		all[c.ID] = true
		if strings.HasPrefix(c.ID, p) {
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// recoveredScan is scanMine, with a panic returned as an error (so that a
// goroutine racing the scan is stopped before the rule returns).
func recoveredScan(ctx context.Context, s lifecycle.Store, p string) (got map[string]*lifecycle.Customer, err error) {
	err = recovered(func() error {
		var err error
		got, err = scanMine(ctx, s, p)
		return err
	})
	return got, err
}

func scanAll(ctx context.Context, s lifecycle.Store, p string) error {
	const n = 300
	if err := putSamples(ctx, s, p, n); err != nil {
		return err
	}
	got, err := scanMine(ctx, s, p)
	if err != nil {
		return err
	}
	if len(got) != n {
		return fmt.Errorf("Scan yielded %d of the %d customers stored", len(got), n)
	}
	for i := 0; i < n; i++ {
		id := p + strconv.Itoa(i)
		if err := same(sample(id, i), got[id]); err != nil {
			return fmt.Errorf("Scan's copy of %q: %w", id, err)
		}
	}
	return nil
}

// viewAll checks a store that is a [lifecycle.Viewer]: View yields every
// stored customer once, as Scan does, each equal to what was put (times
// with their offsets too; Seen too, unless View left it empty, as a
// Viewer may), and stops when the loop body returns false.
func viewAll(ctx context.Context, s lifecycle.Store, p string) error {
	v, ok := s.(lifecycle.Viewer)
	if !ok {
		return nil
	}
	const n = 300
	if err := putSamples(ctx, s, p, n); err != nil {
		return err
	}
	// A customer written through Apply (as the Tracker writes), when the
	// store has it, is viewed as Get returns it.
	var applied *lifecycle.Customer
	if a, ok := applierOf(s); ok {
		id := p + "applied"
		ws := []lifecycle.Write{{ID: id, Events: []string{id + "-e"}, Fn: func(c *lifecycle.Customer, _ []bool) (bool, error) {
			sample(id, 0).CopyTo(c)
			c.Version, c.History, c.Seen = 1, nil, lifecycle.EventSet{} // the store keeps the event's key
			return true, nil
		}}}
		a.Apply(ctx, ws)
		if ws[0].Err != nil {
			return fmt.Errorf("Apply(%q) = %v", id, ws[0].Err)
		}
		var err error
		if applied, err = s.Get(ctx, id); err != nil {
			return fmt.Errorf("Get(%q) after Apply = %v", id, err)
		}
	}
	// A customer whose times have offsets: viewed with them.
	offsets := withOffsets(sample(p+"offsets", 0))
	if err := s.Put(ctx, offsets, 0); err != nil {
		return fmt.Errorf("Put(%q) = %v", offsets.ID, err)
	}
	// A View's customer is valid only during the loop body: compared there.
	mine, viewedApplied, viewedOffsets := 0, 0, 0
	err := eachOnce(v.View(ctx), "View", p, func(c *lifecycle.Customer) error {
		if c.ID == offsets.ID {
			viewedOffsets++
			if err := sameViewed(offsets, c); err != nil {
				return fmt.Errorf("View's customer %q, whose times have offsets: %w", c.ID, err)
			}
			return nil
		}
		if applied != nil && c.ID == applied.ID {
			viewedApplied++
			if err := sameViewed(applied, c); err != nil {
				return fmt.Errorf("View's customer %q, written through Apply, differs from Get's: %w", c.ID, err)
			}
			return nil
		}
		mine++
		i, err := strconv.Atoi(strings.TrimPrefix(c.ID, p))
		if err != nil {
			return fmt.Errorf("View yielded %q, which no one put", c.ID)
		}
		if err := sameViewed(sample(c.ID, i), c); err != nil {
			return fmt.Errorf("View's customer %q: %w", c.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if mine != n {
		return fmt.Errorf("View yielded %d of the %d customers stored (Scan yields them all)", mine, n)
	}
	if applied != nil && viewedApplied != 1 {
		return fmt.Errorf("View yielded the customer written through Apply %d times; want once", viewedApplied)
	}
	if viewedOffsets != 1 {
		return fmt.Errorf("View yielded the customer %q %d times; want once", offsets.ID, viewedOffsets)
	}
	k := 0
	for _, err := range v.View(ctx) {
		if err != nil {
			return fmt.Errorf("View yielded error %w", err)
		}
		if k++; k == 2 {
			break
		}
	}
	if k != 2 {
		return fmt.Errorf("View stopped at %d customers of more than %d when the loop broke at 2", k, n)
	}
	return nil
}

func scanStopEarly(ctx context.Context, s lifecycle.Store, p string) error {
	if err := putSamples(ctx, s, p, 10); err != nil {
		return err
	}
	n := 0
	for _, err := range s.Scan(ctx) {
		if err != nil {
			return fmt.Errorf("Scan yielded error %w", err)
		}
		n++
		break
	}
	if n != 1 {
		return fmt.Errorf("Scan with an early break ran the loop body %d times", n)
	}
	// The store must still work after an abandoned scan.
	if _, err := s.Get(ctx, p+"0"); err != nil {
		return fmt.Errorf("Get after an abandoned Scan = %v", err)
	}
	return nil
}

func scanDuringWrites(ctx context.Context, s lifecycle.Store, p string) error {
	const n = 100
	if err := putSamples(ctx, s, p, n); err != nil {
		return err
	}
	stop := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		defer close(werr)
		err := recovered(func() error {
			for v := uint64(1); ; v++ {
				select {
				case <-stop:
					return nil
				default:
				}
				for i := 0; i < n; i += 7 {
					c := sample(p+strconv.Itoa(i), i)
					c.Version = v + 1
					if err := s.Put(ctx, c, v); err != nil {
						return fmt.Errorf("concurrent Put(%d, prev %d) = %v", i, v, err)
					}
				}
			}
		})
		if err != nil {
			werr <- err
		}
	}()
	got, err := recoveredScan(ctx, s, p)
	close(stop)
	if e := <-werr; e != nil {
		return e
	}
	if err != nil {
		return err
	}
	if len(got) != n {
		return fmt.Errorf("Scan during concurrent writes yielded %d of %d customers", len(got), n)
	}
	return nil
}

// scanBodyWrites writes every customer Scan yields from inside the loop
// body, as Tracker.Sweep does: a store that holds a lock while the body
// runs fails (or hangs) here.
func scanBodyWrites(ctx context.Context, s lifecycle.Store, p string) error {
	const n = 20
	if err := putSamples(ctx, s, p, n); err != nil {
		return err
	}
	seen := map[string]bool{}
	for c, err := range s.Scan(ctx) {
		if err != nil {
			return fmt.Errorf("Scan yielded error %w", err)
		}
		if c == nil {
			return errors.New("Scan yielded a nil customer without an error")
		}
		if !strings.HasPrefix(c.ID, p) {
			continue
		}
		if seen[c.ID] {
			return fmt.Errorf("Scan whose loop body writes yielded customer %q twice", c.ID)
		}
		seen[c.ID] = true
		c.Version++
		c.Stage = "swept"
		// A write that waits for a lock Scan holds while it yields would
		// wait for ever: it gets a quarter of CaseTimeout, at most 10 s,
		// and its error says why.
		bodyWriteWait := min(10*time.Second, CaseTimeout/4)
		wctx, cancel := context.WithTimeout(ctx, bodyWriteWait)
		// Every other write goes through Apply, for a store that has it,
		// as the Tracker's sweeps write.
		how := "Put"
		var err error
		if a, ok := applierOf(s); ok && len(seen)%2 == 0 {
			how = "Apply"
			ws := []lifecycle.Write{{ID: c.ID, Fn: func(w *lifecycle.Customer, _ []bool) (bool, error) {
				w.Version++
				w.Stage = "swept"
				return true, nil
			}}}
			a.Apply(wctx, ws)
			err = ws[0].Err
		} else {
			err = s.Put(wctx, c, c.Version-1)
		}
		cancel()
		if err != nil && ctx.Err() == nil && wctx.Err() != nil {
			return fmt.Errorf("%s(%q) in Scan's loop body did not return within %v (%v): does Scan hold, while it yields, a lock %s takes? The body may write to the store", how, c.ID, bodyWriteWait, err, how)
		}
		if err != nil {
			return fmt.Errorf("%s(%q) in Scan's loop body = %v; want nil (the body may write to the store)", how, c.ID, err)
		}
	}
	if len(seen) != n {
		return fmt.Errorf("Scan whose loop body writes yielded %d of the %d customers stored", len(seen), n)
	}
	for i := 0; i < n; i++ {
		id := p + strconv.Itoa(i)
		got, err := s.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("Get(%q) = %v", id, err)
		}
		if got.Version != 2 || got.Stage != "swept" {
			return fmt.Errorf("customer %q after a write in Scan's loop body: version %d, stage %q; want 2, \"swept\"", id, got.Version, got.Stage)
		}
	}
	return nil
}

func contextCancelled(_ context.Context, s lifecycle.Store, p string) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	id := p + "x"
	if err := s.Put(ctx, sample(id, 0), 0); err == nil {
		return errors.New("Put with a cancelled context = nil; want an error")
	}
	if _, err := s.Get(context.Background(), id); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("Put with a cancelled context stored the customer (Get = %v)", err)
	}
	there := p + "x-there"
	if err := s.Put(context.Background(), sample(there, 0), 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	if c, err := s.Get(ctx, there); err == nil {
		return fmt.Errorf("Get with a cancelled context = %v, nil; want an error", c.ID)
	}
	if l, ok := s.(lifecycle.Loader); ok {
		if err := l.Load(ctx, there, new(lifecycle.Customer)); err == nil {
			return errors.New("Load with a cancelled context = nil; want an error")
		}
	}
	// Scan and View cannot yield every customer: each must yield the
	// failure, once, and stop; yielding nothing would pass for an empty
	// store.
	if err := onlyFailure("Scan", s.Scan(ctx)); err != nil {
		return err
	}
	if v, ok := s.(lifecycle.Viewer); ok {
		return onlyFailure("View", v.View(ctx))
	}
	return nil
}

// onlyFailure checks that seq, a pass under a cancelled context, yields
// exactly one item, an error.
func onlyFailure(what string, seq iter.Seq2[*lifecycle.Customer, error]) error {
	n := 0
	for c, err := range seq {
		n++
		if err == nil {
			return fmt.Errorf("%s with a cancelled context yielded customer %q without an error", what, c.ID)
		}
	}
	if n != 1 {
		return fmt.Errorf("%s with a cancelled context yielded %d items; want exactly one, an error (a failure is yielded as a non-nil error, after which %s stops)", what, n, what)
	}
	return nil
}

func raceOneWinner(ctx context.Context, s lifecycle.Store, p string) error {
	const writers = 8
	for round := 0; round < 20; round++ {
		id := p + "r" + strconv.Itoa(round)
		if err := s.Put(ctx, sample(id, 0), 0); err != nil {
			return fmt.Errorf("Put = %v", err)
		}
		var wins, conflicts atomic.Int32
		var other atomic.Value
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := sample(id, w+1)
				c.Version = 2
				<-start
				err := recovered(func() error { return s.Put(ctx, c, 1) })
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, lifecycle.ErrConflict):
					conflicts.Add(1)
				default:
					other.Store(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if e := other.Load(); e != nil {
			return fmt.Errorf("round %d: a racing Put failed with %v", round, e)
		}
		if wins.Load() != 1 || conflicts.Load() != writers-1 {
			return fmt.Errorf("round %d: %d writers raced Put(prev 1): %d won, %d got ErrConflict; want exactly 1 winner", round, writers, wins.Load(), conflicts.Load())
		}
	}
	return nil
}

// increment is a read-modify-write loop that adds one order to a customer.
func increment(ctx context.Context, s lifecycle.Store, id string) error {
	for attempt := 0; attempt < 10_000; attempt++ {
		c, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		prev := c.Version
		c.Version++
		c.Facts.Tallies[0].Count++
		c.History = append(c.History, lifecycle.Transition{From: "a", To: stage.ID("b"), At: c.AsOf, Cause: strconv.Itoa(int(c.Version))})
		err = s.Put(ctx, c, prev)
		if err == nil {
			return nil
		}
		if !errors.Is(err, lifecycle.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("customer %q: gave up after 10000 conflicts: Put keeps refusing a write whose prev is the version Get just returned (does Get return a copy, and does Put compare the stored version with prev, not with a shared or cached value?)", id)
}

func concurrentIncrements(ctx context.Context, s lifecycle.Store, p string) error {
	const goroutines, each = 8, 25
	id := p + "inc"
	base := sample(id, 0)
	base.Facts.Tallies[0].Count = 0
	base.History = nil
	if err := s.Put(ctx, base, 0); err != nil {
		return fmt.Errorf("Put = %v", err)
	}
	err := parallel(goroutines, func(int) error {
		for i := 0; i < each; i++ {
			if err := increment(ctx, s, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read-modify-write loop failed: %w", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("Get = %v", err)
	}
	const want = goroutines * each
	if got.Facts.Tallies[0].Count != want || len(got.History) != want || got.Version != want+1 {
		return fmt.Errorf("%d goroutines × %d compare-and-swap increments: count %d, history %d, version %d; want %d, %d, %d (lost or doubled updates)",
			goroutines, each, got.Facts.Tallies[0].Count, len(got.History), got.Version, want, want, want+1)
	}
	return nil
}

func stressManyCustomers(ctx context.Context, s lifecycle.Store, p string) error {
	const goroutines, customers, rounds = 8, 16, 12
	for i := 0; i < customers; i++ {
		c := sample(p+"m"+strconv.Itoa(i), 0)
		c.Facts.Tallies[0].Count = 0
		c.History = nil
		if err := s.Put(ctx, c, 0); err != nil {
			return fmt.Errorf("Put = %v", err)
		}
	}
	err := parallel(goroutines, func(g int) error {
		for r := 0; r < rounds; r++ {
			for i := 0; i < customers; i++ {
				if err := increment(ctx, s, p+"m"+strconv.Itoa((i+g)%customers)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read-modify-write loop failed: %w", err)
	}
	got, err := scanMine(ctx, s, p+"m")
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(got)) {
		c := got[id]
		if c.Facts.Tallies[0].Count != goroutines*rounds {
			return fmt.Errorf("customer %q: count %d after %d increments (lost or doubled updates)", id, c.Facts.Tallies[0].Count, goroutines*rounds)
		}
	}
	if len(got) != customers {
		return fmt.Errorf("Scan yielded %d of %d customers", len(got), customers)
	}
	return nil
}

// parallel runs fn(0) … fn(n-1) in n goroutines and returns the first error.
func parallel(n int, fn func(g int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	// The goroutines start together once all exist, so that a busy
	// machine starting them one by one does not run them one after the
	// other (and hide a race the rule looks for).
	start := make(chan struct{})
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := recovered(func() error { return fn(g) }); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	return <-errs
}
