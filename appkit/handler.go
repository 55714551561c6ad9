package appkit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Handler is an http.Handler for the callback URL of an App backend. For each request it
// parses (400 for a malformed one), verifies (401 when the Verifier refuses), drops an
// After-callback whose webhook-id was handled already (answered as a success), calls the
// function of the request's command, and writes Tencent's reply.
//
// An After-callback function returns nil (200, OK), a [Permanent] error (200, FAIL: roomd
// records it and does not send the event again) or any other error (500: the event is sent
// again with the same webhook-id). A Before-callback function returns the [Reply] that
// decides the operation; an error is "no valid reply" (500), on which the Live backend
// applies its failure policy. A command without a function is answered OK (a
// Before-callback: allowed), after OnOther when that is set.
//
// The functions get a context from which [RequestFrom] returns the whole request (query
// parameters, webhook-id, raw body).
type Handler struct {
	// Verifier checks every request before it is handled; nil checks nothing (use that
	// for local development only).
	Verifier *Verifier
	// Dedup, when not nil, de-duplicates After-callbacks by webhook-id. Before-callbacks
	// are never sent twice and are not de-duplicated.
	Dedup Deduper
	// MaxBodyBytes bounds a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger gets the errors of the functions, which the reply does not show; nil means
	// slog.Default().
	Logger *slog.Logger

	OnCreateRoom            func(context.Context, *CreateRoom) error
	OnDestroyRoom           func(context.Context, *DestroyRoom) error
	OnUpdateRoomInfo        func(context.Context, *UpdateRoom) error
	OnSetMetadata           func(context.Context, *SetMetadata) error
	OnDelMetadata           func(context.Context, *DelMetadata) error
	OnRoomThreshold         func(context.Context, *RoomThreshold) error
	OnMemberStateChanged    func(context.Context, *MemberStateChanged) error
	OnChangeOwner           func(context.Context, *ChangeOwner) error
	OnModifyAdmin           func(context.Context, *ModifyAdmin) error
	OnSeatInfoChanged       func(context.Context, *SeatInfoChanged) error
	OnCreateBattle          func(context.Context, *CreateBattle) error
	OnStartBattle           func(context.Context, *StartBattle) error
	OnEndBattle             func(context.Context, *EndBattle) error
	OnAfterSendMsg          func(context.Context, *AfterSendMsg) error
	OnFollowAdd             func(context.Context, *FollowAdd) error
	OnFollowDelete          func(context.Context, *FollowDelete) error
	OnCloudRecordingChanged func(context.Context, *CloudRecordingChanged) error

	OnBeforeSendGift func(context.Context, *BeforeSendGift) (Reply, error)
	OnBeforeSendMsg  func(context.Context, *BeforeSendMsg) (Reply, error)

	// OnOther is called for a verified request whose command has no function above,
	// including commands the kit does not know (Request.Event is nil then).
	OnOther func(context.Context, *Request) error
}

type requestKey struct{}

// RequestFrom returns the callback being handled, from the context Handler passes to its
// functions, or nil.
func RequestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// permanentError marks an error that retrying will not cure.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as final: Handler answers it with HTTP 200 and a FAIL reply whose
// ErrorInfo is err's text, so the event is not sent again. Use it for an event the App
// backend will never accept (an unknown room, say); the Live backend keeps the reply in its
// delivery log.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// ServeHTTP handles one callback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	max := h.MaxBodyBytes
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	req, err := parse(r, max)
	if err != nil {
		writeFailure(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := h.Verifier.Verify(req); err != nil {
		writeFailure(w, http.StatusUnauthorized, err.Error())
		return
	}
	ctx := context.WithValue(r.Context(), requestKey{}, req)

	if IsBefore(req.Command) {
		reply, err := h.before(ctx, req)
		if err != nil {
			h.logger().ErrorContext(ctx, "callback handler failed", "command", req.Command, "webhook_id", req.WebhookID, "err", err)
			writeFailure(w, http.StatusInternalServerError, "internal error")
			return
		}
		WriteReply(w, reply)
		return
	}

	dedup := h.Dedup != nil && req.WebhookID != ""
	if dedup {
		fresh, err := h.Dedup.Claim(ctx, req.WebhookID)
		switch {
		case errors.Is(err, ErrInFlight):
			w.Header().Set("Retry-After", "1")
			writeFailure(w, http.StatusServiceUnavailable, "this webhook-id is being handled")
			return
		case err != nil:
			h.logger().ErrorContext(ctx, "callback deduplication failed", "command", req.Command, "webhook_id", req.WebhookID, "err", err)
			writeFailure(w, http.StatusInternalServerError, "internal error")
			return
		case !fresh:
			WriteReply(w, Reply{ErrorInfo: "duplicate webhook-id, handled already"})
			return
		}
	}
	err = h.after(ctx, req)
	var perm permanentError
	handled := err == nil || errors.As(err, &perm)
	if dedup {
		if ferr := h.Dedup.Finish(ctx, req.WebhookID, handled); ferr != nil {
			h.logger().ErrorContext(ctx, "callback deduplication failed", "command", req.Command, "webhook_id", req.WebhookID, "err", ferr)
		}
	}
	switch {
	case err == nil:
		WriteReply(w, Allow())
	case handled:
		WriteReply(w, Reply{ErrorCode: CodeReject, ErrorInfo: perm.Error()})
	default:
		h.logger().ErrorContext(ctx, "callback handler failed", "command", req.Command, "webhook_id", req.WebhookID, "err", err)
		writeFailure(w, http.StatusInternalServerError, "internal error")
	}
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) before(ctx context.Context, req *Request) (Reply, error) {
	switch ev := req.Event.(type) {
	case *BeforeSendGift:
		if h.OnBeforeSendGift != nil {
			return h.OnBeforeSendGift(ctx, ev)
		}
	case *BeforeSendMsg:
		if h.OnBeforeSendMsg != nil {
			return h.OnBeforeSendMsg(ctx, ev)
		}
	}
	if h.OnOther != nil {
		if err := h.OnOther(ctx, req); err != nil {
			return Reply{}, err
		}
	}
	return Allow(), nil
}

// call runs fn on ev when fn is set; ok false means no function is set.
func call[T any](ctx context.Context, fn func(context.Context, *T) error, ev *T) (bool, error) {
	if fn == nil {
		return false, nil
	}
	return true, fn(ctx, ev)
}

func (h *Handler) after(ctx context.Context, req *Request) error {
	var (
		err error
		ok  bool
	)
	switch ev := req.Event.(type) {
	case *CreateRoom:
		ok, err = call(ctx, h.OnCreateRoom, ev)
	case *DestroyRoom:
		ok, err = call(ctx, h.OnDestroyRoom, ev)
	case *UpdateRoom:
		ok, err = call(ctx, h.OnUpdateRoomInfo, ev)
	case *SetMetadata:
		ok, err = call(ctx, h.OnSetMetadata, ev)
	case *DelMetadata:
		ok, err = call(ctx, h.OnDelMetadata, ev)
	case *RoomThreshold:
		ok, err = call(ctx, h.OnRoomThreshold, ev)
	case *MemberStateChanged:
		ok, err = call(ctx, h.OnMemberStateChanged, ev)
	case *ChangeOwner:
		ok, err = call(ctx, h.OnChangeOwner, ev)
	case *ModifyAdmin:
		ok, err = call(ctx, h.OnModifyAdmin, ev)
	case *SeatInfoChanged:
		ok, err = call(ctx, h.OnSeatInfoChanged, ev)
	case *CreateBattle:
		ok, err = call(ctx, h.OnCreateBattle, ev)
	case *StartBattle:
		ok, err = call(ctx, h.OnStartBattle, ev)
	case *EndBattle:
		ok, err = call(ctx, h.OnEndBattle, ev)
	case *AfterSendMsg:
		ok, err = call(ctx, h.OnAfterSendMsg, ev)
	case *FollowAdd:
		ok, err = call(ctx, h.OnFollowAdd, ev)
	case *FollowDelete:
		ok, err = call(ctx, h.OnFollowDelete, ev)
	case *CloudRecordingChanged:
		ok, err = call(ctx, h.OnCloudRecordingChanged, ev)
	}
	if !ok && h.OnOther != nil {
		return h.OnOther(ctx, req)
	}
	return err
}
