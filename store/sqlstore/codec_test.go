package sqlstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// FuzzCodec checks that every customer check accepts survives the trip
// through the data column and the key list unchanged, and that check
// refuses the rest with a ValueError.
func FuzzCodec(f *testing.F) {
	f.Add("cust-1", "retention", "order_completed", "EUR", "ref-ü", "e1", uint64(3), uint64(1<<63), int64(0), int32(0))
	f.Add("a\x00b", "reach", "site_visited", "USD", "", "", uint64(0), uint64(1), int64(1), int32(3600))
	f.Add("客户", "re\xffach", "x", "", "r", "cause\u2028", uint64(5), uint64(5), int64(-62135596800), int32(-5*3600))
	f.Add(strings.Repeat("x", 300), "", "", "", "", "", uint64(1), uint64(0), int64(253402300799), int32(0))
	f.Add("lmt", "reach", "x", "EUR", "", "e1", uint64(1), uint64(2), int64(-2208988800), int32(19*60+32))
	f.Add("far", "reach", "x", "EUR", "", "e1", uint64(1), uint64(2), int64(253402300799), int32(3600))
	f.Fuzz(func(t *testing.T, id, st, typ, cur, ref, cause string, d1, d2 uint64, unix int64, off int32) {
		at := time.Unix(unix, 0).UTC()
		if off != 0 {
			at = at.In(time.FixedZone("Z", int(off)))
		}
		c := &lifecycle.Customer{
			ID: id, Stage: stage.ID(st), Since: at, AsOf: at, Version: 1,
			Facts: lifecycle.Facts{
				First: at, Last: at,
				Tallies:    []lifecycle.Tally{{Type: lifecycle.EventType(typ), Count: 1, First: at, Last: at}},
				Sums:       []lifecycle.Sum{{Type: lifecycle.EventType(typ), Currency: cur, Amount: 7}},
				ReferredBy: ref,
			},
			History: []lifecycle.Transition{{From: stage.ID(st), To: stage.ID(st), At: at, Cause: cause}},
			Seen:    seenKeys(d1, d2),
		}
		if err := check(c); err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) || !errors.Is(err, lifecycle.ErrInvalidCustomer) {
				t.Fatalf("check = %v; want a *ValueError wrapping ErrInvalidCustomer", err)
			}
			return
		}
		if c.ID == "" {
			t.Skip("empty IDs are refused by store.CheckPut before check runs")
		}
		data, err := encode(c)
		if err != nil {
			t.Fatalf("encode of a customer check accepted = %v", err)
		}
		requireJSONBytes(t, c, data)
		keys := strings.ReplaceAll(strings.Trim(keyJSON(c.Seen.All()), "[]"), `"`, "")
		var got lifecycle.Customer
		if err := decode(&got, c.ID, int64(c.Version), data, keys); err != nil {
			t.Fatalf("decode of what encode wrote = %v", err)
		}
		if diff := cmp.Diff(c, &got, cmpopts.EquateEmpty(), cmpKeys); diff != "" {
			t.Fatalf("round trip (-put +got):\n%s", diff)
		}
		// cmp compares times with Equal, which ignores the offset.
		if w, g := c.Since.Format(time.RFC3339Nano), got.Since.Format(time.RFC3339Nano); w != g {
			t.Fatalf("round trip of Since: put %s, got %s", w, g)
		}
	})
}

// requireJSONBytes fails unless data, what encode wrote for c, is what
// encoding/json writes for the same record: the hand-written encoder and
// the decoder (encoding/json) agree on one form.
func requireJSONBytes(t *testing.T, c *lifecycle.Customer, data []byte) {
	t.Helper()
	want, err := json.Marshal(record{Stage: c.Stage, Since: c.Since, AsOf: c.AsOf, Facts: c.Facts, History: c.History, Due: c.Due})
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if !bytes.Equal(want, data) {
		t.Fatalf("encode wrote\n%s\nencoding/json writes\n%s", data, want)
	}
}

// TestEncodeIsEncodingJSON compares encode with encoding/json on random
// customers: every optional field present or absent, strings with every
// ASCII byte, multi-byte, invalid UTF-8 and line and paragraph
// separators, times with and without offsets and fractions.
func TestEncodeIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		var sb strings.Builder
		for range r.IntN(12) {
			switch r.IntN(6) {
			case 0:
				sb.WriteByte(byte(r.IntN(128)))
			case 1:
				sb.WriteString([]string{"ü", "客", "\u2028", "\u2029", "\xff", "😀", "<&>", `"\\`}[r.IntN(8)])
			default:
				sb.WriteByte(byte('a' + r.IntN(26)))
			}
		}
		return sb.String()
	}
	at := func() time.Time {
		if r.IntN(5) == 0 {
			return time.Time{}
		}
		t := time.Unix(r.Int64N(253402300799), r.Int64N(2)*r.Int64N(1e9))
		if r.IntN(2) == 0 {
			return t.UTC()
		}
		return t.In(time.FixedZone("", (r.IntN(48)-24)*1800))
	}
	for i := range 2000 {
		c := &lifecycle.Customer{ID: "c", Stage: stage.ID(str()), Since: at(), AsOf: at(), Due: at()}
		f := &c.Facts
		f.First, f.Last = at(), at()
		for range r.IntN(3) {
			f.Tallies = append(f.Tallies, lifecycle.Tally{Type: lifecycle.EventType(str()), Count: r.Int64(), First: at(), Last: at()})
		}
		for range r.IntN(3) {
			f.Sums = append(f.Sums, lifecycle.Sum{Type: lifecycle.EventType(str()), Currency: str(), Amount: r.Int64()})
		}
		if r.IntN(2) == 0 {
			f.ReferredBy, f.ReferredAt = str(), at()
		}
		if r.IntN(2) == 0 {
			f.Score, f.ScoreAt = r.IntN(21)-10, at()
		}
		for range r.IntN(3) {
			f.Referrals = append(f.Referrals, lifecycle.Referral{Customer: str(), At: at()})
		}
		switch r.IntN(3) {
		case 0: // nil History
		case 1:
			c.History = []lifecycle.Transition{}
		default:
			for range 1 + r.IntN(3) {
				c.History = append(c.History, lifecycle.Transition{From: stage.ID(str()), To: stage.ID(str()), At: at(), Cause: str()})
			}
		}
		data, err := encode(c)
		if err != nil {
			t.Fatalf("customer %d: encode = %v", i, err)
		}
		requireJSONBytes(t, c, data)
	}
}

// TestJSONTimeIsAppendFormat compares jsonTime with time.AppendFormat's
// RFC 3339 on random times in UTC and in other zones, with and without
// fractions of a second (trailing zeros and all), over years 0 to 9999.
func TestJSONTimeIsAppendFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 100_000 {
		var ns int64
		switch r.IntN(4) {
		case 1:
			ns = r.Int64N(1e9)
		case 2:
			ns = r.Int64N(1e3) * 1e6
		case 3:
			ns = r.Int64N(10) * int64([]int{1, 10, 100, 1e8}[r.IntN(4)])
		}
		at := time.Unix(r.Int64N(253402300800+62167219200)-62167219200, ns).UTC() // years 0 to 9999
		if i%5 == 0 {
			at = at.In(time.FixedZone("", (r.IntN(48)-24)*1800))
		}
		want := `"` + at.Format(time.RFC3339Nano) + `"`
		if got := string(jsonTime(nil, at)); got != want {
			t.Fatalf("jsonTime(%v) = %s, want %s", at, got, want)
		}
	}
	for _, at := range []time.Time{{}, time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 12, 6, 1, 2, 3, 100, time.UTC), time.Date(2026, 12, 6, 1, 2, 3, 0, time.Local)} {
		if got, want := string(jsonTime(nil, at)), `"`+at.Format(time.RFC3339Nano)+`"`; got != want {
			t.Fatalf("jsonTime(%v) = %s, want %s", at, got, want)
		}
	}
}

// seenKeys returns a set of legacy keys of these digests.
func seenKeys(ds ...uint64) lifecycle.EventSet {
	var s lifecycle.EventSet
	for _, d := range ds {
		var k lifecycle.EventKey
		binary.BigEndian.PutUint64(k[:8], ^uint64(0))
		binary.BigEndian.PutUint64(k[8:], d)
		s.Add(k)
	}
	return s
}

// cmpKeys lets cmp compare EventSets, whose layout is private, as their
// keys.
var cmpKeys = cmp.Transformer("Keys", func(s lifecycle.EventSet) []string {
	var out []string
	for k := range s.All() {
		out = append(out, k.String())
	}
	return out
})

func TestTruncateKeepsCharacters(t *testing.T) {
	s := strings.Repeat("a", 63) + "üü"
	got := truncate(s)
	if !utf8.ValidString(got) || got != strings.Repeat("a", 63)+"…" {
		t.Fatalf("truncate(%q) = %q; want 63 a's and an ellipsis, valid UTF-8", s, got)
	}
	// Bytes that start no character are cut where they are: the message
	// still shows the first 64.
	s = strings.Repeat("\x80", 300)
	if got := truncate(s); got != s[:64]+"…" {
		t.Fatalf("truncate(300 continuation bytes) = %q; want the first 64 and an ellipsis", got)
	}
}
