package sqlstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// record is the JSON held in the customers table's data column: the
// customer without its ID, version and Seen, which have columns and rows of
// their own.
type record struct {
	Stage   stage.ID               `json:"stage"`
	Since   time.Time              `json:"since"`
	AsOf    time.Time              `json:"as_of"`
	Facts   lifecycle.Facts        `json:"facts"`
	History []lifecycle.Transition `json:"history"`
	Due     time.Time              `json:"due"`
}

// ValueError reports a customer field the store refuses to write because
// the database could not hold it faithfully. It unwraps to
// [lifecycle.ErrInvalidCustomer].
type ValueError struct {
	ID     string // the customer (truncated when long)
	Field  string // e.g. "id", "stage", "history[2].cause", "facts.tallies[0].type", "since"
	Value  string // the offending value (truncated when long)
	Reason string // what is wrong, in plain words
}

// Error names the customer, the field, the value and the reason.
func (e *ValueError) Error() string {
	return fmt.Sprintf("sqlstore: customer %s: %s %s: %s: %v", strconv.Quote(e.ID), e.Field, strconv.Quote(e.Value), e.Reason, lifecycle.ErrInvalidCustomer)
}

// Unwrap returns [lifecycle.ErrInvalidCustomer].
func (e *ValueError) Unwrap() error { return lifecycle.ErrInvalidCustomer }

func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	n := max
	// Never cut a character in two: step back to its first byte, which is
	// at most 3 bytes back in valid UTF-8 (bytes that are no character's
	// are cut where they are).
	for back := 0; back < utf8.UTFMax-1 && !utf8.RuneStart(s[n]); back++ {
		n--
	}
	if !utf8.RuneStart(s[n]) {
		n = max
	}
	return s[:n] + "…"
}

// badText describes why s cannot be stored as text, or returns "".
func badText(s string, max int) string {
	switch {
	case len(s) > max:
		return "is longer than " + strconv.Itoa(max) + " bytes"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL byte"
	}
	return ""
}

// badTime describes why t cannot be stored exactly in the data column's
// JSON, or returns "". encoding/json writes times in RFC 3339, which has no
// years outside 0–9999, no offsets of 24 hours or more, and offsets only to
// the minute: a time whose offset has seconds (local mean time, as in
// time zones before about 1940) would come back at another instant.
func badTime(t time.Time) string {
	if t.Location() == time.UTC { // (the Tracker's times; no zone to look up)
		if !inYears(t) {
			return "is outside the years 0–9999"
		}
		return ""
	}
	_, off := t.Zone()
	switch {
	case !inYears(t):
		return "is outside the years 0–9999"
	case off%60 != 0:
		return "has a UTC offset with seconds, which RFC 3339 cannot hold"
	case off <= -24*3600 || off >= 24*3600:
		return "has a UTC offset of 24 hours or more"
	}
	return ""
}

// yearZero and yearTenThousand bound the times in UTC that RFC 3339 can
// write.
var (
	yearZero        = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	yearTenThousand = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// inYears reports whether t's year, in t's zone, is 0 to 9999.
func inYears(t time.Time) bool {
	if t.Location() == time.UTC {
		return !t.Before(yearZero) && t.Before(yearTenThousand)
	}
	y := t.Year()
	return y >= 0 && y <= 9999
}

// errorTime formats a refused time, its offset to the second.
const errorTime = "2006-01-02T15:04:05.999999999Z07:00:00"

// validID reports whether a customer with this ID could be stored.
func validID(id string) bool { return id != "" && badText(id, MaxIDLen) == "" }

// check refuses a customer whose strings the database would reject or
// alter (PostgreSQL refuses NUL bytes and invalid UTF-8 in text and JSON;
// encoding/json silently replaces invalid UTF-8), whose times JSON cannot
// hold exactly (see badTime), or whose version does not fit a signed 64-bit column.
func check(c *lifecycle.Customer) error {
	bad := func(field, value, reason string) error {
		return &ValueError{ID: truncate(c.ID), Field: field, Value: truncate(value), Reason: reason}
	}
	text := func(field, v string) error {
		if why := badText(v, MaxStageLen); why != "" {
			return bad(field, v, why)
		}
		return nil
	}
	if why := badText(c.ID, MaxIDLen); why != "" {
		return bad("id", c.ID, why)
	}
	if c.Version > math.MaxInt64 {
		return bad("version", strconv.FormatUint(c.Version, 10), "is larger than 2⁶³−1")
	}
	at := func(field string, t time.Time) error {
		if why := badTime(t); why != "" {
			return bad(field, t.Format(errorTime), why)
		}
		return nil
	}
	if err := text("stage", string(c.Stage)); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{
		{"since", c.Since}, {"as_of", c.AsOf}, {"facts.first", c.Facts.First}, {"facts.last", c.Facts.Last},
		{"facts.referred_at", c.Facts.ReferredAt}, {"facts.score_at", c.Facts.ScoreAt}, {"due", c.Due},
	} {
		if err := at(f.name, f.t); err != nil {
			return err
		}
	}
	// The data column leaves these out when they are the zero instant,
	// which then reads back in UTC: one at another offset cannot be held.
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"facts.referred_at", c.Facts.ReferredAt}, {"facts.score_at", c.Facts.ScoreAt}} {
		if _, off := f.t.Zone(); f.t.IsZero() && off != 0 {
			return bad(f.name, f.t.Format(errorTime), "is the zero time at a UTC offset, which the store would read back in UTC")
		}
	}
	// The field names of list elements are made only for an error.
	elem := func(list string, i int, field string) string { return list + "[" + strconv.Itoa(i) + "]." + field }
	textOf := func(list string, i int, field, v string) error {
		if why := badText(v, MaxStageLen); why != "" {
			return bad(elem(list, i, field), v, why)
		}
		return nil
	}
	timeOf := func(list string, i int, field string, t time.Time) error {
		if why := badTime(t); why != "" {
			return bad(elem(list, i, field), t.Format(errorTime), why)
		}
		return nil
	}
	for i, t := range c.Facts.Tallies {
		if err := textOf("facts.tallies", i, "type", string(t.Type)); err != nil {
			return err
		}
		if err := timeOf("facts.tallies", i, "first", t.First); err != nil {
			return err
		}
		if err := timeOf("facts.tallies", i, "last", t.Last); err != nil {
			return err
		}
	}
	for i, s := range c.Facts.Sums {
		if err := textOf("facts.sums", i, "type", string(s.Type)); err != nil {
			return err
		}
		if err := textOf("facts.sums", i, "currency", s.Currency); err != nil {
			return err
		}
	}
	if err := text("facts.referred_by", c.Facts.ReferredBy); err != nil {
		return err
	}
	for i, r := range c.Facts.Referrals {
		if err := textOf("facts.referrals", i, "customer", r.Customer); err != nil {
			return err
		}
		if err := timeOf("facts.referrals", i, "at", r.At); err != nil {
			return err
		}
	}
	for i, h := range c.History {
		if err := textOf("history", i, "from", string(h.From)); err != nil {
			return err
		}
		if err := textOf("history", i, "to", string(h.To)); err != nil {
			return err
		}
		// A cause may be a referral credit's ID, longer than any stage.
		if why := badText(h.Cause, lifecycle.MaxCauseLen); why != "" {
			return bad(elem("history", i, "cause"), h.Cause, why)
		}
		if err := timeOf("history", i, "at", h.At); err != nil {
			return err
		}
	}
	return nil
}

// encode returns the data column's JSON for c: the bytes encoding/json
// writes for record (FuzzCodec checks that they are the same), appended
// by hand, which is several times faster than reflection.
func encode(c *lifecycle.Customer) ([]byte, error) { return appendEncode(nil, c) }

// encodedSize is about how many bytes encode writes for c (more, for
// texts of the usual lengths).
func encodedSize(c *lifecycle.Customer) int {
	f := &c.Facts
	return 256 + 96*len(f.Tallies) + 64*len(f.Sums) + 96*len(c.History) + 64*len(f.Referrals)
}

// appendEncode appends encode's JSON for c to b.
func appendEncode(b []byte, c *lifecycle.Customer) ([]byte, error) {
	for _, t := range [...]time.Time{c.Since, c.AsOf, c.Due, c.Facts.First, c.Facts.Last, c.Facts.ReferredAt, c.Facts.ScoreAt} {
		if !inYears(t) {
			// Not expected: check refuses the times JSON cannot encode.
			return b, &ValueError{ID: truncate(c.ID), Field: "time", Value: t.String(), Reason: "cannot be encoded"}
		}
	}
	f := &c.Facts
	b = slices.Grow(b, encodedSize(c))
	b = append(b, `{"stage":`...)
	b = jsonString(b, string(c.Stage))
	b = append(b, `,"since":`...)
	b = jsonTime(b, c.Since)
	b = append(b, `,"as_of":`...)
	b = jsonTime(b, c.AsOf)
	b = append(b, `,"facts":{"first":`...)
	b = jsonTime(b, f.First)
	b = append(b, `,"last":`...)
	b = jsonTime(b, f.Last)
	if len(f.Tallies) > 0 {
		b = append(b, `,"tallies":[`...)
		for i, t := range f.Tallies {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = jsonString(b, string(t.Type))
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, t.Count, 10)
			b = append(b, `,"first":`...)
			b = jsonTime(b, t.First)
			b = append(b, `,"last":`...)
			b = jsonTime(b, t.Last)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(f.Sums) > 0 {
		b = append(b, `,"sums":[`...)
		for i, s := range f.Sums {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = jsonString(b, string(s.Type))
			b = append(b, `,"currency":`...)
			b = jsonString(b, s.Currency)
			b = append(b, `,"amount":`...)
			b = strconv.AppendInt(b, s.Amount, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if f.ReferredBy != "" {
		b = append(b, `,"referred_by":`...)
		b = jsonString(b, f.ReferredBy)
	}
	if !f.ReferredAt.IsZero() {
		b = append(b, `,"referred_at":`...)
		b = jsonTime(b, f.ReferredAt)
	}
	if f.Score != 0 {
		b = append(b, `,"score":`...)
		b = strconv.AppendInt(b, int64(f.Score), 10)
	}
	if !f.ScoreAt.IsZero() {
		b = append(b, `,"score_at":`...)
		b = jsonTime(b, f.ScoreAt)
	}
	if len(f.Referrals) > 0 {
		b = append(b, `,"referrals":[`...)
		for i, r := range f.Referrals {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"customer":`...)
			b = jsonString(b, r.Customer)
			b = append(b, `,"at":`...)
			b = jsonTime(b, r.At)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `},"history":`...)
	if c.History == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, h := range c.History {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"from":`...)
			b = jsonString(b, string(h.From))
			b = append(b, `,"to":`...)
			b = jsonString(b, string(h.To))
			b = append(b, `,"at":`...)
			b = jsonTime(b, h.At)
			if h.Cause != "" {
				b = append(b, `,"cause":`...)
				b = jsonString(b, h.Cause)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"due":`...)
	b = jsonTime(b, c.Due)
	return append(b, '}'), nil
}

// jsonTime appends t as encoding/json writes it (RFC 3339 with
// nanoseconds, quoted), for years 0 to 9999. A time in UTC, which is how
// the Tracker records them, is written digit by digit (a customer's
// data holds a dozen times, and time.AppendFormat was a third of
// encode's time).
func jsonTime(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC || !inYears(t) {
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = append(b, '"')
	b = two(b, year/100)
	b = two(b, year%100)
	b = append(b, '-')
	b = two(b, int(month))
	b = append(b, '-')
	b = two(b, day)
	b = append(b, 'T')
	b = two(b, hour)
	b = append(b, ':')
	b = two(b, minute)
	b = append(b, ':')
	b = two(b, sec)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"')
}

// jsonString appends s quoted as encoding/json writes it: with <, > and &
// escaped for HTML, control characters escaped, invalid UTF-8 replaced by
// U+FFFD, and U+2028 and U+2029 escaped.
func jsonString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decode fills dst from a row, reusing dst's slices.
func decode(dst *lifecycle.Customer, id string, version int64, data []byte, keys string) error {
	// encoding/json decodes an array element into the memory already
	// there, without zeroing it: a field the JSON omits (a transition's
	// empty Cause) would keep the value of the customer dst held before.
	clear(dst.Facts.Tallies[:cap(dst.Facts.Tallies)])
	clear(dst.Facts.Sums[:cap(dst.Facts.Sums)])
	clear(dst.Facts.Referrals[:cap(dst.Facts.Referrals)])
	clear(dst.History[:cap(dst.History)])
	rec := record{
		Facts:   lifecycle.Facts{Tallies: dst.Facts.Tallies[:0], Sums: dst.Facts.Sums[:0], Referrals: dst.Facts.Referrals[:0]},
		History: dst.History[:0],
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("sqlstore: customer %q: decoding data column: %w", id, err)
	}
	// Facts omits empty tallies and sums in JSON; decode them as a fresh
	// decoder would, as nil.
	if len(rec.Facts.Tallies) == 0 {
		rec.Facts.Tallies = nil
	}
	if len(rec.Facts.Sums) == 0 {
		rec.Facts.Sums = nil
	}
	if len(rec.Facts.Referrals) == 0 {
		rec.Facts.Referrals = nil
	}
	seen := dst.Seen
	if err := parseKeys(&seen, keys); err != nil {
		return fmt.Errorf("sqlstore: customer %q: %w", id, err)
	}
	*dst = lifecycle.Customer{
		ID:      id,
		Stage:   rec.Stage,
		Since:   rec.Since,
		AsOf:    rec.AsOf,
		Facts:   rec.Facts,
		History: rec.History,
		Seen:    seen,
		Due:     rec.Due,
		Version: uint64(version),
	}
	return nil
}

// Event keys are stored as 16-byte binary strings, read back in
// hexadecimal.

// keyArgs returns the keys of c's Seen as PostgreSQL bytea array elements.
func keyArgs(seen *lifecycle.EventSet) [][]byte {
	out := make([][]byte, 0, seen.Len()) // never nil: a NULL array would match nothing
	for k := range seen.All() {
		out = append(out, k[:])
	}
	return out
}

// keyJSON returns keys as a JSON array of upper-case hexadecimal strings,
// as SQLite's hex() writes them.
func keyJSON(keys func(yield func(lifecycle.EventKey) bool)) string {
	b := make([]byte, 0, 64)
	b = append(b, '[')
	first := true
	for k := range keys {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, strings.ToUpper(k.String())...)
		b = append(b, '"')
	}
	return string(append(b, ']'))
}

// parseKeys makes seen hold the comma-separated hexadecimal keys in s.
func parseKeys(seen *lifecycle.EventSet, s string) error {
	if s == "" {
		*seen = lifecycle.EventSet{} // as store.Memory does: nothing kept
		return nil
	}
	keys := make([]lifecycle.EventKey, 0, strings.Count(s, ",")+1)
	for s != "" {
		var f string
		f, s, _ = strings.Cut(s, ",")
		var k lifecycle.EventKey
		if len(f) != 2*len(k) {
			return fmt.Errorf("reading applied event key %q: want %d hexadecimal digits", truncate(f), 2*len(k))
		}
		if _, err := hex.Decode(k[:], []byte(f)); err != nil {
			return fmt.Errorf("reading applied event key %q: %w", f, err)
		}
		keys = append(keys, k)
	}
	seen.Set(keys)
	return nil
}

// Due times are stored as Unix nanoseconds in an indexed column: NULL for
// lifecycle.Never, the smallest int64 for the zero time (due at any
// sweep); a time outside the years 1678–2261 gets the nearest earlier
// code (a sweep then visits early, which is allowed), a time after Never
// (in a zone west of UTC) too: it is due at a sweep at or after it, which
// NULL never is. The exact time is in the data column.
func dueArg(t time.Time) any {
	switch {
	case t.IsZero():
		return int64(math.MinInt64)
	case t.Equal(lifecycle.Never):
		return nil
	}
	return unixNanos(t)
}

// unixNanos returns t in Unix nanoseconds, clamped to the years
// 1678–2261: the due column's code for comparisons (see dueArg).
func unixNanos(t time.Time) int64 {
	switch s := t.Unix(); {
	case s < -9223372036:
		return math.MinInt64
	case s >= 9223372036:
		return math.MaxInt64 - 1
	}
	return t.UnixNano()
}

// leaseTime returns t in Unix microseconds, the lease times of
// feed_cursors: every year from 1 to 9999 (and far beyond: t is clamped
// only past about 292,000 years either way), to the microsecond.
func leaseTime(t time.Time) int64 {
	switch s := t.Unix(); {
	case s < math.MinInt64/1_000_000:
		return math.MinInt64
	case s > math.MaxInt64/1_000_000-1:
		return math.MaxInt64
	}
	return t.UnixMicro()
}

// leaseUntil is the lease time stored for a claim or advance at now with
// until: leaseTime(until), or, for an until at or before now (a lease
// given up), the earliest one, so that every claimant finds it free
// whatever its clock (stored as until, a claimant whose clock is a little
// behind the releaser's would wait for it).
func leaseUntil(now, until time.Time) int64 {
	if u := leaseTime(until); u > leaseTime(now) {
		return u
	}
	return math.MinInt64
}

const sqliteTime = "2006-01-02T15:04:05.000000000Z"

// seqJSON returns the JSON array of the integers from to through (SQLite's
// json_each reads it).
func seqJSON(from, through int) string {
	b := make([]byte, 0, 8*(through-from+1)+2)
	b = append(b, '[')
	for i := from; i <= through; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(i), 10)
	}
	return string(append(b, ']'))
}
