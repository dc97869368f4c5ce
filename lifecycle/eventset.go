package lifecycle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"

	"github.com/clmkit/clm/internal/clip"
)

// EventKey is the form in which a customer remembers an applied event: the
// first 128 bits of the SHA-256 of the event ID (see [KeyOf]). Two
// different IDs of one customer share a key with odds of about n²/2¹²⁹
// for n events, and finding such a pair on purpose takes about 2⁶⁴
// SHA-256 computations. (A set that holds legacy keys, read from data
// written before keys existed, also matches an ID by its 64-bit FNV-1a
// digest, which can be collided on purpose: see [LegacyKeyOf].)
type EventKey [16]byte

// KeyOf returns the key of an event ID: the first 16 bytes of its SHA-256.
// It is stable across processes and versions.
func KeyOf(eventID string) EventKey {
	sum := sha256.Sum256([]byte(eventID))
	return EventKey(sum[:16])
}

// legacyMark is the first half of a legacy key.
const legacyMark = 0xffff_ffff_ffff_ffff

// LegacyKeyOf returns the key under which data written before event keys
// existed remembers an event: the 64-bit FNV-1a hash of its ID, which
// older versions of this library kept in Customer.Seen, behind 8 bytes of
// 0xff. Such keys are not collision resistant; a set holds them only when
// it was read from that older data, and [EventSet.Has] then looks for both
// keys of an ID. Stores that keep keys in their own layout (store/sqlstore
// migrates its old rows to these keys) use it to find a retried old event.
func LegacyKeyOf(eventID string) EventKey {
	var k EventKey
	binary.BigEndian.PutUint64(k[:8], legacyMark)
	binary.BigEndian.PutUint64(k[8:], fnv64(eventID))
	return k
}

// IsLegacy reports whether k is a legacy key (see [LegacyKeyOf]).
func (k EventKey) IsLegacy() bool { return binary.BigEndian.Uint64(k[:8]) == legacyMark }

// String returns the key as 32 lower-case hexadecimal digits.
func (k EventKey) String() string { return hex.EncodeToString(k[:]) }

// Compare orders keys byte-wise: -1, 0 or +1.
func (k EventKey) Compare(o EventKey) int {
	a, b := binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(o[:8])
	if a == b {
		a, b = binary.BigEndian.Uint64(k[8:]), binary.BigEndian.Uint64(o[8:])
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func fnv64(id string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= prime
	}
	return h
}

// EventSet is the set of events applied to a customer, as [EventKey]s. Its
// zero value is the empty set. The layout is private: ask it whether it
// holds an event ([EventSet.Has]) and how many it holds ([EventSet.Len]).
// A store that persists whole customers persists it through its JSON form
// (an array of keys as hexadecimal strings; [EventSet.UnmarshalJSON] also
// reads the array of 64-bit digests older versions wrote, as legacy keys),
// or through [EventSet.All] and [EventSet.Set].
//
// Stores that implement [Applier] keep the keys in a layout of their own
// and need not fill a Customer's set for the Tracker; they fill it for
// Get, Load and Scan.
//
// A copy of an EventSet by value shares its memory with the original:
// change neither afterwards. Copy a Customer with [Customer.Clone] or
// [Customer.CopyTo], which copy the set.
type EventSet struct {
	keys []EventKey // ascending, distinct; legacy keys sort last
}

// Len returns the number of events in the set.
func (s *EventSet) Len() int { return len(s.keys) }

// Has reports whether the event with this ID is in the set: its key, or,
// when the set holds legacy keys, its legacy key.
func (s *EventSet) Has(eventID string) bool {
	if s.Contains(KeyOf(eventID)) {
		return true
	}
	return s.hasLegacy() && s.Contains(LegacyKeyOf(eventID))
}

func (s *EventSet) hasLegacy() bool { return len(s.keys) > 0 && s.keys[len(s.keys)-1].IsLegacy() }

// Contains reports whether k is in the set.
func (s *EventSet) Contains(k EventKey) bool {
	_, found := slices.BinarySearchFunc(s.keys, k, EventKey.Compare)
	return found
}

// Add puts k in the set and reports whether it was not there before.
func (s *EventSet) Add(k EventKey) bool {
	i, found := slices.BinarySearchFunc(s.keys, k, EventKey.Compare)
	if found {
		return false
	}
	s.keys = slices.Insert(s.keys, i, k)
	return true
}

// All yields the keys in ascending byte order.
func (s *EventSet) All() iter.Seq[EventKey] {
	return func(yield func(EventKey) bool) {
		for _, k := range s.keys {
			if !yield(k) {
				return
			}
		}
	}
}

// Set makes the set hold exactly keys (in any order; repeats count once),
// reusing the set's memory. It does not keep keys.
func (s *EventSet) Set(keys []EventKey) {
	if slices.IsSortedFunc(keys, EventKey.Compare) {
		s.keys = append(s.keys[:0], keys...)
	} else {
		s.keys = slices.Grow(s.keys[:0], len(keys))[:len(keys)]
		sortKeys(s.keys, keys)
	}
	s.keys = slices.Compact(s.keys)
}

// sortKeys puts src in ascending order into dst (of the same length, not
// overlapping src).
// Keys are hash output, spread evenly over their first byte: one pass
// deals them into 256 runs by that byte, in place in dst, and each run
// is sorted alone, about a quarter of the time one sort of them all
// takes (a store's every read of a customer sorts its keys: see Set).
func sortKeys(dst, src []EventKey) {
	if len(src) < 64 {
		copy(dst, src)
		slices.SortFunc(dst, EventKey.Compare)
		return
	}
	var end [257]int // end[b+1]: where the run of first byte b ends
	for i := range src {
		end[int(src[i][0])+1]++
	}
	for b := 1; b < len(end); b++ {
		end[b] += end[b-1]
	}
	next := end // the next free place of each run
	for i := range src {
		b := src[i][0]
		dst[next[b]] = src[i]
		next[b]++
	}
	for b := range 256 {
		if run := dst[end[b]:end[b+1]]; len(run) > 1 {
			slices.SortFunc(run, EventKey.Compare)
		}
	}
}

// Equal reports whether both sets hold the same keys.
func (s *EventSet) Equal(o *EventSet) bool { return slices.Equal(s.keys, o.keys) }

// copyTo makes dst a copy of s, reusing dst's memory; an empty set copies
// as nil memory unless dst has some.
func (s *EventSet) copyTo(dst *EventSet) {
	if s.keys == nil {
		dst.keys = nil
		return
	}
	dst.keys = append(dst.keys[:0], s.keys...)
}

// MarshalJSON writes the set as an array of keys, each as 32 hexadecimal
// digits, in ascending order; the empty set is [].
func (s EventSet) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(s.keys)*35)
	b = append(b, '[')
	for i, k := range s.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = hex.AppendEncode(b, k[:])
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

// ErrEventSet is wrapped by the errors of [EventSet.UnmarshalJSON].
var ErrEventSet = errors.New("lifecycle: invalid event set")

// UnmarshalJSON reads the array MarshalJSON writes, or null (the empty
// set). An element may also be a JSON number, an unsigned 64-bit digest as
// older versions of this library wrote in Customer.Seen: it is read as the
// legacy key of that digest (see [LegacyKeyOf]), so customers stored
// before event keys existed still recognise a retried old event. On error
// the set is unchanged; the error wraps [ErrEventSet] and names the
// element's index and value.
func (s *EventSet) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %s is not a JSON array of keys", ErrEventSet, clip.String(string(data)))
	}
	keys := make([]EventKey, 0, len(raw))
	for i, r := range raw {
		var k EventKey
		if len(r) > 0 && r[0] == '"' {
			var h string
			if err := json.Unmarshal(r, &h); err != nil {
				return fmt.Errorf("%w: element %d: %w", ErrEventSet, i, err)
			}
			if len(h) != 32 {
				return fmt.Errorf("%w: element %d: key %q: want 32 hexadecimal digits", ErrEventSet, i, clip.String(h))
			}
			if _, err := hex.Decode(k[:], []byte(h)); err != nil {
				return fmt.Errorf("%w: element %d: key %q: %w", ErrEventSet, i, h, err)
			}
		} else {
			d, err := strconv.ParseUint(string(r), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: element %d: %s is neither a key nor a 64-bit digest", ErrEventSet, i, clip.String(string(r)))
			}
			binary.BigEndian.PutUint64(k[:8], legacyMark)
			binary.BigEndian.PutUint64(k[8:], d)
		}
		keys = append(keys, k)
	}
	s.Set(keys)
	if len(s.keys) == 0 {
		s.keys = nil
	}
	return nil
}
