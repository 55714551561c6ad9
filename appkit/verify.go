package appkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default windows of the Verifier.
const (
	// DefaultSignWindow is how far Tencent's RequestTime may be from the receiver's clock:
	// one minute, as Tencent's callback overview says.
	DefaultSignWindow = time.Minute
	// DefaultTolerance is how far webhook-timestamp may be from the receiver's clock:
	// five minutes, as the Standard Webhooks libraries use.
	DefaultTolerance = 5 * time.Minute
)

// Errors of Verifier.Verify. They are wrapped with detail; test with errors.Is. Every one of
// them means the request must not be trusted.
var (
	// ErrWrongApp: SdkAppid is missing or is not the Verifier's SDKAppID.
	ErrWrongApp = errors.New("SdkAppid is not this app's")
	// ErrBadSign: Sign or RequestTime is missing, or Sign does not match any token.
	ErrBadSign = errors.New("Sign does not match")
	// ErrBadSignature: a webhook header is missing or malformed, or no v1 signature of
	// webhook-signature matches any signing secret.
	ErrBadSignature = errors.New("webhook-signature does not match")
	// ErrStale: RequestTime or webhook-timestamp is outside its window around the
	// receiver's clock; the request may be a replay.
	ErrStale = errors.New("request time outside the allowed window")
)

// Verifier checks that a callback comes from the Live backend. Each check runs only when it
// is configured; a zero Verifier accepts everything.
type Verifier struct {
	// SDKAppID, when not 0, must equal the SdkAppid query parameter (every Tencent callback
	// page asks the App backend to check it).
	SDKAppID uint64
	// Tokens, when not empty, are the accepted callback tokens (v4/live_config/
	// set_callback_token): the request must carry RequestTime within SignWindow and
	// Sign = hex(SHA-256(token + RequestTime)) for one of them. Give the old and the new
	// token while you change it. Sign does not cover the body: prefer SigningSecrets.
	Tokens []string
	// SignWindow bounds |now − RequestTime|; 0 means DefaultSignWindow.
	SignWindow time.Duration
	// SigningSecrets, when not empty, are the accepted Standard Webhooks secrets
	// (roomd's callback.signing_secret): the request must carry webhook-id,
	// webhook-timestamp within Tolerance and a webhook-signature with a "v1," entry that
	// is the HMAC-SHA256 of "id.timestamp.body" under one of them. A secret is "whsec_"
	// followed by the standard base64 of the key, or any other string used as its bytes,
	// as in roomd's configuration. During a rotation roomd signs with both secrets, so
	// listing either is enough.
	SigningSecrets []string
	// Tolerance bounds |now − webhook-timestamp|; 0 means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify checks req in order: SdkAppid, then Sign/RequestTime, then the Standard Webhooks
// signature. It returns nil or an error wrapping ErrWrongApp, ErrBadSign, ErrBadSignature or
// ErrStale.
func (v *Verifier) Verify(req *Request) error {
	if v == nil {
		return nil
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	if v.SDKAppID != 0 && req.SDKAppID != v.SDKAppID {
		return fmt.Errorf("%w: got %d", ErrWrongApp, req.SDKAppID)
	}
	if len(v.Tokens) > 0 {
		if err := v.verifySign(req, t); err != nil {
			return err
		}
	}
	if len(v.SigningSecrets) > 0 {
		if err := v.verifySignature(req, t); err != nil {
			return err
		}
	}
	return nil
}

func (v *Verifier) verifySign(req *Request, now time.Time) error {
	if req.Sign == "" || req.RequestTime == 0 {
		return fmt.Errorf("%w: Sign or RequestTime missing", ErrBadSign)
	}
	window := v.SignWindow
	if window <= 0 {
		window = DefaultSignWindow
	}
	if !within(now, time.Unix(req.RequestTime, 0), window) {
		return fmt.Errorf("%w: RequestTime %d is more than %s from now", ErrStale, req.RequestTime, window)
	}
	got := []byte(strings.ToLower(req.Sign))
	for _, tok := range v.Tokens {
		if subtle.ConstantTimeCompare([]byte(Sign(tok, req.RequestTime)), got) == 1 {
			return nil
		}
	}
	return ErrBadSign
}

func (v *Verifier) verifySignature(req *Request, now time.Time) error {
	if req.WebhookID == "" || req.timestampText == "" || req.WebhookSignature == "" {
		return fmt.Errorf("%w: webhook-id, webhook-timestamp or webhook-signature missing", ErrBadSignature)
	}
	ts, err := strconv.ParseInt(req.timestampText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q is not a number", ErrBadSignature, req.timestampText)
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if !within(now, time.Unix(ts, 0), tol) {
		return fmt.Errorf("%w: webhook-timestamp %d is more than %s from now", ErrStale, ts, tol)
	}
	if ok, err := VerifySignature(v.SigningSecrets, req.WebhookID, ts, req.Body, req.WebhookSignature); err != nil {
		return err
	} else if !ok {
		return ErrBadSignature
	}
	return nil
}

func within(now, t time.Time, window time.Duration) bool {
	d := now.Sub(t)
	return d <= window && d >= -window
}

// Sign returns Tencent's callback signature: the lowercase hex SHA-256 of token followed by
// the decimal request time in seconds, with no separator
// (https://www.tencentcloud.com/document/product/647/64412).
func Sign(token string, requestTime int64) string {
	sum := sha256.Sum256([]byte(token + strconv.FormatInt(requestTime, 10)))
	return hex.EncodeToString(sum[:])
}

// SigningKey returns the HMAC key of a Standard Webhooks secret: the base64-decoded part
// after "whsec_", or the secret's own bytes when it has no such prefix.
func SigningKey(secret string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, errors.New("signing secret after \"whsec_\" is not valid base64")
		}
		return key, nil
	}
	return []byte(secret), nil
}

// SignStandard returns the Standard Webhooks signature "v1,<base64>" of one request: the
// HMAC-SHA256, under the key of secret, of id, ".", the decimal timestamp, "." and body.
func SignStandard(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := SigningKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body)), nil
}

func mac(key []byte, id string, timestamp int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature reports whether header, a webhook-signature value of space-separated
// "<version>,<base64>" entries, has a "v1" entry that matches the signature of id,
// timestamp and body under one of secrets. Entries of other versions (such as "v1a") are
// skipped. It does not check the timestamp's age; Verifier.Verify does. The error is for a
// secret that cannot be decoded.
func VerifySignature(secrets []string, id string, timestamp int64, body []byte, header string) (bool, error) {
	var sigs [][]byte
	for _, entry := range strings.Fields(header) {
		ver, b64, ok := strings.Cut(entry, ",")
		if !ok || ver != "v1" {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return false, nil
	}
	matched := false
	for _, s := range secrets {
		key, err := SigningKey(s)
		if err != nil {
			return false, err
		}
		want := mac(key, id, timestamp, body)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				matched = true
			}
		}
	}
	return matched, nil
}
