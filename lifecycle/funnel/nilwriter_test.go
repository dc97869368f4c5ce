package funnel_test

import (
	"errors"
	"testing"

	"github.com/clmkit/clm/lifecycle/funnel"
)

// TestWriteCSVNilWriter: Table.WriteCSV refuses a nil io.Writer with an
// error wrapping ErrInvalidInput instead of panicking.
func TestWriteCSVNilWriter(t *testing.T) {
	tab := funnel.Table{Header: []string{"stage"}, Rows: [][]string{{"reach"}}}
	if err := tab.WriteCSV(nil); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("WriteCSV(nil) = %v, want ErrInvalidInput", err)
	}
}
