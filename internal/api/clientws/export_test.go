package clientws

// SetDirectFanout makes publishes to rooms of n sessions or more write to idle sessions
// themselves (Session.send), until the test ends.
func SetDirectFanout(t interface{ Cleanup(func()) }, n int) {
	old := directFanout
	directFanout = n
	t.Cleanup(func() { directFanout = old })
}

// SetDirectWriters makes a large publish use a writer per chunk recipients (at most
// GOMAXPROCS) that take claim recipients at a time, until the test ends.
func SetDirectWriters(t interface{ Cleanup(func()) }, chunk, claim int) {
	oldChunk, oldClaim := directChunk, directClaim
	directChunk, directClaim = chunk, claim
	t.Cleanup(func() { directChunk, directClaim = oldChunk, oldClaim })
}

// SetFlushClaim makes a flusher take n sessions at a time (so that more flushers start),
// until the test ends.
func SetFlushClaim(t interface{ Cleanup(func()) }, n int) {
	old := flushClaim
	flushClaim = n
	t.Cleanup(func() { flushClaim = old })
}
