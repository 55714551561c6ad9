package clientapi

import (
	"context"
	"strconv"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

// The seat methods and pushes of the client API, named after TUIRoomEngine (takeSeat,
// leaveSeat, moveToSeat, takeUserOnSeatByAdmin, kickUserOffSeatByAdmin, lockSeatByAdmin,
// getSeatList, getSeatApplicationList, responseRemoteRequest, cancelRequest) and
// TUIRoomObserver (onSeatListChanged, onKickedOffSeat, onRequestReceived,
// onRequestCancelled, onRequestProcessed); the applicant of a seat application learns its
// outcome from onRequestAccepted, onRequestRejected or onRequestTimeout, TUIRequestCallback's
// names.

// requestToTakeSeat is TUIRequestAction's name of a seat application.
const requestToTakeSeat = "requestToTakeSeat"

// seatInfo is a seat as the client API shows it (TUISeatInfo's names).
type seatInfo struct {
	Index         int    `json:"index"`
	UserID        string `json:"userId"`
	IsLocked      bool   `json:"isLocked"`
	IsVideoLocked bool   `json:"isVideoLocked"`
	IsAudioLocked bool   `json:"isAudioLocked"`
}

// seatListChanged is the params of onSeatListChanged, its members in the order a map's
// would be encoded in (sorted), as the golden session pins.
type seatListChanged struct {
	LeftList   []seatInfo `json:"leftList"`
	RoomID     string     `json:"roomId"`
	SeatList   []seatInfo `json:"seatList"`
	SeatedList []seatInfo `json:"seatedList"`
}

// AppendJSON encodes p as encoding/json does, without reflection (clientws.JSONAppender):
// an owner change of a room that keeps seat 0 for its owner pushes one.
func (p seatListChanged) AppendJSON(b []byte) []byte {
	b = append(b, `{"leftList":`...)
	b = appendSeats(b, p.LeftList)
	b = append(b, `,"roomId":`...)
	b = clientws.AppendJSONString(b, p.RoomID)
	b = append(b, `,"seatList":`...)
	b = appendSeats(b, p.SeatList)
	b = append(b, `,"seatedList":`...)
	b = appendSeats(b, p.SeatedList)
	return append(b, '}')
}

// appendSeats encodes seats as encoding/json does (a nil slice as null).
func appendSeats(b []byte, seats []seatInfo) []byte {
	if seats == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range seats {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(s.Index), 10)
		b = append(b, `,"userId":`...)
		b = clientws.AppendJSONString(b, s.UserID)
		b = append(b, `,"isLocked":`...)
		b = strconv.AppendBool(b, s.IsLocked)
		b = append(b, `,"isVideoLocked":`...)
		b = strconv.AppendBool(b, s.IsVideoLocked)
		b = append(b, `,"isAudioLocked":`...)
		b = strconv.AppendBool(b, s.IsAudioLocked)
		b = append(b, '}')
	}
	return append(b, ']')
}

func seatInfos(seats []room.Seat) []seatInfo {
	out := make([]seatInfo, len(seats))
	for i, s := range seats {
		out[i] = seatInfo{Index: s.Index, UserID: s.UserID, IsLocked: s.Locked, IsVideoLocked: s.VideoLocked, IsAudioLocked: s.AudioLocked}
	}
	return out
}

// requestInfo is a seat application as the client API shows it (TUIRequest's names);
// timestamp is in milliseconds, expiresAt too (0: never).
type requestInfo struct {
	RequestID     string `json:"requestId"`
	RequestAction string `json:"requestAction"`
	UserID        string `json:"userId"`
	SeatIndex     int    `json:"seatIndex"`
	Timestamp     int64  `json:"timestamp"`
	ExpiresAt     int64  `json:"expiresAt"`
}

func requestOf(r room.SeatRequest) requestInfo {
	ri := requestInfo{RequestID: r.ID, RequestAction: requestToTakeSeat, UserID: r.UserID, SeatIndex: r.Index, Timestamp: r.CreatedAt.UnixMilli()}
	if !r.ExpiresAt.IsZero() {
		ri.ExpiresAt = r.ExpiresAt.UnixMilli()
	}
	return ri
}

func (api *API) getSeatList(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	seats, err := api.o.Rooms.Seats(ctx, s.App(), p.RoomID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"seatList": seatInfos(seats)}, nil
}

type takeSeatParams struct {
	RoomID    string `json:"roomId"`
	SeatIndex *int   `json:"seatIndex"` // -1 or absent: any free seat
	Timeout   int64  `json:"timeout"`   // seconds an application waits for an answer; 0: no limit
}

// takeSeat answers {"seatIndex": n} when the user sat down, or {"request": …} when it
// applied (ApplyToTake) and waits for an answer.
func (api *API) takeSeat(ctx context.Context, s *clientws.Session, p takeSeatParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	index := -1
	if p.SeatIndex != nil {
		index = *p.SeatIndex
	}
	if p.Timeout < 0 || p.Timeout > 86400 {
		return nil, errcode.Invalid("timeout", "must be 0 to 86400 seconds")
	}
	res, err := api.o.Rooms.TakeSeat(ctx, api.actor(s), p.RoomID, index, time.Duration(p.Timeout)*time.Second)
	if err != nil {
		return nil, err
	}
	if res.Seated {
		return map[string]any{"seatIndex": res.Index}, nil
	}
	return map[string]any{"request": requestOf(res.Request)}, nil
}

func (api *API) leaveSeat(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.LeaveSeat(ctx, api.actor(s), p.RoomID)
}

type moveToSeatParams struct {
	RoomID          string `json:"roomId"`
	TargetSeatIndex *int   `json:"targetSeatIndex"`
}

func (api *API) moveToSeat(ctx context.Context, s *clientws.Session, p moveToSeatParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	if p.TargetSeatIndex == nil {
		return nil, errcode.Invalid("targetSeatIndex", "is required")
	}
	return nil, api.o.Rooms.MoveToSeat(ctx, api.actor(s), p.RoomID, *p.TargetSeatIndex)
}

type seatUserParams struct {
	RoomID    string `json:"roomId"`
	SeatIndex *int   `json:"seatIndex"`
	UserID    string `json:"userId"`
}

func (api *API) takeUserOnSeat(ctx context.Context, s *clientws.Session, p seatUserParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	if p.SeatIndex == nil {
		return nil, errcode.Invalid("seatIndex", "is required")
	}
	return nil, api.o.Rooms.PickOnSeat(ctx, api.actor(s), p.RoomID, *p.SeatIndex, p.UserID)
}

func (api *API) kickUserOffSeat(ctx context.Context, s *clientws.Session, p seatUserParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.KickOffSeat(ctx, api.actor(s), p.RoomID, p.UserID, "")
}

type lockSeatParams struct {
	RoomID     string `json:"roomId"`
	SeatIndex  *int   `json:"seatIndex"`
	LockParams struct {
		LockSeat  *bool `json:"lockSeat"`
		LockVideo *bool `json:"lockVideo"`
		LockAudio *bool `json:"lockAudio"`
	} `json:"lockParams"`
}

func (api *API) lockSeat(ctx context.Context, s *clientws.Session, p lockSeatParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	if p.SeatIndex == nil {
		return nil, errcode.Invalid("seatIndex", "is required")
	}
	lp := p.LockParams
	return nil, api.o.Rooms.LockSeat(ctx, api.actor(s), p.RoomID, *p.SeatIndex, room.SeatLocks{Taken: lp.LockSeat, Video: lp.LockVideo, Audio: lp.LockAudio})
}

func (api *API) getSeatApplicationList(ctx context.Context, s *clientws.Session, p roomParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	reqs, err := api.o.Rooms.SeatRequests(ctx, api.actor(s), p.RoomID)
	if err != nil {
		return nil, err
	}
	list := make([]requestInfo, len(reqs))
	for i, r := range reqs {
		list[i] = requestOf(r)
	}
	return map[string]any{"requestList": list}, nil
}

type responseParams struct {
	RoomID    string `json:"roomId"`
	RequestID string `json:"requestId"`
	Agree     bool   `json:"agree"`
}

func (api *API) responseRemoteRequest(ctx context.Context, s *clientws.Session, p responseParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.RespondSeatRequest(ctx, api.actor(s), p.RoomID, p.RequestID, p.Agree)
}

type cancelParams struct {
	RoomID    string `json:"roomId"`
	RequestID string `json:"requestId"`
}

func (api *API) cancelRequest(ctx context.Context, s *clientws.Session, p cancelParams) (any, error) {
	if err := api.requireEntered(s, p.RoomID); err != nil {
		return nil, err
	}
	return nil, api.o.Rooms.CancelSeatRequest(ctx, api.actor(s), p.RoomID, p.RequestID)
}

// observeSeats turns the seat events into pushes: the seat list to every member of the room,
// the kick to the user kicked, applications to the owner and room admins and their outcome
// to the applicant (and, when answered, onRequestProcessed to the owner and room admins).
func (api *API) observeSeats(ev room.Event) {
	h := ev.Head()
	switch e := ev.(type) {
	case room.SeatsChanged:
		api.publish(h, "onSeatListChanged", seatListChanged{RoomID: h.RoomID, SeatList: seatInfos(e.Seats),
			SeatedList: seatInfos(e.Seated), LeftList: seatInfos(e.Left)})
	case room.SeatKicked:
		api.notifyUsers(h, []string{e.UserID}, "onKickedOffSeat", map[string]any{"roomId": h.RoomID, "seatIndex": e.Index,
			"operateUser": userInfo{UserID: h.Operator}, "data": e.Data})
	case room.SeatRequested:
		api.notifyUsers(h, e.Managers, "onRequestReceived", map[string]any{"roomId": h.RoomID, "request": requestOf(e.Request)})
	case room.SeatRequestEnded:
		req := requestOf(e.Request)
		switch e.Outcome {
		case room.SeatRequestCancelled, room.SeatRequestTimeout:
			api.notifyUsers(h, e.Managers, "onRequestCancelled", map[string]any{"roomId": h.RoomID, "request": req,
				"operateUser": userInfo{UserID: h.Operator}})
		default:
			api.notifyUsers(h, e.Managers, "onRequestProcessed", map[string]any{"roomId": h.RoomID, "requestId": req.RequestID,
				"userId": h.Operator})
		}
		method := map[string]string{room.SeatRequestAccepted: "onRequestAccepted", room.SeatRequestRejected: "onRequestRejected",
			room.SeatRequestTimeout: "onRequestTimeout"}[e.Outcome]
		if method != "" {
			api.notifyUsers(h, []string{e.Request.UserID}, method, map[string]any{"roomId": h.RoomID, "request": req,
				"operateUser": userInfo{UserID: h.Operator}})
		}
	}
}

// notifyUsers pushes a notification to the connections of users in the room.
func (api *API) notifyUsers(h room.EventHead, users []string, method string, params any) {
	want := make(map[string]bool, len(users))
	for _, u := range users {
		want[u] = true
	}
	for _, s := range api.srv.Hub().RoomSessions(h.App, h.RoomID) {
		if want[s.UserID()] {
			if err := s.Notify(method, params); err != nil {
				api.log.Error("client_push_failed", "method", method, "room", h.RoomID, "err", err)
			}
		}
	}
}
