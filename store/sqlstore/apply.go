package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// Apply is the [lifecycle.Tracker]'s write path, as [lifecycle.Applier]
// describes. Its cost does not depend on how many events the customers
// have had: it reads the customers' rows (their history of stage changes
// included, in the data column) and looks up only the keys of the given
// events (each event's [lifecycle.KeyOf] key and its
// [lifecycle.LegacyKeyOf] key, so that an event recorded before schema
// version 3 is still found), and writes the customers' rows and the keys
// of the events not seen.
//
// PostgreSQL: two statements for all the writes together, each one round
// trip and its own transaction (lighter ones, with scalar arguments, for
// a single customer and event): the read, then one statement that updates
// each customer whose version is still the one read (or inserts it, if no
// other writer did first) and inserts the new keys of exactly those
// customers. (From 1,000 customers read, the read is first one statement
// without event keys, then one that looks up the events of those found,
// if any: an import's chunk into an empty store has none.)
// From 64 customers on, the write is two statements, one per
// half of the customers in the order of ID, sent at once on two
// connections and each its own transaction: the server writes the halves
// in parallel (see BENCHMARKS.md), and a failure of one fails only its
// half's writes. The store encodes the write statements' parameters
// itself, in PostgreSQL's binary form, and prepares each statement on each
// connection under a name of its own (the table prefix and "apply_write",
// "apply_update1", "apply_update1c" or "apply_create1") when the
// connections use pgx's default query mode; in the others (for
// example default_query_exec_mode=exec, behind a pooler) it is an unnamed
// statement. A pgx QueryTracer configured on the connections is called for
// them as for any other query. Through a database/sql driver wrapped around
// pgx's (a tracing package's, say) they go through database/sql, and an
// import's new customers are written with it instead of COPY. A write that lost the race stores nothing and gets a
// [*store.ConflictError] (wrapping [lifecycle.ErrConflict]); the Tracker
// applies it again. Any number of processes may apply to the same
// customers at once: an event is applied at most once, because every
// write of a customer checks its version and writes its keys in the same
// statement. The write of a customer read is stored only if its row is
// still the row version read (the same version and xmin, the row
// version's transaction ID): a customer deleted and created again at the
// same version between the read and the write is a lost race. A
// serialization failure or deadlock of a write statement, or a unique
// violation (an event key stored already) of the many-customer statement's
// second run (see below), gives each of that statement's writes an Err
// wrapping [lifecycle.ErrConflict]; the
// writes are sorted by customer ID, so two Applies lock the stored
// customers they share in the same order (and the two halves of one
// Apply share none). A write statement's inserts of customers read as
// new come after its updates and wait for any writer of those rows, so
// an Apply that creates customers can deadlock with another writer
// creating or updating them: PostgreSQL fails one of the statements
// after deadlock_timeout, a lost race for each of its writes.
//
// The Store holds, decoded, the rows it last wrote for up to 4,096
// customers. A write to a customer it holds skips the read: its fn is
// given the held row with seen all false (the latitude [lifecycle.Applier]
// allows), and its write is stored only if the row is still the one held
// (the same version and xmin, which a customer deleted and created again
// does not share) and none of its events' keys is stored; otherwise it is
// a lost race (an error wrapping [lifecycle.ErrConflict] that says so),
// the row is dropped, and the next Apply reads. A fn that reports no
// change on the held row (a sweep of a customer another instance has
// written since, say) is called again on the row read, in the same Apply,
// since nothing guards a write of nothing. So a customer written
// through one instance costs one round trip per event, and an event
// applied before costs one refused write and a retry (the
// [lifecycle.Tracker] retries it, within [lifecycle.WithMaxRetries]).
// The write finds a held customer's event stored by inserting its key:
// the one-event statement then writes nothing, a lost race; the
// many-customer statement fails as a whole and runs once more with a
// look-up of every key it inserts, so that only that customer's write is a
// lost race and the other customers' writes take effect.
//
// An Apply of 1,000 or more customers none of which is stored (an Import
// into an empty store) writes them and their keys with COPY, each half of
// them in the order of ID in a transaction of its own on a connection of
// its own, both at once: each half all or none; a customer another writer
// created meanwhile makes every write of its half a lost race.
//
// SQLite: one write transaction for all the writes (BEGIN IMMEDIATE, which
// takes the database's write lock before the first read), so no write
// loses a race; a failure of the transaction fails every write in it.
//
// An Apply of one customer that the Store does not hold, with one event,
// skips the read: it calls the write's fn on a new customer and writes
// that as new, in one round trip. When the customer exists, that statement writes
// nothing and returns the stored row (and which of the events' keys it
// has) instead, and fn is called again on it and written as after a
// read: two round trips, as a read and a write would take. (A customer
// another writer creates after that statement began is neither written
// nor returned: a lost race.)
//
// The customer IDs of ws are distinct, as [lifecycle.Applier] requires; a
// write whose ID an earlier write of ws has is not applied and gets an
// Err wrapping [lifecycle.ErrConflict] (applied again, it counts).
//
// A fn is not called when ctx is done, nor when the customers cannot be
// read, with two exceptions: a write of one customer the Store does not
// hold with one event (see above), whose fn runs before the one statement
// that writes and reads; and a write whose ID no store can hold, whose fn
// runs on a new customer so that its outcome is fn's error or the ID's;
// failures before any fn runs are retried as [WithRetries] says. A fn is given its customer with an empty History
// (as [lifecycle.Applier] allows: the stored history is kept aside, and
// the transitions fn appends are added to its end) and an empty Seen. A change a fn makes is checked as [Store.Put] checks
// its argument (a [*ValueError], or an error wrapping
// [lifecycle.ErrInvalidCustomer]); nothing is stored for that write then.
// Readers do not wait for Apply (on SQLite, in WAL mode, which [Connect]
// sets).
//
// As for Put, a connection lost while the write is in flight leaves its
// outcome unknown; on PostgreSQL so does a ctx cancelled while the write
// statement runs (the server may finish and commit it). The events were
// then applied once or not at all: applying them again finds them seen.
func (s *Store) Apply(ctx context.Context, ws []lifecycle.Write) {
	if err := ctxErr(ctx); err != nil {
		for i := range ws {
			ws[i].Err = err
		}
		return
	}
	// Writes to IDs the store could never hold see a new customer, and
	// runFn's checks refuse any change their fn makes, as Put would.
	todo := make([]*lifecycle.Write, 0, len(ws))
	var ids map[string]bool // (for more than one write)
	if len(ws) > 1 {
		ids = make(map[string]bool, len(ws))
	}
	for i := range ws {
		w := &ws[i]
		w.Err = nil
		if ids != nil {
			if ids[w.ID] {
				// Applier's IDs are distinct; two writes of one customer
				// in one statement would store one of them.
				w.Err = fmt.Errorf("sqlstore: customer %q appears more than once in one Apply: %w", truncate(w.ID), lifecycle.ErrConflict)
				continue
			}
			ids[w.ID] = true
		}
		if validID(w.ID) {
			todo = append(todo, w)
			continue
		}
		_, _, _, err := runFn(w.ID, new(lifecycle.Customer), false, make([]bool, len(w.Events)), w.Fn, nil)
		if fnErr, ok := err.(fnError); ok {
			err = fnErr.err
		}
		w.Err = err
	}
	if len(todo) == 0 {
		return
	}
	for attempt := 0; ; attempt++ {
		var called bool
		var err error
		switch s.dialect {
		case Postgres:
			called, err = s.applyPostgres(ctx, todo)
		default:
			called, err = s.applySQLite(ctx, todo)
		}
		if err == nil {
			return
		}
		cerr := ctxErr(ctx)
		if cerr != nil {
			err = cerr
		}
		if called || cerr != nil || !isTransient(err) || attempt >= s.retries {
			fail(ctx, todo, err, false)
			return
		}
		s.log.DebugContext(ctx, "sqlstore: transient failure before apply, retrying", "customers", len(todo), "attempt", attempt+1, "err", err.Error())
		if err := sleep(ctx, backoff(attempt)); err != nil {
			fail(ctx, todo, err, false)
			return
		}
	}
}

// fnError carries the error of a write's fn through runFn.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// lookupKeys returns the keys Apply looks up for ws: each event's key and
// legacy key.
func lookupKeys(ws []*lifecycle.Write) []lifecycle.EventKey {
	n := 0
	for _, w := range ws {
		n += len(w.Events)
	}
	keys := make([]lifecycle.EventKey, 0, 2*n)
	for _, w := range ws {
		for _, e := range w.Events {
			keys = append(keys, lifecycle.KeyOf(e), lifecycle.LegacyKeyOf(e))
		}
	}
	return keys
}

// stored is one customer row as Apply read it, or, in the row cache, as
// it wrote it.
type stored struct {
	version int64
	data    []byte              // as read: the data column
	held    *lifecycle.Customer // as written (History included, Seen empty); changed only by the write that takes it from the cache
	keys    string              // the keys found among those looked up, in hexadecimal
	xmin    string              // PostgreSQL: the row version's transaction ID
	// legacy: the customer may have events stored under legacy keys
	// (from before schema 3), so a write of the held row guards each
	// event's legacy key too. Every read and every applyCreate1 sets it
	// (hasLegacy), and a write carries it over to the row it holds next:
	// after migration 3, legacy keys are stored only by Put, which makes
	// the row another row version (a new xmin), refused from a held row.
	legacy bool
}

// rowCacheSize is how many customers' rows a PostgreSQL Store holds for
// Apply, decoded (a few KB each).
const rowCacheSize = 4096

// rowCache holds the customers a PostgreSQL Store last wrote through
// Apply, decoded, so that the next Apply to the same customer needs no
// read (nor JSON decoding): it takes the customer held out of the cache
// (a concurrent Apply to the same customer reads it instead) and runs fn
// on it, as if none of the events were seen, and its
// write statement stores the change only if the row is still the one
// held (the same version and xmin, the transaction ID of the row version,
// which a customer deleted and created again does not share) and none of
// the events' keys is stored. Otherwise the write stores nothing and is a
// lost race (ErrConflict): the row is dropped, and the Tracker's next
// Apply reads it; a fn that reports no change on the held row is called
// again on the row read (nothing would check that decision). So a customer
// written through one instance costs one round trip per event, and the
// cache is never trusted: a stale row only costs a retry or a read.
type rowCache struct {
	mu sync.Mutex
	m  map[string]*stored
}

func (c *rowCache) get(id string) (*stored, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[id]
	return r, ok
}

// take removes id's row from the cache and returns it: the caller owns
// its customer, and puts the row written back.
func (c *rowCache) take(id string) (*stored, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[id]
	delete(c.m, id)
	return r, ok
}

func (c *rowCache) put(id string, r *stored) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*stored)
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= rowCacheSize {
		for k := range c.m { // evict one, at random
			delete(c.m, k)
			break
		}
	}
	c.m[id] = r
}

func (c *rowCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// prepare returns w's customer c: the one row holds (taken from the row
// cache: this write owns it), or one decoded from row (nil: none stored);
// it sets seen from the keys found and runs w's fn. It returns what to
// write, or write false when there is nothing, and how many transitions
// the stored history held (those fn appended past it are new changes); an
// error is w's outcome (fn's error, a refused change, an undecodable row).
func prepare(w *lifecycle.Write, row *stored, seen []bool, buf *[]byte) (c *lifecycle.Customer, prev uint64, old int, data []byte, write bool, err error) {
	switch {
	case row != nil && row.held != nil:
		c = row.held
		c.Seen = lifecycle.EventSet{} // as promised to fn, whatever the last fn left in it
	case row != nil:
		c = new(lifecycle.Customer)
		if err := decode(c, w.ID, row.version, row.data, ""); err != nil {
			return c, 0, 0, nil, false, err
		}
	default:
		c = new(lifecycle.Customer)
	}
	if row != nil {
		if row.keys != "" {
			var got lifecycle.EventSet
			if err := parseKeys(&got, row.keys); err != nil {
				return c, 0, 0, nil, false, fmt.Errorf("sqlstore: customer %q: %w", w.ID, err)
			}
			for i, e := range w.Events {
				seen[i] = got.Has(e)
			}
		}
	}
	if row != nil {
		old = len(c.History)
	}
	prev, data, write, err = runFn(w.ID, c, row != nil, seen, w.Fn, buf)
	if fnErr, ok := err.(fnError); ok {
		err = fnErr.err
	}
	return c, prev, old, data, write, err
}

// runFn calls fn on c (made a new customer with ID id when found is
// false, no row having been read) and, when fn reports a change, checks
// it and returns the encoded data; write is false when there is nothing
// to store. An error of fn comes back as a fnError.
//
// The data is appended to *buf when buf is not nil (see dataBufs), and is
// then valid until the buffer is put back.
func runFn(id string, c *lifecycle.Customer, found bool, seen []bool, fn func(c *lifecycle.Customer, seen []bool) (bool, error), buf *[]byte) (prev uint64, data []byte, write bool, err error) {
	if !found {
		*c = lifecycle.Customer{ID: id}
	}
	prev = c.Version
	// fn gets an empty History (lifecycle.Applier lets the store choose)
	// and the stored one is kept aside: only what fn appends is added to
	// it, whatever fn does to the slice it was given.
	stored := c.History[:len(c.History):len(c.History)]
	c.History = nil
	changed, err := fn(c, seen)
	if err != nil {
		c.History = stored
		return 0, nil, false, fnError{err}
	}
	if !changed {
		c.History = stored
		return 0, nil, false, nil
	}
	if len(c.History) == 0 {
		c.History = stored
	} else {
		c.History = append(stored, c.History...)
	}
	c.ID = id
	if err := store.CheckPut(c, prev); err != nil {
		return 0, nil, false, err
	}
	if err := check(c); err != nil {
		return 0, nil, false, err
	}
	if buf == nil {
		data, err = encode(c)
	} else {
		if n := encodedSize(c); len(*buf) > 0 && cap(*buf)-len(*buf) < n {
			// A new buffer, not a larger copy: the data before stays
			// where it is (an import's chunk would otherwise hold every
			// size the buffer grew through).
			*buf = make([]byte, 0, max(n, min(2*cap(*buf), maxDataBuf)))
		}
		start := len(*buf)
		*buf, err = appendEncode(*buf, c)
		data = (*buf)[start:len(*buf):len(*buf)]
	}
	if err != nil {
		return 0, nil, false, err
	}
	return prev, data, true, nil
}

// dataBufs holds the buffers an Apply encodes its customers' data column
// into: each write statement copies the data into its parameters, so the
// buffer is free again when Apply's statements have run.
var dataBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxDataBuf is the largest buffer dataBufs keeps (an import's chunk
// takes far more, once).
const maxDataBuf = 1 << 20

func getDataBuf() *[]byte {
	b := dataBufs.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

func putDataBuf(b *[]byte) {
	if cap(*b) <= maxDataBuf {
		dataBufs.Put(b)
	}
}

// applyPostgres is one attempt of Apply on PostgreSQL. called reports
// whether any fn ran; once one has, every write's Err is set and the
// error is nil.
func (s *Store) applyPostgres(ctx context.Context, ws []*lifecycle.Write) (called bool, err error) {
	// The write statement locks the rows it updates in the order of ID:
	// two statements whose stored customers overlap take their rows in
	// the same order and do not deadlock (which PostgreSQL detects only
	// after deadlock_timeout, and which fails every write of one of
	// them); its inserts, after the updates, can (see Apply).
	slices.SortFunc(ws, func(a, b *lifecycle.Write) int { return strings.Compare(a.ID, b.ID) })
	look := lookupKeys(ws)
	buf := getDataBuf()
	defer putDataBuf(buf)
	// The customers whose row this Store holds are not read: their write
	// is guarded instead (see rowCache). The others are read, with the
	// keys of their events.
	found := make(map[string]*stored, len(ws))
	held := make(map[string]bool, len(ws))
	// (The arguments are sized up front: an import chunk has 100,000
	// events, and growing them by appending cost more than filling them.)
	ids := make([]string, 0, len(ws))
	if len(ws) == 1 && len(ws[0].Events) == 1 {
		// One customer this Store does not hold, and one event (Record's
		// usual case): the write that creates it also reads it, if it
		// exists.
		w := ws[0]
		if _, ok := s.rows.get(w.ID); !ok {
			row, done := s.createPostgres(ctx, w, look, buf)
			if done {
				return true, nil
			}
			if row != nil {
				found[w.ID] = row
			}
		}
	}
	for _, w := range ws {
		if _, ok := found[w.ID]; ok {
			continue
		}
		if r, ok := s.rows.take(w.ID); ok {
			found[w.ID], held[w.ID] = r, true
			continue
		}
		ids = append(ids, w.ID)
	}
	if len(ids) > 0 {
		// The keys looked up are those of the customers read: of all of
		// them; or, for many customers (an import's chunk), of those
		// found by a first read without keys, since into an empty or
		// new part of the store most are new and have none.
		keysOf := func(want func(id string) bool) (keyIDs []string, keyArg [][]byte) {
			keyIDs, keyArg = make([]string, 0, len(look)), make([][]byte, 0, len(look))
			k := 0
			for _, w := range ws {
				evKeys := look[k : k+2*len(w.Events)]
				k += 2 * len(w.Events)
				if !held[w.ID] && want(w.ID) {
					for i := range evKeys {
						keyIDs, keyArg = append(keyIDs, w.ID), append(keyArg, evKeys[i][:])
					}
				}
			}
			return keyIDs, keyArg
		}
		if len(ids) < copyMin {
			keyIDs, keyArg := keysOf(func(string) bool { return true })
			if err := s.readPostgres(ctx, ids, keyIDs, keyArg, found); err != nil {
				return false, err
			}
		} else {
			if err := s.readPostgres(ctx, ids, nil, nil, found); err != nil {
				return false, err
			}
			some := ids[:0:0]
			for _, id := range ids {
				if found[id] != nil {
					some = append(some, id)
				}
			}
			if len(some) > 0 {
				keyIDs, keyArg := keysOf(func(id string) bool { return found[id] != nil })
				if err := s.readPostgres(ctx, some, keyIDs, keyArg, found); err != nil {
					return false, err
				}
			}
		}
	}
	k := 0
	// Run the fns, and gather the rows and keys to write.
	n := len(ws)
	var (
		wIDs, stages, xmins   []string
		datas                 [][]byte
		versions, dues, prevs []int64
		asOfs                 []time.Time
		kIDs, gIDs, chIDs     []string
		kKeys, gKeys          [][]byte
		chSeqs                []int64
		writing               []*lifecycle.Write
		prevOf                []uint64
		cs                    []*lifecycle.Customer // as written, for the row cache
		ends                  [][3]int              // per write: the ends of its rows in kIDs, gIDs, chIDs
	)
	if n == 1 && len(look) == 2 {
		// One write of one event (a Record): all of them in one
		// allocation, not fourteen.
		one := new(struct {
			wIDs, stages, xmins, kIDs [1]string
			gIDs                      [2]string
			datas, kKeys              [1][]byte
			gKeys                     [2][]byte
			versions, dues, prevs     [1]int64
			asOfs                     [1]time.Time
			writing                   [1]*lifecycle.Write
			prevOf                    [1]uint64
			cs                        [1]*lifecycle.Customer
			ends                      [1][3]int
		})
		wIDs, stages, xmins, kIDs, gIDs = one.wIDs[:0], one.stages[:0], one.xmins[:0], one.kIDs[:0], one.gIDs[:0]
		datas, kKeys, gKeys = one.datas[:0], one.kKeys[:0], one.gKeys[:0]
		versions, dues, prevs, asOfs = one.versions[:0], one.dues[:0], one.prevs[:0], one.asOfs[:0]
		writing, prevOf, cs, ends = one.writing[:0], one.prevOf[:0], one.cs[:0], one.ends[:0]
	} else {
		wIDs, stages, xmins = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		datas = make([][]byte, 0, n)
		versions, dues, prevs = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		asOfs = make([]time.Time, 0, n)
		kIDs, kKeys = make([]string, 0, len(look)/2), make([][]byte, 0, len(look)/2)
		writing, prevOf, cs, ends = make([]*lifecycle.Write, 0, n), make([]uint64, 0, n), make([]*lifecycle.Customer, 0, n), make([][3]int, 0, n)
	}
	k = 0
	var recheck []*lifecycle.Write
	for _, w := range ws {
		row := found[w.ID]
		seen := make([]bool, len(w.Events))
		c, prev, old, data, write, err := prepare(w, row, seen, buf)
		called = true
		evKeys := look[k : k+2*len(w.Events)]
		k += 2 * len(w.Events)
		if err == nil && !write && held[w.ID] {
			// No change, decided on the row this Store held, which another
			// Store may have written since (a sweep would then pass over a
			// customer who is due, again and again): nothing guards a
			// decision to write nothing, so make it again on the row read.
			s.rows.drop(w.ID)
			recheck = append(recheck, w)
			continue
		}
		if err != nil || !write {
			w.Err = err
			continue
		}
		writing, prevOf, cs = append(writing, w), append(prevOf, prev), append(cs, c)
		wIDs, stages, datas = append(wIDs, c.ID), append(stages, string(c.Stage)), append(datas, data)
		versions, prevs, asOfs = append(versions, int64(c.Version)), append(prevs, int64(prev)), append(asOfs, c.AsOf)
		dues = append(dues, dueCol(c.Due))
		// A stored row is written only if it is still the row version
		// read or held (its xmin): a customer deleted and created again
		// at the same version in between is another row. A held row's
		// events are checked too (a read row's were, by the read): by
		// the insert of their keys (see write below) and, for a row that
		// may have legacy keys, by a look-up of its events' keys and
		// legacy keys, its guards.
		xmin := ""
		if row != nil {
			xmin = row.xmin
		}
		if held[w.ID] && row.legacy {
			for i := range evKeys {
				gIDs, gKeys = append(gIDs, c.ID), append(gKeys, evKeys[i][:])
			}
		}
		xmins = append(xmins, xmin)
		for i := range w.Events {
			if !seen[i] {
				kIDs, kKeys = append(kIDs, c.ID), append(kKeys, evKeys[2*i][:])
			}
		}
		for seq := old + 1; seq <= len(c.History); seq++ {
			chIDs, chSeqs = append(chIDs, c.ID), append(chSeqs, int64(seq))
		}
		ends = append(ends, [3]int{len(kIDs), len(gIDs), len(chIDs)})
	}
	if len(recheck) > 0 {
		if _, err := s.applyPostgres(ctx, recheck); err != nil {
			for _, w := range recheck {
				w.Err = err
			}
		}
	}
	if len(writing) == 0 {
		return called, nil
	}
	// The writes go in parts (see splitWrites), each on a connection of
	// its own, at once. span returns part p's writes, lo to hi, and where
	// their keys, guards and change rows start and end (see ends).
	parts := splitWrites(len(writing))
	span := func(p int) (lo, hi int, from, to [3]int) {
		lo, hi = parts[p][0], parts[p][1]
		if lo > 0 {
			from = ends[lo-1]
		}
		return lo, hi, from, ends[hi-1]
	}
	if len(writing) >= copyMin && !slices.ContainsFunc(prevs, func(p int64) bool { return p != 0 }) {
		// Only customers not stored yet, and many (an Import into an empty
		// store): COPY them and their keys, each part in a transaction of
		// its own (or, through a driver that is not pgx's own, the write
		// statements below).
		errs := make([]error, len(parts))
		cp := func(p int) {
			lo, hi, from, to := span(p)
			errs[p] = s.copyNew(ctx, wIDs[lo:hi], stages[lo:hi], versions[lo:hi], asOfs[lo:hi], datas[lo:hi], dues[lo:hi],
				kIDs[from[0]:to[0]], kKeys[from[0]:to[0]], chIDs[from[2]:to[2]], chSeqs[from[2]:to[2]])
		}
		atOnce(len(parts), cp)
		// (Whether the connections are pgx's is the driver's, the same
		// for every part, and copyNew finds out before it writes
		// anything: when one part learnt they are not, no part wrote,
		// and every write goes by the write statements. A part may have
		// failed before it could find out, to get its connection.)
		if !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, errNotPgx) }) {
			for p, err := range errs {
				if err != nil {
					lost := isUniqueViolation(err) // another writer created one of them
					fail(ctx, writing[parts[p][0]:parts[p][1]], err, lost || isTransient(err))
				}
			}
			return true, nil
		}
	}
	// The write statements: one per part, run at once.
	//
	// A held row's events are checked by the insert of their keys: a key
	// stored already fails the statement (a unique violation). A
	// statement that fails so runs once more with every key it inserts
	// among the guards, so that only the customer who had the event is
	// not written, the others unaffected.
	wons, errs := make([]map[string]written, len(parts)), make([]error, len(parts))
	write := func(p int) {
		lo, hi, from, to := span(p)
		if len(writing) == 1 && len(writing[0].Events) == 1 && len(kKeys) == 1 && prevs[0] > 0 && len(gKeys) == 0 {
			// One stored customer and one event, not seen, and no legacy
			// key to guard (a held row that may have legacy keys, and a
			// write of several events of which fn left one unseen, take
			// applyWrite).
			wons[p], _, errs[p] = s.writeOne(ctx, wIDs[0], stages[0], versions[0], asOfs[0], datas[0], dues[0], prevs[0], kKeys[0], xmins[0], chSeqs, [2][]byte{})
			if isUniqueViolation(errs[p]) {
				// Its key is stored (an event a held row's customer had,
				// or one another writer stored since the read): the
				// customer was not written, a lost race told as
				// applyWrite's are.
				wons[p], errs[p] = nil, nil
			}
			return
		}
		k0, k1, g0, g1, c0, c1 := from[0], to[0], from[1], to[1], from[2], to[2]
		a := writeArgs{wIDs[lo:hi], stages[lo:hi], versions[lo:hi], asOfs[lo:hi], datas[lo:hi],
			dues[lo:hi], prevs[lo:hi], kIDs[k0:k1], kKeys[k0:k1], xmins[lo:hi], gIDs[g0:g1], gKeys[g0:g1], chIDs[c0:c1], chSeqs[c0:c1]}
		wons[p], errs[p] = s.writePostgres(ctx, a)
		if isUniqueViolation(errs[p]) {
			a.gIDs, a.gKeys = append(slices.Clip(a.gIDs), a.kIDs...), append(slices.Clip(a.gKeys), a.kKeys...)
			wons[p], errs[p] = s.writePostgres(ctx, a)
		}
	}
	atOnce(len(parts), write)
	var lost []string
	lostAt := make([]int, 0, len(writing))
	for p, pt := range parts {
		part := writing[pt[0]:pt[1]]
		if err := errs[p]; err != nil {
			for _, w := range part {
				s.rows.drop(w.ID)
			}
			// (A unique violation left after applyWrite's second run: a
			// customer created meanwhile whose key another writer
			// stored; a lost race too.)
			fail(ctx, part, err, isTransient(err) || isUniqueViolation(err))
			continue
		}
		for i := pt[0]; i < pt[1]; i++ {
			w := writing[i]
			if wr, ok := wons[p][w.ID]; ok {
				legacy := wr.legacy || (found[w.ID] != nil && found[w.ID].legacy)
				s.rows.put(w.ID, &stored{version: int64(prevOf[i] + 1), held: cs[i], xmin: wr.xmin, legacy: legacy})
				continue
			}
			s.rows.drop(w.ID)
			lost, lostAt = append(lost, w.ID), append(lostAt, i)
		}
	}
	if len(lost) == 0 {
		return called, nil
	}
	have := s.versionsOf(ctx, lost)
	for _, i := range lostAt {
		w := writing[i]
		if held[w.ID] {
			w.Err = fmt.Errorf("sqlstore: customer %q: the row this Store held (version %d) is no longer the stored one (stored version %d), or one of the events was applied before: %w", w.ID, prevOf[i], have[w.ID], lifecycle.ErrConflict)
			continue
		}
		w.Err = &store.ConflictError{ID: w.ID, Want: prevOf[i], Have: have[w.ID]}
	}
	return called, nil
}

// atOnce calls f(0) to f(n-1) at once, each but the first in a goroutine
// of its own, and returns when all have returned.
func atOnce(n int, f func(p int)) {
	var wg sync.WaitGroup
	for p := 1; p < n; p++ {
		wg.Go(func() { f(p) })
	}
	f(0)
	wg.Wait()
}

// splitMin is the fewest customers whose write statement splitWrites
// splits in two.
const splitMin = 64

// splitWrites returns the parts (lo, hi) of n writes, sorted by customer
// ID, that get a write statement each: one part, or two halves for
// splitMin or more. The statements run at once, each on its connection
// and in its own transaction: the server does the two halves in parallel
// while the process waits (a write statement takes longer on the server
// than its arguments take to build), and each locks its customers in
// the order of ID, the halves' IDs do not overlap, so they do not wait for
// each other.
func splitWrites(n int) [][2]int {
	if n < splitMin {
		return [][2]int{{0, n}}
	}
	return [][2]int{{0, n / 2}, {n / 2, n}}
}

// copyMin is how many new customers one Apply must write before they are
// written with COPY instead of the write statement.
const copyMin = 1000

// copyNew writes new customers and their keys with COPY, in one
// transaction on one connection: all of them or, after an error, none
// (Apply calls it for each half of its customers at once). A
// customer another writer created meanwhile fails it with a unique
// violation (SQLSTATE 23505).
func (s *Store) copyNew(ctx context.Context, ids, stages []string, versions []int64, asOfs []time.Time, datas [][]byte, dues []int64, kIDs []string, kKeys [][]byte, chIDs []string, chSeqs []int64) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		// The rows are written with COPY in binary form (see copyReader).
		err = s.copyIn(ctx, pc, "customers", "id, stage, version, as_of, data, due", len(ids), func(c *copyRows, i int) {
			c.row(6)
			c.text(ids[i])
			c.text(stages[i])
			c.int8(versions[i])
			c.timestamptz(asOfs[i])
			c.bytea(datas[i])
			if dues[i] == math.MaxInt64 {
				c.null()
			} else {
				c.int8(dues[i])
			}
		})
		if err != nil {
			return err
		}
		err = s.copyIn(ctx, pc, "events", "customer_id, key", len(kIDs), func(c *copyRows, i int) {
			c.row(2)
			c.text(kIDs[i])
			c.bytea(kKeys[i])
		})
		if err != nil {
			return err
		}
		if len(chIDs) > 0 {
			err = s.copyIn(ctx, pc, "changes", "customer_id, seq", len(chIDs), func(c *copyRows, i int) {
				c.row(2)
				c.text(chIDs[i])
				c.int8(chSeqs[i])
			})
			if err != nil {
				return err
			}
		}
		if err := ctxErr(ctx); err != nil {
			return err
		}
		return tx.Commit(context.WithoutCancel(ctx))
	})
}

// copyIn runs COPY of n rows, which row encodes (see copyReader), into
// the columns cols of the store's table, on conn.
func (s *Store) copyIn(ctx context.Context, conn *pgx.Conn, table, cols string, n int, row func(c *copyRows, i int)) error {
	_, err := conn.PgConn().CopyFrom(ctx, newCopyReader(n, row),
		"COPY "+pgx.Identifier{s.prefix + table}.Sanitize()+" ("+cols+") FROM STDIN (FORMAT binary)")
	return err
}

// readPostgres reads the customers ids, and which of the keys keyArg
// (each of the customer in keyIDs at the same place) they have, into
// found.
func (s *Store) readPostgres(ctx context.Context, ids, keyIDs []string, keyArg [][]byte, found map[string]*stored) error {
	rows, err := s.db.QueryContext(ctx, s.q.applyRead, ids, keyIDs, keyArg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r stored
		var keys sql.NullString
		if err := rows.Scan(&id, &r.version, &r.data, &r.xmin, &keys, &r.legacy); err != nil {
			return err
		}
		r.keys = keys.String
		found[id] = &r
	}
	return rows.Err()
}

// createPostgres is the first attempt of an Apply of one write w whose
// customer this Store does not hold: instead of reading the customer, it
// calls w.Fn on a new one and writes the result as new (one round trip
// for a new customer). When the customer exists, that write does
// nothing and returns the stored row instead, with which of the keys
// look it has: row, for applyPostgres to call w.Fn again on and write as
// after a read. done reports that w's outcome is set (written, or a
// failure); with row nil and done false (w.Fn made no change to a new
// customer, so whether one is stored matters), the customer is read as
// usual.
func (s *Store) createPostgres(ctx context.Context, w *lifecycle.Write, look []lifecycle.EventKey, buf *[]byte) (row *stored, done bool) {
	c := new(lifecycle.Customer)
	seen := make([]bool, len(w.Events))
	_, data, write, err := runFn(w.ID, c, false, seen, w.Fn, buf)
	if err != nil || !write {
		// Whether w.Fn's error or lack of change holds for the stored
		// customer too is not known: read it.
		return nil, false
	}
	seqs := make([]int64, len(c.History))
	for i := range seqs {
		seqs[i] = int64(i + 1)
	}
	won, row, err := s.writeOne(ctx, c.ID, string(c.Stage), int64(c.Version), c.AsOf, data, dueCol(c.Due), 0, look[0][:], "", seqs, [2][]byte{look[0][:], look[1][:]})
	switch {
	case err != nil:
		s.rows.drop(w.ID)
		fail(ctx, []*lifecycle.Write{w}, err, isTransient(err))
		return nil, true
	case row != nil:
		return row, false
	}
	if wr, ok := won[w.ID]; ok {
		s.rows.put(w.ID, &stored{version: int64(c.Version), held: c, xmin: wr.xmin, legacy: wr.legacy})
		return nil, true
	}
	// Created by another writer after the statement's snapshot was taken:
	// neither written nor read.
	w.Err = &store.ConflictError{ID: w.ID, Want: 0, Have: s.versionsOf(ctx, []string{w.ID})[w.ID]}
	return nil, true
}

// written is what a write statement returns of a customer it wrote: its
// row's new xmin, and whether the customer may have legacy keys (only
// applyCreate1 and applyWrite, for the customers they create, say; for
// the rows they update the read or held row did).
type written struct {
	xmin   string
	legacy bool
}

// writeOne runs applyUpdate1 or applyUpdate1Changes (prev > 0) or
// applyCreate1 (prev 0) for one customer and its one new event's key, and
// returns the ID it wrote (in won), or, for a customer written as new
// that was stored already, the stored row with which of the keys look
// (the event's key and legacy key) it has and whether it may have legacy
// keys. xmin is applyUpdate1's, look applyCreate1's. As
// writePostgres does, it sends parameters it encoded itself (see
// execPgx), or, through a driver that is not pgx's own, uses database/sql.
func (s *Store) writeOne(ctx context.Context, id, stage string, version int64, asOf time.Time, data []byte, due, prev int64,
	key []byte, xmin string, seqs []int64, look [2][]byte) (won map[string]written, row *stored, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	won = make(map[string]written, 1)
	p := paramsPool.Get().(*params)
	defer paramsPool.Put(p)
	err = conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		p.reset(4*12 + len(id) + len(stage) + 8 + 8 + len(data) + 8 + 8 + len(key) + len(xmin) +
			arrayBytes(len(seqs), 8*len(seqs)) + len(look[0]) + len(look[1]))
		p.text(id)
		p.text(stage)
		p.int8(version)
		p.timestamptz(asOf)
		p.bytea(data)
		p.int8(due)
		name, sql, oids := s.q.one(prev, len(seqs) > 0)
		if prev > 0 {
			p.int8(prev)
			p.bytea(key)
			p.text(xmin)
			if len(seqs) > 0 {
				p.int8s(seqs)
			}
		} else {
			p.bytea(key)
			p.int8s(seqs)
			p.bytea(look[0])
			p.bytea(look[1])
		}
		return s.execPgx(ctx, pc, name, sql, p.vals, oids, func(v [][]byte) error {
			// applyUpdate1's rows: the ID and the new xmin;
			// applyCreate1's: the same and whether the customer may have
			// legacy keys, and for a stored customer its row.
			if len(v) == 2 {
				won[string(v[0])] = written{xmin: string(v[1])}
				return nil
			}
			if len(v) != 6 || len(v[5]) != 1 || (v[2] != nil && len(v[2]) != 8) {
				return fmt.Errorf("sqlstore: applyCreate1 returned %d columns", len(v))
			}
			legacy := v[5][0] != 0
			if v[2] == nil {
				won[string(v[0])] = written{xmin: string(v[1]), legacy: legacy}
				return nil
			}
			row = &stored{version: int64(binary.BigEndian.Uint64(v[2])), data: bytes.Clone(v[3]), xmin: string(v[1]), keys: string(v[4]), legacy: legacy}
			return nil
		})
	})
	if errors.Is(err, errNotPgx) {
		return s.writeOneQuery(ctx, id, stage, version, asOf, data, due, prev, key, xmin, seqs, look)
	}
	if err != nil {
		return nil, nil, err
	}
	return won, row, nil
}

// updateOneOIDs and createOneOIDs are the types of applyUpdate1Changes'
// parameters (applyUpdate1's are the first 9) and applyCreate1's.
var (
	updateOneOIDs = []uint32{
		pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID, pgtype.TimestamptzOID, pgtype.ByteaOID, pgtype.Int8OID, pgtype.Int8OID,
		pgtype.ByteaOID, pgtype.TextOID, pgtype.Int8ArrayOID,
	}
	createOneOIDs = []uint32{
		pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID, pgtype.TimestamptzOID, pgtype.ByteaOID, pgtype.Int8OID,
		pgtype.ByteaOID, pgtype.Int8ArrayOID, pgtype.ByteaOID, pgtype.ByteaOID,
	}
)

// writeOneQuery is writeOne through database/sql, for a driver that is
// not pgx's own.
func (s *Store) writeOneQuery(ctx context.Context, id, stage string, version int64, asOf time.Time, data []byte, due, prev int64,
	key []byte, xmin string, seqs []int64, look [2][]byte) (won map[string]written, row *stored, err error) {
	_, query, _ := s.q.one(prev, len(seqs) > 0)
	args := []any{id, stage, version, asOf, data, due}
	switch {
	case prev == 0:
		args = append(args, key, seqs, look[0], look[1])
	case len(seqs) > 0:
		args = append(args, prev, key, xmin, seqs)
	default:
		args = append(args, prev, key, xmin)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	won = make(map[string]written, 1)
	for rows.Next() {
		var got, x string
		var v sql.NullInt64
		var d []byte
		var k sql.NullString
		var legacy bool
		dest := []any{&got, &x, &v, &d, &k, &legacy}
		if prev > 0 {
			dest = dest[:2] // applyUpdate1's ID and xmin
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		if !v.Valid {
			won[got] = written{xmin: x, legacy: legacy}
			continue
		}
		row = &stored{version: v.Int64, data: d, xmin: x, keys: k.String, legacy: legacy}
	}
	return won, row, rows.Err()
}

// errNotPgx is pgxConn's error for a connection that is not pgx's own
// (a database/sql driver wrapped for tracing, say): the store then sends
// its statements through database/sql instead.
var errNotPgx = errors.New("sqlstore: the database/sql driver's connection is not pgx's (github.com/jackc/pgx/v5/stdlib)")

// pgxConn returns the pgx connection under a database/sql driver
// connection, or an error wrapping errNotPgx.
func pgxConn(dc any) (*pgx.Conn, error) {
	c, ok := dc.(*stdlib.Conn)
	if !ok {
		return nil, fmt.Errorf("%w: it is a %T", errNotPgx, dc)
	}
	return c.Conn(), nil
}

// pgxConfig is what writePostgres reads of the pgx connections' config,
// once per Store (pgx.Conn.Config copies the whole config).
type pgxConfig struct {
	once    sync.Once
	tracer  pgx.QueryTracer
	prepare bool // the query mode is pgx's default: statements prepared once per connection
}

func (c *pgxConfig) of(pc *pgx.Conn) *pgxConfig {
	c.once.Do(func() {
		cfg := pc.Config()
		c.tracer, _ = cfg.Tracer.(pgx.QueryTracer)
		c.prepare = cfg.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement
	})
	return c
}

// writeArgs are applyWrite's parameters, $1 to $14.
type writeArgs struct {
	ids, stages []string
	versions    []int64
	asOfs       []time.Time
	datas       [][]byte
	dues, prevs []int64
	kIDs        []string
	kKeys       [][]byte
	xmins, gIDs []string
	gKeys       [][]byte
	chIDs       []string
	chSeqs      []int64
}

// writeOIDs are the types of applyWrite's parameters.
var writeOIDs = []uint32{
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.Int8ArrayOID, pgtype.TimestamptzArrayOID, pgtype.ByteaArrayOID,
	pgtype.Int8ArrayOID, pgtype.Int8ArrayOID, pgtype.TextArrayOID, pgtype.ByteaArrayOID, pgtype.TextArrayOID,
	pgtype.TextArrayOID, pgtype.ByteaArrayOID, pgtype.TextArrayOID, pgtype.Int8ArrayOID,
}

// writePostgres runs applyWrite and returns the IDs it wrote. It sends the parameters it encoded itself (see
// params): to the statement prepared on the connection under a name of
// its own when the connections use pgx's default query mode (prepared
// statements cached), else as an unnamed statement; and it calls the
// connections' tracer as pgx's Query would. Through a database/sql
// driver that is not pgx's own it sends the statement with database/sql.
func (s *Store) writePostgres(ctx context.Context, a writeArgs) (won map[string]written, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	won = make(map[string]written, len(a.ids))
	p := paramsPool.Get().(*params)
	defer paramsPool.Put(p)
	err = conn.Raw(func(dc any) (err error) {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		p.reset(textBytes(a.ids) + textBytes(a.stages) + arrayBytes(len(a.versions), 8*len(a.versions)) +
			arrayBytes(len(a.asOfs), 8*len(a.asOfs)) + byteaBytes(a.datas) + arrayBytes(len(a.dues), 8*len(a.dues)) +
			arrayBytes(len(a.prevs), 8*len(a.prevs)) + textBytes(a.kIDs) + byteaBytes(a.kKeys) + textBytes(a.xmins) +
			textBytes(a.gIDs) + byteaBytes(a.gKeys) + textBytes(a.chIDs) + arrayBytes(len(a.chSeqs), 8*len(a.chSeqs)))
		p.texts(a.ids)
		p.texts(a.stages)
		p.int8s(a.versions)
		p.times(a.asOfs)
		p.byteas(a.datas)
		p.int8s(a.dues)
		p.int8s(a.prevs)
		p.texts(a.kIDs)
		p.byteas(a.kKeys)
		p.texts(a.xmins)
		p.texts(a.gIDs)
		p.byteas(a.gKeys)
		p.texts(a.chIDs)
		p.int8s(a.chSeqs)
		return s.execPgx(ctx, pc, s.q.nameWrite, s.q.applyWrite, p.vals, writeOIDs, func(v [][]byte) error {
			if len(v) != 3 || len(v[2]) != 1 {
				return fmt.Errorf("sqlstore: applyWrite returned %d columns", len(v))
			}
			won[string(v[0])] = written{xmin: string(v[1]), legacy: v[2][0] != 0}
			return nil
		})
	})
	if errors.Is(err, errNotPgx) {
		return s.writeQuery(ctx, a)
	}
	if err != nil {
		return nil, err
	}
	return won, nil
}

// execPgx runs one of the store's statements on pc with parameters the
// store encoded itself, in PostgreSQL's binary form (vals, of the types
// oids): prepared on the connection under name when the connections use
// pgx's default query mode (statements prepared once per connection)
// and the server gives its parameters those types, else as an unnamed
// statement. It calls row with each result row's values, in binary
// form (valid only during the call), and the connections' tracer as
// pgx's Query would.
func (s *Store) execPgx(ctx context.Context, pc *pgx.Conn, name, sql string, vals [][]byte, oids []uint32, row func(v [][]byte) error) (err error) {
	cfg := s.pgx.of(pc)
	var tag pgconn.CommandTag
	if cfg.tracer != nil {
		ctx = cfg.tracer.TraceQueryStart(ctx, pc, pgx.TraceQueryStartData{SQL: sql})
		defer func() { cfg.tracer.TraceQueryEnd(ctx, pc, pgx.TraceQueryEndData{CommandTag: tag, Err: err}) }()
	}
	binaryFormat := [...]int16{pgx.BinaryFormatCode}
	var rr *pgconn.ResultReader
	var sd *pgconn.StatementDescription
	if cfg.prepare {
		sd, _ = pc.Prepare(ctx, name, sql)
	}
	if sd != nil && slices.Equal(sd.ParamOIDs, oids) {
		rr = pc.PgConn().ExecPrepared(ctx, sd.Name, vals, binaryFormat[:], binaryFormat[:])
	} else {
		// Another query mode (a pooler in front of PostgreSQL, say), or
		// the statement could not be prepared: an unnamed one.
		rr = pc.PgConn().ExecParams(ctx, sql, vals, oids, binaryFormat[:], binaryFormat[:])
	}
	var rowErr error
	for rr.NextRow() {
		if rowErr == nil {
			rowErr = row(rr.Values())
		}
	}
	tag, err = rr.Close()
	if err == nil {
		err = rowErr
	}
	return err
}

// writeQuery is writePostgres through database/sql, for a driver that is
// not pgx's own.
func (s *Store) writeQuery(ctx context.Context, a writeArgs) (map[string]written, error) {
	rows, err := s.db.QueryContext(ctx, s.q.applyWrite, a.ids, a.stages, a.versions, a.asOfs, a.datas, a.dues, a.prevs,
		a.kIDs, a.kKeys, a.xmins, a.gIDs, a.gKeys, a.chIDs, a.chSeqs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	won := make(map[string]written, len(a.ids))
	for rows.Next() {
		var id string
		var wr written
		if err := rows.Scan(&id, &wr.xmin, &wr.legacy); err != nil {
			return nil, err
		}
		won[id] = wr
	}
	return won, rows.Err()
}

// ctxErr returns ctx.Err(), or context.DeadlineExceeded once ctx's
// deadline has passed although ctx does not say so yet: a dial under the
// deadline fails with "i/o timeout" at the deadline, which can come a
// moment before the context's own timer marks it done; for a nil ctx it
// returns [lifecycle.ErrNilContext]: every method of Store that takes a
// context, and Open and Connect, check it so and do nothing for a nil one.
func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return lifecycle.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// fail sets err as the outcome of every write of ws, wrapping
// [lifecycle.ErrConflict] too when conflict is set; when ctx is done, err
// wraps ctx's error too (and no conflict), whatever the driver made of the
// cancellation.
func fail(ctx context.Context, ws []*lifecycle.Write, err error, conflict bool) {
	if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		// The failure follows the cancellation (pgx closes the
		// connection of a cancelled statement: "conn closed"): the
		// caller tests for the context's error. Not a conflict: no retry
		// follows.
		err, conflict = fmt.Errorf("%w: %w", cerr, err), false
	}
	for _, w := range ws {
		if conflict {
			w.Err = fmt.Errorf("sqlstore: apply to customer %q: %w: %w", w.ID, err, lifecycle.ErrConflict)
		} else {
			w.Err = fmt.Errorf("sqlstore: apply to customer %q: %w", w.ID, err)
		}
	}
}

// versionsOf returns the stored versions of ids (missing: 0), as far as
// one query can tell; it is only for error messages.
func (s *Store) versionsOf(ctx context.Context, ids []string) map[string]uint64 {
	out := make(map[string]uint64, len(ids))
	rows, err := s.db.QueryContext(ctx, s.q.versions, ids)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		if rows.Scan(&id, &v) == nil {
			out[id] = uint64(v)
		}
	}
	return out
}

// dueCol is the due column's value for PostgreSQL's applyWrite, which
// turns MaxInt64 into NULL (never).
func dueCol(t time.Time) int64 {
	switch v := dueArg(t).(type) {
	case int64:
		return v
	}
	return math.MaxInt64
}

// applySQLite is one attempt of Apply on SQLite. called reports whether
// any fn ran; once one has, every write's Err is set and the error is
// nil.
func (s *Store) applySQLite(ctx context.Context, ws []*lifecycle.Write) (called bool, err error) {
	select {
	case s.wlock <- struct{}{}:
		defer func() { <-s.wlock }()
	case <-ctx.Done():
		return false, ctxErr(ctx)
	}
	// BEGIN IMMEDIATE takes the write lock before the first read.
	tx, err := beginImmediate(ctx, s.db)
	if err != nil {
		return false, err
	}
	defer tx.end(ctx)
	conn := tx.conn
	look := lookupKeys(ws)
	defer func() {
		// A failure after some fn ran rolls the transaction back: it fails
		// every write not already failed by its own fn (those whose fn
		// reported no change too, which are harmless to apply again).
		if called && err != nil {
			for _, w := range ws {
				if w.Err == nil {
					fail(ctx, []*lifecycle.Write{w}, err, false)
				}
			}
			err = nil
		}
	}()
	k := 0
	for _, w := range ws {
		evKeys := look[k : k+2*len(w.Events)]
		k += 2 * len(w.Events)
		var r stored
		var keys sql.NullString
		row := &r
		err := conn.QueryRowContext(ctx, s.q.applyRead, keyJSON(slices.Values(evKeys)), w.ID).Scan(&r.version, &r.data, &keys)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			row = nil
		case err != nil:
			return called, err
		}
		r.keys = keys.String
		seen := make([]bool, len(w.Events))
		c, prev, old, data, write, err := prepare(w, row, seen, nil)
		called = true
		if err != nil || !write {
			w.Err = err
			continue
		}
		add := keyJSON(func(yield func(lifecycle.EventKey) bool) {
			for i := range w.Events {
				if !seen[i] && !yield(evKeys[2*i]) {
					return
				}
			}
		})
		won, err := s.writeSQLite(ctx, conn, c, prev, data, &add, old)
		if err != nil {
			return called, err
		}
		if !won {
			// Not expected: the write lock is held. Report what is stored.
			var have int64
			if err := conn.QueryRowContext(ctx, s.q.version, w.ID).Scan(&have); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return called, err
			}
			return called, &store.ConflictError{ID: w.ID, Want: prev, Have: uint64(have)}
		}
	}
	err = tx.commit(ctx)
	return called, err
}

// ListDue yields the IDs of the customers whose Due is zero or at or
// before now, as [lifecycle.DueLister] describes, in order of due time
// (a due time outside the years 1678–2261 as the nearest of those years,
// as the due column holds it, then by ID),
// paging through the due index (see [WithScanPageSize]) without holding a
// connection while the loop body runs. A customer whose due time another
// writer moves, during the listing, to a later time still at or before
// now may be yielded again ([lifecycle.Tracker.Sweep] writes it once per
// page, and a second write finds it no longer due).
func (s *Store) ListDue(ctx context.Context, now time.Time) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := ctxErr(ctx); err != nil {
			yield("", err)
			return
		}
		at := unixNanos(now)
		if !now.Before(lifecycle.Never) {
			at = math.MaxInt64
		}
		lastDue, lastID := int64(math.MinInt64), ""
		ids := make([]string, 0, s.page)
		dues := make([]int64, 0, s.page)
		for {
			if err := ctxErr(ctx); err != nil {
				yield("", err)
				return
			}
			var err error
			ids, dues, err = s.duePage(ctx, at, lastDue, lastID, ids[:0], dues[:0])
			if err != nil {
				yield("", err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if len(ids) < s.page {
				return
			}
			lastDue, lastID = dues[len(dues)-1], ids[len(ids)-1]
		}
	}
}

func (s *Store) duePage(ctx context.Context, at, lastDue int64, lastID string, ids []string, dues []int64) ([]string, []int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q.due, at, lastDue, lastID, s.page)
	if err != nil {
		return ids, dues, fmt.Errorf("sqlstore: list due customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var due int64
		if err := rows.Scan(&id, &due); err != nil {
			return ids, dues, fmt.Errorf("sqlstore: list due customers: %w", err)
		}
		ids, dues = append(ids, id), append(dues, due)
	}
	if err := rows.Err(); err != nil {
		return ids, dues, fmt.Errorf("sqlstore: list due customers: %w", err)
	}
	return ids, dues, nil
}
