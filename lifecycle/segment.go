package lifecycle

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SegmentTypes maps Segment spec event names (the "event" of a track call,
// from the E-commerce v2, B2B SaaS, Mobile and Live Chat specs) to the
// standard vocabulary. Keys match exactly, case and spaces included.
// [FromSegment] also accepts every standard type name in Title Case
// ("Newsletter Subscribed", "Ticket Opened", "Survey Answered" …) or any
// other spelling whose snake_case form is the name ("newsletter_subscribed",
// "TICKET OPENED"), except [ReferralConverted], which only the Tracker
// records. "Order Cancelled" is not in it (it becomes the custom type
// segment.order_cancelled): shops send it beside Order Refunded for one
// order, and only Order Refunded, which this map reads as [OrderRefunded],
// takes the order and its revenue back. The map is read-only: do not
// modify it.
var SegmentTypes = map[string]EventType{
	"Promotion Viewed":               AdImpression,
	"Application Opened":             SiteVisited,
	"Application Installed":          ContentDownloaded,
	"Signed Up":                      SignedUp,
	"Account Created":                SignedUp,
	"Live Chat Conversation Started": ChatStarted,
	"Product Viewed":                 ProductViewed,
	"Product Added":                  CartAdded,
	"Checkout Started":               CheckoutStarted,
	"Order Completed":                OrderCompleted,
	"Order Refunded":                 OrderRefunded,
	"Product Reviewed":               ReviewPosted,
	"Product Shared":                 SocialShared,
	"Cart Shared":                    SocialShared,
	"Invite Sent":                    ReferralMade,
}

// SegmentEventAttr is the attribute in which [FromSegment] keeps the
// original Segment event name (or "page"/"screen" for those calls).
const SegmentEventAttr = "segment_event"

// segmentAttrs are the scalar properties FromSegment copies into Attrs,
// under the same key.
var segmentAttrs = []string{"order_id", "product_id", "category", "coupon", "score"}

// FromSegment converts Segment-style calls into events. data is one call
// object, a JSON array of calls, or a batch object {"batch": [calls…]}.
//
// For each call:
//   - "type" "track" is converted by its "event" name: names in
//     [SegmentTypes] get the type the map gives; a name whose snake_case
//     form (ASCII letters lower-cased, ASCII digits kept, every run of
//     other characters between them one underscore, and none at either
//     end: " Plan 2 Chosen!" → "plan_2_chosen") is a standard type name
//     other than referral_converted
//     gets that type ("Order Completed", "order_completed" and
//     "ORDER COMPLETED" → [OrderCompleted]); any other name becomes the
//     custom type "segment." followed by its snake_case form ("Trial
//     Started" → "segment.trial_started", "Referral Converted" →
//     "segment.referral_converted"). "page" and "screen" calls become
//     [SiteVisited]. "identify", "group" and "alias" calls carry no
//     activity and are skipped. Any other type is an error.
//   - "messageId" becomes the ID (the idempotency key); "userId", or
//     "anonymousId" when userId is absent, null or "", the CustomerID (a
//     JSON string, or an integer kept as its decimal text; both are
//     checked when both are given); "timestamp"
//     the Time, read as strictly as the time of the JSON form (see
//     [Event.UnmarshalJSON]: RFC 3339, at most nine fraction digits after
//     a full stop, an offset from -23:59 to +23:59, an upper-case T and Z,
//     no leap second). "messageId" and "timestamp" are required: a call
//     is read as Segment delivers it, its servers having filled in what a
//     client library may leave out. "type", "event",
//     "messageId" and "timestamp" must be JSON strings and "properties"
//     an object. IDs follow [ValidateID].
//   - The call, its properties and a batch object are decoded strictly,
//     so that what is converted is what was sent: a key given twice is
//     refused (encoding/json would keep the last), and so is a key that
//     differs only in case from one FromSegment reads ("MESSAGEID",
//     "properties.Total"; encoding/json would match it). Other members
//     (context, integrations, products …) are ignored. Strings FromSegment
//     reads must be valid UTF-8, without unpaired surrogate escapes.
//   - "properties.total", or "properties.revenue" when total is absent or null,
//     becomes Amount: a JSON number or a string holding one (white
//     space around it ignored), in major
//     units, converted exactly (no floating point) to minor units with
//     the currency's exponent ([MinorUnits]: JPY 0, EUR 2, KWD 3 …). A
//     value with more non-zero decimals than the currency has is refused,
//     as is a negative one, except that a negative amount on an Order
//     Refunded call is taken as the refund's size. "properties.currency",
//     a string of three ASCII letters in any case (stored upper-case), is
//     required with an amount, even a zero one (Segment assumes US
//     dollars where it is missing; FromSegment refuses the call instead,
//     so that a shop's euros are never recorded as dollars).
//   - "properties.referrer_id" (or "referrerId") becomes ReferrerID; when
//     both are given, non-empty and different, the call is refused.
//   - Attrs holds the original event name under [SegmentEventAttr] and
//     the properties order_id, product_id, category, coupon and score when
//     they are strings or numbers.
//
// Every converted event passes [Event.Validate]. FromSegment returns the
// events of every call that converted, in input order, and an error
// joining one error per call that did not; each wraps [ErrInvalidEvent],
// holds a *[ValidationError] whose Field names the Segment field
// ("messageId", "anonymousId", "timestamp", "properties.revenue" …, also
// for a field of the wrong type; "json" for a call that is not an object
// or not valid UTF-8)
// and whose Value is the offending value as sent (cut to 64 bytes; a time
// outside the years Validate accepts, as Validate writes it: RFC 3339
// with the offset as sent and its fraction, if any), and,
// in an array or batch, starts with the call's index, counted from 0
// ("segment call 2: "). Input that is not JSON, or neither an object nor
// an array, gives no events and an error with Field "json".
func FromSegment(data []byte) ([]Event, error) {
	calls, single, err := splitSegment(data)
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, len(calls))
	var errs []error
	for i, raw := range calls {
		var e Event
		var ok bool
		var err error
		if utf8.Valid(raw) {
			e, ok, err = segmentEvent(raw)
		} else {
			// encoding/json would quietly turn the bad bytes into U+FFFD,
			// changing an ID or a customer; Event.UnmarshalJSON refuses
			// them too.
			err = invalid("json", string(raw), "is not valid UTF-8")
		}
		if err != nil {
			if !single {
				err = fmt.Errorf("segment call %d: %w", i, err)
			}
			errs = append(errs, err)
			continue
		}
		if ok {
			events = append(events, e)
		}
	}
	return events, errors.Join(errs...)
}

// splitSegment returns the call objects in data; single is true when data
// is one call rather than an array or batch. A batch object's "batch"
// must be named exactly so, once.
func splitSegment(data []byte) (calls []json.RawMessage, single bool, err error) {
	data = bytes.Trim(data, " \t\r\n") // JSON's white space only: \f or U+00A0 around a value is not JSON
	bad := func(err error) error {
		return invalid("json", string(data), "is not a Segment call, array of calls or batch: "+err.Error())
	}
	if len(data) == 0 {
		return nil, false, invalid("json", "", "is empty")
	}
	if !json.Valid(data) {
		var v any
		return nil, false, bad(cmp.Or(json.Unmarshal(data, &v), errors.New("not valid JSON")))
	}
	switch data[0] {
	case '[':
		if err := json.Unmarshal(data, &calls); err != nil {
			return nil, false, bad(err)
		}
		return calls, false, nil
	case '{':
		var batch []byte
		var dup, dupVal string // the first key given twice: refused in a batch object
		var badKey error       // the first key that is not a valid string: refused in a batch object
		names := map[string]bool{}
		err := eachMember(data, 0, func(key, val []byte) error {
			name, err := jsonKey(key, "")
			switch {
			case err != nil:
				// Not "batch". A call's own check reports it; a batch
				// object's, below, once batch is known.
				if badKey == nil {
					badKey = err
				}
				return nil
			case name == "batch" && batch != nil:
				return invalid("batch", string(val), "duplicate key")
			case name != "batch" && strings.EqualFold(name, "batch"):
				return invalid(fieldName(name, ""), string(val), `unknown field; field names are case-sensitive: did you mean "batch"?`)
			case name == "batch":
				batch = val
			case names[name] && dup == "":
				dup, dupVal = name, string(val)
			}
			names[name] = true
			return nil
		})
		if err != nil {
			return nil, false, err
		}
		if batch == nil || string(batch) == "null" {
			return []json.RawMessage{data}, true, nil // a call: its own check reports duplicates
		}
		if badKey != nil {
			return nil, false, badKey
		}
		if dup != "" {
			return nil, false, invalid(fieldName(dup, ""), dupVal, "duplicate key")
		}
		if err := json.Unmarshal(batch, &calls); err != nil {
			return nil, false, bad(err)
		}
		return calls, false, nil
	}
	return nil, false, bad(errors.New("want a JSON object or array"))
}

// segmentCall holds the fields of a call as raw JSON, so that a field of
// the wrong type is reported under its own name.
type segmentCall struct {
	Type        json.RawMessage
	Event       json.RawMessage
	UserID      json.RawMessage
	AnonymousID json.RawMessage
	MessageID   json.RawMessage
	Timestamp   json.RawMessage
	Properties  json.RawMessage
}

// field returns where the member named name goes, or nil for a member
// FromSegment does not read.
func (c *segmentCall) field(name string) *json.RawMessage {
	switch name {
	case "type":
		return &c.Type
	case "event":
		return &c.Event
	case "userId":
		return &c.UserID
	case "anonymousId":
		return &c.AnonymousID
	case "messageId":
		return &c.MessageID
	case "timestamp":
		return &c.Timestamp
	case "properties":
		return &c.Properties
	}
	return nil
}

// segmentCallKeys and segmentPropKeys are the members of a call (or of a
// batch object) and of a call's properties that FromSegment reads; a key
// that differs from one of them only in case is refused rather than
// ignored.
var (
	segmentCallKeys = []string{"type", "event", "userId", "anonymousId", "messageId", "timestamp", "properties", "batch"}
	segmentPropKeys = append([]string{"total", "revenue", "currency", "referrer_id", "referrerId"}, segmentAttrs...)
)

// strictObject calls fn with the decoded key and raw value of each member
// of the JSON object raw (valid JSON, an object), in order, refusing what
// encoding/json lets through: a key given twice (encoding/json keeps the
// last) and a key that differs only in case from one of known
// (encoding/json matches struct fields case-insensitively), each with a
// *ValidationError whose Field is prefix and the key.
func strictObject(raw []byte, prefix string, known []string, fn func(key string, val []byte) error) error {
	seen := make(map[string]struct{})
	return eachMember(raw, skipSpace(raw, 0), func(k, val []byte) error {
		key, err := jsonKey(k, prefix)
		if err != nil {
			return err
		}
		if _, dup := seen[key]; dup {
			field := fieldName(key, prefix)
			if key == "" {
				field = prefix + `""` // the empty key, named
			}
			return invalid(field, string(val), "duplicate key")
		}
		seen[key] = struct{}{}
		if !slices.Contains(known, key) {
			for _, want := range known {
				if strings.EqualFold(key, want) {
					return invalid(fieldName(key, prefix), string(val), "unknown field; field names are case-sensitive: did you mean "+strconv.Quote(want)+"?")
				}
			}
		}
		return fn(key, val)
	})
}

// segmentCallFields are a call's fields decoded.
type segmentCallFields struct {
	Type, Event, MessageID, Timestamp string
	Properties                        map[string]json.RawMessage
}

// decode checks the type of each field of c.
func (c *segmentCall) decode() (f segmentCallFields, err error) {
	for _, s := range []struct {
		field string
		raw   json.RawMessage
		dst   *string
	}{
		{"type", c.Type, &f.Type},
		{"event", c.Event, &f.Event},
		{"messageId", c.MessageID, &f.MessageID},
		{"timestamp", c.Timestamp, &f.Timestamp},
	} {
		if *s.dst, err = segmentString(s.field, s.raw); err != nil {
			return f, err
		}
	}
	if raw := bytes.TrimSpace(c.Properties); len(raw) > 0 && string(raw) != "null" {
		if raw[0] != '{' {
			return f, invalid("properties", string(raw), "must be an object")
		}
		f.Properties = make(map[string]json.RawMessage)
		err := strictObject(raw, "properties.", segmentPropKeys, func(key string, val []byte) error {
			f.Properties[key] = val
			return nil
		})
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// segmentString reads a field that must be a JSON string; absent and null
// give "".
func segmentString(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] != '"' {
		return "", invalid(field, string(raw), "must be a string")
	}
	return stringField(field, raw)
}

// segmentEvent converts one call; ok is false for a call that is skipped.
func segmentEvent(raw json.RawMessage) (e Event, ok bool, err error) {
	var call segmentCall
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return e, false, invalid("json", string(raw), "is not a Segment call object")
	}
	err = strictObject(raw, "", segmentCallKeys, func(key string, val []byte) error {
		if dst := call.field(key); dst != nil {
			*dst = val
		}
		return nil
	})
	if err != nil {
		return e, false, err
	}
	c, err := call.decode()
	if err != nil {
		return e, false, err
	}
	var name string
	switch c.Type {
	case "track":
		if c.Event == "" {
			return e, false, invalid("event", "", "is missing on a track call")
		}
		name = c.Event
		e.Type = segmentType(c.Event)
		if checkType(e.Type) != nil {
			return e, false, invalid("event", c.Event, "cannot be turned into an event type (at most "+strconv.Itoa(MaxTypeLen-len("segment."))+" bytes of letters, digits and separators)")
		}
	case "page", "screen":
		name = c.Type
		e.Type = SiteVisited
	case "identify", "group", "alias":
		return e, false, nil
	case "":
		return e, false, invalid("type", "", "is missing")
	default:
		return e, false, invalid("type", c.Type, `must be "track", "page", "screen", "identify", "group" or "alias"`)
	}
	e.ID = c.MessageID
	customerField := "userId"
	e.CustomerID, err = segmentID("userId", call.UserID)
	if err != nil {
		return e, false, err
	}
	// anonymousId is checked even when userId is set: a call whose
	// anonymousId is of the wrong type is refused, not half read.
	anon, err := segmentID("anonymousId", call.AnonymousID)
	if err != nil {
		return e, false, err
	}
	if e.CustomerID == "" {
		customerField, e.CustomerID = "anonymousId", anon
		if e.CustomerID == "" {
			return e, false, invalid("userId", "", "is missing, and so is anonymousId")
		}
	}
	if c.Timestamp == "" {
		return e, false, invalid("timestamp", "", "is missing")
	}
	var reason string
	if e.Time, reason = parseTime(c.Timestamp); reason != "" {
		return e, false, invalid("timestamp", c.Timestamp, reason)
	}
	amountField, err := segmentMoney(&e, c.Properties)
	if err != nil {
		return e, false, err
	}
	referrerField := "properties.referrer_id"
	for _, k := range []string{"referrer_id", "referrerId"} {
		v, ok := c.Properties[k]
		if !ok {
			continue
		}
		id, err := segmentID("properties."+k, v)
		switch {
		case err != nil:
			return e, false, err
		case id != "" && e.ReferrerID != "" && id != e.ReferrerID:
			return e, false, invalid("properties."+k, id, "differs from properties.referrer_id "+strconv.Quote(e.ReferrerID)+": which referrer is meant?")
		case id != "" && e.ReferrerID == "":
			e.ReferrerID, referrerField = id, "properties."+k
		}
	}
	e.Attrs = map[string]string{SegmentEventAttr: name}
	for _, k := range segmentAttrs {
		v, ok, err := scalar("properties."+k, c.Properties[k])
		if err != nil {
			return e, false, err
		}
		if ok {
			e.Attrs[k] = v
		}
	}
	if err := e.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			f := ve.Field
			switch {
			case f == "id":
				f = "messageId"
			case f == "customer_id":
				f = customerField
			case f == "time":
				f = "timestamp"
			case f == "type":
				f = "event"
			case f == "referrer_id":
				f = referrerField
			case f == "amount":
				f = amountField
			case f == "currency":
				f = "properties.currency"
			case f == "attrs."+SegmentEventAttr:
				f = "event"
			case f == "attrs."+ScoreAttr && ve.Value == "" && len(bytes.TrimSpace(c.Properties[ScoreAttr])) > 0:
				// Sent, but not as a string or a number: dropped from
				// Attrs above, so Validate found it missing.
				raw := string(bytes.TrimSpace(c.Properties[ScoreAttr]))
				reason := "must be an integer from 0 to 10"
				if raw == "null" {
					reason = ve.Reason
				}
				return e, false, invalid("properties."+ScoreAttr, raw, reason)
			case strings.HasPrefix(f, "attrs"):
				f = "properties" + strings.TrimPrefix(f, "attrs")
			}
			return e, false, &ValidationError{Field: f, Value: ve.Value, Reason: ve.Reason}
		}
		return e, false, err
	}
	return e, true, nil
}

// segmentType maps a track call's event name to an event type.
func segmentType(name string) EventType {
	if t, ok := SegmentTypes[name]; ok {
		return t
	}
	snake := snakeCase(name)
	if t := EventType(snake); t.Standard() && t != ReferralConverted {
		return t
	}
	return EventType("segment." + snake)
}

// snakeCase lower-cases ASCII letters, keeps ASCII digits and turns every
// run of other characters between them into one underscore, dropping
// those at both ends. Non-ASCII bytes count as other characters.
func snakeCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			sep = b.Len() > 0
			continue
		}
		if sep {
			b.WriteByte('_')
			sep = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// segmentID reads an identifier that may be a JSON string or integer.
func segmentID(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		return stringField(field, raw)
	}
	if isJSONInteger(raw) {
		return string(raw), nil
	}
	return "", invalid(field, string(raw), "must be a string or an integer")
}

// isJSONInteger reports whether raw is a JSON number without a fraction
// or an exponent, of any size.
func isJSONInteger(raw []byte) bool {
	if len(raw) > 0 && raw[0] == '-' {
		raw = raw[1:]
	}
	if len(raw) == 0 || (raw[0] == '0' && len(raw) > 1) {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// scalar returns a JSON string's value or a number's text; ok is false
// for any other value. A string that is not valid UTF-8 is an error
// naming field.
func scalar(field string, raw json.RawMessage) (v string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false, nil
	}
	if raw[0] == '"' {
		s, err := stringField(field, raw)
		return s, err == nil, err
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return string(raw), true, nil
	}
	return "", false, nil
}

// segmentMoney sets e's Amount and Currency from properties.total (or
// revenue) and properties.currency. It returns the Segment field the
// amount came from.
func segmentMoney(e *Event, props map[string]json.RawMessage) (string, error) {
	field := "properties.total"
	raw, ok := props["total"]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		field = "properties.revenue"
		raw, ok = props["revenue"]
	}
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return field, nil
	}
	num, err := numberText(raw)
	if err != nil {
		return field, invalid(field, string(raw), err.Error())
	}
	cur := ""
	if rc, ok := props["currency"]; ok {
		if cur, err = segmentString("properties.currency", rc); err != nil {
			return field, err
		}
	}
	if cur == "" {
		return field, invalid("properties.currency", "", "is required when "+field+" is set")
	}
	if upper := asciiUpper(cur); validCurrency(upper) {
		cur = upper
	} else {
		return field, invalid("properties.currency", cur, "must be an ISO 4217 code of three letters")
	}
	digits, neg := strings.CutPrefix(num, "-")
	amt, reason := parseMinor(digits, cur)
	switch {
	case neg && e.Type != OrderRefunded && (reason != "" || amt != 0): // −0 is 0
		return field, invalid(field, num, "must not be negative")
	case reason != "":
		return field, invalid(field, num, reason)
	}
	e.Amount, e.Currency = amt, cur
	return field, nil
}

// asciiUpper upper-cases the ASCII letters of s, and only those.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// numberText returns the text of a JSON number, or of a number held in a
// JSON string.
func numberText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var reason string
		if s, reason = jsonString(raw); reason != "" {
			return "", errors.New(reason)
		}
		s = strings.TrimSpace(s)
	}
	if !json.Valid([]byte(s)) || s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return "", errors.New("must be a number")
	}
	return s, nil
}

// minorUnits lists ISO 4217 currencies whose minor unit is not 2 digits.
var minorUnits = map[string]int{
	// no minor unit
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0,
	"XAF": 0, "XOF": 0, "XPF": 0,
	// thousandths
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// ten-thousandths
	"CLF": 4, "UYW": 4,
}

// MinorUnits returns how many decimal digits the currency's minor unit has
// under ISO 4217: 0 for JPY, KRW, CLP and the other currencies without a
// minor unit, 3 for BHD, IQD, JOD, KWD, LYD, OMR and TND, 4 for CLF and UYW,
// and 2 for every other code. The code is read in any letter case ("jpy"
// is JPY).
func MinorUnits(currency string) int {
	if n, ok := minorUnits[currency]; ok {
		return n
	}
	if n, ok := minorUnits[asciiUpper(currency)]; ok {
		return n
	}
	return 2
}

// ParseMinor converts a non-negative decimal amount in major units, such
// as "49.99", "1e3" or "0.5", into minor units of the currency, exactly
// ("49.99" EUR is 4999, "1500" JPY is 1500, "1.250" KWD is 1250). The text
// is a JSON number without a sign. It is an error for the text not to be
// one, for the amount to have non-zero digits below the currency's minor
// unit ("0.001" EUR) or to exceed the int64 range: a *[ValidationError]
// on "amount" naming num, wrapping [ErrInvalidEvent].
func ParseMinor(num, currency string) (int64, error) {
	n, reason := parseMinor(num, currency)
	if reason != "" {
		return 0, invalid("amount", num, reason)
	}
	return n, nil
}

// parseMinor is ParseMinor, with the reason the text is refused ("" when
// it is not).
func parseMinor(num, currency string) (int64, string) {
	mant, exp, err := splitDecimal(num)
	if err != nil {
		return 0, err.Error()
	}
	exp += MinorUnits(currency)
	mant = strings.TrimLeft(mant, "0")
	if mant == "" {
		return 0, ""
	}
	if exp < 0 {
		if cut := max(0, len(mant)+exp); -exp > len(mant) || strings.Trim(mant[cut:], "0") != "" {
			return 0, "has more decimal places than " + currency + "'s " + strconv.Itoa(MinorUnits(currency))
		}
		mant = mant[:len(mant)+exp]
		exp = 0
	}
	if len(mant)+exp > 19 {
		return 0, "is too large"
	}
	mant += strings.Repeat("0", exp)
	n, err := strconv.ParseInt(mant, 10, 64)
	if err != nil {
		return 0, "is too large"
	}
	return n, ""
}

// splitDecimal splits an unsigned JSON number into its digits and a power
// of ten: "49.99" is ("4999", -2), "1.5e3" is ("15", 2).
func splitDecimal(s string) (string, int, error) {
	bad := errors.New("must be a non-negative decimal number")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", 0, bad
	}
	intPart, frac := s[:i], ""
	if i > 1 && s[0] == '0' { // JSON has no leading zeros
		return "", 0, bad
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return "", 0, bad
		}
		frac, i = s[i+1:j], j
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		neg := j < len(s) && s[j] == '-'
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		// The exponent's digits, however many: its value stops growing
		// past limit, where no digits of s can bring the amount back into
		// range (they shift it by fewer than len(s) places).
		limit := 1000 + len(s)
		k, e := j, 0
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			if e <= limit {
				e = e*10 + int(s[k]-'0')
			}
			k++
		}
		if k == j {
			return "", 0, bad
		}
		if neg {
			e = -e
		}
		if e > limit || e < -limit {
			if strings.Trim(intPart+frac, "0") == "" {
				return "0", 0, nil
			}
			if e < -limit {
				// A non-zero amount below 10^−1000: an exponent that
				// leaves more decimal places than any currency has.
				return intPart + frac, -1 << 30, nil
			}
			return "", 0, errors.New("is out of range")
		}
		exp, i = e, k
	}
	if i != len(s) {
		return "", 0, bad
	}
	return intPart + frac, exp - len(frac), nil
}
