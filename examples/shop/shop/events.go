package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Result statuses of POST /v1/events.
const (
	statusApplied    = "applied"
	statusDuplicate  = "duplicate"
	statusRejected   = "rejected"
	statusNotApplied = "not_applied"
	statusFailed     = "failed"
	statusSkipped    = "skipped"
)

// eventsAnswer is the body of every POST /v1/events answer.
type eventsAnswer struct {
	Error    *errorBody    `json:"error,omitempty"`
	Accepted int           `json:"accepted"` // applied or duplicate
	Results  []eventResult `json:"results"`
}

type eventResult struct {
	Index      int         `json:"index"`
	ID         string      `json:"id,omitempty"`
	CustomerID string      `json:"customer_id,omitempty"`
	Status     string      `json:"status"`
	From       stage.ID    `json:"from,omitempty"`
	To         stage.ID    `json:"to,omitempty"`
	Moved      *bool       `json:"moved,omitempty"` // set for applied and duplicate events
	Version    uint64      `json:"version,omitempty"`
	Error      *fieldError `json:"error,omitempty"`
}

// fieldError says what is wrong with one event, naming the field as the
// client sent it (a Segment field for a track call).
type fieldError struct {
	Field   string `json:"field"` // "" for an error about the whole event
	Value   string `json:"value"` // "" for a missing field
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func newFieldError(field, value, reason string) *fieldError {
	msg := reason
	if field != "" {
		msg = field + ": " + reason
		if value != "" {
			msg = field + " " + strconv.Quote(value) + ": " + reason
		}
	}
	return &fieldError{Field: field, Value: value, Reason: reason, Message: msg}
}

// decoded is one event of a request, with the names its fields had on
// the wire.
type decoded struct {
	event     lifecycle.Event
	fields    map[string]string // library field → wire field; nil: same names
	err       *fieldError
	malformed bool // err is about the JSON, not the event's values
	skipped   bool // a Segment call that records nothing (identify, group, alias)
}

// setErr records a validation error, naming the field as sent.
func (d *decoded) setErr(err error) {
	var ve *lifecycle.ValidationError
	if errors.As(err, &ve) {
		d.err = newFieldError(d.wireField(ve.Field), ve.Value, ve.Reason)
		return
	}
	d.err = newFieldError("", "", err.Error())
}

func (d *decoded) wireField(f string) string {
	if w, ok := d.fields[f]; ok {
		return w
	}
	if rest, ok := strings.CutPrefix(f, "attrs."); ok && d.fields != nil {
		return "properties." + rest
	}
	return f
}

// segmentBatchFields are the fields of a Segment batch envelope besides
// "batch"; they are accepted and ignored. Segment's libraries send some
// of them: analytics-node "timestamp" and "sentAt", analytics-go
// "messageId", "sentAt" and "context".
var segmentBatchFields = map[string]bool{"batch": true, "context": true, "integrations": true, "sentAt": true, "timestamp": true, "messageId": true, "writeKey": true, "metadata": true}

func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			s.eventsError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type "+strconv.Quote(ct)+" is not application/json")
			return
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			s.eventsError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "charset "+strconv.Quote(cs)+" is not supported; send the body in UTF-8")
			return
		}
	}
	// The body is read as it is sent: a compressed one would be taken
	// for malformed JSON.
	for _, ce := range r.Header.Values("Content-Encoding") {
		for _, enc := range strings.Split(ce, ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "identity") {
				s.eventsError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Encoding "+strconv.Quote(enc)+" is not supported; send the body uncompressed")
				return
			}
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.eventsError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is larger than %d bytes", s.maxBody))
			return
		}
		s.eventsError(w, http.StatusBadRequest, "bad_body", "reading the body: "+err.Error())
		return
	}
	raws, msg := splitBody(data)
	if msg != "" {
		s.eventsError(w, http.StatusBadRequest, "malformed_json", msg)
		return
	}
	if len(raws) > s.maxBatch {
		s.eventsError(w, http.StatusRequestEntityTooLarge, "too_many_events", fmt.Sprintf("the request holds %d events; the limit is %d", len(raws), s.maxBatch))
		return
	}

	ds := make([]decoded, len(raws))
	malformed, invalid := 0, 0
	for i, raw := range raws {
		ds[i] = decodeEvent(raw)
		switch {
		case ds[i].malformed:
			malformed++
		case ds[i].err != nil:
			invalid++
		}
	}
	ans := eventsAnswer{Results: make([]eventResult, len(ds))}
	if malformed+invalid > 0 {
		// Refuse the request, but report every bad event: validate the
		// others as recording would.
		for i := range ds {
			if ds[i].err == nil && !ds[i].skipped {
				if err := s.t.Validate(&ds[i].event); err != nil {
					ds[i].setErr(err)
					invalid++
				}
			}
		}
		s.refuse(w, ds, &ans, malformed, invalid)
		return
	}

	events := make([]lifecycle.Event, 0, len(ds))
	index := make([]int, 0, len(ds)) // events[k] is request event index[k]
	for i := range ds {
		ans.Results[i] = eventResult{Index: i, ID: ds[i].event.ID, CustomerID: ds[i].event.CustomerID, Status: statusSkipped}
		if !ds[i].skipped {
			events = append(events, ds[i].event)
			index = append(index, i)
		}
	}
	results, batchErr := s.t.RecordBatch(r.Context(), events)
	failed := 0
	var failure error
	for k, res := range results {
		i := index[k]
		out := eventResult{Index: i, ID: res.EventID, CustomerID: res.CustomerID}
		switch {
		case res.Err == nil:
			out.Status = statusApplied
			if res.Duplicate {
				out.Status = statusDuplicate
			}
			moved := res.Moved
			out.From, out.To, out.Moved, out.Version = res.From, res.To, &moved, res.Version
			ans.Accepted++
		case errors.Is(res.Err, lifecycle.ErrInvalidEvent):
			// Validated above; only a clock that moved can get here.
			ds[i].setErr(res.Err)
			invalid++
		default:
			failed++
			failure = res.Err
			out.Status = statusFailed
			out.Error = &fieldError{Reason: "not stored; retry the request", Message: res.Err.Error()}
		}
		ans.Results[i] = out
	}
	switch {
	case invalid > 0:
		ans = eventsAnswer{Results: make([]eventResult, len(ds))}
		s.refuse(w, ds, &ans, 0, invalid)
	case failed > 0 || batchErr != nil:
		code := http.StatusInternalServerError
		if errors.Is(failure, context.Canceled) || errors.Is(failure, context.DeadlineExceeded) || errors.Is(failure, lifecycle.ErrConflict) {
			code = http.StatusServiceUnavailable
		}
		s.log.ErrorContext(r.Context(), "shop: recording events failed", "failed", failed, "events", len(ds), "err", batchErr)
		ans.Error = &errorBody{Code: "store_failed", Message: fmt.Sprintf("%d of %d events were not stored; retrying the request is safe", failed, len(ds))}
		s.writeEvents(w, code, &ans)
	default:
		s.writeEvents(w, http.StatusAccepted, &ans)
	}
}

// refuse answers a request none of whose events was applied: 400 when an
// event could not be decoded, 422 when events are invalid.
func (s *Server) refuse(w http.ResponseWriter, ds []decoded, ans *eventsAnswer, malformed, invalid int) {
	for i := range ds {
		res := eventResult{Index: i, ID: ds[i].event.ID, CustomerID: ds[i].event.CustomerID, Status: statusNotApplied}
		switch {
		case ds[i].err != nil:
			res.Status, res.Error = statusRejected, ds[i].err
		case ds[i].skipped:
			res.Status = statusSkipped
		}
		ans.Results[i] = res
	}
	if malformed > 0 {
		ans.Error = &errorBody{Code: "malformed_event", Message: fmt.Sprintf("%d of %d events could not be decoded; none was applied", malformed, len(ds))}
		s.writeEvents(w, http.StatusBadRequest, ans)
		return
	}
	ans.Error = &errorBody{Code: "invalid_event", Message: fmt.Sprintf("%d of %d events are invalid; none was applied", invalid, len(ds))}
	s.writeEvents(w, http.StatusUnprocessableEntity, ans)
}

// eventsError answers a POST /v1/events request that holds no event
// result, counting the refusal by its code.
func (s *Server) eventsError(w http.ResponseWriter, code int, kind, msg string) {
	s.metrics.refused.WithLabelValues(kind).Inc()
	writeError(w, code, kind, msg)
}

// writeEvents answers a POST /v1/events request with its results,
// counting them by status, and the request by its error code if any.
func (s *Server) writeEvents(w http.ResponseWriter, code int, ans *eventsAnswer) {
	s.metrics.countResults(ans.Results)
	if ans.Error != nil {
		s.metrics.refused.WithLabelValues(ans.Error.Code).Inc()
	}
	writeJSON(w, code, ans)
}

// splitBody parses the body's outer shape into its events' raw JSON. It
// returns a message saying what is wrong instead.
func splitBody(data []byte) ([]json.RawMessage, string) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, "the body is empty; send an event, an array of events or {\"batch\": [...]}"
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
		}
		return nil, fmt.Sprintf("malformed JSON: %v", err)
	}
	switch data[0] {
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, "malformed JSON: " + err.Error()
		}
		if len(raws) == 0 {
			return nil, "the batch is empty"
		}
		return raws, ""
	case '{':
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, "malformed JSON: " + err.Error()
		}
		batch, ok := top["batch"]
		if !ok {
			return []json.RawMessage{data}, ""
		}
		keys, _, err := objectKeys(data)
		if err != nil {
			return nil, "malformed JSON: " + err.Error()
		}
		for i, k := range keys {
			if !segmentBatchFields[k] {
				return nil, fmt.Sprintf("unknown field %q in a Segment batch envelope (field names are case-sensitive)", k)
			}
			if slices.Contains(keys[:i], k) {
				return nil, fmt.Sprintf("field %q is given twice in a Segment batch envelope", k)
			}
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(batch, &raws); err != nil || bytes.Equal(bytes.TrimSpace(batch), []byte("null")) {
			return nil, `"batch" must be an array of track calls`
		}
		if len(raws) == 0 {
			return nil, "the batch is empty"
		}
		return raws, ""
	}
	return nil, "the body must be a JSON object or array, not " + describe(data)
}

// objectKeys returns the keys of the JSON object data (valid JSON) and
// their values, as sent, in order, duplicates included (a map would keep
// only the last).
func objectKeys(data []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, err
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, nil
}

// sentValue is a field's value as an error shows it: its JSON as sent, as
// the library's own form shows an unknown field's; past 64 bytes its
// first 64 or fewer (cut between characters) and "…", as
// [lifecycle.ValidationError] cuts values.
func sentValue(v json.RawMessage) string {
	const limit = 64
	if len(v) <= limit {
		return string(v)
	}
	n := limit
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return string(v[:n]) + "…"
}

func describe(data []byte) string {
	switch data[0] {
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "a number"
}

// decodeEvent decodes one event, in the library's form or as a Segment
// track call.
func decodeEvent(raw json.RawMessage) decoded {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return decoded{err: newFieldError("", "", "an event must be a JSON object, not "+describe(raw)), malformed: true}
	}
	var d decoded
	if isSegment(raw) {
		d = decodeSegment(raw)
	} else {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d.event); err != nil {
			d.err = jsonFieldError(err, "time")
			d.malformed = true
		}
	}
	if d.err != nil || d.skipped {
		return d
	}
	// A customer ID, or a referrer's (a pending referrer is served at
	// the same route), that is valid for the library but that GET
	// /v1/customers/{id} cannot serve to every client: clients that
	// normalise a URL remove its "." and ".." segments (RFC 3986,
	// section 6.2.2; some also when escaped as %2E, the one form this
	// server reads), and net/http's mux does not route the one segment
	// %2F to {id}.
	for _, f := range [...]struct{ name, id string }{{"customer_id", d.event.CustomerID}, {"referrer_id", d.event.ReferrerID}} {
		if f.id == "." || f.id == ".." || f.id == "/" {
			d.err = newFieldError(d.wireField(f.name), f.id, "cannot be read back at /v1/customers/{id} by every client: URL normalisation removes a path segment . or .. (RFC 3986), and net/http does not route a segment %2F alone")
			break
		}
	}
	return d
}

// jsonFieldError turns a decoding error into a field error. timeField is
// the name of the field holding a time.Time.
func jsonFieldError(err error, timeField string) *fieldError {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	var ve *lifecycle.ValidationError
	switch {
	case errors.As(err, &ve):
		return newFieldError(ve.Field, ve.Value, ve.Reason)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(event)"
		}
		return newFieldError(field, "", "has the wrong JSON type: got "+te.Value+", want "+jsonKind(te.Type.Kind().String()))
	case errors.As(err, &pe):
		return newFieldError(timeField, pe.Value, "must be an RFC 3339 time such as 2026-03-01T10:00:00Z")
	case strings.Contains(err.Error(), "Time.UnmarshalJSON"):
		return newFieldError(timeField, "", "must be an RFC 3339 time string such as \"2026-03-01T10:00:00Z\"")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return newFieldError(name, "", "is not a known field")
	}
	return newFieldError("", "", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "an integer"
	case k == "string":
		return "a string"
	case k == "map", k == "struct":
		return "an object"
	case k == "slice":
		return "an array"
	}
	return k
}
