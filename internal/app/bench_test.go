package app_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/app"
)

// TestBenchQuick runs `roomd bench --quick --json` end to end: its own server, receiver
// and load, every scenario. It checks that the report is well-formed and that every
// scenario that sends callbacks verified all of them; it never checks speed.
func TestBenchQuick(t *testing.T) {
	var out, errOut bytes.Buffer
	err := app.Main(t.Context(), []string{"bench", "--quick", "--json", "--data", t.TempDir()}, app.Env{Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("roomd bench: %v\nstderr: %s\nstdout: %s", err, errOut.String(), out.String())
	}
	var rep struct {
		Quick   bool    `json:"quick"`
		L       float64 `json:"l_ops_per_sec"`
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
			Target    string `json:"target"`
			TargetMet *bool  `json:"target_met"`
			Error     string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.Quick || rep.L <= 0 {
		t.Errorf("quick = %v, L = %v", rep.Quick, rep.L)
	}
	want := []string{"loopback", "owner-change", "latency", "drain", "idle-rooms", "client-fanout", "client-owner-change", "soak"}
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
		switch r.Scenario {
		case "owner-change", "latency", "drain", "client-owner-change", "soak":
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
