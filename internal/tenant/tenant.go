// Package tenant holds the apps (SDKAppIDs) a roomd process serves: each app's secret key,
// its App admins and its per-app limits.
package tenant

import (
	"slices"
	"sort"
)

// App is one SDKAppID served by this process.
type App struct {
	ID        uint64
	SecretKey string
	// Admins are the App admin UserIDs, the only identities allowed to call the REST API.
	Admins []string
	// RoomQuota is the app's room quota; 0 means none.
	RoomQuota int
	// RateLimitEnabled switches the per-API frequency limits on.
	RateLimitEnabled bool
	// RateLimits overrides Tencent's per-API limits, keyed by "service/command".
	RateLimits map[string]int
}

// IsAdmin reports whether userID is an App admin of a.
func (a *App) IsAdmin(userID string) bool { return slices.Contains(a.Admins, userID) }

// Registry is the fixed set of apps of a process.
type Registry struct {
	apps map[uint64]*App
}

// NewRegistry returns a registry of apps.
func NewRegistry(apps ...*App) *Registry {
	r := &Registry{apps: make(map[uint64]*App, len(apps))}
	for _, a := range apps {
		r.apps[a.ID] = a
	}
	return r
}

// Get returns the app with the given SDKAppID.
func (r *Registry) Get(id uint64) (*App, bool) {
	a, ok := r.apps[id]
	return a, ok
}

// All returns the apps in SDKAppID order.
func (r *Registry) All() []*App {
	out := make([]*App, 0, len(r.apps))
	for _, a := range r.apps {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
