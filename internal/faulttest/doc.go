// Package faulttest is roomd's fault suite. Its tests build the roomd binary once, start
// real roomd processes on real SQLite files and break things around them: kill -9 under
// load, a callback receiver that is down or never answers, a data directory on a full
// disk, and malformed or oversized requests. They check what the project promises: every
// change that got an OK reply reaches the App backend exactly once or with the same
// webhook-id, in commit order per room; failures are clear Tencent error codes that leave
// no trace; the server never hangs or crashes.
//
// The cluster tests (cluster_test.go) run two or three roomd processes as nodes of one
// cluster over a fresh PostgreSQL database (ROOMD_TEST_POSTGRES_DSN; they fail without it
// when CI is set) and check the same promises across nodes: order whatever node takes a
// change, client pushes across nodes, nothing lost when the delivery leader is killed, and
// a node cut off from the database (through a TCP proxy, testkit.Proxy) handing delivery
// over and recovering.
//
// Run the quick subset with
//
//	go test -short ./internal/faulttest
//
// and everything, including the long variants (20 kills, a 60 s receiver outage), without
// -short. The package holds only tests; this file exists so that the directory is a
// buildable package.
package faulttest
