package nilness

import (
	"fmt"
	"testing"
)

type stringer interface{ String() string }

type ptr struct{}

func (*ptr) String() string { return "" }

type fn func() string

func (fn) String() string { return "" }

func TestIs(t *testing.T) {
	var p *ptr
	var f fn
	var s stringer
	for name, tc := range map[string]struct {
		v    any
		want bool
	}{
		"nil":           {nil, true},
		"nil interface": {s, true},
		"typed nil ptr": {stringer(p), true},
		"nil func type": {stringer(f), true},
		"nil map":       {map[string]int(nil), true},
		"pointer":       {&ptr{}, false},
		"value":         {3, false},
		"func":          {stringer(fn(func() string { return "" })), false},
		"empty slice":   {[]int{}, false},
		"nil slice":     {[]int(nil), true},
	} {
		if got := Is(tc.v); got != tc.want {
			t.Errorf("%s: Is = %v, want %v", name, got, tc.want)
		}
	}
}

func ExampleIs() {
	var p *ptr
	var s stringer = p
	fmt.Println(s != nil, Is(s)) // s holds a nil pointer
	// Output: true true
}
