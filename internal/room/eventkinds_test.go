package room

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// Every event type of the package (a struct embedding EventHead) is either broadcast to
// the other nodes' clients or listed as local-only with a reason: a new event cannot be
// forgotten by the cluster silently.
func TestEventKindsClassified(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				if id, ok := fld.Type.(*ast.Ident); ok && len(fld.Names) == 0 && id.Name == "EventHead" {
					found[ts.Name.Name] = true
				}
			}
			return true
		})
	}
	if len(found) < 10 {
		t.Fatalf("found only %d event types: %v", len(found), found)
	}
	for name := range found {
		_, b := broadcastKinds[name]
		_, l := localKinds[name]
		switch {
		case b && l:
			t.Errorf("event %s is both broadcast and local-only", name)
		case !b && !l:
			t.Errorf("event %s is neither broadcast (eventcodec.go broadcastKinds) nor listed in localKinds", name)
		}
	}
	for name := range broadcastKinds {
		if !found[name] {
			t.Errorf("broadcast kind %s is no event type of the package", name)
		}
	}
	for name := range localKinds {
		if !found[name] {
			t.Errorf("local kind %s is no event type of the package", name)
		}
	}
}
