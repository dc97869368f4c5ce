package store

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"github.com/clmkit/clm/lifecycle"
)

// This file holds keySet, the set of event keys a compact record keeps:
// the one trick of Memory's hot path.
//
// An event's key (lifecycle.KeyOf: 128 bits of the SHA-256 of its ID) is
// what identifies it; a look-up compares all 128 bits before it calls an
// event a duplicate. With thousands of customers the keys (16 bytes an
// event) do not stay in cache, so a look-up must read as few of them as it
// can, and a new key must go where the last one went. keySet keeps, in one
// allocation, a 2-byte tag per key (0x8000 and 15 bits of a hash of the
// key; 0 marks a free slot) followed by the keys, both in arrival order, in
// buckets. A look-up scans the tags of one bucket, four a word, and reads a
// key only where a tag matches (for a key not there, about once in 32,768
// keys scanned); a new key goes into the bucket's first free slot, after
// the bucket's last key. A set starts as one bucket of 4 slots, which
// doubles until it holds 128 (a customer with up to 128 events: a plain
// list of tags and keys in arrival order, whose tags are the only bytes a
// look-up reads, 2 a key, and whose last cache line of keys is the only
// one an insert writes); past that the buckets double in number (keys are
// spread over them by their hash) whenever one is full, so a look-up
// scans at most 128 tags whatever the customer's number of events.
//
// The hash that spreads keys over buckets and makes their tags mixes the
// key with a secret chosen at start-up: keys are SHA-256 output, but
// event IDs may come from anyone, and IDs chosen so that their keys share
// a bucket would make a known mapping double the table again and again.
//
// The set is unordered; keys returns the keys in table order, and the
// sorted view a caller needs (lifecycle.EventSet.Set, on every decode)
// sorts them.

const (
	minBucket = 4   // slots of a new set
	maxBucket = 128 // slots a bucket grows to before the buckets double
	keyBytes  = 16
	slotBytes = 2 + keyBytes
	lanes     = 0x0001_0001_0001_0001 // 1 in each 16-bit lane of a word
	laneTops  = 0x8000_8000_8000_8000
)

// keySecret keys the hash of keySet: see the file comment.
var keySecret = rand.Uint64()

// keySet is a set of event keys (see the file comment). Its zero value is
// the empty set.
type keySet struct {
	tab   []byte // slots 2-byte tags (little-endian), then slots keys
	n     uint32 // keys held
	shift uint8  // log2 of the number of buckets
}

func (s *keySet) slots() int { return len(s.tab) / slotBytes }

// hashOf returns the key's bucket hash and its tag.
func hashOf(k *lifecycle.EventKey) (h uint64, tag uint16) {
	h = binary.LittleEndian.Uint64(k[:8]) ^ binary.LittleEndian.Uint64(k[8:]) ^ keySecret
	// The finaliser of MurmurHash3: every bit of h depends on every bit of
	// the key and the secret.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h, 0x8000 | uint16(h>>49)
}

// find returns the slot of k, or -1 and the first free slot of k's bucket
// (-1 when the bucket is full or the set has no slot).
func (s *keySet) find(k *lifecycle.EventKey) (at, free int) {
	slots := s.slots()
	if slots == 0 {
		return -1, -1
	}
	h, tag := hashOf(k)
	size := slots >> s.shift
	start := int(h&(1<<s.shift-1)) * size
	tags := s.tab[2*start : 2*(start+size)]
	keys := s.tab[2*slots:]
	pattern := lanes * uint64(tag)
	for off := 0; off < len(tags); off += 8 {
		w := binary.LittleEndian.Uint64(tags[off:])
		// Lanes equal to tag become zero; the borrow trick flags them (and
		// may flag a lane above a true match: checked below).
		x := w ^ pattern
		for m := (x - lanes) &^ x & laneTops; m != 0; m &= m - 1 {
			lane := bits.TrailingZeros64(m) / 16
			i := start + off/2 + lane
			if uint16(w>>(16*lane)) == tag && [keyBytes]byte(keys[keyBytes*i:]) == *k {
				return i, -1
			}
		}
		if free := ^w & laneTops; free != 0 {
			return -1, start + off/2 + bits.TrailingZeros64(free)/16
		}
	}
	return -1, -1
}

// has reports whether k is in the set.
func (s *keySet) has(k lifecycle.EventKey) bool {
	at, _ := s.find(&k)
	return at >= 0
}

// add puts k in the set and reports whether it was not there before.
func (s *keySet) add(k lifecycle.EventKey) bool {
	at, free := s.find(&k)
	if at >= 0 {
		return false
	}
	for free < 0 {
		s.grow()
		_, free = s.find(&k)
	}
	s.put(free, &k)
	return true
}

// put writes k to the free slot i.
func (s *keySet) put(i int, k *lifecycle.EventKey) {
	_, tag := hashOf(k)
	binary.LittleEndian.PutUint16(s.tab[2*i:], tag)
	*(*[keyBytes]byte)(s.tab[2*s.slots()+keyBytes*i:]) = *k
	s.n++
}

// grow doubles the slots: the one bucket's while it holds fewer than
// maxBucket (copying tags and keys in order), else the number of buckets
// (each key moves to its bucket in the new table, in the order it had:
// the keys of a bucket split between two, so none overflows).
func (s *keySet) grow() {
	old := *s
	oldSlots := old.slots()
	slots := max(minBucket, 2*oldSlots)
	s.tab = make([]byte, slots*slotBytes)
	s.n = 0
	if old.shift == 0 && slots <= maxBucket {
		copy(s.tab, old.tab[:2*oldSlots])
		copy(s.tab[2*slots:], old.tab[2*oldSlots:])
		s.n = old.n
		return
	}
	s.shift = uint8(bits.Len(uint(slots/maxBucket)) - 1)
	fill := make([]int, 1<<s.shift)
	keys := old.tab[2*oldSlots:]
	for i := range oldSlots {
		if old.tab[2*i] == 0 && old.tab[2*i+1] == 0 {
			continue
		}
		k := (*lifecycle.EventKey)(keys[keyBytes*i:])
		h, _ := hashOf(k)
		b := int(h & (1<<s.shift - 1))
		s.put(b*maxBucket+fill[b], k)
		fill[b]++
	}
}

// keys returns the keys, in table order (not sorted), or nil for none.
func (s *keySet) keys() []lifecycle.EventKey {
	if s.n == 0 {
		return nil
	}
	return s.appendTo(make([]lifecycle.EventKey, 0, s.n))
}

// appendTo appends the keys to dst, in table order, and returns it.
func (s *keySet) appendTo(dst []lifecycle.EventKey) []lifecycle.EventKey {
	slots := s.slots()
	keys := s.tab[2*slots:]
	for i := range slots {
		if s.tab[2*i] != 0 || s.tab[2*i+1] != 0 {
			dst = append(dst, lifecycle.EventKey(keys[keyBytes*i:]))
		}
	}
	return dst
}

// len returns the number of keys.
func (s *keySet) len() int { return int(s.n) }

// set makes the set hold exactly the keys of src.
func (s *keySet) set(src *lifecycle.EventSet) {
	*s = keySet{}
	for k := range src.All() {
		s.add(k)
	}
}
