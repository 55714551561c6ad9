package app

import (
	"context"
	"errors"
	"fmt"
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
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return err
}
