//go:build !(linux && (amd64 || arm64))

package sqlite

// installWALHooks does nothing here: SQLite writes its WAL frames itself (two pwrite calls
// each), as it does on Linux without the hooks of walwrite_linux.go.
func installWALHooks() error { return nil }

// walHeldStats reports no held frames.
func walHeldStats() (frames, flushes int64) { return 0, 0 }
