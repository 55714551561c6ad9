package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
)

// The client fleet of the fan-out scenario: N connections to the client API, all in one
// room, each read by one goroutine. It runs in a child process (the roomd binary again,
// with fleetEnv set), so that the bench process's resident set is the server's alone and
// each process stays within its open-file limit; tests run it in-process over pipes.
//
// The two talk in lines. The parent writes a fleetConfig as one JSON line; the fleet
// connects and answers "ready <n>" (or "error <message>"). Then, per round, the parent
// writes "arm <marker>", the fleet answers "armed <marker>", the parent makes the change,
// and the fleet answers "done <marker> <unix ns>" when every connection has received a
// frame containing the marker, with the time the last one did and the CPU time the fleet
// spent since it was armed. Closing the fleet's input ends it.

// fleetEnv, when set in the environment of `roomd bench`, makes it run as a fleet.
const fleetEnv = "ROOMD_BENCH_FLEET"

type fleetConfig struct {
	// Bases are the base URLs of the server's nodes, http://host:port; connection i goes
	// to Bases[i % len(Bases)].
	Bases    []string `json:"bases"`
	App      uint64   `json:"app"`
	Key      string   `json:"key"`
	Prefix   string   `json:"prefix"` // users are Prefix + 00000 … N-1
	N        int      `json:"n"`
	Room     string   `json:"room"`
	Conc     int      `json:"conc"`
	Platform string   `json:"platform"`
}

func fleetUser(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

// fleet is the parent's handle on a running fleet.
type fleet struct {
	in   io.WriteCloser
	out  *bufio.Reader
	wait func() error
}

// startFleet starts the fleet as a child process running this executable.
func startFleet(cfg fleetConfig, stderr io.Writer) (*fleet, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "bench")
	cmd.Env = append(os.Environ(), fleetEnv+"=1")
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fleet{in: in, out: bufio.NewReader(out), wait: cmd.Wait}
	if err := f.send(cfg); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// startFleetInProcess runs the fleet in a goroutine, for tests.
func startFleetInProcess(ctx context.Context, cfg fleetConfig) (*fleet, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runFleet(ctx, inR, outW, true)
		outW.CloseWithError(err)
		done <- err
	}()
	f := &fleet{in: inW, out: bufio.NewReader(outR), wait: func() error { return <-done }}
	if err := f.send(cfg); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (f *fleet) send(cfg fleetConfig) error {
	b, _ := json.Marshal(cfg)
	_, err := f.in.Write(append(b, '\n'))
	return err
}

// expect reads the fleet's next line, which must start with word, and returns its fields
// after the word.
func (f *fleet) expect(word string) ([]string, error) {
	line, err := f.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("client fleet: %w", err)
	}
	fields := strings.Fields(line)
	if len(fields) > 0 && fields[0] == "error" {
		return nil, fmt.Errorf("client fleet: %s", strings.TrimSpace(strings.TrimPrefix(line, "error")))
	}
	if len(fields) == 0 || fields[0] != word {
		return nil, fmt.Errorf("client fleet: want %q, got %q", word, line)
	}
	return fields[1:], nil
}

// ready waits until every connection is in the room.
func (f *fleet) ready() (int, error) {
	fields, err := f.expect("ready")
	if err != nil {
		return 0, err
	}
	if len(fields) != 1 {
		return 0, fmt.Errorf("client fleet: ready %v", fields)
	}
	return strconv.Atoi(fields[0])
}

// arm tells the fleet the marker of the next round and waits until it is armed.
func (f *fleet) arm(marker string) error {
	if _, err := fmt.Fprintf(f.in, "arm %s\n", marker); err != nil {
		return err
	}
	fields, err := f.expect("armed")
	if err == nil && (len(fields) != 1 || fields[0] != marker) {
		err = fmt.Errorf("client fleet: armed %v, want %s", fields, marker)
	}
	return err
}

// done waits until every connection has received the marker and returns when the last one
// did, and the CPU time the fleet spent on the round (from arm to the last arrival; 0 when
// the fleet runs in this process, where it cannot be told apart).
func (f *fleet) done(marker string) (time.Time, time.Duration, error) {
	fields, err := f.expect("done")
	if err != nil {
		return time.Time{}, 0, err
	}
	if len(fields) != 3 || fields[0] != marker {
		return time.Time{}, 0, fmt.Errorf("client fleet: done %v, want %s", fields, marker)
	}
	ns, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return time.Time{}, 0, err
	}
	cpu, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return time.Time{}, 0, err
	}
	return time.Unix(0, ns), time.Duration(cpu), nil
}

func (f *fleet) close() error {
	f.in.Close()
	return f.wait()
}

// runFleetMain is `roomd bench` with fleetEnv set: the fleet on stdin and stdout.
func runFleetMain(ctx context.Context) error {
	if _, err := raiseNoFile(65536); err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	err := runFleet(ctx, os.Stdin, writerFlusher{out}, false)
	if err != nil {
		fmt.Fprintf(out, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		out.Flush()
	}
	return err
}

// writerFlusher flushes after every write, so that each line reaches the parent at once.
type writerFlusher struct{ w *bufio.Writer }

func (w writerFlusher) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err == nil {
		err = w.w.Flush()
	}
	return n, err
}

// fleetReader reads the fleet's connections once they are in the room (fleetpoll_*.go).
type fleetReader interface {
	// add hands a connection over to the reader, which owns it from then on.
	add(c *wsConn) error
	// close stops reading and closes every connection.
	close()
}

// fleetRound is the round every connection is waiting for.
type fleetRound struct {
	marker []byte
	left   atomic.Int64
	last   chan int64 // receives the unix ns of the last arrival
}

// runFleet connects the fleet described by the first line of in, reports ready, and runs
// rounds until in ends.
func runFleet(ctx context.Context, in io.Reader, out io.Writer, inProcess bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := bufio.NewReader(in)
	first, err := lines.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var cfg fleetConfig
	if err := json.Unmarshal(first, &cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	cfg.Conc = max(cfg.Conc, 1)

	var (
		round  atomic.Pointer[fleetRound]
		broken = make(chan error, 1)
	)
	// Each connection is read from the moment it is in the room: it answers pings and
	// takes the room's other pushes while the rest of the fleet connects.
	reader, err := newFleetReader(func(p []byte) {
		if r := round.Load(); r != nil && bytes.Contains(p, r.marker) {
			if r.left.Add(-1) == 0 {
				r.last <- time.Now().UnixNano()
			}
		}
	}, func(err error) {
		if ctx.Err() == nil {
			select {
			case broken <- err:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	defer reader.close()
	var ready atomic.Int64
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	for range cfg.Conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := fleetConnect(ctx, &cfg, i)
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					errMu.Unlock()
					continue
				}
				if err := reader.add(c); err != nil {
					c.Close()
					errMu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					errMu.Unlock()
					continue
				}
				ready.Add(1)
			}
		}()
	}
	for i := range cfg.N {
		errMu.Lock()
		stop := firstErr != nil
		errMu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	select {
	case err := <-broken:
		return fmt.Errorf("a connection ended while the fleet connected: %w", err)
	default:
	}
	n := int(ready.Load())
	fmt.Fprintf(out, "ready %d\n", n)

	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			return nil // the parent is done
		}
		marker, ok := strings.CutPrefix(strings.TrimSpace(line), "arm ")
		if !ok {
			return fmt.Errorf("unexpected command %q", line)
		}
		r := &fleetRound{marker: []byte(marker), last: make(chan int64, 1)}
		r.left.Store(int64(n))
		round.Store(r)
		cpu0 := cpuTime()
		fmt.Fprintf(out, "armed %s\n", marker)
		select {
		case ns := <-r.last:
			cpu := cpuTime() - cpu0
			if inProcess {
				cpu = 0
			}
			fmt.Fprintf(out, "done %s %d %d\n", marker, ns, cpu)
		case err := <-broken:
			return fmt.Errorf("a connection ended: %w", err)
		case <-time.After(2 * time.Minute):
			return fmt.Errorf("round %s: %d of %d connections did not receive it within 2 minutes", marker, r.left.Load(), n)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fleetConnect opens connection i of the fleet and enters the room.
func fleetConnect(ctx context.Context, cfg *fleetConfig, i int) (*wsConn, error) {
	user := fleetUser(cfg.Prefix, i)
	sig, err := usersig.Sign(cfg.App, cfg.Key, user, 86400, time.Now())
	if err != nil {
		return nil, err
	}
	u, err := wsURL(cfg.Bases[i%len(cfg.Bases)], cfg.App, user, sig, cfg.Platform)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := dialWS(dctx, u)
	if err != nil {
		return nil, err
	}
	if err := c.call(dctx, 1, "enterRoom", map[string]string{"roomId": cfg.Room}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// call sends a request and reads until its response, skipping notifications; it returns
// the response's error, if any.
func (w *wsConn) call(ctx context.Context, id int, method string, params any) error {
	req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		w.c.SetDeadline(dl)
		defer w.c.SetDeadline(timeZero)
	}
	if err := w.WriteText(req); err != nil {
		return err
	}
	for {
		p, err := w.ReadText()
		if err != nil {
			return err
		}
		var resp struct {
			ID    json.RawMessage `json:"id"`
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(p, &resp) != nil || string(resp.ID) != strconv.Itoa(id) {
			continue // a notification
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: error %d: %s", method, resp.Error.Code, resp.Error.Message)
		}
		return nil
	}
}
