package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

var rvT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func rvClock() time.Time { return rvT0 }

func rvTracker(t testing.TB, opts ...lifecycle.Option) (*lifecycle.Tracker, *store.Memory) {
	t.Helper()
	st := store.NewMemory()
	opts = append([]lifecycle.Option{lifecycle.WithClock(rvClock)}, opts...)
	return lifecycle.NewTracker(model.SterneCutler(), st, opts...), st
}

func rvEv(id, cust string, typ lifecycle.EventType, at time.Time) lifecycle.Event {
	return lifecycle.Event{ID: id, CustomerID: cust, Type: typ, Time: at}
}

// rvWantField checks err is a *ValidationError with the field, wrapping ErrInvalidEvent.
func rvWantField(t *testing.T, name string, err error, field string) *lifecycle.ValidationError {
	t.Helper()
	if err == nil {
		t.Errorf("%s: want error on field %q, got nil", name, field)
		return nil
	}
	if !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("%s: error %v does not wrap ErrInvalidEvent", name, err)
	}
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("%s: error %v is not a *ValidationError", name, err)
		return nil
	}
	if ve.Field != field {
		t.Errorf("%s: Field = %q, want %q (err %v)", name, ve.Field, field, err)
	}
	return ve
}

func rvValid() lifecycle.Event {
	return lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: rvT0.Add(-time.Hour), Amount: 100, Currency: "EUR"}
}

func TestContractValidateRules(t *testing.T) {
	long := strings.Repeat("x", lifecycle.MaxIDLen+1)
	cases := []struct {
		name  string
		mod   func(e *lifecycle.Event)
		field string
	}{
		{"id empty", func(e *lifecycle.Event) { e.ID = "" }, "id"},
		{"id long", func(e *lifecycle.Event) { e.ID = long }, "id"},
		{"id invalid utf8", func(e *lifecycle.Event) { e.ID = "a\xffb" }, "id"},
		{"id NUL", func(e *lifecycle.Event) { e.ID = "a\x00b" }, "id"},
		{"id leading nbsp", func(e *lifecycle.Event) { e.ID = "\u00a0a" }, "id"},
		{"id trailing ideographic space", func(e *lifecycle.Event) { e.ID = "a\u3000" }, "id"},
		{"id only space", func(e *lifecycle.Event) { e.ID = " " }, "id"},
		{"id DEL", func(e *lifecycle.Event) { e.ID = "a\x7fb" }, "id"},
		{"id C1 control U+0085", func(e *lifecycle.Event) { e.ID = "a\u0085b" }, "id"},
		{"id C1 control U+009F", func(e *lifecycle.Event) { e.ID = "a\u009fb" }, "id"},
		{"id U+200C", func(e *lifecycle.Event) { e.ID = "a\u200cb" }, "id"},
		{"id U+200D", func(e *lifecycle.Event) { e.ID = "a\u200db" }, "id"},
		{"id U+2060", func(e *lifecycle.Event) { e.ID = "a\u2060b" }, "id"},
		{"id U+FEFF inside", func(e *lifecycle.Event) { e.ID = "a\ufeffb" }, "id"},
		{"id U+200E", func(e *lifecycle.Event) { e.ID = "a\u200eb" }, "id"},
		{"id U+200F", func(e *lifecycle.Event) { e.ID = "a\u200fb" }, "id"},
		{"id U+202A", func(e *lifecycle.Event) { e.ID = "a\u202ab" }, "id"},
		{"id U+2066", func(e *lifecycle.Event) { e.ID = "a\u2066b" }, "id"},
		{"id U+2069", func(e *lifecycle.Event) { e.ID = "a\u2069b" }, "id"},
		{"id U+2029", func(e *lifecycle.Event) { e.ID = "a\u2029b" }, "id"},
		{"id tag char U+E0001 (Cf)", func(e *lifecycle.Event) { e.ID = "a\U000E0001b" }, "id"},
		{"id U+0600 arabic number sign (Cf)", func(e *lifecycle.Event) { e.ID = "a\u0600b" }, "id"},
		{"customer_id empty", func(e *lifecycle.Event) { e.CustomerID = "" }, "customer_id"},
		{"customer_id long", func(e *lifecycle.Event) { e.CustomerID = long }, "customer_id"},
		{"customer_id U+200B at end", func(e *lifecycle.Event) { e.CustomerID = "c\u200b" }, "customer_id"},
		{"customer_id multibyte long", func(e *lifecycle.Event) { e.CustomerID = strings.Repeat("é", 129) }, "customer_id"},
		{"referrer long", func(e *lifecycle.Event) { e.ReferrerID = long }, "referrer_id"},
		{"referrer space", func(e *lifecycle.Event) { e.ReferrerID = "r " }, "referrer_id"},
		{"referrer U+202E", func(e *lifecycle.Event) { e.ReferrerID = "\u202er" }, "referrer_id"},
		{"referrer invalid utf8", func(e *lifecycle.Event) { e.ReferrerID = "\xc3(" }, "referrer_id"},
		{"self referral", func(e *lifecycle.Event) { e.ReferrerID = e.CustomerID }, "referrer_id"},
		{"type empty", func(e *lifecycle.Event) { e.Type = "" }, "type"},
		{"type typo", func(e *lifecycle.Event) { e.Type = "order_complete" }, "type"},
		{"type upper", func(e *lifecycle.Event) { e.Type = "ORDER_COMPLETED" }, "type"},
		{"type standard with space", func(e *lifecycle.Event) { e.Type = "order_completed " }, "type"},
		{"type prefix upper", func(e *lifecycle.Event) { e.Type = "Acme.x" }, "type"},
		{"type dash", func(e *lifecycle.Event) { e.Type = "acme.a-b" }, "type"},
		{"type trailing dot", func(e *lifecycle.Event) { e.Type = "acme." }, "type"},
		{"type leading dot", func(e *lifecycle.Event) { e.Type = ".acme" }, "type"},
		{"type double dot", func(e *lifecycle.Event) { e.Type = "acme..x" }, "type"},
		{"type only dot", func(e *lifecycle.Event) { e.Type = "." }, "type"},
		{"type 65 bytes", func(e *lifecycle.Event) { e.Type = lifecycle.EventType("acme." + strings.Repeat("x", 60)) }, "type"},
		{"type invalid utf8", func(e *lifecycle.Event) { e.Type = "acme.\xff" }, "type"},
		{"type NUL", func(e *lifecycle.Event) { e.Type = "acme.a\x00" }, "type"},
		{"type referral_converted", func(e *lifecycle.Event) { e.Type = lifecycle.ReferralConverted }, "type"},
		{"time zero", func(e *lifecycle.Event) { e.Time = time.Time{} }, "time"},
		{"time 1899 last ns", func(e *lifecycle.Event) { e.Time = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1) }, "time"},
		{"time 1900 local but 1899 UTC", func(e *lifecycle.Event) {
			e.Time = time.Date(1900, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600))
		}, "time"},
		{"time year 10000", func(e *lifecycle.Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
		{"time year 10000 UTC but 9999 local", func(e *lifecycle.Event) {
			e.Time = time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("", -3600))
		}, "time"},
		{"time year 1", func(e *lifecycle.Event) { e.Time = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) }, "time"},
		{"amount negative", func(e *lifecycle.Event) { e.Amount = -1 }, "amount"},
		{"amount min int64", func(e *lifecycle.Event) { e.Amount = -1 << 63 }, "amount"},
		{"amount no currency", func(e *lifecycle.Event) { e.Currency = "" }, "currency"},
		{"currency lower", func(e *lifecycle.Event) { e.Currency = "eur" }, "currency"},
		{"currency 4", func(e *lifecycle.Event) { e.Currency = "EURO" }, "currency"},
		{"currency non-ascii", func(e *lifecycle.Event) { e.Currency = "ÉUR" }, "currency"},
		{"currency with zero amount malformed", func(e *lifecycle.Event) { e.Amount = 0; e.Currency = "E1R" }, "currency"},
		{"attrs 65", func(e *lifecycle.Event) {
			e.Attrs = map[string]string{}
			for i := 0; i < 65; i++ {
				e.Attrs[strings.Repeat("k", 1)+string(rune('A'+i%26))+string(rune('a'+i/26))] = "v"
			}
		}, "attrs"},
		{"attrs empty key", func(e *lifecycle.Event) { e.Attrs = map[string]string{"": "v"} }, "attrs"},
		{"attrs long key", func(e *lifecycle.Event) { e.Attrs = map[string]string{strings.Repeat("k", 65): "v"} }, "attrs"},
		{"attrs key NUL", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k\x00": "v"} }, "attrs"},
		{"attrs key bad utf8", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k\xff": "v"} }, "attrs"},
		{"attrs value long", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": strings.Repeat("v", 1025)} }, "attrs.k"},
		{"attrs value NUL", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": "v\x00"} }, "attrs.k"},
		{"attrs value bad utf8", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": "é\xff"} }, "attrs.k"},
		{"attrs value NUL after multibyte", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": "é\x00"} }, "attrs.k"},
		{"survey no score", func(e *lifecycle.Event) { e.Type = lifecycle.SurveyAnswered; e.Amount = 0; e.Currency = "" }, "attrs.score"},
		{"survey score 11", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": "11"}
		}, "attrs.score"},
		{"survey score empty", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": ""}
		}, "attrs.score"},
		{"survey score space", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": " 5"}
		}, "attrs.score"},
		{"survey score NaN", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": "NaN"}
		}, "attrs.score"},
		{"survey score huge", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": "99999999999999999999"}
		}, "attrs.score"},
	}
	for _, c := range cases {
		e := rvValid()
		c.mod(&e)
		rvWantField(t, c.name, e.Validate(), c.field)
	}
}

func TestContractValidateAccepts(t *testing.T) {
	maxID := strings.Repeat("x", lifecycle.MaxIDLen)
	cases := []struct {
		name string
		mod  func(e *lifecycle.Event)
	}{
		{"plain", func(e *lifecycle.Event) {}},
		{"id 256 bytes", func(e *lifecycle.Event) { e.ID = maxID }},
		{"customer 256 bytes multibyte", func(e *lifecycle.Event) { e.CustomerID = strings.Repeat("é", 128) }},
		{"id inner space", func(e *lifecycle.Event) { e.ID = "a b" }},
		{"id emoji", func(e *lifecycle.Event) { e.ID = "😀" }},
		{"id combining accent", func(e *lifecycle.Event) { e.ID = "e\u0301" }},
		{"time 1900 exactly", func(e *lifecycle.Event) { e.Time = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"time last ns of 9999", func(e *lifecycle.Event) { e.Time = lifecycle.Never }},
		{"time 9999 local +01 (10000? no: 9999-12-31T23:30Z seen at +01:00)", func(e *lifecycle.Event) {
			e.Time = time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC).In(time.FixedZone("", 3600))
		}},
		{"amount max int64", func(e *lifecycle.Event) { e.Amount = 1<<63 - 1 }},
		{"zero amount with currency", func(e *lifecycle.Event) { e.Amount = 0 }},
		{"custom type", func(e *lifecycle.Event) { e.Type = "acme.wishlist_added" }},
		{"custom type many dots", func(e *lifecycle.Event) { e.Type = "acme.sub.thing_2" }},
		{"custom type 64 bytes", func(e *lifecycle.Event) { e.Type = lifecycle.EventType("acme." + strings.Repeat("x", 59)) }},
		{"attrs 64", func(e *lifecycle.Event) {
			e.Attrs = map[string]string{}
			for i := 0; i < 64; i++ {
				e.Attrs["k"+string(rune('A'+i%26))+string(rune('a'+i/26))] = "v"
			}
		}},
		{"attr key 64 / value 1024", func(e *lifecycle.Event) {
			e.Attrs = map[string]string{strings.Repeat("k", 64): strings.Repeat("v", 1024)}
		}},
		{"attr empty value", func(e *lifecycle.Event) { e.Attrs = map[string]string{"k": ""} }},
		{"survey 0", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": "0"}
		}},
		{"survey 10", func(e *lifecycle.Event) {
			e.Type = lifecycle.SurveyAnswered
			e.Attrs = map[string]string{"score": "10"}
		}},
		{"referrer other", func(e *lifecycle.Event) { e.ReferrerID = "r1" }},
	}
	for _, c := range cases {
		e := rvValid()
		c.mod(&e)
		if err := e.Validate(); err != nil {
			t.Errorf("%s: Validate = %v, want nil", c.name, err)
		}
	}
}

// ValidationError.Value: "the offending value; past 64 bytes, its first
// 64 or fewer (cut between characters) and …"
func TestContractValidationErrorValue(t *testing.T) {
	e := rvValid()
	e.ID = strings.Repeat("é", 200) // 400 bytes
	err := e.Validate()
	ve := rvWantField(t, "long multibyte id", err, "id")
	if ve == nil {
		return
	}
	if !strings.HasSuffix(ve.Value, "…") {
		t.Errorf("Value %q does not end with …", ve.Value)
	}
	body := strings.TrimSuffix(ve.Value, "…")
	if len(body) > 64 || !strings.HasPrefix(e.ID, body) {
		t.Errorf("Value body %q (len %d) is not a prefix of at most 64 bytes", body, len(body))
	}
	if !strings.HasPrefix(ve.Error(), "lifecycle: invalid event: id ") {
		t.Errorf("Error() = %q", ve.Error())
	}
	// Value names the value: self referral.
	e = rvValid()
	e.ReferrerID = "c1"
	ve = rvWantField(t, "self", e.Validate(), "referrer_id")
	if ve != nil && ve.Value != "c1" {
		t.Errorf("self referral Value = %q", ve.Value)
	}
	e = rvValid()
	e.Currency = "eur"
	ve = rvWantField(t, "cur", e.Validate(), "currency")
	if ve != nil && ve.Value != "eur" {
		t.Errorf("currency Value = %q", ve.Value)
	}
}

func TestContractValidateIDFunc(t *testing.T) {
	if err := lifecycle.ValidateID("foo", "ok"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", " a", "a ", "a\tb", "a\u200bb", "\xff", strings.Repeat("a", 257), "a\u2028", "a\u0000"} {
		rvWantField(t, "ValidateID "+bad, lifecycle.ValidateID("my_field", bad), "my_field")
	}
}

func TestContractTrackerSkew(t *testing.T) {
	ctx := context.Background()
	tr, _ := rvTracker(t)
	e := rvEv("e1", "c1", lifecycle.SiteVisited, rvT0.Add(15*time.Minute))
	if _, err := tr.Record(ctx, e); err != nil {
		t.Errorf("exactly 15m ahead: %v", err)
	}
	e = rvEv("e2", "c1", lifecycle.SiteVisited, rvT0.Add(15*time.Minute+time.Nanosecond))
	_, err := tr.Record(ctx, e)
	rvWantField(t, "15m+1ns", err, "time")

	tr0, _ := rvTracker(t, lifecycle.WithMaxSkew(0))
	if _, err := tr0.Record(ctx, rvEv("e1", "c1", lifecycle.SiteVisited, rvT0)); err != nil {
		t.Errorf("skew 0, at clock: %v", err)
	}
	_, err = tr0.Record(ctx, rvEv("e2", "c1", lifecycle.SiteVisited, rvT0.Add(1)))
	rvWantField(t, "skew 0 +1ns", err, "time")
	trn, _ := rvTracker(t, lifecycle.WithMaxSkew(-time.Hour))
	if _, err := trn.Record(ctx, rvEv("e1", "c1", lifecycle.SiteVisited, rvT0)); err != nil {
		t.Errorf("negative skew, at clock: %v", err)
	}
	_, err = trn.Record(ctx, rvEv("e2", "c1", lifecycle.SiteVisited, rvT0.Add(time.Nanosecond)))
	rvWantField(t, "negative skew +1ns", err, "time")
	// Clock in another zone: same instant.
	trz := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return rvT0.In(time.FixedZone("", -5*3600)) }))
	if _, err := trz.Record(ctx, rvEv("e1", "c1", lifecycle.SiteVisited, rvT0.Add(10*time.Minute))); err != nil {
		t.Errorf("zoned clock: %v", err)
	}
	// WithClock(nil) uses time.Now: an event from a minute ago is accepted.
	trnil := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(nil), nil)
	if _, err := trnil.Record(ctx, rvEv("e1", "c1", lifecycle.SiteVisited, time.Now().Add(-time.Minute))); err != nil {
		t.Errorf("WithClock(nil): %v", err)
	}
}

func TestContractVocabulary(t *testing.T) {
	std := lifecycle.StandardTypes()
	voc := lifecycle.Vocabulary()
	if len(std) != len(voc) || len(std) != 24 {
		t.Fatalf("len StandardTypes %d, Vocabulary %d", len(std), len(voc))
	}
	set := map[lifecycle.EventType]bool{}
	for i, ty := range std {
		set[ty] = true
		if voc[i].Type != ty {
			t.Errorf("order differs at %d", i)
		}
		if !ty.Standard() || ty.Kind() != voc[i].Kind || ty.Kind() == 0 {
			t.Errorf("%s: Standard %v Kind %v want %v", ty, ty.Standard(), ty.Kind(), voc[i].Kind)
		}
		if ty != lifecycle.ReferralConverted {
			e := rvEv("e", "c", ty, rvT0)
			if ty == lifecycle.SurveyAnswered {
				e.Attrs = map[string]string{"score": "5"}
			}
			if err := e.Validate(); err != nil {
				t.Errorf("%s: %v", ty, err)
			}
		}
	}
	// Mutating the copies does not change the table.
	voc[0].Kind = 99
	std[0] = "zzz"
	if lifecycle.Vocabulary()[0].Kind == 99 || lifecycle.StandardTypes()[0] == "zzz" {
		t.Error("Vocabulary/StandardTypes not copies")
	}
	// Near misses and variants are not standard.
	var probes []lifecycle.EventType
	for ty := range set {
		s := string(ty)
		probes = append(probes,
			lifecycle.EventType(s[:len(s)-1]), lifecycle.EventType(s+"s"), lifecycle.EventType("x"+s[1:]),
			lifecycle.EventType(s[:len(s)-4]+"XXXX"), lifecycle.EventType(strings.ToUpper(s)),
			lifecycle.EventType(s[1:]), lifecycle.EventType(s[:3]), lifecycle.EventType(s+"\x00"),
		)
		for i := 0; i < len(s); i++ {
			b := []byte(s)
			b[i] ^= 1
			probes = append(probes, lifecycle.EventType(b))
			b[i] ^= 1
			b[i] = 'a' + byte((int(b[i])+7)%26)
			probes = append(probes, lifecycle.EventType(b))
		}
	}
	probes = append(probes, "", "a", "ab", "abc", "abcd", "\xff\xff\xff\xff")
	for _, p := range probes {
		if set[p] {
			continue
		}
		if p.Standard() || p.Kind() != 0 {
			t.Errorf("%q: Standard %v Kind %v, want not standard", p, p.Standard(), p.Kind())
		}
	}
	if lifecycle.EventKind(0).String() != "custom" || lifecycle.KindOrder.String() != "order" ||
		lifecycle.KindTicketOpened.String() != "ticket_opened" || lifecycle.EventKind(200).String() != "EventKind(200)" {
		t.Error("EventKind.String")
	}
	if !lifecycle.KindOrder.Purchase() || !lifecycle.KindSubscription.Purchase() || lifecycle.KindRefund.Purchase() {
		t.Error("Purchase")
	}
	d := lifecycle.DefaultConversionTypes()
	if len(d) != 2 || d[0] != lifecycle.OrderCompleted || d[1] != lifecycle.SubscriptionStarted {
		t.Errorf("DefaultConversionTypes = %v", d)
	}
}

func TestContractReferralEventID(t *testing.T) {
	if got := lifecycle.ReferralEventID("c1"); got != "clm.referral:c1" {
		t.Errorf("ReferralEventID = %q", got)
	}
	long := strings.Repeat("x", 256)
	if got := lifecycle.ReferralEventID(long); len(got) != lifecycle.MaxCauseLen {
		t.Errorf("len = %d, MaxCauseLen %d", len(got), lifecycle.MaxCauseLen)
	}
}
