package sqlstore

import (
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// TestParamsArePgxEncoding: the write statement's parameters, which the
// store encodes itself (params), are byte for byte what pgx sends for the
// same Go values in binary form: text, bigint, timestamptz and bytea
// arrays, empty ones included.
func TestParamsArePgxEncoding(t *testing.T) {
	m := pgtype.NewMap()
	pgxBytes := func(oid uint32, v any) []byte {
		b, err := m.Encode(oid, pgx.BinaryFormatCode, v, nil)
		require.NoError(t, err)
		return b
	}
	texts := [][]string{{}, {"a"}, {"é-ü", "", "c\x01d", string(make([]byte, 300))}}
	ints := [][]int64{{}, {0}, {math.MinInt64, -1, 1, math.MaxInt64}}
	times := [][]time.Time{{}, {time.Date(2026, 12, 5, 3, 4, 5, 123456789, time.UTC)}, {
		{}, time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Unix(0, -1).UTC(),
		time.Date(1969, 7, 20, 20, 17, 40, 1, time.FixedZone("x", 3600)),
	}}
	byteas := [][][]byte{{}, {{}}, {{0, 1, 0, 255}, []byte("x"), make([]byte, 70)}}
	var p params
	for i := range 3 {
		p.reset(0)
		p.texts(texts[i])
		p.int8s(ints[i])
		p.times(times[i])
		p.byteas(byteas[i])
		require.Len(t, p.vals, 4)
		require.Equal(t, pgxBytes(pgtype.TextArrayOID, texts[i]), p.vals[0], "text[] %q", texts[i])
		require.Equal(t, pgxBytes(pgtype.Int8ArrayOID, ints[i]), p.vals[1], "bigint[] %v", ints[i])
		require.Equal(t, pgxBytes(pgtype.TimestamptzArrayOID, times[i]), p.vals[2], "timestamptz[] %v", times[i])
		require.Equal(t, pgxBytes(pgtype.ByteaArrayOID, byteas[i]), p.vals[3], "bytea[] %v", byteas[i])
	}
}
