// Package rest serves Tencent's admin REST API: POST /v4/{service}/{command} with the
// sdkappid, identifier, usersig, random and contenttype query parameters, answered with the
// Tencent envelope (ActionStatus, ErrorCode, ErrorInfo, RequestId, Response) and HTTP 200 for
// every business outcome.
package rest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/wirejson"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/tenant"
	"github.com/roomd/roomd/internal/webhook"
)

// DefaultMaxBodyBytes bounds a request body. The largest legitimate body (100 accounts with
// 500-byte profiles) is about 110 KB.
const DefaultMaxBodyBytes = 1 << 20

// Options wire the handler to the domain.
type Options struct {
	Apps      *tenant.Registry
	Rooms     *room.Service
	Messages  *room.MessageService
	Gifts     *room.GiftService
	Accounts  *account.Service
	Callbacks *webhook.Settings
	Verifier  *usersig.Verifier
	// Delivery is the delivery log behind the roomd_delivery APIs.
	Delivery DeliveryLog
	Logger   *slog.Logger
	Now      func() time.Time
	// MaxBodyBytes bounds request bodies; DefaultMaxBodyBytes when 0.
	MaxBodyBytes int64
	// Observe, when set, is told about every call: the API ("service/command", or "unknown"),
	// the Tencent code answered and the time taken.
	Observe func(api string, code int, d time.Duration)
}

// DeliveryLog is what the roomd_delivery APIs need: the dispatcher implements it.
type DeliveryLog interface {
	EventID(id int64) string
	List(ctx context.Context, q store.EventQuery) ([]store.Event, error)
	Get(ctx context.Context, app uint64, id int64) (store.Event, []store.Attempt, error)
	Resend(ctx context.Context, app uint64, id int64) error
	Redrive(ctx context.Context, q store.EventQuery, limit int) (int, error)
	// AppState is how the dispatcher treats the app's callbacks now (breaker, paused rooms).
	AppState(app uint64) webhook.AppDeliveryState
	// Test sends a sample callback now and records it (roomd_delivery/test_callback).
	Test(ctx context.Context, app uint64, ev store.Event) (store.Event, store.Attempt, error)
	// LogStats counts the app's events per state and its attempts over time
	// (roomd_delivery/stats).
	LogStats(ctx context.Context, app uint64, since time.Time, bucket time.Duration) (store.EventStats, []store.AttemptBucket, error)
}

// Handler serves /v4/.
type Handler struct {
	o       Options
	routes  map[string]*route
	seq     atomic.Uint64
	limiter *limiter
	creates *createGate // creategate.go
	bufs    sync.Pool
}

// New returns the REST handler.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Verifier == nil {
		o.Verifier = usersig.NewVerifier(4096)
	}
	h := &Handler{o: o, limiter: newLimiter(o.Now), creates: newCreateGate(o.Now)}
	h.routes = h.routeTable()
	h.bufs.New = func() any { return new(bytes.Buffer) }
	return h
}

// Root returns the handler of a whole listener: a request for exactly one of ownPaths goes to
// own (roomd's own endpoints, such as /metrics and /healthz), and every other request to api.
// So a path outside /v4/{service}/{command} ("/v4", "/v4/a//b", "/v5/x") is answered with
// Tencent's envelope and 60009, never with net/http's 404 or its redirect to a cleaned path.
func Root(api, own http.Handler, ownPaths ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(ownPaths, r.URL.Path) {
			own.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// call is one authenticated REST request as a handler sees it.
type call struct {
	app        *tenant.App
	identifier string
	clientIP   string
	body       []byte
	fam        errcode.Family
}

// actor returns who is acting, for the domain: the admin, through the REST API. Every REST
// caller is an App admin (the transport checked it), so the domain's role checks let it do
// everything.
func (c *call) actor() room.Actor {
	return room.Actor{App: c.app.ID, Operator: c.identifier, ClientIP: c.clientIP, Platform: webhook.PlatformRESTAPI, AppAdmin: true}
}

// decode parses the JSON body into v. A body that is not a JSON object is 60003; a value of
// the wrong type is 60015 for an account field and the API's invalid-parameter code
// otherwise. Unknown fields are ignored, as Tencent does.
func (c *call) decode(v any) error {
	b := bytes.TrimLeft(c.body, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return errcode.New(errcode.BadJSON, "the request body must be a JSON object")
	}
	err := json.Unmarshal(c.body, v)
	if err == nil {
		return nil
	}
	// The field types' own UnmarshalJSON methods (takeSeatMode, flexString) answer
	// *errcode.InvalidError, which json.Unmarshal returns as it is.
	var ie *errcode.InvalidError
	if errors.As(err, &ie) {
		return ie
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		// Accounts is multiaccount_import's legacy list of UserIDs: an account field too.
		if strings.HasSuffix(field, "_Account") || field == "UserID" || field == "Accounts" {
			return errcode.New(errcode.AccountNotString, "account field "+te.Field+" must be a string")
		}
		return errcode.InvalidBare("", "field %s must be %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return errcode.New(errcode.BadJSON, "the request body is not valid JSON: "+err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "a number"
	}
}

// newRequestID returns "Id-", 32 random hex digits, "-O-Seq-" and the handler's sequence
// number, built in one buffer (one allocation: the string).
func (h *Handler) newRequestID() string {
	var raw [16]byte
	r := rand.Uint64()
	s := rand.Uint64()
	for i := range 8 {
		raw[i] = byte(r >> (8 * i))
		raw[8+i] = byte(s >> (8 * i))
	}
	var b [3 + 32 + 7 + 20]byte
	out := append(b[:0], "Id-"...)
	out = hex.AppendEncode(out, raw[:])
	out = append(out, "-O-Seq-"...)
	out = strconv.AppendUint(out, h.seq.Add(1), 10)
	return string(out)
}

// ServeHTTP answers one REST call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := h.newRequestID()
	rt, c, payload, err := h.serve(r)
	code := errcode.OK
	fam := errcode.Live
	if rt != nil {
		fam = rt.fam
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer h.bufs.Put(buf)
	if err != nil {
		var info string
		var internal bool
		code, info, internal = errcode.Classify(err, fam)
		if internal {
			attrs := []any{"request_id", reqID, "path", r.URL.Path, "err", err}
			if c != nil {
				attrs = append(attrs, "sdkappid", c.app.ID)
			}
			h.o.Logger.Error("rest call failed", attrs...)
		}
		writeFailure(buf, code, info, reqID)
	} else if err := writeSuccess(buf, reqID, payload, rt != nil && rt.topLevel); err != nil {
		h.o.Logger.Error("render response", "request_id", reqID, "err", err)
		buf.Reset()
		code = fam.Internal
		writeFailure(buf, code, errcode.InternalInfo, reqID)
	}
	if h.o.Observe != nil {
		api := "unknown"
		if rt != nil {
			api = strings.TrimPrefix(r.URL.Path, "/v4/")
		}
		h.o.Observe(api, code, time.Since(start))
	}
	// The header's values are assigned, not Set: the keys are canonical already, and the
	// Content-Type value is one shared slice (net/http copies the header when the handler
	// writes it, and never changes a value in place).
	hdr := w.Header()
	hdr["Content-Type"] = contentTypeJSON
	hdr["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// contentTypeJSON is the Content-Type of every reply.
var contentTypeJSON = []string{"application/json; charset=utf-8"}

func writeFailure(buf *bytes.Buffer, code int, info, reqID string) {
	infoJSON, _ := wirejson.Marshal(info)
	buf.WriteString(`{"ActionStatus":"FAIL","ErrorCode":`)
	buf.WriteString(strconv.Itoa(code))
	buf.WriteString(`,"ErrorInfo":`)
	buf.Write(infoJSON)
	buf.WriteString(`,"RequestId":"`)
	buf.WriteString(reqID)
	buf.WriteString(`"}`)
}

func writeSuccess(buf *bytes.Buffer, reqID string, payload any, topLevel bool) error {
	buf.WriteString(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","RequestId":"`)
	buf.WriteString(reqID)
	buf.WriteByte('"')
	if payload != nil {
		b, err := wirejson.Marshal(payload)
		if err != nil {
			return err
		}
		if topLevel {
			if len(b) > 2 {
				buf.WriteByte(',')
				buf.Write(b[1 : len(b)-1])
			}
		} else {
			buf.WriteString(`,"Response":`)
			buf.Write(b)
		}
	}
	buf.WriteByte('}')
	return nil
}

// serve authenticates the call and runs its handler. Tencent lists the codes but not which
// check comes first; roomd checks the query (60012, 60006/70020, then 60002 for the method
// and contenttype), the path (60009), the identifier (60004) and its UserSig (70002, 70003,
// then sdkappid, identifier, expiry and signature as Tencent's tls-sig-api-v2 verifier
// does), the admin (60010), the frequency (60007) and last the body (60002 for its size,
// 60003 for its JSON, then the API's invalid-parameter code).
func (h *Handler) serve(r *http.Request) (*route, *call, any, error) {
	q := parseRESTQuery(r.URL.RawQuery)
	rawApp := q.sdkappid
	if rawApp == "" {
		return nil, nil, nil, errcode.New(errcode.SDKAppIDMissing, "sdkappid is missing from the URL")
	}
	appID, err := strconv.ParseUint(rawApp, 10, 64)
	if err != nil || appID == 0 {
		return nil, nil, nil, errcode.New(errcode.BadSDKAppID, "sdkappid "+strconv.Quote(rawApp)+" is not a valid SDKAppID")
	}
	app, ok := h.o.Apps.Get(appID)
	if !ok {
		return nil, nil, nil, errcode.New(errcode.SDKAppIDNotFound, "SDKAppID "+rawApp+" is not served here")
	}
	if r.Method != http.MethodPost {
		return nil, nil, nil, errcode.New(errcode.BadRequest, "method "+r.Method+" is not allowed; use POST")
	}
	if ct := q.contenttype; ct != "" && !strings.EqualFold(ct, "json") {
		return nil, nil, nil, errcode.New(errcode.BadRequest, "contenttype must be json")
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/v4/")
	rt := h.routes[name]
	if !ok || rt == nil {
		return nil, nil, nil, errcode.New(errcode.UnknownCommand, "unknown API "+strconv.Quote(r.URL.Path))
	}
	identifier := q.identifier
	if identifier == "" {
		return rt, nil, nil, errcode.New(errcode.BadAccount, "identifier is missing from the URL")
	}
	if err := h.o.Verifier.Check(q.usersig, app.ID, app.SecretKey, identifier, h.o.Now()); err != nil {
		return rt, nil, nil, err
	}
	if !app.IsAdmin(identifier) {
		return rt, nil, nil, errcode.New(errcode.NotAdmin, identifier+" is not an App admin; only App admins may call the REST API")
	}
	c := &call{app: app, identifier: identifier, clientIP: clientIP(r), fam: rt.fam}
	if err := h.limiter.allow(app, name, rt); err != nil {
		return rt, c, nil, err
	}
	if r.ContentLength > h.o.MaxBodyBytes {
		return rt, c, nil, errcode.New(errcode.BadRequest, "request body larger than "+strconv.FormatInt(h.o.MaxBodyBytes, 10)+" bytes")
	}
	body, err := h.readBody(r)
	if err != nil {
		return rt, c, nil, errcode.New(errcode.BadRequest, "read request body: "+err.Error())
	}
	if int64(len(body)) > h.o.MaxBodyBytes {
		return rt, c, nil, errcode.New(errcode.BadRequest, "request body larger than "+strconv.FormatInt(h.o.MaxBodyBytes, 10)+" bytes")
	}
	c.body = body
	// The domain work must finish even if the caller goes away: a committed change must be
	// answered consistently, and its callback is already in the outbox.
	payload, err := rt.h(context.WithoutCancel(r.Context()), c)
	return rt, c, payload, err
}

// readBody reads the request body, up to MaxBodyBytes+1 bytes. A body of a declared
// length is read into a slice of exactly that length (io.ReadAll would start at 512 bytes
// and grow), as io.ReadAll would read it (an io.EOF ends the body, any other error is
// returned); a chunked one is read by io.ReadAll. net/http's server gives a body of a
// declared length exactly that many bytes or io.ErrUnexpectedEOF, so nothing is left
// unread that io.ReadAll would have read.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= h.o.MaxBodyBytes {
		body := make([]byte, n)
		for read := 0; read < len(body); {
			m, err := r.Body.Read(body[read:])
			read += m
			if err == io.EOF {
				return body[:read], nil
			}
			if err != nil {
				return nil, err
			}
		}
		return body, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, h.o.MaxBodyBytes+1))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
