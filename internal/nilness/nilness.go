// Package nilness tells a nil interface from one holding a nil pointer,
// map, function, channel or slice (a "typed nil", which == nil does not
// catch and whose methods would likely panic): the one check the packages
// that take user-supplied interfaces (a Tracker's model and store, a feed's
// source, a CLV model) make before using them.
package nilness

import "reflect"

// Is reports whether v is nil, or holds a nil pointer, map, function,
// channel, slice or interface.
func Is(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return r.IsNil()
	}
	return false
}
