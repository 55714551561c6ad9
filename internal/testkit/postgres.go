package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresServer returns the DSN of the PostgreSQL server the tests may use,
// ROOMD_TEST_POSTGRES_DSN (.ci/run starts one). Without it the test skips, unless CI is
// set: then it fails, so that CI cannot pass without running the PostgreSQL tests.
func PostgresServer(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ROOMD_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ROOMD_TEST_POSTGRES_DSN is not set, and CI is: the PostgreSQL tests must run")
		}
		t.Skip("ROOMD_TEST_POSTGRES_DSN is not set")
	}
	return dsn
}

// PostgresDatabase creates a database with a random name on the test server
// (PostgresServer) and returns a URL-form DSN of it; the database is dropped when t ends,
// with FORCE, so that processes a test left connected do not keep it. A whole database
// rather than a schema: several roomd processes share it, and what they share beyond
// tables — LISTEN/NOTIFY channels, advisory locks — is per database, so tests running at
// the same time must not share one.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	server := PostgresServer(t)
	name := randomName("roomd_t_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(server)
	if err != nil {
		t.Fatalf("parse ROOMD_TEST_POSTGRES_DSN: %v", err)
	}
	return PostgresURL(cfg.Host, cfg.Port, cfg.User, cfg.Password, name)
}

// PostgresSchema creates a schema with a random name on the test server (PostgresServer)
// and returns a DSN of the server whose search_path is that schema; the schema is dropped
// when t ends. A fresh schema is much cheaper than a fresh database: it is what a test of
// one roomd process needs (several processes need PostgresDatabase).
func PostgresSchema(t testing.TB) string {
	t.Helper()
	server := PostgresServer(t)
	name := randomName("roomd_test_")
	admin, err := pgx.Connect(context.Background(), server)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	// pgx passes a DSN key it does not know on to the server as a run-time parameter.
	sep := " "
	if strings.HasPrefix(server, "postgres://") || strings.HasPrefix(server, "postgresql://") {
		sep = "?"
		if strings.Contains(server, "?") {
			sep = "&"
		}
	}
	return server + sep + "search_path=" + name
}

// PostgresURL returns the DSN postgres://user:password@host:port/database?sslmode=disable
// (the test server is on loopback, without TLS). A test that reaches the server through a
// proxy builds the proxy's DSN with it.
func PostgresURL(host string, port uint16, user, password, database string) string {
	u := url.URL{Scheme: "postgres", Host: host + ":" + strconv.Itoa(int(port)), Path: "/" + database, RawQuery: "sslmode=disable"}
	if strings.HasPrefix(host, "/") { // a Unix socket directory
		u.Host = ""
		u.RawQuery += "&host=" + url.QueryEscape(host) + "&port=" + strconv.Itoa(int(port))
	}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

// randomName returns prefix followed by 16 random hex digits: a database or schema name no
// other test running at the same time uses.
func randomName(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
