package store

import (
	"context"
	"time"
)

// CallbackConfigReader holds the read queries of the apps' callback configurations.
type CallbackConfigReader interface {
	// CallbackConfigGet returns the callback configuration of app; ErrNotFound when it has
	// none.
	CallbackConfigGet(ctx context.Context, app uint64) (CallbackConfig, error)
	// CallbackConfigList returns the callback configurations of every app.
	CallbackConfigList(ctx context.Context) ([]CallbackConfig, error)
}

// CallbackConfigWriter holds the write of an app's callback configuration.
type CallbackConfigWriter interface {
	// CallbackConfigPut stores c as the callback configuration of c.App, replacing the
	// earlier one.
	CallbackConfigPut(ctx context.Context, c CallbackConfig) error
}

// CallbackConfig is an app's callback configuration: one URL per SDKAppID and the command
// words switched on (https://www.tencentcloud.com/document/product/647/64420).
type CallbackConfig struct {
	App          uint64
	URL          string
	Commands     []string
	Token        string
	TokenEnabled bool
	UpdatedAt    time.Time
}
