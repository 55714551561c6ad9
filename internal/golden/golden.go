// Package golden compares the output of a test with a golden file and rewrites the file on
// request. Tests pin wire formats this way: the golden file holds the exact bytes, and a
// change of format shows up as a diff in review.
//
// The files are rewritten instead of compared when the test binary runs with -update, a
// flag this package registers (go test ./internal/webhook -update), or when the environment
// variable ROOMD_UPDATE_GOLDEN is set to a non-empty value such as 1. The flag exists only
// in the test binaries of packages that import this one, and a test binary rejects a flag
// it does not know, so `ROOMD_UPDATE_GOLDEN=1 go test ./...` is the way to rewrite the
// golden files of the whole tree at once.
//
// The package is meant for tests only: importing it adds -update to the program's flags.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Updating reports whether golden files are to be rewritten rather than compared: with
// -update, or with ROOMD_UPDATE_GOLDEN set.
func Updating() bool {
	return *update || os.Getenv("ROOMD_UPDATE_GOLDEN") != ""
}

// Check compares got with the golden file at path and fails t when they differ or the
// file is missing. When Updating, it writes got to path instead (creating the folder).
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update, or with ROOMD_UPDATE_GOLDEN=1, to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", path, got, want)
	}
}
