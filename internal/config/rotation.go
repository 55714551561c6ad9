package config

// validateRotation checks the signing secret rotation settings: a previous secret needs a
// current one to replace it, an end to its grace period, and a different value.
func (c *Callback) validateRotation(ps *problems, path string) {
	if c.PreviousSigningSecret == "" {
		if !c.PreviousSigningSecretUntil.IsZero() {
			ps.add(path+"previous_signing_secret_until", "requires callback.previous_signing_secret")
		}
		return
	}
	validateSigningSecret(ps, path+"previous_signing_secret", c.PreviousSigningSecret)
	if c.SigningSecret == "" {
		ps.add(path+"previous_signing_secret", "requires callback.signing_secret, the secret that replaces it")
	} else if c.SigningSecret == c.PreviousSigningSecret {
		ps.add(path+"previous_signing_secret", "must differ from callback.signing_secret")
	}
	if c.PreviousSigningSecretUntil.IsZero() {
		ps.add(path+"previous_signing_secret_until", "required with callback.previous_signing_secret: the end of its grace period, such as 2026-08-01T00:00:00Z")
	}
}
