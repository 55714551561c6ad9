package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Delivery is what one callback request is made of, apart from the app's Config.
type Delivery struct {
	// ID is the stable event id sent as the webhook-id header. BeforeCaller.Call gives a
	// Before-callback its own id when this is empty (see before.go); with no id at all,
	// neither webhook-id nor webhook-signature is sent.
	ID       string
	App      uint64
	Command  Command
	Body     []byte
	ClientIP string
	Platform string
}

// Sign returns Tencent's callback signature: lowercase hex SHA-256 of token followed by the
// decimal request time in seconds, no separator and no HMAC; the body is not signed
// (https://www.tencentcloud.com/document/product/647/64412).
func Sign(token string, requestTime int64) string {
	sum := sha256.Sum256([]byte(token + strconv.FormatInt(requestTime, 10)))
	return hex.EncodeToString(sum[:])
}

// RequestURL returns the callback URL with Tencent's query parameters appended, in the
// order of Tencent's examples: SdkAppid, CallbackCommand, contenttype, ClientIP, OptPlatform,
// then Sign and RequestTime with a token (https://www.tencentcloud.com/document/product/647/64412). A URL
// that already has a query string gets them after "&".
func RequestURL(cfg *Config, d Delivery, now time.Time) string {
	var b strings.Builder
	b.Grow(len(cfg.URL) + 160)
	b.WriteString(cfg.URL)
	if strings.Contains(cfg.URL, "?") {
		if !strings.HasSuffix(cfg.URL, "?") && !strings.HasSuffix(cfg.URL, "&") {
			b.WriteByte('&')
		}
	} else {
		b.WriteByte('?')
	}
	b.WriteString("SdkAppid=")
	b.WriteString(strconv.FormatUint(d.App, 10))
	b.WriteString("&CallbackCommand=")
	b.WriteString(url.QueryEscape(string(d.Command)))
	b.WriteString("&contenttype=json&ClientIP=")
	b.WriteString(url.QueryEscape(d.ClientIP))
	b.WriteString("&OptPlatform=")
	b.WriteString(url.QueryEscape(d.Platform))
	if cfg.TokenEnabled && cfg.Token != "" {
		t := now.Unix()
		b.WriteString("&Sign=")
		b.WriteString(Sign(cfg.Token, t))
		b.WriteString("&RequestTime=")
		b.WriteString(strconv.FormatInt(t, 10))
	}
	return b.String()
}

// StandardSignature returns the Standard Webhooks signature header value
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>". A secret with the "whsec_" prefix is
// base64-decoded first, as the Standard Webhooks libraries do; any other secret is used as
// its bytes.
func StandardSignature(secret, id string, timestamp int64, body []byte) string {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(rest); err == nil {
			key = k
		}
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewRequest renders the HTTP request of one callback attempt: POST to the app's URL with
// Tencent's query string, the JSON body, and the webhook-id / webhook-timestamp (and, with a
// signing secret, webhook-signature) headers. It is the one renderer used for After- and
// Before-callbacks alike. Everything that depends on cfg (URL, token, signing secrets) and
// on now (RequestTime, webhook-timestamp) is taken at the attempt: the dispatcher reads the
// app's current Config before each attempt, so a retried event is signed with the token and
// secrets current at that attempt, not those of its first one.
func NewRequest(ctx context.Context, cfg *Config, d Delivery, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, RequestURL(cfg, d, now), bytes.NewReader(d.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "roomd")
	ts := now.Unix()
	if d.ID != "" {
		req.Header.Set("webhook-id", d.ID)
	}
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	if sig := SignatureHeader(cfg, d.ID, ts, d.Body, now); sig != "" {
		req.Header.Set("webhook-signature", sig)
	}
	return req, nil
}

// recordedHeaders are the headers NewRequest sets, in the order the delivery log shows them.
var recordedHeaders = []string{"Content-Type", "User-Agent", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}

// RecordRequest returns what the delivery log keeps of a request made by NewRequest: its
// full URL (with the query string) and the headers roomd set, one "Name: value" per line, as
// they go on the wire. Sign, RequestTime and webhook-signature depend on the token and the
// secret of the moment, so the log keeps them instead of computing them again.
func RecordRequest(req *http.Request) (url, headers string) {
	var b strings.Builder
	for _, name := range recordedHeaders {
		for _, v := range req.Header.Values(name) {
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return req.URL.String(), b.String()
}
