package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/stage"
)

// MarshalJSON writes the customer's JSON form: every field under its JSON
// tag, as encoding/json would write the struct, except that each time
// keeps its UTC offset exactly. A time whose offset is whole minutes (UTC,
// and every zone in use since about 1940) is written as encoding/json
// writes a [time.Time] (RFC 3339 with nanoseconds), so that the output is
// byte for byte what earlier releases wrote and any decoder of a
// time.Time reads it. A time whose offset has seconds (local mean time,
// such as Amsterdam's +00:19:32 before 1937), which RFC 3339 cannot hold
// and encoding/json would write 32 seconds off, is written with the
// seconds of its offset, e.g. "1900-01-01T00:00:00+00:19:32";
// [Customer.UnmarshalJSON] reads it back exactly, while a plain time.Time
// decoder refuses it rather than reading a wrong time. A time outside the
// years 0–9999, or whose offset is 24 hours or more, is an error, as with
// encoding/json. The zone's name and any monotonic clock reading are not
// kept: a time comes back as the same instant with the same offset.
func (c Customer) MarshalJSON() ([]byte, error) {
	return json.Marshal(toCustomerJSON(&c))
}

// UnmarshalJSON reads the form [Customer.MarshalJSON] writes, and the form
// encoding/json wrote for a Customer before it had one (the same, without
// offsets with seconds). Seen is read by [EventSet.UnmarshalJSON]. A
// field absent from the JSON keeps its value, as with encoding/json. On
// error c is unchanged, and the error wraps [ErrInvalidCustomer]. An
// error about one field's value names the field by its JSON path
// ("version", "facts.first", "history.at"; an element of an array is
// named by the array's path) and quotes the value (past 64 bytes, its
// first 64 or fewer and "…"); one about Seen also wraps [ErrEventSet],
// one about a time time.Parse refuses its *time.ParseError, and one
// about data that is not well-formed JSON encoding/json's
// *json.SyntaxError.
func (c *Customer) UnmarshalJSON(data []byte) error {
	v := toCustomerJSON(c)
	if err := json.Unmarshal(data, v); err != nil {
		return customerJSONError(err)
	}
	v.to(c)
	return nil
}

// customerJSONError is the error of [Customer.UnmarshalJSON] for err,
// encoding/json's: see that method's doc.
func customerJSONError(err error) error {
	const prefix = "%w: Customer.UnmarshalJSON: "
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf(prefix+"want a JSON object, not %s", ErrInvalidCustomer, clip.String(te.Value))
	case te != nil && te.Type == timeType: // exactTime's: see its UnmarshalJSON
		var t exactTime
		why := t.read([]byte(te.Value))
		if why == nil { // (never: read refused te.Value once)
			why = errors.New("time " + clip.String(te.Value) + ": refused")
		}
		return fmt.Errorf(prefix+"field %s: %w", ErrInvalidCustomer, te.Field, why)
	case te != nil:
		want := te.Type.String()
		switch te.Type.Kind() {
		case reflect.Struct:
			want = "JSON object" // (not the name of the mirror type it reads into)
		case reflect.Slice:
			want = "JSON array"
		}
		return fmt.Errorf(prefix+"field %s: %s is not a %s", ErrInvalidCustomer, te.Field, clip.String(te.Value), want)
	case errors.Is(err, ErrEventSet):
		return fmt.Errorf(prefix+"field seen: %w", ErrInvalidCustomer, err)
	}
	return fmt.Errorf(prefix+"%w", ErrInvalidCustomer, err)
}

// timeType is the type exactTime's errors name.
var timeType = reflect.TypeFor[time.Time]()

// customerJSON and the types below mirror Customer, Facts, Tally,
// Referral and Transition field for field, with exactTime for time.Time
// (TestCustomerJSONMirrors keeps them in step).
type customerJSON struct {
	ID      string           `json:"id"`
	Stage   stage.ID         `json:"stage"`
	Since   exactTime        `json:"since"`
	AsOf    exactTime        `json:"as_of"`
	Facts   factsJSON        `json:"facts"`
	History []transitionJSON `json:"history"`
	Seen    EventSet         `json:"seen"`
	Due     exactTime        `json:"due"`
	Version uint64           `json:"version"`
}

type factsJSON struct {
	First      exactTime      `json:"first"`
	Last       exactTime      `json:"last"`
	Tallies    []tallyJSON    `json:"tallies,omitempty"`
	Sums       []Sum          `json:"sums,omitempty"`
	ReferredBy string         `json:"referred_by,omitempty"`
	ReferredAt exactTime      `json:"referred_at,omitzero"`
	Score      int            `json:"score,omitempty"`
	ScoreAt    exactTime      `json:"score_at,omitzero"`
	Referrals  []referralJSON `json:"referrals,omitempty"`
}

type tallyJSON struct {
	Type  EventType `json:"type"`
	Count int64     `json:"count"`
	First exactTime `json:"first"`
	Last  exactTime `json:"last"`
}

type referralJSON struct {
	Customer string    `json:"customer"`
	At       exactTime `json:"at"`
}

type transitionJSON struct {
	From  stage.ID  `json:"from"`
	To    stage.ID  `json:"to"`
	At    exactTime `json:"at"`
	Cause string    `json:"cause,omitempty"`
}

// mapSlice converts a slice element by element, keeping nil nil and
// empty empty (encoding/json writes them as null and []).
func mapSlice[S, D any](src []S, f func(S) D) []D {
	if src == nil {
		return nil
	}
	out := make([]D, len(src))
	for i, s := range src {
		out[i] = f(s)
	}
	return out
}

func toCustomerJSON(c *Customer) *customerJSON {
	f := &c.Facts
	v := &customerJSON{
		ID: c.ID, Stage: c.Stage, Since: exactTime(c.Since), AsOf: exactTime(c.AsOf),
		Facts: factsJSON{
			First: exactTime(f.First), Last: exactTime(f.Last),
			Tallies: mapSlice(f.Tallies, func(t Tally) tallyJSON {
				return tallyJSON{Type: t.Type, Count: t.Count, First: exactTime(t.First), Last: exactTime(t.Last)}
			}),
			Sums:       slices.Clone(f.Sums), // decoding must not write to c's array
			ReferredBy: f.ReferredBy, ReferredAt: exactTime(f.ReferredAt),
			Score: f.Score, ScoreAt: exactTime(f.ScoreAt),
			Referrals: mapSlice(f.Referrals, func(r Referral) referralJSON {
				return referralJSON{Customer: r.Customer, At: exactTime(r.At)}
			}),
		},
		History: mapSlice(c.History, func(t Transition) transitionJSON {
			return transitionJSON{From: t.From, To: t.To, At: exactTime(t.At), Cause: t.Cause}
		}),
		Due: exactTime(c.Due), Version: c.Version,
	}
	c.Seen.copyTo(&v.Seen) // decoding must not write to c's array either
	return v
}

func (v *customerJSON) to(c *Customer) {
	f := &v.Facts
	*c = Customer{
		ID: v.ID, Stage: v.Stage, Since: time.Time(v.Since), AsOf: time.Time(v.AsOf),
		Facts: Facts{
			First: time.Time(f.First), Last: time.Time(f.Last),
			Tallies: mapSlice(f.Tallies, func(t tallyJSON) Tally {
				return Tally{Type: t.Type, Count: t.Count, First: time.Time(t.First), Last: time.Time(t.Last)}
			}),
			Sums:       f.Sums,
			ReferredBy: f.ReferredBy, ReferredAt: time.Time(f.ReferredAt),
			Score: f.Score, ScoreAt: time.Time(f.ScoreAt),
			Referrals: mapSlice(f.Referrals, func(r referralJSON) Referral {
				return Referral{Customer: r.Customer, At: time.Time(r.At)}
			}),
		},
		History: mapSlice(v.History, func(t transitionJSON) Transition {
			return Transition{From: t.From, To: t.To, At: time.Time(t.At), Cause: t.Cause}
		}),
		Seen: v.Seen, Due: time.Time(v.Due), Version: v.Version,
	}
}

// exactTime is a time.Time whose JSON keeps an offset with seconds.
type exactTime time.Time

// layoutOffsetSeconds is RFC 3339 with nanoseconds and an offset with
// seconds.
const layoutOffsetSeconds = "2006-01-02T15:04:05.999999999-07:00:00"

// IsZero makes omitzero behave as for a time.Time.
func (t exactTime) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON writes t as time.Time does when its offset is whole
// minutes, and otherwise with layoutOffsetSeconds.
func (t exactTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	_, off := tt.Zone()
	if off%60 == 0 {
		return tt.MarshalJSON()
	}
	if y := tt.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("lifecycle: Customer.MarshalJSON: time %v: year outside of range [0,9999]", tt)
	}
	if off <= -24*3600 || off >= 24*3600 {
		return nil, fmt.Errorf("lifecycle: Customer.MarshalJSON: time %v: UTC offset of 24 hours or more", tt)
	}
	// The offset is written by hand: Go's layout writes an offset of
	// -1 to -59 seconds as "+00:00:-52", which no parser reads.
	b := append(make([]byte, 0, len(layoutOffsetSeconds)+2), '"')
	b = tt.AppendFormat(b, "2006-01-02T15:04:05.999999999")
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendTwo(b, off/3600)
	b = appendTwo(append(b, ':'), off/60%60)
	b = appendTwo(append(b, ':'), off%60)
	return append(b, '"'), nil
}

// parseOffsetSeconds reads RFC 3339 with an offset ±hh:mm:ss that is not
// a whole number of minutes and is under 24 hours. The offset is read by
// hand: time.Parse drops the sign of one under a minute ("-00:00:52").
func parseOffsetSeconds(s string) (time.Time, bool) {
	const zone = len("+hh:mm:ss")
	if len(s) <= zone {
		return time.Time{}, false
	}
	z := s[len(s)-zone:]
	if z[0] != '+' && z[0] != '-' || z[3] != ':' || z[6] != ':' {
		return time.Time{}, false
	}
	num := func(d string) (int, bool) {
		if d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9' {
			return 0, false
		}
		return int(d[0]-'0')*10 + int(d[1]-'0'), true
	}
	hh, ok1 := num(z[1:3])
	mm, ok2 := num(z[4:6])
	ss, ok3 := num(z[7:9])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 || ss == 0 {
		return time.Time{}, false
	}
	wall, err := time.Parse("2006-01-02T15:04:05.999999999", s[:len(s)-zone])
	if err != nil {
		return time.Time{}, false
	}
	off := hh*3600 + mm*60 + ss
	if z[0] == '-' {
		off = -off
	}
	return wall.Add(-time.Duration(off) * time.Second).In(time.FixedZone("", off)), true
}

// appendTwo appends n, from 0 to 99, as two digits.
func appendTwo(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// UnmarshalJSON reads what MarshalJSON writes, or null (no change): an
// offset with seconds only where they are not zero, and under 24 hours.
// Its error is a *json.UnmarshalTypeError holding data, to which
// encoding/json adds the field's path; customerJSONError reads data
// again (read) for the error to report.
func (t *exactTime) UnmarshalJSON(data []byte) error {
	if err := t.read(data); err != nil {
		return &json.UnmarshalTypeError{Value: string(data), Type: timeType}
	}
	return nil
}

// read is UnmarshalJSON, with the error that says why data is refused:
// it quotes data (cut past 64 bytes) and wraps time's error where there
// is one (a *time.ParseError, say), whose text it gives for a short
// value.
func (t *exactTime) read(data []byte) error {
	var tt time.Time
	err := tt.UnmarshalJSON(data) // RFC 3339, or null (no change)
	if err == nil {
		if _, off := tt.Zone(); off <= -24*3600 || off >= 24*3600 {
			// time.Time reads "+24:00", which no encoder writes (MarshalJSON
			// refuses it): refused, so that what is read can be written.
			return &timeError{msg: "time " + clip.String(string(data)) + ": offset of 24 hours or more"}
		}
		if string(data) != "null" {
			*t = exactTime(tt)
		}
		return nil
	}
	if n := len(data); n >= 2 && data[0] == '"' && data[n-1] == '"' {
		if tt, ok := parseOffsetSeconds(string(data[1 : n-1])); ok {
			*t = exactTime(tt)
			return nil
		}
	}
	msg := "time " + clip.String(string(data)) + ": want RFC 3339, or RFC 3339 with an offset with seconds (+hh:mm:ss, not a whole number of minutes, under 24 hours)"
	if len(data) <= clip.Max {
		msg += ": " + err.Error()
	}
	return &timeError{msg: msg, err: err}
}

// timeError is exactTime.read's error: its message, which quotes the
// value cut, and time's error, if any, which may quote it whole.
type timeError struct {
	msg string
	err error
}

func (e *timeError) Error() string { return e.msg }
func (e *timeError) Unwrap() error { return e.err }
