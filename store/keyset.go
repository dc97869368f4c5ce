package store

import (
	"math/bits"
	"math/rand/v2"

	"github.com/clmkit/clm/lifecycle"
)

// This file holds keySet, the set of event keys a compact record keeps:
// the one trick of Memory's hot path.
//
// An event's key (lifecycle.KeyOf: 128 bits of the SHA-256 of its ID) is
// what identifies it; a look-up compares all 128 bits before it calls an
// event a duplicate. With thousands of customers the keys do not stay in
// cache, so a look-up must read as few bytes as it can, and a new key must
// go where the last one went.
//
// A keySet holds each key as its code: the key put through a keyed
// permutation of 128-bit values (four Feistel rounds whose round function
// mixes in a secret chosen at start-up), so a code is the key, 16 bytes,
// and no more. The first 2 bytes of a code are its tag, the other 14 its
// rest; the set keeps the tags and then the rests in one allocation, both
// in arrival order, in buckets that fill from their first slot (a count
// says how far). A look-up scans the tags of one bucket, four a
// word, and reads a rest only where a tag matches (for a key not there,
// about once in 65,536 keys scanned); a new key goes after the bucket's
// last. A set starts as one bucket of 4 slots, which grows to 8, 12 and
// 16 slots (a typical customer's 12 keys take 12) and then doubles (32,
// 64, 128: a customer who keeps buying copies the set less often) until
// it holds 128: a customer with up to 128 events has a plain list of tags
// and rests in arrival order, at least half full once past 8, whose tags
// are the only bytes a
// look-up reads, 2 a key, and whose last rest is the only one an insert
// writes beside a tag. Past 128 keys the buckets, of 128 slots, double in
// number (the low bits of a code's second half choose its bucket) whenever one is full, so a
// look-up scans at most 128 tags whatever the customer's number of events.
// While there is one bucket its count is the set's; past that, a bucket's
// first slot holds its count in place of a tag (its rest unused), so the
// look-up finds it in the cache line of the first tags it scans, and the
// table is a power of two bytes, as the allocator's size classes are.
//
// The permutation is keyed because event IDs may come from anyone: keys
// are SHA-256 output, but IDs chosen so that their keys share a tag or a
// bucket would make every look-up read rests, or a known mapping double
// the table again and again. A secret the IDs' authors cannot know makes
// both as rare as chance.
//
// The set is unordered; list returns the keys in table order, and the
// sorted view a caller needs (lifecycle.EventSet.Set, on every decode)
// sorts them.

const (
	minBucket = 4   // slots of a new set
	maxBucket = 128 // slots a bucket grows to before the buckets double
	restBytes = 14  // bytes of a code after its tag
	slotBytes = 2 + restBytes
	lanes     = 0x0001_0001_0001_0001 // 1 in each 16-bit lane of a word
	rounds    = 4                     // Feistel rounds of the code
)

// keySecret keys the permutation of keySet: see the file comment.
var keySecret = [rounds]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()}

// keySet is a set of event keys (see the file comment). Its zero value is
// the empty set.
type keySet struct {
	tab   []byte // slots tags (2 bytes, little-endian), then slots rests; with several buckets, a bucket's first tag slot holds its count
	n     uint32 // keys held
	shift uint8  // log2 of the number of buckets
}

// mix is the round function of the code: the finaliser of MurmurHash3,
// in which every bit of the result depends on every bit of x.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// codeOf returns k's code as two words: the tag is the low 16 bits of
// lo, the rest the other 48 bits of lo and all of hi.
func codeOf(k *lifecycle.EventKey) (lo, hi uint64) {
	lo, hi = le.Uint64(k[:8]), le.Uint64(k[8:])
	for i := range rounds {
		lo, hi = hi, lo^mix(hi^keySecret[i])
	}
	return lo, hi
}

// keyOf returns the key whose code is lo, hi.
func keyOf(lo, hi uint64) (k lifecycle.EventKey) {
	for i := rounds - 1; i >= 0; i-- {
		lo, hi = hi^mix(lo^keySecret[i]), lo
	}
	le.PutUint64(k[:8], lo)
	le.PutUint64(k[8:], hi)
	return k
}

// buckets returns the number of buckets.
func (s *keySet) buckets() int { return 1 << s.shift }

// slots returns the number of slots, in all buckets.
func (s *keySet) slots() int { return len(s.tab) / slotBytes }

// bucket returns the first slot of the bucket a code whose high word is
// hi goes in, the slot of its first key (past the count when there are
// several buckets), and how many keys it holds.
func (s *keySet) bucket(hi uint64) (first, base, fill int) {
	if s.shift == 0 {
		return 0, 0, int(s.n)
	}
	first = int(hi&uint64(s.buckets()-1)) * maxBucket
	return first, first + 1, int(le.Uint16(s.tab[2*first:]))
}

// code returns the code in slot i.
func (s *keySet) code(i, slots int) (lo, hi uint64) {
	rest := s.tab[2*slots+restBytes*i:]
	lo = uint64(le.Uint16(s.tab[2*i:])) | le.Uint64(rest)<<16
	hi = le.Uint64(rest[restBytes-8:])
	return lo, hi
}

// findCode returns the slot of the code lo, hi (see codeOf), or -1 and
// the slot a new code of its bucket goes in (-1 when the bucket is full or
// the set has no slot).
func (s *keySet) findCode(lo, hi uint64) (at, free int) {
	slots := s.slots()
	first, base, fill := s.bucket(hi)
	end := base + fill // keys are in slots base to end-1
	// The words holding the bucket's tags from its first slot (a bucket's
	// size is a multiple of 4).
	tags := s.tab[2*first : 2*first+8*((end-first+3)/4)]
	pattern := lanes * (lo & 0xffff)
	for i := first; len(tags) >= 8; i, tags = i+4, tags[8:] {
		// Lanes equal to the tag become zero; the borrow trick flags them
		// (and may flag a lane above a true match, the count or past the
		// last key: checked below).
		x := le.Uint64(tags) ^ pattern
		for m := (x - lanes) &^ x & (lanes << 15); m != 0; m &= m - 1 {
			lane := bits.TrailingZeros64(m) / 16
			if j := i + lane; j >= base && j < end && x>>(16*lane)&0xffff == 0 {
				if clo, chi := s.code(j, slots); clo == lo && chi == hi {
					return j, -1
				}
			}
		}
	}
	if end == first+slots>>s.shift {
		return -1, -1
	}
	return -1, end
}

// has reports whether k is in the set.
func (s *keySet) has(k lifecycle.EventKey) bool {
	at, _ := s.findCode(codeOf(&k))
	return at >= 0
}

// add puts k in the set and reports whether it was not there before.
func (s *keySet) add(k lifecycle.EventKey) bool {
	lo, hi := codeOf(&k)
	at, free := s.findCode(lo, hi)
	if at >= 0 {
		return false
	}
	for free < 0 {
		s.grow()
		_, free = s.findCode(lo, hi)
	}
	s.putCode(free, lo, hi)
	return true
}

// putCode writes the code lo, hi to slot i, the free slot findCode
// returned for it.
func (s *keySet) putCode(i int, lo, hi uint64) {
	slots := s.slots()
	le.PutUint16(s.tab[2*i:], uint16(lo))
	rest := s.tab[2*slots+restBytes*i:]
	le.PutUint64(rest, lo>>16)           // 6 bytes and 2 zero bytes, which
	le.PutUint64(rest[restBytes-8:], hi) // this overwrites
	if s.shift != 0 {
		count := s.tab[2*(i&^(maxBucket-1)):]
		le.PutUint16(count, le.Uint16(count)+1)
	}
	s.n++
}

// nextSize returns the slots the one bucket grows to from size (see the
// file comment): 4, 8, 12, 16, 32, 64, 128.
func nextSize(size int) int {
	switch {
	case size < minBucket:
		return minBucket
	case size > minBucket && size < 16:
		return size + minBucket // 8 → 12 → 16
	}
	return 2 * size // 4 → 8, 16 → 32 → 64 → 128
}

// grow makes room: it grows the one bucket while it holds fewer than
// maxBucket slots (copying tags and rests in order), or else doubles the
// number of buckets, of maxBucket slots each (each code moves to its
// bucket, in the order it had: the codes of a bucket split between two).
func (s *keySet) grow() {
	old := *s
	oldSlots := old.slots()
	if old.shift == 0 && oldSlots < maxBucket {
		slots := nextSize(oldSlots)
		s.tab = make([]byte, slotBytes*slots)
		copy(s.tab, old.tab[:2*oldSlots])
		copy(s.tab[2*slots:], old.tab[2*oldSlots:])
		return
	}
	s.shift++
	s.tab = make([]byte, slotBytes*maxBucket<<s.shift)
	s.n = 0
	for b := range old.buckets() {
		_, base, fill := old.bucket(uint64(b))
		for i := base; i < base+fill; i++ {
			lo, hi := old.code(i, oldSlots)
			_, nb, n := s.bucket(hi)
			s.putCode(nb+n, lo, hi)
		}
	}
}

// list returns the keys, in table order (not sorted), or nil for none.
func (s *keySet) list() []lifecycle.EventKey {
	if s.n == 0 {
		return nil
	}
	return s.appendTo(make([]lifecycle.EventKey, 0, s.n))
}

// appendTo appends the keys to dst, in table order, and returns it.
func (s *keySet) appendTo(dst []lifecycle.EventKey) []lifecycle.EventKey {
	if s.n == 0 {
		return dst
	}
	slots := s.slots()
	for b := range s.buckets() {
		_, base, fill := s.bucket(uint64(b))
		for i := base; i < base+fill; i++ {
			dst = append(dst, keyOf(s.code(i, slots)))
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
