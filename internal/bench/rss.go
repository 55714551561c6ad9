package bench

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"github.com/roomd/roomd/internal/procs"
)

// cpuTime is the CPU time the process has used, user plus system; 0 where unknown.
func cpuTime() time.Duration {
	d, _ := procs.ProcessCPU()
	return d
}

// procStatus returns a "VmXXX:" field of /proc/self/status in bytes; 0 where there is none
// (not Linux).
func procStatus(field string) int64 { return statusField("/proc/self/status", field) }

// statusField returns a "VmXXX:" field of a /proc/<pid>/status file in bytes; 0 where there
// is none.
func statusField(path, field string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	key := []byte(field + ":")
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, key); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return 0
			}
			return n << 10 // kB
		}
	}
	return 0
}

// rss is the process's resident set now.
func rss() int64 { return procStatus("VmRSS") }

// peakRSS is the process's peak resident set (since start or the last resetPeakRSS).
func peakRSS() int64 { return procStatus("VmHWM") }

// resetPeakRSS resets VmHWM to the current RSS (Linux 4.0+); it reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
