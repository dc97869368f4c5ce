package clip_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clmkit/clm/internal/clip"
)

func TestString(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("a", clip.Max), strings.Repeat("a", clip.Max+1),
		strings.Repeat("é", 40), strings.Repeat("\x80", 100)} {
		got := clip.String(s)
		if len(s) <= clip.Max && got != s {
			t.Errorf("String(%q) = %q; want it unchanged", s, got)
		}
		if len(s) > clip.Max && (!strings.HasSuffix(got, "…") || len(got) > clip.Max+len("…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…"))) {
			t.Errorf("String(%q) = %q; want a prefix of at most %d bytes and …", s, got, clip.Max)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("String(%q) = %q: no longer valid UTF-8", s, got)
		}
		if again := clip.String(got); again != got {
			t.Errorf("String twice = %q; want %q", again, got)
		}
	}
}

func ExampleString() {
	fmt.Println(clip.String(strings.Repeat("ab", 40)))
	// Output: abababababababababababababababababababababababababababababababab…
}
