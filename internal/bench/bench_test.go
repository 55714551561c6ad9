package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantilesWithinOneBucket(t *testing.T) {
	var h histogram
	// 1..10000 µs: the q-quantile is q*10000 µs.
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 1} {
		want := time.Duration(q*10000) * time.Microsecond
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/50 {
			t.Errorf("q%v = %v, want %v (within 2%%, never below)", q, got, want)
		}
	}
	if h.Max() != 10*time.Millisecond || h.Count() != 10000 {
		t.Errorf("max %v, count %d", h.Max(), h.Count())
	}
	var empty histogram
	if empty.Quantile(0.5) != 0 {
		t.Error("quantile of no samples")
	}
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 1 << 20, 1<<40 + 12345} {
		if b := bucketOf(d); bucketHigh(b) < d || (b > 0 && bucketHigh(b-1) >= d) {
			t.Errorf("%v falls in bucket %d: (%v, %v]", d, b, bucketHigh(b-1), bucketHigh(b))
		}
	}
}

func TestEventSeq(t *testing.T) {
	for id, want := range map[string]int64{"msg_0a1b2c3d4e5f_42": 42, "msg_x_1": 1} {
		if got, ok := eventSeq(id); !ok || got != want {
			t.Errorf("eventSeq(%q) = %d, %v", id, got, ok)
		}
	}
	for _, id := range []string{"", "42", "msg_42", "msg_x_", "msg_x_-1", "msg_x_0", "evt_x_1"} {
		if _, ok := eventSeq(id); ok {
			t.Errorf("eventSeq(%q) accepted", id)
		}
	}
}

// post sends one Live.CallbackAfterChangeOwner, as roomd renders it, to the receiver.
func post(t *testing.T, rc *receiver, url, id string, room, orig, cur string) int {
	t.Helper()
	return postAs(t, rc, url, rc.query, "administrator", id, room, orig, cur)
}

// postAs is post with the query string and the operator given.
func postAs(t *testing.T, rc *receiver, url, query, operator, id string, room, orig, cur string) int {
	t.Helper()
	body := `{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"` + room + `","EventTime":` +
		itoa(time.Now().UnixMilli()) + `,"Operator_Account":"` + operator + `","CurrentOwner_Account":"` + cur +
		`","OriginalOwner_Account":"` + orig + `"}`
	req, _ := http.NewRequest(http.MethodPost, url+"?"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", itoa(time.Now().Unix()))
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, req)
	return w.Code
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// The receiver's verdicts: in order and complete verifies; a duplicate is tolerated; a
// late event, a missing one, a wrong owner or a malformed request is a problem.
func TestReceiverVerify(t *testing.T) {
	o0, o1 := benchOwners[0], benchOwners[1]
	newRC := func(t *testing.T) *receiver {
		rc, err := newReceiver(benchAppID, benchAdmin, benchOwners, []string{"r1", "r2"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rc.Close)
		return rc
	}
	const u = "http://roomd.test/callback"
	acked := map[string][]uint8{"r1": {1, 0}, "r2": {1}}

	t.Run("in order, with a duplicate", func(t *testing.T) {
		rc := newRC(t)
		post(t, rc, u, "msg_i_1", "r1", o0, o1)
		post(t, rc, u, "msg_i_2", "r2", o0, o1)
		post(t, rc, u, "msg_i_1", "r1", o0, o1) // redelivered
		post(t, rc, u, "msg_i_3", "r1", o1, o0)
		v := rc.verify(acked)
		if !v.OK() || v.Verified != 3 || v.Duplicates != 1 {
			t.Errorf("%+v", v)
		}
	})
	t.Run("out of order", func(t *testing.T) {
		rc := newRC(t)
		post(t, rc, u, "msg_i_3", "r1", o1, o0)
		post(t, rc, u, "msg_i_1", "r1", o0, o1)
		post(t, rc, u, "msg_i_2", "r2", o0, o1)
		if v := rc.verify(acked); v.OK() {
			t.Errorf("late event not caught: %+v", v)
		}
	})
	t.Run("missing", func(t *testing.T) {
		rc := newRC(t)
		post(t, rc, u, "msg_i_1", "r1", o0, o1)
		post(t, rc, u, "msg_i_2", "r2", o0, o1)
		if v := rc.verify(acked); v.OK() || v.Verified != 2 || v.Expected != 3 {
			t.Errorf("missing callback not caught: %+v", v)
		}
	})
	t.Run("wrong owner", func(t *testing.T) {
		rc := newRC(t)
		post(t, rc, u, "msg_i_1", "r1", o1, o0)
		post(t, rc, u, "msg_i_2", "r1", o0, o1)
		post(t, rc, u, "msg_i_3", "r2", o0, o1)
		if v := rc.verify(acked); v.OK() {
			t.Errorf("wrong sequence not caught: %+v", v)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		rc := newRC(t)
		post(t, rc, u, "no-id", "r1", o0, o1)
		if v := rc.verify(map[string][]uint8{}); v.OK() || v.Problems == 0 {
			t.Errorf("request without webhook-id not caught: %+v", v)
		}
	})
	t.Run("down", func(t *testing.T) {
		rc := newRC(t)
		rc.down.Store(true)
		if code := post(t, rc, u, "msg_i_1", "r1", o0, o1); code != http.StatusServiceUnavailable {
			t.Errorf("down: HTTP %d", code)
		}
		if rc.rejected.Load() != 1 || rc.accepted.Load() != 0 {
			t.Errorf("rejected %d, accepted %d", rc.rejected.Load(), rc.accepted.Load())
		}
	})
}

func TestFlags(t *testing.T) {
	o, err := parseFlags([]string{"--scenarios", "drain, owner-change,drain", "--duration", "3s", "--quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Scenarios, ",") != "drain,owner-change" || o.Duration != 3*time.Second || !o.Quick || o.Store != "sqlite" {
		t.Errorf("%+v", o)
	}
	for _, args := range [][]string{{"--scenarios", "nope"}, {"--duration", "0s"}, {"--concurrency", "0"}, {"--repeat", "0"}, {"--repeat", "21"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	if o, err := parseFlags([]string{"--help"}, io.Discard); o != nil || err != nil {
		t.Errorf("--help: %v, %v", o, err)
	}
	t.Setenv(EnvPostgresDSN, "")
	for _, args := range [][]string{{"--store", "postgres"}, {"--store", "mysql"}, {"--nodes", "3"},
		{"--store", "postgres", "--postgres-dsn", "postgres://x", "--nodes", "0"},
		{"--store", "postgres", "--postgres-dsn", "postgres://x", "--nodes", "2", "--in-process"}} {
		if _, err := parseFlags(args, io.Discard); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	t.Setenv(EnvPostgresDSN, "postgres://from-env")
	o, err = parseFlags([]string{"--store", "postgres", "--nodes", "3"}, io.Discard)
	if err != nil || o.DSN != "postgres://from-env" || o.Nodes != 3 || o.InProcess {
		t.Errorf("postgres from the environment: %+v, %v", o, err)
	}
}

// TestPickMedian: a repeated scenario's row is its median run by roomd cpu/op (the higher
// of the middle two for an even count), with every run's figure noted; a failed run is
// the row whatever the others measured.
func TestPickMedian(t *testing.T) {
	runs := func(figures ...float64) []*Result {
		var rs []*Result
		for _, f := range figures {
			rs = append(rs, &Result{Scenario: "owner-change", RoomdCPUPerOpL: f})
		}
		return rs
	}
	for _, c := range []struct {
		figures []float64
		want    float64
	}{
		{[]float64{2.4}, 2.4},
		{[]float64{3.1, 2.2, 2.6}, 2.6},
		{[]float64{2.2, 3.1}, 3.1},
		{[]float64{2.9, 2.1, 2.5, 2.7}, 2.7},
	} {
		res := pickMedian(runs(c.figures...))
		if res.RoomdCPUPerOpL != c.want {
			t.Errorf("%v: row %.2f, want %.2f", c.figures, res.RoomdCPUPerOpL, c.want)
		}
		if len(c.figures) > 1 && (!slices.Equal(res.Runs, c.figures) || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "median")) {
			t.Errorf("%v: runs %v, notes %q", c.figures, res.Runs, res.Notes)
		}
	}
	rs := runs(2.0, 2.1, 2.2)
	rs[2].Error = "server exited"
	if res := pickMedian(rs); res != rs[2] {
		t.Errorf("a failed run: row %+v, want the failed run", res)
	}
}

func TestWithDatabase(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable": "postgres://postgres@127.0.0.1:5433/db1?sslmode=disable",
		"postgresql://u:p@h/":     "postgresql://u:p@h/db1",
		"host=/tmp user=postgres": "host=/tmp user=postgres dbname=db1",
	} {
		if got, err := withDatabase(dsn, "db1"); err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", dsn, got, err, want)
		}
	}
}

func TestProfilePath(t *testing.T) {
	r := &Runner{Opts: Options{CPUProfile: "/tmp/cpu.pprof"}}
	if got := r.profilePath("owner-change", 0, 1); got != "/tmp/cpu.owner-change.pprof" {
		t.Error(got)
	}
	if got := r.profilePath("drain", 2, 3); got != "/tmp/cpu.drain.node2.pprof" {
		t.Error(got)
	}
	if got := (&Runner{}).profilePath("drain", 0, 1); got != "" {
		t.Error(got)
	}
}

// procCPU reads this process's CPU time as /proc reports it, in step with getrusage.
func TestProcCPU(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	got, ru := procCPU(os.Getpid()), cpuTime()
	if got <= 0 || got > ru+20*time.Millisecond || got < ru-20*time.Millisecond {
		t.Errorf("procCPU = %v, getrusage = %v", got, ru)
	}
}

func TestWriteTable(t *testing.T) {
	met, missed := true, false
	rep := &Report{Date: "2026-01-02T03:04:05Z", GoVersion: "go1.26", OS: "linux/amd64", CPUs: 2, Concurrency: 64,
		Store: "sqlite", Durability: "process", L: 20000, LCPUPerOpUs: 80, Server: "process", Nodes: 1, LoadAverage: "1.50 2.00 2.50",
		Results: []*Result{
			{Scenario: "loopback", OpsPerSec: 20000, RatioToL: 1, RoomdCPUPerOpL: 1, RoomdCPUPerOpUs: 80, LatencyOf: "request round trip", P50Ms: 1.5, P99Ms: 12, MaxMs: 150, PeakRSS: 30 << 20, CPUPerOpUs: 80},
			{Scenario: "owner-change", OpsPerSec: 5000, RatioToL: 0.25, RoomdCPUPerOpUs: 240, RoomdCPUPerOpL: 3, Callbacks: &verification{Expected: 10, Verified: 10},
				Target: "roomd cpu/op <= 2.5 L (is 3.00 L)", TargetMet: &missed, Notes: []string{"a note"}},
			{Scenario: "latency", Target: "p99 <= 2ms", TargetMet: &met},
			{Scenario: "drain", Error: "boom"},
		}}
	var b bytes.Buffer
	WriteTable(&b, rep)
	out := b.String()
	for _, want := range []string{"L = 20,000 req/s", "L's CPU = 80.0 us per exchange", "load average at start: 1.50 2.00 2.50", "a separate roomd process",
		"cpu/op (L)  roomd CPU/op", "owner-change   5,000  0.25        3.00         240us", "10/10 ok", "roomd cpu/op <= 2.5 L (is 3.00 L): NOT MET",
		"p99 <= 2ms: met", "drain         ERROR: boom", "a note", "1.50ms", "12.0ms", "150ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics(`# HELP roomd_callback_events Stored callbacks by state.
# TYPE roomd_callback_events gauge
roomd_callback_events{state="delivered"} 12
roomd_callback_events{state="pending"} 3
roomd_store_transactions_total 7
roomd_store_tx_calls_total 1.5e+06
`)
	if m["roomd_callback_events"] != 15 || m["roomd_store_transactions_total"] != 7 || m["roomd_store_tx_calls_total"] != 1.5e6 {
		t.Errorf("%v", m)
	}
}

// bracketedRuns records, for TestRatiosUseLBeforeAndAfter's scenario (registered once per
// process), L's CPU when each of its runs started.
var bracketedRuns *[]float64

// A scenario judged against L is judged against the means of L measured just before and just
// after each of its runs; the L measured after one run is the next run's "before" (it is not
// measured twice in a row), and the row says which L it used.
func TestRatiosUseLBeforeAndAfter(t *testing.T) {
	const name = "test-bracketed"
	startL := new([]float64) // L's CPU when each run started
	bracketedRuns = startL
	if _, ok := lookup(name); !ok {
		Register(Scenario{Name: name, NeedsL: true, Run: func(ctx context.Context, r *Runner) (*Result, error) {
			*bracketedRuns = append(*bracketedRuns, r.LCPUPerOpUs)
			return &Result{Ops: 100, Seconds: 1, OpsPerSec: 100, RoomdCPUPerOpUs: 100}, nil
		}})
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Scenarios: []string{"loopback", name}, Quick: true, Duration: time.Second, Concurrency: 4, Repeat: 2},
		Env{Stdout: &out, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(*startL) != 2 || len(rep.Results) != 2 {
		t.Fatalf("runs started with L %v; rows %d", *startL, len(rep.Results))
	}
	if (*startL)[0] != rep.LCPUPerOpUs {
		t.Errorf("the first run started with L's CPU %.2f us, not the loopback row's %.2f", (*startL)[0], rep.LCPUPerOpUs)
	}
	res := rep.Results[1]
	if !res.LBracketed || res.LCPUPerOpUs <= 0 {
		t.Fatalf("row %+v is not bracketed", res)
	}
	var before, after, beforeCPU, afterCPU float64
	var note string
	for _, n := range res.Notes {
		if strings.HasPrefix(n, "L before and after the run:") {
			note = n
		}
	}
	if _, err := fmt.Sscanf(strings.ReplaceAll(note, ",", ""), "L before and after the run: %g / %g req/s %g / %g us of CPU per exchange",
		&before, &after, &beforeCPU, &afterCPU); err != nil {
		t.Fatalf("note %q: %v", note, err)
	}
	if !slices.ContainsFunc(*startL, func(l float64) bool { return math.Abs(l-beforeCPU) <= 0.05 }) { // the note rounds to 0.1
		t.Errorf("the row's L before (%.1f us) is not what its run started with (%v)", beforeCPU, *startL)
	}
	if mean := (beforeCPU + afterCPU) / 2; math.Abs(res.LCPUPerOpUs-mean) > 0.06 || math.Abs(res.RoomdCPUPerOpL-100/res.LCPUPerOpUs) > 1e-9 {
		t.Errorf("L's CPU %.2f us, roomd cpu/op %.3f L; want the mean %.2f us and 100 us / L", res.LCPUPerOpUs, res.RoomdCPUPerOpL, mean)
	}
	if math.Abs(res.RatioToL-100/res.L) > 1e-9 || math.Abs(res.L-(before+after)/2) > 1 {
		t.Errorf("L %.0f req/s, x L %.5f; want the mean of %.0f and %.0f", res.L, res.RatioToL, before, after)
	}
	WriteTable(&out, rep)
	if !strings.Contains(out.String(), "the means of L measured just before and just after it") {
		t.Errorf("the table does not say which L the row used:\n%s", out.String())
	}
}
