package app_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
)

// startDevServer starts roomd as `roomd serve` does with no apps configured: the
// development app, with the demo.
func startDevServer(t *testing.T) *app.Server {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := app.NewServer(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	if srv.DevKey == "" {
		t.Fatal("no development app")
	}
	return srv
}

// nodeCommand finds node and the flag that gives it a global WebSocket when it needs one
// (Node 20 has it behind --experimental-websocket, Node 22 has it on; without one — Debian
// bookworm's Node 18 — the tests bring their own, tests/websocket.js). Without node the test
// is skipped, except under CI, where .ci/run installs it: there it fails.
func nodeCommand(t *testing.T) (string, []string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed (CI is set: .ci/run installs Debian's nodejs)")
		}
		t.Skip("node is not installed")
	}
	probe := "process.exit(typeof WebSocket === 'function' ? 0 : 1)"
	if exec.Command(node, "-e", probe).Run() != nil && exec.Command(node, "--experimental-websocket", "-e", probe).Run() == nil {
		return node, []string{"--experimental-websocket"}
	}
	return node, nil
}

// TestJSClient runs the JavaScript client's tests (node --test js/roomd-client/tests/)
// against a real roomd running the development app.
func TestJSClient(t *testing.T) {
	node, flags := nodeCommand(t)
	srv := startDevServer(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "js", "roomd-client", "tests", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no JavaScript tests found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append(append(flags, "--test", "--test-reporter=spec"), files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"ROOMD_URL="+srv.URL(),
		"ROOMD_SDKAPPID="+strconv.Itoa(app.DevSDKAppID),
		"ROOMD_SECRET_KEY="+srv.DevKey,
		"ROOMD_ADMIN="+app.DevAdmin,
		"NO_COLOR=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "skipped") && !strings.Contains(string(out), "skipped 0") {
		t.Errorf("some JavaScript tests were skipped:\n%s", out)
	}
	t.Logf("node --test:\n%s", out)
}

// TestDemoOnlyForTheDevelopmentApp checks the demo's security boundary: served (and
// signing UserSigs) only when roomd runs the development app; the client itself always.
func TestDemoOnlyForTheDevelopmentApp(t *testing.T) {
	dev := startDevServer(t)
	configured := startServer(t, app.Options{})
	for _, c := range []struct {
		base string
		demo bool
	}{{dev.URL(), true}, {configured.Base, false}} {
		res, err := http.Get(c.base + "/v1/client.js")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), "export function connect") ||
			res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s/v1/client.js: %d %s", c.base, res.StatusCode, res.Header.Get("Content-Type"))
		}
		res, err = http.Get(c.base + "/demo")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// Without the development app /demo is an unknown path of the REST API (whose
		// envelope says so with HTTP 200, as Tencent's does).
		if got := res.Header.Get("Content-Type") == "text/html; charset=utf-8"; got != c.demo {
			t.Errorf("%s/demo: %d %s, want the demo page: %v", c.base, res.StatusCode, res.Header.Get("Content-Type"), c.demo)
		}
		res, err = http.Post(c.base+"/demo/usersig", "application/json", strings.NewReader(`{"userId":"alice"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if got := res.StatusCode == 200 && strings.Contains(string(b), `"userSig"`); got != c.demo {
			t.Errorf("%s/demo/usersig: %d %s", c.base, res.StatusCode, b)
		}
	}
}
