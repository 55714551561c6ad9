package webhook

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// Errors of the v4/live_config APIs, with their Tencent codes. A malformed configuration
// request is an *errcode.InvalidError (100002).
var (
	// ErrConfigExists: set_callback on an app that already has a callback URL (100300).
	ErrConfigExists = errcode.New(errcode.CallbackExists, "callback configuration already exists, use update_callback")
	// ErrConfigNotFound: update or get on an app without a callback URL (100301).
	ErrConfigNotFound = errcode.New(errcode.CallbackNotFound, "callback configuration does not exist, use set_callback")
)

// MaxTokenLength is the longest callback token, in characters: set_callback_token takes a
// token of 1 to 128 characters (https://www.tencentcloud.com/document/product/647/69528).
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

// ValidateURL checks a callback URL: absolute http:// or https:// with a host, and no
// fragment (roomd appends Tencent's query string to the URL, which a "#" would swallow). The
// configuration file is checked with it too.
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errcode.Invalid("Url", "is not a valid URL: %v", unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return errcode.Invalid("Url", "must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return errcode.Invalid("Url", "must name a host, such as http://127.0.0.1:9000/callback")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errcode.Invalid("Url", "must not contain a fragment (#...)")
	}
	return nil
}

// unwrapURLError returns the cause of a url.Parse error without the URL it quotes, which
// may contain credentials.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// ValidateToken checks a callback token: 1 to MaxTokenLength characters (not bytes). The
// configuration file is checked with it too.
func ValidateToken(token string) error {
	if n := utf8.RuneCountInString(token); n < 1 || n > MaxTokenLength {
		return errcode.Invalid("Token", "must be 1 to %d characters, got %d", MaxTokenLength, n)
	}
	return nil
}

func validateCommands(cmds []string) error {
	if cmds == nil {
		return errcode.Invalid("CallbackCommandList", "is required")
	}
	for _, c := range cmds {
		if !Known(c) {
			return errcode.Invalid("", "unknown callback command %q", c)
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

// Reload publishes the stored configuration of one app again: another node changed it (a
// shared store announces the change, see store.NotifyConfig). An app without a stored
// configuration is published without URL, commands or token.
func (s *Settings) Reload(ctx context.Context, app uint64) error {
	c, err := s.store.CallbackConfigGet(ctx, app)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.configs.Update(app, func(cfg *Config) {
		cfg.URL, cfg.Commands, cfg.Token, cfg.TokenEnabled = c.URL, c.Commands, c.Token, c.TokenEnabled
	})
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
	if token != nil {
		if err := ValidateToken(*token); err != nil {
			return err
		}
	}
	if token == nil && enable == nil {
		return errcode.Invalid("", "Token or IsTokenEnable is required")
	}
	return s.put(ctx, app, func(cur store.CallbackConfig) error {
		if cur.Token == "" && (token == nil || enable == nil) {
			return errcode.Invalid("", "Token and IsTokenEnable are both required the first time")
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

// Current returns a copy of app's callback configuration as it is in force now (URL,
// commands, token, timeout, retry policy, signing secret); a fresh default one when the app
// has none.
func (s *Settings) Current(app uint64) Config {
	if c := s.configs.Get(app); c != nil {
		cp := *c
		cp.Commands = slices.Clone(c.Commands)
		return cp
	}
	return Config{App: app, Timeout: DefaultTimeout, Retry: DefaultRetryPolicy, BeforeSendMsgOnFailure: FailOpen}
}
