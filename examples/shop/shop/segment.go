package shop

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"

	"github.com/clmkit/clm/lifecycle"
)

// segmentCallTypes are the values of "type" that mark a Segment call.
var segmentCallTypes = map[string]bool{"track": true, "page": true, "screen": true, "identify": true, "group": true, "alias": true}

// segmentCall lists every field a Segment call may carry: the fields of
// Segment's spec (common fields and those of each call type), those
// Segment's own libraries and servers add (writeKey, _metadata,
// projectId), and the envelope fields RudderStack adds to the same calls
// (rudderId, request_ip; channel, sentAt, receivedAt and
// originalTimestamp it shares with Segment). It is decoded only to refuse
// unknown fields and strings of the wrong JSON type;
// [lifecycle.FromSegment] does the conversion, which reads none of the
// envelope fields: the event's time is "timestamp" alone.
type segmentCall struct {
	Type              string          `json:"type"`
	Event             string          `json:"event"`
	Name              json.RawMessage `json:"name"`
	Category          json.RawMessage `json:"category"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	GroupID           json.RawMessage `json:"groupId"`
	PreviousID        json.RawMessage `json:"previousId"`
	MessageID         string          `json:"messageId"`
	Timestamp         string          `json:"timestamp"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           json.RawMessage `json:"context"`
	Integrations      json.RawMessage `json:"integrations"`
	Channel           json.RawMessage `json:"channel"`
	Version           json.RawMessage `json:"version"`
	SentAt            json.RawMessage `json:"sentAt"`
	ReceivedAt        json.RawMessage `json:"receivedAt"`
	OriginalTimestamp json.RawMessage `json:"originalTimestamp"`
	WriteKey          json.RawMessage `json:"writeKey"`
	Metadata          json.RawMessage `json:"_metadata"` // added by analytics-node and analytics.js
	ProjectID         json.RawMessage `json:"projectId"` // the Segment source, on calls Segment forwards
	RudderID          json.RawMessage `json:"rudderId"`  // RudderStack's identity of the user
	RequestIP         json.RawMessage `json:"request_ip"`
}

// segmentFields maps the library's field names to a Segment call's, for
// errors found after conversion (a time too far in the future).
var segmentFields = map[string]string{
	"id": "messageId", "customer_id": "userId", "type": "event", "time": "timestamp",
	"amount": "properties.total", "currency": "properties.currency", "referrer_id": "properties.referrer_id",
}

// anonymousFields is segmentFields for a call whose customer is its
// anonymousId (it has no userId, or an empty one: see
// [lifecycle.FromSegment]).
var anonymousFields = func() map[string]string {
	m := maps.Clone(segmentFields)
	m["customer_id"] = "anonymousId"
	return m
}()

// isSegment reports whether a JSON object is a Segment call: its "type"
// is one of the Segment call types, or it has a userId, anonymousId or
// messageId (which the library's event form has not), so that a call with
// a type Segment does not define is refused on its type, not on those.
func isSegment(raw json.RawMessage) bool {
	// Keys as sent: encoding/json would match "MessageId" to messageId.
	keys, vals, err := objectKeys(raw)
	if err != nil {
		return false
	}
	for i, k := range keys {
		switch k {
		case "userId", "anonymousId", "messageId":
			return true
		case "type":
			var t string
			if json.Unmarshal(vals[i], &t) == nil && segmentCallTypes[t] {
				return true
			}
		}
	}
	return false
}

// segmentKeys are the JSON names of segmentCall's fields.
var segmentKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[segmentCall]()
	for i := range t.NumField() {
		keys[t.Field(i).Tag.Get("json")] = true
	}
	return keys
}()

// decodeSegment converts one Segment call with [lifecycle.FromSegment],
// after refusing fields Segment does not define, field names in another
// case (encoding/json would match "MESSAGEID" to messageId) and fields
// given twice (it would keep the last).
func decodeSegment(raw json.RawMessage) decoded {
	d := decoded{fields: segmentFields}
	keys, vals, err := objectKeys(raw)
	if err != nil {
		d.err, d.malformed = newFieldError("", "", "malformed JSON: "+err.Error()), true
		return d
	}
	for i, k := range keys {
		switch {
		case !segmentKeys[k]:
			d.err = newFieldError(k, sentValue(vals[i]), "is not a known field (field names are case-sensitive)")
		case slices.Contains(keys[:i], k):
			d.err = newFieldError(k, sentValue(vals[i]), "is given twice")
		default:
			continue
		}
		d.malformed = true
		return d
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var call segmentCall
	if err := dec.Decode(&call); err != nil {
		d.err = jsonFieldError(err, "timestamp")
		if i := slices.Index(keys, d.err.Field); i >= 0 && d.err.Value == "" {
			// A value of the wrong JSON type, named as sent.
			d.err = newFieldError(d.err.Field, sentValue(vals[i]), d.err.Reason)
		}
		d.malformed = true
		return d
	}
	// The customer is the anonymousId when userId is absent, null or "".
	var uid string
	if call.UserID == nil || string(call.UserID) == "null" || json.Unmarshal(call.UserID, &uid) == nil && uid == "" {
		d.fields = anonymousFields
	}
	evs, err := lifecycle.FromSegment(raw)
	var ve *lifecycle.ValidationError
	switch {
	case errors.As(err, &ve):
		d.err = newFieldError(ve.Field, ve.Value, ve.Reason)
	case err != nil:
		d.err = newFieldError("", "", err.Error())
	case len(evs) == 0:
		d.skipped = true
	default:
		d.event = evs[0]
	}
	return d
}
