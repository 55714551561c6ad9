package app_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/roomd/roomd/internal/app"
)

// envRunAsRoomd makes the test binary behave as the roomd command: tests that start roomd
// processes (roomd bench starts `roomd serve` from its own executable) set it, and the
// child, this binary again, runs app.Main on its arguments instead of the tests.
const envRunAsRoomd = "ROOMD_TEST_RUN_AS_ROOMD"

func TestMain(m *testing.M) {
	if os.Getenv(envRunAsRoomd) == "1" {
		err := app.Main(context.Background(), os.Args[1:], app.Env{Stdout: os.Stdout, Stderr: os.Stderr})
		if err != nil && err != app.ErrUsage {
			fmt.Fprintln(os.Stderr, "roomd:", err)
		}
		os.Exit(app.ExitCode(err))
	}
	os.Exit(m.Run())
}
