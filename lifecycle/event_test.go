package lifecycle_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// valid returns a valid event with every field set.
func valid() lifecycle.Event {
	return lifecycle.Event{
		ID: "ord-1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: t0,
		Amount: 4999, Currency: "EUR", ReferrerID: "c0", Attrs: map[string]string{"channel": "web"},
	}
}

func manyAttrs(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m["k"+strconv.Itoa(i)] = "v"
	}
	return m
}

func TestEventValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(e *lifecycle.Event)
		field string // "" means valid
	}{
		{"valid", func(e *lifecycle.Event) {}, ""},
		{"custom type", func(e *lifecycle.Event) { e.Type = "acme.wishlist_added"; e.Amount, e.Currency = 0, "" }, ""},
		{"zero amount without currency", func(e *lifecycle.Event) { e.Amount, e.Currency = 0, "" }, ""},
		{"survey with score", func(e *lifecycle.Event) {
			e.Type, e.Amount, e.Currency, e.Attrs = lifecycle.SurveyAnswered, 0, "", map[string]string{"score": "10"}
		}, ""},
		{"missing id", func(e *lifecycle.Event) { e.ID = "" }, "id"},
		{"id too long", func(e *lifecycle.Event) { e.ID = strings.Repeat("x", lifecycle.MaxIDLen+1) }, "id"},
		{"id with NUL", func(e *lifecycle.Event) { e.ID = "a\x00b" }, "id"},
		{"id not UTF-8", func(e *lifecycle.Event) { e.ID = "a\xffb" }, "id"},
		{"id with spaces around", func(e *lifecycle.Event) { e.ID = " ord-1" }, "id"},
		{"missing customer", func(e *lifecycle.Event) { e.CustomerID = "" }, "customer_id"},
		{"customer with NUL after UTF-8", func(e *lifecycle.Event) { e.CustomerID = "é\x00" }, "customer_id"},
		{"missing type", func(e *lifecycle.Event) { e.Type = "" }, "type"},
		{"unprefixed unknown type", func(e *lifecycle.Event) { e.Type = "order_complete" }, "type"},
		{"type with upper case", func(e *lifecycle.Event) { e.Type = "acme.Thing" }, "type"},
		{"type with empty segment", func(e *lifecycle.Event) { e.Type = "acme..thing" }, "type"},
		{"type ending in dot", func(e *lifecycle.Event) { e.Type = "acme." }, "type"},
		{"type too long", func(e *lifecycle.Event) { e.Type = lifecycle.EventType("acme." + strings.Repeat("x", 64)) }, "type"},
		{"missing time", func(e *lifecycle.Event) { e.Time = time.Time{} }, "time"},
		{"time before 1900", func(e *lifecycle.Event) { e.Time = time.Date(1899, 12, 31, 23, 0, 0, 0, time.UTC) }, "time"},
		{"time after 9999", func(e *lifecycle.Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
		{"negative amount", func(e *lifecycle.Event) { e.Amount = -1 }, "amount"},
		{"amount without currency", func(e *lifecycle.Event) { e.Currency = "" }, "currency"},
		{"lower-case currency", func(e *lifecycle.Event) { e.Currency = "eur" }, "currency"},
		{"four-letter currency", func(e *lifecycle.Event) { e.Currency = "EURO" }, "currency"},
		{"referrer too long", func(e *lifecycle.Event) { e.ReferrerID = strings.Repeat("r", lifecycle.MaxIDLen+1) }, "referrer_id"},
		{"self-referral", func(e *lifecycle.Event) { e.ReferrerID = e.CustomerID }, "referrer_id"},
		{"too many attrs", func(e *lifecycle.Event) { e.Attrs = manyAttrs(lifecycle.MaxAttrs + 1) }, "attrs"},
		{"empty attr key", func(e *lifecycle.Event) { e.Attrs = map[string]string{"": "v"} }, "attrs"},
		{"attr key too long", func(e *lifecycle.Event) {
			e.Attrs = map[string]string{strings.Repeat("k", lifecycle.MaxAttrKeyLen+1): "v"}
		}, "attrs"},
		{"attr value too long", func(e *lifecycle.Event) {
			e.Attrs = map[string]string{"k": strings.Repeat("v", lifecycle.MaxAttrValueLen+1)}
		}, "attrs.k"},
		{"attr value with NUL", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": "\x00"} }, "attrs.k"},
		{"survey without score", func(e *lifecycle.Event) {
			e.Type, e.Amount, e.Currency, e.Attrs = lifecycle.SurveyAnswered, 0, "", nil
		}, "attrs.score"},
		{"survey score 11", func(e *lifecycle.Event) {
			e.Type, e.Amount, e.Currency, e.Attrs = lifecycle.SurveyAnswered, 0, "", map[string]string{"score": "11"}
		}, "attrs.score"},
		{"survey score not a number", func(e *lifecycle.Event) {
			e.Type, e.Amount, e.Currency, e.Attrs = lifecycle.SurveyAnswered, 0, "", map[string]string{"score": "nine"}
		}, "attrs.score"},
	}
	// Scores: "0" to "10" in plain decimal, nothing else.
	for _, sc := range []string{"+5", "-0", "05", "010", " 5", "5 ", "-1", "", "1e1", "0x5", "５"} {
		tests = append(tests, struct {
			name  string
			edit  func(*lifecycle.Event)
			field string
		}{"survey score " + strconv.Quote(sc), func(e *lifecycle.Event) {
			e.Type, e.Amount, e.Currency, e.Attrs = lifecycle.SurveyAnswered, 0, "", map[string]string{"score": sc}
		}, "attrs.score"})
	}
	for n := range 11 {
		sc := strconv.Itoa(n)
		tests = append(tests, struct {
			name  string
			edit  func(*lifecycle.Event)
			field string
		}{"survey score " + sc, func(e *lifecycle.Event) {
			e.Type, e.Amount, e.Currency, e.Attrs = lifecycle.SurveyAnswered, 0, "", map[string]string{"score": sc}
		}, ""})
	}
	// Custom types: dot-separated parts of [a-z0-9_].
	for typ, field := range map[lifecycle.EventType]string{
		"acme.wishlist_added": "", "acme.v2.cart_saved": "", "1acme.2": "",
		"Acme.wishlist": "type", "acme.WishlistAdded": "type", "acme.wish-list": "type",
		"acme.wish list": "type", "acme..x": "type", ".acme": "type", "acme.": "type", "acme": "type",
	} {
		tests = append(tests, struct {
			name  string
			edit  func(*lifecycle.Event)
			field string
		}{"type " + string(typ), func(e *lifecycle.Event) { e.Type = typ }, field})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid()
			tc.edit(&e)
			err := e.Validate()
			checkField(t, err, tc.field)
		})
	}
}

// checkField asserts err is nil when field is "", and otherwise a
// *ValidationError for that field wrapping ErrInvalidEvent.
func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	if !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Fatalf("error %v does not wrap ErrInvalidEvent", err)
	}
	var ve *lifecycle.ValidationError
	require.ErrorAs(t, err, &ve)
	if ve.Field != field {
		t.Errorf("Field = %q, want %q (error: %v)", ve.Field, field, err)
	}
	if !strings.Contains(err.Error(), field) {
		t.Errorf("error %q does not name the field %q", err, field)
	}
}

func TestTrackerValidateSkew(t *testing.T) {
	now := t0
	tests := []struct {
		name  string
		skew  time.Duration
		at    time.Time
		field string
	}{
		{"past", 0, now.Add(-time.Hour), ""},
		{"now", 0, now, ""},
		{"within default skew", -1, now.Add(15 * time.Minute), ""},
		{"beyond default skew", -1, now.Add(15*time.Minute + time.Nanosecond), "time"},
		{"zero skew, one ns ahead", 0, now.Add(time.Nanosecond), "time"},
		{"custom skew", time.Hour, now.Add(59 * time.Minute), ""},
		{"beyond custom skew", time.Hour, now.Add(61 * time.Minute), "time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []lifecycle.Option{lifecycle.WithClock(func() time.Time { return now })}
			if tc.skew >= 0 {
				opts = append(opts, lifecycle.WithMaxSkew(tc.skew))
			}
			tr := newTracker(t, opts...)
			e := valid()
			e.Time = tc.at
			checkField(t, tr.Validate(&e), tc.field)
			// Validate also applies Event.Validate.
			e.ID = ""
			checkField(t, tr.Validate(&e), "id")
		})
	}
}

func TestEventJSON(t *testing.T) {
	tests := []struct {
		name string
		e    lifecycle.Event
		want string
	}{
		{"full", valid(), `{"id":"ord-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":4999,"currency":"EUR","referrer_id":"c0","attrs":{"channel":"web"}}`},
		{"empties omitted", lifecycle.Event{ID: "v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0.Add(1500 * time.Millisecond)},
			`{"id":"v","customer_id":"c","type":"site_visited","time":"2026-03-01T10:00:01.5Z"}`},
		{"offset kept", lifecycle.Event{ID: "v", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0.In(time.FixedZone("", 2*3600))},
			`{"id":"v","customer_id":"c","type":"site_visited","time":"2026-03-01T12:00:00+02:00"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.e)
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, string(b)); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
			var back lifecycle.Event
			require.NoError(t, json.Unmarshal(b, &back))
			if !back.Time.Equal(tc.e.Time) {
				t.Errorf("time %v, want %v", back.Time, tc.e.Time)
			}
			back.Time = tc.e.Time
			if diff := cmp.Diff(tc.e, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCustomerJSON(t *testing.T) {
	c := &lifecycle.Customer{
		ID: "c1", Stage: "retention", Since: t0.Add(time.Hour), AsOf: t0.Add(2 * time.Hour),
		Facts: lifecycle.Facts{
			First: t0, Last: t0.Add(2 * time.Hour),
			Tallies:    []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: 2, First: t0, Last: t0.Add(time.Hour)}},
			Sums:       []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: 9998}},
			ReferredBy: "c0", ReferredAt: t0, Score: 9, ScoreAt: t0.Add(2 * time.Hour),
		},
		History: []lifecycle.Transition{{To: "conversion", At: t0, Cause: "o1"}, {From: "conversion", To: "retention", At: t0.Add(time.Hour), Cause: "o2"}},
		Version: 3,
		Due:     t0.AddDate(0, 6, 0),
	}
	c.Seen.Add(lifecycle.KeyOf("o2"))
	c.Seen.Add(lifecycle.KeyOf("o1"))
	b, err := json.Marshal(c)
	require.NoError(t, err)
	want := `{"id":"c1","stage":"retention","since":"2026-03-01T11:00:00Z","as_of":"2026-03-01T12:00:00Z",` +
		`"facts":{"first":"2026-03-01T10:00:00Z","last":"2026-03-01T12:00:00Z",` +
		`"tallies":[{"type":"order_completed","count":2,"first":"2026-03-01T10:00:00Z","last":"2026-03-01T11:00:00Z"}],` +
		`"sums":[{"type":"order_completed","currency":"EUR","amount":9998}],` +
		`"referred_by":"c0","referred_at":"2026-03-01T10:00:00Z","score":9,"score_at":"2026-03-01T12:00:00Z"},` +
		`"history":[{"from":"","to":"conversion","at":"2026-03-01T10:00:00Z","cause":"o1"},{"from":"conversion","to":"retention","at":"2026-03-01T11:00:00Z","cause":"o2"}],` +
		// The keys of o1 and o2 (the first 16 bytes of their SHA-256), ascending.
		`"seen":["2352da7280f1decc3acf1ba84eb945c9","9250b9912ee91d6b46e23299459ecd6e"],` +
		`"due":"2026-09-01T10:00:00Z","version":3}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	var back lifecycle.Customer
	require.NoError(t, json.Unmarshal(b, &back))
	if diff := cmp.Diff(c, &back, cmpSeen); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !back.HasSeen("o1") || !back.HasSeen("o2") || back.HasSeen("o3") || back.Seen.Len() != 2 {
		t.Errorf("after a round trip: seen o1, o2, o3 = %v, %v, %v, %d keys; want true, true, false, 2",
			back.HasSeen("o1"), back.HasSeen("o2"), back.HasSeen("o3"), back.Seen.Len())
	}
	// A customer stored by an older version has 64-bit digests (FNV-1a
	// of the IDs) in seen and no due: the events it remembers are still
	// seen, and its Due is zero (due at any sweep).
	var old lifecycle.Customer
	require.NoError(t, json.Unmarshal([]byte(`{"id":"c1","seen":[12638187200555641996,626025670079018237],"version":2}`), &old))
	if !old.HasSeen("a") || !old.HasSeen("o1") || old.HasSeen("o2") || old.Seen.Len() != 2 || !old.Due.IsZero() {
		t.Errorf("legacy customer: seen a, o1, o2 = %v, %v, %v, %d keys, due %v; want true, true, false, 2, zero",
			old.HasSeen("a"), old.HasSeen("o1"), old.HasSeen("o2"), old.Seen.Len(), old.Due)
	}
	// and it is written back in the new form, legacy keys included.
	b, err = json.Marshal(&old)
	require.NoError(t, err)
	var again lifecycle.Customer
	require.NoError(t, json.Unmarshal(b, &again))
	if !again.Seen.Equal(&old.Seen) || !again.HasSeen("a") {
		t.Errorf("legacy keys lost in a round trip: %s", b)
	}
	// Empty facts omit the optional fields.
	b, err = json.Marshal(lifecycle.Facts{})
	require.NoError(t, err)
	if diff := cmp.Diff(`{"first":"0001-01-01T00:00:00Z","last":"0001-01-01T00:00:00Z"}`, string(b)); diff != "" {
		t.Errorf("empty facts (-want +got):\n%s", diff)
	}
}

func TestCustomerCloneIsDeep(t *testing.T) {
	c := &lifecycle.Customer{ID: "c", Facts: lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: "site_visited", Count: 1}}}, History: []lifecycle.Transition{{To: "a"}}}
	c.Seen.Add(lifecycle.KeyOf("x"))
	d := c.Clone()
	d.Facts.Tallies[0].Count = 9
	d.History[0].To = "b"
	d.Seen.Add(lifecycle.KeyOf("y"))
	if c.Facts.Tallies[0].Count != 1 || c.History[0].To != "a" || c.HasSeen("y") || c.Seen.Len() != 1 {
		t.Fatalf("changing a clone changed the original: %+v", c)
	}
	if !c.HasSeen("x") || c.HasSeen("y") || !d.HasSeen("x") || !d.HasSeen("y") {
		t.Fatalf("HasSeen(x), HasSeen(y) = %v, %v (clone %v, %v); want true, false (clone true, true)",
			c.HasSeen("x"), c.HasSeen("y"), d.HasSeen("x"), d.HasSeen("y"))
	}
}

func TestEventKeyStable(t *testing.T) {
	// Keys are persisted (by stores, in JSON), so they must never change:
	// the first 16 bytes of the SHA-256 of the ID.
	for in, want := range map[string]string{
		"":       "e3b0c44298fc1c149afbf4c8996fb924",
		"a":      "ca978112ca1bbdcafac231b39a23dc4d",
		"foobar": "c3ab8ff13720e8ad9047dd39466b3c89",
	} {
		if got := lifecycle.KeyOf(in).String(); got != want {
			t.Errorf("KeyOf(%q) = %s, want %s", in, got, want)
		}
		if lifecycle.KeyOf(in).IsLegacy() {
			t.Errorf("KeyOf(%q) is a legacy key", in)
		}
	}
	// Legacy keys hold the FNV-1a 64 digest older versions persisted,
	// behind 8 bytes of 0xff; they must never change either.
	for in, want := range map[string]string{
		"":       "ffffffffffffffffcbf29ce484222325",
		"a":      "ffffffffffffffffaf63dc4c8601ec8c",
		"foobar": "ffffffffffffffff85944171f73967e8",
	} {
		if got := lifecycle.LegacyKeyOf(in).String(); got != want {
			t.Errorf("LegacyKeyOf(%q) = %s, want %s", in, got, want)
		}
		if !lifecycle.LegacyKeyOf(in).IsLegacy() {
			t.Errorf("LegacyKeyOf(%q) is not a legacy key", in)
		}
	}
}

func FuzzEventJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"ord-1","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","amount":4999,"currency":"EUR"}`,
		`{"id":"s","customer_id":"c","type":"survey_answered","time":"2026-03-01T10:00:00.123+01:00","attrs":{"score":"9"}}`,
		`{"id":"r","customer_id":"c","type":"acme.thing","time":"1900-01-01T00:00:00Z","referrer_id":"c"}`,
		`{"id":"","type":"x"}`, `null`, `{"amount":-1}`, `{"time":"10000-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e lifecycle.Event
		if json.Unmarshal(data, &e) != nil {
			return
		}
		err := e.Validate()
		if err != nil {
			if !errors.Is(err, lifecycle.ErrInvalidEvent) {
				t.Fatalf("Validate error %v does not wrap ErrInvalidEvent", err)
			}
			return
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("Marshal of a valid event: %v", err)
		}
		var back lifecycle.Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal of %s: %v", b, err)
		}
		if !back.Time.Equal(e.Time) {
			t.Fatalf("time %v became %v", e.Time, back.Time)
		}
		back.Time = e.Time
		if len(e.Attrs) == 0 {
			e.Attrs = nil
		}
		if diff := cmp.Diff(e, back); diff != "" {
			t.Fatalf("round trip of a valid event (-want +got):\n%s", diff)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("a valid event is invalid after a round trip: %v", err)
		}
	})
}

// TestValidateIDInvisible checks the one ID rule (issue 16): control (Cc),
// format (Cf) and line/paragraph separator (Zl, Zp) characters are
// refused anywhere in every ID field, through Validate and ValidateID
// alike; other characters, spaces inside and non-ASCII letters included,
// are accepted, byte for byte.
func TestValidateIDInvisible(t *testing.T) {
	bad := map[string]string{
		"ESC":                          "a\x1bb",
		"tab inside":                   "a\tb",
		"newline inside":               "a\nb",
		"DEL":                          "a\x7fb",
		"C1 control U+0085":            "a\u0085b",
		"C1 control U+009B":            "a\u009bb",
		"zero width space at end":      "alice\u200b",
		"only a zero width space":      "\u200b",
		"only a BOM":                   "\ufeff",
		"BOM first":                    "\ufeffalice",
		"zero width joiner":            "a\u200db",
		"word joiner":                  "a\u2060b",
		"soft hyphen":                  "ali\u00adce",
		"right-to-left override":       "\u202egnp.exe",
		"left-to-right mark":           "a\u200eb",
		"first strong isolate":         "a\u2068b",
		"line separator":               "a\u2028b",
		"paragraph separator":          "a\u2029b",
		"tag character (Cf, plane 14)": "a\U000E0041b",
	}
	good := []string{"alice", "Alice Smith", "c-42_x.y@shop", "Zoë", "東京", "e\u0301", "😀", "a\u00a0b", strings.Repeat("é", lifecycle.MaxIDLen/2)}
	for name, id := range bad {
		t.Run(name, func(t *testing.T) {
			checkField(t, lifecycle.ValidateID("customer_id", id), "customer_id")
			for _, f := range []string{"id", "customer_id", "referrer_id"} {
				e := valid()
				switch f {
				case "id":
					e.ID = id
				case "customer_id":
					e.CustomerID = id
				case "referrer_id":
					e.ReferrerID = id
				}
				err := e.Validate()
				checkField(t, err, f)
				var ve *lifecycle.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Contains(t, ve.Reason, "Cc, Cf, Zl, Zp")
				require.NotContains(t, ve.Reason, "white space", "refused by the new rule, not the white space rule")
			}
		})
	}
	for _, id := range good {
		require.NoError(t, lifecycle.ValidateID("customer_id", id), "%q", id)
		e := valid()
		e.ID, e.CustomerID, e.ReferrerID = id, id+"-c", id+"-r"
		if len(e.CustomerID) > lifecycle.MaxIDLen {
			e.CustomerID, e.ReferrerID = "c1", "c0"
		}
		require.NoError(t, e.Validate(), "%q", id)
	}
	// The white space rule still applies at the ends, and the error
	// quotes the value with the invisible character escaped.
	checkField(t, lifecycle.ValidateID("id", "alice\u00a0"), "id")
	err := lifecycle.ValidateID("customer_id", "alice\u200b")
	require.Contains(t, err.Error(), `"alice\u200b"`)
	require.Contains(t, err.Error(), "U+200B at byte 5")
	checkField(t, lifecycle.ValidateID("customer_id", ""), "customer_id")
}

// TestValidateRefusesReferralCredits checks that no caller can record a
// referral credit (issue 16): only the Tracker derives them.
func TestValidateRefusesReferralCredits(t *testing.T) {
	e := lifecycle.Event{ID: lifecycle.ReferralEventID("b"), CustomerID: "a", Type: lifecycle.ReferralConverted, Time: t0,
		Attrs: map[string]string{lifecycle.ReferredIDAttr: "b"}}
	checkField(t, e.Validate(), "type")
	var fromJSON lifecycle.Event
	require.NoError(t, json.Unmarshal([]byte(`{"id":"x1","customer_id":"a","type":"referral_converted","time":"2026-03-01T10:00:00Z"}`), &fromJSON))
	checkField(t, fromJSON.Validate(), "type")
}

// TestNilEvent: a nil event is a ValidationError, not a panic, and adds
// nothing to facts.
func TestNilEvent(t *testing.T) {
	var e *lifecycle.Event
	checkField(t, e.Validate(), "event")
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())
	checkField(t, tr.Validate(nil), "event")
	var f lifecycle.Facts
	f.Add(nil)
	require.Equal(t, lifecycle.Facts{}, f)
}
