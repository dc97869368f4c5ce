// Package clip shortens the values that error messages quote, one rule
// for the packages of the root module.
package clip

import (
	"fmt"
	"unicode/utf8"
)

// Max is the most bytes of a value a message quotes.
const Max = 64

// Prefix returns s when it is at most Max bytes, else its first Max bytes
// or fewer, cut at a character boundary (looking back at most three
// bytes) so that a valid UTF-8 value stays valid.
func Prefix(s string) string {
	if len(s) <= Max {
		return s
	}
	i := Max
	for i > Max-utf8.UTFMax+1 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// String is [Prefix] followed by "…" when s is longer than Max bytes.
// Clipping again changes nothing.
func String(s string) string {
	if p := Prefix(s); len(p) < len(s) {
		return p + "…"
	}
	return s
}

// Value is [String] of v as fmt prints it, for a value of any type, such
// as a recovered panic's; a string is cut without being copied first.
func Value(v any) string {
	if s, ok := v.(string); ok {
		return String(s)
	}
	return String(fmt.Sprint(v))
}
