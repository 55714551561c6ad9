package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/roomd/roomd/internal/webhook"
)

// env returns a getenv function that reads from m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func ptr[T any](v T) *T { return &v }

// writeFile writes data to a file in a fresh temporary directory and returns its path.
func writeFile(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roomd.yaml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemsOf returns the problems listed by err, failing the test when err is not an *Error.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T (%v), want *config.Error", err, err)
	}
	return ce.Problems
}

// wantProblems checks that err lists exactly len(want) problems and that each contains the
// corresponding substring, in order.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want problems %q", want)
	}
	got := problemsOf(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s\nwant substrings %q", len(got), len(want), strings.Join(got, "\n"), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

func TestDefaults(t *testing.T) {
	want := &Config{
		Listen:          "127.0.0.1:8080",
		DataDir:         "./roomd-data",
		Store:           Store{Driver: "sqlite", Durability: "process"},
		Log:             Log{Level: "info", Format: "text"},
		Delivery:        Delivery{Workers: 256, MaxInFlightPerApp: 64},
		Client:          Client{HeartbeatInterval: 10 * time.Second, HeartbeatTimeout: 20 * time.Second, ReconnectGrace: time.Minute, SendQueue: 256, MaxFrameBytes: 64 << 10, PresencePushLimit: 100},
		Cluster:         Cluster{BeatInterval: 2 * time.Second, NodeTTL: 10 * time.Second, LeaseTTL: 10 * time.Second},
		ShutdownTimeout: 10 * time.Second,
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	for _, tc := range []struct {
		name string
		load func() (*Config, error)
	}{
		{"Parse empty", func() (*Config, error) { return Parse(nil) }},
		{"Parse comments only", func() (*Config, error) { return Parse([]byte("# nothing here\n")) }},
		{"Parse null document", func() (*Config, error) { return Parse([]byte("~\n")) }},
		{"Parse document markers", func() (*Config, error) { return Parse([]byte("---\n# defaults\n...\n---\n")) }},
		{"Load no file", func() (*Config, error) { return Load("", nil, Overrides{}) }},
		{"Load empty file", func() (*Config, error) { return Load(writeFile(t, ""), env(nil), Overrides{}) }},
		{"Load empty overrides", func() (*Config, error) {
			return Load("", env(map[string]string{"ROOMD_LISTEN": ""}), Overrides{Listen: ptr("")})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestAppDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want App
	}{
		{
			name: "minimal app",
			yaml: "apps: [{sdkappid: 1, secret_key: k}]",
			want: App{SDKAppID: 1, SecretKey: "k", Admins: []string{"administrator"}, RateLimit: RateLimit{Enabled: ptr(true)}},
		},
		{
			name: "null admins mean omitted",
			yaml: "apps: [{sdkappid: 1, secret_key: k, admins: ~}]",
			want: App{SDKAppID: 1, SecretKey: "k", Admins: []string{"administrator"}, RateLimit: RateLimit{Enabled: ptr(true)}},
		},
		{
			name: "empty callback gets callback defaults",
			yaml: "apps: [{sdkappid: 1, secret_key: k, callback: {}}]",
			want: App{
				SDKAppID: 1, SecretKey: "k", Admins: []string{"administrator"}, RateLimit: RateLimit{Enabled: ptr(true)},
				Callback: &Callback{
					Timeout:                2 * time.Second,
					BeforeSendMsgOnFailure: "allow",
					Retry:                  Retry{Enabled: ptr(true), MaxAttempts: 8, InitialBackoff: time.Second, MaxBackoff: time.Minute},
					MaxRoomHold:            5 * time.Minute,
					Breaker:                Breaker{Failures: 10, ProbeInterval: 10 * time.Second},
					Retention:              Retention{Delivered: 168 * time.Hour, Dead: 720 * time.Hour},
				},
			},
		},
		{
			name: "explicit zeros switch the hold bound and the breaker off",
			yaml: "apps: [{sdkappid: 1, secret_key: k, callback: {max_room_hold: 0s, breaker: {failures: 0}, max_per_second: 0}}]",
			want: App{
				SDKAppID: 1, SecretKey: "k", Admins: []string{"administrator"}, RateLimit: RateLimit{Enabled: ptr(true)},
				Callback: &Callback{
					Timeout:                2 * time.Second,
					BeforeSendMsgOnFailure: "allow",
					Retry:                  Retry{Enabled: ptr(true), MaxAttempts: 8, InitialBackoff: time.Second, MaxBackoff: time.Minute},
					Breaker:                Breaker{ProbeInterval: 10 * time.Second},
					Retention:              Retention{Delivered: 168 * time.Hour, Dead: 720 * time.Hour},
				},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Apps) != 1 || !reflect.DeepEqual(cfg.Apps[0], tc.want) {
				t.Errorf("apps = %+v, want [%+v]", cfg.Apps, tc.want)
			}
		})
	}

	// Apps built in code get the same defaults from ApplyDefaults.
	c := &Config{Apps: []App{{SDKAppID: 1, SecretKey: "k", Callback: &Callback{}}}}
	c.ApplyDefaults()
	a := c.Apps[0]
	if !reflect.DeepEqual(a.Admins, []string{DefaultAdmin}) || a.Callback.Timeout != webhook.DefaultTimeout ||
		a.Callback.Retry.MaxAttempts != webhook.DefaultMaxAttempts || !a.Callback.Retry.IsEnabled() || !a.RateLimit.IsEnabled() ||
		a.Callback.MaxRoomHold != webhook.DefaultMaxRoomHold || a.Callback.Breaker != (Breaker{Failures: webhook.DefaultBreakerFailures, ProbeInterval: webhook.DefaultProbeInterval}) {
		t.Errorf("ApplyDefaults gave %+v, callback %+v", a, a.Callback)
	}
}

// fullConfig is what testdata/full.yaml must decode to.
func fullConfig() *Config {
	return &Config{
		Listen:          "0.0.0.0:8443",
		DataDir:         "/var/lib/roomd",
		TLSCert:         "/etc/roomd/tls/cert.pem",
		TLSKey:          "/etc/roomd/tls/key.pem",
		Store:           Store{Driver: "sqlite", DSN: "", Durability: "power"},
		Log:             Log{Level: "debug", Format: "json"},
		Delivery:        Delivery{Workers: 128, MaxInFlightPerApp: 32},
		Client:          Client{HeartbeatInterval: 5 * time.Second, HeartbeatTimeout: 10 * time.Second, ReconnectGrace: 30 * time.Second, SendQueue: 512, MaxFrameBytes: 32 << 10, PresencePushLimit: 50},
		Outbound:        Outbound{Deny: []string{"10.0.0.0/8", "fc00::/7"}, Allow: []string{"169.254.10.0/24"}},
		Cluster:         Cluster{Node: "web1", BeatInterval: time.Second, NodeTTL: 5 * time.Second, LeaseTTL: 6 * time.Second},
		ShutdownTimeout: 20 * time.Second,
		Apps: []App{
			{
				SDKAppID:     1400000000,
				SecretKey:    "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e",
				Admins:       []string{"administrator", "ops_bot"},
				RoomQuota:    1000,
				AutoDissolve: AutoDissolve{NoUsers: 5 * time.Minute, OwnerLeave: 10 * time.Minute, OwnerOffline: 15 * time.Minute},
				RateLimit: RateLimit{
					Enabled: ptr(true),
					PerAPI: map[string]int{
						"live_engine_http_srv/create_room":   50,
						"live_engine_http_srv/get_room_list": 20,
					},
				},
				Callback: &Callback{
					URL: "https://app.example.com/tuilivekit/callback",
					Commands: []string{
						"Live.CallbackAfterCreateRoom", "Live.CallbackAfterDestroyRoom", "Live.CallbackAfterChangeOwner",
						"Live.CallbackBeforeSendGift", "Group.CallbackBeforeSendMsg",
					},
					Token:                  "xxxxyyyy",
					TokenEnabled:           true,
					Timeout:                1500 * time.Millisecond,
					SigningSecret:          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
					BeforeSendMsgOnFailure: "reject",
					Retry:                  Retry{Enabled: ptr(true), MaxAttempts: 8, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 5 * time.Minute},
					MaxRoomHold:            2 * time.Minute,
					Breaker:                Breaker{Failures: 20, ProbeInterval: 30 * time.Second},
					MaxPerSecond:           50,
					Retention:              Retention{Delivered: 72 * time.Hour, Dead: 2160 * time.Hour},
				},
			},
			{
				SDKAppID:  1400000001,
				SecretKey: "second-app-secret",
				Admins:    []string{"administrator"},
				RateLimit: RateLimit{Enabled: ptr(false)},
				Callback: &Callback{
					URL:                    "http://127.0.0.1:9000/callback",
					Commands:               []string{"Live.CallbackAfterCreateRoom"},
					Timeout:                2 * time.Second,
					BeforeSendMsgOnFailure: "allow",
					Retry:                  Retry{Enabled: ptr(false), MaxAttempts: 8, InitialBackoff: time.Second, MaxBackoff: time.Minute},
					MaxRoomHold:            5 * time.Minute,
					Breaker:                Breaker{Failures: 10, ProbeInterval: 10 * time.Second},
					Retention:              Retention{Delivered: 168 * time.Hour, Dead: 720 * time.Hour},
				},
			},
		},
	}
}

func TestFullExample(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := fullConfig()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(full.yaml) =\n%+v\nwant\n%+v", got, want)
	}
	if got.Apps[1].RateLimit.IsEnabled() || got.Apps[1].Callback.Retry.IsEnabled() {
		t.Error("enabled: false was not honoured")
	}
	key, err := got.Apps[0].Callback.SigningKey()
	if err != nil || len(key) != 24 {
		t.Errorf("SigningKey() = %d bytes, %v; want 24 bytes", len(key), err)
	}

	// Round trip: the effective configuration, written back as YAML, parses to itself.
	out, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(full)) failed: %v\n%s", err, out)
	}
	if again.Apps[1].RateLimit.PerAPI == nil || len(again.Apps[1].RateLimit.PerAPI) != 0 {
		t.Fatalf("an absent per_api should marshal as {}")
	}
	again.Apps[1].RateLimit.PerAPI = nil
	if !reflect.DeepEqual(again, want) {
		t.Errorf("round trip =\n%+v\nwant\n%+v\nYAML:\n%s", again, want, out)
	}

	// Load reads the same file the same way.
	loaded, err := Load("testdata/full.yaml", env(nil), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, want) {
		t.Errorf("Load(full.yaml) differs from Parse")
	}
}

func TestDurations(t *testing.T) {
	base := "apps:\n  - sdkappid: 1\n    secret_key: k\n    callback: {%s}\n"
	for _, tc := range []struct {
		in      string
		timeout time.Duration
		initial time.Duration
		max     time.Duration
		problem string
	}{
		{in: `timeout: 2s`, timeout: 2 * time.Second, initial: time.Second, max: time.Minute},
		{in: `timeout: 500ms`, timeout: 500 * time.Millisecond, initial: time.Second, max: time.Minute},
		{in: `timeout: "1m"`, timeout: time.Minute, initial: time.Second, max: time.Minute},
		{in: `timeout: 1m30s`, problem: "apps[0].callback.timeout: must be greater than 0 and at most 1m0s, got 1m30s"},
		{in: `timeout: 0s`, problem: "apps[0].callback.timeout: must be greater than 0"},
		{in: `timeout: -1s`, problem: "apps[0].callback.timeout: must be greater than 0"},
		{in: `timeout: 2`, problem: `apps[0].callback.timeout: cannot unmarshal !!int ` + "`2`" + ` into time.Duration (line 4); write a duration such as "2s"`},
		{in: `timeout: 2 seconds`, problem: "apps[0].callback.timeout: cannot unmarshal !!str"},
		{in: `retry: {initial_backoff: 250ms, max_backoff: 1h}`, timeout: 2 * time.Second, initial: 250 * time.Millisecond, max: time.Hour},
		{in: `retry: {initial_backoff: 0s}`, problem: "apps[0].callback.retry.initial_backoff: must be greater than 0, got 0s"},
		{in: `retry: {initial_backoff: 2m, max_backoff: 1m}`, problem: "apps[0].callback.retry.max_backoff: must not be less than initial_backoff (2m0s), got 1m0s"},
		{in: `max_room_hold: -1s`, problem: "apps[0].callback.max_room_hold: must be from 0s (no bound) to 24h0m0s, got -1s"},
		{in: `max_room_hold: 25h`, problem: "apps[0].callback.max_room_hold: must be from 0s (no bound) to 24h0m0s, got 25h0m0s"},
		{in: `breaker: {failures: -1}`, problem: "apps[0].callback.breaker.failures: must be from 0 (off) to 10000, got -1"},
		{in: `breaker: {probe_interval: 0s}`, problem: "apps[0].callback.breaker.probe_interval: must be greater than 0 and at most 1h, got 0s"},
		{in: `breaker: {probe_interval: 2h}`, problem: "apps[0].callback.breaker.probe_interval: must be greater than 0 and at most 1h, got 2h0m0s"},
		{in: `max_per_second: -1`, problem: "apps[0].callback.max_per_second: must be from 0 (no limit) to 100000, got -1"},
		{in: `retention: {delivered: 0s}`, problem: "apps[0].callback.retention.delivered: must be at least 1s (for practically forever, write a long duration such as 87600h), got 0s"},
		{in: `retention: {dead: 0s}`, problem: "apps[0].callback.retention.dead: must be at least 1s"},
		{in: `retention: {delivered: 5s}`, timeout: 2 * time.Second, initial: time.Second, max: time.Minute},
	} {
		t.Run(tc.in, func(t *testing.T) {
			cfg, err := Parse([]byte(strings.Replace(base, "%s", tc.in, 1)))
			if tc.problem != "" {
				wantProblems(t, err, tc.problem)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cb := cfg.Apps[0].Callback
			if cb.Timeout != tc.timeout || cb.Retry.InitialBackoff != tc.initial || cb.Retry.MaxBackoff != tc.max {
				t.Errorf("timeout %s, initial %s, max %s; want %s, %s, %s",
					cb.Timeout, cb.Retry.InitialBackoff, cb.Retry.MaxBackoff, tc.timeout, tc.initial, tc.max)
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "top level",
			yaml: "listen: 127.0.0.1:8080\nlisen: 127.0.0.1:9090\n",
			want: []string{"lisen: unknown key (line 2); valid keys here: listen, data_dir, tls_cert, tls_key, store, log, delivery, client, outbound, cluster, shutdown_timeout, apps"},
		},
		{
			name: "nested in an app",
			yaml: "apps:\n  - sdkappid: 1\n    secret_key: k\n  - sdkappid: 2\n    secret_key: k\n    callback:\n      urll: http://x\n",
			want: []string{"apps[1].callback.urll: unknown key (line 7); valid keys here: url, commands,"},
		},
		{
			name: "all unknown keys together",
			yaml: "store: {driverr: sqlite}\nlog:\n  lvl: debug\ndelivery: {workers: 200, max_inflight: 1}\n",
			want: []string{"store.driverr: unknown key (line 1)", "log.lvl: unknown key (line 3)", "delivery.max_inflight: unknown key (line 4)"},
		},
		{
			name: "unknown key and Validate problems together",
			yaml: "listen: nonsense\nbogus: 1\napps:\n  - sdkappid: 1\n    secret_key: k\n    callback: {url: ftp://example.com/cb}\n",
			want: []string{"bogus: unknown key (line 2)", "listen: must be host:port", "apps[0].callback.url: must start with http:// or https://"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			wantProblems(t, err, tc.want...)
		})
	}
}

func TestExplicitValuesAreKept(t *testing.T) {
	// A value written in the file is never replaced by a default, even when it is zero; a
	// default that would contradict a written value follows it instead.
	app := "apps:\n  - sdkappid: 1\n    secret_key: k\n"
	for _, tc := range []struct {
		name  string
		yaml  string
		want  []string
		check func(t *testing.T, c *Config)
	}{
		{name: "empty admins", yaml: app + "    admins: []\n", want: []string{"apps[0].admins: must list 1 to 10 admin UserIDs"}},
		{name: "zero max_attempts", yaml: app + "    callback: {retry: {max_attempts: 0}}\n", want: []string{"apps[0].callback.retry.max_attempts: must be from 1 to 1000"}},
		{name: "zero initial_backoff", yaml: app + "    callback: {retry: {initial_backoff: 0s}}\n", want: []string{"apps[0].callback.retry.initial_backoff: must be greater than 0"}},
		{name: "empty failure policy", yaml: app + "    callback: {before_send_msg_on_failure: ''}\n", want: []string{"apps[0].callback.before_send_msg_on_failure: must be allow or reject"}},
		{name: "explicit per-app limit above workers", yaml: "delivery: {workers: 8, max_in_flight_per_app: 64}\n", want: []string{"delivery.max_in_flight_per_app: must not exceed delivery.workers (8), got 64"}},
		{
			name: "per-app limit follows fewer workers",
			yaml: "delivery: {workers: 8}\n",
			check: func(t *testing.T, c *Config) {
				if c.Delivery != (Delivery{Workers: 8, MaxInFlightPerApp: 8}) {
					t.Errorf("delivery = %+v", c.Delivery)
				}
			},
		},
		{
			name: "max_backoff follows a longer initial_backoff",
			yaml: app + "    callback: {retry: {initial_backoff: 15m}}\n",
			check: func(t *testing.T, c *Config) {
				if r := c.Apps[0].Callback.Retry; r.InitialBackoff != 15*time.Minute || r.MaxBackoff != 15*time.Minute {
					t.Errorf("retry = %+v", r)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if tc.want != nil {
				wantProblems(t, err, tc.want...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestDecodeProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"not YAML", "listen: [unclosed\n", []string{"yaml: line"}},
		{"not a mapping", "- 1\n- 2\n", []string{"line 1: cannot unmarshal !!seq into config.Config"}},
		{"wrong type", "apps:\n  - sdkappid: abc\n    secret_key: k\n", []string{"apps[0].sdkappid: cannot unmarshal !!str `abc` into uint64 (line 2)"}},
		{"negative sdkappid", "apps: [{sdkappid: -5, secret_key: k}]", []string{"cannot unmarshal !!int `-5` into uint64"}},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", []string{"listen: key given twice, at lines 1 and 2"}},
		{"two documents", "listen: a:1\n---\nlisten: b:2\n", []string{"line 2: the file must hold a single YAML document"}},
		{"mapping where a string goes", "listen:\n  host: x\n", []string{"listen: cannot unmarshal !!map into string (line 2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml))
			if cfg != nil {
				t.Errorf("Parse returned a configuration along with an error")
			}
			wantProblems(t, err, tc.want...)
		})
	}
}

func TestValidate(t *testing.T) {
	// Each case edits a valid configuration and lists the problems expected, in order.
	valid := func() *Config {
		c := Default()
		c.Apps = []App{{
			SDKAppID: 1400000000, SecretKey: "k", Admins: []string{"administrator"},
			Callback: &Callback{URL: "http://127.0.0.1:9000/cb", Timeout: 2 * time.Second, BeforeSendMsgOnFailure: "allow",
				Retry:     Retry{MaxAttempts: 12, InitialBackoff: time.Second, MaxBackoff: time.Minute},
				Retention: Retention{Delivered: 168 * time.Hour, Dead: 720 * time.Hour}},
		}}
		return c
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"valid", func(c *Config) {}, nil},
		{"no apps", func(c *Config) { c.Apps = nil }, nil},
		{"listen without port", func(c *Config) { c.Listen = "localhost" }, []string{"listen: must be host:port"}},
		{"listen with bad port", func(c *Config) { c.Listen = ":http" }, []string{"listen: port must be a number from 0 to 65535"}},
		{"listen on IPv6 and all interfaces", func(c *Config) { c.Listen = "[::1]:0" }, nil},
		{"empty listen", func(c *Config) { c.Listen = "" }, []string{"listen: required"}},
		{"empty data_dir", func(c *Config) { c.DataDir = "" }, []string{"data_dir: required"}},
		{"tls_cert alone", func(c *Config) { c.TLSCert = "c.pem" }, []string{"tls_key: required when tls_cert is set"}},
		{"tls_key alone", func(c *Config) { c.TLSKey = "k.pem" }, []string{"tls_cert: required when tls_key is set"}},
		{"tls both", func(c *Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }, nil},
		{"bad driver", func(c *Config) { c.Store.Driver = "mysql" }, []string{`store.driver: must be sqlite or postgres, got "mysql"`}},
		{"postgres without dsn", func(c *Config) { c.Store.Driver = "postgres" }, []string{"store.dsn: required when store.driver is postgres"}},
		{"postgres with dsn", func(c *Config) { c.Store.Driver, c.Store.DSN = "postgres", "postgres://db/roomd" }, nil},
		{"bad durability", func(c *Config) { c.Store.Durability = "disk" }, []string{`store.durability: must be process or power, got "disk"`}},
		{"bad log", func(c *Config) { c.Log = Log{Level: "trace", Format: "xml"} }, []string{"log.level:", "log.format:"}},
		{"no workers", func(c *Config) { c.Delivery.Workers = 0 }, []string{"delivery.workers: must be at least 1"}},
		{"per app above workers", func(c *Config) { c.Delivery.MaxInFlightPerApp = 300 }, []string{"delivery.max_in_flight_per_app: must not exceed delivery.workers (256), got 300"}},
		{"missing sdkappid and key", func(c *Config) { c.Apps[0].SDKAppID, c.Apps[0].SecretKey = 0, "" }, []string{"apps[0].sdkappid: required", "apps[0].secret_key: required"}},
		{"duplicate sdkappid", func(c *Config) { c.Apps = append(c.Apps, c.Apps[0]) }, []string{"apps[1].sdkappid: 1400000000 is already used by apps[0]"}},
		{"empty admins", func(c *Config) { c.Apps[0].Admins = []string{} }, []string{"apps[0].admins: must list 1 to 10 admin UserIDs"}},
		{"eleven admins", func(c *Config) {
			c.Apps[0].Admins = strings.Fields("a b c d e f g h i j k")
		}, []string{"apps[0].admins: must list at most 10 admin UserIDs, got 11"}},
		{"bad admins", func(c *Config) {
			c.Apps[0].Admins = []string{"ok", "ok", "has space", strings.Repeat("x", 33), ""}
		}, []string{`apps[0].admins[1]: "ok" is already listed as admins[0]`, "apps[0].admins[2]: \"has space\" contains a space or control character", "apps[0].admins[3]: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" is longer than 32 bytes", "apps[0].admins[4]: is empty"}},
		// Admins follow the account APIs' UserID rule (account.ValidateUserID), not a stricter one.
		{"admins as the account APIs accept them", func(c *Config) {
			c.Apps[0].Admins = []string{"admin.ops", "管理员", "@TIM#x"}
		}, []string{`apps[0].admins[2]: "@TIM#x" uses the reserved @TIM# prefix`}},
		{"negative room quota", func(c *Config) { c.Apps[0].RoomQuota = -1 }, []string{"apps[0].room_quota: must be 0 (no limit) or more"}},
		{"bad per_api", func(c *Config) {
			c.Apps[0].RateLimit.PerAPI = map[string]int{"v4/live_engine_http_srv/create_room": 5, "live_engine_http_srv/get_room_list": 0, "live_engine_http_pk/create_battle": 3}
		}, []string{"apps[0].rate_limit.per_api.live_engine_http_srv/get_room_list: must be a number of requests per second greater than 0", "apps[0].rate_limit.per_api.v4/live_engine_http_srv/create_room: key must be an API path"}},
		{"url without scheme", func(c *Config) { c.Apps[0].Callback.URL = "example.com/cb" }, []string{"apps[0].callback.url: must start with http:// or https://"}},
		{"url without host", func(c *Config) { c.Apps[0].Callback.URL = "http:///cb" }, []string{"apps[0].callback.url: must name a host"}},
		{"url with fragment", func(c *Config) { c.Apps[0].Callback.URL = "https://x/cb#frag" }, []string{"apps[0].callback.url: must not contain a fragment"}},
		{"url unparsable", func(c *Config) { c.Apps[0].Callback.URL = "http://user:pa ss@[::1" }, []string{"apps[0].callback.url: is not a valid URL"}},
		{"empty url", func(c *Config) { c.Apps[0].Callback.URL = "" }, nil},
		{"commands", func(c *Config) {
			c.Apps[0].Callback.Commands = []string{"Live.CallbackAfterCreateRoom", "live.callbackaftercreateroom", "Live.CallbackAfterCreateRoom"}
		}, []string{`apps[0].callback.commands[1]: unknown callback command "live.callbackaftercreateroom"`, `apps[0].callback.commands[2]: "Live.CallbackAfterCreateRoom" is already listed as commands[0]`}},
		{"long token", func(c *Config) { c.Apps[0].Callback.Token = strings.Repeat("t", 129) }, []string{"apps[0].callback.token: must be 1 to 128 characters, got 129"}},
		{"token of 128 multibyte characters", func(c *Config) { c.Apps[0].Callback.Token = strings.Repeat("é", 128) }, nil},
		{"token enabled without token", func(c *Config) { c.Apps[0].Callback.TokenEnabled = true }, []string{"apps[0].callback.token_enabled: requires callback.token"}},
		{"short signing secret", func(c *Config) { c.Apps[0].Callback.SigningSecret = "short" }, []string{"apps[0].callback.signing_secret: must be \"whsec_\" followed by base64"}},
		{"raw signing secret", func(c *Config) { c.Apps[0].Callback.SigningSecret = "0123456789abcdef" }, nil},
		{"whsec not base64", func(c *Config) { c.Apps[0].Callback.SigningSecret = "whsec_!!!!" }, []string{"must be standard base64"}},
		{"whsec too short", func(c *Config) { c.Apps[0].Callback.SigningSecret = "whsec_AAAA" }, []string{"must decode to at least 16 bytes, got 3"}},
		{"bad failure policy", func(c *Config) { c.Apps[0].Callback.BeforeSendMsgOnFailure = "deny" }, []string{`apps[0].callback.before_send_msg_on_failure: must be allow or reject, got "deny"`}},
		{"zero attempts", func(c *Config) { c.Apps[0].Callback.Retry.MaxAttempts = 0 }, []string{"apps[0].callback.retry.max_attempts: must be from 1 to 1000"}},
		{"retention below a second", func(c *Config) {
			c.Apps[0].Callback.Retention = Retention{Delivered: 500 * time.Millisecond, Dead: -time.Hour}
		}, []string{"apps[0].callback.retention.delivered: must be at least 1s", "apps[0].callback.retention.dead: must be at least 1s"}},
		{"retention of seconds", func(c *Config) {
			c.Apps[0].Callback.Retention = Retention{Delivered: time.Second, Dead: 2 * time.Second}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			wantProblems(t, err, tc.want...)
		})
	}
}

func TestSeveralProblemsTogether(t *testing.T) {
	yml := `
listen: localhost
tls_cert: cert.pem
store: {driver: postgres, durability: always}
delivery: {workers: 4, max_in_flight_per_app: 8}
apps:
  - sdkappid: 1400000000
    secret_key: k
    admins: [a, b, c, d, e, f, g, h, i, j, k]
  - sdkappid: 1400000000
    secret_key: k
    callback:
      url: example.com/callback
      timeout: 90s
`
	_, err := Parse([]byte(yml))
	wantProblems(t, err,
		"listen: must be host:port",
		"tls_key: required when tls_cert is set",
		"store.dsn: required when store.driver is postgres",
		"store.durability: must be process or power",
		"delivery.max_in_flight_per_app: must not exceed delivery.workers (4), got 8",
		"apps[0].admins: must list at most 10",
		"apps[1].callback.url: must start with http:// or https://",
		"apps[1].callback.timeout: must be greater than 0 and at most 1m0s",
		"apps[1].sdkappid: 1400000000 is already used by apps[0]",
	)
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid configuration (9 problems):\n  listen: ") {
		t.Errorf("Error() = %q", msg)
	}
}

func TestSecretsNotEchoed(t *testing.T) {
	secret := "pa55word-do-not-print"
	c := Default()
	c.Store.Driver = "mysql"
	c.Store.DSN = "postgres://u:" + secret + "@db/x"
	c.Apps = []App{{SDKAppID: 1, SecretKey: secret, Admins: []string{"a"},
		Callback: &Callback{URL: "http://u:" + secret + "@[::1", Token: strings.Repeat(secret, 10), SigningSecret: "whsec_" + secret,
			Timeout: -1, BeforeSendMsgOnFailure: "allow", Retry: Retry{MaxAttempts: 1, InitialBackoff: 1, MaxBackoff: 1}}}}
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Validate() = %v; want problems that do not contain the secret", err)
	}
}

func TestEnvAndFlags(t *testing.T) {
	file := `
listen: 127.0.0.1:7000
data_dir: /from/file
store: {driver: sqlite, durability: process}
log: {level: warn, format: text}
`
	allEnv := map[string]string{
		"ROOMD_LISTEN":           "0.0.0.0:7001",
		"ROOMD_DATA_DIR":         "/from/env",
		"ROOMD_TLS_CERT":         "env-cert.pem",
		"ROOMD_TLS_KEY":          "env-key.pem",
		"ROOMD_STORE_DRIVER":     "postgres",
		"ROOMD_STORE_DSN":        "postgres://env/roomd",
		"ROOMD_STORE_DURABILITY": "power",
		"ROOMD_LOG_LEVEL":        "error",
		"ROOMD_LOG_FORMAT":       "json",
	}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		flags Overrides
		check func(t *testing.T, c *Config)
	}{
		{
			name: "file alone",
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:7000" || c.DataDir != "/from/file" || c.Log.Level != "warn" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "env overrides file",
			env:  allEnv,
			check: func(t *testing.T, c *Config) {
				want := Default()
				want.Listen, want.DataDir, want.TLSCert, want.TLSKey = "0.0.0.0:7001", "/from/env", "env-cert.pem", "env-key.pem"
				want.Store = Store{Driver: "postgres", DSN: "postgres://env/roomd", Durability: "power"}
				want.Log = Log{Level: "error", Format: "json"}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("got %+v, want %+v", c, want)
				}
			},
		},
		{
			name: "flags override env",
			env:  allEnv,
			flags: Overrides{Listen: ptr("127.0.0.1:7002"), DataDir: ptr("/from/flag"), TLSCert: ptr("flag-cert.pem"),
				TLSKey: ptr("flag-key.pem"), StoreDriver: ptr("sqlite"), StoreDSN: ptr("flag-dsn")},
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:7002" || c.DataDir != "/from/flag" || c.TLSCert != "flag-cert.pem" || c.TLSKey != "flag-key.pem" ||
					c.Store.Driver != "sqlite" || c.Store.DSN != "flag-dsn" {
					t.Errorf("got %+v", c)
				}
				if c.Store.Durability != "power" || c.Log.Level != "error" {
					t.Errorf("env settings without a flag were lost: %+v", c)
				}
			},
		},
		{
			name:  "empty flags and env leave the file's values",
			env:   map[string]string{"ROOMD_LISTEN": ""},
			flags: Overrides{Listen: ptr(""), DataDir: nil},
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:7000" || c.DataDir != "/from/file" {
					t.Errorf("got %+v", c)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeFile(t, file), env(tc.env), tc.flags)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadProblemsNameTheirSource(t *testing.T) {
	path := writeFile(t, "listen: 127.0.0.1:8080\nextra: 1\n")
	_, err := Load(path, env(map[string]string{"ROOMD_STORE_DURABILITY": "sometimes", "ROOMD_LOG_LEVEL": "loud"}),
		Overrides{Listen: ptr("nowhere")})
	wantProblems(t, err,
		"extra: unknown key (line 2)",
		`listen: must be host:port such as 127.0.0.1:8080 or :8080, got "nowhere" (set on the command line)`,
		`store.durability: must be process or power, got "sometimes" (set by ROOMD_STORE_DURABILITY)`,
		`log.level: must be debug, info, warn or error, got "loud" (set by ROOMD_LOG_LEVEL)`,
	)
	if !strings.HasPrefix(err.Error(), "invalid configuration in "+path+" (4 problems):") {
		t.Errorf("Error() = %q, want it to name the file", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	cfg, err := Load(path, env(nil), Overrides{})
	if cfg != nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, %v; want fs.ErrNotExist", cfg, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestEnvVars(t *testing.T) {
	want := []string{"ROOMD_CONFIG", "ROOMD_LISTEN", "ROOMD_DATA_DIR", "ROOMD_TLS_CERT", "ROOMD_TLS_KEY", "ROOMD_STORE_DRIVER",
		"ROOMD_STORE_DSN", "ROOMD_STORE_DURABILITY", "ROOMD_NODE", "ROOMD_LOG_LEVEL", "ROOMD_LOG_FORMAT"}
	var got []string
	for _, v := range EnvVars {
		got = append(got, v.Name)
		if !strings.HasPrefix(v.Name, EnvPrefix) || v.Description == "" || strings.Contains(v.Description, "\n") {
			t.Errorf("bad entry %+v", v)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EnvVars names = %q, want %q", got, want)
	}
	// Load must not read ROOMD_CONFIG; the caller does.
	var read []string
	if _, err := Load("", func(k string) string { read = append(read, k); return "" }, Overrides{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, want[1:]) {
		t.Errorf("Load read %q, want %q", read, want[1:])
	}
}

func TestSigningKey(t *testing.T) {
	for _, tc := range []struct {
		secret string
		want   string
		err    bool
	}{
		{"", "", false},
		{"0123456789abcdef", "0123456789abcdef", false},
		{"whsec_MDEyMzQ1Njc4OWFiY2RlZg==", "0123456789abcdef", false},
		{"whsec_***", "", true},
	} {
		key, err := Callback{SigningSecret: tc.secret}.SigningKey()
		if string(key) != tc.want || (err != nil) != tc.err {
			t.Errorf("SigningKey(%q) = %q, %v", tc.secret, key, err)
		}
	}
}

// outbound.deny and outbound.allow take CIDR ranges or single addresses; shutdown_timeout
// is bounded.
func TestOutboundAndShutdown(t *testing.T) {
	cfg, err := Parse([]byte("outbound: {deny: [10.0.0.0/8, \"fd00::1\"], allow: [169.254.169.254]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("shutdown_timeout default = %s", cfg.ShutdownTimeout)
	}
	deny, allow := cfg.Outbound.Prefixes()
	if len(deny) != 2 || deny[1].String() != "fd00::1/128" || len(allow) != 1 || allow[0].String() != "169.254.169.254/32" {
		t.Errorf("Prefixes() = %v, %v", deny, allow)
	}
	for in, problem := range map[string]string{
		"outbound: {deny: [10.0.0.0/33]}":  `outbound.deny[0]: not a CIDR range or IP address, got "10.0.0.0/33"`,
		"outbound: {allow: [example.com]}": `outbound.allow[0]: not a CIDR range or IP address, got "example.com"`,
		"shutdown_timeout: 0s":             "shutdown_timeout: must be from 1s to 10m, got 0s",
		"shutdown_timeout: 11m":            "shutdown_timeout: must be from 1s to 10m, got 11m0s",
	} {
		_, err := Parse([]byte(in + "\n"))
		wantProblems(t, err, problem)
	}
}

// The cluster block: ROOMD_NODE sets the node id; ids and durations are validated; the
// default id is the host name and the listen port.
func TestCluster(t *testing.T) {
	cfg, err := Load("", env(map[string]string{"ROOMD_NODE": "node-b"}), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.Node != "node-b" || cfg.Cluster.NodeID("9000") != "node-b" {
		t.Errorf("ROOMD_NODE: node = %q", cfg.Cluster.Node)
	}
	host, _ := os.Hostname()
	if got := Default().Cluster.NodeID("8080"); host != "" && got != host+":8080" {
		t.Errorf("default NodeID = %q, want %q", got, host+":8080")
	}
	if got := (Cluster{}).NodeID("8080"); len([]rune(got)) > MaxNodeIDLength {
		t.Errorf("NodeID %q is too long", got)
	}
	_, err = Parse([]byte("cluster: {node: \"a b\", beat_interval: 1s, node_ttl: 2s, lease_ttl: 2s}\n"))
	for _, want := range []string{"cluster.node: must be printable", "cluster.node_ttl: must be at least three beat intervals", "cluster.lease_ttl: must be at least three"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	if _, err := Parse([]byte("cluster: {node: " + strings.Repeat("x", MaxNodeIDLength+1) + "}\n")); err == nil || !strings.Contains(err.Error(), "at most 64 characters") {
		t.Errorf("long node id: %v", err)
	}
}
