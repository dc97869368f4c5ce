package sqlstore

import (
	"encoding/binary"
	"io"
	"time"
)

// copyRows builds the stream of a PostgreSQL COPY … FROM STDIN (FORMAT
// binary): a header, then rows of fields, each a 4-byte length (-1 for
// NULL) and the value in the type's binary form, then a trailer. Apply's
// COPY of new customers writes its rows with it instead of pgx's
// CopyFrom, which boxes every value in an interface (an allocation or a
// reflective dereference each: a third of an import's allocations).
type copyRows struct{ b []byte }

// pgEpochMicros is 2000-01-01 00:00:00 UTC, PostgreSQL's epoch for
// timestamps, in microseconds after the Unix epoch.
const pgEpochMicros = 946_684_800_000_000

func newCopyRows(size int) *copyRows {
	c := &copyRows{b: make([]byte, 0, size)}
	c.b = append(c.b, "PGCOPY\n\xff\r\n\x00"...)
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // flags
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // header extension length
	return c
}

// row starts a row of n fields.
func (c *copyRows) row(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

// A value in PostgreSQL's binary form, as a COPY field and an array
// element both take it: its 4-byte length, then its bytes. params and
// copyRows share these.

// appendText appends a text value (the server checks its encoding).
func appendText(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// appendBytea appends a bytea value.
func appendBytea(b, v []byte) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(v))), v...)
}

// appendInt8 appends a bigint value.
func appendInt8(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), uint64(v))
}

// appendTimestamptz appends a timestamptz value: microseconds after
// PostgreSQL's epoch, the nanoseconds truncated, as pgx sends a query's
// time.Time.
func appendTimestamptz(b []byte, t time.Time) []byte {
	return appendInt8(b, t.UnixMicro()-pgEpochMicros)
}

func (c *copyRows) text(s string)           { c.b = appendText(c.b, s) }
func (c *copyRows) bytea(v []byte)          { c.b = appendBytea(c.b, v) }
func (c *copyRows) int8(v int64)            { c.b = appendInt8(c.b, v) }
func (c *copyRows) timestamptz(t time.Time) { c.b = appendTimestamptz(c.b, t) }

// null adds a NULL field.
func (c *copyRows) null() { c.b = binary.BigEndian.AppendUint32(c.b, 0xffff_ffff) }

// end adds the trailer and returns the stream.
func (c *copyRows) end() []byte {
	c.b = binary.BigEndian.AppendUint16(c.b, 0xffff)
	return c.b
}

// copyReader reads the COPY stream of n rows, encoding them (row(c, i)
// for row i) only as the stream is read: pgconn reads it in 64 KB chunks
// in a goroutine of its own and sends each as it comes, so the rows are
// encoded while the server takes in the ones before.
type copyReader struct {
	c    *copyRows
	off  int // bytes of c.b already read
	i, n int
	row  func(c *copyRows, i int)
}

func newCopyReader(n int, row func(c *copyRows, i int)) *copyReader {
	return &copyReader{c: newCopyRows(64 << 10), n: n, row: row}
}

func (r *copyReader) Read(p []byte) (int, error) {
	if r.off > 0 { // drop what was read
		r.c.b = r.c.b[:copy(r.c.b, r.c.b[r.off:])]
		r.off = 0
	}
	for len(r.c.b) < len(p) && r.i <= r.n {
		if r.i == r.n {
			r.c.end()
		} else {
			r.row(r.c, r.i)
		}
		r.i++
	}
	if len(r.c.b) == 0 {
		return 0, io.EOF
	}
	r.off = copy(p, r.c.b)
	return r.off, nil
}
