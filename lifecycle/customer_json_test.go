package lifecycle

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// plainCustomer has Customer's fields without its methods: encoding/json
// writes it as it wrote a Customer before Customer.MarshalJSON existed.
type plainCustomer Customer

// fullCustomer returns a customer with every field set, its times in the
// given zones in turn, with nanoseconds.
func fullCustomer(zones ...*time.Location) *Customer {
	i := 0
	at := func(y int, ns int) time.Time {
		i++
		return time.Date(y, time.Month(1+i%12), 1+i, i, i, i, ns, time.UTC).In(zones[i%len(zones)])
	}
	c := &Customer{
		ID: "c-ü", Stage: "retention", Since: at(1900, 1), AsOf: at(1936, 999_999_999),
		Facts: Facts{
			First: at(1900, 0), Last: at(2025, 123_456_789),
			Tallies:    []Tally{{Type: OrderCompleted, Count: 3, First: at(1901, 5), Last: at(1930, 6)}},
			Sums:       []Sum{{Type: OrderCompleted, Currency: "EUR", Amount: -12}},
			ReferredBy: "r", ReferredAt: at(1910, 7), Score: 9, ScoreAt: at(1920, 8),
			Referrals: []Referral{{Customer: "f", At: at(1933, 9)}},
		},
		History: []Transition{{To: "reach", At: at(1900, 10), Cause: "e1"}, {From: "reach", To: "retention", At: at(1934, 11)}},
		Due:     at(9998, 12),
		Version: 7,
	}
	c.Seen.Add(KeyOf("e1"))
	c.Seen.Add(LegacyKeyOf("old"))
	return c
}

// times returns every time of c.
func times(c *Customer) []time.Time {
	f := &c.Facts
	ts := []time.Time{c.Since, c.AsOf, c.Due, f.First, f.Last, f.ReferredAt, f.ScoreAt}
	for _, t := range f.Tallies {
		ts = append(ts, t.First, t.Last)
	}
	for _, r := range f.Referrals {
		ts = append(ts, r.At)
	}
	for _, h := range c.History {
		ts = append(ts, h.At)
	}
	return ts
}

// requireExact fails unless got is want: every field equal, every time
// the same instant with the same UTC offset.
func requireExact(t *testing.T, want, got *Customer) {
	t.Helper()
	w, g := times(want), times(got)
	if len(w) != len(g) {
		t.Fatalf("got %d times, want %d", len(g), len(w))
	}
	for i := range w {
		_, ow := w[i].Zone()
		_, og := g[i].Zone()
		if !w[i].Equal(g[i]) || ow != og {
			t.Errorf("time %d: got %s, want %s", i, g[i].Format(layoutOffsetSeconds), w[i].Format(layoutOffsetSeconds))
		}
	}
	// The rest, with the times in UTC.
	utc := func(c *Customer) string {
		c = c.Clone()
		c.Since, c.AsOf, c.Due = c.Since.UTC(), c.AsOf.UTC(), c.Due.UTC()
		f := &c.Facts
		f.First, f.Last, f.ReferredAt, f.ScoreAt = f.First.UTC(), f.Last.UTC(), f.ReferredAt.UTC(), f.ScoreAt.UTC()
		for i := range f.Tallies {
			f.Tallies[i].First, f.Tallies[i].Last = f.Tallies[i].First.UTC(), f.Tallies[i].Last.UTC()
		}
		for i := range f.Referrals {
			f.Referrals[i].At = f.Referrals[i].At.UTC()
		}
		for i := range c.History {
			c.History[i].At = c.History[i].At.UTC()
		}
		b, err := json.Marshal((*plainCustomer)(c))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if w, g := utc(want), utc(got); w != g {
		t.Errorf("customer differs:\nwant %s\n got %s", w, g)
	}
}

func roundTrip(t *testing.T, c *Customer) (*Customer, []byte) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got := new(Customer)
	if err := json.Unmarshal(b, got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	return got, b
}

// TestCustomerJSONExact: times whose offset has seconds (local mean time)
// come back exactly; encoding/json of the fields alone brings them back
// off by those seconds (the failure of issue 18, item 5).
func TestCustomerJSONExact(t *testing.T) {
	lmt := fullCustomer(
		time.FixedZone("LMT", 19*60+32),           // Amsterdam, 1900
		time.FixedZone("DMT", -(25*60+21)),        // Dublin
		time.FixedZone("LMT", -(7*3600+52*60+58)), // Los Angeles
		time.FixedZone("LMT", 4*3600+51*60+40),    // Kolkata
		time.UTC,
	)
	got, b := roundTrip(t, lmt)
	requireExact(t, lmt, got)
	if !strings.Contains(string(b), `+00:19:32"`) || !strings.Contains(string(b), `-00:25:21"`) {
		t.Errorf("the JSON does not show the offsets' seconds: %s", b)
	}

	// Without Customer's methods: 32 seconds off.
	pb, err := json.Marshal((*plainCustomer)(lmt))
	if err != nil {
		t.Fatal(err)
	}
	var plain plainCustomer
	if err := json.Unmarshal(pb, &plain); err != nil {
		t.Fatal(err)
	}
	off := 0
	for i, pt := range times((*Customer)(&plain)) {
		if !pt.Equal(times(lmt)[i]) {
			off++
		}
	}
	if off == 0 {
		t.Errorf("encoding/json kept every offset with seconds; the test shows nothing")
	}
}

// TestCustomerJSONCompatible: for times whose offsets are whole minutes,
// the JSON is byte for byte encoding/json's (what earlier releases wrote
// and sqlstore's data column holds), and either decoder reads the other's.
func TestCustomerJSONCompatible(t *testing.T) {
	for _, c := range []*Customer{
		fullCustomer(time.UTC),
		fullCustomer(time.FixedZone("CET", 3600), time.FixedZone("NPT", 5*3600+45*60), time.FixedZone("", -12*3600), time.UTC),
		{ID: "empty"},
		{ID: "empty-slices", History: []Transition{}, Facts: Facts{Tallies: []Tally{}, Referrals: []Referral{}, Sums: []Sum{}}},
		{ID: "never", AsOf: Never, Due: Never, Version: 1},
	} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := json.Marshal((*plainCustomer)(c))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(pb) {
			t.Errorf("%s: Customer.MarshalJSON differs from encoding/json:\n got %s\nwant %s", c.ID, b, pb)
		}
		got, _ := roundTrip(t, c)
		requireExact(t, c, got)
		var viaPlain plainCustomer
		if err := json.Unmarshal(pb, &viaPlain); err != nil {
			t.Fatal(err)
		}
		if (got.History == nil) != (viaPlain.History == nil) || (got.Facts.Tallies == nil) != (viaPlain.Facts.Tallies == nil) {
			t.Errorf("%s: nil and empty slices not decoded as encoding/json decodes them", c.ID)
		}
		var plain plainCustomer
		if err := json.Unmarshal(b, &plain); err != nil {
			t.Errorf("%s: encoding/json cannot read Customer.MarshalJSON's output: %v", c.ID, err)
		} else {
			requireExact(t, c, (*Customer)(&plain))
		}
	}
	// Seen's legacy form (numbers) is still read.
	var c Customer
	if err := json.Unmarshal([]byte(`{"id":"x","seen":[12345],"since":"2025-01-02T03:04:05.5+01:00"}`), &c); err != nil {
		t.Fatal(err)
	}
	n := 0
	for k := range c.Seen.All() {
		n++
		if !k.IsLegacy() {
			t.Errorf("legacy Seen read as key %v", k)
		}
	}
	if n != 1 {
		t.Errorf("legacy Seen read as %d keys; want 1", n)
	}
	if _, off := c.Since.Zone(); off != 3600 || c.Since.Nanosecond() != 500_000_000 {
		t.Errorf("Since = %v", c.Since)
	}
}

// TestCustomerJSONErrors: times JSON cannot hold are an error, not a
// changed value, and a failed decode leaves the customer unchanged.
func TestCustomerJSONErrors(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 32)),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600+1)),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)),
	} {
		if b, err := json.Marshal(Customer{ID: "x", Due: at}); err == nil {
			t.Errorf("Marshal of Due %v = %s, nil; want an error", at, b)
		}
	}
	c := fullCustomer(time.UTC)
	want := c.Clone()
	for _, bad := range []string{
		`{"id":"y","facts":{"sums":[{"amount":1}],"first":"1900-01-01T00:00:00+00:19"},"since":"yesterday"}`,
		`{"id":"y","facts":{"sums":[{"amount":1}]},"since":"1900-01-01T00:00:00+00:19:3"}`,
		`{"id":"y","facts":{"sums":[{"amount":1}]},"seen":["zz"]}`,
		// A valid Seen before a field that fails: decoding it must not
		// write over c's keys.
		`{"seen":["` + KeyOf("zzz").String() + `"],"version":"oops"}`,
	} {
		if err := json.Unmarshal([]byte(bad), c); err == nil {
			t.Errorf("Unmarshal(%s) = nil; want an error", bad)
		}
		requireExact(t, want, c)
	}
}

// TestCustomerJSONMirrors keeps the JSON mirror types in step with
// Customer and the types it holds: same field names, in the same order,
// with the same JSON tags, time.Time fields as exactTime.
func TestCustomerJSONMirrors(t *testing.T) {
	timeType := reflect.TypeFor[time.Time]()
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeFor[Customer](), reflect.TypeFor[customerJSON]()},
		{reflect.TypeFor[Facts](), reflect.TypeFor[factsJSON]()},
		{reflect.TypeFor[Tally](), reflect.TypeFor[tallyJSON]()},
		{reflect.TypeFor[Referral](), reflect.TypeFor[referralJSON]()},
		{reflect.TypeFor[Transition](), reflect.TypeFor[transitionJSON]()},
	} {
		orig, mirror := pair[0], pair[1]
		if orig.NumField() != mirror.NumField() {
			t.Errorf("%v has %d fields, its mirror %v %d", orig, orig.NumField(), mirror, mirror.NumField())
			continue
		}
		for i := range orig.NumField() {
			o, m := orig.Field(i), mirror.Field(i)
			if o.Name != m.Name || o.Tag.Get("json") != m.Tag.Get("json") {
				t.Errorf("%v.%s `json:%q` is mirrored by %v.%s `json:%q`", orig, o.Name, o.Tag.Get("json"), mirror, m.Name, m.Tag.Get("json"))
			}
			if o.Type == timeType && m.Type != reflect.TypeFor[exactTime]() {
				t.Errorf("%v.%s is a time.Time mirrored as %v", orig, o.Name, m.Type)
			}
		}
	}
}

// TestCustomerJSONSubMinuteOffsets: offsets of a few seconds either side
// of UTC are written as ±00:00:SS and read back exactly (Go's layout
// wrote -52 s as "+00:00:-52", which UnmarshalJSON refused; Africa/Accra
// had that offset until 1918).
func TestCustomerJSONSubMinuteOffsets(t *testing.T) {
	for off, text := range map[int]string{-52: "-00:00:52", -1: "-00:00:01", -59: "-00:00:59", 52: "+00:00:52", -3661: "-01:01:01", 86399: "+23:59:59"} {
		at := time.Date(1910, 5, 1, 12, 0, 0, 5, time.FixedZone("LMT", off))
		c := Customer{ID: "c", Since: at, AsOf: at}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("offset %d: Marshal = %v", off, err)
		}
		if !strings.Contains(string(b), `"1910-05-01T12:00:00.000000005`+text+`"`) {
			t.Errorf("offset %d: %s; want the time written with %s", off, b, text)
		}
		var got Customer
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("offset %d: Unmarshal(%s) = %v", off, b, err)
		}
		if _, o := got.Since.Zone(); !got.Since.Equal(at) || o != off {
			t.Errorf("offset %d: read back %v (offset %d); want %v", off, got.Since, o, at)
		}
	}
}
