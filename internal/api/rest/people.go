package rest

import (
	"context"

	"github.com/roomd/roomd/internal/errcode"
)

// The people APIs: members, admins, mutes, bans (for example modify_admin,
// https://www.tencentcloud.com/document/product/647/63427, and ban_member, https://trtc.io/document/63407).

// memberAccount is one entry of MemberList, MutedAccountList and BannedAccountList.
type memberAccount struct {
	Member_Account string `json:"Member_Account"`
}

func (h *Handler) getMemberList(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string `json:"RoomId"`
		Next   string `json:"Next"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	page, err := h.o.Rooms.MemberList(ctx, c.app.ID, req.RoomId, req.Next)
	if err != nil {
		return nil, err
	}
	list := make([]memberAccount, len(page.Members))
	for i, m := range page.Members {
		list[i] = memberAccount{Member_Account: m}
	}
	return struct {
		Next        string          `json:"Next"`
		MemberCount int             `json:"MemberCount"`
		MemberList  []memberAccount `json:"MemberList"`
	}{page.Next, page.MemberCount, list}, nil
}

func (h *Handler) modifyAdmin(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId        string   `json:"RoomId"`
		Admin_Account []string `json:"Admin_Account"`
		OpType        string   `json:"OpType"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.ModifyAdmin(ctx, c.actor(), req.RoomId, req.Admin_Account, req.OpType)
}

func (h *Handler) getAdminList(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	admins, err := h.o.Rooms.AdminList(ctx, c.app.ID, req.RoomId)
	if err != nil {
		return nil, err
	}
	return struct {
		Admin_Account []string `json:"Admin_Account"`
	}{admins}, nil
}

func (h *Handler) muteMember(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId             string   `json:"RoomId"`
		MemberList_Account []string `json:"MemberList_Account"`
		MuteTime           *int64   `json:"MuteTime"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.MuteTime == nil {
		return nil, errcode.InvalidBare("MuteTime", "is required (0 lifts the mute)")
	}
	return nil, h.o.Rooms.Mute(ctx, c.actor(), req.RoomId, req.MemberList_Account, *req.MuteTime)
}

func (h *Handler) getMutedMemberList(ctx context.Context, c *call) (any, error) {
	var req roomIDRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	mutes, err := h.o.Rooms.MutedList(ctx, c.app.ID, req.RoomId)
	if err != nil {
		return nil, err
	}
	type muted struct {
		Member_Account string `json:"Member_Account"`
		MutedUntil     int64  `json:"MutedUntil"`
	}
	list := make([]muted, len(mutes))
	for i, m := range mutes {
		list[i] = muted{Member_Account: m.UserID, MutedUntil: m.Until.Unix()}
	}
	return struct {
		MutedAccountList []muted `json:"MutedAccountList"`
	}{list}, nil
}

func (h *Handler) banMember(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId             string   `json:"RoomId"`
		MemberList_Account []string `json:"MemberList_Account"`
		Duration           *int64   `json:"Duration"`
		Reason             string   `json:"Reason"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Duration == nil {
		return nil, errcode.InvalidBare("Duration", "is required")
	}
	return nil, h.o.Rooms.Ban(ctx, c.actor(), req.RoomId, req.MemberList_Account, *req.Duration, req.Reason)
}

func (h *Handler) unbanMember(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId             string   `json:"RoomId"`
		MemberList_Account []string `json:"MemberList_Account"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return nil, h.o.Rooms.Unban(ctx, c.actor(), req.RoomId, req.MemberList_Account)
}

func (h *Handler) getBannedMemberList(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string `json:"RoomId"`
		Offset int    `json:"Offset"`
		Limit  int    `json:"Limit"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	bans, next, err := h.o.Rooms.BannedList(ctx, c.app.ID, req.RoomId, req.Offset, req.Limit)
	if err != nil {
		return nil, err
	}
	// Reason is not in Tencent's response table; its Manager reads it as an optional field.
	type banned struct {
		Member_Account string `json:"Member_Account"`
		BannedUntil    int64  `json:"BannedUntil"`
		Reason         string `json:"Reason"`
	}
	list := make([]banned, len(bans))
	for i, b := range bans {
		list[i] = banned{Member_Account: b.UserID, BannedUntil: b.Until.Unix(), Reason: b.Reason}
	}
	return struct {
		BannedAccountList []banned `json:"BannedAccountList"`
		NextOffset        int      `json:"NextOffset"`
	}{list, next}, nil
}
