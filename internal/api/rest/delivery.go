package rest

import (
	"context"
	"encoding/json"
	"time"

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
	return "", errorf(0, "State must be pending, retrying, delivered or dead")
}

func (h *Handler) listEvents(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId   string `json:"RoomId"`
		State    string `json:"State"`
		Since    int64  `json:"Since"`
		BeforeId int64  `json:"BeforeId"`
		Limit    int    `json:"Limit"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	st, err := eventState(req.State)
	if err != nil {
		return nil, err
	}
	if req.Limit <= 0 || req.Limit > maxDeliveryPage {
		req.Limit = maxDeliveryPage
	}
	q := store.EventQuery{App: c.app.ID, RoomID: req.RoomId, State: st, BeforeID: req.BeforeId, Limit: req.Limit}
	if req.Since > 0 {
		q.Since = time.Unix(req.Since, 0)
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
	if len(evs) == req.Limit {
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
		Event    eventJSON     `json:"Event"`
		Attempts []attemptJSON `json:"Attempts"`
	}{Event: h.eventJSON(e, true), Attempts: []attemptJSON{}}
	for _, a := range atts {
		out.Attempts = append(out.Attempts, attemptJSON{Attempt: a.N, StartTime: msOrZero(a.StartedAt), DurationMs: a.Duration.Milliseconds(),
			URL: a.URL, StatusCode: a.StatusCode, Response: a.Response, Error: a.Error})
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
	var req struct {
		State  string `json:"State"`
		Since  int64  `json:"Since"`
		RoomId string `json:"RoomId"`
		Limit  int    `json:"Limit"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	st, err := eventState(req.State)
	if err != nil {
		return nil, err
	}
	if st != store.EventDead && st != store.EventDelivered {
		return nil, errorf(0, "State must be dead or delivered")
	}
	if req.Limit <= 0 || req.Limit > 10000 {
		req.Limit = 10000
	}
	q := store.EventQuery{App: c.app.ID, RoomID: req.RoomId, State: st}
	if req.Since > 0 {
		q.Since = time.Unix(req.Since, 0)
	}
	n, err := h.o.Delivery.Redrive(ctx, q, req.Limit)
	if err != nil {
		return nil, err
	}
	return struct {
		Requeued int `json:"Requeued"`
	}{n}, nil
}
