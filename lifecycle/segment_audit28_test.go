package lifecycle_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

const auditCallHead = `{"type":"track","event":"Order Completed","messageId":"m1","userId":"u1","timestamp":"2026-03-01T10:00:00Z"`

// manyMembers returns a call of about n bytes whose properties hold many
// ignored members, and last appended at the end of them.
func manyMembers(n int, last string) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"track","event":"X","messageId":"m1","userId":"u1","timestamp":"2026-03-01T10:00:00Z","properties":{"_":0`)
	for i := 0; b.Len() < n; i++ {
		b.WriteString(`,"` + strconv.FormatInt(int64(i), 36) + `":0`)
	}
	b.WriteString(last + `}}`)
	return []byte(b.String())
}

// A call of 1 MiB with about 130,000 ignored members converts (the check
// for keys given twice was quadratic: 13 s for this call), and a key
// repeated at its end is still found.
func TestSegmentManyMembers(t *testing.T) {
	evs, err := lifecycle.FromSegment(manyMembers(1<<20-16, ""))
	if err != nil || len(evs) != 1 {
		t.Fatalf("FromSegment = %v, %v", evs, err)
	}
	_, err = lifecycle.FromSegment(manyMembers(1<<20-32, `,"1":5`))
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || ve.Field != "properties.1" || ve.Value != "5" || !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("a key given twice at the end: %v", err)
	}
}

func BenchmarkSegmentManyMembers(b *testing.B) {
	call := manyMembers(1<<20-16, "")
	b.SetBytes(int64(len(call)))
	for b.Loop() {
		if _, err := lifecycle.FromSegment(call); err != nil {
			b.Fatal(err)
		}
	}
}

// Both referrer fields are read: different referrers are refused (one was
// dropped), the same one twice is fine, and a value of the wrong type is
// refused even when the other field is set.
func TestSegmentBothReferrers(t *testing.T) {
	for _, tc := range []struct{ props, field, value, referrer string }{
		{`{"referrer_id":"r1","referrerId":"r2"}`, "properties.referrerId", "r2", ""},
		{`{"referrer_id":"r1","referrerId":{"x":1}}`, "properties.referrerId", `{"x":1}`, ""},
		{`{"referrer_id":"r1","referrerId":"r1"}`, "", "", "r1"},
		{`{"referrer_id":"","referrerId":"r2"}`, "", "", "r2"},
		{`{"referrer_id":null,"referrerId":"r2"}`, "", "", "r2"},
		{`{"referrer_id":"r1","referrerId":null}`, "", "", "r1"},
	} {
		evs, err := lifecycle.FromSegment([]byte(auditCallHead + `,"properties":` + tc.props + `}`))
		if tc.field == "" {
			if err != nil || len(evs) != 1 || evs[0].ReferrerID != tc.referrer {
				t.Errorf("%s: %+v, %v; want referrer %q", tc.props, evs, err, tc.referrer)
			}
			continue
		}
		var ve *lifecycle.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || ve.Value != tc.value || !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("%s: %+v, %v; want an error naming %s = %s", tc.props, evs, err, tc.field, tc.value)
		}
	}
}

// anonymousId is checked when userId is set too.
func TestSegmentAnonymousIDChecked(t *testing.T) {
	_, err := lifecycle.FromSegment([]byte(auditCallHead + `,"anonymousId":{"x":1}}`))
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || ve.Field != "anonymousId" {
		t.Errorf("anonymousId {\"x\":1} beside a userId: %v", err)
	}
	evs, err := lifecycle.FromSegment([]byte(auditCallHead + `,"anonymousId":"a-1"}`))
	if err != nil || len(evs) != 1 || evs[0].CustomerID != "u1" {
		t.Errorf("both IDs: %+v, %v; want customer u1", evs, err)
	}
}

// A batch object's key that is not a valid string is refused, as a
// call's is (given twice, it went unnoticed).
func TestSegmentBatchBadKey(t *testing.T) {
	call := `{"type":"track","event":"X","messageId":"m1","userId":"u1","timestamp":"2026-03-01T10:00:00Z"}`
	for _, in := range []string{
		`{"batch":[` + call + `],"\ud800":1,"\ud800":2}`,
		"{\"batch\":[" + call + "],\"a\xff\":1,\"a\xff\":2}",
		"{\"a\xff\":1,\"batch\":[" + call + "]}",
	} {
		if evs, err := lifecycle.FromSegment([]byte(in)); err == nil || !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("%q: %d events, %v; want an ErrInvalidEvent", in, len(evs), err)
		}
	}
	if evs, err := lifecycle.FromSegment([]byte(`{"batch":[` + call + `],"context":{"a":1}}`)); err != nil || len(evs) != 1 {
		t.Errorf("a batch object with context: %v, %v", evs, err)
	}
}
