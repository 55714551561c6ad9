// Package bench implements `roomd bench`: for each scenario of a registry it starts roomd
// as a separate `roomd serve` process (or several, --nodes) on a fresh temporary data
// directory or PostgreSQL database, runs a callback receiver and a load generator in the
// bench process, and prints one table of throughput, roomd's own CPU time per operation,
// latency and memory.
//
// Because the machine it runs on may be small and shared, every figure is also given as a
// ratio to L, measured in the same run by the loopback scenario: a Go net/http client
// sending small JSON POSTs to a trivial Go net/http server on 127.0.0.1 at the same
// concurrency. Throughput is divided by L's rate ("x L"); roomd's CPU time per operation
// (the server processes' utime + stime over the measured window, divided by the operations
// completed) is divided by L's CPU time per exchange, client and server together ("cpu/op
// (L)"). Each callback costs at least one such exchange and each REST call another.
//
// A scenario that involves callbacks counts only callbacks the receiver got and verified:
// the right fields, per room in the order the REST API acknowledged the changes, none
// missing. A bench run whose callbacks do not verify reports an error, never a rate.
package bench

import (
	"cmp"
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

// EnvPostgresDSN names the environment variable holding the PostgreSQL server of
// --store postgres when --postgres-dsn is not given.
const EnvPostgresDSN = "ROOMD_BENCH_POSTGRES_DSN"

// ErrUsage marks a command-line mistake.
var ErrUsage = errors.New("usage error")

// Server is the running roomd a scenario talks to.
type Server interface {
	// URL is the base URL of the REST API, such as http://127.0.0.1:41234.
	URL() string
	Close(ctx context.Context) error
}

// Env is what the bench needs from its caller. Start builds and starts a roomd server
// in-process for cfg (--in-process); it is injected (by package app) so that this package
// does not import the wiring.
type Env struct {
	Stdout, Stderr io.Writer
	Start          func(ctx context.Context, cfg *config.Config) (Server, error)
	// Exe is the roomd executable started as `roomd serve` for each scenario; empty means
	// this process's own executable. ExeEnv is added to its environment.
	Exe    string
	ExeEnv []string
}

// serverMeter is what the bench reads from a server running in other processes.
type serverMeter interface {
	// CPU is the CPU time the server's processes have used so far.
	CPU() time.Duration
	RSS() int64
	PeakRSS() int64
}

// multiNode is a server of several nodes.
type multiNode interface {
	URLs() []string
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
	Keep  bool
	Store string
	// DSN is the PostgreSQL server the bench creates a fresh database on, for each
	// scenario (--postgres-dsn, ROOMD_BENCH_POSTGRES_DSN).
	DSN        string
	Durability string
	// InProcess runs the server in the bench process (the CPU figures then include the
	// load generator and the receiver).
	InProcess bool
	// Nodes is the number of roomd processes on one PostgreSQL database.
	Nodes int
	// Soak is the length of the soak scenario.
	Soak time.Duration
	// Repeat is how many times each scenario judged against L runs, each run against the
	// mean of L measured just before and just after it (bracketL); its row is the median
	// run (pickMedian).
	Repeat int

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
	// L and LCPUPerOpUs are the loopback figures the ratios were computed against. For a
	// scenario judged against L they are the means of L measured just before its run (the
	// loopback row's, for the scenario right after it) and just after it (bracketL); for
	// the others, the L current when they ran.
	L           float64 `json:"l_ops_per_sec,omitempty"`
	LCPUPerOpUs float64 `json:"l_cpu_us_per_op,omitempty"`
	// LBracketed says L and LCPUPerOpUs are such means.
	LBracketed bool `json:"l_bracketed,omitempty"`
	// RatioToLByCPU is L's CPU time per request divided by this scenario's CPU time per
	// operation, process-wide: the ratio the scenario would reach if both were limited by
	// CPU alone. Set with --in-process only (in process mode see RoomdCPUPerOpL).
	RatioToLByCPU float64 `json:"ratio_to_l_by_cpu,omitempty"`
	// LatencyOf says what the latency columns measure; empty when they are not measured.
	LatencyOf string  `json:"latency_of,omitempty"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// PeakRSS is the server's peak resident set while the scenario ran (VmHWM of the
	// server processes, summed; with --in-process the bench process's, reset before each
	// scenario where the kernel allows it).
	PeakRSS int64 `json:"peak_rss_bytes"`
	// CPUPerOp is the bench process's CPU time (user + system, all goroutines: the load
	// generator and the receiver, and the server too with --in-process) per operation.
	CPUPerOpUs float64 `json:"cpu_us_per_op,omitempty"`
	// RoomdCPUPerOpUs is roomd's own CPU time per operation: the server processes' user +
	// system time over the measured window divided by the operations completed (with
	// --in-process, the whole process's, as CPUPerOpUs). Unlike a rate it hardly depends on
	// what else the machine is running, so it is the figure to compare between two builds.
	RoomdCPUPerOpUs float64 `json:"roomd_cpu_us_per_op,omitempty"`
	// RoomdCPUPerOpL is RoomdCPUPerOpUs in units of L's CPU time per exchange (client and
	// server together) of the same run: the "cpu/op (L)" column.
	RoomdCPUPerOpL float64 `json:"roomd_cpu_per_op_l,omitempty"`
	// Runs is RoomdCPUPerOpL of every run of a repeated scenario (--repeat), in run order;
	// the row is the median one.
	Runs []float64 `json:"runs_roomd_cpu_per_op_l,omitempty"`
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

// setCPU sets CPUPerOpUs and RoomdCPUPerOpUs from the usage of the measured phase; a
// scenario that does not call it gets the bench process's CPU time of its whole run,
// set-up included, and no roomd CPU time.
func (r *Result) setCPU(u usage) {
	if r.Ops <= 0 {
		return
	}
	if u.cpu > 0 {
		r.CPUPerOpUs = float64(u.cpu.Microseconds()) / float64(r.Ops)
		r.AllocPerOp = float64(u.alloc) / float64(r.Ops)
	}
	switch {
	case u.hasServer:
		r.RoomdCPUPerOpUs = float64(u.server.Microseconds()) / float64(r.Ops)
	case u.inProcess:
		r.RoomdCPUPerOpUs = r.CPUPerOpUs
	}
}

// meter marks the start of a measured phase: CPU time and bytes allocated so far, in the
// bench process and, when it runs apart, in the server.
type meter struct {
	cpu       time.Duration
	alloc     uint64
	srv       serverMeter
	srvCPU    time.Duration
	inProcess bool
}

// usage is what a measured phase used.
type usage struct {
	cpu   time.Duration // the bench process's CPU time
	alloc uint64        // bytes the bench process allocated
	// server is the server processes' CPU time, when hasServer.
	server    time.Duration
	hasServer bool
	// inProcess says the server ran in the bench process (its CPU time is in cpu).
	inProcess bool
}

// startMeter starts a meter of the bench process alone.
func startMeter() meter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return meter{cpu: cpuTime(), alloc: ms.TotalAlloc}
}

// startMeter starts a meter of the bench process and the app's server.
func (a *benchApp) startMeter() meter {
	m := startMeter()
	if sm, ok := a.srv.(serverMeter); ok {
		m.srv, m.srvCPU = sm, sm.CPU()
	} else {
		m.inProcess = true
	}
	return m
}

// since returns what was used since m.
func (m meter) since() usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := usage{cpu: cpuTime() - m.cpu, alloc: ms.TotalAlloc - m.alloc, inProcess: m.inProcess}
	if m.srv != nil {
		u.server, u.hasServer = m.srv.CPU()-m.srvCPU, true
	}
	return u
}

func (r *Result) judge(target string, met bool) {
	r.Target = target
	r.TargetMet = &met
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Report is the whole output of a run (the --json document).
type Report struct {
	Date        string `json:"date"`
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	CPUs        int    `json:"cpus"`
	Quick       bool   `json:"quick"`
	Concurrency int    `json:"concurrency"`
	Duration    string `json:"duration"`
	Store       string `json:"store"`
	Durability  string `json:"durability"`
	// Server is "process" (separate roomd processes, the default) or "in-process".
	Server string `json:"server"`
	Nodes  int    `json:"nodes"`
	// Repeat is the runs of each scenario judged against L (--repeat).
	Repeat int `json:"repeat"`
	// LoadAverage is /proc/loadavg's 1-, 5- and 15-minute load when the run started.
	LoadAverage string    `json:"load_average,omitempty"`
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

For each scenario, starts roomd serve as a separate process on a temporary data directory
(SQLite by default; --store postgres: a fresh database), with a callback receiver and a
load generator in this process on 127.0.0.1, and prints one table. Throughputs are given as
a ratio to L, the loopback HTTP ceiling measured in the same run, and roomd's own CPU time
per operation in units of L's CPU time per exchange ("cpu/op (L)").

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
	fs.IntVar(&o.Repeat, "repeat", 1, "runs of each scenario judged against L (owner-change, create-room, drain, client-owner-change), each against the mean of L measured just before and after it; the row is the median run")
	fs.BoolVar(&o.Quick, "quick", false, "short smoke run with scaled-down counts (not a measurement)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.StringVar(&o.DataDir, "data", "", "parent directory of the temporary data directories (default the system temp dir)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the data directories")
	fs.StringVar(&o.Store, "store", config.DriverSQLite, "store driver: sqlite | postgres")
	fs.StringVar(&o.DSN, "postgres-dsn", "", "PostgreSQL server on which each scenario gets a fresh database, created and dropped by the bench (default $"+EnvPostgresDSN+")")
	fs.StringVar(&o.DSN, "dsn", "", "same as --postgres-dsn")
	fs.StringVar(&o.Durability, "durability", config.DurabilityProcess, "store.durability: process (survives kill -9) | power (fsync every commit; sqlite)")
	fs.IntVar(&o.Nodes, "nodes", 1, "roomd processes on one database (postgres only); REST load is spread over them")
	fs.BoolVar(&o.InProcess, "in-process", false, "run the server inside the bench process (CPU figures then include the load generator)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "CPU profile of the server: each scenario's roomd writes FILE with the scenario inserted before the extension (cpu.owner-change.pprof); with --in-process, one profile of the whole run")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile of the bench process to this file")
	fs.StringVar(&o.MutexProfile, "mutexprofile", "", "write a mutex contention profile of the bench process to this file")
	fs.StringVar(&o.BlockProfile, "blockprofile", "", "write a goroutine blocking profile of the bench process to this file")
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
	if o.Repeat < 1 || o.Repeat > 20 {
		return nil, fmt.Errorf("%w: --repeat must be from 1 to 20", ErrUsage)
	}
	if o.DSN == "" {
		o.DSN = os.Getenv(EnvPostgresDSN)
	}
	switch o.Store {
	case config.DriverSQLite:
		o.DSN = ""
	case config.DriverPostgres:
		if o.DSN == "" {
			return nil, fmt.Errorf("%w: --store postgres needs --postgres-dsn or $%s", ErrUsage, EnvPostgresDSN)
		}
	default:
		return nil, fmt.Errorf("%w: --store must be sqlite or postgres", ErrUsage)
	}
	if o.Nodes < 1 || o.Nodes > 16 {
		return nil, fmt.Errorf("%w: --nodes must be from 1 to 16", ErrUsage)
	}
	if o.Nodes > 1 && o.Store != config.DriverPostgres {
		return nil, fmt.Errorf("%w: --nodes needs --store postgres (several processes share one database)", ErrUsage)
	}
	if o.Nodes > 1 && o.InProcess {
		return nil, fmt.Errorf("%w: --nodes runs separate processes: not with --in-process", ErrUsage)
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
	// serverPeak is the peak resident set of the servers closed since it was last reset.
	serverPeak int64
	// lAfter says L was measured right after the last run (bracketL) and nothing has run
	// since: the next run judged against L takes it as its "before" without measuring again.
	lAfter bool
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
	if o.InProcess && env.Start == nil {
		return nil, errors.New("bench: no server constructor")
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	names := o.Scenarios
	var notes []string
	if len(names) == 0 {
		names = Scenarios()
		if o.Store != "" && o.Store != config.DriverSQLite {
			// The soak scenario watches the SQLite files.
			names = slices.DeleteFunc(names, func(n string) bool { return n == "soak" })
			notes = append(notes, "soak not run: it measures the SQLite database files")
		}
	}
	// Every figure is given in units of L, so loopback runs first.
	if !slices.Contains(names, "loopback") {
		names = append([]string{"loopback"}, names...)
		notes = append(notes, "loopback added: the ratios need L from the same run")
	} else if names[0] != "loopback" {
		names = append([]string{"loopback"}, slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "loopback" })...)
	}

	po := o
	if !o.InProcess {
		po.CPUProfile = "" // each server process writes its own
	}
	stop, err := startProfiles(po)
	if err != nil {
		return nil, err
	}
	r := &Runner{Opts: o, Env: env, results: make(map[string]*Result)}
	defer r.cleanup()

	rep := &Report{
		Date: time.Now().Format(time.RFC3339), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUs: runtime.NumCPU(), Quick: o.Quick, Concurrency: o.Concurrency, Duration: r.timed().String(),
		Store: o.Store, Durability: o.Durability, Notes: notes, Server: "process", Nodes: o.Nodes, Repeat: max(o.Repeat, 1), LoadAverage: loadAverage(),
	}
	if o.InProcess {
		rep.Server = "in-process"
		rep.Notes = append(rep.Notes, "--in-process: the server ran in the bench process; its CPU and memory figures include the load generator and the receiver")
		if !resetPeakRSS() {
			rep.Notes = append(rep.Notes, "peak RSS is the process peak since start (this kernel does not allow resetting VmHWM)")
		}
	}
	prev := ""
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			break
		}
		s, _ := lookup(name)
		runs := 1
		if s.NeedsL {
			runs = max(o.Repeat, 1)
		}
		var all []*Result
		for i := range runs {
			if i > 0 && ctx.Err() != nil {
				break
			}
			if s.NeedsL && (prev != "loopback" || i > 0) && r.L > 0 && !r.lAfter {
				// The speed a shared machine gives this process drifts over minutes, so each
				// ratio is taken against L measured right before its run and right after it.
				r.remeasureL(ctx)
			}
			r.lAfter = false
			res := r.runOne(ctx, s, rep)
			if s.NeedsL && r.L > 0 && res.Error == "" && ctx.Err() == nil {
				r.bracketL(ctx, res)
			}
			all = append(all, res)
		}
		prev = name
		res := pickMedian(all)
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

// runOne runs scenario s once and returns its row, with its ratios to the current L (not
// judged yet).
func (r *Runner) runOne(ctx context.Context, s Scenario, rep *Report) *Result {
	o, name := r.Opts, s.Name
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	r.serverPeak = 0
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
	if o.InProcess || name == "loopback" {
		res.PeakRSS = max(res.PeakRSS, peakRSS())
	} else {
		res.PeakRSS = max(res.PeakRSS, r.serverPeak)
	}
	if res.CPUPerOpUs == 0 {
		res.setCPU(m.since())
	}
	if name == "loopback" {
		res.RoomdCPUPerOpUs = res.CPUPerOpUs
	}
	if s.NeedsL && r.L > 0 && res.OpsPerSec > 0 {
		res.setRatios(r.L, r.LCPUPerOpUs, o.InProcess)
	}
	if name == "loopback" && res.Error == "" {
		r.L, r.LCPUPerOpUs = res.OpsPerSec, res.CPUPerOpUs
		rep.L, rep.LCPUPerOpUs = r.L, r.LCPUPerOpUs
	}
	if r.LCPUPerOpUs > 0 && res.RoomdCPUPerOpUs > 0 {
		res.L, res.LCPUPerOpUs = r.L, r.LCPUPerOpUs
		res.RoomdCPUPerOpL = res.RoomdCPUPerOpUs / r.LCPUPerOpUs
	}
	return res
}

// pickMedian returns the row of a scenario run len(runs) times: the run with the median
// roomd cpu/op in L (the higher of the middle two for an even count), noting every run's;
// the first failed run, if one failed, so that no failure hides behind a median.
func pickMedian(runs []*Result) *Result {
	if len(runs) == 1 {
		return runs[0]
	}
	if i := slices.IndexFunc(runs, func(res *Result) bool { return res.Error != "" }); i >= 0 {
		runs[i].Notes = append(runs[i].Notes, fmt.Sprintf("run %d of %d failed", i+1, len(runs)))
		return runs[i]
	}
	figures := make([]float64, len(runs))
	for i, res := range runs {
		figures[i] = res.RoomdCPUPerOpL
	}
	byCPU := slices.Clone(runs)
	slices.SortStableFunc(byCPU, func(a, b *Result) int { return cmp.Compare(a.RoomdCPUPerOpL, b.RoomdCPUPerOpL) })
	res := byCPU[len(byCPU)/2]
	res.Runs = figures
	parts := make([]string, len(figures))
	for i, f := range figures {
		parts[i] = fmt.Sprintf("%.2f", f)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("%d runs, each against L measured just before and after it: roomd cpu/op %s L; this row is the median run",
		len(runs), strings.Join(parts, " / ")))
	return res
}

// setRatios sets res's ratios to L (l requests per second, lCPU µs of CPU per exchange):
// throughput, roomd's CPU per operation and, in process, the whole process's.
func (res *Result) setRatios(l, lCPU float64, inProcess bool) {
	res.L, res.LCPUPerOpUs = l, lCPU
	res.RatioToL = res.OpsPerSec / l
	if inProcess && lCPU > 0 && res.CPUPerOpUs > 0 {
		res.RatioToLByCPU = lCPU / res.CPUPerOpUs
	}
	if lCPU > 0 && res.RoomdCPUPerOpUs > 0 {
		res.RoomdCPUPerOpL = res.RoomdCPUPerOpUs / lCPU
	}
}

// bracketL measures L again right after res's run and takes res's ratios against the mean
// of the two L, the one measured before the run (which res's ratios use so far) and this
// one: on this shared machine one 3-second L can be 20 % off the next, and a mean of the
// two around the run follows a drift and halves a swing. The new L stays the current one,
// so that the next run judged against L starts from it.
func (r *Runner) bracketL(ctx context.Context, res *Result) {
	before, beforeCPU := res.L, res.LCPUPerOpUs
	if before <= 0 || beforeCPU <= 0 || !r.remeasureL(ctx) {
		return
	}
	r.lAfter = true
	res.LBracketed = true
	res.setRatios((before+r.L)/2, (beforeCPU+r.LCPUPerOpUs)/2, r.Opts.InProcess)
	res.Notes = append(res.Notes, fmt.Sprintf("L before and after the run: %s / %s req/s, %.1f / %.1f us of CPU per exchange; its ratios use the means",
		thousands(before), thousands(r.L), beforeCPU, r.LCPUPerOpUs))
}

// remeasureL runs the loopback again, for at most 3 s, and makes it the current L; false
// when it did not measure (the previous L stays).
func (r *Runner) remeasureL(ctx context.Context) bool {
	o := r.Opts
	o.Duration = min(r.timed(), 3*time.Second)
	sub := &Runner{Opts: o, Env: r.Env}
	m := startMeter()
	var res *Result
	pprof.Do(ctx, pprof.Labels("scenario", "loopback"), func(ctx context.Context) {
		res, _ = runLoopback(ctx, sub)
	})
	if res == nil || res.OpsPerSec <= 0 {
		return false // keep the previous L
	}
	res.setCPU(m.since())
	r.L, r.LCPUPerOpUs = res.OpsPerSec, res.CPUPerOpUs
	return true
}

// loadAverage is the first three fields of /proc/loadavg; "" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
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
