package shop

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// track is a Segment track call. The fields besides the ones mapped are
// accepted and ignored, so that payloads copied from Segment's tools
// decode; any other field is refused.
type track struct {
	Type              string                     `json:"type"`
	Event             string                     `json:"event"`
	UserID            string                     `json:"userId"`
	AnonymousID       string                     `json:"anonymousId"`
	MessageID         string                     `json:"messageId"`
	Timestamp         json.RawMessage            `json:"timestamp"`
	Properties        map[string]json.RawMessage `json:"properties"`
	Context           json.RawMessage            `json:"context"`
	Integrations      json.RawMessage            `json:"integrations"`
	Channel           json.RawMessage            `json:"channel"`
	Version           json.RawMessage            `json:"version"`
	SentAt            json.RawMessage            `json:"sentAt"`
	ReceivedAt        json.RawMessage            `json:"receivedAt"`
	OriginalTimestamp json.RawMessage            `json:"originalTimestamp"`
}

// segmentTypes maps the Segment e-commerce spec's event names, in snake
// case, to standard types where the names differ.
var segmentTypes = map[string]lifecycle.EventType{
	"product_added":    lifecycle.CartAdded,
	"product_reviewed": lifecycle.ReviewPosted,
	"product_shared":   lifecycle.SocialShared,
	"cart_shared":      lifecycle.SocialShared,
	"page_viewed":      lifecycle.SiteVisited,
}

// amountProps are the properties read as an event's amount, first found
// first.
var amountProps = []string{"total", "revenue", "value"}

// decodeTrack maps a Segment track call to an event (see the package doc).
func decodeTrack(raw json.RawMessage) decoded {
	d := decoded{fields: map[string]string{
		"id": "messageId", "customer_id": "userId", "type": "event", "time": "timestamp",
		"amount": "properties.total", "currency": "properties.currency", "referrer_id": "properties.referrer_id",
	}}
	var tr track
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr); err != nil {
		d.err = jsonFieldError(err, "timestamp")
		return d
	}
	e := &d.event
	e.ID = tr.MessageID
	e.CustomerID = tr.UserID
	if e.CustomerID == "" && tr.AnonymousID != "" {
		e.CustomerID = tr.AnonymousID
		d.fields["customer_id"] = "anonymousId"
	}
	if e.CustomerID == "" {
		d.err = newFieldError("userId", "", "is missing (and so is anonymousId)")
		return d
	}
	if tr.Event == "" {
		d.err = newFieldError("event", "", "is missing")
		return d
	}
	name := snake(tr.Event)
	if name == "" {
		d.err = newFieldError("event", tr.Event, "has no letters or digits")
		return d
	}
	switch t, ok := segmentTypes[name]; {
	case ok:
		e.Type = t
	case lifecycle.EventType(name).Standard():
		e.Type = lifecycle.EventType(name)
	default:
		e.Type = lifecycle.EventType("segment." + name)
	}
	if len(tr.Timestamp) == 0 || string(tr.Timestamp) == "null" {
		d.err = newFieldError("timestamp", "", "is missing")
		return d
	}
	var ts string
	if err := json.Unmarshal(tr.Timestamp, &ts); err != nil {
		d.err = newFieldError("timestamp", "", "must be an RFC 3339 time string such as \"2026-03-01T10:00:00Z\"")
		return d
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		d.err = newFieldError("timestamp", ts, "must be an RFC 3339 time such as 2026-03-01T10:00:00Z")
		return d
	}
	e.Time = t

	props := tr.Properties
	if c, ok := props["currency"]; ok {
		if err := json.Unmarshal(c, &e.Currency); err != nil {
			d.err = newFieldError("properties.currency", string(c), "must be a string such as \"EUR\"")
			return d
		}
	}
	if r, ok := props["referrer_id"]; ok {
		if err := json.Unmarshal(r, &e.ReferrerID); err != nil {
			d.err = newFieldError("properties.referrer_id", string(r), "must be a string")
			return d
		}
	}
	for _, p := range amountProps {
		v, ok := props[p]
		if !ok {
			continue
		}
		d.fields["amount"] = "properties." + p
		if e.Currency == "" {
			e.Currency = "USD"
		}
		n, reason := minorUnits(v, e.Currency)
		if reason != "" {
			shown, _ := scalar(v)
			d.err = newFieldError("properties."+p, shown, reason)
			return d
		}
		e.Amount = n
		break
	}
	for k, v := range props {
		switch k {
		case "currency", "referrer_id", "total", "revenue", "value":
			continue
		}
		s, ok := scalar(v)
		if !ok {
			continue
		}
		if e.Attrs == nil {
			e.Attrs = make(map[string]string)
		}
		e.Attrs[k] = s
	}
	return d
}

// snake turns a Segment event name into lower snake case: "Order
// Completed" and "orderCompleted" both become "order_completed".
// Characters other than ASCII letters and digits separate words.
func snake(name string) string {
	var b strings.Builder
	sep := false
	prevLower := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if prevLower {
				sep = true
			}
			c += 'a' - 'A'
			prevLower = false
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevLower = true
		default:
			sep = true
			prevLower = false
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

// minorUnits converts a decimal amount in major units (a JSON number or a
// numeric string, "49.99") to minor units of cur (4999 for EUR). It
// returns a reason instead when the value is not a plain decimal or has
// more decimals than the currency.
func minorUnits(v json.RawMessage, cur string) (int64, string) {
	s := string(bytes.TrimSpace(v))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, "must be a decimal number such as 49.99"
		}
	}
	digits := exponent(cur)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, "must be a plain decimal number such as 49.99"
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > digits {
		return 0, "has more than " + strconv.Itoa(digits) + " decimals, the minor unit of " + cur
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, "is too large"
	}
	if neg {
		n = -n
	}
	return n, ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// exponent returns the number of decimals of a currency's minor unit
// (ISO 4217): 0 for currencies without one, 3 for the dinar-like ones, 2
// for the rest.
func exponent(cur string) int {
	switch cur {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// scalar returns a property's value as an attribute: strings as they are,
// numbers in their JSON text, booleans as true or false; ok is false for
// objects, arrays and null.
func scalar(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	}
	return string(v), true
}
