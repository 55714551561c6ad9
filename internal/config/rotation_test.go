package config

import (
	"strings"
	"testing"
	"time"
)

func TestSigningSecretRotation(t *testing.T) {
	const (
		newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		oldSecret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	)
	until := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		cb       Callback
		problems []string
	}{
		{"rotation", Callback{SigningSecret: newSecret, PreviousSigningSecret: oldSecret, PreviousSigningSecretUntil: until}, nil},
		{"no end", Callback{SigningSecret: newSecret, PreviousSigningSecret: oldSecret}, []string{"previous_signing_secret_until: required"}},
		{"nothing replaces it", Callback{PreviousSigningSecret: oldSecret, PreviousSigningSecretUntil: until}, []string{"previous_signing_secret: requires callback.signing_secret"}},
		{"same secret", Callback{SigningSecret: newSecret, PreviousSigningSecret: newSecret, PreviousSigningSecretUntil: until}, []string{"must differ"}},
		{"bad previous", Callback{SigningSecret: newSecret, PreviousSigningSecret: "whsec_!!", PreviousSigningSecretUntil: until}, []string{"previous_signing_secret: the part after"}},
		{"until alone", Callback{SigningSecret: newSecret, PreviousSigningSecretUntil: until}, []string{"previous_signing_secret_until: requires"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps problems
			tc.cb.validateRotation(&ps, "apps[0].callback.")
			err := ps.err("", nil)
			if len(tc.problems) == 0 {
				if err != nil {
					t.Fatalf("problems: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no problems, want %v", tc.problems)
			}
			for _, p := range tc.problems {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("%v does not mention %q", err, p)
				}
			}
		})
	}
}

func TestRotationFromYAML(t *testing.T) {
	c, err := Parse([]byte(`
apps:
  - sdkappid: 1400000000
    secret_key: "0123456789abcdef0123456789abcdef"
    callback:
      url: http://127.0.0.1:9000/callback
      signing_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
      previous_signing_secret: whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
      previous_signing_secret_until: 2026-08-01T00:00:00Z
`))
	if err != nil {
		t.Fatal(err)
	}
	cb := c.Apps[0].Callback
	if cb.PreviousSigningSecret != "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" || !cb.PreviousSigningSecretUntil.Equal(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("callback %+v", cb)
	}
}
