package app_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/testkit"
)

// TestBenchQuick runs `roomd bench --quick --json` end to end: each scenario's server is a
// separate roomd process (this test binary, run as roomd), with the receiver and the load
// here; every scenario, on SQLite. It checks that the report is well-formed, that every
// scenario that sends callbacks verified all of them and that every scenario has roomd's
// CPU time per operation in units of L; it never checks speed.
func TestBenchQuick(t *testing.T) {
	want := []string{"loopback", "owner-change", "create-room", "latency", "drain", "idle-rooms", "client-fanout", "client-owner-change", "soak"}
	runBenchQuick(t, nil, want)
}

// TestBenchQuickPostgres is TestBenchQuick on PostgreSQL (the bench creates and drops a
// database per scenario on the server of ROOMD_TEST_POSTGRES_DSN), without soak, which
// watches SQLite files.
func TestBenchQuickPostgres(t *testing.T) {
	server := testkit.PostgresServer(t)
	want := []string{"loopback", "owner-change", "create-room", "latency", "drain", "idle-rooms", "client-fanout", "client-owner-change"}
	runBenchQuick(t, []string{"--store", "postgres", "--postgres-dsn", server}, want)
}

// TestBenchQuickPostgresNodes runs the owner changes, through REST and through the client,
// on three roomd processes sharing one PostgreSQL database (--nodes 3).
func TestBenchQuickPostgresNodes(t *testing.T) {
	server := testkit.PostgresServer(t)
	runBenchQuick(t, []string{"--store", "postgres", "--postgres-dsn", server, "--nodes", "3", "--scenarios", "owner-change,client-owner-change"},
		[]string{"loopback", "owner-change", "client-owner-change"})
}

func runBenchQuick(t *testing.T, args []string, want []string) {
	if testing.Short() {
		// Still short enough: --quick scales every scenario down to a smoke run.
		t.Log("-short: running the --quick bench anyway")
	}
	t.Setenv(envRunAsRoomd, "1") // the children are this binary, run as roomd
	var out, errOut bytes.Buffer
	err := app.Main(t.Context(), append([]string{"bench", "--quick", "--json", "--data", t.TempDir()}, args...), app.Env{Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("roomd bench: %v\nstderr: %s\nstdout: %s", err, errOut.String(), out.String())
	}
	var rep struct {
		Quick   bool    `json:"quick"`
		L       float64 `json:"l_ops_per_sec"`
		Server  string  `json:"server"`
		Results []struct {
			Scenario  string  `json:"scenario"`
			Ops       int64   `json:"ops"`
			OpsPerSec float64 `json:"ops_per_sec"`
			RatioToL  float64 `json:"ratio_to_l"`
			PeakRSS   int64   `json:"peak_rss_bytes"`
			MaxMs     float64 `json:"max_ms"`
			// BytesPerConn is client-fanout's server memory per connection.
			BytesPerConn float64 `json:"rss_bytes_per_conn"`
			Callbacks    *struct {
				Expected, Verified, Problems int64
			} `json:"callbacks"`
			RoomdCPU  float64 `json:"roomd_cpu_us_per_op"`
			RoomdCPUL float64 `json:"roomd_cpu_per_op_l"`
			Target    string  `json:"target"`
			TargetMet *bool   `json:"target_met"`
			Error     string  `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.Quick || rep.L <= 0 || rep.Server != "process" {
		t.Errorf("quick = %v, L = %v, server %q", rep.Quick, rep.L, rep.Server)
	}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d (%s)", len(rep.Results), len(want), strings.Join(want, ", "))
	}
	for i, r := range rep.Results {
		if r.Scenario != want[i] {
			t.Errorf("result %d is %q, want %q", i, r.Scenario, want[i])
		}
		if r.Error != "" {
			t.Errorf("%s: %s", r.Scenario, r.Error)
		}
		if r.Scenario == "client-fanout" { // rounds of a fan-out and memory per connection, no rate
			if r.Ops <= 0 || r.BytesPerConn <= 0 || r.MaxMs <= 0 {
				t.Errorf("%s: %d rounds, %v bytes per connection, max %v ms", r.Scenario, r.Ops, r.BytesPerConn, r.MaxMs)
			}
		} else if r.Ops <= 0 || r.OpsPerSec <= 0 {
			t.Errorf("%s: %d ops, %v ops/s", r.Scenario, r.Ops, r.OpsPerSec)
		}
		if r.Scenario != "loopback" && (r.Target == "" || r.TargetMet != nil) {
			t.Errorf("%s: target %q, judged %v; a --quick run states its target but does not judge it", r.Scenario, r.Target, r.TargetMet)
		}
		if r.PeakRSS <= 0 {
			t.Errorf("%s: no peak RSS", r.Scenario)
		}
		if r.RoomdCPU <= 0 || r.RoomdCPUL <= 0 {
			t.Errorf("%s: roomd cpu/op %v us, %v L", r.Scenario, r.RoomdCPU, r.RoomdCPUL)
		}
		switch r.Scenario {
		case "owner-change", "create-room", "latency", "drain", "client-owner-change", "soak":
			cb := r.Callbacks
			if cb == nil {
				t.Errorf("%s: no callback verification", r.Scenario)
				continue
			}
			if cb.Expected == 0 || cb.Verified != cb.Expected || cb.Problems != 0 {
				t.Errorf("%s: callbacks verified %d of %d, %d problems", r.Scenario, cb.Verified, cb.Expected, cb.Problems)
			}
			if r.Scenario != "latency" && r.Scenario != "soak" && r.RatioToL <= 0 {
				t.Errorf("%s: no ratio to L", r.Scenario)
			}
		}
	}
}
