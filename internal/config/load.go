package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable roomd reads.
const EnvPrefix = "ROOMD_"

// EnvConfig names the environment variable that holds the path of the YAML configuration
// file. The caller of [Load] reads it (a --config flag wins over it); Load itself does not.
const EnvConfig = EnvPrefix + "CONFIG"

// EnvVar describes one environment variable roomd reads.
type EnvVar struct {
	// Name is the variable's name, such as "ROOMD_LISTEN".
	Name string
	// Key is the YAML path of the setting it overrides, such as "listen"; it is empty for
	// [EnvConfig], which names the file rather than overriding a setting.
	Key string
	// Description says in one line what the variable sets.
	Description string
}

// envSetting binds an environment variable to the setting it overrides.
type envSetting struct {
	EnvVar
	field func(*Config) *string
}

var envSettings = []envSetting{
	{EnvVar{EnvPrefix + "LISTEN", "listen", "address to serve on, as host:port (default 127.0.0.1:8080)"},
		func(c *Config) *string { return &c.Listen }},
	{EnvVar{EnvPrefix + "DATA_DIR", "data_dir", "directory for the SQLite database and the development app's key (default ./roomd-data)"},
		func(c *Config) *string { return &c.DataDir }},
	{EnvVar{EnvPrefix + "TLS_CERT", "tls_cert", "PEM certificate file; with ROOMD_TLS_KEY, serve HTTPS"},
		func(c *Config) *string { return &c.TLSCert }},
	{EnvVar{EnvPrefix + "TLS_KEY", "tls_key", "PEM private key file of ROOMD_TLS_CERT"},
		func(c *Config) *string { return &c.TLSKey }},
	{EnvVar{EnvPrefix + "STORE_DRIVER", "store.driver", "database driver: sqlite (default) or postgres"},
		func(c *Config) *string { return &c.Store.Driver }},
	{EnvVar{EnvPrefix + "STORE_DSN", "store.dsn", "PostgreSQL connection string, required with the postgres driver"},
		func(c *Config) *string { return &c.Store.DSN }},
	{EnvVar{EnvPrefix + "STORE_DURABILITY", "store.durability", "process (default: survives a crash of roomd) or power (fsync every commit: survives power loss)"},
		func(c *Config) *string { return &c.Store.Durability }},
	{EnvVar{EnvPrefix + "NODE", "cluster.node", "this node's id among those sharing one PostgreSQL database (default host name:listen port)"},
		func(c *Config) *string { return &c.Cluster.Node }},
	{EnvVar{EnvPrefix + "LOG_LEVEL", "log.level", "lowest log level written: debug, info (default), warn or error"},
		func(c *Config) *string { return &c.Log.Level }},
	{EnvVar{EnvPrefix + "LOG_FORMAT", "log.format", "log format: text (default) or json"},
		func(c *Config) *string { return &c.Log.Format }},
}

// EnvVars lists every environment variable roomd reads, [EnvConfig] first, for the README
// and --help. Load reads all of them except EnvConfig; an unset or empty variable leaves the
// setting as the file or the defaults gave it.
var EnvVars = func() []EnvVar {
	vars := []EnvVar{{EnvConfig, "", "path of the YAML configuration file (the --config flag wins over it)"}}
	for _, s := range envSettings {
		vars = append(vars, s.EnvVar)
	}
	return vars
}()

// Overrides carries values given on the command line; nil/empty fields are not set.
// They win over the file and the environment. Each field sets the setting of the same name
// in [Config] (StoreDriver and StoreDSN set Store.Driver and Store.DSN).
type Overrides struct {
	Listen, DataDir, TLSCert, TLSKey, StoreDriver, StoreDSN *string
}

// Load builds the effective configuration: Default(), then the YAML file at path (skipped
// when path == ""; a missing file that was named explicitly is an error), then environment
// variables read through getenv, then overrides, then defaults for per-app fields, then
// Validate.
//
// A nil getenv reads no environment variables; pass os.Getenv to read the process's. When
// the configuration is invalid, Load returns an [*Error] that lists every problem found, each
// noting the environment variable or command line that set it when neither was the file.
// Problems with the file itself (unreadable, not YAML) are reported on their own.
func Load(path string, getenv func(string) string, o Overrides) (*Config, error) {
	cfg := Default()
	var ps problems
	explicit := func(string) bool { return false }
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		d := decode(cfg, data)
		if !d.usable {
			return nil, d.problems.err(path, nil)
		}
		ps, explicit = d.problems, d.explicit
	}

	sources := make(map[string]string)
	if getenv != nil {
		for _, s := range envSettings {
			if v := getenv(s.Name); v != "" {
				*s.field(cfg) = v
				sources[s.Key] = "set by " + s.Name
			}
		}
	}
	for _, f := range []struct {
		key   string
		value *string
		field *string
	}{
		{"listen", o.Listen, &cfg.Listen},
		{"data_dir", o.DataDir, &cfg.DataDir},
		{"tls_cert", o.TLSCert, &cfg.TLSCert},
		{"tls_key", o.TLSKey, &cfg.TLSKey},
		{"store.driver", o.StoreDriver, &cfg.Store.Driver},
		{"store.dsn", o.StoreDSN, &cfg.Store.DSN},
	} {
		if f.value != nil && *f.value != "" {
			*f.field = *f.value
			sources[f.key] = "set on the command line"
		}
	}

	cfg.applyDefaults(explicit)
	ps = append(ps, cfg.problems()...)
	err := ps.err(path, func(p string) string {
		if s, ok := sources[p]; ok {
			return " (" + s + ")"
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse decodes YAML bytes on top of [Default], rejecting unknown keys, applies the per-app
// defaults and validates the result. An empty document gives the defaults. On failure it
// returns an [*Error] listing every problem found: unknown keys and every Validate problem
// together, or the decoder's problems alone when a value could not be decoded.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	d := decode(cfg, data)
	if !d.usable {
		return nil, d.problems.err("", nil)
	}
	cfg.applyDefaults(d.explicit)
	ps := append(d.problems, cfg.problems()...)
	if err := ps.err("", nil); err != nil {
		return nil, err
	}
	return cfg, nil
}

// applyDefaults fills the defaults that depend on what the file said: the per-app defaults,
// keeping zero values the file set explicitly, and a per-app delivery limit lowered to a
// smaller worker count when the file did not set the limit itself.
func (c *Config) applyDefaults(explicit func(path string) bool) {
	d := &c.Delivery
	if !explicit("delivery.max_in_flight_per_app") && d.Workers >= 1 && d.MaxInFlightPerApp > d.Workers {
		d.MaxInFlightPerApp = d.Workers
	}
	for i := range c.Apps {
		c.Apps[i].applyDefaults(fmt.Sprintf("apps[%d].", i), explicit)
	}
}

// decoded is the outcome of decoding a YAML file onto a configuration.
type decoded struct {
	// problems lists what the decoder rejected.
	problems problems
	// usable is true when every value decoded, so that validating the result is meaningful;
	// unknown keys alone leave it true.
	usable bool
	// explicit reports whether the file gave a non-null value at a YAML path.
	explicit func(path string) bool
}

// decode decodes data onto cfg with unknown keys rejected and rewrites the decoder's
// messages to name YAML paths.
func decode(cfg *Config, data []byte) decoded {
	d := decoded{explicit: func(string) bool { return false }}
	fatal := func(msg string) decoded {
		d.problems = append(d.problems, problem{msg: msg})
		return d
	}

	// First decode into a node tree, to catch syntax errors and to learn the YAML path of
	// every line, since the decoder's own messages name only lines and Go types.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		d.usable = true // An empty file (or one of only comments) means the defaults.
		return d
	} else if err != nil {
		return fatal(err.Error())
	}
	for {
		// Further documents are an error unless they are empty, as after a trailing "---".
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fatal(err.Error())
		}
		if !isEmptyDocument(&extra) {
			return fatal(fmt.Sprintf("line %d: the file must hold a single YAML document, but a second one starts here", extra.Line))
		}
	}
	idx := newIndex(&root)
	d.explicit = func(path string) bool { return idx.explicit[path] }

	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	var te *yaml.TypeError
	switch {
	case err == nil:
		d.usable = true
	case errors.As(err, &te):
		d.usable = true
		for _, msg := range te.Errors {
			p, unknownKey := idx.rewrite(msg)
			d.problems = append(d.problems, p)
			d.usable = d.usable && unknownKey
		}
	default:
		return fatal(err.Error())
	}
	return d
}

// isEmptyDocument reports whether n is a document with no content or only a null.
func isEmptyDocument(n *yaml.Node) bool {
	switch len(n.Content) {
	case 0:
		return true
	case 1:
		c := n.Content[0]
		return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null"
	}
	return false
}

// index maps the lines of a YAML document to YAML paths such as "apps[1].callback.url".
type index struct {
	keys        map[keyAt]string // a mapping key at a line → its path
	scalars     map[int]string   // a line → the path of the scalar value on it
	collections map[int]string   // a line → the path of the mapping or sequence starting on it
	explicit    map[string]bool  // the paths given a non-null value
}

type keyAt struct {
	line int
	name string
}

// ambiguous marks a line that holds more than one path, so that no path is named for it.
const ambiguous = "\x00"

func newIndex(root *yaml.Node) *index {
	idx := &index{
		keys:        make(map[keyAt]string),
		scalars:     make(map[int]string),
		collections: make(map[int]string),
		explicit:    make(map[string]bool),
	}
	idx.walk(root, "")
	return idx
}

func note[K comparable](m map[K]string, k K, path string) {
	if old, ok := m[k]; ok && old != path {
		m[k] = ambiguous
		return
	}
	m[k] = path
}

func (idx *index) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			idx.walk(c, path)
		}
	case yaml.MappingNode:
		note(idx.collections, n.Line, path)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				continue
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			note(idx.keys, keyAt{k.Line, k.Value}, p)
			if !(v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null") {
				idx.explicit[p] = true
			}
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		note(idx.collections, n.Line, path)
		for i, c := range n.Content {
			idx.walk(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		note(idx.scalars, n.Line, path)
	}
}

var (
	reUnknownKey   = regexp.MustCompile(`^line (\d+): field (.*) not found in type (\S+)$`)
	reDuplicateKey = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
	reAtLine       = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// rewrite turns one message of a yaml.TypeError into a problem naming the YAML path where
// the line identifies one, and reports whether the message is about an unknown key.
func (idx *index) rewrite(msg string) (p problem, unknownKey bool) {
	if m := reUnknownKey.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p = problem{path: idx.keyPath(line, m[2]), msg: "unknown key (line " + m[1] + ")"}
		if keys := yamlKeys[m[3]]; keys != nil {
			p.msg += "; valid keys here: " + strings.Join(keys, ", ")
		}
		return p, true
	}
	if m := reDuplicateKey.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return problem{path: idx.keyPath(line, m[2]), msg: "key given twice, at lines " + m[3] + " and " + m[1]}, false
	}
	m := reAtLine.FindStringSubmatch(msg)
	if m == nil {
		return problem{msg: msg}, false
	}
	line, _ := strconv.Atoi(m[1])
	lines := idx.scalars
	if strings.Contains(m[2], "!!map") || strings.Contains(m[2], "!!seq") {
		lines = idx.collections
	}
	var hint string
	if strings.Contains(m[2], "into time.Duration") {
		hint = `; write a duration such as "2s", "500ms" or "10m"`
	}
	if path, ok := lines[line]; ok && path != ambiguous && path != "" {
		return problem{path: path, msg: m[2] + " (line " + m[1] + ")" + hint}, false
	}
	return problem{msg: msg + hint}, false
}

// keyPath returns the YAML path of the key name at line, or the bare name when the line
// does not identify it (the message names the line in any case).
func (idx *index) keyPath(line int, name string) string {
	if path, ok := idx.keys[keyAt{line, name}]; ok && path != ambiguous {
		return path
	}
	return name
}

// yamlKeys maps the Go type names the decoder prints, such as "config.Callback", to the YAML
// keys of that type, for listing the valid keys next to an unknown one.
var yamlKeys = func() map[string][]string {
	m := make(map[string][]string)
	for _, v := range []any{Config{}, Store{}, Cluster{}, Log{}, Delivery{}, Outbound{}, App{}, RateLimit{}, Callback{}, Retry{}} {
		t := reflect.TypeOf(v)
		var keys []string
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			keys = append(keys, name)
		}
		m[t.String()] = keys
	}
	return m
}()
