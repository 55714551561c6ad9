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
