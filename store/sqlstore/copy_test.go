package sqlstore

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestCopyRows: rows COPYed in copyRows' binary form are stored exactly as
// the same values sent as query parameters through pgx (times before and
// after PostgreSQL's epoch with nanoseconds that round away, the zero
// time, NULL, bytes with zeros, text that is not ASCII).
func TestCopyRows(t *testing.T) {
	dsn := os.Getenv("CLM_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("CLM_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, name := range []string{"copied", "bound"} {
		_, err := conn.Exec(ctx, `CREATE TEMP TABLE `+name+` (id text, n bigint, at timestamptz, data bytea, due bigint)`)
		require.NoError(t, err)
	}
	type row struct {
		id   string
		n    int64
		at   time.Time
		data []byte
		due  *int64
	}
	due := int64(math.MaxInt64 - 1)
	rows := []row{
		{"a", 1, time.Date(2026, 12, 5, 3, 4, 5, 123456789, time.UTC), []byte(`{"x":1}`), &due},
		{"é-ü", -7, time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), []byte{0, 1, 0, 255}, nil},
		{"", math.MinInt64, time.Time{}, []byte{}, nil},
		{"z", math.MaxInt64, time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC), nil, &due},
		{"w", 0, time.Unix(0, -1).UTC(), []byte("x"), nil},
	}
	c := newCopyRows(0)
	for _, r := range rows {
		c.row(5)
		c.text(r.id)
		c.int8(r.n)
		c.timestamptz(r.at)
		if r.data == nil {
			c.null()
		} else {
			c.bytea(r.data)
		}
		if r.due == nil {
			c.null()
		} else {
			c.int8(*r.due)
		}
		_, err := conn.Exec(ctx, `INSERT INTO bound VALUES ($1, $2, $3, $4, $5)`, r.id, r.n, r.at, r.data, r.due)
		require.NoError(t, err)
	}
	n, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(c.end()), `COPY copied FROM STDIN (FORMAT binary)`)
	require.NoError(t, err)
	require.Equal(t, int64(len(rows)), n.RowsAffected())
	var differ int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM ((TABLE copied EXCEPT ALL TABLE bound) UNION ALL (TABLE bound EXCEPT ALL TABLE copied)) d`).Scan(&differ))
	require.Zero(t, differ, "rows that differ between COPY and INSERT")
}

// TestCopyReader: the stream copyReader encodes as it is read is the one
// copyRows builds at once, whatever the size of the reads (one byte at a
// time, or larger than the stream), for no rows too.
func TestCopyReader(t *testing.T) {
	row := func(c *copyRows, i int) {
		c.row(3)
		c.text(strings.Repeat("id", i%7))
		c.bytea(bytes.Repeat([]byte{byte(i)}, i*37%200))
		c.int8(int64(i) * 1_000_003)
	}
	for _, n := range []int{0, 1, 3, 2000} {
		whole := newCopyRows(0)
		for i := range n {
			row(whole, i)
		}
		want := whole.end()
		got, err := io.ReadAll(iotest.OneByteReader(newCopyReader(n, row)))
		require.NoError(t, err)
		require.Equal(t, want, got, "%d rows, read a byte at a time", n)
		got, err = io.ReadAll(newCopyReader(n, row))
		require.NoError(t, err)
		require.Equal(t, want, got, "%d rows, read in large chunks", n)
		r := newCopyReader(n, row)
		buf := make([]byte, len(want)+100)
		k, err := io.ReadFull(r, buf[:len(want)])
		require.NoError(t, err)
		require.Equal(t, want, buf[:k], "%d rows, one read of the whole", n)
		k, err = r.Read(buf)
		require.Zero(t, k)
		require.ErrorIs(t, err, io.EOF, "%d rows: the read after the trailer", n)
	}
}
