package store

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// This file holds the compact form in which Memory keeps a customer.
//
// A record keeps the customer's scalars, tallies and sums in its body, a
// pointer-free run of bytes, with every time as UTC Unix nanoseconds and every
// stage ID, event type and currency as a number in the store's symbol
// table; its ID before the body and its history right after it in the
// same byte slice (data), the history an append-only log; and the event keys
// of Seen in seen, 16 bytes a key (a 2-byte tag and 14 more bytes of a
// keyed permutation of the key) in arrival order, in buckets past 128
// keys (keyset.go). A
// typical customer takes about half the memory of a lifecycle.Customer
// (whose time.Time fields are 24 bytes each, every tally 72), in two
// allocations (data, which holds the ID, the body and then the history,
// and seen) instead of six.
//
// A customer the compact form cannot hold exactly — a time that is not UTC
// or is outside what Unix nanoseconds in an int64 hold (about 1677-09-21
// to 2262-04-11), a Seen with legacy keys (see
// lifecycle.LegacyKeyOf), more than 255 tallies or sums, an ID longer
// than 256 bytes, a version or a count that does not fit 32 bits, a cause longer than 65,535 bytes, or a
// symbol table that is full — is kept as a lifecycle.Customer instead (record.full), so every
// Put round-trips exactly (empty slices aside, which come back nil).
//
// The ID and the history are never overwritten (a history that changes
// other than by appending, or whose body changes length, is written to a
// new slice with the ID; see record.put), so the ID and the Cause strings
// decoded from data may point into it and stay valid for ever.

// record is one stored customer.
type record struct {
	full *lifecycle.Customer // non-nil: kept as is, data and seen unused
	data []byte              // the ID, the body, then the history (see id, body, hist and put)
	seen keySet              // the event keys (see keyset.go)
	due  int64               // packDue(Customer.Due), in both forms: ListDue reads it without decoding
	ext  *extra              // nil when the customer has no referrer and no credits
}

// extra holds the rarely set fields that are strings or hold strings.
type extra struct {
	referredBy string
	referrals  []lifecycle.Referral
}

// Layout of body: a fixed header, then nTallies tallies, then nSums sums.
// A version or a count past 2^32−1 (never reached by recording events
// one at a time), or more than 255 tallies or sums, keeps the customer
// whole.
const (
	offVersion  = 0 // uint32
	offStage    = 4 // uint16
	offTallies  = 6 // uint8
	offSums     = 7 // uint8
	offScore    = 8 // the int64s from here on
	offSince    = 16
	offAsOf     = 24
	offFirst    = 32
	offLast     = 40
	offScoreAt  = 48
	offReferred = 56
	headerSize  = 64
	maxIDLen    = 256 // bytes of an ID the head of data holds (its length less one in a byte)
	tallySize   = 22  // type uint16, count uint32, first, last int64
	sumSize     = 12  // type, currency uint16, amount int64
	histFixed   = 14  // from, to uint16, at int64, len(cause) uint16, then the cause
	maxSymbols  = 1 << 16
	zeroTime    = math.MinInt64
	minUnixSec  = math.MinInt64/1_000_000_000 + 1
	maxUnixSec  = math.MaxInt64/1_000_000_000 - 1
)

var le = binary.LittleEndian

// packTime returns t as Unix nanoseconds, or zeroTime for the zero time;
// ok is false when t cannot be restored exactly from that.
func packTime(t time.Time) (int64, bool) {
	if t == (time.Time{}) {
		return zeroTime, true
	}
	if t.Location() != time.UTC {
		return 0, false
	}
	if s := t.Unix(); s < minUnixSec || s > maxUnixSec {
		return 0, false
	}
	return t.UnixNano(), true
}

func unpackTime(ns int64) time.Time {
	if ns == zeroTime {
		return time.Time{}
	}
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return time.Unix(sec, nsec).UTC()
}

// symbols numbers the stage IDs, event types and currencies a Memory has
// stored; 0 is the empty string. Both directions are read without a lock:
// names from an append-only snapshot, numbers from a sync.Map (written
// once per symbol, then only read: the case sync.Map is made for); only
// adding a symbol takes mu.
type symbols struct {
	mu    sync.Mutex // serialises additions
	index sync.Map   // string → uint32
	names atomic.Pointer[[]string]
}

func newSymbols() *symbols {
	y := new(symbols)
	y.index.Store("", uint32(0))
	names := []string{""}
	y.names.Store(&names)
	return y
}

// id returns the number of s, adding it if new; ok is false when the table
// is full.
func (y *symbols) id(s string) (uint32, bool) {
	if i, ok := y.index.Load(s); ok {
		return i.(uint32), true
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	if i, ok := y.index.Load(s); ok {
		return i.(uint32), true
	}
	old := *y.names.Load()
	if len(old) >= maxSymbols {
		return 0, false
	}
	s = canonical(s)
	// Appending in place is safe: readers of older snapshots never look
	// past their length, and the new one is published after the write.
	names := append(old, s)
	y.names.Store(&names)
	i := uint32(len(old))
	y.index.Store(s, i)
	return i, true
}

// canonical returns s as the table keeps it: the library's own constant
// for a standard event type (so that the types Memory decodes share their
// bytes with the constants models and callers compare them with, and
// those comparisons stop at the pointer), else a copy of s (so that the
// table never keeps a caller's larger buffer alive).
func canonical(s string) string {
	for _, t := range lifecycle.StandardTypes() {
		if string(t) == s {
			return string(t)
		}
	}
	return cloneString(s)
}

func cloneString(s string) string { return string([]byte(s)) }

// encodeBody writes c's scalars, tallies and sums to buf[:0] in body
// layout; ok is false when c cannot be held compactly. old, when not nil,
// is the body c was decoded from, with names the symbol table it was
// decoded with: a symbol equal to the one at the same place in old reuses
// its number without a lookup, which is the common case on the hot path.
func encodeBody(buf []byte, c *lifecycle.Customer, y *symbols, old []byte, names []string) ([]byte, bool) {
	f := &c.Facts
	if len(f.Tallies) > math.MaxUint8 || len(f.Sums) > math.MaxUint8 {
		return buf, false
	}
	n := headerSize + tallySize*len(f.Tallies) + sumSize*len(f.Sums)
	b := slices.Grow(buf[:0], n)[:n]
	var oldTallies, oldSums []byte
	if old != nil {
		nt := int(old[offTallies])
		oldTallies = old[headerSize : headerSize+tallySize*nt]
		oldSums = old[headerSize+tallySize*nt:]
	}
	ok := true
	// sym numbers s, reusing the number at old[at:] when it names s.
	sym := func(s string, old []byte, at int) uint32 {
		if at+2 <= len(old) {
			if id := uint32(le.Uint16(old[at:])); int(id) < len(names) && names[id] == s {
				return id
			}
		}
		id, good := y.id(s)
		ok = ok && good
		return id
	}
	tm := func(t time.Time) uint64 {
		ns, good := packTime(t)
		ok = ok && good
		return uint64(ns)
	}
	ok = c.Version <= math.MaxUint32
	le.PutUint32(b[offVersion:], uint32(c.Version))
	le.PutUint16(b[offStage:], uint16(sym(string(c.Stage), old, offStage)))
	b[offTallies], b[offSums] = uint8(len(f.Tallies)), uint8(len(f.Sums))
	le.PutUint64(b[offScore:], uint64(int64(f.Score)))
	le.PutUint64(b[offSince:], tm(c.Since))
	le.PutUint64(b[offAsOf:], tm(c.AsOf))
	le.PutUint64(b[offFirst:], tm(f.First))
	le.PutUint64(b[offLast:], tm(f.Last))
	le.PutUint64(b[offScoreAt:], tm(f.ScoreAt))
	le.PutUint64(b[offReferred:], tm(f.ReferredAt))
	p := b[headerSize:]
	for i := range f.Tallies {
		t := &f.Tallies[i]
		le.PutUint16(p, uint16(sym(string(t.Type), oldTallies, i*tallySize)))
		ok = ok && uint64(t.Count) <= math.MaxUint32
		le.PutUint32(p[2:], uint32(t.Count))
		le.PutUint64(p[6:], tm(t.First))
		le.PutUint64(p[14:], tm(t.Last))
		p = p[tallySize:]
	}
	for i := range f.Sums {
		s := &f.Sums[i]
		le.PutUint16(p, uint16(sym(string(s.Type), oldSums, i*sumSize)))
		le.PutUint16(p[2:], uint16(sym(s.Currency, oldSums, i*sumSize+2)))
		le.PutUint64(p[4:], uint64(s.Amount))
		p = p[sumSize:]
	}
	return b, ok
}

// decodeBody sets c's scalars and facts (but not ID, History or Seen)
// from body, reusing c's slices.
func decodeBody(c *lifecycle.Customer, b []byte, names []string) {
	f := &c.Facts
	nt, ns := int(b[offTallies]), int(b[offSums])
	c.Version = uint64(le.Uint32(b[offVersion:]))
	c.Stage = stage.ID(names[le.Uint16(b[offStage:])])
	f.Score = int(int64(le.Uint64(b[offScore:])))
	c.Since = unpackTime(int64(le.Uint64(b[offSince:])))
	c.AsOf = unpackTime(int64(le.Uint64(b[offAsOf:])))
	f.First = unpackTime(int64(le.Uint64(b[offFirst:])))
	f.Last = unpackTime(int64(le.Uint64(b[offLast:])))
	f.ScoreAt = unpackTime(int64(le.Uint64(b[offScoreAt:])))
	f.ReferredAt = unpackTime(int64(le.Uint64(b[offReferred:])))
	p := b[headerSize:]
	f.Tallies = resize(f.Tallies, nt)
	for i := range f.Tallies {
		f.Tallies[i] = lifecycle.Tally{
			Type:  lifecycle.EventType(names[le.Uint16(p)]),
			Count: int64(le.Uint32(p[2:])),
			First: unpackTime(int64(le.Uint64(p[6:]))),
			Last:  unpackTime(int64(le.Uint64(p[14:]))),
		}
		p = p[tallySize:]
	}
	f.Sums = resize(f.Sums, ns)
	for i := range f.Sums {
		f.Sums[i] = lifecycle.Sum{
			Type:     lifecycle.EventType(names[le.Uint16(p)]),
			Currency: names[le.Uint16(p[2:])],
			Amount:   int64(le.Uint64(p[4:])),
		}
		p = p[sumSize:]
	}
}

// resize returns s with length n, reusing its array when large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// appendHist appends the transitions in hist layout to b; ok is false when
// one cannot be held compactly.
func appendHist(b []byte, h []lifecycle.Transition, y *symbols) ([]byte, bool) {
	n := 0
	for i := range h {
		n += histFixed + len(h[i].Cause)
	}
	b = slices.Grow(b, n) // one allocation, not one per field
	for i := range h {
		tr := &h[i]
		from, ok1 := y.id(string(tr.From))
		to, ok2 := y.id(string(tr.To))
		at, ok3 := packTime(tr.At)
		if !ok1 || !ok2 || !ok3 || len(tr.Cause) > math.MaxUint16 {
			return b, false
		}
		b = le.AppendUint16(b, uint16(from))
		b = le.AppendUint16(b, uint16(to))
		b = le.AppendUint64(b, uint64(at))
		b = le.AppendUint16(b, uint16(len(tr.Cause)))
		b = append(b, tr.Cause...)
	}
	return b, true
}

// bodyLen returns the length of the body at the start of b (0 when b is
// empty), from the numbers of tallies and sums in its header.
func bodyLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return headerSize + tallySize*int(b[offTallies]) + sumSize*int(b[offSums])
}

// headLen returns the length of the head of data (the ID's length less
// one, then the ID), or 0 when data is empty.
func headLen(data []byte) int {
	if len(data) == 0 {
		return 0
	}
	return 2 + int(data[0])
}

// fitsID reports whether the head of data can hold id.
func fitsID(id string) bool { return id != "" && len(id) <= maxIDLen }

// id returns r's customer ID. A compact record's points into data, whose
// head is never overwritten (put writes a new array or past the head).
func (r *record) id() string {
	if r.full != nil {
		return r.full.ID
	}
	return unsafe.String(&r.data[1], int(r.data[0])+1)
}

// body returns r's body: scalars, tallies and sums.
func (r *record) body() []byte {
	o := headLen(r.data)
	return r.data[o : o+bodyLen(r.data[o:])]
}

// hist returns r's history.
func (r *record) hist() []byte {
	o := headLen(r.data)
	return r.data[o+bodyLen(r.data[o:]):]
}

// put makes body r's body and appends more to its history, in one
// allocation after the ID (id, which fitsID, when r holds no data yet): in
// place when the body keeps its length and the array has room, else in a
// new array, whose capacity is the allocator's size class (the room it
// would waste otherwise) and, once the history passes 256 bytes, an
// eighth of the history more: a history grows by a transition now and
// then and is kept for long, so spare room costs more than the copies,
// which stay amortised (the size classes are at most an eighth apart
// below that). The ID's and the history's bytes are never overwritten:
// the ID and decoded Causes point into them.
func (r *record) put(id string, body, more []byte) {
	old := r.data
	o := headLen(old)
	nb := bodyLen(old[o:])
	if o > 0 && len(body) == nb && cap(old)-len(old) >= len(more) {
		copy(old[o:], body)
		r.data = append(old, more...)
		return
	}
	hist := old[o+nb:]
	if o == 0 {
		o = 1 + len(id)
	}
	n := o + len(body) + len(hist) + len(more)
	spare := 0
	if h := len(hist) + len(more); h >= 256 {
		spare = h / 8
	}
	d := slices.Grow([]byte(nil), n+spare)[:n] // slices.Grow rounds up to the size class
	if len(old) > 0 {
		copy(d, old[:o])
	} else {
		d[0] = byte(len(id) - 1)
		copy(d[1:], id)
	}
	copy(d[o:], body)
	copy(d[o+len(body):], hist)
	copy(d[o+len(body)+len(hist):], more)
	r.data = d
}

// decodeHist sets h to the transitions in b, reusing h's array. Causes
// point into b, which is append-only.
func decodeHist(h []lifecycle.Transition, b []byte, names []string) []lifecycle.Transition {
	h = h[:0]
	for len(b) > 0 {
		var tr lifecycle.Transition
		tr, b = decodeTransition(b, names)
		h = append(h, tr)
	}
	return h
}

// transitionLen returns the length of the transition at the start of b,
// which is not empty: its fixed part and its cause.
func transitionLen(b []byte) int { return histFixed + int(le.Uint16(b[12:])) }

// decodeTransition returns the transition at the start of b, which is not
// empty, and the bytes after it. Its Cause points into b.
func decodeTransition(b []byte, names []string) (lifecycle.Transition, []byte) {
	n := transitionLen(b)
	var cause string
	if n > histFixed {
		cause = unsafe.String(&b[histFixed], n-histFixed)
	}
	return lifecycle.Transition{
		From:  stage.ID(names[le.Uint16(b)]),
		To:    stage.ID(names[le.Uint16(b[2:])]),
		At:    unpackTime(int64(le.Uint64(b[4:]))),
		Cause: cause,
	}, b[n:]
}

// histAt returns transition seq (the first is 1) of the history b,
// decoding no other; ok is false when b holds fewer.
func histAt(b []byte, seq int, names []string) (tr lifecycle.Transition, ok bool) {
	for ; seq > 1 && len(b) > 0; seq-- {
		b = b[transitionLen(b):]
	}
	if seq != 1 || len(b) == 0 {
		return tr, false
	}
	tr, _ = decodeTransition(b, names)
	return tr, true
}

// noLegacy reports whether s holds no legacy key, as the compact form's
// key search needs (it looks for an event's key only).
func noLegacy(s *lifecycle.EventSet) bool {
	for k := range s.All() {
		if k.IsLegacy() {
			return false
		}
	}
	return true
}

// Due times: zero and Never have codes of their own, so that the common
// Never (year 9999) is held although it is outside packTime's range.
const (
	dueZero  = math.MinInt64
	dueNever = math.MaxInt64
)

// packDue returns Customer.Due's code; ok is false when it cannot be
// restored exactly.
func packDue(t time.Time) (int64, bool) {
	switch {
	case t == time.Time{}: // not IsZero: the zero instant in another zone is kept whole
		return dueZero, true
	case t.Equal(lifecycle.Never) && t.Location() == time.UTC:
		return dueNever, true
	}
	ns, ok := packTime(t)
	return ns, ok && ns != dueNever
}

func unpackDue(d int64) time.Time {
	switch d {
	case dueZero:
		return time.Time{}
	case dueNever:
		return lifecycle.Never
	}
	return unpackTime(d)
}

// dueCode returns the code of a due time that may not be held exactly:
// the nearest earlier code for one outside packTime's range (a sweep then
// visits early, which is allowed).
func dueCode(t time.Time) int64 {
	if d, ok := packDue(t.UTC()); ok {
		return d
	}
	switch {
	case t.Equal(lifecycle.Never) || t.After(lifecycle.Never):
		return dueNever
	case t.Unix() > maxUnixSec:
		return dueNever - 1
	}
	return dueZero
}
