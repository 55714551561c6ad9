package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/netguard"
	"github.com/roomd/roomd/internal/webhook"
)

// Error reports every problem found in a configuration at once.
type Error struct {
	// Source names where the configuration came from, such as the path of the YAML file. It
	// may be empty.
	Source string
	// Problems lists each problem in the order found, most as "yaml.path: what is wrong",
	// such as "apps[1].callback.url: must start with http:// or https://".
	Problems []string
}

// Error returns the problems on one line when there is one, and one problem per indented
// line after a summary otherwise.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration")
	if e.Source != "" {
		b.WriteString(" in ")
		b.WriteString(e.Source)
	}
	if len(e.Problems) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Problems[0])
		return b.String()
	}
	fmt.Fprintf(&b, " (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// problem is one thing wrong with a configuration, found at a YAML path.
type problem struct {
	path string // for example "apps[1].callback.url"; empty for the document as a whole
	msg  string
}

func (p problem) String() string {
	if p.path == "" {
		return p.msg
	}
	return p.path + ": " + p.msg
}

// problems collects the problems of a configuration.
type problems []problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, problem{path: path, msg: fmt.Sprintf(format, args...)})
}

// err returns nil when there are no problems and an *Error listing them otherwise. The
// suffix function, when not nil, returns text appended to the problem at a path, such as a
// note naming the environment variable that set it.
func (ps problems) err(source string, suffix func(path string) string) error {
	if len(ps) == 0 {
		return nil
	}
	e := &Error{Source: source}
	for _, p := range ps {
		s := p.String()
		if suffix != nil {
			s += suffix(p.path)
		}
		e.Problems = append(e.Problems, s)
	}
	return e
}

// Validate checks every setting and returns an [*Error] listing all problems found, or nil
// when there are none. It expects the per-app defaults to have been applied (see
// [Config.ApplyDefaults]); [Load] and [Parse] call it themselves. Validate never echoes the
// value of a secret (secret keys, tokens, signing secrets, DSNs).
func (c *Config) Validate() error {
	return c.problems().err("", nil)
}

func (c *Config) problems() problems {
	var ps problems
	c.validateServer(&ps)
	c.validateStore(&ps)
	c.validateLog(&ps)
	c.validateDelivery(&ps)
	c.validateClient(&ps)
	c.validateOutbound(&ps)
	c.validateCluster(&ps)
	firstUse := make(map[uint64]int, len(c.Apps))
	for i := range c.Apps {
		a := &c.Apps[i]
		path := fmt.Sprintf("apps[%d].", i)
		a.validate(&ps, path)
		if a.SDKAppID == 0 {
			continue
		}
		if j, dup := firstUse[a.SDKAppID]; dup {
			ps.add(path+"sdkappid", "%d is already used by apps[%d]", a.SDKAppID, j)
		} else {
			firstUse[a.SDKAppID] = i
		}
	}
	return ps
}

func (c *Config) validateServer(ps *problems) {
	if c.Listen == "" {
		ps.add("listen", "required, as host:port such as 127.0.0.1:8080")
	} else if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		ps.add("listen", "must be host:port such as 127.0.0.1:8080 or :8080, got %q", c.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		ps.add("listen", "port must be a number from 0 to 65535, got %q", port)
	}
	if c.DataDir == "" {
		ps.add("data_dir", "required")
	}
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		ps.add("tls_key", "required when tls_cert is set (HTTPS needs both)")
	case c.TLSCert == "" && c.TLSKey != "":
		ps.add("tls_cert", "required when tls_key is set (HTTPS needs both)")
	}
}

func (c *Config) validateStore(ps *problems) {
	switch c.Store.Driver {
	case DriverSQLite:
	case DriverPostgres:
		if c.Store.DSN == "" {
			ps.add("store.dsn", "required when store.driver is %s", DriverPostgres)
		}
	default:
		ps.add("store.driver", "must be %s or %s, got %q", DriverSQLite, DriverPostgres, c.Store.Driver)
	}
	switch c.Store.Durability {
	case DurabilityProcess, DurabilityPower:
	default:
		ps.add("store.durability", "must be %s or %s, got %q", DurabilityProcess, DurabilityPower, c.Store.Durability)
	}
}

func (c *Config) validateCluster(ps *problems) {
	cl := &c.Cluster
	if cl.Node != "" {
		if n := utf8.RuneCountInString(cl.Node); n > MaxNodeIDLength {
			ps.add("cluster.node", "must be at most %d characters, got %d", MaxNodeIDLength, n)
		}
		for _, r := range cl.Node {
			if !unicode.IsPrint(r) || unicode.IsSpace(r) {
				ps.add("cluster.node", "must be printable characters without spaces, got %q", cl.Node)
				break
			}
		}
	}
	if cl.BeatInterval <= 0 {
		ps.add("cluster.beat_interval", "must be positive, got %s", cl.BeatInterval)
		return
	}
	if cl.NodeTTL < 3*cl.BeatInterval {
		ps.add("cluster.node_ttl", "must be at least three beat intervals (%s), got %s", 3*cl.BeatInterval, cl.NodeTTL)
	}
	if cl.LeaseTTL < 3*cl.BeatInterval {
		ps.add("cluster.lease_ttl", "must be at least three beat intervals (%s), got %s", 3*cl.BeatInterval, cl.LeaseTTL)
	}
}

func (c *Config) validateLog(ps *problems) {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.add("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		ps.add("log.format", "must be text or json, got %q", c.Log.Format)
	}
}

func (c *Config) validateDelivery(ps *problems) {
	d := c.Delivery
	if d.Workers < 1 {
		ps.add("delivery.workers", "must be at least 1, got %d", d.Workers)
	}
	if d.MaxInFlightPerApp < 1 {
		ps.add("delivery.max_in_flight_per_app", "must be at least 1, got %d", d.MaxInFlightPerApp)
	} else if d.Workers >= 1 && d.MaxInFlightPerApp > d.Workers {
		ps.add("delivery.max_in_flight_per_app", "must not exceed delivery.workers (%d), got %d", d.Workers, d.MaxInFlightPerApp)
	}
}

func (c *Config) validateClient(ps *problems) {
	cl := c.Client
	if cl.HeartbeatInterval < time.Second {
		ps.add("client.heartbeat_interval", "must be at least 1s, got %s", cl.HeartbeatInterval)
	}
	if cl.HeartbeatTimeout < time.Second {
		ps.add("client.heartbeat_timeout", "must be at least 1s, got %s", cl.HeartbeatTimeout)
	}
	if cl.ReconnectGrace < 0 {
		ps.add("client.reconnect_grace", "must not be negative, got %s", cl.ReconnectGrace)
	}
	if cl.SendQueue < 1 {
		ps.add("client.send_queue", "must be at least 1, got %d", cl.SendQueue)
	}
	if cl.PresencePushLimit < 1 {
		ps.add("client.presence_push_limit", "must be at least 1, got %d", cl.PresencePushLimit)
	}
	if cl.MaxFrameBytes < 1024 {
		ps.add("client.max_frame_bytes", "must be at least 1024, got %d", cl.MaxFrameBytes)
	}
}

// validate checks an app's dissolution timers: each is off (0) or positive.
func (d AutoDissolve) validate(ps *problems, path string) {
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"no_users", d.NoUsers}, {"owner_leave", d.OwnerLeave}, {"owner_offline", d.OwnerOffline}} {
		if f.v < 0 {
			ps.add(path+"auto_dissolve."+f.key, "must be 0 (off) or positive, got %s", f.v)
		}
	}
}

// maxAdmins is the most App admins an app lists.
const maxAdmins = 10

func (a *App) validate(ps *problems, path string) {
	a.AutoDissolve.validate(ps, path)
	if a.SDKAppID == 0 {
		ps.add(path+"sdkappid", "required, a number greater than 0")
	}
	if a.SecretKey == "" {
		ps.add(path+"secret_key", "required")
	}
	switch n := len(a.Admins); {
	case n == 0:
		ps.add(path+"admins", "must list 1 to %d admin UserIDs; omit the key for [%s]", maxAdmins, DefaultAdmin)
	case n > maxAdmins:
		ps.add(path+"admins", "must list at most %d admin UserIDs, got %d", maxAdmins, n)
	}
	for i, id := range a.Admins {
		p := fmt.Sprintf("%sadmins[%d]", path, i)
		if err := account.ValidateUserID(id); err != nil {
			ps.add(p, "%s", reason(err))
		} else if j := slices.Index(a.Admins[:i], id); j >= 0 {
			ps.add(p, "%q is already listed as admins[%d]", id, j)
		}
	}
	if a.RoomQuota < 0 {
		ps.add(path+"room_quota", "must be 0 (no limit) or more, got %d", a.RoomQuota)
	}
	a.RateLimit.validate(ps, path+"rate_limit.")
	if a.Callback != nil {
		a.Callback.validate(ps, path+"callback.")
	}
}

// reason returns what a domain validator found wrong, without the field name and the
// "invalid parameter: " prefix that the APIs' ErrorInfo carries.
func reason(err error) string {
	var ie *errcode.InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return err.Error()
}

func (r *RateLimit) validate(ps *problems, path string) {
	apis := make([]string, 0, len(r.PerAPI))
	for api := range r.PerAPI {
		apis = append(apis, api)
	}
	slices.Sort(apis)
	for _, api := range apis {
		p := path + "per_api." + api
		if !isAPIPath(api) {
			ps.add(p, "key must be an API path after /v4/ as service/command, such as live_engine_http_srv/create_room")
		}
		if n := r.PerAPI[api]; n <= 0 {
			ps.add(p, "must be a number of requests per second greater than 0, got %d", n)
		}
	}
}

// isAPIPath reports whether s has the shape "service/command" of lower-case words.
func isAPIPath(s string) bool {
	service, command, ok := strings.Cut(s, "/")
	return ok && isAPIWord(service) && isAPIWord(command)
}

func isAPIWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

// Limits of the callback settings.
const (
	minSigningKeyBytes  = 16
	maxRetryMaxAttempts = 1000
	maxRoomHold         = 24 * time.Hour
	maxBreakerFailures  = 10000
	maxPerSecond        = 100000
)

func (c *Callback) validate(ps *problems, path string) {
	if c.URL != "" {
		if err := webhook.ValidateURL(c.URL); err != nil {
			ps.add(path+"url", "%s", reason(err))
		}
	}
	for i, cmd := range c.Commands {
		p := fmt.Sprintf("%scommands[%d]", path, i)
		if !webhook.Known(cmd) {
			ps.add(p, "unknown callback command %q (command words are case-sensitive, such as Live.CallbackAfterCreateRoom)", cmd)
		} else if j := slices.Index(c.Commands[:i], cmd); j >= 0 {
			ps.add(p, "%q is already listed as commands[%d]", cmd, j)
		}
	}
	if c.Token != "" {
		if err := webhook.ValidateToken(c.Token); err != nil {
			ps.add(path+"token", "%s", reason(err))
		}
	}
	if c.TokenEnabled && c.Token == "" {
		ps.add(path+"token_enabled", "requires callback.token")
	}
	if c.Timeout <= 0 || c.Timeout > MaxCallbackTimeout {
		ps.add(path+"timeout", "must be greater than 0 and at most %s, got %s", MaxCallbackTimeout, c.Timeout)
	}
	if c.SigningSecret != "" {
		validateSigningSecret(ps, path+"signing_secret", c.SigningSecret)
	}
	c.validateRotation(ps, path)
	switch c.BeforeSendMsgOnFailure {
	case OnFailureAllow, OnFailureReject:
	default:
		ps.add(path+"before_send_msg_on_failure", "must be %s or %s, got %q", OnFailureAllow, OnFailureReject, c.BeforeSendMsgOnFailure)
	}
	c.Retry.validate(ps, path+"retry.")
	if c.MaxRoomHold < 0 || c.MaxRoomHold > maxRoomHold {
		ps.add(path+"max_room_hold", "must be from 0s (no bound) to %s, got %s", maxRoomHold, c.MaxRoomHold)
	}
	if c.Breaker.Failures < 0 || c.Breaker.Failures > maxBreakerFailures {
		ps.add(path+"breaker.failures", "must be from 0 (off) to %d, got %d", maxBreakerFailures, c.Breaker.Failures)
	}
	if c.Breaker.Failures > 0 && (c.Breaker.ProbeInterval <= 0 || c.Breaker.ProbeInterval > time.Hour) {
		ps.add(path+"breaker.probe_interval", "must be greater than 0 and at most 1h, got %s", c.Breaker.ProbeInterval)
	}
	if c.MaxPerSecond < 0 || c.MaxPerSecond > maxPerSecond || c.MaxPerSecond != c.MaxPerSecond {
		ps.add(path+"max_per_second", "must be from 0 (no limit) to %d, got %v", maxPerSecond, c.MaxPerSecond)
	}
	c.Retention.validate(ps, path+"retention.")
}

// minRetention is the shortest retention: the job prunes at most once a second.
const minRetention = time.Second

func (r *Retention) validate(ps *problems, path string) {
	for _, f := range []struct {
		key string
		d   time.Duration
	}{{"delivered", r.Delivered}, {"dead", r.Dead}} {
		if f.d < minRetention {
			ps.add(path+f.key, "must be at least %s (for practically forever, write a long duration such as 87600h), got %s", minRetention, f.d)
		}
	}
}

func validateSigningSecret(ps *problems, path, secret string) {
	rest, ok := strings.CutPrefix(secret, signingSecretPrefix)
	if !ok {
		if len(secret) < minSigningKeyBytes {
			ps.add(path, "must be \"whsec_\" followed by base64, or a string of at least %d bytes, got %d bytes", minSigningKeyBytes, len(secret))
		}
		return
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		ps.add(path, "the part after \"whsec_\" must be standard base64")
		return
	}
	if len(key) < minSigningKeyBytes {
		ps.add(path, "the part after \"whsec_\" must decode to at least %d bytes, got %d", minSigningKeyBytes, len(key))
	}
}

func (r *Retry) validate(ps *problems, path string) {
	if r.MaxAttempts < 1 || r.MaxAttempts > maxRetryMaxAttempts {
		ps.add(path+"max_attempts", "must be from 1 to %d (it counts the first attempt), got %d", maxRetryMaxAttempts, r.MaxAttempts)
	}
	if r.InitialBackoff <= 0 {
		ps.add(path+"initial_backoff", "must be greater than 0, got %s", r.InitialBackoff)
	}
	if r.MaxBackoff < r.InitialBackoff {
		ps.add(path+"max_backoff", "must not be less than initial_backoff (%s), got %s", r.InitialBackoff, r.MaxBackoff)
	}
}

func (c *Config) validateOutbound(ps *problems) {
	for _, l := range []struct {
		key  string
		list []string
	}{{"outbound.deny", c.Outbound.Deny}, {"outbound.allow", c.Outbound.Allow}} {
		for i, v := range l.list {
			if _, err := netguard.ParsePrefix(v); err != nil {
				ps.add(fmt.Sprintf("%s[%d]", l.key, i), "%s, got %q", err.Error(), v)
			}
		}
	}
	if c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 10*time.Minute {
		ps.add("shutdown_timeout", "must be from 1s to 10m, got %s", c.ShutdownTimeout)
	}
}

// Prefixes returns the parsed Deny and Allow lists; call it on a validated configuration
// (an entry that does not parse is skipped).
func (o Outbound) Prefixes() (deny, allow []netip.Prefix) {
	for _, v := range o.Deny {
		if p, err := netguard.ParsePrefix(v); err == nil {
			deny = append(deny, p)
		}
	}
	for _, v := range o.Allow {
		if p, err := netguard.ParsePrefix(v); err == nil {
			allow = append(allow, p)
		}
	}
	return deny, allow
}
