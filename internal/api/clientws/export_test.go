package clientws

// SetDirectFanout makes publishes to rooms of n sessions or more write to idle sessions
// themselves (Session.send), until the test ends.
func SetDirectFanout(t interface{ Cleanup(func()) }, n int) {
	old := directFanout
	directFanout = n
	t.Cleanup(func() { directFanout = old })
}
