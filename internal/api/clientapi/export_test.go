package clientapi

import "slices"

// MethodNames returns the names of the method table, sorted.
func MethodNames() []string {
	var names []string
	for name := range (&API{}).methods() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// PushAllThroughPublisher makes every room's pushes go through the publisher's goroutine
// (as a room of asyncFanout connections or more does) until the test ends.
func PushAllThroughPublisher(t interface{ Cleanup(func()) }) {
	old := asyncFanout
	asyncFanout = 0
	t.Cleanup(func() { asyncFanout = old })
}
