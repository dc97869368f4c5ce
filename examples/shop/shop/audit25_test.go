package shop_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Found by an audit of the service against docs/shop.md; each test failed
// before its fix.

// post sends body to POST /v1/events and decodes the answer.
func post25(t *testing.T, h http.Handler, body string) (int, answer) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var a answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	return rec.Code, a
}

// A Segment call whose customer is its anonymousId is refused naming
// anonymousId, the field sent, not userId.
func TestSegmentAnonymousIDNamed(t *testing.T) {
	srv, _ := newServer(t, nil)
	for _, body := range []string{
		`{"type":"page","anonymousId":"..","messageId":"m1","timestamp":"2026-03-01T10:00:00Z"}`,
		`{"type":"page","userId":"","anonymousId":".","messageId":"m2","timestamp":"2026-03-01T10:00:00Z"}`,
		`{"type":"page","userId":null,"anonymousId":"/","messageId":"m3","timestamp":"2026-03-01T10:00:00Z"}`,
	} {
		code, a := post25(t, srv, body)
		if code != http.StatusUnprocessableEntity || len(a.Results) != 1 || a.Results[0].Error == nil {
			t.Fatalf("%s: %d %+v", body, code, a)
		}
		if f := a.Results[0].Error.Field; f != "anonymousId" {
			t.Errorf("%s: error's field %q, want anonymousId", body, f)
		}
	}
	// With a userId, the userId is the customer and is named.
	code, a := post25(t, srv, `{"type":"page","userId":"..","anonymousId":"a","messageId":"m4","timestamp":"2026-03-01T10:00:00Z"}`)
	if code != http.StatusUnprocessableEntity || a.Results[0].Error == nil || a.Results[0].Error.Field != "userId" {
		t.Errorf("userId \"..\": %d %+v", code, a.Results)
	}
}

// A Segment field of the wrong JSON type is named with the value sent, as
// the library's form names it; "" is for a missing field.
func TestSegmentWrongTypeValue(t *testing.T) {
	srv, _ := newServer(t, nil)
	for field, body := range map[string]string{
		"messageId": `{"type":"page","userId":"u","messageId":5,"timestamp":"2026-03-01T10:00:00Z"}`,
		"timestamp": `{"type":"page","userId":"u","messageId":"m","timestamp":5}`,
		"event":     `{"type":"track","event":[1],"userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}`,
		"type":      `{"type":5,"userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z"}`,
	} {
		code, a := post25(t, srv, body)
		if code != http.StatusBadRequest || len(a.Results) != 1 || a.Results[0].Error == nil || a.Results[0].Error.Field != field {
			t.Fatalf("%s: %d %+v", field, code, a)
		}
		want := "5"
		if field == "event" {
			want = "[1]"
		}
		if v := a.Results[0].Error.Value; v != want {
			t.Errorf("%s: value %q, want %q", field, v, want)
		}
	}
}

// A referrer ID ".", ".." or "/" is refused as a customer ID is: the
// pending referrer it would make could not be read at
// /v1/customers/{id} by every client.
func TestReferrerIDDotsRefused(t *testing.T) {
	srv, tr := newServer(t, nil)
	for i, ref := range []string{".", "..", "/"} {
		body := `{"id":"o` + string(rune('0'+i)) + `","customer_id":"c1","type":"order_completed","time":"2026-03-01T10:00:00Z","referrer_id":"` + ref + `"}`
		code, a := post25(t, srv, body)
		if code != http.StatusUnprocessableEntity || a.Results[0].Error == nil || a.Results[0].Error.Field != "referrer_id" || a.Results[0].Error.Value != ref {
			t.Errorf("referrer_id %q: %d %+v", ref, code, a.Results)
		}
		if _, err := tr.Customer(t.Context(), ref); err == nil {
			t.Errorf("referrer %q stored", ref)
		}
	}
	// Segment's name for it.
	code, a := post25(t, srv, `{"type":"track","event":"Order Completed","userId":"u","messageId":"m","timestamp":"2026-03-01T10:00:00Z","properties":{"referrer_id":".."}}`)
	if code != http.StatusUnprocessableEntity || a.Results[0].Error == nil || a.Results[0].Error.Field != "properties.referrer_id" {
		t.Errorf("Segment referrer_id \"..\": %d %+v", code, a.Results)
	}
	if _, err := tr.Customer(t.Context(), "c1"); err == nil {
		t.Error("c1 stored: the refused events were applied")
	}
}

// An array or an object where an event belongs is named as such.
func TestNestedNonObjectDescribed(t *testing.T) {
	srv, _ := newServer(t, nil)
	for body, want := range map[string]string{`[[1]]`: "not an array", `{"batch":[[1]]}`: "not an array", `[5]`: "not a number"} {
		code, a := post25(t, srv, body)
		if code != http.StatusBadRequest || len(a.Results) != 1 || a.Results[0].Error == nil || !strings.Contains(a.Results[0].Error.Reason, want) {
			t.Errorf("%s: %d %+v, want a reason saying %q", body, code, a.Results, want)
		}
	}
}

// The request target * with a method other than OPTIONS gets a JSON 404,
// as any path no route serves; OPTIONS * stays net/http's empty 200.
func TestAsteriskTarget(t *testing.T) {
	srv, _ := newServer(t, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ask := func(method string) string {
		c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, method+" * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		return string(b)
	}
	for _, m := range []string{"GET", "POST", "DELETE"} {
		got := ask(m)
		if !strings.HasPrefix(got, "HTTP/1.1 404") || !strings.Contains(got, "application/json") || !strings.Contains(got, `"not_found"`) {
			t.Errorf("%s *: %s", m, got)
		}
	}
	if got := ask("OPTIONS"); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("OPTIONS *: %s", got)
	}
}
