package webhook

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Failure policies of a Before-callback that got no valid reply.
const (
	FailOpen   = "allow"
	FailClosed = "reject"
)

// RetryPolicy says how failed After-callback attempts are retried.
type RetryPolicy struct {
	// Enabled false mimics Tencent exactly: one attempt, then the event is dead.
	Enabled        bool
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// Defaults of callback delivery: the configuration file's defaults, and what the
// dispatcher and the Before-callback caller use when nothing is configured.
const (
	// DefaultTimeout is Tencent's callback timeout.
	DefaultTimeout = 2 * time.Second
	// DefaultMaxAttempts is how many attempts an After-callback gets, the first included.
	// With DefaultInitialBackoff and DefaultMaxBackoff the schedule covers about two
	// minutes: a receiver's restart or a short blip, not an outage (the breaker's job).
	DefaultMaxAttempts = 8
	// DefaultInitialBackoff is the wait before the first retry.
	DefaultInitialBackoff = time.Second
	// DefaultMaxBackoff caps the wait between retries.
	DefaultMaxBackoff = time.Minute
	// DefaultMaxRoomHold bounds how long one failing head event holds back its room
	// (Retry-After and long timeouts included); 0 would mean no bound.
	DefaultMaxRoomHold = 5 * time.Minute
	// DefaultBreakerFailures is how many consecutive failed attempts, spanning at least
	// two rooms, pause an app.
	DefaultBreakerFailures = 10
	// DefaultProbeInterval is the time between two probes of a paused app.
	DefaultProbeInterval = 10 * time.Second
	// DefaultWorkers is how many callbacks are in flight at once across all apps.
	DefaultWorkers = 256
	// DefaultMaxInFlightPerApp is how many requests are open to one app's backend at once.
	DefaultMaxInFlightPerApp = 64
)

// BreakerPolicy configures an app's circuit breaker. Failures 0 switches it off.
type BreakerPolicy struct {
	// Failures is how many consecutive failed attempts, spanning at least two rooms, open
	// the breaker (pause the app).
	Failures int
	// ProbeInterval is the time between two probes of a paused app (at least the last
	// Retry-After the backend asked for).
	ProbeInterval time.Duration
}

// DefaultBreakerPolicy is used when an app's configuration says nothing.
var DefaultBreakerPolicy = BreakerPolicy{Failures: DefaultBreakerFailures, ProbeInterval: DefaultProbeInterval}

// DefaultRetryPolicy is used when an app's configuration says nothing.
var DefaultRetryPolicy = RetryPolicy{Enabled: true, MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}

// Config is one app's effective callback configuration: the part Tencent's
// v4/live_config APIs manage (URL, command list, token) and roomd's own delivery settings.
// A Config is immutable once published; changes publish a new one.
type Config struct {
	App          uint64
	URL          string
	Commands     []string
	Token        string
	TokenEnabled bool

	Timeout       time.Duration
	Retry         RetryPolicy
	SigningSecret string
	// PreviousSigningSecret signs alongside SigningSecret until PreviousSigningUntil, during
	// a rotation (see SignatureHeader).
	PreviousSigningSecret string
	PreviousSigningUntil  time.Time
	// Delivery guards of the dispatcher (see package dispatcher): the bound on a room's
	// hold, the app's circuit breaker and its delivery rate.
	//
	// MaxRoomHold bounds how long a failing head event holds back its room; once a retry
	// would come later, the event is dead and the room moves on. 0 means no bound.
	MaxRoomHold time.Duration
	// Breaker pauses the app when its backend keeps failing.
	Breaker BreakerPolicy
	// MaxPerSecond bounds the app's delivery attempts per second; 0 means no limit.
	MaxPerSecond float64
	// BeforeSendMsgOnFailure is FailOpen (default) or FailClosed.
	BeforeSendMsgOnFailure string
}

// Enabled reports whether cmd is sent: the URL is set and cmd (or its alias, see Wire) is
// switched on.
func (c *Config) Enabled(cmd Command) bool {
	_, ok := c.Wire(cmd)
	return ok
}

// Configs holds the current Config of every app, for lock-free reads on the hot path.
type Configs struct {
	mu   sync.Mutex
	apps atomic.Pointer[map[uint64]*Config]
}

// NewConfigs returns an empty set.
func NewConfigs() *Configs {
	c := &Configs{}
	m := map[uint64]*Config{}
	c.apps.Store(&m)
	return c
}

// Get returns app's configuration, or nil when it has none.
func (c *Configs) Get(app uint64) *Config {
	return (*c.apps.Load())[app]
}

// Set publishes cfg as its app's configuration.
func (c *Configs) Set(cfg *Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.apps.Load()
	m := make(map[uint64]*Config, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[cfg.App] = cfg
	c.apps.Store(&m)
}

// Update applies fn to a copy of app's configuration (or a fresh one) and publishes it.
func (c *Configs) Update(app uint64, fn func(*Config)) *Config {
	c.mu.Lock()
	old := *c.apps.Load()
	next := Config{App: app, Timeout: DefaultTimeout, Retry: DefaultRetryPolicy,
		MaxRoomHold: DefaultMaxRoomHold, Breaker: DefaultBreakerPolicy, BeforeSendMsgOnFailure: FailOpen}
	if cur := old[app]; cur != nil {
		next = *cur
		next.Commands = slices.Clone(cur.Commands)
	}
	fn(&next)
	m := make(map[uint64]*Config, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[app] = &next
	c.apps.Store(&m)
	c.mu.Unlock()
	return &next
}
