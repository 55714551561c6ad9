package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// roomdBin is the roomd binary built once by TestMain.
var roomdBin string

// TestMain builds cmd/roomd into a temporary directory, runs the tests and removes it.
// ROOMD_FAULTTEST_BIN, when set, names a prebuilt binary to use instead.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roomd-faulttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.Exit(1)
	}
	roomdBin, err = buildRoomd(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest: build roomd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildRoomd(dir string) (string, error) {
	if b := os.Getenv("ROOMD_FAULTTEST_BIN"); b != "" {
		return b, nil
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the roomd module (go env GOMOD is empty)")
	}
	bin := filepath.Join(dir, "roomd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/roomd")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	return bin, nil
}

// Test apps. Every app has the same admin; its UserSigs are signed with the app's key.
const (
	appA    = 1400000101
	appB    = 1400000102
	keyA    = "faulttest-secret-key-a-0123456789abcdef"
	keyB    = "faulttest-secret-key-b-0123456789abcdef"
	adminID = "fault_admin"
)

// appSpec is one app of a roomd configuration file.
type appSpec struct {
	ID  uint64
	Key string
	// CallbackURL receives Live.CallbackAfterChangeOwner, the only command switched on
	// unless Commands names others.
	CallbackURL string
	// Commands, when set, are the callback commands switched on instead.
	Commands []string
	// Timeout bounds one delivery attempt; 0 leaves roomd's default (2s).
	Timeout time.Duration
	// The retry schedule; zero values take short test defaults (20ms, 500ms, 1000).
	InitialBackoff, MaxBackoff time.Duration
	MaxAttempts                int
	// ProbeInterval is how often a paused app (its breaker open) is probed; 0 takes a short
	// test default (200ms), in step with the short retry schedule.
	ProbeInterval time.Duration
	// NoBreaker switches the app's circuit breaker off (breaker.failures: 0).
	NoBreaker bool
}

// procConfig is the configuration file of a roomd process.
type procConfig struct {
	Apps []appSpec
	// Workers and PerApp bound delivery concurrency; 0 leaves roomd's defaults.
	Workers, PerApp int
	// ReconnectGrace is the client API's grace period; 0 leaves roomd's default (60s).
	ReconnectGrace time.Duration
	// ShutdownTimeout bounds a graceful stop; 0 leaves roomd's default (10s).
	ShutdownTimeout time.Duration
	// PostgresDSN, when set, selects the postgres store driver on that database instead of
	// SQLite in the data directory.
	PostgresDSN string
	// Cluster, when set, makes the process one node of several on PostgresDSN.
	Cluster *clusterSpec
}

// clusterSpec is the cluster section of a node's configuration.
type clusterSpec struct {
	// Node names the node; unique in the cluster.
	Node string
	// BeatInterval, NodeTTL and LeaseTTL are short in the tests, so that a dead node is
	// noticed within seconds; zero values leave roomd's defaults.
	BeatInterval, NodeTTL, LeaseTTL time.Duration
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// yaml renders c as a roomd configuration file.
func (c procConfig) yaml() string {
	var b strings.Builder
	b.WriteString("log:\n  level: info\n")
	if c.Workers > 0 || c.PerApp > 0 {
		b.WriteString("delivery:\n")
		if c.Workers > 0 {
			fmt.Fprintf(&b, "  workers: %d\n", c.Workers)
		}
		if c.PerApp > 0 {
			fmt.Fprintf(&b, "  max_in_flight_per_app: %d\n", c.PerApp)
		}
	}
	if c.ReconnectGrace > 0 {
		fmt.Fprintf(&b, "client:\n  reconnect_grace: %s\n", c.ReconnectGrace)
	}
	if c.ShutdownTimeout > 0 {
		fmt.Fprintf(&b, "shutdown_timeout: %s\n", c.ShutdownTimeout)
	}
	if c.PostgresDSN != "" {
		fmt.Fprintf(&b, "store:\n  driver: postgres\n  dsn: %q\n", c.PostgresDSN)
	}
	if cl := c.Cluster; cl != nil {
		fmt.Fprintf(&b, "cluster:\n  node: %q\n", cl.Node)
		for _, kv := range []struct {
			key string
			d   time.Duration
		}{{"beat_interval", cl.BeatInterval}, {"node_ttl", cl.NodeTTL}, {"lease_ttl", cl.LeaseTTL}} {
			if kv.d > 0 {
				fmt.Fprintf(&b, "  %s: %s\n", kv.key, kv.d)
			}
		}
	}
	b.WriteString("apps:\n")
	for _, a := range c.Apps {
		fmt.Fprintf(&b, "  - sdkappid: %d\n    secret_key: %q\n    admins: [%s]\n    rate_limit:\n      enabled: false\n", a.ID, a.Key, adminID)
		commands := "Live.CallbackAfterChangeOwner"
		if len(a.Commands) > 0 {
			commands = strings.Join(a.Commands, ", ")
		}
		fmt.Fprintf(&b, "    callback:\n      url: %q\n      commands: [%s]\n", a.CallbackURL, commands)
		if a.Timeout > 0 {
			fmt.Fprintf(&b, "      timeout: %s\n", a.Timeout)
		}
		maxAttempts := a.MaxAttempts
		if maxAttempts == 0 {
			maxAttempts = 1000
		}
		fmt.Fprintf(&b, "      retry:\n        initial_backoff: %s\n        max_backoff: %s\n        max_attempts: %d\n",
			orDuration(a.InitialBackoff, 20*time.Millisecond), orDuration(a.MaxBackoff, 500*time.Millisecond), maxAttempts)
		fmt.Fprintf(&b, "      breaker:\n        probe_interval: %s\n", orDuration(a.ProbeInterval, 200*time.Millisecond))
		if a.NoBreaker {
			b.WriteString("        failures: 0\n")
		}
	}
	return b.String()
}

// roomd is one roomd process (and its restarts) on one data directory.
type roomd struct {
	t       *testing.T
	dir     string
	cfgPath string
	logs    *tailBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	base   string
	runs   int
}

// newRoomd writes the configuration and prepares a process on dataDir; it does not start
// it. The process is killed when the test ends, and its log is written to the test log if
// the test failed (or always, when FAULTTEST_LOGS is set).
func newRoomd(t *testing.T, dataDir string, cfg procConfig) *roomd {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "roomd.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &roomd{t: t, dir: dataDir, cfgPath: cfgPath, logs: newTailBuffer(256 << 10)}
	t.Cleanup(func() {
		r.kill()
		if t.Failed() || os.Getenv("FAULTTEST_LOGS") != "" {
			t.Logf("roomd log (last %d KiB of %d runs):\n%s", r.logs.max>>10, r.runs, r.logs.String())
		}
	})
	return r
}

// bannerRE matches the first line roomd serve prints.
var bannerRE = regexp.MustCompile(`listening on (https?://\S+) \(data in`)

// start starts the process and waits for its banner. It may be called from any goroutine.
func (r *roomd) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return errors.New("roomd is already running")
	}
	r.runs++
	cmd := exec.Command(roomdBin, "serve", "--config", r.cfgPath, "--data", r.dir, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "ROOMD_CONFIG=")
	banner := &bannerWriter{found: make(chan string, 1)}
	cmd.Stdout = banner
	cmd.Stderr = r.logs
	dieWithParent(cmd)
	fmt.Fprintf(r.logs, "--- run %d ---\n", r.runs)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start roomd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	select {
	case base := <-banner.found:
		r.cmd, r.exited, r.base = cmd, exited, base
		return nil
	case <-exited:
		return fmt.Errorf("roomd exited before serving (%s); stdout:\n%s\nlog:\n%s", cmd.ProcessState, banner.text(), r.logs.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("roomd printed no banner within 60s; stdout:\n%s", banner.text())
	}
}

// mustStart starts the process or fails the test; call it from the test goroutine only.
func (r *roomd) mustStart() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatal(err)
	}
}

// kill sends SIGKILL and waits for the process to be gone. It does nothing when the process
// is not running.
func (r *roomd) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	fmt.Fprintf(r.logs, "--- killed (SIGKILL) ---\n")
	r.cmd, r.exited, r.base = nil, nil, ""
}

// stop asks the process to shut down (SIGTERM) and waits up to 30s before killing it.
func (r *roomd) stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return nil
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-r.exited:
		if !r.cmd.ProcessState.Success() {
			err = fmt.Errorf("roomd exited with %s after SIGTERM", r.cmd.ProcessState)
		}
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
		err = errors.New("roomd did not stop within 30s of SIGTERM")
	}
	r.cmd, r.exited, r.base = nil, nil, ""
	return err
}

// alive reports whether the process is running (it has not exited on its own).
func (r *roomd) alive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return false
	}
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// URL returns the base URL of the running process, or "" when it is down.
func (r *roomd) URL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.base
}

// bannerWriter is roomd's stdout: it hands the URL of the first line to found.
type bannerWriter struct {
	mu    sync.Mutex
	buf   []byte
	found chan string
	done  bool
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) < 64<<10 {
		w.buf = append(w.buf, p...)
	}
	if !w.done {
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.done = true
			if m := bannerRE.FindSubmatch(w.buf[:i]); m != nil {
				w.found <- string(m[1])
			}
		}
	}
	return len(p), nil
}

func (w *bannerWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
	cut bool
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.cut = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cut {
		return "[…]" + string(b.buf)
	}
	return string(b.buf)
}

// waitFor polls cond every interval until it returns true or timeout passes; it reports
// whether cond became true.
func waitFor(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		t := time.NewTimer(interval)
		<-t.C
	}
}

// pause waits for d or until ctx is done; it reports whether the full d passed. It is how
// the tests let load run for a while, never how they wait for a result.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
