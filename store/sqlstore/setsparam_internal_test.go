package sqlstore

import "testing"

// docs/storage.md: Connect adds each setting "unless the URL sets it (in
// any letter case, as a query parameter or in options …)". A review found
// options that set another setting whose name holds the store's
// ("-c zr.enable_seqscan=on") counted as setting it: the store's
// connections then ran with sequential scans on.
func TestSetsParamReadsOptionsAsTheServer(t *testing.T) {
	const name = "enable_seqscan"
	for _, tc := range []struct {
		params map[string]string
		want   bool
	}{
		{map[string]string{"enable_seqscan": "on"}, true},
		{map[string]string{"Enable_SeqScan": "on"}, true},
		{map[string]string{"options": "-c enable_seqscan=on"}, true},
		{map[string]string{"options": "-cenable_seqscan=on"}, true},
		{map[string]string{"options": "--enable-seqscan=on"}, true},
		{map[string]string{"options": "-c ENABLE-SEQSCAN=on"}, true},
		{map[string]string{"options": "  -c\tapplication_name=a\\ b   -c enable_seqscan=on "}, true},
		{map[string]string{"OPTIONS": "-c enable_seqscan=on"}, true},
		{map[string]string{"options": "-c zr.enable_seqscan=on -c zr.plan_cache_mode=auto"}, false},
		{map[string]string{"options": "-c application_name=x_enable_seqscan=on"}, false},
		{map[string]string{"options": "-c application_name=a\\ -c\\ enable_seqscan=on"}, false}, // one escaped word
		{map[string]string{"options": "-c"}, false},
		{map[string]string{"application_name": "enable_seqscan=on"}, false},
		{nil, false},
	} {
		if got := setsParam(tc.params, name); got != tc.want {
			t.Errorf("setsParam(%q, %q) = %v, want %v", tc.params, name, got, tc.want)
		}
	}
}
