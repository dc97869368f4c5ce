package lifecycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxBatch is the most events [DecodeEvents] accepts in one JSON array.
const MaxBatch = 10_000

// The Field of a [ValidationError] about the JSON document as a whole
// (not JSON, not an object or array, data after the value, too many
// events) rather than about one of its fields.
const jsonField = "json"

// MarshalJSON writes the stable JSON form of an event (see [Event]), as
// encoding/json would from the struct's tags, with one difference: a time
// whose zone offset is not a whole number of minutes (the local mean
// times some zones used before about 1940, such as Amsterdam's +00:19:32),
// or is 24 hours or more either way (no zone's is; a [time.FixedZone] can
// be), cannot be written in RFC 3339, whose offsets have no seconds and
// fewer than 24 hours, so it is written in UTC instead: the same instant,
// never one shifted by the lost seconds. So is a time whose year in its
// own zone is outside 0–9999, which RFC 3339 cannot write either (such as
// 9999-12-31T23:30Z seen at +01:00, an instant Validate accepts). Every
// other time keeps its offset, to the nanosecond. A time whose UTC year is
// outside 0–9999 too (one Validate refuses) cannot be written at all:
// MarshalJSON returns an error, as encoding/json does for a time.Time.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // the same fields and tags, without this method
	p := plain(e)
	if _, off := e.Time.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 || e.Time.Year() < 0 || e.Time.Year() > 9999 {
		p.Time = e.Time.UTC()
	}
	return json.Marshal(p)
}

// UnmarshalJSON decodes the stable JSON form of an event (see [Event])
// strictly, so that what is decoded is exactly what was sent:
//
//   - data must be one JSON object, with nothing but white space after
//     it; null, arrays and other values are refused.
//   - Field names match exactly ("id", not "ID"); a field the form does
//     not have is refused, as is a field given twice. (encoding/json
//     would match names case-insensitively, ignore unknown fields and
//     keep the last of two.)
//   - id, customer_id, type, currency and referrer_id are JSON strings;
//     time is a JSON string holding an RFC 3339 time, such as
//     "2026-03-01T10:00:00Z" or "2026-03-01T11:00:00.5+01:00", its
//     offset kept: exactly that layout, with at most nine digits of
//     fraction after a full stop and an offset from -23:59 to +23:59
//     (no "+00:60", no comma before the fraction), with an upper-case T
//     and Z and seconds 00 to 59 (RFC 3339 also allows a lower-case t and
//     z, and a leap second, :60, which a time.Time cannot hold: both are
//     refused); amount is a JSON integer in minor
//     units (4999 for 49.99 EUR): a fraction (49.99), an exponent (5e3)
//     or a value outside the int64 range is refused; attrs is an object
//     whose values are strings, its keys given once each.
//   - Every string, field names and attrs keys included, must be valid
//     UTF-8, and a \u escape of a UTF-16 surrogate must be half of a
//     pair: such strings are refused, where encoding/json would replace
//     the bad bytes with U+FFFD.
//   - A field whose value is null is treated as absent.
//
// Fields absent from data are left at their zero value: UnmarshalJSON
// replaces all of *e (encoding/json would keep the earlier values of
// absent fields), and leaves *e unchanged when it returns an error. It
// checks the form only, not the rules of [Event.Validate]: {} decodes
// without error to an empty event, which Validate refuses.
//
// Every error is a *[ValidationError] wrapping [ErrInvalidEvent]. Its
// Field is the JSON field at fault: the field's name for a wrong type,
// an unknown or duplicate field or a string that is not valid UTF-8
// ("time" for "time": 123, with Reason "must be an RFC 3339 string");
// "attrs." and the key for an attrs entry; "json" for data that is not
// JSON, not an object or has data after the object. Field names longer
// than 64 bytes are cut short, and bytes that are not UTF-8 in them are
// shown as U+FFFD. Value holds the offending text (a string's content;
// the JSON text of a value of the wrong type, or of an unknown or
// duplicate field's value, quotes included for a string), cut to 64
// bytes.
//
// [json.Unmarshal] and [json.Decoder] call UnmarshalJSON, so both decode
// events strictly; they report JSON syntax errors themselves, as a
// *[json.SyntaxError], before calling it.
func (e *Event) UnmarshalJSON(data []byte) error {
	if err := checkJSON(data); err != nil {
		return err
	}
	ev, err := decodeEvent(data)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// DecodeEvents decodes one event object, or a JSON array of event
// objects, each as [Event.UnmarshalJSON] does, and returns the events in
// order; one object gives a slice of one event.
//
// A batch is decoded whole or not at all: if any element is refused,
// DecodeEvents returns no events and an error joining, in order, one error
// per refused element, "event 3: " (the element's index, counted from 0)
// followed by that element's error.
// Every element error, and the joined error, matches
// errors.Is(err, [ErrInvalidEvent]), and errors.As finds the first
// element's *[ValidationError]. An array of more than [MaxBatch]
// elements, input that is empty, not JSON, or neither an object nor an
// array (null included), or has data after the value is refused with a
// *ValidationError whose Field is "json".
//
// An empty array is not an error: it gives an empty, non-nil slice and a
// nil error, as there is nothing wrong to report. DecodeEvents does not
// call [Event.Validate], and does not limit the size of data: limit what
// you read (for example with [net/http.MaxBytesReader]) before calling it.
func DecodeEvents(data []byte) ([]Event, error) {
	if err := checkJSON(data); err != nil {
		return nil, err
	}
	i := skipSpace(data, 0)
	switch data[i] {
	case '{':
		e, err := decodeEvent(data)
		if err != nil {
			return nil, err
		}
		return []Event{e}, nil
	case '[':
	default:
		return nil, invalid(jsonField, string(data[i:]), "must be an event object or an array of event objects")
	}
	var raws [][]byte
	i = skipSpace(data, i+1)
	for data[i] != ']' {
		if len(raws) == MaxBatch {
			return nil, invalid(jsonField, "more than "+strconv.Itoa(MaxBatch)+" events", "has more events than MaxBatch ("+strconv.Itoa(MaxBatch)+"); split the batch")
		}
		end := skipValue(data, i)
		raws = append(raws, data[i:end])
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	events := make([]Event, len(raws))
	var errs []error
	for n, raw := range raws {
		e, err := decodeEvent(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", n, err))
			continue
		}
		events[n] = e
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return events, nil
}

// checkJSON returns a *ValidationError unless data is one well-formed
// JSON value with only white space around it. The scanners below rely on
// it: they index data without bounds checks of their own.
func checkJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return invalid(jsonField, "", "is empty")
	}
	// Find out what is wrong. A Decoder stops after the first value, which
	// tells trailing data from a malformed value.
	dec := json.NewDecoder(bytes.NewReader(data))
	var first json.RawMessage
	if err := dec.Decode(&first); err == nil {
		off := int(dec.InputOffset())
		return invalid(jsonField, string(bytes.TrimSpace(data[off:])), "has data after the JSON value at byte "+strconv.Itoa(off))
	}
	err := json.Unmarshal(data, &first)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalid(jsonField, string(data), "is not valid JSON: "+se.Error()+" at byte "+strconv.FormatInt(se.Offset, 10))
	}
	return invalid(jsonField, string(data), "is not valid JSON")
}

// decodeEvent decodes one event object from data, which checkJSON has
// accepted.
func decodeEvent(data []byte) (Event, error) {
	var e Event
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return e, invalid(jsonField, string(data[i:]), "must be a JSON object")
	}
	var seen [8]bool // one per field, in the order of fieldIndex
	err := eachMember(data, i, func(key, val []byte) error {
		name, err := jsonKey(key, "")
		if err != nil {
			return err
		}
		f, ok := fieldIndex(name)
		if !ok {
			return invalid(fieldName(name, ""), string(val), "unknown field")
		}
		if seen[f] {
			return invalid(name, string(val), "duplicate key")
		}
		seen[f] = true
		if string(val) == "null" {
			return nil
		}
		switch name {
		case "id":
			e.ID, err = stringField(name, val)
		case "customer_id":
			e.CustomerID, err = stringField(name, val)
		case "type":
			var s string
			s, err = stringField(name, val)
			e.Type = EventType(s)
		case "time":
			e.Time, err = timeField(val)
		case "amount":
			e.Amount, err = amountField(val)
		case "currency":
			e.Currency, err = stringField(name, val)
		case "referrer_id":
			e.ReferrerID, err = stringField(name, val)
		case "attrs":
			e.Attrs, err = attrsField(val)
		}
		return err
	})
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

// fieldIndex numbers the fields of the JSON form.
func fieldIndex(name string) (int, bool) {
	switch name {
	case "id":
		return 0, true
	case "customer_id":
		return 1, true
	case "type":
		return 2, true
	case "time":
		return 3, true
	case "amount":
		return 4, true
	case "currency":
		return 5, true
	case "referrer_id":
		return 6, true
	case "attrs":
		return 7, true
	}
	return 0, false
}

// eachMember calls fn with the raw key (quotes included) and raw value of
// each member of the object starting at data[i], in order, and stops at
// the first error.
func eachMember(data []byte, i int, fn func(key, val []byte) error) error {
	i = skipSpace(data, i+1) // past '{'
	for data[i] != '}' {
		kend := skipString(data, i)
		key := data[i:kend]
		i = skipSpace(data, skipSpace(data, kend)+1) // past ':'
		vend := skipValue(data, i)
		if err := fn(key, data[i:vend]); err != nil {
			return err
		}
		i = skipSpace(data, vend)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return nil
}

func stringField(field string, val []byte) (string, error) {
	if val[0] != '"' {
		return "", invalid(field, string(val), "must be a string")
	}
	s, reason := jsonString(val)
	if reason != "" {
		return "", invalid(field, string(val[1:len(val)-1]), reason)
	}
	return s, nil
}

func timeField(val []byte) (time.Time, error) {
	var t time.Time
	if val[0] != '"' {
		return t, invalid("time", string(val), "must be an RFC 3339 string")
	}
	s, err := stringField("time", val)
	if err != nil {
		return t, err
	}
	t, reason := parseTime(s)
	if reason != "" {
		return time.Time{}, invalid("time", s, reason)
	}
	return t, nil
}

// parseTime parses an RFC 3339 time strictly, as every path that reads a
// time from text does (the JSON form and [FromSegment]): exactly
// YYYY-MM-DDTHH:MM:SS, then optionally "." and 1 to 9 digits of fraction,
// then "Z" or an offset ±HH:MM from -23:59 to +23:59, with upper-case T
// and Z. It returns the time, offset kept, or a reason instead. (The
// time package is laxer: it takes "+00:60" as +01:00 and offsets of 24
// hours or more, a comma before the fraction, and more than nine
// fraction digits, cutting the rest.)
func parseTime(s string) (time.Time, string) {
	const form = "must be an RFC 3339 time such as 2026-03-01T10:00:00Z or 2026-03-01T11:00:00.5+01:00"
	n := len(s)
	if n < 20 || !digits(s[0:4]) || s[4] != '-' || !digits(s[5:7]) || s[7] != '-' || !digits(s[8:10]) ||
		s[10] != 'T' || !digits(s[11:13]) || s[13] != ':' || !digits(s[14:16]) || s[16] != ':' || !digits(s[17:19]) {
		return time.Time{}, form
	}
	i := 19
	if s[i] == '.' || s[i] == ',' {
		if s[i] == ',' {
			return time.Time{}, "has a comma before the fraction of a second; RFC 3339 has a full stop"
		}
		j := i + 1
		for j < n && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		switch {
		case j == i+1:
			return time.Time{}, form
		case j-i-1 > 9:
			return time.Time{}, "has more than 9 digits of fraction (nanoseconds are the finest time kept)"
		}
		i = j
	}
	switch {
	case i+1 == n && s[i] == 'Z':
	case i+6 == n && (s[i] == '+' || s[i] == '-') && digits(s[i+1:i+3]) && s[i+3] == ':' && digits(s[i+4:i+6]):
		if s[i+1:i+3] > "23" || s[i+4:i+6] > "59" {
			return time.Time{}, "has a UTC offset outside -23:59 to +23:59 (hours 00 to 23, minutes 00 to 59)"
		}
	default:
		return time.Time{}, form
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, "is not a valid date and time of day (months 01 to 12, days that exist in the month, hours 00 to 23, minutes and seconds 00 to 59)"
	}
	return t, ""
}

// digits reports whether s is non-empty and all ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func amountField(val []byte) (int64, error) {
	c := val[0]
	if c != '-' && (c < '0' || c > '9') {
		return 0, invalid("amount", string(val), "must be a JSON integer in minor units (4999 for 49.99)")
	}
	if bytes.ContainsAny(val, ".eE") {
		return 0, invalid("amount", string(val), "must be an integer in minor units (4999 for 49.99), without a fraction or exponent")
	}
	n, err := strconv.ParseInt(string(val), 10, 64)
	if err != nil {
		return 0, invalid("amount", string(val), "is outside the int64 range of minor units")
	}
	return n, nil
}

func attrsField(val []byte) (map[string]string, error) {
	if val[0] != '{' {
		return nil, invalid("attrs", string(val), "must be an object of strings")
	}
	attrs := map[string]string{}
	err := eachMember(val, 0, func(key, v []byte) error {
		k, err := jsonKey(key, "attrs.")
		if err != nil {
			return err
		}
		field := fieldName(k, "attrs.")
		if _, dup := attrs[k]; dup {
			return invalid(field, string(v), "duplicate key")
		}
		s, err := stringField(field, v)
		if err != nil {
			return err
		}
		attrs[k] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return attrs, nil
}

// jsonKey decodes an object key; prefix is the Field prefix of its object.
func jsonKey(raw []byte, prefix string) (string, error) {
	s, reason := jsonString(raw)
	if reason != "" {
		content := string(raw[1 : len(raw)-1])
		return "", invalid(fieldName(content, prefix), content, "the key "+reason)
	}
	return s, nil
}

// fieldName is the Field of an error about the member named key: the key
// with bytes that are not UTF-8 shown as U+FFFD, cut to 64 bytes at a
// character boundary, after prefix; the empty key is named `""`.
func fieldName(key, prefix string) string {
	if key == "" {
		return prefix + `""`
	}
	key = strings.ToValidUTF8(key, "\uFFFD")
	if len(key) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "…"
	}
	return prefix + key
}

// jsonString decodes a JSON string (quotes included) that json.Valid has
// accepted. It returns a reason instead when the string holds bytes that
// are not UTF-8 or an unpaired surrogate escape.
func jsonString(raw []byte) (string, string) {
	content := raw[1 : len(raw)-1]
	if !utf8.Valid(content) {
		return "", "is not valid UTF-8"
	}
	if bytes.IndexByte(content, '\\') < 0 {
		return string(content), ""
	}
	for i := 0; i < len(content); i++ {
		if content[i] != '\\' {
			continue
		}
		i++
		if content[i] != 'u' {
			continue
		}
		r := hex4(content[i+1 : i+5])
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+6 < len(content) && content[i+1] == '\\' && content[i+2] == 'u' {
				if lo := hex4(content[i+3 : i+7]); lo >= 0xDC00 && lo < 0xE000 {
					i += 6
					continue
				}
			}
			return "", "is not valid UTF-8 (an unpaired UTF-16 surrogate escape)"
		case r >= 0xDC00 && r < 0xE000:
			return "", "is not valid UTF-8 (an unpaired UTF-16 surrogate escape)"
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", "is not a valid JSON string"
	}
	return s, ""
}

// hex4 returns the value of four hexadecimal digits.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the JSON string starting at
// data[i].
func skipString(data []byte, i int) int {
	for i++; ; i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index just after the JSON value starting at
// data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}
