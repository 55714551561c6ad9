package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	if e := lastSign.Load(); e != nil && e.t == requestTime && e.token == token {
		return e.sign // every attempt of the same second to the same app
	}
	var in [128]byte
	sum := sha256.Sum256(strconv.AppendInt(append(in[:0], token...), requestTime, 10))
	sign := hex.EncodeToString(sum[:])
	lastSign.Store(&signed{token: token, t: requestTime, sign: sign})
	return sign
}

// signed is a Sign result: the token, the request time and the signature.
type signed struct {
	token, sign string
	t           int64
}

// lastSign is the last Sign computed: the signature changes once a second, and all the
// attempts of that second to one app share it.
var lastSign atomic.Pointer[signed]

// RequestURL returns the callback URL with Tencent's query parameters appended, in the
// order of Tencent's examples: SdkAppid, CallbackCommand, contenttype, ClientIP, OptPlatform,
// then Sign and RequestTime with a token (https://www.tencentcloud.com/document/product/647/64412). A URL
// that already has a query string gets them after "&".
//
// The URL depends on the delivery's app, command, client IP and platform, and with a token
// on the second of now; consecutive attempts of one app mostly share all of them, so the
// last URL of each app (of a few slots, by app id) is kept and returned again.
func RequestURL(cfg *Config, d Delivery, now time.Time) string {
	signed := cfg.TokenEnabled && cfg.Token != ""
	var sec int64
	if signed {
		sec = now.Unix()
	}
	slot := &lastURLs[d.App%uint64(len(lastURLs))]
	if e := slot.Load(); e != nil && e.app == d.App && e.sec == sec && e.signed == signed && e.base == cfg.URL &&
		e.command == d.Command && e.clientIP == d.ClientIP && e.platform == d.Platform && (!signed || e.token == cfg.Token) {
		return e.url
	}
	u := buildRequestURL(cfg, d, sec, signed)
	e := &renderedURL{base: cfg.URL, app: d.App, command: d.Command, clientIP: d.ClientIP, platform: d.Platform, signed: signed, sec: sec, url: u}
	if signed {
		e.token = cfg.Token
	}
	slot.Store(e)
	return u
}

// renderedURL is a RequestURL result with what it was made of.
type renderedURL struct {
	base, clientIP, platform, token string
	command                         Command
	app                             uint64
	signed                          bool
	sec                             int64
	url                             string
}

// lastURLs holds the last RequestURL of the apps whose id falls in each slot.
var lastURLs [16]atomic.Pointer[renderedURL]

// buildRequestURL is RequestURL without the cache; sec is the request time when signed.
func buildRequestURL(cfg *Config, d Delivery, sec int64, signed bool) string {
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
	var num [20]byte
	b.WriteString("SdkAppid=")
	b.Write(strconv.AppendUint(num[:0], d.App, 10))
	b.WriteString("&CallbackCommand=")
	b.WriteString(url.QueryEscape(string(d.Command)))
	b.WriteString("&contenttype=json&ClientIP=")
	b.WriteString(url.QueryEscape(d.ClientIP))
	b.WriteString("&OptPlatform=")
	b.WriteString(url.QueryEscape(d.Platform))
	if signed {
		b.WriteString("&Sign=")
		b.WriteString(Sign(cfg.Token, sec))
		b.WriteString("&RequestTime=")
		b.Write(strconv.AppendInt(num[:0], sec, 10))
	}
	return b.String()
}

// StandardSignature returns the Standard Webhooks signature header value
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>". A secret with the "whsec_" prefix is
// base64-decoded first, as the Standard Webhooks libraries do; any other secret is used as
// its bytes.
func StandardSignature(secret, id string, timestamp int64, body []byte) string {
	k := hmacKeyOf(secret)
	m := k.pool.Get().(*hmacState)
	m.h.Reset()
	m.buf = append(m.buf[:0], id...)
	m.buf = append(m.buf, '.')
	m.buf = strconv.AppendInt(m.buf, timestamp, 10)
	m.buf = append(m.buf, '.')
	m.h.Write(m.buf)
	m.h.Write(body)
	m.sum = m.h.Sum(m.sum[:0])
	var out [3 + 44]byte // "v1," and the base64 of 32 bytes
	copy(out[:], "v1,")
	base64.StdEncoding.Encode(out[3:], m.sum)
	k.pool.Put(m)
	return string(out[:])
}

// hmacKey is a signing secret made ready for StandardSignature: HMAC states keyed with it
// (the key's inner and outer pads hashed once, not once per signature).
type hmacKey struct{ pool sync.Pool }

// hmacState is one keyed HMAC and the scratch of one signature.
type hmacState struct {
	h        hash.Hash
	buf, sum []byte
}

var (
	hmacKeysMu sync.RWMutex
	hmacKeys   = map[string]*hmacKey{}
)

// maxHMACKeys bounds the secrets kept made ready; the map is emptied when it is full.
const maxHMACKeys = 256

// hmacKeyOf returns secret made ready for signing.
func hmacKeyOf(secret string) *hmacKey {
	hmacKeysMu.RLock()
	k := hmacKeys[secret]
	hmacKeysMu.RUnlock()
	if k != nil {
		return k
	}
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			key = b
		}
	}
	k = &hmacKey{pool: sync.Pool{New: func() any { return &hmacState{h: hmac.New(sha256.New, key)} }}}
	hmacKeysMu.Lock()
	if len(hmacKeys) >= maxHMACKeys {
		clear(hmacKeys)
	}
	hmacKeys[secret] = k
	hmacKeysMu.Unlock()
	return k
}

// Request is one callback attempt as NewRequest renders it, without net/http's types: the
// full URL (with Tencent's query string), the body, and the values of roomd's headers.
// NewRequest turns it into an *http.Request; the dispatcher's own HTTP/1.1 client writes it
// to the wire directly (package webhook/dispatcher, lean.go), so both send the same request.
type Request struct {
	// URL is the configured URL with Tencent's query string (RequestURL).
	URL  string
	Body []byte
	// ID, Timestamp and Signature are the webhook-id, webhook-timestamp and
	// webhook-signature header values; an empty ID or Signature is not sent.
	ID, Timestamp, Signature string
	// recorded is RecordedHeaders as PrepareRequest rendered it (ID and Timestamp are
	// parts of it), for the field values in recordedFor; "" for a Request made otherwise.
	recorded    string
	recordedFor [3]string
}

// HeaderField is one request header: its canonical name and its value.
type HeaderField struct{ Name, Value string }

// PrepareRequest renders one callback attempt's request at now (see NewRequest for what
// depends on cfg and on now). The recorded headers are rendered at once, in one string of
// which ID and Timestamp are parts.
func PrepareRequest(cfg *Config, d Delivery, now time.Time) Request {
	ts := now.Unix()
	r := Request{
		URL:       RequestURL(cfg, d, now),
		Body:      d.Body,
		ID:        d.ID,
		Signature: SignatureHeader(cfg, d.ID, ts, d.Body, now),
	}
	var num [20]byte
	ts10 := strconv.AppendInt(num[:0], ts, 10)
	var buf [5]HeaderField
	fields := r.AppendHeaders(buf[:0]) // (Webhook-Timestamp's value is ts10, written below)
	n := len(ts10)
	for _, f := range fields {
		n += len(f.Name) + len(f.Value) + 3
	}
	var b strings.Builder
	b.Grow(n)
	idAt, tsAt := -1, 0
	for _, f := range fields {
		b.WriteString(f.Name)
		b.WriteString(": ")
		switch f.Name {
		case "Webhook-Id":
			idAt = b.Len()
		case "Webhook-Timestamp":
			tsAt = b.Len()
			b.Write(ts10)
		}
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	r.recorded = b.String()
	if idAt >= 0 {
		r.ID = r.recorded[idAt : idAt+len(r.ID)]
	}
	r.Timestamp = r.recorded[tsAt : tsAt+len(ts10)]
	r.recordedFor = [3]string{r.ID, r.Timestamp, r.Signature}
	return r
}

// AppendHeaders appends the headers of r to dst, in the order the delivery log shows them:
// Content-Type, User-Agent, Webhook-Id, Webhook-Timestamp, Webhook-Signature (those with a
// value).
func (r *Request) AppendHeaders(dst []HeaderField) []HeaderField {
	dst = append(dst, HeaderField{"Content-Type", "application/json"}, HeaderField{"User-Agent", "roomd"})
	if r.ID != "" {
		dst = append(dst, HeaderField{"Webhook-Id", r.ID})
	}
	dst = append(dst, HeaderField{"Webhook-Timestamp", r.Timestamp})
	if r.Signature != "" {
		dst = append(dst, HeaderField{"Webhook-Signature", r.Signature})
	}
	return dst
}

// RecordedHeaders returns what the delivery log keeps of r's headers: one "Name: value" per
// line, as they go on the wire (RecordRequest).
func (r *Request) RecordedHeaders() string {
	if r.recorded != "" && r.recordedFor == [3]string{r.ID, r.Timestamp, r.Signature} {
		return r.recorded // (the same strings: compared by their pointers first)
	}
	var buf [5]HeaderField
	fields := r.AppendHeaders(buf[:0])
	n := 0
	for _, f := range fields {
		n += len(f.Name) + len(f.Value) + 3
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

// NewRequest renders the HTTP request of one callback attempt: POST to the app's URL with
// Tencent's query string, the JSON body, and the webhook-id / webhook-timestamp (and, with a
// signing secret, webhook-signature) headers. It is the one renderer used for After- and
// Before-callbacks alike (through PrepareRequest, which the dispatcher's own client uses
// directly). Everything that depends on cfg (URL, token, signing secrets) and
// on now (RequestTime, webhook-timestamp) is taken at the attempt: the dispatcher reads the
// app's current Config before each attempt, so a retried event is signed with the token and
// secrets current at that attempt, not those of its first one.
func NewRequest(ctx context.Context, cfg *Config, d Delivery, now time.Time) (*http.Request, error) {
	r := PrepareRequest(cfg, d, now)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	var buf [5]HeaderField
	for _, f := range r.AppendHeaders(buf[:0]) {
		req.Header.Set(f.Name, f.Value)
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
