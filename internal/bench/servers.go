package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roomd/roomd/internal/config"
)

// startServer starts the server of one scenario for cfg, whose data directory is dir: in the
// bench process with --in-process, else as separate roomd processes (see proc.go). With
// --store postgres it first creates a fresh database on the --postgres-dsn server; drop, when
// not nil, drops it and must be called after the server is closed.
func (r *Runner) startServer(ctx context.Context, cfg *config.Config, name, dir string) (srv Server, drop func(), err error) {
	if cfg.Store.Driver == config.DriverPostgres {
		dsn, dropDB, err := createDatabase(ctx, r.Opts.DSN)
		if err != nil {
			return nil, nil, err
		}
		cfg.Store.DSN = dsn
		defer func() {
			if err != nil {
				dropDB()
			}
		}()
		drop = dropDB
	}
	if r.Opts.InProcess {
		srv, err = r.Env.Start(ctx, cfg)
		return srv, drop, err
	}
	exe := r.Env.Exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, nil, err
		}
	}
	cfg.Log.Level = "error" // the bench's own output is the table
	nodes := max(r.Opts.Nodes, 1)
	c := &cluster{}
	for i := range nodes {
		ncfg := *cfg
		ndir := dir
		pname := "roomd"
		if nodes > 1 {
			ndir = filepath.Join(dir, fmt.Sprintf("node-%d", i))
			if err := os.MkdirAll(ndir, 0o755); err != nil {
				c.Close(context.Background())
				return nil, nil, err
			}
			ncfg.DataDir = ndir
			if err := clusterConfig(&ncfg, i); err != nil {
				c.Close(context.Background())
				return nil, nil, err
			}
			pname = fmt.Sprintf("roomd node %d", i)
		}
		p, err := startProc(ctx, &ncfg, procOptions{
			exe: exe, env: r.Env.ExeEnv, dir: ndir, profile: r.profilePath(name, i, nodes),
			stderr: r.Env.Stderr, name: pname,
		})
		if err != nil {
			c.Close(context.Background())
			return nil, nil, err
		}
		c.nodes = append(c.nodes, p)
	}
	return c, drop, nil
}

// profilePath is where node i of the scenario's server writes its CPU profile: --cpuprofile
// with the scenario (and the node, if several) inserted before the extension; "" for none.
func (r *Runner) profilePath(scenario string, node, nodes int) string {
	p := r.Opts.CPUProfile
	if p == "" {
		return ""
	}
	ext := filepath.Ext(p)
	tag := "." + scenario
	if nodes > 1 {
		tag += fmt.Sprintf(".node%d", node)
	}
	return strings.TrimSuffix(p, ext) + tag + ext
}

// createDatabase creates a database with a fresh name on the PostgreSQL server of
// serverDSN and returns a DSN for it and a function that drops it.
func createDatabase(ctx context.Context, serverDSN string) (dsn string, drop func(), err error) {
	b := make([]byte, 6)
	rand.Read(b)
	name := "roomd_bench_" + hex.EncodeToString(b)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, serverDSN)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("postgres: create database: %w", err)
	}
	dsn, err = withDatabase(serverDSN, name)
	if err != nil {
		return "", nil, err
	}
	drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverDSN)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return dsn, drop, nil
}

// withDatabase returns dsn (a URL or a keyword/value string) with its database set to name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("postgres DSN: %w", err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}
