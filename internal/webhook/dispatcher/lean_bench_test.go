package dispatcher

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/netguard"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// TestHelperReceiver is the App backend of BenchmarkCallbackClient, run in a child process
// (so that its CPU is not counted): a net/http server on 127.0.0.1 that answers every
// callback with a JSON object. It does nothing in a normal test run.
func TestHelperReceiver(t *testing.T) {
	if os.Getenv("ROOMD_HELPER_RECEIVER") != "1" {
		t.Skip("helper process of BenchmarkCallbackClient")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(l.Addr().String())
	reply := []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	}))
	io.Copy(io.Discard, os.Stdin) // until the parent closes our stdin
}

// BenchmarkCallbackClient measures the callback client alone: 64 concurrent senders POST
// a rendered change-owner callback to an App backend in another process on 127.0.0.1 and
// read the reply, through net/http's Transport or through the lean transport. cpu-ns/op is
// this process's CPU per callback: the sending side only.
func BenchmarkCallbackClient(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperReceiver$")
	cmd.Env = append(os.Environ(), "ROOMD_HELPER_RECEIVER=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	url := "http://" + strings.TrimSpace(line) + "/callback"
	cfg := &webhook.Config{App: 1400000000, URL: url}
	body, _ := webhook.Render(webhook.AfterChangeOwner, webhook.ChangeOwner{RoomId: "room-1", EventTime: time.Now().UnixMilli(),
		Operator_Account: "administrator", CurrentOwner_Account: "owner-1", OriginalOwner_Account: "owner-0"})
	for _, name := range []string{"net-http", "lean"} {
		b.Run(name, func(b *testing.B) {
			client := NewGuardedClient(64, netguard.New(netguard.Options{}))
			if name == "net-http" {
				client.Transport = client.Transport.(*leanTransport).fallback
			}
			defer client.CloseIdleConnections()
			b.SetParallelism(32) // 64 senders on 2 CPUs
			cpu0 := cpuNow()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					req, err := webhook.NewRequest(ctx, cfg, webhook.Delivery{ID: "msg_x_1", App: cfg.App, Command: webhook.AfterChangeOwner,
						Body: body, ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI}, time.Now())
					if err != nil {
						b.Error(err)
						cancel()
						return
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						cancel()
						return
					}
					io.ReadAll(io.LimitReader(resp.Body, 64<<10))
					resp.Body.Close()
					cancel()
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuNow()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
	// A whole attempt as the dispatcher makes it (request, send, reply, record texts),
	// through http.Client and the lean transport as before, and over the direct path.
	ev := store.Event{ID: 1, App: cfg.App, RoomID: "room-1", Command: string(webhook.AfterChangeOwner), Body: body,
		ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI}
	for _, name := range []string{"attempt-client", "attempt-direct"} {
		b.Run(name, func(b *testing.B) {
			client := NewGuardedClient(64, netguard.New(netguard.Options{}))
			defer client.CloseIdleConnections()
			d := &Dispatcher{o: Options{Clock: clock.Real{}, Client: client}}
			if name == "attempt-direct" {
				d.lean = client.Transport.(*leanTransport)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.SetParallelism(32)
			cpu0 := cpuNow()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &worker{} // each sender is a worker, as in the dispatcher
				for pb.Next() {
					if att, _ := d.attemptOn(ctx, w, cfg, ev, "msg_x_1"); att.Error != "" {
						b.Error(att.Error)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuNow()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuNow is the CPU time of the process so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
