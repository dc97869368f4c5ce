package sqlstore

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// pgxEncoder returns a function giving pgx's binary encoding of v as a
// value of type oid.
func pgxEncoder(t *testing.T) func(oid uint32, v any) []byte {
	m := pgtype.NewMap()
	return func(oid uint32, v any) []byte {
		b, err := m.Encode(oid, pgx.BinaryFormatCode, v, nil)
		require.NoError(t, err)
		return b
	}
}

// TestParamsArePgxEncoding: the write statement's parameters, which the
// store encodes itself (params), are byte for byte what pgx sends for the
// same Go values in binary form: text, bigint, timestamptz and bytea
// arrays, empty ones included.
func TestParamsArePgxEncoding(t *testing.T) {
	pgxBytes := pgxEncoder(t)
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

// TestScalarParamsArePgxEncoding: applyUpdate1's and applyCreate1's scalar parameters, which
// the store encodes itself, are byte for byte pgx's binary form of the
// same Go values.
func TestScalarParamsArePgxEncoding(t *testing.T) {
	pgxBytes := pgxEncoder(t)
	var p params
	for _, s := range []string{"", "a", "é-ü\x01", string(make([]byte, 300))} {
		p.reset(0)
		p.text(s)
		require.Equal(t, string(pgxBytes(pgtype.TextOID, s)), string(p.vals[0]), "text %q", s)
		require.NotNil(t, p.vals[0], "text %q is not NULL", s) // pgconn sends a nil value as NULL
	}
	for _, v := range []int64{0, -1, math.MinInt64, math.MaxInt64} {
		p.reset(0)
		p.int8(v)
		require.Equal(t, pgxBytes(pgtype.Int8OID, v), p.vals[0], "bigint %d", v)
	}
	for _, v := range []time.Time{time.Date(2026, 12, 5, 3, 4, 5, 123456789, time.UTC), time.Unix(0, -1).UTC(),
		time.Date(1969, 7, 20, 20, 17, 40, 1, time.FixedZone("x", 3600))} {
		p.reset(0)
		p.timestamptz(v)
		require.Equal(t, pgxBytes(pgtype.TimestamptzOID, v), p.vals[0], "timestamptz %v", v)
	}
	for _, v := range [][]byte{{}, {0, 255}, make([]byte, 70)} {
		p.reset(0)
		p.bytea(v)
		require.Equal(t, string(pgxBytes(pgtype.ByteaOID, v)), string(p.vals[0]), "bytea %v", v)
		require.NotNil(t, p.vals[0], "bytea %v is not NULL", v)
	}
	// Values appended one after another keep their own bytes.
	p.reset(0)
	p.text("id")
	p.int8(7)
	p.byteas([][]byte{{1}})
	p.text("x")
	require.Len(t, p.vals, 4)
	require.Equal(t, []byte("id"), p.vals[0])
	require.Equal(t, pgxBytes(pgtype.Int8OID, int64(7)), p.vals[1])
	require.Equal(t, []byte("x"), p.vals[3])
}

// TestWriteStatementsParamTypes: PostgreSQL gives the write statements'
// parameters the types the store encodes them as (writeOIDs,
// updateOneOIDs, createOneOIDs), so each is prepared once per connection and sent
// prepared (execPgx sends an unnamed statement, parsed on every call,
// when they differ).
func TestWriteStatementsParamTypes(t *testing.T) {
	s := postgresStore(t, "ptypes")
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		require.NoError(t, err)
		type statement struct {
			sql  string
			oids []uint32
		}
		sts := []statement{{s.q.applyWrite, writeOIDs}}
		for _, one := range [][2]int64{{1, 0}, {1, 1}, {0, 1}} { // as writeOne picks them
			_, sql, oids := s.q.one(one[0], one[1] == 1)
			sts = append(sts, statement{sql, oids})
		}
		for _, st := range sts {
			sd, err := pc.Prepare(ctx, "", st.sql)
			require.NoError(t, err)
			require.Equal(t, st.oids, sd.ParamOIDs, "%.60s", st.sql)
		}
		return nil
	}))
}
