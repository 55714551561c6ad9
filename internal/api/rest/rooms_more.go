package rest

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/tenant"
)

// CodeCreateTooFrequent is create_room's own frequency code: the same RoomId created more
// than once a second (spec rest-api.md §1.7).
const CodeCreateTooFrequent = 100012

// CodeRoomQuota answers a create_room beyond the app's room_quota: 100007, the code of
// package limits ("service or package not activated"), since the quota stands for the
// package's room count (decisions.md).
const CodeRoomQuota = 100007

// updateRoomInfoRequest is the RoomInfo object of update_room_info: every field is a
// pointer so that absent fields stay unchanged.
type updateRoomInfoRequest struct {
	RoomId                 string        `json:"RoomId"`
	RoomName               *string       `json:"RoomName"`
	MaxMemberCount         *int          `json:"MaxMemberCount"`
	IsMessageDisabled      *bool         `json:"IsMessageDisabled"`
	CoverURL               *string       `json:"CoverURL"`
	Category               *[]int        `json:"Category"`
	ActivityStatus         *int          `json:"ActivityStatus"`
	IsPublicVisible        *bool         `json:"IsPublicVisible"`
	TakeSeatMode           *takeSeatMode `json:"TakeSeatMode"`
	Notice                 *string       `json:"Notice"`
	CustomInfo             *string       `json:"CustomInfo"`
	IsUnlimitedRoomEnabled *bool         `json:"IsUnlimitedRoomEnabled"`
	BackgroundURL          *string       `json:"BackgroundURL"`
}

func (h *Handler) updateRoomInfo(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomInfo *updateRoomInfoRequest `json:"RoomInfo"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ri := req.RoomInfo
	if ri == nil {
		return nil, errorf(0, "RoomInfo is required")
	}
	p := room.UpdateParams{
		ID: ri.RoomId, RoomName: ri.RoomName, MaxMemberCount: ri.MaxMemberCount, IsMessageDisabled: ri.IsMessageDisabled,
		CoverURL: ri.CoverURL, Category: ri.Category, ActivityStatus: ri.ActivityStatus, IsPublicVisible: ri.IsPublicVisible,
		Notice: ri.Notice, CustomInfo: ri.CustomInfo, IsUnlimitedRoomEnabled: ri.IsUnlimitedRoomEnabled, BackgroundURL: ri.BackgroundURL,
	}
	if ri.TakeSeatMode != nil {
		m := string(*ri.TakeSeatMode)
		p.TakeSeatMode = &m
	}
	return nil, h.o.Rooms.Update(ctx, c.actor(), p)
}

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
			return nil, errorf(0, "Count must not be negative")
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
		return nil, errorf(0, `SortDirection must be "descend" or "ascend"`)
	}
	p := room.ListParams{App: c.app.ID, Count: count, Ascending: asc}
	// "" and "0" (what Tencent's Manager sends) both ask for the first page.
	if req.Next != "" && req.Next != "0" {
		after, err := decodeRoomCursor(c.app.SecretKey, c.app.ID, asc, req.Next)
		if err != nil {
			return nil, errorf(0, err.Error())
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

// getRoomStats serves get_room_stats and its alias get_room_statistic.
func (h *Handler) getRoomStats(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	st, err := h.o.Rooms.Stats(ctx, c.app.ID, req.RoomId)
	if err != nil {
		return nil, err
	}
	return roomStatistic{
		TotalViewers: st.TotalViewers, TotalGiftsSent: st.TotalGiftsSent, TotalGiftCoins: st.TotalGiftCoins,
		TotalUniqueGiftSenders: st.TotalUniqueGiftSenders, TotalLikesReceived: st.TotalLikesReceived,
		TotalMsgCount: st.TotalMsgCount,
	}, nil
}

// createGate enforces create_room's own limit: the same RoomId may be created at most once
// per second per SDKAppID (100012). A creation holds its RoomId from the moment it passes
// the gate; the hold is released at once when the creation fails, and otherwise lasts one
// second from the success. It is off when the app's rate limits are off.
type createGate struct {
	now func() time.Time
	mu  sync.Mutex
	// held maps a RoomId to when its hold ends; zero while the creation is in progress.
	held  map[createKey]time.Time
	sweep time.Time
}

type createKey struct {
	app  uint64
	room string
}

func newCreateGate(now func() time.Time) *createGate {
	return &createGate{now: now, held: map[createKey]time.Time{}}
}

// enter takes the hold of roomID or returns a 100012 error.
func (g *createGate) enter(app *tenant.App, roomID string) error {
	if !app.RateLimitEnabled {
		return nil
	}
	now := g.now()
	k := createKey{app.ID, roomID}
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.sweep) >= time.Second {
		for key, until := range g.held {
			if !until.IsZero() && !now.Before(until) {
				delete(g.held, key)
			}
		}
		g.sweep = now
	}
	if until, ok := g.held[k]; ok && (until.IsZero() || now.Before(until)) {
		return errorf(CodeCreateTooFrequent, "room "+strconv.Quote(roomID)+" was created less than a second ago; the same RoomId may be created at most once per second")
	}
	g.held[k] = time.Time{}
	return nil
}

// leave ends the creation of roomID: a success keeps the hold for one second, a failure
// releases it.
func (g *createGate) leave(app *tenant.App, roomID string, ok bool) {
	if !app.RateLimitEnabled {
		return
	}
	k := createKey{app.ID, roomID}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ok {
		g.held[k] = g.now().Add(time.Second)
	} else {
		delete(g.held, k)
	}
}
