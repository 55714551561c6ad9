package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/console"
	"github.com/roomd/roomd/internal/procs"
)

// Version is set at build time with -ldflags "-X github.com/roomd/roomd/internal/app.Version=…".
var Version = ""

// ErrUsage marks a command-line mistake; main exits with status 2 for it.
var ErrUsage = errors.New("usage error")

// errHelp is returned by parseFlags when -h or --help was given and the usage has been
// printed: the subcommand must then do nothing, and Main returns nil (exit status 0).
var errHelp = errors.New("help requested")

// Env is the process environment of a command, replaceable in tests.
type Env struct {
	// Stdin is read by interactive commands (roomd client); nil means os.Stdin.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

func (e Env) stdin() io.Reader {
	if e.Stdin == nil {
		return os.Stdin
	}
	return e.Stdin
}

const usage = `roomd: a self-hostable TUILiveKit-compatible live room backend.

Usage:
  roomd serve    [--config FILE] [--listen ADDR] [--data DIR] [--tls-cert FILE --tls-key FILE]
                 [--ready-file FILE] [--cpuprofile FILE]
  roomd migrate  [--config FILE] [--data DIR]
  roomd usersig  --sdkappid N --user ID [--key KEY | --data DIR] [--expire SECONDS]
  roomd receive  [--listen ADDR] [--token TOKEN] [--signing-secret S …] [--sdkappid N] [--fail-first N]
  roomd client   --user ID [--room ROOM] [--url WS-URL] [--platform P] [--key KEY | --data DIR]
  roomd bench    [--scenarios a,b] [--duration D] [--repeat N] [--quick] [--json] [--cpuprofile FILE …]
  roomd version

Run "roomd COMMAND --help" for the flags of a command.
`

// Main runs the roomd command line. "-h" or "--help" after a subcommand prints that
// subcommand's usage and returns nil without doing anything else.
func Main(ctx context.Context, args []string, env Env) error {
	err := run(ctx, args, env)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func run(ctx context.Context, args []string, env Env) error {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ErrUsage
	}
	switch args[0] {
	case "serve":
		tuneGC(env)
		return cmdServe(ctx, args[1:], env)
	case "migrate":
		return cmdMigrate(ctx, args[1:], env)
	case "usersig":
		return cmdUserSig(args[1:], env)
	case "receive":
		return cmdReceive(ctx, args[1:], env)
	case "client":
		return runClient(ctx, args[1:], env.stdin(), env.Stdout, env.Stderr)
	case "bench":
		tuneGC(env)
		return cmdBench(ctx, args[1:], env)
	case "version", "--version", "-v":
		if err := parseFlags(newFlagSet("version", env), args[1:]); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "roomd", version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(env.Stdout, usage)
		return nil
	default:
		fmt.Fprintf(env.Stderr, "roomd: unknown command %q\n\n%s", args[0], usage)
		return ErrUsage
	}
}

// DefaultGCPercent is the garbage collector's target roomd runs with when GOGC is not set.
// roomd's live heap is small (rooms and queued callbacks live in the database), while every
// request allocates short-lived buffers; collecting at 5× the live heap instead of 2× cut
// the CPU per owner change by about 15 % in roomd bench, for a few tens of MiB more memory.
// GOGC and GOMEMLIMIT in the environment still win.
const DefaultGCPercent = 400

func tuneGC(env Env) {
	if env.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("roomd "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseFlags parses args into fs. It returns errHelp after -h or --help (the flag package
// has printed the usage), and an ErrUsage error for a bad flag or a stray argument; the
// caller must return either at once, before it touches the data directory or the network.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// configFlags are the flags shared by serve and migrate.
type configFlags struct {
	path, listen, data, tlsCert, tlsKey string
}

func (c *configFlags) register(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&c.path, "config", "", "YAML configuration file (default $ROOMD_CONFIG)")
	fs.StringVar(&c.data, "data", "", "data directory (default ./roomd-data)")
	if serve {
		fs.StringVar(&c.listen, "listen", "", "listen address (default 127.0.0.1:8080)")
		fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file: serve HTTPS")
		fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file")
	}
}

func (c *configFlags) load(env Env) (*config.Config, error) {
	path := c.path
	if path == "" {
		path = env.Getenv("ROOMD_CONFIG")
	}
	var o config.Overrides
	set := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	o.Listen, o.DataDir, o.TLSCert, o.TLSKey = set(c.listen), set(c.data), set(c.tlsCert), set(c.tlsKey)
	return config.Load(path, env.Getenv, o)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdServe(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("serve", env)
	var cf configFlags
	cf.register(fs, true)
	readyFile := fs.String("ready-file", "", "once serving, write the base URL (and a newline) to this file; for tools that start roomd on port 0")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the process, from start to shutdown, to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(env)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	log := newLogger(cfg, env.Stderr)
	// GOMAXPROCS follows the CPU roomd uses, from one P up to the default (package procs).
	pctx, stopProcs := context.WithCancel(ctx)
	defer stopProcs()
	gomaxprocs := strconv.Itoa(runtime.GOMAXPROCS(0))
	if procs.Start(pctx, env.Getenv, log) {
		gomaxprocs = "1-" + gomaxprocs + ", by load"
	}
	srv, err := NewServer(ctx, cfg, Options{Logger: log})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		srv.Close(context.Background())
		return err
	}
	printBanner(env.Stdout, srv, cfg)
	if *readyFile != "" {
		// Written whole under another name and renamed, so that a reader never sees half of it.
		tmp := *readyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(srv.URL()+"\n"), 0o644); err == nil {
			err = os.Rename(tmp, *readyFile)
		}
		if err != nil {
			srv.Close(context.Background())
			return fmt.Errorf("ready file: %w", err)
		}
	}
	log.Info("roomd started", "version", version(), "listen", srv.Addr(), "data_dir", cfg.DataDir, "apps", len(srv.Apps.All()), "gomaxprocs", gomaxprocs)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	select {
	case <-ctx.Done():
	case s := <-sigs:
		log.Info("shutting down", "signal", s.String(), "shutdown_timeout", cfg.ShutdownTimeout)
	}
	// A graceful stop, within shutdown_timeout; a second signal cuts it short (what is in
	// flight is left pending, as when the timeout passes).
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	go func() {
		select {
		case s := <-sigs:
			log.Warn("second signal: stopping now", "signal", s.String())
			cancel()
		case <-sctx.Done():
		}
	}()
	return srv.Close(sctx)
}

// startCPUProfile starts the CPU profiler writing to path; stop ends it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func printBanner(w io.Writer, srv *Server, cfg *config.Config) {
	fmt.Fprintf(w, "roomd %s listening on %s (data in %s)\n", version(), srv.URL(), cfg.DataDir)
	if srv.DevKey == "" {
		for _, a := range srv.Apps.All() {
			fmt.Fprintf(w, "  app %d: admins %s\n", a.ID, strings.Join(a.Admins, ", "))
		}
		fmt.Fprintf(w, "  console: %s%s (log in with an App admin's UserSig)\n", srv.URL(), console.Prefix)
		return
	}
	sig, err := usersig.Sign(DevSDKAppID, srv.DevKey, DevAdmin, 180*24*3600, time.Now())
	if err != nil {
		return
	}
	fmt.Fprintf(w, `
No apps configured: serving the development app.
  SDKAppID     %d
  App admin    %s
  Secret key   %s   (kept in %s)
  Admin UserSig, valid 180 days:
    %s

Console (callbacks, rooms, callback settings), logged in as %s:
  %s

Try it:
  curl -s -X POST '%s/v4/im_open_login_svc/account_check?sdkappid=%d&identifier=%s&usersig=%s&random=1&contenttype=json' -d '{"CheckItem":[{"UserID":"%s"}]}'

In the browser (development only): %s/demo — two tabs, two users, one room.
JavaScript client: %s/v1/client.js

`, DevSDKAppID, DevAdmin, srv.DevKey, cfg.DataDir, sig, DevAdmin, console.LoginURL(srv.URL(), DevSDKAppID, DevAdmin, sig),
		srv.URL(), DevSDKAppID, DevAdmin, sig, DevAdmin, srv.URL(), srv.URL())
}

func cmdMigrate(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("migrate", env)
	var cf configFlags
	cf.register(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(env)
	if err != nil {
		return err
	}
	where, v, err := migrateStore(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: schema version %d\n", where, v)
	return nil
}

func cmdUserSig(args []string, env Env) error {
	fs := newFlagSet("usersig", env)
	app := fs.Uint64("sdkappid", DevSDKAppID, "SDKAppID")
	key := fs.String("key", "", "the app's secret key (default: the development key in --data)")
	data := fs.String("data", "./roomd-data", "data directory holding the development key")
	user := fs.String("user", "", "UserID to sign for (required)")
	expire := fs.Int64("expire", 180*24*3600, "lifetime in seconds")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return fmt.Errorf("%w: --user is required", ErrUsage)
	}
	if *expire <= 0 {
		return fmt.Errorf("%w: --expire must be positive", ErrUsage)
	}
	k, err := appKey(*app, *key, *data)
	if err != nil {
		return err
	}
	sig, err := usersig.Sign(*app, k, *user, *expire, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, sig)
	return nil
}

// ExitCode maps an error of Main to the process exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	default:
		return 1
	}
}
