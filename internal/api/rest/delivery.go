package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// The delivery log: roomd's own APIs, under the service name roomd_delivery, with the same
// transport, authentication and envelope as Tencent's. They let an App admin inspect every
// callback and every attempt, resend one, and redrive dead (or delivered) callbacks since a
// time.

const maxDeliveryPage = 100

type eventJSON struct {
	EventId         int64           `json:"EventId"`
	WebhookId       string          `json:"WebhookId"`
	RoomId          string          `json:"RoomId"`
	CallbackCommand string          `json:"CallbackCommand"`
	State           string          `json:"State"`
	Attempts        int             `json:"Attempts"`
	CreateTime      int64           `json:"CreateTime"`
	NextAttemptTime int64           `json:"NextAttemptTime,omitempty"`
	DeliveredTime   int64           `json:"DeliveredTime,omitempty"`
	LastError       string          `json:"LastError,omitempty"`
	Body            json.RawMessage `json:"Body,omitempty"`
}

type attemptJSON struct {
	Attempt    int    `json:"Attempt"`
	StartTime  int64  `json:"StartTime"`
	DurationMs int64  `json:"DurationMs"`
	URL        string `json:"URL"`
	StatusCode int    `json:"StatusCode"`
	Response   string `json:"Response"`
	Error      string `json:"Error"`
	// RequestURL and RequestHeaders are what this attempt sent: the URL with Tencent's
	// query string and the headers roomd set (empty for attempts recorded before roomd
	// kept them).
	RequestURL     string            `json:"RequestURL,omitempty"`
	RequestHeaders map[string]string `json:"RequestHeaders,omitempty"`
}

// requestJSON is one callback request as it went on the wire.
type requestJSON struct {
	Method  string            `json:"Method"`
	URL     string            `json:"URL"`
	Headers map[string]string `json:"Headers"`
	Body    json.RawMessage   `json:"Body"`
}

func attemptOf(a store.Attempt) attemptJSON {
	return attemptJSON{Attempt: a.N, StartTime: msOrZero(a.StartedAt), DurationMs: a.Duration.Milliseconds(),
		URL: a.URL, StatusCode: a.StatusCode, Response: a.Response, Error: a.Error,
		RequestURL: a.RequestURL, RequestHeaders: parseHeaders(a.RequestHeaders)}
}

// parseHeaders reads the "Name: value" lines of store.Attempt.RequestHeaders.
func parseHeaders(s string) map[string]string {
	if s == "" {
		return nil
	}
	h := map[string]string{}
	for line := range strings.Lines(s) {
		if name, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ": "); ok {
			h[name] = v
		}
	}
	return h
}

// lastRequest returns the request of the newest attempt that recorded one, or nil.
func lastRequest(e store.Event, atts []store.Attempt) *requestJSON {
	for i := len(atts) - 1; i >= 0; i-- {
		if a := atts[i]; a.RequestURL != "" {
			body := json.RawMessage(e.Body)
			if !json.Valid(body) {
				b, _ := json.Marshal(string(e.Body))
				body = b
			}
			return &requestJSON{Method: http.MethodPost, URL: a.RequestURL, Headers: parseHeaders(a.RequestHeaders), Body: body}
		}
	}
	return nil
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (h *Handler) eventJSON(e store.Event, withBody bool) eventJSON {
	out := eventJSON{
		EventId: e.ID, WebhookId: h.o.Delivery.EventID(e.ID), RoomId: e.RoomID, CallbackCommand: e.Command,
		State: string(e.State), Attempts: e.Attempts, CreateTime: msOrZero(e.CreatedAt), LastError: e.LastError,
		DeliveredTime: msOrZero(e.DeliveredAt),
	}
	if e.State == store.EventPending || e.State == store.EventRetrying {
		out.NextAttemptTime = msOrZero(e.NextAttemptAt)
	}
	if withBody && json.Valid(e.Body) {
		out.Body = e.Body
	}
	return out
}

func eventState(s string) (store.EventState, error) {
	switch st := store.EventState(s); st {
	case "", store.EventPending, store.EventRetrying, store.EventDelivered, store.EventDead:
		return st, nil
	}
	return "", errcode.InvalidBare("State", "must be pending, retrying, delivered or dead")
}

// eventFilter is the part of a list_events or redrive request that picks events: a room, a
// state and a start time (Unix seconds), and how many at the most.
type eventFilter struct {
	RoomId string `json:"RoomId"`
	State  string `json:"State"`
	Since  int64  `json:"Since"`
	Limit  int    `json:"Limit"`
}

// query checks the filter and returns it as a store query of app; a Limit that is not
// positive or above maxLimit becomes maxLimit.
func (f eventFilter) query(app uint64, maxLimit int) (store.EventQuery, error) {
	st, err := eventState(f.State)
	if err != nil {
		return store.EventQuery{}, err
	}
	q := store.EventQuery{App: app, RoomID: f.RoomId, State: st, Limit: f.Limit}
	if q.Limit <= 0 || q.Limit > maxLimit {
		q.Limit = maxLimit
	}
	if f.Since > 0 {
		q.Since = time.Unix(f.Since, 0)
	}
	return q, nil
}

func (h *Handler) listEvents(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId          string `json:"RoomId"`
		CallbackCommand string `json:"CallbackCommand"`
		State           string `json:"State"`
		Since           int64  `json:"Since"`
		Until           int64  `json:"Until"`
		BeforeId        int64  `json:"BeforeId"`
		Limit           int    `json:"Limit"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	// Not embedded in req: a type error would name the field eventFilter.State.
	q, err := eventFilter{RoomId: req.RoomId, State: req.State, Since: req.Since, Limit: req.Limit}.query(c.app.ID, maxDeliveryPage)
	if err != nil {
		return nil, err
	}
	q.BeforeID = req.BeforeId
	q.Command = req.CallbackCommand
	if req.Until > 0 {
		q.Until = time.Unix(req.Until, 0)
	}
	evs, err := h.o.Delivery.List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		Events       []eventJSON `json:"Events"`
		NextBeforeId int64       `json:"NextBeforeId"`
	}{Events: []eventJSON{}}
	for _, e := range evs {
		out.Events = append(out.Events, h.eventJSON(e, false))
	}
	if len(evs) == q.Limit {
		out.NextBeforeId = evs[len(evs)-1].ID
	}
	return out, nil
}

type eventIDRequest struct {
	EventId int64 `json:"EventId"`
}

func (h *Handler) getEvent(ctx context.Context, c *call) (any, error) {
	var req eventIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	e, atts, err := h.o.Delivery.Get(ctx, c.app.ID, req.EventId)
	if err != nil {
		return nil, err
	}
	out := struct {
		Event eventJSON `json:"Event"`
		// Request is the newest attempt's request, exactly as sent (absent before the
		// first attempt).
		Request  *requestJSON  `json:"Request,omitempty"`
		Attempts []attemptJSON `json:"Attempts"`
	}{Event: h.eventJSON(e, true), Request: lastRequest(e, atts), Attempts: []attemptJSON{}}
	for _, a := range atts {
		out.Attempts = append(out.Attempts, attemptOf(a))
	}
	// A Before-callback or a test callback was sent with an id of its own, chosen before
	// its row existed: show the one that went on the wire.
	if out.Request != nil && out.Request.Headers["Webhook-Id"] != "" {
		out.Event.WebhookId = out.Request.Headers["Webhook-Id"]
	}
	return out, nil
}

func (h *Handler) resendEvent(ctx context.Context, c *call) (any, error) {
	var req eventIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Delivery.Resend(ctx, c.app.ID, req.EventId)
}

func (h *Handler) redrive(ctx context.Context, c *call) (any, error) {
	var req eventFilter
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	q, err := req.query(c.app.ID, 10000)
	if err != nil {
		return nil, err
	}
	if q.State != store.EventDead && q.State != store.EventDelivered {
		return nil, errcode.InvalidBare("State", "must be dead or delivered")
	}
	n, err := h.o.Delivery.Redrive(ctx, q, q.Limit)
	if err != nil {
		return nil, err
	}
	return struct {
		Requeued int `json:"Requeued"`
	}{n}, nil
}
