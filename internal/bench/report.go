package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as a table followed by the notes.
func WriteTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "roomd bench  %s  %s %s, %d CPUs, concurrency %d, %s store (durability %s)",
		rep.Date, rep.GoVersion, rep.OS, rep.CPUs, rep.Concurrency, rep.Store, rep.Durability)
	if rep.Quick {
		fmt.Fprint(w, "  [--quick: smoke run, not a measurement]")
	}
	fmt.Fprintln(w)
	if rep.L > 0 {
		fmt.Fprintf(w, "L = %s req/s (loopback HTTP ceiling, same run; %.0f us of CPU per request)\n", thousands(rep.L), rep.LCPUPerOpUs)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops/s\tx L\tx L (cpu)\tp50\tp99\tmax\tpeak RSS\tCPU/op\talloc/op\tcallbacks\t")
	for _, r := range rep.Results {
		ratio, ratioCPU, lat50, lat99, latMax, cbs := "-", "-", "-", "-", "-", "-"
		if r.RatioToL > 0 {
			ratio = strconv.FormatFloat(r.RatioToL, 'f', 2, 64)
		}
		if r.RatioToLByCPU > 0 {
			ratioCPU = strconv.FormatFloat(r.RatioToLByCPU, 'f', 2, 64)
		}
		if r.LatencyOf != "" {
			lat50, lat99, latMax = fmtMs(r.P50Ms), fmtMs(r.P99Ms), fmtMs(r.MaxMs)
		}
		if v := r.Callbacks; v != nil {
			cbs = fmt.Sprintf("%d/%d", v.Verified, v.Expected)
			if v.OK() {
				cbs += " ok"
			} else {
				cbs += " FAILED"
			}
		}
		cpu := "-"
		if r.CPUPerOpUs > 0 {
			cpu = strconv.FormatFloat(r.CPUPerOpUs, 'f', 0, 64) + "us"
		}
		alloc := "-"
		if r.AllocPerOp > 0 {
			alloc = strconv.FormatFloat(r.AllocPerOp/1024, 'f', 1, 64) + "KiB"
		}
		ops := "-"
		if r.OpsPerSec > 0 {
			ops = thousands(r.OpsPerSec)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, ops, ratio, ratioCPU, lat50, lat99, latMax, mib(r.PeakRSS), cpu, alloc, cbs)
	}
	tw.Flush()

	fmt.Fprintln(w, "\ntargets:")
	for _, r := range rep.Results {
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "  %-13s ERROR: %s\n", r.Scenario, r.Error)
		case r.TargetMet == nil:
			if r.Target != "" && rep.Quick && r.Scenario != "loopback" {
				fmt.Fprintf(w, "  %-13s %s: not judged in a --quick run\n", r.Scenario, r.Target)
			} else if r.Target != "" {
				fmt.Fprintf(w, "  %-13s %s\n", r.Scenario, r.Target)
			}
		case *r.TargetMet:
			fmt.Fprintf(w, "  %-13s %s: met\n", r.Scenario, r.Target)
		default:
			fmt.Fprintf(w, "  %-13s %s: NOT MET\n", r.Scenario, r.Target)
		}
	}
	fmt.Fprintln(w, "\nnotes:")
	for _, r := range rep.Results {
		if r.L > 0 && r.Scenario != "loopback" && r.L != rep.L {
			fmt.Fprintf(w, "  %-13s ratios against L = %s req/s (%.0f us of CPU per request), measured just before it\n", r.Scenario, thousands(r.L), r.LCPUPerOpUs)
		}
		if r.LatencyOf != "" {
			fmt.Fprintf(w, "  %-13s latency = %s\n", r.Scenario, r.LatencyOf)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %-13s %s\n", r.Scenario, n)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

func fmtMs(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	}
}

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
