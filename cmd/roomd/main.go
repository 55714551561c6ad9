// Command roomd is a self-hostable live room backend, wire-compatible with the server side of
// Tencent Cloud TUILiveKit. See README.md.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/roomd/roomd/internal/app"
)

func main() {
	err := app.Main(context.Background(), os.Args[1:], app.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil && err != app.ErrUsage {
		fmt.Fprintln(os.Stderr, "roomd:", err)
	}
	os.Exit(app.ExitCode(err))
}
