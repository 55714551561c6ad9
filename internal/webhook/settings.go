package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Errors of the v4/live_config APIs; package api/rest maps them to Tencent codes.
var (
	// ErrInvalid marks a malformed configuration request (100002), wrapped with the detail.
	ErrInvalid = errors.New("invalid parameter")
	// ErrConfigExists: set_callback on an app that already has a callback URL (100300).
	ErrConfigExists = errors.New("callback configuration already exists, use update_callback")
	// ErrConfigNotFound: update or get on an app without a callback URL (100301).
	ErrConfigNotFound = errors.New("callback configuration does not exist, use set_callback")
)

// MaxTokenLength is the longest callback token (spec §1.6: 1 to 128 characters).
const MaxTokenLength = 128

// Settings manages the per-app callback configuration behind v4/live_config: it persists
// every change and publishes it to Configs once committed.
type Settings struct {
	store   store.Store
	configs *Configs
	now     func() time.Time
}

// NewSettings returns the configuration service.
func NewSettings(s store.Store, configs *Configs, now func() time.Time) *Settings {
	return &Settings{store: s, configs: configs, now: now}
}

// ValidateURL checks a callback URL: absolute http:// or https:// with a host.
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: Url must be an http:// or https:// URL", ErrInvalid)
	}
	return nil
}

func validateCommands(cmds []string) error {
	if cmds == nil {
		return fmt.Errorf("%w: CallbackCommandList is required", ErrInvalid)
	}
	for _, c := range cmds {
		if !Known(c) {
			return fmt.Errorf("%w: unknown callback command %q", ErrInvalid, c)
		}
	}
	return nil
}

// Load publishes the stored configuration of every app; call it at start-up, after the
// static settings (timeouts, retry policy) are in Configs.
func (s *Settings) Load(ctx context.Context) error {
	list, err := s.store.CallbackConfigList(ctx)
	if err != nil {
		return err
	}
	for _, c := range list {
		s.configs.Update(c.App, func(cfg *Config) {
			cfg.URL, cfg.Commands, cfg.Token, cfg.TokenEnabled = c.URL, c.Commands, c.Token, c.TokenEnabled
		})
	}
	return nil
}

// put reads the stored configuration inside the transaction (so concurrent changes see
// each other), checks it, changes it and publishes the result after commit.
func (s *Settings) put(ctx context.Context, app uint64, check func(cur store.CallbackConfig) error, change func(c *store.CallbackConfig)) error {
	return s.store.Tx(ctx, func(tx store.Tx) error {
		cur, err := tx.CallbackConfigGet(ctx, app)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := check(cur); err != nil {
			return err
		}
		c := cur
		c.App, c.UpdatedAt = app, s.now()
		change(&c)
		if err := tx.CallbackConfigPut(ctx, c); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			s.configs.Update(app, func(cfg *Config) {
				cfg.URL, cfg.Commands, cfg.Token, cfg.TokenEnabled = c.URL, c.Commands, c.Token, c.TokenEnabled
			})
		})
		return nil
	})
}

// SetCallback creates the app's callback configuration (set_callback).
func (s *Settings) SetCallback(ctx context.Context, app uint64, rawURL string, cmds []string) error {
	if err := ValidateURL(rawURL); err != nil {
		return err
	}
	if err := validateCommands(cmds); err != nil {
		return err
	}
	return s.put(ctx, app, func(cur store.CallbackConfig) error {
		if cur.URL != "" {
			return ErrConfigExists
		}
		return nil
	}, func(c *store.CallbackConfig) { c.URL, c.Commands = rawURL, slices.Clone(cmds) })
}

// UpdateCallback replaces the URL and command list of an existing configuration.
func (s *Settings) UpdateCallback(ctx context.Context, app uint64, rawURL string, cmds []string) error {
	if err := ValidateURL(rawURL); err != nil {
		return err
	}
	if err := validateCommands(cmds); err != nil {
		return err
	}
	return s.put(ctx, app, func(cur store.CallbackConfig) error {
		if cur.URL == "" {
			return ErrConfigNotFound
		}
		return nil
	}, func(c *store.CallbackConfig) { c.URL, c.Commands = rawURL, slices.Clone(cmds) })
}

// GetCallback returns the URL and command list (get_callback).
func (s *Settings) GetCallback(app uint64) (string, []string, error) {
	cur := s.configs.Get(app)
	if cur == nil || cur.URL == "" {
		return "", nil, ErrConfigNotFound
	}
	cmds := cur.Commands
	if cmds == nil {
		cmds = []string{}
	}
	return cur.URL, cmds, nil
}

// SetToken sets the token and/or switches signing on or off. Both are required until a
// token has been set; afterwards either may be given alone.
func (s *Settings) SetToken(ctx context.Context, app uint64, token *string, enable *bool) error {
	if token != nil && (len(*token) < 1 || len(*token) > MaxTokenLength) {
		return fmt.Errorf("%w: Token must be 1 to %d characters", ErrInvalid, MaxTokenLength)
	}
	if token == nil && enable == nil {
		return fmt.Errorf("%w: Token or IsTokenEnable is required", ErrInvalid)
	}
	return s.put(ctx, app, func(cur store.CallbackConfig) error {
		if cur.Token == "" && (token == nil || enable == nil) {
			return fmt.Errorf("%w: Token and IsTokenEnable are both required the first time", ErrInvalid)
		}
		return nil
	}, func(c *store.CallbackConfig) {
		if token != nil {
			c.Token = *token
		}
		if enable != nil {
			c.TokenEnabled = *enable
		}
	})
}

// DeleteToken removes the token; requests are no longer signed.
func (s *Settings) DeleteToken(ctx context.Context, app uint64) error {
	return s.put(ctx, app, func(store.CallbackConfig) error { return nil }, func(c *store.CallbackConfig) {
		c.Token, c.TokenEnabled = "", false
	})
}

// Apply stores a configuration given in the config file, replacing URL and command list
// (and the token when one is given); it runs at start-up so the file wins over earlier
// REST changes.
func (s *Settings) Apply(ctx context.Context, app uint64, rawURL string, cmds []string, token string, tokenEnabled bool) error {
	return s.put(ctx, app, func(store.CallbackConfig) error { return nil }, func(c *store.CallbackConfig) {
		c.URL, c.Commands = rawURL, slices.Clone(cmds)
		if token != "" {
			c.Token, c.TokenEnabled = token, tokenEnabled
		}
	})
}
