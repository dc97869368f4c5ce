package model_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

// mermaidShown returns the labels Mermaid shows for src: it applies what
// Mermaid's render does to the text before parsing (encodeEntities drops
// the last ";" of a line matching style…:…#…; or classDef…:…#…;), then
// decodes the entity codes.
func mermaidShown(src string) []string {
	strip := func(s string) string { return s[:len(s)-1] }
	src = regexp.MustCompile(`style.*:\S*#.*;`).ReplaceAllStringFunc(src, strip)
	src = regexp.MustCompile(`classDef.*:\S*#.*;`).ReplaceAllStringFunc(src, strip)
	ent := map[string]string{"35": "#", "quot": `"`, "lt": "<", "gt": ">", "96": "`", "38": "&", "92": `\`, "37": "%", "58": ":"}
	src = regexp.MustCompile(`#\w+;`).ReplaceAllStringFunc(src, func(s string) string {
		if v, ok := ent[s[1:len(s)-1]]; ok {
			return v
		}
		return s
	})
	var out []string
	for _, m := range regexp.MustCompile(`\["(.*)"\]`).FindAllStringSubmatch(src, -1) {
		out = append(out, strings.ReplaceAll(m[1], "<br>", "\n"))
	}
	return out
}

// A label on a line that holds "style" (or "classDef") and then a colon
// is shown as written: Mermaid dropped the last ";" of its entity codes
// before parsing ("Lifestyle:#1" was shown as "Lifestyle:#351").
func TestMermaidStyleLine(t *testing.T) {
	m, err := model.NewBuilder("m").
		Start(stage.Stage{ID: "a", Name: "Lifestyle:#1"}).
		Stage(stage.Stage{ID: "style", Name: "x:<y>"}, model.Orders(1)).Build()
	if err != nil {
		t.Fatal(err)
	}
	src := model.Mermaid(m)
	got, want := mermaidShown(src), []string{"Lifestyle:#1", "x:<y>"}
	if len(got) != len(want) {
		t.Fatalf("labels %q, want %q\n%s", got, want, src)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("label %d shown as %q, want %q\n%s", i, got[i], want[i], src)
		}
	}
}
