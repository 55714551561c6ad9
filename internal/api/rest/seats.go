package rest

import (
	"context"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

// The seat APIs (room_engine_http_mic, https://www.tencentcloud.com/document/product/647/64426):
// get_seat_list, pick_user_on_seat, kick_user_off_seat, lock_seat, switch_seat and
// move_user_to_seat. Required integer fields are pointers so that a missing one is told
// apart from 0.

func required[T any](field string, v *T) (T, error) {
	if v == nil {
		var zero T
		return zero, errcode.Invalid(field, "is required")
	}
	return *v, nil
}

func (h *Handler) getSeatList(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	seats, err := h.o.Rooms.Seats(ctx, c.app.ID, req.RoomId)
	if err != nil {
		return nil, err
	}
	return struct {
		SeatList any `json:"SeatList"`
	}{room.SeatInfos(seats)}, nil
}

func (h *Handler) pickUserOnSeat(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId         string `json:"RoomId"`
		Index          *int   `json:"Index"`
		Member_Account string `json:"Member_Account"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := room.ValidateRoomID(req.RoomId); err != nil {
		return nil, err
	}
	index, err := required("Index", req.Index)
	if err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.PickOnSeat(ctx, c.actor(), req.RoomId, index, req.Member_Account)
}

func (h *Handler) kickUserOffSeat(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId         string  `json:"RoomId"`
		Member_Account string  `json:"Member_Account"`
		Data           *string `json:"Data"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := room.ValidateRoomID(req.RoomId); err != nil {
		return nil, err
	}
	data, err := required("Data", req.Data)
	if err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.KickOffSeat(ctx, c.actor(), req.RoomId, req.Member_Account, data)
}

func (h *Handler) lockSeat(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId      string `json:"RoomId"`
		Index       *int   `json:"Index"`
		ForbidTaken *bool  `json:"ForbidTaken"`
		ForbidVideo *bool  `json:"ForbidVideo"`
		ForbidAudio *bool  `json:"ForbidAudio"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := room.ValidateRoomID(req.RoomId); err != nil {
		return nil, err
	}
	index, err := required("Index", req.Index)
	if err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.LockSeat(ctx, c.actor(), req.RoomId, index,
		room.SeatLocks{Taken: req.ForbidTaken, Video: req.ForbidVideo, Audio: req.ForbidAudio})
}

func (h *Handler) switchSeat(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId         string `json:"RoomId"`
		ToIndex        *int   `json:"ToIndex"`
		Member_Account string `json:"Member_Account"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := room.ValidateRoomID(req.RoomId); err != nil {
		return nil, err
	}
	index, err := required("ToIndex", req.ToIndex)
	if err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.SwitchSeat(ctx, c.actor(), req.RoomId, req.Member_Account, index)
}

func (h *Handler) moveUserToSeat(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId         string `json:"RoomId"`
		SeatIndex      *int   `json:"SeatIndex"`
		Member_Account string `json:"Member_Account"`
		Policy         *int   `json:"Policy"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := room.ValidateRoomID(req.RoomId); err != nil {
		return nil, err
	}
	index, err := required("SeatIndex", req.SeatIndex)
	if err != nil {
		return nil, err
	}
	policy, err := required("Policy", req.Policy)
	if err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.MoveUserToSeat(ctx, c.actor(), req.RoomId, req.Member_Account, index, policy)
}
