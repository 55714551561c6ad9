package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing the test.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.Fatalf("%s", fmt.Sprint(args...))
}

// check runs Check against a recorder on its own goroutine (Fatal ends that goroutine).
func check(t *testing.T, path string, got []byte) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Check(r, path, got)
	}()
	<-done
	return r
}

// compareOnly switches updating off for the test (it may run under -update).
func compareOnly(t *testing.T) {
	t.Setenv("ROOMD_UPDATE_GOLDEN", "")
	old := *update
	*update = false
	t.Cleanup(func() { *update = old })
}

func TestCheck(t *testing.T) {
	compareOnly(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := check(t, path, []byte("same\n")); r.failed {
		t.Errorf("equal bytes failed: %s", r.msg)
	}
	if r := check(t, path, []byte("other\n")); !r.failed || !strings.Contains(r.msg, "differs from the golden file") {
		t.Errorf("different bytes: failed=%v %q", r.failed, r.msg)
	}
	if r := check(t, filepath.Join(dir, "missing.golden"), []byte("x")); !r.failed || !strings.Contains(r.msg, "-update") {
		t.Errorf("missing file: failed=%v %q", r.failed, r.msg)
	}
}

func TestCheckUpdates(t *testing.T) {
	for _, how := range []string{"env", "flag"} {
		t.Run(how, func(t *testing.T) {
			compareOnly(t)
			if how == "env" {
				t.Setenv("ROOMD_UPDATE_GOLDEN", "1")
			} else {
				*update = true
			}
			path := filepath.Join(t.TempDir(), "new", "x.golden")
			if r := check(t, path, []byte("fresh\n")); r.failed {
				t.Fatalf("update failed: %s", r.msg)
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != "fresh\n" {
				t.Fatalf("written %q, %v", b, err)
			}
		})
	}
}
