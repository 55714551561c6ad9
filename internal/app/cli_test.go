package app_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
)

// Every subcommand answers -h and --help with its usage and exit status 0, and does
// nothing else: no data directory appears, no migration runs, nothing listens. (serve -h
// used to print the usage and then serve, creating ./roomd-data.)
func TestHelpFlagPrintsUsageAndDoesNothing(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "usersig", "receive", "bench", "client", "version"} {
		for _, help := range []string{"-h", "--help", "-help"} {
			t.Run(cmd+" "+help, func(t *testing.T) {
				dir := t.TempDir()
				t.Chdir(dir)
				// Bounded, so that a command that ignores -h and serves returns (and fails
				// the checks below) instead of hanging the test.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				var stdout, stderr bytes.Buffer
				start := time.Now()
				err := app.Main(ctx, []string{cmd, help}, app.Env{Stdout: &stdout, Stderr: &stderr,
					Getenv: func(string) string { return "" }})
				if code := app.ExitCode(err); code != 0 {
					t.Errorf("exit status %d (%v), want 0", code, err)
				}
				if time.Since(start) > 4*time.Second {
					t.Errorf("roomd %s %s ran until its context ended", cmd, help)
				}
				out := stdout.String() + stderr.String()
				if !strings.Contains(out, "Usage") || !strings.Contains(out, "roomd "+cmd) {
					t.Errorf("no usage of roomd %s printed:\nstdout: %s\nstderr: %s", cmd, stdout.String(), stderr.String())
				}
				if cmd == "version" && strings.Contains(stdout.String(), "roomd dev") {
					t.Errorf("version printed as well as the usage: %q", stdout.String())
				}
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					t.Errorf("roomd %s %s created %s in the working directory", cmd, help, e.Name())
				}
			})
		}
	}
}

// A stray argument is a usage error of every subcommand: exit status 2, and the message
// says "usage error" once (the bench's used to say it twice).
func TestStrayArgumentIsOneUsageError(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "usersig", "receive", "bench", "client"} {
		t.Run(cmd, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			err := app.Main(context.Background(), []string{cmd, "stray"}, app.Env{Stdout: &stdout, Stderr: &stderr,
				Getenv: func(string) string { return "" }})
			if code := app.ExitCode(err); code != 2 {
				t.Fatalf("exit status %d (%v), want 2", code, err)
			}
			if n := strings.Count(err.Error(), "usage error"); n != 1 {
				t.Errorf("error %q says \"usage error\" %d times, want once", err, n)
			}
			if !strings.Contains(err.Error(), `"stray"`) {
				t.Errorf("error %q does not name the stray argument", err)
			}
		})
	}
}
