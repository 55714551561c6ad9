package rest

import (
	"context"
	"encoding/json"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

// takeSeatMode accepts the string form ("FreeToTake", "ApplyToTake") and the old integer
// form (1 = FreeToTake, 2 = ApplyToTake) of TakeSeatMode: older editions of create_room's
// page (https://www.tencentcloud.com/document/product/647/63401) use the integers.
type takeSeatMode string

func (m *takeSeatMode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = takeSeatMode(s)
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return errcode.InvalidBare("TakeSeatMode", "must be \"FreeToTake\", \"ApplyToTake\", 1 or 2")
	}
	switch n {
	case 1:
		*m = room.FreeToTake
	case 2:
		*m = room.ApplyToTake
	default:
		return errcode.InvalidBare("TakeSeatMode", "%d is neither 1 (FreeToTake) nor 2 (ApplyToTake)", n)
	}
	return nil
}

// roomInfoRequest is the RoomInfo object of create_room: the union of the three generations
// its page has documented (https://www.tencentcloud.com/document/product/647/63401): 2024 with
// MaxMemberCount and IsSeatEnabled, 2025 adding IsUnlimitedRoomEnabled and
// SeatLayoutTemplateId, 2026 with SeatTemplate and KeepOwnerOnSeat.
type roomInfoRequest struct {
	RoomId                 string       `json:"RoomId"`
	RoomType               string       `json:"RoomType"`
	Owner_Account          string       `json:"Owner_Account"`
	RoomName               string       `json:"RoomName"`
	CoverURL               string       `json:"CoverURL"`
	Category               []int        `json:"Category"`
	ActivityStatus         int          `json:"ActivityStatus"`
	IsMessageDisabled      bool         `json:"IsMessageDisabled"`
	IsPublicVisible        *bool        `json:"IsPublicVisible"`
	TakeSeatMode           takeSeatMode `json:"TakeSeatMode"`
	MaxSeatCount           int          `json:"MaxSeatCount"`
	MaxMemberCount         int          `json:"MaxMemberCount"`
	IsSeatEnabled          *bool        `json:"IsSeatEnabled"`
	IsUnlimitedRoomEnabled bool         `json:"IsUnlimitedRoomEnabled"`
	SeatLayoutTemplateId   int          `json:"SeatLayoutTemplateId"`
	SeatTemplate           string       `json:"SeatTemplate"`
	KeepOwnerOnSeat        *bool        `json:"KeepOwnerOnSeat"`
	Notice                 string       `json:"Notice"`
	CustomInfo             string       `json:"CustomInfo"`
	BackgroundURL          string       `json:"BackgroundURL"`
}

// roomInfoResponse is the RoomInfo object of get_room_info.
type roomInfoResponse struct {
	RoomId                 string `json:"RoomId"`
	RoomName               string `json:"RoomName"`
	RoomType               string `json:"RoomType"`
	Owner_Account          string `json:"Owner_Account"`
	CreateTime             int64  `json:"CreateTime"`
	IsSeatEnabled          bool   `json:"IsSeatEnabled"`
	TakeSeatMode           string `json:"TakeSeatMode"`
	MaxSeatCount           int    `json:"MaxSeatCount"`
	MaxMemberCount         int    `json:"MaxMemberCount"`
	IsMessageDisabled      bool   `json:"IsMessageDisabled"`
	CoverURL               string `json:"CoverURL"`
	Category               []int  `json:"Category"`
	ActivityStatus         int    `json:"ActivityStatus"`
	ViewCount              int64  `json:"ViewCount"`
	IsPublicVisible        bool   `json:"IsPublicVisible"`
	IsUnlimitedRoomEnabled bool   `json:"IsUnlimitedRoomEnabled"`
	SeatLayoutTemplateId   int    `json:"SeatLayoutTemplateId"`
	SeatTemplate           string `json:"SeatTemplate"`
	KeepOwnerOnSeat        bool   `json:"KeepOwnerOnSeat"`
	Notice                 string `json:"Notice"`
	CustomInfo             string `json:"CustomInfo"`
	BackgroundURL          string `json:"BackgroundURL"`
	// MemberCount and OnlineCount are what the Manager reads (members now, people and
	// robots; people connected through the client API).
	MemberCount int `json:"MemberCount"`
	OnlineCount int `json:"OnlineCount"`
	// OwnerName and OwnerAvatarUrl are the owner's nick and avatar from its IM profile
	// (account_import's Nick and FaceUrl, portrait_set), as the Manager reads them.
	OwnerName      string `json:"OwnerName"`
	OwnerAvatarUrl string `json:"OwnerAvatarUrl"`
}

func roomInfo(r room.Room) roomInfoResponse {
	return roomInfoResponse{
		RoomId: r.ID, RoomName: r.RoomName, RoomType: r.RoomType, Owner_Account: r.Owner,
		CreateTime: r.CreateTime.Unix(), IsSeatEnabled: r.IsSeatEnabled, TakeSeatMode: r.TakeSeatMode,
		MaxSeatCount: r.MaxSeatCount, MaxMemberCount: r.MaxMemberCount, IsMessageDisabled: r.IsMessageDisabled,
		CoverURL: r.CoverURL, Category: r.Category, ActivityStatus: r.ActivityStatus, ViewCount: r.ViewCount,
		IsPublicVisible: r.IsPublicVisible, IsUnlimitedRoomEnabled: r.IsUnlimitedRoomEnabled,
		SeatLayoutTemplateId: r.SeatLayoutTemplateId, SeatTemplate: r.SeatTemplate, KeepOwnerOnSeat: r.KeepOwnerOnSeat,
		Notice: r.Notice, CustomInfo: r.CustomInfo, BackgroundURL: r.BackgroundURL,
		MemberCount: r.MemberCount, OnlineCount: r.OnlineCount,
		OwnerName: r.OwnerName, OwnerAvatarUrl: r.OwnerAvatarURL,
	}
}

type roomIDRequest struct {
	RoomId string `json:"RoomId"`
}

func (h *Handler) createRoom(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomInfo *roomInfoRequest `json:"RoomInfo"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ri := req.RoomInfo
	if ri == nil {
		return nil, errcode.InvalidBare("RoomInfo", "is required")
	}
	if ri.RoomType == "" {
		return nil, errcode.InvalidBare("RoomInfo.RoomType", "is required")
	}
	p := room.CreateParams{
		ID:              ri.RoomId,
		Owner:           ri.Owner_Account,
		IsPublicVisible: ri.IsPublicVisible,
		Info: room.Info{
			RoomType: ri.RoomType, RoomName: ri.RoomName, CoverURL: ri.CoverURL, Category: ri.Category,
			ActivityStatus: ri.ActivityStatus, IsMessageDisabled: ri.IsMessageDisabled, TakeSeatMode: string(ri.TakeSeatMode),
			MaxSeatCount: ri.MaxSeatCount, MaxMemberCount: ri.MaxMemberCount, IsSeatEnabled: true,
			IsUnlimitedRoomEnabled: ri.IsUnlimitedRoomEnabled, SeatLayoutTemplateId: ri.SeatLayoutTemplateId,
			SeatTemplate: ri.SeatTemplate, KeepOwnerOnSeat: true, Notice: ri.Notice, CustomInfo: ri.CustomInfo,
			BackgroundURL: ri.BackgroundURL,
		},
	}
	if ri.IsSeatEnabled != nil {
		p.Info.IsSeatEnabled = *ri.IsSeatEnabled
	}
	if ri.KeepOwnerOnSeat != nil {
		p.Info.KeepOwnerOnSeat = *ri.KeepOwnerOnSeat
	}
	p.RoomQuota = c.app.RoomQuota
	if err := h.creates.enter(c.app, p.ID); err != nil {
		return nil, err
	}
	created := false
	defer func() { h.creates.leave(c.app, p.ID, created) }() // also when Create panics
	r, err := h.o.Rooms.Create(ctx, c.actor(), p)
	created = err == nil
	if err != nil {
		return nil, err
	}
	return roomIDRequest{RoomId: r.ID}, nil
}

func (h *Handler) getRoomInfo(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	r, err := h.o.Rooms.Get(ctx, c.app.ID, req.RoomId)
	if err != nil {
		return nil, err
	}
	return struct {
		RoomInfo roomInfoResponse `json:"RoomInfo"`
	}{roomInfo(r)}, nil
}

// roomStatistic is the Statistic object of destroy_room and get_room_stats.
type roomStatistic struct {
	TotalViewers           int64 `json:"TotalViewers"`
	TotalGiftsSent         int64 `json:"TotalGiftsSent"`
	TotalGiftCoins         int64 `json:"TotalGiftCoins"`
	TotalUniqueGiftSenders int64 `json:"TotalUniqueGiftSenders"`
	TotalLikesReceived     int64 `json:"TotalLikesReceived"`
	TotalMsgCount          int64 `json:"TotalMsgCount"`
}

func (h *Handler) destroyRoom(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	st, err := h.o.Rooms.Destroy(ctx, c.actor(), req.RoomId)
	if err != nil {
		return nil, err
	}
	return struct {
		Statistic roomStatistic `json:"Statistic"`
	}{roomStatistic{
		TotalViewers: st.TotalViewers, TotalGiftsSent: st.TotalGiftsSent, TotalGiftCoins: st.TotalGiftCoins,
		TotalUniqueGiftSenders: st.TotalUniqueGiftSenders, TotalLikesReceived: st.TotalLikesReceived,
		TotalMsgCount: st.TotalMsgCount,
	}}, nil
}

// changeOwnerFields are the fields of change_room_owner's request, for decodeFlatStrings.
var changeOwnerFields = []string{"RoomId", "NewOwner_Account"}

func (h *Handler) changeRoomOwner(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId           string `json:"RoomId"`
		NewOwner_Account string `json:"NewOwner_Account"`
	}
	if !decodeFlatStrings(c.body, changeOwnerFields, []*string{&req.RoomId, &req.NewOwner_Account}) {
		if err := c.decode(&req); err != nil {
			return nil, err
		}
	}
	return nil, h.o.Rooms.ChangeOwner(ctx, c.actor(), req.RoomId, req.NewOwner_Account)
}

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
		return nil, errcode.InvalidBare("RoomInfo", "is required")
	}
	p := room.UpdateParams{
		ID: ri.RoomId, RoomName: ri.RoomName, MaxMemberCount: ri.MaxMemberCount, IsMessageDisabled: ri.IsMessageDisabled,
		CoverURL: ri.CoverURL, Category: ri.Category, ActivityStatus: ri.ActivityStatus, IsPublicVisible: ri.IsPublicVisible,
		Notice: ri.Notice, CustomInfo: ri.CustomInfo, IsUnlimitedRoomEnabled: ri.IsUnlimitedRoomEnabled, BackgroundURL: ri.BackgroundURL,
		CallbackUnchanged: true, // an explicit write is called back (docs/decisions.md)
	}
	if ri.TakeSeatMode != nil {
		m := string(*ri.TakeSeatMode)
		p.TakeSeatMode = &m
	}
	return nil, h.o.Rooms.Update(ctx, c.actor(), p)
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
