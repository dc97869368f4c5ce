package lifecycle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

func rvSeg(ev, extra string) string {
	return `{"type":"track","event":"` + ev + `","messageId":"m1","userId":"u1","timestamp":"2026-03-01T10:00:00Z"` + extra + `}`
}

func TestContractSegmentTypes(t *testing.T) {
	cases := map[string]lifecycle.EventType{
		"Order Completed":       lifecycle.OrderCompleted,
		"order_completed":       lifecycle.OrderCompleted,
		"ORDER COMPLETED":       lifecycle.OrderCompleted,
		"Newsletter Subscribed": lifecycle.NewsletterSubscribed,
		"Trial Started":         "segment.trial_started",
		"Referral Converted":    "segment.referral_converted",
		"referral_converted":    "segment.referral_converted",
		" Plan 2 Chosen!":       "segment.plan_2_chosen",
		"Product Added":         lifecycle.CartAdded,
		"Invite Sent":           lifecycle.ReferralMade,
		"Ticket--Opened":        lifecycle.TicketOpened,
		"Café Visited":          "segment.caf_visited",
	}
	for name, want := range cases {
		evs, err := lifecycle.FromSegment([]byte(rvSeg(name, "")))
		if err != nil || len(evs) != 1 {
			t.Errorf("%q: %v %v", name, evs, err)
			continue
		}
		if evs[0].Type != want || evs[0].Attrs[lifecycle.SegmentEventAttr] != name {
			t.Errorf("%q: type %q attrs %v, want %q", name, evs[0].Type, evs[0].Attrs, want)
		}
	}
	// page / screen / identify
	evs, err := lifecycle.FromSegment([]byte(`[{"type":"page","messageId":"p","anonymousId":"a","timestamp":"2026-03-01T10:00:00Z"},{"type":"identify","userId":"x"},{"type":"screen","messageId":"s","userId":42,"timestamp":"2026-03-01T10:00:00+01:00"}]`))
	if err != nil || len(evs) != 2 || evs[0].Type != lifecycle.SiteVisited || evs[0].CustomerID != "a" || evs[1].CustomerID != "42" || evs[0].Attrs[lifecycle.SegmentEventAttr] != "page" {
		t.Errorf("page/screen: %+v %v", evs, err)
	}
}

func TestContractSegmentMoney(t *testing.T) {
	ok := []struct {
		props string
		typ   string
		amt   int64
		cur   string
	}{
		{`"total":49.99,"currency":"eur"`, "Order Completed", 4999, "EUR"},
		{`"total":"49.99","currency":"EUR"`, "Order Completed", 4999, "EUR"},
		{`"revenue":1500,"currency":"JPY"`, "Order Completed", 1500, "JPY"},
		{`"total":null,"revenue":1.250,"currency":"KWD"`, "Order Completed", 1250, "KWD"},
		{`"total":-5,"currency":"EUR"`, "Order Refunded", 500, "EUR"},
		{`"total":0,"currency":"EUR"`, "Order Completed", 0, "EUR"},
		{`"total":1e3,"currency":"EUR"`, "Order Completed", 100000, "EUR"},
	}
	for _, c := range ok {
		evs, err := lifecycle.FromSegment([]byte(rvSeg(c.typ, `,"properties":{`+c.props+`}`)))
		if err != nil || len(evs) != 1 || evs[0].Amount != c.amt || evs[0].Currency != c.cur {
			t.Errorf("%s: %+v %v", c.props, evs, err)
		}
	}
	bad := []struct{ props, field string }{
		{`"total":0.001,"currency":"EUR"`, "properties.total"},
		{`"total":-5,"currency":"EUR"`, "properties.total"},
		{`"total":5`, "properties.currency"},
		{`"total":0`, "properties.currency"},
		{`"total":5,"currency":"EURO"`, "properties.currency"},
		{`"total":"abc","currency":"EUR"`, "properties.total"},
		{`"total":true,"currency":"EUR"`, "properties.total"},
		{`"revenue":99999999999999999999,"currency":"EUR"`, "properties.revenue"},
		{`"Total":5,"currency":"EUR"`, "properties.Total"},
		{`"total":5,"total":6,"currency":"EUR"`, "properties.total"},
		{`"referrer_id":"u1"`, "properties.referrer_id"},
		{`"referrerId":" r"`, "properties.referrerId"},
	}
	for _, sc := range []string{`"11"`, `11`, `true`, `"7.5"`} {
		evs, err := lifecycle.FromSegment([]byte(rvSeg("Survey Answered", `,"properties":{"score":`+sc+`}`)))
		if len(evs) != 0 {
			t.Errorf("score %s: %+v", sc, evs)
		}
		rvWantField(t, "score "+sc, err, "properties.score")
	}
	for _, c := range bad {
		evs, err := lifecycle.FromSegment([]byte(rvSeg("Order Completed", `,"properties":{`+c.props+`}`)))
		if len(evs) != 0 {
			t.Errorf("%s: events %+v", c.props, evs)
		}
		rvWantField(t, c.props, err, c.field)
	}
}

func TestContractSegmentStrict(t *testing.T) {
	bad := []struct{ in, field string }{
		{`{"type":"track","event":"X","messageId":"m","MESSAGEID":"n","userId":"u","timestamp":"2026-03-01T10:00:00Z"}`, "MESSAGEID"},
		{`{"type":"track","event":"X","messageId":"m","messageId":"n","userId":"u","timestamp":"2026-03-01T10:00:00Z"}`, "messageId"},
		{`{"type":"track","event":"X","messageId":5,"userId":"u","timestamp":"2026-03-01T10:00:00Z"}`, "messageId"},
		{`{"type":"track","event":"X","messageId":"m","userId":1.5,"timestamp":"2026-03-01T10:00:00Z"}`, "userId"},
		{`{"type":"track","event":"X","messageId":"m","userId":"u\u200b","timestamp":"2026-03-01T10:00:00Z"}`, "userId"},
		{`{"type":"track","event":"X","messageId":"m","anonymousId":" a","timestamp":"2026-03-01T10:00:00Z"}`, "anonymousId"},
		{`{"type":"track","event":"X","messageId":"m","userId":"u","timestamp":"2026-03-01T10:00:00+24:00"}`, "timestamp"},
		{`{"type":"track","event":"X","messageId":"m","userId":"u","timestamp":"2026-03-01T10:00:00"}`, "timestamp"},
		{`{"type":"track","event":"X","messageId":"m","userId":"u"}`, "timestamp"},
		{`{"type":"track","event":"X","userId":"u","timestamp":"2026-03-01T10:00:00Z"}`, "messageId"},
		{`{"type":"bogus"}`, "type"},
		{`{"type":"track","messageId":"m","userId":"u","timestamp":"2026-03-01T10:00:00Z"}`, "event"},
		{`{"type":"track","event":"X","messageId":"m","userId":"u","timestamp":"2026-03-01T10:00:00Z","properties":[]}`, "properties"},
		{`{"type":"track","event":"X","messageId":"m","userId":"u","timestamp":"2026-03-01T10:00:00Z","properties":{"total":1,"total":2}}`, "properties.total"},
		{"{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\xff\",\"userId\":\"u\",\"timestamp\":\"2026-03-01T10:00:00Z\"}", "json"},
		{`{"type":"track","event":"X","messageId":"m\ud800","userId":"u","timestamp":"2026-03-01T10:00:00Z"}`, "messageId"},
		{`null`, "json"},
		{`5`, "json"},
		{`not json`, "json"},
	}
	for _, c := range bad {
		evs, err := lifecycle.FromSegment([]byte(c.in))
		if len(evs) != 0 {
			t.Errorf("%s: %+v", c.in, evs)
		}
		rvWantField(t, c.in, err, c.field)
	}
	// Batch: good ones converted, error names the call index.
	in := `{"batch":[` + rvSeg("Order Completed", "") + `,{"type":"track"},` + strings.Replace(rvSeg("Signed Up", ""), `"m1"`, `"m2"`, 1) + `]}`
	evs, err := lifecycle.FromSegment([]byte(in))
	if len(evs) != 2 || err == nil || !strings.Contains(err.Error(), "segment call 1: ") || !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("batch: %+v %v", evs, err)
	}
	// Every converted event validates.
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
	}
	// A batch key given twice.
	_, err = lifecycle.FromSegment([]byte(`{"batch":[],"batch":[]}`))
	if !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("dup batch: %v", err)
	}
}

// TestContractSegmentBatchKeyCase: a key that differs only in case from
// "batch" is refused, as the docs say of every key FromSegment reads.
func TestContractSegmentBatchKeyCase(t *testing.T) {
	call := `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1","timestamp":"2025-01-02T03:04:05Z"}`
	for _, in := range []string{`{"batch":[` + call + `],"BATCH":[]}`, `{"Batch":[` + call + `]}`} {
		evs, err := lifecycle.FromSegment([]byte(in))
		var ve *lifecycle.ValidationError
		if !errors.Is(err, lifecycle.ErrInvalidEvent) || !errors.As(err, &ve) || !strings.EqualFold(ve.Field, "batch") {
			t.Errorf("FromSegment(%s) = %d events, %v; want a ValidationError on the key", in, len(evs), err)
		}
	}
}
