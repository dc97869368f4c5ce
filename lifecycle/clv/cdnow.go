package clv

import (
	"bufio"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ReadCDNOW parses a CDNOW transaction file (Fader & Hardie 2001) into
// transactions. Fields are separated by whitespace; a UTF-8 byte order
// mark, CRLF line ends, blank lines and a header line (a first non-blank
// line whose first field is not a number) are accepted. Two layouts are recognised by their field count:
//
//   - 4 fields (CDNOW_master.txt): customer id, date (YYYYMMDD), number of
//     CDs, dollar value. CustomerID is the customer id.
//   - 5 fields (CDNOW_sample.txt): master customer id, sample id, date,
//     number of CDs, dollar value. CustomerID is the sample id (as printed,
//     e.g. "0001"), the id used by the published CDNOW summaries.
//
// Times are midnight UTC of the date; Amount is the dollar value. The
// number of CDs is not kept. Malformed lines (a wrong number of fields, a
// bad date or dollar value, a line of 64 KiB or more) yield an error
// wrapping [ErrInvalidInput] that names the line number and field, and
// input without transactions one wrapping ErrInvalidInput too; an error
// reading r is returned as it is.
func ReadCDNOW(r io.Reader) ([]Transaction, error) {
	var txs []Transaction
	const maxLine = 64 << 10 // bytes of a line, its end not counted
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine+2) // room for a line's "\r\n"
	line := 0
	first := true // no non-blank line read yet
	for sc.Scan() {
		line++
		text := sc.Text()
		if len(text) >= maxLine {
			return nil, invalidf("CDNOW line %d: %d bytes or more, too long for a CDNOW line", line, maxLine)
		}
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a UTF-8 byte order mark
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if first {
			first = false
			if _, err := strconv.ParseUint(fields[0], 10, 64); err != nil {
				continue // header
			}
		}
		var id, date, value string
		switch len(fields) {
		case 4:
			id, date, value = fields[0], fields[1], fields[3]
		case 5:
			id, date, value = fields[1], fields[2], fields[4]
		default:
			return nil, invalidf("CDNOW line %d: %d fields, want 4 or 5", line, len(fields))
		}
		t, err := time.Parse("20060102", date)
		if err != nil {
			return nil, invalidf("CDNOW line %d: date = %q, want YYYYMMDD", line, date)
		}
		amount, err := strconv.ParseFloat(value, 64)
		if err != nil || !(amount >= 0) || math.IsInf(amount, 1) {
			return nil, invalidf("CDNOW line %d: dollar value = %q, want a non-negative number", line, value)
		}
		txs = append(txs, Transaction{CustomerID: id, Time: t, Amount: amount})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, invalidf("CDNOW line %d: %d bytes or more, too long for a CDNOW line", line+1, maxLine)
		}
		return nil, err
	}
	if len(txs) == 0 {
		return nil, invalidf("CDNOW: no transactions")
	}
	return txs, nil
}
