package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clmkit/clm/lifecycle"
)

var rvSetCmp = cmp.Comparer(func(a, b lifecycle.EventSet) bool { return a.Equal(&b) })

func rvSameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

func TestContractEventJSONRoundTrip(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("X", 23*3600+59*60)}
	for i, z := range zones {
		e := lifecycle.Event{ID: "e\"<>&\u00e9", CustomerID: "c/1", Type: lifecycle.SurveyAnswered,
			Time:   time.Date(2026, 2, 3, 4, 5, 6, 123456789, time.UTC).In(z),
			Amount: 1<<63 - 1, Currency: "EUR", ReferrerID: "r\u2603",
			Attrs: map[string]string{"score": "7", "": "empty key", "k\"": "v\\\n"}}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got lifecycle.Event
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%d: %v (%s)", i, err, b)
		}
		if !rvSameTime(got.Time, e.Time) {
			t.Errorf("%d: time %v, want %v", i, got.Time, e.Time)
		}
		got.Time, e.Time = time.Time{}, time.Time{}
		if d := cmp.Diff(e, got); d != "" {
			t.Errorf("%d: %s", i, d)
		}
	}
	// Offset with seconds: written in UTC, same instant.
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err == nil {
		e := rvEv("e", "c", lifecycle.SiteVisited, time.Date(1920, 5, 1, 12, 0, 0, 0, ams))
		b, _ := json.Marshal(e)
		var got lifecycle.Event
		if err := json.Unmarshal(b, &got); err != nil || !got.Time.Equal(e.Time) {
			t.Errorf("ams: %v %v vs %v (%s)", err, got.Time, e.Time, b)
		}
	}
	// 9999-12-31T23:30Z at +01:00: written in UTC.
	e := rvEv("e", "c", lifecycle.SiteVisited, time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC).In(time.FixedZone("", 3600)))
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got lifecycle.Event
	if err := json.Unmarshal(b, &got); err != nil || !got.Time.Equal(e.Time) {
		t.Errorf("y10k: %v %v (%s)", err, got.Time, b)
	}
	// FixedZone of 24h: written in UTC.
	e = rvEv("e", "c", lifecycle.SiteVisited, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).In(time.FixedZone("", 24*3600)))
	b, err = json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	got = lifecycle.Event{}
	if err := json.Unmarshal(b, &got); err != nil || !got.Time.Equal(e.Time) {
		t.Errorf("24h: %v %v (%s)", err, got.Time, b)
	}
}

func TestContractEventJSONStrict(t *testing.T) {
	base := `"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"`
	cases := []struct {
		name, in, field string
	}{
		{"unknown", `{` + base + `,"extra":1}`, "extra"},
		{"case", `{"ID":"e1"}`, "ID"},
		{"dup", `{` + base + `,"id":"e2"}`, "id"},
		{"dup escaped", `{` + base + `,"\u0069d":"e2"}`, "id"},
		{"id number", `{"id":1}`, "id"},
		{"time number", `{"time":123}`, "time"},
		{"time lower t", `{"time":"2026-03-01t10:00:00Z"}`, "time"},
		{"time lower z", `{"time":"2026-03-01T10:00:00z"}`, "time"},
		{"time +00:60", `{"time":"2026-03-01T10:00:00+00:60"}`, "time"},
		{"time +24:00", `{"time":"2026-03-01T10:00:00+24:00"}`, "time"},
		{"time comma", `{"time":"2026-03-01T10:00:00,5Z"}`, "time"},
		{"time 10 digits", `{"time":"2026-03-01T10:00:00.1234567890Z"}`, "time"},
		{"time empty frac", `{"time":"2026-03-01T10:00:00.Z"}`, "time"},
		{"time no offset", `{"time":"2026-03-01T10:00:00"}`, "time"},
		{"time feb 30", `{"time":"2026-02-30T10:00:00Z"}`, "time"},
		{"time hour 24", `{"time":"2026-03-01T24:00:00Z"}`, "time"},
		{"time leap sec", `{"time":"2026-03-01T23:59:60Z"}`, "time"},
		{"time space", `{"time":"2026-03-01 10:00:00Z"}`, "time"},
		{"time 5-digit year", `{"time":"10000-03-01T10:00:00Z"}`, "time"},
		{"amount string", `{"amount":"12"}`, "amount"},
		{"amount frac", `{"amount":12.5}`, "amount"},
		{"amount frac zero", `{"amount":12.0}`, "amount"},
		{"amount exp", `{"amount":1e3}`, "amount"},
		{"amount 2^63", `{"amount":9223372036854775808}`, "amount"},
		{"amount -2^63-1", `{"amount":-9223372036854775809}`, "amount"},
		{"amount bool", `{"amount":true}`, "amount"},
		{"attrs array", `{"attrs":[]}`, "attrs"},
		{"attrs num value", `{"attrs":{"k":1}}`, "attrs.k"},
		{"attrs null value", `{"attrs":{"k":null}}`, "attrs.k"},
		{"attrs dup", `{"attrs":{"k":"a","k":"b"}}`, "attrs.k"},
		{"bad utf8 id", "{\"id\":\"a\xffb\"}", "id"},
		{"lone surrogate", `{"id":"a\ud800b"}`, "id"},
		{"lone low surrogate", `{"id":"a\udc00b"}`, "id"},
		{"reversed surrogates", `{"id":"\udc00\ud800"}`, "id"},
		{"surrogate at end", `{"id":"a\ud800"}`, "id"},
		{"bad utf8 attr key", "{\"attrs\":{\"k\xff\":\"v\"}}", "attrs.k\uFFFD"},
		{"array", `[]`, "json"},
		{"null", `null`, "json"},
		{"string", `"x"`, "json"},
		{"currency number", `{"currency":1}`, "currency"},
		{"type array", `{"type":["a"]}`, "type"},
	}
	for _, c := range cases {
		var e lifecycle.Event
		e.ID = "keep"
		err := e.UnmarshalJSON([]byte(c.in))
		rvWantField(t, c.name, err, c.field)
		if e.ID != "keep" {
			t.Errorf("%s: event changed on error: %+v", c.name, e)
		}
	}
	// Accepted forms.
	ok := []string{
		`{}`,
		`{` + base + `,"amount":null,"attrs":null}`,
		`{` + base + `,"amount":-0}`,
		` {` + base + `} `,
		`{"time":"2026-03-01T10:00:00.123456789-23:59"}`,
		`{"time":"2026-03-01T10:00:00+23:59"}`,
		`{"id":"\ud83d\ude00"}`,
		`{"attrs":{}}`,
	}
	for _, in := range ok {
		var e lifecycle.Event
		e.ID, e.Attrs = "old", map[string]string{"x": "y"}
		if err := e.UnmarshalJSON([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
		}
		if strings.Contains(in, `"id"`) == false && e.ID != "" {
			t.Errorf("%s: absent id kept %q", in, e.ID)
		}
	}
	var e lifecycle.Event
	if err := json.Unmarshal([]byte(`{"id":"\ud83d\ude00"}`), &e); err != nil || e.ID != "😀" {
		t.Errorf("surrogate pair: %q %v", e.ID, err)
	}
	if err := json.Unmarshal([]byte(`{"time":"2026-03-01T10:00:00.5+01:00"}`), &e); err != nil {
		t.Fatal(err)
	}
	if _, off := e.Time.Zone(); off != 3600 || e.Time.Nanosecond() != 500000000 {
		t.Errorf("offset %d ns %d", off, e.Time.Nanosecond())
	}
	// Value is the offending text, cut to 64 bytes.
	long := strings.Repeat("x", 100)
	err := e.UnmarshalJSON([]byte(`{"amount":"` + long + `"}`))
	var ve *lifecycle.ValidationError
	if errors.As(err, &ve) && (len(ve.Value) > 64+len("…")) {
		t.Errorf("Value too long: %d", len(ve.Value))
	}
	// Field name longer than 64 bytes is cut short.
	err = e.UnmarshalJSON([]byte(`{"` + long + `":1}`))
	if errors.As(err, &ve) && len(ve.Field) > 64+len("…") {
		t.Errorf("Field too long: %d", len(ve.Field))
	}
}

func TestContractDecodeEvents(t *testing.T) {
	one := `{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-03-01T10:00:00Z"}`
	evs, err := lifecycle.DecodeEvents([]byte(one))
	if err != nil || len(evs) != 1 || evs[0].ID != "e1" {
		t.Fatalf("%v %v", evs, err)
	}
	evs, err = lifecycle.DecodeEvents([]byte(` [ ] `))
	if err != nil || evs == nil || len(evs) != 0 {
		t.Errorf("empty array: %#v %v", evs, err)
	}
	evs, err = lifecycle.DecodeEvents([]byte(`[` + one + `,{"id":1},` + one + `,{"x":2}]`))
	if evs != nil || !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Fatalf("%v %v", evs, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "event 1: ") || !strings.Contains(msg, "event 3: ") || strings.Contains(msg, "event 0:") || strings.Index(msg, "event 1") > strings.Index(msg, "event 3") {
		t.Errorf("joined error: %v", msg)
	}
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || ve.Field != "id" {
		t.Errorf("first element's error: %+v", ve)
	}
	for _, in := range []string{"", "   ", "null", "1", `"s"`, `{} {}`, `[1,2`, `[1]`, `[null]`, "tru"} {
		evs, err := lifecycle.DecodeEvents([]byte(in))
		if evs != nil || !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("%q: %v %v", in, evs, err)
		}
	}
	for _, in := range []string{"", "null", "1", `{} {}`} {
		_, err := lifecycle.DecodeEvents([]byte(in))
		rvWantField(t, "decode "+strconv.Quote(in), err, "json")
	}
	// MaxBatch exactly is accepted, one more refused with Field json.
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := 0; i < lifecycle.MaxBatch; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{}`)
	}
	buf.WriteByte(']')
	evs, err = lifecycle.DecodeEvents(buf.Bytes())
	if err != nil || len(evs) != lifecycle.MaxBatch {
		t.Errorf("MaxBatch: %d %v", len(evs), err)
	}
	b := buf.Bytes()
	b = append(b[:len(b)-1], []byte(`,{}]`)...)
	_, err = lifecycle.DecodeEvents(b)
	rvWantField(t, "MaxBatch+1", err, "json")
	// Nested arrays and strings containing brackets.
	evs, err = lifecycle.DecodeEvents([]byte(`[{"id":"a]}[{,\"","attrs":{"k":"]"}} , {"id":"b"}]`))
	if err != nil || len(evs) != 2 || evs[0].ID != `a]}[{,"` || evs[1].ID != "b" {
		t.Errorf("tricky strings: %+v %v", evs, err)
	}
}

func TestContractCustomerJSONRoundTrip(t *testing.T) {
	ctx := context.Background()
	tr, st := rvTracker(t)
	for _, e := range rvGen(51, 6, 200) {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range rvSnapshot(t, st) {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var got lifecycle.Customer
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if d := cmp.Diff(c, &got, rvSetCmp); d != "" {
			t.Errorf("%s: round trip differs:\n%s", c.ID, d)
		}
		if !got.Seen.Equal(&c.Seen) {
			t.Errorf("seen differs")
		}
		// Plain encoding/json of the whole struct decodes the same bytes.
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
	}
	// Offsets with seconds, and negative sub-minute offsets.
	for _, off := range []int{19*60 + 32, -52, 52, -(3*3600 + 7), 23*3600 + 59*60 + 59} {
		z := time.FixedZone("", off)
		at := time.Date(1900, 1, 1, 0, 0, 0, 5, time.UTC).In(z)
		c := lifecycle.Customer{ID: "x", Since: at, AsOf: at, Due: at,
			Facts:   lifecycle.Facts{First: at, Last: at, ReferredAt: at, ScoreAt: at, Tallies: []lifecycle.Tally{{Type: "site_visited", Count: 1, First: at, Last: at}}, Referrals: []lifecycle.Referral{{Customer: "k", At: at}}},
			History: []lifecycle.Transition{{From: "", To: "reach", At: at, Cause: "e"}}}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("off %d: %v", off, err)
		}
		var got lifecycle.Customer
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("off %d: %v (%s)", off, err, b)
		}
		for name, pair := range map[string][2]time.Time{
			"since": {got.Since, at}, "asof": {got.AsOf, at}, "due": {got.Due, at}, "first": {got.Facts.First, at},
			"tally": {got.Facts.Tallies[0].First, at}, "ref": {got.Facts.Referrals[0].At, at}, "hist": {got.History[0].At, at},
			"refat": {got.Facts.ReferredAt, at}, "scoreat": {got.Facts.ScoreAt, at},
		} {
			if !rvSameTime(pair[0], pair[1]) {
				t.Errorf("off %d %s: %v, want %v (%s)", off, name, pair[0], pair[1], b)
			}
		}
	}
	// Absent fields keep their value; error leaves c unchanged.
	c := lifecycle.Customer{ID: "keep", Stage: "s", Version: 7, History: []lifecycle.Transition{{To: "s"}}}
	if err := json.Unmarshal([]byte(`{"version":8}`), &c); err != nil || c.ID != "keep" || c.Version != 8 || len(c.History) != 1 {
		t.Errorf("absent fields: %+v %v", c, err)
	}
	before := c.Clone()
	if err := json.Unmarshal([]byte(`{"id":"new","seen":["zz"]}`), &c); err == nil {
		t.Error("bad seen accepted")
	}
	if d := cmp.Diff(before, &c, rvSetCmp); d != "" {
		t.Errorf("changed on error: %s", d)
	}
	if err := json.Unmarshal([]byte(`{"id":"new","since":"nope"}`), &c); err == nil {
		t.Error("bad time accepted")
	}
	if d := cmp.Diff(before, &c, rvSetCmp); d != "" {
		t.Errorf("changed on error: %s", d)
	}
	// Decoding into c must not write to the arrays of c's earlier value
	// (aliasing): the clone taken before keeps its values.
	orig := lifecycle.Customer{ID: "a", Facts: lifecycle.Facts{Sums: []lifecycle.Sum{{Type: "order_completed", Currency: "EUR", Amount: 1}}}}
	alias := orig // shares arrays
	if err := json.Unmarshal([]byte(`{"facts":{"sums":[{"type":"order_completed","currency":"USD","amount":5}]}}`), &orig); err != nil {
		t.Fatal(err)
	}
	if alias.Facts.Sums[0].Currency != "EUR" {
		t.Errorf("decoding wrote into the old array")
	}
	// Year outside 0-9999 is an error.
	if _, err := json.Marshal(lifecycle.Customer{AsOf: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("year 10000 marshalled")
	}
}

func TestContractEventSet(t *testing.T) {
	var s lifecycle.EventSet
	if s.Len() != 0 || s.Has("a") {
		t.Fatal("zero set")
	}
	b, _ := json.Marshal(s)
	if string(b) != "[]" {
		t.Errorf("empty set JSON %s", b)
	}
	for _, id := range []string{"b", "a", "c", "a"} {
		s.Add(lifecycle.KeyOf(id))
	}
	if s.Len() != 3 || !s.Has("a") || s.Has("d") {
		t.Errorf("len %d", s.Len())
	}
	var prev lifecycle.EventKey
	i := 0
	for k := range s.All() {
		if i > 0 && prev.Compare(k) >= 0 {
			t.Error("All not ascending")
		}
		prev = k
		i++
	}
	b, _ = json.Marshal(s)
	var s2 lifecycle.EventSet
	if err := json.Unmarshal(b, &s2); err != nil || !s2.Equal(&s) {
		t.Errorf("round trip %v", err)
	}
	// Legacy digests.
	d := lifecycle.LegacyKeyOf("old-event")
	var s3 lifecycle.EventSet
	digest := strconv.FormatUint(uint64(d[8])<<56|uint64(d[9])<<48|uint64(d[10])<<40|uint64(d[11])<<32|uint64(d[12])<<24|uint64(d[13])<<16|uint64(d[14])<<8|uint64(d[15]), 10)
	if err := json.Unmarshal([]byte(`["`+lifecycle.KeyOf("new").String()+`",`+digest+`]`), &s3); err != nil {
		t.Fatal(err)
	}
	if !s3.Has("old-event") || !s3.Has("new") || s3.Has("other") || s3.Len() != 2 {
		t.Errorf("legacy: %v %v", s3.Has("old-event"), s3.Has("new"))
	}
	if !d.IsLegacy() || lifecycle.KeyOf("x").IsLegacy() {
		t.Error("IsLegacy")
	}
	// Errors leave the set unchanged and wrap ErrEventSet.
	for _, in := range []string{`{}`, `["zz"]`, `["` + strings.Repeat("g", 32) + `"]`, `[-1]`, `[1.5]`, `[18446744073709551616]`, `[true]`, `[null]`, `"x"`} {
		before := s3
		n := s3.Len()
		err := json.Unmarshal([]byte(in), &s3)
		if !errors.Is(err, lifecycle.ErrEventSet) {
			t.Errorf("%s: %v", in, err)
		}
		if s3.Len() != n || !s3.Equal(&before) {
			t.Errorf("%s: set changed", in)
		}
	}
	if err := json.Unmarshal([]byte(`null`), &s3); err != nil {
		t.Errorf("null: %v", err)
	}
	// Set with repeats and any order.
	var s4 lifecycle.EventSet
	keys := []lifecycle.EventKey{lifecycle.KeyOf("z"), lifecycle.KeyOf("a"), lifecycle.KeyOf("z")}
	s4.Set(keys)
	if s4.Len() != 2 || !s4.Has("z") || !s4.Has("a") {
		t.Error("Set")
	}
	keys[1] = lifecycle.KeyOf("q")
	if !s4.Has("a") {
		t.Error("Set kept keys")
	}
	// Uppercase hex is hexadecimal too.
	var s5 lifecycle.EventSet
	if err := json.Unmarshal([]byte(`["`+strings.ToUpper(lifecycle.KeyOf("a").String())+`"]`), &s5); err != nil || !s5.Has("a") {
		t.Errorf("upper hex: %v", err)
	}
}

func TestContractCloneCopyTo(t *testing.T) {
	ctx := context.Background()
	tr, _ := rvTracker(t)
	for _, e := range rvGen(61, 2, 80) {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	c, err := tr.Customer(ctx, "c0")
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Clone()
	if d := cmp.Diff(c, cl, rvSetCmp); d != "" || !cl.Seen.Equal(&c.Seen) {
		t.Fatalf("clone differs %s", d)
	}
	cl.Facts.Tallies[0].Count = 999
	cl.History[0].Cause = "changed"
	cl.Seen.Add(lifecycle.KeyOf("zzz"))
	if c.Facts.Tallies[0].Count == 999 || c.History[0].Cause == "changed" || c.HasSeen("zzz") {
		t.Error("clone shares memory")
	}
	// CopyTo into a recycled customer with bigger slices.
	dst := cl
	c.CopyTo(dst)
	if d := cmp.Diff(c, dst, rvSetCmp); d != "" || !dst.Seen.Equal(&c.Seen) {
		t.Errorf("CopyTo differs %s", d)
	}
	// nil slices stay nil; empty ones empty or nil.
	empty := &lifecycle.Customer{ID: "e", History: []lifecycle.Transition{}}
	var d1 lifecycle.Customer
	empty.CopyTo(&d1)
	if d1.History != nil || d1.Facts.Tallies != nil {
		t.Errorf("nil dst: %#v", d1.History)
	}
	d2 := lifecycle.Customer{History: make([]lifecycle.Transition, 3), Facts: lifecycle.Facts{Tallies: make([]lifecycle.Tally, 2)}}
	empty.CopyTo(&d2)
	if d2.History == nil || len(d2.History) != 0 || d2.Facts.Tallies != nil {
		t.Errorf("dst with slices: hist %#v tallies %#v", d2.History, d2.Facts.Tallies)
	}
	if cl := empty.Clone(); cl.History != nil {
		t.Error("Clone of empty slice not nil")
	}
	// HasSeen is false for credits.
	for _, cc := range []*lifecycle.Customer{c} {
		for _, r := range cc.Facts.Referrals {
			if cc.HasSeen(lifecycle.ReferralEventID(r.Customer)) {
				t.Error("credit in Seen")
			}
		}
	}
}
