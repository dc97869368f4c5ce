package clv_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle/clv"
)

// ReadCDNOW refuses "a line of 64 KiB or more", its end not counted: a
// line of 65,535 bytes is read whether it ends in LF, CRLF or the end of
// the input (with CRLF it was refused, the "\r" counted), and one of
// 65,536 bytes is refused with each of them.
func TestCDNOWLineLimitWithEachEnd(t *testing.T) {
	for _, n := range []int{65535, 65536, 65537, 70000} {
		line := "00001 19970101 1 10.00"
		line += strings.Repeat(" ", n-len(line))
		for _, end := range []string{"\n", "\r\n", ""} {
			in := line + end
			if end != "" {
				in += "00002 19970102 1 5.00" + end // a line after it
			}
			txs, err := clv.ReadCDNOW(strings.NewReader(in))
			if n < 64<<10 {
				if err != nil || (end != "" && len(txs) != 2) {
					t.Errorf("line of %d bytes ending %q: %v", n, end, err)
				}
				continue
			}
			if !errors.Is(err, clv.ErrInvalidInput) || !strings.Contains(err.Error(), "line 1: 65536 bytes or more") {
				t.Errorf("line of %d bytes ending %q: %v; want line 1 refused as 65536 bytes or more", n, end, err)
			}
		}
	}
}
