package config

import (
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics and that it returns either a valid configuration
// or an error, never both and never neither.
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"",
		string(full),
		"listen: :8080\n",
		"apps: [{sdkappid: 1, secret_key: k, callback: {url: 'http://x', timeout: 2s}}]",
		"apps:\n  - sdkappid: 1\n    secret_key: k\n    callback:\n      urll: http://x\n",
		"a: &a {b: *a}",
		"- 1",
		"listen: a\nlisten: b\n",
		"---\n---\n",
		"apps: [{<<: {sdkappid: 1}, secret_key: k}]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", cfg, err)
		}
		if err != nil {
			if e, ok := err.(*Error); ok && len(e.Problems) == 0 {
				t.Fatalf("an *Error without problems")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration that Validate rejects: %v", err)
		}
	})
}
