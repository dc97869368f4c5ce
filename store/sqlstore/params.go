package sqlstore

import (
	"encoding/binary"
	"sync"
	"time"
)

// params builds the parameters of Apply's write statement on PostgreSQL
// in PostgreSQL's binary array form (what array_send writes: a header,
// then each element's 4-byte length and value), all in one buffer sized
// once and reused through paramsPool. A batch's arguments are mostly its
// customers' data (about 70 KB for 100 events); pgx would encode them
// into a buffer that starts small for every statement and grows by
// doubling, and with the allocation rate of a RecordBatch the garbage
// collector took a core's share that PostgreSQL needed.
type params struct {
	buf  []byte
	vals [][]byte
}

var paramsPool = sync.Pool{New: func() any { return new(params) }}

// Element type OIDs (pg_type) of the arrays.
const (
	oidBytea       = 17
	oidInt8        = 20
	oidText        = 25
	oidTimestamptz = 1184
)

// arrayBytes returns the size of a one-dimensional array of n elements
// whose values take data bytes.
func arrayBytes(n, data int) int { return 20 + 4*n + data }

// reset prepares p for size bytes of arrays.
func (p *params) reset(size int) {
	if cap(p.buf) < size {
		p.buf = make([]byte, 0, size)
	}
	p.buf, p.vals = p.buf[:0], p.vals[:0]
}

// header starts an array of n elements of type oid.
func (p *params) header(n int, oid uint32) int {
	start := len(p.buf)
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // dimensions
	p.buf = binary.BigEndian.AppendUint32(p.buf, 0) // no NULLs
	p.buf = binary.BigEndian.AppendUint32(p.buf, oid)
	p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(n))
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // lower bound
	return start
}

func (p *params) done(start int) { p.vals = append(p.vals, p.buf[start:len(p.buf):len(p.buf)]) }

func (p *params) texts(v []string) {
	start := p.header(len(v), oidText)
	for _, s := range v {
		p.buf = appendText(p.buf, s)
	}
	p.done(start)
}

func (p *params) byteas(v [][]byte) {
	start := p.header(len(v), oidBytea)
	for _, b := range v {
		p.buf = appendBytea(p.buf, b)
	}
	p.done(start)
}

func (p *params) int8s(v []int64) {
	start := p.header(len(v), oidInt8)
	for _, x := range v {
		p.buf = appendInt8(p.buf, x)
	}
	p.done(start)
}

func (p *params) times(v []time.Time) {
	start := p.header(len(v), oidTimestamptz)
	for _, t := range v {
		p.buf = appendTimestamptz(p.buf, t)
	}
	p.done(start)
}

// scalar adds the value just appended from start, a length and the
// value's bytes, as one parameter (the value's bytes).
func (p *params) scalar(start int) { p.vals = append(p.vals, p.buf[start+4:len(p.buf):len(p.buf)]) }

func (p *params) text(v string) {
	start := len(p.buf)
	p.buf = appendText(p.buf, v)
	p.scalar(start)
}

func (p *params) bytea(v []byte) {
	start := len(p.buf)
	p.buf = appendBytea(p.buf, v)
	p.scalar(start)
}

// byteaOrNull adds v as a bytea parameter, or NULL for a nil v.
func (p *params) byteaOrNull(v []byte) {
	if v == nil {
		p.vals = append(p.vals, nil)
		return
	}
	p.bytea(v)
}

func (p *params) int8(v int64) {
	start := len(p.buf)
	p.buf = appendInt8(p.buf, v)
	p.scalar(start)
}

func (p *params) timestamptz(v time.Time) {
	start := len(p.buf)
	p.buf = appendTimestamptz(p.buf, v)
	p.scalar(start)
}

func textBytes(v []string) int {
	n := 0
	for _, s := range v {
		n += len(s)
	}
	return arrayBytes(len(v), n)
}

func byteaBytes(v [][]byte) int {
	n := 0
	for _, b := range v {
		n += len(b)
	}
	return arrayBytes(len(v), n)
}
