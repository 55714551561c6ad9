// Package faulttest is roomd's fault suite. Its tests build the roomd binary once, start
// real roomd processes on real SQLite files and break things around them: kill -9 under
// load, a callback receiver that is down or never answers, a data directory on a full
// disk, and malformed or oversized requests. They check what the project promises: every
// change that got an OK reply reaches the App backend exactly once or with the same
// webhook-id, in commit order per room; failures are clear Tencent error codes that leave
// no trace; the server never hangs or crashes.
//
// Run the quick subset with
//
//	go test -short ./internal/faulttest
//
// and everything, including the long variants (20 kills, a 60 s receiver outage), without
// -short. The package holds only tests; this file exists so that the directory is a
// buildable package.
package faulttest
