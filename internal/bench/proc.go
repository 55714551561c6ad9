package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/procstat"
)

// The server of a scenario runs, by default, as a separate `roomd serve` process: the
// executable of the running roomd (Env.Exe), a configuration file generated in the
// scenario's data directory, listening on 127.0.0.1:0. It writes its URL to a ready file
// (serve --ready-file) once it serves. The load generator and the callback receiver stay in
// the bench process, so the server process's CPU time (utime + stime in /proc/<pid>/stat) is
// roomd's own work and nothing else.

// procServer is one `roomd serve` child process.
type procServer struct {
	cmd  *exec.Cmd
	url  string
	pid  int
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
	// tail keeps the end of the process's standard error, for the error of a failed start.
	tail *tailBuffer
}

// procOptions say how to start one server process.
type procOptions struct {
	exe     string
	env     []string
	dir     string // its data directory (the config and ready files go there too)
	profile string // serve --cpuprofile, when not empty
	stderr  io.Writer
	name    string // for messages: "roomd" or "roomd node 2"
}

// startProc writes cfg to the data directory as YAML, starts `roomd serve` on it and waits
// until it serves (its ready file appears) or exits.
func startProc(ctx context.Context, cfg *config.Config, o procOptions) (*procServer, error) {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: configuration: %w", o.name, err)
	}
	// Parsed back here, so that a configuration the child would refuse fails with the
	// reason rather than as a process that exited.
	if _, err := config.Parse(b); err != nil {
		return nil, fmt.Errorf("%s: generated configuration: %w", o.name, err)
	}
	cfgPath := filepath.Join(o.dir, "roomd.yaml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return nil, err
	}
	ready := filepath.Join(o.dir, "ready")
	os.Remove(ready)
	args := []string{"serve", "--config", cfgPath, "--ready-file", ready}
	if o.profile != "" {
		args = append(args, "--cpuprofile", o.profile)
	}
	cmd := exec.Command(o.exe, args...)
	cmd.Env = append(os.Environ(), o.env...)
	cmd.Stdout = io.Discard // the banner
	p := &procServer{cmd: cmd, done: make(chan struct{}), tail: &tailBuffer{max: 4 << 10}}
	cmd.Stderr = p.tail
	if o.stderr != nil {
		cmd.Stderr = io.MultiWriter(&lineLimiter{w: o.stderr, prefix: o.name + ": ", left: 10}, p.tail)
	}
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.name, err)
	}
	p.pid = cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(ready); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			p.url = strings.TrimSpace(string(b))
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before serving (%v): %s", o.name, p.err, strings.TrimSpace(p.tail.String()))
		case <-deadline.C:
			p.kill()
			return nil, fmt.Errorf("%s did not serve within 2 minutes: %s", o.name, strings.TrimSpace(p.tail.String()))
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// URL is the base URL the process serves on.
func (p *procServer) URL() string { return p.url }

// Close stops the process gracefully (SIGTERM) within ctx, then kills it.
func (p *procServer) Close(ctx context.Context) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.exitErr()
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("roomd (pid %d) did not stop in time: killed", p.pid)
	}
}

func (p *procServer) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

func (p *procServer) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("roomd (pid %d): %v: %s", p.pid, p.err, strings.TrimSpace(p.tail.String()))
	}
	return nil
}

// CPU is the CPU time (user + system, all threads) the process has used so far.
func (p *procServer) CPU() time.Duration { return procCPU(p.pid) }

// RSS and PeakRSS are the process's resident set now and at its peak (VmHWM).
func (p *procServer) RSS() int64     { return procStatusOf(p.pid, "VmRSS") }
func (p *procServer) PeakRSS() int64 { return procStatusOf(p.pid, "VmHWM") }

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which Linux fixes
// at 100 for user space whatever the kernel's own tick.
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time a process has used: utime + stime from /proc/<pid>/stat, which
// counts in ticks of 10 ms, refined by the sum of its threads' run time in nanoseconds
// (/proc/<pid>/task/*/schedstat, the same quantity the kernel splits into utime and stime).
// The larger of the two is taken: the threads' sum loses a thread that has exited, the
// ticks lose the last fraction of a tick. 0 when neither can be read.
func procCPU(pid int) time.Duration {
	return max(procStatCPU(pid), procSchedCPU(pid))
}

// procSchedCPU sums the first field of /proc/<pid>/task/*/schedstat.
func procSchedCPU(pid int) time.Duration {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread has just exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		sum += time.Duration(ns)
	}
	return sum
}

// procStatCPU reads utime + stime of a process from /proc/<pid>/stat; 0 when it cannot.
func procStatCPU(pid int) time.Duration {
	st, err := procstat.Read(pid)
	if err != nil {
		return 0
	}
	ut, err1 := st.Int(14)
	sys, err2 := st.Int(15)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+sys) * clockTick
}

// procStatusOf is procStatus for another process.
func procStatusOf(pid int, field string) int64 {
	return statusField("/proc/"+strconv.Itoa(pid)+"/status", field)
}

// lineLimiter passes the first lines written to it on to w, each with a prefix, and then
// says once that it drops the rest: a server that logs an error per connection at shutdown
// must not bury the report.
type lineLimiter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	left    int
	partial []byte
}

func (l *lineLimiter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left < 0 {
		return len(p), nil
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if l.left == 0 {
			fmt.Fprintf(l.w, "%s(more log lines not shown)\n", l.prefix)
			l.left, l.partial = -1, nil
			break
		}
		fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.partial[:i])
		l.partial = l.partial[i+1:]
		l.left--
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// cluster is the server of a scenario in process mode: one roomd process, or several
// (--nodes) on one PostgreSQL database.
type cluster struct {
	nodes []*procServer
}

// URL is the first node's URL.
func (c *cluster) URL() string { return c.nodes[0].URL() }

// URLs are every node's URL, for spreading the load.
func (c *cluster) URLs() []string {
	u := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		u[i] = n.URL()
	}
	return u
}

// Close stops every node, at the same time.
func (c *cluster) Close(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Close(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// CPU is the CPU time of all nodes together.
func (c *cluster) CPU() time.Duration {
	var t time.Duration
	for _, n := range c.nodes {
		t += n.CPU()
	}
	return t
}

// RSS and PeakRSS are the sums over the nodes.
func (c *cluster) RSS() int64 {
	var t int64
	for _, n := range c.nodes {
		t += n.RSS()
	}
	return t
}

func (c *cluster) PeakRSS() int64 {
	var t int64
	for _, n := range c.nodes {
		t += n.PeakRSS()
	}
	return t
}
