package clientapi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	roomdclient "github.com/roomd/roomd/js/roomd-client"

	"github.com/roomd/roomd/internal/api/clientapi"
)

// TestJSClientKnowsTheAPI checks that the JavaScript client (js/roomd-client) lists every
// method of the dispatch table and every push the server sends, and nothing else: its
// convenience methods and its types are made from those lists.
func TestJSClientKnowsTheAPI(t *testing.T) {
	js := string(roomdclient.JS)
	list := func(name string) []string {
		m := regexp.MustCompile(`(?s)export const ` + name + ` = Object\.freeze\(\[(.*?)\]\);`).FindStringSubmatch(js)
		if m == nil {
			t.Fatalf("roomd-client.js has no %s list", name)
		}
		var out []string
		for _, s := range regexp.MustCompile(`'([A-Za-z]+)'`).FindAllStringSubmatch(m[1], -1) {
			out = append(out, s[1])
		}
		slices.Sort(out)
		return out
	}
	if got, want := list("METHODS"), clientapi.MethodNames(); !slices.Equal(got, want) {
		t.Errorf("roomd-client.js METHODS = %v\nthe server's methods  = %v", got, want)
	}
	// Every push the server sends: the "onXxx" names in this package's sources.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var pushes []string
	for _, f := range files {
		if regexp.MustCompile(`_test\.go$`).MatchString(f) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(on[A-Z][A-Za-z]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(pushes, m[1]) {
				pushes = append(pushes, m[1])
			}
		}
	}
	slices.Sort(pushes)
	if got := list("EVENTS"); !slices.Equal(got, pushes) {
		t.Errorf("roomd-client.js EVENTS = %v\nthe server's pushes  = %v", got, pushes)
	}
	types := string(roomdclient.Types)
	for _, name := range append(clientapi.MethodNames(), pushes...) {
		if !regexp.MustCompile(`\n  ` + name + `: `).MatchString(types) {
			t.Errorf("roomd-client.d.ts declares no %s", name)
		}
	}
}
