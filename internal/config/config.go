// Package config builds roomd's effective configuration.
//
// The configuration is assembled in layers, each overriding the one before:
//
//  1. the built-in defaults returned by [Default];
//  2. a YAML file, in which unknown keys are rejected;
//  3. environment variables whose names start with [EnvPrefix] (see [EnvVars]);
//  4. command-line flags, passed in as [Overrides];
//  5. defaults for the per-app fields the earlier layers left unset;
//  6. [Config.Validate], which reports every problem at once.
//
// [Load] runs every layer; [Parse] runs them all but the environment and the flags, on YAML
// bytes. Both return an [*Error]
// that lists each problem with its YAML path, such as
// "apps[1].callback.url: must start with http:// or https://", so that a user can fix a
// configuration in one pass. The file testdata/full.yaml is a complete, commented example.
package config

import (
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/webhook"
	"github.com/roomd/roomd/internal/webhook/retention"
)

// Config is the effective configuration of one roomd process.
type Config struct {
	// Listen is the TCP address, as host:port, on which roomd serves REST, the client
	// WebSocket and metrics. The default is "127.0.0.1:8080"; a port of 0 picks a free port.
	Listen string `yaml:"listen"`
	// DataDir is the directory that holds the SQLite database and the secret key of the
	// development app. The default is "./roomd-data".
	DataDir string `yaml:"data_dir"`
	// TLSCert is the path of a PEM certificate chain. When it and TLSKey are set, roomd serves
	// HTTPS instead of HTTP; setting only one of the two is an error.
	TLSCert string `yaml:"tls_cert"`
	// TLSKey is the path of the PEM private key that belongs to TLSCert.
	TLSKey string `yaml:"tls_key"`
	// Store selects and configures the database.
	Store Store `yaml:"store"`
	// Log configures the process log.
	Log Log `yaml:"log"`
	// Delivery bounds the concurrency of callback delivery.
	Delivery Delivery `yaml:"delivery"`
	// Client configures the client API (WebSocket connections at /v1/client).
	Client Client `yaml:"client"`
	// Outbound decides which addresses callbacks (After and Before) may connect to.
	Outbound Outbound `yaml:"outbound"`
	// Cluster configures this node's part in a cluster of roomd nodes sharing one
	// PostgreSQL database. It is used only when the store can be shared (the postgres
	// driver); with SQLite the node runs alone and these settings are ignored.
	Cluster Cluster `yaml:"cluster"`
	// ShutdownTimeout bounds a graceful stop (SIGTERM or SIGINT): finishing the requests
	// and callback attempts in flight and closing client connections. What is not done
	// by then is cut short and left pending, to be sent after the next start. It must be
	// from 1s to 10m; the default is 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Apps lists the applications served, each identified by its SDKAppID. When it is empty
	// the app package creates a ready-to-use development app.
	Apps []App `yaml:"apps"`
}

// Store selects and configures the database.
type Store struct {
	// Driver is "sqlite" (the default), which keeps an embedded database in DataDir, or
	// "postgres", which requires DSN.
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string, such as
	// "postgres://roomd:secret@db:5432/roomd". It is required when Driver is "postgres" and
	// not used by "sqlite". It may contain a password and is never echoed in error messages.
	DSN string `yaml:"dsn"`
	// Durability chooses what a committed change survives. "process" (the default) survives a
	// crash or kill -9 of roomd but not the loss of power to the machine; "power" makes every
	// commit wait for fsync, so that it survives power loss too, at the cost of throughput.
	// With PostgreSQL the server's own settings (synchronous_commit) decide this instead.
	Durability string `yaml:"durability"`
}

// Cluster configures the node's beat and the leases of its cluster-wide roles (package
// cluster). Every duration is measured on the database's clock for expiries and on the
// node's own for deadlines, so nodes with skewed clocks agree.
type Cluster struct {
	// Node names this node among those sharing the database: up to MaxNodeIDLength
	// printable characters. It must be distinct for every node and stable across the
	// restarts of one node (a restart then recovers its own previous members). The
	// default is the machine's host name, a colon and the port of Listen, such as
	// "web1:8080".
	Node string `yaml:"node"`
	// BeatInterval is the time between the node's beats: it records that it is alive,
	// renews its leases, and looks for dead nodes to recover. The default is 2s.
	BeatInterval time.Duration `yaml:"beat_interval"`
	// NodeTTL is how long a node's last beat keeps it alive: a node silent for longer is
	// declared dead by another, which recovers its members (they lose their heartbeat).
	// It must be at least three beat intervals. The default is 10s.
	NodeTTL time.Duration `yaml:"node_ttl"`
	// LeaseTTL is how long a renewed lease (delivery, timers, retention) lasts in the
	// database. A holder that cannot renew gives its role up a quarter of it before the
	// lease expires; another node takes it over at most LeaseTTL after the last renewal.
	// It must be at least three beat intervals. The default is 10s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// MaxNodeIDLength is the longest node id, in characters.
const MaxNodeIDLength = 64

// NodeID returns the node's id: Node when set, else the host name, a colon and port (the
// port this node listens on). The host name is "localhost" when it cannot be read.
func (c Cluster) NodeID(port string) string {
	if c.Node != "" {
		return c.Node
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	id := host + ":" + port
	if n := utf8.RuneCountInString(id); n > MaxNodeIDLength {
		r := []rune(host)
		id = string(r[:len(r)-(n-MaxNodeIDLength)]) + ":" + port
	}
	return id
}

// Log configures the process log.
type Log struct {
	// Level is the lowest level written: "debug", "info" (the default), "warn" or "error".
	Level string `yaml:"level"`
	// Format is "text" (the default) for human-readable lines or "json" for one JSON object
	// per line.
	Format string `yaml:"format"`
}

// Delivery bounds the concurrency of callback delivery.
type Delivery struct {
	// Workers is the largest number of callbacks in flight at once across all apps. The
	// default is 256.
	Workers int `yaml:"workers"`
	// MaxInFlightPerApp is the largest number of HTTP requests roomd has open to one app's
	// backend at once (an attempt's slot is freed when the backend answers, while its
	// record is still being written), so that one slow App backend cannot take every
	// worker. It must not exceed Workers. The
	// default is 64, or Workers when a configuration file sets that lower and leaves this
	// key out.
	MaxInFlightPerApp int `yaml:"max_in_flight_per_app"`
}

// Client configures the client API's connections and live presence.
type Client struct {
	// HeartbeatInterval is the time between the server's pings on a connection. The
	// default is 10s.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// HeartbeatTimeout is how long a ping may wait for its pong before the connection is
	// closed and its user's heartbeat counts as lost (Offline/HeartbeatInterrupt). The
	// default is 20s.
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// ReconnectGrace is how long a user whose heartbeat was lost may come back into a room
	// and be reported Online/HeartbeatRecover rather than Online/Enter. The default is 60s.
	ReconnectGrace time.Duration `yaml:"reconnect_grace"`
	// SendQueue is how many pushes may wait for a slow client before it is disconnected.
	// The default is 256.
	SendQueue int `yaml:"send_queue"`
	// MaxFrameBytes is the largest frame a client may send. The default is 65536.
	MaxFrameBytes int64 `yaml:"max_frame_bytes"`
	// PresencePushLimit is the largest room whose members are all pushed every entry and
	// departure (onRemoteUserEnterRoom, onRemoteUserLeaveRoom); in a larger room only the
	// owner and room admins are. The default is 100.
	PresencePushLimit int `yaml:"presence_push_limit"`
}

// Outbound decides which addresses roomd's outbound connections (callbacks to App
// backends, After and Before) may reach. The check runs on the address actually dialled,
// after name resolution (package netguard). Link-local and cloud metadata addresses,
// "this network" (0.0.0.0/8), multicast, broadcast and reserved ranges are always refused
// (netguard.Builtin); loopback and private ranges are allowed, for local development.
type Outbound struct {
	// Deny lists more ranges to refuse, as CIDR ranges ("10.0.0.0/8") or single addresses;
	// for example the private ranges, in production. Empty by default.
	Deny []string `yaml:"deny"`
	// Allow lists ranges that may be reached even when Deny or the built-in rules cover
	// them: allow wins. Empty by default.
	Allow []string `yaml:"allow"`
}

// AutoDissolve configures the automatic dissolution of an app's rooms, after Tencent's
// LifetimeAfterNoUsers, LifetimeAfterOwnerLeave and LifetimeAfterOwnerOffline. Each is off
// at 0 (the default). A room with a robot in it is never dissolved automatically.
type AutoDissolve struct {
	// NoUsers dissolves a room this long after the last member left it.
	NoUsers time.Duration `yaml:"no_users"`
	// OwnerLeave dissolves a room this long after its owner left it (or was removed),
	// unless the owner came back.
	OwnerLeave time.Duration `yaml:"owner_leave"`
	// OwnerOffline dissolves a room this long after its owner's heartbeat was lost, unless
	// the owner came back.
	OwnerOffline time.Duration `yaml:"owner_offline"`
}

// App configures one application, the unit Tencent calls an SDKAppID.
type App struct {
	// SDKAppID identifies the app in every REST call, UserSig and callback. It is required,
	// must be greater than 0 and must be unique among the apps.
	SDKAppID uint64 `yaml:"sdkappid"`
	// SecretKey signs and verifies the app's UserSigs. It is required.
	SecretKey string `yaml:"secret_key"`
	// Admins lists the App admin UserIDs allowed to call the REST API: 1 to 10 unique IDs,
	// each a valid account UserID (account.ValidateUserID: 1 to 32 bytes of UTF-8 without
	// spaces or control characters, not starting with "@TIM#"). When the key is omitted it
	// defaults to ["administrator"].
	Admins []string `yaml:"admins"`
	// Callback configures the webhooks sent to the App backend. It is optional; the URL,
	// command list and token can also be set at run time with the v4/live_config/* APIs.
	Callback *Callback `yaml:"callback"`
	// RoomQuota is the largest number of rooms the app may have at once; 0 (the default)
	// means no limit.
	RoomQuota int `yaml:"room_quota"`
	// RateLimit configures the per-API request rate limits of the app's REST calls.
	RateLimit RateLimit `yaml:"rate_limit"`
	// AutoDissolve configures the automatic dissolution of the app's rooms; off by default.
	AutoDissolve AutoDissolve `yaml:"auto_dissolve"`
}

// RateLimit configures the per-API request rate limits of one app's REST calls.
type RateLimit struct {
	// Enabled switches the limits on or off; nil means the default, on. Use
	// [RateLimit.IsEnabled] to read it.
	Enabled *bool `yaml:"enabled"`
	// PerAPI maps an API path after /v4/, as "service/command" (for example
	// "live_engine_http_srv/create_room"), to its limit in requests per second, which must be
	// greater than 0. Listed APIs override Tencent's documented limits; the others
	// keep them.
	PerAPI map[string]int `yaml:"per_api"`
}

// IsEnabled reports whether rate limiting is on, which it is unless Enabled is set to false.
func (r RateLimit) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// Callback configures the webhooks that roomd sends to one app's backend.
type Callback struct {
	// URL is the App backend's callback endpoint: an http:// or https:// URL with a host and
	// no fragment. It may be empty when only other settings are given, for example when the
	// URL is set later through v4/live_config/set_callback.
	URL string `yaml:"url"`
	// Commands lists the callback command words switched on, such as
	// "Live.CallbackAfterCreateRoom"; Tencent calls it CallbackCommandList. Each must be a
	// command roomd knows, listed once.
	Commands []string `yaml:"commands"`
	// Token is Tencent's callback authentication token, 1 to 128 characters. When
	// TokenEnabled is true, every request carries Sign=sha256(Token+RequestTime).
	Token string `yaml:"token"`
	// TokenEnabled switches Tencent's Sign/RequestTime query parameters on; it requires Token.
	TokenEnabled bool `yaml:"token_enabled"`
	// Timeout bounds one delivery attempt, from connecting to reading the reply. It must be
	// greater than 0 and at most 60s; the default is 2s, as Tencent's.
	Timeout time.Duration `yaml:"timeout"`
	// SigningSecret, when set, adds Standard Webhooks headers (webhook-id,
	// webhook-timestamp, webhook-signature) to every request. It is either "whsec_" followed
	// by the standard base64 encoding of at least 16 random bytes, or any other string of at
	// least 16 bytes, used as the key as it is. See [Callback.SigningKey].
	SigningSecret string `yaml:"signing_secret"`
	// PreviousSigningSecret is the secret SigningSecret replaces, during a rotation: until
	// PreviousSigningSecretUntil every request carries two signatures in
	// webhook-signature, space-separated, the new secret's first, so that receivers can
	// switch to the new secret at any time within the grace period. It has the same form
	// as SigningSecret and requires it and PreviousSigningSecretUntil.
	PreviousSigningSecret string `yaml:"previous_signing_secret"`
	// PreviousSigningSecretUntil ends the grace period of PreviousSigningSecret, as an
	// RFC 3339 time such as 2026-08-01T00:00:00Z; from then on only SigningSecret signs.
	PreviousSigningSecretUntil time.Time `yaml:"previous_signing_secret_until"`
	// Retry configures redelivery of failed After-callbacks.
	Retry Retry `yaml:"retry"`
	// BeforeSendMsgOnFailure decides a room message when its Group.CallbackBeforeSendMsg
	// callback fails (timeout, transport error or an unusable reply): "allow" (the default,
	// as Tencent) sends it anyway, "reject" drops it.
	BeforeSendMsgOnFailure string `yaml:"before_send_msg_on_failure"`

	// Delivery guards of After-callbacks: the room hold bound, the circuit breaker and the
	// rate limit.
	//
	// MaxRoomHold bounds how long one failing After-callback holds back the rest of its room
	// (callbacks of a room are delivered in order): once a retry would come later than this
	// after the event's first attempt, the event is dead (its LastError says so) and the
	// room moves on; it can be redriven. Time the app spends paused by its breaker does not
	// count. 0s means no bound; at most 24h; the default is 5m.
	MaxRoomHold time.Duration `yaml:"max_room_hold"`
	// Breaker pauses the app when its backend keeps failing, and probes it until it
	// recovers. It is used only while retries are on.
	Breaker Breaker `yaml:"breaker"`
	// MaxPerSecond bounds the app's After-callback attempts per second (a token bucket
	// holding one second's worth, at least one). 0 (the default) means no limit.
	MaxPerSecond float64 `yaml:"max_per_second"`
	// Retention says how long delivered and dead events stay in the delivery log.
	Retention Retention `yaml:"retention"`
}

// Retention says how long finished events (and their attempts) are kept before the
// retention job deletes them; pending and retrying events are always kept. An app without
// a callback block gets the defaults.
type Retention struct {
	// Delivered is how long a delivered event, or a Before-callback record, is kept after
	// it was delivered (or answered). At least 1s; the default is 168h (7 days).
	Delivered time.Duration `yaml:"delivered"`
	// Dead is how long a dead event is kept after its last attempt, the time an operator
	// has to redrive it. At least 1s; the default is 720h (30 days).
	Dead time.Duration `yaml:"dead"`
}

// SigningKey returns the HMAC-SHA256 key of the Standard Webhooks signature: the decoded
// bytes after "whsec_", or the bytes of SigningSecret as they are when it lacks that
// prefix. It returns nil and no error when no secret is set, and an error when a "whsec_"
// secret is not valid base64.
func (c Callback) SigningKey() ([]byte, error) {
	if c.SigningSecret == "" {
		return nil, nil
	}
	if rest, ok := strings.CutPrefix(c.SigningSecret, signingSecretPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, errors.New("signing secret after \"whsec_\" is not valid base64")
		}
		return key, nil
	}
	return []byte(c.SigningSecret), nil
}

// Retry configures redelivery of failed After-callbacks. Before-callbacks are never retried.
type Retry struct {
	// Enabled switches retries on or off; nil means the default, on. Off gives Tencent's
	// at-most-once behaviour: one attempt per event. Use [Retry.IsEnabled] to read it.
	Enabled *bool `yaml:"enabled"`
	// MaxAttempts is the largest number of attempts per event, counting the first; after the
	// last failed one the event is dead-lettered. It must be from 1 to 1000; the default is
	// 12.
	MaxAttempts int `yaml:"max_attempts"`
	// InitialBackoff is the delay before the first retry; later delays grow from it, with
	// jitter. It must be greater than 0; the default is 1s.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the delay between two attempts. It must not be less than
	// InitialBackoff; the default is 10m, or InitialBackoff when that is longer.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// Breaker configures an app's circuit breaker.
type Breaker struct {
	// Failures is how many consecutive failed attempts, spanning at least two rooms, open
	// the breaker: the app is paused, nothing more is sent but a probe every ProbeInterval,
	// and its events wait (none is dead-lettered meanwhile). 0 switches the breaker off;
	// at most 10000; the default is 10.
	Failures int `yaml:"failures"`
	// ProbeInterval is the time between two probes of a paused app (or the backend's last
	// Retry-After, when longer). It must be greater than 0 and at most 1h; the default is 10s.
	ProbeInterval time.Duration `yaml:"probe_interval"`
}

// IsEnabled reports whether failed After-callbacks are retried, which they are unless
// Enabled is set to false.
func (r Retry) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// The values of the enumerated settings.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"

	DurabilityProcess = "process"
	DurabilityPower   = "power"

	OnFailureAllow  = webhook.FailOpen
	OnFailureReject = webhook.FailClosed
)

// DefaultShutdownTimeout is the default of Config.ShutdownTimeout: ample for callback
// attempts (2 s each by default) and short enough for a process supervisor's grace period
// (Kubernetes waits 30 s before SIGKILL).
const DefaultShutdownTimeout = 10 * time.Second

// DefaultAdmin is the App admin UserID an app gets when its admins key is omitted.
const DefaultAdmin = "administrator"

// MaxCallbackTimeout is the longest callback timeout. The defaults of the callback and
// delivery settings are package webhook's (webhook.DefaultTimeout and the others), which
// the dispatcher uses too.
const MaxCallbackTimeout = 60 * time.Second

const signingSecretPrefix = "whsec_"

// Default returns the built-in configuration: listen on 127.0.0.1:8080, keep data in
// ./roomd-data with SQLite at "process" durability, log at info level as text, deliver up to
// 256 callbacks at once and 64 per app, and configure no apps. Each call returns a new value.
func Default() *Config {
	return &Config{
		Listen:  "127.0.0.1:8080",
		DataDir: "./roomd-data",
		Store: Store{
			Driver:     DriverSQLite,
			Durability: DurabilityProcess,
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		Delivery: Delivery{
			Workers:           webhook.DefaultWorkers,
			MaxInFlightPerApp: webhook.DefaultMaxInFlightPerApp,
		},
		Client: Client{
			HeartbeatInterval: 10 * time.Second,
			HeartbeatTimeout:  20 * time.Second,
			ReconnectGrace:    60 * time.Second,
			SendQueue:         256,
			MaxFrameBytes:     64 << 10,
			PresencePushLimit: 100,
		},
		Cluster: Cluster{
			BeatInterval: 2 * time.Second,
			NodeTTL:      10 * time.Second,
			LeaseTTL:     10 * time.Second,
		},
		ShutdownTimeout: DefaultShutdownTimeout,
	}
}

// ApplyDefaults fills the per-app settings left at their zero value with their defaults:
// the admins, the rate-limit switch and, for apps with a callback, the timeout, the retry
// schedule and the Before-send-message failure policy. It is meant for configurations built
// in code; [Load] and [Parse] do the same but keep a zero value that the YAML file set
// explicitly, so that Validate can reject it.
func (c *Config) ApplyDefaults() {
	for i := range c.Apps {
		c.Apps[i].ApplyDefaults()
	}
}

// ApplyDefaults fills the settings of a left at their zero value with their defaults, as
// [Config.ApplyDefaults] describes.
func (a *App) ApplyDefaults() {
	a.applyDefaults("", func(string) bool { return false })
}

// applyDefaults fills the zero-valued settings of a with their defaults, except those whose
// YAML path (path followed by the key) explicit reports as written in the file.
func (a *App) applyDefaults(path string, explicit func(string) bool) {
	unset := func(key string) bool { return !explicit(path + key) }
	if a.Admins == nil && unset("admins") {
		a.Admins = []string{DefaultAdmin}
	}
	if a.RateLimit.Enabled == nil {
		a.RateLimit.Enabled = boolPtr(true)
	}
	cb := a.Callback
	if cb == nil {
		return
	}
	if cb.Timeout == 0 && unset("callback.timeout") {
		cb.Timeout = webhook.DefaultTimeout
	}
	if cb.BeforeSendMsgOnFailure == "" && unset("callback.before_send_msg_on_failure") {
		cb.BeforeSendMsgOnFailure = OnFailureAllow
	}
	if cb.Retention.Delivered == 0 && unset("callback.retention.delivered") {
		cb.Retention.Delivered = retention.DefaultDelivered
	}
	if cb.Retention.Dead == 0 && unset("callback.retention.dead") {
		cb.Retention.Dead = retention.DefaultDead
	}
	r := &cb.Retry
	if r.Enabled == nil {
		r.Enabled = boolPtr(true)
	}
	if r.MaxAttempts == 0 && unset("callback.retry.max_attempts") {
		r.MaxAttempts = webhook.DefaultMaxAttempts
	}
	if r.InitialBackoff == 0 && unset("callback.retry.initial_backoff") {
		r.InitialBackoff = webhook.DefaultInitialBackoff
	}
	if r.MaxBackoff == 0 && unset("callback.retry.max_backoff") {
		// An initial backoff above the default cap raises the cap rather than failing
		// validation over a setting the user did not write.
		r.MaxBackoff = max(webhook.DefaultMaxBackoff, r.InitialBackoff)
	}
	if cb.MaxRoomHold == 0 && unset("callback.max_room_hold") {
		cb.MaxRoomHold = webhook.DefaultMaxRoomHold
	}
	if cb.Breaker.Failures == 0 && unset("callback.breaker.failures") {
		cb.Breaker.Failures = webhook.DefaultBreakerFailures
	}
	if cb.Breaker.ProbeInterval == 0 && unset("callback.breaker.probe_interval") {
		cb.Breaker.ProbeInterval = webhook.DefaultProbeInterval
	}
}

func boolPtr(b bool) *bool { return &b }
