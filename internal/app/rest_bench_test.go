//go:build unix

package app_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
)

// BenchmarkREST drives the whole REST path of a real roomd (net/http server, rest.Handler,
// UserSig, the domain, SQLite) over loopback with a lean keep-alive client: one prebuilt
// request written per call and the reply read by its Content-Length, so that the client's
// own work and allocations stay small next to the server's. There is no callback URL, so
// no delivery runs. The figure to compare is allocs/op (and ns/op only from A/B runs that
// alternate binaries: the machine is shared).
func BenchmarkREST(b *testing.B) {
	b.Run("change_room_owner", func(b *testing.B) {
		srv := startBenchServer(b)
		c := testkit.NewClient(b, srv.URL(), testApp, testKey, testAdmin)
		const rooms = 16
		for i := range rooms {
			testkit.MustOK(b, c.Do(b, "live_engine_http_srv/create_room", map[string]any{
				"RoomInfo": map[string]any{"RoomId": "bench-" + strconv.Itoa(i), "RoomType": "Live", "Owner_Account": testAdmin}}))
		}
		var next atomic.Int64
		owners := [2]string{testAdmin, "admin2"}
		runLean(b, srv.Addr(), c, "live_engine_http_srv/change_room_owner", func(caller int, i int) string {
			return `{"RoomId":"bench-` + strconv.Itoa(caller%rooms) + `","NewOwner_Account":"` + owners[i%2] + `"}`
		}, &next)
	})
	b.Run("create_room", func(b *testing.B) {
		srv := startBenchServer(b)
		c := testkit.NewClient(b, srv.URL(), testApp, testKey, testAdmin)
		var next atomic.Int64
		runLean(b, srv.Addr(), c, "live_engine_http_srv/create_room", func(caller int, i int) string {
			return `{"RoomInfo":{"RoomId":"c` + strconv.Itoa(caller) + `-` + strconv.Itoa(i) + `","RoomType":"Live","Owner_Account":"admin"}}`
		}, &next)
	})
}

// startBenchServer starts roomd on SQLite in a fresh directory with the test app (rate
// limits off), stopped when b ends.
func startBenchServer(b *testing.B) *app.Server {
	b.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = b.TempDir()
	off := false
	cfg.Apps = []config.App{{SDKAppID: testApp, SecretKey: testKey, Admins: []string{testAdmin, "admin2"},
		RateLimit: config.RateLimit{Enabled: &off}}}
	cfg.Apps[0].ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		b.Fatalf("config: %v", err)
	}
	srv, err := app.NewServer(context.Background(), cfg, app.Options{})
	if err != nil {
		b.Fatalf("new server: %v", err)
	}
	if err := srv.Start(); err != nil {
		b.Fatalf("start: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}

// runLean runs b.N calls of api, one after the other, on one keep-alive connection; body
// gives the i-th request body. Every reply must be OK. One caller keeps the work per call
// the same from run to run (with parallel callers, how many calls share a commit depends
// on the machine's load). Besides ns/op it reports cpu-ns/op, the CPU time of the whole
// process (server and client) per call from getrusage, which depends less than ns/op on
// the other work of a shared machine.
func runLean(b *testing.B, addr string, c *testkit.Client, api string, body func(caller, i int) string, callers *atomic.Int64) {
	b.Helper()
	target := c.URL(api)
	target = target[len("http://"+addr):]
	caller := int(callers.Add(1))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	var req, reply []byte
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bd := body(caller, i)
		req = append(req[:0], "POST "...)
		req = append(req, target...)
		req = append(req, " HTTP/1.1\r\nHost: "...)
		req = append(req, addr...)
		req = append(req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		req = strconv.AppendInt(req, int64(len(bd)), 10)
		req = append(req, "\r\n\r\n"...)
		req = append(req, bd...)
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		if reply, err = readReply(r, reply[:0]); err != nil {
			b.Fatal(err)
		}
		if !bytes.HasPrefix(reply, []byte(`{"ActionStatus":"OK"`)) {
			b.Fatalf("reply: %s", reply)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of this process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readReply reads one HTTP/1.1 response with a Content-Length and appends its body to dst.
func readReply(r *bufio.Reader, dst []byte) ([]byte, error) {
	n := -1
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return dst, err
		}
		if first {
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
				return dst, fmt.Errorf("status line %q", line)
			}
			continue
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, err = strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return dst, err
			}
		}
	}
	if n < 0 {
		return dst, fmt.Errorf("reply without Content-Length")
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	_, err := io.ReadFull(r, dst[start:])
	return dst, err
}
