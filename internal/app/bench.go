package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/roomd/roomd/internal/bench"
	"github.com/roomd/roomd/internal/config"
)

// cmdBench runs `roomd bench`. The bench package gets the server constructor injected, so
// that it need not import this package.
func cmdBench(ctx context.Context, args []string, env Env) error {
	err := bench.Main(ctx, args, bench.Env{
		Stdout: env.Stdout,
		Stderr: env.Stderr,
		Start: func(ctx context.Context, cfg *config.Config) (bench.Server, error) {
			// Only errors are logged: the bench's own output is the table.
			log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
			srv, err := NewServer(ctx, cfg, Options{Logger: log})
			if err != nil {
				return nil, err
			}
			if err := srv.Start(); err != nil {
				srv.Close(context.Background())
				return nil, err
			}
			return srv, nil
		},
	})
	if errors.Is(err, bench.ErrUsage) {
		return benchUsageError{err}
	}
	return err
}

// benchUsageError is a usage error of the bench package seen as this package's ErrUsage (so
// main exits with status 2), with the bench's message unchanged: it already begins with
// "usage error".
type benchUsageError struct{ error }

func (e benchUsageError) Is(target error) bool { return target == ErrUsage }
func (e benchUsageError) Unwrap() error        { return e.error }
