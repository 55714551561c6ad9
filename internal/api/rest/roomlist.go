package rest

import (
	"context"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

// get_room_list: a page of the app's publicly visible rooms, with a signed cursor
// (roomcursor.go).

// Sort directions of get_room_list (the Manager's SortDirection).
const (
	sortDescend = "descend"
	sortAscend  = "ascend"
)

// roomListResponse is the Response of get_room_list. Each entry is the full RoomInfo of
// get_room_info, a superset of the documented list fields.
type roomListResponse struct {
	Next     string             `json:"Next"`
	RoomList []roomInfoResponse `json:"RoomList"`
}

func (h *Handler) getRoomList(ctx context.Context, c *call) (any, error) {
	var req struct {
		Next          string `json:"Next"`
		Count         *int   `json:"Count"`
		SortDirection string `json:"SortDirection"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	// Count defaults to 20 and is capped at 20 (a larger page is served as 20 rooms, not
	// refused); zero takes the default, a negative count is invalid.
	count := room.MaxListCount
	if req.Count != nil {
		switch {
		case *req.Count < 0:
			return nil, errcode.InvalidBare("Count", "must not be negative")
		case *req.Count > 0 && *req.Count < room.MaxListCount:
			count = *req.Count
		}
	}
	var asc bool
	switch req.SortDirection {
	case "", sortDescend:
	case sortAscend:
		asc = true
	default:
		return nil, errcode.InvalidBare("SortDirection", `must be "descend" or "ascend"`)
	}
	p := room.ListParams{App: c.app.ID, Count: count, Ascending: asc}
	// "" and "0" (what Tencent's Manager sends) both ask for the first page.
	if req.Next != "" && req.Next != "0" {
		after, err := decodeRoomCursor(c.app.SecretKey, c.app.ID, asc, req.Next)
		if err != nil {
			return nil, err
		}
		p.After = after
	}
	rooms, more, err := h.o.Rooms.List(ctx, p)
	if err != nil {
		return nil, err
	}
	resp := roomListResponse{RoomList: make([]roomInfoResponse, len(rooms))}
	for i, r := range rooms {
		resp.RoomList[i] = roomInfo(r)
	}
	if more {
		resp.Next = encodeRoomCursor(c.app.SecretKey, c.app.ID, asc, rooms[len(rooms)-1])
	}
	return resp, nil
}
