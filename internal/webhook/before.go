package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Before-callbacks (Group.CallbackBeforeSendMsg, Live.CallbackBeforeSendGift) are sent
// synchronously while the operation they decide waits: one attempt, never retried, within the
// app's Config.Timeout (Tencent's 2 s by default). Their reply decides the operation, while
// an After-callback's reply is ignored (https://www.tencentcloud.com/document/product/1047/34354);
// what each reply means is up to the operation, this file only sends the
// request and tells a valid reply from none.
//
// Every attempt is kept in the delivery records like an After-callback's: an events row in
// its final state (delivered when a valid reply came back, dead otherwise) with its one
// attempt row. The row is written by the operation, in its own transaction, through
// BeforeResult.Record; it is never pending, so the dispatcher never sends it again.

// ErrNoValidReply is wrapped by BeforeResult.Err when the App backend gave no valid reply:
// a transport error or timeout, an HTTP status other than 200, a body that is not a JSON
// object, or an object without an integer ErrorCode.
var ErrNoValidReply = errors.New("no valid reply from the App backend")

const (
	// maxBeforeReply bounds the reply body read; a longer one is not a valid reply.
	maxBeforeReply = 64 << 10
	// maxRecordedReply bounds the reply kept in the attempt record.
	maxRecordedReply = 1024
)

// BeforeReply is a valid reply to a Before-callback.
type BeforeReply struct {
	ActionStatus string
	// ErrorCode alone decides the operation: Tencent states every Before rule in terms of
	// ErrorCode and leaves ActionStatus "FAIL" with ErrorCode 0 undefined.
	ErrorCode int
	// ErrorInfo is the reply's text; it may be relayed to the caller of the operation.
	ErrorInfo string
	// Fields holds every member of the reply object, for the callbacks that define extras
	// (Group.CallbackBeforeSendMsg: MsgBody, CloudCustomData).
	Fields map[string]json.RawMessage
}

// ParseBeforeReply reads the App backend's answer to a Before-callback: HTTP status 200 and
// a JSON object whose ErrorCode is an integer. ActionStatus and ErrorInfo are taken when they
// are strings and ignored otherwise. The error wraps ErrNoValidReply.
func ParseBeforeReply(status int, body []byte) (BeforeReply, error) {
	if status != http.StatusOK {
		return BeforeReply{}, fmt.Errorf("%w: HTTP status %d", ErrNoValidReply, status)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return BeforeReply{}, fmt.Errorf("%w: reply is not a JSON object", ErrNoValidReply)
	}
	rawCode, ok := fields["ErrorCode"]
	if !ok {
		return BeforeReply{}, fmt.Errorf("%w: reply has no ErrorCode", ErrNoValidReply)
	}
	var num json.Number // (json.Number also takes a quoted number; that is not a number)
	if err := json.Unmarshal(rawCode, &num); err != nil || bytes.HasPrefix(bytes.TrimSpace(rawCode), []byte(`"`)) {
		return BeforeReply{}, fmt.Errorf("%w: ErrorCode is not a number", ErrNoValidReply)
	}
	code, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || code < math.MinInt32 || code > math.MaxInt32 {
		return BeforeReply{}, fmt.Errorf("%w: ErrorCode %s is not a 32-bit integer", ErrNoValidReply, num)
	}
	r := BeforeReply{ErrorCode: int(code), Fields: fields}
	if v, ok := fields["ActionStatus"]; ok {
		json.Unmarshal(v, &r.ActionStatus) // a non-string is ignored
	}
	if v, ok := fields["ErrorInfo"]; ok {
		json.Unmarshal(v, &r.ErrorInfo) // a non-string is ignored
	}
	return r, nil
}

// BeforeResult is the outcome of one Before-callback and its record for the delivery log.
type BeforeResult struct {
	// Reply is valid when Err is nil.
	Reply BeforeReply
	// Err is nil when a valid reply came back; otherwise it wraps ErrNoValidReply.
	Err error
	// Event and Attempt are the delivery record; Record stores them.
	Event   store.Event
	Attempt store.Attempt
}

// Record stores the callback in the delivery records, in tx: an events row in its final
// state with its one attempt.
func (r *BeforeResult) Record(ctx context.Context, tx store.Tx) error {
	return tx.EventInsertRecorded(ctx, &r.Event, &r.Attempt)
}

// Invalidate turns a reply that came back but cannot be used (for instance a replacement
// MsgBody that is not a list of message elements) into no valid reply: Err wraps
// ErrNoValidReply with reason and the record becomes dead with that reason.
func (r *BeforeResult) Invalidate(reason string) {
	r.Err = fmt.Errorf("%w: %s", ErrNoValidReply, reason)
	r.Attempt.Error = r.Err.Error()
	r.Event.State = store.EventDead
	r.Event.LastError = r.Attempt.Error
	r.Event.DeliveredAt = time.Time{}
}

// BeforeCaller sends Before-callbacks. It is shared by every operation that has one.
type BeforeCaller struct {
	client   *http.Client
	instance string
	now      func() time.Time
}

// NewBeforeCaller returns a caller that sends with client (the dispatcher's keep-alive
// client, see dispatcher.NewGuardedClient: the same outbound guard and no redirects). instance is the store's Instance, used in webhook-id.
func NewBeforeCaller(client *http.Client, instance string, now func() time.Time) *BeforeCaller {
	if now == nil {
		now = time.Now
	}
	return &BeforeCaller{client: client, instance: instance, now: now}
}

// newID returns the webhook-id of a Before-callback. The events row is written after the
// call, so the id cannot be the row's; it is "msg_<instance>_b<16 hex>", unique like an
// After-callback's "msg_<instance>_<event id>", so Standard Webhooks receivers can verify the
// signature of a Before-callback too.
func (b *BeforeCaller) newID() string {
	var r [8]byte
	rand.Read(r[:])
	return "msg_" + b.instance + "_b" + hex.EncodeToString(r[:])
}

// Call sends d to cfg's URL once and waits at most cfg.Timeout for the reply. roomID is the
// record's ordering key. The caller decides beforehand whether to call at all
// (cfg.Enabled(d.Command)) and afterwards what the reply means; it must Record the result.
// Call never fails: a request that could not be made is a result without a valid reply.
func (b *BeforeCaller) Call(ctx context.Context, cfg *Config, roomID string, d Delivery) *BeforeResult {
	start := b.now()
	if d.ID == "" {
		d.ID = b.newID()
	}
	res := &BeforeResult{
		Event: store.Event{
			App: d.App, RoomID: roomID, Command: string(d.Command), Body: d.Body, ClientIP: d.ClientIP,
			Platform: d.Platform, CreatedAt: start, NextAttemptAt: start,
		},
		Attempt: store.Attempt{N: 1, StartedAt: start},
	}
	res.Reply, res.Err = b.send(ctx, cfg, d, start, &res.Attempt)
	if res.Err != nil {
		res.Attempt.Error = res.Err.Error()
		res.Event.State = store.EventDead
		res.Event.LastError = res.Attempt.Error
	} else {
		res.Event.State = store.EventDelivered
		res.Event.DeliveredAt = b.now()
	}
	return res
}

func (b *BeforeCaller) send(ctx context.Context, cfg *Config, d Delivery, start time.Time, att *store.Attempt) (BeforeReply, error) {
	if cfg == nil || cfg.URL == "" {
		return BeforeReply{}, fmt.Errorf("%w: no callback URL configured", ErrNoValidReply)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	att.URL = cfg.URL
	req, err := NewRequest(cctx, cfg, d, start)
	if err != nil {
		return BeforeReply{}, fmt.Errorf("%w: build request: %v", ErrNoValidReply, err)
	}
	att.RequestURL, att.RequestHeaders = RecordRequest(req)
	resp, err := b.client.Do(req)
	if err != nil {
		att.Duration = b.now().Sub(start)
		if errors.Is(err, context.DeadlineExceeded) {
			return BeforeReply{}, fmt.Errorf("%w: timeout after %s", ErrNoValidReply, timeout)
		}
		return BeforeReply{}, fmt.Errorf("%w: %s", ErrNoValidReply, TransportError(err))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBeforeReply+1))
	resp.Body.Close()
	att.Duration = b.now().Sub(start)
	att.StatusCode = resp.StatusCode
	att.Response = string(body[:min(len(body), maxRecordedReply)])
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return BeforeReply{}, fmt.Errorf("%w: timeout after %s", ErrNoValidReply, timeout)
		}
		return BeforeReply{}, fmt.Errorf("%w: read reply: %v", ErrNoValidReply, err)
	}
	if len(body) > maxBeforeReply {
		return BeforeReply{}, fmt.Errorf("%w: reply longer than %d bytes", ErrNoValidReply, maxBeforeReply)
	}
	if msg := RedirectError(resp); msg != "" {
		return BeforeReply{}, fmt.Errorf("%w: %s", ErrNoValidReply, msg)
	}
	return ParseBeforeReply(resp.StatusCode, bytes.TrimSpace(body))
}
