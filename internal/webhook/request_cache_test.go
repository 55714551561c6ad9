package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

// TestRequestURLKept: RequestURL keeps the last URL of each app slot; every input that
// goes into the URL (configured URL, app, command, client IP, platform, token, and with a
// token the second) must give a new one, whatever the order of the calls.
func TestRequestURLKept(t *testing.T) {
	cfgs := []*Config{
		{URL: "http://127.0.0.1:9/cb"},
		{URL: "http://127.0.0.1:9/cb?x=1"},
		{URL: "http://127.0.0.1:9/cb", Token: "tok1", TokenEnabled: true},
		{URL: "http://127.0.0.1:9/cb", Token: "tok2", TokenEnabled: true},
		{URL: "http://127.0.0.1:9/cb", Token: "tok2"},
	}
	ds := []Delivery{
		{App: 1400000000, Command: AfterChangeOwner, ClientIP: "127.0.0.1", Platform: PlatformRESTAPI},
		{App: 1400000016, Command: AfterChangeOwner, ClientIP: "127.0.0.1", Platform: PlatformRESTAPI}, // the same slot
		{App: 1400000000, Command: AfterCreateRoom, ClientIP: "127.0.0.1", Platform: PlatformRESTAPI},
		{App: 1400000000, Command: AfterChangeOwner, ClientIP: "::1", Platform: PlatformRESTAPI},
		{App: 1400000000, Command: AfterChangeOwner, ClientIP: "127.0.0.1", Platform: "iOS"},
	}
	times := []time.Time{time.Unix(1703589922, 0), time.Unix(1703589922, 999e6), time.Unix(1703589923, 0)}
	for round := range 2 {
		for _, cfg := range cfgs {
			for _, d := range ds {
				for _, now := range times {
					want := buildRequestURL(cfg, d, now.Unix(), cfg.TokenEnabled && cfg.Token != "")
					for range 2 {
						if got := RequestURL(cfg, d, now); got != want {
							t.Fatalf("round %d: RequestURL(%+v, %+v, %s) = %q, want %q", round, cfg, d, now, got, want)
						}
					}
				}
			}
		}
	}
}

// TestSignKept: Sign keeps its last result; other tokens and times get their own.
func TestSignKept(t *testing.T) {
	for range 2 {
		for _, token := range []string{"a", "b", "a" + "b"} {
			for _, at := range []int64{1703589922, 1703589923} {
				sum := sha256.Sum256([]byte(token + strconv.FormatInt(at, 10)))
				if got, want := Sign(token, at), hex.EncodeToString(sum[:]); got != want {
					t.Fatalf("Sign(%q, %d) = %s, want %s", token, at, got, want)
				}
			}
		}
	}
}

// TestStandardSignatureKeyed: the keyed HMAC states StandardSignature reuses give the
// signature hmac.New gives, for every secret, message and repetition.
func TestStandardSignatureKeyed(t *testing.T) {
	for range 3 {
		for _, secret := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain secret", "whsec_not base64!"} {
			for _, body := range []string{"", "{}", `{"CallbackCommand":"Live.CallbackAfterChangeOwner"}`} {
				key := []byte(secret)
				if b, err := base64.StdEncoding.DecodeString(secret[min(len(secret), 6):]); err == nil && secret[:6] == "whsec_" {
					key = b
				}
				m := hmac.New(sha256.New, key)
				m.Write([]byte("msg_1.1703589922." + body))
				want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
				if got := StandardSignature(secret, "msg_1", 1703589922, []byte(body)); got != want {
					t.Fatalf("StandardSignature(%q, %q) = %s, want %s", secret, body, got, want)
				}
			}
		}
	}
}

// TestPrepareRequestRecorded: the recorded headers PrepareRequest renders at once are those
// RecordedHeaders renders from the fields, and ID and Timestamp are their values.
func TestPrepareRequestRecorded(t *testing.T) {
	now := time.Unix(1703589922, 0)
	for _, cfg := range []*Config{
		{URL: "http://127.0.0.1:9/cb"},
		{URL: "http://127.0.0.1:9/cb", SigningSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	} {
		for _, id := range []string{"", "msg_abc_42"} {
			r := PrepareRequest(cfg, Delivery{ID: id, App: 1400000000, Command: AfterChangeOwner, Body: []byte("{}")}, now)
			plain := Request{URL: r.URL, Body: r.Body, ID: r.ID, Timestamp: r.Timestamp, Signature: r.Signature}
			if r.RecordedHeaders() != plain.RecordedHeaders() || r.ID != id || r.Timestamp != "1703589922" {
				t.Errorf("id %q: %q (id %q, timestamp %q), want %q", id, r.RecordedHeaders(), r.ID, r.Timestamp, plain.RecordedHeaders())
			}
			// A field changed afterwards is not hidden by the headers rendered before.
			r.Timestamp = "1703589923"
			plain.Timestamp = r.Timestamp
			if r.RecordedHeaders() != plain.RecordedHeaders() {
				t.Errorf("id %q, timestamp changed: %q, want %q", id, r.RecordedHeaders(), plain.RecordedHeaders())
			}
		}
	}
}
