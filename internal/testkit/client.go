package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
)

// Client calls the admin REST API of one app: POST
// /v4/{service}/{command}?sdkappid&identifier&usersig&random&contenttype=json with a JSON
// body, answered by a Tencent envelope.
type Client struct {
	// Base is the server's base URL, such as http://127.0.0.1:8080.
	Base string
	// App is the SDKAppID the client calls.
	App uint64
	// Identifier is the App admin the client calls as, and Sig its UserSig.
	Identifier, Sig string
	// HTTP sends the requests.
	HTTP *http.Client
}

// NewClient returns a client of app on the server at base, calling as the App admin
// identifier with a UserSig signed with key and valid for a day. Its HTTP client has its
// own connections, closed when t ends, and gives up on a call after 20 s: a healthy roomd
// answers in milliseconds, a loaded 2-core machine in well under a second.
func NewClient(t testing.TB, base string, app uint64, key, identifier string) *Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	c := &Client{Base: base, App: app, Identifier: identifier, HTTP: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
	c.Sig = c.UserSig(t, key, identifier)
	return c
}

// UserSig signs a UserSig of user for the client's app with key, valid for a day.
func (c *Client) UserSig(t testing.TB, key, user string) string {
	t.Helper()
	sig, err := usersig.Sign(c.App, key, user, 86400, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// At returns a copy of the client that calls the server at base (a restarted server that
// listens on another port).
func (c *Client) At(base string) *Client {
	cp := *c
	cp.Base = base
	return &cp
}

// URL returns the URL of a call of api ("service/command") as the client's admin.
func (c *Client) URL(api string) string { return c.URLAs(c.Identifier, c.Sig, api) }

// URLAs returns the URL of a call of api as identifier with sig, for tests of the
// transport's checks.
func (c *Client) URLAs(identifier, sig, api string) string {
	return c.Base + "/v4/" + api + "?sdkappid=" + strconv.FormatUint(c.App, 10) + "&identifier=" + url.QueryEscape(identifier) +
		"&usersig=" + url.QueryEscape(sig) + "&random=" + strconv.FormatUint(uint64(rand.Uint32()), 10) + "&contenttype=json"
}

// Envelope is a decoded REST reply.
type Envelope struct {
	ActionStatus string
	ErrorCode    int
	ErrorInfo    string
	RequestId    string
	Response     json.RawMessage
	FailAccounts []string
	// Raw is the reply as it came.
	Raw []byte `json:"-"`
}

// OK reports whether the reply is a success.
func (e Envelope) OK() bool { return e.ActionStatus == "OK" && e.ErrorCode == 0 }

// Call POSTs body to api as the client's admin; see Post.
func (c *Client) Call(ctx context.Context, api string, body any) (Envelope, error) {
	return c.Post(ctx, c.URL(api), body)
}

// Post POSTs body (a string or []byte as it is, any other value marshalled to JSON) to u.
// The error is a transport failure or a reply that is not an HTTP 200 Tencent envelope; a
// Tencent error code comes back in the envelope with a nil error.
func (c *Client) Post(ctx context.Context, u string, body any) (Envelope, error) {
	var raw []byte
	switch v := body.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return Envelope{}, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(raw))
	if err != nil {
		return Envelope{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Envelope{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Envelope{}, err
	}
	return DecodeEnvelope(resp.StatusCode, b)
}

// DecodeEnvelope decodes a reply that came with HTTP status code. It fails unless the reply
// is a well-formed Tencent envelope: HTTP 200, an ErrorCode and an ErrorInfo string, a
// RequestId, and ActionStatus "OK" with ErrorCode 0 or "FAIL" with a non-zero one.
func DecodeEnvelope(code int, b []byte) (Envelope, error) {
	if code != http.StatusOK {
		return Envelope{}, fmt.Errorf("HTTP %d: %.200s", code, b)
	}
	var env Envelope
	var present struct{ ErrorCode, ErrorInfo json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		return Envelope{}, fmt.Errorf("reply is not a Tencent envelope: %v: %.200s", err, b)
	}
	json.Unmarshal(b, &present) // cannot fail where the line above did not
	switch {
	case env.ActionStatus != "OK" && env.ActionStatus != "FAIL":
		return Envelope{}, fmt.Errorf("reply has ActionStatus %q: %.200s", env.ActionStatus, b)
	case present.ErrorCode == nil || present.ErrorInfo == nil || env.RequestId == "":
		return Envelope{}, fmt.Errorf("reply lacks ErrorCode, ErrorInfo or RequestId: %.200s", b)
	case (env.ActionStatus == "OK") != (env.ErrorCode == 0):
		return Envelope{}, fmt.Errorf("ActionStatus and ErrorCode disagree: %.200s", b)
	}
	env.Raw = b
	return env, nil
}

// Do calls api with body and returns the reply, whatever its ErrorCode; it fails t when
// the call gets no envelope.
func (c *Client) Do(t testing.TB, api string, body any) Envelope {
	t.Helper()
	env, err := c.Call(context.Background(), api, body)
	if err != nil {
		t.Fatalf("%s: %v", api, err)
	}
	return env
}

// MustCall calls api with body and fails t unless the reply is a success.
func (c *Client) MustCall(t testing.TB, api string, body any) Envelope {
	t.Helper()
	return MustOK(t, c.Do(t, api, body))
}

// MustOK fails t unless env is a success, and returns it.
func MustOK(t testing.TB, env Envelope) Envelope {
	t.Helper()
	if !env.OK() {
		t.Fatalf("want OK, got %s", env.Raw)
	}
	return env
}

// MustFail fails t unless env is a failure with ErrorCode code.
func MustFail(t testing.TB, env Envelope, code int) {
	t.Helper()
	if env.ActionStatus != "FAIL" || env.ErrorCode != code {
		t.Fatalf("want FAIL %d, got %s", code, env.Raw)
	}
}
