package store_test

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

var (
	rvTimeType = reflect.TypeFor[time.Time]()
	rvSetType  = reflect.TypeFor[lifecycle.EventSet]()
)

// reviewDiff compares two customers as the docs promise: times by instant and
// UTC offset (not *time.Location), empty slices equal to nil, Seen by keys.
func reviewDiff(a, b *lifecycle.Customer) []string {
	if a == nil || b == nil {
		if a != b {
			return []string{fmt.Sprintf("nil mismatch: %v vs %v", a == nil, b == nil)}
		}
		return nil
	}
	var out []string
	reviewWalk("", reflect.ValueOf(*a), reflect.ValueOf(*b), &out)
	return out
}

func reviewWalk(path string, a, b reflect.Value, out *[]string) {
	if len(*out) > 20 {
		return
	}
	switch {
	case a.Type() == rvTimeType:
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		if !ta.Equal(tb) || oa != ob {
			*out = append(*out, fmt.Sprintf("%s: %s (offset %d) vs %s (offset %d)", path, ta.Format(time.RFC3339Nano), oa, tb.Format(time.RFC3339Nano), ob))
		}
		return
	case a.Type() == rvSetType:
		sa := a.Interface().(lifecycle.EventSet)
		sb := b.Interface().(lifecycle.EventSet)
		ka := slices.Collect(sa.All())
		kb := slices.Collect(sb.All())
		if !slices.Equal(ka, kb) {
			*out = append(*out, fmt.Sprintf("%s: %d keys vs %d keys (differ)", path, len(ka), len(kb)))
		}
		return
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			reviewWalk(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i), out)
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			*out = append(*out, fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len()))
			return
		}
		for i := range a.Len() {
			reviewWalk(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), out)
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			s1, s2 := fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface())
			if len(s1) > 80 {
				s1 = s1[:80] + "…"
			}
			if len(s2) > 80 {
				s2 = s2[:80] + "…"
			}
			*out = append(*out, fmt.Sprintf("%s: %s vs %s", path, s1, s2))
		}
	}
}
