// Package bench implements `roomd bench`: it starts a roomd server in-process on a
// temporary data directory, a callback receiver and a load generator, runs the scenarios
// of a registry and prints one table of throughput, latency and memory.
//
// Because the machine it runs on may be small and shared, every throughput is also given as
// a ratio to L, the rate at which a Go net/http client gets small JSON POSTs answered by a
// trivial Go net/http server on 127.0.0.1 at the same concurrency, measured in the same run
// (the loopback scenario). Each callback costs at least one such POST and each REST call
// another, so L is the ceiling no HTTP service on this machine can beat.
//
// A scenario that involves callbacks counts only callbacks the receiver got and verified:
// the right fields, per room in the order the REST API acknowledged the changes, none
// missing. A bench run whose callbacks do not verify reports an error, never a rate.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/roomd/roomd/internal/config"
)

// ErrUsage marks a command-line mistake.
var ErrUsage = errors.New("usage error")

// Server is the running roomd a scenario talks to.
type Server interface {
	// URL is the base URL of the REST API, such as http://127.0.0.1:41234.
	URL() string
	Close(ctx context.Context) error
}

// Env is what the bench needs from its caller. Start builds and starts a roomd server
// for cfg; it is injected (by package app) so that this package does not import the wiring.
type Env struct {
	Stdout, Stderr io.Writer
	Start          func(ctx context.Context, cfg *config.Config) (Server, error)
}

// Options are the settings of one bench run.
type Options struct {
	Scenarios   []string
	Duration    time.Duration
	Concurrency int
	Quick       bool
	JSON        bool
	// DataDir is where the temporary data directories go ("" = the system default).
	DataDir string
	// Keep leaves the data directories in place.
	Keep       bool
	Store      string
	DSN        string
	Durability string
	// Soak is the length of the soak scenario.
	Soak time.Duration

	CPUProfile, MemProfile, MutexProfile, BlockProfile string
}

// Scenario is one entry of the registry.
type Scenario struct {
	Name string
	// Summary is one line for --help.
	Summary string
	// NeedsL says the scenario's throughput is judged against L, so loopback must run first.
	NeedsL bool
	Run    func(ctx context.Context, r *Runner) (*Result, error)
	// Judge, when set, checks a successful result against the scenario's target; it runs
	// after RatioToL is known.
	Judge func(r *Runner, res *Result)
}

var registry []Scenario

// Register adds a scenario; the order of registration is the order of a full run.
func Register(s Scenario) {
	if slices.ContainsFunc(registry, func(o Scenario) bool { return o.Name == s.Name }) {
		panic("bench: scenario " + s.Name + " registered twice")
	}
	registry = append(registry, s)
}

// Scenarios returns the registered scenario names in run order.
func Scenarios() []string {
	names := make([]string, len(registry))
	for i, s := range registry {
		names[i] = s.Name
	}
	return names
}

func lookup(name string) (Scenario, bool) {
	for _, s := range registry {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Result is one row of the report.
type Result struct {
	Scenario  string  `json:"scenario"`
	Ops       int64   `json:"ops"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// RatioToL is OpsPerSec / L; 0 when it is not meaningful.
	RatioToL float64 `json:"ratio_to_l,omitempty"`
	// L and LCPUPerOpUs are the loopback figures the ratios were computed against: the
	// loopback row's for the scenario right after it, else a loopback run just before this
	// scenario (see Run).
	L           float64 `json:"l_ops_per_sec,omitempty"`
	LCPUPerOpUs float64 `json:"l_cpu_us_per_op,omitempty"`
	// RatioToLByCPU is L's CPU time per request divided by this scenario's CPU time per
	// operation: the ratio the scenario would reach if both were limited by CPU alone. On a
	// machine shared with other work, whose share of the CPU changes between the loopback
	// run and this one, it is the steadier of the two ratios; it overstates a scenario that
	// is limited by something else (a lock, a disk, the single database writer).
	RatioToLByCPU float64 `json:"ratio_to_l_by_cpu,omitempty"`
	// LatencyOf says what the latency columns measure; empty when they are not measured.
	LatencyOf string  `json:"latency_of,omitempty"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// PeakRSS is the process's peak resident set while the scenario ran (VmHWM, reset
	// before each scenario where the kernel allows it).
	PeakRSS int64 `json:"peak_rss_bytes"`
	// CPUPerOp is the process's CPU time (user + system, all goroutines: server, load
	// generator and receiver) per operation. Unlike a rate it hardly depends on what else
	// the machine is running, so it is the figure to compare between two builds.
	CPUPerOpUs float64 `json:"cpu_us_per_op,omitempty"`
	// AllocPerOp is the Go heap allocated per operation, in bytes, by the whole process,
	// over the same phase as CPUPerOpUs.
	AllocPerOp float64 `json:"alloc_bytes_per_op,omitempty"`
	// RSSAfterGC is the resident set after a full GC, for the memory scenarios.
	RSSAfterGC int64 `json:"rss_after_gc_bytes,omitempty"`
	// Clients is the number of client API connections the scenario held open.
	Clients int `json:"clients,omitempty"`
	// BytesPerConn is the growth of the resident set (after a full GC) per client
	// connection; GoBytesPerConn the growth of the Go heap and goroutine stacks.
	BytesPerConn   float64 `json:"rss_bytes_per_conn,omitempty"`
	GoBytesPerConn float64 `json:"go_bytes_per_conn,omitempty"`
	// Callbacks is the verification of the callbacks, for scenarios that send them.
	Callbacks *verification `json:"callbacks,omitempty"`
	Target    string        `json:"target,omitempty"`
	// TargetMet is nil when the scenario has no target.
	TargetMet *bool    `json:"target_met,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	Error     string   `json:"error,omitempty"`
	// Soak is the soak scenario's record of the database file sizes.
	Soak *fileSizes `json:"soak,omitempty"`
}

func (r *Result) setLatency(of string, h *histogram) {
	r.LatencyOf = of
	r.P50Ms = ms(h.Quantile(0.50))
	r.P99Ms = ms(h.Quantile(0.99))
	r.MaxMs = ms(h.Max())
}

// setCPU sets CPUPerOpUs from the CPU time of the measured phase; a scenario that does not
// call it gets the CPU time of its whole run, set-up included.
func (r *Result) setCPU(cpu time.Duration, alloc uint64) {
	if r.Ops > 0 && cpu > 0 {
		r.CPUPerOpUs = float64(cpu.Microseconds()) / float64(r.Ops)
		r.AllocPerOp = float64(alloc) / float64(r.Ops)
	}
}

// meter marks the start of a measured phase: CPU time and bytes allocated so far.
type meter struct {
	cpu   time.Duration
	alloc uint64
}

func startMeter() meter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return meter{cpu: cpuTime(), alloc: ms.TotalAlloc}
}

// since returns the CPU time used and the bytes allocated since m.
func (m meter) since() (time.Duration, uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return cpuTime() - m.cpu, ms.TotalAlloc - m.alloc
}

func (r *Result) judge(target string, met bool) {
	r.Target = target
	r.TargetMet = &met
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Report is the whole output of a run (the --json document).
type Report struct {
	Date        string    `json:"date"`
	GoVersion   string    `json:"go_version"`
	OS          string    `json:"os"`
	CPUs        int       `json:"cpus"`
	Quick       bool      `json:"quick"`
	Concurrency int       `json:"concurrency"`
	Duration    string    `json:"duration"`
	Store       string    `json:"store"`
	Durability  string    `json:"durability"`
	L           float64   `json:"l_ops_per_sec"`
	LCPUPerOpUs float64   `json:"l_cpu_us_per_op"`
	Results     []*Result `json:"results"`
	Notes       []string  `json:"notes"`
}

// OK reports whether every scenario ran and verified its callbacks (targets aside).
func (r *Report) OK() bool {
	for _, res := range r.Results {
		if res.Error != "" || (res.Callbacks != nil && !res.Callbacks.OK()) {
			return false
		}
	}
	return true
}

// ErrFailed is returned by Main when a scenario failed or its callbacks did not verify.
var ErrFailed = errors.New("bench: a scenario failed")

const usageText = `Usage: roomd bench [flags]

Starts roomd in-process on a temporary data directory (SQLite by default), a callback
receiver and a load generator on 127.0.0.1, runs the scenarios and prints one table.
Throughputs are also given as a ratio to L, the loopback HTTP ceiling measured in the
same run.

Scenarios (default: all, in this order):
`

// Main runs `roomd bench` with the given arguments.
func Main(ctx context.Context, args []string, env Env) error {
	if os.Getenv(fleetEnv) != "" {
		return runFleetMain(ctx) // a child the client-fanout scenario started
	}
	o, err := parseFlags(args, env.Stderr)
	if err != nil || o == nil {
		return err
	}
	rep, err := Run(ctx, *o, env)
	if rep != nil {
		if o.JSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(rep); werr != nil && err == nil {
				err = werr
			}
		} else {
			WriteTable(env.Stdout, rep)
		}
	}
	if err == nil && rep != nil && !rep.OK() {
		err = ErrFailed
	}
	return err
}

// parseFlags returns nil options (and no error) for --help.
func parseFlags(args []string, stderr io.Writer) (*Options, error) {
	fs := flag.NewFlagSet("roomd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		for _, s := range registry {
			fmt.Fprintf(stderr, "  %-13s %s\n", s.Name, s.Summary)
		}
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	var o Options
	scen := fs.String("scenarios", "", "comma-separated scenarios to run (default all): "+strings.Join(Scenarios(), ","))
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each timed scenario")
	fs.DurationVar(&o.Soak, "soak", 60*time.Second, "length of the soak scenario (--quick: 6s)")
	fs.IntVar(&o.Concurrency, "concurrency", 64, "concurrent REST callers (and loopback clients)")
	fs.BoolVar(&o.Quick, "quick", false, "short smoke run with scaled-down counts (not a measurement)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.StringVar(&o.DataDir, "data", "", "parent directory of the temporary data directories (default the system temp dir)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the data directories")
	fs.StringVar(&o.Store, "store", config.DriverSQLite, "store driver: sqlite (later: postgres)")
	fs.StringVar(&o.DSN, "dsn", "", "store connection string (postgres)")
	fs.StringVar(&o.Durability, "durability", config.DurabilityProcess, "sqlite durability: process (survives kill -9) | power (fsync every commit)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile of the run to this file")
	fs.StringVar(&o.MutexProfile, "mutexprofile", "", "write a mutex contention profile to this file")
	fs.StringVar(&o.BlockProfile, "blockprofile", "", "write a goroutine blocking profile to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if *scen != "" {
		for _, name := range strings.Split(*scen, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if _, ok := lookup(name); !ok {
				return nil, fmt.Errorf("%w: unknown scenario %q (have %s)", ErrUsage, name, strings.Join(Scenarios(), ", "))
			}
			if !slices.Contains(o.Scenarios, name) {
				o.Scenarios = append(o.Scenarios, name)
			}
		}
	}
	if o.Duration <= 0 {
		return nil, fmt.Errorf("%w: --duration must be positive", ErrUsage)
	}
	if o.Soak <= 0 {
		return nil, fmt.Errorf("%w: --soak must be positive", ErrUsage)
	}
	if o.Concurrency < 1 || o.Concurrency > 4096 {
		return nil, fmt.Errorf("%w: --concurrency must be from 1 to 4096", ErrUsage)
	}
	return &o, nil
}

// Runner is what a scenario gets: the options, the environment, L once measured, and
// helpers to start servers.
type Runner struct {
	Opts Options
	Env  Env
	// L is the loopback rate of this run in requests per second; 0 until measured.
	L float64
	// LCPUPerOpUs is the process CPU time per loopback request, in microseconds.
	LCPUPerOpUs float64

	dirs []string
	// results holds the rows of the scenarios run so far, by name.
	results map[string]*Result
	// fleetInProcess runs the client fleet in a goroutine instead of a child process.
	fleetInProcess bool
}

// timed returns the length of a timed scenario.
func (r *Runner) timed() time.Duration {
	if r.Opts.Quick {
		return min(r.Opts.Duration, 300*time.Millisecond)
	}
	return r.Opts.Duration
}

// scale returns full, or quick in a --quick run.
func (r *Runner) scale(full, quick int) int {
	if r.Opts.Quick {
		return quick
	}
	return full
}

// Run runs the selected scenarios and returns the report. A scenario that fails is
// reported with its error and the run goes on.
func Run(ctx context.Context, o Options, env Env) (*Report, error) {
	if env.Start == nil {
		return nil, errors.New("bench: no server constructor")
	}
	names := o.Scenarios
	if len(names) == 0 {
		names = Scenarios()
	}
	var notes []string
	needL := false
	for _, n := range names {
		s, _ := lookup(n)
		needL = needL || s.NeedsL
	}
	if needL && !slices.Contains(names, "loopback") {
		names = append([]string{"loopback"}, names...)
		notes = append(notes, "loopback added: the ratios need L from the same run")
	} else if needL && names[0] != "loopback" {
		names = append([]string{"loopback"}, slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "loopback" })...)
	}

	stop, err := startProfiles(o)
	if err != nil {
		return nil, err
	}
	r := &Runner{Opts: o, Env: env, results: make(map[string]*Result)}
	defer r.cleanup()

	rep := &Report{
		Date: time.Now().Format(time.RFC3339), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUs: runtime.NumCPU(), Quick: o.Quick, Concurrency: o.Concurrency, Duration: r.timed().String(),
		Store: o.Store, Durability: o.Durability, Notes: notes,
	}
	if !resetPeakRSS() {
		rep.Notes = append(rep.Notes, "peak RSS is the process peak since start (this kernel does not allow resetting VmHWM)")
	}
	prev := ""
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			break
		}
		s, _ := lookup(name)
		if s.NeedsL && prev != "loopback" && r.L > 0 {
			// The speed a shared machine gives this process drifts over minutes, so each
			// ratio is taken against an L measured right before its scenario.
			r.remeasureL(ctx)
		}
		prev = name
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		m := startMeter()
		var (
			res *Result
			err error
		)
		// Profile samples carry the scenario's name: go tool pprof -tagfocus=scenario=drain.
		// Goroutines a scenario starts (its server's among them) inherit the label.
		pprof.Do(ctx, pprof.Labels("scenario", name), func(ctx context.Context) {
			res, err = s.Run(ctx, r)
		})
		if res == nil {
			res = &Result{}
		}
		res.Scenario = name
		if err != nil {
			res.Error = err.Error()
		}
		res.PeakRSS = max(res.PeakRSS, peakRSS())
		if res.CPUPerOpUs == 0 {
			res.setCPU(m.since())
		}
		if s.NeedsL && r.L > 0 && res.OpsPerSec > 0 {
			res.L, res.LCPUPerOpUs = r.L, r.LCPUPerOpUs
			res.RatioToL = res.OpsPerSec / r.L
			if r.LCPUPerOpUs > 0 && res.CPUPerOpUs > 0 {
				res.RatioToLByCPU = r.LCPUPerOpUs / res.CPUPerOpUs
			}
		}
		if name == "loopback" && res.Error == "" {
			r.L, r.LCPUPerOpUs = res.OpsPerSec, res.CPUPerOpUs
			rep.L, rep.LCPUPerOpUs = r.L, r.LCPUPerOpUs
		}
		if s.Judge != nil && res.Error == "" {
			s.Judge(r, res)
			if o.Quick {
				res.TargetMet = nil // a smoke run measures nothing
			}
		}
		rep.Results = append(rep.Results, res)
		r.results[name] = res
	}
	if err := stop(); err != nil {
		return rep, err
	}
	return rep, ctx.Err()
}

// remeasureL runs the loopback again, for at most 3 s, and makes it the current L.
func (r *Runner) remeasureL(ctx context.Context) {
	o := r.Opts
	o.Duration = min(r.timed(), 3*time.Second)
	sub := &Runner{Opts: o, Env: r.Env}
	m := startMeter()
	var res *Result
	pprof.Do(ctx, pprof.Labels("scenario", "loopback"), func(ctx context.Context) {
		res, _ = runLoopback(ctx, sub)
	})
	if res == nil || res.OpsPerSec <= 0 {
		return // keep the previous L
	}
	res.setCPU(m.since())
	r.L, r.LCPUPerOpUs = res.OpsPerSec, res.CPUPerOpUs
}

// newDataDir returns a fresh temporary data directory, removed at the end of the run
// unless --keep.
func (r *Runner) newDataDir(name string) (string, error) {
	if r.Opts.DataDir != "" {
		if err := os.MkdirAll(r.Opts.DataDir, 0o755); err != nil {
			return "", err
		}
	}
	dir, err := os.MkdirTemp(r.Opts.DataDir, "roomd-bench-"+name+"-")
	if err != nil {
		return "", err
	}
	r.dirs = append(r.dirs, dir)
	return dir, nil
}

func (r *Runner) cleanup() {
	if r.Opts.Keep {
		for _, d := range r.dirs {
			fmt.Fprintf(r.Env.Stderr, "roomd bench: kept %s\n", d)
		}
		return
	}
	for _, d := range r.dirs {
		os.RemoveAll(d)
	}
}

func startProfiles(o Options) (stop func() error, err error) {
	var cpu *os.File
	if o.CPUProfile != "" {
		if cpu, err = os.Create(o.CPUProfile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, err
		}
	}
	if o.MutexProfile != "" {
		runtime.SetMutexProfileFraction(10)
	}
	if o.BlockProfile != "" {
		runtime.SetBlockProfileRate(int((10 * time.Microsecond).Nanoseconds()))
	}
	if o.MemProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	write := func(path, profile string) error {
		if path == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.Lookup(profile).WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		errs = append(errs, write(o.MemProfile, "allocs"), write(o.MutexProfile, "mutex"), write(o.BlockProfile, "block"))
		return errors.Join(errs...)
	}, nil
}
