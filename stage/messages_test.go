package stage_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/clmkit/clm/stage"
)

// Error messages quote an ID that is long or holds characters a log
// would not show as they are, and cut it past 64 bytes, as the other
// messages of the library do; a plain ID is shown as it is.
func TestNewMessagesQuoteAndCutIDs(t *testing.T) {
	long := stage.ID(strings.Repeat("é", 300)) // 600 bytes
	ctrl := stage.ID("x\x1b[31my")
	stages := []stage.Stage{{ID: "a"}, {ID: long, Kind: 200}, {ID: ctrl}}
	edges := []stage.Edge{
		{From: "a", To: "b\nc", Kind: stage.Advance},
		{From: ctrl, To: long, Kind: stage.Loop},
		{From: "a", To: long, Kind: 0},
	}
	_, err := stage.New(stages, edges)
	if !errors.Is(err, stage.ErrInvalidGraph) {
		t.Fatalf("New = %v", err)
	}
	msg := err.Error()
	for _, r := range msg {
		if r != '\n' && !unicode.IsGraphic(r) {
			t.Errorf("message holds U+%04X:\n%s", r, msg)
		}
	}
	for _, line := range strings.Split(msg, "\n") {
		if len(line) > 400 {
			t.Errorf("a line of %d bytes: %.120s…", len(line), line)
		}
	}
	for _, want := range []string{
		`edge a→"b\nc": unknown stage "b\nc"`,
		`"x\x1b[31my"`,
		`"` + strings.Repeat("é", 32) + `"…`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %s:\n%s", want, msg)
		}
	}
}
