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
	switch {
	case rep.Server == "in-process":
		fmt.Fprintln(w, "server: in the bench process (roomd CPU/op includes the load generator and the receiver)")
	case rep.Nodes > 1:
		fmt.Fprintf(w, "server: %d roomd processes on one database, REST load spread over them (roomd CPU/op sums their CPU)\n", rep.Nodes)
	case rep.Server != "":
		fmt.Fprintln(w, "server: a separate roomd process (roomd CPU/op is its utime+stime over the measured window / operations)")
	}
	if rep.Repeat > 1 {
		fmt.Fprintf(w, "each scenario judged against L ran %d times, each against L measured just before and after it; its row is the median run\n", rep.Repeat)
	}
	if rep.LoadAverage != "" {
		fmt.Fprintf(w, "load average at start: %s\n", rep.LoadAverage)
	}
	if rep.L > 0 {
		fmt.Fprintf(w, "L = %s req/s (loopback HTTP ceiling, same run); L's CPU = %.1f us per exchange (client and server together)\n", thousands(rep.L), rep.LCPUPerOpUs)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops/s\tx L\tcpu/op (L)\troomd CPU/op\tp50\tp99\tmax\tpeak RSS\tcallbacks\t")
	for _, r := range rep.Results {
		ratio, ratioCPU, lat50, lat99, latMax, cbs := "-", "-", "-", "-", "-", "-"
		if r.RatioToL > 0 {
			ratio = strconv.FormatFloat(r.RatioToL, 'f', 2, 64)
		}
		if r.RoomdCPUPerOpL > 0 {
			ratioCPU = strconv.FormatFloat(r.RoomdCPUPerOpL, 'f', 2, 64)
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
		if r.RoomdCPUPerOpUs > 0 {
			cpu = fmtUs(r.RoomdCPUPerOpUs)
		}
		ops := "-"
		if r.OpsPerSec > 0 {
			ops = thousands(r.OpsPerSec)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, ops, ratio, ratioCPU, cpu, lat50, lat99, latMax, mib(r.PeakRSS), cbs)
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
			when := "measured before it"
			if r.LBracketed {
				when = "the means of L measured just before and just after it"
			}
			fmt.Fprintf(w, "  %-13s ratios against L = %s req/s (%.1f us of CPU per exchange), %s\n", r.Scenario, thousands(r.L), r.LCPUPerOpUs, when)
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

// fmtUs formats microseconds.
func fmtUs(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + "us"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "us"
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
