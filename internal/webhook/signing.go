package webhook

import (
	"strings"
	"time"
)

// SignatureHeader returns the webhook-signature header of one attempt at now: the Standard
// Webhooks signature under cfg.SigningSecret and, while now is before
// cfg.PreviousSigningUntil, a second one under cfg.PreviousSigningSecret, space-separated,
// the current secret's first (https://www.standardwebhooks.com/: "the webhook is signed both
// using the current key, and using an old key (for a set period of time)"). A receiver that
// knows either secret verifies the request, so it can switch secrets at any time within the
// grace period. It returns "" without a secret or without an id.
func SignatureHeader(cfg *Config, id string, timestamp int64, body []byte, now time.Time) string {
	if cfg == nil || cfg.SigningSecret == "" || id == "" {
		return ""
	}
	sig := StandardSignature(cfg.SigningSecret, id, timestamp, body)
	if cfg.PreviousSigningSecret == "" || !now.Before(cfg.PreviousSigningUntil) {
		return sig
	}
	var b strings.Builder
	b.WriteString(sig)
	b.WriteByte(' ')
	b.WriteString(StandardSignature(cfg.PreviousSigningSecret, id, timestamp, body))
	return b.String()
}
